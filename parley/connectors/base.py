"""The channel-neutral envelope every connector produces, and the Connector protocol.

A channel is one folder under ``parley/connectors/`` implementing :class:`Connector`; the registry
maps its slug to it. Core code only ever sees :class:`InboundMessage` and :class:`OutboundMessage`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class InboundAttachment(BaseModel):
    """A file the customer sent: a provider media id and/or a URL, with its MIME type."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="image, audio, voice, video, document, sticker, location, file")
    mime_type: str = ""
    media_id: str = ""
    url: str = ""
    filename: str = ""
    caption: str = ""


class InboundMessage(BaseModel):
    """One customer message, normalised from any channel."""

    model_config = ConfigDict(extra="forbid")

    channel_type: str
    external_id: str = Field(min_length=1, max_length=255, description="Provider message id (idempotency key)")
    sender_external_id: str = Field(min_length=1, max_length=255)
    sender_name: str = ""
    text: str = ""
    attachments: list[InboundAttachment] = Field(default_factory=list)
    timestamp: datetime | None = None
    reply_to_external_id: str = ""
    content_type: str = "text"
    raw: dict[str, Any] = Field(default_factory=dict, description="The provider's payload, kept for audit")


class OutboundButton(BaseModel):
    """A quick-reply button; channels without buttons fall back to numbered plain text."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class OutboundMessage(BaseModel):
    """What a connector is asked to deliver."""

    model_config = ConfigDict(extra="forbid")

    message_id: str
    recipient_external_id: str
    text: str = ""
    buttons: list[OutboundButton] = Field(default_factory=list)
    media_url: str = ""
    media_kind: str = ""
    media_mime_type: str = ""


class DeliveryResult(BaseModel):
    """The provider accepted a message: its id, so status callbacks can be matched."""

    provider_message_id: str


class StatusUpdate(BaseModel):
    """A delivery-status callback: sent, delivered, read or failed."""

    provider_message_id: str
    status: str
    timestamp: datetime | None = None
    error: str = ""


class Connector(Protocol):
    """What every channel implements."""

    slug: str

    def send(self, channel: Any, message: OutboundMessage) -> DeliveryResult:
        """Deliver ``message`` through the provider; raise to be retried."""
        ...

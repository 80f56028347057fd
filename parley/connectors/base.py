"""The channel-neutral envelope every connector produces, and the Connector protocol.

A channel is one folder under ``parley/connectors/`` implementing :class:`Connector`; the registry
maps its slug to it. Core code only ever sees :class:`InboundMessage`, :class:`StatusUpdate` and
:class:`OutboundMessage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

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
    sha256: str = ""


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
    button_id: str = Field(default="", description="Id of the quick-reply button the customer pressed, if any")
    raw: dict[str, Any] = Field(default_factory=dict, description="The provider's payload, kept for audit")


class OutboundButton(BaseModel):
    """A quick-reply button; channels without buttons fall back to numbered plain text."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class OutboundMedia(BaseModel):
    """A file to send: a public URL the provider can fetch (or a provider media id)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["image", "audio", "video", "document", "file"] = "document"
    url: str = ""
    media_id: str = ""
    mime_type: str = ""
    filename: str = ""


class OutboundTemplate(BaseModel):
    """A pre-approved template message (WhatsApp: outside the 24-hour customer-service window)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = "en_US"
    body_parameters: list[str] = Field(default_factory=list)


class OutboundMessage(BaseModel):
    """What a connector is asked to deliver.

    ``idempotency_key`` is stable across retries of the same message (its id); connectors pass it to
    providers that deduplicate on it, and echo it where the provider returns it in status callbacks.
    """

    model_config = ConfigDict(extra="forbid")

    message_id: str
    idempotency_key: str = ""
    recipient_external_id: str
    conversation_id: str = ""
    text: str = ""
    buttons: list[OutboundButton] = Field(default_factory=list)
    media: OutboundMedia | None = None
    template: OutboundTemplate | None = None
    sender_type: str = "assistant"
    sender_name: str = ""
    last_customer_message_at: datetime | None = None
    created_at: datetime | None = None


class DeliveryResult(BaseModel):
    """The provider accepted a message: its id, so status callbacks can be matched.

    ``status`` is ``delivered`` when the connector knows the message reached the recipient
    (web chat pushes straight to the visitor's socket), else ``sent``.
    """

    provider_message_id: str
    status: Literal["sent", "delivered"] = "sent"


class StatusUpdate(BaseModel):
    """A delivery-status callback: sent, delivered, read or failed.

    ``message_ref`` is our own message id when the provider echoes it back (WhatsApp's
    ``biz_opaque_callback_data``); it matches even if the provider id was never stored.
    """

    provider_message_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: datetime | None = None
    error: str = ""
    recipient_external_id: str = ""
    message_ref: str = ""


@dataclass(frozen=True)
class ChannelEvent:
    """One event of a webhook payload, with the key that routes it to a tenant's channel.

    ``route`` is the provider's account id the event was addressed to (WhatsApp ``phone_number_id``,
    Messenger page id) or ``""`` when the URL already names the channel.
    """

    route: str
    inbound: InboundMessage | None = None
    status: StatusUpdate | None = None
    read: ReadReceipt | None = None


@dataclass(frozen=True)
class ReadReceipt:
    """The customer has read everything sent to them up to ``until`` (Messenger's read watermark)."""

    reader_external_id: str
    until: datetime


@dataclass(frozen=True)
class MediaFile:
    """Downloaded media content."""

    content: bytes
    mime_type: str
    filename: str = ""


class DeliveryError(Exception):
    """Sending failed. ``retryable`` errors (429, 5xx, timeouts) are retried with backoff.

    ``ambiguous`` means the request may have reached the provider (a timeout after sending), so a
    blind resend could duplicate the message.
    """

    def __init__(self, reason: str, *, retryable: bool, ambiguous: bool = False, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.status_code = status_code

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery pickles task exceptions; keyword-only arguments need an explicit recipe.
        return (_rebuild_delivery_error, (self.reason, self.retryable, self.ambiguous, self.status_code))


def _rebuild_delivery_error(reason: str, retryable: bool, ambiguous: bool, status_code: int | None) -> DeliveryError:
    return DeliveryError(reason, retryable=retryable, ambiguous=ambiguous, status_code=status_code)


class MediaRejected(DeliveryError):
    """Inbound media refused for good (never retried): its attachment is marked, the message is kept.

    ``status`` is ``rejected`` (over ``PARLEY_MAX_MEDIA_BYTES``, stopped while downloading) or
    ``quarantined`` (the malware scanner found something; the file is never stored nor served).
    """

    REJECTED = "rejected"
    QUARANTINED = "quarantined"

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason, retryable=False)
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return (MediaRejected, (self.status, self.reason))


class WebhookRejected(Exception):
    """A webhook request that must be refused with ``status_code`` and ``reason``."""

    def __init__(self, status_code: int, reason: str, code: str = "invalid") -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason
        self.code = code


class Connector(Protocol):
    """What every channel implements.

    Attributes:
        slug: the channel type (``Channel.type``) this connector serves.
        supports_buttons: native quick replies; otherwise buttons become numbered plain text.
        idempotent_send: the provider deduplicates on ``OutboundMessage.idempotency_key``, so a
            send whose outcome is unknown may be repeated safely.
    """

    slug: str
    supports_buttons: bool
    idempotent_send: bool

    def parse_events(self, payload: Any) -> list[ChannelEvent]:
        """Normalise a webhook payload (already signature-checked and JSON-decoded).

        Raises:
            WebhookRejected: (400) when the payload does not have the documented shape.
        """
        ...

    def send(self, channel: Any, message: OutboundMessage) -> DeliveryResult:
        """Deliver ``message`` through the provider.

        Raises:
            DeliveryError: with ``retryable`` / ``ambiguous`` set from the provider's answer.
        """
        ...

    def fetch_media(self, channel: Any, attachment: InboundAttachment) -> MediaFile | None:
        """Download an inbound attachment's content (None when the channel carries none)."""
        ...


def buttons_as_text(text: str, buttons: list[OutboundButton]) -> str:
    """The plain-text fallback for quick replies: numbered options under the text."""
    if not buttons:
        return text
    options = "\n".join(f"{index}. {button.title}" for index, button in enumerate(buttons, start=1))
    return f"{text}\n\n{options}" if text else options

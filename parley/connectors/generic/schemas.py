"""The generic API channel's JSON schema (documented in docs/channels.md).

One event, or ``{"events": [...]}`` with up to 100 of them::

    {"type": "message", "message_id": "ext-1", "sender": {"id": "user-42", "name": "Ana"},
     "text": "Hi", "timestamp": "2026-11-21T10:00:00Z", "reply_to": "", "button_id": "",
     "attachments": [{"kind": "image", "url": "https://...", "mime_type": "image/png", "filename": "a.png"}]}
    {"type": "status", "message_id": "<the id your callback returned, or Parley's message id>",
     "status": "delivered", "timestamp": "...", "error": ""}
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sender(_Strict):
    id: str = Field(min_length=1, max_length=255)
    name: str = Field(default="", max_length=200)


class Attachment(_Strict):
    kind: Literal["image", "audio", "voice", "video", "document", "file"] = "file"
    url: str = Field(min_length=1, max_length=1000, pattern=r"^https?://")
    mime_type: str = Field(default="", max_length=100)
    filename: str = Field(default="", max_length=255)


class MessageEvent(_Strict):
    type: Literal["message"]
    message_id: str = Field(min_length=1, max_length=255)
    sender: Sender
    text: str = Field(default="", max_length=10000)
    timestamp: datetime | None = None
    reply_to: str = Field(default="", max_length=255)
    button_id: str = Field(default="", max_length=256)
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)


class StatusEvent(_Strict):
    type: Literal["status"]
    message_id: str = Field(min_length=1, max_length=255)
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: datetime | None = None
    error: str = Field(default="", max_length=2000)


Event = Annotated[MessageEvent | StatusEvent, Field(discriminator="type")]


class Batch(_Strict):
    events: list[Event] = Field(min_length=1, max_length=100)

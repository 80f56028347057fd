"""Messenger Platform webhook payloads as Meta documents them: ``object: "page"``,
``entry[].messaging[]`` with ``message``, ``postback``, ``delivery`` or ``read``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Party(_Model):
    id: str = Field(min_length=1)


class AttachmentPayload(_Model):
    url: str = ""
    title: str = ""
    sticker_id: int | None = None
    coordinates: dict[str, Any] | None = None


class Attachment(_Model):
    type: str
    payload: AttachmentPayload | None = None


class QuickReply(_Model):
    payload: str


class ReplyTo(_Model):
    mid: str = ""


class Message(_Model):
    mid: str = Field(min_length=1)
    text: str = ""
    is_echo: bool = False
    quick_reply: QuickReply | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    reply_to: ReplyTo | None = None


class Postback(_Model):
    mid: str = ""
    title: str = ""
    payload: str = ""


class Delivery(_Model):
    mids: list[str] = Field(default_factory=list)
    watermark: int


class Read(_Model):
    watermark: int


class Messaging(_Model):
    sender: Party
    recipient: Party
    timestamp: int | None = None
    message: Message | None = None
    postback: Postback | None = None
    delivery: Delivery | None = None
    read: Read | None = None


class Entry(_Model):
    id: str = Field(min_length=1)
    time: int | None = None
    messaging: list[Messaging] = Field(default_factory=list)


class WebhookPayload(_Model):
    object: Literal["page"]
    entry: list[Entry] = Field(min_length=1)

"""WhatsApp Cloud API webhook payloads, as Meta documents them (only the fields Parley reads).

``object: "whatsapp_business_account"``, ``entry[].changes[].value`` with ``metadata.phone_number_id``,
``contacts``, ``messages`` and ``statuses``. Unknown extra fields are allowed (Meta adds fields).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Metadata(_Model):
    display_phone_number: str = ""
    phone_number_id: str = Field(min_length=1)


class Profile(_Model):
    name: str = ""


class Contact(_Model):
    wa_id: str
    profile: Profile = Field(default_factory=Profile)


class Text(_Model):
    body: str


class Media(_Model):
    id: str = ""
    link: str = ""
    mime_type: str = ""
    sha256: str = ""
    caption: str = ""
    filename: str = ""
    voice: bool = False


class Location(_Model):
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""


class Reply(_Model):
    id: str
    title: str
    description: str = ""


class Interactive(_Model):
    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class Button(_Model):
    payload: str = ""
    text: str


class Context(_Model):
    id: str = ""


class Message(_Model):
    id: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    timestamp: str = ""
    type: str
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    context: Context | None = None


class StatusError(_Model):
    code: int | None = None
    title: str = ""
    message: str = ""


class Status(_Model):
    id: str = Field(min_length=1)
    status: str
    timestamp: str = ""
    recipient_id: str = ""
    biz_opaque_callback_data: str = ""
    errors: list[StatusError] = Field(default_factory=list)


class Value(_Model):
    messaging_product: str = "whatsapp"
    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)


class Change(_Model):
    field: str
    value: Value


class Entry(_Model):
    id: str
    changes: list[Change]


class WebhookPayload(_Model):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry] = Field(min_length=1)

"""Frames of the web-chat protocol (docs/webchat-protocol.md), validated with pydantic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
MAX_TEXT = 4000
MAX_FRAME_BYTES = 16 * 1024


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HelloFrame(_Frame):
    type: Literal["hello"]
    visitor_token: str | None = Field(default=None, max_length=1000)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    locale: str = Field(default="", max_length=35)
    after_message_id: str | None = Field(default=None, max_length=64)


class MessageFrame(_Frame):
    type: Literal["message"]
    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    text: str
    button_id: str | None = Field(default=None, max_length=256)

    @field_validator("text")
    @classmethod
    def _text_length(cls, value: str) -> str:
        value = value.strip()
        if not 1 <= len(value) <= MAX_TEXT:
            raise ValueError(f"must be 1-{MAX_TEXT} characters")
        return value


class TypingFrame(_Frame):
    type: Literal["typing"]
    is_typing: bool


class ReadFrame(_Frame):
    type: Literal["read"]
    message_id: str = Field(min_length=1, max_length=64)


class PingFrame(_Frame):
    type: Literal["ping"]


FRAME_TYPES: dict[str, type[_Frame]] = {
    "hello": HelloFrame,
    "message": MessageFrame,
    "typing": TypingFrame,
    "read": ReadFrame,
    "ping": PingFrame,
}


class SessionRequest(_Frame):
    """REST ``POST session/``."""

    visitor_token: str | None = Field(default=None, max_length=1000)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    locale: str = Field(default="", max_length=35)


class MessageRequest(_Frame):
    """REST ``POST messages/``."""

    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    text: str
    button_id: str | None = Field(default=None, max_length=256)

    _text_length = field_validator("text")(MessageFrame._text_length.__func__)  # type: ignore[attr-defined]


class ReadRequest(_Frame):
    """REST ``POST read/``."""

    message_id: str = Field(min_length=1, max_length=64)

"""Dataclasses that cross module boundaries inside analytics (turns, failure points, filters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class Turn:
    """One non-private message of a conversation, with what analysis said about it."""

    index: int
    message_id: str
    created_at: datetime
    direction: str
    sender_type: str
    text: str
    intent: str | None = None
    intent_confidence: float = 0.0
    out_of_scope: bool = False
    sentiment: str | None = None
    sentiment_score: float | None = None
    analysed: bool = False
    intent_checked: bool = True
    acts: list[str] = field(default_factory=list)
    service: str = ""
    topic: str = ""
    language: str = ""
    fallback: bool = False
    sender_user_id: str | None = None

    @property
    def from_customer(self) -> bool:
        return self.sender_type == "customer"

    @property
    def is_reply(self) -> bool:
        return self.direction == "outbound" and self.sender_type in ("assistant", "agent")


@dataclass(frozen=True)
class FailurePoint:
    """Where and why a conversation went wrong."""

    kind: str
    turn_index: int | None
    message_id: str | None
    excerpt: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "turn_index": self.turn_index,
            "message_id": self.message_id,
            "excerpt": self.excerpt,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ToolCallRecord:
    """A tool execution as the tools app stored it (read through the adapter)."""

    conversation_id: str
    name: str
    ok: bool
    created_at: datetime | None
    error: str = ""


@dataclass(frozen=True)
class AnalyticsFilter:
    """The filters every analytics endpoint accepts."""

    start: date | None = None
    end: date | None = None
    channel: str | None = None
    channel_type: str | None = None
    assistant: str | None = None
    team: str | None = None
    agent: str | None = None
    intent: str | None = None
    topic: str | None = None
    language: str | None = None
    source: str | None = None
    business_hours: bool = False

    def to_json(self) -> dict[str, Any]:
        """The filters that are set, JSON-ready (dates as ``YYYY-MM-DD``), e.g. to store with a report job."""
        values: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if value is None or value is False:
                continue
            values[key] = value.isoformat() if isinstance(value, date) else value
        return values

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalyticsFilter:
        """The filter :meth:`to_json` wrote (unknown keys are ignored: a stored job outlives code changes)."""
        known = set(cls.__dataclass_fields__)
        values = {key: value for key, value in data.items() if key in known}
        for key in ("start", "end"):
            if values.get(key):
                values[key] = date.fromisoformat(str(values[key]))
        values["business_hours"] = bool(values.get("business_hours"))
        return cls(**values)

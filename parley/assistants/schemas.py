"""Typed configuration blocks of an assistant profile (stored as JSON, validated on every write)."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class BackendSettings(BaseModel):
    """One OpenAI-compatible backend the assistant may call (the first is primary, the rest fallbacks)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    base_url: str = Field(min_length=1, max_length=500)
    model: str = Field(min_length=1, max_length=200)
    api_key: str = ""
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    max_retries: int = Field(default=1, ge=0, le=5)
    supports_tools: bool = True
    price_prompt_per_1k: float = Field(default=0.0, ge=0)
    price_completion_per_1k: float = Field(default=0.0, ge=0)


class LLMSettings(BaseModel):
    """LLM routing of an assistant; no backends means the server default (PARLEY_LLM_*) or the retrieval responder."""

    model_config = ConfigDict(extra="forbid")

    backends: list[BackendSettings] = Field(default_factory=list, max_length=5)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=512, ge=16, le=8192)
    timeout_s: float = Field(default=20.0, gt=0, le=300, description="Budget for the whole turn's LLM calls")
    max_tool_steps: int = Field(default=4, ge=1, le=10)
    use_llm: bool = Field(default=True, description="False forces the retrieval responder")


class HandoverRules(BaseModel):
    """When the assistant hands a conversation to people, and how it is routed."""

    model_config = ConfigDict(extra="forbid")

    explicit_request: bool = True
    extra_keywords: list[str] = Field(default_factory=list, max_length=50)
    low_confidence_threshold: float = Field(default=0.45, ge=0, le=1)
    low_confidence_turns: int = Field(default=2, ge=1, le=10)
    negative_sentiment_threshold: float = Field(default=-0.6, ge=-1, le=1)
    out_of_scope: bool = Field(default=False, description="Hand over when analysis flags the message out of scope")
    out_of_scope_intents: list[str] = Field(default_factory=list, max_length=100)
    out_of_scope_keywords: list[str] = Field(default_factory=list, max_length=100)
    assignment: str = Field(default="least_loaded", pattern="^(least_loaded|round_robin)$")
    team: str = Field(default="", max_length=100, description="Skill required of the agent (empty: any)")


class BusinessHours(BaseModel):
    """Opening hours per weekday, e.g. ``{"mon": [["09:00", "17:00"]]}``; empty means always open."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    days: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("days")
    @classmethod
    def _valid_days(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for start, end in spans:
                if not (_HHMM.match(start) and _HHMM.match(end)) or start >= end:
                    raise ValueError(f"bad span {start}-{end} on {day}: use HH:MM-HH:MM with start < end")
        return value

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` (aware) falls inside the opening hours."""
        if not self.days:
            return True
        local = at.astimezone(ZoneInfo(self.timezone))
        spans = self.days.get(WEEKDAYS[local.weekday()], [])
        now = local.time()
        return any(time.fromisoformat(start) <= now < time.fromisoformat(end) for start, end in spans)


class RoutingRule(BaseModel):
    """Serve a conversation with this assistant when every given condition matches."""

    model_config = ConfigDict(extra="forbid")

    channel_types: list[str] = Field(default_factory=list)
    channel_ids: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list, description="Any of these words in the first message")

"""Dataclasses that cross the orchestrator's internal boundaries (context, passages, decisions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Passage:
    """A knowledge-base passage as the responder sees it."""

    chunk_id: str
    document_id: str
    document_title: str
    source_name: str
    url: str
    heading_path: list[str]
    text: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ToolOption:
    """A tool the assistant may call: its name and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class HistoryLine:
    """One earlier message in the conversation."""

    role: Literal["customer", "assistant", "agent", "system"]
    text: str


@dataclass
class ContextBundle:
    """Everything a responder may use for one turn."""

    tenant_id: str
    conversation_id: str | None
    channel_type: str
    language: str
    customer: dict[str, Any]
    identities: list[dict[str, str]]
    memory_summary: str
    history: list[HistoryLine]
    open_orders: list[dict[str, Any]]
    open_tickets: list[dict[str, Any]]
    assistant_name: str
    persona: str
    instructions: str
    allowed_tools: list[str]
    reply_languages: list[str]

    def summary(self) -> dict[str, Any]:
        """A compact form for the turn trace."""
        return {
            "channel": self.channel_type,
            "language": self.language,
            "customer": self.customer,
            "identities": len(self.identities),
            "history_messages": len(self.history),
            "open_orders": [order.get("number") for order in self.open_orders],
            "open_tickets": len(self.open_tickets),
            "assistant": self.assistant_name,
        }


DecisionKind = Literal["answer", "tool", "clarify", "handover", "confirm", "smalltalk", "none"]


@dataclass
class Decision:
    """What a responder wants to happen; the orchestrator carries it out."""

    kind: DecisionKind
    text: str = ""
    buttons: list[dict[str, str]] = field(default_factory=list)
    citations: list[dict[str, str]] = field(default_factory=list)
    tool_name: str = ""
    tool_arguments: dict[str, Any] = field(default_factory=dict)
    handover_reason: str = ""
    pending_intent: str = ""
    options: list[dict[str, str]] = field(default_factory=list)

"""Typed realtime events and ``send_event_on_commit``.

Actions build an event and call :func:`send_event_on_commit`; it reaches websocket consumers through
the Redis channel layer only after the surrounding transaction commits, so a client never sees a
change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, cast

import structlog
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field

from parley.realtime.publish import group_send_nowait

log = structlog.get_logger(__name__)


def inbox_group(tenant_id: Any) -> str:
    """Channel-layer group every inbox socket of a tenant listens to."""
    return f"inbox.{tenant_id}"


def conversation_group(conversation_id: Any) -> str:
    """Channel-layer group for one conversation (inbox detail view, web-chat visitor)."""
    return f"conversation.{conversation_id}"


class Event(BaseModel):
    """Base of every realtime event: a ``type`` and the tenant it belongs to."""

    model_config = ConfigDict(extra="forbid")

    type: str
    tenant_id: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now().astimezone())


class ConversationEvent(Event):
    """A conversation was created or changed (status, assignee, counters)."""

    type: Literal["conversation.created", "conversation.updated"]
    conversation: dict[str, Any]


class MessageEvent(Event):
    """A message was stored or its delivery status changed."""

    type: Literal["message.created", "message.updated"]
    conversation_id: str
    message: dict[str, Any]


class TypingEvent(Event):
    """Someone is typing in a conversation."""

    type: Literal["typing"]
    conversation_id: str
    sender_type: str
    sender_name: str = ""
    is_typing: bool


def send_event_on_commit(event: Event | Callable[[], Event], groups: list[str]) -> None:
    """Publish ``event`` to ``groups`` once the current transaction commits.

    Args:
        event: the typed event; its JSON form is what clients receive. A callable building it is
            called at commit time instead: the serialisation work then happens after the commit (and
            after any on-commit hook registered before it, such as the assistant's turn being queued).
        groups: channel-layer group names (see :func:`inbox_group`, :func:`conversation_group`).
    """
    payload = event.model_dump(mode="json") if isinstance(event, Event) else None

    def publish() -> None:
        try:
            built = payload if payload is not None else cast(Callable[[], Event], event)().model_dump(mode="json")
        except Exception:
            log.warning("realtime_event_failed", exc_info=True)
            return
        # handed to the process's publishing loop in order; the committing code does not wait for Redis
        for group in groups:
            try:
                group_send_nowait(group, {"type": "parley.event", "event": built})
            except Exception:
                log.warning("realtime_publish_failed", group=group, event_type=built.get("type"), exc_info=True)

    transaction.on_commit(publish)

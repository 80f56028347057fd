"""State changes of the orchestrator: turn traces, and the analysis stored on a customer message."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from parley.conversations.models import Message
from parley.orchestrator.models import TurnStatus, TurnTrace


def start_trace(*, message: Message) -> tuple[TurnTrace, bool]:
    """The message's trace, created when new; returns (trace, created)."""
    return TurnTrace.objects.get_or_create(
        message=message, defaults={"tenant_id": message.tenant_id, "conversation_id": message.conversation_id}
    )


def store_analysis(*, message: Message, analysis: dict[str, Any]) -> None:
    """Keep the message's analysis (intent, sentiment, language, ...) on ``Message.analysis``."""
    Message.objects.filter(pk=message.pk).update(analysis=analysis, updated_at=timezone.now())
    message.analysis = analysis


def finish_trace(*, trace: TurnTrace, status: str = TurnStatus.DONE, **fields: Any) -> TurnTrace:
    """Record the outcome of a turn."""
    for name, value in fields.items():
        setattr(trace, name, value)
    trace.status = status
    trace.finished_at = timezone.now()
    trace.save()
    return trace


def bump_attempt(*, trace: TurnTrace) -> TurnTrace:
    """Count one more run of this turn (retries are visible in the trace)."""
    trace.attempts += 1
    trace.status = TurnStatus.RUNNING
    trace.save(update_fields=["attempts", "status", "updated_at"])
    return trace

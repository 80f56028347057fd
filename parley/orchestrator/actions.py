"""State changes of the orchestrator: turn traces, and the analysis stored on a customer message."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from parley.conversations.models import Message
from parley.orchestrator.models import TurnStatus, TurnTrace


def start_trace(*, message: Message) -> tuple[TurnTrace, bool]:
    """The message's trace, created when new; returns (trace, created).

    Two round trips on the usual path (``get_or_create`` takes four: it wraps the INSERT in a
    transaction); the unique constraint on the message still decides between concurrent callers.
    """
    trace = TurnTrace.objects.filter(message=message).first()
    if trace is not None:
        return trace, False
    fields = {"tenant_id": message.tenant_id, "conversation_id": message.conversation_id}
    try:
        if connection.in_atomic_block:  # a failed INSERT must not break the caller's transaction
            with transaction.atomic():
                return TurnTrace.objects.create(message=message, **fields), True
        return TurnTrace.objects.create(message=message, **fields), True
    except IntegrityError:
        return TurnTrace.objects.get(message=message), False


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


def claim_trace(*, trace: TurnTrace) -> bool:
    """Count one more run of this turn (retries are visible in the trace) unless it already finished.

    Returns False when the turn is done or skipped (another run got there first). One statement: the
    caller holds the conversation's turn lock, and this reads the trace's state as of now.
    """
    now = timezone.now()
    table = TurnTrace._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET attempts = attempts + 1, status = %s, updated_at = %s "  # noqa: S608 - the model's table
            "WHERE id = %s AND status NOT IN (%s, %s) RETURNING attempts",
            [TurnStatus.RUNNING, now, trace.pk, TurnStatus.DONE, TurnStatus.SKIPPED],
        )
        row = cursor.fetchone()
    if row is None:
        trace.refresh_from_db()
        return False
    trace.attempts, trace.status, trace.updated_at = int(row[0]), TurnStatus.RUNNING, now
    return True

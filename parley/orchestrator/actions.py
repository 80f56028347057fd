"""State changes of the orchestrator: turn traces, and the analysis stored on a customer message."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from parley.conversations.models import Message
from parley.orchestrator.models import TurnStatus, TurnTrace


def start_trace(*, message: Message, claim: bool = False) -> tuple[TurnTrace, bool]:
    """The message's trace, created when new; returns (trace, created).

    With ``claim`` (the caller holds the conversation's turn lock and is about to run the turn) a new
    trace starts as its first run: ``running`` with one attempt, so the usual path is one INSERT
    (no SELECT before it, no :func:`claim_trace` after it). Without it, a trace that already exists is
    found first (as when a failed turn is recorded). Either way the unique constraint on the message
    decides between concurrent callers, and an existing trace is returned as it is.
    """
    if not claim:
        trace = TurnTrace.objects.filter(message=message).first()
        if trace is not None:
            return trace, False
    fields: dict[str, Any] = {"tenant_id": message.tenant_id, "conversation_id": message.conversation_id}
    if claim:
        fields.update(status=TurnStatus.RUNNING, attempts=1)
    try:
        # savepoint inside a transaction: a failed INSERT must not break the caller's transaction
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
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

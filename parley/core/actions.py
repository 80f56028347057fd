"""State changes for core records (dead letters)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.core.models import DeadLetter


def create_dead_letter(
    *,
    task_name: str,
    task_id: str,
    args: list[Any],
    kwargs: dict[str, Any],
    queue: str,
    error: str,
    attempts: int,
    tenant: Any = None,
) -> DeadLetter:
    """Record a task that exhausted its retries."""
    tenant_id = getattr(tenant, "pk", tenant) or kwargs.get("tenant_id")
    return DeadLetter.objects.create(
        tenant_id=tenant_id,
        task_name=task_name,
        task_id=task_id,
        args=args,
        kwargs=kwargs,
        queue=queue,
        error=error[:10000],
        attempts=attempts,
    )


def replay_dead_letter(dead_letter: DeadLetter) -> str:
    """Send a dead-lettered task again (same name, args and queue); returns the new task id.

    Raises:
        DomainError: when the letter was already replayed or discarded.
    """
    from parley.config.celery import app
    from parley.core.errors import DomainError, ErrorCode

    with transaction.atomic():
        letter = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
        if letter.status != DeadLetter.Status.PENDING:
            raise DomainError(f"dead letter is already {letter.status}", code=ErrorCode.CONFLICT, status_code=409)
        letter.status = DeadLetter.Status.REPLAYED
        letter.replayed_at = timezone.now()
        letter.save(update_fields=["status", "replayed_at", "updated_at"])
        task = app.tasks.get(letter.task_name)
        if task is not None and callable(getattr(task, "before_replay", None)):
            task.before_replay(list(letter.args or []), dict(letter.kwargs or {}))
        new_task_id = str(uuid.uuid4())
        transaction.on_commit(
            lambda: app.send_task(
                letter.task_name,
                args=letter.args,
                kwargs=letter.kwargs,
                queue=letter.queue or None,
                task_id=new_task_id,
                ignore_result=True,
            )
        )
    return new_task_id


def discard_dead_letter(dead_letter: DeadLetter) -> DeadLetter:
    """Mark a dead letter as handled without replaying it."""
    DeadLetter.objects.filter(pk=dead_letter.pk).update(status=DeadLetter.Status.DISCARDED, updated_at=timezone.now())
    dead_letter.refresh_from_db()
    return dead_letter

"""Core tasks: the worker health ping and dead-letter bookkeeping."""

from __future__ import annotations

from typing import Any

import structlog

from parley.config.celery import ParleyTask, app

log = structlog.get_logger(__name__)


@app.task(name="parley.core.ping", queue="default", ignore_result=False)
def ping() -> str:
    """Answer ``pong``; ``/healthz`` uses it to prove a worker consumes the queue."""
    return "pong"


def record_dead_letter(task: ParleyTask, exc: BaseException, task_id: str, args: Any, kwargs: Any) -> None:
    """Store a task that failed for good, so it can be listed and replayed."""
    from parley.core.actions import create_dead_letter

    delivery = getattr(task.request, "delivery_info", None) or {}
    create_dead_letter(
        task_name=task.name,
        task_id=task_id,
        args=list(args or []),
        kwargs=dict(kwargs or {}),
        queue=str(delivery.get("routing_key") or getattr(task, "queue", "") or ""),
        error=f"{type(exc).__name__}: {exc}",
        attempts=int(getattr(task.request, "retries", 0)) + 1,
    )
    log.error("task_dead_lettered", task=task.name, task_id=task_id, error=str(exc))

"""The Celery task every inbound message triggers (enqueued by parley.orchestrator.dispatch)."""

from __future__ import annotations

from typing import Any

import structlog

from parley.config.celery import ParleyTask, app
from parley.orchestrator.dispatch import RUN_TURN_TASK

log = structlog.get_logger(__name__)


class TurnTask(ParleyTask):
    """After the last retry the turn is marked failed and the conversation goes to people: never a silent drop."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        message_id = args[0] if isinstance(args, (list, tuple)) and args else None
        if message_id is not None:
            try:
                from parley.orchestrator.turn import give_up

                give_up(str(message_id), error=f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("turn_give_up_failed", message_id=str(message_id))
        super().on_failure(exc, task_id, args, kwargs, einfo)


@app.task(bind=True, base=TurnTask, name=RUN_TURN_TASK, queue="assistant", max_retries=4)
def run_turn_task(self: TurnTask, message_id: str, conversation_id: str | None = None) -> str:
    """Run the assistant for one inbound message (idempotent: a retry never replies twice)."""
    from parley.orchestrator.turn import run_turn

    return run_turn(message_id, conversation_id=conversation_id)

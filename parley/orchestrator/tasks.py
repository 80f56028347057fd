"""The Celery task every inbound message triggers (enqueued by parley.orchestrator.dispatch)."""

from __future__ import annotations

from parley.config.celery import ParleyTask, app
from parley.orchestrator.dispatch import RUN_TURN_TASK


@app.task(bind=True, base=ParleyTask, name=RUN_TURN_TASK, queue="assistant", max_retries=4)
def run_turn_task(self: ParleyTask, message_id: str) -> str:
    """Run the assistant for one inbound message (idempotent: a retry never replies twice)."""
    from parley.orchestrator.turn import run_turn

    return run_turn(message_id)

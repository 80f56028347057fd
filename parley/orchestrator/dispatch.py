"""How the rest of Parley asks for an assistant turn: by message id, on the ``assistant`` queue."""

from __future__ import annotations

from typing import Any

from parley.config.celery import app

RUN_TURN_TASK = "parley.orchestrator.run_turn"


def enqueue_turn(message_id: Any) -> None:
    """Ask a worker to run the assistant for an inbound message (called on commit)."""
    app.send_task(RUN_TURN_TASK, args=[str(message_id)], queue="assistant", ignore_result=True)

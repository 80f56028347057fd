"""How the rest of Parley asks for an assistant turn: by message id, on the ``assistant`` queue."""

from __future__ import annotations

from typing import Any

from parley.config.celery import app

RUN_TURN_TASK = "parley.orchestrator.run_turn"


def enqueue_turn(message_id: Any, *, conversation_id: Any = None) -> None:
    """Ask a worker to run the assistant for an inbound message (called on commit). With the message's
    conversation, the worker takes the conversation's lock first and then reads both in one query."""
    kwargs = {"conversation_id": str(conversation_id)} if conversation_id else {}
    app.send_task(RUN_TURN_TASK, args=[str(message_id)], kwargs=kwargs, queue="assistant", ignore_result=True)

"""Celery beat: send follow-ups when they fall due."""

from __future__ import annotations

from parley.config.celery import ParleyTask, app


@app.task(bind=True, base=ParleyTask, name="parley.tools.send_due_followups", queue="outbound", ignore_result=False)
def send_due_followups(self: ParleyTask) -> dict[str, int]:
    """Send every follow-up whose time has come; idempotent (each one is locked and sent once)."""
    from parley.tools.actions import due_followup_ids, send_followup

    counts: dict[str, int] = {}
    for followup_id in due_followup_ids():
        outcome = send_followup(followup_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@app.task(bind=True, base=ParleyTask, name="parley.tools.expire_pending_actions", queue="default")
def expire_pending_actions(self: ParleyTask) -> int:
    """Tidy the inbox list: unconfirmed money actions past their expiry become ``expired``."""
    from parley.tools.actions import expire_pending_actions as expire

    return expire()


app.conf.beat_schedule.update(
    {
        "tools-send-due-followups": {
            "task": "parley.tools.send_due_followups",
            "schedule": 60.0,
            "options": {"queue": "outbound"},
        },
        "tools-expire-pending-actions": {
            "task": "parley.tools.expire_pending_actions",
            "schedule": 300.0,
            "options": {"queue": "default"},
        },
    }
)

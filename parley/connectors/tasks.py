"""Webhook inbox tasks: process stored deliveries; sweep deliveries whose task was lost.

The webhook endpoint enqueues one ``process_webhook_events`` task per batch of stored deliveries.
Each delivery is processed on its own: one that cannot parse (poison) is marked ``failed`` and
dead-lettered with its reason at once; one that fails otherwise is handed to its own
``process_webhook_event`` task, retried with backoff and dead-lettered when retries run out.
"""

from __future__ import annotations

from typing import Any

import structlog

from parley.config.celery import ParleyTask, app
from parley.connectors import actions

log = structlog.get_logger(__name__)

STALE_AFTER_SECONDS = 120.0
SINGLE_TASK = "parley.connectors.process_webhook_event"


class WebhookTask(ParleyTask):
    """Retried with backoff like every task, except a payload that can never parse: dead-lettered at once."""

    dont_autoretry_for = (actions.PoisonWebhook,)

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if args:
            actions.record_webhook_error(event_id=str(args[0]), error=f"{type(exc).__name__}: {exc}")


@app.task(bind=True, base=WebhookTask, name=SINGLE_TASK, queue="webhooks")
def process_webhook_event(self: WebhookTask, event_id: str) -> str:
    """Parse one stored webhook delivery and store what it carries (idempotent; a replay retries a failed one)."""
    return actions.process_webhook_event(event_id=event_id, retry_failed=True)


@app.task(bind=True, base=ParleyTask, name="parley.connectors.process_webhook_events", queue="webhooks")
def process_webhook_events(self: ParleyTask, event_ids: list[str]) -> list[str]:
    """Process a batch of stored deliveries, each independently (idempotent, so a redelivered batch is safe)."""
    from parley.core.actions import create_dead_letter

    outcomes: list[str] = []
    for event_id in event_ids:
        try:
            outcomes.append(actions.process_webhook_event(event_id=event_id))
        except actions.PoisonWebhook as exc:
            create_dead_letter(
                task_name=SINGLE_TASK,
                task_id=str(self.request.id or ""),
                args=[event_id],
                kwargs={},
                queue="webhooks",
                error=f"PoisonWebhook: {exc}",
                attempts=1,
                tenant=actions.webhook_event_tenant_id(event_id),
            )
            log.error("webhook_poison", webhook_event=event_id, reason=str(exc))
            outcomes.append("failed")
        except Exception as exc:  # noqa: BLE001  # this one alone is retried, the batch goes on
            actions.record_webhook_error(event_id=event_id, error=f"{type(exc).__name__}: {exc}")
            process_webhook_event.apply_async(args=[event_id], queue="webhooks", countdown=1)
            outcomes.append("retrying")
    return outcomes


@app.task(bind=True, base=ParleyTask, name="parley.connectors.sweep_webhook_events", queue="webhooks")
def sweep_webhook_events(self: ParleyTask) -> int:
    """Enqueue again deliveries still unprocessed after two minutes (nothing received is lost)."""
    return actions.requeue_stale_webhook_events(older_than_seconds=STALE_AFTER_SECONDS)


app.conf.beat_schedule.update(
    {
        "parley-webhook-inbox-sweep": {
            "task": "parley.connectors.sweep_webhook_events",
            "schedule": 60.0,
            "options": {"queue": "webhooks"},
        }
    }
)

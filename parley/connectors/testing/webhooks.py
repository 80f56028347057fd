"""Test helpers: load a channel's recorded fixtures, post them signed to the real endpoint, and look
at what was enqueued on the real broker."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from django.test import Client

from parley.connectors.webhooks import sign

CONNECTORS_DIR = Path(__file__).resolve().parent.parent


def load_fixture(channel: str, name: str) -> dict[str, Any]:
    """``parley/connectors/<channel>/fixtures/<name>.json`` (``<event>__<variant>``)."""
    data: dict[str, Any] = json.loads((CONNECTORS_DIR / channel / "fixtures" / f"{name}.json").read_text())
    return data


def post_signed(
    url: str,
    payload: Any,
    secret: str,
    *,
    header: str = "X-Hub-Signature-256",
    client: Client | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Any:
    """POST ``payload`` (a dict, or raw bytes) with its ``sha256=`` HMAC signature header."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {header: sign(secret, body), **(extra_headers or {})}
    return (client or Client()).post(url, data=body, content_type="application/json", headers=headers)


def queued_tasks(queue: str) -> list[tuple[str, list[Any]]]:
    """``(task name, args)`` of every task waiting in ``queue`` on the broker."""
    from parley.config.celery import app

    with app.connection_for_read() as connection:
        raw = connection.default_channel.client.lrange(queue, 0, -1)
    found: list[tuple[str, list[Any]]] = []
    for item in raw:
        envelope = json.loads(item)
        body = json.loads(base64.b64decode(envelope["body"]))
        found.append((envelope["headers"]["task"], list(body[0])))
    return found


def purge(*queues: str) -> None:
    """Drop waiting tasks of ``queues`` (the broker is shared by a whole test run)."""
    from parley.config.celery import app

    with app.connection_for_write() as connection:
        for queue in queues:
            connection.default_channel.queue_purge(queue)


def process_inbox() -> list[str]:
    """Run the processing task body for every stored, unprocessed webhook delivery (as a worker would).

    Returns each task's outcome, oldest delivery first.
    """
    from parley.connectors.models import WebhookEvent, WebhookEventStatus
    from parley.connectors.tasks import process_webhook_events

    pending = WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED).order_by("created_at").values_list("id", flat=True)
    return list(process_webhook_events.run([str(event_id) for event_id in pending]))


def post_and_process(url: str, payload: Any, secret: str, **kwargs: Any) -> Any:
    """:func:`post_signed`, then process the inbox; returns the webhook's response."""
    response = post_signed(url, payload, secret, **kwargs)
    process_inbox()
    return response

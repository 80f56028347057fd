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

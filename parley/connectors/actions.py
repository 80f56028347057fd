"""State changes for channels, and the webhook inbox (store a verified delivery, then process it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from parley.accounts.models import Tenant
from parley.audit.actions import record_audit_event
from parley.connectors.base import WebhookRejected
from parley.connectors.models import Channel, WebhookEvent, WebhookEventStatus

log = structlog.get_logger(__name__)


def create_channel(*, tenant: Tenant, data: dict[str, Any], actor: str) -> Channel:
    """Connect a channel."""
    channel = Channel.objects.create(tenant=tenant, **data)
    record_audit_event(
        tenant=tenant, actor=actor, action="channel.created", target=channel, data={"type": channel.type, "name": channel.name}
    )
    return channel


def update_channel(*, channel: Channel, data: dict[str, Any], actor: str) -> Channel:
    """Change a channel; credentials given are merged into the stored ones."""
    credentials = data.pop("credentials", None)
    for key, value in data.items():
        setattr(channel, key, value)
    if credentials:
        stored: Any = channel.credentials or {}
        channel.credentials = {**stored, **credentials}  # type: ignore[assignment]  # encrypted JSON, typed as text by the stubs
    channel.save()
    record_audit_event(
        tenant=channel.tenant,
        actor=actor,
        action="channel.updated",
        target=channel,
        data={"fields": sorted(data), "credentials_changed": sorted(credentials or {})},
    )
    return channel


def disable_channel(*, channel: Channel, actor: str) -> Channel:
    """Disconnect a channel (kept for history; conversations keep pointing at it)."""
    channel.enabled = False
    channel.save(update_fields=["enabled", "updated_at"])
    record_audit_event(tenant=channel.tenant, actor=actor, action="channel.disabled", target=channel)
    return channel


class PoisonWebhook(Exception):
    """A stored webhook that can never be processed (its payload does not parse); not retried."""


@dataclass(frozen=True)
class InboxRow:
    """One verified delivery for one channel, to store in the inbox."""

    channel: Channel
    route: str
    event_key: str
    body: str


def store_webhook_events(rows: list[InboxRow]) -> list[str]:
    """Store verified deliveries in the inbox and enqueue their processing on commit.

    One multi-row ``INSERT ... ON CONFLICT DO NOTHING`` on ``(channel, event_key)`` (one commit for
    a whole batch of concurrent requests): a redelivery of the same provider events, even within the
    same batch, stores nothing and enqueues nothing.

    Returns:
        For each row, the new event's id, or ``""`` when it is a duplicate.
    """
    if not rows:
        return []
    table = WebhookEvent._meta.db_table
    now = timezone.now()
    values: list[Any] = []
    for row in rows:
        values += [
            row.channel.tenant_id,
            row.channel.id,
            now,
            now,
            row.route,
            row.event_key,
            row.body,
            WebhookEventStatus.RECEIVED,
        ]
    placeholders = ", ".join(["(gen_random_uuid(), %s, %s, %s, %s, '{}'::jsonb, %s, %s, %s, %s, 0, '', NULL)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, tenant_id, channel_id, created_at, updated_at, metadata, route, event_key, body, "  # noqa: S608  # table name from the model
            f"status, attempts, error, processed_at) VALUES {placeholders} "
            "ON CONFLICT (channel_id, event_key) DO NOTHING RETURNING id, channel_id, event_key",
            values,
        )
        inserted = {(str(channel_id), key): str(event_id) for event_id, channel_id, key in cursor.fetchall()}
    ids: list[str] = []
    for row in rows:  # the first row claiming a key gets the id; a repeat within the batch is a duplicate
        ids.append(inserted.pop((str(row.channel.id), row.event_key), ""))
    created = [event_id for event_id in ids if event_id]
    if created:
        transaction.on_commit(partial(_enqueue_processing, created))
    return ids


def _enqueue_processing(event_ids: list[str]) -> None:
    """One task for the whole batch (one broker round trip); it fans out events that fail."""
    from parley.connectors.tasks import process_webhook_events

    try:
        process_webhook_events.apply_async(args=[event_ids], queue="webhooks")
    except Exception as exc:  # noqa: BLE001  # the rows are durable: the inbox sweep enqueues them later
        log.warning("webhook_enqueue_failed", webhook_events=event_ids, error=str(exc))


def process_webhook_event(*, event_id: str, retry_failed: bool = False) -> str:
    """Parse a stored delivery and store its messages / apply its statuses, once.

    Idempotent: the row is locked and marked ``processed`` in the same transaction as the messages
    (which are themselves unique per channel and provider id), so a retried or duplicated task does
    nothing the second time.

    Args:
        retry_failed: also try a delivery marked ``failed`` again (a dead letter being replayed,
            e.g. after a parser fix).

    Returns:
        ``processed``, ``skipped`` (already done, or failed and not retried) or ``missing``.

    Raises:
        PoisonWebhook: the payload does not parse; the row is marked ``failed`` with the reason.
    """
    from parley.connectors.registry import get_connector
    from parley.connectors.webhooks import decode_json, ingest, parse_or_reject

    event = WebhookEvent.objects.select_related("channel__tenant").filter(id=event_id).first()
    if event is None:
        return "missing"
    if event.status == WebhookEventStatus.FAILED and retry_failed:
        WebhookEvent.objects.filter(id=event.id, status=WebhookEventStatus.FAILED).update(status=WebhookEventStatus.RECEIVED)
        event.status = WebhookEventStatus.RECEIVED
    if event.status != WebhookEventStatus.RECEIVED:
        return "skipped"
    WebhookEvent.objects.filter(id=event.id).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    try:
        parsed = parse_or_reject(get_connector(event.channel.type).parse_events, decode_json(event.body.encode()))
    except WebhookRejected as exc:
        WebhookEvent.objects.filter(id=event.id).update(
            status=WebhookEventStatus.FAILED, error=exc.reason, updated_at=timezone.now()
        )
        raise PoisonWebhook(exc.reason) from exc
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().filter(id=event.id, status=WebhookEventStatus.RECEIVED).first()
        if locked is None:
            return "skipped"
        result = ingest(event.channel, [item for item in parsed if item.route == event.route])
        locked.status = WebhookEventStatus.PROCESSED
        locked.processed_at = timezone.now()
        locked.error = ""
        locked.metadata = {
            "stored": result.messages_created,
            "duplicates": result.duplicates,
            "statuses": result.statuses,
            "message_ids": result.message_ids,
        }
        locked.save(update_fields=["status", "processed_at", "error", "metadata", "updated_at"])
    return "processed"


def record_webhook_error(*, event_id: str, error: str) -> None:
    """Note why an attempt failed (the task is retried; the row stays ``received``)."""
    WebhookEvent.objects.filter(id=event_id, status=WebhookEventStatus.RECEIVED).update(
        error=error[:2000], updated_at=timezone.now()
    )


def requeue_stale_webhook_events(*, older_than_seconds: float, limit: int = 500) -> int:
    """Enqueue again deliveries still unprocessed after ``older_than_seconds`` (a lost enqueue or task).

    Their ``updated_at`` is bumped so the next sweep leaves them alone while they wait in the queue.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = [
        str(pk)
        for pk in WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    ]
    if ids:
        WebhookEvent.objects.filter(id__in=ids).update(updated_at=timezone.now())
        _enqueue_processing(ids)
    return len(ids)


def webhook_event_tenant_id(event_id: str) -> Any:
    """The tenant a stored delivery belongs to (for its dead letter), or None."""
    return WebhookEvent.objects.filter(id=event_id).values_list("tenant_id", flat=True).first()

"""Deliver a fired alert: in-app notification, e-mail, and an HMAC-signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Literal

import httpx
import structlog
from django.conf import settings
from django.core.mail import send_mail

from parley.analytics.models import AlertEvent, Notification
from parley.realtime.events import Event, inbox_group, send_event_on_commit

log = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-Parley-Signature"
TIMESTAMP_HEADER = "X-Parley-Timestamp"


class NotificationEvent(Event):
    """An in-app notification was created (alerts)."""

    type: Literal["notification.created"]
    notification: dict[str, Any]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` HMAC of ``"<timestamp>.<body>"`` with the rule's secret.

    Receivers recompute it and compare in constant time; the timestamp lets them reject replays.
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(event: AlertEvent) -> dict[str, Any]:
    """The JSON body of the webhook (and the e-mail's facts)."""
    return {
        "type": "alert.fired",
        "alert_id": str(event.id),
        "tenant_id": str(event.tenant_id),
        "rule": {"id": str(event.rule_id), "name": event.rule.name, "metric": event.metric, "kind": event.rule.kind},
        "value": event.value,
        "baseline": event.baseline,
        "volume": event.volume,
        "window_start": event.window_start.isoformat(),
        "window_end": event.window_end.isoformat(),
        "message": event.message,
        "fired_at": event.created_at.isoformat(),
    }


def notify_in_app(event: AlertEvent) -> Notification:
    """Store a tenant-wide notification and push it to open dashboards on commit."""
    notification = Notification.objects.create(
        tenant_id=event.tenant_id, kind="alert", title=f"Alert: {event.rule.name}", body=event.message, alert_event=event
    )
    send_event_on_commit(
        NotificationEvent(
            type="notification.created",
            tenant_id=str(event.tenant_id),
            notification={
                "id": str(notification.id),
                "title": notification.title,
                "body": notification.body,
                "kind": notification.kind,
            },
        ),
        [inbox_group(event.tenant_id)],
    )
    return notification


def send_email(event: AlertEvent) -> str:
    """E-mail the rule's recipients through Django's e-mail backend; returns "ok" or the error."""
    recipients = [str(r) for r in event.rule.email_to if r]
    if not recipients:
        return "skipped"
    try:
        send_mail(
            subject=f"[Parley] Alert: {event.rule.name}",
            message=f"{event.message}\n\n{json.dumps(payload(event), indent=2)}",
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            recipient_list=recipients,
        )
    except Exception as exc:  # noqa: BLE001 - delivery failures are recorded on the alert, not raised
        log.warning("alert_email_failed", error=str(exc)[:200])
        return f"error: {exc}"[:300]
    return "ok"


def post_webhook(event: AlertEvent, *, timeout: float = 10.0) -> str:
    """POST the signed payload to the rule's webhook URL.

    Raises:
        httpx.HTTPError: on a network error or a non-2xx answer (the Celery task retries).
    """
    url = event.rule.webhook_url
    if not url:
        return "skipped"
    body = json.dumps(payload(event), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(event.rule.webhook_secret or "", timestamp, body),
        "User-Agent": "Parley-Alerts/1",
    }
    response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    response.raise_for_status()
    return "ok"

"""Alerts: threshold and anomaly rules, in-app + e-mail + signed webhook delivery, history, cool-down."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from parley.analytics import actions, tasks
from parley.analytics.alerts.evaluate import window_value
from parley.analytics.models import AlertEvent, AlertRule, Notification
from parley.analytics.tests.helpers import analysis
from parley.conversations.models import Conversation, Message
from parley.testing import factories

pytestmark = pytest.mark.django_db


class _Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"headers": dict(self.headers), "body": body})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, type[_Recorder]]]:
    """A local HTTP server standing in for the customer's alert endpoint; it records every request."""
    handler = type("Recorder", (_Recorder,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/parley", handler
    server.shutdown()
    server.server_close()


def _customer_messages(channel: Any, sentiments: list[str], minutes_ago: float = 2) -> None:
    for i, sentiment in enumerate(sentiments):
        message = factories.inbound(channel, f"message {i}", sender=f"c-{i}-{minutes_ago}")
        Message.objects.filter(pk=message.pk).update(
            analysis=analysis("order_status", sentiment, -0.8 if sentiment == "negative" else 0.3),
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
        )


def test_threshold_rule_fires_once_and_delivers_everywhere(
    api: Any, tenant: Any, channel: Any, webhook_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url, recorder = webhook_server
    _customer_messages(channel, ["negative", "negative", "negative", "neutral"])
    response = api.post(
        "/api/v1/analytics/alert-rules/",
        {
            "name": "Angry customers",
            "metric": "negative_sentiment_share",
            "threshold": 40,
            "window_minutes": 15,
            "email_to": ["oncall@acme.test"],
            "webhook_url": url,
            "webhook_secret": "s3cret",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "webhook_secret" not in response.json()
    rule = AlertRule.objects.get(pk=response.json()["id"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = actions.evaluate_and_fire(str(rule.id))
    assert event is not None
    assert event.value == pytest.approx(75.0) and event.volume == 4
    assert Notification.objects.filter(tenant=tenant, alert_event=event).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["oncall@acme.test"] and "Angry customers" in mail.outbox[0].subject
    assert event.deliveries["webhook"] == "queued" and callbacks  # the webhook task is enqueued on commit

    assert tasks.deliver_alert_webhook.apply(args=[str(event.id)]).get() == "ok"
    request = recorder.received[0]
    body = request["body"]
    expected = (
        "sha256="
        + hmac.new(b"s3cret", request["headers"]["X-Parley-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    assert request["headers"]["X-Parley-Signature"] == expected
    payload = json.loads(body)
    assert payload["type"] == "alert.fired" and payload["rule"]["name"] == "Angry customers" and payload["value"] == 75.0
    event.refresh_from_db()
    assert event.deliveries["webhook"] == "ok"

    # Cool-down: a second evaluation a minute later does not fire again.
    assert actions.evaluate_and_fire(str(rule.id), now=timezone.now() + timedelta(minutes=1)) is None
    history = api.get("/api/v1/analytics/alerts/").json()["results"]
    assert [h["id"] for h in history] == [str(event.id)]
    notes = api.get("/api/v1/analytics/notifications/").json()["results"]
    assert api.post(f"/api/v1/analytics/notifications/{notes[0]['id']}/read/").json()["read_at"] is not None


def test_webhook_failure_is_recorded_and_retried(tenant: Any, channel: Any, webhook_server: Any) -> None:
    url, recorder = webhook_server
    recorder.status = 500
    rule = AlertRule.objects.create(
        tenant=tenant,
        name="r",
        metric="negative_sentiment_share",
        threshold=10,
        webhook_url=url,
        webhook_secret="k",
        deliver_in_app=False,
    )
    _customer_messages(channel, ["negative"])
    event = actions.evaluate_and_fire(str(rule.id))
    assert event is not None
    result = tasks.deliver_alert_webhook.apply(args=[str(event.id)], retries=tasks.deliver_alert_webhook.max_retries)
    assert result.failed()
    event.refresh_from_db()
    assert event.deliveries["webhook"].startswith("error: HTTPStatusError")


def test_queue_wait_and_below_threshold_rules(tenant: Any, channel: Any) -> None:
    waiting = factories.inbound(channel, "human please", sender="waiting").conversation
    Conversation.objects.filter(pk=waiting.pk).update(
        status="pending_human", handed_over_at=timezone.now() - timedelta(minutes=42)
    )
    now = timezone.now()
    value = window_value(tenant.id, "queue_wait_minutes", now - timedelta(minutes=15), now)
    assert value.value == pytest.approx(42, abs=0.1) and value.volume == 1
    rule = AlertRule.objects.create(tenant=tenant, name="queue", metric="queue_wait_minutes", threshold=30)
    assert actions.evaluate_and_fire(str(rule.id)) is not None
    calm = AlertRule.objects.create(tenant=tenant, name="calm", metric="queue_wait_minutes", threshold=60)
    assert actions.evaluate_and_fire(str(calm.id)) is None
    below = AlertRule.objects.create(tenant=tenant, name="low", metric="queue_wait_minutes", threshold=60, comparator="below")
    assert actions.evaluate_and_fire(str(below.id)) is not None


def test_anomaly_rule_compares_with_recent_windows(tenant: Any, channel: Any) -> None:
    for hours_ago in range(1, 8):
        _customer_messages(channel, ["negative", "neutral", "neutral", "neutral", "neutral"], minutes_ago=hours_ago * 60 + 5)
    rule = AlertRule.objects.create(
        tenant=tenant,
        name="spike",
        metric="negative_sentiment_share",
        kind="anomaly",
        threshold=3,
        window_minutes=60,
        min_volume=3,
    )
    assert actions.evaluate_and_fire(str(rule.id)) is None  # nothing in the current window
    _customer_messages(channel, ["negative", "negative", "negative", "neutral"], minutes_ago=5)
    event = actions.evaluate_and_fire(str(rule.id))
    assert event is not None
    assert event.baseline == pytest.approx(20.0) and event.value == pytest.approx(75.0)
    assert "z =" in event.message


def test_alert_rule_validation(api: Any) -> None:
    bad = api.post(
        "/api/v1/analytics/alert-rules/",
        {
            "name": "x",
            "metric": "moon_phase",
            "threshold": 1,
            "webhook_url": "http://127.0.0.1:9/x",
            "filters": {"planet": "mars"},
        },
        format="json",
    )
    assert bad.status_code == 400
    assert {"metric", "filters"} <= set(bad.json()["errors"])
    no_secret = api.post(
        "/api/v1/analytics/alert-rules/",
        {"name": "x", "metric": "handover_rate", "threshold": 1, "webhook_url": "http://127.0.0.1:9/x"},
        format="json",
    )
    assert no_secret.status_code == 400 and "webhook_secret" in no_secret.json()["errors"]
    assert AlertEvent.objects.count() == 0

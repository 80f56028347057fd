"""The webhook inbox: a verified delivery is stored before it is parsed, processed once by the
worker, survives crashes, and a poison payload ends in a dead letter with its reason."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from parley.connectors import actions
from parley.connectors.models import WebhookEvent, WebhookEventStatus
from parley.connectors.tasks import process_webhook_event, process_webhook_events
from parley.connectors.testing.factories import APP_SECRET, whatsapp_channel
from parley.connectors.testing.webhooks import load_fixture, post_signed, process_inbox, purge, queued_tasks
from parley.connectors.webhooks import sign
from parley.conversations import actions as conversation_actions
from parley.conversations.models import DeliveryStatus, Message
from parley.core.models import DeadLetter
from parley.testing import factories

URL = "/webhooks/whatsapp/"
TEXT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def _wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.1)


def _text_payload(message_id: str, text: str = "hello") -> dict[str, Any]:
    payload = load_fixture("whatsapp", "messages__text")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = message_id
    message["text"]["body"] = text
    return payload


@pytest.mark.django_db
def test_a_stored_delivery_survives_a_worker_crash_and_the_sweep_enqueues_it_again(
    tenant: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    purge("webhooks", "assistant")
    channel = whatsapp_channel(tenant)
    assert post_signed(URL, load_fixture("whatsapp", "messages__text"), APP_SECRET).status_code == 200
    event = WebhookEvent.objects.get(channel=channel)

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("worker killed mid-ingest")

    monkeypatch.setattr("parley.connectors.webhooks.ingest", crash)
    with pytest.raises(SystemExit):
        process_inbox()
    monkeypatch.undo()
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.RECEIVED  # the half-done work was rolled back, the row kept
    assert not Message.objects.exists()
    assert actions.requeue_stale_webhook_events(older_than_seconds=120) == 0  # too recent to be lost
    WebhookEvent.objects.filter(id=event.id).update(updated_at=timezone.now() - timedelta(minutes=5))
    purge("webhooks")
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.requeue_stale_webhook_events(older_than_seconds=120) == 1
    [(name, args)] = queued_tasks("webhooks")
    assert (name, args) == ("parley.connectors.process_webhook_events", [[str(event.id)]])
    with django_capture_on_commit_callbacks(execute=True):
        assert process_webhook_events.run(*args) == ["processed"]
        assert process_webhook_events.run(*args) == ["skipped"]  # a redelivered task does nothing
    assert Message.objects.filter(channel=channel, external_id=TEXT_ID).count() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEventStatus.PROCESSED, 2)


def test_a_failed_attempt_is_retried_by_the_real_worker(celery_worker_thread: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = factories.make_tenant("inbox-retry")
    channel = whatsapp_channel(tenant)
    conversation = factories.inbound(channel, "hi", sender="16505551234").conversation
    outbound = conversation_actions.send_outbound(conversation=conversation, text="Hello!", sender_type="agent")
    conversation_actions.record_delivery_status(
        message=outbound, status=DeliveryStatus.SENT, provider_message_id="wamid.OUTBOUND0001"
    )
    from parley.connectors import webhooks

    real_ingest = webhooks.ingest
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(webhooks, "ingest", flaky)
    assert post_signed(URL, load_fixture("whatsapp", "statuses__delivered"), APP_SECRET).status_code == 200
    event = WebhookEvent.objects.get(channel=channel)
    _wait_for(lambda: WebhookEvent.objects.filter(id=event.id, status=WebhookEventStatus.PROCESSED).exists())
    event.refresh_from_db()
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.DELIVERED
    assert event.attempts == 2 and len(calls) == 2
    assert not DeadLetter.objects.exists()


def test_a_poison_payload_ends_in_a_dead_letter_with_its_reason(celery_worker_thread: Any) -> None:
    tenant = factories.make_tenant("inbox-poison")
    channel = whatsapp_channel(tenant)
    payload = load_fixture("whatsapp", "messages__text")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"]  # stored by an older, laxer parser
    [event_id] = actions.store_webhook_events(
        [actions.InboxRow(channel=channel, route=channel.config["phone_number_id"], event_key="poison", body=json.dumps(payload))]
    )
    _wait_for(lambda: DeadLetter.objects.exists())
    dead = DeadLetter.objects.get()
    assert dead.task_name == "parley.connectors.process_webhook_event"
    assert dead.args == [event_id]
    assert "PoisonWebhook" in dead.error and "from" in dead.error
    assert dead.tenant_id == tenant.id
    event = WebhookEvent.objects.get(id=event_id)
    assert event.status == WebhookEventStatus.FAILED
    assert "from" in event.error
    assert not Message.objects.exists()
    # Replaying the single-event task fails the same way, without retries.
    with pytest.raises(actions.PoisonWebhook):
        process_webhook_event.apply(args=[event_id], throw=True)


def test_concurrent_deliveries_through_the_asgi_fast_path_are_stored_once_each(transactional_db: Any) -> None:
    """The real ASGI app: webhooks skip the browser middleware, concurrent ones share INSERTs, and a
    delivery repeated within the same burst is stored (and processed) once."""
    from parley.config.asgi import application

    purge("webhooks", "assistant")
    tenant = factories.make_tenant("inbox-burst")
    channel = whatsapp_channel(tenant)
    bodies = [json.dumps(_text_payload(f"wamid.burst.{index}", f"message {index}")).encode() for index in range(12)]
    bodies += [bodies[0]] * 4  # Meta redelivering while the first copy is being stored

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(
                *(
                    client.post(
                        URL,
                        content=body,
                        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)},
                    )
                    for body in bodies
                )
            )

    responses = asyncio.run(burst())
    assert [response.status_code for response in responses] == [200] * 16
    assert all("X-Request-ID" in response.headers and "set-cookie" not in response.headers for response in responses)
    assert sum(response.json()["queued"] for response in responses) == 12
    assert sum(response.json()["duplicates"] for response in responses) == 4
    assert WebhookEvent.objects.filter(channel=channel).count() == 12
    queued = [event_id for name, args in queued_tasks("webhooks") for event_id in args[0]]
    assert sorted(queued) == sorted(str(pk) for pk in WebhookEvent.objects.values_list("id", flat=True))
    process_inbox()
    assert Message.objects.filter(channel=channel).count() == 12
    assert Message.objects.filter(channel=channel, external_id="wamid.burst.0").count() == 1
    turns = [args[0] for name, args in queued_tasks("assistant") if name == "parley.orchestrator.run_turn"]
    assert len(turns) == len(set(turns)) == 12
    purge("webhooks", "assistant")


def test_a_bad_signature_in_a_burst_is_refused_alone(transactional_db: Any) -> None:
    from parley.config.asgi import application

    purge("webhooks")
    tenant = factories.make_tenant("inbox-burst-403")
    channel = whatsapp_channel(tenant)
    good = json.dumps(_text_payload("wamid.good")).encode()
    bad = json.dumps(_text_payload("wamid.forged")).encode()

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = {"Content-Type": "application/json"}
            return await asyncio.gather(
                client.post(URL, content=good, headers={**headers, "X-Hub-Signature-256": sign(APP_SECRET, good)}),
                client.post(URL, content=bad, headers={**headers, "X-Hub-Signature-256": sign("forged", bad)}),
            )

    ok, forged = asyncio.run(burst())
    assert ok.status_code == 200
    assert forged.status_code == 403 and "signature" in forged.json()["detail"].lower()
    assert [
        json.loads(event.body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        for event in WebhookEvent.objects.filter(channel=channel)
    ] == ["wamid.good"]
    purge("webhooks")

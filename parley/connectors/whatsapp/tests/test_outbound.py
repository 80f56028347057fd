"""WhatsApp sends through the outbox to a fake Graph API server (real HTTP) and a real Celery worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from parley.connectors.testing.factories import APP_SECRET, whatsapp_channel
from parley.connectors.testing.fake_graph import FakeGraphServer
from parley.connectors.testing.webhooks import load_fixture, post_and_process
from parley.conversations import actions
from parley.conversations.models import Conversation, DeliveryStatus, Message
from parley.conversations.tasks import deliver_message, sweep_outbox
from parley.core.models import DeadLetter
from parley.testing import factories

CUSTOMER = "16505551234"


def _conversation(channel: Any) -> Conversation:
    return factories.inbound(channel, "hi", sender=CUSTOMER).conversation


def _wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _status(message: Message) -> str:
    message.refresh_from_db()
    return str(message.delivery_status)


@pytest.fixture
def fast_outbox(settings: Any) -> Any:
    settings.OUTBOX_BACKOFF_SECONDS = 0.05
    settings.OUTBOX_RECONCILE_SECONDS = 2.0
    return settings


@pytest.mark.django_db
def test_text_buttons_and_fallback_payloads(tenant: Any) -> None:
    with FakeGraphServer(access_token="test-access-token") as graph:
        conversation = _conversation(whatsapp_channel(tenant, graph.url))
        plain = actions.send_outbound(conversation=conversation, text="Hello!", sender_type="agent")
        two = actions.send_outbound(
            conversation=conversation,
            text="Cancel the order?",
            sender_type="assistant",
            buttons=[{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
        )
        four = actions.send_outbound(
            conversation=conversation,
            text="Pick",
            sender_type="assistant",
            buttons=[{"id": str(i), "title": f"Option {i}"} for i in range(1, 5)],
        )
        for message in (plain, two, four):
            assert deliver_message.apply(args=[str(message.id)]).get().startswith("wamid.FAKE")
        bodies = [request.json for request in graph.sends()]
        assert all(request.path == "/v21.0/106540352242922/messages" for request in graph.sends())
        assert all(request.headers["authorization"] == "Bearer test-access-token" for request in graph.sends())
        assert bodies[0] == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "biz_opaque_callback_data": str(plain.id),
            "type": "text",
            "text": {"preview_url": False, "body": "Hello!"},
        }
        assert bodies[1]["type"] == "interactive"
        assert bodies[1]["interactive"]["action"]["buttons"] == [
            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "no", "title": "No"}},
        ]
        assert bodies[2]["type"] == "text"
        assert bodies[2]["text"]["body"] == "Pick\n\n1. Option 1\n2. Option 2\n3. Option 3\n4. Option 4"
        plain.refresh_from_db()
        assert plain.delivery_status == DeliveryStatus.SENT
        assert plain.provider_message_id == "wamid.FAKE00000001"
        assert plain.delivery_attempts == 1


@pytest.mark.django_db
def test_media_is_sent_by_link_with_its_caption(tenant: Any) -> None:
    with FakeGraphServer() as graph:
        conversation = _conversation(whatsapp_channel(tenant, graph.url))
        message = actions.send_outbound(
            conversation=conversation,
            text="Your invoice",
            sender_type="agent",
            metadata={"media": {"kind": "document", "url": "https://files.example.com/inv.pdf", "filename": "inv.pdf"}},
        )
        deliver_message.apply(args=[str(message.id)])
        body = graph.sends()[0].json
        assert body["type"] == "document"
        assert body["document"] == {"link": "https://files.example.com/inv.pdf", "caption": "Your invoice", "filename": "inv.pdf"}


@pytest.mark.django_db
def test_outside_the_24_hour_window_only_a_template_is_sent(tenant: Any) -> None:
    with FakeGraphServer() as graph:
        channel = whatsapp_channel(tenant, graph.url)
        conversation = _conversation(channel)
        Conversation.objects.filter(pk=conversation.pk).update(last_customer_message_at=timezone.now() - timedelta(hours=25))
        conversation.refresh_from_db()
        refused = actions.send_outbound(conversation=conversation, text="Are you there?", sender_type="agent")
        deliver_message.apply(args=[str(refused.id)])
        refused.refresh_from_db()
        assert refused.delivery_status == DeliveryStatus.FAILED
        assert "24-hour" in refused.delivery_error
        assert graph.sends() == []
        channel.config["reengagement_template"] = {"name": "follow_up", "language": "en_US", "include_text": True}
        channel.save()
        templated = actions.send_outbound(conversation=conversation, text="Your parcel is here", sender_type="agent")
        deliver_message.apply(args=[str(templated.id)])
        assert graph.sends()[0].json["template"] == {
            "name": "follow_up",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Your parcel is here"}]}],
        }


@pytest.mark.django_db
def test_a_4xx_refusal_fails_at_once_with_the_reason(tenant: Any) -> None:
    with FakeGraphServer(access_token="other-token") as graph:
        conversation = _conversation(whatsapp_channel(tenant, graph.url))
        message = actions.send_outbound(conversation=conversation, text="x", sender_type="agent")
        assert deliver_message.apply(args=[str(message.id)]).get() == "failed"
        message.refresh_from_db()
        assert message.delivery_status == DeliveryStatus.FAILED
        assert "401" in message.delivery_error and "190" in message.delivery_error
        assert len(graph.sends()) == 1


@pytest.mark.django_db(transaction=True)
def test_429_and_500_are_retried_with_backoff_then_sent(tenant: Any, fast_outbox: Any, celery_worker_thread: Any) -> None:
    with FakeGraphServer() as graph:
        graph.script(429, 500)
        conversation = _conversation(whatsapp_channel(tenant, graph.url))
        message = actions.send_outbound(conversation=conversation, text="retry me", sender_type="agent")
        _wait_for(lambda: _status(message) == DeliveryStatus.SENT)
        assert len(graph.sends()) == 3
        assert len(graph.accepted) == 1
        message.refresh_from_db()
        assert message.delivery_attempts == 3
        assert message.provider_message_id == "wamid.FAKE00000001"


@pytest.mark.django_db(transaction=True)
def test_after_the_last_retry_the_message_is_failed_and_dead_lettered(
    tenant: Any, fast_outbox: Any, celery_worker_thread: Any
) -> None:
    with FakeGraphServer() as graph:
        graph.script(*([503] * 20))
        conversation = _conversation(whatsapp_channel(tenant, graph.url))
        message = actions.send_outbound(conversation=conversation, text="doomed", sender_type="agent")
        _wait_for(lambda: _status(message) == DeliveryStatus.FAILED)
        assert len(graph.sends()) == deliver_message.max_retries + 1
        assert "503" in message.delivery_error
        dead = DeadLetter.objects.get(task_name="parley.conversations.deliver_message")
        assert dead.args == [str(message.id)]
        assert graph.accepted == []


@pytest.mark.django_db(transaction=True)
def test_an_accepted_send_whose_answer_was_lost_is_not_resent_once_its_status_arrives(
    tenant: Any, fast_outbox: Any, celery_worker_thread: Any
) -> None:
    with FakeGraphServer(answer_delay_s=1.0) as graph:
        graph.script("accept_then_timeout")
        channel = whatsapp_channel(tenant, graph.url, timeout_s=0.3)
        conversation = _conversation(channel)
        message = actions.send_outbound(conversation=conversation, text="exactly once", sender_type="agent")
        _wait_for(lambda: len(graph.accepted) == 1)
        _wait_for(lambda: _status(message) == DeliveryStatus.SENDING)
        # Meta's "sent" status webhook echoes biz_opaque_callback_data = our message id.
        status = load_fixture("whatsapp", "statuses__sent")
        entry_status = status["entry"][0]["changes"][0]["value"]["statuses"][0]
        entry_status["id"] = "wamid.FAKE00000001"
        entry_status["biz_opaque_callback_data"] = str(message.id)
        assert post_and_process("/webhooks/whatsapp/", status, APP_SECRET).status_code == 200
        _wait_for(lambda: _status(message) == DeliveryStatus.SENT)
        time.sleep(3.0)  # past the reconcile window: a retry must find it sent and stop
        assert len(graph.sends()) == 1
        message.refresh_from_db()
        assert message.provider_message_id == "wamid.FAKE00000001"


@pytest.mark.django_db(transaction=True)
def test_an_unknown_outcome_without_any_status_is_resent_after_the_reconcile_window(
    tenant: Any, fast_outbox: Any, celery_worker_thread: Any
) -> None:
    with FakeGraphServer(answer_delay_s=1.0) as graph:
        graph.script("timeout")  # the provider did NOT accept it, but we cannot know
        conversation = _conversation(whatsapp_channel(tenant, graph.url, timeout_s=0.3))
        message = actions.send_outbound(conversation=conversation, text="at least once", sender_type="agent")
        _wait_for(lambda: _status(message) == DeliveryStatus.SENT, timeout=30)
        assert len(graph.sends()) == 2
        assert len(graph.accepted) == 1


@pytest.mark.django_db
def test_sweep_requeues_messages_whose_task_was_lost(tenant: Any, settings: Any) -> None:
    settings.OUTBOX_STALE_SECONDS = 60
    settings.OUTBOX_RECONCILE_SECONDS = 30
    from parley.connectors.testing.webhooks import purge, queued_tasks

    purge("outbound")
    channel = whatsapp_channel(tenant)
    conversation = _conversation(channel)
    lost_queued = actions.send_outbound(conversation=conversation, text="a", sender_type="agent")
    lost_sending = actions.send_outbound(conversation=conversation, text="b", sender_type="agent")
    fresh = actions.send_outbound(conversation=conversation, text="c", sender_type="agent")
    old = timezone.now() - timedelta(minutes=5)
    Message.objects.filter(pk=lost_queued.pk).update(updated_at=old)
    Message.objects.filter(pk=lost_sending.pk).update(delivery_status="sending", sending_started_at=old, updated_at=old)
    assert sweep_outbox.run() == 2
    requeued = {args[0] for name, args in queued_tasks("outbound") if name == "parley.conversations.deliver_message"}
    assert requeued == {str(lost_queued.id), str(lost_sending.id)}
    assert str(fresh.id) not in requeued

"""Messenger webhooks (fixtures posted signed to the real endpoint) and the Send API against the fake Graph server."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.audit.models import AuditEvent
from parley.connectors.models import Channel, ChannelType
from parley.connectors.testing.fake_graph import FakeGraphServer
from parley.connectors.testing.webhooks import load_fixture, post_and_process
from parley.conversations import actions
from parley.conversations.models import Attachment, Conversation, DeliveryStatus, Message
from parley.conversations.tasks import deliver_message, fetch_attachment_media

URL = "/webhooks/messenger/"
SECRET = "messenger-app-secret"
PAGE_ID = "104523456789012"
PSID = "6783245432123456"


def _channel(tenant: Any, api_base_url: str = "http://127.0.0.1:9") -> Channel:
    return Channel.objects.create(
        tenant=tenant,
        type=ChannelType.MESSENGER,
        name="Facebook page",
        config={"page_id": PAGE_ID, "api_base_url": api_base_url, "timeout_s": 2},
        credentials={"page_access_token": "page-token", "app_secret": SECRET, "verify_token": "fb-verify"},  # type: ignore[misc]
    )


@pytest.mark.django_db
def test_handshake_and_signature(tenant: Any) -> None:
    _channel(tenant)
    ok = Client().get(URL, {"hub.mode": "subscribe", "hub.verify_token": "fb-verify", "hub.challenge": "42"})
    assert ok.status_code == 200 and ok.content == b"42"
    payload = load_fixture("messenger", "messages__text")
    assert post_and_process(URL, payload, "wrong").status_code == 403
    assert Client().post(URL, data=json.dumps(payload), content_type="application/json").status_code == 401
    assert post_and_process(URL, {"object": "page", "entry": [{"messaging": []}]}, SECRET).status_code == 400
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_text_quick_reply_postback_and_echo(tenant: Any) -> None:
    channel = _channel(tenant)
    for name in ("messages__text", "messages__quick_reply", "messaging_postbacks__get_started", "messages__echo"):
        assert post_and_process(URL, load_fixture("messenger", name), SECRET).status_code == 200
    assert post_and_process(URL, load_fixture("messenger", "messages__text"), SECRET).json()["duplicates"] == 1
    messages = list(Message.objects.filter(channel=channel).order_by("created_at"))
    assert [(m.text, m.content_type, m.metadata.get("button_id", "")) for m in messages] == [
        ("hello, world!", "text", ""),
        ("Track order", "button_reply", "track"),
        ("Get Started", "button_reply", "GET_STARTED"),
    ]
    assert {m.conversation_id for m in messages} == {messages[0].conversation_id}


@pytest.mark.django_db
def test_unknown_page_is_acknowledged_and_audited(tenant: Any) -> None:
    _channel(tenant)
    payload = load_fixture("messenger", "messages__text")
    payload["entry"][0]["id"] = "555"
    assert post_and_process(URL, payload, SECRET).status_code == 200
    assert AuditEvent.objects.filter(action="webhook.unknown_page", data__page_id="555").exists()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_multiple_entries_and_image_download(tenant: Any) -> None:
    with FakeGraphServer() as cdn:
        channel = _channel(tenant, cdn.url)
        assert post_and_process(URL, load_fixture("messenger", "messages__multiple_entries"), SECRET).json()["queued"] == 1
        assert Message.objects.filter(channel=channel).count() == 2
        payload = load_fixture("messenger", "messages__image")
        payload["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = f"{cdn.url}/media-download/img1"
        cdn.media["img1"] = (b"JPEGDATA", "image/jpeg")
        assert post_and_process(URL, payload, SECRET).status_code == 200
        attachment = Attachment.objects.get(message__channel=channel)
        assert attachment.kind == "image"
        assert fetch_attachment_media.run(str(attachment.id)) == "stored"
        attachment.refresh_from_db()
        assert attachment.file.read() == b"JPEGDATA" and attachment.mime_type == "image/jpeg"


@pytest.mark.django_db
def test_send_api_quick_replies_then_delivery_and_read_receipts(tenant: Any) -> None:
    with FakeGraphServer(access_token="page-token") as graph:
        channel = _channel(tenant, graph.url)
        post_and_process(URL, load_fixture("messenger", "messages__text"), SECRET)
        conversation = Conversation.objects.get(channel=channel)
        reply = actions.send_outbound(
            conversation=conversation, text="Which one?", sender_type="assistant", buttons=[{"id": "a", "title": "Order A"}]
        )
        deliver_message.apply(args=[str(reply.id)])
        sent = graph.sends()
        assert len(sent) == 1 and sent[0].path == "/v21.0/me/messages"
        assert sent[0].json == {
            "recipient": {"id": PSID},
            "message": {"text": "Which one?", "quick_replies": [{"content_type": "text", "title": "Order A", "payload": "a"}]},
            "messaging_type": "RESPONSE",
        }
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.SENT and reply.provider_message_id == "m_fake1"
        delivered = load_fixture("messenger", "message_deliveries__delivered")
        delivered["entry"][0]["messaging"][0]["delivery"]["mids"] = ["m_fake1"]
        assert post_and_process(URL, delivered, SECRET).status_code == 200
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.DELIVERED
        assert post_and_process(URL, load_fixture("messenger", "message_reads__read"), SECRET).status_code == 200
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.READ


@pytest.mark.django_db
def test_outside_the_window_only_a_person_may_reply_with_the_human_agent_tag(tenant: Any) -> None:
    with FakeGraphServer(access_token="page-token") as graph:
        channel = _channel(tenant, graph.url)
        post_and_process(URL, load_fixture("messenger", "messages__text"), SECRET)
        conversation = Conversation.objects.get(channel=channel)
        Conversation.objects.filter(pk=conversation.pk).update(last_customer_message_at=timezone.now() - timedelta(days=2))
        conversation.refresh_from_db()
        bot = actions.send_outbound(conversation=conversation, text="Still there?", sender_type="assistant")
        deliver_message.apply(args=[str(bot.id)])
        bot.refresh_from_db()
        assert bot.delivery_status == DeliveryStatus.FAILED and "24-hour" in bot.delivery_error
        agent = actions.send_outbound(conversation=conversation, text="Following up", sender_type="agent")
        deliver_message.apply(args=[str(agent.id)])
        assert graph.sends()[-1].json["tag"] == "HUMAN_AGENT"
        assert len(graph.sends()) == 1

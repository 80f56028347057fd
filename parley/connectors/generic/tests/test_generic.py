"""The generic API channel: signed JSON in, signed idempotent callbacks out."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from parley.connectors.models import Channel, ChannelType
from parley.connectors.testing.fake_graph import FakeGraphServer
from parley.connectors.testing.webhooks import load_fixture, post_signed
from parley.conversations import actions
from parley.conversations.models import Attachment, Conversation, DeliveryStatus, Message
from parley.conversations.tasks import deliver_message

SECRET = "generic-secret"


def _channel(tenant: Any, **config: Any) -> Channel:
    return Channel.objects.create(
        tenant=tenant,
        type=ChannelType.GENERIC,
        name="CRM",
        config=config,
        credentials={"secret": SECRET},  # type: ignore[misc]
    )


def _post(channel: Channel, payload: Any, secret: str = SECRET) -> Any:
    return post_signed(f"/webhooks/generic/{channel.key}/", payload, secret, header="X-Parley-Signature")


@pytest.mark.django_db
def test_signed_message_is_stored_once(tenant: Any) -> None:
    channel = _channel(tenant)
    first = _post(channel, load_fixture("generic", "message__text"))
    assert first.status_code == 200 and first.json()["stored"] == 1
    assert _post(channel, load_fixture("generic", "message__text")).json()["duplicates"] == 1
    message = Message.objects.get(channel=channel)
    assert message.text == "Can I change my delivery address?"
    assert message.conversation.customer.name == "Ana Souza"


@pytest.mark.django_db
def test_bad_requests(tenant: Any) -> None:
    channel = _channel(tenant)
    url = f"/webhooks/generic/{channel.key}/"
    assert _post(channel, load_fixture("generic", "message__text"), secret="nope").status_code == 403
    assert Client().post(url, data="{}", content_type="application/json").status_code == 401
    unknown = _post(channel, {"type": "message", "message_id": "x", "sender": {"id": "u"}, "colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
    assert _post(channel, b"[1,").status_code == 400
    assert post_signed("/webhooks/generic/unknown-key/", {}, SECRET, header="X-Parley-Signature").status_code == 404
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_replies_go_to_the_callback_signed_with_an_idempotency_key(tenant: Any) -> None:
    with FakeGraphServer() as receiver:
        channel = _channel(tenant, callback_url=f"{receiver.url}/parley-replies")
        _post(channel, load_fixture("generic", "message__text"))
        conversation = Conversation.objects.get(channel=channel)
        reply = actions.send_outbound(conversation=conversation, text="Sure!", sender_type="assistant")
        deliver_message.apply(args=[str(reply.id)])
        [request] = receiver.requests
        assert request.path == "/parley-replies"
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-parley-signature"] == expected
        assert request.headers["idempotency-key"] == str(reply.id)
        assert json.loads(request.body)["recipient"] == {"id": "crm-user-42"}
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.SENT
        batch = load_fixture("generic", "batch__message_and_status")
        batch["events"][1]["message_id"] = str(reply.id)
        assert _post(channel, batch).json() | {"message_ids": None} == {
            "status": "ok",
            "stored": 1,
            "duplicates": 0,
            "statuses": 1,
            "message_ids": None,
        }
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.DELIVERED
        assert Attachment.objects.get(message__channel=channel).filename == "invoice.pdf"

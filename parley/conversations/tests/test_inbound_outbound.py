"""receive_inbound is idempotent (also under concurrency); send_outbound stores first, then delivers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from parley.connectors.base import InboundMessage
from parley.conversations import actions
from parley.conversations.models import Conversation, ConversationStatus, DeliveryStatus, Message
from parley.customers.models import CustomerIdentity
from parley.testing import factories


@pytest.mark.django_db
def test_same_provider_message_is_stored_once(channel: Any) -> None:
    first = factories.inbound(channel, "hi", sender="c1", external_id="wamid.1")
    again = actions.receive_inbound(
        channel=channel,
        inbound=InboundMessage(channel_type=channel.type, external_id="wamid.1", sender_external_id="c1", text="hi"),
        enqueue_turn=False,
    )
    assert not again.created
    assert again.message.id == first.id
    assert Message.objects.filter(channel=channel).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_store_exactly_one_message() -> None:
    tenant = factories.make_tenant()
    channel = factories.make_channel(tenant)
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def deliver() -> None:
        try:
            barrier.wait()
            result = actions.receive_inbound(
                channel=channel,
                inbound=InboundMessage(channel_type=channel.type, external_id="dup-1", sender_external_id="racer", text="x"),
                enqueue_turn=False,
            )
            results.append(result.created)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert Message.objects.filter(channel=channel, external_id="dup-1").count() == 1
    assert CustomerIdentity.objects.filter(tenant=tenant, external_id="racer").count() == 1
    assert Conversation.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
def test_messages_continue_the_open_conversation_and_start_anew_after_resolution(channel: Any) -> None:
    first = factories.inbound(channel, "one", sender="c9")
    second = factories.inbound(channel, "two", sender="c9")
    assert first.conversation_id == second.conversation_id
    conversation = second.conversation
    conversation.refresh_from_db()
    assert conversation.message_count == 2
    assert conversation.unread_count == 2
    actions.update_conversation(conversation=conversation, changes={"status": ConversationStatus.RESOLVED}, actor="test")
    third = factories.inbound(channel, "three", sender="c9")
    assert third.conversation_id != conversation.id


@pytest.mark.django_db
def test_idle_conversation_is_closed_and_a_new_one_opened(tenant: Any) -> None:
    channel = factories.make_channel(tenant, config={"idle_seconds": 0})
    first = factories.inbound(channel, "one", sender="c5")
    second = factories.inbound(channel, "two", sender="c5")
    assert first.conversation_id != second.conversation_id
    first.conversation.refresh_from_db()
    assert first.conversation.status == ConversationStatus.CLOSED


@pytest.mark.django_db
def test_agent_reply_is_queued_and_counts_as_first_response(api: Any, channel: Any) -> None:
    conversation = factories.make_conversation(channel, "help")
    response = api.post(f"/api/v1/conversations/{conversation.id}/messages/", {"text": "On it!"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["delivery_status"] == "queued"
    assert body["sender_type"] == "agent"
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
    assert conversation.unread_count == 0
    messages = api.get(f"/api/v1/conversations/{conversation.id}/messages/").json()["results"]
    assert [m["text"] for m in messages] == ["help", "On it!"]


@pytest.mark.django_db
def test_private_note_is_never_delivered_nor_a_first_response(api: Any, channel: Any) -> None:
    conversation = factories.make_conversation(channel, "help")
    response = api.post(f"/api/v1/conversations/{conversation.id}/messages/", {"text": "VIP", "is_private": True}, format="json")
    assert response.status_code == 201
    assert response.json()["delivery_status"] == "sent"
    conversation.refresh_from_db()
    assert conversation.first_response_at is None


@pytest.mark.django_db
def test_delivery_status_only_moves_forward(channel: Any) -> None:
    conversation = factories.make_conversation(channel)
    message = actions.send_outbound(conversation=conversation, text="x", sender_type="agent")
    actions.record_delivery_status(message=message, status=DeliveryStatus.READ, provider_message_id="p1")
    actions.record_delivery_status(message=message, status=DeliveryStatus.DELIVERED)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ
    assert message.provider_message_id == "p1"


@pytest.mark.django_db
def test_conversation_list_filters(api: Any, channel: Any, tenant: Any) -> None:
    agent = factories.make_user(tenant, "agent")
    mine = factories.make_conversation(channel)
    other = factories.make_conversation(channel)
    assert (
        api.patch(f"/api/v1/conversations/{mine.id}/", {"assignee": str(agent.id), "labels": ["vip"]}, format="json").status_code
        == 200
    )
    ids = lambda q: {row["id"] for row in api.get(f"/api/v1/conversations/?{q}").json()["results"]}  # noqa: E731
    assert ids(f"assignee={agent.id}") == {str(mine.id)}
    assert ids("status=assigned") == {str(mine.id)}
    assert ids("label=vip") == {str(mine.id)}
    assert ids("unassigned=true") == {str(other.id)}
    assert ids("unread=true") == {str(mine.id), str(other.id)}
    outsider = factories.make_user(factories.make_tenant(), "agent")
    response = api.patch(f"/api/v1/conversations/{other.id}/", {"assignee": str(outsider.id)}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_failed_message_can_be_resent_through_the_api(api: Any, channel: Any) -> None:
    conversation = factories.make_conversation(channel)
    message = actions.send_outbound(conversation=conversation, text="x", sender_type="agent")
    url = f"/api/v1/conversations/{conversation.id}/messages/{message.id}/retry/"
    assert api.post(url).status_code == 409
    actions.record_delivery_status(message=message, status=DeliveryStatus.FAILED, error="provider refused")
    response = api.post(url)
    assert response.status_code == 200, response.content
    assert response.json()["delivery_status"] == "queued"
    message.refresh_from_db()
    assert message.delivery_error == ""
    other = factories.make_conversation(factories.make_channel(factories.make_tenant()))
    assert api.post(f"/api/v1/conversations/{other.id}/messages/{message.id}/retry/").status_code == 404

"""The web-chat socket speaks docs/webchat-protocol.md: hello/welcome, messages, history, delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from parley.config.asgi import application
from parley.connectors.models import ChannelType
from parley.connectors.testing.webhooks import purge, queued_tasks
from parley.conversations import actions
from parley.conversations.models import DeliveryStatus, Message
from parley.conversations.tasks import deliver_message
from parley.testing import factories

ORIGIN = "https://shop.example"


async def _widget(**config: Any) -> Any:
    tenant = await sync_to_async(factories.make_tenant)()
    config.setdefault("allowed_origins", [ORIGIN])
    config.setdefault("greeting", "Hi there")
    return await sync_to_async(factories.make_channel)(tenant, type=ChannelType.WEBCHAT, config=config)


async def _open(key: str, origin: str | None = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())] if origin else []
    socket = WebsocketCommunicator(application, f"/ws/webchat/{key}/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def _hello(socket: WebsocketCommunicator, **fields: Any) -> dict[str, Any]:
    await socket.send_json_to({"type": "hello", **fields})
    welcome = await socket.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return dict(welcome)


async def _next(socket: WebsocketCommunicator, frame_type: str) -> dict[str, Any]:
    for _ in range(10):
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == frame_type:
            return dict(frame)
    raise AssertionError(f"no {frame_type} frame")


@pytest.mark.django_db(transaction=True)
async def test_unknown_widget_and_foreign_origin_are_refused() -> None:
    channel = await _widget()
    socket = await _open("no-such-widget")
    assert (await socket.receive_json_from())["code"] == "unknown_widget"
    assert (await socket.receive_output(timeout=2))["code"] == 4404
    socket = await _open(channel.key, origin="https://evil.example")
    assert (await socket.receive_json_from())["code"] == "origin_not_allowed"
    assert (await socket.receive_output(timeout=2))["code"] == 4403


@pytest.mark.django_db(transaction=True)
async def test_visitor_message_is_stored_acked_echoed_and_handed_to_the_assistant() -> None:
    await sync_to_async(purge)("assistant")
    channel = await _widget()
    socket = await _open(channel.key)
    welcome = await _hello(socket, name="Maria", email="maria@example.com")
    assert welcome["resumed"] is False and welcome["conversation_id"] is None
    assert welcome["greeting"] == "Hi there" and welcome["history"] == []

    await socket.send_json_to({"type": "message", "client_id": "c-1", "text": "  Where is my order?  "})
    ack = await _next(socket, "ack")
    echo = await _next(socket, "message")
    assert ack["client_id"] == "c-1" and ack["duplicate"] is False
    assert echo["message"]["id"] == ack["message_id"]
    assert echo["message"]["text"] == "Where is my order?"
    assert echo["message"]["client_id"] == "c-1" and echo["message"]["direction"] == "inbound"
    message = await sync_to_async(Message.objects.select_related("conversation__customer").get)(pk=ack["message_id"])
    assert message.conversation.customer.name == "Maria"
    assert message.conversation.customer.email == "maria@example.com"
    turns = await sync_to_async(queued_tasks)("assistant")
    assert turns == [("parley.orchestrator.run_turn", [ack["message_id"]])]

    await socket.send_json_to({"type": "message", "client_id": "c-1", "text": "Where is my order?"})
    again = await _next(socket, "ack")
    assert again["duplicate"] is True and again["message_id"] == ack["message_id"]
    assert await sync_to_async(Message.objects.filter(channel=channel).count)() == 1
    await socket.disconnect()

    # Reconnect with the stored token: same visitor, same conversation, history restored.
    socket = await _open(channel.key)
    resumed = await _hello(socket, visitor_token=welcome["visitor_token"])
    assert resumed["resumed"] is True and resumed["visitor_id"] == welcome["visitor_id"]
    assert resumed["conversation_id"] == ack["conversation_id"]
    assert [m["id"] for m in resumed["history"]] == [ack["message_id"]]
    newer = await _hello(socket, visitor_token=welcome["visitor_token"], after_message_id=ack["message_id"])
    assert newer["history"] == []
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_reply_is_pushed_to_the_visitor_marked_delivered_then_read() -> None:
    channel = await _widget()
    socket = await _open(channel.key)
    welcome = await _hello(socket)
    await socket.send_json_to({"type": "message", "client_id": "c-9", "text": "Hello?"})
    ack = await _next(socket, "ack")
    assert (await _next(socket, "message"))["message"]["id"] == ack["message_id"]  # the echo
    conversation = (await sync_to_async(Message.objects.select_related("conversation").get)(pk=ack["message_id"])).conversation
    reply = await sync_to_async(actions.send_outbound)(
        conversation=conversation, text="Hi! Pick one", sender_type="assistant", buttons=[{"id": "track", "title": "Track order"}]
    )
    await sync_to_async(deliver_message.apply)(args=[str(reply.id)])
    pushed = await _next(socket, "message")
    assert pushed["message"]["id"] == str(reply.id)
    assert pushed["message"]["buttons"] == [{"id": "track", "title": "Track order"}]
    assert pushed["message"]["direction"] == "outbound"
    delivery = await _next(socket, "delivery")
    assert delivery["message_id"] == str(reply.id) and delivery["delivery_status"] == "delivered"
    await sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == DeliveryStatus.DELIVERED

    await socket.send_json_to({"type": "read", "message_id": str(reply.id)})
    read = await _next(socket, "delivery")
    assert read["delivery_status"] == "read"
    await sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == DeliveryStatus.READ

    private = await sync_to_async(actions.send_outbound)(
        conversation=conversation, text="VIP", sender_type="agent", is_private=True
    )
    assert await socket.receive_nothing(timeout=0.5)
    second = await _open(channel.key)
    history = (await _hello(second, visitor_token=welcome["visitor_token"]))["history"]
    assert str(private.id) not in [m["id"] for m in history]
    assert [m["id"] for m in history] == [ack["message_id"], str(reply.id)]
    await socket.disconnect()
    await second.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_bad_frames_get_errors_and_a_tampered_token_starts_a_new_visitor() -> None:
    channel = await _widget()
    socket = await _open(channel.key)
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from())["code"] == "invalid_frame"
    await socket.send_json_to({"type": "message", "client_id": "c-1", "text": "hi"})
    assert (await socket.receive_json_from())["code"] == "hello_required"
    welcome = await _hello(socket)
    await socket.send_json_to({"type": "message", "client_id": "c-2", "text": "x" * 4001})
    error = await socket.receive_json_from()
    assert error["code"] == "invalid_frame" and error["client_id"] == "c-2"
    await socket.send_json_to({"type": "dance"})
    assert (await socket.receive_json_from())["code"] == "invalid_frame"
    await socket.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 20000}))
    assert (await socket.receive_json_from())["code"] == "frame_too_large"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    tampered = await _hello(socket, visitor_token=welcome["visitor_token"][:-2] + "xx")
    assert tampered["resumed"] is False and tampered["visitor_id"] != welcome["visitor_id"]
    await socket.disconnect()

"""Typing indicators: an agent typing in the inbox reaches the web-chat visitor (throttled), and the
visitor sees "assistant is typing" while a turn runs."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from parley.accounts import actions as account_actions
from parley.config.asgi import application
from parley.connectors.models import ChannelType
from parley.testing import factories

ORIGIN = "https://shop.example"


async def _inbox(tenant: Any, role: str = "agent") -> WebsocketCommunicator:
    key = (await sync_to_async(account_actions.create_api_key)(tenant=tenant, name=f"ws-{role}", role=role)).secret
    socket = WebsocketCommunicator(application, "/ws/inbox/", headers=[(b"authorization", f"Bearer {key}".encode())])
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    return socket


async def _visitor_with_conversation(tenant: Any) -> tuple[WebsocketCommunicator, str, str]:
    channel = await sync_to_async(factories.make_channel)(
        tenant, type=ChannelType.WEBCHAT, config={"allowed_origins": [ORIGIN], "greeting": "Hi"}
    )
    socket = WebsocketCommunicator(application, f"/ws/webchat/{channel.key}/", headers=[(b"origin", ORIGIN.encode())])
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "hello", "name": "Maria"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "welcome"
    await socket.send_json_to({"type": "message", "client_id": "c-1", "text": "Where is my order?"})
    ack = await _next(socket, "ack")
    await _next(socket, "message")
    return socket, ack["conversation_id"], ack["message_id"]


async def _next(socket: WebsocketCommunicator, frame_type: str) -> dict[str, Any]:
    for _ in range(10):
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == frame_type:
            return dict(frame)
    raise AssertionError(f"no {frame_type} frame")


async def _frames(socket: WebsocketCommunicator, frame_type: str, timeout: float = 0.7) -> list[dict[str, Any]]:
    """Every frame of ``frame_type`` that arrives until the socket goes quiet."""
    frames = []
    while not await socket.receive_nothing(timeout=timeout):
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == frame_type:
            frames.append(frame)
    return frames


@pytest.mark.django_db(transaction=True)
async def test_agent_typing_reaches_the_visitor_throttled() -> None:
    tenant = await sync_to_async(factories.make_tenant)()
    visitor, conversation_id, _ = await _visitor_with_conversation(tenant)
    inbox = await _inbox(tenant)
    await _frames(inbox, "typing", timeout=0.3)  # drain the conversation's own events

    await inbox.send_json_to({"type": "typing", "conversation_id": conversation_id, "is_typing": True})
    assert await _next(visitor, "typing") == {"type": "typing", "sender_type": "agent", "is_typing": True}
    echoed = await _next(inbox, "typing")
    assert echoed["conversation_id"] == conversation_id and echoed["sender_type"] == "agent"

    # a second "still typing" within the throttle window is dropped; "stopped" goes through at once
    await inbox.send_json_to({"type": "typing", "conversation_id": conversation_id, "is_typing": True})
    await inbox.send_json_to({"type": "typing", "conversation_id": conversation_id, "is_typing": False})
    assert await _frames(visitor, "typing") == [{"type": "typing", "sender_type": "agent", "is_typing": False}]
    await visitor.disconnect()
    await inbox.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_customer_typing_reaches_the_inbox_but_is_not_echoed_to_the_visitor() -> None:
    tenant = await sync_to_async(factories.make_tenant)()
    visitor, conversation_id, _ = await _visitor_with_conversation(tenant)
    inbox = await _inbox(tenant)
    await visitor.send_json_to({"type": "typing", "is_typing": True})
    event = await _next(inbox, "typing")
    assert event["conversation_id"] == conversation_id
    assert event["sender_type"] == "customer" and event["is_typing"] is True
    assert await _frames(visitor, "typing") == []
    await visitor.disconnect()
    await inbox.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_typing_frames_are_checked() -> None:
    tenant = await sync_to_async(factories.make_tenant)()
    other = await sync_to_async(factories.make_tenant)()
    visitor, foreign_conversation_id, _ = await _visitor_with_conversation(other)
    inbox = await _inbox(tenant)

    await inbox.send_json_to({"type": "typing", "conversation_id": foreign_conversation_id, "is_typing": True})
    assert (await _next(inbox, "error"))["detail"] == "no such conversation"
    await inbox.send_json_to({"type": "typing", "conversation_id": "not-a-uuid", "is_typing": True})
    assert "conversation_id" in (await _next(inbox, "error"))["detail"]
    await inbox.send_json_to({"type": "typing", "conversation_id": foreign_conversation_id})
    assert "is_typing" in (await _next(inbox, "error"))["detail"]
    assert await _frames(visitor, "typing") == []

    analyst = await _inbox(other, role="analyst")
    await analyst.send_json_to({"type": "typing", "conversation_id": foreign_conversation_id, "is_typing": True})
    assert "cannot reply" in (await _next(analyst, "error"))["detail"]
    assert await _frames(visitor, "typing") == []
    for socket in (visitor, inbox, analyst):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_visitor_sees_the_assistant_typing_while_its_turn_runs() -> None:
    from parley.orchestrator.turn import run_turn

    tenant = await sync_to_async(factories.make_tenant)()
    visitor, _, message_id = await _visitor_with_conversation(tenant)

    outcome = await sync_to_async(run_turn)(message_id)

    frames = []
    while not await visitor.receive_nothing(timeout=0.7):
        frames.append(await visitor.receive_json_from(timeout=5))
    typing = [(f["sender_type"], f["is_typing"]) for f in frames if f["type"] == "typing"]
    assert typing == [("assistant", True), ("assistant", False)], (outcome, frames)
    assert outcome not in ("missing", "duplicate", "not-inbound")


@pytest.mark.django_db(transaction=True)
async def test_no_assistant_typing_while_a_person_owns_the_conversation() -> None:
    from parley.conversations.models import Conversation, ConversationStatus
    from parley.orchestrator.turn import run_turn

    tenant = await sync_to_async(factories.make_tenant)()
    visitor, conversation_id, message_id = await _visitor_with_conversation(tenant)
    await sync_to_async(Conversation.objects.filter(pk=conversation_id).update)(status=ConversationStatus.PENDING_HUMAN)

    await sync_to_async(run_turn)(message_id)

    assert await _frames(visitor, "typing") == []
    await visitor.disconnect()

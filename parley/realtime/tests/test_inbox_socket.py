"""The live inbox socket receives events on commit, only for its own tenant, only when authenticated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from parley.accounts import actions as account_actions
from parley.config.asgi import application
from parley.testing import factories


def _connect(key: str | None = None) -> WebsocketCommunicator:
    headers = [(b"authorization", f"Bearer {key}".encode())] if key else []
    return WebsocketCommunicator(application, "/ws/inbox/", headers=headers)


@pytest.mark.django_db(transaction=True)
async def test_inbox_receives_message_events_of_its_tenant_only() -> None:
    tenant = await sync_to_async(factories.make_tenant)()
    other = await sync_to_async(factories.make_tenant)()
    key = (await sync_to_async(account_actions.create_api_key)(tenant=tenant, name="ws", role="agent")).secret
    channel = await sync_to_async(factories.make_channel)(tenant)
    other_channel = await sync_to_async(factories.make_channel)(other)

    socket = _connect(key)
    connected, _ = await socket.connect()
    assert connected
    hello = await socket.receive_json_from(timeout=5)
    assert hello == {"type": "hello", "tenant_id": str(tenant.id), "role": "agent"}

    await sync_to_async(factories.inbound)(other_channel, "not for you")
    message = await sync_to_async(factories.inbound)(channel, "Where is my parcel?")

    events = []
    while len(events) < 2:
        events.append(await socket.receive_json_from(timeout=5))
    types = {event["type"] for event in events}
    assert types == {"conversation.created", "message.created"}
    message_event = next(e for e in events if e["type"] == "message.created")
    assert message_event["message"]["id"] == str(message.id)
    assert message_event["message"]["text"] == "Where is my parcel?"
    assert message_event["tenant_id"] == str(tenant.id)
    assert await socket.receive_nothing(timeout=0.5)

    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_event_matches_a_fresh_rest_fetch() -> None:
    """Applying the websocket event gives what a REST load would (the verify_action contract)."""
    tenant = await sync_to_async(factories.make_tenant)()
    key = (await sync_to_async(account_actions.create_api_key)(tenant=tenant, name="ws", role="agent")).secret
    channel = await sync_to_async(factories.make_channel)(tenant)
    socket = _connect(key)
    await socket.connect()
    await socket.receive_json_from(timeout=5)
    message = await sync_to_async(factories.inbound)(channel, "hello")
    events = [await socket.receive_json_from(timeout=5) for _ in range(2)]
    conversation_event = next(e for e in events if e["type"] == "conversation.created")

    def fetch() -> Any:
        client = factories.api_client(tenant, "agent")
        return client.get(f"/api/v1/conversations/{message.conversation_id}/").json()

    assert conversation_event["conversation"] == await sync_to_async(fetch)()
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_rolled_back_changes_send_no_event() -> None:
    from django.db import transaction

    tenant = await sync_to_async(factories.make_tenant)()
    key = (await sync_to_async(account_actions.create_api_key)(tenant=tenant, name="ws", role="agent")).secret
    channel = await sync_to_async(factories.make_channel)(tenant)
    socket = _connect(key)
    await socket.connect()
    await socket.receive_json_from(timeout=5)

    def store_then_fail() -> None:
        try:
            with transaction.atomic():
                factories.inbound(channel, "never committed")
                raise RuntimeError("rollback")
        except RuntimeError:
            pass

    await sync_to_async(store_then_fail)()
    assert await socket.receive_nothing(timeout=0.7)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "pk_nope_nopenopenopenopenopenopenope"])
async def test_unauthenticated_sockets_are_closed(key: str | None) -> None:
    socket = _connect(key)
    connected, code = await socket.connect()
    assert not connected
    assert code == 4401
    await asyncio.sleep(0)

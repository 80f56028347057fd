"""Synchronous publishing reaches channel-layer groups and reuses one Redis connection pool."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.layers import get_channel_layer

from parley.core.redis import get_redis
from parley.realtime.publish import group_send


def _listening_group() -> tuple[Any, str, str]:
    """The channel layer, a fresh group, and a channel that has joined it."""
    layer = get_channel_layer()
    assert layer is not None
    group = f"test-publish-{uuid.uuid4().hex}"
    channel = asyncio.run(layer.new_channel())

    async def join() -> None:
        await layer.group_add(group, channel)

    asyncio.run(join())
    return layer, group, channel


def _connections_received() -> int:
    return int(get_redis().info("stats")["total_connections_received"])


def test_sync_publishes_arrive_in_order_without_a_connection_each() -> None:
    layer, group, channel = _listening_group()
    group_send(group, {"type": "test.frame", "n": -1})  # opens the publisher's pool
    before = _connections_received()
    for n in range(20):
        assert group_send(group, {"type": "test.frame", "n": n}) is True
    opened = _connections_received() - before

    async def drain() -> list[int]:
        return [(await layer.receive(channel))["n"] for _ in range(21)]

    assert asyncio.run(drain()) == [-1, *range(20)]
    assert opened <= 1, f"{opened} new Redis connections for 20 publishes"


def test_refuses_to_block_an_event_loop() -> None:
    async def inside_a_loop() -> None:
        group_send("anything", {"type": "test.frame"})

    with pytest.raises(RuntimeError, match="synchronous code"):
        asyncio.run(inside_a_loop())


def test_nowait_publishes_keep_their_order_with_waiting_ones() -> None:
    from parley.realtime.publish import flush, group_send_nowait

    layer, group, channel = _listening_group()
    for n in range(10):
        assert group_send_nowait(group, {"type": "test.frame", "n": n}) is True
    assert group_send(group, {"type": "test.frame", "n": 10}) is True  # waits for the ten before it too
    for n in range(11, 15):
        group_send_nowait(group, {"type": "test.frame", "n": n})
    assert flush(timeout_s=5) is True

    async def drain() -> list[int]:
        return [(await layer.receive(channel))["n"] for _ in range(15)]

    assert asyncio.run(drain()) == list(range(15))


def test_a_failing_nowait_publish_is_logged_and_the_next_ones_still_go_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.realtime.publish import flush, group_send_nowait

    layer, group, channel = _listening_group()
    real = layer.group_send

    async def flaky(name: str, message: dict) -> None:
        if message.get("n") == 1:
            raise ConnectionError("redis went away")
        await real(name, message)

    monkeypatch.setattr(layer, "group_send", flaky)
    for n in range(3):
        group_send_nowait(group, {"type": "test.frame", "n": n})
    assert flush(timeout_s=5) is True
    with pytest.raises(ConnectionError):
        group_send(group, {"type": "test.frame", "n": 1})  # the waiting call still raises to its caller

    async def drain() -> list[int]:
        return [(await layer.receive(channel))["n"] for _ in range(2)]

    assert asyncio.run(drain()) == [0, 2]

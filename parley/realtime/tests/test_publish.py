"""Synchronous publishing reaches channel-layer groups and reuses one Redis connection pool."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

from parley.core.redis import get_redis
from parley.realtime.publish import group_send


def _connections_received() -> int:
    return int(get_redis().info("stats")["total_connections_received"])


def test_sync_publishes_arrive_in_order_without_a_connection_each() -> None:
    layer = get_channel_layer()
    assert layer is not None
    group = f"test-publish-{uuid.uuid4().hex}"
    channel = asyncio.run(layer.new_channel())

    async def join() -> None:
        await layer.group_add(group, channel)

    asyncio.run(join())
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

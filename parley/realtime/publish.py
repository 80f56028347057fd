"""Publishing to channel-layer groups from synchronous code (actions, Celery tasks) without a new
connection per message.

``async_to_sync(layer.group_send)`` called from a thread with no event loop runs the coroutine in a
brand-new loop, and channels_redis keeps its connection pools per loop: every publish opened (and
dropped) a Redis connection — about 10 ms each, several per delivered message. Here one long-lived
loop per process runs on a daemon thread and every synchronous publish is handed to it, so the
layer's pool is reused. Async code (consumers) keeps awaiting ``layer.group_send`` directly.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

PUBLISH_TIMEOUT_S = 5.0

_guard = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """The process's publishing loop, started on first use (and again in a forked child)."""
    global _loop, _loop_pid
    with _guard:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="parley-realtime-publisher", daemon=True)
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def group_send(group: str, message: dict[str, Any], *, timeout_s: float = PUBLISH_TIMEOUT_S) -> bool:
    """Send ``message`` to a channel-layer ``group`` from synchronous code; blocks until Redis took it.

    Returns False when no channel layer is configured. Raises what the layer raises (e.g. Redis down)
    or ``TimeoutError``; callers decide whether that is worth a retry.

    Must not be called from a thread that runs an event loop (``await layer.group_send`` there).
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("group_send() is for synchronous code; await the channel layer's group_send instead")
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _publisher_loop())
    try:
        future.result(timeout=timeout_s)
    except TimeoutError:
        future.cancel()
        raise
    return True

"""Publishing to channel-layer groups from synchronous code (actions, Celery tasks) without a new
connection per message and without making the caller wait for Redis.

``async_to_sync(layer.group_send)`` called from a thread with no event loop runs the coroutine in a
brand-new loop, and channels_redis keeps its connection pools per loop: every publish opened (and
dropped) a Redis connection — about 10 ms each, several per delivered message. Here one long-lived
loop per process runs on a daemon thread and every synchronous publish is handed to it, so the
layer's pool is reused. Async code (consumers) keeps awaiting ``layer.group_send`` directly.

The loop sends one message at a time, in the order they were handed over, whichever call was used:
:func:`group_send_nowait` (events after a commit: the caller goes on at once; a failure is logged)
and :func:`group_send` (a delivery that must know Redis took the message: the caller waits). A turn
of the assistant publishes about a dozen events; waiting for each cost ~0.5 ms of its reply time.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from typing import Any

import structlog
from channels.layers import get_channel_layer

log = structlog.get_logger(__name__)

PUBLISH_TIMEOUT_S = 5.0
# Events waiting for Redis beyond this many (Redis down or far too slow) are refused with a warning
# rather than growing the process's memory without bound.
MAX_PENDING = 10_000
FLUSH_AT_EXIT_S = 2.0


class _Publisher:
    """One process's publishing loop: a daemon thread, a FIFO queue and one sender coroutine."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[tuple[Any, str, dict[str, Any], concurrent.futures.Future[bool] | None]] | None = None
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.queue = asyncio.Queue()
            self.loop.create_task(self._sender())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="parley-realtime-publisher", daemon=True)
        self.thread.start()
        ready.wait()

    async def _sender(self) -> None:
        assert self.queue is not None
        while True:
            layer, group, message, future = await self.queue.get()
            try:
                if layer is None:  # a flush marker: everything before it has been sent
                    pass
                else:
                    await layer.group_send(group, message)
            except Exception as exc:  # noqa: BLE001 - one failed publish must not stop the next ones
                if future is not None:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    log.warning("realtime_publish_failed", group=group, error=f"{type(exc).__name__}: {exc}")
            else:
                if future is not None and not future.done():
                    future.set_result(True)
            finally:
                self.queue.task_done()

    def pending(self) -> int:
        return self.queue.qsize() if self.queue is not None else 0

    def put(self, layer: Any, group: str, message: dict[str, Any], future: concurrent.futures.Future[bool] | None) -> None:
        assert self.queue is not None
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (layer, group, message, future))


_guard = threading.Lock()
_publisher: _Publisher | None = None


def _get_publisher() -> _Publisher:
    """The process's publisher, started on first use (and again in a forked child)."""
    global _publisher
    with _guard:
        if _publisher is None or _publisher.pid != os.getpid() or _publisher.loop.is_closed():
            first = _publisher is None
            _publisher = _Publisher()
            if first:
                atexit.register(flush, FLUSH_AT_EXIT_S)
        return _publisher


def _refuse_inside_a_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name}() is for synchronous code; await the channel layer's group_send instead")


def group_send(group: str, message: dict[str, Any], *, timeout_s: float = PUBLISH_TIMEOUT_S) -> bool:
    """Send ``message`` to a channel-layer ``group`` from synchronous code; blocks until Redis took it.

    Returns False when no channel layer is configured. Raises what the layer raises (e.g. Redis down)
    or ``TimeoutError``; callers decide whether that is worth a retry.

    Must not be called from a thread that runs an event loop (``await layer.group_send`` there).
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    _refuse_inside_a_loop("group_send")
    future: concurrent.futures.Future[bool] = concurrent.futures.Future()
    _get_publisher().put(layer, group, message, future)
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()
        raise TimeoutError(f"publishing to {group} took over {timeout_s} s") from exc


def group_send_nowait(group: str, message: dict[str, Any]) -> bool:
    """Hand ``message`` for ``group`` to the publishing loop and return at once.

    Messages go out in the order they were handed over (also relative to :func:`group_send`); a
    failure is logged, not raised. Returns False when no channel layer is configured or when
    :data:`MAX_PENDING` messages are already waiting (Redis down): that one is refused with a warning.
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    _refuse_inside_a_loop("group_send_nowait")
    publisher = _get_publisher()
    if publisher.pending() >= MAX_PENDING:
        log.warning("realtime_publish_refused", group=group, pending=publisher.pending())
        return False
    publisher.put(layer, group, message, None)
    return True


def flush(timeout_s: float = PUBLISH_TIMEOUT_S) -> bool:
    """Wait until every message handed over so far has been sent (or failed); False on timeout."""
    publisher = _publisher
    if publisher is None or publisher.pid != os.getpid() or publisher.loop.is_closed():
        return True
    future: concurrent.futures.Future[bool] = concurrent.futures.Future()
    publisher.put(None, "", {}, future)
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        return False

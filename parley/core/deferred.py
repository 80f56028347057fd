"""Bookkeeping writes that may wait until the customer has their answer.

An assistant turn records what it did as it goes (the knowledge query, each LLM attempt). None of it
is needed to answer, yet each write is a database round trip on the way to the reply. Inside
:func:`after_reply`, :func:`defer` keeps such writes in order and runs them when the block calls
``flush()`` (right after the reply is stored) or ends, whichever comes first; outside it, ``defer``
runs the write at once, so callers behave the same everywhere else.

A write that fails is logged and does not stop the others. The writes run in the same thread and
database connection as the block; they are lost only if the process dies between the reply and the
flush (a few milliseconds).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class PendingWrites:
    """The writes deferred inside one :func:`after_reply` block, run in order by :meth:`flush`."""

    def __init__(self) -> None:
        self._writes: list[tuple[str, Callable[[], Any]]] = []

    def add(self, name: str, write: Callable[[], Any]) -> None:
        self._writes.append((name, write))

    def __len__(self) -> int:
        return len(self._writes)

    def flush(self) -> None:
        writes, self._writes = self._writes, []
        for name, write in writes:
            try:
                write()
            except Exception:
                log.exception("deferred_write_failed", write=name)


_pending: contextvars.ContextVar[PendingWrites | None] = contextvars.ContextVar("parley_deferred_writes", default=None)


@contextmanager
def after_reply() -> Iterator[PendingWrites]:
    """Collect :func:`defer`-red writes; they run on ``flush()`` or when the block ends (also on error)."""
    pending = PendingWrites()
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)
        pending.flush()


def defer(name: str, write: Callable[[], Any]) -> None:
    """Run ``write`` after the reply when inside :func:`after_reply`, else now (errors then propagate)."""
    pending = _pending.get()
    if pending is None:
        write()
    else:
        pending.add(name, write)

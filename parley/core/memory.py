"""Keep Python's cyclic garbage collector away from the objects a long-running process keeps for good.

A worker that has loaded the embedder, PyTorch, transformers and Django holds millions of objects that
live as long as the process. Python's full (generation 2) collection walks every one of them: 150-250 ms
on a 2-core box, during which no thread of the live worker runs, so whichever customers' turns are in
flight wait that long. :func:`settle` collects once, then moves everything alive into the permanent
generation (``gc.freeze``): later collections walk only what was created since. Objects that are
frozen are still freed by reference counting when dropped; only reference cycles among them are never
collected, which is why it is called once the models a process keeps are loaded, not per request.
"""

from __future__ import annotations

import gc
import time

import structlog

log = structlog.get_logger(__name__)


def settle(reason: str) -> float:
    """Collect garbage now, then freeze every surviving object out of later collections' reach.

    Returns the milliseconds it took (the collection; the freeze itself is constant time). Logged with
    ``reason`` and how many objects are frozen in all.
    """
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    took = (time.perf_counter() - started) * 1000.0
    log.info("gc_settled", reason=reason, frozen_objects=gc.get_freeze_count(), ms=round(took, 1))
    return took

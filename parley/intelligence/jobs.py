"""What the worker side of dataset imports and training jobs shares: cooperative cancellation.

A person cancels a queued or running job through the API (:func:`parley.intelligence.actions.cancel_dataset_import`,
:func:`~parley.intelligence.actions.cancel_training_job`); the worker calls a *checkpoint* between its progress
steps, which raises :class:`JobCancelled` once the job's row says ``cancelled``. The action running the job
then removes what the job had written so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Called between progress steps; raises :class:`JobCancelled` when the job has been cancelled.
Checkpoint = Callable[[], None]


class JobCancelled(Exception):
    """The job was cancelled; the worker stops at this checkpoint."""


def throttled(check: Checkpoint, every: float = 0.5) -> Checkpoint:
    """``check`` run at most once per ``every`` seconds (a checkpoint called per embedding batch stays cheap)."""
    last = [0.0]

    def checkpoint() -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            check()

    return checkpoint

"""Bookkeeping writes deferred until after the reply still happen, in order, and survive a failing one."""

from __future__ import annotations

import pytest

from parley.core.deferred import after_reply, defer


def test_outside_a_block_the_write_runs_at_once() -> None:
    done: list[str] = []
    defer("now", lambda: done.append("now"))
    assert done == ["now"]


def test_inside_a_block_writes_wait_for_flush_and_keep_their_order() -> None:
    done: list[str] = []
    with after_reply() as pending:
        defer("a", lambda: done.append("a"))
        defer("b", lambda: done.append("b"))
        assert done == [] and len(pending) == 2
        pending.flush()  # the reply is stored
        assert done == ["a", "b"]
        defer("c", lambda: done.append("c"))
    assert done == ["a", "b", "c"]  # the rest when the block ends


def test_a_failing_write_is_logged_and_the_others_still_run_also_when_the_block_raises() -> None:
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(ValueError), after_reply():
        defer("broken", broken)
        defer("after", lambda: done.append("after"))
        raise ValueError("the turn failed")
    assert done == ["after"]

"""Event ids: unique, 32 hex digits, ordered in time within a process, and drawn again in a
forked child (two processes never share the random part)."""

from __future__ import annotations

import multiprocessing
import os
import sys

import pytest

from jxc_core.services.jxc import _event_id


def test_ids_are_hex_unique_and_increasing() -> None:
    ids = [_event_id() for _ in range(20_000)]
    assert all(len(x) == 32 and int(x, 16) >= 0 for x in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def _child_id(queue: multiprocessing.Queue[str]) -> None:
    queue.put(_event_id())


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_draws_its_own_random_part() -> None:
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = ctx.Queue()
    mine = _event_id()
    child = ctx.Process(target=_child_id, args=(queue,))
    child.start()
    theirs = queue.get(timeout=30)
    child.join(30)
    assert theirs != mine
    assert theirs[12:22] != mine[12:22]  # the per-process part differs after fork

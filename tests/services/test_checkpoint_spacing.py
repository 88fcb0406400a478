"""Checkpoints of a scope with many rows are spaced by its row count (amortised cost).

A checkpoint stores the scope's whole valuation state; a FIFO scope that only receives has
one layer per receipt, so checkpoints every ``checkpoint_every`` movements would write rows
quadratic in the number of receipts. They come every ``checkpoint_every`` × 2**k movements,
the least span not below the state's row count, so the rows written stay within about two per
movement, and back-dated postings still replay to the same figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.adapters import memory
from jxc_core.adapters.memory import MemoryStorage
from jxc_core.services.jxc import Jxc
from jxc_core.stock.model import Item, Warehouse


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1, 9) + dt.timedelta(hours=n)


def _shop(method: str, every: int) -> Jxc:
    j = Jxc(MemoryStorage(), checkpoint_every=every)
    j.define_item(Item("A", "a", costing_method=method))
    j.define_warehouse(Warehouse("W", "w"))
    return j


class _Count:
    def __init__(self) -> None:
        self.rows: list[int] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        put = memory._Checkpoints.put
        rows = self.rows

        def counting(repo: Any, scope: Any, posted_at: Any, entry_no: Any,
                     state: dict[str, Any]) -> None:
            rows.append(len(state.get("rows", ())))
            put(repo, scope, posted_at, entry_no, state)

        monkeypatch.setattr(memory._Checkpoints, "put", counting)


@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
def test_receipts_only_checkpoint_at_doubling_spans(method: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    count = _Count()
    count.install(monkeypatch)
    j = _shop(method, 4)
    for n in range(64):
        j.receive("A", "W", D(1), D(10 + n % 7), doc_id=f"r{n}", posted_at=day(n))
    # after 4, 8, 16, 32 and 64 receipts (every 4 movements would be 16 checkpoints)
    assert count.rows == [4, 8, 16, 32, 64]
    assert sum(count.rows) <= 2 * 64


def test_small_state_keeps_the_configured_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    count = _Count()
    count.install(monkeypatch)
    j = _shop("fifo", 4)
    for n in range(16):  # receipt then issue: never more than one layer
        j.receive("A", "W", D(2), D(10), doc_id=f"r{n}", posted_at=day(2 * n))
        j.issue("A", "W", D(2), doc_id=f"i{n}", posted_at=day(2 * n + 1))
    assert len(count.rows) == 32 // 4


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["fifo", "lifo", "moving_average"]),
       st.lists(st.tuples(st.integers(1, 5), st.integers(1, 30)), min_size=5, max_size=40),
       st.integers(0, 39), st.integers(1, 4))
def test_backdated_receipt_after_spaced_checkpoints_matches_posting_in_order(
        method: str, receipts: list[tuple[int, int]], at: int, every: int) -> None:
    """Many receipts (spaced checkpoints), issues of half the stock, then one receipt dated
    among them: the same figures as posting everything in date order on a fresh store."""
    at = at % len(receipts)
    late = (3, 17)

    def run(backdated: bool) -> tuple[D, D, dict[str, D]]:
        j = _shop(method, every)
        moves: list[tuple[int, str, int, int]] = [
            (10 * n, "in", q, c) for n, (q, c) in enumerate(receipts)]
        total = sum(q for q, _ in receipts)
        moves.append((10 * len(receipts), "out", total // 2 + 1, 0))
        extra = (10 * at + 5, "in", *late)
        if not backdated:
            moves.append(extra)
            moves.sort()
        for t, way, q, c in moves:
            if way == "in":
                j.receive("A", "W", D(q), D(c), doc_id=f"d{t}", posted_at=day(t))
            else:
                j.issue("A", "W", D(q), doc_id=f"d{t}", posted_at=day(t))
        if backdated:
            t, _, q, c = extra
            j.receive("A", "W", D(q), D(c), doc_id=f"d{t}", posted_at=day(t))
        b = j.balance("A", "W")
        by_doc: dict[str, D] = {}  # value per document, its corrections included
        for x in j.ledger("A", "W"):
            by_doc[x.entry.doc_id] = by_doc.get(x.entry.doc_id, D(0)) + x.entry.value
        return b.on_hand, b.value, by_doc

    in_order = run(False)
    late_posted = run(True)
    assert late_posted == in_order

"""A back-dated posting after a scope's negative-stock policy was tightened (allowed, then
forbidden), on both adapters.

The replay of a back-dated posting re-values the later movements of the scope under the policy
of now. A posting that only adds stock to a scope (a late receipt, 补录入库; the arriving side
of a transfer) can only raise every later level, so the later issues that went short while
negative stock was allowed stay shortages, now partly filled: the posting is accepted. One
that takes stock from the scope is still judged under the policy of now: a back-dated issue
into history that went negative is refused and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, StockLine
from jxc_core.stock import Item, Warehouse

from .support import group_costs

D = Decimal
T = dt.datetime(2026, 3, 1, 9, 0)
DAY = dt.timedelta(days=1)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    s: Storage = (MemoryStorage() if request.param == "memory"
                  else SqliteStorage(str(tmp_path / "t.db")))
    yield s
    s.close()


def shop(storage: Storage, method: str, item_allows: bool = True) -> Jxc:
    """2 received at 10.00, then 10 issued (8 short) while the item allowed negative stock."""
    j = Jxc(storage, clock=_Clock())
    j.define_item(Item("A", "a", costing_method=method, allow_negative=item_allows))
    j.define_warehouse(Warehouse("W", "main", allow_negative=None if item_allows else True))
    j.define_warehouse(Warehouse("V", "second"))
    j.post("receipt", "R1", [StockLine("A", "W", D(2), unit_cost=D(10))], posted_at=T)
    j.post("issue", "I1", [StockLine("A", "W", D(10), "out")], posted_at=T + 2 * DAY)
    return j


class _Clock:
    def now(self) -> dt.datetime:
        return T + 10 * DAY


def ledger_totals(j: Jxc) -> tuple[Decimal, Decimal]:
    rows = j.ledger("A", "W")
    return (sum((r.entry.quantity for r in rows), D(0)),
            sum((r.entry.value for r in rows), D(0)))


def test_a_late_receipt_fills_the_shortage_after_the_item_forbids_negative_stock(
        storage: Storage) -> None:
    j = shop(storage, "fifo")
    assert (j.balance("A", "W").on_hand, j.balance("A", "W").value) == (D(-8), D("-80.00"))
    j.define_item(Item("A", "a", costing_method="fifo", allow_negative=False))
    posting = j.post("receipt", "R2", [StockLine("A", "W", D(5), unit_cost=D(12))],
                     posted_at=T + DAY)
    # replayed: I1 takes 2 @ 10 + 5 @ 12 + 3 short at the last cost, 12: 116.00 (was 100.00)
    assert [(e.kind, e.doc_id, e.value) for e in posting.entries[1:]] == [
        ("cost_backdating", "I1", D("-16.00"))]
    b = j.balance("A", "W")
    assert (b.on_hand, b.value) == (D(-3), D("-36.00"))
    assert ledger_totals(j) == (b.on_hand, b.value)
    # the policy of now holds again: an issue beyond stock is refused
    with pytest.raises(JxcError) as e:
        j.issue("A", "W", D(1))
    assert e.value.code == "insufficient_stock"
    # the open shortage still settles: 3 at 15.00 against the estimate of 12.00
    j.receive("A", "W", D(3), D(15))
    b = j.balance("A", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    assert ledger_totals(j) == (D(0), D("0.00"))


@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average", "standard"])
def test_every_method_takes_the_late_receipt_and_ends_at_zero(storage: Storage,
                                                                  method: str) -> None:
    j = Jxc(storage, clock=_Clock())
    item = Item("A", "a", costing_method=method, allow_negative=True,
                **({"standard_cost": D(10)} if method == "standard" else {}))
    j.define_item(item)
    j.define_warehouse(Warehouse("W", "main"))
    j.post("receipt", "R1", [StockLine("A", "W", D(2), unit_cost=D(10))], posted_at=T)
    j.post("issue", "I1", [StockLine("A", "W", D(10), "out")], posted_at=T + 2 * DAY)
    j.define_item(Item("A", "a", costing_method=method, allow_negative=False,
                       **({"standard_cost": D(10)} if method == "standard" else {})))
    j.post("receipt", "R2", [StockLine("A", "W", D(5), unit_cost=D(12))], posted_at=T + DAY)
    b = j.balance("A", "W")
    assert b.on_hand == D(-3)
    assert ledger_totals(j) == (b.on_hand, b.value)
    j.receive("A", "W", D(3), D(11))
    b = j.balance("A", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    assert ledger_totals(j) == (D(0), D("0.00"))


def test_the_warehouse_that_now_forbids_takes_a_late_transfer_in(storage: Storage) -> None:
    j = shop(storage, "moving_average", item_allows=False)  # W allowed it, the item forbids
    j.receive("A", "V", D(6), D(20))  # now, in the other warehouse
    j.define_warehouse(Warehouse("W", "main", allow_negative=False))
    # V had nothing then: move the units of a receipt dated before the shortage
    j.post("receipt", "RV", [StockLine("A", "V", D(4), unit_cost=D(20))], posted_at=T)
    j.transfer("A", "V", "W", D(4), posted_at=T + DAY)
    b = j.balance("A", "W")
    assert b.on_hand == D(-4)
    assert ledger_totals(j) == (b.on_hand, b.value)
    assert j.balance("A", "V").on_hand == D(6)


def test_a_late_issue_into_the_history_that_went_negative_is_still_refused(
        storage: Storage) -> None:
    j = shop(storage, "fifo")
    j.define_item(Item("A", "a", costing_method="fifo", allow_negative=False))
    j.receive("A", "W", D(20), D(10))  # plenty now: the stock check of now passes
    before = (j.balances(), j.ledger("A", "W"))
    with pytest.raises(JxcError) as e:
        j.post("issue", "I0", [StockLine("A", "W", D(1), "out")], posted_at=T + DAY)
    assert e.value.code == "insufficient_stock"
    assert (j.balances(), j.ledger("A", "W")) == before


moves = st.lists(
    st.tuples(st.booleans(), st.integers(1, 30), st.integers(100, 5000), st.integers(0, 20)),
    min_size=1, max_size=20,
)
late_receipts = st.lists(st.tuples(st.integers(1, 30), st.integers(100, 5000),
                                   st.integers(0, 25)), min_size=1, max_size=8)


def _run(method: str, before: list[tuple[bool, int, int, int]],
         after: list[tuple[int, int, int]], tighten: bool, checkpoint_every: int) -> Jxc:
    j = Jxc(MemoryStorage(), clock=_Clock(), checkpoint_every=checkpoint_every)
    j.define_item(Item("A", "a", costing_method=method, allow_negative=True))
    j.define_warehouse(Warehouse("W", "main"))
    for n, (is_in, q, cents, d) in enumerate(before):
        when = T + d * DAY
        if is_in:
            j.receive("A", "W", D(q), D(cents).scaleb(-2), doc_id=f"r{n}", posted_at=when)
        else:
            j.issue("A", "W", D(q), doc_id=f"i{n}", posted_at=when)
    if tighten:
        j.define_item(Item("A", "a", costing_method=method, allow_negative=False))
    for n, (q, cents, d) in enumerate(after):
        j.receive("A", "W", D(q), D(cents).scaleb(-2), doc_id=f"late{n}",
                  posted_at=T + d * DAY)
    return j


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "60")), deadline=None)
@given(before=moves, after=late_receipts,
       method=st.sampled_from(["fifo", "lifo", "moving_average"]),
       checkpoint_every=st.sampled_from([2, 256]))
def test_late_receipts_after_tightening_cost_what_they_would_have_cost_allowed(
        before: list[tuple[bool, int, int, int]], after: list[tuple[int, int, int]],
        method: str, checkpoint_every: int) -> None:
    """Receipts posted in any order after negative stock was forbidden (back-dated or not) give
    the figures of the same postings with negative stock allowed throughout: the same stock,
    value and cost of every issue, the ledger summing to the balance."""
    tightened = _run(method, before, after, True, checkpoint_every)
    allowed = _run(method, before, after, False, checkpoint_every)
    a, b = tightened.balance("A", "W"), allowed.balance("A", "W")
    assert (a.on_hand, a.value) == (b.on_hand, b.value)
    assert ledger_totals(tightened) == (a.on_hand, a.value)
    assert group_costs(tightened) == group_costs(allowed)


@pytest.mark.parametrize("method", ["fifo", "moving_average"])
def test_costed_by_organisation_a_late_transfer_takes_nothing_from_the_item(
        storage: Storage, method: str) -> None:
    """Costed by organisation a transfer moves nothing of the item's one scope: after the
    item forbids negative stock, a back-dated transfer into the history where the
    organisation went short is accepted when its source warehouse had the units then (it was
    refused naming the old issue); one its source warehouse could not give is still
    refused."""
    j = Jxc(storage, clock=_Clock(), organisation_scope=True)
    j.define_item(Item("A", "a", costing_method=method, allow_negative=True))
    for code in ("W1", "W2"):
        j.define_warehouse(Warehouse(code, code))
    j.receive("A", "W1", D(5), D(10), doc_id="R1", posted_at=T)
    j.receive("A", "W2", D(2), D(10), doc_id="R2", posted_at=T)
    j.issue("A", "W2", D(10), doc_id="I1", posted_at=T + 2 * DAY)  # the organisation: -3
    j.define_item(Item("A", "a", costing_method=method, allow_negative=False))
    j.transfer("A", "W1", "W2", D(1), doc_id="T1", posted_at=T + DAY)
    assert (j.balance("A", "W1").on_hand, j.balance("A", "W2").on_hand) == (D(4), D(-7))
    assert j.balance("A").on_hand == D(-3)
    with pytest.raises(JxcError) as e:
        j.transfer("A", "W1", "W2", D(5), doc_id="T2", posted_at=T + DAY)
    assert e.value.code == "insufficient_stock"

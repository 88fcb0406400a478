"""A stock count's variance is counted - the book quantity when the figure was entered
(docs/counts-and-replenishment.md), on both adapters: what moves during the count (reserved
units delivered, units a lapsed reservation freed issued, a receipt) is not taken for a gain or
a loss.

Scenario (TEA in SH, 10 @ 10.00; a sales order reserves 3; the count of the whole warehouse
starts, freezing the 7 available):

| when the figure is entered | counted | moved after it       | variance | on hand after |
|----------------------------|---------|----------------------|----------|---------------|
| before the delivery        | 10      | delivery of 3        | 0        | 7             |
| before the delivery        | 9       | delivery of 3        | -1       | 6             |
| after the delivery         | 7       | —                    | 0        | 7             |
| before a receipt of 5      | 10      | receipt 5, delivery 3 | 0       | 12            |
| at create (counted given)  | 10      | delivery of 3        | 0        | 7             |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

from .support import TickingClock

D = Decimal
BOSS = User("boss", frozenset())


#: the clock of these tests: a minute on at every reading, from 2026-11-02 09:00
START = dt.datetime(2026, 11, 2, 9, 0)


Shop = tuple[Jxc, Documents, str]


@pytest.fixture
def shop(storage: Storage) -> Iterator[Shop]:
    jxc = Jxc(storage, clock=TickingClock(START))
    jxc.define_warehouse(Warehouse("SH", "上海"))
    jxc.define_item(Item("TEA", "茶"))
    jxc.define_party(Party("C", "客户", "both"))
    docs = Documents(jxc)
    jxc.receive("TEA", "SH", D(10), D("10.00"), doc_id="RK-1")
    so = docs.approve_through(docs.create("sales_order", [
        Line(1, "TEA", D(3), D("20.00"), warehouse="SH")], party="C").doc_id, [BOSS])
    yield jxc, docs, so.doc_id


def deliver(docs: Documents, so: str) -> None:
    docs.approve_through(docs.create("delivery", [
        Line(1, "TEA", D(3), D("20.00"), warehouse="SH", source=(so, 1))], party="C").doc_id,
        [BOSS])


@pytest.mark.parametrize(("when", "counted", "receipt", "variance", "after"), [
    ("before", D(10), False, D(0), D(7)),
    ("before", D(9), False, D(-1), D(6)),
    ("after", D(7), False, D(0), D(7)),
    ("before", D(10), True, D(0), D(12)),
    ("create", D(10), False, D(0), D(7)),
])
def test_what_moves_during_a_count_is_no_variance(shop: Shop, when: str, counted: Decimal,
                                                  receipt: bool, variance: Decimal,
                                                  after: Decimal) -> None:
    jxc, docs, so = shop
    line = Line(1, "TEA", D(0), warehouse="SH",
                counted=counted if when == "create" else None)
    count = docs.submit(docs.create("stock_count", [line]).doc_id, BOSS)
    assert jxc.balance("TEA", "SH").held == 7
    if when == "before":
        docs.record_count(count.doc_id, {1: counted})
    if receipt:
        jxc.receive("TEA", "SH", D(5), D("10.00"), doc_id="RK-2")
    deliver(docs, so)  # the reserved units stay deliverable during the count
    if when == "after":
        docs.record_count(count.doc_id, {1: counted})
    docs.approve(count.doc_id, BOSS)
    posted = docs.post(count.doc_id, BOSS)
    assert posted.counter(1, "quantity") == variance
    b = jxc.balance("TEA", "SH")
    assert (b.on_hand, b.held, b.value) == (after, D(0), after * D("10.00"))


@pytest.mark.parametrize(("late", "after"), [(D(5), D(15)), (D(-3), D(7))])
def test_a_late_entry_dated_before_the_figure_belongs_to_its_book(
        shop: Shop, late: Decimal, after: Decimal) -> None:
    """The shelf held what a movement entered late (补录) but dated before the figure had
    brought or taken: 15 counted while the book said 10, then an earlier receipt of 5 is
    entered, dated before the count. The count is no gain (on hand 15, not 20); a delivery of the 3
    reserved issued then but entered late, likewise no loss."""
    jxc, docs, so = shop
    counted = D(10) + late
    count = docs.submit(docs.create("stock_count", [
        Line(1, "TEA", D(0), warehouse="SH", counted=counted)]).doc_id, BOSS)
    before_the_count = dt.datetime(2026, 11, 2, 9, 1, 30)  # after the opening receipt
    if late > 0:
        jxc.receive("TEA", "SH", late, D("10.00"), posted_at=before_the_count,
                    doc_id="RK-LATE")
    else:  # the reserved 3, delivered then, entered now
        jxc.issue("TEA", "SH", D(3), posted_at=before_the_count, demand=f"{so}/1",
                  doc_id="CK-LATE")
    docs.approve(count.doc_id, BOSS)
    posted = docs.post(count.doc_id, BOSS)
    assert posted.counter(1, "quantity") == 0
    assert jxc.balance("TEA", "SH").on_hand == after

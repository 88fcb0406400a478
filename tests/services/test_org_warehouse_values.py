"""Costed by organisation (按存货核算), the value of an item in one warehouse is its share of
the scope's value by quantity — the same in every view at the same moment: ``balance`` now
and ``as_of``, the running value of the warehouse's 明细账 and the rows of the 进销存汇总表. A
warehouse at quantity 0 is worth 0.00 (DOMAIN 1) and the warehouses add up to the item."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Jxc
from jxc_core.stock import Item, Warehouse

from .support import HandClock

D = Decimal
DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 3, 2, 9)


def _shop(storage: Storage, item: Item, whs: tuple[str, ...] = ("W1", "W2")
          ) -> tuple[Jxc, HandClock]:
    clock = HandClock(T0)
    j = Jxc(storage, clock=clock, organisation_scope=True)
    j.define_item(item)
    for wh in whs:
        j.define_warehouse(Warehouse(wh, wh))
    return j, clock


def _views_agree(j: Jxc, item: str, whs: tuple[str, ...], at: dt.datetime | None = None
                 ) -> None:
    """The warehouses add up to the organisation, a warehouse at 0 is 0.00; each ledger
    line adds up and ends at the warehouse's balance at its moment."""
    rows = [j.balance(item, wh, as_of=at) for wh in whs]
    org = j.balance(item, as_of=at)
    assert sum((b.value for b in rows), D(0)) == org.value
    assert sum((b.on_hand for b in rows), D(0)) == org.on_hand
    for b in rows:
        assert b.value.as_tuple().exponent == -2
        if b.on_hand == 0:
            assert b.value == D("0.00")
    for wh in whs:
        running = D(0)
        lines = [x for x in j.ledger(item, wh) if at is None or x.entry.posted_at <= at]
        for x in lines:
            assert running + x.entry.value + x.allocation == x.running_value
            running = x.running_value
        if lines and at is None:
            last = lines[-1].entry.posted_at
            assert lines[-1].running_value == j.balance(item, wh, as_of=last).value


def test_r05_an_empty_warehouse_is_worth_nothing_in_every_view(storage: Storage) -> None:
    """FIFO: 10@10 into W1, 10@20 into W2, 10 delivered from W2 take W1's layer (10.00): W2
    is empty and was shown at 200.00 (now), 100.00 (as_of, ledger, summary)."""
    j, clock = _shop(storage, Item("F", "f"))
    j.receive("F", "W1", D(10), D("10.00"), posted_at=T0)
    j.receive("F", "W2", D(10), D("20.00"), posted_at=T0 + DAY)
    j.issue("F", "W2", D(10), posted_at=T0 + 2 * DAY)
    later = T0 + 3 * DAY
    for at in (None, later):
        w1, w2 = j.balance("F", "W1", as_of=at), j.balance("F", "W2", as_of=at)
        assert (w1.on_hand, w1.value, w2.on_hand, w2.value) == (D(10), D("200.00"), D(0),
                                                                 D("0.00"))
    led = j.ledger("F", "W2")
    assert [(x.running_quantity, x.running_value, x.allocation) for x in led] == [
        (D(10), D("150.00"), D("-50.00")), (D(0), D("0.00"), D("-50.00"))]
    assert [(x.running_value, x.allocation) for x in j.ledger("F", "W1")] == [
        (D("100.00"), D("0.00"))]
    assert j.ledger("F")[-1].running_value == D("200.00")
    _views_agree(j, "F", ("W1", "W2"))
    clock.at = dt.datetime(2026, 4, 1, 9)
    acc = Accounting(j)
    acc.close_period(2026, 3, user="boss")
    rows = {r.warehouse: r for r in acc.inventory_summary(2026, 3) if r.item == "F"}
    assert (rows["W1"].closing_qty, rows["W1"].closing_value) == (D(10), D("200.00"))
    assert (rows["W2"].closing_qty, rows["W2"].closing_value) == (D(0), D("0.00"))
    for r in rows.values():
        assert (r.opening_value + r.in_value - r.out_value + r.cost_adjustments
                + r.allocation == r.closing_value)
    assert rows["W1"].allocation == D("100.00") and rows["W2"].allocation == D("-100.00")
    # after the close, as_of reads the snapshot: the same figures
    assert j.balance("F", "W2", as_of=clock.at).value == D("0.00")
    assert j.balance("F", "W1", as_of=clock.at).value == D("200.00")


def test_the_last_positive_warehouse_takes_the_rounding_rest(storage: Storage) -> None:
    """3 warehouses, a third each: 10.00 for 3 is 3.33 + 3.33 + 3.34; once W3 is empty,
    6.67 for 2 is 3.34 + 3.33 (3.335 rounds up; W2, the last positive, takes the rest)."""
    whs = ("W1", "W2", "W3")
    j, _ = _shop(storage, Item("A", "a", costing_method="moving_average"), whs)
    for wh, cost in zip(whs, ("3.33", "3.33", "3.34"), strict=True):
        j.receive("A", wh, D(1), D(cost), posted_at=T0)
    assert [j.balance("A", wh).value for wh in whs] == [D("3.33"), D("3.33"), D("3.34")]
    j.issue("A", "W3", D(1), posted_at=T0 + DAY)
    assert j.balance("A").value == D("6.67")
    for at in (None, T0 + 2 * DAY):
        assert [j.balance("A", wh, as_of=at).value for wh in whs] == [
            D("3.34"), D("3.33"), D("0.00")]
    assert [j.balance("A", wh, as_of=T0 + DAY / 2).value for wh in whs] == [
        D("3.33"), D("3.33"), D("3.34")]
    _views_agree(j, "A", whs)


def test_a_warehouse_below_zero_carries_its_shortage_at_the_unit_cost(storage: Storage
                                                                      ) -> None:
    """W1 10 on hand, W2 −4 (allowed): the organisation holds 6 worth 60.00; W1 is worth
    100.00 and W2 −40.00 (4 short at 10.00)."""
    j, _ = _shop(storage, Item("N", "n", costing_method="moving_average",
                               allow_negative=True))
    j.receive("N", "W1", D(10), D("10.00"), posted_at=T0)
    j.issue("N", "W2", D(4), posted_at=T0 + DAY)
    for at in (None, T0 + 2 * DAY):
        assert [j.balance("N", wh, as_of=at).value for wh in ("W1", "W2")] == [
            D("100.00"), D("-40.00")]
    assert j.balance("N").value == D("60.00")
    _views_agree(j, "N", ("W1", "W2"))


@pytest.mark.parametrize(("method", "org_before", "org_after"), [
    ("fifo", "300.00", "200.00"),
    ("lifo", "300.00", "100.00"),
    ("moving_average", "300.00", "150.00"),
    ("standard", "300.00", "150.00"),
])
def test_every_method_before_and_after_a_delivery(storage: Storage, method: str,
                                                  org_before: str, org_after: str) -> None:
    """10@10 into W1, 10@20 into W2, 10 delivered from W2: before the delivery each
    warehouse is half of the organisation, after it W1 is all of it and W2 0.00."""
    item = Item("X", "x", costing_method=method,
                standard_cost=D("15.00") if method == "standard" else None)
    j, _ = _shop(storage, item)
    j.receive("X", "W1", D(10), D("10.00"), posted_at=T0)
    j.receive("X", "W2", D(10), D("20.00"), posted_at=T0 + DAY)
    j.issue("X", "W2", D(10), posted_at=T0 + 2 * DAY)
    before, after = T0 + DAY, T0 + 3 * DAY
    assert j.balance("X", as_of=before).value == D(org_before)
    half = D(org_before) / 2
    assert [j.balance("X", wh, as_of=before).value for wh in ("W1", "W2")] == [half, half]
    for at in (None, after):
        assert j.balance("X", as_of=at).value == D(org_after)
        assert [j.balance("X", wh, as_of=at).value for wh in ("W1", "W2")] == [
            D(org_after), D("0.00")]
    _views_agree(j, "X", ("W1", "W2"))
    _views_agree(j, "X", ("W1", "W2"), before)


def test_monthly_average_after_the_close(storage: Storage) -> None:
    """Monthly average: the month's issue is costed at its close (15.00 a unit); W2 empty."""
    j, clock = _shop(storage, Item("M", "m", costing_method="monthly_average"))
    j.receive("M", "W1", D(10), D("10.00"), posted_at=T0)
    j.receive("M", "W2", D(10), D("20.00"), posted_at=T0 + DAY)
    before = T0 + DAY
    assert [j.balance("M", wh, as_of=before).value for wh in ("W1", "W2")] == [
        D("150.00"), D("150.00")]
    j.issue("M", "W2", D(10), posted_at=T0 + 2 * DAY)
    clock.at = dt.datetime(2026, 4, 1, 9)
    acc = Accounting(j)
    acc.close_period(2026, 3, user="boss")
    assert j.balance("M").value == D("150.00")
    for at in (None, clock.at):
        assert [j.balance("M", wh, as_of=at).value for wh in ("W1", "W2")] == [
            D("150.00"), D("0.00")]
    _views_agree(j, "M", ("W1", "W2"))
    rows = {r.warehouse: r for r in acc.inventory_summary(2026, 3)}
    assert (rows["W2"].closing_qty, rows["W2"].closing_value) == (D(0), D("0.00"))
    assert rows["W1"].closing_value == D("150.00")
    assert sum((r.closing_value for r in rows.values()), D(0)) == D("150.00")
    for r in rows.values():
        assert (r.opening_value + r.in_value - r.out_value + r.cost_adjustments
                + r.allocation == r.closing_value)


def test_specific_lot_goes_lot_by_lot(storage: Storage) -> None:
    """Specific identification: lot A (10@10) in W1, lot B (10@20) in W2, 5 of B moved to
    W1 then 5 of B delivered from W2: W2 is empty, W1 holds A (100.00) and 5 of B
    (100.00) — each lot its own layer, shared by quantity among the warehouses holding it."""
    j, _ = _shop(storage, Item("L", "l", costing_method="specific_lot", lot_tracked=True))
    j.receive("L", "W1", D(10), D("10.00"), lot="A", posted_at=T0)
    j.receive("L", "W2", D(10), D("20.00"), lot="B", posted_at=T0 + DAY)
    j.transfer("L", "W2", "W1", D(5), lot="B", posted_at=T0 + DAY)
    assert [j.balance("L", wh).value for wh in ("W1", "W2")] == [D("200.00"), D("100.00")]
    assert j.balance("L", "W2", lot="B").value == D("100.00")
    j.issue("L", "W2", D(5), lot="B", posted_at=T0 + 2 * DAY)
    for at in (None, T0 + 3 * DAY):
        assert [j.balance("L", wh, as_of=at).value for wh in ("W1", "W2")] == [
            D("200.00"), D("0.00")]
    assert [j.balance("L", wh, as_of=T0 + DAY).value for wh in ("W1", "W2")] == [
        D("200.00"), D("100.00")]
    _views_agree(j, "L", ("W1", "W2"))


_WHS = ("W1", "W2", "W3")
_STEP = st.tuples(st.sampled_from(("in", "out", "move")), st.sampled_from(_WHS),
                  st.sampled_from(_WHS), st.integers(1, 7), st.sampled_from(
                      ("1.00", "3.33", "7.10", "0.07")))


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(("fifo", "lifo", "moving_average", "standard")),
       steps=st.lists(_STEP, min_size=1, max_size=14))
def test_shares_add_up_now_and_as_of(method: str,
                                     steps: list[tuple[str, str, str, int, str]]) -> None:
    """Random flows: the warehouses add up to the organisation and a warehouse at 0 is
    0.00, now and as of every step."""
    item = Item("P", "p", costing_method=method,
                standard_cost=D("2.50") if method == "standard" else None)
    j, _ = _shop(MemoryStorage(), item, _WHS)
    at = T0
    moments = []
    for kind, wh, to, qty, cost in steps:
        at += dt.timedelta(hours=1)
        on_hand = j.balance("P", wh).on_hand
        if kind == "in":
            j.receive("P", wh, D(qty), D(cost), posted_at=at)
        elif kind == "out" and on_hand:
            j.issue("P", wh, min(D(qty), on_hand), posted_at=at)
        elif kind == "move" and on_hand and to != wh:
            j.transfer("P", wh, to, min(D(qty), on_hand), posted_at=at)
        moments.append(at)
    _views_agree(j, "P", _WHS)
    for moment in moments:
        _views_agree(j, "P", _WHS, moment)

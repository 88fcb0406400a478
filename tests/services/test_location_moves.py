"""Location moves (库位移动, ``Jxc.move``): stock moves between two locations of one warehouse
inside its costing scope. On hand per row changes; the scope's quantity, value and valuation
state (FIFO/LIFO layer order, averages, the month's figures, each lot's cost) do not; nothing is
booked. On both adapters (the ``storage`` fixture)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Event, Storage
from jxc_core.services import Accounting, Jxc, ReserveLine, StockLine
from jxc_core.stock import Item, Warehouse

from .support import HandClock

D = Decimal
T0 = dt.datetime(2026, 3, 2, 9, 0)


def shop(storage: Storage, method: str = "fifo", *, org: bool = False,
         **item: Any) -> tuple[Jxc, HandClock]:
    """Item X costed by ``method``; warehouse W with locations A and B (its pick path), W2."""
    clock = HandClock(T0)
    j = Jxc(storage, clock=clock, organisation_scope=org)
    j.define_item(Item("X", "item", costing_method=method, **item))
    j.define_warehouse(Warehouse("W", "main", locations=("A", "B")))
    j.define_warehouse(Warehouse("W2", "second", locations=("A", "B")))
    return j, clock


def rows(j: Jxc, item: str = "X", wh: str = "W") -> dict[tuple[str, str], Decimal]:
    return {(b.location, b.lot): b.on_hand for b in j.balances()
            if (b.item, b.warehouse) == (item, wh) and b.on_hand}


def state(storage: Storage, scope: tuple[str, str]) -> tuple[Any, Any]:
    """The stored valuation state of a scope and its version."""
    with storage.unit_of_work() as uow:
        return uow.valuations.get(scope), uow.valuations.version(scope)


def snapshot(j: Jxc, storage: Storage) -> Any:
    """What a refused command must leave as it was."""
    return (j.balances(), j.reservations(), [x.entry for x in j.ledger("X")],
            state(storage, ("X", "W")), state(storage, ("X", "*")))


def refused(j: Jxc, storage: Storage, code: str, command: Callable[[], object]) -> JxcError:
    before = snapshot(j, storage)
    with pytest.raises(JxcError) as info:
        command()
    assert info.value.code == code, info.value
    assert snapshot(j, storage) == before, "a refused move wrote something"
    return info.value


# -- the FIFO order and the value --------------------------------------------------------------
def test_fifo_order_is_unchanged_by_a_move(storage: Storage) -> None:
    j, clock = shop(storage)
    j.receive("X", "W", D(10), D("1.00"), location="A", doc_id="RK-1")
    clock.at += dt.timedelta(hours=1)
    j.receive("X", "W", D(10), D("2.00"), location="B", doc_id="RK-2")
    clock.at += dt.timedelta(hours=1)
    before = state(storage, ("X", "W"))
    # the older units move to B: they stay the oldest layer (an issue and re-receipt would
    # have made them the newest)
    p = j.move("X", "W", D(10), from_location="A", to_location="B", doc_id="YK-1")
    assert [(e.kind, e.location, e.quantity, e.value) for e in p.entries] == [
        ("move_out", "A", D(-10), D("-15.00")), ("move_in", "B", D(10), D("15.00"))]
    assert p.doc_type == "move" and p.value == 0 and p.adjustments == ()
    assert state(storage, ("X", "W")) == before  # not even written again
    assert rows(j) == {("B", ""): D(20)}
    b = j.balance("X", "W")
    assert (b.on_hand, b.value) == (D(20), D("30.00"))
    clock.at += dt.timedelta(hours=1)
    out = j.issue("X", "W", D(12), location="B", doc_id="CK-1")
    assert out.value == D("-14.00")  # 10 x 1.00 (the first layer) + 2 x 2.00
    assert j.balance("X", "W").value == D("16.00")


def test_lifo_takes_the_newest_layer_after_a_move(storage: Storage) -> None:
    j, clock = shop(storage, "lifo")
    j.receive("X", "W", D(5), D("1.00"), location="A")
    clock.at += dt.timedelta(minutes=1)
    j.receive("X", "W", D(5), D("3.00"), location="A")
    clock.at += dt.timedelta(minutes=1)
    j.move("X", "W", D(5), from_location="A", to_location="B")
    clock.at += dt.timedelta(minutes=1)
    assert j.issue("X", "W", D(5), location="B").value == D("-15.00")


@pytest.mark.parametrize(("method", "extra"), [
    ("moving_average", {}),
    ("standard", {"standard_cost": D("2.50")}),
])
def test_averages_and_standard_are_unchanged(storage: Storage, method: str,
                                             extra: dict[str, Any]) -> None:
    j, _ = shop(storage, method, **extra)
    j.receive("X", "W", D(3), D("1.00"), location="A")
    j.receive("X", "W", D(3), D("1.01"), location="A")
    before, value = state(storage, ("X", "W")), j.balance("X", "W").value
    p = j.move("X", "W", D(2), from_location="A", to_location="B")
    unit = value / 6
    assert p.entries[1].value == (2 * unit).quantize(D("0.01"))
    assert state(storage, ("X", "W")) == before
    assert j.balance("X", "W").value == value
    assert rows(j) == {("A", ""): D(4), ("B", ""): D(2)}
    # everything moved takes exactly the scope's value, no rounding left behind
    j.move("X", "W", D(4), from_location="A", to_location="B")
    assert j.move("X", "W", D(6), from_location="B", to_location="A").entries[1].value == value


def test_monthly_average_moves_at_the_months_cost_so_far(storage: Storage) -> None:
    j, clock = shop(storage, "monthly_average")
    j.receive("X", "W", D(4), D("1.00"), location="A")
    j.receive("X", "W", D(4), D("2.00"), location="A")
    before = state(storage, ("X", "W"))
    p = j.move("X", "W", D(2), from_location="A", to_location="B")
    assert [e.value for e in p.entries] == [D("-3.00"), D("3.00")]
    assert state(storage, ("X", "W")) == before
    j.issue("X", "W", D(6), location="A")
    j.issue("X", "W", D(2), location="B")
    clock.at = dt.datetime(2026, 4, 1, 9, 0)
    Accounting(j).close_period(2026, 3)
    b = j.balance("X", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))


def test_specific_lot_moves_at_the_lots_cost(storage: Storage) -> None:
    j, _ = shop(storage, "specific_lot", lot_tracked=True)
    j.receive("X", "W", D(3), D("1.00"), lot="L1", location="A")
    j.receive("X", "W", D(3), D("5.00"), lot="L2", location="A")
    before = state(storage, ("X", "W"))
    p = j.move("X", "W", D(2), from_location="A", to_location="B", lot="L2")
    assert [(e.lot, e.location, e.value) for e in p.entries] == [
        ("L2", "A", D("-10.00")), ("L2", "B", D("10.00"))]
    assert state(storage, ("X", "W")) == before
    assert j.balance("X", "W", lot="L2").value == D("15.00")  # a lot's value: its ledger
    assert j.issue("X", "W", D(2), lot="L2", location="B").value == D("-10.00")
    assert rows(j) == {("A", "L1"): D(3), ("A", "L2"): D(1)}


def test_organisation_scope(storage: Storage) -> None:
    j, _ = shop(storage, "fifo", org=True)
    j.receive("X", "W", D(10), D("1.00"), location="A")
    j.receive("X", "W2", D(10), D("3.00"), location="A")
    before = state(storage, ("X", "*"))
    p = j.move("X", "W", D(5), from_location="A", to_location="B")
    assert [e.value for e in p.entries] == [D("-10.00"), D("10.00")]  # the scope's average
    assert state(storage, ("X", "*")) == before
    assert j.balance("X").value == D("40.00")


# -- rows, lots, locations ---------------------------------------------------------------------
def test_put_away_and_back(storage: Storage) -> None:
    """``""`` is the row without a location: from it (上架), to it; the row named only."""
    j, _ = shop(storage)
    j.receive("X", "W", D(6), D("1.00"))
    j.receive("X", "W", D(4), D("1.00"), location="B")
    j.move("X", "W", D(5), from_location="", to_location="A")
    assert rows(j) == {("", ""): D(1), ("A", ""): D(5), ("B", ""): D(4)}
    # the row without a location has 1: the move does not take from A or B as an issue would
    refused(j, storage, "insufficient_stock",
            lambda: j.move("X", "W", D(2), from_location="", to_location="B"))
    j.move("X", "W", D(3), from_location="A", to_location="")
    assert rows(j) == {("", ""): D(4), ("A", ""): D(2), ("B", ""): D(4)}


def test_lots_keep_their_lot_and_are_picked_fefo_at_the_location(storage: Storage) -> None:
    j, _ = shop(storage, lot_tracked=True)
    j.receive("X", "W", D(3), D("1.00"), lot="L-LATE", expiry=dt.date(2026, 9, 1),
              location="A")
    j.receive("X", "W", D(3), D("1.00"), lot="L-SOON", expiry=dt.date(2026, 4, 1),
              location="A")
    j.receive("X", "W", D(3), D("1.00"), lot="L-OLD", expiry=dt.date(2026, 3, 1),
              location="A")  # expired on 2 March: not moved unless named
    j.receive("X", "W", D(9), D("1.00"), lot="L-FIRST", expiry=dt.date(2026, 3, 20),
              location="B")  # another location: not taken
    p = j.move("X", "W", D(4), from_location="A", to_location="B")
    assert [(e.kind, e.location, e.lot, e.quantity) for e in p.entries] == [
        ("move_out", "A", "L-SOON", D(-3)), ("move_in", "B", "L-SOON", D(3)),
        ("move_out", "A", "L-LATE", D(-1)), ("move_in", "B", "L-LATE", D(1))]
    refused(j, storage, "insufficient_stock",  # two usable units are left at A
            lambda: j.move("X", "W", D(3), from_location="A", to_location="B"))


def test_an_expired_lot_named_moves_to_quarantine(storage: Storage) -> None:
    """An expired lot leaves its location by name (to a quarantine location, 不合格品区),
    checked on its own: no more than its stock there, and the usable stock is not touched."""
    j, _ = shop(storage, lot_tracked=True)
    j.define_warehouse(Warehouse("W", "main", locations=("A", "Q")))
    j.receive("X", "W", D(3), D("1.00"), lot="L-OLD", expiry=dt.date(2026, 3, 1),
              location="A")  # expired on 2 March
    j.receive("X", "W", D(5), D("2.00"), lot="L-NEW", expiry=dt.date(2026, 9, 1),
              location="A")
    refused(j, storage, "insufficient_stock",  # its own 3, not the 5 units of L-NEW
            lambda: j.move("X", "W", D(4), from_location="A", to_location="Q", lot="L-OLD"))
    p = j.move("X", "W", D(3), from_location="A", to_location="Q", lot="L-OLD")
    assert [(e.location, e.lot, e.quantity, e.value) for e in p.entries] == [
        ("A", "L-OLD", D(-3), D("-4.88")), ("Q", "L-OLD", D(3), D("4.88"))]  # 13.00 / 8 each
    assert rows(j) == {("A", "L-NEW"): D(5), ("Q", "L-OLD"): D(3)}
    refused(j, storage, "lot_expired",  # moved, it still cannot be sold
            lambda: j.issue("X", "W", D(1), lot="L-OLD"))


def test_units_convert_and_serials_stay_in_the_warehouse(storage: Storage) -> None:
    j, _ = shop(storage, units={"箱": D(12)})
    j.define_item(Item("S", "phone", serial_tracked=True))
    j.receive("X", "W", D(2), D("12.00"), unit="箱", location="A")
    j.move("X", "W", D(1), unit="箱", from_location="A", to_location="B")
    assert rows(j) == {("A", ""): D(12), ("B", ""): D(12)}
    j.receive("S", "W", D(2), D("100.00"), serials=["SN1", "SN2"], location="A")
    j.receive("S", "W2", D(1), D("100.00"), serials=["SN3"])
    for code, command in (
        ("serial_count", lambda: j.move("S", "W", D(2), from_location="A", to_location="B",
                                        serials=["SN1"])),
        ("serial_not_on_hand", lambda: j.move("S", "W", D(1), from_location="A",
                                              to_location="B", serials=["SN3"])),
    ):
        with pytest.raises(JxcError) as info:
            command()
        assert info.value.code == code
    j.move("S", "W", D(1), from_location="A", to_location="B", serials=["SN2"])
    assert rows(j, "S") == {("A", ""): D(1), ("B", ""): D(1)}
    j.issue("S", "W", D(1), serials=["SN2"], location="B")  # still on hand in W


# -- what may not be moved ---------------------------------------------------------------------
def test_refusals_write_nothing(storage: Storage) -> None:
    j, _ = shop(storage)
    j.receive("X", "W", D(5), D("1.00"), location="A")
    j.receive("X", "W", D(5), D("1.00"), location="B")
    exc = refused(j, storage, "same_location",
                  lambda: j.move("X", "W", D(1), from_location="A", to_location="A"))
    assert exc.data == {"warehouse": "W", "location": "A"}
    assert "移库" in exc.message("zh_CN")
    refused(j, storage, "same_location",
            lambda: j.move("X", "W", D(1), from_location="", to_location=""))
    exc = refused(j, storage, "not_found",
                  lambda: j.move("X", "W", D(1), from_location="A", to_location="Z"))
    assert exc.data == {"kind": "location", "key": "W/Z"}
    refused(j, storage, "not_found",
            lambda: j.move("X", "W", D(1), from_location="Z", to_location="A"))
    refused(j, storage, "not_found",
            lambda: j.move("X", "NOPE", D(1), from_location="A", to_location="B"))
    refused(j, storage, "not_found",
            lambda: j.move("NOPE", "W", D(1), from_location="A", to_location="B"))
    refused(j, storage, "invalid_quantity",
            lambda: j.move("X", "W", D(0), from_location="A", to_location="B"))
    # no row below zero, though the warehouse has 10
    exc = refused(j, storage, "insufficient_stock",
                  lambda: j.move("X", "W", D(6), from_location="A", to_location="B"))
    assert (exc.data["location"], exc.data["short"]) == ("A", D(1))
    with pytest.raises(TypeError, match="quantity"):
        j.move("X", "W", 1.5, from_location="A", to_location="B")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="to_location"):
        j.move("X", "W", D(1), from_location="A", to_location=None)  # type: ignore[arg-type]
    assert rows(j) == {("A", ""): D(5), ("B", ""): D(5)}


def test_held_stock_stays(storage: Storage) -> None:
    """A hold (quality hold, count freeze) on a row keeps its units there, even where the
    warehouse has free stock elsewhere; negative stock allowed or not."""
    for allow in (False, True):
        j, _ = shop(storage, allow_negative=allow)
        code = f"X{int(allow)}"
        j.define_item(Item(code, "item", allow_negative=allow))
        j.receive(code, "W", D(5), D("1.00"), location="A")
        j.receive(code, "W", D(5), D("1.00"), location="B")
        j.hold(code, "W", D(3), location="A")
        with pytest.raises(JxcError) as info:
            j.move(code, "W", D(3), from_location="A", to_location="B")
        assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "A")
        j.move(code, "W", D(2), from_location="A", to_location="B")
        assert rows(j, code) == {("A", ""): D(3), ("B", ""): D(7)}


def test_reserved_stock_of_others_stays_and_a_demand_may_move_its_own(storage: Storage
                                                                      ) -> None:
    j, _ = shop(storage)
    j.receive("X", "W", D(10), D("1.00"), location="A")
    j.reserve([ReserveLine("SO-1/1", "X", "W", D(8))])
    refused(j, storage, "insufficient_stock",
            lambda: j.move("X", "W", D(3), from_location="A", to_location="B"))
    j.move("X", "W", D(2), from_location="A", to_location="B")  # the free part
    # for its demand (to the shipping place): the reservation stays, the warehouse keeps it
    j.move("X", "W", D(8), from_location="A", to_location="B", demand="SO-1/1")
    assert [(r.demand, r.quantity) for r in j.reservations()] == [("SO-1/1", D(8))]
    assert rows(j) == {("B", ""): D(10)}
    b = j.balance("X", "W")
    assert (b.on_hand, b.reserved, b.available) == (D(10), D(8), D(2))


def test_a_closed_period_refuses_a_move_dated_in_it(storage: Storage) -> None:
    j, clock = shop(storage)
    j.receive("X", "W", D(5), D("1.00"), location="A")
    clock.at = dt.datetime(2026, 4, 2, 9, 0)
    Accounting(j).close_period(2026, 3)
    refused(j, storage, "period_closed",
            lambda: j.move("X", "W", D(1), from_location="A", to_location="B",
                           posted_at=dt.datetime(2026, 3, 31, 12, 0)))
    j.move("X", "W", D(1), from_location="A", to_location="B")


# -- idempotency, back-dating, reports, events ---------------------------------------------------
def test_idempotency(storage: Storage) -> None:
    j, _ = shop(storage)
    j.receive("X", "W", D(5), D("1.00"), location="A")
    first = j.move("X", "W", D(2), from_location="A", to_location="B", idempotency_key="k1")
    again = j.move("X", "W", D(2), from_location="A", to_location="B", idempotency_key="k1")
    assert again == first
    assert first.doc_id.startswith("YK-")
    assert rows(j) == {("A", ""): D(3), ("B", ""): D(2)}
    refused(j, storage, "idempotency_conflict",
            lambda: j.move("X", "W", D(2), from_location="B", to_location="A",
                           idempotency_key="k1"))


def test_a_back_dated_receipt_replays_around_the_moves(storage: Storage) -> None:
    """A replay skips the moves: they neither receive nor issue in the scope, so the later
    issue alone is corrected."""
    j, _ = shop(storage, "moving_average")
    j.receive("X", "W", D(10), D("1.00"), location="A", posted_at=T0)
    j.move("X", "W", D(10), from_location="A", to_location="B",
           posted_at=T0 + dt.timedelta(hours=2))
    j.issue("X", "W", D(5), location="B", posted_at=T0 + dt.timedelta(hours=3))
    p = j.receive("X", "W", D(10), D("4.00"), location="A",
                  posted_at=T0 + dt.timedelta(hours=1))
    assert [(a[2].issue_ref or "").split("\x1f")[0] for a in p.adjustments] == ["issue"]
    assert [a[2].amount for a in p.adjustments] == [D("7.50")]  # 5 x 2.50 - 5.00
    b = j.balance("X", "W")
    assert (b.on_hand, b.value) == (D(15), D("37.50"))
    ledger = j.ledger("X", "W")
    assert (ledger[-1].running_quantity, ledger[-1].running_value) == (D(15), D("37.50"))
    assert rows(j) == {("A", ""): D(10), ("B", ""): D(5)}


def test_inventory_summary_does_not_count_moves(storage: Storage) -> None:
    j, _ = shop(storage)
    j.receive("X", "W", D(5), D("1.00"), location="A")
    j.move("X", "W", D(5), from_location="A", to_location="B")
    [row] = Accounting(j).inventory_summary(2026, 3)
    assert (row.in_qty, row.out_qty, row.closing_qty, row.closing_value) == (
        D(5), D(0), D(5), D("5.00"))
    assert set(row.in_by_kind) == {"receipt"} and row.out_by_kind == {}


def test_the_stock_changed_event_names_the_locations(storage: Storage) -> None:
    got: list[Event] = []

    class Catch:
        def notify(self, event: Event) -> None:
            got.append(event)

    j, _ = shop(storage)
    j.notifier = Catch()
    j.receive("X", "W", D(5), D("1.00"), location="A")
    got.clear()
    j.move("X", "W", D(2), from_location="A", to_location="B", doc_id="YK-9")
    [e] = [e for e in got if e.type == "stock_changed"]
    assert e.payload["doc_id"] == "YK-9"
    assert e.payload["locations"] == ["A", "B"]
    assert [line[3] for line in e.payload["lines"]] == ["-2", "2"]


@pytest.mark.parametrize("kind", ["move_out", "move_in"])
def test_a_move_kind_is_posted_by_move_only(storage: Storage, kind: str) -> None:
    """A lone line of a move kind through ``post`` would be skipped by back-dated replays and
    the 进销存汇总表 as if it moved nothing: refused, nothing written."""
    j, _ = shop(storage)
    j.receive("X", "W", D(5), D("1.00"), location="A")
    direction = "out" if kind == "move_out" else "in"
    err = refused(j, storage, "configuration", lambda: j.post(
        "issue", "CK-1", [StockLine("X", "W", D(1), direction, unit_cost=D("1.00"),
                                    location="A", kind=kind)]))
    assert kind in err.data["reason"]

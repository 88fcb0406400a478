"""The stock check and the picking of rows (docs/reservations.md, docs/stock-ledger.md), on both
adapters.

Set-up of every case: clock at 2026-03-02 09:00; warehouses SH (locations A, B) and BJ; item M
tracked by lot with lots LA (10, expiry 2026-04-01) and LB (10, expiry 2026-05-01) in SH.

- an out line takes no more than is free — per (item, warehouse) for all the lines of a
  posting together, per lot, and (negative stock forbidden) per row — plus the reservations of
  its own demand that it consumes, each counted once;
- a line for a demand takes the lots its reservations name first, then FEFO; FEFO takes what
  is free in each lot (not what is reserved of it for others);
- a line without a location (or, for an item not tracked by lot, without a lot) picks among
  the rows with stock: no row goes below zero under the default policy;
- a reservation of an expired lot takes nothing from the other lots;
- an item that allows negative stock may go below zero, but not while on hand covers
  reservations of others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Jxc, Posting, ReserveLine, StockLine
from jxc_core.stock import Item, Warehouse

D = Decimal


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 3, 2, 9, 0)

    def now(self) -> dt.datetime:
        return self.t


@pytest.fixture(params=["memory", "sqlite"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Jxc, Clock]]:
    storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "shop.db"))
    clock = Clock()
    j = Jxc(storage, clock=clock)
    j.define_warehouse(Warehouse("SH", "上海", locations=("A", "B")))
    j.define_warehouse(Warehouse("BJ", "北京"))
    j.define_item(Item("M", "milk", lot_tracked=True))
    j.receive("M", "SH", D(10), D("1.00"), lot="LA", expiry=dt.date(2026, 4, 1), doc_id="RK-A")
    j.receive("M", "SH", D(10), D("2.00"), lot="LB", expiry=dt.date(2026, 5, 1), doc_id="RK-B")
    yield j, clock
    storage.close()


def refused(call: object) -> JxcError:
    assert callable(call)
    with pytest.raises(JxcError) as err:
        call()
    assert err.value.code == "insufficient_stock", err.value
    return err.value


def lots(p: Posting) -> list[tuple[str, Decimal]]:
    return [(e.lot, e.quantity) for e in p.entries if e.quantity]


def rows(j: Jxc, item: str) -> dict[tuple[str, str, str], Decimal]:
    return {(b.warehouse, b.location, b.lot): b.on_hand for b in j.balances()
            if b.item == item and b.on_hand}


def reserved(j: Jxc) -> list[tuple[str, str, Decimal]]:
    return [(r.demand, r.lot, r.quantity) for r in j.reservations()]


# -- 1. the warehouse's free quantity is granted once, not once per lot -------------------------
def test_an_issue_over_several_lots_takes_only_what_is_free(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.reserve([ReserveLine("X", "M", "SH", D(8))])
    err = refused(lambda: j.issue("M", "SH", D(14)))  # 12 free: on hand 20, reserved 8
    assert (err.data["needed"], err.data["on_hand"], err.data["short"]) == (D(14), D(12), D(2))
    assert lots(j.issue("M", "SH", D(12))) == [("LA", D(-10)), ("LB", D(-2))]
    b = j.balance("M", "SH")
    assert (b.on_hand, b.reserved, b.available) == (D(8), D(8), D(0))


def test_lines_naming_lots_share_the_warehouse_free_quantity(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.reserve([ReserveLine("X", "M", "SH", D(15))])
    lines = [StockLine("M", "SH", D(5), "out", lot="LA"), StockLine("M", "SH", D(5), "out",
                                                                     lot="LB")]
    err = refused(lambda: j.post("issue", "CK-1", lines))
    assert (err.data["needed"], err.data["on_hand"]) == (D(10), D(5))
    j.post("issue", "CK-1", lines[:1])
    assert j.balance("M", "SH").on_hand == 15


def test_a_demand_takes_its_own_reservation_once(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.reserve([ReserveLine("D", "M", "SH", D(10)), ReserveLine("E", "M", "SH", D(10))])
    err = refused(lambda: j.issue("M", "SH", D(20), demand="D"))  # would take E's stock
    assert (err.data["needed"], err.data["on_hand"]) == (D(20), D(10))
    two = [StockLine("M", "SH", D(10), "out", demand="D"),
           StockLine("M", "SH", D(10), "out", demand="D")]  # D's 10 counted once, not per line
    refused(lambda: j.post("delivery", "XS-1", two))
    j.issue("M", "SH", D(10), demand="D")
    assert reserved(j) == [("E", "", D(10))]
    assert j.balance("M", "SH").on_hand == 10


# -- 2. a delivery takes the lots of its own reservations ---------------------------------------
def test_a_delivery_takes_the_lot_its_demand_reserved(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.reserve([ReserveLine("SO/1", "M", "SH", D(10), lot="LB")])
    assert lots(j.issue("M", "SH", D(10), demand="SO/1")) == [("LB", D(-10))]
    assert reserved(j) == []
    b = j.balance("M", "SH")
    assert (b.on_hand, b.reserved, b.available) == (D(10), D(0), D(10))


def test_own_lots_first_then_fefo(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.reserve([ReserveLine("SO/1", "M", "SH", D(4), lot="LB"),
               ReserveLine("SO/1", "M", "SH", D(3))])
    p = j.issue("M", "SH", D(10), demand="SO/1")
    assert lots(p) == [("LB", D(-4)), ("LA", D(-6))]  # LB reserved, then first expiry
    assert reserved(j) == []  # the 4 of LB, then the 3 without a lot


# -- 3. FEFO takes what is free in each lot -----------------------------------------------------
def test_fefo_skips_what_others_reserved_of_a_lot(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.reserve([ReserveLine("X", "M", "SH", D(10), lot="LA")])
    assert lots(j.issue("M", "SH", D(10))) == [("LB", D(-10))]
    assert reserved(j) == [("X", "LA", D(10))]
    refused(lambda: j.issue("M", "SH", D(1)))
    refused(lambda: j.issue("M", "SH", D(1), lot="LA"))


def test_lines_of_one_posting_pick_after_each_other(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    p = j.post("issue", "CK-2", [StockLine("M", "SH", D(8), "out", line_no=1),
                                 StockLine("M", "SH", D(8), "out", line_no=2)])
    assert [(e.line_no, e.lot, e.quantity) for e in p.entries] == [
        (1, "LA", D(-8)), (2, "LA", D(-2)), (2, "LB", D(-6))]


def test_a_hold_counts_for_its_lot_whatever_row_records_it(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.receive("M", "SH", D(5), D("1.00"), lot="LC", expiry=dt.date(2026, 3, 20), location="A")
    j.hold("M", "SH", D(5), lot="LC")  # a count freeze: on the row without location
    assert lots(j.issue("M", "SH", D(12))) == [("LA", D(-10)), ("LB", D(-2))]
    refused(lambda: j.issue("M", "SH", D(1), lot="LC"))


# -- 4. no row below zero -----------------------------------------------------------------------
def test_an_out_line_without_location_picks_the_rows_with_stock(
        shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("P", "plate"))
    j.receive("P", "SH", D(10), D("3.00"), location="A", doc_id="RK-P")
    t = j.transfer("P", "SH", "BJ", D(4), doc_id="DB-1")
    assert [(e.warehouse, e.location, e.quantity, e.value) for e in t.entries] == [
        ("SH", "A", D(-4), D("-12.00")), ("BJ", "", D(4), D("12.00"))]
    i = j.issue("P", "SH", D(2), doc_id="CK-P")
    assert [(e.location, e.quantity) for e in i.entries] == [("A", D(-2))]
    assert rows(j, "P") == {("SH", "A", ""): D(4), ("BJ", "", ""): D(4)}
    err = refused(lambda: j.issue("P", "SH", D(1), location="B"))
    assert (err.data["location"], err.data["needed"], err.data["on_hand"]) == ("B", D(1), D(0))
    assert err.message_en.endswith("short 1 (location B)")  # the message names it too
    assert err.message_zh.endswith("缺 1（库位 B）")
    refused(lambda: j.issue("P", "SH", D(5)))


def test_rows_are_picked_without_location_first_then_in_the_warehouse_order(
        shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_warehouse(Warehouse("GZ", "广州", locations=("Z9", "A1")))
    j.define_item(Item("P", "plate"))
    for location in ("A1", "Z9", ""):
        j.receive("P", "GZ", D(5), D("1.00"), location=location)
    p = j.issue("P", "GZ", D(12))
    assert [(e.location, e.quantity) for e in p.entries] == [
        ("", D(-5)), ("Z9", D(-5)), ("A1", D(-2))]
    assert sum((e.value for e in p.entries), D(0)) == D("-12.00")


def test_an_item_without_lots_received_with_one_issues_from_it(
        shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("Q", "cup"))
    j.receive("Q", "SH", D(10), D("1.00"), lot="L1")
    p = j.issue("Q", "SH", D(2))
    assert [(e.lot, e.quantity) for e in p.entries] == [("L1", D(-2))]
    assert rows(j, "Q") == {("SH", "", "L1"): D(8)}
    j.receive("Q", "SH", D(3), D("1.00"))
    p = j.issue("Q", "SH", D(5))  # the row without a lot first
    assert [(e.lot, e.quantity) for e in p.entries] == [("", D(-3)), ("L1", D(-2))]


def test_a_supplier_return_naming_its_receipt_picks_rows(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("P", "plate"))
    j.receive("P", "SH", D(10), D("3.00"), location="A", doc_id="RK-1")
    j.receive("P", "SH", D(10), D("5.00"), location="B", doc_id="RK-2")
    p = j.issue("P", "SH", D(4), from_ref="RK-2/1", location="B")  # its receipt's layer
    assert [(e.location, e.quantity, e.value) for e in p.entries] == [
        ("B", D(-4), D("-20.00"))]
    p = j.issue("P", "SH", D(12), from_ref="RK-2/1")  # no location: A, then B
    assert [(e.location, e.quantity) for e in p.entries] == [("A", D(-10)), ("B", D(-2))]
    assert sum((e.value for e in p.entries), D(0)) == D("-48.00")  # RK-2's 6 @ 5, then 6 @ 3
    assert rows(j, "P") == {("SH", "B", ""): D(4)}


# -- 5. a reservation of an expired lot takes nothing from the others ---------------------------
def test_a_reservation_of_an_expired_lot_does_not_block_fresh_stock(
        shop: tuple[Jxc, Clock]) -> None:
    j, clock = shop
    j.receive("M", "BJ", D(5), D("1.00"), lot="LT", expiry=dt.date(2026, 3, 2))
    j.reserve([ReserveLine("T", "M", "BJ", D(5), lot="LT")])
    clock.t = dt.datetime(2026, 3, 3, 9, 0)
    b = j.balance("M", "BJ")
    assert (b.on_hand, b.reserved, b.unusable, b.available) == (D(5), D(5), D(5), D(0))
    assert b.uncovered == 5  # the reservation of LT is short
    j.receive("M", "BJ", D(10), D("1.00"), lot="LN", expiry=dt.date(2026, 6, 1))
    assert j.availability([("M", "BJ", D(10))])[0].available == 10
    assert j.balance("M", "BJ").available == 10
    assert j.balance("M", "BJ", lot="LT").available == 0
    assert lots(j.issue("M", "BJ", D(6), lot="LN")) == [("LN", D(-6))]
    assert lots(j.issue("M", "BJ", D(4))) == [("LN", D(-4))]
    assert reserved(j) == [("T", "LT", D(5))]  # still there, short: release it to drop it


# -- 6. negative stock allowed, reservations still protected -----------------------------------
def test_negative_stock_does_not_take_what_is_reserved_for_others(
        shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("N", "nail", allow_negative=True))
    j.receive("N", "SH", D(10), D("1.00"))
    j.reserve([ReserveLine("R", "N", "SH", D(10))])
    refused(lambda: j.issue("N", "SH", D(5)))
    refused(lambda: j.transfer("N", "SH", "BJ", D(3)))
    refused(lambda: j.issue("N", "SH", D(5), demand="OTHER"))
    j.issue("N", "SH", D(12), demand="R")  # its own 10, and 2 beyond on hand
    assert reserved(j) == []
    j.issue("N", "SH", D(3))  # nothing reserved any more: negative stock as allowed
    assert j.balance("N", "SH").on_hand == -5


def test_negative_stock_beside_a_partial_reservation(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("N", "nail", allow_negative=True))
    j.receive("N", "SH", D(10), D("1.00"))
    j.reserve([ReserveLine("R", "N", "SH", D(4))])
    err = refused(lambda: j.issue("N", "SH", D(7)))
    assert (err.data["needed"], err.data["on_hand"], err.data["short"]) == (D(7), D(6), D(1))
    j.issue("N", "SH", D(6))
    j.release("R")
    j.issue("N", "SH", D(9))
    assert j.balance("N", "SH").on_hand == -5


def test_negative_stock_does_not_take_what_is_held(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("N", "nail", allow_negative=True))
    j.receive("N", "SH", D(10), D("1.00"))
    j.hold("N", "SH", D(4))  # a quality hold
    refused(lambda: j.issue("N", "SH", D(7)))
    j.issue("N", "SH", D(6))
    j.hold("N", "SH", D(-4))
    j.issue("N", "SH", D(9))
    assert j.balance("N", "SH").on_hand == -5


def test_a_line_naming_a_held_row_takes_only_what_the_row_does_not_hold(
        shop: tuple[Jxc, Clock]) -> None:
    """The freeze of one location (a count of it, a quality hold there) is not taken by a line
    that names that location, though the warehouse has free stock elsewhere."""
    j, _ = shop
    j.define_item(Item("P", "plate"))
    j.receive("P", "SH", D(10), D("1.00"), location="A", doc_id="RK-PA")
    j.receive("P", "SH", D(10), D("1.00"), location="B", doc_id="RK-PB")
    j.hold("P", "SH", D(8), location="A")
    err = refused(lambda: j.issue("P", "SH", D(3), location="A"))
    assert (err.data["location"], err.data["needed"], err.data["on_hand"]) == ("A", D(3), D(2))
    assert [(e.location, e.quantity) for e in j.issue("P", "SH", D(2), location="A").entries] \
        == [("A", D(-2))]
    assert [(e.location, e.quantity) for e in j.issue("P", "SH", D(3)).entries] == [("B", D(-3))]
    assert rows(j, "P") == {("SH", "A", ""): D(8), ("SH", "B", ""): D(7)}


def test_negative_stock_does_not_take_a_held_row_named(shop: tuple[Jxc, Clock]) -> None:
    j, _ = shop
    j.define_item(Item("N", "nail", allow_negative=True))
    j.receive("N", "SH", D(10), D("1.00"), location="A")
    j.hold("N", "SH", D(4), location="A")
    j.receive("N", "SH", D(5), D("1.00"), location="B")
    err = refused(lambda: j.issue("N", "SH", D(7), location="A"))  # 11 free, 6 of them at A
    assert (err.data["location"], err.data["on_hand"]) == ("A", D(6))
    j.issue("N", "SH", D(8), location="B")  # a row that holds nothing may go below zero
    assert rows(j, "N") == {("SH", "A", ""): D(10), ("SH", "B", ""): D(-3)}


# -- 6. availability answers as reserve would --------------------------------------------------
@pytest.mark.parametrize(("wanted", "code"), [(D(-5), "invalid_quantity"),
                                               (D(0), "invalid_quantity"),
                                               (D("0.5"), "unit_conversion_inexact")])
def test_availability_refuses_what_reserve_refuses(shop: tuple[Jxc, Clock], wanted: D,
                                                   code: str) -> None:
    j, _ = shop
    j.receive("M", "BJ", D(10), D("1.00"), lot="LN", expiry=dt.date(2026, 6, 1))
    for ask in (lambda: j.availability([("M", "BJ", D(1)), ("M", "BJ", wanted)]),
                lambda: j.reserve([ReserveLine("T", "M", "BJ", wanted)])):
        with pytest.raises(JxcError) as e:
            ask()
        assert e.value.code == code
    assert reserved(j) == []


def test_availability_of_lines_repeating_an_item_counts_the_earlier_ones(
        shop: tuple[Jxc, Clock]) -> None:
    """Two lines of 6 against 10: the second has 4 left, as reserve() would find it."""
    j, _ = shop
    j.receive("M", "BJ", D(10), D("1.00"), lot="LN", expiry=dt.date(2026, 6, 1))
    got = j.availability([("M", "BJ", D(6)), ("M", "BJ", D(6))])
    assert [(a.available, a.short, a.ok) for a in got] == [(D(10), D(0), True),
                                                          (D(4), D(2), False)]

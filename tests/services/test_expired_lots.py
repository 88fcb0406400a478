"""Expired lots leave the books (docs/stock-ledger.md, "Lots and expiry"), on both adapters.

An expired lot is not available: no sale (a delivery, an issue) may name it, no reservation
may take it, and a line without a lot never picks it (FEFO skips it). But an out line of a kind
in ``EXPIRED_LOT_KINDS`` — a write-off (adjustment out), a supplier return, a transfer, a
count loss and the cancellations (红冲) that take stock out again — may name it: it takes the
lot's on hand less what others claim of it (holds, reservations naming it), plus the
reservations of its own demand that it consumes. Expired stock never backs a claim of the
warehouse (a reservation without a lot), and the claims on it never shrink fresh stock.

Set-up: clock at 2026-03-02 09:00; warehouses W (locations A, B) and Q (quarantine); item M
tracked by lot: LX (10 at 1.00, expiry 2026-03-10) and LF (10 at 2.00, expiry 2026-06-01) in
W. Then the clock moves to 2026-03-11: LX has expired.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import EXPIRED_LOT_KINDS, Jxc, Posting, ReserveLine, StockLine
from jxc_core.stock import Item, Warehouse

from .support import HandClock

D = Decimal
START = dt.datetime(2026, 3, 2, 9, 0)
LATER = dt.datetime(2026, 3, 11, 9, 0)


def shop(storage: Storage) -> tuple[Jxc, HandClock]:
    clock = HandClock(START)
    j = Jxc(storage, clock=clock)
    j.define_warehouse(Warehouse("W", "main", locations=("A", "B")))
    j.define_warehouse(Warehouse("Q", "quarantine"))
    j.define_item(Item("M", "milk", lot_tracked=True))
    j.receive("M", "W", D(10), D("1.00"), lot="LX", expiry=dt.date(2026, 3, 10), doc_id="RK-X")
    j.receive("M", "W", D(10), D("2.00"), lot="LF", expiry=dt.date(2026, 6, 1), doc_id="RK-F")
    return j, clock


@pytest.fixture
def jxc(storage: Storage) -> Jxc:
    j, clock = shop(storage)
    clock.at = LATER
    return j


def moves(p: Posting) -> list[tuple[str, str, str, Decimal]]:
    return [(e.warehouse, e.location, e.lot, e.quantity) for e in p.entries if e.quantity]


def lots(j: Jxc, warehouse: str = "W") -> dict[str, Decimal]:
    return {b.lot: b.on_hand for b in j.balances()
            if b.item == "M" and b.warehouse == warehouse and b.on_hand}


def state(j: Jxc) -> Any:
    return (j.balances(), j.reservations(), [x.entry for x in j.ledger("M")])


def refused(j: Jxc, code: str, call: Any) -> JxcError:
    """``call`` is refused with ``code`` and leaves everything as it was."""
    before = state(j)
    with pytest.raises(JxcError) as err:
        call()
    assert err.value.code == code, err.value
    assert state(j) == before
    return err.value


def out(qty: int, kind: str, lot: str = "", location: str = "", line_no: int = 1,
        demand: str | None = None) -> StockLine:
    return StockLine("M", "W", D(qty), "out", lot=lot, location=location, kind=kind,
                     line_no=line_no, demand=demand)


def test_the_kinds_that_may_take_an_expired_lot() -> None:
    assert EXPIRED_LOT_KINDS == frozenset({
        "adjustment_out", "adjustment_reversal", "purchase_return", "receipt_reversal",
        "return_reversal", "stock_count_out", "stock_count_reversal", "transfer_out",
        "move_out"})
    assert not {"delivery", "issue", ""} & EXPIRED_LOT_KINDS


# -- sales and reservations still refuse an expired lot --------------------------------------
def test_a_sale_naming_an_expired_lot_is_refused(jxc: Jxc) -> None:
    err = refused(jxc, "lot_expired", lambda: jxc.issue("M", "W", D(1), lot="LX"))
    assert err.data["expiry"] == dt.date(2026, 3, 10)
    refused(jxc, "lot_expired", lambda: jxc.post("delivery", "XS-1", [out(1, "delivery", "LX")]))
    # a kind nobody declared (an embedder's own) is not a write-off either
    refused(jxc, "lot_expired", lambda: jxc.post("scrap", "BS-1", [out(1, "scrap", "LX")]))
    refused(jxc, "lot_expired", lambda: jxc.post("issue", "CK-1", [out(1, "", "LX")]))
    # refused all at once: the good line of the posting is not written either
    refused(jxc, "lot_expired", lambda: jxc.post("delivery", "XS-2", [
        out(1, "delivery", "LF", line_no=1), out(1, "delivery", "LX", line_no=2)]))


def test_a_reservation_of_an_expired_lot_is_still_refused(jxc: Jxc) -> None:
    err = refused(jxc, "reservation_short", lambda: jxc.reserve(
        [ReserveLine("SO/1", "M", "W", D(1), lot="LX")], partial=False))
    assert err.data["lines"][0]["available"] == "0"


def test_lines_without_a_lot_never_pick_the_expired_lot(jxc: Jxc) -> None:
    assert moves(jxc.adjust("M", "W", D(-3), doc_id="TZ-1")) == [("W", "", "LF", D(-3))]
    assert moves(jxc.transfer("M", "W", "Q", D(2), doc_id="DB-1")) == [
        ("W", "", "LF", D(-2)), ("Q", "", "LF", D(2))]
    assert lots(jxc) == {"LX": D(10), "LF": D(5)}
    refused(jxc, "insufficient_stock", lambda: jxc.adjust("M", "W", D(-6)))  # LF has 5


# -- what may take it ----------------------------------------------------------------------
def test_an_adjustment_writes_the_expired_lot_off(jxc: Jxc) -> None:
    p = jxc.adjust("M", "W", D(-4), lot="LX", doc_id="TZ-1")
    assert [(e.lot, e.quantity, e.value, e.kind) for e in p.entries] == [
        ("LX", D(-4), D("-4.00"), "adjustment_out")]
    assert lots(jxc) == {"LX": D(6), "LF": D(10)}
    jxc.adjust("M", "W", D(-6), lot="LX", doc_id="TZ-2")
    assert lots(jxc) == {"LF": D(10)}
    b = jxc.balance("M", "W")
    assert (b.on_hand, b.unusable, b.available, b.value) == (D(10), D(0), D(10), D("20.00"))
    refused(jxc, "insufficient_stock", lambda: jxc.adjust("M", "W", D(-1), lot="LX"))


def test_a_transfer_moves_the_expired_lot_and_it_stays_expired(jxc: Jxc) -> None:
    p = jxc.transfer("M", "W", "Q", D(10), lot="LX", doc_id="DB-1")
    assert moves(p) == [("W", "", "LX", D(-10)), ("Q", "", "LX", D(10))]
    assert lots(jxc) == {"LF": D(10)} and lots(jxc, "Q") == {"LX": D(10)}
    q = jxc.balance("M", "Q")
    assert (q.on_hand, q.unusable, q.available, q.value) == (D(10), D(10), D(0), D("10.00"))
    refused(jxc, "lot_expired", lambda: jxc.issue("M", "Q", D(1), lot="LX"))
    refused(jxc, "insufficient_stock", lambda: jxc.issue("M", "Q", D(1)))
    jxc.adjust("M", "Q", D(-10), lot="LX", doc_id="TZ-1")  # scrapped in quarantine
    assert lots(jxc, "Q") == {}


def test_a_line_naming_the_lot_but_no_location_takes_its_rows(storage: Storage) -> None:
    j, clock = shop(storage)
    j.receive("M", "W", D(3), D("1.00"), lot="LX", location="B", doc_id="RK-XB")
    j.receive("M", "W", D(2), D("1.00"), lot="LX", location="A", doc_id="RK-XA")
    clock.at = LATER
    p = j.adjust("M", "W", D(-14), lot="LX", doc_id="TZ-1")  # "" first, then A, then B
    assert moves(p) == [("W", "", "LX", D(-10)), ("W", "A", "LX", D(-2)),
                        ("W", "B", "LX", D(-2))]
    p = j.post("adjustment", "TZ-2", [out(1, "adjustment_out", "LX", "B")])
    assert moves(p) == [("W", "B", "LX", D(-1))]
    refused(j, "insufficient_stock",
            lambda: j.post("adjustment", "TZ-3", [out(1, "adjustment_out", "LX", "B")]))


def test_expired_stock_and_fresh_stock_are_checked_apart(storage: Storage) -> None:
    """A reservation without a lot claims the fresh stock only: a write-off of the expired lot
    takes nothing from it, and the expired lot's stock does not make room for fresh lines."""
    j, clock = shop(storage)
    j.reserve([ReserveLine("SO/1", "M", "W", D(10))])  # any lot: LF once LX expires
    clock.at = LATER
    p = j.post("adjustment", "TZ-1", [out(10, "adjustment_out", "LX", line_no=1)])
    assert moves(p) == [("W", "", "LX", D(-10))]
    refused(j, "insufficient_stock", lambda: j.adjust("M", "W", D(-1), lot="LF"))
    assert [(r.demand, r.lot, r.quantity) for r in j.reservations()] == [("SO/1", "", D(10))]


def test_two_lines_of_one_posting_expired_and_fresh(storage: Storage) -> None:
    j, clock = shop(storage)
    j.reserve([ReserveLine("SO/1", "M", "W", D(4))])
    clock.at = LATER
    lines = [out(10, "adjustment_out", "LX", line_no=1), out(6, "adjustment_out", "LF", line_no=2)]
    assert moves(j.post("adjustment", "TZ-1", lines)) == [("W", "", "LX", D(-10)),
                                                          ("W", "", "LF", D(-6))]
    assert lots(j) == {"LF": D(4)}
    refused(j, "insufficient_stock", lambda: j.post("adjustment", "TZ-2", [
        out(1, "adjustment_out", "LF", line_no=1)]))


def test_what_others_claim_of_the_expired_lot_stays(storage: Storage) -> None:
    """A reservation naming the lot (made before it expired; now short, ``uncovered``) and a
    hold on it are claims of others: a write-off takes only the rest, until they are
    released."""
    j, clock = shop(storage)
    j.reserve([ReserveLine("SO/1", "M", "W", D(3), lot="LX")])
    j.hold("M", "W", D(2), lot="LX")
    clock.at = LATER
    b = j.balance("M", "W")
    assert (b.reserved, b.held, b.unusable, b.uncovered, b.available) == (
        D(3), D(2), D(10), D(5), D(10))
    err = refused(j, "insufficient_stock", lambda: j.adjust("M", "W", D(-6), lot="LX"))
    assert (err.data["lot"], err.data["needed"], err.data["on_hand"]) == ("LX", D(6), D(5))
    refused(j, "insufficient_stock", lambda: j.transfer("M", "W", "Q", D(6), lot="LX"))
    assert moves(j.adjust("M", "W", D(-5), lot="LX", doc_id="TZ-1")) == [("W", "", "LX", D(-5))]
    refused(j, "insufficient_stock", lambda: j.adjust("M", "W", D(-1), lot="LX"))
    j.release("SO/1")
    j.hold("M", "W", D(-2), lot="LX")
    assert moves(j.adjust("M", "W", D(-5), lot="LX", doc_id="TZ-2")) == [("W", "", "LX", D(-5))]
    b = j.balance("M", "W")
    assert (b.on_hand, b.reserved, b.held, b.unusable, b.uncovered, b.available) == (
        D(10), D(0), D(0), D(0), D(0), D(10))


def test_a_transfer_for_its_demand_takes_its_own_reservation_of_the_expired_lot(
        storage: Storage) -> None:
    j, clock = shop(storage)
    j.reserve([ReserveLine("DB-9/1", "M", "W", D(4), lot="LX"),
               ReserveLine("SO/1", "M", "W", D(6), lot="LX")])
    clock.at = LATER
    refused(j, "insufficient_stock", lambda: j.transfer("M", "W", "Q", D(4), lot="LX"))
    p = j.transfer("M", "W", "Q", D(4), lot="LX", demand="DB-9/1", doc_id="DB-9")
    assert moves(p) == [("W", "", "LX", D(-4)), ("Q", "", "LX", D(4))]
    assert [(r.demand, r.lot, r.quantity) for r in j.reservations()] == [("SO/1", "LX", D(6))]
    refused(j, "insufficient_stock",
            lambda: j.transfer("M", "W", "Q", D(1), lot="LX", demand="DB-9/1"))


def test_consuming_a_reservation_of_the_expired_lot_makes_no_room_in_fresh_stock(
        storage: Storage) -> None:
    """The reservation of the expired lot never took anything from the fresh stock: a line
    consuming it frees nothing there for the other lines of the posting."""
    j, clock = shop(storage)
    j.reserve([ReserveLine("DB-9/1", "M", "W", D(4), lot="LX"),
               ReserveLine("SO/2", "M", "W", D(5))])  # any lot: 5 of LF are free
    clock.at = LATER
    own = out(4, "adjustment_out", "LX", line_no=1, demand="DB-9/1")
    err = refused(j, "insufficient_stock", lambda: j.post("adjustment", "TZ-1", [
        own, out(6, "adjustment_out", "LF", line_no=2)]))
    assert (err.data["needed"], err.data["on_hand"]) == (D(6), D(5))
    p = j.post("adjustment", "TZ-2", [own, out(5, "adjustment_out", "LF", line_no=2)])
    assert moves(p) == [("W", "", "LX", D(-4)), ("W", "", "LF", D(-5))]
    assert [(r.demand, r.lot, r.quantity) for r in j.reservations()] == [("SO/2", "", D(5))]


def test_negative_stock_allowed_still_leaves_what_others_reserved_of_the_expired_lot(
        storage: Storage) -> None:
    j, clock = shop(storage)
    j.define_item(Item("N", "nail", lot_tracked=True, allow_negative=True))
    j.receive("N", "W", D(5), D("1.00"), lot="NX", expiry=dt.date(2026, 3, 10), doc_id="RK-N")
    j.reserve([ReserveLine("SO/1", "N", "W", D(5), lot="NX")])
    clock.at = LATER
    with pytest.raises(JxcError) as err:
        j.adjust("N", "W", D(-1), lot="NX")
    assert err.value.code == "insufficient_stock"
    j.release("SO/1")
    p = j.adjust("N", "W", D(-7), lot="NX", doc_id="TZ-N")  # below zero, as the item allows
    assert [(e.lot, e.quantity) for e in p.entries] == [("NX", D(-7))]
    assert j.balance("N", "W").on_hand == D(-2)


def test_an_expired_lot_without_stock_here_is_short_by_the_whole_line(jxc: Jxc) -> None:
    """An expired lot named where it has no stock (received in another warehouse) is checked
    on its own there too: short by the whole line, naming the lot — not measured against the
    warehouse's usable stock (a stateful draw found the short part reported as 1 of 2)."""
    jxc.define_item(Item("N", "cream", lot_tracked=True))
    jxc.receive("N", "Q", D(1), D("1.00"), lot="NX", expiry=dt.date(2026, 3, 10), doc_id="RK-N")
    jxc.receive("N", "W", D(1), D("1.00"), lot="NF", expiry=dt.date(2026, 6, 1), doc_id="RK-NF")
    err = refused(jxc, "insufficient_stock", lambda: jxc.move(
        "N", "W", D(2), from_location="A", to_location="", lot="NX"))
    assert (err.data["lot"], err.data["short"], err.data["on_hand"]) == ("NX", D(2), D(0))
    err = refused(jxc, "insufficient_stock", lambda: jxc.post("scrap", "BS-N", [StockLine(
        "N", "W", D(2), "out", lot="NX", kind="adjustment_out")]))
    assert (err.data["lot"], err.data["short"]) == ("NX", D(2))

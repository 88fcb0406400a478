"""Cancelling (红冲) a transfer document whose lines move and transfer the same units: the
lines are undone last first, and each reversal takes exactly the rows (location, lot) its
line put units on, never another lot or location sitting there."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.services import Documents, JournalRow, Jxc
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal


def rows(shop: Shop, wh: str, item: str = "A") -> dict[tuple[str, str], Decimal]:
    return {(b.location, b.lot): b.on_hand for b in shop.jxc.balances()
            if (b.item, b.warehouse) == (item, wh) and b.on_hand}


def all_rows(shop: Shop) -> dict[tuple[str, str, str, str], Decimal]:
    return {(b.item, b.warehouse, b.location, b.lot): b.on_hand
            for b in shop.jxc.balances() if b.on_hand}


def entries(shop: Shop, doc_id: str, item: str = "A"
            ) -> list[tuple[str, str, str, str, Decimal]]:
    return [(x.entry.kind, x.entry.warehouse, x.entry.location, x.entry.lot,
             x.entry.quantity) for x in shop.jxc.ledger(item) if x.entry.doc_id == doc_id]


def mirrored(posted: list[JournalRow], red: list[JournalRow]) -> bool:
    """The red voucher (红字) is the posted one row by row, in the same order, in red."""
    return [(r.line_no, r.role, r.warehouse, r.item, r.debit, r.credit) for r in posted] == [
        (r.line_no, r.role, r.warehouse, r.item, -r.debit, -r.credit) for r in red]


def move(n: int, qty: int, wh: str, frm: str, to: str, item: str = "A", lot: str = "") -> Line:
    return Line(n, item, D(qty), warehouse=wh, to_warehouse=wh, location=frm, to_location=to,
                lot=lot)


def send(n: int, qty: int, wh: str, frm: str, to_wh: str, to: str, item: str = "A",
         lot: str = "") -> Line:
    return Line(n, item, D(qty), warehouse=wh, to_warehouse=to_wh, location=frm,
                to_location=to, lot=lot)


# -- 1. the lines are undone in reverse order --------------------------------------------------
def test_a_move_then_a_transfer_of_the_same_units_is_cancelled(shop: Shop) -> None:
    shop.run("adjustment", [Line(1, "A", D(10), D(10), warehouse="W1", location="L1")])
    before = all_rows(shop)
    doc = shop.run("transfer", [move(1, 4, "W1", "L1", "L2"),
                                send(2, 4, "W1", "L2", "W2", "R1")])
    assert rows(shop, "W1") == {("L1", ""): D(6)} and rows(shop, "W2") == {("R1", ""): D(4)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert shop.docs.get(doc.doc_id).state == State.CANCELLED
    assert entries(shop, f"{doc.doc_id}-R") == [
        ("transfer_out", "W2", "R1", "", D(-4)), ("transfer_in", "W1", "L2", "", D(4)),
        ("move_out", "W1", "L2", "", D(-4)), ("move_in", "W1", "L1", "", D(4))]
    assert all_rows(shop) == before
    assert (shop.value("A", "W1"), shop.value("A", "W2")) == (D("100.00"), D("0.00"))
    assert mirrored(shop.journal(doc.doc_id), shop.journal(f"{doc.doc_id}-R"))
    assert shop.roles(doc.doc_id) == {"inventory": D(0)}
    shop.check_books()


def test_a_transfer_then_a_move_in_the_target_is_cancelled(shop: Shop) -> None:
    shop.run("adjustment", [Line(1, "A", D(10), D(10), warehouse="W1", location="L1")])
    before = all_rows(shop)
    doc = shop.run("transfer", [send(1, 4, "W1", "L1", "W2", "R1"),
                                move(2, 3, "W2", "R1", "R2")])
    assert rows(shop, "W2") == {("R1", ""): D(1), ("R2", ""): D(3)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert all_rows(shop) == before
    assert (shop.value("A", "W1"), shop.value("A", "W2")) == (D("100.00"), D("0.00"))
    assert mirrored(shop.journal(doc.doc_id), shop.journal(f"{doc.doc_id}-R"))
    shop.check_books()


def test_moves_chained_through_locations_are_cancelled(shop: Shop) -> None:
    shop.jxc.define_item(Item("P", "perishable", lot_tracked=True))
    shop.run("adjustment", [Line(1, "P", D(3), D(1), warehouse="W1", location="L1", lot="X"),
                            Line(2, "P", D(3), D(2), warehouse="W1", location="L1", lot="Y")])
    before = all_rows(shop)
    doc = shop.run("transfer", [move(1, 5, "W1", "L1", "L2", "P"),
                                move(2, 4, "W1", "L2", "L3", "P"),
                                send(3, 4, "W1", "L3", "W2", "", "P")])
    assert rows(shop, "W2", "P") == {("", "X"): D(3), ("", "Y"): D(1)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert all_rows(shop) == before
    assert (shop.jxc.balance("P", "W1").value, shop.jxc.balance("P", "W2").value) == (
        D("9.00"), D("0.00"))
    assert mirrored(shop.journal(doc.doc_id), shop.journal(f"{doc.doc_id}-R"))
    assert shop.roles(doc.doc_id) == {"inventory": D(0)}


def test_a_chain_cancelled_in_reverse_is_still_refused_when_its_units_moved_on(
        shop: Shop) -> None:
    shop.run("adjustment", [Line(1, "A", D(10), D(10), warehouse="W1", location="L1")])
    doc = shop.run("transfer", [move(1, 4, "W1", "L1", "L2"),
                                send(2, 4, "W1", "L2", "W2", "R1")])
    shop.jxc.move("A", "W2", D(1), from_location="R1", to_location="R2")
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.cancel(doc.doc_id, BOSS)
    assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "R1")
    assert shop.snapshot() == before


def test_a_transfer_chain_back_through_a_warehouse_is_undone_under_fifo(shop: Shop) -> None:
    """Sent W1 -> W2 -> W1: the second line takes the FIFO layer the first made in W2.
    Undone last line first, each line's units go back into the layers they left (once a known
    limit: they came back as a new layer, and the first line was ``reversal_impossible``), so
    the document is cancelled and the stock is as before it."""
    shop.run("adjustment", [Line(1, "A", D(10), D(10), warehouse="W1")])
    before = all_rows(shop)
    doc = shop.run("transfer", [send(1, 4, "W1", "", "W2", ""), send(2, 4, "W2", "", "W1", "")])
    shop.docs.cancel(doc.doc_id, BOSS)
    assert all_rows(shop) == before
    assert (shop.jxc.balance("A", "W1").value, shop.jxc.balance("A", "W2").value) == (
        D("100.00"), D("0.00"))
    assert mirrored(shop.journal(doc.doc_id), shop.journal(f"{doc.doc_id}-R"))
    shop.check_books()


# -- 2. a reversal takes exactly the rows its line filled ---------------------------------------
def test_a_move_of_the_row_without_a_lot_is_not_undone_from_a_lot(shop: Shop) -> None:
    """The move put 5 units of the row without a lot at L2, where lot X1 lies too; 2 of those
    units have been issued since: the cancellation is refused (it may not take X1's units
    instead)."""
    shop.run("adjustment", [Line(1, "A", D(5), D(10), warehouse="W1", location="L1")])
    shop.run("adjustment", [Line(1, "A", D(5), D(20), warehouse="W1", location="L2",
                                 lot="X1")])
    doc = shop.run("transfer", [move(1, 5, "W1", "L1", "L2")])
    shop.run("adjustment", [Line(1, "A", D(-2), warehouse="W1", location="L2")])
    assert rows(shop, "W1") == {("L2", ""): D(3), ("L2", "X1"): D(5)}
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.cancel(doc.doc_id, BOSS)
    assert info.value.code == "insufficient_stock"
    assert (info.value.data["location"], info.value.data.get("lot", "")) == ("L2", "")
    assert shop.snapshot() == before


def test_a_held_row_is_not_undone_from_another_lot(shop: Shop) -> None:
    shop.run("adjustment", [Line(1, "A", D(5), D(10), warehouse="W1", location="L1")])
    shop.run("adjustment", [Line(1, "A", D(5), D(20), warehouse="W1", location="L2",
                                 lot="X1")])
    doc = shop.run("transfer", [move(1, 5, "W1", "L1", "L2")])
    shop.jxc.hold("A", "W1", D(1), location="L2")  # a quality hold on the moved units
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.cancel(doc.doc_id, BOSS)
    assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "L2")
    assert shop.snapshot() == before
    shop.jxc.hold("A", "W1", D(-1), location="L2")
    shop.docs.cancel(doc.doc_id, BOSS)
    assert rows(shop, "W1") == {("L1", ""): D(5), ("L2", "X1"): D(5)}


def test_a_transfer_of_the_row_without_a_lot_comes_back_from_that_row(shop: Shop) -> None:
    """In W2 the item is short elsewhere (negative stock allowed): lot "" there has less on
    hand in all than the row the transfer filled, which picking by lot would count against
    it and make up from lot X1 at the same location."""
    shop.jxc.define_item(Item("N", "nails", allow_negative=True))
    shop.run("adjustment", [Line(1, "N", D(5), D(10), warehouse="W1", location="L1")])
    shop.run("adjustment", [Line(1, "N", D(5), D(20), warehouse="W2", location="R1",
                                 lot="X1"),
                            Line(2, "N", D(-3), warehouse="W2", location="R9")])
    before = all_rows(shop)
    value_before = (shop.jxc.balance("N", "W1").value, shop.jxc.balance("N", "W2").value)
    doc = shop.run("transfer", [send(1, 5, "W1", "L1", "W2", "R1", "N")])
    assert rows(shop, "W2", "N") == {("R1", ""): D(5), ("R1", "X1"): D(5), ("R9", ""): D(-3)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert entries(shop, f"{doc.doc_id}-R", "N") == [
        ("transfer_out", "W2", "R1", "", D(-5)), ("transfer_in", "W1", "L1", "", D(5))]
    assert all_rows(shop) == before
    assert (shop.jxc.balance("N", "W1").value,
            shop.jxc.balance("N", "W2").value) == value_before
    assert mirrored(shop.journal(doc.doc_id), shop.journal(f"{doc.doc_id}-R"))


def test_a_transfer_landing_without_a_location_comes_back_from_that_row_only(
        shop: Shop) -> None:
    """A lot-tracked line naming no lot: the lots picked land on the rows without a location
    of W2; one unit of them put away since, the cancellation is refused (it may not take the
    lot's units at another location instead)."""
    shop.jxc.define_item(Item("P", "perishable", lot_tracked=True))
    shop.run("adjustment", [Line(1, "P", D(4), D(1), warehouse="W1", location="L1", lot="X")])
    shop.run("adjustment", [Line(1, "P", D(6), D(1), warehouse="W2", location="R5", lot="X")])
    doc = shop.run("transfer", [send(1, 4, "W1", "L1", "W2", "", "P")])
    assert doc.attributes["sent"] == {"1": [["L1", "X", "4"]]}
    shop.jxc.move("P", "W2", D(1), from_location="", to_location="R6", lot="X")
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.cancel(doc.doc_id, BOSS)
    assert (info.value.code, info.value.data.get("location", "")) == ("insufficient_stock", "")
    assert shop.snapshot() == before
    shop.jxc.move("P", "W2", D(1), from_location="R6", to_location="", lot="X")
    shop.docs.cancel(doc.doc_id, BOSS)
    assert rows(shop, "W1", "P") == {("L1", "X"): D(4)}
    assert rows(shop, "W2", "P") == {("R5", "X"): D(6)}


def test_the_target_row_may_hold_other_stock(shop: Shop) -> None:
    """The row the line filled had stock before: the cancellation takes the line's quantity
    of it and leaves the rest, and the lot beside it."""
    shop.jxc.define_warehouse(Warehouse("W2", "second", locations=("R1", "R2")))
    shop.run("adjustment", [Line(1, "A", D(5), D(10), warehouse="W1", location="L1"),
                            Line(2, "A", D(2), D(10), warehouse="W2", location="R1"),
                            Line(3, "A", D(3), D(10), warehouse="W2", location="R1", lot="Z")])
    before = all_rows(shop)
    doc = shop.run("transfer", [send(1, 5, "W1", "L1", "W2", "R1"),
                                move(2, 7, "W2", "R1", "R2")])
    assert rows(shop, "W2") == {("R2", ""): D(7), ("R1", "Z"): D(3)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert all_rows(shop) == before
    shop.check_books()


# -- property: post a random transfer document, cancel it: every row as it was ------------------
LOCATIONS = ("", "L1", "L2")
line_spec = st.tuples(
    st.sampled_from(["A", "P"]),  # FIFO; P lot-tracked
    st.sampled_from(["W1", "W2"]), st.sampled_from(["W1", "W2"]),  # from, to (same: a move)
    st.integers(0, 2), st.integers(0, 2),  # from, to location
    st.integers(0, 2), st.integers(1, 4))  # lot (of the item's), quantity


def _line(n: int, spec: tuple[str, str, str, int, int, int, int]) -> Line:
    item, wh, to_wh, frm, to, lot, q = spec
    if wh == to_wh and frm == to:  # a move goes somewhere else
        to = (to + 1) % len(LOCATIONS)
    lots = ("", "X", "") if item == "A" else ("", "S", "T")
    return Line(n, item, D(q), warehouse=wh, to_warehouse=to_wh, location=LOCATIONS[frm],
                to_location=LOCATIONS[to], lot=lots[lot])


def _random_shop(kind: str, folder: str) -> Shop:
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(f"{folder}/x.db")
    j = Jxc(storage, clock=TickingClock())
    setup_master(j)
    j.define_item(Item("P", "perishable", lot_tracked=True))
    shop = Shop(j, Documents(j))
    # every location of both warehouses has some, of several lots; deep enough that no line
    # takes (FIFO) from a layer an earlier line of the document made (see the test below)
    stock = []
    for n, (wh, loc) in enumerate((w, x) for w in ("W1", "W2") for x in LOCATIONS):
        stock += [Line(1, "A", D(4), D(10 + n), warehouse=wh, location=loc),
                  Line(2, "A", D(3), D(20 - n), warehouse=wh, location=loc, lot="X"),
                  Line(3, "P", D(3), D(5 + n), warehouse=wh, location=loc, lot="S",
                       expiry=dt.date(2027, 1, 1)),
                  Line(4, "P", D(n % 3 + 1), D(9), warehouse=wh, location=loc, lot="T")]
    shop.run("adjustment", [attrs.evolve(line, line_no=n) for n, line in
                            enumerate(stock, start=1)])
    return shop


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "25")), deadline=None)
@given(specs=st.lists(line_spec, min_size=1, max_size=4))
def test_a_random_transfer_document_cancelled_leaves_every_row_as_it_was(
        kind: str, specs: list[tuple[str, str, str, int, int, int, int]]) -> None:
    """Moves and transfers, chained or not, of rows with and without lots and locations: a
    line the stock cannot serve is left out (the lines before it are kept)."""
    lines = [_line(n, spec) for n, spec in enumerate(specs, start=1)]
    with tempfile.TemporaryDirectory() as folder:
        shop = _random_shop(kind, folder)
        try:
            before = all_rows(shop)
            values = {(i, w): shop.jxc.balance(i, w).value for i in ("A", "P")
                      for w in ("W1", "W2")}
            doc = None
            while lines and doc is None:
                try:
                    doc = shop.run("transfer", lines)
                except JxcError as err:  # the last line short of stock, say: without it
                    assert err.code == "insufficient_stock"
                    lines.pop()
            if doc is None:
                return
            shop.docs.cancel(doc.doc_id, BOSS)
            assert all_rows(shop) == before
            assert {(i, w): shop.jxc.balance(i, w).value for i in ("A", "P")
                    for w in ("W1", "W2")} == values
            assert mirrored(shop.journal(doc.doc_id), shop.journal(f"{doc.doc_id}-R"))
        finally:
            shop.jxc.storage.close()

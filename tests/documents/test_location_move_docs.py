"""Transfer documents inside one warehouse (库位移动单): a line whose ``to_warehouse`` is its own
``warehouse`` moves stock from ``location`` to ``to_location`` (``Jxc.move``): no journal, the
valuation as it was; cancelling it (红冲) moves it back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal


def rows(shop: Shop, item: str = "A", wh: str = "W1") -> dict[tuple[str, str], Decimal]:
    return {(b.location, b.lot): b.on_hand for b in shop.jxc.balances()
            if (b.item, b.warehouse) == (item, wh) and b.on_hand}


def entries(shop: Shop, doc_id: str, item: str = "A") -> list[tuple[str, str, str, Decimal]]:
    return [(x.entry.kind, x.entry.location, x.entry.lot, x.entry.quantity)
            for x in shop.jxc.ledger(item) if x.entry.doc_id == doc_id]


def stocked(shop: Shop) -> None:
    """A (FIFO) in W1: 10 @ 10 at location L1, then 10 @ 14 at L2."""
    shop.run("adjustment", [Line(1, "A", D(10), D(10), warehouse="W1", location="L1")])
    shop.run("adjustment", [Line(1, "A", D(10), D(14), warehouse="W1", location="L2")])


def test_a_move_line_books_nothing_and_keeps_the_fifo_order(shop: Shop) -> None:
    stocked(shop)
    doc = shop.run("transfer", [Line(1, "A", D(10), warehouse="W1", to_warehouse="W1",
                                     location="L1", to_location="L2")])
    assert shop.journal(doc.doc_id) == []
    assert shop.counters(doc.doc_id, 1, "moved", "value") == {"moved": D(10),
                                                              "value": D("120.00")}
    assert entries(shop, doc.doc_id) == [("move_out", "L1", "", D(-10)),
                                         ("move_in", "L2", "", D(10))]
    assert rows(shop) == {("L2", ""): D(20)}
    assert (shop.qty("A"), shop.value("A")) == (D(20), D("240.00"))
    shop.check_books()
    out = shop.run("adjustment", [Line(1, "A", D(-12), warehouse="W1", location="L2")])
    assert out.counters[1]["value"] == D("128.00")  # 10 x 10 (the first layer) + 2 x 14
    shop.check_books()


def test_a_document_may_mix_warehouses_and_locations(shop: Shop) -> None:
    stocked(shop)
    doc = shop.run("transfer", [
        Line(1, "A", D(6), warehouse="W1", to_warehouse="W1", location="L2", to_location=""),
        Line(2, "A", D(5), warehouse="W1", to_warehouse="W2"),
    ])
    # only the line between warehouses is booked
    assert {(r.line_no, r.warehouse) for r in shop.journal(doc.doc_id)} == {(2, "W1"),
                                                                           (2, "W2")}
    assert [k for k, _, _, _ in entries(shop, doc.doc_id)] == [
        "move_out", "move_in", "transfer_out", "transfer_in"]
    assert (shop.qty("A", "W1"), shop.qty("A", "W2")) == (D(15), D(5))
    shop.check_books()


def test_cancelling_moves_it_back(shop: Shop) -> None:
    stocked(shop)
    doc = shop.run("transfer", [Line(1, "A", D(4), warehouse="W1", to_warehouse="W1",
                                     location="L1", to_location="L2")])
    shop.docs.cancel(doc.doc_id, BOSS)
    assert shop.docs.get(doc.doc_id).state == State.CANCELLED
    assert entries(shop, f"{doc.doc_id}-R") == [("move_out", "L2", "", D(-4)),
                                                 ("move_in", "L1", "", D(4))]
    assert rows(shop) == {("L1", ""): D(10), ("L2", ""): D(10)}
    assert shop.value("A") == D("240.00")
    assert shop.rows_of(doc.doc_id) == []  # neither the move nor its cancellation booked
    shop.check_books()


def test_cancelling_puts_each_picked_lot_back(shop: Shop) -> None:
    shop.jxc.define_item(Item("P", "perishable", lot_tracked=True))
    shop.run("adjustment", [
        Line(1, "P", D(3), D(1), warehouse="W1", location="L1", lot="LATE",
             expiry=dt.date(2026, 12, 1)),
        Line(2, "P", D(3), D(1), warehouse="W1", location="L1", lot="SOON",
             expiry=dt.date(2026, 6, 1))])
    doc = shop.run("transfer", [Line(1, "P", D(5), warehouse="W1", to_warehouse="W1",
                                     location="L1", to_location="L2")])
    assert doc.attributes["moved"] == {"1": [["SOON", "3"], ["LATE", "2"]]}
    assert rows(shop, "P") == {("L1", "LATE"): D(1), ("L2", "SOON"): D(3),
                               ("L2", "LATE"): D(2)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert rows(shop, "P") == {("L1", "LATE"): D(3), ("L1", "SOON"): D(3)}


def test_cancelling_is_refused_when_the_units_have_gone_on(shop: Shop) -> None:
    stocked(shop)
    doc = shop.run("transfer", [Line(1, "A", D(4), warehouse="W1", to_warehouse="W1",
                                     location="L1", to_location="L3")])
    shop.run("adjustment", [Line(1, "A", D(-1), warehouse="W1", location="L3")])
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.cancel(doc.doc_id, BOSS)
    assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "L3")
    assert shop.snapshot() == before


@pytest.mark.parametrize(("line", "code"), [
    (Line(1, "A", D(1), warehouse="W1", to_warehouse="W1"), "same_warehouse"),
    (Line(1, "A", D(1), warehouse="W1", to_warehouse="W1", location="L1", to_location="L1"),
     "same_location"),
    (Line(1, "A", D(1), warehouse="W3", to_warehouse="W3", location="R1", to_location="Z"),
     "not_found"),
    (Line(1, "A", D(1), warehouse="W3", to_warehouse="W3", location="Z", to_location="R1"),
     "not_found"),
    # between warehouses: the location of each is checked against its own warehouse
    (Line(1, "A", D(1), warehouse="W1", to_warehouse="W3", to_location="Z"), "not_found"),
    (Line(1, "A", D(1), warehouse="W3", to_warehouse="W1", location="Z"), "not_found"),
    (Line(1, "A", D(1), warehouse="W1", to_location="L1"), "invalid_document"),
])
def test_bad_move_lines_are_refused_at_creation(shop: Shop, line: Line, code: str) -> None:
    shop.jxc.define_warehouse(Warehouse("W3", "racks", locations=("R1", "R2")))
    doc_type = "adjustment" if not line.to_warehouse else "transfer"
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.make(doc_type, [line])
    assert info.value.code == code
    assert shop.snapshot() == before


def test_a_count_freeze_blocks_a_move(shop: Shop) -> None:
    stocked(shop)
    pc = shop.docs.submit(shop.make("stock_count", [Line(1, "A", D(0), warehouse="W1",
                                                         location="L1")]).doc_id, BOSS)
    tr = shop.approved("transfer", [Line(1, "A", D(1), warehouse="W1", to_warehouse="W1",
                                         location="L1", to_location="L2")])
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.post(tr, BOSS)
    assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "L1")
    assert shop.snapshot() == before
    shop.docs.record_count(pc.doc_id, {1: D(10)})
    shop.docs.approve(pc.doc_id, BOSS)
    shop.docs.post(pc.doc_id, BOSS)  # the freeze ends
    shop.docs.post(tr, BOSS)
    assert rows(shop) == {("L1", ""): D(9), ("L2", ""): D(11)}

"""Transfer documents between warehouses (调拨单) whose lines name locations: ``location`` in
the source (strictly), ``to_location`` in the target; cancelling one (红冲) takes the units
back from where they landed and puts them back on the rows they left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal


def rows(shop: Shop, wh: str, item: str = "A") -> dict[tuple[str, str], Decimal]:
    return {(b.location, b.lot): b.on_hand for b in shop.jxc.balances()
            if (b.item, b.warehouse) == (item, wh) and b.on_hand}


def entries(shop: Shop, doc_id: str, item: str = "A"
            ) -> list[tuple[str, str, str, Decimal, Decimal]]:
    return [(x.entry.kind, x.entry.warehouse, x.entry.location, x.entry.quantity,
             x.entry.value) for x in shop.jxc.ledger(item) if x.entry.doc_id == doc_id]


def stocked(shop: Shop) -> None:
    """A (FIFO) in W1: 10 @ 10 at L1, then 10 @ 14 at L2."""
    shop.run("adjustment", [Line(1, "A", D(10), D(10), warehouse="W1", location="L1")])
    shop.run("adjustment", [Line(1, "A", D(10), D(14), warehouse="W1", location="L2")])


def test_a_line_leaves_its_location_and_lands_at_its_to_location(shop: Shop) -> None:
    stocked(shop)
    doc = shop.run("transfer", [Line(1, "A", D(4), warehouse="W1", to_warehouse="W2",
                                     location="L2", to_location="R1")])
    assert entries(shop, doc.doc_id) == [("transfer_out", "W1", "L2", D(-4), D("-40.00")),
                                         ("transfer_in", "W2", "R1", D(4), D("40.00"))]
    assert doc.attributes["sent"] == {"1": [["L2", "", "4"]]}
    assert rows(shop, "W1") == {("L1", ""): D(10), ("L2", ""): D(6)}
    assert rows(shop, "W2") == {("R1", ""): D(4)}
    assert shop.counters(doc.doc_id, 1, "moved", "value") == {"moved": D(4),
                                                              "value": D("40.00")}
    shop.check_books()


def test_a_line_naming_a_location_is_strict(shop: Shop) -> None:
    stocked(shop)
    tr = shop.approved("transfer", [Line(1, "A", D(11), warehouse="W1", to_warehouse="W2",
                                         location="L1")])
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.post(tr, BOSS)
    assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "L1")
    assert shop.snapshot() == before


def test_unknown_target_location_is_refused_at_creation(shop: Shop) -> None:
    shop.jxc.define_warehouse(Warehouse("W2", "second", locations=("R1", "R2")))
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.make("transfer", [Line(1, "A", D(1), warehouse="W1", to_warehouse="W2",
                                    to_location="Z")])
    assert (info.value.code, info.value.data["kind"]) == ("not_found", "location")
    assert shop.snapshot() == before


def test_cancelling_puts_the_units_back_on_their_rows(shop: Shop) -> None:
    stocked(shop)
    value_before = shop.value("A", "W1")
    # no location named: taken from L1 (all of it) and L2, landing at R1
    doc = shop.run("transfer", [Line(1, "A", D(13), warehouse="W1", to_warehouse="W2",
                                     to_location="R1")])
    assert doc.attributes["sent"] == {"1": [["L1", "", "10"], ["L2", "", "3"]]}
    assert rows(shop, "W1") == {("L2", ""): D(7)}
    assert rows(shop, "W2") == {("R1", ""): D(13)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert shop.docs.get(doc.doc_id).state == State.CANCELLED
    assert [(k, wh, loc, q) for k, wh, loc, q, _ in entries(shop, f"{doc.doc_id}-R")] == [
        ("transfer_out", "W2", "R1", D(-10)), ("transfer_in", "W1", "L1", D(10)),
        ("transfer_out", "W2", "R1", D(-3)), ("transfer_in", "W1", "L2", D(3))]
    assert rows(shop, "W1") == {("L1", ""): D(10), ("L2", ""): D(10)}
    assert rows(shop, "W2") == {}
    assert (shop.value("A", "W1"), shop.value("A", "W2")) == (value_before, D("0.00"))
    assert shop.roles(doc.doc_id) == {"inventory": D(0)}
    shop.check_books()


def test_cancelling_takes_back_from_the_landing_location_only(shop: Shop) -> None:
    stocked(shop)
    doc = shop.run("transfer", [Line(1, "A", D(4), warehouse="W1", to_warehouse="W2",
                                     location="L1", to_location="R1")])
    shop.jxc.receive("A", "W2", D(9), D(1), location="R2")  # other stock in W2
    shop.jxc.move("A", "W2", D(1), from_location="R1", to_location="R2")
    before = shop.snapshot()
    with pytest.raises(JxcError) as info:
        shop.docs.cancel(doc.doc_id, BOSS)
    assert (info.value.code, info.value.data["location"]) == ("insufficient_stock", "R1")
    assert shop.snapshot() == before
    shop.jxc.move("A", "W2", D(1), from_location="R2", to_location="R1")
    shop.docs.cancel(doc.doc_id, BOSS)
    assert rows(shop, "W1") == {("L1", ""): D(10), ("L2", ""): D(10)}
    assert rows(shop, "W2") == {("R2", ""): D(9)}


def test_through_in_transit_and_back(shop: Shop) -> None:
    shop.jxc.define_warehouse(Warehouse("T", "on the road", in_transit=True))
    stocked(shop)
    out = shop.run("transfer", [Line(1, "A", D(5), warehouse="W1", to_warehouse="T",
                                     location="L2")])
    arrive = shop.run("transfer", [Line(1, "A", D(5), warehouse="T", to_warehouse="W2",
                                        to_location="R2")])
    assert rows(shop, "T") == {} and rows(shop, "W2") == {("R2", ""): D(5)}
    assert shop.value("A", "W2") == D("50.00")  # FIFO: the oldest layer, wherever they lay
    shop.docs.cancel(arrive.doc_id, BOSS)  # back on the road
    assert rows(shop, "T") == {("", ""): D(5)} and rows(shop, "W2") == {}
    assert out.attributes["sent"] == {"1": [["L2", "", "5"]]}
    assert shop.value("A", "T") == D("50.00")


def test_a_document_posted_before_lines_had_locations_cancels_as_before(shop: Shop) -> None:
    """Its transfer lines kept no source rows (``attributes["sent"]``): cancelled, the units
    leave the target from any row and go back to the source's row without a location."""
    shop.stock_in("A", D(6), D(10))
    doc = shop.run("transfer", [Line(1, "A", D(4), warehouse="W1", to_warehouse="W2")])
    data = doc.attributes
    with shop.jxc.storage.unit_of_work() as uow:  # as the document was stored then
        stored = uow.documents.get(doc.doc_id)
        assert stored is not None and data["sent"] == {"1": [["", "", "4"]]}
        stored["attributes"] = {k: v for k, v in stored["attributes"].items() if k != "sent"}
        uow.documents.put(doc.doc_id, doc.doc_type.value, doc.state.value, stored)
        uow.commit()
    assert "sent" not in shop.docs.get(doc.doc_id).attributes
    shop.jxc.move("A", "W2", D(4), from_location="", to_location="R1")  # put away since
    shop.docs.cancel(doc.doc_id, BOSS)
    assert [(k, wh, loc, q) for k, wh, loc, q, _ in entries(shop, f"{doc.doc_id}-R")] == [
        ("transfer_out", "W2", "R1", D(-4)), ("transfer_in", "W1", "", D(4))]
    assert rows(shop, "W1") == {("", ""): D(6)} and rows(shop, "W2") == {}
    shop.check_books()


def test_cancelling_puts_each_picked_lot_back(shop: Shop) -> None:
    shop.jxc.define_item(Item("P", "perishable", lot_tracked=True))
    shop.run("adjustment", [
        Line(1, "P", D(3), D(1), warehouse="W1", location="L1", lot="LATE",
             expiry=dt.date(2026, 12, 1)),
        Line(2, "P", D(3), D(2), warehouse="W1", location="L1", lot="SOON",
             expiry=dt.date(2026, 6, 1)),
        Line(3, "P", D(9), D(3), warehouse="W1", location="L2", lot="SOON")])
    doc = shop.run("transfer", [Line(1, "P", D(5), warehouse="W1", to_warehouse="W2",
                                     location="L1", to_location="R1")])
    assert doc.attributes["sent"] == {"1": [["L1", "SOON", "3"], ["L1", "LATE", "2"]]}
    assert rows(shop, "W2", "P") == {("R1", "SOON"): D(3), ("R1", "LATE"): D(2)}
    shop.docs.cancel(doc.doc_id, BOSS)
    assert rows(shop, "W1", "P") == {("L1", "LATE"): D(3), ("L1", "SOON"): D(3),
                                     ("L2", "SOON"): D(9)}
    assert rows(shop, "W2", "P") == {}
    assert shop.jxc.balance("P", "W2").value == D("0.00")

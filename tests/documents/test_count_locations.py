"""Stock counts by location (库位盘点, domain rules 3 and 5): a count line that names a location
counts that location's stock — its book quantity, its freeze, its sheet and its variance; a line
without a location counts the whole warehouse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.documents.codec import document_to_data
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal


def located(shop: Shop) -> None:
    """W1 with locations L1 and L2; C (FIFO): 5 @ 1.00 in L1, then 5 @ 2.00 in L2."""
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("L1", "L2")))
    shop.run("adjustment", [Line(1, "C", D(5), D(1), warehouse="W1", location="L1"),
                            Line(2, "C", D(5), D(2), warehouse="W1", location="L2")])


def rows(shop: Shop, item: str = "C") -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(location, lot) -> (on hand, held) of the item's rows in W1 that are not all zero."""
    return {(b.location, b.lot): (b.on_hand, b.held) for b in shop.jxc.balances()
            if b.item == item and b.warehouse == "W1" and (b.on_hand or b.held)}


def count(shop: Shop, lines: list[Line], counted: dict[int, Decimal] | None = None
          ) -> Document:
    """A submitted count of ``lines``; with ``counted``, counted, approved and posted."""
    pc = shop.docs.submit(shop.make("stock_count", lines).doc_id, BOSS)
    if counted is None:
        return pc
    shop.docs.record_count(pc.doc_id, counted)
    shop.docs.approve(pc.doc_id, BOSS)
    return shop.docs.post(pc.doc_id, BOSS)


def moves(shop: Shop, doc_id: str, item: str = "C") -> list[tuple[str, str, Decimal, Decimal]]:
    """(location, lot, quantity, value) of the ledger entries of a document."""
    return [(x.entry.location, x.entry.lot, x.entry.quantity, x.entry.value)
            for x in shop.jxc.ledger(item) if x.entry.doc_id == doc_id]


def test_a_location_counted_right_books_nothing(shop: Shop) -> None:
    """The example: 5 in L1 and 5 in L2; a line for L1 counted 5 books nothing (it used to
    compare with the warehouse's 10 and book -5 out of L1)."""
    located(shop)
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L1")])
    assert pc.attributes == {"book": {"1": "5"}, "held": {"1": [["L1", "", "5"]]}}
    assert rows(shop) == {("L1", ""): (5, 5), ("L2", ""): (5, 0)}  # no row held without stock
    c = shop.jxc.balance("C", "W1")
    assert (c.on_hand, c.held, c.available) == (10, 5, 5)
    assert shop.docs.count_sheet(pc.doc_id, blind=False) == [
        {"line_no": 1, "item": "C", "warehouse": "W1", "location": "L1", "lot": "",
         "counted": None, "unit": "个", "book": D(5), "book_unit": "个"}]
    shop.docs.record_count(pc.doc_id, {1: D(5)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert pc.counters[1] == {"quantity": D(0), "value": D(0)}
    assert moves(shop, pc.doc_id) == []
    assert rows(shop) == {("L1", ""): (5, 0), ("L2", ""): (5, 0)}
    assert (shop.qty("C"), shop.value("C")) == (10, D("15.00"))
    shop.check_books()


def test_losses_and_gains_go_to_the_lines_locations_and_cancel_takes_them_back(
        shop: Shop) -> None:
    """L1 counted 3 (book 5): -2 out of L1, at FIFO (the oldest layer, 1.00); L2 counted 7
    (book 5): +2 into L2 at the average 15.00 / 10. Cancelled, both locations are as before."""
    located(shop)
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L1"),
                      Line(2, "C", D(0), warehouse="W1", location="L2")],
               {1: D(3), 2: D(7)})
    assert pc.attributes["book"] == {"1": "5", "2": "5"}
    assert pc.counters == {1: {"quantity": D(-2), "value": D("2.00")},
                           2: {"quantity": D(2), "value": D("3.00")}}
    assert moves(shop, pc.doc_id) == [("L1", "", D(-2), D("-2.00")),
                                      ("L2", "", D(2), D("3.00"))]
    assert rows(shop) == {("L1", ""): (3, 0), ("L2", ""): (7, 0)}
    assert shop.roles(pc.doc_id) == {"inventory": D("1.00"), "count_gain_loss": D("-1.00")}
    shop.check_books()
    shop.docs.cancel(pc.doc_id, BOSS)
    # the cancellation undoes the lines last first (the mirror of the posting)
    assert moves(shop, f"{pc.doc_id}-R") == [("L2", "", D(-2), D("-3.00")),
                                             ("L1", "", D(2), D("2.00"))]
    assert rows(shop) == {("L1", ""): (5, 0), ("L2", ""): (5, 0)}
    assert (shop.qty("C"), shop.value("C")) == (10, D("15.00"))
    assert shop.roles(pc.doc_id) == {"inventory": D(0), "count_gain_loss": D(0)}
    shop.check_books()


def test_a_located_line_without_a_lot_counts_and_loses_every_lot_of_its_location(
        shop: Shop) -> None:
    """C in L1: lot X (expiry 04-01) 3, lot Y (expiry 05-01) 4; in L2: lot X 6. A line for L1
    without a lot: book 7, frozen lot by lot in L1 only; counted 2, the loss of 5 leaves L1
    first expired first out (X 3, then Y 2); L2 is not touched. Cancelled, lot by lot back."""
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("L1", "L2")))
    shop.run("adjustment", [
        Line(1, "C", D(3), D(1), warehouse="W1", location="L1", lot="X",
             expiry=dt.date(2026, 4, 1)),
        Line(2, "C", D(4), D(2), warehouse="W1", location="L1", lot="Y",
             expiry=dt.date(2026, 5, 1)),
        Line(3, "C", D(6), D(3), warehouse="W1", location="L2", lot="X")])
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L1")])
    assert pc.attributes == {"book": {"1": "7"},
                             "held": {"1": [["L1", "X", "3"], ["L1", "Y", "4"]]}}
    assert rows(shop) == {("L1", "X"): (3, 3), ("L1", "Y"): (4, 4), ("L2", "X"): (6, 0)}
    shop.docs.record_count(pc.doc_id, {1: D(2)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert pc.counters[1] == {"quantity": D(-5), "value": D("7.00")}  # FIFO: 3 @ 1 + 2 @ 2
    assert moves(shop, pc.doc_id) == [("L1", "X", D(-3), D("-3.00")),
                                      ("L1", "Y", D(-2), D("-4.00"))]
    assert rows(shop) == {("L1", "Y"): (2, 0), ("L2", "X"): (6, 0)}
    assert pc.attributes["held"] == {}
    shop.check_books()
    shop.docs.cancel(pc.doc_id, BOSS)
    assert moves(shop, f"{pc.doc_id}-R") == [("L1", "X", D(3), D("3.00")),
                                             ("L1", "Y", D(2), D("4.00"))]
    assert rows(shop) == {("L1", "X"): (3, 0), ("L1", "Y"): (4, 0), ("L2", "X"): (6, 0)}
    assert (shop.qty("C"), shop.value("C")) == (13, D("29.00"))
    shop.check_books()


def test_a_located_line_with_a_lot_counts_that_lot_in_that_location(shop: Shop) -> None:
    """Lot X: 3 in L1 and 6 in L2. A line for lot X in L2 counted 5: book 6, -1 out of L2."""
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("L1", "L2")))
    shop.run("adjustment", [Line(1, "C", D(3), D(1), warehouse="W1", location="L1", lot="X"),
                            Line(2, "C", D(6), D(1), warehouse="W1", location="L2", lot="X")])
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L2", lot="X")])
    assert pc.attributes == {"book": {"1": "6"}, "held": {"1": [["L2", "X", "6"]]}}
    assert rows(shop) == {("L1", "X"): (3, 0), ("L2", "X"): (6, 6)}
    shop.docs.record_count(pc.doc_id, {1: D(5)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert moves(shop, pc.doc_id) == [("L2", "X", D(-1), D("-1.00"))]
    assert rows(shop) == {("L1", "X"): (3, 0), ("L2", "X"): (5, 0)}
    shop.check_books()


@pytest.mark.parametrize("method", ["fifo", "moving_average", "monthly_average",
                                    "specific_lot"])
def test_a_lot_tracked_item_counted_by_location(shop: Shop, method: str) -> None:
    """A lot-tracked item (its losses name lots): T in L1 lot A (expiry 05-01) 5, lot B
    (expiry 04-01) 5; in L2 lot B 5. L1 counted 3: -7 out of L1 (B 5, then A 2), L2 keeps its
    5; cancelled, L1 has its lots back, each at the value it left with."""
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("L1", "L2")))
    shop.jxc.define_item(Item("T", "tea", lot_tracked=True, costing_method=method))
    shop.run("adjustment", [
        Line(1, "T", D(5), D(1), warehouse="W1", location="L1", lot="A",
             expiry=dt.date(2026, 5, 1)),
        Line(2, "T", D(5), D(2), warehouse="W1", location="L1", lot="B",
             expiry=dt.date(2026, 4, 1)),
        Line(3, "T", D(5), D(3), warehouse="W1", location="L2", lot="B")])
    pc = count(shop, [Line(1, "T", D(0), warehouse="W1", location="L1")], {1: D(3)})
    assert pc.counters[1]["quantity"] == D(-7)
    assert [(loc, lot, q) for loc, lot, q, _ in moves(shop, pc.doc_id, "T")] == [
        ("L1", "B", D(-5)), ("L1", "A", D(-2))]
    assert rows(shop, "T") == {("L1", "A"): (3, 0), ("L2", "B"): (5, 0)}
    assert [[loc, lot, q] for loc, lot, q, _ in pc.attributes["loss_rows"]["1"]] == [
        ["L1", "B", "5"], ["L1", "A", "2"]]
    shop.docs.cancel(pc.doc_id, BOSS)
    assert [(loc, lot, q, v) for loc, lot, q, v in moves(shop, f"{pc.doc_id}-R", "T")] == [
        (loc, lot, -q, -v) for loc, lot, q, v in moves(shop, pc.doc_id, "T")]
    assert rows(shop, "T") == {("L1", "A"): (5, 0), ("L1", "B"): (5, 0), ("L2", "B"): (5, 0)}
    t = shop.jxc.balance("T", "W1")
    assert (t.on_hand, t.held, t.value) == (15, 0, D("30.00"))
    assert shop.net("inventory") == shop.stock_value() + t.value


def test_a_located_freeze_is_capped_by_what_the_warehouse_has_available(shop: Shop) -> None:
    """Reservations are per warehouse: with 8 of 10 reserved, a count of L1 freezes the 2 that
    are available (on L1's row); reserved stock stays deliverable."""
    located(shop)
    shop.run("sales_order", [Line(1, "C", D(8), D(5), warehouse="W1")], "C1")
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L1")])
    assert pc.attributes == {"book": {"1": "5"}, "held": {"1": [["L1", "", "2"]]}}
    assert rows(shop) == {("L1", ""): (5, 2), ("L2", ""): (5, 0)}
    shop.docs.cancel(pc.doc_id, BOSS)
    assert rows(shop) == {("L1", ""): (5, 0), ("L2", ""): (5, 0)}


def counted_empty_and_refused(shop: Shop, doc_id: str) -> pytest.ExceptionInfo[JxcError]:
    """Count line 1 as empty, approve, and post: refused for stock, and nothing written."""
    shop.docs.record_count(doc_id, {1: D(0)})
    shop.docs.approve(doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(doc_id, BOSS)
    assert err.value.code == "insufficient_stock"
    assert shop.snapshot() == before
    return err


def test_a_located_loss_of_held_stock_is_refused(shop: Shop) -> None:
    """L1 has 5, 3 of them on a quality hold: counted 0, the loss of 5 would take held units
    (the warehouse as a whole has 7 free): refused, naming the location; nothing written."""
    located(shop)
    shop.jxc.hold("C", "W1", D(3), location="L1")
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L1")])
    assert pc.attributes["held"] == {"1": [["L1", "", "2"]]}
    err = counted_empty_and_refused(shop, pc.doc_id)
    assert err.value.data == {"item": "C", "warehouse": "W1", "location": "L1", "lot": "",
                              "needed": D(5), "on_hand": D(2), "available": D(2),
                              "short": D(3)}
    assert rows(shop) == {("L1", ""): (5, 5), ("L2", ""): (5, 0)}


@pytest.mark.parametrize("end", ["post", "cancel"])
def test_reject_and_submit_again_release_and_freeze_the_location(shop: Shop, end: str) -> None:
    located(shop)
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1", location="L1")])
    draft = shop.docs.reject(pc.doc_id, BOSS)
    assert draft.state == State.DRAFT
    assert draft.attributes["held"] == {}
    assert rows(shop) == {("L1", ""): (5, 0), ("L2", ""): (5, 0)}
    shop.run("adjustment", [Line(1, "C", D(-1), warehouse="W1", location="L1")])
    pc = shop.docs.submit(pc.doc_id, BOSS)
    assert pc.attributes == {"book": {"1": "4"}, "held": {"1": [["L1", "", "4"]]}}
    assert rows(shop) == {("L1", ""): (4, 4), ("L2", ""): (5, 0)}
    if end == "post":
        shop.docs.record_count(pc.doc_id, {1: D(4)})
        shop.docs.approve(pc.doc_id, BOSS)
        pc = shop.docs.post(pc.doc_id, BOSS)
    else:
        pc = shop.docs.cancel(pc.doc_id, BOSS)
    assert pc.attributes["held"] == {}
    assert rows(shop) == {("L1", ""): (4, 0), ("L2", ""): (5, 0)}
    shop.check_books()


def test_a_line_without_a_location_still_counts_the_whole_warehouse(shop: Shop) -> None:
    """5 in L1 and 5 in L2; a line without a location: book 10; counted 9, -1 (FIFO 1.00)."""
    located(shop)
    pc = count(shop, [Line(1, "C", D(0), warehouse="W1")])
    assert pc.attributes == {"book": {"1": "10"}, "held": {"1": "10"}}
    shop.docs.record_count(pc.doc_id, {1: D(9)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert pc.counters[1] == {"quantity": D(-1), "value": D("1.00")}
    c = shop.jxc.balance("C", "W1")
    assert (c.on_hand, c.held, c.value) == (9, 0, D("14.00"))
    shop.check_books()


def test_two_location_lines_and_an_unlocated_line_overlap(shop: Shop) -> None:
    """L1 and L2 on two lines count different stock; a third line without a location counts
    the whole warehouse, L1 too: refused, nothing written."""
    located(shop)
    two = [Line(1, "C", D(0), warehouse="W1", location="L1"),
           Line(2, "C", D(0), warehouse="W1", location="L2")]
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.make("stock_count", [*two, Line(3, "C", D(0), warehouse="W1")])
    assert err.value.code == "duplicate_count_line"
    assert err.value.data == {"doc_id": "", "line": 3, "first": 1, "item": "C",
                              "warehouse": "W1", "lot": "", "location": ""}
    assert "1" in err.value.message("zh_CN") and "3" in err.value.message("zh_CN")
    assert shop.snapshot() == before
    pc = count(shop, two, {1: D(4), 2: D(6)})  # the two lines alone are a count
    assert pc.counters == {1: {"quantity": D(-1), "value": D("1.00")},
                           2: {"quantity": D(1), "value": D("1.50")}}
    assert rows(shop) == {("L1", ""): (4, 0), ("L2", ""): (6, 0)}
    shop.check_books()


#: two lines of C in W1: (fields of the 1st, fields of the 2nd, refused)
LOCATION_OVERLAPS: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"location": "L1"}, {"location": "L1"}, True),
    ({"location": "L1"}, {"location": "L2"}, False),
    ({"location": "L1"}, {}, True),  # no location: every location, L1 too
    ({}, {"location": "L2"}, True),
    ({"location": "L1", "lot": "X"}, {"location": "L1", "lot": "Y"}, False),
    ({"location": "L1", "lot": "X"}, {"location": "L1"}, True),  # no lot: every lot
    ({"location": "L1", "lot": "X"}, {"lot": "X"}, True),
    ({"location": "L1", "lot": "X"}, {"lot": "Y"}, False),
    ({"location": "L1"}, {"location": "L2", "lot": "X"}, False),
]


@pytest.mark.parametrize(("first", "second", "refused"), LOCATION_OVERLAPS)
def test_count_lines_overlap_by_lot_and_location(
        shop: Shop, first: dict[str, Any], second: dict[str, Any], refused: bool) -> None:
    line = Line(1, "C", D(0), warehouse="W1")
    lines = [attrs.evolve(line, **first), attrs.evolve(line, line_no=2, **second)]
    if not refused:
        assert shop.make("stock_count", lines).state == State.DRAFT
        return
    with pytest.raises(JxcError) as err:
        shop.make("stock_count", lines)
    assert (err.value.code, err.value.data["line"], err.value.data["first"]) == (
        "duplicate_count_line", 2, 1)
    assert shop.docs.ids() == []


def test_a_count_of_a_location_the_warehouse_does_not_have_is_refused(shop: Shop) -> None:
    """A line for a location W1 does not have would count nothing: refused when the count is
    created, nothing written."""
    located(shop)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1", location="L9")])
    assert err.value.code == "not_found"
    assert err.value.data == {"kind": "location", "key": "W1/L9"}
    assert shop.snapshot() == before


def test_a_located_count_submitted_by_an_earlier_version_releases_its_freeze(
        shop: Shop) -> None:
    """A count of L1 submitted before counts knew locations froze the warehouse's 10 on the
    row without a location (``held`` a quantity): posted now, it lets go of exactly that and
    books L1's own variance (counted 5, on hand 5 in L1: nothing)."""
    located(shop)
    pc = shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1", location="L1")])
    old = attrs.evolve(pc, state=State.SUBMITTED,
                       attributes={"book": {"1": "10"}, "held": {"1": "10"}})
    shop.jxc.hold("C", "W1", D(10))
    with shop.jxc.storage.unit_of_work() as uow:
        uow.documents.put(pc.doc_id, pc.doc_type.value, State.SUBMITTED.value,
                          document_to_data(old, compact=True))
        uow.commit()
    assert rows(shop) == {("", ""): (0, 10), ("L1", ""): (5, 0), ("L2", ""): (5, 0)}
    shop.docs.record_count(pc.doc_id, {1: D(5)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert pc.counters[1] == {"quantity": D(0), "value": D(0)}
    assert pc.attributes["held"] == {}
    assert rows(shop) == {("L1", ""): (5, 0), ("L2", ""): (5, 0)}
    shop.check_books()


@pytest.mark.parametrize("by", ["item", "warehouse"])
def test_an_item_that_may_go_negative_does_not_lose_held_units_either(shop: Shop, by: str
                                                                       ) -> None:
    """Negative stock allowed or not, a loss never takes what a row holds: the same loss of
    an item that allows negative stock (by its own policy, or by the warehouse's) is refused
    naming L1, nothing written; once the quality hold is released, the count posts and L1 is
    empty."""
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("L1", "L2"),
                                        allow_negative=True if by == "warehouse" else None))
    shop.jxc.define_item(Item("N", "nail", allow_negative=by == "item"))
    shop.run("adjustment", [Line(1, "N", D(5), D(1), warehouse="W1", location="L1"),
                            Line(2, "N", D(5), D(1), warehouse="W1", location="L2")])
    shop.jxc.hold("N", "W1", D(3), location="L1")
    pc = count(shop, [Line(1, "N", D(0), warehouse="W1", location="L1")])
    err = counted_empty_and_refused(shop, pc.doc_id)
    assert {k: v for k, v in err.value.data.items() if k != "lines"} == {
        "item": "N", "warehouse": "W1", "location": "L1", "needed": D(5), "on_hand": D(2),
        "available": D(2), "short": D(3)}
    shop.jxc.hold("N", "W1", D(-3), location="L1")
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert pc.attributes["loss_rows"] == {"1": [["L1", "", "5", "5.00"]]}
    assert rows(shop, "N") == {("L2", ""): (5, 0)}


def test_a_count_cannot_start_on_stock_another_open_count_counts(shop: Shop) -> None:
    """Two open counts of the same stock: the second froze nothing (the first held it all)
    and both posted their variance (on hand 10, both counted 8: on hand 6). The second one's
    submit is refused (``count_overlap``) and it stays a draft; counts of other stock (another
    location, another item) start beside it; once the first is posted the second starts."""
    located(shop)
    first = count(shop, [Line(1, "C", D(0), warehouse="W1")])
    second = shop.make("stock_count", [Line(1, "A", D(0), warehouse="W1"),
                                       Line(2, "C", D(0), warehouse="W1", location="L2")])
    with pytest.raises(JxcError) as info:
        shop.docs.submit(second.doc_id, BOSS)
    assert info.value.code == "count_overlap"
    assert (info.value.data["other"], info.value.data["first"], info.value.data["line"]) == (
        first.doc_id, 1, 2)
    assert shop.docs.get(second.doc_id).state == State.DRAFT
    # the first holds the warehouse's 10 on the row without a location, as before
    assert rows(shop) == {("L1", ""): (5, 0), ("L2", ""): (5, 0), ("", ""): (0, 10)}
    other = count(shop, [Line(1, "A", D(0), warehouse="W1")])  # other stock: fine
    assert other.state == State.SUBMITTED
    shop.docs.record_count(first.doc_id, {1: D(8)})
    shop.docs.approve(first.doc_id, BOSS)
    shop.docs.post(first.doc_id, BOSS)
    shop.docs.cancel(other.doc_id, BOSS)
    assert shop.qty("C") == 8
    second = shop.docs.submit(second.doc_id, BOSS)
    book = D(second.attributes["book"]["2"])
    shop.docs.record_count(second.doc_id, {1: D(0), 2: D(3)})
    shop.docs.approve(second.doc_id, BOSS)
    shop.docs.post(second.doc_id, BOSS)
    assert shop.qty("C") == 8 - (book - 3)  # only L2's own variance, once
    shop.check_books()

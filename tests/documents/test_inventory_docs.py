"""Inventory documents (domain rules 5): transfer, stock count, adjustment, landed cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.documents.codec import document_to_data
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal


def rows(shop: Shop, doc_id: str) -> list[tuple[str, str, Decimal, Decimal]]:
    return [(r.role, r.warehouse, r.debit, r.credit) for r in shop.journal(doc_id)]


# -- transfer --------------------------------------------------------------------------------
def test_transfer_moves_value_at_cost(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    shop.stock_in("A", D(10), D(14))
    tr = shop.run("transfer", [Line(1, "A", D(15), warehouse="W1", to_warehouse="W2")])
    assert shop.counters(tr.doc_id, 1, "moved", "value") == {
        "moved": D(15), "value": D("170.00")}  # 100 + 5 x 14
    assert rows(shop, tr.doc_id) == [("inventory", "W2", D("170.00"), D(0)),
                                     ("inventory", "W1", D(0), D("170.00"))]
    assert (shop.qty("A", "W1"), shop.value("A", "W1")) == (5, D("70.00"))
    assert (shop.qty("A", "W2"), shop.value("A", "W2")) == (15, D("170.00"))
    shop.check_books()
    # the units arrive as one layer of the target at the moved value: 10 x 170 / 15
    out = shop.run("adjustment", [Line(1, "A", D(-10), warehouse="W2")])
    assert out.counters[1]["value"] == D("113.33")
    assert shop.value("A", "W2") == D("56.67")
    shop.check_books()


def test_transfer_under_moving_average(shop: Shop) -> None:
    shop.stock_in("B", D(3), D("10.00"))
    shop.stock_in("B", D(3), D("10.01"))  # 60.03 for 6
    tr = shop.run("transfer", [Line(1, "B", D(4), warehouse="W1", to_warehouse="W2")])
    assert tr.counters[1]["value"] == D("40.02")  # 4 x 60.03 / 6 = 40.02
    assert (shop.value("B", "W1"), shop.value("B", "W2")) == (D("20.01"), D("40.02"))
    shop.check_books()


def test_cancel_of_a_transfer_brings_the_goods_back(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    tr = shop.run("transfer", [Line(1, "A", D(6), warehouse="W1", to_warehouse="W2")])
    shop.docs.cancel(tr.doc_id, BOSS)
    assert (shop.qty("A", "W1"), shop.value("A", "W1")) == (10, D("100.00"))
    assert (shop.qty("A", "W2"), shop.value("A", "W2")) == (0, D(0))
    assert shop.net("inventory", tr.doc_id) == 0
    shop.check_books()


def test_cancel_of_a_transfer_whose_units_left_the_target_is_refused(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    tr = shop.run("transfer", [Line(1, "A", D(6), warehouse="W1", to_warehouse="W2")])
    shop.run("adjustment", [Line(1, "A", D(-1), warehouse="W2")])
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(tr.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert shop.snapshot() == before


def test_transfer_cannot_take_reserved_stock(shop: Shop) -> None:
    shop.stock_in("A", D(20), D(10))
    shop.run("sales_order", [Line(1, "A", D(15), D(20), warehouse="W1")], "C1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.run("transfer", [Line(1, "A", D(6), warehouse="W1", to_warehouse="W2")])
    assert err.value.code == "insufficient_stock"
    after = shop.snapshot()
    assert (after["ledger"], after["journal"], after["balances"]) == (
        before["ledger"], before["journal"], before["balances"])


# -- stock count -----------------------------------------------------------------------------
def open_count(shop: Shop) -> Document:
    """A: 10 @ 10 + 10 @ 13 (230.00) with 5 reserved by a sales order; C: 4 @ 5.00."""
    shop.stock_in("A", D(10), D(10))
    shop.stock_in("A", D(10), D(13))
    shop.stock_in("C", D(4), D(5))
    shop.run("sales_order", [Line(1, "A", D(5), D(20), warehouse="W1")], "C1")
    pc = shop.make("stock_count", [Line(1, "A", D(0), warehouse="W1"),
                                   Line(2, "C", D(0), warehouse="W1")])
    return shop.docs.submit(pc.doc_id, BOSS)


def test_submit_freezes_what_is_available(shop: Shop) -> None:
    pc = open_count(shop)
    assert pc.attributes == {"book": {"1": "20", "2": "4"}, "held": {"1": "15", "2": "4"}}
    a = shop.jxc.balance("A", "W1")
    assert (a.on_hand, a.reserved, a.held, a.available) == (20, 5, 15, 0)
    assert shop.jxc.balance("C", "W1").held == 4
    with pytest.raises(JxcError) as err:  # frozen stock cannot leave
        shop.run("adjustment", [Line(1, "C", D(-1), warehouse="W1")])
    assert err.value.code == "insufficient_stock"


def test_count_sheets_blind_and_not(shop: Shop) -> None:
    pc = open_count(shop)
    blind = shop.docs.count_sheet(pc.doc_id)
    assert blind == [
        {"line_no": 1, "item": "A", "warehouse": "W1", "location": "", "lot": "",
         "counted": None, "unit": "个"},
        {"line_no": 2, "item": "C", "warehouse": "W1", "location": "", "lot": "",
         "counted": None, "unit": "个"}]
    assert all("book" not in row for row in blind)
    shop.docs.record_count(pc.doc_id, {2: D(6)})
    open_sheet = shop.docs.count_sheet(pc.doc_id, blind=False)
    assert [(r["book"], r["counted"]) for r in open_sheet] == [(D(20), None), (D(4), D(6))]


#: (counted A, counted C, A difference, A value moved, C value moved, A value, C value)
COUNTS = [
    (17, 6, -3, "30.00", "10.00", "200.00", "30.00"),  # loss FIFO @ 10; gain @ average 5
    (20, 4, 0, "0", "0", "230.00", "20.00"),
    (21, 3, 1, "11.50", "5.00", "241.50", "15.00"),  # gain at the average 230 / 20
    (5, 0, -15, "165.00", "20.00", "65.00", "0.00"),  # 100 + 5 x 13; all unreserved
]


@pytest.mark.parametrize(("a", "c", "diff", "a_moved", "c_moved", "a_value", "c_value"),
                         COUNTS)
def test_post_books_gain_and_loss(shop: Shop, a: int, c: int, diff: int, a_moved: str,
                                  c_moved: str, a_value: str, c_value: str) -> None:
    pc = open_count(shop)
    shop.docs.record_count(pc.doc_id, {1: D(a), 2: D(c)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert shop.counters(pc.doc_id, 1, "quantity", "value") == {
        "quantity": D(diff), "value": D(a_moved)}
    assert shop.counters(pc.doc_id, 2, "quantity", "value") == {
        "quantity": D(c - 4), "value": D(c_moved)}
    sign = 1 if diff > 0 else -1
    assert shop.roles(pc.doc_id).get("inventory", D(0)) == (
        sign * D(a_moved) + (1 if c > 4 else -1) * D(c_moved))
    assert shop.net("count_gain_loss", pc.doc_id) == -shop.net("inventory", pc.doc_id)
    a_bal, c_bal = shop.jxc.balance("A", "W1"), shop.jxc.balance("C", "W1")
    assert (a_bal.on_hand, a_bal.held, a_bal.reserved, a_bal.value) == (a, 0, 5, D(a_value))
    assert (c_bal.on_hand, c_bal.held, c_bal.value) == (c, 0, D(c_value))
    assert pc.attributes["held"] == {}
    assert len(shop.jxc.reservations()) == 1  # the open reservation is untouched
    shop.check_books()


def test_count_loss_journal_rows(shop: Shop) -> None:
    pc = open_count(shop)
    shop.docs.record_count(pc.doc_id, {1: D(17), 2: D(6)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    assert rows(shop, pc.doc_id) == [
        ("inventory", "W1", D(0), D("30.00")), ("count_gain_loss", "W1", D("30.00"), D(0)),
        ("inventory", "W1", D("10.00"), D(0)), ("count_gain_loss", "W1", D(0), D("10.00"))]


def test_count_cannot_book_a_loss_of_reserved_stock(shop: Shop) -> None:
    pc = open_count(shop)
    shop.docs.record_count(pc.doc_id, {1: D(4), 2: D(4)})  # 16 missing, only 15 unreserved
    shop.docs.approve(pc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(pc.doc_id, BOSS)
    assert err.value.code == "insufficient_stock"
    assert shop.snapshot() == before
    assert shop.jxc.balance("A", "W1").held == 15  # still frozen


def test_count_input_is_checked(shop: Shop) -> None:
    pc = open_count(shop)
    with pytest.raises(JxcError) as neg:
        shop.docs.record_count(pc.doc_id, {1: D(-1)})
    assert neg.value.code == "invalid_quantity"
    with pytest.raises(TypeError):
        shop.docs.record_count(pc.doc_id, {1: 1.5})  # type: ignore[dict-item]
    shop.docs.record_count(pc.doc_id, {1: D(20)})  # line 2 not counted
    shop.docs.approve(pc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(pc.doc_id, BOSS)
    assert err.value.code == "invalid_document"
    assert "not been counted" in err.value.data["reason"]
    assert shop.snapshot() == before
    with pytest.raises(JxcError) as late:  # counting is for open (submitted) counts
        shop.docs.record_count(pc.doc_id, {2: D(4)})
    assert late.value.code == "invalid_transition"
    assert late.value.data == {"state": "approved", "action": "count"}


def test_counting_a_line_the_count_does_not_have_is_refused(shop: Shop) -> None:
    """Line 7 of a count of lines 1 and 2: refused, naming the line, and none of the other
    lines given is counted (line "1", a text, is a TypeError)."""
    pc = open_count(shop)
    shop.docs.record_count(pc.doc_id, {1: D(20)})
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.record_count(pc.doc_id, {2: D(4), 7: D(9)})
    assert err.value.code == "not_found"
    assert err.value.data == {"kind": "line", "key": f"{pc.doc_id}/7"}
    assert f"{pc.doc_id}/7" in err.value.message("zh_CN")
    # a line number as text is a TypeError naming it (it used to read as "line 1 not found"
    # while the count has a line 1), and so are a list of pairs and a float
    with pytest.raises(TypeError, match="counted: line numbers are int, got str '1'"):
        shop.docs.record_count(pc.doc_id, {"1": D(4)})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="counted must be a mapping"):
        shop.docs.record_count(pc.doc_id, [(1, D(4))])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"counted\[1\]"):
        shop.docs.record_count(pc.doc_id, {1: 4.0})  # type: ignore[dict-item]
    assert shop.snapshot() == before
    assert [r["counted"] for r in shop.docs.count_sheet(pc.doc_id)] == [D(20), None]


def test_cancel_of_an_open_count_releases_the_hold(shop: Shop) -> None:
    pc = open_count(shop)
    cancelled = shop.docs.cancel(pc.doc_id, BOSS)
    assert cancelled.state == State.CANCELLED
    assert cancelled.attributes["held"] == {}
    a = shop.jxc.balance("A", "W1")
    assert (a.held, a.available) == (0, 15)
    assert shop.jxc.balance("C", "W1").held == 0


@pytest.mark.parametrize("end", ["post", "cancel"])
def test_reject_of_an_open_count_releases_the_hold_and_submit_freezes_again(
        shop: Shop, end: str) -> None:
    """Rejected (back to draft), a count no longer freezes its stock; submitted again it
    freezes what is available then; posting or cancelling it releases exactly that."""
    pc = open_count(shop)
    draft = shop.docs.reject(pc.doc_id, BOSS)
    assert draft.state == State.DRAFT
    assert draft.attributes["held"] == {}
    a = shop.jxc.balance("A", "W1")
    assert (a.held, a.available) == (0, 15)
    assert shop.jxc.balance("C", "W1").held == 0
    shop.run("adjustment", [Line(1, "C", D(-1), warehouse="W1")])  # free to leave meanwhile
    pc = shop.docs.submit(pc.doc_id, BOSS)
    assert pc.attributes == {"book": {"1": "20", "2": "3"}, "held": {"1": "15", "2": "3"}}
    assert (shop.jxc.balance("A", "W1").held, shop.jxc.balance("C", "W1").held) == (15, 3)
    if end == "post":
        shop.docs.record_count(pc.doc_id, {1: D(20), 2: D(3)})
        shop.docs.approve(pc.doc_id, BOSS)
        pc = shop.docs.post(pc.doc_id, BOSS)
    else:
        pc = shop.docs.cancel(pc.doc_id, BOSS)
    assert pc.attributes["held"] == {}
    a = shop.jxc.balance("A", "W1")
    assert (a.on_hand, a.held, a.reserved, a.available) == (20, 0, 5, 15)
    assert (shop.jxc.balance("C", "W1").on_hand, shop.jxc.balance("C", "W1").held) == (3, 0)
    shop.check_books()


def test_a_count_rejected_then_counted_in_full_leaves_nothing_held(shop: Shop) -> None:
    """The review's case: 10 on hand, submit, reject, submit, count 10, post: held 0."""
    shop.stock_in("C", D(10), D(1))
    pc = shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1")])
    shop.docs.submit(pc.doc_id, BOSS)
    shop.docs.reject(pc.doc_id, BOSS)
    shop.docs.submit(pc.doc_id, BOSS)
    shop.docs.record_count(pc.doc_id, {1: D(10)})
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)
    c = shop.jxc.balance("C", "W1")
    assert (c.on_hand, c.held, c.available) == (10, 0, 10)
    assert pc.counters[1] == {"quantity": D(0), "value": D(0)}


def test_a_draft_count_that_still_holds_stock_lets_go_of_it_when_submitted(shop: Shop) -> None:
    """A count sent back to draft before rejecting released its freeze (or written so by
    another program) still holds its units: submitting it again releases them first and
    freezes anew, so that posting releases exactly what it holds."""
    pc = open_count(shop)
    data = document_to_data(attrs.evolve(pc, state=State.DRAFT), compact=True)
    with shop.jxc.storage.unit_of_work() as uow:  # a draft holding A 15 and C 4
        uow.documents.put(pc.doc_id, pc.doc_type.value, State.DRAFT.value, data)
        uow.commit()
    assert shop.jxc.balance("A", "W1").held == 15
    pc = shop.docs.submit(pc.doc_id, BOSS)
    assert pc.attributes["held"] == {"1": "15", "2": "4"}
    assert (shop.jxc.balance("A", "W1").held, shop.jxc.balance("C", "W1").held) == (15, 4)
    shop.docs.record_count(pc.doc_id, {1: D(20), 2: D(4)})
    shop.docs.approve(pc.doc_id, BOSS)
    shop.docs.post(pc.doc_id, BOSS)
    assert (shop.jxc.balance("A", "W1").held, shop.jxc.balance("C", "W1").held) == (0, 0)
    shop.check_books()


def test_a_count_with_the_same_stock_on_two_lines_is_refused(shop: Shop) -> None:
    """On hand 10, two lines of the same balance both counted 8 would book -2 twice (on hand
    6): refused when the count is created, nothing written."""
    shop.stock_in("C", D(10), D(1))
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1"),
                                  Line(2, "C", D(0), warehouse="W1")])
    assert err.value.code == "duplicate_count_line"
    assert err.value.data == {"doc_id": "", "line": 2, "first": 1, "item": "C",
                              "warehouse": "W1", "lot": "", "location": ""}
    assert "1" in err.value.message("zh_CN") and "2" in err.value.message("zh_CN")
    assert shop.snapshot() == before
    assert (shop.qty("C"), shop.jxc.balance("C", "W1").held) == (10, 0)


#: two lines of one count: (changes of the 2nd line from the 1st (C in W1), refused)
OVERLAPS = [
    ({}, True),
    ({"unit": "个"}, True),  # the same item in its base unit named
    ({"location": "L2"}, False),  # another location's stock
    ({"location": ""}, True),  # no location: the whole warehouse, L1 too
    ({"lot": "L1"}, True),  # the 1st line (no lot) counts every lot, L1 too
    ({"item": "B"}, False),
    ({"warehouse": "W2"}, False),
]


@pytest.mark.parametrize(("changes", "refused"), OVERLAPS)
def test_two_count_lines_may_not_count_the_same_stock(
        shop: Shop, changes: dict[str, str], refused: bool) -> None:
    first = Line(1, "C", D(0), warehouse="W1", location="L1")
    lines = [first, attrs.evolve(first, line_no=2, **changes)]
    if not refused:
        assert shop.make("stock_count", lines).state == State.DRAFT
        return
    with pytest.raises(JxcError) as err:
        shop.make("stock_count", lines)
    assert err.value.code == "duplicate_count_line"
    assert shop.docs.ids() == []


def test_count_lines_of_different_lots_are_accepted(shop: Shop) -> None:
    lots = [Line(1, "C", D(0), warehouse="W1", lot="L1"),
            Line(2, "C", D(0), warehouse="W1", lot="L2")]
    assert shop.make("stock_count", lots).state == State.DRAFT
    with pytest.raises(JxcError) as err:
        shop.make("stock_count", [*lots, Line(3, "C", D(0), warehouse="W1", lot="L1")])
    assert (err.value.code, err.value.data["line"], err.value.data["first"]) == (
        "duplicate_count_line", 3, 1)


def test_a_stored_count_with_the_same_stock_on_two_lines_is_not_posted(shop: Shop) -> None:
    """A draft stored before the rule (or written by another program) is refused when it is
    posted; cancelled, it releases its freeze."""
    shop.stock_in("C", D(10), D(1))
    pc = shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1")])
    twice = attrs.evolve(pc, lines=(*pc.lines, attrs.evolve(pc.lines[0], line_no=2)))
    with shop.jxc.storage.unit_of_work() as uow:
        uow.documents.put(pc.doc_id, pc.doc_type.value, pc.state.value,
                          document_to_data(twice, compact=True))
        uow.commit()
    shop.docs.submit(pc.doc_id, BOSS)
    shop.docs.record_count(pc.doc_id, {1: D(8), 2: D(8)})
    shop.docs.approve(pc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(pc.doc_id, BOSS)
    assert err.value.code == "duplicate_count_line"
    assert err.value.data["doc_id"] == pc.doc_id
    assert shop.snapshot() == before
    shop.docs.cancel(pc.doc_id, BOSS)
    c = shop.jxc.balance("C", "W1")
    assert (c.on_hand, c.held) == (10, 0)


# -- adjustment ------------------------------------------------------------------------------
def test_adjustment_in_and_out_against_the_adjustment_role(shop: Shop) -> None:
    up = shop.run("adjustment", [Line(1, "A", D(5), D("8.00"), warehouse="W1"),
                                 Line(2, "KG", D("1.5"), D("3.33"), warehouse="W1")])
    assert shop.counters(up.doc_id, 1, "quantity", "value") == {
        "quantity": D(5), "value": D("40.00")}
    assert shop.counters(up.doc_id, 2, "quantity", "value") == {
        "quantity": D("1.5"), "value": D("5.00")}  # 4.995 half up
    assert rows(shop, up.doc_id) == [
        ("inventory", "W1", D("40.00"), D(0)), ("adjustment", "W1", D(0), D("40.00")),
        ("inventory", "W1", D("5.00"), D(0)), ("adjustment", "W1", D(0), D("5.00"))]
    down = shop.run("adjustment", [Line(1, "A", D(-3), warehouse="W1")])
    assert rows(shop, down.doc_id) == [("inventory", "W1", D(0), D("24.00")),
                                       ("adjustment", "W1", D("24.00"), D(0))]
    assert (shop.qty("A"), shop.value("A")) == (2, D("16.00"))
    shop.check_books()


def test_adjustment_against_a_chosen_role_and_unit(shop: Shop) -> None:
    adj = shop.run("adjustment", [Line(1, "A", D(1), D(120), unit="箱", warehouse="W1")],
                   attributes={"account_role": "samples"})
    assert (shop.qty("A"), shop.value("A")) == (12, D("120.00"))
    assert shop.roles(adj.doc_id) == {"inventory": D("120.00"), "samples": D("-120.00")}
    assert adj.counters[1]["quantity"] == 12  # counters are in base units (1 箱 = 12)
    out = shop.run("adjustment", [Line(1, "A", D(-1), unit="箱", warehouse="W1")])
    assert out.counters[1] == {"quantity": -12, "value": D("120.00")}
    assert shop.qty("A") == 0
    shop.check_books()


def test_adjustment_out_beyond_stock_is_refused(shop: Shop) -> None:
    shop.stock_in("A", D(2), D(1))
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.run("adjustment", [Line(1, "C", D(1), D(1), warehouse="W1"),
                                Line(2, "A", D(-3), warehouse="W1")])
    assert err.value.code == "insufficient_stock"
    assert (err.value.data["needed"], err.value.data["short"]) == (3, 1)
    after = shop.snapshot()
    assert (after["ledger"], after["journal"], after["values"]) == (
        before["ledger"], before["journal"], before["values"])


def test_cancel_of_adjustments(shop: Shop) -> None:
    up = shop.stock_in("A", D(5), D(8))
    down = shop.run("adjustment", [Line(1, "A", D(-2), warehouse="W1")])
    with pytest.raises(JxcError) as err:  # 2 of its units have left
        shop.docs.cancel(up.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    shop.docs.cancel(down.doc_id, BOSS)
    assert (shop.qty("A"), shop.value("A")) == (5, D("40.00"))
    assert shop.roles(down.doc_id) == {"inventory": 0, "adjustment": 0}
    shop.check_books()


# -- landed cost -----------------------------------------------------------------------------
def two_receipts(shop: Shop) -> tuple[Document, Document]:
    """A 10 @ 10.00 (weight 30), of which 4 issued; C 30 @ 20.00 (weight 10)."""
    r1 = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1", weight=D(30))])
    r2 = shop.receipt([Line(1, "C", D(30), D("20.00"), warehouse="W1", weight=D(10))])
    shop.run("adjustment", [Line(1, "A", D(-4), warehouse="W1")])
    return r1, r2


#: (basis, tax, share r1, share r2, kept of r1, cogs of r1, input tax)
LANDED = [
    ("quantity", "0", "20.00", "60.00", "12.00", "8.00", "0"),  # 80 x 10/40; 6/10 kept
    ("value", "0.09", "11.43", "68.57", "6.86", "4.57", "7.20"),  # 80 x 100/700
    ("weight", "0.06", "60.00", "20.00", "36.00", "24.00", "4.80"),  # 80 x 30/40
]


@pytest.mark.parametrize(("basis", "tax", "s1", "s2", "kept", "cogs", "vat"), LANDED)
def test_landed_cost_split_between_stock_and_cogs(
        shop: Shop, basis: str, tax: str, s1: str, s2: str, kept: str, cogs: str,
        vat: str) -> None:
    r1, r2 = two_receipts(shop)
    assert (shop.value("A"), shop.value("C")) == (D("60.00"), D("600.00"))
    lc = shop.run("landed_cost", [Line(1, "freight", D(1), D("80.00"), D(tax))], "S1",
                  attributes={"receipts": [r1.doc_id, r2.doc_id], "basis": basis})
    assert lc.attributes["shares"] == {f"{r1.doc_id}/1": s1, f"{r2.doc_id}/1": s2}
    assert (shop.value("A"), shop.value("C")) == (D("60.00") + D(kept),
                                                  D("600.00") + D(s2))
    expected = {"inventory": D(kept) + D(s2), "cogs": D(cogs), "input_tax": D(vat),
                "payable": -(D("80.00") + D(vat))}
    assert shop.roles(lc.doc_id) == {k: v for k, v in expected.items() if v}
    assert D(kept) + D(cogs) == D(s1)
    shop.check_books()
    # the raised layer leaves with its landed cost
    out = shop.run("adjustment", [Line(1, "A", D(-6), warehouse="W1")])
    assert out.counters[1]["value"] == D("60.00") + D(kept)
    shop.check_books()


def test_landed_cost_needs_posted_receipts(shop: Shop) -> None:
    r1 = shop.make("purchase_receipt", [Line(1, "A", D(1), D(1), warehouse="W1")], "S1")
    lc = shop.make("landed_cost", [Line(1, "freight", D(1), D(5))], "S1",
                   attributes={"receipts": [r1.doc_id], "basis": "quantity"})
    shop.docs.submit(lc.doc_id, BOSS)
    shop.docs.approve(lc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(lc.doc_id, BOSS)
    assert err.value.code == "invalid_document"
    assert shop.snapshot() == before


#: (field, bad value, error): weights and volumes are Decimals of 0 or more
BAD_MEASURES = [("weight", 1.5, TypeError), ("weight", "30", TypeError),
                ("weight", D(-30), "negative_amount"), ("volume", 0.2, TypeError),
                ("volume", D("-0.2"), "negative_amount")]


@pytest.mark.parametrize(("field", "value", "error"), BAD_MEASURES)
def test_a_receipt_weight_or_volume_that_allocation_cannot_use_is_refused_at_creation(
        shop: Shop, field: str, value: object, error: type[Exception] | str) -> None:
    """Accepted, such a receipt line broke the landed cost allocated by weight or volume
    later (a raw TypeError, or negative_amount naming no line of the receipt)."""
    before = shop.snapshot()
    line = Line(1, "A", D(10), D("10.00"), warehouse="W1", **{field: value})
    if isinstance(error, str):
        with pytest.raises(JxcError) as err:
            shop.make("purchase_receipt", [line], "S1")
        assert (err.value.code, err.value.data["field"]) == (error, field)
    else:
        with pytest.raises(error, match=field):
            shop.make("purchase_receipt", [line], "S1")
    assert shop.snapshot() == before
    good = shop.receipt([attrs.evolve(line, **{field: D(3)})])  # the same with a Decimal
    lc = shop.run("landed_cost", [Line(1, "freight", D(1), D("9.00"))], "S1",
                  attributes={"receipts": [good.doc_id], "basis": field})
    assert lc.attributes["shares"] == {f"{good.doc_id}/1": "9.00"}
    shop.check_books()


def test_count_lines_are_checked_when_created(shop: Shop) -> None:
    """A float counted quantity was accepted and raised a raw AttributeError at posting; a
    text line number was accepted as it was."""
    shop.stock_in("C", D(4), D(5))
    before = shop.snapshot()
    with pytest.raises(TypeError, match="counted"):
        shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1", counted=4.0)])  # type: ignore[arg-type]
    with pytest.raises(JxcError) as neg:
        shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1", counted=D(-1))])
    assert (neg.value.code, neg.value.data["field"]) == ("invalid_quantity", "counted")
    with pytest.raises(TypeError, match="line_no"):
        shop.make("stock_count", [Line("1", "C", D(0), warehouse="W1")])  # type: ignore[arg-type]
    assert shop.snapshot() == before
    pc = shop.make("stock_count", [Line(1, "C", D(0), warehouse="W1", counted=D(3))])
    shop.docs.submit(pc.doc_id, BOSS)
    shop.docs.approve(pc.doc_id, BOSS)
    pc = shop.docs.post(pc.doc_id, BOSS)  # counted when created: -1 C
    assert pc.counters[1] == {"quantity": D(-1), "value": D("5.00")}
    shop.check_books()


def test_cancel_of_a_landed_cost_takes_it_back(shop: Shop) -> None:
    r1, r2 = two_receipts(shop)
    lc = shop.run("landed_cost", [Line(1, "freight", D(1), D("80.00"))], "S1",
                  attributes={"receipts": [r1.doc_id, r2.doc_id], "basis": "quantity"})
    shop.docs.cancel(lc.doc_id, BOSS)
    assert (shop.value("A"), shop.value("C")) == (D("60.00"), D("600.00"))
    assert all(v == 0 for v in shop.roles(lc.doc_id).values())
    shop.check_books()


def test_a_backdated_receipt_revalues_an_earlier_transfer_in_the_books(shop: Shop) -> None:
    """FIFO A: receive 10 @ 10.00 into W1 on 20 February, transfer 5 to W2 on the 22nd,
    deliver 2 from W2 on the 23rd; then a receipt of 10 @ 20.00 dated the 19th. The transfer
    took 5 of its units: 100.00, not 50.00. The receipt's posting moves the 50.00 from W1's
    stock to W2's (Cr 1405 in W1, Dr 1405 in W2) and the 2 delivered units cost 20.00 more
    (Dr 6401): W1 15 @ 200.00, W2 3 @ 60.00, each warehouse's 1405 equal to its valuation.
    (W2 stayed at 3 @ 30.00 and W1's 50.00 went to cost of goods sold.)"""
    import datetime as dt

    def on(day: int) -> dt.date:
        return dt.date(2026, 2, day)

    shop.run("purchase_receipt", [Line(1, "A", D(10), D("10.00"), warehouse="W1")], "S1",
             date=on(20))
    shop.run("transfer", [Line(1, "A", D(5), warehouse="W1", to_warehouse="W2")],
             date=on(22))
    shop.run("delivery", [Line(1, "A", D(2), D("30"), warehouse="W2")], "C1", date=on(23))
    late = shop.run("purchase_receipt", [Line(1, "A", D(10), D("20.00"), warehouse="W1")],
                    "S1", date=on(19))
    assert (shop.qty("A", "W1"), shop.value("A", "W1")) == (D(15), D("200.00"))
    assert (shop.qty("A", "W2"), shop.value("A", "W2")) == (D(3), D("60.00"))
    rows = shop.journal(late.doc_id)
    by: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        if r.role != "grni":
            by[(r.role, r.warehouse)] = by.get((r.role, r.warehouse), D(0)) + r.debit - r.credit
    assert by == {("inventory", "W1"): D("150.00"),  # the receipt 200.00, less 50.00 moved
                  ("inventory", "W2"): D("30.00"),  # 50.00 arrived, 20.00 of it sold
                  ("cogs", "W1"): D("50.00"), ("cogs", "W2"): D("-30.00")}
    for wh in ("W1", "W2"):
        booked = sum((r.debit - r.credit for r in shop.journal()
                      if r.role == "inventory" and r.warehouse == wh), D(0))
        assert booked == shop.value("A", wh) + shop.value("B", wh) + shop.value("C", wh) \
            + shop.value("KG", wh)
    shop.check_books()


@pytest.mark.parametrize(("counted_boxes", "on_hand", "value"), [
    (D(2), D(24), D("240.00")),  # a gain of 4 units at the average 10.00
    (D(1), D(12), D("120.00")),  # a loss of 8 units
])
def test_count_in_another_unit_moves_base_units(shop: Shop, counted_boxes: Decimal,
                                                on_hand: Decimal, value: Decimal) -> None:
    """A (箱 = 12): 20 on hand, counted in boxes; the variance is worked out and moved in
    base units (it was converted twice: 2 boxes counted ended with 68 on hand)."""
    shop.stock_in("A", D(20), D(10))
    pc = shop.make("stock_count", [Line(1, "A", D(0), warehouse="W1", unit="箱")])
    shop.docs.submit(pc.doc_id, BOSS)
    sheet = shop.docs.count_sheet(pc.doc_id, blind=False)
    assert [(r["unit"], r["book"], r["book_unit"]) for r in sheet] == [("箱", D(20), "个")]
    shop.docs.record_count(pc.doc_id, {1: counted_boxes})
    shop.docs.approve(pc.doc_id, BOSS)
    shop.docs.post(pc.doc_id, BOSS)
    assert (shop.qty("A"), shop.value("A")) == (on_hand, value)
    shop.check_books()
    shop.docs.cancel(pc.doc_id, BOSS)  # the reversal moves the same base units back
    assert (shop.qty("A"), shop.value("A")) == (D(20), D("200.00"))
    shop.check_books()


def test_count_loss_of_a_lot_tracked_item_without_lot_is_cancelled_back_into_its_lots(
        shop: Shop) -> None:
    """A count line without a lot counts every lot; its loss leaves lot by lot (first expired
    first). Cancelled, the units go back into the lots they left, at their values (it was
    refused: a lot-tracked item needs a lot)."""
    shop.jxc.define_item(Item("M", "milk", lot_tracked=True))
    shop.jxc.receive("M", "W1", D(10), D(1), lot="LA", expiry=dt.date(2027, 1, 1))
    shop.jxc.receive("M", "W1", D(10), D(2), lot="LB", expiry=dt.date(2027, 2, 1))
    pc = shop.make("stock_count", [Line(1, "M", D(0), warehouse="W1")])
    shop.docs.submit(pc.doc_id, BOSS)
    shop.docs.record_count(pc.doc_id, {1: D(5)})
    shop.docs.approve(pc.doc_id, BOSS)
    posted = shop.docs.post(pc.doc_id, BOSS)
    assert posted.attributes["loss_rows"] == {"1": [["", "LA", "10", "10.00"],
                                                     ["", "LB", "5", "10.00"]]}
    lots = {b.lot: b.on_hand for b in shop.jxc.balances() if b.item == "M" and b.lot}
    assert lots == {"LA": D(0), "LB": D(5)}
    shop.docs.cancel(pc.doc_id, BOSS)
    lots = {b.lot: b.on_hand for b in shop.jxc.balances() if b.item == "M" and b.lot}
    assert lots == {"LA": D(10), "LB": D(10)}
    assert shop.jxc.balance("M", "W1").value == D("30.00")

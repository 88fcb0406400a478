"""Red-letter invoices (红字发票, credit notes) for returns of invoiced units.

A purchase or sales return may take back invoiced units (never more than received/delivered
- returned; the units not invoiced yet go first). On the purchase side the money of the
invoiced units returned waits on ``credit_pending`` (2202.03 应付账款-待冲发票) at the
invoices' price until a red-letter purchase invoice — a ``purchase_invoice`` whose lines name
the return's lines — reduces the payable, reverses the input tax and clears it. On the sales
side the return books the goods only; the red-letter sales invoice reverses receivable,
revenue and output tax. Credit notes are negative open items that ``settle`` offsets.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.accounting import english_mapping
from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
T13 = D("0.13")
MARCH, APRIL = dt.date(2026, 3, 2), dt.date(2026, 4, 3)
PENDING, AP, INPUT_TAX, GRNI = "2202.03", "2202", "2221.01.01", "2202.02"


def rows(shop: Shop, doc_id: str) -> list[tuple[str, Decimal, Decimal]]:
    return [(r.role, r.debit, r.credit) for r in shop.journal(doc_id)]


def next_month(shop: Shop) -> Accounting:
    """Close March (vouchers, lock) and move the clock into April."""
    acc = Accounting(shop.jxc)
    clock = shop.jxc.clock
    assert isinstance(clock, TickingClock)
    clock.at = dt.datetime(2026, 4, 3, 9, 0)
    acc.close_period(2026, 3)
    return acc


def invoiced_receipt(shop: Shop, qty: int = 10, price: str = "100.00",
                     invoice_price: str | None = None) -> tuple[Document, Document]:
    """A receipt of ``qty`` A @ ``price`` + 13% VAT, invoiced whole (at ``invoice_price``)."""
    rc = shop.receipt([Line(1, "A", D(qty), D(price), T13, warehouse="W1")])
    inv = shop.run("purchase_invoice", [Line(1, "A", D(qty), D(invoice_price or price), T13,
                                             source=(rc.doc_id, 1))], "S1")
    return rc, inv


def supplier_return(shop: Shop, rc: Document, qty: int) -> Document:
    return shop.run("purchase_return", [Line(1, "A", D(qty), warehouse="W1",
                                             source=(rc.doc_id, 1))], "S1")


def red_purchase(shop: Shop, rt: Document, qty: int, price: str = "100.00") -> Document:
    return shop.run("purchase_invoice", [Line(1, "A", D(qty), D(price), T13,
                                              source=(rt.doc_id, 1))], "S1")


def check_vouchers(acc: Accounting) -> None:
    acc.generate_vouchers()
    for v in acc.vouchers():
        assert v.debit == v.credit, v.number


# -- purchase -----------------------------------------------------------------------------
def test_worked_example_return_after_a_closed_month_and_its_red_invoice(shop: Shop) -> None:
    """Receive 10 @ 100.00 + 13%, invoice 10, close March; in April return 4 and receive a
    red-letter invoice of 4: payable 452.00 less, input tax 52.00 reversed, pending 0.00."""
    rc, inv = invoiced_receipt(shop)
    acc = next_month(shop)
    rt = supplier_return(shop, rc, 4)
    assert rows(shop, rt.doc_id) == [("credit_pending", D("400.00"), D(0)),
                                     ("inventory", D(0), D("400.00"))]
    assert (shop.qty("A"), shop.value("A")) == (6, D("600.00"))
    assert shop.net("grni") == 0 and shop.net("credit_pending") == D("400.00")
    assert shop.counters(rt.doc_id, 1, "to_credit", "credit_value", "credited") == {
        "to_credit": D(4), "credit_value": D("400.00"), "credited": D(0)}
    assert shop.counters(rc.doc_id, 1, "returned", "returned_invoiced", "invoiced") == {
        "returned": D(4), "returned_invoiced": D(4), "invoiced": D(10)}
    check_vouchers(acc)
    assert acc.account_balance(PENDING) == D("400.00")

    red = red_purchase(shop, rt, 4)
    assert red.counter(1, "credited") == 4
    assert rows(shop, red.doc_id) == [("payable", D("452.00"), D(0)),
                                      ("input_tax", D(0), D("52.00")),
                                      ("credit_pending", D(0), D("400.00"))]
    assert shop.net("credit_pending") == 0
    assert shop.net("payable") == D("-678.00")  # 1,130.00 - 452.00 owed
    assert shop.net("input_tax") == D("78.00")  # 130.00 - 52.00
    assert shop.counters(rt.doc_id, 1, "credited", "credited_value") == {
        "credited": D(4), "credited_value": D("400.00")}
    check_vouchers(acc)
    april = {x.account: x.debit - x.credit for v in acc.vouchers("2026-04")
             if v.doc_id == red.doc_id for x in v.lines}
    assert april == {AP: D("452.00"), INPUT_TAX: D("-52.00"), PENDING: D("-400.00")}
    assert acc.account_balance(PENDING) == 0
    assert acc.account_balance(GRNI) == 0
    assert acc.account_balance(AP) == D("-678.00")
    assert acc.account_balance("1405") == shop.value("A") == D("600.00")
    shop.check_books()
    # the invoice of the closed month stays as it was
    assert shop.docs.get(inv.doc_id).state == State.POSTED


def test_invoiced_units_return_at_the_invoice_price_uninvoiced_ones_first(shop: Shop
                                                                         ) -> None:
    """10 received @ 10.00, 6 invoiced @ 11.00 (the layer: 106.00); a return of 5 takes the
    4 not invoiced against GRNI (40.00) and 1 invoiced unit to credit_pending at 11.00; the
    stock leaves at 10.60 a unit (53.00), 2.00 of price difference. The next 5 are all
    invoiced: 55.00 pending for 53.00 of stock."""
    rc = shop.receipt([Line(1, "A", D(10), D("10.00"), T13, warehouse="W1")])
    shop.run("purchase_invoice", [Line(1, "A", D(6), D("11.00"), T13,
                                       source=(rc.doc_id, 1))], "S1")
    rt = shop.run("purchase_return", [Line(1, "A", D(5), warehouse="W1",
                                           source=(rc.doc_id, 1))], "S1")
    assert rows(shop, rt.doc_id) == [("grni", D("40.00"), D(0)),
                                     ("credit_pending", D("11.00"), D(0)),
                                     ("inventory", D(0), D("53.00")),
                                     ("price_difference", D("2.00"), D(0))]
    rt2 = supplier_return(shop, rc, 5)  # all that is left: invoiced, 5 x 11.00
    assert rows(shop, rt2.doc_id) == [("credit_pending", D("55.00"), D(0)),
                                      ("inventory", D(0), D("53.00")),
                                      ("price_difference", D(0), D("2.00"))]
    assert shop.counters(rc.doc_id, 1, "returned_invoiced", "returned_invoiced_value") == {
        "returned_invoiced": D(6), "returned_invoiced_value": D("66.00")}
    assert shop.net("credit_pending") == D("66.00") and shop.qty("A") == 0
    with pytest.raises(JxcError) as err:  # nothing left to return
        supplier_return(shop, rc, 1)
    assert err.value.code == "over_receipt" and err.value.data["open"] == 0
    shop.check_books()


def test_red_invoice_at_another_price_books_the_difference(shop: Shop) -> None:
    rc, _ = invoiced_receipt(shop, 10, "10.00", "11.00")  # layer 110.00
    rt = supplier_return(shop, rc, 4)
    assert rows(shop, rt.doc_id) == [("credit_pending", D("44.00"), D(0)),
                                     ("inventory", D(0), D("44.00"))]
    red = red_purchase(shop, rt, 4, "10.50")  # 42.00 + 5.46
    assert rows(shop, red.doc_id) == [("payable", D("47.46"), D(0)),
                                      ("input_tax", D(0), D("5.46")),
                                      ("credit_pending", D(0), D("44.00")),
                                      ("price_difference", D("2.00"), D(0))]
    assert shop.net("credit_pending") == 0
    shop.check_books()


def test_partial_red_invoices_clear_the_pending_amount_exactly(shop: Shop) -> None:
    """100.00 for 3 units: credited 1 then 2, the last takes what is left (33.33 + 66.67)."""
    rc = shop.receipt([Line(1, "A", D(3), D("100.00") / 3, T13, warehouse="W1")])
    shop.run("purchase_invoice", [Line(1, "A", D(3), D("100.00") / 3, T13,
                                       source=(rc.doc_id, 1))], "S1")
    rt = supplier_return(shop, rc, 3)
    assert shop.net("credit_pending") == D("100.00")
    first = red_purchase(shop, rt, 1, "33.33")
    assert shop.roles(first.doc_id)["credit_pending"] == D("-33.33")
    last = red_purchase(shop, rt, 2, "33.33")
    assert shop.roles(last.doc_id) == {"payable": D("75.33"), "input_tax": D("-8.67"),
                                       "credit_pending": D("-66.67"),
                                       "price_difference": D("0.01")}
    assert shop.net("credit_pending") == 0
    shop.check_books()


def test_over_credit_and_double_credit_are_refused_and_write_nothing(shop: Shop) -> None:
    rc, _ = invoiced_receipt(shop)
    rt = supplier_return(shop, rc, 4)
    too_many = shop.approved("purchase_invoice", [Line(1, "A", D(5), D("100.00"), T13,
                                                        source=(rt.doc_id, 1))], "S1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(too_many, BOSS)
    assert err.value.code == "over_receipt"
    assert (err.value.data["kind"], err.value.data["quantity"], err.value.data["open"]) == (
        "credit", 5, 4)
    assert shop.snapshot() == before
    red_purchase(shop, rt, 4)
    again = shop.approved("purchase_invoice", [Line(1, "A", D(1), D("100.00"), T13,
                                                     source=(rt.doc_id, 1))], "S1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(again, BOSS)
    assert err.value.code == "over_receipt" and err.value.data["open"] == 0
    assert shop.snapshot() == before
    shop.check_books()


def test_a_return_of_uninvoiced_units_has_nothing_to_credit(shop: Shop) -> None:
    rc = shop.receipt([Line(1, "A", D(10), D("100.00"), T13, warehouse="W1")])
    rt = supplier_return(shop, rc, 4)
    assert rows(shop, rt.doc_id) == [("grni", D("400.00"), D(0)),
                                     ("inventory", D(0), D("400.00"))]
    assert shop.docs.get(rt.doc_id).counters[1].get("to_credit") is None
    with pytest.raises(JxcError) as err:
        red_purchase(shop, rt, 1)
    assert err.value.code == "over_receipt" and err.value.data["open"] == 0


def test_cancel_paths_of_return_and_red_invoice(shop: Shop) -> None:
    rc, inv = invoiced_receipt(shop)
    rt = supplier_return(shop, rc, 4)
    red = red_purchase(shop, rt, 4)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:  # a red invoice refers to it
        shop.docs.cancel(rt.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert "red-letter" in err.value.message("en") and "红字发票" in err.value.message("zh")
    assert shop.snapshot() == before
    # the red invoice cancelled: the amounts come back exactly, and it can be made again
    shop.docs.cancel(red.doc_id, BOSS)
    assert shop.roles(red.doc_id) == {"payable": D(0), "input_tax": D(0),
                                      "credit_pending": D(0)}
    assert shop.counters(rt.doc_id, 1, "credited", "credited_value") == {
        "credited": D(0), "credited_value": D(0)}
    assert shop.net("credit_pending") == D("400.00")
    red2 = red_purchase(shop, rt, 4)
    shop.docs.cancel(red2.doc_id, BOSS)
    # the invoice cannot be cancelled while its units are returned
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(inv.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert "returns took back 4 invoiced units" in err.value.message("en")
    assert shop.snapshot() == before
    # the return cancelled: the units come back, nothing waits for a credit
    shop.docs.cancel(rt.doc_id, BOSS)
    assert shop.counters(rc.doc_id, 1, "returned", "returned_invoiced",
                         "returned_invoiced_value") == {
        "returned": D(0), "returned_invoiced": D(0), "returned_invoiced_value": D(0)}
    assert (shop.qty("A"), shop.value("A")) == (10, D("1000.00"))
    assert shop.net("credit_pending") == 0
    shop.docs.cancel(inv.doc_id, BOSS)  # now it can go
    shop.check_books()


def test_units_back_from_a_cancelled_return_can_be_invoiced(shop: Shop) -> None:
    """Receive 10, return 3 (not invoiced), invoice 7, return 2 (invoiced); the first return
    cancelled, its 3 units are back and not invoiced: an invoice of 3 goes through (the 2
    invoiced units returned do not count as invoiced units still here)."""
    rc = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    first = supplier_return(shop, rc, 3)
    shop.run("purchase_invoice", [Line(1, "A", D(7), D("10.00"), source=(rc.doc_id, 1))],
             "S1")
    rt = supplier_return(shop, rc, 2)
    assert shop.counters(rt.doc_id, 1, "to_credit") == {"to_credit": D(2)}
    shop.docs.cancel(first.doc_id, BOSS)
    shop.run("purchase_invoice", [Line(1, "A", D(3), D("10.00"), source=(rc.doc_id, 1))],
             "S1")
    assert shop.net("grni") == 0
    with pytest.raises(JxcError) as err:
        shop.run("purchase_invoice", [Line(1, "A", D(1), D("10.00"),
                                           source=(rc.doc_id, 1))], "S1")
    assert err.value.code == "over_receipt" and err.value.data["open"] == 0
    shop.check_books()


def test_a_red_invoice_with_a_settlement_standing_is_not_cancelled(shop: Shop) -> None:
    rc, _ = invoiced_receipt(shop)
    rt = supplier_return(shop, rc, 4)
    red = red_purchase(shop, rt, 4)
    acc = Accounting(shop.jxc)
    acc.settle("payable", "S1", D("678.00"), date=MARCH)
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(red.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"


def test_a_red_invoice_names_return_lines_only(shop: Shop) -> None:
    rc, _ = invoiced_receipt(shop)
    rc2 = shop.receipt([Line(1, "A", D(5), D("100.00"), T13, warehouse="W1")])
    rt = supplier_return(shop, rc, 4)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.make("purchase_invoice", [
            Line(1, "A", D(4), D("100.00"), T13, source=(rt.doc_id, 1)),
            Line(2, "A", D(5), D("100.00"), T13, source=(rc2.doc_id, 1))], "S1")
    assert err.value.code == "invalid_document"
    assert "red-letter" in err.value.message("en") and "红字发票" in err.value.message("zh")
    assert shop.snapshot() == before
    # a sales invoice cannot credit a supplier return (nor the reverse)
    with pytest.raises(JxcError) as err:
        shop.make("sales_invoice", [Line(1, "A", D(1), D("100.00"), T13,
                                         source=(rt.doc_id, 1))], "C1")
    assert err.value.code == "invalid_document"
    assert shop.snapshot() == before


def test_a_red_invoice_is_not_dated_before_its_return(shop: Shop) -> None:
    rc, _ = invoiced_receipt(shop)
    rt = shop.run("purchase_return", [Line(1, "A", D(4), warehouse="W1",
                                           source=(rc.doc_id, 1))], "S1",
                  date=dt.date(2026, 3, 20))
    doc = shop.approved("purchase_invoice", [Line(1, "A", D(4), D("100.00"), T13,
                                                   source=(rt.doc_id, 1))], "S1",
                        date=dt.date(2026, 3, 19))
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(doc, BOSS)
    assert err.value.code == "invalid_document" and "before its source" in str(err.value)
    assert shop.snapshot() == before


# -- sales ----------------------------------------------------------------------------------
def invoiced_delivery(shop: Shop) -> tuple[Document, Document]:
    """10 A in stock @ 100.00; 10 delivered @ 200.00 + 13%, invoiced whole."""
    shop.stock_in("A", D(10), D("100.00"))
    dl = shop.run("delivery", [Line(1, "A", D(10), D("200.00"), T13, warehouse="W1")], "C1")
    si = shop.run("sales_invoice", [Line(1, "A", D(10), D("200.00"), T13,
                                         source=(dl.doc_id, 1))], "C1")
    return dl, si


def customer_return(shop: Shop, dl: Document, qty: int) -> Document:
    return shop.run("sales_return", [Line(1, "A", D(qty), warehouse="W1",
                                          source=(dl.doc_id, 1))], "C1")


def red_sales(shop: Shop, sr: Document, qty: int, price: str = "200.00") -> Document:
    return shop.run("sales_invoice", [Line(1, "A", D(qty), D(price), T13,
                                           source=(sr.doc_id, 1))], "C1")


def test_sales_worked_example_after_a_closed_month(shop: Shop) -> None:
    dl, _ = invoiced_delivery(shop)
    acc = next_month(shop)
    sr = customer_return(shop, dl, 4)
    assert rows(shop, sr.doc_id) == [("inventory", D("400.00"), D(0)),
                                     ("cogs", D(0), D("400.00"))]
    assert shop.counters(sr.doc_id, 1, "to_credit") == {"to_credit": D(4)}
    assert shop.counters(dl.doc_id, 1, "returned_invoiced") == {"returned_invoiced": D(4)}
    red = red_sales(shop, sr, 4)
    assert rows(shop, red.doc_id) == [("receivable", D(0), D("904.00")),
                                      ("revenue", D("800.00"), D(0)),
                                      ("output_tax", D("104.00"), D(0))]
    assert shop.net("receivable") == D("1356.00")  # 2,260.00 - 904.00
    assert shop.net("revenue") == D("-1200.00")
    assert shop.net("output_tax") == D("-156.00")
    check_vouchers(acc)
    assert acc.account_balance("1122") == D("1356.00")
    assert acc.account_balance("6001") == D("-1200.00")
    assert acc.account_balance("2221.01.02") == D("-156.00")
    assert acc.account_balance("1405") == shop.value("A") == D("400.00")
    (row,) = acc.gross_profit(by="item")
    assert (row.revenue, row.cost) == (D("1200.00"), D("600.00"))
    shop.check_books()


def test_sales_over_credit_double_credit_and_cancel_paths(shop: Shop) -> None:
    dl, si = invoiced_delivery(shop)
    sr = customer_return(shop, dl, 4)
    with pytest.raises(JxcError) as err:
        red_sales(shop, sr, 5)
    assert err.value.code == "over_receipt" and err.value.data["open"] == 4
    red = red_sales(shop, sr, 3)
    with pytest.raises(JxcError) as err:
        red_sales(shop, sr, 2)
    assert err.value.code == "over_receipt" and err.value.data["open"] == 1
    before = shop.snapshot()
    for doc_id in (sr.doc_id, si.doc_id):  # the return: a red invoice; the invoice: returns
        with pytest.raises(JxcError) as err:
            shop.docs.cancel(doc_id, BOSS)
        assert err.value.code == "reversal_impossible"
    assert shop.snapshot() == before
    shop.docs.cancel(red.doc_id, BOSS)
    assert shop.counters(sr.doc_id, 1, "credited") == {"credited": D(0)}
    assert shop.roles(red.doc_id) == {"receivable": D(0), "revenue": D(0),
                                      "output_tax": D(0)}
    shop.docs.cancel(sr.doc_id, BOSS)
    assert shop.counters(dl.doc_id, 1, "returned", "returned_invoiced") == {
        "returned": D(0), "returned_invoiced": D(0)}
    shop.docs.cancel(si.doc_id, BOSS)
    shop.check_books()


def test_units_back_from_a_cancelled_customer_return_can_be_invoiced(shop: Shop) -> None:
    shop.stock_in("A", D(10), D("100.00"))
    dl = shop.run("delivery", [Line(1, "A", D(10), D("200.00"), warehouse="W1")], "C1")
    first = customer_return(shop, dl, 3)
    shop.run("sales_invoice", [Line(1, "A", D(7), D("200.00"), source=(dl.doc_id, 1))],
             "C1")
    sr = customer_return(shop, dl, 2)
    assert shop.counters(sr.doc_id, 1, "to_credit") == {"to_credit": D(2)}
    shop.docs.cancel(first.doc_id, BOSS)
    shop.run("sales_invoice", [Line(1, "A", D(3), D("200.00"), source=(dl.doc_id, 1))],
             "C1")
    with pytest.raises(JxcError) as err:
        shop.run("sales_invoice", [Line(1, "A", D(1), D("200.00"),
                                        source=(dl.doc_id, 1))], "C1")
    assert err.value.code == "over_receipt" and err.value.data["open"] == 0
    shop.check_books()


def test_a_return_takes_back_no_more_than_delivered_less_returned(shop: Shop) -> None:
    dl, _ = invoiced_delivery(shop)
    customer_return(shop, dl, 6)
    with pytest.raises(JxcError) as err:
        customer_return(shop, dl, 5)
    assert err.value.code == "over_receipt" and err.value.data["open"] == 4


# -- open items and settlement -----------------------------------------------------------------
def test_credit_notes_are_negative_open_items_that_settle_offsets(shop: Shop) -> None:
    rc, inv = invoiced_receipt(shop)
    rt = supplier_return(shop, rc, 4)
    red = red_purchase(shop, rt, 4)
    acc = Accounting(shop.jxc)
    items = {i.doc_id: i.open for i in acc.open_items("payable", "S1")}
    assert items == {inv.doc_id: D("1130.00"), red.doc_id: D("-452.00")}
    (aging,) = acc.aging("payable", as_of=dt.date(2026, 3, 31))
    assert aging.total == D("678.00")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:  # the net owed is 678.00
        acc.settle("payable", "S1", D("678.01"), date=MARCH)
    assert err.value.code == "over_settlement" and err.value.data["open"] == D("678.00")
    assert shop.snapshot() == before
    out = acc.settle("payable", "S1", D("678.00"), date=MARCH)
    assert [(r.role, r.ref, r.debit, r.credit) for r in out] == [
        ("payable", red.doc_id, D(0), D("452.00")),
        ("payable", inv.doc_id, D("1130.00"), D(0)),
        ("bank", "", D(0), D("678.00"))]
    assert acc.open_items("payable") == []
    check_vouchers(acc)
    assert acc.account_balance(AP) == 0 and acc.account_balance(PENDING) == 0
    # cancelled, both are open again as they were
    acc.cancel_settlement(out[0].doc_id)
    assert {i.doc_id: i.open for i in acc.open_items("payable")} == items


def test_a_credit_note_alone_offsets_part_of_an_invoice(shop: Shop) -> None:
    """Named with the invoice, a credit note clears it without money (amount 0)."""
    dl, si = invoiced_delivery(shop)
    sr = customer_return(shop, dl, 4)
    red = red_sales(shop, sr, 4)
    acc = Accounting(shop.jxc)
    with pytest.raises(JxcError) as err:  # nothing to offset: the credit note is not named
        acc.settle("receivable", "C1", D(0), date=MARCH, invoices=[si.doc_id])
    assert err.value.code == "invalid_quantity"
    out = acc.settle("receivable", "C1", D(0), date=MARCH, invoices=[si.doc_id, red.doc_id])
    assert [(r.role, r.debit, r.credit) for r in out] == [
        ("receivable", D("904.00"), D(0)), ("receivable", D(0), D("904.00"))]
    assert [(i.doc_id, i.open) for i in acc.open_items("receivable")] == [
        (si.doc_id, D("1356.00"))]
    (aging,) = acc.aging("receivable", as_of=dt.date(2026, 3, 31))
    assert aging.total == D("1356.00")
    check_vouchers(acc)


# -- accounts, currency ------------------------------------------------------------------------
def test_the_english_chart_books_the_pending_role_on_its_own_account(shop: Shop) -> None:
    rc, _ = invoiced_receipt(shop)
    rt = supplier_return(shop, rc, 4)
    acc = Accounting(shop.jxc, mapping=english_mapping())
    check_vouchers(acc)
    assert acc.account_balance("2120") == D("400.00")
    red_purchase(shop, rt, 4)
    check_vouchers(acc)
    assert acc.account_balance("2120") == 0


class _Rates:
    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        return D("7.10")


def test_invoiced_units_in_a_foreign_currency_are_refused() -> None:
    j = Jxc(MemoryStorage(), clock=TickingClock(), rates=_Rates())
    setup_master(j)
    shop = Shop(j, Documents(j))
    rc = shop.run("purchase_receipt", [Line(1, "A", D(10), D("10.00"), warehouse="W1")],
                  "S1", currency="USD")
    shop.run("purchase_invoice", [Line(1, "A", D(6), D("10.00"), source=(rc.doc_id, 1))],
             "S1", currency="USD")
    doc = shop.approved("purchase_return", [Line(1, "A", D(5), warehouse="W1",
                                                  source=(rc.doc_id, 1))], "S1",
                        currency="USD")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(doc, BOSS)
    assert err.value.code == "invalid_document"
    assert "book currency CNY only" in err.value.message("en")
    assert "本位币" in err.value.message("zh")
    assert shop.snapshot() == before
    # the units not invoiced yet still go back in USD
    rt = shop.run("purchase_return", [Line(1, "A", D(4), warehouse="W1",
                                           source=(rc.doc_id, 1))], "S1", currency="USD")
    assert shop.docs.get(rt.doc_id).counters[1].get("to_credit") is None


def test_invoiced_units_of_a_foreign_delivery_and_foreign_credit_notes_are_refused() -> None:
    j = Jxc(MemoryStorage(), clock=TickingClock(), rates=_Rates())
    setup_master(j)
    shop = Shop(j, Documents(j))
    shop.stock_in("A", D(10), D("100.00"))
    dl = shop.run("delivery", [Line(1, "A", D(10), D("30.00"), warehouse="W1")], "C1",
                  currency="USD")
    shop.run("sales_invoice", [Line(1, "A", D(6), D("30.00"), source=(dl.doc_id, 1))],
             "C1", currency="USD")
    doc = shop.approved("sales_return", [Line(1, "A", D(5), warehouse="W1",
                                               source=(dl.doc_id, 1))], "C1", currency="USD")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(doc, BOSS)
    assert err.value.code == "invalid_document" and "book currency" in str(err.value)
    assert shop.snapshot() == before
    sr = shop.run("sales_return", [Line(1, "A", D(4), warehouse="W1",
                                        source=(dl.doc_id, 1))], "C1", currency="USD")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:  # a red-letter invoice in USD: refused at create
        shop.make("sales_invoice", [Line(1, "A", D(1), D("30.00"), source=(sr.doc_id, 1))],
                  "C1", currency="USD")
    assert err.value.code == "invalid_document" and "red-letter" in str(err.value)
    assert shop.snapshot() == before


# -- review fixes ---------------------------------------------------------------------------
def _refused(shop: Shop, doc_id: str, code: str, action: str = "post") -> JxcError:
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        getattr(shop.docs, action)(doc_id, BOSS)
    assert err.value.code == code
    assert err.value.message("zh") != err.value.message("en")
    assert shop.snapshot() == before
    return err.value


@pytest.mark.parametrize("side", ["purchase", "sales"])
def test_lines_naming_one_return_line_together_credit_no_more_than_it_took_back(
        shop: Shop, side: str) -> None:
    """3 + 3 against the 4 invoiced units a return took back: refused whole (it credited 6);
    2 + 2 clears 200.00 + 200.00 of the 400.00 pending."""
    if side == "purchase":
        rc, _ = invoiced_receipt(shop)
        rt, kind, party, price = supplier_return(shop, rc, 4), "purchase_invoice", "S1", "100.00"
    else:
        dl, _ = invoiced_delivery(shop)
        rt, kind, party, price = customer_return(shop, dl, 4), "sales_invoice", "C1", "200.00"

    def two(q: int) -> list[Line]:
        return [Line(i, "A", D(q), D(price), T13, source=(rt.doc_id, 1)) for i in (1, 2)]

    err = _refused(shop, shop.approved(kind, two(3), party), "over_receipt")
    assert (err.data["kind"], err.data["quantity"], err.data["open"]) == ("credit", 6, 4)
    red = shop.run(kind, two(2), party)
    assert shop.docs.get(rt.doc_id).counters[1]["credited"] == 4
    if side == "purchase":
        pending = [(r.line_no, r.credit) for r in shop.journal(red.doc_id)
                   if r.role == "credit_pending"]
        assert pending == [(1, D("200.00")), (2, D("200.00"))]
        assert shop.net("credit_pending") == 0
        assert "price_difference" not in shop.roles(red.doc_id)
    shop.check_books()


def test_an_invoice_is_not_cancelled_while_returns_took_back_invoiced_units(shop: Shop
                                                                            ) -> None:
    """10 @ 10.00 invoiced 6 @ 10.00 and 4 @ 15.00; a return of 4 invoiced units leaves
    48.00 pending at the 12.00 average: cancelling the 15.00 invoice left 6 units at 52.00
    and booked a false price difference at the red-letter invoice."""
    rc = shop.receipt([Line(1, "A", D(10), D("10.00"), T13, warehouse="W1")])
    shop.run("purchase_invoice", [Line(1, "A", D(6), D("10.00"), T13,
                                       source=(rc.doc_id, 1))], "S1")
    i2 = shop.run("purchase_invoice", [Line(1, "A", D(4), D("15.00"), T13,
                                            source=(rc.doc_id, 1))], "S1")
    rt = supplier_return(shop, rc, 4)
    assert shop.net("credit_pending") == D("48.00")
    _refused(shop, i2.doc_id, "reversal_impossible", "cancel")
    red = red_purchase(shop, rt, 4, "12.00")
    # credited: still the returns first
    _refused(shop, i2.doc_id, "reversal_impossible", "cancel")
    shop.docs.cancel(red.doc_id, BOSS)
    shop.docs.cancel(rt.doc_id, BOSS)
    shop.docs.cancel(i2.doc_id, BOSS)  # nothing returned: the invoice goes
    assert (shop.qty("A"), shop.value("A")) == (D(10), D("100.00"))
    shop.check_books()


def test_a_sales_invoice_is_not_cancelled_while_returns_took_back_invoiced_units(
        shop: Shop) -> None:
    shop.stock_in("A", D(10), D("100.00"))
    dl = shop.run("delivery", [Line(1, "A", D(10), D("200.00"), T13, warehouse="W1")], "C1")
    shop.run("sales_invoice", [Line(1, "A", D(6), D("200.00"), T13,
                                    source=(dl.doc_id, 1))], "C1")
    i2 = shop.run("sales_invoice", [Line(1, "A", D(4), D("300.00"), T13,
                                         source=(dl.doc_id, 1))], "C1")
    sr = customer_return(shop, dl, 4)
    _refused(shop, i2.doc_id, "reversal_impossible", "cancel")
    shop.docs.cancel(sr.doc_id, BOSS)
    shop.docs.cancel(i2.doc_id, BOSS)
    shop.check_books()


@pytest.mark.parametrize("side", ["purchase", "sales"])
def test_a_red_invoice_line_keeps_the_tax_rate_and_stays_within_the_invoiced_amount(
        shop: Shop, side: str) -> None:
    """红字发票不得超过原蓝字发票: 1 @ 5,000.00 against units invoiced at 100.00 / 200.00,
    and 0% against a 13% invoice, are refused; the original price, or less, posts."""
    if side == "purchase":
        rc, _ = invoiced_receipt(shop)
        rt, kind, party, price = supplier_return(shop, rc, 2), "purchase_invoice", "S1", "100.00"
    else:
        dl, _ = invoiced_delivery(shop)
        rt, kind, party, price = customer_return(shop, dl, 2), "sales_invoice", "C1", "200.00"

    def red(p: str, tax: Decimal = T13) -> str:
        return shop.approved(kind, [Line(1, "A", D(1), D(p), tax, source=(rt.doc_id, 1))],
                             party)

    err = _refused(shop, red("5000.00"), "invalid_document")
    assert err.data["field"] == "price" and price in str(err)
    err = _refused(shop, red("100.02" if side == "purchase" else "200.02"),
                   "invalid_document")
    err = _refused(shop, red(price, D(0)), "invalid_document")
    assert err.data["field"] == "tax_rate"
    shop.docs.post(red(price), BOSS)
    shop.docs.post(red("90.00"), BOSS)  # less: the supplier / we credit less
    shop.check_books()


def test_a_document_names_sources_of_its_own_party_only(shop: Shop) -> None:
    """Party BOTH's red-letter invoice of S1's return, invoice of S1's receipt, return of
    S1's receipt, and the same on the sales side: refused, naming both parties."""
    rc, _ = invoiced_receipt(shop)
    rt = supplier_return(shop, rc, 4)
    dl, _ = invoiced_delivery(shop)
    sr = customer_return(shop, dl, 4)
    before = shop.snapshot()
    for kind, src in (("purchase_invoice", rt), ("purchase_invoice", rc),
                      ("purchase_return", rc), ("sales_invoice", sr),
                      ("sales_invoice", dl), ("sales_return", dl)):
        with pytest.raises(JxcError) as err:
            shop.make(kind, [Line(1, "A", D(1), D("100.00"), T13, warehouse="W1",
                                  source=(src.doc_id, 1))], "BOTH")
        assert err.value.code == "invalid_document"
        assert src.party in str(err.value) and "BOTH" in str(err.value)
        assert "BOTH" in err.value.message("zh")
    assert shop.snapshot() == before


@pytest.mark.parametrize("side", ["purchase", "sales"])
def test_a_credit_note_left_open_is_cleared_by_a_refund(shop: Shop, side: str) -> None:
    """The invoice paid whole, the red-letter invoice of 4 units is a credit left open (the
    supplier owes us / we owe the customer): ``settle`` naming it takes the money refunded
    (Dr bank on payables, Cr bank on receivables), in parts, with another invoice, and
    ``cancel_settlement`` opens it again."""
    if side == "purchase":
        rc, inv = invoiced_receipt(shop)
        red = red_purchase(shop, supplier_return(shop, rc, 4), 4)
        kind, party, gross, credit = "payable", "S1", D("1130.00"), D("452.00")
    else:
        dl, inv = invoiced_delivery(shop)
        red = red_sales(shop, customer_return(shop, dl, 4), 4)
        kind, party, gross, credit = "receivable", "C1", D("2260.00"), D("904.00")
    acc = Accounting(shop.jxc)
    acc.settle(kind, party, gross, date=MARCH, invoices=[inv.doc_id])
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:  # nothing to offset it against
        acc.settle(kind, party, D(0), date=MARCH, invoices=[red.doc_id])
    assert err.value.code == "invalid_quantity" and "no open invoice" in str(err.value)
    assert "没有可冲抵" in err.value.message("zh")
    with pytest.raises(JxcError) as err:
        acc.settle(kind, party, credit + D("0.01"), date=MARCH, invoices=[red.doc_id])
    assert err.value.code == "over_settlement" and err.value.data["open"] == credit
    with pytest.raises(JxcError) as err:  # unnamed: a payment, as before
        acc.settle(kind, party, D("1.00"), date=MARCH)
    assert err.value.code == "over_settlement"
    assert shop.snapshot() == before
    out = acc.settle(kind, party, D("100.00"), date=MARCH, invoices=[red.doc_id])
    bank_in = kind == "payable"  # the supplier refunds: the bank receives
    assert [(r.role, r.debit, r.credit, r.ref) for r in out] == [
        (kind, D(0) if bank_in else D("100.00"), D("100.00") if bank_in else D(0), red.doc_id),
        ("bank", D("100.00") if bank_in else D(0), D(0) if bank_in else D("100.00"), "")]
    assert [(i.doc_id, i.open) for i in acc.open_items(kind)] == [
        (red.doc_id, -(credit - D("100.00")))]
    acc.cancel_settlement(out[0].doc_id)
    assert [(i.doc_id, i.open) for i in acc.open_items(kind)] == [(red.doc_id, -credit)]
    # with a new invoice of 1 unit named too: the refund is the credit less that invoice
    if side == "purchase":
        rc2 = shop.receipt([Line(1, "A", D(1), D("100.00"), T13, warehouse="W1")])
        inv2 = shop.run("purchase_invoice", [Line(1, "A", D(1), D("100.00"), T13,
                                                  source=(rc2.doc_id, 1))], "S1")
        one = D("113.00")
    else:
        dl2 = shop.run("delivery", [Line(1, "A", D(1), D("200.00"), T13, warehouse="W1")],
                       "C1")
        inv2 = shop.run("sales_invoice", [Line(1, "A", D(1), D("200.00"), T13,
                                               source=(dl2.doc_id, 1))], "C1")
        one = D("226.00")
    acc.settle(kind, party, credit - one, date=MARCH, invoices=[red.doc_id, inv2.doc_id])
    assert acc.open_items(kind) == []
    assert shop.net(kind) == 0
    shop.check_books()
    check_vouchers(acc)

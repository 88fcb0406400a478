"""Purchase (domain rules 5): order -> receipts -> returns -> invoices, tolerance, counters,
on order, FIFO layers of returns, price differences, cancellation (红冲)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError

from .support import BOSS, Shop

D = Decimal
T13 = D("0.13")


def order(shop: Shop, qty: int = 100) -> Document:
    return shop.po([Line(1, "A", D(qty), D("10.00"), T13, warehouse="W1")])


def receive(shop: Shop, po: Document | None, qty: int, price: str, item: str = "A"
            ) -> Document:
    src = (po.doc_id, 1) if po is not None else None
    return shop.receipt([Line(1, item, D(qty), D(price), T13, warehouse="W1", source=src)])


def rows(shop: Shop, doc_id: str) -> list[tuple[str, Decimal, Decimal]]:
    return [(r.role, r.debit, r.credit) for r in shop.journal(doc_id)]


def test_order_partial_receipts_counters_and_on_order(shop: Shop) -> None:
    po = shop.po([Line(1, "A", D(100), D("10.00"), T13, warehouse="W1"),
                  Line(2, "B", D(50), D("22.60"), T13, True, warehouse="W1")])
    assert shop.counters(po.doc_id, 1, "ordered", "received", "returned", "invoiced") == {
        "ordered": D(100), "received": D(0), "returned": D(0), "invoiced": D(0)}
    assert shop.counters(po.doc_id, 2, "ordered") == {"ordered": D(50)}
    a = shop.jxc.balance("A", "W1")
    assert (a.on_hand, a.on_order, a.projected) == (0, 100, 100)
    assert shop.journal(po.doc_id) == []  # an order has no accounting effect

    #: (quantity received, price, on hand, value, on order, received so far)
    table = [(60, "10.00", 60, "600.00", 40, 60), (30, "12.00", 90, "960.00", 10, 90)]
    for qty, price, on_hand, value, on_order, received in table:
        rc = receive(shop, po, qty, price)
        b = shop.jxc.balance("A", "W1")
        assert (b.on_hand, b.value, b.on_order, b.projected) == (
            on_hand, D(value), on_order, 100)
        assert shop.docs.get(po.doc_id).counter(1, "received") == received
        assert rows(shop, rc.doc_id) == [("inventory", D(price) * qty, D(0)),
                                         ("grni", D(0), D(price) * qty)]
    rb = shop.receipt([Line(1, "B", D(50), D("22.60"), T13, True, warehouse="W1",
                            source=(po.doc_id, 2))])
    assert shop.counters(rb.doc_id, 1, "received", "value") == {
        "received": D(50), "value": D("1000.00")}  # 1130 / 1.13
    assert shop.value("B") == D("1000.00")
    assert shop.jxc.balance("B", "W1").on_order == 0
    assert shop.counters(po.doc_id, 1, "ordered", "received") == {
        "ordered": D(100), "received": D(90)}
    assert shop.counters(po.doc_id, 2, "ordered", "received") == {
        "ordered": D(50), "received": D(50)}
    shop.check_books()


def test_over_receipt_is_refused_and_writes_nothing(shop: Shop) -> None:
    po = order(shop)
    receive(shop, po, 90, "10.00")
    rc = shop.make("purchase_receipt", [
        Line(1, "C", D(5), D(1), warehouse="W1"),  # a fine line first: all or nothing
        Line(2, "A", D(11), D("10.00"), warehouse="W1", source=(po.doc_id, 1))], "S1")
    shop.docs.submit(rc.doc_id, BOSS)
    shop.docs.approve(rc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(rc.doc_id, BOSS)
    assert err.value.code == "over_receipt"
    assert (err.value.data["quantity"], err.value.data["open"]) == (11, 10)
    assert shop.snapshot() == before
    assert shop.docs.get(rc.doc_id).state == State.APPROVED
    assert shop.qty("C") == 0
    receive(shop, po, 10, "10.00")  # exactly the open quantity is fine
    assert shop.docs.get(po.doc_id).counter(1, "received") == 100
    assert shop.jxc.balance("A", "W1").on_order == 0
    shop.check_books()


def test_over_receipt_within_tolerance(tolerant_shop: Shop) -> None:
    shop = tolerant_shop  # 10%: up to 110 of 100
    po = order(shop)
    receive(shop, po, 90, "10.00")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        receive(shop, po, 21, "10.00")  # 111 > 110
    assert err.value.code == "over_receipt"
    assert err.value.data["tolerance"] == D("0.1")
    after = shop.snapshot()
    assert after["ledger"] == before["ledger"]
    assert after["journal"] == before["journal"]
    assert after["balances"] == before["balances"]
    receive(shop, po, 20, "10.00")  # 110: accepted
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.value, b.on_order, b.projected) == (110, D("1100.00"), 0, 110)
    assert shop.docs.get(po.doc_id).counter(1, "received") == 110
    shop.check_books()


def test_receipt_in_another_unit_counts_base_units(shop: Shop) -> None:
    po = shop.po([Line(1, "A", D(5), D(120), unit="箱", warehouse="W1")])
    assert po.counter(1, "ordered") == 60
    assert shop.jxc.balance("A", "W1").on_order == 60
    shop.receipt([Line(1, "A", D(2), D(120), unit="箱", warehouse="W1",
                       source=(po.doc_id, 1))])
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.value, b.on_order) == (24, D("240.00"), 36)
    assert shop.docs.get(po.doc_id).counter(1, "received") == 24
    shop.check_books()


def test_close_order_drops_the_open_remainder(shop: Shop) -> None:
    po = order(shop)
    receive(shop, po, 30, "10.00")
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(po.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    closed = shop.docs.close(po.doc_id, BOSS)
    assert closed.state == State.CLOSED
    b = shop.jxc.balance("A", "W1")
    assert (b.on_order, b.projected) == (0, 30)
    with pytest.raises(JxcError) as err2:
        receive(shop, po, 1, "10.00")  # a closed order takes no receipts
    assert err2.value.code == "invalid_document"


def test_cancel_of_an_untouched_order_removes_on_order(shop: Shop) -> None:
    po = order(shop)
    shop.docs.cancel(po.doc_id, BOSS)
    assert shop.jxc.balance("A", "W1").on_order == 0


def test_supplier_return_takes_its_own_receipt_layer(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00")
    r2 = receive(shop, None, 10, "12.00")
    pr = shop.run("purchase_return", [Line(1, "A", D(5), D("12.00"), T13, warehouse="W1",
                                           source=(r2.doc_id, 1))], "S1")
    # the later receipt's layer (12.00), not the oldest (10.00)
    assert shop.counters(pr.doc_id, 1, "returned", "supplier_value", "stock_value") == {
        "returned": D(5), "supplier_value": D("60.00"), "stock_value": D("60.00")}
    assert (shop.qty("A"), shop.value("A")) == (15, D("160.00"))
    assert rows(shop, pr.doc_id) == [("grni", D("60.00"), D(0)),
                                     ("inventory", D(0), D("60.00"))]
    assert shop.counters(r2.doc_id, 1, "received", "value", "returned",
                         "returned_value") == {
        "received": D(10), "value": D("120.00"), "returned": D(5),
        "returned_value": D("60.00")}
    assert shop.docs.get(r1.doc_id).counter(1, "returned") == 0
    # the first receipt's layer is whole: issuing 10 takes exactly its 100.00
    out = shop.run("adjustment", [Line(1, "A", D(-10), warehouse="W1")])
    assert out.counters[1]["value"] == D("100.00")
    assert shop.value("A") == D("60.00")
    shop.check_books()


def test_return_of_the_older_receipt_after_a_dearer_one(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00")
    receive(shop, None, 10, "13.00")
    pr = shop.run("purchase_return", [Line(1, "A", D(3), D("10.00"), warehouse="W1",
                                           source=(r1.doc_id, 1))], "S1")
    assert pr.counters[1]["stock_value"] == D("30.00")
    assert shop.value("A") == D("200.00")  # 70 + 130
    shop.check_books()


def test_return_over_what_was_received_is_refused(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00")
    shop.run("purchase_return", [Line(1, "A", D(6), D(10), warehouse="W1",
                                      source=(r1.doc_id, 1))], "S1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.run("purchase_return", [Line(1, "A", D(5), D(10), warehouse="W1",
                                          source=(r1.doc_id, 1))], "S1")
    assert err.value.code == "over_receipt"
    assert err.value.data["open"] == 4
    after = shop.snapshot()
    assert (after["ledger"], after["journal"], after["values"]) == (
        before["ledger"], before["journal"], before["values"])


def test_return_under_moving_average_books_a_price_difference(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00", item="B")
    receive(shop, None, 10, "20.00", item="B")  # average 15.00
    pr = shop.run("purchase_return", [Line(1, "B", D(5), D("10.00"), warehouse="W1",
                                           source=(r1.doc_id, 1))], "S1")
    # stock leaves at the average (75.00), the supplier takes it back at 10.00 (50.00)
    assert rows(shop, pr.doc_id) == [("grni", D("50.00"), D(0)),
                                     ("inventory", D(0), D("75.00")),
                                     ("price_difference", D("25.00"), D(0))]
    assert (shop.qty("B"), shop.value("B")) == (15, D("225.00"))
    shop.check_books()


def test_return_after_an_invoice_takes_the_uninvoiced_units_first(shop: Shop) -> None:
    """The units not invoiced yet go back first, against GRNI at the receipt's price; the
    rest were invoiced (payable, not GRNI): they wait for a red-letter invoice on
    ``credit_pending`` at the invoice's price. Never more than received - returned."""
    r1 = receive(shop, None, 10, "10.00")
    shop.run("purchase_invoice", [Line(1, "A", D(6), D("11.00"), source=(r1.doc_id, 1))],
             "S1")
    # 6.00 of price difference: 10 units still on hand, all of it raises the layer
    assert shop.value("A") == D("106.00")
    with pytest.raises(JxcError) as err:
        shop.run("purchase_return", [Line(1, "A", D(11), D("10.00"), warehouse="W1",
                                          source=(r1.doc_id, 1))], "S1")
    assert err.value.code == "over_receipt" and err.value.data["open"] == D(10)
    pr = shop.run("purchase_return", [Line(1, "A", D(5), D("10.00"), warehouse="W1",
                                           source=(r1.doc_id, 1))], "S1")
    # 5 units leave at the layer's 10.60 (53.00): 4 not invoiced clear 40.00 of GRNI, 1
    # invoiced at 11.00 waits for its credit note; 2.00 of price difference
    assert rows(shop, pr.doc_id) == [("grni", D("40.00"), D(0)),
                                     ("credit_pending", D("11.00"), D(0)),
                                     ("inventory", D(0), D("53.00")),
                                     ("price_difference", D("2.00"), D(0))]
    assert shop.counters(pr.doc_id, 1, "to_credit", "credit_value") == {
        "to_credit": D(1), "credit_value": D("11.00")}
    assert shop.counters(r1.doc_id, 1, "returned", "returned_invoiced") == {
        "returned": D(5), "returned_invoiced": D(1)}
    assert shop.value("A") == D("53.00")
    assert shop.net("grni") == 0  # the 5 units kept are all invoiced: no GRNI left
    shop.check_books()


def test_a_return_price_does_not_move_cost_into_the_units_kept(shop: Shop) -> None:
    """Units not invoiced yet are owed at the receipt's price: a return naming 11.00 for
    units received at 12.00 clears 60.00 of GRNI, not 55.00 (the invoice of the 5 units kept
    at 12.00 then found 65.00 of GRNI and took 5.00 off their stock: 55.00 for 60.00
    invoiced, and a false 5.00 price difference on the return)."""
    r1 = receive(shop, None, 10, "12.00")
    pr = shop.run("purchase_return", [Line(1, "A", D(5), D("11.00"), warehouse="W1",
                                           source=(r1.doc_id, 1))], "S1")
    assert pr.net_total == D("55.00")  # the document's own amount, as typed
    assert sorted(rows(shop, pr.doc_id)) == [("grni", D("60.00"), D(0)),
                                             ("inventory", D(0), D("60.00"))]
    inv = shop.run("purchase_invoice", [Line(1, "A", D(5), D("12.00"), T13,
                                             source=(r1.doc_id, 1))], "S1")
    assert shop.roles(inv.doc_id).get("inventory", D(0)) == 0
    assert shop.value("A") == D("60.00")
    assert shop.net("grni") == 0
    shop.check_books()


#: (invoice quantity, price, grni, input tax, payable, inventory kept, cogs)
INVOICES = [
    (60, "10.50", "600.00", "81.90", "711.90", "20.00", "10.00"),  # +30.00: 40/60 kept
    (60, "9.90", "600.00", "77.22", "671.22", "-4.00", "-2.00"),  # -6.00
    (30, "10.50", "300.00", "40.95", "355.95", "10.00", "5.00"),  # +15.00 on half
    (60, "10.00", "600.00", "78.00", "678.00", "0", "0"),  # no difference
]


@pytest.mark.parametrize(("qty", "price", "grni", "tax", "payable", "kept", "cogs"), INVOICES)
def test_purchase_invoice_splits_the_price_difference(
        shop: Shop, qty: int, price: str, grni: str, tax: str, payable: str, kept: str,
        cogs: str) -> None:
    po = order(shop)
    r1 = receive(shop, po, 60, "10.00")
    shop.run("adjustment", [Line(1, "A", D(-20), warehouse="W1")])  # 20 of 60 issued
    assert shop.value("A") == D("400.00")
    pi = shop.run("purchase_invoice", [Line(1, "A", D(qty), D(price), T13,
                                            source=(r1.doc_id, 1))], "S1")
    assert shop.roles(pi.doc_id) == {k: v for k, v in {
        "grni": D(grni), "input_tax": D(tax), "payable": -D(payable),
        "inventory": D(kept), "cogs": D(cogs)}.items() if v}
    assert shop.value("A") == D("400.00") + D(kept)  # exactly the kept share
    assert shop.docs.get(r1.doc_id).counter(1, "invoiced") == qty
    assert shop.docs.get(po.doc_id).counter(1, "invoiced") == qty
    assert shop.counters(pi.doc_id, 1, "invoiced", "grni") == {
        "invoiced": D(qty), "grni": D(grni)}
    shop.check_books()


def test_invoice_beyond_the_receipt_is_refused(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00")
    shop.run("purchase_invoice", [Line(1, "A", D(7), D(10), source=(r1.doc_id, 1))], "S1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.run("purchase_invoice", [Line(1, "A", D(4), D(10), source=(r1.doc_id, 1))],
                 "S1")
    assert err.value.code == "over_receipt"
    assert err.value.data["open"] == 3
    after = shop.snapshot()
    assert (after["journal"], after["values"]) == (before["journal"], before["values"])


def test_cancel_of_an_intact_receipt_restores_everything(shop: Shop) -> None:
    po = order(shop)
    receive(shop, po, 60, "10.00")
    before = shop.jxc.balance("A", "W1")
    r2 = receive(shop, po, 30, "12.00")
    cancelled = shop.docs.cancel(r2.doc_id, BOSS)
    assert cancelled.state == State.CANCELLED
    assert shop.jxc.balance("A", "W1") == before
    assert (before.on_hand, before.value, before.on_order) == (60, D("600.00"), 40)
    assert shop.counters(po.doc_id, 1, "ordered", "received", "returned") == {
        "ordered": D(100), "received": D(60), "returned": D(0)}
    assert shop.roles(r2.doc_id) == {"inventory": 0, "grni": 0}
    assert len(shop.rows_of(r2.doc_id)) == 4  # the entry and its red entry
    assert [x.entry.kind for x in shop.jxc.ledger("A")][-1] == "receipt_reversal"
    assert shop.jxc.ledger("A")[-1].entry.value == D("-360.00")
    shop.check_books()


def test_cancel_of_a_receipt_whose_units_left_is_refused(shop: Shop) -> None:
    po = order(shop)
    r1 = receive(shop, po, 60, "10.00")
    r2 = receive(shop, po, 30, "12.00")
    shop.run("adjustment", [Line(1, "A", D(-1), warehouse="W1")])  # FIFO: out of r1
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(r1.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert err.value.data["doc_id"] == r1.doc_id
    assert "1 of its units" in err.value.data["reason"]
    assert shop.snapshot() == before
    shop.docs.cancel(r2.doc_id, BOSS)  # r2's layer is whole
    assert (shop.qty("A"), shop.value("A")) == (59, D("590.00"))
    shop.check_books()


def test_cancel_of_an_invoiced_receipt_is_refused(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00")
    shop.run("purchase_invoice", [Line(1, "A", D(10), D(10), source=(r1.doc_id, 1))], "S1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(r1.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert shop.snapshot() == before


def test_return_of_a_return_restores_stock_and_counters(shop: Shop) -> None:
    po = order(shop, 10)
    r1 = receive(shop, po, 10, "10.00")
    pr = shop.run("purchase_return", [Line(1, "A", D(4), D(10), warehouse="W1",
                                           source=(r1.doc_id, 1))], "S1")
    assert (shop.qty("A"), shop.value("A")) == (6, D("60.00"))
    assert shop.docs.get(po.doc_id).counter(1, "returned") == 4
    shop.docs.cancel(pr.doc_id, BOSS)
    assert (shop.qty("A"), shop.value("A")) == (10, D("100.00"))
    assert shop.docs.get(r1.doc_id).counter(1, "returned") == 0
    assert shop.docs.get(r1.doc_id).counter(1, "returned_value") == 0
    assert shop.docs.get(po.doc_id).counter(1, "returned") == 0
    assert shop.roles(pr.doc_id) == {"grni": 0, "inventory": 0}
    shop.check_books()


def test_cancel_of_a_purchase_invoice_reverses_it(shop: Shop) -> None:
    r1 = receive(shop, None, 10, "10.00")
    pi = shop.run("purchase_invoice", [Line(1, "A", D(10), D(11), source=(r1.doc_id, 1))],
                  "S1")
    shop.docs.cancel(pi.doc_id, BOSS)
    assert shop.value("A") == D("100.00")
    assert shop.docs.get(r1.doc_id).counter(1, "invoiced") == 0
    assert all(v == 0 for v in shop.roles(pi.doc_id).values())


def test_supplier_return_reopens_the_order_line_and_close_drops_it(shop: Shop) -> None:
    po = order(shop)
    r1 = receive(shop, po, 100, "10.00")
    shop.run("purchase_return", [Line(1, "A", D(10), D(10), warehouse="W1",
                                      source=(r1.doc_id, 1))], "S1")
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.on_order, b.projected) == (90, 10, 100)  # the line is open again
    shop.docs.close(po.doc_id, BOSS)
    b = shop.jxc.balance("A", "W1")
    assert (b.on_order, b.projected) == (0, 90)


def test_cancel_of_an_over_receipt_restores_on_order(tolerant_shop: Shop) -> None:
    shop = tolerant_shop
    po = order(shop)
    receive(shop, po, 90, "10.00")
    r2 = receive(shop, po, 20, "10.00")
    assert shop.jxc.balance("A", "W1").on_order == 0
    shop.docs.cancel(r2.doc_id, BOSS)
    assert shop.docs.get(po.doc_id).counter(1, "received") == 90
    assert shop.jxc.balance("A", "W1").on_order == 10


def test_order_fulfilment_derives_from_its_counters(shop: Shop) -> None:
    """Purchase order of 10 A and 5 C: none -> partial (A 4 received) -> partial (C all
    returned again: kept 0) -> complete (every line kept its order) -> invoiced (every line
    invoiced for what it kept). A sales order the same by delivered; other documents: None."""
    po = shop.po([Line(1, "A", D(10), D("10.00"), T13, warehouse="W1"),
                  Line(2, "C", D(5), D("2.00"), T13, warehouse="W1")])
    status = [po.fulfilment]
    draft = shop.make("purchase_order", [Line(1, "A", D(1), D(1), warehouse="W1")], "S1")
    status.append(draft.fulfilment)
    r1 = shop.receipt([Line(1, "A", D(4), D("10.00"), T13, warehouse="W1",
                            source=(po.doc_id, 1))])
    status.append(shop.docs.get(po.doc_id).fulfilment)
    r2 = shop.receipt([Line(1, "A", D(6), D("10.00"), T13, warehouse="W1", source=(po.doc_id, 1)),
                       Line(2, "C", D(5), D("2.00"), T13, warehouse="W1", source=(po.doc_id, 2))])
    status.append(shop.docs.get(po.doc_id).fulfilment)
    back = shop.run("purchase_return", [Line(1, "C", D(5), D("2.00"), T13, warehouse="W1",
                                             source=(r2.doc_id, 2))], "S1")
    status.append(shop.docs.get(po.doc_id).fulfilment)
    shop.docs.cancel(back.doc_id, BOSS)
    status.append(shop.docs.get(po.doc_id).fulfilment)
    for rk, n, q in ((r1, 1, 4), (r2, 1, 6), (r2, 2, 5)):
        item = rk.lines[n - 1].item
        shop.run("purchase_invoice", [Line(1, item, D(q), rk.lines[n - 1].price, T13,
                                           source=(rk.doc_id, n))], "S1")
        status.append(shop.docs.get(po.doc_id).fulfilment)
    assert status == ["none", "none", "partial", "complete", "partial", "complete",
                      "complete", "complete", "invoiced"]
    assert r1.fulfilment is None
    shop.stock_in("A", D(10), D(5))
    so = shop.run("sales_order", [Line(1, "A", D(3), D(20), T13, warehouse="W1")], "C1")
    assert so.fulfilment == "none"
    shop.run("delivery", [Line(1, "A", D(3), D(20), T13, warehouse="W1", source=(so.doc_id, 1))],
             "C1")
    assert shop.docs.get(so.doc_id).fulfilment == "complete"

"""An order line tells the same story as its receipt / delivery lines (DOMAIN 5): after a
return of invoiced units and its red-letter invoice (红字发票), the order line counts the
invoiced units returned (``returned_invoiced``) as its receipt / delivery line does, so that
``invoiced − returned_invoiced`` stays within ``received/delivered − returned``. Cancelling the
red-letter invoice and the return puts both lines back alike."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line

from .support import BOSS, Shop

D = Decimal
NAMES = ("returned", "invoiced", "returned_invoiced")


@pytest.mark.parametrize("side", ["purchase", "sales"])
def test_order_line_counts_invoiced_units_returned(shop: Shop, side: str) -> None:
    purchase = side == "purchase"
    party = "S1" if purchase else "C1"
    order_t, fwd_t, ret_t, inv_t = (
        ("purchase_order", "purchase_receipt", "purchase_return", "purchase_invoice")
        if purchase else ("sales_order", "delivery", "sales_return", "sales_invoice"))
    done = "received" if purchase else "delivered"
    if not purchase:
        shop.stock_in("A", D(10), D("10.00"))
    order = shop.run(order_t, [Line(1, "A", D(10), D("10.00"), warehouse="W1")], party)
    fwd = shop.run(fwd_t, [Line(1, "A", D(10), D("10.00"), warehouse="W1",
                                source=(order.doc_id, 1))], party)
    shop.run(inv_t, [Line(1, "A", D(10), D("10.00"), source=(fwd.doc_id, 1))], party)
    ret = shop.run(ret_t, [Line(1, "A", D(4), D("10.00"), warehouse="W1",
                                source=(fwd.doc_id, 1))], party)
    want = {"returned": D(4), "invoiced": D(10), "returned_invoiced": D(4)}
    assert shop.counters(fwd.doc_id, 1, *NAMES) == want
    assert shop.counters(order.doc_id, 1, *NAMES) == want  # was returned_invoiced 0
    red = shop.run(inv_t, [Line(1, "A", D(4), D("10.00"), source=(ret.doc_id, 1))], party)
    assert shop.counters(order.doc_id, 1, *NAMES) == want  # a credit note moves no units
    c = shop.docs.get(order.doc_id)
    assert (c.counter(1, "invoiced") - c.counter(1, "returned_invoiced")
            == c.counter(1, done) - c.counter(1, "returned") == D(6))
    shop.check_books()
    shop.docs.cancel(red.doc_id, BOSS)
    shop.docs.cancel(ret.doc_id, BOSS)
    back = {"returned": D(0), "invoiced": D(10), "returned_invoiced": D(0)}
    assert shop.counters(fwd.doc_id, 1, *NAMES) == back
    assert shop.counters(order.doc_id, 1, *NAMES) == back
    shop.check_books()


def test_closed_order_still_counts_the_return_of_invoiced_units(shop: Shop) -> None:
    """A closed order stays closed; its line still counts what later returns take back."""
    order = shop.po([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    rc = shop.receipt([Line(1, "A", D(8), D("10.00"), warehouse="W1",
                            source=(order.doc_id, 1))])
    shop.docs.close(order.doc_id, BOSS)
    shop.run("purchase_invoice", [Line(1, "A", D(8), D("10.00"), source=(rc.doc_id, 1))],
             "S1")
    shop.run("purchase_return", [Line(1, "A", D(3), D("10.00"), warehouse="W1",
                                      source=(rc.doc_id, 1))], "S1")
    assert shop.counters(order.doc_id, 1, *NAMES) == {
        "returned": D(3), "invoiced": D(8), "returned_invoiced": D(3)}

"""Cancelling (红冲) an adjustment's or a count's loss brings its units back at what they cost
now: the value they left with plus every correction booked on that issue since (a charge's
cancellation, a back-dated receipt), as a delivery's cancellation does.

Every scenario: 10 units received at 10.00 into W1; an invoice of 8 of them at 12.00 (the 10
units at 11.60); 1 unit leaves by an adjustment or a count (11.60); the invoice cancelled (the
unit that left re-valued to 10.00: 1.60 back from the adjustment role, or from cost of goods
sold under moving average); then the adjustment or
count cancelled, then the receipt. Every role of the books must net to zero and the stock end
at 0 / 0.00. Before, the unit came back at 11.60: the receipt's cancellation then booked 1.60
of price difference, the adjustment role kept −1.60.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line

from .support import BOSS, Shop

D = Decimal
METHODS = {"fifo": "A", "moving_average": "B"}


def _loss(shop: Shop, how: str, item: str) -> str:
    if how == "adjustment":
        return shop.run("adjustment", [Line(1, item, D(-1), D(0), warehouse="W1")]).doc_id
    pc = shop.docs.submit(shop.make("stock_count", [Line(1, item, D(0), warehouse="W1")]
                                    ).doc_id, BOSS)
    shop.docs.record_count(pc.doc_id, {1: D(9)})
    shop.docs.approve(pc.doc_id, BOSS)
    return shop.docs.post(pc.doc_id, BOSS).doc_id


@pytest.mark.parametrize("how", ["adjustment", "stock_count"])
@pytest.mark.parametrize("method", list(METHODS))
def test_a_loss_re_valued_by_a_charge_cancellation_comes_back_at_its_new_cost(
        shop: Shop, method: str, how: str) -> None:
    item = METHODS[method]
    rk = shop.run("purchase_receipt", [Line(1, item, D(10), D(10), warehouse="W1")],
                  "S1").doc_id
    fp = shop.run("purchase_invoice", [Line(1, item, D(8), D(12), source=(rk, 1))],
                  "S1").doc_id
    loss = _loss(shop, how, item)
    role = "adjustment" if how == "adjustment" else "count_gain_loss"
    assert shop.net(role, loss) == D("11.60")
    shop.docs.cancel(fp, BOSS)
    # the unit that left costs 10.00 now; the correction goes where the issue booked its
    # cost (under moving average, cost of goods sold: docs/vouchers.md)
    assert shop.roles(fp).get(role if method == "fifo" else "cogs") == D("-1.60")
    shop.docs.cancel(loss, BOSS)
    assert shop.jxc.balance(item, "W1").value == D("100.00")  # 10 at 10.00, as received
    shop.check_books()
    shop.docs.cancel(rk, BOSS)
    assert (shop.jxc.balance(item, "W1").on_hand, shop.jxc.balance(item, "W1").value) == (
        D(0), D("0.00"))
    nets = {r.role: shop.net(r.role) for r in shop.journal()}
    assert {k: v for k, v in nets.items() if v} == {}
    shop.check_books()

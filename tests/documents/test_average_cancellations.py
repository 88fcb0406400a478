"""Moving average: cancelling (红冲) a movement that brought units in takes back the units of
it still on hand at their original cost, the rest at the average (DOMAIN.md section 5: "A
posted document is never edited; cancelling it posts the reversal at the original costs").

Before, the units left at the current average: a receipt of 4 @ 10.00 into 10 @ 20.00,
cancelled, left 10 @ 171.43 (inventory -68.57, GRNI +40.00, price difference -28.57) instead
of the 10 @ 200.00 as if it had never been posted.

Item B (moving average), warehouse W1; every scenario starts with R1, a receipt of 10 @ 20.00
(200.00)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.services import Accounting

from .support import BOSS, Shop

D = Decimal


@pytest.fixture
def avg(shop: Shop) -> Shop:
    shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])  # R1: 10 @ 200.00
    return shop


def _red(shop: Shop, doc_id: str) -> dict[str, Decimal]:
    """Net (debit - credit) per role of the cancellation's rows only (zeros dropped)."""
    out: dict[str, Decimal] = {}
    for r in shop.journal(f"{doc_id}-R"):
        out[r.role] = out.get(r.role, D(0)) + r.debit - r.credit
    return {k: v for k, v in out.items() if v}


def _check(shop: Shop) -> None:
    """The books: every posting balances, the inventory role equals the stock valuation,
    the vouchers (Chinese preset) balance and 1405 equals the stock valuation."""
    shop.check_books()
    books = Accounting(shop.jxc)
    assert books.generate_vouchers()
    for v in books.vouchers():
        assert sum((x.debit for x in v.lines), D(0)) == sum((x.credit for x in v.lines), D(0))
    assert books.account_balance("1405") == shop.stock_value()


# -- all of the receipt still on hand: as if it had never been posted ---------------------------


@pytest.mark.parametrize(("qty", "price", "before", "red"), [
    # the reproduction: 14 @ 240.00, the 4 go at 40.00 (were 68.57, 240 x 4 / 14)
    (D(4), D(10), (D(14), D("240.00")),
     {"inventory": D("-40.00"), "grni": D("40.00")}),
    # dearer than the average: 3 @ 33.33 = 99.99 into 10 @ 200.00; were 3 x 299.99 / 13 =
    # 69.23 (a price difference of 30.76)
    (D(3), D("33.33"), (D(13), D("299.99")),
     {"inventory": D("-99.99"), "grni": D("99.99")}),
])
def test_cancelling_a_receipt_all_on_hand(avg: Shop, qty: Decimal, price: Decimal,
                                          before: tuple[Decimal, Decimal],
                                          red: dict[str, Decimal]) -> None:
    doc = avg.receipt([Line(1, "B", qty, price, warehouse="W1")])
    assert (avg.qty("B"), avg.value("B")) == before
    avg.docs.cancel(doc.doc_id, BOSS)
    assert (avg.qty("B"), avg.value("B")) == (D(10), D("200.00"))
    assert _red(avg, doc.doc_id) == red  # no price difference
    assert avg.net("price_difference") == D(0)
    _check(avg)


def test_cancelling_a_receipt_part_of_which_was_issued(avg: Shop) -> None:
    """R2 4 @ 10.00 (40.00): 14 @ 240.00. A delivery of 11 costs 240 x 11 / 14 = 188.57 and
    takes units oldest first: R1's 10 and 1 of R2; 3 @ 51.43 left, all R2's. R3 5 @ 30.00
    (150.00): 8 @ 201.43.

    Cancelling R2 takes its 3 units on hand at their own cost, 3 x 40.00 / 4 = 30.00, and the
    4th at the average of what stays once they are out: (201.43 - 30.00) / 5 = 34.286 ->
    34.29. 64.29 in all; 4 @ 137.14 left. The receipt's GRNI (40.00) is undone; the 24.29 more
    that left stock is a price difference (the rule of a receipt's reversal)."""
    r2 = avg.receipt([Line(1, "B", D(4), D(10), warehouse="W1")])
    dl = avg.run("delivery", [Line(1, "B", D(11), D(30), warehouse="W1")], "C1")
    assert avg.roles(dl.doc_id)["cogs"] == D("188.57")
    avg.receipt([Line(1, "B", D(5), D(30), warehouse="W1")])
    assert (avg.qty("B"), avg.value("B")) == (D(8), D("201.43"))
    avg.docs.cancel(r2.doc_id, BOSS)
    assert _red(avg, r2.doc_id) == {"inventory": D("-64.29"), "grni": D("40.00"),
                                    "price_difference": D("24.29")}
    assert (avg.qty("B"), avg.value("B")) == (D(4), D("137.14"))
    _check(avg)


# -- adjustments and counts: the counter-account nets to zero ---------------------------------


def test_cancelling_an_adjustment_in_all_on_hand(avg: Shop) -> None:
    qt = avg.run("adjustment", [Line(1, "B", D(4), D(10), warehouse="W1")]).doc_id
    assert (avg.qty("B"), avg.value("B")) == (D(14), D("240.00"))
    avg.docs.cancel(qt, BOSS)
    assert _red(avg, qt) == {"inventory": D("-40.00"), "adjustment": D("40.00")}
    assert avg.net("adjustment") == D(0)  # was 28.57: the 4 left at 68.57 (240 x 4 / 14)
    assert (avg.qty("B"), avg.value("B")) == (D(10), D("200.00"))
    _check(avg)


def test_cancelling_an_adjustment_in_part_of_which_was_issued(avg: Shop) -> None:
    """The scenario of the receipt above with an adjustment +4 @ 10.00 instead of R2: the
    cancellation takes 64.29 out of stock (30.00 for its 3 units on hand, 34.29 for the 4th at
    the average). The adjustment account is undone at what the adjustment booked (40.00); the
    24.29 the delivery's average cost missed goes to cost of goods sold (not left on 1901)."""
    qt = avg.run("adjustment", [Line(1, "B", D(4), D(10), warehouse="W1")]).doc_id
    avg.run("delivery", [Line(1, "B", D(11), D(30), warehouse="W1")], "C1")
    avg.receipt([Line(1, "B", D(5), D(30), warehouse="W1")])
    avg.docs.cancel(qt, BOSS)
    assert _red(avg, qt) == {"inventory": D("-64.29"), "adjustment": D("40.00"),
                             "cogs": D("24.29")}
    assert avg.net("adjustment") == D(0)
    assert (avg.qty("B"), avg.value("B")) == (D(4), D("137.14"))
    _check(avg)


def test_cancelling_a_count_gain(avg: Shop) -> None:
    """Counted 12 of 10: a gain of 2 at the average, 40.00 (12 @ 240.00). R2 4 @ 10.00: 16 @
    280.00. Cancelling the count takes the 2 at 40.00 (were 35.00, 280 x 2 / 16): 14 @
    240.00, the count_gain_loss account (1901) back to zero."""
    pd = avg.make("stock_count", [Line(1, "B", D(0), warehouse="W1")]).doc_id
    avg.docs.submit(pd, BOSS)
    avg.docs.record_count(pd, {1: D(12)})
    avg.docs.approve(pd, BOSS)
    avg.docs.post(pd, BOSS)
    assert (avg.qty("B"), avg.value("B")) == (D(12), D("240.00"))
    avg.receipt([Line(1, "B", D(4), D(10), warehouse="W1")])
    avg.docs.cancel(pd, BOSS)
    assert _red(avg, pd) == {"inventory": D("-40.00"), "count_gain_loss": D("40.00")}
    assert avg.net("count_gain_loss") == D(0)
    assert (avg.qty("B"), avg.value("B")) == (D(14), D("240.00"))
    _check(avg)


# -- customer returns and transfers -------------------------------------------------------------


def test_cancelling_a_customer_return(avg: Shop) -> None:
    """A delivery of 4 (80.00), a return of 2 of them (40.00): 8 @ 160.00; R2 4 @ 10.00:
    12 @ 200.00. Cancelling the return takes its 2 units at 40.00 (were 33.33): 10 @ 160.00,
    cost of goods sold back at the delivery's 80.00."""
    dl = avg.run("delivery", [Line(1, "B", D(4), D(30), warehouse="W1")], "C1")
    rt = avg.run("sales_return", [Line(1, "B", D(2), D(30), warehouse="W1",
                                       source=(dl.doc_id, 1))], "C1")
    avg.receipt([Line(1, "B", D(4), D(10), warehouse="W1")])
    assert (avg.qty("B"), avg.value("B")) == (D(12), D("200.00"))
    avg.docs.cancel(rt.doc_id, BOSS)
    red = _red(avg, rt.doc_id)
    assert (red["inventory"], red["cogs"]) == (D("-40.00"), D("40.00"))
    assert (avg.qty("B"), avg.value("B")) == (D(10), D("160.00"))
    assert avg.net("cogs") == D("80.00")
    _check(avg)


def test_cancelling_a_transfer_takes_back_what_arrived(avg: Shop) -> None:
    """W2 holds 10 @ 10.00 (100.00). 4 go from W1 to W2 at 80.00: W1 6 @ 120.00, W2 14 @
    180.00. Cancelled, the 4 leave W2 at the 80.00 they arrived at (were 51.43) and come back
    into W1 at it: both warehouses as before."""
    avg.receipt([Line(1, "B", D(10), D(10), warehouse="W2")])
    db = avg.run("transfer", [Line(1, "B", D(4), D(0), warehouse="W1",
                                   to_warehouse="W2")]).doc_id
    assert (avg.value("B"), avg.value("B", "W2")) == (D("120.00"), D("180.00"))
    avg.docs.cancel(db, BOSS)
    assert (avg.qty("B"), avg.value("B")) == (D(10), D("200.00"))
    assert (avg.qty("B", "W2"), avg.value("B", "W2")) == (D(10), D("100.00"))
    assert _red(avg, db) == {}  # inventory to inventory, no price difference
    _check(avg)


# -- a back-dated posting replays the cancellation alike ----------------------------------------


def test_a_back_dated_receipt_replays_the_cancellation_at_the_receipts_cost(
        avg: Shop) -> None:
    """R2 4 @ 10.00, cancelled (40.00 out). Then R0, 5 @ 30.00 (150.00), dated the day before
    everything: the replay puts it first and takes R2's 4 units back at 40.00 again, so the
    cancellation's cost does not change (as an issue at the average it would: 4 x 390 / 19 =
    82.11) and no back-dating correction is booked: 15 @ 350.00."""
    r2 = avg.receipt([Line(1, "B", D(4), D(10), warehouse="W1")])
    avg.docs.cancel(r2.doc_id, BOSS)
    day = avg.jxc.clock.now().date() - dt.timedelta(days=1)
    r0 = avg.make("purchase_receipt", [Line(1, "B", D(5), D(30), warehouse="W1")], "S1",
                  date=day)
    avg.docs.approve_through(r0.doc_id, [BOSS])
    assert (avg.qty("B"), avg.value("B")) == (D(15), D("350.00"))
    assert _red(avg, r2.doc_id) == {"inventory": D("-40.00"), "grni": D("40.00")}
    assert [e.entry.kind for e in avg.jxc.ledger("B", "W1")
            if e.entry.kind == "cost_backdating"] == []
    _check(avg)

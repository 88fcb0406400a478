"""Moving average: units that come back by the cancellation (红冲) of an issue — a delivery, a
transfer out — or by a customer return go back into the receipt rows the issue took them from
(the rows ``[number, ref, remaining]`` that say which receipts' units make up the stock), so a
landed cost or invoice price difference of those receipts keeps their share in stock (DOMAIN.md
section 5: to inventory for units on hand, COGS for units issued).

Before, they came back as a new row of the reversal's own (``<doc>-R/1``): the receipt counted
as issued, its price difference went to COGS while its units were on hand. The value side does
not change: the pool keeps one average, the units come back at the value the reversal computes.

Item B is moving average; warehouses W1, W2."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jxc_core.documents import Line

from .support import BOSS, Shop

D = Decimal


def _rows(shop: Shop, wh: str = "W1") -> list[tuple[int, str, Decimal]]:
    """The stored receipt rows of B in ``wh``: (number, ref, remaining), oldest first."""
    with shop.jxc.storage.unit_of_work() as uow:
        state: Any = uow.valuations.get(("B", wh))
    return [(int(n), ref, D(q)) for n, (ref, q) in state["rows"]]


def _invoice(shop: Shop, receipt: str, qty: int, price: str) -> dict[str, Decimal]:
    doc = shop.run("purchase_invoice", [Line(1, "B", D(qty), D(price), warehouse="W1",
                                             source=(receipt, 1))], "S1")
    return shop.roles(doc.doc_id)


def test_a_cancelled_delivery_puts_the_units_back_into_the_receipt(shop: Shop) -> None:
    """The reproduction: R1 10 @ 10, a delivery of all 10, cancelled: R1's 10 units are on
    hand again, its invoice at 11 keeps the 10.00 in stock (was COGS, stock 100.00)."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(10), D(30), warehouse="W1")], "C1")
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10))]  # the same row, whole again
    roles = _invoice(shop, rk1.doc_id, 10, "11")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("110.00"))
    shop.check_books()


def test_a_partial_delivery_cancelled_then_a_landed_cost(shop: Shop) -> None:
    """R1 10 @ 10, R2 10 @ 20; a delivery of 15 takes R1's 10 and 5 of R2, cancelled: both
    rows are whole again, R1 first (its units leave first again). A landed cost of 10.00 on
    R1 stays in stock whole (was all COGS: R1 counted as issued)."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    rk2 = shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(15), D(30), warehouse="W1")], "C1")
    assert _rows(shop) == [(1, f"{rk2.doc_id}/1", D(5))]
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10)), (1, f"{rk2.doc_id}/1", D(10))]
    assert (shop.qty("B"), shop.value("B")) == (D(20), D("300.00"))
    lc = shop.run("landed_cost", [Line(1, "freight", D(1), D("10.00"))], "S1",
                  attributes={"receipts": [rk1.doc_id], "basis": "quantity"})
    roles = shop.roles(lc.doc_id)
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    assert shop.value("B") == D("310.00")
    # the units leave in their old turn: a delivery of 10 takes R1's, its price difference
    # goes to COGS now
    shop.run("delivery", [Line(1, "B", D(10), D(30), warehouse="W1")], "C1")
    roles = _invoice(shop, rk1.doc_id, 10, "11")
    assert (roles.get("inventory", D(0)), roles["cogs"]) == (D(0), D("10.00"))
    shop.check_books()


def test_a_cancelled_delivery_of_part_of_a_receipt(shop: Shop) -> None:
    """R1 10 @ 10, a delivery of 6, cancelled: R1's row is 10 again; its price difference of
    10.00 stays in stock whole (was 4.00, the 4 units the row kept)."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(6), D(30), warehouse="W1")], "C1")
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10))]
    roles = _invoice(shop, rk1.doc_id, 10, "11")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    shop.check_books()


def test_a_cancelled_transfer_puts_the_units_back_into_the_source_rows(shop: Shop) -> None:
    """R1 10 @ 10 into W1, all sent to W2, the transfer cancelled: W1's row of R1 is whole
    again and R1's price difference stays in stock (was COGS)."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    tr = shop.run("transfer", [Line(1, "B", D(10), D(0), warehouse="W1", to_warehouse="W2")])
    shop.docs.cancel(tr.doc_id, BOSS)
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10))]
    assert (shop.qty("B", "W2"), shop.value("B", "W2")) == (D(0), D(0))
    roles = _invoice(shop, rk1.doc_id, 10, "11")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("110.00"))
    shop.check_books()


def test_a_customer_return_goes_back_into_the_delivered_receipts(shop: Shop) -> None:
    """R1 10 @ 10, R2 10 @ 20, a delivery of 15 (R1's 10 and 5 of R2); a customer return of
    10 and then one of 5: the units go back into the rows the delivery took them from, each
    return into what the earlier ones left (R1's 10, then R2's 5), at the delivery's cost as
    before. R2's price difference of 10.00 stays in stock whole (was 5.00, COGS 5.00)."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    rk2 = shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(15), D(30), warehouse="W1")], "C1")
    rt = shop.run("sales_return", [Line(1, "B", D(10), D(30), warehouse="W1",
                                        source=(dl.doc_id, 1))], "C1")
    assert shop.roles(rt.doc_id)["inventory"] == D("150.00")  # 10 / 15 of its 225.00
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10)), (1, f"{rk2.doc_id}/1", D(5))]
    shop.run("sales_return", [Line(1, "B", D(5), D(30), warehouse="W1",
                                   source=(dl.doc_id, 1))], "C1")
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10)), (1, f"{rk2.doc_id}/1", D(10))]
    assert (shop.qty("B"), shop.value("B")) == (D(20), D("300.00"))
    roles = _invoice(shop, rk2.doc_id, 10, "21")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    shop.check_books()


def test_a_back_dated_posting_replays_the_cancellation_into_the_same_rows(
        shop: Shop) -> None:
    """R1 10 @ 10, a delivery of 10, cancelled. Then a receipt R0 of 5 @ 30 dated the day
    before: the replay puts R0 first and passes over the cancelled delivery and its
    cancellation: every row whole, as a posting in date order gives."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(10), D(30), warehouse="W1")], "C1")
    shop.docs.cancel(dl.doc_id, BOSS)
    day = shop.jxc.clock.now().date() - dt.timedelta(days=1)
    r0 = shop.make("purchase_receipt", [Line(1, "B", D(5), D(30), warehouse="W1")], "S1",
                   date=day)
    shop.docs.approve_through(r0.doc_id, [BOSS])
    refs = [(ref, q) for _, ref, q in _rows(shop)]
    assert refs == [(f"{r0.doc_id}/1", D(5)), (f"{rk1.doc_id}/1", D(10))]
    # the cancelled delivery keeps the 100.00 it posted, its cancellation brings them back
    # (the replay re-costed the delivery to 10 x 250 / 15 = 166.67 and left its cancellation
    # at 100.00: 183.33 in stock, 66.67 of cost of goods sold for a cancelled delivery)
    assert (shop.qty("B"), shop.value("B")) == (D(15), D("250.00"))
    assert shop.roles(dl.doc_id).get("cogs", D(0)) == 0
    assert shop.net("cogs") == 0
    # a later replay (another back-dated posting) gives the same rows and figures
    before = _rows(shop)
    r00 = shop.make("adjustment", [Line(1, "B", D(1), D(1), warehouse="W2")], date=day)
    shop.docs.approve_through(r00.doc_id, [BOSS])
    again = shop.make("purchase_receipt", [Line(1, "B", D(1), D(5), warehouse="W2")], "S1",
                      date=day)
    shop.docs.approve_through(again.doc_id, [BOSS])
    assert _rows(shop) == before
    roles = _invoice(shop, rk1.doc_id, 10, "11")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    roles = _invoice(shop, r0.doc_id, 5, "31")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("5.00"), D(0))
    assert (shop.qty("B"), shop.value("B")) == (D(15), D("265.00"))
    shop.check_books()


def test_a_back_dated_issue_replayed_with_the_cancellation(shop: Shop) -> None:
    """R1 10 @ 10 (dated two days back), R2 10 @ 20, a delivery of 10 (R1's), cancelled.
    Then a delivery of 5 dated the day before: in date order it takes 5 of R1, so the replay
    gives the cancelled delivery 5 of R1 and 5 of R2, and its cancellation puts them back
    there (not into R1's 10 as recorded)."""
    two = shop.jxc.clock.now().date() - dt.timedelta(days=2)
    one = two + dt.timedelta(days=1)
    rk1 = shop.make("purchase_receipt", [Line(1, "B", D(10), D(10), warehouse="W1")], "S1",
                    date=two)
    shop.docs.approve_through(rk1.doc_id, [BOSS])
    rk2 = shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(10), D(30), warehouse="W1")], "C1")
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(10)), (1, f"{rk2.doc_id}/1", D(10))]
    early = shop.make("delivery", [Line(1, "B", D(5), D(30), warehouse="W1")], "C1",
                      date=one)
    shop.docs.approve_through(early.doc_id, [BOSS])
    # in date order: R1 10, early takes 5 of R1, R2 10, dl takes 5 of R1 and 5 of R2, its
    # cancellation puts them back: R1 5, R2 10
    assert _rows(shop) == [(0, f"{rk1.doc_id}/1", D(5)), (1, f"{rk2.doc_id}/1", D(10))]
    assert shop.qty("B") == D(15)
    roles = _invoice(shop, rk2.doc_id, 10, "21")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    shop.check_books()


def test_a_customer_return_cancelled_takes_its_units_out_of_those_rows(shop: Shop) -> None:
    """R1 10 @ 10, R2 10 @ 20, a delivery of 15, a return of 10 (into R1's row, 150.00): the
    return cancelled takes its 10 units out of R1's row again at its own 150.00, so stock is
    R2's 5 at 75.00, and R1's price difference goes to COGS (R1 is all issued)."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    rk2 = shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(15), D(30), warehouse="W1")], "C1")
    rt = shop.run("sales_return", [Line(1, "B", D(10), D(30), warehouse="W1",
                                        source=(dl.doc_id, 1))], "C1")
    shop.docs.cancel(rt.doc_id, BOSS)
    assert _rows(shop) == [(1, f"{rk2.doc_id}/1", D(5))]
    assert (shop.qty("B"), shop.value("B")) == (D(5), D("75.00"))
    roles = _invoice(shop, rk1.doc_id, 10, "11")
    assert (roles.get("inventory", D(0)), roles["cogs"]) == (D(0), D("10.00"))
    shop.check_books()

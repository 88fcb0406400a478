"""A back-dated receipt re-values a delivery; a customer return of that delivery posted before
the back-dating follows it. DOMAIN.md section 2: "Customer return: comes back at the unit cost
at which the returned delivery left stock; returning the whole delivery restores exactly its
value" and "A movement dated before later movements of the same scope re-values the later
issues of that scope". The return's change is booked as a ``cost_backdating`` entry of the
return (Dr inventory / Cr COGS), and the movements after it that took the returned units are
re-costed in turn."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal
METHODS = {"moving_average": "B", "fifo": "C"}


def on(day: int) -> dt.date:
    return dt.date(2026, 2, day)


def receipt(shop: Shop, item: str, qty: int, price: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, item, D(qty), D(price), warehouse="W1")],
                    "S1", date=on(day)).doc_id


def deliver(shop: Shop, item: str, qty: int, day: int) -> str:
    return shop.run("delivery", [Line(1, item, D(qty), D("50.00"), warehouse="W1")], "C1",
                    date=on(day)).doc_id


def give_back(shop: Shop, item: str, delivery: str, qty: int, day: int) -> str:
    return shop.run("sales_return", [Line(1, item, D(qty), D("50.00"), warehouse="W1",
                                          source=(delivery, 1))], "C1", date=on(day)).doc_id


def corrections(shop: Shop, item: str, doc_id: str) -> Decimal:
    """The value of the ``cost_backdating`` entries naming ``doc_id``."""
    return sum((line.entry.value for line in shop.jxc.ledger(item, "W1")
                if line.entry.kind == "cost_backdating" and line.entry.doc_id == doc_id), D(0))


def state(shop: Shop, item: str) -> tuple[Decimal, Decimal, Decimal]:
    """(on hand, stock value, net COGS)."""
    return shop.qty(item), shop.value(item), shop.net("cogs")


@pytest.mark.parametrize(("method", "delivery_cost"),
                         [("moving_average", D("250.00")), ("fifo", D("400.00"))])
def test_whole_return_before_a_backdated_receipt_follows_the_new_cost(
        shop: Shop, method: str, delivery_cost: Decimal) -> None:
    item = METHODS[method]
    receipt(shop, item, 10, "10.00", 5)
    dl = deliver(shop, item, 10, 10)
    ret = give_back(shop, item, dl, 10, 12)
    assert state(shop, item) == (D(10), D("100.00"), D("0.00"))
    receipt(shop, item, 10, "40.00", 1)  # 补录, before everything
    assert corrections(shop, item, dl) == -(delivery_cost - D("100.00"))
    assert corrections(shop, item, ret) == delivery_cost - D("100.00")
    assert state(shop, item) == (D(20), D("500.00"), D("0.00"))
    shop.check_books()
    # cancelling the return afterwards takes back what it brings in now
    shop.docs.cancel(ret, BOSS)
    assert state(shop, item) == (D(10), D("500.00") - delivery_cost, delivery_cost)
    return_rows = shop.roles(ret)
    assert return_rows["inventory"] + corrections(shop, item, ret) == 0
    assert return_rows["cogs"] - corrections(shop, item, ret) == 0
    shop.check_books()


@pytest.mark.parametrize("method", ["moving_average", "fifo"])
def test_whole_return_of_a_short_delivery_follows_the_backdated_receipt(
        shop: Shop, method: str) -> None:
    shop.jxc.define_item(Item("N", "negative allowed", costing_method=method,
                              allow_negative=True))
    receipt(shop, "N", 2, "10.00", 5)
    dl = deliver(shop, "N", 5, 10)  # 3 short, at the estimate 10.00
    give_back(shop, "N", dl, 5, 12)
    receipt(shop, "N", 3, "40.00", 1)  # now the delivery took 3 x 40 + 2 x 10 = 140.00
    assert state(shop, "N") == (D(5), D("140.00"), D("0.00"))
    rows = shop.journal()  # (shop.check_books knows the items of setup_master only)
    assert sum((r.debit for r in rows), D(0)) == sum((r.credit for r in rows), D(0))
    assert sum((r.debit - r.credit for r in rows if r.role == "inventory" and r.item == "N"),
               D(0)) == D("140.00")


@pytest.mark.parametrize(("method", "first_back", "after"),
                         [("moving_average", D("100.00"), D("350.00")),
                          ("fifo", D("160.00"), D("260.00"))])
def test_partial_return_gets_its_share_and_the_rest_the_remainder(
        shop: Shop, method: str, first_back: Decimal, after: Decimal) -> None:
    item = METHODS[method]
    receipt(shop, item, 10, "10.00", 5)
    dl = deliver(shop, item, 10, 10)
    first = give_back(shop, item, dl, 4, 12)
    receipt(shop, item, 10, "40.00", 1)
    assert corrections(shop, item, first) == first_back - D("40.00")
    assert (shop.qty(item), shop.value(item)) == (D(14), after)
    shop.check_books()
    # the rest of the delivery, returned after: the remainder of its cost, never more
    give_back(shop, item, dl, 6, 20)
    assert state(shop, item) == (D(20), D("500.00"), D("0.00"))
    shop.check_books()


@pytest.mark.parametrize("method", ["moving_average", "fifo"])
def test_two_partial_returns_before_the_backdating_add_up_to_the_delivery(
        shop: Shop, method: str) -> None:
    item = METHODS[method]
    receipt(shop, item, 10, "10.00", 5)
    dl = deliver(shop, item, 10, 10)
    give_back(shop, item, dl, 3, 12)
    give_back(shop, item, dl, 7, 13)
    receipt(shop, item, 10, "40.00", 1)
    assert state(shop, item) == (D(20), D("500.00"), D("0.00"))
    shop.check_books()


def test_an_issue_after_the_return_takes_the_returned_units_at_their_new_cost(
        shop: Shop) -> None:
    receipt(shop, "B", 10, "10.00", 5)
    dl = deliver(shop, "B", 10, 10)
    give_back(shop, "B", dl, 10, 12)
    later = deliver(shop, "B", 5, 14)  # 5 of the pool 10 / 100.00 -> 50.00
    receipt(shop, "B", 10, "40.00", 1)
    # pool 20 / 500.00, delivery 250.00, back 250.00, the later delivery 5 x 25.00
    assert corrections(shop, "B", later) == -D("75.00")
    assert state(shop, "B") == (D(15), D("375.00"), D("125.00"))
    shop.check_books()


@pytest.mark.parametrize(("method", "delivery_cost"),
                         [("moving_average", D("250.00")), ("fifo", D("400.00"))])
def test_a_return_cancelled_before_the_backdating_nets_to_nothing(
        shop: Shop, method: str, delivery_cost: Decimal) -> None:
    item = METHODS[method]
    receipt(shop, item, 10, "10.00", 5)
    dl = deliver(shop, item, 10, 10)
    ret = give_back(shop, item, dl, 10, 12)
    shop.docs.cancel(ret, BOSS)
    receipt(shop, item, 10, "40.00", 1)
    # as if the return had never been: the delivery at its new cost, the rest on hand
    assert state(shop, item) == (D(10), D("500.00") - delivery_cost, delivery_cost)
    shop.check_books()


@pytest.mark.parametrize("method", ["moving_average", "fifo"])
def test_a_second_backdated_receipt_re_values_the_return_again(
        shop: Shop, method: str) -> None:
    item = METHODS[method]
    receipt(shop, item, 10, "10.00", 5)
    dl = deliver(shop, item, 10, 10)
    give_back(shop, item, dl, 4, 12)
    receipt(shop, item, 10, "40.00", 1)
    receipt(shop, item, 10, "70.00", 3)
    # the delivery costs 400.00 (moving average: 10 of 30 / 1200.00; FIFO: the 03-01 layer),
    # the return of 4 brings back 160.00
    assert state(shop, item) == (D(24), D("960.00"), D("240.00"))
    shop.check_books()
    give_back(shop, item, dl, 6, 20)
    # everything delivered came back: all that was bought is on hand, nothing sold
    assert state(shop, item) == (D(30), D("1200.00"), D("0.00"))
    shop.check_books()

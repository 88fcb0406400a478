"""A customer return, or the cancellation of a delivery, comes back at what the delivery costs
*now*: its cost when posted plus the cost adjustments booked against it since (a shortage
settled by a later receipt, a back-dated receipt re-valuing it). DOMAIN.md section 2:
"returning the whole delivery restores exactly its value"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal


def _day(d: int) -> dt.date:
    return dt.date(2026, 2, d)


def _negative_item(shop: Shop, method: str) -> None:
    shop.jxc.define_item(Item("N", "negative allowed", costing_method=method,
                              allow_negative=True))


def _books_of_n(shop: Shop) -> tuple[Decimal, Decimal, Decimal]:
    """(on hand, stock value, journal inventory) of item N in W1."""
    inventory = sum((r.debit - r.credit for r in shop.journal()
                     if r.role == "inventory" and r.item == "N"), D(0))
    return shop.qty("N"), shop.value("N"), inventory


def test_return_after_a_backdated_receipt_comes_back_at_the_new_cost(shop: Shop) -> None:
    shop.run("purchase_receipt", [Line(1, "C", D(10), D("10.00"), warehouse="W1")], "S1",
             date=_day(10))
    dl = shop.run("delivery", [Line(1, "C", D(5), D("30.00"), warehouse="W1")], "C1",
                  date=_day(15))
    assert shop.counters(dl.doc_id, 1, "cost")["cost"] == D("50.00")
    # back-dated before the delivery: the delivery now takes 5 x 4.00
    shop.run("purchase_receipt", [Line(1, "C", D(10), D("4.00"), warehouse="W1")], "S1",
             date=_day(5))
    assert shop.net("cogs") == D("20.00")
    ret = shop.run("sales_return", [Line(1, "C", D(5), D("30.00"), warehouse="W1",
                                         source=(dl.doc_id, 1))], "C1", date=_day(20))
    assert shop.roles(ret.doc_id)["inventory"] == D("20.00")
    assert (shop.qty("C"), shop.value("C")) == (D(20), D("140.00"))  # all that was bought
    assert shop.net("cogs") == D(0)  # nothing is sold any more
    shop.check_books()


@pytest.mark.parametrize("method", ["fifo", "moving_average"])
def test_return_after_a_shortage_settlement_restores_the_settled_cost(
        shop: Shop, method: str) -> None:
    _negative_item(shop, method)
    shop.receipt([Line(1, "N", D(10), D("10.00"), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "N", D(15), D("30.00"), warehouse="W1")], "C1")
    assert shop.counters(dl.doc_id, 1, "cost")["cost"] == D("150.00")  # 5 short at 10.00
    shop.receipt([Line(1, "N", D(10), D("20.00"), warehouse="W1")])  # settles +50.00
    shop.run("sales_return", [Line(1, "N", D(15), D("30.00"), warehouse="W1",
                                   source=(dl.doc_id, 1))], "C1")
    assert _books_of_n(shop) == (D(20), D("300.00"), D("300.00"))
    assert shop.net("cogs") == D(0)


def test_two_partial_returns_add_up_to_the_adjusted_cost(shop: Shop) -> None:
    _negative_item(shop, "fifo")
    shop.receipt([Line(1, "N", D(10), D("10.00"), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "N", D(15), D("30.00"), warehouse="W1")], "C1")
    shop.receipt([Line(1, "N", D(10), D("20.00"), warehouse="W1")])  # delivery now 200.00
    first = shop.run("sales_return", [Line(1, "N", D(6), D("30.00"), warehouse="W1",
                                           source=(dl.doc_id, 1))], "C1")
    second = shop.run("sales_return", [Line(1, "N", D(9), D("30.00"), warehouse="W1",
                                            source=(dl.doc_id, 1))], "C1")
    back = shop.roles(first.doc_id)["inventory"] + shop.roles(second.doc_id)["inventory"]
    assert shop.roles(first.doc_id)["inventory"] == D("80.00")  # 6/15 of 200.00
    assert back == D("200.00")
    assert shop.net("cogs") == D(0)
    assert _books_of_n(shop) == (D(20), D("300.00"), D("300.00"))


def test_cancelling_a_delivery_after_its_shortage_settled_brings_back_the_settled_cost(
        shop: Shop) -> None:
    _negative_item(shop, "moving_average")
    shop.receipt([Line(1, "N", D(10), D("10.00"), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "N", D(15), D("30.00"), warehouse="W1")], "C1")
    shop.receipt([Line(1, "N", D(10), D("20.00"), warehouse="W1")])
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _books_of_n(shop) == (D(20), D("300.00"), D("300.00"))
    assert shop.net("cogs") == D(0)


def test_a_backdated_receipt_through_the_stock_service_is_followed_too(shop: Shop) -> None:
    """The adjustment is kept by the stock service, not the documents: a back-dated receipt
    posted with ``Jxc.receive`` (no document) changes what the return takes back as well."""
    shop.run("purchase_receipt", [Line(1, "C", D(10), D("10.00"), warehouse="W1")], "S1",
             date=_day(10))
    dl = shop.run("delivery", [Line(1, "C", D(5), D("30.00"), warehouse="W1")], "C1",
                  date=_day(15))
    shop.jxc.receive("C", "W1", D(10), D("6.00"), doc_id="RK-LATE",
                     posted_at=dt.datetime(2026, 2, 5, 9))
    shop.run("sales_return", [Line(1, "C", D(5), D("30.00"), warehouse="W1",
                                   source=(dl.doc_id, 1))], "C1", date=_day(20))
    assert (shop.qty("C"), shop.value("C")) == (D(20), D("160.00"))
    # the journal has the delivery (50.00) and the return (30.00); the -20.00 correction of
    # the delivery was made by Jxc.receive, which books no journal
    assert shop.net("cogs") == D("20.00")

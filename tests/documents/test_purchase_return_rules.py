"""Purchase returns leave from their receipt's warehouse, and under standard cost book the
receipt's variance back (材料成本差异)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal


def test_a_return_from_another_warehouse_than_its_receipt_is_refused(shop: Shop) -> None:
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    shop.receipt([Line(1, "A", D(10), D("20.00"), warehouse="W2")])
    before = shop.snapshot()
    with pytest.raises(JxcError) as e:
        shop.make("purchase_return", [Line(1, "A", D(2), warehouse="W2",
                                           source=(rk.doc_id, 1))], "S1")
    assert e.value.code == "invalid_document"
    assert "W1" in str(e.value) and "入库仓库" in e.value.message_zh
    assert shop.snapshot() == before
    shop.run("purchase_return", [Line(1, "A", D(2), warehouse="W1", source=(rk.doc_id, 1))],
             "S1")
    assert (shop.value("A", "W1"), shop.value("A", "W2")) == (D("80.00"), D("200.00"))
    shop.check_books()


def test_a_standard_cost_return_books_the_variance_back(shop: Shop) -> None:
    shop.jxc.define_item(Item("C", "cable", costing_method="standard",
                              standard_cost=D("9.00")))
    rk = shop.receipt([Line(1, "C", D(10), D("10.00"), warehouse="W1")])
    assert shop.roles(rk.doc_id)["material_variance"] == D("10.00")
    th = shop.run("purchase_return", [Line(1, "C", D(10), D("10.00"), warehouse="W1",
                                           source=(rk.doc_id, 1))], "S1")
    # it went to price_difference: 1404 kept 10.00 for goods no longer held, 6401 a gain
    assert shop.roles(th.doc_id)["material_variance"] == D("-10.00")
    assert "price_difference" not in shop.roles(th.doc_id)
    assert shop.net("material_variance") == 0
    shop.check_books()


def test_a_standard_cost_transfer_books_the_cent_it_leaves_behind(shop: Shop) -> None:
    """At standard 3.3333, 2 + 2 units enter at 6.67 each (13.34); the 4 leave at 13.34 and
    enter the other warehouse at their standard, 13.33. The cent is a variance: the voucher
    moved 13.33 both ways and left 13.34 on the inventory account for 13.33 of stock."""
    shop.jxc.define_item(Item("C", "cable", costing_method="standard",
                              standard_cost=D("3.3333")))
    for _ in range(2):
        shop.run("adjustment", [Line(1, "C", D(2), D("3.3333"), warehouse="W1")])
    t = shop.run("transfer", [Line(1, "C", D(4), warehouse="W1", to_warehouse="W2")])
    assert shop.value("C", "W2") == D("13.33")
    assert shop.roles(t.doc_id)["material_variance"] == D("0.01")
    shop.check_books()
    shop.docs.cancel(t.doc_id, BOSS)
    assert shop.value("C", "W1") == D("13.33")
    shop.check_books()

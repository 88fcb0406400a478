"""A transfer document sent from a shortage (negative stock allowed) and the receipt that
settles it: the settled cost goes on to the warehouse the units are in, and the inventory
account still equals the stock valuation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.stock import Item

from .support import Shop

D = Decimal


@pytest.mark.parametrize("method", ["fifo", "moving_average"])
def test_the_settled_cost_of_a_transfer_reaches_its_units_and_the_books_agree(
        shop: Shop, method: str) -> None:
    # C has no stock yet: it may change its policy
    shop.jxc.define_item(Item("C", "cable", costing_method=method, allow_negative=True))
    shop.run("transfer", [Line(1, "C", D(4), warehouse="W1", to_warehouse="W2")])
    assert (shop.qty("C", "W2"), shop.value("C", "W2")) == (D(4), D("0.00"))
    shop.run("adjustment", [Line(1, "C", D(10), D(10), warehouse="W1")])
    # W1's receipt filled the 4 units it owed at 10.00: they are in W2
    assert (shop.qty("C", "W2"), shop.value("C", "W2")) == (D(4), D("40.00"))
    assert (shop.qty("C", "W1"), shop.value("C", "W1")) == (D(6), D("60.00"))
    shop.check_books()
    shop.run("adjustment", [Line(1, "C", D(-4), warehouse="W2")])
    assert shop.value("C", "W2") == D("0.00")
    shop.check_books()

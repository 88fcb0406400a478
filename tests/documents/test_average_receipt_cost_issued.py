"""Moving average: an invoice price difference or a landed cost of a receipt whose units were
all issued goes to cost of goods sold, not into the stock of later receipts (DOMAIN.md section
5: "price difference to inventory (on hand) or COGS (issued)")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line

from .support import Shop

D = Decimal


@pytest.mark.parametrize("kind", ["invoice", "landed_cost"])
def test_cost_of_a_receipt_all_issued_goes_to_cogs(shop: Shop, kind: str) -> None:
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    shop.run("delivery", [Line(1, "B", D(10), D(30), warehouse="W1")], "C1")  # all of rk1
    shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])  # a later receipt, 200.00
    if kind == "invoice":
        doc = shop.run("purchase_invoice", [Line(1, "B", D(10), D(11), warehouse="W1",
                                                 source=(rk1.doc_id, 1))], "S1")
    else:
        doc = shop.run("landed_cost", [Line(1, "freight", D(1), D("10.00"))], "S1",
                       attributes={"receipts": [rk1.doc_id], "basis": "quantity"})
    roles = shop.roles(doc.doc_id)
    assert roles.get("inventory", D(0)) == D(0)
    assert roles["cogs"] == D("10.00")
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("200.00"))
    shop.check_books()


def test_only_what_is_left_of_the_receipt_stays_in_stock(shop: Shop) -> None:
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    shop.run("delivery", [Line(1, "B", D(8), D(30), warehouse="W1")], "C1")  # 2 of it left
    shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    doc = shop.run("purchase_invoice", [Line(1, "B", D(10), D(13), warehouse="W1",
                                             source=(rk1.doc_id, 1))], "S1")
    roles = shop.roles(doc.doc_id)
    assert (roles["inventory"], roles["cogs"]) == (D("6.00"), D("24.00"))  # 2 / 8 of 30.00
    assert shop.value("B") == D("226.00")
    shop.check_books()


def test_units_leave_oldest_first_and_a_supplier_return_takes_its_receipts(
        shop: Shop) -> None:
    """R1 10 @ 10 and R2 10 @ 20; 4 of R2 go back to the supplier (R2's own units), a
    delivery of 10 takes R1's 10: 6 of R2 are left, none of R1. A price difference on R1 goes
    to COGS whole; one of 10.00 on R2 keeps 6.00 in stock."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    rk2 = shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    shop.run("purchase_return", [Line(1, "B", D(4), D(20), warehouse="W1",
                                      source=(rk2.doc_id, 1))], "S1")
    shop.run("delivery", [Line(1, "B", D(10), D(30), warehouse="W1")], "C1")
    assert shop.qty("B") == D(6)
    before = shop.value("B")
    one = shop.run("purchase_invoice", [Line(1, "B", D(10), D(11), warehouse="W1",
                                             source=(rk1.doc_id, 1))], "S1")
    assert shop.roles(one.doc_id).get("inventory", D(0)) == D(0)
    assert shop.roles(one.doc_id)["cogs"] == D("10.00")
    two = shop.run("purchase_invoice", [Line(1, "B", D(6), D(21), warehouse="W1",
                                             source=(rk2.doc_id, 1))], "S1")
    roles = shop.roles(two.doc_id)
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("6.00"), D(0))
    assert shop.value("B") == before + D("6.00")
    shop.check_books()

"""Lots of the units a document brings in, on both adapters (docs/purchase-and-sales.md, "Lots
of returns"):

- a purchase receipt or a gain adjustment of a lot-tracked item names its lot: refused when
  entered (``lot_missing``, nothing written), not at posting, which left an approved
  document that never posts; a loss adjustment may leave it to FEFO;
- a customer return line naming no lot comes back into the lot its delivery line names, else
  the one lot that line took (picked FEFO); its cancellation takes the units out of that lot
  again. A delivery line that took several lots: the return is refused at posting
  (``lot_missing``, the lots in its data), nothing written, and naming one posts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop

D = Decimal


@pytest.fixture(autouse=True)
def _books_see_milk(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "MILK"])


@pytest.fixture
def milk(shop: Shop) -> Shop:
    shop.jxc.define_item(Item("MILK", "milk", lot_tracked=True))
    for lot, qty, expiry in (("LA", 5, dt.date(2027, 1, 10)), ("LB", 5, dt.date(2027, 2, 10))):
        shop.run("purchase_receipt", [Line(1, "MILK", D(qty), D("2.00"), warehouse="W1",
                                           lot=lot, expiry=expiry)], "S1")
    return shop


def _lots(shop: Shop) -> dict[str, Decimal]:
    return {b.lot: b.on_hand for b in shop.jxc.balances() if b.item == "MILK"
            and b.on_hand}


@pytest.mark.parametrize(("doc_type", "qty", "party"), [("purchase_receipt", 3, "S1"),
                                                         ("adjustment", 3, "")])
def test_units_coming_in_without_a_lot_are_refused_when_entered(
        milk: Shop, doc_type: str, qty: int, party: str) -> None:
    before = milk.snapshot()
    with pytest.raises(JxcError) as err:
        milk.docs.create(doc_type, [Line(1, "MILK", D(qty), D("2.00"), warehouse="W1")],
                         party=party)
    assert err.value.code == "lot_missing"
    assert err.value.data["line"] == 1
    assert err.value.message("zh_CN")
    assert milk.snapshot() == before


def test_a_loss_adjustment_may_leave_the_lot_to_fefo(milk: Shop) -> None:
    milk.run("adjustment", [Line(1, "MILK", D(-2), D(0), warehouse="W1")])
    assert _lots(milk) == {"LA": 3, "LB": 5}


def test_a_customer_return_comes_back_into_the_one_lot_its_delivery_took(milk: Shop) -> None:
    dl = milk.run("delivery", [Line(1, "MILK", D(4), D("3.00"), warehouse="W1")], "C1")
    assert _lots(milk) == {"LA": 1, "LB": 5}  # FEFO: the earlier expiry
    back = milk.run("sales_return", [Line(1, "MILK", D(3), D("3.00"), warehouse="W1",
                                          source=(dl.doc_id, 1))], "C1")
    assert _lots(milk) == {"LA": 4, "LB": 5}
    milk.docs.cancel(back.doc_id, BOSS)
    assert _lots(milk) == {"LA": 1, "LB": 5}
    milk.check_books()


def test_a_customer_return_takes_the_lot_its_delivery_line_names(milk: Shop) -> None:
    dl = milk.run("delivery", [Line(1, "MILK", D(2), D("3.00"), warehouse="W1", lot="LB")],
                  "C1")
    milk.run("sales_return", [Line(1, "MILK", D(2), D("3.00"), warehouse="W1",
                                   source=(dl.doc_id, 1))], "C1")
    assert _lots(milk) == {"LA": 5, "LB": 5}


def test_a_delivery_of_several_lots_needs_the_return_to_name_one(milk: Shop) -> None:
    dl = milk.run("delivery", [Line(1, "MILK", D(7), D("3.00"), warehouse="W1")], "C1")
    assert _lots(milk) == {"LB": 3}
    ret = milk.approved("sales_return", [Line(1, "MILK", D(1), D("3.00"), warehouse="W1",
                                              source=(dl.doc_id, 1))], "C1")
    before = milk.snapshot()
    with pytest.raises(JxcError) as err:
        milk.docs.post(ret, BOSS)
    assert err.value.code == "lot_missing"
    assert err.value.data["lots"] == ["LA", "LB"]
    assert milk.snapshot() == before
    named = milk.run("sales_return", [Line(1, "MILK", D(2), D("3.00"), warehouse="W1",
                                           lot="LA", source=(dl.doc_id, 1))], "C1")
    assert named.state == State.POSTED
    assert _lots(milk) == {"LA": 2, "LB": 3}

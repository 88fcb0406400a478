"""What may be cancelled (红冲) when other documents refer to it, and what a delivery does to
reservations it could not consume.

- A receipt or delivery of an order closed since can still be cancelled: counted back on the
  order, which stays closed (its open remainder left on order / demand at the close).
- A receipt that carries a landed cost cannot be cancelled while the landed cost stands (as
  with returns and invoices): cancel the landed cost first.
- A delivery from another warehouse than its order line's reservation releases what the order
  line no longer needs: an order line's reservations never hold more than its open quantity.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal


def _reserved(shop: Shop) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {}
    for r in shop.jxc.reservations():
        out[(r.demand, r.warehouse)] = out.get((r.demand, r.warehouse), D(0)) + r.quantity
    return out


# -- closed orders ---------------------------------------------------------------------------
def test_a_receipt_of_a_closed_order_can_be_cancelled(shop: Shop) -> None:
    po = shop.po([Line(1, "A", D(10), D("8.00"), warehouse="W1")])
    rk = shop.receipt([Line(1, "A", D(4), D("8.00"), warehouse="W1", source=(po.doc_id, 1))])
    shop.docs.close(po.doc_id, BOSS)
    assert shop.jxc.balance("A", "W1").on_order == 0  # the open 6 left at the close
    shop.docs.cancel(rk.doc_id, BOSS)
    assert shop.docs.get(rk.doc_id).state == State.CANCELLED
    assert shop.docs.get(po.doc_id).state == State.CLOSED  # stays closed
    assert shop.counters(po.doc_id, 1, "received")["received"] == 0
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.on_order) == (0, 0)  # a closed order puts nothing back on order
    shop.check_books()


def test_a_delivery_of_a_closed_sales_order_can_be_cancelled(shop: Shop) -> None:
    shop.stock_in("C", D(20), D("5.00"))
    so = shop.run("sales_order", [Line(1, "C", D(10), D("9.00"), warehouse="W1")], "C1")
    dl = shop.run("delivery", [Line(1, "C", D(4), D("9.00"), warehouse="W1",
                                    source=(so.doc_id, 1))], "C1")
    shop.docs.close(so.doc_id, BOSS)
    b = shop.jxc.balance("C", "W1")
    assert (b.reserved, b.demand) == (0, 0)
    shop.docs.cancel(dl.doc_id, BOSS)
    assert shop.docs.get(so.doc_id).state == State.CLOSED
    assert shop.counters(so.doc_id, 1, "delivered")["delivered"] == 0
    b = shop.jxc.balance("C", "W1")
    assert (b.on_hand, b.reserved, b.demand) == (20, 0, 0)
    shop.check_books()


# -- landed costs ----------------------------------------------------------------------------
def test_a_receipt_with_a_landed_cost_is_cancelled_only_after_it(shop: Shop) -> None:
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    fy = shop.run("landed_cost", [Line(1, "freight", D(1), D("20.00"))], "S1",
                  attributes={"receipts": [rk.doc_id]})
    assert shop.counters(rk.doc_id, 1, "landed")["landed"] == D("20.00")
    before = shop.snapshot()
    with pytest.raises(JxcError) as e:
        shop.docs.cancel(rk.doc_id, BOSS)
    assert e.value.code == "reversal_impossible"
    assert "landed" in e.value.data["reason"]
    assert shop.snapshot() == before  # nothing written
    shop.docs.cancel(fy.doc_id, BOSS)
    assert shop.counters(rk.doc_id, 1, "landed")["landed"] == 0
    shop.docs.cancel(rk.doc_id, BOSS)  # now it may go
    assert (shop.qty("A"), shop.value("A")) == (0, 0)
    assert shop.net("price_difference") == 0
    shop.check_books()


# -- deliveries from elsewhere ---------------------------------------------------------------
def test_delivery_from_another_warehouse_releases_what_the_order_no_longer_needs(
        shop: Shop) -> None:
    shop.stock_in("C", D(10), D("8.00"), "W1")
    shop.stock_in("C", D(10), D("8.00"), "W2")
    so = shop.run("sales_order", [Line(1, "C", D(10), D("15"), warehouse="W1")], "C1")
    assert _reserved(shop) == {(f"{so.doc_id}/1", "W1"): D(10)}
    shop.run("delivery", [Line(1, "C", D(4), D("15"), warehouse="W2",
                               source=(so.doc_id, 1))], "C1")
    # the order line needs 6 more: its W1 reservation is cut to 6
    assert _reserved(shop) == {(f"{so.doc_id}/1", "W1"): D(6)}
    shop.run("delivery", [Line(1, "C", D(6), D("15"), warehouse="W1",
                               source=(so.doc_id, 1))], "C1")
    assert _reserved(shop) == {}
    b1, b2 = shop.jxc.balance("C", "W1"), shop.jxc.balance("C", "W2")
    assert (b1.on_hand, b1.reserved, b1.available, b1.demand) == (4, 0, 4, 0)
    assert (b2.on_hand, b2.reserved, b2.available) == (6, 0, 6)
    shop.check_books()


def test_delivery_of_all_from_another_warehouse_leaves_no_reservation(shop: Shop) -> None:
    shop.stock_in("C", D(10), D("8.00"), "W1")
    shop.stock_in("C", D(10), D("8.00"), "W2")
    so = shop.run("sales_order", [Line(1, "C", D(10), D("15"), warehouse="W1")], "C1")
    shop.run("delivery", [Line(1, "C", D(10), D("15"), warehouse="W2",
                               source=(so.doc_id, 1))], "C1")
    assert _reserved(shop) == {}
    b1 = shop.jxc.balance("C", "W1")
    assert (b1.on_hand, b1.reserved, b1.available, b1.demand) == (10, 0, 10, 0)


# -- cancelling a delivery picked from several rows --------------------------------------------
def _inventory(shop: Shop, item: str) -> Decimal:
    """The journal's inventory (debit - credit) of one item."""
    return sum((r.debit - r.credit for r in shop.journal()
                if r.role == "inventory" and r.item == item), D(0))


def _rows(shop: Shop, item: str) -> dict[tuple[str, str], Decimal]:
    return {(b.location, b.lot): b.on_hand for b in shop.jxc.balances()
            if b.item == item and (b.on_hand or b.lot or b.location)}


@pytest.mark.parametrize("method", ["fifo", "moving_average", "monthly_average"])
def test_a_delivery_picked_by_fefo_is_cancelled_back_into_its_lots(shop: Shop,
                                                                   method: str) -> None:
    """A delivery line without a lot of a lot-tracked item is picked lot by lot (FEFO); its
    cancellation puts the units back into those lots at what they left with (it was refused:
    a lot-tracked item needs a lot)."""
    shop.jxc.define_item(Item("M", "milk", lot_tracked=True, costing_method=method))
    shop.receipt([Line(1, "M", D(10), D("1.00"), warehouse="W1", lot="LA",
                       expiry=dt.date(2027, 1, 1)),
                  Line(2, "M", D(10), D("2.00"), warehouse="W1", lot="LB",
                       expiry=dt.date(2027, 2, 1))])
    dl = shop.run("delivery", [Line(1, "M", D(15), D("5.00"), warehouse="W1")], "C1")
    assert [r[:3] for r in dl.attributes["picked"]["1"]] == [["", "LA", "10"],
                                                             ["", "LB", "5"]]
    assert _rows(shop, "M") == {("", "LA"): 0, ("", "LB"): 5}
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _rows(shop, "M") == {("", "LA"): 10, ("", "LB"): 10}
    assert shop.jxc.balance("M", "W1").value == D("30.00")
    assert shop.net("cogs") == 0
    assert _inventory(shop, "M") == D("30.00")


def test_a_delivery_picked_from_two_locations_goes_back_to_them(shop: Shop) -> None:
    shop.jxc.define_warehouse(Warehouse("W3", "located", locations=("A", "B")))
    shop.receipt([Line(1, "C", D(5), D("1.00"), warehouse="W3", location="A"),
                  Line(2, "C", D(5), D("3.00"), warehouse="W3", location="B")])
    dl = shop.run("delivery", [Line(1, "C", D(8), D("5.00"), warehouse="W3")], "C1")
    assert _rows(shop, "C") == {("A", ""): 0, ("B", ""): 2}
    shop.docs.cancel(dl.doc_id, BOSS)
    assert _rows(shop, "C") == {("A", ""): 5, ("B", ""): 5}
    assert shop.jxc.balance("C", "W3").value == D("20.00")


def test_a_delivery_of_its_own_row_keeps_no_picked_rows(shop: Shop) -> None:
    shop.stock_in("C", D(10), D("2.00"))
    dl = shop.run("delivery", [Line(1, "C", D(4), D("5.00"), warehouse="W1")], "C1")
    assert "picked" not in dl.attributes


def test_an_adjustment_out_picked_by_fefo_is_cancelled_back_into_its_lots(shop: Shop) -> None:
    shop.jxc.define_item(Item("M", "milk", lot_tracked=True, units={"箱": D(5)}))
    shop.receipt([Line(1, "M", D(10), D("1.00"), warehouse="W1", lot="LA",
                       expiry=dt.date(2027, 1, 1)),
                  Line(2, "M", D(10), D("2.00"), warehouse="W1", lot="LB",
                       expiry=dt.date(2027, 2, 1))])
    # 3 boxes of 5 out, no lot named: 10 from LA, 5 from LB
    out = shop.run("adjustment", [Line(1, "M", D(-3), D(0), warehouse="W1", unit="箱")])
    assert [r[:3] for r in out.attributes["picked"]["1"]] == [["", "LA", "10"],
                                                              ["", "LB", "5"]]
    assert _rows(shop, "M") == {("", "LA"): 0, ("", "LB"): 5}
    shop.docs.cancel(out.doc_id, BOSS)
    assert _rows(shop, "M") == {("", "LA"): 10, ("", "LB"): 10}
    assert shop.jxc.balance("M", "W1").value == D("30.00")
    assert _inventory(shop, "M") == D("30.00")

"""Standard cost: a return, or a cancellation (红冲), after a new standard (DOMAIN.md section 2).

Stock is carried at the standard of the day, so the units come back at the *current* standard;
cost of goods sold is credited with what the returned delivery cost when it left stock
("returning the whole delivery restores exactly its value"), and the difference is the
variance the revaluation created (``material_variance``, 材料成本差异). Supplier-side returns and
receipt cancellations book no cost of goods sold: their whole difference is the variance.
Every posting balances and the inventory role equals the stock valuation."""

from __future__ import annotations

from decimal import Decimal

from jxc_core.documents import Line
from jxc_core.services import Accounting
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal


def _standard(shop: Shop) -> None:
    shop.jxc.define_item(Item("S", "standard item", costing_method="standard",
                              standard_cost=D(10)))
    shop.receipt([Line(1, "S", D(10), D(10), warehouse="W1")])


def _check(shop: Shop) -> None:
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:  # every posting balances on its own
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    inventory = sum((r.debit - r.credit for r in rows
                     if r.role == "inventory" and r.item == "S"), D(0))
    assert inventory == shop.value("S")


def _deliver_then_revalue(shop: Shop) -> str:
    dl = shop.run("delivery", [Line(1, "S", D(4), D(20), warehouse="W1")], "C1")
    assert shop.roles(dl.doc_id) == {"cogs": D("40.00"), "inventory": D("-40.00")}
    Accounting(shop.jxc).revalue_standard("S", D(11))  # 6 on hand: +6.00
    return dl.doc_id


def _return(shop: Shop, dl: str, qty: Decimal) -> str:
    return shop.run("sales_return", [Line(1, "S", qty, D(20), warehouse="W1",
                                          source=(dl, 1))], "C1").doc_id


def test_return_after_a_new_standard_credits_the_delivery_cost(shop: Shop) -> None:
    _standard(shop)
    dl = _deliver_then_revalue(shop)
    ret = _return(shop, dl, D(4))
    assert shop.roles(ret) == {"inventory": D("44.00"), "cogs": D("-40.00"),
                               "material_variance": D("-4.00")}
    assert shop.net("cogs") == D(0)  # nothing is sold any more
    assert (shop.qty("S"), shop.value("S")) == (D(10), D("110.00"))
    _check(shop)


def test_partial_returns_add_up_to_the_delivery_cost(shop: Shop) -> None:
    _standard(shop)
    dl = _deliver_then_revalue(shop)
    first = _return(shop, dl, D(1))
    assert shop.roles(first) == {"inventory": D("11.00"), "cogs": D("-10.00"),
                                 "material_variance": D("-1.00")}
    _return(shop, dl, D(3))
    assert shop.net("cogs") == D(0)
    _check(shop)


def test_cancelling_a_return_after_another_standard_debits_what_it_credited(
        shop: Shop) -> None:
    _standard(shop)
    dl = _deliver_then_revalue(shop)
    ret = _return(shop, dl, D(4))
    Accounting(shop.jxc).revalue_standard("S", D(12))  # 10 on hand: +10.00
    shop.docs.cancel(ret, BOSS)
    red = {r.role: r.debit - r.credit for r in shop.journal(f"{ret}-R")}
    assert red == {"inventory": D("-48.00"), "cogs": D("40.00"),
                   "material_variance": D("8.00")}
    assert shop.net("cogs") == D("40.00")  # the delivery stands again, at its cost
    assert shop.counters(dl, 1, "returned", "returned_value") == {
        "returned": D(0), "returned_value": D(0)}
    _check(shop)


def test_cancelling_a_delivery_after_a_new_standard_restores_its_cost(shop: Shop) -> None:
    _standard(shop)
    dl = _deliver_then_revalue(shop)
    shop.docs.cancel(dl, BOSS)
    red = {r.role: r.debit - r.credit for r in shop.journal(f"{dl}-R")}
    assert red == {"inventory": D("44.00"), "cogs": D("-40.00"),
                   "material_variance": D("-4.00")}
    assert shop.net("cogs") == D(0)
    assert (shop.qty("S"), shop.value("S")) == (D(10), D("110.00"))
    _check(shop)


def test_without_a_new_standard_no_variance_is_booked(shop: Shop) -> None:
    _standard(shop)
    dl = shop.run("delivery", [Line(1, "S", D(4), D(20), warehouse="W1")], "C1")
    ret = _return(shop, dl.doc_id, D(4))
    assert shop.roles(ret) == {"inventory": D("40.00"), "cogs": D("-40.00")}
    _check(shop)


def test_supplier_return_and_receipt_cancellation_after_a_new_standard(shop: Shop) -> None:
    shop.jxc.define_item(Item("S", "standard item", costing_method="standard",
                              standard_cost=D(10)))
    rk = shop.receipt([Line(1, "S", D(10), D(12), warehouse="W1")])  # variance +20.00
    rk2 = shop.receipt([Line(1, "S", D(5), D(12), warehouse="W1")])  # variance +10.00
    Accounting(shop.jxc).revalue_standard("S", D(11))  # 15 on hand: +15.00
    ret = shop.run("purchase_return", [Line(1, "S", D(10), D(12), warehouse="W1",
                                            source=(rk.doc_id, 1))], "S1")
    # out at the standard of the day; the supplier takes back what it charged
    assert shop.roles(ret.doc_id) == {"grni": D("120.00"), "inventory": D("-110.00"),
                                      "material_variance": D("-10.00")}
    shop.docs.cancel(rk2.doc_id, BOSS)
    assert shop.roles(rk2.doc_id) == {"grni": D(0), "inventory": D("-5.00"),
                                      "material_variance": D("5.00")}
    assert (shop.qty("S"), shop.value("S")) == (D(0), D(0))
    assert shop.net("material_variance") == D(0)  # nothing left, nothing to vary
    assert shop.net("cogs") == D(0)
    _check(shop)

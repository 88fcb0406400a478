"""FIFO/LIFO with negative stock: a receipt whose units settled an issue's shortage is
cancelled once that issue is. The issue's cancellation puts the units the receipt settled back
into the receipt's layer, at the receipt's cost, so the receipt's layer is whole again: every
document goes, every role nets to zero and the stock ends at 0 / 0.00. Since 2026-12-17 the
newest such receipt may be cancelled first as well (it opens the shortages again,
tests/documents/test_settled_shortage_undo.py); these tests keep the other order, the issue
first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal
METHODS = ["fifo", "lifo"]


def _line(qty: int, price: str = "0", source: tuple[str, int] | None = None) -> Line:
    return Line(1, "C", D(qty), D(price), warehouse="W1", source=source)


def _negative(shop: Shop, method: str) -> None:
    # C has no stock yet: it may change its policy
    shop.jxc.define_item(Item("C", "cable", costing_method=method, allow_negative=True))


def _receipt(shop: Shop, qty: int, price: str, **kw: object) -> str:
    return shop.run("purchase_receipt", [_line(qty, price)], "S1", **kw).doc_id


def _refused(shop: Shop, doc_id: str) -> None:
    with pytest.raises(JxcError) as e:
        shop.docs.cancel(doc_id, BOSS)
    assert e.value.code == "reversal_impossible"


def _all_undone(shop: Shop, docs: list[str], apart: tuple[str, ...] = ()) -> None:
    """Cancel ``docs`` in that order: none refused; then nothing is left anywhere (the roles
    ``apart`` net to zero together)."""
    for doc_id in docs:
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    assert (shop.qty("C"), shop.value("C")) == (D(0), D("0.00"))
    roles = {r.role for r in shop.journal()} - set(apart)
    assert {role: shop.net(role) for role in roles if shop.net(role)} == {}
    assert sum((shop.net(role) for role in apart), D(0)) == 0


@pytest.mark.parametrize("method", METHODS)
def test_a_receipt_that_settled_a_delivery_is_cancelled_after_it(shop: Shop,
                                                                 method: str) -> None:
    _negative(shop, method)
    r1 = _receipt(shop, 10, "10.00")
    d = shop.run("delivery", [_line(15, "30")], "C1").doc_id  # 5 short, at 10.00
    r2 = _receipt(shop, 10, "14.00")  # settles the 5 at 14.00: +20.00
    assert (shop.qty("C"), shop.value("C")) == (D(5), D("70.00"))
    assert shop.net("cogs") == D("170.00")
    shop.docs.cancel(d, BOSS)
    # the 5 units it settled are back in its layer, at its cost
    assert (shop.qty("C"), shop.value("C")) == (D(20), D("240.00"))
    _all_undone(shop, [r2, r1])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("out", ["purchase_return", "adjustment"])
def test_a_receipt_that_settled_a_return_or_an_adjustment_is_cancelled_after_it(
        shop: Shop, method: str, out: str) -> None:
    _negative(shop, method)
    r1 = _receipt(shop, 10, "10.00")
    d = shop.run("delivery", [_line(8, "30")], "C1").doc_id
    if out == "purchase_return":  # all of R1 back to the supplier: 8 of them short
        issue = shop.run(out, [_line(10, "10.00", (r1, 1))], "S1").doc_id
    else:
        issue = shop.run(out, [_line(-10)]).doc_id
    r2 = _receipt(shop, 10, "12.00")
    shop.docs.cancel(issue, BOSS)
    shop.check_books()
    # the settlement of an adjustment's shortage is booked to cogs, its cancellation to the
    # adjustment's account: those two net together (not each)
    _all_undone(shop, [r2, d, r1], ("cogs", "adjustment") if out == "adjustment" else ())


@pytest.mark.parametrize("method", METHODS)
def test_a_shortage_settled_in_part_and_by_two_receipts(shop: Shop, method: str) -> None:
    _negative(shop, method)
    r1 = _receipt(shop, 10, "10.00")
    d = shop.run("delivery", [_line(15, "30")], "C1").doc_id  # 5 short
    r2 = _receipt(shop, 3, "14.00")  # settles 3 of the 5: 2 still open
    shop.docs.cancel(d, BOSS)  # its 2 open units closed, 3 back into R2, 10 into R1
    assert (shop.qty("C"), shop.value("C")) == (D(13), D("142.00"))
    _all_undone(shop, [r2, r1])

    r3 = _receipt(shop, 4, "10.00")
    d = shop.run("delivery", [_line(9, "30")], "C1").doc_id  # 5 short
    r4 = _receipt(shop, 3, "14.00")
    r5 = _receipt(shop, 2, "12.00")  # the two settle all 5
    _refused(shop, r4)
    shop.docs.cancel(d, BOSS)
    assert (shop.qty("C"), shop.value("C")) == (D(9), D("106.00"))
    _all_undone(shop, [r5, r4, r3])


@pytest.mark.parametrize("method", METHODS)
def test_a_back_dated_receipt_replays_what_the_cancellation_put_back(shop: Shop,
                                                                     method: str) -> None:
    """The cancellation's layers are kept with it; a back-dated receipt replays the scope
    (the delivery now takes it first and is shorter): the units the settling receipt gave
    still go back into its layer, so it can still be cancelled."""
    _negative(shop, method)
    r1 = _receipt(shop, 10, "10.00")
    d = shop.run("delivery", [_line(15, "30")], "C1").doc_id
    r2 = _receipt(shop, 10, "14.00")
    shop.docs.cancel(d, BOSS)
    early = _receipt(shop, 2, "11.00", date=dt.date(2026, 3, 1))
    shop.check_books()
    assert (shop.qty("C"), shop.value("C")) == (D(22), D("262.00"))
    _all_undone(shop, [r2, r1, early])

"""The over-receipt / over-delivery tolerance (domain rules 5): what ``Documents`` accepts as a
tolerance, and that cancelling a return (its units count as received / delivered on the order
line again) stays within it as a receipt / delivery does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError
from jxc_core.services import Documents

from .support import BOSS, Shop

D = Decimal


def _line(qty: int, source: tuple[str, int] | None = None, item: str = "A") -> Line:
    return Line(1, item, D(qty), D("10.00"), warehouse="W1", source=source)


def _net(shop: Shop, order: Document, done: str) -> Decimal:
    c = shop.counters(order.doc_id, 1, done, "returned")
    return c[done] - c["returned"]


# -- the tolerance itself ----------------------------------------------------------------------
@pytest.mark.parametrize("value", [D(0), 0, D("0.05"), D("0.999999")])
def test_a_tolerance_from_0_up_to_1_is_taken(shop: Shop, value: Decimal | int) -> None:
    assert Documents(shop.jxc, tolerance=value).tolerance == value


@pytest.mark.parametrize("value", [D("-0.5"), D("-0.0001"), -1, D(1), D("1.5"), 5])
def test_a_negative_tolerance_or_one_of_1_or_more_is_refused(shop: Shop,
                                                             value: Decimal | int) -> None:
    with pytest.raises(JxcError) as err:
        Documents(shop.jxc, tolerance=value)
    assert err.value.code == "configuration"
    assert err.value.data["field"] == "tolerance" and err.value.data["value"] == value
    assert "fraction" in err.value.data["reason"] and "容差" in (err.value.reason_zh or "")


@pytest.mark.parametrize(("value", "error"), [
    (0.05, TypeError), ("0.05", TypeError), (None, TypeError),
    (D("NaN"), ValueError), (D("Infinity"), ValueError)])
def test_a_tolerance_that_is_no_finite_number_is_refused(shop: Shop, value: object,
                                                         error: type[Exception]) -> None:
    with pytest.raises(error, match="tolerance"):
        Documents(shop.jxc, tolerance=value)  # type: ignore[arg-type]


def test_the_refusal_beyond_the_tolerance_reports_an_open_quantity_of_0(
        tolerant_shop: Shop) -> None:
    shop = tolerant_shop  # 10%: up to 110 of 100
    po = shop.po([_line(100)])
    shop.receipt([_line(105, (po.doc_id, 1))])
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.receipt([_line(6, (po.doc_id, 1))])  # 111 > 110
    assert err.value.code == "over_receipt"
    assert err.value.data == {"order": po.doc_id, "line": 1, "kind": "receipt",
                              "quantity": D(6), "open": 0, "tolerance": D("0.1")}
    assert "open quantity 0 " in str(err.value)  # not -5
    snap = shop.snapshot()
    assert {k: snap[k] for k in snap if k not in ("ids", "docs")} == {
        k: before[k] for k in before if k not in ("ids", "docs")}


# -- cancelling a purchase return ----------------------------------------------------------------
def _over_after_return(shop: Shop) -> tuple[Document, Document, Document]:
    """PO 100 at 10% tolerance: received 110, 10 returned, 10 received again (110 net)."""
    po = shop.po([_line(100)])
    rk = shop.receipt([_line(110, (po.doc_id, 1))])
    th = shop.run("purchase_return", [_line(10, (rk.doc_id, 1))], "S1")
    again = shop.receipt([_line(10, (po.doc_id, 1))])
    assert _net(shop, po, "received") == 110
    return po, th, again


def test_cancelling_a_purchase_return_beyond_the_tolerance_is_refused(
        tolerant_shop: Shop) -> None:
    shop = tolerant_shop
    po, th, again = _over_after_return(shop)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(th.doc_id, BOSS)  # 120 net received > 110
    assert err.value.code == "over_receipt"
    assert err.value.data == {"order": po.doc_id, "line": 1, "kind": "receipt",
                              "quantity": D(10), "open": 0, "tolerance": D("0.1")}
    assert shop.snapshot() == before  # nothing written
    # the later receipt cancelled first, the return can be cancelled: 110 net again
    shop.docs.cancel(again.doc_id, BOSS)
    assert shop.docs.cancel(th.doc_id, BOSS).state == State.CANCELLED
    assert _net(shop, po, "received") == 110
    assert shop.jxc.balance("A", "W1").on_order == 0
    shop.check_books()


def test_cancelling_a_purchase_return_within_the_tolerance_goes_through(
        tolerant_shop: Shop) -> None:
    shop = tolerant_shop
    po = shop.po([_line(100)])
    rk = shop.receipt([_line(100, (po.doc_id, 1))])
    th = shop.run("purchase_return", [_line(5, (rk.doc_id, 1))], "S1")
    shop.receipt([_line(5, (po.doc_id, 1))])
    assert shop.jxc.balance("A", "W1").on_order == 0
    shop.docs.cancel(th.doc_id, BOSS)  # 105 net, within 110
    assert _net(shop, po, "received") == 105
    assert shop.jxc.balance("A", "W1").on_order == 0  # nothing open goes below zero
    shop.check_books()


def test_cancelling_a_return_of_a_closed_order_is_checked_too(tolerant_shop: Shop) -> None:
    shop = tolerant_shop
    po, th, _ = _over_after_return(shop)
    shop.docs.close(po.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(th.doc_id, BOSS)
    assert err.value.code == "over_receipt"
    assert shop.snapshot() == before


def test_without_tolerance_a_return_is_cancelled_once_the_line_has_room(shop: Shop) -> None:
    po = shop.po([_line(10)])
    rk = shop.receipt([_line(10, (po.doc_id, 1))])
    th = shop.run("purchase_return", [_line(4, (rk.doc_id, 1))], "S1")
    more = shop.receipt([_line(1, (po.doc_id, 1))])
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:  # 7 net + 4 > 10
        shop.docs.cancel(th.doc_id, BOSS)
    assert (err.value.code, err.value.data["open"], err.value.data["quantity"]) == (
        "over_receipt", D(3), D(4))
    assert shop.snapshot() == before
    shop.docs.cancel(more.doc_id, BOSS)
    shop.docs.cancel(th.doc_id, BOSS)  # exactly the ordered 10
    assert _net(shop, po, "received") == 10
    shop.check_books()


# -- cancelling a sales return ---------------------------------------------------------------------
def test_cancelling_a_sales_return_beyond_the_tolerance_is_refused(
        tolerant_shop: Shop) -> None:
    shop = tolerant_shop  # 10%: up to 22 of 20
    shop.stock_in("C", D(100), D("5.00"))
    so = shop.run("sales_order", [_line(20, item="C")], "C1")
    dl = shop.run("delivery", [_line(22, (so.doc_id, 1), "C")], "C1")
    xt = shop.run("sales_return", [_line(3, (dl.doc_id, 1), "C")], "C1")
    again = shop.run("delivery", [_line(3, (so.doc_id, 1), "C")], "C1")
    assert _net(shop, so, "delivered") == 22
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(xt.doc_id, BOSS)  # 25 net delivered > 22
    assert err.value.code == "over_receipt"
    assert err.value.data == {"order": so.doc_id, "line": 1, "kind": "delivery",
                              "quantity": D(3), "open": 0, "tolerance": D("0.1")}
    assert shop.snapshot() == before
    shop.docs.cancel(again.doc_id, BOSS)
    shop.docs.cancel(xt.doc_id, BOSS)
    assert _net(shop, so, "delivered") == 22
    b = shop.jxc.balance("C", "W1")
    assert (b.demand, b.reserved) == (0, 0)
    shop.check_books()

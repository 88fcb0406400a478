"""Documents that take expired stock off the books (docs/stock-ledger.md, "Lots and expiry"),
on both adapters: a supplier return, a write-off (其他出库), a transfer and a count loss may name
an expired lot, and so may the cancellations (红冲) that take stock out again; a delivery may
not (``lot_expired``), and a line without a lot never picks it.

Set-up: item M tracked by lot; a purchase receipt brings LX (10 at 1.00, expiry 2026-03-10) and
LF (10 at 2.00, expiry 2026-06-01) into W1 on 2026-03-02; then the clock moves to 2026-03-11
18:00 (a cancellation posts on its document's date at the clock's time of day).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, ITEMS, WAREHOUSES, Shop, TickingClock

D = Decimal
X_EXPIRY = dt.date(2026, 3, 10)


def receive(shop: Shop) -> Document:
    shop.jxc.define_item(Item("M", "milk", lot_tracked=True))
    return shop.receipt([
        Line(1, "M", D(10), D("1.00"), warehouse="W1", lot="LX", expiry=X_EXPIRY),
        Line(2, "M", D(10), D("2.00"), warehouse="W1", lot="LF", expiry=dt.date(2026, 6, 1))])


def expire(shop: Shop) -> None:
    clock = shop.jxc.clock
    assert isinstance(clock, TickingClock)
    clock.at = dt.datetime(2026, 3, 11, 18, 0)  # later in the day than the set-up


def lots(shop: Shop, warehouse: str = "W1") -> dict[str, Decimal]:
    return {b.lot: b.on_hand for b in shop.jxc.balances()
            if b.item == "M" and b.warehouse == warehouse and b.on_hand}


def moves(shop: Shop, doc_id: str) -> list[tuple[str, str, str, Decimal, Decimal]]:
    return [(x.entry.warehouse, x.entry.location, x.entry.lot, x.entry.quantity,
             x.entry.value) for x in shop.jxc.ledger("M") if x.entry.doc_id == doc_id]


def books(shop: Shop) -> None:
    """Every posting balances; the inventory role equals the valuation of the stock (M too)."""
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    value = sum((shop.jxc.balance(i, w).value for i in (*ITEMS, "M") for w in WAREHOUSES),
                D(0))
    assert shop.net("inventory") == value


def refused(shop: Shop, code: str, call: Any) -> None:
    before = shop.snapshot(), [x.entry for x in shop.jxc.ledger("M")]
    with pytest.raises(JxcError) as err:
        call()
    assert err.value.code == code, err.value
    assert (shop.snapshot(), [x.entry for x in shop.jxc.ledger("M")]) == before


@pytest.fixture
def rc(shop: Shop) -> Document:
    """The receipt; LX has expired."""
    doc = receive(shop)
    expire(shop)
    return doc


# -- a sale may not take it -----------------------------------------------------------------
def test_a_delivery_naming_an_expired_lot_is_refused(shop: Shop, rc: Document) -> None:
    line = Line(1, "M", D(1), D(5), warehouse="W1", lot="LX")
    doc = shop.approved("delivery", [line], "C1")
    refused(shop, "lot_expired", lambda: shop.docs.post(doc, BOSS))
    assert shop.docs.get(doc).state == State.APPROVED
    dl = shop.run("delivery", [Line(1, "M", D(4), D(5), warehouse="W1")], "C1")
    assert moves(shop, dl.doc_id) == [("W1", "", "LF", D(-4), D("-4.00"))]  # FEFO skips LX
    assert lots(shop) == {"LX": D(10), "LF": D(6)}
    books(shop)


# -- supplier return (采购退货) ----------------------------------------------------------------
def test_an_expired_lot_goes_back_to_the_supplier_and_the_return_is_cancelled(
        shop: Shop, rc: Document) -> None:
    pr = shop.run("purchase_return", [Line(1, "M", D(4), D("1.00"), warehouse="W1", lot="LX",
                                           source=(rc.doc_id, 1))], "S1")
    assert moves(shop, pr.doc_id) == [("W1", "", "LX", D(-4), D("-4.00"))]
    assert lots(shop) == {"LX": D(6), "LF": D(10)}
    assert shop.counters(rc.doc_id, 1, "returned") == {"returned": D(4)}
    books(shop)
    shop.docs.cancel(pr.doc_id, BOSS)
    assert lots(shop) == {"LX": D(10), "LF": D(10)}
    assert shop.counters(rc.doc_id, 1, "returned") == {"returned": D(0)}
    books(shop)


def test_the_receipt_of_an_expired_lot_can_be_cancelled(shop: Shop, rc: Document) -> None:
    shop.docs.cancel(rc.doc_id, BOSS)
    # the cancellation undoes the lines last first (the mirror of the posting)
    assert moves(shop, f"{rc.doc_id}-R") == [("W1", "", "LF", D(-10), D("-20.00")),
                                             ("W1", "", "LX", D(-10), D("-10.00"))]
    assert lots(shop) == {}
    books(shop)


def test_a_customer_return_into_an_expired_lot_can_be_cancelled(shop: Shop) -> None:
    receive(shop)
    dl = shop.run("delivery", [Line(1, "M", D(3), D(5), warehouse="W1", lot="LX")], "C1")
    expire(shop)
    sr = shop.run("sales_return", [Line(1, "M", D(3), D(5), warehouse="W1", lot="LX",
                                        source=(dl.doc_id, 1))], "C1")
    assert lots(shop) == {"LX": D(10), "LF": D(10)}
    shop.docs.cancel(sr.doc_id, BOSS)
    assert moves(shop, f"{sr.doc_id}-R") == [("W1", "", "LX", D(-3), D("-3.00"))]
    assert lots(shop) == {"LX": D(7), "LF": D(10)}
    books(shop)


# -- write-off (其他出库 / 报损) --------------------------------------------------------------
def test_an_adjustment_writes_the_expired_lot_off_and_is_cancelled(
        shop: Shop, rc: Document) -> None:
    tz = shop.run("adjustment", [Line(1, "M", D(-4), warehouse="W1", lot="LX")])
    assert moves(shop, tz.doc_id) == [("W1", "", "LX", D(-4), D("-4.00"))]
    assert shop.roles(tz.doc_id) == {"inventory": D("-4.00"), "adjustment": D("4.00")}
    assert lots(shop) == {"LX": D(6), "LF": D(10)}
    books(shop)
    shop.docs.cancel(tz.doc_id, BOSS)
    assert lots(shop) == {"LX": D(10), "LF": D(10)}
    assert shop.roles(tz.doc_id) == {"inventory": D(0), "adjustment": D(0)}
    books(shop)


def test_an_adjustment_into_an_expired_lot_can_be_cancelled(shop: Shop, rc: Document) -> None:
    tz = shop.run("adjustment", [Line(1, "M", D(2), D("1.00"), warehouse="W1", lot="LX")])
    assert lots(shop) == {"LX": D(12), "LF": D(10)}
    shop.docs.cancel(tz.doc_id, BOSS)
    assert moves(shop, f"{tz.doc_id}-R") == [("W1", "", "LX", D(-2), D("-2.00"))]
    assert lots(shop) == {"LX": D(10), "LF": D(10)}
    books(shop)


def test_a_write_off_without_a_lot_never_takes_the_expired_lot(
        shop: Shop, rc: Document) -> None:
    doc = shop.approved("adjustment", [Line(1, "M", D(-11), warehouse="W1")])
    refused(shop, "insufficient_stock", lambda: shop.docs.post(doc, BOSS))
    tz = shop.run("adjustment", [Line(1, "M", D(-10), warehouse="W1")])
    assert moves(shop, tz.doc_id) == [("W1", "", "LF", D(-10), D("-10.00"))]  # FIFO


# -- transfer (调拨, to a quarantine warehouse) -----------------------------------------------
def test_a_transfer_moves_the_expired_lot_and_is_cancelled(shop: Shop, rc: Document) -> None:
    db = shop.run("transfer", [Line(1, "M", D(10), warehouse="W1", to_warehouse="W2",
                                    lot="LX")])
    assert moves(shop, db.doc_id) == [("W1", "", "LX", D(-10), D("-10.00")),
                                      ("W2", "", "LX", D(10), D("10.00"))]
    assert (lots(shop), lots(shop, "W2")) == ({"LF": D(10)}, {"LX": D(10)})
    books(shop)
    shop.docs.cancel(db.doc_id, BOSS)
    assert (lots(shop), lots(shop, "W2")) == ({"LX": D(10), "LF": D(10)}, {})
    books(shop)


# -- stock count (盘点) -----------------------------------------------------------------------
def count(shop: Shop, lines: list[Line], counted: dict[int, Decimal]) -> Document:
    pc = shop.docs.submit(shop.make("stock_count", lines).doc_id, BOSS)
    shop.docs.record_count(pc.doc_id, counted)
    shop.docs.approve(pc.doc_id, BOSS)
    return shop.docs.post(pc.doc_id, BOSS)


@pytest.mark.parametrize(("counted", "moved", "left"), [
    (6, D(-4), D(6)),  # a loss: out of the expired lot
    (12, D(2), D(12)),  # a gain: its cancellation takes it out again
])
def test_a_count_of_the_expired_lot_and_its_cancellation(
        shop: Shop, rc: Document, counted: int, moved: Decimal, left: Decimal) -> None:
    pc = count(shop, [Line(1, "M", D(0), warehouse="W1", lot="LX")], {1: D(counted)})
    assert [(m[2], m[3]) for m in moves(shop, pc.doc_id)] == [("LX", moved)]
    assert lots(shop) == {"LX": left, "LF": D(10)}
    books(shop)
    shop.docs.cancel(pc.doc_id, BOSS)
    assert lots(shop) == {"LX": D(10), "LF": D(10)}
    books(shop)


def test_a_located_count_loss_of_the_expired_lot_and_its_cancellation(shop: Shop) -> None:
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("L1", "L2")))
    shop.jxc.define_item(Item("M", "milk", lot_tracked=True))
    shop.receipt([Line(1, "M", D(5), D("1.00"), warehouse="W1", location="L1", lot="LX",
                       expiry=X_EXPIRY),
                  Line(2, "M", D(5), D("1.00"), warehouse="W1", location="L2", lot="LX")])
    expire(shop)
    pc = count(shop, [Line(1, "M", D(0), warehouse="W1", location="L1", lot="LX")], {1: D(2)})
    assert moves(shop, pc.doc_id) == [("W1", "L1", "LX", D(-3), D("-3.00"))]
    books(shop)
    shop.docs.cancel(pc.doc_id, BOSS)
    assert moves(shop, f"{pc.doc_id}-R") == [("W1", "L1", "LX", D(3), D("3.00"))]
    assert {(b.location, b.lot): b.on_hand for b in shop.jxc.balances()
            if b.item == "M" and b.on_hand} == {("L1", "LX"): D(5), ("L2", "LX"): D(5)}
    books(shop)

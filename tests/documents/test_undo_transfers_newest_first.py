"""Undoing documents newest first across transfers, and short issues cancelled.

A cancellation is posted at the moment of the document it cancels: a receipt's, cancelled
after a later transfer of its units was, replays the warehouse from the receipt on. The
transfer line and its cancellation are a void pair there (out of the source and back in;
into the target and out again), passed over as never posted, as a delivery and its reversal
are. A delivery whose units all went short (negative stock) and is cancelled while its
shortage is open closes that shortage: no later receipt settles it against the cancelled
document.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, State
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
_METHODS = {"fifo": "C", "moving_average": "B", "standard": "XSTD"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "XSTD", "NFIFO", "NLIFO", "NAVG"])


def _shop(storage: str, tmp_path: Path, organisation: bool = False) -> tuple[Shop, object]:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "undo.db")))
    j = Jxc(store, clock=TickingClock(), organisation_scope=organisation)
    setup_master(j)
    j.define_item(Item("XSTD", "standard item", costing_method="standard",
                       standard_cost=D("10.00")))
    for code, method in (("NFIFO", "fifo"), ("NLIFO", "lifo"), ("NAVG", "moving_average")):
        j.define_item(Item(code, f"{method} item", costing_method=method, allow_negative=True))
    return Shop(j, Documents(j)), store


def _nets_to_zero(shop: Shop) -> None:
    roles = {r.role for r in shop.journal()}
    assert {role: shop.net(role) for role in roles if shop.net(role)} == {}


def _empty(shop: Shop, item: str) -> None:
    for wh in ("W1", "W2"):
        b = shop.jxc.balance(item, wh)
        assert (b.on_hand, b.value) == (0, D("0.00"))


def _transfer(shop: Shop, item: str, qty: int, src: str, dst: str, day: int) -> str:
    return shop.run("transfer", [Line(1, item, D(qty), D(0), warehouse=src, to_warehouse=dst)],
                    date=dt.date(2026, 2, day)).doc_id


@pytest.mark.parametrize("organisation", [False, True])
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("method", sorted(_METHODS))
def test_a_receipt_after_its_units_were_transferred_and_brought_back(
        method: str, storage: str, organisation: bool, tmp_path: Path) -> None:
    """A receipt of 10 into W1 (1 February), all 10 transferred to W2 (2 February); then
    the transfer cancelled and the receipt. The receipt's cancellation is dated 1 February:
    its replay met the transfer out of W1 (and its cancellation's way back in after it) one
    by one and refused (``insufficient_stock``: needed 10, on hand 0)."""
    shop, store = _shop(storage, tmp_path, organisation)
    x = _METHODS[method]
    r = shop.run("purchase_receipt", [Line(1, x, D(10), D("10.00"), warehouse="W1")], "S1",
                 date=dt.date(2026, 2, 1)).doc_id
    t = _transfer(shop, x, 10, "W1", "W2", 2)
    for doc_id in (t, r):
        shop.docs.cancel(doc_id, BOSS)
        assert shop.docs.get(doc_id).state == State.CANCELLED
    _empty(shop, x)
    _nets_to_zero(shop)
    shop.check_books()
    if isinstance(store, SqliteStorage):
        store.close()


@pytest.mark.parametrize("organisation", [False, True])
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("method", sorted(_METHODS))
def test_a_transfer_chain_through_one_warehouse_undone_newest_first(
        method: str, storage: str, organisation: bool, tmp_path: Path) -> None:
    """W1 10 @ 10.00 and W2 5 @ 12.00; W1 -> W2 4 units, then W2 -> W1 9 units (the 4 and
    W2's own 5); undone newest first. The first transfer's cancellation, dated at it, takes
    its 4 out of W2 before the second transfer: the second and its cancellation were
    replayed one by one, W2 short by 4 (refused). Now every document is undone."""
    shop, store = _shop(storage, tmp_path, organisation)
    x = _METHODS[method]
    r = shop.run("purchase_receipt", [Line(1, x, D(10), D("10.00"), warehouse="W1"),
                                      Line(2, x, D(5), D("12.00"), warehouse="W2")], "S1",
                 date=dt.date(2026, 2, 1)).doc_id
    t1 = _transfer(shop, x, 4, "W1", "W2", 2)
    t2 = _transfer(shop, x, 9, "W2", "W1", 2)
    for doc_id in (t2, t1):
        shop.docs.cancel(doc_id, BOSS)
    assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (10, 5)
    if not organisation:
        assert (shop.jxc.balance(x, "W1").value, shop.jxc.balance(x, "W2").value) == (
            D("100.00"), D("60.00") if method != "standard" else D("50.00"))
    shop.docs.cancel(r, BOSS)
    _empty(shop, x)
    _nets_to_zero(shop)
    shop.check_books()
    if isinstance(store, SqliteStorage):
        store.close()


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("item", ["NAVG", "NFIFO", "NLIFO"])
def test_a_cancelled_short_delivery_closes_its_own_shortage(
        item: str, storage: str, tmp_path: Path) -> None:
    """Negative stock allowed: a delivery of 12 and one of 6, both short (estimate 0.00);
    the second cancelled; then a receipt of 10 @ 1.97. The cancellation took its 6 units
    back as a receipt: they filled the first delivery's shortage, leaving the cancelled
    delivery's open, and the receipt settled 7.88 of it (4 units) against the cancelled
    document. Now the cancellation closes its own shortage: the receipt settles the first
    delivery's 10 (19.70) and the cancelled one and its cancellation net to zero; under
    moving average undoing the rest newest first leaves every role at zero."""
    shop, store = _shop(storage, tmp_path)
    d1, d2 = (shop.run("delivery", [Line(1, item, D(q), D("5.00"), warehouse="W1")], "C1",
                       date=dt.date(2026, 2, 1)).doc_id for q in (12, 6))
    shop.docs.cancel(d2, BOSS)
    r = shop.run("purchase_receipt", [Line(1, item, D(10), D("1.97"), warehouse="W1")], "S1",
                 date=dt.date(2026, 2, 5)).doc_id
    settled = {e.entry.doc_id: e.entry.value for e in shop.jxc.ledger(item, "W1")
               if e.entry.kind == "cost_settlement"}
    assert settled == {d1: D("-19.70")}  # out of stock, into the delivery's cost
    for role in {r.role for r in shop.journal(d2)} | {r.role for r in shop.journal(f"{d2}-R")}:
        assert shop.roles(d2).get(role, D(0)) + shop.roles(f"{d2}-R").get(role, D(0)) == 0
    b = shop.jxc.balance(item, "W1")
    assert (b.on_hand, b.value) == (-2, D("0.00"))
    if item != "NAVG":  # FIFO/LIFO: the receipt's units all went into the shortage (a
        # receipt whose units left is not cancelled before what took them)
        return
    for doc_id in (r, d1):
        shop.docs.cancel(doc_id, BOSS)
    _empty(shop, item)
    _nets_to_zero(shop)
    shop.check_books()
    if isinstance(store, SqliteStorage):
        store.close()


def test_a_receipt_that_settled_a_shortage_cancelled_first_nets_every_role(
        tmp_path: Path) -> None:
    """Negative stock allowed, moving average: a delivery of 1 short (estimate 0.00), a receipt
    of 1 @ 2.00 the same day that settles it (2.00 to cogs), then both cancelled newest first. The
    receipt's cancellation opens a new shortage at the estimate and books its difference to
    price difference; the delivery's cancellation settles that shortage, and the settlement of
    a receipt's cancellation goes to price difference as its back-dating corrections do (it
    went to cogs: the two roles ended 2.00 apart). Stock ends at 0 / 0.00."""
    shop, _ = _shop("memory", tmp_path)
    d = shop.run("delivery", [Line(1, "NAVG", D(1), D("5.00"), warehouse="W1")], "C1",
                 date=dt.date(2026, 2, 1)).doc_id
    r = shop.run("purchase_receipt", [Line(1, "NAVG", D(1), D("2.00"), warehouse="W1")], "S1",
                 date=dt.date(2026, 2, 1)).doc_id  # the same day (dated the next: nets)
    for doc_id in (r, d):
        shop.docs.cancel(doc_id, BOSS)
    _empty(shop, "NAVG")
    _nets_to_zero(shop)

"""Costed by organisation (one scope for every warehouse), negative stock forbidden: a supplier
return and its cancellation (a void pair) with a receipt line between them that is cancelled
only after the pair (DOMAIN.md §2, §5). A receipt cancelled back-dated before the pair replays
the scope; the pair is passed over, as it is when the receipt between is cancelled inside it
or lies in another warehouse's scope. Until 2026-12-18 the pair was replayed instead, its
return found the receipt's units gone and the receipt's cancellation was refused
(``insufficient_stock`` in ``*``): cancelling every document newest first deadlocked
(docs/decisions.md, 2026-12-18, "a receipt between a void pair")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
METHODS = {"OFIFO": "fifo", "OLIFO": "lifo", "OAVG": "moving_average", "OSTD": "standard"}


@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *METHODS])


def _shop(storage: str, tmp_path: Path) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "org.db")))
    j = Jxc(store, clock=TickingClock(dt.datetime(2026, 3, 20, 8, 0)), organisation_scope=True)
    setup_master(j)
    for code, method in METHODS.items():
        j.define_item(Item(code, f"{method} item", costing_method=method,
                           standard_cost=D("10.00") if method == "standard" else None))
    return Shop(j, Documents(j))


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


def _receipt(shop: Shop, x: str, qty: int, price: str, wh: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, x, D(qty), D(price), warehouse=wh)], "S1",
                    date=_day(day)).doc_id


def _all_undone(shop: Shop, x: str) -> None:
    shop.assert_all_undone(x)
    shop.check_books()


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", sorted(METHODS))
def test_receipts_cancel_newest_first_around_a_cancelled_return(
        storage: str, x: str, tmp_path: Path) -> None:
    """4 @ 12.50 into W1 on the 3rd; 1 of them returned to the supplier on the 9th; 5 @ 13.33
    into W2 on the 9th; 1 @ 13.33 into W1 on the 4th (back-dated); the return cancelled
    (after the W2 receipt: it lies inside the pair). Then the receipts cancel newest first:
    the one of the 4th, the one into W2, and the first — whose cancellation, dated the 3rd,
    replays the pair with the W2 receipt and its cancellation between."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 4, "12.50", "W1", 3)
    rt = shop.run("purchase_return", [Line(1, x, D(1), D("11.00"), warehouse="W1",
                                           source=(r1, 1))], "S1", date=_day(9)).doc_id
    r2 = _receipt(shop, x, 5, "13.33", "W2", 9)
    r3 = _receipt(shop, x, 1, "13.33", "W1", 4)
    shop.docs.cancel(rt, BOSS)
    assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (5, 5)
    for doc_id in (r3, r2):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (4, 0)
    shop.docs.cancel(r1, BOSS)
    _all_undone(shop, x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", sorted(METHODS))
def test_a_receipt_cancels_after_a_delivery_with_returns_and_charges(
        storage: str, x: str, tmp_path: Path) -> None:
    """3 @ 10.00 into W1 on the 2nd, delivered on the 5th; 4 @ 12.50 into W2 on the 3rd;
    landed costs of 3.00 on the first receipt (7th) and 7.77 on the second (6th); 1 of the
    second returned to the supplier and 1 of the delivery returned by the customer, both on
    the 9th; the supplier return cancelled (the customer return lies inside the pair). Then
    everything cancels newest first by date: the customer return, the charges, the delivery,
    the second receipt (dated the 3rd: its cancellation replays the pair) and the first."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 3, "10.00", "W1", 2)
    dl = shop.run("delivery", [Line(1, x, D(3), D("99.00"), warehouse="W1")], "C1",
                  date=_day(5)).doc_id
    r2 = _receipt(shop, x, 4, "12.50", "W2", 3)
    charges = [shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                        attributes={"receipts": [receipt], "basis": "quantity"},
                        date=_day(day)).doc_id
               for receipt, amount, day in ((r1, "3.00", 7), (r2, "7.77", 6))]
    rt = shop.run("purchase_return", [Line(1, x, D(1), D("11.00"), warehouse="W2",
                                           source=(r2, 1))], "S1", date=_day(9)).doc_id
    sr = shop.run("sales_return", [Line(1, x, D(1), D("99.00"), warehouse="W1",
                                        source=(dl, 1))], "C1", date=_day(9)).doc_id
    shop.docs.cancel(rt, BOSS)
    for doc_id in (sr, *charges, dl, r2, r1):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    _all_undone(shop, x)

"""Negative stock forbidden (the default): a document whose lines add and remove the same stock
(an adjustment, 其他出入库, that adds 1 and removes 1 of an item in one warehouse) can be
cancelled (DOMAIN.md §5: a posted document is cancelled by its reversal at the original
costs). Its cancellation undoes the lines last first: the removal's units come back before the
addition leaves. Until 2026-12-20 the addition's reversal was checked against the stock as it
was before the cancellation: under LIFO (or FIFO with nothing older on hand) the removal had
taken the added unit, so the newest document of the warehouse was refused ("1 of its units
have left stock already"); and once an earlier receipt was cancelled the stock check refused
it for want of the unit its own removal's reversal brings back (docs/decisions.md,
2026-12-20, "a document that added and removed the same stock, cancelled")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
METHODS = {"XF": "fifo", "XL": "lifo", "XM": "moving_average"}
LOTS = {"XT": "moving_average"}  # lot-tracked


@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *METHODS, *LOTS])


def _shop(storage: str, tmp_path: Path, organisation: bool = False) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "mixed.db")))
    j = Jxc(store, clock=TickingClock(), organisation_scope=organisation)
    setup_master(j)
    for code, method in METHODS.items():
        j.define_item(Item(code, f"{method} item", costing_method=method))
    for code, method in LOTS.items():
        j.define_item(Item(code, f"{method} lots", costing_method=method, lot_tracked=True))
    return Shop(j, Documents(j))


def _receipt(shop: Shop, x: str, day: int | None = None) -> str:
    return shop.run("purchase_receipt", [Line(1, x, D(1), D("10.00"), warehouse="W1")], "S1",
                    **({"date": dt.date(2026, 3, day)} if day else {})).doc_id


def _in_and_out(shop: Shop, x: str, day: int | None = None) -> str:
    """An adjustment: 1 added at 11.00, then 1 removed, in W1."""
    return shop.run("adjustment", [Line(1, x, D(1), D("11.00"), warehouse="W1"),
                                   Line(2, x, D(-1), D("11.00"), warehouse="W1")],
                    **({"date": dt.date(2026, 3, day)} if day else {})).doc_id


def _stock(shop: Shop, x: str) -> tuple[Decimal, Decimal]:
    return shop.qty(x, "W1"), shop.value(x, "W1")


def _cancel(shop: Shop, doc_id: str) -> None:
    shop.docs.cancel(doc_id, BOSS)
    shop.check_books()


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", list(METHODS))
def test_an_adjustment_that_adds_and_removes_cancels_as_the_newest_document(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 10.00 received; 1 added at 11.00 and 1 removed in one adjustment (LIFO: the
    removal takes the added unit; FIFO: the received one; moving average: at 10.50). The
    adjustment, the newest document, cancels: back to 1 / 10.00; then the receipt."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x)
    a = _in_and_out(shop, x)
    assert _stock(shop, x) == {"XF": (1, D("11.00")), "XL": (1, D("10.00")),
                               "XM": (1, D("10.50"))}[x]
    _cancel(shop, a)
    assert _stock(shop, x) == (1, D("10.00"))
    _cancel(shop, r)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["XL", "XM"])
def test_an_adjustment_that_adds_and_removes_cancels_after_the_receipt(
        storage: str, x: str, tmp_path: Path) -> None:
    """As above, the receipt cancelled first (LIFO: its layer is whole, the adjustment took
    its own unit; moving average: it takes the unit on hand, at the average 10.50). Then the
    adjustment: its removal's unit comes back before its addition leaves, so the stock of 0
    is no reason to refuse it (before, ``insufficient_stock`` for good). 0 / 0.00; under
    LIFO every role at zero. Under moving average the receipt, cancelled out of turn, left at
    the average: +0.50 price difference, which the adjustment's addition, leaving at 10.50
    against its 11.00, gives back as -0.50 cost of goods sold (the moving average's
    out-of-turn limit, docs/stock-ledger.md): the two offset, the books balance."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x)
    a = _in_and_out(shop, x)
    _cancel(shop, r)
    assert _stock(shop, x) == (0, D("0.00"))
    _cancel(shop, a)
    assert _stock(shop, x) == (0, D("0.00"))
    apart = {role: shop.net(role) for role in {r.role for r in shop.journal()}
             if shop.net(role)}
    assert apart == ({} if x == "XL"
                     else {"cogs": D("-0.50"), "price_difference": D("0.50")})


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_receipt_whose_unit_the_adjustment_removed_waits_for_it_fifo(
        storage: str, tmp_path: Path) -> None:
    """FIFO: the adjustment's removal took the received unit, so the receipt is refused until
    the adjustment is cancelled (its unit has left stock), and nothing is written; then both
    cancel."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, "XF")
    a = _in_and_out(shop, "XF")
    before = shop.snapshot()
    with pytest.raises(JxcError) as e:
        shop.docs.cancel(r, BOSS)
    assert e.value.code == "reversal_impossible"
    assert shop.snapshot() == before
    _cancel(shop, a)
    _cancel(shop, r)
    shop.assert_all_undone("XF")


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", list(METHODS))
def test_back_dated_receipts_cancelled_before_an_adjustment_that_adds_and_removes(
        storage: str, x: str, tmp_path: Path) -> None:
    """Receipts dated day 14 and day 9, an adjustment dated day 15 that adds 1 and removes 1;
    the day-14 receipt cancelled out of turn, then newest first whatever can go, pass after
    pass: every document cancels (before, under LIFO the adjustment was refused for good)."""
    shop = _shop(storage, tmp_path)
    r14 = _receipt(shop, x, 14)
    r9 = _receipt(shop, x, 9)
    a = _in_and_out(shop, x, 15)
    _cancel(shop, r14)
    left = [r9, a]
    for _ in range(3):
        for doc_id in list(reversed(left)):
            try:
                _cancel(shop, doc_id)
            except JxcError as err:
                assert err.code == "reversal_impossible", err
                continue
            left.remove(doc_id)
    assert left == []
    shop.assert_all_undone(x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_lot_line_cancelled_takes_its_whole_quantity(storage: str, tmp_path: Path) -> None:
    """Lot-tracked, moving average: 4 @ 10.00 of lot LA and 1 @ 12.00 of lot LB received in
    W2 (day 13); an adjustment dated day 9 adds 2 @ 9.00 of LA and removes 1 of LA. Its
    cancellation puts the removed unit back, then takes the 2 added: all 2, from lot LA's
    row (the row the line names, for its whole quantity; the unit put back is only not
    counted against the stock before), so W2 is back at 5 / 52.00 and, the receipt
    cancelled, at 0 / 0.00 with every role at zero. Counting the unit put back by picking
    rows for the rest alone posted the rest alone: 1 unit at 9.00 stayed in stock."""
    shop = _shop(storage, tmp_path)
    r = shop.run("purchase_receipt", [Line(1, "XT", D(4), D("10.00"), warehouse="W2",
                                           lot="LA"),
                                      Line(2, "XT", D(1), D("12.00"), warehouse="W2",
                                           lot="LB")], "S1", date=dt.date(2026, 3, 13)).doc_id
    a = shop.run("adjustment", [Line(1, "XT", D(2), D("9.00"), warehouse="W2", lot="LA"),
                                Line(2, "XT", D(-1), D("9.00"), warehouse="W2", lot="LA")],
                 date=dt.date(2026, 3, 9)).doc_id
    assert (shop.qty("XT", "W2"), shop.value("XT", "W2")) == (6, D("61.00"))
    _cancel(shop, a)
    assert (shop.qty("XT", "W2"), shop.value("XT", "W2")) == (5, D("52.00"))
    _cancel(shop, r)
    shop.assert_all_undone("XT")


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_by_organisation_the_removal_in_another_warehouse_gives_the_unit_back(
        storage: str, tmp_path: Path) -> None:
    """Costed by organisation (one LIFO layer queue for both warehouses): 4 @ 8.00 received
    in W1; an adjustment adds 2 at 11.00 in W2 and removes 1 in W1, which takes one of the
    added units (the newest layer, though it is in another warehouse). The adjustment, the
    newest document, cancels (before, refused for good: its addition's layer was read in W2
    only, where no later line took from it), then the receipt: 0 / 0.00 everywhere."""
    shop = _shop(storage, tmp_path, organisation=True)
    r = shop.run("purchase_receipt", [Line(1, "XL", D(4), D("8.00"), warehouse="W1")],
                 "S1").doc_id
    a = shop.run("adjustment", [Line(1, "XL", D(2), D("11.00"), warehouse="W2"),
                                Line(2, "XL", D(-1), D("11.00"), warehouse="W1")]).doc_id
    assert (shop.qty("XL", "W1"), shop.qty("XL", "W2")) == (3, 2)
    _cancel(shop, a)
    assert (shop.qty("XL", "W1"), shop.qty("XL", "W2")) == (4, 0)
    _cancel(shop, r)
    shop.assert_all_undone("XL")

"""Specific identification (个别计价), negative stock forbidden (the default): an adjustment
(其他出入库) that takes units of a lot out and brings some back in, in one document, cancelled
after the units its line in would take back are gone. Its cancellation undid its lines last
first (docs/decisions.md, 2026-12-19), so the line in's reversal came first and found only the
net of the document on hand: refused for good ("needed 2, available 1"). A lot never goes
short, so the lines that bring units back into a lot now go first (docs/decisions.md,
2026-12-22, "a lot's adjustment that took units out and brought some back, cancelled after
its receipt")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master
from .test_specific_lot_cancel_and_replay import _books

D = Decimal
X = "XLOT"


@pytest.fixture(autouse=True)
def _books_see_the_lot_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of this item."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, X])


def _make(storage: str, tmp_path: Path, org: bool) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "lots.db")))
    j = Jxc(store, clock=TickingClock(), organisation_scope=org)
    setup_master(j)
    j.define_item(Item(X, "lot item", costing_method="specific_lot", lot_tracked=True))
    return Shop(j, Documents(j))


@pytest.fixture(params=["memory", "sqlite"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    made = _make(request.param, tmp_path, False)
    yield made
    made.jxc.storage.close()


@pytest.fixture(params=["memory", "sqlite"])
def org_shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    made = _make(request.param, tmp_path, True)
    yield made
    made.jxc.storage.close()


def _line(n: int, qty: int, price: str, wh: str = "W1") -> Line:
    return Line(n, X, D(qty), D(price), warehouse=wh, lot="L1")


def _mar(day: int) -> dt.date:
    return dt.date(2026, 3, day)


def _stock(shop: Shop, wh: str = "W1") -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(X, wh)
    return b.on_hand, b.value


def _lot(shop: Shop) -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(X, lot="L1")
    return b.on_hand, b.value


def _moves(shop: Shop, doc_id: str) -> list[tuple[str, Decimal, Decimal]]:
    """The stock entries of ``doc_id`` in ledger order: (kind, quantity, value)."""
    return [(e.entry.kind, e.entry.quantity, e.entry.value) for e in shop.jxc.ledger(X)
            if e.entry.doc_id == doc_id and e.entry.quantity]


def _take_out_bring_back(shop: Shop, out: int, back: int, on: int, wh: str = "W1") -> str:
    """An adjustment: ``out`` units of L1 removed (line 1), ``back`` added at 11.00 (line 2)."""
    return shop.run("adjustment", [_line(1, -out, "11.00", wh), _line(2, back, "11.00", wh)],
                    date=_mar(on)).doc_id


def test_the_adjustment_cancels_after_its_receipt_cancelled_out_of_turn(shop: Shop) -> None:
    """R receives 7 of L1 at 8.00; the adjustment takes 1 out (8.00) and brings 2 back at
    11.00: the lot is 8 / 70.00. R is cancelled out of turn (its 7 units at their own cost,
    56.00): the lot keeps the adjustment's net unit, 1 / 14.00. Undone last first, the line
    in's reversal needed 2 with 1 on hand and the adjustment was refused for good. The line
    out's unit now comes back first (8.00), then the 2 units leave at their own 22.00."""
    r = shop.run("purchase_receipt", [_line(1, 7, "8.00")], "S1", date=_mar(5)).doc_id
    assert _stock(shop) == (7, D("56.00"))
    q = _take_out_bring_back(shop, 1, 2, 5)
    assert _stock(shop) == (8, D("70.00"))
    assert shop.roles(q) == {"inventory": D("14.00"), "adjustment": D("-14.00")}
    _books(shop)

    shop.docs.cancel(r, BOSS)  # out of turn: the adjustment is newer
    assert _stock(shop) == (1, D("14.00"))
    _books(shop)

    shop.docs.cancel(q, BOSS)  # refused before ("needed 2, available 1")
    assert _stock(shop) == (0, D("0.00"))
    assert _moves(shop, f"{q}-R") == [("adjustment_reversal", D(1), D("8.00")),
                                      ("adjustment_out", D(-2), D("-22.00"))]
    assert shop.roles(q) == {"inventory": D("0.00"), "adjustment": D("0.00")}
    _books(shop)
    shop.assert_all_undone(X)


def test_a_receipt_back_dated_before_them_replays_over_the_cancellation(shop: Shop) -> None:
    """As above, then a receipt of 3 of L1 at 9.00 back-dated a day before everything: its
    replay passes over the adjustment's cancellation as the ledger holds it (the unit back
    first, then the 2 leaving) and the lot keeps only its 3 units at 27.00; it cancels to
    zero, every role too."""
    r = shop.run("purchase_receipt", [_line(1, 7, "8.00")], "S1", date=_mar(5)).doc_id
    q = _take_out_bring_back(shop, 1, 2, 5)
    shop.docs.cancel(r, BOSS)
    assert _stock(shop) == (1, D("14.00"))
    shop.docs.cancel(q, BOSS)  # refused before ("needed 2, available 1")
    assert _stock(shop) == (0, D("0.00"))

    r0 = shop.run("purchase_receipt", [_line(1, 3, "9.00")], "S1", date=_mar(4)).doc_id
    assert _stock(shop) == (3, D("27.00"))
    assert _moves(shop, f"{q}-R") == [("adjustment_reversal", D(1), D("8.00")),
                                      ("adjustment_out", D(-2), D("-22.00"))]
    assert shop.net("adjustment") == D("0.00")
    _books(shop)

    shop.docs.cancel(r0, BOSS)
    assert _stock(shop) == (0, D("0.00"))
    _books(shop)
    shop.assert_all_undone(X)


def test_cancelled_as_the_newest_document_the_values_are_those_of_last_first(
        shop: Shop) -> None:
    """In turn the values are those the last-first order gave (the adjustment, the newest
    document, cancels back to the receipt's 7 / 56.00, then the receipt); only the order of
    the reversal's entries changed: the unit taken out comes back before the 2 leave."""
    r = shop.run("purchase_receipt", [_line(1, 7, "8.00")], "S1", date=_mar(5)).doc_id
    q = _take_out_bring_back(shop, 1, 2, 5)
    shop.docs.cancel(q, BOSS)
    assert _stock(shop) == (7, D("56.00"))
    assert _moves(shop, f"{q}-R") == [("adjustment_reversal", D(1), D("8.00")),
                                      ("adjustment_out", D(-2), D("-22.00"))]
    _books(shop)
    shop.docs.cancel(r, BOSS)
    assert _stock(shop) == (0, D("0.00"))
    _books(shop)
    shop.assert_all_undone(X)


def test_by_organisation_in_a_warehouse_that_never_had_the_lot(org_shop: Shop) -> None:
    """Costed by organisation (one scope for all warehouses): R1 receives 5 of L1 at 8.00 in
    W2 (Mar 5), R2 5 at 10.00 in W1 (Mar 15); an adjustment dated Mar 9 takes 2 out of W1 (the
    lot's 8.00, R1's units) and brings 2 back there at 11.00. R2 is cancelled out of turn: W1
    holds nothing again, the lot 5 / 46.00. Undone last first, the line in's reversal needed 2
    in W1 with none there: refused for good, and R1 with it. The 2 units taken out now come
    back into W1 first (16.00), then the 2 brought in leave at 22.00; R1 then cancels."""
    shop = org_shop
    r1 = shop.run("purchase_receipt", [_line(1, 5, "8.00", "W2")], "S1", date=_mar(5)).doc_id
    r2 = shop.run("purchase_receipt", [_line(1, 5, "10.00")], "S1", date=_mar(15)).doc_id
    assert _lot(shop) == (10, D("90.00"))
    q = _take_out_bring_back(shop, 2, 2, 9)
    assert _lot(shop) == (10, D("96.00"))
    assert shop.roles(q) == {"inventory": D("6.00"), "adjustment": D("-6.00")}
    _books(shop)

    shop.docs.cancel(r2, BOSS)  # out of turn: the adjustment is newer
    assert _lot(shop) == (5, D("46.00"))
    assert _stock(shop, "W1")[0] == 0
    _books(shop)

    shop.docs.cancel(q, BOSS)  # refused before ("needed 2, available 0")
    assert _lot(shop) == (5, D("40.00"))
    assert _stock(shop, "W1") == (0, D("0.00"))
    assert _moves(shop, f"{q}-R") == [("adjustment_reversal", D(2), D("16.00")),
                                      ("adjustment_out", D(-2), D("-22.00"))]
    assert shop.roles(q) == {"inventory": D("0.00"), "adjustment": D("0.00")}
    _books(shop)

    shop.docs.cancel(r1, BOSS)
    assert _lot(shop) == (0, D("0.00"))
    _books(shop)
    shop.assert_all_undone(X)

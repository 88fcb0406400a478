"""``Jxc.stock_balances``: the stock valuation (库存余额表) in one call, one consistent read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, Warehouse

from .support import HandClock

D = Decimal
T = dt.datetime(2026, 3, 2, 9)


def _store(kind: str, tmp_path: Path) -> Storage:
    return MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp_path / "s.db"))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_every_item_and_warehouse_as_balance_gives_it(kind: str, tmp_path: Path) -> None:
    j = Jxc(_store(kind, tmp_path))
    for code, method in (("B", "moving_average"), ("A", "fifo")):
        j.define_item(Item(code, code, costing_method=method))
    for wh in ("W2", "W1"):
        j.define_warehouse(Warehouse(wh, wh))
    j.receive("B", "W2", D(4), D("2.50"), posted_at=T)
    j.receive("A", "W1", D(10), D("1.10"), posted_at=T)
    j.receive("A", "W2", D(3), D("7.00"), posted_at=T)
    j.issue("A", "W1", D(4), posted_at=T)
    j.reserve([ReserveLine("SO-1/1", "A", "W1", D(2))])
    rows = j.stock_balances()
    assert [(b.item, b.warehouse) for b in rows] == [("A", "W1"), ("A", "W2"), ("B", "W2")]
    assert rows == [j.balance(b.item, b.warehouse) for b in rows]
    assert [b.value for b in rows] == [D("6.60"), D("21.00"), D("10.00")]
    assert rows[0].reserved == 2
    j.storage.close()


def test_organisation_scope_gives_one_row_per_item(tmp_path: Path) -> None:
    j = Jxc(MemoryStorage(), organisation_scope=True)
    j.define_item(Item("A", "a"))
    for wh in ("W1", "W2"):
        j.define_warehouse(Warehouse(wh, wh))
    j.receive("A", "W1", D(10), D("1.00"), posted_at=T)
    j.transfer("A", "W1", "W2", D(4), posted_at=T)
    [row] = j.stock_balances()
    assert (row.item, row.warehouse, row.on_hand, row.value) == ("A", "*", D(10), D("10.00"))


def test_an_empty_store_has_no_rows() -> None:
    assert Jxc(MemoryStorage()).stock_balances() == []


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_ledger_keeps_quantities_at_the_base_units_precision(
        kind: str, tmp_path: Path) -> None:
    """5.000 pieces received and 1E+0 issued are 5 and -1 in the ledger, 4 on hand."""
    j = Jxc(_store(kind, tmp_path))
    j.define_item(Item("P", "piece"))
    j.define_warehouse(Warehouse("W", "w"))
    j.receive("P", "W", D("5.000"), D("1.00"), posted_at=T)
    j.issue("P", "W", D("1E+0"), posted_at=T)
    assert [str(x.entry.quantity) for x in j.ledger("P", "W")] == ["5", "-1"]
    assert str(j.balance("P", "W").on_hand) == "4"
    j.storage.close()


def test_a_lot_is_valued_as_its_share_of_the_scope(storage: Storage) -> None:
    """FIFO keeps no value per lot: picked FEFO, lot B (dearer, expiring first) goes out at
    lot A's layer (58.00 left for 16); each lot is its share. Once A is all the stock it is
    worth all of the scope (40.00), and B at 0 is worth 0.00 (summing the lot's ledger gave A 30.00
    and B 10.00 at quantity 0)."""
    j = Jxc(storage, clock=HandClock(dt.datetime(2026, 3, 2, 9)))
    j.define_item(Item("M", "milk", lot_tracked=True))
    j.define_warehouse(Warehouse("W", "main"))
    j.receive("M", "W", D(10), D("3.00"), lot="A", expiry=dt.date(2027, 6, 1))
    j.receive("M", "W", D(10), D("4.00"), lot="B", expiry=dt.date(2027, 1, 1))
    assert [j.balance("M", "W", lot=x).value for x in "AB"] == [D("35.00"), D("35.00")]
    j.issue("M", "W", D(4))  # FEFO: 4 of B, costed at A's layer (12.00)
    assert [j.balance("M", "W", lot=x).value for x in "AB"] == [D("36.25"), D("21.75")]
    j.issue("M", "W", D(6), lot="B")
    a, b = j.balance("M", "W", lot="A"), j.balance("M", "W", lot="B")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    assert (a.on_hand, a.value) == (D(10), j.balance("M", "W").value)

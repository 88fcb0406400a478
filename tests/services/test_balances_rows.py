"""``Jxc.balances()`` (every detail row) adds up to ``Jxc.balance()`` of each item and
warehouse: on hand, reserved and available — also for a reservation that names no lot of a
lot-tracked item (its rows are per lot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, Warehouse

D = Decimal


class Clock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 2, 9)


@pytest.fixture(params=["memory", "sqlite"])
def jxc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Jxc]:
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "b.db")))
    j = Jxc(storage, clock=Clock())
    j.define_item(Item("M", "milk", lot_tracked=True))
    j.define_item(Item("P", "plain"))
    j.define_warehouse(Warehouse("SH", "sh", locations=("A", "B")))
    yield j
    storage.close()


def _sums(j: Jxc, item: str, wh: str) -> tuple[Decimal, Decimal, Decimal]:
    rows = [b for b in j.balances() if (b.item, b.warehouse) == (item, wh)]
    return (sum((b.on_hand for b in rows), D(0)), sum((b.reserved for b in rows), D(0)),
            sum((b.available for b in rows), D(0)))


def test_a_reservation_without_lot_of_a_lot_tracked_item_is_in_the_rows(jxc: Jxc) -> None:
    jxc.receive("M", "SH", D(10), D(1), lot="LA", expiry=dt.date(2026, 4, 1))
    jxc.receive("M", "SH", D(10), D(1), lot="LB", expiry=dt.date(2026, 5, 1))
    jxc.reserve([ReserveLine("S", "M", "SH", D(4))])
    b = jxc.balance("M", "SH")
    assert (b.on_hand, b.reserved, b.available) == (D(20), D(4), D(16))
    assert _sums(jxc, "M", "SH") == (D(20), D(4), D(16))
    extra = [r for r in jxc.balances() if r.item == "M" and r.lot == ""]
    assert [(r.on_hand, r.reserved) for r in extra] == [(D(0), D(4))]


def test_rows_with_locations_and_lot_reservations_add_up(jxc: Jxc) -> None:
    jxc.receive("P", "SH", D(6), D(1), location="A")
    jxc.receive("P", "SH", D(4), D(1), location="B")
    jxc.receive("M", "SH", D(5), D(1), lot="LA", expiry=dt.date(2026, 4, 1))
    jxc.reserve([ReserveLine("S1", "P", "SH", D(3)), ReserveLine("S2", "M", "SH", D(2),
                                                                  lot="LA")])
    for item in ("P", "M"):
        b = jxc.balance(item, "SH")
        assert _sums(jxc, item, "SH") == (b.on_hand, b.reserved, b.available)

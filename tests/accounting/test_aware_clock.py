"""Month end with a timezone-aware clock: moments are kept in UTC, months are the clock's local
months (see test_local_months.py), and closing, posting after the close, balances as of a
date, the 进销存汇总表 and reopening work as with a naive clock (they compared naive month ends
with aware moments: ``TypeError``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
BOSS = User("boss", frozenset({"all"}))


class AwareClock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 20, 9, tzinfo=SHANGHAI)

    def now(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=1)
        return self.at


@pytest.fixture(params=["memory", "sqlite"])
def shop(request: pytest.FixtureRequest, tmp_path: Path
         ) -> Iterator[tuple[Jxc, Documents, Accounting, AwareClock]]:
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "a.db")))
    clock = AwareClock()
    j = Jxc(storage, clock=clock)
    for item in (Item("A", "fifo"), Item("M", "monthly", costing_method="monthly_average")):
        j.define_item(item)
    j.define_warehouse(Warehouse("W", "w"))
    j.define_party(Party("S", "s", "both"))
    yield j, Documents(j), Accounting(j), clock
    storage.close()


def _run(docs: Documents, doc_type: str, lines: list[Line]) -> str:
    doc = docs.create(doc_type, lines, party="S")
    return docs.approve_through(doc.doc_id, [BOSS]).doc_id


def test_close_post_after_and_reopen_with_an_aware_clock(
        shop: tuple[Jxc, Documents, Accounting, AwareClock]) -> None:
    j, docs, books, clock = shop
    for item in ("A", "M"):
        _run(docs, "purchase_receipt", [Line(1, item, D(10), D("10.00"), warehouse="W")])
        _run(docs, "delivery", [Line(1, item, D(4), D("20.00"), warehouse="W")])
    closed = books.close_period(2026, 11)
    assert closed.monthly_issues == 1
    assert j.balance("M", "W").value == D("60.00")
    clock.at = dt.datetime(2026, 12, 3, 9, tzinfo=SHANGHAI)
    with pytest.raises(JxcError) as e:  # into the closed month
        j.receive("A", "W", D(1), D("10.00"),
                  posted_at=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    assert e.value.code == "period_closed"
    _run(docs, "delivery", [Line(1, "A", D(1), D("20.00"), warehouse="W")])
    assert j.balance("A", "W", as_of=dt.datetime(2026, 12, 1, 7, tzinfo=SHANGHAI)).on_hand == 6
    assert j.balance("A", "W").on_hand == 5
    (row,) = [r for r in books.inventory_summary(2026, 12) if r.item == "A"]
    assert (row.opening_qty, row.out_qty, row.closing_qty) == (D(6), D(1), D(5))
    books.reopen_period(2026, 11, user="boss", reason="late invoice")
    j.receive("A", "W", D(1), D("10.00"), posted_at=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    assert j.balance("A", "W").on_hand == 6
    books.close_period(2026, 11)
    assert j.balance("M", "W").value == D("60.00")

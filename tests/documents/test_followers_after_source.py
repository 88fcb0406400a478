"""A return, an invoice or a landed cost dated on its source's day and entered the next
morning posts after its source in the ledger, never before it (the document's date with
that morning's time of day came first)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc

from .support import BOSS, Shop, setup_master

D = Decimal
DAY = dt.date(2026, 3, 1)


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 3, 1, 8)

    def now(self) -> dt.datetime:
        return self.at


@pytest.fixture(params=["memory", "sqlite"])
def timed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Shop, Clock]]:
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "f.db")))
    clock = Clock()
    j = Jxc(storage, clock=clock)
    setup_master(j)
    yield Shop(j, Documents(j)), clock
    storage.close()


def test_a_purchase_return_entered_next_morning_takes_its_own_receipt(
        timed: tuple[Shop, Clock]) -> None:
    shop, clock = timed
    shop.receipt([Line(1, "A", D(10), D("20.00"), warehouse="W1")])  # 08:00
    clock.at = dt.datetime(2026, 3, 1, 16)
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])  # 16:00
    clock.at = dt.datetime(2026, 3, 2, 9)  # entered the next morning, dated the day before
    th = shop.run("purchase_return", [Line(1, "A", D(10), D("10.00"), warehouse="W1",
                                           source=(rk.doc_id, 1))], "S1", date=DAY)
    # its own layer at 10.00 left, the 20.00 receipt stays (it took that one: a false
    # 100.00 price difference, and stock at 100.00)
    assert shop.value("A") == D("200.00")
    assert shop.roles(th.doc_id).get("price_difference", D(0)) == 0
    out = [x.entry for x in shop.jxc.ledger("A", "W1") if x.entry.doc_id == th.doc_id]
    assert out[0].posted_at == dt.datetime(2026, 3, 1, 16, 0, 0, 1)  # just after its receipt
    shop.check_books()


def test_a_sales_return_never_comes_back_before_its_delivery(timed: tuple[Shop, Clock]) -> None:
    shop, clock = timed
    shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])  # 08:00
    clock.at = dt.datetime(2026, 3, 1, 16)
    ck = shop.run("delivery", [Line(1, "A", D(4), D("30.00"), warehouse="W1")], "C1")
    clock.at = dt.datetime(2026, 3, 2, 9)
    shop.run("sales_return", [Line(1, "A", D(4), D("30.00"), warehouse="W1",
                                   source=(ck.doc_id, 1))], "C1", date=DAY)
    running = [x.running_quantity for x in shop.jxc.ledger("A", "W1")]
    assert max(running) == D(10)  # it reached 14: back before they had left
    shop.check_books()


def test_an_invoice_with_a_price_difference_dated_its_receipts_day_posts(
        timed: tuple[Shop, Clock]) -> None:
    shop, clock = timed
    clock.at = dt.datetime(2026, 3, 1, 16)
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    clock.at = dt.datetime(2026, 3, 2, 9)
    pf = shop.make("purchase_invoice", [Line(1, "A", D(10), D("10.50"),
                                             source=(rk.doc_id, 1))], "S1", date=DAY)
    # refused before: "a receipt cost cannot be dated before its receipt", left approved
    assert shop.docs.approve_through(pf.doc_id, [BOSS]).state == State.POSTED
    assert shop.value("A") == D("105.00")
    shop.check_books()


def test_a_return_dated_before_its_source_day_is_refused(timed: tuple[Shop, Clock]) -> None:
    shop, clock = timed
    clock.at = dt.datetime(2026, 3, 2, 10)
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    th = shop.approved("purchase_return", [Line(1, "A", D(2), D("10.00"), warehouse="W1",
                                                source=(rk.doc_id, 1))], "S1", date=DAY)
    before = shop.snapshot()
    with pytest.raises(JxcError) as e:
        shop.docs.post(th, BOSS)
    assert e.value.code == "invalid_document"
    assert "早于来源单据" in e.value.message_zh
    assert shop.snapshot() == before

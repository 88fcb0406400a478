"""A back-dated issue takes from a row (lot, location) only what that row had then.

The costing replay sees the stock of the warehouse (or the organisation), not its rows: an
issue of lot LB dated before LB was received passed, costed from lot LA's layer, and LB's
running quantity went to -2. The row's history is checked at the posting's moment and through
every later movement (negative stock forbidden), passing over cancelled pairs as replays do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse


class _Clock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 2, 12, 0)


def at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, 0)


@pytest.fixture(params=["memory", "sqlite"])
def jxc(request: pytest.FixtureRequest, tmp_path: Path) -> Jxc:
    storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "rows.db"))
    j = Jxc(storage, clock=_Clock(), organisation_scope=False)
    j.define_warehouse(Warehouse("W", "main", locations=["A-01", "B-02"]))
    j.define_item(Item("MILK", "milk", lot_tracked=True))
    j.define_item(Item("CUP", "cup"))
    j.define_item(Item("OK", "ok", lot_tracked=True, allow_negative=True))
    return j


def _running(j: Jxc, item: str, key: str) -> list[D]:
    run: dict[str, D] = {}
    out = []
    for line in j.ledger(item, "W"):
        k = getattr(line.entry, key)
        run[k] = run.get(k, D(0)) + line.entry.quantity
        out.append(run[k])
    return out


def test_an_issue_of_a_lot_dated_before_the_lot_was_received_is_refused(jxc: Jxc) -> None:
    jxc.receive("MILK", "W", D(5), D("3.00"), lot="LA", doc_id="R1", posted_at=at(1))
    jxc.receive("MILK", "W", D(5), D("4.00"), lot="LB", doc_id="R2", posted_at=at(9))
    with pytest.raises(JxcError) as err:
        jxc.issue("MILK", "W", D(2), lot="LB", doc_id="I1", posted_at=at(4))
    assert err.value.code == "insufficient_stock"
    assert (err.value.data["lot"], err.value.data["needed"], err.value.data["short"]) == (
        "LB", D(2), D(2))
    assert "LB" in err.value.message("en") and "LB" in err.value.message("zh")
    assert [e.entry.doc_id for e in jxc.ledger("MILK", "W")] == ["R1", "R2"]
    # dated after LB came in it goes through; lot LA at 04:00 too
    jxc.issue("MILK", "W", D(2), lot="LB", doc_id="I2", posted_at=at(10))
    jxc.issue("MILK", "W", D(2), lot="LA", doc_id="I3", posted_at=at(4))
    assert min(_running(jxc, "MILK", "lot")) >= 0


def test_an_issue_from_a_location_dated_before_it_was_filled_is_refused(jxc: Jxc) -> None:
    jxc.receive("CUP", "W", D(5), D(3), location="A-01", doc_id="R3", posted_at=at(1))
    jxc.receive("CUP", "W", D(5), D(4), location="B-02", doc_id="R4", posted_at=at(9))
    with pytest.raises(JxcError) as err:
        jxc.issue("CUP", "W", D(2), location="B-02", doc_id="I9", posted_at=at(4))
    assert (err.value.code, err.value.data["location"]) == ("insufficient_stock", "B-02")
    jxc.issue("CUP", "W", D(2), location="A-01", doc_id="I8", posted_at=at(4))
    assert min(_running(jxc, "CUP", "location")) >= 0


def test_a_later_issue_of_the_row_counts_too(jxc: Jxc) -> None:
    """LB had 5 at 04:00, but 4 of them left at 10:00 before 5 more came at 11:00: an issue
    of 2 at 04:00 would take the row to -1 at 10:00, though it has 6 now and the warehouse
    (with lot LA) never went below zero."""
    jxc.receive("MILK", "W", D(5), D("3.00"), lot="LB", doc_id="R1", posted_at=at(1))
    jxc.receive("MILK", "W", D(5), D("3.00"), lot="LA", doc_id="R2", posted_at=at(2))
    jxc.issue("MILK", "W", D(4), lot="LB", doc_id="I1", posted_at=at(10))
    jxc.receive("MILK", "W", D(5), D("3.00"), lot="LB", doc_id="R3", posted_at=at(11))
    with pytest.raises(JxcError) as err:
        jxc.issue("MILK", "W", D(2), lot="LB", doc_id="I2", posted_at=at(4))
    assert (err.value.data["needed"], err.value.data["on_hand"]) == (D(2), D(1))
    jxc.issue("MILK", "W", D(1), lot="LB", doc_id="I3", posted_at=at(4))
    assert min(_running(jxc, "MILK", "lot")) >= 0


def test_negative_stock_allowed_takes_the_row_below_zero(jxc: Jxc) -> None:
    jxc.receive("OK", "W", D(5), D("3.00"), lot="LA", doc_id="R1", posted_at=at(1))
    jxc.receive("OK", "W", D(5), D("4.00"), lot="LB", doc_id="R2", posted_at=at(9))
    jxc.issue("OK", "W", D(2), lot="LB", doc_id="I1", posted_at=at(4))
    assert min(_running(jxc, "OK", "lot")) == D(-2)

"""A short reservation line names its demand line (``ShortLine.demand``): in the result, in
the ``reservation_short`` event, in ``ReservationShortError`` and in an idempotent replay. On
both adapters (the ``storage`` fixture)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.errors import InsufficientStockError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, ReservationShortError, ShortLine, Warehouse
from jxc_core.testing.contract import RecordingNotifier

from .support import HandClock

D = Decimal


def shop(storage: Storage) -> tuple[Jxc, RecordingNotifier]:
    notes = RecordingNotifier()
    j = Jxc(storage, clock=HandClock(dt.datetime(2026, 3, 2, 9)), notifier=notes)
    j.define_item(Item("T", "tea"))
    j.define_warehouse(Warehouse("SH", "Shanghai"))
    j.receive("T", "SH", D(5), D("1.00"))
    return j, notes


LINES = [ReserveLine("SO-1/1", "T", "SH", D(3)), ReserveLine("SO-1/2", "T", "SH", D(4))]


def test_a_partial_reservation_names_the_short_demand(storage: Storage) -> None:
    """5 on hand: 3 for SO-1/1, 2 of 4 for SO-1/2, which is short by 2 and says so."""
    j, notes = shop(storage)
    got = j.reserve(LINES, idempotency_key="k")
    assert got.granted == (D(3), D(2))
    assert got.short == (ShortLine("T", "SH", D(4), D(2), demand="SO-1/2"),)
    [event] = [e for e in notes.delivered if e.type == "reservation_short"]
    assert event.payload["lines"] == [{"item": "T", "warehouse": "SH", "lot": "",
                                       "wanted": "4", "available": "2", "short": "2",
                                       "demand": "SO-1/2"}]
    assert j.reserve(LINES, idempotency_key="k") == got  # the replay names it too


def test_all_or_nothing_lists_the_demands_of_the_short_lines(storage: Storage) -> None:
    j, _ = shop(storage)
    with pytest.raises(ReservationShortError) as err:
        j.reserve(LINES, partial=False)
    assert [line["demand"] for line in err.value.data["lines"]] == ["SO-1/2"]
    assert j.reservations() == []


def test_a_stock_check_short_line_names_no_demand() -> None:
    """Short lines of a stock check (no demand) keep their old data."""
    data = ShortLine("T", "SH", D(4), D(2)).to_data()
    assert "demand" not in data and data["short"] == "2"


def test_an_issue_beyond_free_stock_names_what_was_available(storage: Storage) -> None:
    """5 on hand, 3 reserved: an issue of 4 is refused with ``available`` 2 in the data (and
    ``on_hand``, its first name, alike) and in both messages."""
    j, _ = shop(storage)
    j.reserve([ReserveLine("SO-1/1", "T", "SH", D(3))])
    with pytest.raises(InsufficientStockError) as err:
        j.issue("T", "SH", D(4))
    data = err.value.data
    assert (data["needed"], data["available"], data["on_hand"], data["short"]) == (
        D(4), D(2), D(2), D(2))
    assert "available 2, short 2" in err.value.message_en
    assert "可用 2，缺 2" in err.value.message_zh
    assert j.balance("T", "SH").on_hand == D(5)

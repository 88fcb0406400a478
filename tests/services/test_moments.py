"""Posting moments, on both adapters.

A ``posted_at`` is a ``datetime.datetime``, naive when the service clock's ``now()`` is naive
and aware when it is aware; an aware one is kept in UTC, so that both adapters order the
ledger by time (SQLite compares ISO text, the memory adapter datetimes). Documents post at
their date with the same rule. The refusals of a wrong type or timezone are in
test_bad_input.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents
from tests.services.support import HandClock, fifo_shop

D = Decimal
UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8))  # China Standard Time
NOW = dt.datetime(2026, 3, 1, 10, 0)
BOSS = User("boss", frozenset({"all"}))




# -- aware moments ----------------------------------------------------------------------------
def test_aware_moments_are_kept_in_utc(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 2, 20, 0, tzinfo=CST))
    j = fifo_shop(storage, clock)
    (default,) = j.receive("F", "W", D(1), D(1)).entries  # at the clock's now
    assert default.posted_at == clock.at and default.posted_at.utcoffset() == dt.timedelta(0)
    given = dt.datetime(2026, 3, 2, 19, 0, tzinfo=CST)
    (entry,) = j.receive("F", "W", D(1), D(2), posted_at=given).entries
    assert entry.posted_at == given
    assert entry.posted_at.utcoffset() == dt.timedelta(0)
    ledger = [line.entry.posted_at for line in j.ledger("F")]
    assert ledger == [given, clock.at]
    assert all(at.utcoffset() == dt.timedelta(0) for at in ledger)
    with pytest.raises(JxcError) as info:  # a naive time beside an aware clock
        j.receive("F", "W", D(1), D(1), posted_at=dt.datetime(2026, 3, 2, 19, 0))
    assert info.value.code == "timezone_mismatch"
    assert j.balance("F", "W").on_hand == D(2)


def test_offsets_do_not_change_the_order_of_the_ledger(storage: Storage) -> None:
    """Receipts at 02:00Z (written 10:00+08:00) and 03:00Z, an issue at 04:00Z, then a receipt
    back-dated to 02:30Z: by time the issue took the 02:00Z layer (10.00) and still does. Kept
    with their offsets, SQLite sorted "03:00+00:00" before "10:00+08:00", replayed the
    back-dated receipt before the first one and gave the issue the new layer (30.00)."""
    j = fifo_shop(storage, HandClock(dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)))
    j.receive("F", "W", D(1), D(10), doc_id="RK-A",
              posted_at=dt.datetime(2026, 3, 1, 10, 0, tzinfo=CST))
    j.receive("F", "W", D(1), D(20), doc_id="RK-B",
              posted_at=dt.datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    out = j.issue("F", "W", D(1), doc_id="CK-1",
                  posted_at=dt.datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    assert out.value == D("-10.00")
    late = j.receive("F", "W", D(1), D(30), doc_id="RK-C",
                     posted_at=dt.datetime(2026, 3, 1, 2, 30, tzinfo=UTC))
    assert [e.kind for e in late.entries] == ["receipt"]  # no cost change of the issue
    assert late.adjustments == ()
    assert j.balance("F", "W").value == D("50.00")
    assert [line.entry.doc_id for line in j.ledger("F")] == ["RK-A", "RK-C", "RK-B", "CK-1"]


def test_one_moment_in_two_offsets_is_one_command(storage: Storage) -> None:
    j = fifo_shop(storage, HandClock(dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)))
    first = j.receive("F", "W", D(1), D(1), idempotency_key="RK-K",
                      posted_at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    again = j.receive("F", "W", D(1), D(1), idempotency_key="RK-K",
                      posted_at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    assert again == first
    assert j.balance("F", "W").on_hand == D(1)


# -- documents ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["2026-03-01", dt.datetime(2026, 3, 1, 9, 0)],
                         ids=["str", "datetime"])
def test_document_date_is_a_date(storage: Storage, bad: object) -> None:
    """A str broke the numbering; a datetime was stored as text that does not read back as a
    date."""
    j = fifo_shop(storage, HandClock(NOW))
    docs = Documents(j)
    with pytest.raises(JxcError) as info:
        docs.create("adjustment", [Line(1, "F", D(1), D(1), warehouse="W")],
                    date=bad)  # type: ignore[arg-type]
    assert info.value.code == "invalid_date"
    assert info.value.data["field"] == "date"
    assert docs.ids() == []


def test_document_dated_another_day_under_an_aware_clock(storage: Storage) -> None:
    """It posts at its date and the clock's time of day, aware like the clock and in UTC (the
    time of day lost its timezone, and the naive moment broke the next comparison)."""
    clock = HandClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST))
    j = fifo_shop(storage, clock)
    docs = Documents(j)
    today = docs.create("adjustment", [Line(1, "F", D(5), D(1), warehouse="W")])
    docs.approve_through(today.doc_id, [BOSS])
    back = docs.create("adjustment", [Line(1, "F", D(2), D(3), warehouse="W")],
                       date=dt.date(2026, 3, 1))
    docs.approve_through(back.doc_id, [BOSS])
    moments = [(line.entry.doc_id, line.entry.posted_at) for line in j.ledger("F")]
    assert moments == [(back.doc_id, dt.datetime(2026, 3, 1, 1, 0, tzinfo=UTC)),
                       (today.doc_id, dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC))]
    assert all(at.utcoffset() == dt.timedelta(0) for _, at in moments)
    assert j.balance("F", "W").value == D("11.00")


def test_a_clock_of_the_other_kind_on_a_store_is_refused(storage: Storage) -> None:
    """A store posted with naive moments, then a service with an aware clock (or the other
    way round): the moments cannot be ordered (memory raised TypeError, SQLite compared
    the texts), so the posting is refused and writes nothing."""
    naive = fifo_shop(storage, HandClock(dt.datetime(2026, 1, 5, 9)))
    naive.receive("F", "W", Decimal(5), Decimal(1))
    aware = fifo_shop(storage, HandClock(dt.datetime(2026, 1, 6, 9, tzinfo=dt.UTC)))
    for post in (lambda: aware.issue("F", "W", Decimal(1)),
                 lambda: aware.receive("F", "W", Decimal(1), Decimal(1),
                                       posted_at=dt.datetime(2026, 1, 4, tzinfo=dt.UTC))):
        with pytest.raises(JxcError) as e:
            post()
        assert e.value.code == "store_timezone_mismatch"
        assert "不能混用" in e.value.message_zh
    assert [x.entry.doc_type for x in naive.ledger("F", "W")] == ["receipt"]
    assert naive.balance("F", "W").on_hand == Decimal(5)
    naive.issue("F", "W", Decimal(1))  # the store's own kind still posts

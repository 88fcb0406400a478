"""``Jxc.purge_events``: the outbox's retention tool, through the service (the storage rule
itself is in the contract suite, run against every adapter)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Event
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse

D = Decimal
CST = dt.timezone(dt.timedelta(hours=8))


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class Inbox:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def notify(self, event: Event) -> None:
        self.events.append(event)


def _shop(at: dt.datetime) -> tuple[Jxc, Clock, Inbox]:
    clock, inbox = Clock(at), Inbox()
    jxc = Jxc(MemoryStorage(), notifier=inbox, clock=clock)
    jxc.define_item(Item("A", "apple"))
    jxc.define_warehouse(Warehouse("W", "main"))
    return jxc, clock, inbox


def _left(jxc: Jxc) -> int:
    """How many delivered events the outbox still holds (purged in a unit of work never
    committed)."""
    with jxc.storage.unit_of_work() as u:
        return u.outbox.purge(dt.datetime.max.replace(tzinfo=dt.UTC)) + u.outbox.purge(
            dt.datetime.max)


def test_an_aware_clock_compares_instants_whatever_the_offsets() -> None:
    """Events recorded at 10:00 and 12:00 of a +08:00 clock (02:00 and 04:00 UTC): a purge
    before 03:00 UTC takes the first only (their ISO texts both sort after "03:00")."""
    jxc, clock, inbox = _shop(dt.datetime(2026, 3, 10, 10, 0, tzinfo=CST))
    jxc.receive("A", "W", D(1), D(2), doc_id="RK-1")
    clock.at = clock.at.replace(hour=12)
    jxc.receive("A", "W", D(1), D(2), doc_id="RK-2")
    assert [e.payload["doc_id"] for e in inbox.events] == ["RK-1", "RK-2"]
    assert _left(jxc) == 2
    assert jxc.purge_events(occurred_before=dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)) == 1
    assert _left(jxc) == 1
    assert jxc.purge_events(occurred_before=clock.at.replace(minute=1)) == 1
    assert _left(jxc) == 0


def test_nothing_delivered_nothing_purged() -> None:
    """Without a notifier nothing is delivered: every event stays pending, none is purged."""
    clock = Clock(dt.datetime(2026, 3, 10, 10, 0))
    jxc = Jxc(MemoryStorage(), clock=clock)
    jxc.define_item(Item("A", "apple"))
    jxc.define_warehouse(Warehouse("W", "main"))
    jxc.receive("A", "W", D(1), D(2), doc_id="RK-1")
    clock.at += dt.timedelta(days=400)
    assert jxc.purge_events(occurred_before=clock.at) == 0
    with jxc.storage.unit_of_work() as u:
        assert [e.payload["doc_id"] for e in u.outbox.pending()] == ["RK-1"]


@pytest.mark.parametrize(("clock", "moment"), [
    (dt.datetime(2026, 3, 10, 10, 0), dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 10, 10, 0, tzinfo=CST), dt.datetime(2026, 3, 10, 9, 0)),
], ids=["naive-clock", "aware-clock"])
def test_a_moment_of_the_other_kind_than_the_clock_is_refused(
        clock: dt.datetime, moment: dt.datetime) -> None:
    jxc, _, _ = _shop(clock)
    jxc.receive("A", "W", D(1), D(2), doc_id="RK-1")
    with pytest.raises(JxcError) as info:
        jxc.purge_events(occurred_before=moment)
    assert info.value.code == "timezone_mismatch"
    assert info.value.data["field"] == "occurred_before"
    assert info.value.message("en") and info.value.message("zh_CN")
    assert _left(jxc) == 1


@pytest.mark.parametrize("moment", ["2026-03-10", dt.date(2026, 3, 10), None, 5])
def test_a_moment_that_is_not_a_datetime_is_invalid_date(moment: object) -> None:
    jxc, _, _ = _shop(dt.datetime(2026, 3, 10, 10, 0))
    with pytest.raises(JxcError) as info:
        jxc.purge_events(occurred_before=moment)  # type: ignore[arg-type]
    assert (info.value.code, info.value.data["field"]) == ("invalid_date", "occurred_before")


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_below_one_is_configuration(limit: int) -> None:
    jxc, clock, _ = _shop(dt.datetime(2026, 3, 10, 10, 0))
    jxc.receive("A", "W", D(1), D(2), doc_id="RK-1")
    with pytest.raises(JxcError) as info:
        jxc.purge_events(occurred_before=clock.at + dt.timedelta(1), limit=limit)
    assert (info.value.code, info.value.data["field"]) == ("configuration", "limit")
    assert info.value.message("en") and info.value.message("zh_CN")
    assert _left(jxc) == 1


def test_a_purge_keeps_the_rows_of_the_last_command_warm() -> None:
    """A purge changes the outbox only: the next command goes on from what the last one
    read, and the stock it shows is the same as that of a service that never purged."""
    jxc, clock, _ = _shop(dt.datetime(2026, 3, 10, 10, 0))
    jxc.receive("A", "W", D(5), D(2), doc_id="RK-1")
    assert jxc.purge_events(occurred_before=clock.at + dt.timedelta(1)) == 1
    warm = jxc._warm
    assert warm is not None
    with jxc.storage.unit_of_work() as u:  # still the state the next command starts from
        assert u.stamp() == warm.stamp
    jxc.issue("A", "W", D(2), doc_id="CK-1")
    assert jxc.balance("A", "W").on_hand == D(3)

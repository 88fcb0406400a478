"""Event delivery with a notifier that calls back into the service, on both adapters.

``deliver_events`` reads the pending events in one unit of work, hands them to the notifier
outside any unit of work, and marks the delivered ones in another: a notifier may read from
the service (SQLite refused it: "cannot start a transaction within a transaction", so the
event was never delivered) or run a command. At least once, in order, stopping at the first
failure; the rows the last command left for the next one (``Jxc._warm``) stay valid after the
marking only if nobody else committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from jxc_core.ports import Event, Storage
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse

D = Decimal
NOW = dt.datetime(2026, 3, 1, 10, 0)


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


class Down(RuntimeError):
    pass


class CallingBack:
    """Runs ``react(event)`` for each event before accepting it; records what it accepted."""

    def __init__(self) -> None:
        self.react: Callable[[Event], object] = lambda e: None
        self.delivered: list[Event] = []
        self.seen: list[object] = []

    def notify(self, event: Event) -> None:
        self.seen.append(self.react(event))
        self.delivered.append(event)


def service(storage: Storage, notifier: CallingBack | None = None) -> Jxc:
    j = Jxc(storage, clock=FixedClock(), notifier=notifier)
    j.define_item(Item("A", "apple"))
    j.define_warehouse(Warehouse("W", "main"))
    return j


def pending(storage: Storage) -> list[Event]:
    with storage.unit_of_work() as u:
        return u.outbox.pending()


def warm_is_current(j: Jxc) -> bool:
    """The rows kept for the next command match the store (its stamp is the store's)."""
    warm = j._warm
    if warm is None:
        return False
    with j.storage.unit_of_work() as u:
        return bool(warm.stamp == u.stamp())


def test_notifier_reads_the_service(storage: Storage) -> None:
    notifier = CallingBack()
    j = service(storage, notifier)
    notifier.react = lambda e: j.balance("A", "W").on_hand
    j.receive("A", "W", D(4), D(1), doc_id="RK-1")
    j.receive("A", "W", D(2), D(1), doc_id="RK-2")
    assert [e.payload["doc_id"] for e in notifier.delivered] == ["RK-1", "RK-2"]
    assert notifier.seen == [D(4), D(6)]  # the committed state of each event's command
    assert j.delivery_failures == 0
    assert pending(storage) == []
    assert warm_is_current(j)  # marking the events delivered kept the last command's rows


def test_notifier_runs_a_command(storage: Storage) -> None:
    """The command's own events wait for the next delivery; none is handed out twice."""
    notifier = CallingBack()
    j = service(storage, notifier)

    def react(e: Event) -> object:
        if e.payload.get("doc_id") == "RK-1":
            return j.issue("A", "W", D(1), doc_id="CK-1").value
        return None

    notifier.react = react
    j.receive("A", "W", D(4), D(1), doc_id="RK-1")
    assert [e.payload["doc_id"] for e in notifier.delivered] == ["RK-1"]
    assert notifier.seen == [D("-1.00")]
    assert [e.payload["doc_id"] for e in pending(storage)] == ["CK-1"]
    assert j.deliver_events() == 1
    assert [e.payload["doc_id"] for e in notifier.delivered] == ["RK-1", "CK-1"]
    assert len({e.event_id for e in notifier.delivered}) == 2
    assert j.delivery_failures == 0
    assert j.balance("A", "W").on_hand == D(3)
    # the rows the issue left are still valid and used: the next command sees its stock
    assert warm_is_current(j)
    j.issue("A", "W", D(3), doc_id="CK-2")
    assert j.balance("A", "W").on_hand == D(0)


def test_another_writer_inside_the_notifier_invalidates_the_kept_rows(storage: Storage) -> None:
    """A second service on the same store commits while the events are handed out: the
    first one's kept rows are stale, and marking the events must not make them look current
    again (the next issue would not see the 5 received by the other)."""
    notifier = CallingBack()
    j = service(storage, notifier)
    other = Jxc(storage, clock=FixedClock())

    def react(e: Event) -> object:
        if e.payload.get("doc_id") == "RK-1":
            return other.receive("A", "W", D(5), D(1), doc_id="RK-OTHER").value
        return None

    notifier.react = react
    j.receive("A", "W", D(10), D(1), doc_id="RK-1")
    assert [e.payload["doc_id"] for e in notifier.delivered] == ["RK-1"]
    assert not warm_is_current(j)
    j.issue("A", "W", D(15), doc_id="CK-1")  # the other's 5 included
    b = j.balance("A", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))


def test_failure_after_a_callback_stops_in_order(storage: Storage) -> None:
    notifier = CallingBack()
    j = service(storage, notifier)
    j.notifier = None  # events pile up
    for n in range(4):
        j.receive("A", "W", D(1), D(1), doc_id=f"RK-{n}")
    j.notifier = notifier
    calls: list[str] = []

    def react(e: Event) -> object:
        calls.append(e.payload["doc_id"])
        if e.payload["doc_id"] == "RK-2" and calls.count("RK-2") == 1:
            raise Down
        return j.balance("A", "W").on_hand

    notifier.react = react
    with pytest.raises(Down):
        j.deliver_events()
    assert [e.payload["doc_id"] for e in notifier.delivered] == ["RK-0", "RK-1"]
    assert [e.payload["doc_id"] for e in pending(storage)] == ["RK-2", "RK-3"]
    assert j.deliver_events() == 2
    assert [e.payload["doc_id"] for e in notifier.delivered] == [f"RK-{n}" for n in range(4)]
    assert calls == ["RK-0", "RK-1", "RK-2", "RK-2", "RK-3"]
    assert pending(storage) == []

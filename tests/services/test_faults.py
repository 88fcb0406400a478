"""Fault injection: a storage failure at any write of a command (or at its commit) leaves every
table as it was, and the same command, retried under the same idempotency key, then succeeds.

Both adapters call ``storage.fault(table)`` before each write and ``fault("commit")`` before
committing; the tests first record that sequence, then fail at each position in turn.
"""

from __future__ import annotations

import copy
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.adapters.sqlite import TABLES
from jxc_core.ports import Event
from jxc_core.services import Jxc, Posting, ReservationResult, ReserveLine, StockLine
from jxc_core.stock import Item, Warehouse

D = Decimal
NOW = dt.datetime(2026, 2, 2, 10, 0)
EXPIRY = dt.date(2027, 6, 30)
ITEMS = ("A", "B", "C")
WAREHOUSES = ("W1", "W2")


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


class InjectedFault(Exception):
    """The simulated storage failure."""


class Fault:
    """Records every write it is told about and raises at the ``fail_at``-th (1-based) one,
    or at the first one named ``fail_on``."""

    def __init__(self, fail_at: int | None = None, fail_on: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail_at = fail_at
        self.fail_on = fail_on

    def __call__(self, table: str) -> None:
        self.calls.append(table)
        if len(self.calls) == self.fail_at or table == self.fail_on:
            raise InjectedFault(f"{table} (write {len(self.calls)})")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def notify(self, event: Event) -> None:
        self.events.append(event)


class Env:
    """A service over one adapter, with stock and reservations, and a snapshot of its tables."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.path = str(tmp_path / "faults.db")
        self.storage: MemoryStorage | SqliteStorage = (
            MemoryStorage() if kind == "memory" else SqliteStorage(self.path))
        self.notifier = Recorder()
        self.jxc = Jxc(self.storage, notifier=self.notifier, clock=FixedClock())
        j = self.jxc
        j.define_item(Item("A", "apple"))
        j.define_item(Item("B", "bolt", costing_method="moving_average"))
        j.define_item(Item("C", "cream", lot_tracked=True))
        for w in WAREHOUSES:
            j.define_warehouse(Warehouse(w, f"warehouse {w}"))
        for n, (i, w) in enumerate((i, w) for i in ITEMS for w in WAREHOUSES):
            j.receive(i, w, D(50), D("2.00") + n, lot="C-OLD" if i == "C" else "",
                      expiry=EXPIRY if i == "C" else None, idempotency_key=f"setup-{i}-{w}")
        j.reserve([ReserveLine("SO-1/1", "A", "W1", D(5)), ReserveLine("SO-1/2", "B", "W2", D(4))])

    def snapshot(self) -> dict[str, Any]:
        j = self.jxc
        snap: dict[str, Any] = {
            "balances": j.balances(),
            "stock": [j.balance(i, w) for i in ITEMS for w in WAREHOUSES],
            "reservations": j.reservations(),
            "ledger": [j.ledger(i) for i in ITEMS],
        }
        if isinstance(self.storage, SqliteStorage):
            con = sqlite3.connect(self.path)
            try:
                for t in TABLES:
                    rows = con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                    snap[t] = sorted(rows, key=repr)
            finally:
                con.close()
            return snap
        with self.storage.unit_of_work() as u:
            snap["ledger_count"] = u.ledger.count()
            snap["entries"] = [u.ledger.entries(i) for i in ITEMS]
            snap["balance_rows"] = sorted(u.balances.all(), key=repr)
            snap["valuations"] = [u.valuations.get((i, w)) for i in ITEMS for w in WAREHOUSES]
            snap["all_reservations"] = sorted(u.reservations.all(), key=repr)
            snap["pending"] = u.outbox.pending()
            snap["idempotency"] = [u.idempotency.get(f"key-{c}") for c in COMMANDS]
            snap["lots"] = [u.master.get_lot("C", c) for c in ("C-OLD", "C-NEW")]
            # a sequence is read by reserving a number in a unit of work never committed
            snap["sequences"] = [u.sequences.next(n) for n in ("ledger", "reservation")]
        return copy.deepcopy(snap)  # stored objects must not change behind our back


def receipt(j: Jxc) -> Posting:
    lines = []
    for n in range(20):
        item, wh = ITEMS[n % 3], WAREHOUSES[n % 2]
        lot = ("C-NEW" if n % 2 else "C-OLD") if item == "C" else ""
        lines.append(StockLine(item, wh, D(n + 1), unit_cost=D("1.25") + n, lot=lot,
                               expiry=EXPIRY if lot else None))
    return j.post("receipt", "DOC", lines, idempotency_key="key-receipt")


def delivery(j: Jxc) -> Posting:
    return j.post("delivery", "DLV", [
        StockLine("A", "W1", D(3), "out", demand="SO-1/1"),
        StockLine("B", "W2", D(4), "out", demand="SO-1/2"),
        StockLine("C", "W1", D(2), "out"),
        StockLine("A", "W2", D(1), "out"),
    ], idempotency_key="key-delivery")


def transfer(j: Jxc) -> Posting:
    return j.transfer("B", "W1", "W2", D(7), idempotency_key="key-transfer")


def reserve(j: Jxc) -> ReservationResult:
    return j.reserve([ReserveLine("SO-9/1", "A", "W1", D(2)),
                      ReserveLine("SO-9/2", "B", "W2", D(3)),
                      ReserveLine("SO-9/3", "C", "W2", D(100))],
                     partial=True, idempotency_key="key-reserve")


COMMANDS: dict[str, Callable[[Jxc], Any]] = {
    "receipt": receipt, "delivery": delivery, "transfer": transfer, "reserve": reserve,
}


@pytest.fixture(params=["memory", "sqlite"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    e = Env(request.param, tmp_path)
    yield e
    e.storage.close()


def run_with_fault(e: Env, command: Callable[[Jxc], Any], fault: Fault) -> None:
    e.storage.fault = fault
    try:
        with pytest.raises(InjectedFault):
            command(e.jxc)
    finally:
        e.storage.fault = None


@pytest.mark.parametrize("name", list(COMMANDS))
def test_fault_at_every_write_leaves_every_table_unchanged(env: Env, name: str) -> None:
    command = COMMANDS[name]
    before = env.snapshot()
    delivered = len(env.notifier.events)
    probe = Fault(fail_on="commit")
    run_with_fault(env, command, probe)
    writes = probe.calls
    assert writes[-1] == "commit"
    assert {"outbox", "idempotency"} <= set(writes)  # the faults land between real writes
    assert env.snapshot() == before
    for n in range(1, len(writes) + 1):
        fault = Fault(fail_at=n)
        run_with_fault(env, command, fault)
        assert fault.calls == writes[:n]
        assert env.snapshot() == before, f"a fault at write {n} ({writes[n - 1]}) left data"
    assert len(env.notifier.events) == delivered  # no event of a failed command

    result = command(env.jxc)  # fault cleared: the same command, the same key, succeeds
    after = env.snapshot()
    assert after != before
    new_events = env.notifier.events[delivered:]
    assert new_events and {e.type for e in new_events} <= {
        "stock_changed", "reservation_short", "stock_reserved", "reservation_released"}
    assert command(env.jxc) == result  # and it stays idempotent
    assert env.snapshot() == after
    assert len(env.notifier.events) == delivered + len(new_events)


def test_receipt_writes_every_line_after_faults(env: Env) -> None:
    run_with_fault(env, receipt, Fault(fail_at=3))
    before = {(i, w): env.jxc.balance(i, w).on_hand for i in ITEMS for w in WAREHOUSES}
    posting = receipt(env.jxc)
    assert len(posting.entries) == 20
    for i in ITEMS:
        for w in WAREHOUSES:
            added = sum(e.quantity for e in posting.entries if (e.item, e.warehouse) == (i, w))
            assert env.jxc.balance(i, w).on_hand == before[(i, w)] + added
    lines = [x.entry for i in ITEMS for x in env.jxc.ledger(i)]
    assert sum(1 for e in lines if e.doc_id == "DOC") == 20


def test_multi_line_receipt_writes_several_tables(env: Env) -> None:
    probe = Fault(fail_on="commit")
    run_with_fault(env, receipt, probe)
    assert {"ledger", "balances", "valuations", "lots", "sequences"} <= set(probe.calls)
    assert len(probe.calls) >= 8

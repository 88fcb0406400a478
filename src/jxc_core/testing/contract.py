"""The storage contract: one abstract suite that every storage adapter must pass.

Subclass :class:`StorageContract`, implement :meth:`StorageContract.make_storage` (and
:meth:`StorageContract.reopen` for an adapter that survives a restart) and every test below
runs against the adapter: the unit of work, the repositories, duplicate keys, exact decimals,
restart durability, and the service-level guarantees that rest on them (idempotency, outbox).
"""

from __future__ import annotations

import abc
import contextlib
import copy
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Event, Storage, UnitOfWork, ValuationChange
from jxc_core.services import Jxc, Posting, ReserveLine, StockLine
from jxc_core.stock import Balance, Item, LedgerEntry, Lot, Reservation, Warehouse

__all__ = ["StorageContract"]

D = Decimal
T0 = dt.datetime(2026, 1, 5, 9, 0)
NOW = dt.datetime(2026, 1, 10, 12, 0)
ONE = D(1)
PRICE = D("2.50")


class FixedClock:
    """A clock that always says ``NOW`` (so that tests are deterministic)."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now


class MovingClock:
    """A clock a test moves by hand."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class NotifierDown(RuntimeError):
    """Raised by the test notifiers to simulate a broken notification channel."""


class RecordingNotifier:
    """Records every event it is handed; raises (without recording) while ``down``."""

    def __init__(self) -> None:
        self.delivered: list[Event] = []
        self.attempts: list[Event] = []
        self.down = False

    def notify(self, event: Event) -> None:
        self.attempts.append(event)
        if self.down:
            raise NotifierDown(event.event_id)
        self.delivered.append(event)


class FirstAttemptFails(RecordingNotifier):
    """Refuses the first attempt of every event and accepts the second one."""

    def notify(self, event: Event) -> None:
        seen = any(a.event_id == event.event_id for a in self.attempts)
        self.attempts.append(event)
        if not seen:
            raise NotifierDown(event.event_id)
        self.delivered.append(event)


def entry(no: int, *, item: str = "A", warehouse: str = "W", at: dt.datetime = T0,
          quantity: Decimal = ONE, value: Decimal = PRICE) -> LedgerEntry:
    return LedgerEntry(no, item, warehouse, "", "", quantity, value, at, "receipt", "receipt",
                       f"DOC-{no}", 1)


def event(event_id: str, n: int = 1) -> Event:
    return Event(event_id, "stock_changed", T0 + dt.timedelta(minutes=n),
                 {"doc_id": f"DOC-{n}", "lines": [["A", "W", "", "1", "2.50"]]})


def seed(uow: UnitOfWork) -> None:
    """One record in every repository (committed by the caller)."""
    uow.master.put_item(Item("A", "apple", units={"箱": D(12)}))
    uow.master.put_warehouse(Warehouse("W", "main", ("A-01", "A-02")))
    uow.master.put_lot(Lot("A", "L1", dt.date(2026, 6, 30)))
    uow.ledger.append([entry(1)])
    uow.balances.put([Balance("A", "W", on_hand=D(1))])
    uow.valuations.put(("A", "W"), {"method": "fifo", "layers": [["DOC-1/1", "1", "2.50"]]})
    uow.checkpoints.put(("A", "W"), T0, 1, {"method": "fifo", "moves": 1})
    uow.reservations.add(Reservation("R1", "A", "W", "", "SO-1/1", D(1)))
    uow.serials.set("A", "S1", "W")
    uow.outbox.add([event("E1")])
    uow.idempotency.put("K1", "fp1", {"result": "1"})
    uow.sequences.next("s")


def snapshot(storage: Storage) -> dict[str, Any]:
    """Everything the repositories can tell about the seeded keys (and the ones tests add)."""
    with storage.unit_of_work() as u:
        snap: dict[str, Any] = {
            "items": [u.master.get_item(c) for c in ("A", "B")],
            "warehouses": [u.master.get_warehouse(c) for c in ("W", "V")],
            "lots": [u.master.get_lot("A", c) for c in ("L1", "L2")],
            "ledger_count": u.ledger.count(),
            "ledger": [(e, str(e.quantity), str(e.value)) for e in u.ledger.entries("A")],
            "balances": sorted(((b, str(b.on_hand)) for b in u.balances.all()),
                               key=lambda t: (t[0].item, t[0].warehouse, t[0].location,
                                              t[0].lot)),
            "valuations": [u.valuations.get(s) for s in (("A", "W"), ("A", "V"))],
            "checkpoint": u.checkpoints.latest(("A", "W"), dt.datetime(2100, 1, 1)),
            "reservations": sorted(((r, str(r.quantity)) for r in u.reservations.all()),
                                   key=lambda t: t[0].reservation_id),
            "serials": [u.serials.where("A", s) for s in ("S1", "S2")],
            "serials_in": [u.serials.in_warehouse("A", w) for w in ("W", "V")],
            "pending": u.outbox.pending(),
            "idempotency": [u.idempotency.get(k) for k in ("K1", "K2")],
            # reading a sequence reserves a number: the unit of work is not committed
            "sequences": [u.sequences.next(n) for n in ("s", "t")],
        }
    return copy.deepcopy(snap)  # not the stored objects themselves: they might change later


Write = Callable[[UnitOfWork], object]

#: one write per repository method; each changes what :func:`snapshot` sees
WRITES: list[tuple[str, Write]] = [
    ("put_item_new", lambda u: u.master.put_item(Item("B", "banana"))),
    ("put_item_replace", lambda u: u.master.put_item(Item("A", "apple v2"))),
    ("put_warehouse", lambda u: u.master.put_warehouse(Warehouse("V", "second"))),
    ("put_lot", lambda u: u.master.put_lot(Lot("A", "L2", dt.date(2027, 1, 1)))),
    ("ledger_append", lambda u: u.ledger.append([entry(2), entry(3, warehouse="V")])),
    ("balances_put", lambda u: u.balances.put([Balance("A", "W", on_hand=D(7)),
                                               Balance("A", "V", on_hand=D(2))])),
    ("valuations_put", lambda u: u.valuations.put(("A", "V"), {"method": "fifo"})),
    ("checkpoints_put", lambda u: u.checkpoints.put(("A", "W"), T0 + dt.timedelta(1), 9,
                                                    {"method": "fifo", "moves": 9})),
    ("reservations_add", lambda u: u.reservations.add(
        Reservation("R2", "A", "W", "", "SO-2/1", D(2)))),
    ("reservations_replace", lambda u: u.reservations.replace(
        Reservation("R1", "A", "W", "", "SO-1/1", D("0.5")))),
    ("reservations_remove", lambda u: u.reservations.remove("R1")),
    ("serials_set", lambda u: u.serials.set("A", "S2", "W")),
    ("serials_clear", lambda u: u.serials.set("A", "S1", None)),
    ("serials_move", lambda u: u.serials.set("A", "S1", "V")),
    ("outbox_add", lambda u: u.outbox.add([event("E2", 2)])),
    ("outbox_mark_delivered", lambda u: u.outbox.mark_delivered(["E1"])),
    ("idempotency_put", lambda u: u.idempotency.put("K2", "fp2", {"result": "2"})),
    ("sequences_next", lambda u: u.sequences.next("t", 3)),
]
WRITE_IDS = [name for name, _ in WRITES]
WRITE_FNS = [fn for _, fn in WRITES]


class Boom(Exception):
    """An error raised by a test inside a unit of work."""


#: every unique key of the ports: (name, first write, second write under the same key)
DUPLICATES: list[tuple[str, Write, Write]] = [
    ("ledger_entry_no", lambda u: u.ledger.append([entry(50)]),
     lambda u: u.ledger.append([entry(50, warehouse="V")])),
    ("idempotency_key", lambda u: u.idempotency.put("KD", "a", {}),
     lambda u: u.idempotency.put("KD", "b", {})),
    ("reservation_id", lambda u: u.reservations.add(Reservation("RD", "A", "W", "", "X", D(1))),
     lambda u: u.reservations.add(Reservation("RD", "A", "V", "", "Y", D(2)))),
    ("outbox_event_id", lambda u: u.outbox.add([event("ED", 1)]),
     lambda u: u.outbox.add([event("ED", 2)])),
]
DUP_IDS = [name for name, _, _ in DUPLICATES]

EXACT = ["0.10", "0.000001", "-0.50", "1E+30", "0E-8", "1.000000000000000000000000000000001",
         "123456789012345678901234567890.123456789012345678901234567890"]


def setup_service(storage: Storage, notifier: RecordingNotifier | None = None) -> Jxc:
    """A service with items A (fifo), B (moving average, kg), L (specific lot), stock in W."""
    jxc = Jxc(storage, notifier=notifier, clock=FixedClock())
    jxc.define_item(Item("A", "apple"))
    jxc.define_item(Item("B", "banana", base_unit="kg", quantity_digits=3,
                         costing_method="moving_average"))
    jxc.define_item(Item("L", "lotted", costing_method="specific_lot", lot_tracked=True))
    jxc.define_warehouse(Warehouse("W", "main"))
    jxc.define_warehouse(Warehouse("V", "second"))
    jxc.receive("A", "W", D(10), D("2.50"), doc_id="RK-A")
    jxc.receive("B", "W", D(6), D("1.10"), doc_id="RK-B")
    jxc.receive("L", "W", D(4), D("3.00"), lot="LOT-1", doc_id="RK-L")
    return jxc


def service_state(jxc: Jxc) -> dict[str, Any]:
    """What the service shows, plus the outbox and the ledger size."""
    with jxc.storage.unit_of_work() as u:
        pending = u.outbox.pending()
        count = u.ledger.count()
    return {
        "balances": jxc.balances(),
        "values": [jxc.balance(i, w).value for i in ("A", "B", "L") for w in ("W", "V")],
        "reservations": jxc.reservations(),
        "ledger": [jxc.ledger(i) for i in ("A", "B", "L")],
        "ledger_count": count,
        "pending": pending,
    }


Command = Callable[[Jxc, str], object]

#: commands run twice under one idempotency key
IDEMPOTENT: list[tuple[str, Command]] = [
    ("post", lambda j, k: j.post("receipt", "RK-9", [
        StockLine("A", "W", D(2), unit_cost=D("2.60")),
        StockLine("B", "V", D("3"), unit_cost=D("1.15"))], idempotency_key=k)),
    ("issue", lambda j, k: j.issue("A", "W", D(3), idempotency_key=k)),
    ("transfer", lambda j, k: j.transfer("B", "W", "V", D(2), idempotency_key=k)),
    ("reserve", lambda j, k: j.reserve([ReserveLine("SO-5/1", "A", "W", D(4)),
                                        ReserveLine("SO-5/2", "B", "W", D(99))],
                                       idempotency_key=k)),
]
IDEMPOTENT_IDS = [name for name, _ in IDEMPOTENT]


class StorageContract(abc.ABC):
    """Tests every storage adapter must pass. See the module docstring."""

    @abc.abstractmethod
    def make_storage(self, tmp_path: Path) -> Storage:
        """A new, empty storage (files, if any, under ``tmp_path``)."""

    def reopen(self, storage: Storage, tmp_path: Path) -> Storage | None:
        """A storage over the same data as the closed ``storage``; None: no durability."""
        return None

    def other_writer(self, storage: Storage, tmp_path: Path) -> Storage:
        """A second handle on the same data, as another process would open it (the storage
        itself for an adapter that lives in one process)."""
        return storage

    def _other(self, storage: Storage, tmp_path: Path) -> Storage:
        """:meth:`other_writer`, closed with the test's other storages."""
        other = self.other_writer(storage, tmp_path)
        if other is not storage:
            self._opened.append(other)
        return other

    #: test id (``name[param]``) -> reason: known adapter bugs, run as strict xfails
    known_bugs: ClassVar[dict[str, str]] = {}

    # -- plumbing -------------------------------------------------------------------------
    @pytest.fixture(autouse=True)
    def _known_bug(self, request: pytest.FixtureRequest) -> None:
        reason = self.known_bugs.get(request.node.name)
        if reason is not None:
            request.node.add_marker(pytest.mark.xfail(strict=True, reason=f"BUG: {reason}"))

    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[Storage]:
        self._opened: list[Storage] = []
        s = self.make_storage(tmp_path)
        self._opened.append(s)
        yield s
        for x in self._opened:
            x.close()

    @pytest.fixture
    def seeded(self, storage: Storage) -> Storage:
        with storage.unit_of_work() as u:
            seed(u)
            u.commit()
        return storage

    def restart(self, storage: Storage, tmp_path: Path) -> Storage:
        """Close ``storage`` and open it again; skips the test for a storage without files."""
        storage.close()
        again = self.reopen(storage, tmp_path)
        if again is None:
            pytest.skip("this adapter keeps nothing across a restart")
        self._opened.append(again)
        return again

    # -- journal -------------------------------------------------------------------------------
    def test_journal_rows_read_back_in_order_and_by_document(
        self, storage: Storage, tmp_path: Path
    ) -> None:
        """Rows of several documents, keys in different orders and numbers, over several
        appends: read back exactly, in order, all or by document (also after a restart)."""
        a1 = {"doc_id": "A", "role": "inventory", "debit": "1.00", "credit": "0"}
        a2 = {"doc_id": "A", "role": "grni", "debit": "0", "credit": "1.00"}
        b1 = {"role": "cogs", "doc_id": "B", "debit": "2.50", "credit": "0"}  # other key order
        b2 = {"doc_id": "B", "role": "inventory", "debit": "0", "credit": "2.50", "note": "库"}
        a3 = {"credit": "0.50", "debit": "0", "role": "payable", "doc_id": "A"}  # same keys
        c1 = {"doc_id": "A", "role": "tax", "debit": "0.13", "credit": "0"}
        rows = [a1, a2, a3, b1, b2, c1]
        with storage.unit_of_work() as u:
            u.journal.append([a1, a2, a3, b1])
            u.journal.append([b2, c1])
            u.commit()
        with storage.unit_of_work() as u:
            u.journal.append([{"doc_id": "X", "role": "rolled back"}])  # never committed
        again = self.reopen(storage, tmp_path)  # a second handle, as after a restart
        if again is not None:
            self._opened.append(again)
        for s in (storage, again or storage):
            with s.unit_of_work() as u:
                got = u.journal.all()
                assert got == rows
                assert [list(r) for r in got] == [list(r) for r in rows]  # key order kept
                assert u.journal.all("A") == [a1, a2, a3, c1]
                assert u.journal.all("B") == [b1, b2]
                assert u.journal.all("none") == []
                assert [u.journal.since(n) for n in range(8)] == [rows[n:] for n in range(8)]

    def test_journal_since_counts_staged_and_committed_rows(self, storage: Storage) -> None:
        """``since(position)`` is ``all()[position:]`` at every position: inside a unit of
        work that appended rows of its own, after its commit, and after one rolled back (its
        rows take no positions). A negative position is refused."""
        def rows(tag: str, n: int) -> list[dict[str, Any]]:
            return [{"doc_id": f"{tag}{k % 2}", "role": "inventory", "n": k} for k in range(n)]

        with storage.unit_of_work() as u:
            u.journal.append(rows("A", 3))
            u.commit()
        with storage.unit_of_work() as u:
            u.journal.append(rows("R", 2))  # rolled back
        with storage.unit_of_work() as u:
            u.journal.append(rows("B", 1))
            u.journal.append(rows("C", 4))
            staged = u.journal.all()
            assert len(staged) == 8
            assert [u.journal.since(n) for n in range(10)] == [staged[n:] for n in range(10)]
            u.commit()
        with storage.unit_of_work() as u:
            assert u.journal.all() == staged
            assert [u.journal.since(n) for n in range(10)] == [staged[n:] for n in range(10)]
            with pytest.raises(ValueError):
                u.journal.since(-1)

    # -- valuation versions ------------------------------------------------------------------
    def test_valuation_version_counts_committed_puts(self, storage: Storage) -> None:
        scope = ("VER", "W")
        with storage.unit_of_work() as u:
            assert u.valuations.version(scope) is None
            u.valuations.put(scope, {"n": "1"})
            assert u.valuations.version(scope) == 1  # a unit of work sees its own writes
            u.commit()
        with storage.unit_of_work() as u:
            u.valuations.put(scope, {"n": "2"})  # rolled back: the version stays
        with storage.unit_of_work() as u:
            assert u.valuations.version(scope) == 1
            u.valuations.put(scope, {"n": "3"})
            u.commit()
        with storage.unit_of_work() as u:
            assert u.valuations.version(scope) == 2
            assert u.valuations.get(scope) == {"n": "3"}

    # -- stamps: the token service caches rest on -------------------------------------------
    def test_stamp_moves_only_with_commits(self, storage: Storage, tmp_path: Path) -> None:
        with storage.unit_of_work() as u:
            start = u.stamp()
        if start is None:
            pytest.skip("this adapter gives no stamps (callers re-read everything)")
        with storage.unit_of_work() as u:
            assert u.stamp() == start  # nothing committed in between
            u.master.put_item(Item("S1", "stamped"))
            assert u.stamp() == start  # own uncommitted writes do not count
            u.commit()
            mine = u.stamp()
        assert mine != start
        with storage.unit_of_work() as u:
            assert u.stamp() == mine  # the state my commit produced
            u.master.put_item(Item("S2", "rolled back"))  # no commit: rolled back
        with storage.unit_of_work() as u:
            assert u.stamp() == mine
        other = self._other(storage, tmp_path)
        with other.unit_of_work() as u:
            u.master.put_item(Item("S3", "someone else"))
            u.commit()
        with storage.unit_of_work() as u:
            assert u.stamp() != mine

    def test_services_sharing_a_store_never_use_stale_rows(
        self, storage: Storage, tmp_path: Path
    ) -> None:
        a = setup_service(storage)
        other = self._other(storage, tmp_path)
        b = Jxc(other, clock=FixedClock())
        a.issue("A", "W", D(1))  # a's rows and valuation of A/W are warm now
        b.issue("A", "W", D(4))  # b moves them behind a's back
        a.issue("A", "W", D(5))  # a must see 5 left, not 9
        with pytest.raises(JxcError) as info:
            a.issue("A", "W", D(1))
        assert info.value.code == "insufficient_stock"
        assert a.balance("A", "W").on_hand == 0
        assert a.balance("A", "W").value == D("0.00")
        b.receive("A", "W", D(2), D("3.00"))
        assert a.issue("A", "W", D(2)).entries[0].value == D("-6.00")  # b's layer, b's cost
        b.reserve([ReserveLine("SO-S/1", "B", "W", D(5))])
        with pytest.raises(JxcError) as info:  # b's reservation holds 5 of a's 6
            a.issue("B", "W", D(2))
        assert info.value.code == "insufficient_stock"

    def test_a_scope_changed_elsewhere_is_reloaded_after_other_commands(
        self, storage: Storage, tmp_path: Path
    ) -> None:
        a = setup_service(storage)
        other = self._other(storage, tmp_path)
        b = Jxc(other, clock=FixedClock())
        a.issue("A", "W", D(1))  # a keeps A/W live: 9 at 2.50
        b.receive("A", "W", D(2), D("3.00"))  # b adds a layer to A/W
        a.issue("B", "W", D(1))  # a's next command touches only B/W
        a.issue("B", "W", D(1))  # and the one after (nobody else committed meanwhile)
        assert a.issue("A", "W", D(11)).entries[0].value == D("-28.50")  # b's layer too
        assert a.balance("A", "W").value == D("0.00")

    def test_fifo_state_of_the_earlier_form_keeps_its_layers(self, storage: Storage) -> None:
        """A scope stored with "layers"/"index" (before layers were rows) is rewritten whole
        by its first posting: no layer is lost."""
        setup_service(storage)
        with storage.unit_of_work() as u:
            state = u.valuations.get(("A", "W"))
            assert state is not None
            earlier = {k: v for k, v in state.items() if k not in ("rows", "next")}
            earlier["layers"] = [data for _, data in state["rows"]]
            earlier["index"] = {"RK-A/1": [0]}
            u.valuations.put(("A", "W"), earlier)
            u.commit()
        jxc = Jxc(storage, clock=FixedClock())  # a service that never saw the new form
        jxc.receive("A", "W", D(5), D("3.00"))
        again = Jxc(storage, clock=FixedClock())  # reads what the receipt stored
        assert again.issue("A", "W", D(15)).entries[0].value == D("-40.00")
        assert again.balance("A", "W").value == D("0.00")

    def test_failed_command_leaves_the_next_one_exact(self, storage: Storage) -> None:
        jxc = setup_service(storage)
        jxc.issue("A", "W", D(1))
        with pytest.raises(JxcError):  # the first line is applied in memory, the second fails
            jxc.post("issue", "CK-F", [StockLine("A", "W", D(2), "out"),
                                       StockLine("A", "W", D(99), "out")])
        jxc.issue("A", "W", D(3))
        assert jxc.balance("A", "W").on_hand == D(6)
        assert jxc.balance("A", "W").value == D("15.00")
        assert sum(x.entry.quantity for x in jxc.ledger("A", "W")) == D(6)

    def test_soft_reservation_expires_between_commands(self, storage: Storage) -> None:
        clock = MovingClock(NOW)
        jxc = setup_service(storage)
        jxc.clock = clock
        jxc.reserve([ReserveLine("SO-X/1", "A", "W", D(6))],
                    expires_at=NOW + dt.timedelta(hours=1))
        jxc.issue("A", "W", D(1))  # reads A/W's reservations: 6 of 10 held, 3 free
        with pytest.raises(JxcError):
            jxc.issue("A", "W", D(4))
        jxc.issue("A", "W", D(1))
        clock.at = NOW + dt.timedelta(hours=2)  # the soft reservation has expired
        jxc.issue("A", "W", D(8))
        assert jxc.balance("A", "W").on_hand == 0

    def test_valuation_rows_written_apart(self, storage: Storage) -> None:
        a, b = ("ROWS", "W"), ("ROWS", "V")
        with storage.unit_of_work() as u:
            u.valuations.put(a, {"method": "fifo", "q": "3",
                                 "rows": [[2, ["2", "r2"]], [0, ["1", "r0"]]]})
            u.valuations.put(b, {"method": "fifo", "q": "0"})
            u.commit()
        with storage.unit_of_work() as u:
            assert u.valuations.get(a) == {"method": "fifo", "q": "3",
                                           "rows": [[0, ["1", "r0"]], [2, ["2", "r2"]]]}
            assert u.valuations.get(b) == {"method": "fifo", "q": "0"}
            u.valuations.write([
                ValuationChange(a, {"method": "fifo", "q": "4"},
                                ((0, None), (5, ["3", "r5"]), (2, ["1", "r2"]))),
                ValuationChange(b, {"method": "fifo", "q": "1"}, ((1, ["1", "r1"]),)),
            ])
            assert u.valuations.get(a) == {"method": "fifo", "q": "4",  # seen inside
                                           "rows": [[2, ["1", "r2"]], [5, ["3", "r5"]]]}
            u.commit()
        with storage.unit_of_work() as u:
            assert u.valuations.get(a) == {"method": "fifo", "q": "4",
                                           "rows": [[2, ["1", "r2"]], [5, ["3", "r5"]]]}
            assert u.valuations.get(b) == {"method": "fifo", "q": "1", "rows": [[1, ["1", "r1"]]]}
            assert (u.valuations.version(a), u.valuations.version(b)) == (2, 2)
            u.valuations.write([ValuationChange(a, {"method": "fifo", "q": "0"}, (), True)])
            assert u.valuations.get(a) == {"method": "fifo", "q": "0"}  # whole: rows gone
            u.commit()
        with storage.unit_of_work() as u:
            assert u.valuations.get(a) == {"method": "fifo", "q": "0"}
            assert u.valuations.version(a) == 3

    def test_valuation_row_changes_roll_back_and_add_up(self, storage: Storage) -> None:
        """Row changes of a unit of work that rolls back leave the committed rows as they
        were; several changes of one scope in one unit of work add up."""
        a = ("ROWS", "W")
        with storage.unit_of_work() as u:
            u.valuations.put(a, {"q": "2", "rows": [[0, ["1"]], [1, ["1"]]]})
            u.commit()
        with pytest.raises(Boom), storage.unit_of_work() as u:
            u.valuations.write([ValuationChange(a, {"q": "9"}, ((0, None), (7, ["9"])))])
            assert u.valuations.get(a) == {"q": "9", "rows": [[1, ["1"]], [7, ["9"]]]}
            raise Boom
        with storage.unit_of_work() as u:
            assert u.valuations.get(a) == {"q": "2", "rows": [[0, ["1"]], [1, ["1"]]]}
            assert u.valuations.version(a) == 1
            u.valuations.write([ValuationChange(a, {"q": "3"}, ((2, ["1"]),))])
            u.valuations.write([ValuationChange(a, {"q": "2"}, ((0, None),)),
                                ValuationChange(a, {"q": "1"}, ((1, None), (2, ["x"])))])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.valuations.get(a) == {"q": "1", "rows": [[2, ["x"]]]}
            assert u.valuations.version(a) == 4

    def test_valuation_changes_of_one_scope_in_one_write_apply_in_order(
            self, storage: Storage) -> None:
        """A scope may come twice in one ``write`` (and a row key twice in one change): the
        result is that of applying them one after the other, each counting as a version."""
        cases: dict[str, tuple[list[ValuationChange], dict[str, Any], int]] = {
            "reinsert": ([ValuationChange(("R", "W"), {"h": 1}, ((1, None),)),
                          ValuationChange(("R", "W"), {"h": 2}, ((1, ["new"]),))],
                         {"h": 2, "rows": [[1, ["new"]]]}, 3),
            "same key": ([ValuationChange(("K", "W"), {"h": 1}, ((1, None), (1, ["new"])))],
                         {"h": 1, "rows": [[1, ["new"]]]}, 2),
            "then whole": ([ValuationChange(("P", "W"), {"h": 1}, ((5, ["x"]),)),
                            ValuationChange(("P", "W"), {"h": 2}, ((1, ["y"]),), True)],
                           {"h": 2, "rows": [[1, ["y"]]]}, 3),
            "whole first": ([ValuationChange(("H", "W"), {"h": 1}, ((1, ["y"]),), True),
                             ValuationChange(("H", "W"), {"h": 2}, ((2, ["z"]),))],
                            {"h": 2, "rows": [[1, ["y"]], [2, ["z"]]]}, 3),
        }
        for changes, expected, version in cases.values():
            scope = changes[0].scope
            with storage.unit_of_work() as u:
                u.valuations.put(scope, {"h": 0, "rows": [[1, ["old"]]]})
                u.commit()
            with storage.unit_of_work() as u:
                u.valuations.write(changes)
                u.commit()
            with storage.unit_of_work() as u:
                assert (u.valuations.get(scope), u.valuations.version(scope)) == (
                    expected, version)

    def test_journal_rows_without_a_document_are_those_of_the_empty_one(
            self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            u.journal.append([{"x": 1}, {"doc_id": "", "x": 2}, {"doc_id": "D", "x": 3}])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.journal.all("") == [{"x": 1}, {"doc_id": "", "x": 2}]
            assert u.journal.all("D") == [{"doc_id": "D", "x": 3}]

    def test_valuation_change_of_an_unknown_scope_writes_nothing(self, storage: Storage
                                                                 ) -> None:
        known = ("ROWS", "W")
        with storage.unit_of_work() as u:
            u.valuations.put(known, {"q": "1", "rows": [[0, ["1"]]]})
            u.commit()
        with storage.unit_of_work() as u:
            with pytest.raises(JxcError) as info:
                u.valuations.write([
                    ValuationChange(known, {"q": "2"}, ((0, None), (1, ["2"]))),
                    ValuationChange(("NEW", "W"), {"q": "1"}, ((0, ["1"]),)),
                ])
            assert info.value.code == "not_found"
            assert u.valuations.get(known) == {"q": "1", "rows": [[0, ["1"]]]}
            assert u.valuations.get(("NEW", "W")) is None
            assert u.valuations.version(known) == 1

    def test_valuation_state_is_kept_as_json_gives_it_back(self, storage: Storage) -> None:
        """Valuation states go through JSON on both adapters: a tuple comes back as a list,
        a state changed after the write or after a read changes nothing stored, and a value
        JSON cannot carry (a Decimal) is refused with ``TypeError``."""
        scope = ("JSON", "W")
        state: dict[str, Any] = {"q": "1", "last": ("2", "3"), "rows": [[0, ["1", "x"]]]}
        with storage.unit_of_work() as u:
            u.valuations.put(scope, state)
            u.commit()
        state["q"] = "9"
        state["rows"][0][1].append("y")
        expected = {"q": "1", "last": ["2", "3"], "rows": [[0, ["1", "x"]]]}
        with storage.unit_of_work() as u:
            read = u.valuations.get(scope)
            assert read == expected
            assert read is not None
            read["last"].append("4")
            read["rows"][0][1].clear()
            assert u.valuations.get(scope) == expected
            with pytest.raises(TypeError):
                u.valuations.put(scope, {"q": Decimal("2")})
            with pytest.raises(TypeError):
                u.valuations.write([ValuationChange(scope, {"q": "2"},
                                                    ((1, [Decimal("1")]),))])
        with storage.unit_of_work() as u:
            assert u.valuations.get(scope) == expected

    # -- unit of work -----------------------------------------------------------------------
    @pytest.mark.parametrize("write", WRITE_FNS, ids=WRITE_IDS)
    def test_exception_rolls_back(self, seeded: Storage, write: Write) -> None:
        before = snapshot(seeded)
        with pytest.raises(Boom), seeded.unit_of_work() as u:
            write(u)
            raise Boom
        assert snapshot(seeded) == before

    @pytest.mark.parametrize("write", WRITE_FNS, ids=WRITE_IDS)
    def test_no_commit_rolls_back(self, seeded: Storage, write: Write) -> None:
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            write(u)
        assert snapshot(seeded) == before

    @pytest.mark.parametrize("write", WRITE_FNS, ids=WRITE_IDS)
    def test_explicit_rollback_discards(self, seeded: Storage, write: Write) -> None:
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            write(u)
            u.rollback()
            u.commit()
        assert snapshot(seeded) == before

    @pytest.mark.parametrize("write", WRITE_FNS, ids=WRITE_IDS)
    def test_commit_makes_writes_visible(self, seeded: Storage, write: Write) -> None:
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            write(u)
            inside = snapshot_of_uow(u)
            u.commit()
        after = snapshot(seeded)
        assert after != before
        assert snapshot(seeded) == after  # stable across units of work
        # what the unit of work read of its own writes is what the next one reads
        assert snapshot_of_uow_from(seeded) == inside

    def test_write_after_commit_is_not_kept_without_another_commit(
        self, seeded: Storage
    ) -> None:
        with seeded.unit_of_work() as u:
            u.ledger.append([entry(2)])
            u.commit()
            u.ledger.append([entry(3)])
        with seeded.unit_of_work() as u:
            assert [e.entry_no for e in u.ledger.entries("A")] == [1, 2]

    def test_unit_of_work_outside_its_block_is_refused(self, seeded: Storage,
                                                       tmp_path: Path) -> None:
        """A write or a commit through a unit of work whose with-block has ended (or that was
        never entered) is ``configuration`` and writes nothing; the storage stays usable, and
        another storage on the same data can still write (no transaction is left open)."""
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            pass
        never = seeded.unit_of_work()
        for uow in (u, never):
            calls: list[Callable[[], object]] = [
                functools.partial(uow.ledger.append, [entry(7)]),
                functools.partial(uow.master.put_item, Item("Z", "late")),
                functools.partial(uow.journal.append, [{"doc_id": "J", "account": "1405"}]),
                # writes that would change nothing are refused alike
                functools.partial(uow.journal.append, []),
                functools.partial(uow.outbox.add, []),
                functools.partial(uow.outbox.mark_delivered, ["unknown"]),
                functools.partial(uow.outbox.purge, T0),
                functools.partial(uow.reservations.remove, "unknown"),
                uow.commit]
            for call in calls:
                with pytest.raises(JxcError) as info:
                    call()
                assert info.value.code == "configuration"
        assert snapshot(seeded) == before
        other = self._other(seeded, tmp_path)
        with other.unit_of_work() as o:
            o.master.put_item(Item("Y", "after"))
            o.commit()
        with seeded.unit_of_work() as w:
            assert w.master.get_item("Y") is not None
            w.ledger.append([entry(8)])
            w.commit()

    def test_nested_unit_of_work_is_refused(self, seeded: Storage) -> None:
        """A second unit of work opened by a thread that has one open on the same storage (a
        clock or a notifier calling the service) is ``configuration``; the open one goes on."""
        with seeded.unit_of_work() as outer:
            outer.ledger.append([entry(2)])
            with pytest.raises(JxcError) as info, seeded.unit_of_work():
                pass
            assert info.value.code == "configuration"
            outer.commit()
            with pytest.raises(JxcError) as info, seeded.unit_of_work():
                pass  # still inside the with-block after its commit
            assert info.value.code == "configuration"
        with seeded.unit_of_work() as u:
            assert [e.entry_no for e in u.ledger.entries("A")] == [1, 2]

    # -- duplicate keys -----------------------------------------------------------------------
    @pytest.mark.parametrize(("first", "second"), [(f, s) for _, f, s in DUPLICATES],
                             ids=DUP_IDS)
    def test_duplicate_key_within_one_unit_of_work(
        self, seeded: Storage, first: Write, second: Write
    ) -> None:
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            first(u)
            with pytest.raises(JxcError) as info:
                second(u)
        assert info.value.code == "duplicate_key"
        assert info.value.message("en") and info.value.message("zh_CN")
        assert snapshot(seeded) == before

    @pytest.mark.parametrize(("first", "second"), [(f, s) for _, f, s in DUPLICATES],
                             ids=DUP_IDS)
    def test_duplicate_key_across_units_of_work(
        self, seeded: Storage, first: Write, second: Write
    ) -> None:
        with seeded.unit_of_work() as u:
            first(u)
            u.commit()
        after_first = snapshot(seeded)
        with pytest.raises(JxcError) as info, seeded.unit_of_work() as u:
            second(u)
            u.commit()
        assert info.value.code == "duplicate_key"
        assert snapshot(seeded) == after_first

    def test_duplicate_entry_no_inside_one_append(self, seeded: Storage) -> None:
        with seeded.unit_of_work() as u:
            with pytest.raises(JxcError) as info:
                u.ledger.append([entry(7), entry(7, warehouse="V")])
            assert info.value.code == "duplicate_key"

    def test_refused_ledger_append_leaves_nothing(self, seeded: Storage) -> None:
        """A refused call writes none of its records, even if the caller then commits."""
        with seeded.unit_of_work() as u:
            with pytest.raises(JxcError, match="ledger"):
                u.ledger.append([entry(10), entry(1)])
            u.commit()
        with seeded.unit_of_work() as u:
            assert [e.entry_no for e in u.ledger.entries("A")] == [1]

    def test_refused_outbox_add_leaves_nothing(self, seeded: Storage) -> None:
        with seeded.unit_of_work() as u:
            with pytest.raises(JxcError, match="outbox"):
                u.outbox.add([event("E9", 9), event("E1")])
            u.commit()
        with seeded.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["E1"]

    # -- sequences ----------------------------------------------------------------------------
    def test_sequences_start_at_one_and_reserve_ranges(self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            assert u.sequences.next("doc") == 1
            assert u.sequences.next("range", 5) == 1
            assert u.sequences.next("range") == 6
            assert u.sequences.next("doc") == 2
            u.commit()
        with storage.unit_of_work() as u:
            assert u.sequences.next("range", 10) == 7
            assert u.sequences.next("range") == 17
            assert u.sequences.next("doc") == 3
            assert u.sequences.next("fresh") == 1

    # -- ledger queries ---------------------------------------------------------------------
    def test_ledger_entries_filters(self, storage: Storage) -> None:
        day = dt.timedelta(days=1)
        rows = [entry(1, at=T0), entry(2, warehouse="V", at=T0 + day),
                entry(3, item="B", at=T0), entry(4, at=T0 + 2 * day),
                entry(5, warehouse="V", at=T0 + 3 * day, quantity=D(-1), value=D("-2.50"))]
        with storage.unit_of_work() as u:
            u.ledger.append(rows[:2])
            u.commit()
        with storage.unit_of_work() as u:
            u.ledger.append(rows[2:])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.ledger.count() == 5
            assert u.ledger.entries("A") == [rows[0], rows[1], rows[3], rows[4]]
            assert u.ledger.entries("A", "W") == [rows[0], rows[3]]
            assert u.ledger.entries("A", "V") == [rows[1], rows[4]]
            assert u.ledger.entries("B") == [rows[2]]
            assert u.ledger.entries("A", until=T0 + day) == [rows[0], rows[1]]  # inclusive
            assert u.ledger.entries("A", "V", until=T0 + day - dt.timedelta(seconds=1)) == []
            assert u.ledger.entries("A", "W", until=T0 + 2 * day) == [rows[0], rows[3]]
            assert u.ledger.entries("nobody") == []

    def test_ledger_has_document_sees_committed_and_staged_entries(
            self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            assert not u.ledger.has_document("DOC-1")
            u.ledger.append([entry(1), entry(2, item="B")])
            assert u.ledger.has_document("DOC-1") and u.ledger.has_document("DOC-2")
            u.commit()
        with storage.unit_of_work() as u:
            u.ledger.append([entry(3)])
            assert u.ledger.has_document("DOC-3")
            # rolled back: never committed
        with storage.unit_of_work() as u:
            assert u.ledger.has_document("DOC-1") and u.ledger.has_document("DOC-2")
            assert not u.ledger.has_document("DOC-3")
            assert not u.ledger.has_document("DOC")  # the whole number, not a prefix
            assert not u.ledger.has_document("")

    def test_ledger_entries_ordered_by_entry_no(self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            u.ledger.append([entry(3), entry(1)])
            u.commit()
        with storage.unit_of_work() as u:
            u.ledger.append([entry(2)])
            assert [e.entry_no for e in u.ledger.entries("A")] == [1, 2, 3]
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.entry_no for e in u.ledger.entries("A", "W")] == [1, 2, 3]

    def test_ledger_after_orders_by_position(self, storage: Storage) -> None:
        h = dt.timedelta(hours=1)
        # entry 4 is back-dated: its number is later but its posting time earlier
        rows = [entry(1, at=T0), entry(2, at=T0 + 2 * h), entry(3, at=T0 + 2 * h),
                entry(4, at=T0 + h), entry(5, warehouse="V", at=T0 + h),
                entry(6, at=T0 + 3 * h)]
        with storage.unit_of_work() as u:
            u.ledger.append(rows)
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.entry_no for e in u.ledger.after("A", "W")] == [1, 4, 2, 3, 6]
            assert [e.entry_no for e in u.ledger.after("A", None)] == [1, 4, 5, 2, 3, 6]
            assert [e.entry_no for e in u.ledger.after("A", "W", T0 + h, 4)] == [2, 3, 6]
            assert [e.entry_no for e in u.ledger.after("A", "W", T0 + 2 * h, 2)] == [3, 6]
            assert [e.entry_no for e in u.ledger.after("A", None, T0 + h, 4)] == [5, 2, 3, 6]
            assert [e.entry_no for e in u.ledger.after("A", "W", T0 + 3 * h, 6)] == []

    # -- reservations -------------------------------------------------------------------------
    def test_reservation_queries(self, storage: Storage) -> None:
        r1 = Reservation("R1", "A", "W", "", "SO-1/1", D(2))
        r2 = Reservation("R2", "A", "W", "L1", "SO-1/2", D("1.5"), T0 + dt.timedelta(days=1))
        r3 = Reservation("R3", "A", "V", "", "SO-1/1", D(3))
        r4 = Reservation("R4", "B", "W", "", "SO-2/1", D(4))
        with storage.unit_of_work() as u:
            for r in (r1, r2, r3, r4):
                u.reservations.add(r)
            u.commit()
        with storage.unit_of_work() as u:
            assert sorted(u.reservations.for_item("A", "W"), key=str) == sorted([r1, r2], key=str)
            assert u.reservations.for_item("A", "V") == [r3]
            assert u.reservations.for_item("B", "V") == []
            by_demand = sorted(u.reservations.for_demand("SO-1/1"), key=lambda r: r.reservation_id)
            assert by_demand == [r1, r3]
            assert u.reservations.for_demand("nobody") == []
            smaller = Reservation("R1", "A", "W", "", "SO-1/1", D(1))
            u.reservations.replace(smaller)
            u.reservations.remove("R3")
            u.reservations.remove("no-such-id")  # removing an unknown id is harmless
            u.commit()
        with storage.unit_of_work() as u:
            assert u.reservations.for_demand("SO-1/1") == [smaller]
            assert u.reservations.for_item("A", "V") == []
            assert sorted(u.reservations.all(), key=lambda r: r.reservation_id) == [
                smaller, r2, r4]

    def test_reservation_replace_is_an_upsert(self, storage: Storage) -> None:
        """``replace`` of an unknown id adds it (found by demand, removable); a replacement
        that names another demand or (item, warehouse) is found under the new ones only."""
        r1 = Reservation("R1", "A", "W", "", "SO-1/1", D(2))
        with storage.unit_of_work() as u:
            u.reservations.replace(r1)
            u.commit()
        moved = Reservation("R1", "A", "V", "", "SO-9/1", D(1))
        with storage.unit_of_work() as u:
            assert u.reservations.for_demand("SO-1/1") == [r1]
            u.reservations.replace(moved)
            u.commit()
        with storage.unit_of_work() as u:
            assert u.reservations.for_demand("SO-1/1") == []
            assert u.reservations.for_demand("SO-9/1") == [moved]
            assert u.reservations.for_item("A", "W") == []
            assert u.reservations.for_item("A", "V") == [moved]
            u.reservations.remove("R1")
            u.commit()
        with storage.unit_of_work() as u:
            assert u.reservations.all() == []
            assert u.reservations.for_demand("SO-9/1") == []

    def test_reservations_keep_the_order_they_were_made_in(self, storage: Storage) -> None:
        """Reads give a demand's reservations in the order they were made, a partly consumed
        one (replaced) in its place: the service consumes and trims them in that order
        (SQLite's INSERT OR REPLACE moved the replaced one behind the later ones)."""
        r1 = Reservation("R1", "A", "W", "", "SO-1/1", D(6))
        r2 = Reservation("R2", "A", "W", "", "SO-1/1", D(4), T0 + dt.timedelta(days=1))
        r3 = Reservation("R3", "A", "W", "", "SO-2/1", D(1))
        with storage.unit_of_work() as u:
            for r in (r1, r2, r3):
                u.reservations.add(r)
            u.commit()
        smaller = Reservation("R1", "A", "W", "", "SO-1/1", D(4))
        with storage.unit_of_work() as u:
            u.reservations.replace(smaller)
            u.commit()
        with storage.unit_of_work() as u:
            assert [r.reservation_id for r in u.reservations.for_demand("SO-1/1")] == [
                "R1", "R2"]
            assert [r.reservation_id for r in u.reservations.for_item("A", "W")] == [
                "R1", "R2", "R3"]
            assert u.reservations.for_demand("SO-1/1")[0] == smaller
            # another demand: a new reservation, after the others
            u.reservations.replace(Reservation("R1", "A", "W", "", "SO-3/1", D(4)))
            u.commit()
        with storage.unit_of_work() as u:
            assert [r.reservation_id for r in u.reservations.for_item("A", "W")] == [
                "R2", "R3", "R1"]

    # -- balances ------------------------------------------------------------------------------
    def test_balances_do_not_keep_reserved(self, storage: Storage) -> None:
        """``reserved`` is counted by the service from the reservations: a stored row reads
        back with 0 reserved, whatever was written (the other quantities are kept)."""
        with storage.unit_of_work() as u:
            u.balances.put([Balance("I", "W", "", "", D(5), D(2), D(1), D(3), D(4))])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.balances.for_item("I", "W") == [
                Balance("I", "W", "", "", D(5), D(0), D(1), D(3), D(4))]
            assert [b.reserved for b in u.balances.all()] == [D(0)]

    def test_balances_for_item_in_location_then_lot_order(self, storage: Storage) -> None:
        """``for_item`` gives the rows by warehouse, then location, then lot, whatever order
        they were written in (within one unit of work or across several)."""
        with storage.unit_of_work() as u:
            u.balances.put([Balance("J", "W", "z", "2"), Balance("J", "W", "a", "9"),
                            Balance("J", "V", "m", ""), Balance("J", "W", "z", "1")])
            u.commit()
        with storage.unit_of_work() as u:
            u.balances.put([Balance("J", "W", "", "5"), Balance("J", "W", "a", "1")])
            places = [(b.location, b.lot) for b in u.balances.for_item("J", "W")]
            assert places == [("", "5"), ("a", "1"), ("a", "9"), ("z", "1"), ("z", "2")]
            u.commit()
        with storage.unit_of_work() as u:
            assert [(b.location, b.lot) for b in u.balances.for_item("J", "W")] == places
            assert [(b.warehouse, b.location, b.lot) for b in u.balances.for_item("J")] == [
                ("V", "m", ""), *[("W", loc, lot) for loc, lot in places]]

    # -- serials -------------------------------------------------------------------------------
    def test_serials_in_a_warehouse_sorted_with_the_unit_of_works_own_changes(
        self, storage: Storage, tmp_path: Path
    ) -> None:
        """``in_warehouse`` lists the serials of one item on hand in one warehouse, sorted by
        code point whatever order they were set in, with what the unit of work set, moved
        and cleared itself; other items and warehouses are not in it; a rollback leaves the
        committed list (also after a restart)."""
        with storage.unit_of_work() as u:
            for serial in ("S10", "S2", "s1", "S1", "Z", "序1", "S3"):
                u.serials.set("A", serial, "W")
            u.serials.set("A", "V1", "V")
            u.serials.set("B", "S4", "W")
            assert u.serials.in_warehouse("A", "W") == ["S1", "S10", "S2", "S3", "Z", "s1",
                                                        "序1"]
            u.commit()
        listed = ["S1", "S10", "S2", "S3", "Z", "s1", "序1"]
        with storage.unit_of_work() as u:
            assert u.serials.in_warehouse("A", "W") == listed
            assert u.serials.in_warehouse("A", "V") == ["V1"]
            assert u.serials.in_warehouse("B", "W") == ["S4"]
            assert u.serials.in_warehouse("A", "X") == []
            assert u.serials.in_warehouse("C", "W") == []
            u.serials.set("A", "S2", None)  # gone
            u.serials.set("A", "S3", "V")  # moved
            u.serials.set("A", "V1", "W")  # moved back
            u.serials.set("A", "N", "W")  # new
            assert u.serials.in_warehouse("A", "W") == ["N", "S1", "S10", "V1", "Z", "s1",
                                                        "序1"]
            assert u.serials.in_warehouse("A", "V") == ["S3"]
            u.rollback()
            assert u.serials.in_warehouse("A", "W") == listed
            u.serials.set("A", "S2", "V")
            u.serials.set("A", "S2", "W")  # set twice: where it was set last
            u.serials.set("A", "Z", None)
            u.commit()
        listed.remove("Z")
        with storage.unit_of_work() as u:
            assert u.serials.in_warehouse("A", "W") == listed
            assert u.serials.in_warehouse("A", "V") == ["V1"]
        storage.close()
        again = self.reopen(storage, tmp_path)
        if again is None:  # nothing kept across a restart: the rest is for the others
            return
        self._opened.append(again)
        with again.unit_of_work() as u:
            assert u.serials.in_warehouse("A", "W") == listed
            assert u.serials.in_warehouse("A", "V") == ["V1"]

    # -- records -------------------------------------------------------------------------------
    def test_records_list_by_prefix_takes_every_key_that_starts_with_it(
        self, storage: Storage
    ) -> None:
        """Keys that go on with the largest character (U+10FFFF) start with the prefix too;
        a key that is only a prefix of the prefix does not."""
        keys = ["a", "a\U0010ffff", "a\U0010ffffz", "ab", "b", "", "a%", "a_"]
        with storage.unit_of_work() as u:
            for n, key in enumerate(keys):
                u.records.put("k", key, {"n": n})
            u.records.put("other", "a", {"n": 99})
            u.commit()
        with storage.unit_of_work() as u:
            assert [k for k, _ in u.records.list("k", "a")] == [
                "a", "a\U0010ffff", "a\U0010ffffz", "ab", "a%", "a_"]
            assert [k for k, _ in u.records.list("k", "a\U0010ffff")] == [
                "a\U0010ffff", "a\U0010ffffz"]
            assert [k for k, _ in u.records.list("k", "a%")] == ["a%"]
            assert [k for k, _ in u.records.list("k")] == keys
            assert u.records.list("k", "ab\U0010ffff") == []

    # -- text -----------------------------------------------------------------------------------
    def test_text_no_store_can_keep_is_refused_before_anything_is_written(
        self, storage: Storage
    ) -> None:
        """A code, a lot, a location, a document number or an idempotency key with a lone
        surrogate (not encodable as UTF-8: SQLite cannot keep it) is ``invalid_text`` on every
        adapter, and nothing is written."""
        jxc = setup_service(storage)
        before = service_state(jxc)
        bad = "\ud800"
        attempts: list[tuple[str, Callable[[], Any]]] = [
            ("code", lambda: jxc.define_item(Item(bad, "x"))),
            ("name", lambda: jxc.define_warehouse(Warehouse("V2", "x" + bad))),
            ("lot", lambda: jxc.receive("A", "W", ONE, PRICE, lot="L" + bad)),
            ("location", lambda: jxc.receive("A", "W", ONE, PRICE, location=bad)),
            ("doc_id", lambda: jxc.receive("A", "W", ONE, PRICE, doc_id="RK-" + bad)),
            ("idempotency_key", lambda: jxc.receive("A", "W", ONE, PRICE, doc_id="RK-9",
                                                    idempotency_key=bad)),
            ("item", lambda: jxc.receive(bad, "W", ONE, PRICE)),
            ("warehouse", lambda: jxc.issue("A", bad, ONE)),
            ("to_location", lambda: jxc.move("A", "W", ONE, from_location="",
                                             to_location=bad)),
        ]
        for field, attempt in attempts:
            with pytest.raises(JxcError) as info:
                attempt()
            assert info.value.code == "invalid_text", field
            assert info.value.data["field"] == field
            assert "\\ud800" in str(info.value) and "\\ud800" in info.value.message_zh
        assert service_state(jxc) == before
        jxc.receive("A", "W", ONE, PRICE, lot="批次-1", doc_id="RK-中文")  # other text is fine

    # -- outbox -------------------------------------------------------------------------------
    def test_outbox_pending_in_insertion_order(self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            u.outbox.add([event("zz", 1), event("aa", 2)])
            u.commit()
        with storage.unit_of_work() as u:
            u.outbox.add([event("mm", 3)])
            assert [e.event_id for e in u.outbox.pending()] == ["zz", "aa", "mm"]
            u.commit()
        with storage.unit_of_work() as u:
            assert u.outbox.pending() == [event("zz", 1), event("aa", 2), event("mm", 3)]
            assert [e.event_id for e in u.outbox.pending(limit=2)] == ["zz", "aa"]
            u.outbox.mark_delivered(["aa", "unknown"])
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["zz", "mm"]
            u.outbox.mark_delivered(["zz", "mm"])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.outbox.pending() == []
            with pytest.raises(JxcError) as info:  # a delivered id stays used
                u.outbox.add([event("aa", 4)])
            assert info.value.code == "duplicate_key"

    # -- outbox: purge --------------------------------------------------------------------------
    def _outbox_of(self, storage: Storage, delivered: list[str], n: int = 5) -> None:
        """Events ``e1`` .. ``e<n>`` (``e<k>`` occurred k minutes after T0), ``delivered``
        marked delivered, committed."""
        with storage.unit_of_work() as u:
            u.outbox.add([event(f"e{k}", k) for k in range(1, n + 1)])
            u.outbox.mark_delivered(delivered)
            u.commit()

    @staticmethod
    def _ids_used(storage: Storage, ids: list[str]) -> list[str]:
        """Which of ``ids`` the committed outbox holds (adding one again is
        ``duplicate_key``), tried one by one in units of work never committed."""
        used = []
        for i in ids:
            with storage.unit_of_work() as u:
                try:
                    u.outbox.add([event(i, 99)])
                except JxcError as exc:
                    assert exc.code == "duplicate_key"
                    used.append(i)
        return used

    def test_outbox_purge_takes_only_delivered_events_before_the_moment(
        self, storage: Storage
    ) -> None:
        """Delivered events that occurred strictly before the moment go; the pending one
        before it and the delivered one at it stay; the count is returned."""
        self._outbox_of(storage, ["e1", "e2", "e4", "e5"])
        with storage.unit_of_work() as u:
            assert u.outbox.purge(T0 + dt.timedelta(minutes=4)) == 2  # e1, e2
            assert u.outbox.purge(T0 + dt.timedelta(minutes=4)) == 0  # its own purge seen
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e3"]
        assert self._ids_used(storage, ["e1", "e2", "e3", "e4", "e5"]) == ["e3", "e4", "e5"]
        with storage.unit_of_work() as u:
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 2  # e4, e5; never e3
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e3"]
            assert u.outbox.pending()[0] == event("e3", 3)
        assert self._ids_used(storage, ["e1", "e3", "e4", "e5"]) == ["e3"]

    def test_outbox_purge_takes_at_most_limit_the_first_added_first(
        self, storage: Storage
    ) -> None:
        self._outbox_of(storage, ["e1", "e2", "e4", "e5"])
        end = T0 + dt.timedelta(days=1)
        with storage.unit_of_work() as u:
            assert u.outbox.purge(end, limit=1) == 1
            u.commit()
        assert self._ids_used(storage, ["e1", "e2", "e4", "e5"]) == ["e2", "e4", "e5"]
        with storage.unit_of_work() as u:
            assert u.outbox.purge(end, limit=2) == 2
            u.commit()
        assert self._ids_used(storage, ["e2", "e4", "e5"]) == ["e5"]
        with storage.unit_of_work() as u:
            assert u.outbox.purge(end, limit=5) == 1
            assert u.outbox.purge(end) == 0
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e3"]

    @pytest.mark.parametrize("end", ["exception", "no_commit", "rollback"])
    def test_outbox_purge_is_rolled_back_with_the_unit_of_work(
        self, storage: Storage, end: str
    ) -> None:
        self._outbox_of(storage, ["e1", "e2"])
        with contextlib.suppress(Boom), storage.unit_of_work() as u:
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 2
            if end == "exception":
                raise Boom
            if end == "rollback":
                u.rollback()
                u.commit()
        assert self._ids_used(storage, ["e1", "e2"]) == ["e1", "e2"]
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e3", "e4", "e5"]
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 2

    def test_outbox_events_added_after_a_purge_come_after_the_older_pending_ones(
        self, storage: Storage
    ) -> None:
        """The newest events purged (the largest positions gone), then new ones added, in
        the same unit of work and in later ones: every new event is still handed out after
        the older pending ones, in the order added."""
        self._outbox_of(storage, ["e2", "e3", "e4", "e5"])  # e1 pending, the rest delivered
        with storage.unit_of_work() as u:
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 4
            u.outbox.add([event("n1", 6)])
            u.commit()
        with storage.unit_of_work() as u:
            u.outbox.add([event("n2", 7), event("e5", 8)])  # a purged id may be used again
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e1", "n1", "n2", "e5"]
            u.outbox.mark_delivered(["n1", "n2", "e5"])
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 3
            u.outbox.add([event("n3", 9)])
            assert [e.event_id for e in u.outbox.pending()] == ["e1", "n3"]
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e1", "n3"]

    def test_outbox_purge_compares_moments_as_datetimes(self, storage: Storage) -> None:
        """Aware moments compare as instants whatever their offsets (10:00 at +08:00 is
        before 03:00 UTC, though its ISO text sorts after it); naive events are kept under
        an aware moment, aware ones under a naive moment."""
        cst = dt.timezone(dt.timedelta(hours=8))
        day = dt.datetime(2026, 1, 5)
        evs = [Event("cst", "t", day.replace(hour=10, tzinfo=cst), {}),  # 02:00 UTC
               Event("utc", "t", day.replace(hour=2, minute=30, tzinfo=dt.UTC), {}),
               Event("late", "t", day.replace(hour=11, minute=30, tzinfo=cst), {}),  # 03:30
               Event("naive", "t", day.replace(hour=1), {})]
        with storage.unit_of_work() as u:
            u.outbox.add(evs)
            u.outbox.mark_delivered([e.event_id for e in evs])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.outbox.purge(day.replace(hour=3, tzinfo=dt.UTC)) == 2
            u.commit()
        assert self._ids_used(storage, ["cst", "utc", "late", "naive"]) == ["late", "naive"]
        with storage.unit_of_work() as u:
            assert u.outbox.purge(day.replace(hour=3)) == 1  # naive: the naive one only
            u.commit()
        assert self._ids_used(storage, ["late", "naive"]) == ["late"]
        with storage.unit_of_work() as u:
            assert u.outbox.purge(day.replace(hour=12, tzinfo=cst)) == 1
            u.commit()

    def test_outbox_purge_refuses_wrong_arguments(self, seeded: Storage) -> None:
        with seeded.unit_of_work() as u:
            u.outbox.mark_delivered(["E1"])
            u.commit()
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            for moment, limit in ((T0.isoformat(), 1), (T0.date(), 1), (None, 1),
                                  (T0, "1"), (T0, 1.0), (T0, True), (T0, None)):
                with pytest.raises(TypeError):
                    u.outbox.purge(moment, limit)  # type: ignore[arg-type]
            for limit in (0, -1):
                with pytest.raises(JxcError) as info:
                    u.outbox.purge(T0 + dt.timedelta(days=1), limit)
                assert info.value.code == "configuration"
        assert snapshot(seeded) == before
        assert self._ids_used(seeded, ["E1"]) == ["E1"]  # nothing purged

    def test_outbox_purge_survives_restart(self, storage: Storage, tmp_path: Path) -> None:
        self._outbox_of(storage, ["e1", "e3", "e5"])
        with storage.unit_of_work() as u:
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 3
            u.commit()
        with storage.unit_of_work() as u:  # purged, never committed
            u.outbox.mark_delivered(["e2"])
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 1
        again = self.restart(storage, tmp_path)
        assert self._ids_used(again, ["e1", "e2", "e3", "e4", "e5"]) == ["e2", "e4"]
        with again.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e2", "e4"]
            assert u.outbox.purge(T0 + dt.timedelta(days=1)) == 0
            u.outbox.add([event("n1", 6)])
            u.commit()
        with again.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending()] == ["e2", "e4", "n1"]

    # -- exact values -------------------------------------------------------------------------
    def _write_exact(self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            for n, text in enumerate(EXACT, start=1):
                v = D(text)
                u.ledger.append([entry(n, quantity=v, value=v, item=f"X{n}",
                                       at=T0 + dt.timedelta(microseconds=n))])
                u.balances.put([Balance(f"X{n}", "W", "", "", v, D(0), v, v, v)])
                u.reservations.add(Reservation(f"R{n}", f"X{n}", "W", "", "SO", v,
                                               T0 + dt.timedelta(microseconds=n)))
                u.valuations.put((f"X{n}", "W"), {"value": text, "nested": [{"q": text}]})
                u.idempotency.put(f"K{n}", "fp", {"value": text})
            u.commit()

    def _check_exact(self, storage: Storage) -> None:
        with storage.unit_of_work() as u:
            for n, text in enumerate(EXACT, start=1):
                (e,) = u.ledger.entries(f"X{n}")
                assert (str(e.quantity), str(e.value)) == (text, text)
                assert e.posted_at == T0 + dt.timedelta(microseconds=n)
                (b,) = u.balances.for_item(f"X{n}", "W")
                assert [str(b.on_hand), str(b.on_order), str(b.demand), str(b.held)] == [
                    text, text, text, text]
                (r,) = u.reservations.for_item(f"X{n}", "W")
                assert str(r.quantity) == text
                assert r.expires_at == T0 + dt.timedelta(microseconds=n)
                assert u.valuations.get((f"X{n}", "W")) == {"value": text,
                                                             "nested": [{"q": text}]}
                assert u.idempotency.get(f"K{n}") == ("fp", {"value": text})

    def test_decimals_round_trip_exactly(self, storage: Storage) -> None:
        self._write_exact(storage)
        self._check_exact(storage)

    def test_decimals_round_trip_exactly_after_restart(
        self, storage: Storage, tmp_path: Path
    ) -> None:
        self._write_exact(storage)
        self._check_exact(self.restart(storage, tmp_path))

    @pytest.mark.parametrize("read", [
        lambda u: u.valuations.get(("A", "W")),
        lambda u: u.idempotency.get("K1")[1],
        lambda u: u.checkpoints.latest(("A", "W"), dt.datetime(2100, 1, 1))[2],
        lambda u: u.outbox.pending()[0].payload,
    ], ids=["valuation", "idempotency_result", "checkpoint_state", "event_payload"])
    def test_read_state_is_a_copy(self, seeded: Storage, read: Callable[[UnitOfWork], Any]
                                  ) -> None:
        """Mutating a dict read from a repository is not a write that bypasses the unit of work."""
        before = snapshot(seeded)
        with seeded.unit_of_work() as u:
            state = read(u)
            assert isinstance(state, dict) and state
            state.clear()
            state["changed"] = True
        assert snapshot(seeded) == before

    def test_stored_state_is_a_copy(self, storage: Storage) -> None:
        """Mutating a dict after handing it to a repository does not change what is stored."""
        state: dict[str, Any] = {"method": "fifo", "layers": [["R1", "1", "2.50"]]}
        result: dict[str, Any] = {"result": ["1"]}
        with storage.unit_of_work() as u:
            u.valuations.put(("A", "W"), state)
            u.idempotency.put("K", "fp", result)
            u.commit()
        state["layers"].append(["R2", "9", "9.99"])
        result["result"].append("2")
        with storage.unit_of_work() as u:
            assert u.valuations.get(("A", "W")) == {"method": "fifo",
                                                    "layers": [["R1", "1", "2.50"]]}
            assert u.idempotency.get("K") == ("fp", {"result": ["1"]})

    def test_written_change_is_a_copy_unless_owned(self, storage: Storage) -> None:
        """A ``ValuationChange`` not handed over (``owned=False``, the default): changing its
        header or rows after ``write`` changes nothing stored. One handed over (``owned=True``)
        is stored with the same content (the adapter may keep it without copying)."""
        header: dict[str, Any] = {"method": "fifo", "q": ["1"]}
        row: list[Any] = ["1", "2.50"]
        owned_header: dict[str, Any] = {"method": "fifo", "q": ["2"]}
        with storage.unit_of_work() as u:
            u.valuations.write([ValuationChange(("A", "W"), header, ((0, row),), True),
                                ValuationChange(("B", "W"), owned_header, ((0, ["3", "1.00"]),),
                                                True, True)])
            u.commit()
        header["q"].append("9")
        row.append("9.99")
        with storage.unit_of_work() as u:
            assert u.valuations.get(("A", "W")) == {"method": "fifo", "q": ["1"],
                                                    "rows": [[0, ["1", "2.50"]]]}
            assert u.valuations.get(("B", "W")) == {"method": "fifo", "q": ["2"],
                                                    "rows": [[0, ["3", "1.00"]]]}

    def test_records_and_results_are_kept_as_json_keeps_them(self, storage: Storage) -> None:
        """A record or an idempotency result comes back as JSON gives it back (a tuple as a
        list), and what JSON cannot carry (a Decimal) is a ``TypeError``, writing nothing."""
        with storage.unit_of_work() as u:
            u.records.put("k", "1", {"pair": ("a", 1), "n": 2})
            u.idempotency.put("K1", "fp", {"rows": ("x",)})
            u.commit()
        with storage.unit_of_work() as u:
            assert u.records.get("k", "1") == {"pair": ["a", 1], "n": 2}
            assert u.idempotency.get("K1") == ("fp", {"rows": ["x"]})
        with storage.unit_of_work() as u, pytest.raises(TypeError):
            u.records.put("k", "2", {"amount": D("1.50")})
        with storage.unit_of_work() as u, pytest.raises(TypeError):
            u.idempotency.put("K2", "fp", {"amount": D("1.50")})
        with storage.unit_of_work() as u:
            assert u.records.get("k", "2") is None and u.idempotency.get("K2") is None

    def test_stored_document_is_a_copy(self, storage: Storage) -> None:
        """A document's nested data (lines, counters) handed to the repository, or read from
        it, is not the stored document: changing it later changes nothing stored."""
        data: dict[str, Any] = {"doc_id": "D1", "lines": [[1, "A", "2"]],
                                "counters": {"1": {"received": "2"}}}
        with storage.unit_of_work() as u:
            u.documents.put("D1", "purchase_receipt", "draft", data)
            u.commit()
        data["lines"].append([2, "B", "3"])
        data["counters"]["1"]["received"] = "9"
        expected = {"doc_id": "D1", "lines": [[1, "A", "2"]],
                    "counters": {"1": {"received": "2"}}}
        with storage.unit_of_work() as u:
            read = u.documents.get("D1")
            assert read == expected
            assert read is not None
            read["lines"][0][2] = "7"
            read["counters"]["1"].clear()
        with storage.unit_of_work() as u:
            assert u.documents.get("D1") == expected

    def test_document_that_json_cannot_carry_is_refused(self, storage: Storage) -> None:
        """Both adapters keep documents as JSON: a value JSON cannot carry (a Decimal, a set)
        is refused by ``put``, as SQLite refuses it."""
        for bad in (Decimal("1.5"), {1, 2}):
            with storage.unit_of_work() as u, pytest.raises(TypeError):
                u.documents.put("D1", "purchase_receipt", "draft", {"x": bad})
        with storage.unit_of_work() as u:
            assert u.documents.get("D1") is None

    def test_journal_rows_are_copies_and_json_only(self, storage: Storage) -> None:
        """Journal rows are kept as JSON by both adapters: a row changed after the append, or
        after a read, changes nothing stored; a Decimal in a row is refused."""
        row: dict[str, Any] = {"doc_id": "D1", "role": "inventory", "debit": "1.00"}
        with storage.unit_of_work() as u:
            u.journal.append([row])
            u.commit()
        row["debit"] = "9.00"
        with storage.unit_of_work() as u:
            (read,) = u.journal.all("D1")
            assert read == {"doc_id": "D1", "role": "inventory", "debit": "1.00"}
            read["debit"] = "7.00"
            assert u.journal.all() == [{"doc_id": "D1", "role": "inventory", "debit": "1.00"}]
            with pytest.raises(TypeError):
                u.journal.append([{"doc_id": "D2", "debit": Decimal("1.00")}])

    # -- restart durability -------------------------------------------------------------------
    def test_committed_survives_restart_uncommitted_does_not(
        self, seeded: Storage, tmp_path: Path
    ) -> None:
        with seeded.unit_of_work() as u:  # committed on top of the seed
            for _, write in WRITES[:8]:
                write(u)
            u.commit()
        committed = snapshot(seeded)
        with seeded.unit_of_work() as u:  # never committed
            for _, write in WRITES[8:]:
                write(u)
        with pytest.raises(Boom), seeded.unit_of_work() as u:
            u.ledger.append([entry(99)])
            raise Boom
        again = self.restart(seeded, tmp_path)
        assert snapshot(again) == committed
        with again.unit_of_work() as u:  # the file is writable and the numbers go on
            assert u.sequences.next("s") == 2
            u.ledger.append([entry(4)])
            u.commit()
        assert snapshot(again)["ledger_count"] == committed["ledger_count"] + 1

    # -- service level: idempotency -----------------------------------------------------------
    @pytest.mark.parametrize("command", [c for _, c in IDEMPOTENT], ids=IDEMPOTENT_IDS)
    def test_idempotent_replay_has_no_second_effect(
        self, storage: Storage, command: Command
    ) -> None:
        jxc = setup_service(storage)
        before = service_state(jxc)
        first = command(jxc, "key-1")
        after_first = service_state(jxc)
        assert after_first != before
        second = command(jxc, "key-1")
        assert second == first
        assert service_state(jxc) == after_first

    def test_idempotent_replay_of_lot_issue_is_equal(self, storage: Storage) -> None:
        jxc = setup_service(storage)
        first = jxc.issue("L", "W", D(1), lot="LOT-1", idempotency_key="key-lot")
        assert first.entries[0].from_ref == "LOT-1"
        second = jxc.issue("L", "W", D(1), lot="LOT-1", idempotency_key="key-lot")
        assert second == first

    def test_idempotency_conflict_writes_nothing(self, storage: Storage) -> None:
        jxc = setup_service(storage)
        posted = jxc.receive("A", "W", D(5), D("2.50"), idempotency_key="key-c")
        before = service_state(jxc)
        for clash in (
            lambda: jxc.receive("A", "W", D(6), D("2.50"), idempotency_key="key-c"),
            lambda: jxc.receive("A", "V", D(5), D("2.50"), idempotency_key="key-c"),
            lambda: jxc.issue("A", "W", D(1), idempotency_key="key-c"),
            lambda: jxc.reserve([ReserveLine("SO-1/1", "A", "W", D(1))],
                                idempotency_key="key-c"),
        ):
            with pytest.raises(JxcError) as info:
                clash()
            assert info.value.code == "idempotency_conflict"
            assert service_state(jxc) == before
        # the same payload (5 written as 5.0) is still the same command
        assert jxc.receive("A", "W", D("5.0"), D("2.500"), idempotency_key="key-c") == posted

    # -- service level: outbox ------------------------------------------------------------------
    def test_events_delivered_after_commit(self, storage: Storage) -> None:
        notifier = RecordingNotifier()
        jxc = setup_service(storage, notifier)
        seen = len(notifier.delivered)
        assert seen >= 3  # one per set-up receipt at least
        jxc.receive("A", "W", D(2), D("2.50"), doc_id="RK-NEW")
        new = notifier.delivered[seen:]
        assert [e.type for e in new] == ["stock_changed"]
        assert new[0].payload["doc_id"] == "RK-NEW"
        with storage.unit_of_work() as u:
            assert u.outbox.pending() == []

    def test_failed_command_delivers_no_event(self, storage: Storage) -> None:
        notifier = RecordingNotifier()
        jxc = setup_service(storage, notifier)
        before = service_state(jxc)
        seen = len(notifier.attempts)
        with pytest.raises(JxcError) as info:
            jxc.issue("A", "W", D(1000))
        assert info.value.code == "insufficient_stock"

        def fail_at_commit(table: str) -> None:
            if table == "commit":
                raise Boom

        storage.fault = fail_at_commit  # type: ignore[attr-defined]
        try:
            with pytest.raises(Boom):  # the events were in the outbox when it failed
                jxc.receive("A", "W", D(1), D("2.50"))
        finally:
            storage.fault = None  # type: ignore[attr-defined]
        assert notifier.attempts[seen:] == []
        assert service_state(jxc) == before

    def test_failing_notifier_leaves_event_pending(self, storage: Storage) -> None:
        notifier = RecordingNotifier()
        jxc = setup_service(storage, notifier)
        notifier.down = True
        with contextlib.suppress(NotifierDown):
            jxc.receive("A", "W", D(2), D("2.50"), doc_id="RK-LATE")
        assert jxc.balance("A", "W").on_hand == D(12)  # the command itself committed
        with storage.unit_of_work() as u:
            (pending,) = u.outbox.pending()
        assert pending.payload["doc_id"] == "RK-LATE"
        assert notifier.attempts[-1] == pending
        with pytest.raises(NotifierDown):  # still down: still pending
            jxc.deliver_events()
        notifier.down = False
        assert jxc.deliver_events() == 1
        assert notifier.delivered[-1] == pending  # same id, same data
        assert jxc.deliver_events() == 0
        with storage.unit_of_work() as u:
            assert u.outbox.pending() == []

    def test_failing_notifier_does_not_fail_the_command(self, storage: Storage) -> None:
        notifier = RecordingNotifier()
        jxc = setup_service(storage, notifier)
        notifier.down = True
        posting = jxc.receive("A", "W", D(2), D("2.50"), doc_id="RK-OK")
        assert isinstance(posting, Posting) and posting.value == D("5.00")
        assert jxc.balance("A", "W").on_hand == D(12)

    def test_event_ids_stable_and_unique(self, storage: Storage) -> None:
        notifier = FirstAttemptFails()
        jxc = setup_service(storage, notifier)
        for n in range(5):
            with contextlib.suppress(NotifierDown):
                jxc.receive("A", "W", D(1), D("2.50"), doc_id=f"RK-{n}")
            with contextlib.suppress(NotifierDown):
                jxc.reserve([ReserveLine(f"SO-{n}/1", "B", "W", D(100))])  # short: an event
        while True:
            with contextlib.suppress(NotifierDown):
                if jxc.deliver_events() == 0:
                    break
        with storage.unit_of_work() as u:
            assert u.outbox.pending() == []
        ids = [e.event_id for e in notifier.delivered]
        assert len(ids) == len(set(ids))  # unique, each delivered once
        attempted = {e.event_id: e for e in notifier.attempts}
        assert set(ids) == set(attempted)  # every event attempted was delivered in the end
        for e in notifier.delivered:  # the retry carries the same id and the same data
            assert attempted[e.event_id] == e
        docs = [e.payload["doc_id"] for e in notifier.delivered if e.type == "stock_changed"]
        assert docs[-5:] == [f"RK-{n}" for n in range(5)]  # in order
        assert [e.type for e in notifier.delivered].count("reservation_short") == 5

    def test_purge_events_keeps_what_is_pending_and_delivers_it_in_order(
        self, storage: Storage
    ) -> None:
        """Through the service, with a clock and a notifier: a purge deletes the delivered
        events of the days before the moment and returns their number; events the notifier
        refused stay pending across purges and are delivered afterwards, in order, before the
        ones recorded after the purge."""
        notifier = RecordingNotifier()
        clock = MovingClock(NOW)
        jxc = Jxc(storage, notifier=notifier, clock=clock)
        jxc.define_item(Item("A", "apple"))
        jxc.define_warehouse(Warehouse("W", "main"))
        jxc.receive("A", "W", D(10), PRICE, doc_id="RK-1")  # delivered, day 0
        clock.at = NOW + dt.timedelta(days=1)
        jxc.receive("A", "W", D(1), PRICE, doc_id="RK-2")  # delivered, day 1
        notifier.down = True
        clock.at = NOW + dt.timedelta(days=2)
        jxc.receive("A", "W", D(1), PRICE, doc_id="RK-3")  # pending, day 2
        assert jxc.delivery_failures == 1
        clock.at = NOW + dt.timedelta(days=30)
        assert jxc.purge_events(occurred_before=NOW + dt.timedelta(days=1)) == 1
        assert jxc.purge_events(occurred_before=NOW + dt.timedelta(days=1)) == 0
        assert jxc.purge_events(occurred_before=clock.at) == 1  # RK-2's, never RK-3's
        jxc.receive("A", "W", D(1), PRICE, doc_id="RK-4")  # pending, after the purge
        notifier.down = False
        assert jxc.deliver_events() == 2
        docs = [e.payload.get("doc_id") for e in notifier.delivered if e.type == "stock_changed"]
        assert docs == ["RK-1", "RK-2", "RK-3", "RK-4"]
        assert jxc.purge_events(occurred_before=clock.at, limit=1) == 1
        assert jxc.purge_events(occurred_before=clock.at + dt.timedelta(seconds=1)) == 1
        with storage.unit_of_work() as u:
            assert u.outbox.pending() == []
            assert u.outbox.purge(dt.datetime.max) == 0
        assert jxc.balance("A", "W").on_hand == D(13)  # the stock is not the outbox's

    # -- service level: restart -----------------------------------------------------------------
    def test_service_state_survives_restart(self, storage: Storage, tmp_path: Path) -> None:
        jxc = setup_service(storage)
        jxc.issue("A", "W", D(3))
        jxc.transfer("A", "W", "V", D(2))
        jxc.receive("B", "V", D("2.5"), D("1.33"))
        jxc.reserve([ReserveLine("SO-1/1", "A", "W", D(4)),
                     ReserveLine("SO-1/2", "B", "V", D(1))])
        jxc.reserve([ReserveLine("SO-2/1", "A", "V", D(1))], expires_at=NOW + dt.timedelta(1))
        before = service_state(jxc)
        assert before["pending"] and before["reservations"]
        assert before["values"][:2] == [D("12.50"), D("5.00")]
        again = Jxc(self.restart(storage, tmp_path), clock=FixedClock())
        assert service_state(again) == before
        notifier = RecordingNotifier()
        again.notifier = notifier
        assert again.deliver_events() == len(before["pending"])
        assert notifier.delivered == before["pending"]
        last = max(line.entry.entry_no for lines in before["ledger"] for line in lines)
        posting = again.receive("A", "W", D(1), D("2.50"))
        assert posting.entries[0].entry_no > last


def snapshot_of_uow(u: UnitOfWork) -> dict[str, Any]:
    """What a unit of work reads of its own (possibly uncommitted) writes."""
    return {
        "ledger": [e.entry_no for e in u.ledger.entries("A")],
        "balances": sorted(str(b) for b in u.balances.all()),
        "valuation": u.valuations.get(("A", "V")),
        "reservations": sorted(str(r) for r in u.reservations.all()),
        "serials": [u.serials.where("A", s) for s in ("S1", "S2")],
        "serials_in": [u.serials.in_warehouse("A", w) for w in ("W", "V")],
        "pending": [e.event_id for e in u.outbox.pending()],
        "idempotency": u.idempotency.get("K2"),
        "items": [u.master.get_item(c) for c in ("A", "B")],
        "lot": u.master.get_lot("A", "L2"),
    }


def snapshot_of_uow_from(storage: Storage) -> dict[str, Any]:
    with storage.unit_of_work() as u:
        return snapshot_of_uow(u)

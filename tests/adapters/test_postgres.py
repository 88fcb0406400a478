"""The storage contract on the PostgreSQL adapter (with restart durability), and what is
PostgreSQL's own: schema versions, foreign schemas, lost connections, server errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import PostgresStorage
from jxc_core.adapters.postgres import MIGRATIONS
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc
from jxc_core.stock import Balance, Item, LedgerEntry, Warehouse
from jxc_core.testing import StorageContract

psycopg = pytest.importorskip("psycopg")
D = Decimal


class TestPostgres(StorageContract):
    @pytest.fixture(autouse=True)
    def _dsn(self, pg_dsn: str) -> None:
        self.dsn = pg_dsn

    def make_storage(self, tmp_path: Path) -> Storage:
        return PostgresStorage(self.dsn)

    def reopen(self, storage: Storage, tmp_path: Path) -> Storage | None:
        return PostgresStorage(self.dsn)

    def other_writer(self, storage: Storage, tmp_path: Path) -> Storage:
        return PostgresStorage(self.dsn)

    def test_schema_version_survives_restart(self, storage: Storage, tmp_path: Path) -> None:
        assert isinstance(storage, PostgresStorage)
        assert storage.schema_version == len(MIGRATIONS)
        again = self.restart(storage, tmp_path)
        assert isinstance(again, PostgresStorage)
        assert again.schema_version == len(MIGRATIONS)


def _filled(dsn: str) -> tuple[PostgresStorage, Jxc]:
    storage = PostgresStorage(dsn)
    jxc = Jxc(storage)
    jxc.define_warehouse(Warehouse("W", "w"))
    jxc.define_item(Item("A", "a"))
    jxc.receive("A", "W", D(10), D("1.00"), doc_id="R0")
    return storage, jxc


def _kill(storage: PostgresStorage, base: str) -> None:
    """End the server process of this thread's connection (as a restart or a network cut
    would)."""
    pid = storage._connection().info.backend_pid
    with psycopg.connect(base, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_lost_between_commands_is_replaced(pg_dsn: str) -> None:
    """The server ends an idle connection: the next unit of work opens a new one (nothing was
    in flight) and the command works."""
    storage, jxc = _filled(pg_dsn)
    _kill(storage, pg_dsn)
    jxc.receive("A", "W", D(1), D("1.00"))
    assert jxc.balance("A", "W").on_hand == 11
    storage.close()


def test_a_connection_lost_inside_a_unit_of_work_is_a_storage_error(pg_dsn: str) -> None:
    """The connection dies in the middle of a unit of work: ``storage_error`` (problem
    ``connection``, en + zh reason, the DSN without password as ``path``, psycopg's error as
    ``__cause__``); a later write or commit in it is ``rolled_back``; nothing was written and
    the next unit of work works on a new connection."""
    storage, jxc = _filled(pg_dsn)
    with pytest.raises(JxcError) as at_exit, storage.unit_of_work() as u:
        u.sequences.next("s")
        _kill(storage, pg_dsn)
        with pytest.raises(JxcError) as inside:
            u.ledger.append([LedgerEntry(100, "A", "W", "", "", D(1), D(1),
                                         dt.datetime(2026, 1, 1), "receipt", "receipt", "X",
                                         1, "")])
        error = inside.value
        assert error.code == "storage_error" and error.data["problem"] == "connection"
        assert error.data["path"] == storage.path
        assert "连接" in error.message_zh and "connection" in str(error)
        assert isinstance(error.__cause__, psycopg.OperationalError)
        for write in (lambda: u.sequences.next("s"), u.commit):
            with pytest.raises(JxcError) as later:
                write()
            assert later.value.data["problem"] == "rolled_back"
            assert later.value.__cause__ is error
        raise error
    assert at_exit.value is inside.value
    with storage.unit_of_work() as u:
        assert u.sequences.next("s") == 1  # the lost unit of work kept nothing
    assert jxc.balance("A", "W").on_hand == 10
    storage.close()


def test_a_server_side_error_loses_the_unit_of_work_clearly(pg_dsn: str) -> None:
    """A write the server refuses (here: a read-only transaction) is ``storage_error``
    (``read_only``); PostgreSQL aborted the transaction, so a later write or commit in the
    unit of work is refused (``rolled_back``) instead of committing half of it."""
    storage, jxc = _filled(pg_dsn)
    with storage.unit_of_work() as u:
        u.sequences.next("s")
        u._con.execute("SET TRANSACTION READ ONLY")  # type: ignore[attr-defined]
        with pytest.raises(JxcError) as info:
            u.master.put_item(Item("B", "b"))
        assert info.value.code == "storage_error"
        assert info.value.data["problem"] == "read_only"
        with pytest.raises(JxcError) as later:
            u.commit()
        assert later.value.data["problem"] == "rolled_back"
    assert jxc.balance("A", "W").on_hand == 10
    with storage.unit_of_work() as u:
        assert u.master.get_item("B") is None and u.sequences.next("s") == 1
    storage.close()


def test_any_psycopg_error_in_a_unit_of_work_reaches_the_caller_as_a_storage_error(
    pg_dsn: str
) -> None:
    """Whatever psycopg error a unit of work meets (here injected before a ledger write) leaves
    the block as ``storage_error`` with the original as ``__cause__``; nothing is written."""
    storage, jxc = _filled(pg_dsn)
    raised = psycopg.OperationalError("server closed the connection unexpectedly")

    def fail(table: str) -> None:
        if table == "ledger":
            raise raised

    storage.fault = fail
    with pytest.raises(JxcError) as info:
        jxc.receive("A", "W", D(1), D("1.00"))
    storage.fault = None
    assert info.value.code == "storage_error" and info.value.data["problem"] == "connection"
    assert info.value.__cause__ is raised
    assert jxc.balance("A", "W").on_hand == 10
    storage.close()


def test_waiting_too_long_for_the_lock_is_a_storage_error(pg_dsn: str) -> None:
    """Another unit of work holds the lock past ``lock_timeout_ms``: ``storage_error``
    (``locked``); once it ends, the next one goes through."""
    holder = PostgresStorage(pg_dsn)
    waiter = PostgresStorage(pg_dsn, lock_timeout_ms=200)
    with holder.unit_of_work() as h:
        h.master.put_item(Item("H", "held"))
        with pytest.raises(JxcError) as info, waiter.unit_of_work():
            pass
        assert info.value.code == "storage_error" and info.value.data["problem"] == "locked"
        assert "锁定" in info.value.message_zh
        h.commit()
    with waiter.unit_of_work() as w:
        assert w.master.get_item("H") is not None
    holder.close()
    waiter.close()


def test_writers_wait_for_each_other(pg_dsn: str) -> None:
    """The advisory lock serialises units of work: a second one starts only after the first
    ended, so what the first checked still holds when it writes."""
    first, second = PostgresStorage(pg_dsn), PostgresStorage(pg_dsn)
    order: list[str] = []
    entered = threading.Event()

    def other() -> None:
        entered.wait(10)
        with second.unit_of_work() as u:
            order.append("second")
            u.sequences.next("n")
            u.commit()

    thread = threading.Thread(target=other)
    thread.start()
    with first.unit_of_work() as u:
        entered.set()
        time.sleep(0.3)
        order.append("first")
        u.sequences.next("n")
        u.commit()
    thread.join(10)
    assert order == ["first", "second"]
    with first.unit_of_work() as u:
        assert u.sequences.next("n") == 3
    first.close()
    second.close()


def test_text_postgresql_cannot_store_is_refused_and_the_unit_of_work_goes_on(
    pg_dsn: str
) -> None:
    """A lone surrogate is ``invalid_text``, a NUL character ``configuration`` (PostgreSQL
    text cannot hold it); neither aborts the transaction nor leaves rows behind."""
    storage = PostgresStorage(pg_dsn)
    with storage.unit_of_work() as u:
        u.balances.put([Balance("I", "W", "kept", "", D(2))])
        with pytest.raises(JxcError) as info:
            u.balances.put([Balance("I", "W", "a", "", D(1)),
                            Balance("I", "W", "\ud800", "", D(1))])
        assert info.value.code == "invalid_text"
        with pytest.raises(JxcError) as info:
            u.balances.put([Balance("I", "W", "b", "", D(1)),
                            Balance("I", "W", "x\x00", "", D(1))])
        assert info.value.code == "configuration" and "NUL" in str(info.value)
        assert "NUL" in info.value.message_zh and "无法" in info.value.message_zh
        with pytest.raises(JxcError) as info:
            u.master.get_item("\udc00")
        assert info.value.code == "invalid_text"
        u.commit()
    with storage.unit_of_work() as u:
        assert [b.location for b in u.balances.for_item("I", "W")] == ["kept"]
    storage.close()


def test_a_foreign_or_newer_schema_is_refused(pg_dsn: str) -> None:
    """A schema with another application's tables and no ``jxc_schema`` is ``configuration``
    and left alone; so is a store written by a newer jxc_core."""
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(JxcError) as info:
        PostgresStorage(pg_dsn)
    assert info.value.code == "configuration" and "customers" in str(info.value)
    assert "不是 jxc_core 存储" in info.value.message_zh
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        assert tables == ["customers"]
        con.execute("DROP TABLE customers")
    PostgresStorage(pg_dsn).close()
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute("UPDATE jxc_schema SET version = version + 1")
    with pytest.raises(JxcError) as info:
        PostgresStorage(pg_dsn)
    assert info.value.code == "configuration" and "schema version" in str(info.value)


def test_a_server_it_cannot_reach_is_a_storage_error(tmp_path: Path) -> None:
    """No server behind the DSN: ``storage_error`` (``connection``) naming the DSN without its
    password; a DSN that is not one is ``configuration``."""
    with pytest.raises(JxcError) as info:
        PostgresStorage(f"host={tmp_path} dbname=x user=u password=secret", connect_timeout=2)
    assert info.value.code == "storage_error" and info.value.data["problem"] == "connection"
    assert "secret" not in str(info.value) and str(tmp_path) in info.value.data["path"]
    assert "连接" in info.value.message_zh
    with pytest.raises(JxcError) as info:
        PostgresStorage("this is = not a dsn")
    assert info.value.code == "configuration"


def test_without_psycopg_the_refusal_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """``import jxc_core`` needs no psycopg; making a PostgresStorage without it is
    ``configuration`` saying what to install (in English and Chinese)."""
    from jxc_core.adapters import postgres

    monkeypatch.setattr(postgres, "_pg", None)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(JxcError) as info:
        PostgresStorage("dbname=x")
    assert info.value.code == "configuration"
    assert "jxc_core[postgres]" in str(info.value) and "需要 psycopg" in info.value.message_zh


def test_jxc_core_imports_without_psycopg() -> None:
    code = ("import sys; sys.modules['psycopg'] = None; import jxc_core, jxc_core.adapters; "
            "from jxc_core.adapters import PostgresStorage; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_values_are_stored_as_text_exactly(pg_dsn: str) -> None:
    """Quantities and values are TEXT columns holding the Decimal's own text (never a float,
    never NUMERIC's normal form)."""
    storage = PostgresStorage(pg_dsn)
    with storage.unit_of_work() as u:
        u.balances.put([Balance("X", "W", "", "", D("1E+30"), D(0), D(0), D("0E-8"), D("0.10"))])
        u.commit()
    with psycopg.connect(pg_dsn) as con:
        row = con.execute("SELECT on_hand, on_order, demand, pg_typeof(on_hand)::text "
                          "FROM balances").fetchone()
    assert row == ("1E+30", "0E-8", "0.10", "text")
    storage.close()

"""WAL checkpoints of the SQLite adapter: on a background thread by default, inline on
request; the background thread really copies the log into the database file, stops with
``close()`` and ends with a storage dropped without it."""

from __future__ import annotations

import gc
import shutil
import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import SqliteStorage
from jxc_core.adapters.sqlite import CHECKPOINT_EVERY_COMMITS, SAFETY_CHECKPOINT_PAGES
from jxc_core.errors import JxcError
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse

D = Decimal


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jxc-sqlite-checkpoint"]


def _thread_of(storage: SqliteStorage) -> threading.Thread | None:
    return storage._checkpointer._thread if storage._checkpointer is not None else None


def _wait(condition: object, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def _fill(storage: SqliteStorage, receipts: int) -> Jxc:
    j = Jxc(storage)
    j.define_item(Item("A", "apple"))
    j.define_warehouse(Warehouse("W", "main"))
    for _ in range(receipts):
        j.receive("A", "W", D(1), D("2.00"))
    return j


def _rows_in_main_file(path: Path, tmp_path: Path) -> int:
    """Ledger rows in the database file alone (a copy without its -wal: only what was
    checkpointed)."""
    copy = tmp_path / "main-only.db"
    shutil.copyfile(path, copy)
    con = sqlite3.connect(copy)
    try:
        return int(con.execute("SELECT count(*) FROM ledger").fetchone()[0])
    except sqlite3.OperationalError:  # the tables themselves are not checkpointed yet
        return 0
    except sqlite3.DatabaseError:  # copied while the thread was writing pages: a torn copy,
        return 0  # looked at again by _wait
    finally:
        con.close()


def test_background_thread_checkpoints_the_log_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bg.db"
    storage = SqliteStorage(str(path))
    try:
        assert storage.checkpoints == "background"
        con = storage._connection()
        assert con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SAFETY_CHECKPOINT_PAGES
        _fill(storage, CHECKPOINT_EVERY_COMMITS * 3)
        # the committing connection never reached its own (larger) checkpoint size ...
        assert _wait(lambda: storage.background_checkpoints >= 1)
        # ... yet the database file alone holds receipts: the thread copied the log back
        assert _wait(lambda: _rows_in_main_file(path, tmp_path) >= CHECKPOINT_EVERY_COMMITS)
        thread = _thread_of(storage)
        assert thread is not None and thread.is_alive() and thread in _threads()
    finally:
        storage.close()
    assert not thread.is_alive() and _thread_of(storage) is None


def test_inline_checkpoints_start_no_thread(tmp_path: Path) -> None:
    storage = SqliteStorage(str(tmp_path / "inline.db"), checkpoints="inline")
    try:
        con = storage._connection()
        assert con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's own
        j = _fill(storage, CHECKPOINT_EVERY_COMMITS * 2)
        assert storage.background_checkpoints == 0
        assert storage._checkpointer is None  # nothing that could start a thread
        assert j.balance("A", "W").on_hand == CHECKPOINT_EVERY_COMMITS * 2
    finally:
        storage.close()


def test_a_dropped_storage_ends_its_thread(tmp_path: Path) -> None:
    storage = SqliteStorage(str(tmp_path / "dropped.db"))
    _fill(storage, CHECKPOINT_EVERY_COMMITS + 1)
    assert _wait(lambda: storage.background_checkpoints >= 1)
    thread = storage._checkpointer._thread if storage._checkpointer else None
    assert thread is not None and thread.is_alive()
    storage.close()  # connections closed; the thread is stopped and joined here
    assert not thread.is_alive()
    # a storage never closed: its thread ends once the storage is gone
    other = SqliteStorage(str(tmp_path / "dropped.db"))
    _fill(other, CHECKPOINT_EVERY_COMMITS + 1)
    assert other._checkpointer is not None
    thread = other._checkpointer._thread
    assert thread is not None
    del other
    gc.collect()
    assert _wait(lambda: not thread.is_alive())


def test_reopened_file_has_everything_with_either_setting(tmp_path: Path) -> None:
    path = str(tmp_path / "both.db")
    first = SqliteStorage(path)
    _fill(first, CHECKPOINT_EVERY_COMMITS * 2 + 5)
    first.close()
    again = SqliteStorage(path, checkpoints="inline")
    try:
        j = Jxc(again)
        assert j.balance("A", "W").on_hand == CHECKPOINT_EVERY_COMMITS * 2 + 5
        assert j.balance("A", "W").value == D("2.00") * (CHECKPOINT_EVERY_COMMITS * 2 + 5)
    finally:
        again.close()


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JxcError) as err:
        SqliteStorage(str(tmp_path / "x.db"), checkpoints="sometimes")
    assert err.value.code == "configuration"


def test_a_storage_used_again_after_close_checkpoints_again(tmp_path: Path) -> None:
    storage = SqliteStorage(str(tmp_path / "again.db"))
    try:
        j = _fill(storage, CHECKPOINT_EVERY_COMMITS + 1)
        assert _wait(lambda: storage.background_checkpoints >= 1)
        first = _thread_of(storage)
        storage.close()
        assert first is not None and not first.is_alive()
        done = storage.background_checkpoints
        for _ in range(CHECKPOINT_EVERY_COMMITS):  # the connection reopens; so does the thread
            j.receive("A", "W", D(1), D("2.00"))
        assert _wait(lambda: storage.background_checkpoints > done)
        second = _thread_of(storage)
        assert second is not None and second is not first and second.is_alive()
    finally:
        storage.close()
    assert not second.is_alive()

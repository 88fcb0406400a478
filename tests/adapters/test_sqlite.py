"""The storage contract on the SQLite adapter (with restart durability)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from jxc_core.adapters import SqliteStorage
from jxc_core.adapters.sqlite import MIGRATIONS
from jxc_core.ports import Storage
from jxc_core.testing import StorageContract


class TestSqlite(StorageContract):
    def make_storage(self, tmp_path: Path) -> Storage:
        return SqliteStorage(str(tmp_path / "contract.db"))

    def reopen(self, storage: Storage, tmp_path: Path) -> Storage | None:
        return SqliteStorage(str(tmp_path / "contract.db"))

    def other_writer(self, storage: Storage, tmp_path: Path) -> Storage:
        return SqliteStorage(str(tmp_path / "contract.db"))

    def test_schema_version_survives_restart(self, storage: Storage, tmp_path: Path) -> None:
        assert isinstance(storage, SqliteStorage)
        assert storage.schema_version == len(MIGRATIONS)
        again = self.restart(storage, tmp_path)
        assert isinstance(again, SqliteStorage)
        assert again.schema_version == len(MIGRATIONS)

    def test_journal_of_schema_5_is_migrated_with_its_positions(self, tmp_path: Path) -> None:
        """A file of schema 5 (journal keyed by seq) holding rows stored alone (each a JSON
        object, the earliest form) and rows stored a posting per table row: opened, it is
        migrated; every row reads back in order, ``since`` starts at any position, and new
        appends continue the positions."""
        path = str(tmp_path / "v5.db")
        con = sqlite3.connect(path, isolation_level=None)
        for script in MIGRATIONS[:5]:
            for statement in script.split(";"):
                if statement.strip():
                    con.execute(statement)
        con.execute("PRAGMA user_version = 5")
        alone = {"doc_id": "OLD", "role": "inventory", "debit": "1.00", "credit": "0"}
        keys = ["doc_id", "role", "debit", "credit"]
        batch = [["B", "grni", "0", "2.00"], ["B", "inventory", "2.00", "0"]]
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)", ("OLD", json.dumps(alone)))
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)",
                    ("B", json.dumps([keys, *batch])))
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)", ("OLD", json.dumps(alone)))
        con.close()
        storage = SqliteStorage(path)
        assert storage.schema_version == len(MIGRATIONS)
        rows = [alone, *[dict(zip(keys, v, strict=True)) for v in batch], alone]
        new = {"doc_id": "NEW", "role": "grni", "debit": "0", "credit": "1.00"}
        with storage.unit_of_work() as u:
            assert u.journal.all() == rows
            assert [u.journal.since(n) for n in range(6)] == [rows[n:] for n in range(6)]
            u.journal.append([new, new])
            u.commit()
        rows += [new, new]
        with storage.unit_of_work() as u:
            assert u.journal.all() == rows
            assert u.journal.all("OLD") == [alone, alone]
            assert [u.journal.since(n) for n in range(8)] == [rows[n:] for n in range(8)]
        table = storage._connection().execute("SELECT pos, n, doc_id FROM journal ORDER BY pos")
        assert table.fetchall() == [(0, 1, "OLD"), (1, 2, "B"), (3, 1, "OLD"), (4, 2, "NEW")]
        storage.close()


def test_a_storage_reopened_after_close_never_repeats_a_stamp(tmp_path: Path) -> None:
    """After ``close()`` a new connection starts its ``data_version`` at the same value and
    CPython may give it the freed connection's id(): a stamp made of id() repeated, so a
    ``Jxc`` kept rows that another writer had changed meanwhile and issued stock that was gone
    (on hand then differed from the ledger). Each connection has a serial of its own now."""
    import gc
    from decimal import Decimal as D

    from jxc_core.errors import JxcError
    from jxc_core.services import Jxc
    from jxc_core.stock import Item, Warehouse

    path = str(tmp_path / "stamp.db")
    s = SqliteStorage(path, checkpoints="inline")
    a = Jxc(s)
    a.define_warehouse(Warehouse("W", "w"))
    a.define_item(Item("X", "x"))
    other = Jxc(SqliteStorage(path, checkpoints="inline"))
    stamps = set()
    for i in range(20):
        a.receive("X", "W", D(5), D(1), doc_id=f"R{i}")  # a keeps its rows: 5 on hand
        for _ in range(3):  # the storage reconnects a few times
            s.close()
            gc.collect()
            with s.unit_of_work() as u:
                stamps.add(u.stamp())
        s.close()
        gc.collect()
        other.issue("X", "W", D(5), doc_id=f"B{i}")  # meanwhile another writer takes all 5
        try:
            a.issue("X", "W", D(5), doc_id=f"A{i}")
        except JxcError as exc:
            assert exc.code == "insufficient_stock"
        else:
            raise AssertionError(f"round {i}: issued 5 units that were gone")
    assert len(stamps) == 60  # a new connection, a new stamp
    with s.unit_of_work() as u:
        ledger = sum((e.quantity for e in u.ledger.entries("X", "W")), D(0))
        rows = sum((b.on_hand for b in u.balances.for_item("X", "W")), D(0))
    assert ledger == rows == 0
    other.storage.close()
    s.close()


def test_a_file_it_cannot_open_is_a_clear_refusal(tmp_path: Path) -> None:
    """A missing directory, a directory, a file that is no database, and a file written by a
    newer jxc_core (a schema version it does not know: writing into it could break it) are
    ``configuration`` naming the path, not raw sqlite3 errors."""
    from jxc_core.errors import JxcError

    not_db = tmp_path / "notes.txt"
    not_db.write_text("not a database " * 100)
    newer = tmp_path / "newer.db"
    SqliteStorage(str(newer)).close()
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    con.commit()
    con.close()
    for path, why in ((tmp_path / "nope" / "x.db", "cannot open"), (tmp_path, "cannot open"),
                      (not_db, "not a database"), (newer, "schema version")):
        try:
            SqliteStorage(str(path))
        except JxcError as exc:
            assert exc.code == "configuration" and exc.data["field"] == "path"
            assert str(path) in exc.data["reason"] and why in exc.data["reason"]
        else:
            raise AssertionError(f"{path} opened")
    con = sqlite3.connect(newer)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    con.close()

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

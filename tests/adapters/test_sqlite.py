"""The storage contract on the SQLite adapter (with restart durability)."""

from __future__ import annotations

import json
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

    def test_journal_rows_stored_alone_earlier_read_back(self, storage: Storage) -> None:
        """Before rows were stored a posting per table row, each row was a JSON object of
        its own: such rows still read back, in order with the newer ones."""
        assert isinstance(storage, SqliteStorage)
        old = {"doc_id": "OLD", "role": "inventory", "debit": "1.00", "credit": "0"}
        con = storage._connection()
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)",
                    ("OLD", json.dumps(old)))
        new = {"doc_id": "NEW", "role": "grni", "debit": "0", "credit": "1.00"}
        with storage.unit_of_work() as u:
            u.journal.append([new, new])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.journal.all() == [old, new, new]
            assert u.journal.all("OLD") == [old]
        assert con.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 2  # 1 + 1 batch

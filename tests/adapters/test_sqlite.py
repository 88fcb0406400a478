"""The storage contract on the SQLite adapter (with restart durability)."""

from __future__ import annotations

from pathlib import Path

from jxc_core.adapters import SqliteStorage
from jxc_core.adapters.sqlite import MIGRATIONS
from jxc_core.ports import Storage

from .contract import StorageContract


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

"""The storage contract on the in-memory adapter."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from jxc_core.adapters import MemoryStorage
from jxc_core.ports import Storage

from .contract import StorageContract

_SHARED = ("MemoryStorage hands out / keeps the stored dict itself (SQLite serialises): "
           "mutating it changes committed state without a commit")


class TestMemory(StorageContract):
    known_bugs: ClassVar[dict[str, str]] = {}

    def make_storage(self, tmp_path: Path) -> Storage:
        return MemoryStorage()

    def test_no_durability(self, storage: Storage, tmp_path: Path) -> None:
        assert self.reopen(storage, tmp_path) is None

"""The storage contract on the in-memory adapter."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from jxc_core.adapters import MemoryStorage
from jxc_core.ports import Storage
from jxc_core.testing import StorageContract


class TestMemory(StorageContract):
    known_bugs: ClassVar[dict[str, str]] = {}

    def make_storage(self, tmp_path: Path) -> Storage:
        return MemoryStorage()

    def test_no_durability(self, storage: Storage, tmp_path: Path) -> None:
        assert self.reopen(storage, tmp_path) is None

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.ports import Storage


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A fresh MemoryStorage, and a SqliteStorage on ``tmp_path / "store.db"`` (every test
    directory; the storage contract suite has a fixture of its own)."""
    s: Storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "store.db"))
    yield s
    s.close()

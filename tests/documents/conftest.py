from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.services import Documents, Jxc

from .support import Shop, TickingClock, setup_master


def _shop(kind: str, tmp_path: Path, tolerance: Decimal = Decimal(0)) -> Iterator[Shop]:
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp_path / "x.db"))
    j = Jxc(storage, clock=TickingClock())
    setup_master(j)
    yield Shop(j, Documents(j, tolerance=tolerance))
    storage.close()


@pytest.fixture(params=["memory", "sqlite"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """A shop over MemoryStorage and over SqliteStorage(tmp_path / "x.db")."""
    yield from _shop(request.param, tmp_path)


@pytest.fixture(params=["memory", "sqlite"])
def tolerant_shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """The same shop with a 10% over-receipt tolerance."""
    yield from _shop(request.param, tmp_path, Decimal("0.1"))


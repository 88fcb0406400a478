from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.ports import Storage
from tests import pg_support

# ``make test`` draws the same examples on every run (a seed per test), so that a red run is
# a change, not a draw: a long random search of the properties found flows that are known,
# recorded limits (strict expected failures of their own) and now and then turned a run red.
# ``JXC_HYPOTHESIS=explore`` searches with fresh random examples (and the example database),
# to look for new failures on purpose.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile("explore" if os.environ.get("JXC_HYPOTHESIS") == "explore"
                      else "repeatable")


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A fresh MemoryStorage, and a SqliteStorage on ``tmp_path / "store.db"`` (every test
    directory; the storage contract suite has a fixture of its own)."""
    s: Storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "store.db"))
    yield s
    s.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The DSN of a PostgreSQL server for the session: ``JXC_PG_DSN``, else a throwaway
    cluster (see ``tests/pg_support.py``). No server and no binaries: the test fails with
    how to install one (skips with ``JXC_SKIP_POSTGRES=1``)."""
    dsn = os.environ.get("JXC_PG_DSN")
    if dsn:
        yield dsn
        pg_support.drop_test_schemas(dsn)
        return
    bin_dir = pg_support.find_bin_dir()
    if bin_dir is None:
        if os.environ.get("JXC_SKIP_POSTGRES") == "1":
            pytest.skip("JXC_SKIP_POSTGRES=1: no PostgreSQL server for the tests")
        pytest.fail(pg_support.INSTALL_HINT, pytrace=False)
    with pg_support.throwaway_cluster(bin_dir) as dsn:
        yield dsn


@pytest.fixture
def pg_dsn(pg_server: str) -> str:
    """A DSN of its own for one test: a new, empty schema on the session's server."""
    return pg_support.fresh_dsn(pg_server)

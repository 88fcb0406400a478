"""A PostgreSQL server for the tests: a throwaway cluster, or the one ``JXC_PG_DSN`` names.

:func:`throwaway_cluster` runs ``initdb`` in a temp directory (as the ``postgres`` user via
``runuser`` when the tests run as root: initdb refuses root), starts it with ``pg_ctl``
listening only on a unix socket in that directory (trust auth, no TCP), and stops and removes
it afterwards. The binaries come from ``PATH`` or ``/usr/lib/postgresql/*/bin``.

Without binaries and without ``JXC_PG_DSN`` the PostgreSQL tests fail, saying how to install
the server, unless ``JXC_SKIP_POSTGRES=1`` (then they skip).

Each test gets a schema of its own (:func:`fresh_dsn`): a DSN whose ``search_path`` is a new,
empty schema, so stores never see each other.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
    "/usr/lib/postgresql/*/bin, and JXC_PG_DSN is not set. Install the server "
    "(Debian/Ubuntu: `apt-get install postgresql`; `make test` does it when run as root), "
    "or point JXC_PG_DSN at a server (e.g. JXC_PG_DSN='postgresql://user@host/db'), or set "
    "JXC_SKIP_POSTGRES=1 to skip the PostgreSQL tests."
)


def find_bin_dir() -> str | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (PATH first, then the Debian layout,
    newest version first), or None."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        here = os.path.dirname(os.path.realpath(initdb))
        if os.access(os.path.join(here, "pg_ctl"), os.X_OK):
            return here
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        v = path.split("/")[4]
        return tuple(int(p) for p in v.split(".") if p.isdigit())

    for path in sorted(found, key=version, reverse=True):
        here = os.path.dirname(path)
        if os.access(os.path.join(here, "pg_ctl"), os.X_OK):
            return here
    return None


def _run(cmd: list[str], as_postgres: bool) -> None:
    if as_postgres:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n"
                           f"{done.stderr}")


@contextmanager
def throwaway_cluster(bin_dir: str, *, durable: bool = False) -> Iterator[str]:
    """Start a cluster in a temp directory; yield its DSN; stop and remove it. ``durable``:
    keep PostgreSQL's defaults (fsync on); else fsync and synchronous commit are off (tests
    need no crash safety)."""
    root = os.geteuid() == 0
    tmp = tempfile.mkdtemp(prefix="jxc-pg-")
    data = os.path.join(tmp, "data")
    log = os.path.join(tmp, "server.log")
    try:
        if root:
            shutil.chown(tmp, "postgres", "postgres")
        os.chmod(tmp, 0o755)
        _run([os.path.join(bin_dir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--locale=C"], root)
        options = f"-c listen_addresses='' -k {tmp} -c max_connections=100"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run([os.path.join(bin_dir, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60",
              "-o", options, "start"], root)
        try:
            yield f"host={tmp} port=5432 dbname=postgres user=postgres"
        finally:
            _run([os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"],
                 root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_SCHEMAS = itertools.count(1)


def fresh_dsn(base: str) -> str:
    """``base`` with ``search_path`` set to a new, empty schema."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"jxc_test_{os.getpid()}_{next(_SCHEMAS)}"
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        con.execute(f"CREATE SCHEMA {name}")
    return make_conninfo(base, options=f"-c search_path={name}")


def drop_test_schemas(base: str) -> None:
    """Remove the schemas this process made (on a server the tests did not start)."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"jxc\\_test\\_{os.getpid()}\\_%",)).fetchall()]
        for name in names:
            con.execute(f"DROP SCHEMA {name} CASCADE")

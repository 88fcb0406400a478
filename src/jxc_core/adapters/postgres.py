"""PostgreSQL storage (psycopg 3): for users who outgrow one machine.

* Every unit of work is one transaction that starts with a transaction-level advisory lock
  (``pg_advisory_xact_lock(LOCK_KEY)``), taken before its first read: units of work of every
  process and machine on the database run one after the other, so a check (is there enough
  stock?) still holds when it writes, as with SQLite's ``BEGIN IMMEDIATE``. The lock ends with
  the transaction (commit, rollback, a lost connection); waiting for it longer than
  ``lock_timeout_ms`` is ``storage_error`` (problem ``locked``). One lock means no deadlock
  and no serialization failure between jxc_core writers: there is nothing to retry.
* A versioned schema: the table ``jxc_schema`` holds the version (the number of
  :data:`MIGRATIONS` applied), the store's id and its commit counter; migrations run on open,
  under the same lock (two processes opening a new database at once create it once).
* Decimals and moments are TEXT, exactly as given (NUMERIC would turn ``1E+30`` into
  ``1000000000000000000000000000000``); key columns use the "C" collation, so they order by
  code point as in SQLite and in memory. Documents, states and records are JSON text (key
  order kept).
* One connection per thread (and per process: a forked child opens its own). A connection
  found broken when a unit of work starts is replaced (nothing was in flight).
* No raw psycopg error leaves a unit of work: a lost connection, a server shutting down, a
  full disk, a read-only or damaged database is ``JxcError("storage_error")`` (``path``: the
  DSN without its password; ``problem``; the original as ``__cause__``); a text PostgreSQL
  cannot store is ``invalid_text`` (a lone surrogate) or ``configuration`` (the NUL
  character). A server-side error aborts the transaction: the unit of work is lost, a later
  write or commit in it is refused (``rolled_back``). Writes that can meet a duplicate key or
  write several rows run in a savepoint, so a refused one leaves the unit of work usable.
* A database schema with tables but no ``jxc_schema`` (another application's) is refused;
  give jxc_core a database or a schema of its own (``options=-csearch_path=jxc`` in the DSN).
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Self

from jxc_core.adapters import _json, _repos, _sql
from jxc_core.adapters._misuse import nested, outside
from jxc_core.errors import JxcError
from jxc_core.ports import Event, ValuationChange
from jxc_core.stock.model import LedgerEntry

__all__ = ["LOCK_KEY", "MIGRATIONS", "TABLES", "PostgresStorage"]

#: the advisory lock every unit of work takes ("jxc_core" in ASCII, as a bigint); advisory
#: locks are per database: two jxc_core stores in one database (two schemas) share it
LOCK_KEY = 0x6A78635F636F7265

_T = 'TEXT COLLATE "C" NOT NULL'
_TN = 'TEXT COLLATE "C"'

#: schema migrations, applied in order; ``jxc_schema.version`` counts those applied
MIGRATIONS: list[str] = [
    f"""
    CREATE TABLE items (code {_T} PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE warehouses (code {_T} PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE parties (code {_T} PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);
    CREATE TABLE lots (item {_T}, code {_T}, expiry {_TN}, PRIMARY KEY (item, code));
    CREATE TABLE ledger (
        entry_no BIGINT PRIMARY KEY, item {_T}, warehouse {_T}, location {_T}, lot {_T},
        quantity TEXT NOT NULL, value TEXT NOT NULL, posted_at {_T}, kind {_T},
        doc_type {_T}, doc_id {_T}, line_no INTEGER NOT NULL, from_ref {_T});
    CREATE INDEX ledger_scope ON ledger (item, warehouse, posted_at, entry_no);
    CREATE TABLE checkpoints (item {_T}, scope {_T}, posted_at {_T}, entry_no BIGINT NOT NULL,
                              state TEXT NOT NULL,
                              PRIMARY KEY (item, scope, posted_at, entry_no));
    CREATE TABLE balances (
        item {_T}, warehouse {_T}, location {_T}, lot {_T}, on_hand TEXT NOT NULL,
        held TEXT NOT NULL, on_order TEXT NOT NULL, demand TEXT NOT NULL,
        PRIMARY KEY (item, warehouse, location, lot));
    CREATE TABLE valuations (item {_T}, scope {_T}, state TEXT NOT NULL,
                             version INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (item, scope));
    CREATE TABLE valuation_rows (item {_T}, scope {_T}, key BIGINT NOT NULL,
                                 data TEXT NOT NULL, PRIMARY KEY (item, scope, key));
    CREATE TABLE reservations (
        seq BIGINT GENERATED ALWAYS AS IDENTITY, reservation_id {_T} PRIMARY KEY,
        item {_T}, warehouse {_T}, lot {_T}, demand {_T}, quantity TEXT NOT NULL,
        expires_at {_TN});
    CREATE INDEX reservations_stock ON reservations (item, warehouse, seq);
    CREATE INDEX reservations_demand ON reservations (demand, seq);
    CREATE TABLE serials (item {_T}, serial {_T}, warehouse {_T}, PRIMARY KEY (item, serial));
    CREATE INDEX serials_place ON serials (item, warehouse, serial);
    CREATE TABLE outbox (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id {_T} UNIQUE,
        type TEXT NOT NULL, occurred_at TEXT NOT NULL, payload TEXT NOT NULL,
        delivered BOOLEAN NOT NULL DEFAULT FALSE);
    CREATE INDEX outbox_pending ON outbox (seq) WHERE NOT delivered;
    CREATE TABLE idempotency (key {_T} PRIMARY KEY, fingerprint TEXT NOT NULL,
                              result TEXT NOT NULL);
    CREATE TABLE sequences (name {_T} PRIMARY KEY, value BIGINT NOT NULL);
    CREATE TABLE documents (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                            doc_id {_T} UNIQUE, doc_type {_T}, state {_T}, data TEXT NOT NULL);
    CREATE INDEX documents_type ON documents (doc_type, state, seq);
    CREATE TABLE journal (pos BIGINT PRIMARY KEY, n INTEGER NOT NULL, doc_id {_T},
                          data TEXT NOT NULL);
    CREATE INDEX journal_doc ON journal (doc_id, pos);
    CREATE TABLE records (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind {_T},
                          key {_T}, data TEXT NOT NULL, UNIQUE (kind, key));
    """,
    # the ledger by document number (``LedgerRepository.has_document``), an index lookup
    """
    CREATE INDEX ledger_doc ON ledger (doc_id);
    """,
]

#: every table of the schema (for tests that check nothing was half-written)
TABLES = ("items", "warehouses", "lots", "ledger", "balances", "valuations", "valuation_rows",
          "checkpoints", "reservations", "serials", "outbox", "idempotency", "sequences",
          "documents", "journal", "parties", "records")

#: the statements of the shared repositories (``_repos``), in PostgreSQL's text
_SQL = _repos.Statements(_repos.Dialect(
    param="%s", replace=False, made="seq", prefix="left(key, ?::integer)",
    undelivered="NOT delivered", unique=" ON CONFLICT DO NOTHING"))

_ENGINE = ("PostgreSQL", "PostgreSQL")
_payload = _json.payload

#: psycopg, imported by the first PostgresStorage (``import jxc_core`` works without it)
_pg: Any = None


def _load() -> Any:
    global _pg
    if _pg is None:
        try:
            import psycopg
        except ImportError as exc:
            raise JxcError(
                "configuration", field="psycopg",
                reason="PostgresStorage needs psycopg 3: pip install 'jxc_core[postgres]' "
                       f"(or 'psycopg[binary]>=3.2'); importing it failed: {exc}",
                reason_zh="PostgresStorage 需要 psycopg 3：请执行 pip install "
                          f"'jxc_core[postgres]'（或 'psycopg[binary]>=3.2'）；导入失败：{exc}"
            ) from exc
        _pg = psycopg
    return _pg


def _describe(dsn: str) -> str:
    """The DSN without its password (what errors show as ``path``)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {k: v for k, v in conninfo_to_dict(dsn).items() if k != "password"}
    return make_conninfo("", **params)


#: SQLSTATE (or its class, the first two characters) -> the ``problem`` of a storage_error
_STATES = {"53100": "full", "58030": "io", "XX001": "corrupt", "XX002": "corrupt",
           "25006": "read_only", "42501": "read_only", "55P03": "locked", "40P01": "locked",
           "40001": "locked", "57P01": "connection", "57P02": "connection",
           "57P03": "connection", "3D000": "cannot_open", "08": "connection",
           "28": "cannot_open"}


def _problem(exc: BaseException) -> str:
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str):
        return _STATES.get(state) or _STATES.get(state[:2], "other")
    if isinstance(exc, _pg.OperationalError):  # client side: the connection is gone
        return "connection"
    return "other"


def _storage_error(path: str, exc: BaseException | None, problem: str | None = None,
                   doing: tuple[str, str] | None = None) -> JxcError:
    """``JxcError("storage_error")`` for a psycopg error (``path``: the DSN without its
    password; ``problem`` as in SQLite, plus ``connection``); raise it ``from exc``."""
    if problem is None:
        problem = "other" if exc is None else _problem(exc)
    message = None if exc is None else (str(exc).strip() or type(exc).__name__)
    return _sql.storage_error(path, problem, _ENGINE, message, doing)


def _nul(field: str, exc: BaseException) -> JxcError:
    return JxcError("configuration", field=field,
                    reason=f"{field}: PostgreSQL cannot store the NUL character (U+0000) in "
                           f"text ({exc})",
                    reason_zh=f"{field}：PostgreSQL 无法在文本中保存 NUL 字符（U+0000）（{exc}）")


class PostgresUnitOfWork(_repos.SqlUnitOfWork):
    """One transaction holding the advisory lock; see the module docstring."""

    sql = _SQL

    def __init__(self, storage: PostgresStorage) -> None:
        self._storage: PostgresStorage = storage
        self._con: Any = None
        self._open = False
        self._active = False
        self._local: Any = None
        self._after: Hashable | None = None
        #: the commit counter read in this transaction (the lock is held: it holds)
        self._sv: int | None = None
        #: something was written in the open transaction (its commit moves the counter)
        self._wrote = False
        #: the error after which the transaction is lost (aborted on the server, or gone)
        self._lost: JxcError | None = None
        self._attach(_Ledger(self), _Valuations(self), _Outbox(self))

    def __enter__(self) -> Self:
        storage = self._storage
        local = storage._slot()
        if getattr(local, "busy", False):
            raise nested()
        self._con = storage._begin()
        local.busy = True
        self._local = local
        self._active = True
        self._open = True
        self._sv = None
        self._wrote = False
        self._lost = None
        return self

    def _driver_error(self, exc: BaseException) -> bool:
        # raised by psycopg inside the block without passing through a repository
        return _pg is not None and isinstance(exc, _pg.Error)

    def commit(self) -> None:
        if not self._active:
            raise outside()
        fault = self._storage.fault
        if fault is not None:
            fault("commit")
        if self._lost is not None:  # its writes are gone: never report them committed
            raise _storage_error(self._storage.path, None, "rolled_back") from self._lost
        if self._open:
            con = self._con
            try:
                sv = self._sv
                if self._wrote:
                    sv = con.execute("UPDATE jxc_schema SET commits = commits + 1 "
                                     "RETURNING commits").fetchone()[0]
                elif sv is None:
                    sv = self._counter()
                con.execute("COMMIT")
            except _pg.Error as exc:
                raise self._fail(exc, "commit") from exc
            self._after = (self._storage._store_id, sv)
            self._open = False
            # a write that follows in the same with-block opens a new transaction, dropped
            # at exit unless committed again (as in the memory adapter)

    def _counter(self) -> int:
        n: int = self._con.execute("SELECT commits FROM jxc_schema").fetchone()[0]
        return n

    def stamp(self) -> Hashable | None:
        """(the store's id, its commit counter): see the port."""
        if self._open:
            if self._lost is not None:
                return None
            if self._sv is None:
                try:
                    self._sv = self._counter()
                except _pg.Error as exc:
                    raise self._fail(exc, "read") from exc
            return (self._storage._store_id, self._sv)
        return self._after

    def _tx(self) -> None:
        """Make sure a transaction is open before a write (after a commit it is not)."""
        if not self._active:  # never a transaction nothing would end
            raise outside()
        if self._lost is not None:  # never a new transaction holding half of this one
            raise _storage_error(self._storage.path, None, "rolled_back") from self._lost
        if not self._open:
            self._con = self._storage._begin()
            self._open = True
            self._sv = None
            self._wrote = False
        self._wrote = True

    def rollback(self) -> None:
        self._lost = None  # asked for: what follows starts afresh
        if self._open:
            self._open = False
            con = self._con
            if con.closed or con.broken:  # gone with the connection
                self._storage._drop(con)
                return
            try:
                con.execute("ROLLBACK")
            except _pg.Error as exc:
                self._storage._drop(con)  # closing it ends whatever it left open
                raise _storage_error(self._storage.path, exc) from exc

    def _fail(self, exc: BaseException, table: str, keys: object = None) -> BaseException:
        """What the caller sees for ``exc``, met in this unit of work: ``invalid_text``,
        ``duplicate_key``, ``configuration`` or ``storage_error``. When the transaction is
        aborted (any server-side error outside a savepoint) or its connection is gone, the
        unit of work is marked lost: a later write or commit in it is refused."""
        if isinstance(exc, UnicodeEncodeError):
            return _sql.unstorable(table, exc)
        pg = _pg
        if isinstance(exc, pg.DataError) and exc.sqlstate is None and "NUL" in str(exc):
            return _nul(table, exc)
        if isinstance(exc, pg.errors.UniqueViolation):
            error: JxcError = _sql.dup(table, keys)
        elif isinstance(exc, pg.IntegrityError):
            error = _sql.refused_row(table, exc)
        elif isinstance(exc, pg.Error):
            error = _storage_error(self._storage.path, exc)
        else:
            return exc
        con = self._con
        if self._open and (con.closed or con.broken
                           or con.info.transaction_status != pg.pq.TransactionStatus.INTRANS):
            self._lost = error
        return error

    def _undo(self, savepoint: str) -> None:
        """Roll back to ``savepoint`` and release it (the transaction goes on); when that
        fails too, the transaction is left aborted (the caller's error marks it lost)."""
        con = self._con
        if con.closed or con.broken:
            return
        with contextlib.suppress(_pg.Error):
            con.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            con.execute(f"RELEASE SAVEPOINT {savepoint}")

    def _x(self, table: str, sql: str, args: Sequence[Any] = ()) -> Any:
        """One statement that writes (it cannot meet a duplicate key: upserts, deletes)."""
        fault = self._storage.fault
        if fault is not None:
            fault(table)
        self._tx()
        try:
            return self._con.execute(sql, args)
        except (_pg.Error, UnicodeEncodeError) as exc:
            raise self._fail(exc, table) from exc

    def _insert(self, table: str, sql: str, args: Sequence[Any], key: object) -> None:
        """One row under a unique key: ``sql`` ends with ``ON CONFLICT DO NOTHING``, so a
        duplicate writes nothing and aborts nothing."""
        fault = self._storage.fault
        if fault is not None:
            fault(table)
        self._tx()
        try:
            cur = self._con.execute(sql, args)
        except (_pg.Error, UnicodeEncodeError) as exc:
            raise self._fail(exc, table, key) from exc
        if cur.rowcount != 1:
            raise _sql.dup(table, key)

    def _many(self, table: str, sql: str, rows: Sequence[Sequence[Any]], keys: object) -> None:
        """executemany, all rows or none (a savepoint): a duplicate key, a text PostgreSQL
        cannot store or a row it refuses leaves nothing, and the unit of work goes on."""
        self._tx()
        if not rows:
            return
        con = self._con
        try:
            con.execute("SAVEPOINT jxc_many")
        except _pg.Error as exc:
            raise self._fail(exc, table, keys) from exc
        try:
            con.cursor().executemany(sql, rows)
            con.execute("RELEASE SAVEPOINT jxc_many")
        except BaseException as exc:
            self._undo("jxc_many")
            if isinstance(exc, (_pg.Error, UnicodeEncodeError)):
                raise self._fail(exc, table, keys) from exc
            raise

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        if self._lost is not None:
            raise _storage_error(self._storage.path, None, "rolled_back") from self._lost
        if not self._open:  # after a commit in the block: read what is committed
            if not self._active:
                raise outside()
            self._con = self._storage._begin()
            self._open = True
            self._sv = None
            self._wrote = False
        try:
            rows: list[Any] = self._con.execute(sql, args).fetchall()
        except (_pg.Error, UnicodeEncodeError) as exc:
            raise self._fail(exc, "read") from exc
        return rows


class _Ledger(_repos.Ledger["PostgresUnitOfWork"]):
    def append(self, entries: Sequence[LedgerEntry]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("ledger")
        rows = _sql.ledger_rows(entries)
        if len(rows) == 1:  # no savepoint: a duplicate writes nothing and aborts nothing
            self.u._insert("ledger", self.s.ledger_add_unique, rows[0],
                           [entries[0].entry_no])
            return
        self.u._many("ledger", self.s.ledger_add, rows, [e.entry_no for e in entries])


class _Valuations(_repos.Valuations["PostgresUnitOfWork"]):
    def write(self, changes: Sequence[ValuationChange]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("valuations")
        # encoded before anything is written; one run unless a scope comes twice
        writes = [_sql.ValuationWrites(run) for run in _sql.valuation_runs(changes)]
        u = self.u
        u._tx()
        con = u._con
        try:
            con.execute("SAVEPOINT jxc_valuations")
        except _pg.Error as exc:
            raise u._fail(exc, "valuations") from exc
        try:
            cur = con.cursor()
            for w in writes:
                if w.partial:
                    missing = []
                    update = self.s.valuation_update
                    for row in w.partial:
                        cur.execute(update, row)
                        if cur.rowcount != 1:
                            missing.append([row[1], row[2]])
                    if missing:
                        raise JxcError("not_found", kind="valuation", key=missing[0])
                self._write_rows(cur, w)
            con.execute("RELEASE SAVEPOINT jxc_valuations")
        except BaseException as exc:
            u._undo("jxc_valuations")
            if isinstance(exc, (_pg.Error, UnicodeEncodeError)):
                raise u._fail(exc, "valuations", [c.scope for c in changes]) from exc
            raise


class _Outbox(_repos.Outbox["PostgresUnitOfWork"]):
    def add(self, events: Iterable[Event]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("outbox")
        rows = [(e.event_id, e.type, e.occurred_at.isoformat(),
                 _payload(e.payload)) for e in events]
        if len(rows) == 1:
            self.u._insert("outbox", self.s.outbox_add_unique, rows[0],
                           [rows[0][0]])
            return
        self.u._many("outbox", self.s.outbox_add, rows, [r[0] for r in rows])

    def mark_delivered(self, event_ids: Sequence[str]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("outbox")
        if event_ids:
            self.u._x("outbox", "UPDATE outbox SET delivered = TRUE WHERE event_id = ANY(%s)",
                      (list(event_ids),))


class PostgresStorage:
    """Storage in a PostgreSQL database, through psycopg 3 (``pip install
    'jxc_core[postgres]'``).

    ``dsn`` is a libpq connection string or URI (``"postgresql://user@host/db"``,
    ``"dbname=jxc host=/run/postgresql"``). The schema is created (or migrated) in the
    connection's current schema when the storage is made. ``lock_timeout_ms``: how long a
    unit of work waits for the others (the advisory lock) before ``storage_error``
    (``locked``); ``connect_timeout``: seconds to reach the server.
    """

    def __init__(self, dsn: str, *, lock_timeout_ms: int = 30_000,
                 connect_timeout: int = 10) -> None:
        if not isinstance(dsn, str):
            raise TypeError(f"dsn must be a str, got {type(dsn).__name__} {dsn!r}")
        pg = _load()
        try:
            described = _describe(dsn)
        except pg.ProgrammingError as exc:
            raise JxcError("configuration", field="dsn",
                           reason=f"not a PostgreSQL connection string: {exc}",
                           reason_zh=f"不是有效的 PostgreSQL 连接串：{exc}") from exc
        #: the DSN without its password (shown as ``path`` in errors)
        self.path = described
        self.dsn = dsn
        self.lock_timeout_ms = int(lock_timeout_ms)
        self.connect_timeout = int(connect_timeout)
        self.fault: Any = None
        self._store_id = ""
        self._local = threading.local()
        self._all: list[tuple[int, Any]] = []
        self._guard = threading.Lock()
        try:
            self._migrate()
        except BaseException:  # refused: no connection left behind
            self.close()
            raise

    # -- connections -----------------------------------------------------------------------
    def _slot(self) -> Any:
        """This thread's slot (a new one in a forked child: the parent's connections are
        never used there)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid = os.getpid()
            local.con = None
            local.busy = False
        return local

    def _connection(self) -> Any:
        local = self._slot()
        con = local.con
        if con is None or con.closed or con.broken:
            if con is not None:
                self._drop(con)
            con = _pg.connect(self.dsn, autocommit=True, connect_timeout=self.connect_timeout,
                              client_encoding="UTF8")
            con.execute(f"SET lock_timeout = {self.lock_timeout_ms}")
            local.con = con
            with self._guard:
                self._all.append((os.getpid(), con))
        return con

    def _drop(self, con: Any) -> None:
        """Close a connection that cannot be trusted any more; the thread's next unit of
        work makes a new one."""
        local = self._slot()
        if local.con is con:
            local.con = None
        with self._guard:
            self._all = [(p, c) for p, c in self._all if c is not con]
        with contextlib.suppress(_pg.Error):
            con.close()

    def _begin(self) -> Any:
        """BEGIN and the advisory lock, on this thread's connection; a connection found
        broken before anything was done in it is replaced once."""
        pg = _pg
        for attempt in (0, 1):
            try:
                con = self._connection()
            except pg.Error as exc:
                raise _storage_error(self.path, exc) from exc
            try:
                con.execute(f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_KEY})")
                return con
            except pg.Error as exc:
                if attempt == 0 and (con.closed or con.broken):
                    self._drop(con)  # the server restarted meanwhile: a new connection
                    continue
                if not (con.closed or con.broken):
                    try:
                        con.execute("ROLLBACK")
                    except pg.Error:
                        self._drop(con)
                raise _storage_error(self.path, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- schema ----------------------------------------------------------------------------
    def _migrate(self) -> None:
        pg = _pg
        con = self._begin()
        try:
            try:
                encoding = con.execute("SHOW server_encoding").fetchone()[0]
                schema = con.execute("SELECT current_schema()").fetchone()[0]
                if encoding != "UTF8":
                    raise JxcError("configuration", field="dsn", path=self.path,
                                   reason=f"the database {self.path!r} is encoded in "
                                          f"{encoding}: jxc_core needs UTF8",
                                   reason_zh=f"数据库 {self.path!r} 的编码为 {encoding}："
                                             "jxc_core 需要 UTF8")
                if schema is None:
                    raise JxcError("configuration", field="dsn", path=self.path,
                                   reason="no schema to create the tables in (search_path "
                                          "names no existing schema)",
                                   reason_zh="没有可建表的模式（search_path 未指向已存在的"
                                             "模式）")
                names = [r[0] for r in con.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename").fetchall()]
                if "jxc_schema" not in names:
                    if names:
                        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                        raise JxcError(
                            "configuration", field="dsn", path=self.path,
                            reason=f"schema {schema!r} of {self.path!r} is not a jxc_core "
                                   f"store: it has tables ({shown}) but no jxc_schema; "
                                   "jxc_core does not write into another application's "
                                   "tables (give it a database or a schema of its own)",
                            reason_zh=f"{self.path!r} 的模式 {schema!r} 不是 jxc_core 存储："
                                      f"其中已有数据表（{shown}），但没有 jxc_schema；"
                                      "jxc_core 不会写入其他应用的数据表（请为它单独建库或"
                                      "模式）")
                    con.execute("CREATE TABLE jxc_schema (version INTEGER NOT NULL, "
                                "id TEXT NOT NULL, commits BIGINT NOT NULL)")
                    con.execute("INSERT INTO jxc_schema VALUES (0, %s, 0)",
                                (uuid.uuid4().hex,))
                version, store_id = con.execute(
                    "SELECT version, id FROM jxc_schema").fetchone()
                if version > len(MIGRATIONS):
                    raise JxcError("configuration", field="dsn", path=self.path,
                                   reason=f"{self.path!r} has schema version {version}; this "
                                          f"version of jxc_core knows up to {len(MIGRATIONS)}:"
                                          " upgrade jxc_core to open it",
                                   reason_zh=f"{self.path!r} 的数据结构版本为 {version}，本版本"
                                             f" jxc_core 只认识到 {len(MIGRATIONS)}：请升级 "
                                             "jxc_core 后再打开")
                i = version
                try:
                    for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
                        con.execute(script)
                        con.execute("UPDATE jxc_schema SET version = %s", (i,))
                    con.execute("COMMIT")
                except pg.Error as exc:
                    raise _storage_error(self.path, exc, doing=(
                        f"cannot bring the schema to version {i}",
                        f"无法将数据结构升级到版本 {i}")) from exc
            except pg.Error as exc:
                raise _storage_error(self.path, exc) from exc
        except BaseException:
            if not (con.closed or con.broken) and (
                    con.info.transaction_status != pg.pq.TransactionStatus.IDLE):
                try:
                    con.execute("ROLLBACK")
                except pg.Error:
                    self._drop(con)
            raise
        self._store_id = store_id

    @property
    def schema_version(self) -> int:
        try:
            row = self._connection().execute("SELECT version FROM jxc_schema").fetchone()
        except _pg.Error as exc:
            raise _storage_error(self.path, exc) from exc
        v: int = row[0]
        return v

    def unit_of_work(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self)

    def close(self) -> None:
        """Close this process's connections (a forked child leaves its parent's alone); the
        storage may be used again (it reconnects)."""
        pid = os.getpid()
        with self._guard:
            mine = [c for p, c in self._all if p == pid]
            self._all = [(p, c) for p, c in self._all if p != pid]
        for con in mine:
            with contextlib.suppress(Exception):  # closing what may be broken already
                con.close()
        self._local = threading.local()

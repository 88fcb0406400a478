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
import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Hashable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self

from jxc_core.adapters import _json, _sql
from jxc_core.adapters._misuse import nested, outside
from jxc_core.errors import JxcError
from jxc_core.ports import (
    BalanceRepository,
    CheckpointRepository,
    DocumentRepository,
    Event,
    IdempotencyRepository,
    JournalRepository,
    LedgerRepository,
    MasterDataRepository,
    OutboxRepository,
    RecordRepository,
    ReservationRepository,
    SequenceRepository,
    SerialRepository,
    ValuationChange,
    ValuationRepository,
)
from jxc_core.stock.model import (
    Balance,
    Item,
    LedgerEntry,
    Lot,
    Party,
    Reservation,
    Warehouse,
)

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

_ENGINE = ("PostgreSQL", "PostgreSQL")
_dumps = _json.dumps
_text = _json.text
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


class PostgresUnitOfWork:
    """One transaction holding the advisory lock; see the module docstring."""

    def __init__(self, storage: PostgresStorage) -> None:
        self._storage = storage
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
        self.master: MasterDataRepository = self
        self.ledger: LedgerRepository = _Ledger(self)
        self.balances: BalanceRepository = _Balances(self)
        self.valuations: ValuationRepository = _Valuations(self)
        self.checkpoints: CheckpointRepository = _Checkpoints(self)
        self.reservations: ReservationRepository = _Reservations(self)
        self.serials: SerialRepository = _Serials(self)
        self.documents: DocumentRepository = _Documents(self)
        self.journal: JournalRepository = _Journal(self)
        self.records: RecordRepository = _Records(self)
        self.outbox: OutboxRepository = _Outbox(self)
        self.idempotency: IdempotencyRepository = _Idempotency(self)
        self.sequences: SequenceRepository = _Sequences(self)

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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._active:
            self._local.busy = False
        self._active = False
        try:
            self.rollback()
        except JxcError:
            if exc is None:
                raise
        if exc is not None and _pg is not None and isinstance(exc, _pg.Error):
            # raised by psycopg inside the block without passing through a repository
            raise self._fail(exc, "unit of work") from exc

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
            error = JxcError("configuration", field=table,
                             reason=f"{table}: a row the store cannot keep ({exc})",
                             reason_zh=f"{table}：存储无法保存的行（{exc}）")
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

    # master data
    def get_item(self, code: str) -> Item | None:
        rows = self._q("SELECT data FROM items WHERE code = %s", (code,))
        return Item.from_data(json.loads(rows[0][0])) if rows else None

    def put_item(self, item: Item) -> None:
        self._x("items", "INSERT INTO items VALUES (%s, %s) ON CONFLICT (code) "
                "DO UPDATE SET data = excluded.data",
                (item.code, json.dumps(item.to_data(), ensure_ascii=False)))

    def get_warehouse(self, code: str) -> Warehouse | None:
        rows = self._q("SELECT data FROM warehouses WHERE code = %s", (code,))
        return Warehouse.from_data(json.loads(rows[0][0])) if rows else None

    def put_warehouse(self, warehouse: Warehouse) -> None:
        self._x("warehouses", "INSERT INTO warehouses VALUES (%s, %s) ON CONFLICT (code) "
                "DO UPDATE SET data = excluded.data",
                (warehouse.code, json.dumps(warehouse.to_data(), ensure_ascii=False)))

    def get_lot(self, item: str, code: str) -> Lot | None:
        rows = self._q("SELECT expiry FROM lots WHERE item = %s AND code = %s", (item, code))
        if not rows:
            return None
        return Lot(item, code, None if rows[0][0] is None else dt.date.fromisoformat(rows[0][0]))

    def put_lot(self, lot: Lot) -> None:
        self._x("lots", "INSERT INTO lots VALUES (%s, %s, %s) ON CONFLICT (item, code) "
                "DO UPDATE SET expiry = excluded.expiry",
                (lot.item, lot.code, None if lot.expiry is None else lot.expiry.isoformat()))

    def get_party(self, code: str) -> Party | None:
        rows = self._q("SELECT code, name, kind FROM parties WHERE code = %s", (code,))
        return Party(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def put_party(self, party: Party) -> None:
        self._x("parties", "INSERT INTO parties VALUES (%s, %s, %s) ON CONFLICT (code) "
                "DO UPDATE SET name = excluded.name, kind = excluded.kind",
                (party.code, party.name, party.kind))


class _Repo:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.u = uow


_LEDGER = ("entry_no, item, warehouse, location, lot, quantity, value, posted_at, kind, "
           "doc_type, doc_id, line_no, from_ref")
_entry = _sql.entry


class _Ledger(_Repo):
    def append(self, entries: Sequence[LedgerEntry]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("ledger")
        rows = _sql.ledger_rows(entries)
        if len(rows) == 1:
            self.u._insert("ledger", f"INSERT INTO ledger ({_LEDGER}) VALUES "
                           "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                           rows[0], [entries[0].entry_no])
            return
        self.u._many("ledger", f"INSERT INTO ledger ({_LEDGER}) VALUES "
                     "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows,
                     [e.entry_no for e in entries])

    def entries(
        self, item: str, warehouse: str | None = None, until: dt.datetime | None = None
    ) -> list[LedgerEntry]:
        sql = f"SELECT {_LEDGER} FROM ledger WHERE item = %s"
        args: list[Any] = [item]
        if warehouse is not None:
            sql += " AND warehouse = %s"
            args.append(warehouse)
        if until is not None:
            sql += " AND posted_at <= %s"
            args.append(until.isoformat())
        return [_entry(r) for r in self.u._q(sql + " ORDER BY entry_no", args)]

    def after(
        self,
        item: str,
        warehouse: str | None,
        since: dt.datetime | None = None,
        entry_no: int = 0,
    ) -> list[LedgerEntry]:
        sql = f"SELECT {_LEDGER} FROM ledger WHERE item = %s"
        args: list[Any] = [item]
        if warehouse is not None:
            sql += " AND warehouse = %s"
            args.append(warehouse)
        if since is not None:
            sql += " AND (posted_at > %s OR (posted_at = %s AND entry_no > %s))"
            args += [since.isoformat(), since.isoformat(), entry_no]
        rows = self.u._q(sql + " ORDER BY posted_at, entry_no", args)
        return [_entry(r) for r in rows]

    def has_document(self, doc_id: str) -> bool:
        return bool(self.u._q("SELECT 1 FROM ledger WHERE doc_id = %s LIMIT 1", (doc_id,)))

    def count(self) -> int:
        n: int = self.u._q("SELECT COUNT(*) FROM ledger")[0][0]
        return n


_BALANCE = "item, warehouse, location, lot, on_hand, held, on_order, demand"
_balance = _sql.balance


class _Balances(_Repo):
    def for_item(self, item: str, warehouse: str | None = None) -> list[Balance]:
        if warehouse is None:
            rows = self.u._q(f"SELECT {_BALANCE} FROM balances WHERE item = %s "
                             "ORDER BY warehouse, location, lot", (item,))
        else:
            rows = self.u._q(f"SELECT {_BALANCE} FROM balances WHERE item = %s AND "
                             "warehouse = %s ORDER BY location, lot", (item, warehouse))
        return [_balance(r) for r in rows]

    def put(self, rows: Sequence[Balance]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("balances")
        if rows:  # all rows or none (_many)
            self.u._many(
                "balances", f"INSERT INTO balances ({_BALANCE}) VALUES "
                "(%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (item, warehouse, location, lot) DO "
                "UPDATE SET on_hand = excluded.on_hand, held = excluded.held, "
                "on_order = excluded.on_order, demand = excluded.demand",
                _sql.balance_rows(rows), None)  # an upsert: no duplicate key to name

    def all(self) -> list[Balance]:
        return [_balance(r) for r in self.u._q(f"SELECT {_BALANCE} FROM balances")]


class _Valuations(_Repo):
    def get(self, scope: tuple[str, str]) -> dict[str, Any] | None:
        rows = self.u._q("SELECT state FROM valuations WHERE item = %s AND scope = %s", scope)
        if not rows:
            return None
        state: dict[str, Any] = json.loads(rows[0][0])
        parts = self.u._q("SELECT key, data FROM valuation_rows WHERE item = %s AND "
                          "scope = %s ORDER BY key", scope)
        if parts:
            state["rows"] = [[k, json.loads(d)] for k, d in parts]
        return state

    def put(self, scope: tuple[str, str], state: dict[str, Any]) -> None:
        self.write([ValuationChange.of_state(scope, state)])

    def write(self, changes: Sequence[ValuationChange]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("valuations")
        w = _sql.ValuationWrites(changes)  # encoded before anything is written
        u = self.u
        u._tx()
        con = u._con
        try:
            con.execute("SAVEPOINT jxc_valuations")
        except _pg.Error as exc:
            raise u._fail(exc, "valuations") from exc
        try:
            cur = con.cursor()
            if w.partial:
                missing = []
                for row in w.partial:
                    cur.execute("UPDATE valuations SET state = %s, version = version + 1 "
                                "WHERE item = %s AND scope = %s", row)
                    if cur.rowcount != 1:
                        missing.append([row[1], row[2]])
                if missing:
                    raise JxcError("not_found", kind="valuation", key=missing[0])
            if w.whole:
                cur.executemany("DELETE FROM valuation_rows WHERE item = %s AND scope = %s",
                                w.whole)
                cur.executemany(
                    "INSERT INTO valuations (item, scope, state, version) VALUES "
                    "(%s, %s, %s, 1) ON CONFLICT (item, scope) DO UPDATE SET "
                    "state = excluded.state, version = valuations.version + 1", w.whole_rows)
            if w.upserts:
                cur.executemany("INSERT INTO valuation_rows VALUES (%s, %s, %s, %s) "
                                "ON CONFLICT (item, scope, key) DO UPDATE SET "
                                "data = excluded.data", w.upserts)
            if w.deletes:
                cur.executemany("DELETE FROM valuation_rows WHERE item = %s AND scope = %s "
                                "AND key = %s", w.deletes)
            con.execute("RELEASE SAVEPOINT jxc_valuations")
        except BaseException as exc:
            u._undo("jxc_valuations")
            if isinstance(exc, (_pg.Error, UnicodeEncodeError)):
                raise u._fail(exc, "valuations", [c.scope for c in changes]) from exc
            raise

    def version(self, scope: tuple[str, str]) -> int | None:
        rows = self.u._q("SELECT version FROM valuations WHERE item = %s AND scope = %s",
                         scope)
        return int(rows[0][0]) if rows else None


class _Checkpoints(_Repo):
    def put(self, scope: tuple[str, str], posted_at: dt.datetime, entry_no: int,
            state: dict[str, Any]) -> None:
        self.u._x("checkpoints", "INSERT INTO checkpoints VALUES (%s, %s, %s, %s, %s) "
                  "ON CONFLICT (item, scope, posted_at, entry_no) DO UPDATE SET "
                  "state = excluded.state",
                  (scope[0], scope[1], posted_at.isoformat(), entry_no, _dumps(state)))

    def latest(self, scope: tuple[str, str], at_or_before: dt.datetime
               ) -> tuple[dt.datetime, int, dict[str, Any]] | None:
        rows = self.u._q(
            "SELECT posted_at, entry_no, state FROM checkpoints WHERE item = %s AND "
            "scope = %s AND posted_at <= %s ORDER BY posted_at DESC, entry_no DESC LIMIT 1",
            (scope[0], scope[1], at_or_before.isoformat()))
        if not rows:
            return None
        return dt.datetime.fromisoformat(rows[0][0]), rows[0][1], json.loads(rows[0][2])

    def drop_after(self, scope: tuple[str, str], posted_at: dt.datetime) -> None:
        self.u._x("checkpoints",
                  "DELETE FROM checkpoints WHERE item = %s AND scope = %s AND posted_at > %s",
                  (scope[0], scope[1], posted_at.isoformat()))


_RESERVATION = "reservation_id, item, warehouse, lot, demand, quantity, expires_at"
_reservation = _sql.reservation


class _Reservations(_Repo):
    # in the order they were made (seq), as the memory adapter keeps them
    def for_item(self, item: str, warehouse: str) -> list[Reservation]:
        return [_reservation(r) for r in self.u._q(
            f"SELECT {_RESERVATION} FROM reservations WHERE item = %s AND warehouse = %s "
            "ORDER BY seq", (item, warehouse))]

    def for_demand(self, demand: str) -> list[Reservation]:
        return [_reservation(r) for r in self.u._q(
            f"SELECT {_RESERVATION} FROM reservations WHERE demand = %s ORDER BY seq",
            (demand,))]

    def add(self, reservation: Reservation) -> None:
        self.u._insert("reservations", f"INSERT INTO reservations ({_RESERVATION}) VALUES "
                       "(%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                       _sql.reservation_row(reservation), reservation.reservation_id)

    def replace(self, reservation: Reservation) -> None:
        """In place when it keeps its (item, warehouse) and demand; else as a new one, after
        the others (as the memory adapter does)."""
        r = reservation
        cur = self.u._x("reservations", "UPDATE reservations SET lot = %s, quantity = %s, "
                        "expires_at = %s WHERE reservation_id = %s AND item = %s AND "
                        "warehouse = %s AND demand = %s",
                        (r.lot, str(r.quantity),
                         None if r.expires_at is None else r.expires_at.isoformat(),
                         r.reservation_id, r.item, r.warehouse, r.demand))
        if cur.rowcount == 0:
            self.u._x("reservations", "DELETE FROM reservations WHERE reservation_id = %s",
                      (r.reservation_id,))
            self.u._x("reservations", f"INSERT INTO reservations ({_RESERVATION}) VALUES "
                      "(%s,%s,%s,%s,%s,%s,%s)", _sql.reservation_row(r))

    def remove(self, reservation_id: str) -> None:
        self.u._x("reservations", "DELETE FROM reservations WHERE reservation_id = %s",
                  (reservation_id,))

    def all(self) -> list[Reservation]:
        return [_reservation(r) for r in self.u._q(
            f"SELECT {_RESERVATION} FROM reservations ORDER BY seq")]


class _Documents(_Repo):
    def get(self, doc_id: str) -> dict[str, Any] | None:
        rows = self.u._q("SELECT data FROM documents WHERE doc_id = %s", (doc_id,))
        if not rows:
            return None
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def put(self, doc_id: str, doc_type: str, state: str, data: dict[str, Any]) -> None:
        self.u._x("documents", "INSERT INTO documents (doc_id, doc_type, state, data) VALUES "
                  "(%s, %s, %s, %s) ON CONFLICT (doc_id) DO UPDATE SET doc_type = "
                  "excluded.doc_type, state = excluded.state, data = excluded.data",
                  (doc_id, doc_type, state, _text(data)))

    def ids(self, doc_type: str | None = None, state: str | None = None) -> list[str]:
        sql = "SELECT doc_id FROM documents WHERE TRUE"
        args: list[Any] = []
        if doc_type is not None:
            sql += " AND doc_type = %s"
            args.append(doc_type)
        if state is not None:
            sql += " AND state = %s"
            args.append(state)
        return [r[0] for r in self.u._q(sql + " ORDER BY seq", args)]


class _Journal(_Repo):
    """Stored as the SQLite adapter stores it (``_sql.journal_batches``): a table row per
    run of rows with the same document and keys, keyed by the position of its first row."""

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("journal")
        batches = _sql.journal_batches(rows)
        if batches:
            u = self.u
            u._tx()
            last = u._q("SELECT pos + n FROM journal ORDER BY pos DESC LIMIT 1")
            pos = last[0][0] if last else 0
            placed = []
            for doc_id, text, n in batches:
                placed.append((pos, n, doc_id, text))
                pos += n
            u._many("journal", "INSERT INTO journal (pos, n, doc_id, data) VALUES "
                    "(%s, %s, %s, %s)", placed, [p[0] for p in placed])

    def all(self, doc_id: str | None = None) -> list[dict[str, Any]]:
        if doc_id is None:
            found = self.u._q("SELECT data FROM journal ORDER BY pos")
        else:
            found = self.u._q("SELECT data FROM journal WHERE doc_id = %s ORDER BY pos",
                              (doc_id,))
        return [r for (text,) in found for r in _sql.journal_rows(text)]

    def since(self, position: int) -> list[dict[str, Any]]:
        if position < 0:
            raise ValueError(f"position must not be negative, got {position}")
        found = self.u._q(
            "SELECT pos, data FROM journal WHERE pos >= COALESCE((SELECT pos FROM journal "
            "WHERE pos <= %s ORDER BY pos DESC LIMIT 1), 0) ORDER BY pos", (position,))
        out: list[dict[str, Any]] = []
        for pos, text in found:
            rows = _sql.journal_rows(text)
            out.extend(rows[position - pos:] if pos < position else rows)
        return out


class _Records(_Repo):
    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        rows = self.u._q("SELECT data FROM records WHERE kind = %s AND key = %s", (kind, key))
        if not rows:
            return None
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def put(self, kind: str, key: str, data: dict[str, Any]) -> None:
        self.u._x("records", "INSERT INTO records (kind, key, data) VALUES (%s, %s, %s) "
                  "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
                  (kind, key, _text(data)))

    def list(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        # the lower bound keeps the index ("C" collation: code point order); left() counts
        # characters, as len() does
        rows = self.u._q("SELECT key, data FROM records WHERE kind = %s AND key >= %s "
                         "AND left(key, %s::integer) = %s ORDER BY seq",
                         (kind, prefix, len(prefix), prefix))
        return [(r[0], json.loads(r[1])) for r in rows]


class _Serials(_Repo):
    def where(self, item: str, serial: str) -> str | None:
        rows = self.u._q("SELECT warehouse FROM serials WHERE item = %s AND serial = %s",
                         (item, serial))
        return rows[0][0] if rows else None

    def set(self, item: str, serial: str, warehouse: str | None) -> None:
        if warehouse is None:
            self.u._x("serials", "DELETE FROM serials WHERE item = %s AND serial = %s",
                      (item, serial))
        else:
            self.u._x("serials", "INSERT INTO serials VALUES (%s, %s, %s) ON CONFLICT "
                      "(item, serial) DO UPDATE SET warehouse = excluded.warehouse",
                      (item, serial, warehouse))

    def in_warehouse(self, item: str, warehouse: str) -> list[str]:
        # the index serials_place, in its order: the "C" collation orders UTF-8 bytes, the
        # code point order of ``sorted``
        return [r[0] for r in self.u._q("SELECT serial FROM serials WHERE item = %s AND "
                                        "warehouse = %s ORDER BY serial", (item, warehouse))]


class _Outbox(_Repo):
    _SQL = "INSERT INTO outbox (event_id, type, occurred_at, payload) VALUES (%s,%s,%s,%s)"

    def add(self, events: Iterable[Event]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("outbox")
        rows = [(e.event_id, e.type, e.occurred_at.isoformat(),
                 _payload(e.payload)) for e in events]
        if len(rows) == 1:
            self.u._insert("outbox", self._SQL + " ON CONFLICT DO NOTHING", rows[0],
                           [rows[0][0]])
            return
        self.u._many("outbox", self._SQL, rows, [r[0] for r in rows])

    def pending(self, limit: int = 1000) -> list[Event]:
        rows = self.u._q("SELECT event_id, type, occurred_at, payload FROM outbox "
                         "WHERE NOT delivered ORDER BY seq LIMIT %s", (limit,))
        return [Event(r[0], r[1], dt.datetime.fromisoformat(r[2]), json.loads(r[3]))
                for r in rows]

    def mark_delivered(self, event_ids: Sequence[str]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("outbox")
        if event_ids:
            self.u._x("outbox", "UPDATE outbox SET delivered = TRUE WHERE event_id = ANY(%s)",
                      (list(event_ids),))


class _Idempotency(_Repo):
    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        rows = self.u._q("SELECT fingerprint, result FROM idempotency WHERE key = %s", (key,))
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def put(self, key: str, fingerprint: str, result: dict[str, Any]) -> None:
        self.u._insert("idempotency", "INSERT INTO idempotency VALUES (%s, %s, %s) "
                       "ON CONFLICT DO NOTHING",
                       (key, fingerprint, json.dumps(result, ensure_ascii=False)), key)


class _Sequences(_Repo):
    def next(self, name: str, count: int = 1) -> int:
        last: int = self.u._x(
            "sequences", "INSERT INTO sequences VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
            "SET value = sequences.value + excluded.value RETURNING value",
            (name, count)).fetchone()[0]
        return last - count + 1


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

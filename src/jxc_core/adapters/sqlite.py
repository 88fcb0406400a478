"""SQLite storage (stdlib ``sqlite3``): the embedded default that survives a restart.

* WAL journal, ``synchronous=NORMAL``, a busy timeout, and a bounded retry with back-off around
  ``BEGIN IMMEDIATE``, so "database is locked" does not reach the caller under normal
  contention (several threads or processes on one file).
* Every unit of work starts with ``BEGIN IMMEDIATE``: it holds the write lock from its first
  read, so a check (is there enough stock?) still holds when it writes. Commit or rollback.
* A versioned schema with migrations (``PRAGMA user_version``), applied when the file opens.
* Decimals are stored as TEXT (exact); dates as ISO-8601 TEXT.
* One connection per thread; a process may open the same file any number of times. The path
  is made absolute when the storage is made, so every thread opens the same file.
* No raw ``sqlite3`` error leaves a unit of work: a full disk, an I/O error, a damaged page or
  a read-only file is ``JxcError("storage_error")`` (``path``, ``problem``, the original as
  ``__cause__``); text SQLite cannot store is ``invalid_text``. When SQLite has rolled the
  transaction back itself, the unit of work is lost: a later write or commit in it is refused.
* A file with tables but no jxc_core schema version (another application's) is refused.
* WAL checkpoints (copying the log back into the database file, with its ``fsync``) run on a
  background thread by default (``checkpoints="background"``): a committing command does not
  wait for the disk. The committing connections keep SQLite's own automatic checkpoint as a
  safety net, at a larger size (:data:`SAFETY_CHECKPOINT_PAGES`). ``checkpoints="inline"``
  keeps SQLite's default (a commit that takes the log past 1000 pages checkpoints it).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Self

from jxc_core.adapters import _json, _repos, _sql
from jxc_core.adapters._misuse import nested, outside
from jxc_core.errors import JxcError
from jxc_core.ports import Event, ValuationChange
from jxc_core.stock.model import LedgerEntry

__all__ = ["CHECKPOINT_EVERY_COMMITS", "LEDGER_HAS_DOC", "MIGRATIONS", "SAFETY_CHECKPOINT_PAGES",
           "SERIALS_IN", "SqliteStorage"]

#: background checkpoints: one is asked for every this many commits through a storage
CHECKPOINT_EVERY_COMMITS = 32
#: background checkpoints: the committing connections still checkpoint themselves when the log
#: reaches this many pages (the background thread fell behind, or was stopped)
SAFETY_CHECKPOINT_PAGES = 16_384

#: schema migrations, applied in order; ``PRAGMA user_version`` counts those applied
MIGRATIONS: list[str] = [
    """
    CREATE TABLE items (code TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE warehouses (code TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE lots (item TEXT NOT NULL, code TEXT NOT NULL, expiry TEXT,
                       PRIMARY KEY (item, code));
    CREATE TABLE ledger (
        entry_no INTEGER PRIMARY KEY, item TEXT NOT NULL, warehouse TEXT NOT NULL,
        location TEXT NOT NULL, lot TEXT NOT NULL, quantity TEXT NOT NULL, value TEXT NOT NULL,
        posted_at TEXT NOT NULL, kind TEXT NOT NULL, doc_type TEXT NOT NULL,
        doc_id TEXT NOT NULL, line_no INTEGER NOT NULL, from_ref TEXT NOT NULL);
    CREATE INDEX ledger_scope ON ledger (item, warehouse, posted_at, entry_no);
    CREATE TABLE checkpoints (item TEXT NOT NULL, scope TEXT NOT NULL, posted_at TEXT NOT NULL,
                              entry_no INTEGER NOT NULL, state TEXT NOT NULL,
                              PRIMARY KEY (item, scope, posted_at, entry_no)) WITHOUT ROWID;
    CREATE TABLE balances (
        item TEXT NOT NULL, warehouse TEXT NOT NULL, location TEXT NOT NULL, lot TEXT NOT NULL,
        on_hand TEXT NOT NULL, held TEXT NOT NULL, on_order TEXT NOT NULL, demand TEXT NOT NULL,
        PRIMARY KEY (item, warehouse, location, lot)) WITHOUT ROWID;
    CREATE TABLE valuations (item TEXT NOT NULL, scope TEXT NOT NULL, state TEXT NOT NULL,
                             PRIMARY KEY (item, scope)) WITHOUT ROWID;
    CREATE TABLE reservations (
        reservation_id TEXT PRIMARY KEY, item TEXT NOT NULL, warehouse TEXT NOT NULL,
        lot TEXT NOT NULL, demand TEXT NOT NULL, quantity TEXT NOT NULL, expires_at TEXT);
    CREATE INDEX reservations_stock ON reservations (item, warehouse);
    CREATE INDEX reservations_demand ON reservations (demand);
    CREATE TABLE serials (item TEXT NOT NULL, serial TEXT NOT NULL, warehouse TEXT NOT NULL,
                          PRIMARY KEY (item, serial)) WITHOUT ROWID;
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL, occurred_at TEXT NOT NULL, payload TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX outbox_pending ON outbox (delivered, seq);
    CREATE TABLE idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
                              result TEXT NOT NULL);
    CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """,
    """
    CREATE TABLE documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL UNIQUE,
                            doc_type TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX documents_type ON documents (doc_type, state);
    CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL,
                          data TEXT NOT NULL);
    CREATE INDEX journal_doc ON journal (doc_id);
    CREATE TABLE parties (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);
    """,
    """
    CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                          key TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (kind, key));
    """,
    """
    ALTER TABLE valuations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    """,
    """
    CREATE TABLE valuation_rows (item TEXT NOT NULL, scope TEXT NOT NULL, key INTEGER NOT NULL,
                                 data TEXT NOT NULL, PRIMARY KEY (item, scope, key))
                                 WITHOUT ROWID;
    """,
    # the journal keyed by the position of each table row's first journal row (``pos``, the
    # rowid) with its number of rows (``n``): ``since(position)`` starts at its table row
    """
    CREATE TABLE journal_by_pos (pos INTEGER PRIMARY KEY, n INTEGER NOT NULL,
                                 doc_id TEXT NOT NULL, data TEXT NOT NULL);
    INSERT INTO journal_by_pos (pos, n, doc_id, data)
        SELECT SUM(n) OVER (ORDER BY seq) - n, n, doc_id, data FROM (
            SELECT seq, doc_id, data, CASE WHEN json_type(data) = 'array'
                                           THEN json_array_length(data) - 1 ELSE 1 END AS n
            FROM journal);
    DROP TABLE journal;
    ALTER TABLE journal_by_pos RENAME TO journal;
    CREATE INDEX journal_doc ON journal (doc_id);
    """,
    # the serials on hand in a warehouse (``SerialRepository.in_warehouse``: a count sheet
    # of serial numbers), read from an index instead of a scan of every serial
    """
    CREATE INDEX serials_place ON serials (item, warehouse, serial);
    """,
    # the ledger by document number (``LedgerRepository.has_document``: a document number
    # posted again is refused), read from an index instead of a scan of the ledger
    """
    CREATE INDEX ledger_doc ON ledger (doc_id);
    """,
    # the outbox without AUTOINCREMENT: the next ``seq`` is the largest + 1, without a write
    # of ``sqlite_sequence`` (a page of the log) in every unit of work that records an event.
    # Delivered rows may be deleted (``OutboxRepository.purge``): a ``seq`` is then given
    # again only above every row left, so a new event still comes after every pending one,
    # and nothing refers to a ``seq`` (events are marked by id). From this version on the
    # journal's table rows may also be in the compact form (``_sql.journal_batches``), which
    # earlier versions cannot read: they refuse the file as one of a newer jxc_core
    """
    CREATE TABLE outbox_v9 (
        seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL, occurred_at TEXT NOT NULL, payload TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0);
    INSERT INTO outbox_v9 (seq, event_id, type, occurred_at, payload, delivered)
        SELECT seq, event_id, type, occurred_at, payload, delivered FROM outbox ORDER BY seq;
    DROP TABLE outbox;
    ALTER TABLE outbox_v9 RENAME TO outbox;
    CREATE INDEX outbox_pending ON outbox (delivered, seq);
    """,
    # no change of the tables: from this version on a valuation header may be stored in the
    # compact form ``[[key, ...], value, ...]`` (``_sql.header_text``), which earlier versions
    # cannot read: they refuse the file as one of a newer jxc_core
    """
    -- valuations.state: a JSON object, or [[key, ...], value, ...]
    """,
]

#: every table of the schema (for tests that check nothing was half-written)
TABLES = ("items", "warehouses", "lots", "ledger", "balances", "valuations", "valuation_rows",
          "checkpoints",
          "reservations", "serials", "outbox", "idempotency", "sequences", "documents",
          "journal", "parties", "records")

# encoders made once (json.dumps builds a new encoder on every call)
_payload = _json.payload


#: the statements of the shared repositories (``_repos``), in SQLite's text
_SQL = _repos.Statements(_repos.Dialect(
    param="?", replace=True, made="rowid", prefix="substr(key, 1, ?)",
    undelivered="delivered = 0", unique="", compact_journal=True, compact_headers=True,
    delivered="delivered = 1"))

#: whether a document number is in the ledger: read through the index ``ledger_doc``
LEDGER_HAS_DOC = _SQL.ledger_has_doc
#: ``SerialRepository.in_warehouse``: answered by the index ``serials_place`` (item,
#: warehouse, serial) in its order (BINARY collation orders UTF-8 bytes, which is the code
#: point order of ``sorted``), not by a scan of every serial
SERIALS_IN = _SQL.serials_in

#: serials of the connections made in this process (see ``SqliteUnitOfWork.stamp``)
_SERIALS = itertools.count(1)



def _integrity(table: str, key: object, exc: sqlite3.IntegrityError) -> JxcError:
    """``duplicate_key`` for a second record under a unique key; any other constraint (a
    NOT NULL column given None) is not a duplicate: ``configuration`` naming the table."""
    if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
        return _dup(table, key)
    return _sql.refused_row(table, exc)


_dup = _sql.dup
_unstorable = _sql.unstorable
_ENGINE = ("SQLite", "SQLite")


#: SQLite's primary result codes (``sqlite_errorcode & 0xff``) -> the ``problem`` of a
#: ``storage_error``
_PROBLEMS = {13: "full", 10: "io", 11: "corrupt", 26: "corrupt", 8: "read_only", 3: "read_only",
             5: "locked", 6: "locked", 14: "cannot_open"}


def _problem(exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _PROBLEMS:
        return _PROBLEMS[code & 0xFF]
    text = str(exc)  # an error without a result code: read its message
    for word, problem in (("full", "full"), ("readonly", "read_only"), ("read-only", "read_only"),
                          ("malformed", "corrupt"), ("not a database", "corrupt"),
                          ("I/O", "io"), ("locked", "locked"), ("busy", "locked"),
                          ("unable to open", "cannot_open")):
        if word in text:
            return problem
    return "other"


def _storage_error(path: str, exc: sqlite3.Error | None, problem: str | None = None,
                  doing: tuple[str, str] | None = None) -> JxcError:
    """``JxcError("storage_error")`` for a SQLite error: data ``path``, ``problem`` (``full``,
    ``io``, ``corrupt``, ``read_only``, ``locked``, ``cannot_open``, ``rolled_back``,
    ``other``) and ``reason`` (with SQLite's own message); raise it ``from exc``."""
    if problem is None:
        problem = "other" if exc is None else _problem(exc)
    return _sql.storage_error(path, problem, _ENGINE, None if exc is None else str(exc), doing)


def _in_transaction(con: sqlite3.Connection) -> bool:
    """Whether ``con`` has a transaction open; a connection closed meanwhile (the storage
    closed by another thread) has none (closing it rolled back), rather than the raw
    ``sqlite3.ProgrammingError`` reaching the caller."""
    try:
        return con.in_transaction
    except sqlite3.ProgrammingError:
        return False


class SqliteUnitOfWork(_repos.SqlUnitOfWork):
    """One ``BEGIN IMMEDIATE`` transaction; see the module docstring."""

    sql = _SQL

    def __init__(self, storage: SqliteStorage) -> None:
        self._storage: SqliteStorage = storage
        try:
            self._con = storage._connection()
        except sqlite3.Error as exc:  # the file went away, or is damaged
            raise _storage_error(storage.path, exc) from exc
        #: the connection's serial: a connection made after close() gets a new one, whatever
        #: its id() (a stamp must never repeat for another connection)
        self._serial: int = storage._local.serial
        self._open = False
        self._active = False
        #: the thread's slot of the storage, marked busy while this unit of work is open
        self._local: Any = None
        self._after: Hashable | None = None
        #: PRAGMA data_version read in this transaction (the write lock is held: it holds)
        self._dv: int | None = None
        #: the error after which SQLite rolled this unit of work's transaction back itself
        self._lost: JxcError | None = None
        self._kinds = storage._kinds
        self._last = storage._sequences
        #: the connection's ``total_changes`` when the transaction began (see _journal_end)
        self._changes = -1
        #: the position after the journal's last row, once known in this transaction
        self._jend: int | None = None
        self._attach(_Ledger(self), _Valuations(self), _Outbox(self))
        self.sequences = _Sequences(self)

    def __enter__(self) -> Self:
        local = self._storage._local
        if getattr(local, "busy", False) or _in_transaction(self._con):
            # this thread has a unit of work open on the storage (committed or not)
            raise nested()
        try:
            self._storage._begin(self._con)
        except sqlite3.Error as exc:
            raise _storage_error(self._storage.path, exc) from exc
        local.busy = True
        self._local = local
        self._active = True
        self._open = True
        self._began()
        return self

    def _began(self) -> None:
        """A transaction was begun: what the last one knew is to be checked again."""
        self._dv = None
        self._jend = None
        self._changes = self._con.total_changes

    def _journal_end(self) -> int | None:
        """Known without a read when the last commit of this connection left it (kept with
        the connection, :meth:`commit`) and nothing was written since: no other connection
        committed (``PRAGMA data_version``, already read for :meth:`stamp`, is the one read
        then; the write lock is held) and this connection changed no row outside its units
        of work (its ``total_changes`` is the one counted after that commit; a rolled back
        change counts too)."""
        if self._jend is None and self._dv is not None:
            known = getattr(self._storage._local, "journal", None)
            if known is not None and known[:3] == (self._serial, self._dv, self._changes):
                self._jend = known[3]
        return self._jend

    def _journal_appended(self, end: int) -> None:
        self._jend = end

    def _driver_error(self, exc: BaseException) -> bool:
        # raised by SQLite inside the block without passing through a repository (an
        # IntegrityError is the caller's own)
        return (isinstance(exc, sqlite3.DatabaseError)
                and not isinstance(exc, sqlite3.IntegrityError))

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
            storage = self._storage
            try:
                # read while the write lock is held: only other connections' commits move it
                dv = self._dv
                if dv is None:
                    dv = con.execute("PRAGMA data_version").fetchone()[0]
                storage._commits += 1
                con.execute("COMMIT")
            except sqlite3.DatabaseError as exc:  # disk full, I/O error: rolled back
                raise self._fail(exc, "commit") from exc
            self._after = (self._serial, dv, storage._commits)
            # the journal's end, for the next unit of work of this connection (_journal_end):
            # found or written in this transaction, else the one kept, if it still held
            end = self._jend
            local = storage._local
            if end is None:
                known = getattr(local, "journal", None)
                if known is not None and known[:3] == (self._serial, dv, self._changes):
                    end = known[3]
            local.journal = None if end is None else (self._serial, dv, con.total_changes,
                                                      end)
            self._open = False
            if storage._checkpointer is not None:
                storage._checkpointer.committed()
            # a write that follows in the same with-block opens a new transaction, dropped
            # at exit unless committed again (as in the memory adapter)

    def stamp(self) -> Hashable | None:
        """(connection, ``PRAGMA data_version``, commits through this storage): see the port."""
        if self._open:
            con = self._con
            if self._dv is None:
                self._dv = con.execute("PRAGMA data_version").fetchone()[0]
            return (self._serial, self._dv, self._storage._commits)
        return self._after

    def _tx(self) -> None:
        """Make sure a transaction is open before a write (after a commit it is not)."""
        if not self._active:  # never a transaction nothing would end
            raise outside()
        if not self._open:
            if self._lost is not None:  # never a new transaction holding half of this one
                raise _storage_error(self._storage.path, None, "rolled_back") from self._lost
            try:
                self._storage._begin(self._con)
            except sqlite3.Error as exc:
                raise _storage_error(self._storage.path, exc) from exc
            self._open = True
            self._began()

    def rollback(self) -> None:
        self._lost = None  # asked for: what follows starts afresh
        if self._open:
            self._open = False
            con = self._con
            if not _in_transaction(con):  # SQLite rolled it back itself (disk full, I/O error)
                return
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error as exc:
                # the connection cannot be trusted: drop it (closing it rolls back); the
                # thread's next unit of work opens a new one
                self._storage._drop(con)
                raise _storage_error(self._storage.path, exc) from exc

    def _fail(self, exc: BaseException, table: str, keys: object = None) -> BaseException:
        """What the caller sees for ``exc``, raised by SQLite in this unit of work: an
        ``invalid_text`` or ``storage_error`` JxcError (``duplicate_key``/``configuration``
        for a constraint). When SQLite has rolled the transaction back itself, the unit of
        work is marked lost: a later write or commit in it is refused."""
        if isinstance(exc, UnicodeEncodeError):
            return _unstorable(table, exc)
        if isinstance(exc, sqlite3.IntegrityError):
            return _integrity(table, keys, exc)
        if not isinstance(exc, sqlite3.DatabaseError):
            return exc
        error = _storage_error(self._storage.path, exc)
        if self._open and not _in_transaction(self._con):
            self._open = False
            self._lost = error
        return error

    def _undo(self, savepoint: str) -> None:
        """Roll back to ``savepoint`` and release it, unless SQLite has rolled the whole
        transaction back itself (then neither exists: trying would replace the real error
        with "no such savepoint"); a savepoint that cannot be rolled back to takes the whole
        transaction with it."""
        con = self._con
        if not _in_transaction(con):
            return
        try:
            con.execute(f"ROLLBACK TO {savepoint}")
            con.execute(f"RELEASE {savepoint}")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")

    def _x(self, table: str, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        fault = self._storage.fault
        if fault is not None:
            fault(table)
        self._tx()
        try:
            return self._con.execute(sql, args)
        except sqlite3.IntegrityError:
            raise  # the repository names the key
        except (sqlite3.DatabaseError, UnicodeEncodeError) as exc:
            raise self._fail(exc, table) from exc

    def _many(self, table: str, sql: str, rows: Sequence[Sequence[Any]], keys: object) -> None:
        """executemany, all rows or none (a savepoint): a duplicate key, a text SQLite cannot
        store or a row it refuses leaves nothing."""
        self._tx()
        con = self._con
        if len(rows) == 1:  # one statement is all or nothing by itself: no savepoint
            try:
                con.execute(sql, rows[0])
            except (sqlite3.DatabaseError, UnicodeEncodeError) as exc:
                raise self._fail(exc, table, keys) from exc
            return
        if not rows:
            return
        multi = _multi_row(sql, len(rows))
        if multi is not None:  # one statement, all or nothing by itself: no savepoint
            try:
                con.execute(multi, _flat(rows))
            except (sqlite3.DatabaseError, UnicodeEncodeError) as exc:
                raise self._fail(exc, table, keys) from exc
            return
        try:
            con.execute("SAVEPOINT jxc_many")
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc, table, keys) from exc
        try:
            con.executemany(sql, rows)
            con.execute("RELEASE jxc_many")
        except BaseException as exc:
            self._undo("jxc_many")
            if isinstance(exc, (sqlite3.DatabaseError, UnicodeEncodeError)):
                raise self._fail(exc, table, keys) from exc
            raise

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._con.execute(sql, args).fetchall()
        except (sqlite3.DatabaseError, UnicodeEncodeError) as exc:
            raise self._fail(exc, "read") from exc

    def _insert(self, table: str, sql: str, args: Sequence[Any], key: object) -> None:
        """One row under a unique key: a duplicate is ``duplicate_key`` naming ``key``."""
        try:
            self._x(table, sql, args)
        except sqlite3.IntegrityError as exc:
            raise _integrity(table, key, exc) from exc


#: the most rows ``_many`` writes with one multi-row ``INSERT`` (more: ``executemany`` in a
#: savepoint); each count is a statement of its own in the connection's statement cache
#: (:data:`STATEMENT_CACHE` statements)
MULTI_ROWS = 32
#: prepared statements a connection keeps (``sqlite3``'s default is 128): the row counts of
#: the multi-row statements of the ledger, balances and valuation rows, and the rest
STATEMENT_CACHE = 256
_MULTI: dict[tuple[str, int], str | None] = {}
_VALUES = re.compile(r"^(INSERT (?:OR REPLACE )?INTO \w+ \([\w, ]+\) VALUES )(\(\?(?:, \?)*\))$")


def _flat(rows: Sequence[Sequence[Any]]) -> list[Any]:
    """The arguments of a multi-row statement: the rows' values one after the other (a
    list extended by each row: quicker than ``itertools.chain`` or a comprehension)."""
    out: list[Any] = []
    extend = out.extend
    for r in rows:
        extend(r)
    return out


def _multi_row(sql: str, n: int) -> str | None:
    """``sql`` (one ``INSERT ... VALUES (?, ...)``) as one statement of ``n`` rows, or
    ``None`` (another statement, or too many rows). One statement is atomic by itself: a
    duplicate key or a refused row in any of them leaves none, as the savepoint around an
    ``executemany`` does, for two statements fewer (``SAVEPOINT``, ``RELEASE``); the rows are
    applied in their order (a key given twice to ``INSERT OR REPLACE``: the last one)."""
    if n > MULTI_ROWS:
        return None
    key = (sql, n)
    text = _MULTI.get(key, "")
    if text == "":
        m = _VALUES.match(sql)
        text = _MULTI[key] = None if m is None else m[1] + ", ".join([m[2]] * n)
    return text


class _Ledger(_repos.Ledger["SqliteUnitOfWork"]):
    def append(self, entries: Sequence[LedgerEntry]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("ledger")
        rows = _sql.ledger_rows(entries)
        self.u._many("ledger", self.s.ledger_add, rows, [e.entry_no for e in entries])


class _Valuations(_repos.Valuations["SqliteUnitOfWork"]):
    def write(self, changes: Sequence[ValuationChange]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("valuations")
        u = self.u
        u._tx()
        con = u._con
        try:
            con.execute("SAVEPOINT jxc_valuations")
        except sqlite3.DatabaseError as exc:
            raise u._fail(exc, "valuations") from exc
        try:
            compact = self.s.dialect.compact_headers
            for run in _sql.valuation_runs(changes):  # one run unless a scope comes twice
                w = _sql.ValuationWrites(run, compact)
                partial = w.partial
                if partial:
                    # one executemany: its rowcount is the sum of the rows it changed
                    cur = con.executemany(self.s.valuation_update, partial)
                    if cur.rowcount != len(partial):
                        missing = [c.scope for c in run if not c.whole and not con.execute(
                            "SELECT 1 FROM valuations WHERE item = ? AND scope = ?",
                            c.scope).fetchone()]
                        raise JxcError("not_found", kind="valuation", key=list(missing[0]))
                self._write_rows(con, w)
            con.execute("RELEASE jxc_valuations")
        except BaseException as exc:
            u._undo("jxc_valuations")
            if isinstance(exc, (sqlite3.DatabaseError, UnicodeEncodeError)):
                raise u._fail(exc, "valuations", [c.scope for c in changes]) from exc
            raise


    def _write_rows(self, cur: Any, w: _sql.ValuationWrites) -> None:
        """As the shared one, with the rows upserted by one multi-row statement (up to
        :data:`MULTI_ROWS` of them; inside the savepoint of :meth:`write`)."""
        upserts = w.upserts
        multi = _multi_row(self.s.valuation_row_put, len(upserts)) if len(upserts) > 1 else None
        if multi is None:
            super()._write_rows(cur, w)
            return
        s = self.s
        if w.whole:
            cur.executemany(s.valuation_rows_drop, w.whole)
            cur.executemany(s.valuation_whole, w.whole_rows)
        cur.execute(multi, _flat(upserts))
        if w.deletes:
            cur.executemany(s.valuation_row_drop, w.deletes)


#: the most sequence values a storage keeps as hints (``_Sequences``)
_SEQUENCES_KEPT = 4096
#: a sequence moved from the value it is believed to have: no row changed when it has another
_SEQUENCE_FROM = "UPDATE sequences SET value = ? WHERE name = ? AND value = ?"


class _Sequences(_repos.Sequences["SqliteUnitOfWork"]):
    """The value a sequence was last given through this storage is a hint, never a fact: the
    next number is taken by an ``UPDATE`` that changes the row only if it still holds that
    value (the write lock is held), which costs less than the upsert with ``RETURNING``; when
    it changed no row (another connection, a rolled back unit of work, a sequence not seen
    yet) the upsert reads the value as before."""

    def next(self, name: str, count: int = 1) -> int:
        u = self.u
        fault = u._storage.fault
        if fault is not None:
            fault("sequences")
        u._tx()
        known = u._last
        was = known.get(name)
        con = u._con
        try:
            if was is not None and con.execute(_SEQUENCE_FROM,
                                               (was + count, name, was)).rowcount == 1:
                last: int = was + count
            else:
                last = con.execute(self.s.sequence_next, (name, count)).fetchone()[0]
                if len(known) >= _SEQUENCES_KEPT:
                    known.clear()
        except sqlite3.IntegrityError:
            raise  # as SqliteUnitOfWork._x
        except (sqlite3.DatabaseError, UnicodeEncodeError) as exc:
            raise u._fail(exc, "sequences") from exc
        known[name] = last
        return last - count + 1


class _Outbox(_repos.Outbox["SqliteUnitOfWork"]):
    def add(self, events: Iterable[Event]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("outbox")
        rows = [(e.event_id, e.type, e.occurred_at.isoformat(),
                 _payload(e.payload)) for e in events]
        self.u._many("outbox", self.s.outbox_add, rows, [r[0] for r in rows])

    def mark_delivered(self, event_ids: Sequence[str]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("outbox")
        if event_ids:
            self.u._many("outbox", "UPDATE outbox SET delivered = 1 WHERE event_id = ?",
                         [(i,) for i in event_ids], list(event_ids))

class _Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a daemon thread of its own connection, when
    :meth:`committed` has been called :data:`CHECKPOINT_EVERY_COMMITS` times. A passive
    checkpoint never blocks a writer or a reader; SQLite lets one run at a time (another
    process's checkpoint makes this one return at once). The thread starts with the first
    request, and again in a forked child that goes on using the storage."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = 0
        #: the last error of a checkpoint (it is tried again at the next request)
        self.error: BaseException | None = None
        self._since = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def committed(self) -> None:
        self._since += 1
        if self._since >= CHECKPOINT_EVERY_COMMITS:
            self._since = 0
            self.request()

    def request(self) -> None:
        if self._thread is None or self._pid != os.getpid():
            with self._lock:
                if self._thread is None or self._pid != os.getpid():
                    self._pid = os.getpid()
                    self._wake = threading.Event()
                    self._thread = threading.Thread(
                        target=_checkpoint_loop, args=(weakref.ref(self), self._wake),
                        name="jxc-sqlite-checkpoint", daemon=True)
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """End the thread (a storage used again after ``close()`` starts a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._wake.set()
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=10)


def _checkpoint_loop(ref: weakref.ref[_Checkpointer], wake: threading.Event) -> None:
    """The background thread: holds only a weak reference, so a storage dropped without
    ``close()`` still ends it."""
    con: sqlite3.Connection | None = None
    try:
        while True:
            wake.wait(timeout=1.0)
            me = ref()
            if me is None or me._thread is not threading.current_thread():
                return  # the storage is gone, or stopped this thread
            if not wake.is_set():
                del me
                continue
            wake.clear()
            try:
                if con is None:
                    con = sqlite3.connect(me.path, isolation_level=None,
                                          check_same_thread=False)
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                me.done += 1
                me.error = None
            except sqlite3.Error as exc:  # tried again at the next request
                me.error = exc
            del me
    finally:
        if con is not None:
            con.close()


class SqliteStorage:
    """Storage in one SQLite file (``":memory:"`` is refused: use MemoryStorage).

    ``path`` is made absolute when the storage is made (:attr:`path`): every connection,
    on any thread, opens that file whatever the working directory is by then. A file of
    another application (tables, but no jxc_core schema version) is refused, never converted.
    ``path`` is a str or a path-like object (``None``: ``TypeError``); a path with a lone
    surrogate (``"\\ud800.db"``) is ``configuration`` with ``field="path"``.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 10_000,
                 retries: int = 50, checkpoints: str = "background") -> None:
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"path must be a str (or a path-like object), got "
                            f"{type(path).__name__} {path!r}")
        name = os.fspath(path)
        if isinstance(name, str) and not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: SQLite cannot open it
                raise JxcError("configuration", field="path", value=repr(name),
                               reason=f"the path {name!r} is not valid text (a lone "
                                      "surrogate): SQLite cannot open it",
                               reason_zh=f"路径 {name!r} 不是有效文本（含孤立代理字符），"
                                         "SQLite 无法打开") from None
        if path == ":memory:":
            raise JxcError("configuration", reason="use MemoryStorage for an in-memory store",
                           reason_zh="内存存储请使用 MemoryStorage")
        if checkpoints not in ("background", "inline"):
            raise JxcError("configuration",
                           reason=f"checkpoints must be 'background' or 'inline': {checkpoints}",
                           reason_zh=f"checkpoints 须为 'background' 或 'inline'：{checkpoints}")
        #: the file, as an absolute path
        self.path = os.path.abspath(os.fspath(path))
        self.busy_timeout_ms = busy_timeout_ms
        self.retries = retries
        self.checkpoints = checkpoints
        self._checkpointer: _Checkpointer | None = (
            _Checkpointer(self.path) if checkpoints == "background" else None)
        self.fault: Any = None
        self._commits = 0
        #: (type, state) of the documents saved last, by number (``SqlUnitOfWork._kinds``)
        self._kinds: dict[str, tuple[str, str]] = {}
        #: the value each sequence was last given through this storage (``_Sequences``)
        self._sequences: dict[str, int] = {}
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        try:
            self._migrate()
        except BaseException:  # refused: no connection or checkpoint thread left behind
            self.close()
            raise

    def _connection(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            # a statement cache above the default 128: the multi-row statements take one
            # entry per row count (``_multi_row``)
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                  timeout=self.busy_timeout_ms / 1000,
                                  cached_statements=STATEMENT_CACHE)
            con.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            # statement journals of savepoints in memory, not in a temp file per transaction
            # (each savepoint cost ~20 µs with temp files)
            con.execute("PRAGMA temp_store = MEMORY")
            if self._checkpointer is not None:
                con.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_CHECKPOINT_PAGES}")
            self._local.con = con
            self._local.serial = next(_SERIALS)
            with self._guard:
                self._all.append(con)
        return con

    def _drop(self, con: sqlite3.Connection) -> None:
        """Close a connection that cannot be trusted any more (closing rolls back what it
        left open); the thread's next unit of work makes a new one."""
        if getattr(self._local, "con", None) is con:
            self._local.con = None
        with self._guard:
            if con in self._all:
                self._all.remove(con)
        with contextlib.suppress(sqlite3.Error):
            con.close()

    def _begin(self, con: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE with a bounded retry: "database is locked" stays inside."""
        delay = 0.005
        for attempt in range(self.retries + 1):
            try:
                con.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if attempt == self.retries:
                    raise JxcError("configuration",
                                   reason=f"database still locked after {attempt} retries",
                                   reason_zh=f"重试 {attempt} 次后数据库仍被锁定") from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    def _migrate(self) -> None:
        try:
            con = self._connection()
            self._begin(con)
        except sqlite3.Error as exc:  # no such directory, a directory, not a database, ...
            raise JxcError("configuration", field="path", path=self.path,
                           reason=f"cannot open the SQLite file {self.path!r}: {exc}",
                           reason_zh=f"无法打开 SQLite 文件 {self.path!r}：{exc}") from exc
        try:
            try:
                version = con.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as exc:  # "file is not a database"
                raise JxcError("configuration", field="path", path=self.path,
                               reason=f"cannot open the SQLite file {self.path!r}: {exc}",
                               reason_zh=f"无法打开 SQLite 文件 {self.path!r}：{exc}") from exc
            if version > len(MIGRATIONS):  # written by a newer jxc_core: never write into it
                raise JxcError("configuration", field="path", path=self.path,
                               reason=f"{self.path!r} has schema version {version}; this "
                                      f"version of jxc_core knows up to {len(MIGRATIONS)}: "
                                      "upgrade jxc_core to open it",
                               reason_zh=f"{self.path!r} 的数据结构版本为 {version}，本版本 "
                                         f"jxc_core 只认识到 {len(MIGRATIONS)}：请升级 jxc_core "
                                         "后再打开")
            if version == 0:
                self._refuse_foreign(con)
            i = version
            try:
                for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in script.split(";"):
                        if statement.strip():
                            con.execute(statement)
                    con.execute(f"PRAGMA user_version = {i}")
                con.execute("COMMIT")
            except sqlite3.DatabaseError as exc:  # full, read-only, damaged, ...
                raise _storage_error(self.path, exc, doing=(
                    f"cannot bring the schema to version {i}",
                    f"无法将数据结构升级到版本 {i}")) from exc
        except BaseException:
            if _in_transaction(con):  # else SQLite rolled back itself (disk full, I/O error)
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
            raise

    def _refuse_foreign(self, con: sqlite3.Connection) -> None:
        """A file without a jxc_core schema version (``user_version`` 0) is new or empty; one
        that has tables belongs to another application: jxc_core never writes into it."""
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name "
                "NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT 6").fetchall()]
        except sqlite3.DatabaseError as exc:  # damaged
            raise JxcError("configuration", field="path", path=self.path,
                           reason=f"cannot open the SQLite file {self.path!r}: {exc}",
                           reason_zh=f"无法打开 SQLite 文件 {self.path!r}：{exc}") from exc
        if names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise JxcError("configuration", field="path", path=self.path,
                           reason=f"{self.path!r} is not a jxc_core database: it has tables "
                                  f"({shown}) but no jxc_core schema version; jxc_core does "
                                  "not write into another application's database",
                           reason_zh=f"{self.path!r} 不是 jxc_core 数据库：其中已有数据表"
                                     f"（{shown}），但没有 jxc_core 数据结构版本；jxc_core "
                                     "不会写入其他应用的数据库")

    @property
    def schema_version(self) -> int:
        try:
            v: int = self._connection().execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise _storage_error(self.path, exc) from exc
        return v

    def unit_of_work(self) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self)

    @property
    def background_checkpoints(self) -> int:
        """Checkpoints the background thread has run (0 with ``checkpoints="inline"``)."""
        return 0 if self._checkpointer is None else self._checkpointer.done

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._guard:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()

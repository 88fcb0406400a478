"""The repositories the SQL adapters (SQLite, PostgreSQL) share: the same Python over the same
tables, with the SQL text of each engine made once, when the adapter module is imported, from
a :class:`Dialect` (the placeholder, the upsert, the column that keeps the order rows were
made in, ...).

A SQL adapter's unit of work subclasses :class:`SqlUnitOfWork` and brings what is its own:
connections, the transaction and its lock, savepoints, the mapping of the driver's errors
(``_q``, ``_x``, ``_many``, ``_insert``, ``_tx``), and the writes that differ (the ledger and
outbox appends, the outbox's delivery marks and the valuation write: hot paths written for
their driver).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from types import TracebackType
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from jxc_core import ports
from jxc_core.adapters import _json, _outbox, _sql
from jxc_core.adapters._misuse import outside
from jxc_core.errors import JxcError
from jxc_core.ports import Event, ValuationChange
from jxc_core.stock.model import Balance, Item, LedgerEntry, Lot, Party, Reservation, Warehouse

__all__: list[str] = []

_dumps = _json.dumps
_text = _json.text
_entry = _sql.entry
_balance = _sql.balance
_reservation = _sql.reservation
_journal_rows = _sql.journal_rows
_header_state = _sql.header_state

#: the columns of the tables read back through the row converters of ``_sql``, in order
LEDGER_COLUMNS = ("entry_no", "item", "warehouse", "location", "lot", "quantity", "value",
                  "posted_at", "kind", "doc_type", "doc_id", "line_no", "from_ref")
BALANCE_COLUMNS = ("item", "warehouse", "location", "lot", "on_hand", "held", "on_order",
                   "demand")
RESERVATION_COLUMNS = ("reservation_id", "item", "warehouse", "lot", "demand", "quantity",
                       "expires_at")


class Dialect(NamedTuple):
    """What the SQL text of one engine says differently.

    ``param``: the placeholder (``"?"``, ``"%s"``). ``replace``: the engine's upsert is
    ``INSERT OR REPLACE`` (a delete and an insert: the row gets a new rowid/seq, so documents,
    records and a replaced reservation are updated first and inserted only when missing);
    else ``INSERT ... ON CONFLICT (key) DO UPDATE``. ``made``: the column in whose order the
    rows of a table were made (reservations). ``prefix``: the first ``n`` characters of
    ``key``, with a ``?`` for ``n``. ``undelivered``: the condition on the outbox's
    ``delivered`` column that its pending index answers. ``unique``: what ends an insert
    under a unique key: ``""`` when the driver raises on a duplicate, ``" ON CONFLICT DO
    NOTHING"`` when the adapter's ``_insert`` reads a duplicate from the row count.
    """

    param: str
    replace: bool
    made: str
    prefix: str
    undelivered: str
    unique: str
    #: the journal's table rows in the compact form of ``_sql.journal_batches`` (a schema
    #: version that older versions of jxc_core refuse to open)
    compact_journal: bool = False
    #: valuation headers in the compact form of ``_sql.header_text`` (likewise)
    compact_headers: bool = False
    #: the condition on the outbox's ``delivered`` column that takes the delivered events
    delivered: str = "delivered"

    def q(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in this engine's."""
        return sql if self.param == "?" else sql.replace("?", self.param)

    def insert(self, table: str, columns: Sequence[str]) -> str:
        return self.q(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                      f"({', '.join('?' for _ in columns)})")

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """Insert a row, or replace the one under ``key``."""
        if self.replace:
            return self.q(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES "
                          f"({', '.join('?' for _ in columns)})")
        return (self.insert(table, columns) + f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key))


class Statements:
    """Every statement of the shared repositories in one engine's text (made once per
    adapter, as a class attribute of its unit of work)."""

    def __init__(self, d: Dialect) -> None:
        q = d.q
        self.dialect = d
        # master data
        self.item_get = q("SELECT data FROM items WHERE code = ?")
        self.item_put = d.upsert("items", ("code", "data"), ("code",))
        self.warehouse_get = q("SELECT data FROM warehouses WHERE code = ?")
        self.warehouse_put = d.upsert("warehouses", ("code", "data"), ("code",))
        self.lot_get = q("SELECT expiry FROM lots WHERE item = ? AND code = ?")
        self.lot_put = d.upsert("lots", ("item", "code", "expiry"), ("item", "code"))
        self.party_get = q("SELECT code, name, kind FROM parties WHERE code = ?")
        self.party_put = d.upsert("parties", ("code", "name", "kind"), ("code",))
        # ledger
        self.ledger_add = d.insert("ledger", LEDGER_COLUMNS)
        #: one row alone, through ``_insert``
        self.ledger_add_unique = self.ledger_add + d.unique
        self.ledger_select = q(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM ledger WHERE item = ?")
        self.ledger_warehouse = q(" AND warehouse = ?")
        self.ledger_until = q(" AND posted_at <= ?")
        self.ledger_since = q(" AND (posted_at > ? OR (posted_at = ? AND entry_no > ?))")
        #: whether a document number is in the ledger: read through the index ``ledger_doc``
        self.ledger_has_doc = q("SELECT 1 FROM ledger WHERE doc_id = ? LIMIT 1")
        # balances: in the primary key's order (the rows come out of its index in it)
        balances = f"SELECT {', '.join(BALANCE_COLUMNS)} FROM balances"
        self.balances_all = balances
        self.balances_item = q(f"{balances} WHERE item = ? ORDER BY warehouse, location, lot")
        self.balances_place = q(f"{balances} WHERE item = ? AND warehouse = ? "
                                "ORDER BY location, lot")
        self.balances_put = d.upsert("balances", BALANCE_COLUMNS,
                                     ("item", "warehouse", "location", "lot"))
        # valuations
        self.valuation_get = q("SELECT state FROM valuations WHERE item = ? AND scope = ?")
        self.valuation_rows = q("SELECT key, data FROM valuation_rows WHERE item = ? AND "
                                "scope = ? ORDER BY key")
        self.valuation_version = q("SELECT version FROM valuations WHERE item = ? AND "
                                   "scope = ?")
        self.valuation_update = q("UPDATE valuations SET state = ?, version = version + 1 "
                                  "WHERE item = ? AND scope = ?")
        self.valuation_rows_drop = q("DELETE FROM valuation_rows WHERE item = ? AND scope = ?")
        self.valuation_whole = q(
            "INSERT INTO valuations (item, scope, state, version) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (item, scope) DO UPDATE SET state = excluded.state, "
            "version = valuations.version + 1")
        self.valuation_row_put = d.upsert("valuation_rows", ("item", "scope", "key", "data"),
                                          ("item", "scope", "key"))
        self.valuation_row_drop = q("DELETE FROM valuation_rows WHERE item = ? AND scope = ? "
                                    "AND key = ?")
        # checkpoints
        self.checkpoint_put = d.upsert(
            "checkpoints", ("item", "scope", "posted_at", "entry_no", "state"),
            ("item", "scope", "posted_at", "entry_no"))
        self.checkpoint_latest = q(
            "SELECT posted_at, entry_no, state FROM checkpoints WHERE item = ? AND scope = ? "
            "AND posted_at <= ? ORDER BY posted_at DESC, entry_no DESC LIMIT 1")
        self.checkpoint_drop = q("DELETE FROM checkpoints WHERE item = ? AND scope = ? AND "
                                 "posted_at > ?")
        # reservations: in the order they were made, as the memory adapter keeps them (which
        # of a demand's reservations an issue consumes or a trim cuts first depends on it)
        reservations = f"SELECT {', '.join(RESERVATION_COLUMNS)} FROM reservations"
        self.reservations_all = f"{reservations} ORDER BY {d.made}"
        self.reservations_place = q(f"{reservations} WHERE item = ? AND warehouse = ? "
                                    f"ORDER BY {d.made}")
        self.reservations_demand = q(f"{reservations} WHERE demand = ? ORDER BY {d.made}")
        self.reservation_add = d.insert("reservations", RESERVATION_COLUMNS) + d.unique
        self.reservation_update = q(
            "UPDATE reservations SET lot = ?, quantity = ?, expires_at = ? WHERE "
            "reservation_id = ? AND item = ? AND warehouse = ? AND demand = ?")
        #: a replaced reservation that moved (item, warehouse or demand): after the others
        self.reservation_readd = (
            d.upsert("reservations", RESERVATION_COLUMNS, ("reservation_id",)) if d.replace
            else d.insert("reservations", RESERVATION_COLUMNS))
        self.reservation_remove = q("DELETE FROM reservations WHERE reservation_id = ?")
        # documents and records
        self.document_get = q("SELECT data FROM documents WHERE doc_id = ?")
        self.document_ids = "SELECT doc_id FROM documents WHERE 1 = 1"
        self.document_type = q(" AND doc_type = ?")
        self.document_state = q(" AND state = ?")
        #: an engine whose upsert replaces the row updates first, then inserts (plain)
        self.document_update = q("UPDATE documents SET doc_type = ?, state = ?, data = ? "
                                 "WHERE doc_id = ?")
        #: the row of a document whose type or state changes (a replacing engine: ``INSERT OR
        #: REPLACE`` would give it a new ``seq``); ``document_data`` writes the data alone of
        #: one whose type and state stay (an order's counters): its ``documents_type`` index
        #: entry is not rewritten
        self.document_moved = q("UPDATE documents SET doc_type = ?, state = ?, data = ? "
                                "WHERE doc_id = ? AND (doc_type <> ? OR state <> ?)")
        self.document_data = q("UPDATE documents SET data = ? WHERE doc_id = ?")
        #: the data alone of a document still of the type and in the state given
        self.document_kept = q("UPDATE documents SET data = ? WHERE doc_id = ? AND "
                               "doc_type = ? AND state = ?")
        documents = ("doc_id", "doc_type", "state", "data")
        self.document_put = (d.insert("documents", documents) if d.replace
                             else d.upsert("documents", documents, ("doc_id",)))
        self.record_get = q("SELECT data FROM records WHERE kind = ? AND key = ?")
        self.record_update = q("UPDATE records SET data = ? WHERE kind = ? AND key = ?")
        records = ("kind", "key", "data")
        self.record_put = (d.insert("records", records) if d.replace
                           else d.upsert("records", records, ("kind", "key")))
        # a key starts with the prefix: its first len(prefix) characters are the prefix (the
        # lower bound keeps the index; an upper bound such as prefix + "\U0010ffff" missed
        # keys that go on with that character)
        self.record_list = q("SELECT key, data FROM records WHERE kind = ? AND key >= ? AND "
                             f"{d.prefix} = ? ORDER BY seq")
        # journal
        self.journal_end = "SELECT pos + n FROM journal ORDER BY pos DESC LIMIT 1"
        self.journal_add = d.insert("journal", ("pos", "n", "doc_id", "data"))
        self.journal_all = "SELECT data FROM journal ORDER BY pos"
        self.journal_doc = q("SELECT data FROM journal WHERE doc_id = ? ORDER BY pos")
        self.journal_since = q(
            "SELECT pos, data FROM journal WHERE pos >= COALESCE((SELECT pos FROM journal "
            "WHERE pos <= ? ORDER BY pos DESC LIMIT 1), 0) ORDER BY pos")
        # serials: ``in_warehouse`` is answered by the index ``serials_place`` (item,
        # warehouse, serial) in its order (byte order of UTF-8, the code point order of
        # ``sorted``), not by a scan of every serial
        self.serial_where = q("SELECT warehouse FROM serials WHERE item = ? AND serial = ?")
        self.serial_drop = q("DELETE FROM serials WHERE item = ? AND serial = ?")
        self.serial_put = d.upsert("serials", ("item", "serial", "warehouse"),
                                   ("item", "serial"))
        self.serials_in = q("SELECT serial FROM serials WHERE item = ? AND warehouse = ? "
                            "ORDER BY serial")
        # outbox, idempotency, sequences
        self.outbox_add = d.insert("outbox", ("event_id", "type", "occurred_at", "payload"))
        self.outbox_add_unique = self.outbox_add + d.unique
        self.outbox_pending = q("SELECT event_id, type, occurred_at, payload FROM outbox "
                                f"WHERE {d.undelivered} ORDER BY seq LIMIT ?")
        #: the delivered events' moments, for ``purge`` (which compares them as datetimes:
        #: ISO text sorts as time does only within one offset)
        self.outbox_delivered = (f"SELECT seq, occurred_at FROM outbox WHERE {d.delivered} "
                                 "ORDER BY seq")
        self.outbox_purge = q("DELETE FROM outbox WHERE seq = ?")
        self.idempotency_get = q("SELECT fingerprint, result FROM idempotency WHERE key = ?")
        self.idempotency_put = d.insert("idempotency", ("key", "fingerprint", "result")) \
            + d.unique
        self.sequence_next = q("INSERT INTO sequences (name, value) VALUES (?, ?) ON CONFLICT "
                               "(name) DO UPDATE SET value = sequences.value + excluded.value "
                               "RETURNING value")


class SqlUnitOfWork:
    """The part of a SQL unit of work that is the same on every engine: the master data
    (the unit of work is its own ``master``) and the repositories, made by :meth:`_attach`.
    A subclass sets :attr:`sql` and implements the statement runners below."""

    sql: ClassVar[Statements]
    #: the with-block is open; the thread's slot of the storage (``busy`` while it is)
    _active: bool
    _local: Any
    #: the storage; its ``fault`` (a test hook, or None) is called with the table name
    #: before a write
    _storage: Any
    master: ports.MasterDataRepository
    ledger: ports.LedgerRepository
    balances: ports.BalanceRepository
    valuations: ports.ValuationRepository
    checkpoints: ports.CheckpointRepository
    reservations: ports.ReservationRepository
    serials: ports.SerialRepository
    documents: ports.DocumentRepository
    journal: ports.JournalRepository
    records: ports.RecordRepository
    outbox: ports.OutboxRepository
    idempotency: ports.IdempotencyRepository
    sequences: ports.SequenceRepository

    #: (type, state) of the documents the storage last saved, by number:
    #: a hint for the order of the statements of ``documents.put`` (an engine whose upsert
    #: replaces the row), never trusted as a fact
    _kinds: dict[str, tuple[str, str]]

    def _journal_end(self) -> int | None:
        """The position after the journal's last row, when the unit of work knows it without
        a read (else ``None``: the journal repository reads it)."""
        return None

    def _journal_appended(self, end: int) -> None:
        """The journal's rows now end at ``end`` (written in this transaction)."""

    def _attach(self, ledger: ports.LedgerRepository, valuations: ports.ValuationRepository,
                outbox: ports.OutboxRepository) -> None:
        """The repositories: the shared ones, and the adapter's own given."""
        self.master = self
        self.ledger = ledger
        self.balances = Balances(self)
        self.valuations = valuations
        self.checkpoints = Checkpoints(self)
        self.reservations = Reservations(self)
        self.serials = Serials(self)
        self.documents = Documents(self)
        self.journal = Journal(self)
        self.records = Records(self)
        self.outbox = outbox
        self.idempotency = Idempotency(self)
        self.sequences = Sequences(self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """The thread may open another unit of work; what was not committed is rolled back
        (a failing rollback is raised unless an error is already in flight: the caller
        needs to see that one); a driver error raised inside the block without passing
        through a repository is mapped as the repositories map theirs."""
        if self._active:
            self._local.busy = False
        self._active = False
        try:
            self.rollback()
        except JxcError:
            if exc is None:
                raise
        if exc is not None and self._driver_error(exc):
            raise self._fail(exc, "unit of work") from exc

    # -- what the adapter implements --------------------------------------------------------
    def rollback(self) -> None:
        raise NotImplementedError

    def _driver_error(self, exc: BaseException) -> bool:
        """Whether ``exc`` is an error of the driver that ``_fail`` maps."""
        raise NotImplementedError

    def _fail(self, exc: BaseException, table: str, keys: object = None) -> BaseException:
        """What the caller sees for ``exc``, met in this unit of work."""
        raise NotImplementedError

    def _tx(self) -> None:
        """Make sure a transaction is open before a write."""
        raise NotImplementedError

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """The rows a query reads."""
        raise NotImplementedError

    def _x(self, table: str, sql: str, args: Sequence[Any] = ()) -> Any:
        """One statement that writes ``table``; returns its cursor (``rowcount``)."""
        raise NotImplementedError

    def _many(self, table: str, sql: str, rows: Sequence[Sequence[Any]], keys: object) -> None:
        """One statement over ``rows``, all of them or none (``duplicate_key`` names
        ``keys``)."""
        raise NotImplementedError

    def _insert(self, table: str, sql: str, args: Sequence[Any], key: object) -> None:
        """One row under a unique key (``sql`` ends with the dialect's ``unique``); a
        duplicate is ``duplicate_key`` naming ``key``."""
        raise NotImplementedError

    # -- master data ------------------------------------------------------------------------
    def get_item(self, code: str) -> Item | None:
        rows = self._q(self.sql.item_get, (code,))
        return Item.from_data(json.loads(rows[0][0])) if rows else None

    def put_item(self, item: Item) -> None:
        self._x("items", self.sql.item_put,
                (item.code, json.dumps(item.to_data(), ensure_ascii=False)))

    def get_warehouse(self, code: str) -> Warehouse | None:
        rows = self._q(self.sql.warehouse_get, (code,))
        return Warehouse.from_data(json.loads(rows[0][0])) if rows else None

    def put_warehouse(self, warehouse: Warehouse) -> None:
        self._x("warehouses", self.sql.warehouse_put,
                (warehouse.code, json.dumps(warehouse.to_data(), ensure_ascii=False)))

    def get_lot(self, item: str, code: str) -> Lot | None:
        rows = self._q(self.sql.lot_get, (item, code))
        if not rows:
            return None
        return Lot(item, code, None if rows[0][0] is None else dt.date.fromisoformat(rows[0][0]))

    def put_lot(self, lot: Lot) -> None:
        self._x("lots", self.sql.lot_put,
                (lot.item, lot.code, None if lot.expiry is None else lot.expiry.isoformat()))

    def get_party(self, code: str) -> Party | None:
        rows = self._q(self.sql.party_get, (code,))
        return Party(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def put_party(self, party: Party) -> None:
        self._x("parties", self.sql.party_put, (party.code, party.name, party.kind))


U = TypeVar("U", bound=SqlUnitOfWork)


#: the most document numbers a connection keeps the (type, state) of (``SqlUnitOfWork._kinds``)
_KINDS_KEPT = 4096


class Repo(Generic[U]):
    """A repository of the unit of work ``u``; ``s``: its statements."""

    def __init__(self, uow: U) -> None:
        self.u = uow
        self.s = uow.sql

    def _put_in_place(self, table: str, update: str, update_args: Sequence[Any], put: str,
                      put_args: Sequence[Any]) -> None:
        """Write a row that keeps its place (``seq``): ``put`` alone where it is an upsert;
        where the engine's upsert would replace the row (a new ``seq``), ``update`` first and
        ``put`` (a plain insert) only when no row was there."""
        if self.s.dialect.replace:
            if self.u._x(table, update, update_args).rowcount != 0:
                return
        self.u._x(table, put, put_args)


class Ledger(Repo[U]):
    """The reads of the ledger; the adapter writes ``append`` (the hot path) itself."""

    def entries(
        self, item: str, warehouse: str | None = None, until: dt.datetime | None = None
    ) -> list[LedgerEntry]:
        sql, args = self._select(item, warehouse)
        if until is not None:
            sql += self.s.ledger_until
            args.append(until.isoformat())
        return [_entry(r) for r in self.u._q(sql + " ORDER BY entry_no", args)]

    def after(
        self,
        item: str,
        warehouse: str | None,
        since: dt.datetime | None = None,
        entry_no: int = 0,
    ) -> list[LedgerEntry]:
        sql, args = self._select(item, warehouse)
        if since is not None:
            sql += self.s.ledger_since
            args += [since.isoformat(), since.isoformat(), entry_no]
        rows = self.u._q(sql + " ORDER BY posted_at, entry_no", args)
        return [_entry(r) for r in rows]

    def _select(self, item: str, warehouse: str | None) -> tuple[str, list[Any]]:
        """The query of an item's entries (in a warehouse, or in all) and its arguments."""
        if warehouse is None:
            return self.s.ledger_select, [item]
        return self.s.ledger_select + self.s.ledger_warehouse, [item, warehouse]

    def has_document(self, doc_id: str) -> bool:
        return bool(self.u._q(self.s.ledger_has_doc, (doc_id,)))

    def count(self) -> int:
        n: int = self.u._q("SELECT COUNT(*) FROM ledger")[0][0]
        return n


class Balances(Repo[U]):
    def for_item(self, item: str, warehouse: str | None = None) -> list[Balance]:
        if warehouse is None:
            rows = self.u._q(self.s.balances_item, (item,))
        else:
            rows = self.u._q(self.s.balances_place, (item, warehouse))
        return [_balance(r) for r in rows]

    def put(self, rows: Sequence[Balance]) -> None:
        fault = self.u._storage.fault
        if fault is not None:
            fault("balances")
        if rows:  # all rows or none (_many); an upsert: no duplicate key to name
            self.u._many("balances", self.s.balances_put, _sql.balance_rows(rows), None)

    def all(self) -> list[Balance]:
        return [_balance(r) for r in self.u._q(self.s.balances_all)]


class Valuations(Repo[U]):
    """The reads of the valuation states; the adapter writes ``write`` (the hot path), with
    :meth:`_write_rows` for its whole states and rows."""

    def get(self, scope: tuple[str, str]) -> dict[str, Any] | None:
        rows = self.u._q(self.s.valuation_get, scope)
        if not rows:
            return None
        state = _header_state(rows[0][0])
        parts = self.u._q(self.s.valuation_rows, scope)
        if parts:
            state["rows"] = [[k, json.loads(d)] for k, d in parts]
        return state

    def put(self, scope: tuple[str, str], state: dict[str, Any]) -> None:
        self.write([ValuationChange.of_state(scope, state)])

    def write(self, changes: Sequence[ValuationChange]) -> None:
        raise NotImplementedError

    def version(self, scope: tuple[str, str]) -> int | None:
        rows = self.u._q(self.s.valuation_version, scope)
        return int(rows[0][0]) if rows else None

    def _write_rows(self, cur: Any, w: _sql.ValuationWrites) -> None:
        """The statements of ``w`` after its partial headers, through ``cur`` (a cursor or
        a connection with ``executemany``): whole states and their rows replaced, rows
        upserted and deleted."""
        s = self.s
        if w.whole:
            cur.executemany(s.valuation_rows_drop, w.whole)
            cur.executemany(s.valuation_whole, w.whole_rows)
        if w.upserts:
            cur.executemany(s.valuation_row_put, w.upserts)
        if w.deletes:
            cur.executemany(s.valuation_row_drop, w.deletes)


class Checkpoints(Repo[U]):
    def put(self, scope: tuple[str, str], posted_at: dt.datetime, entry_no: int,
            state: dict[str, Any]) -> None:
        self.u._x("checkpoints", self.s.checkpoint_put,
                  (scope[0], scope[1], posted_at.isoformat(), entry_no, _dumps(state)))

    def latest(self, scope: tuple[str, str], at_or_before: dt.datetime
               ) -> tuple[dt.datetime, int, dict[str, Any]] | None:
        rows = self.u._q(self.s.checkpoint_latest,
                         (scope[0], scope[1], at_or_before.isoformat()))
        if not rows:
            return None
        return dt.datetime.fromisoformat(rows[0][0]), rows[0][1], json.loads(rows[0][2])

    def drop_after(self, scope: tuple[str, str], posted_at: dt.datetime) -> None:
        self.u._x("checkpoints", self.s.checkpoint_drop,
                  (scope[0], scope[1], posted_at.isoformat()))


class Reservations(Repo[U]):
    def for_item(self, item: str, warehouse: str) -> list[Reservation]:
        return [_reservation(r) for r in self.u._q(self.s.reservations_place,
                                                   (item, warehouse))]

    def for_demand(self, demand: str) -> list[Reservation]:
        return [_reservation(r) for r in self.u._q(self.s.reservations_demand, (demand,))]

    def add(self, reservation: Reservation) -> None:
        self.u._insert("reservations", self.s.reservation_add,
                       _sql.reservation_row(reservation), reservation.reservation_id)

    def replace(self, reservation: Reservation) -> None:
        """In place when it keeps its (item, warehouse) and demand (an UPDATE keeps the row's
        place; ``INSERT OR REPLACE`` moved a partly consumed reservation behind the later
        ones); else as a new one, after the others (as the memory adapter does)."""
        r = reservation
        s = self.s
        cur = self.u._x("reservations", s.reservation_update,
                        (r.lot, str(r.quantity),
                         None if r.expires_at is None else r.expires_at.isoformat(),
                         r.reservation_id, r.item, r.warehouse, r.demand))
        if cur.rowcount == 0:
            if not s.dialect.replace:
                self.u._x("reservations", s.reservation_remove, (r.reservation_id,))
            self.u._x("reservations", s.reservation_readd, _sql.reservation_row(r))

    def remove(self, reservation_id: str) -> None:
        self.u._x("reservations", self.s.reservation_remove, (reservation_id,))

    def all(self) -> list[Reservation]:
        return [_reservation(r) for r in self.u._q(self.s.reservations_all)]


class Documents(Repo[U]):
    def get(self, doc_id: str) -> dict[str, Any] | None:
        rows = self.u._q(self.s.document_get, (doc_id,))
        if not rows:
            return None
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def put(self, doc_id: str, doc_type: str, state: str, data: dict[str, Any]) -> None:
        text = _text(data)
        s = self.s
        if s.dialect.replace:
            # a new type or state (an action) first, then the data alone (an order's counters,
            # same type and state: its index entry stays as it is), a new document last. The
            # other way round when the type and state this connection last saw the document
            # in are the same (a hint: each statement checks what it relies on)
            x = self.u._x
            kinds = self.u._kinds
            if (kinds.get(doc_id) != (doc_type, state)
                    or x("documents", s.document_kept,
                         (text, doc_id, doc_type, state)).rowcount == 0):
                if (x("documents", s.document_moved,
                      (doc_type, state, text, doc_id, doc_type, state)).rowcount == 0
                        and x("documents", s.document_data, (text, doc_id)).rowcount == 0):
                    x("documents", s.document_put, (doc_id, doc_type, state, text))
            if len(kinds) >= _KINDS_KEPT:
                kinds.clear()
            kinds[doc_id] = (doc_type, state)
            return
        self._put_in_place("documents", s.document_update, (doc_type, state, text, doc_id),
                           s.document_put, (doc_id, doc_type, state, text))

    def ids(self, doc_type: str | None = None, state: str | None = None) -> list[str]:
        s = self.s
        sql = s.document_ids
        args: list[Any] = []
        if doc_type is not None:
            sql += s.document_type
            args.append(doc_type)
        if state is not None:
            sql += s.document_state
            args.append(state)
        return [r[0] for r in self.u._q(sql + " ORDER BY seq", args)]


class Journal(Repo[U]):
    """The rows of one append with the same document and the same keys (in the same order)
    are stored as one table row, ``[keys, values, values, ...]`` (``_sql.journal_batches``),
    keyed by the position of its first row: one index entry and the key names once per
    posting, not per row. A row stored alone earlier (a JSON object) reads back as it is."""

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        u = self.u
        if not u._active:  # refused alike when there is nothing to write (as in memory)
            raise outside()
        fault = u._storage.fault
        if fault is not None:
            fault("journal")
        batches = _sql.journal_batches(rows, self.s.dialect.compact_journal)
        if batches:
            u._tx()
            known = u._journal_end()
            if known is None:
                last = u._q(self.s.journal_end)
                pos = last[0][0] if last else 0
            else:
                pos = known
            placed = []
            for doc_id, text, n in batches:
                placed.append((pos, n, doc_id, text))
                pos += n
            # all rows or none (_many)
            u._many("journal", self.s.journal_add, placed, [p[0] for p in placed])
            u._journal_appended(pos)

    def all(self, doc_id: str | None = None) -> list[dict[str, Any]]:
        if doc_id is None:
            found = self.u._q(self.s.journal_all)
        else:
            found = self.u._q(self.s.journal_doc, (doc_id,))
        return [r for (text,) in found for r in _journal_rows(text)]

    def since(self, position: int) -> list[dict[str, Any]]:
        if position < 0:
            raise ValueError(f"position must not be negative, got {position}")
        found = self.u._q(self.s.journal_since, (position,))
        out: list[dict[str, Any]] = []
        for pos, text in found:
            rows = _journal_rows(text)
            out.extend(rows[position - pos:] if pos < position else rows)
        return out


class Records(Repo[U]):
    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        rows = self.u._q(self.s.record_get, (kind, key))
        if not rows:
            return None
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def put(self, kind: str, key: str, data: dict[str, Any]) -> None:
        text = _text(data)
        s = self.s
        self._put_in_place("records", s.record_update, (text, kind, key), s.record_put,
                           (kind, key, text))

    def list(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        rows = self.u._q(self.s.record_list, (kind, prefix, len(prefix), prefix))
        return [(r[0], json.loads(r[1])) for r in rows]


class Serials(Repo[U]):
    def where(self, item: str, serial: str) -> str | None:
        rows = self.u._q(self.s.serial_where, (item, serial))
        return rows[0][0] if rows else None

    def set(self, item: str, serial: str, warehouse: str | None) -> None:
        if warehouse is None:
            self.u._x("serials", self.s.serial_drop, (item, serial))
        else:
            self.u._x("serials", self.s.serial_put, (item, serial, warehouse))

    def in_warehouse(self, item: str, warehouse: str) -> list[str]:
        return [r[0] for r in self.u._q(self.s.serials_in, (item, warehouse))]


class Outbox(Repo[U]):
    """The pending events; the adapter writes ``add`` (the hot path) and ``mark_delivered``."""

    def pending(self, limit: int = 1000) -> list[Event]:
        rows = self.u._q(self.s.outbox_pending, (limit,))
        return [Event(r[0], r[1], dt.datetime.fromisoformat(r[2]), json.loads(r[3]))
                for r in rows]

    def purge(self, occurred_before: dt.datetime, limit: int = 1000) -> int:
        purged = _outbox.purge_rule(occurred_before, limit)
        u = self.u
        fault = u._storage.fault
        if fault is not None:
            fault("outbox")
        u._tx()  # refused alike when nothing is to purge
        # the delivered rows by ``seq``, their moments compared here (see purge_rule)
        fromiso = dt.datetime.fromisoformat
        seqs: list[tuple[int]] = []
        for seq, at in u._q(self.s.outbox_delivered):
            if purged(fromiso(at)):
                seqs.append((seq,))
                if len(seqs) >= limit:
                    break
        if seqs:
            u._many("outbox", self.s.outbox_purge, seqs, [s[0] for s in seqs])
        return len(seqs)


class Idempotency(Repo[U]):
    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        rows = self.u._q(self.s.idempotency_get, (key,))
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def put(self, key: str, fingerprint: str, result: dict[str, Any]) -> None:
        self.u._insert("idempotency", self.s.idempotency_put,
                       (key, fingerprint, json.dumps(result, ensure_ascii=False)), key)


class Sequences(Repo[U]):
    def next(self, name: str, count: int = 1) -> int:
        last: int = self.u._x("sequences", self.s.sequence_next, (name, count)).fetchone()[0]
        return last - count + 1

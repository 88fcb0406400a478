"""In-memory storage: the reference adapter, fast, and an honest fake.

Writers are serialised by one lock held for the whole unit of work (like SQLite's
``BEGIN IMMEDIATE``). Writes are staged copy-on-write per group (an item-warehouse's balances,
its reservations, ...) and become visible only on commit; rollback drops the stage. Duplicate
keys raise the same ``duplicate_key`` error as the SQLite adapter.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import operator
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import attrs

from jxc_core.adapters import _json, _outbox
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

__all__ = ["MemoryStorage"]

#: a journal append as the memory adapter keeps it: (position, rows, doc_ids, JSON text)
_JournalPart = tuple[int, int, tuple[str, ...], str]


class _Data:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.warehouses: dict[str, Warehouse] = {}
        self.lots: dict[tuple[str, str], Lot] = {}
        self.parties: dict[str, Party] = {}
        #: committed entries as plain tuples (the fields of LedgerEntry in order): tuples of
        #: numbers and strings are not tracked by the garbage collector, entry objects are
        self.ledger: list[_Entry] = []
        self.ledger_by_scope: dict[tuple[str, str], list[_Entry]] = {}
        self.entry_nos: set[int] = set()
        #: the doc_ids of the committed entries (``LedgerRepository.has_document``)
        self.ledger_docs: set[str] = set()
        self.balances: dict[tuple[str, str], dict[tuple[str, str], Balance]] = {}
        self.valuations: dict[tuple[str, str], _Stored] = {}
        self.checkpoints: dict[tuple[str, str], dict[tuple[dt.datetime, int], Any]] = {}
        self.reservations: dict[tuple[str, str], dict[str, Reservation]] = {}
        self.res_ids: dict[str, tuple[str, str]] = {}
        self.res_demand: dict[str, dict[str, tuple[str, str]]] = {}
        self.serials: dict[tuple[str, str], str] = {}
        #: the committed serials by where they are: (item, warehouse) -> serials (kept by
        #: the commit beside ``serials``, for ``SerialRepository.in_warehouse``)
        self.serial_places: dict[tuple[str, str], set[str]] = {}
        self.documents: dict[str, tuple[int, str, str, str]] = {}
        #: one part per append: (position of its first row, its rows, the doc_ids in it,
        #: the rows as one JSON text, as SQLite keeps them)
        self.journal: list[_JournalPart] = []
        #: the first position of each part of ``journal`` (for ``since``), and all rows
        self.journal_pos: list[int] = []
        self.journal_size = 0
        self.records: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.outbox: dict[str, tuple[Event, str, bool]] = {}
        #: ids of the events not yet delivered, oldest first
        self.outbox_pending: dict[str, bool] = {}
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self.sequences: dict[str, int] = {}


_MISSING = object()
_ZERO = Decimal(0)
#: not staged by the unit of work (staged ``_MISSING``: deleted by it)
_UNSTAGED = object()

class _RowChanges:
    """The rows of a stored valuation as an open unit of work changed them: its changes
    (``None``: deleted) over the committed rows, which stay as they are until the commit
    applies the changes to them in place. A posting so costs the rows it changes, not the
    scope's rows (a busy month of a monthly-average scope holds thousands)."""

    __slots__ = ("base", "changes")

    def __init__(self, base: dict[int, Any]) -> None:
        self.base = base
        self.changes: dict[int, Any] = {}

    def merged(self) -> dict[int, Any]:
        """A copy of the committed rows with the changes made."""
        return self._onto(dict(self.base))

    def applied(self) -> dict[int, Any]:
        """The committed rows with the changes made (in place: the commit's)."""
        return self._onto(self.base)

    def _onto(self, rows: dict[int, Any]) -> dict[int, Any]:
        for k, data in self.changes.items():
            if data is None:
                rows.pop(k, None)
            else:
                rows[k] = data
        return rows


#: a stored valuation: (version, header, rows by key), header and rows as JSON would give them
#: back (:func:`_json.plain`); staged by a unit of work, the rows may be its changes over the
#: committed ones
_Stored = tuple[int, dict[str, Any], "dict[int, Any] | _RowChanges"]
_Entry = tuple[Any, ...]
#: the fields of a LedgerEntry in order, as a tuple (one C call)
_entry_row: Callable[[LedgerEntry], _Entry] = operator.attrgetter(
    "entry_no", "item", "warehouse", "location", "lot", "quantity", "value", "posted_at",
    "kind", "doc_type", "doc_id", "line_no", "from_ref")
#: of a row of ``_Data.ledger``: its entry_no, its doc_id, its (item, warehouse)
_entry_no_of = operator.itemgetter(0)
_doc_id_of = operator.itemgetter(10)
_scope_of = operator.itemgetter(1, 2)
_entry_no_attr = operator.attrgetter("entry_no")
_doc_id_attr = operator.attrgetter("doc_id")


def _copy(value: Any) -> Any:
    """A copy of plain data (dicts, lists; strings and numbers are shared): what a reader
    gets back must not be the stored object itself."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


_plain = _json.plain


def _kept(o: Any) -> Any:
    """Data handed over (``ValuationChange.owned``): kept as it is, not copied."""
    return o

_dumps_any = _json.payload_compact
_text = _json.text


def _loads(text: str) -> Any:
    """Documents, journal rows and event payloads are kept as JSON text, as SQLite keeps them
    (valuation states and checkpoints as :func:`_json.plain` data, what JSON would give back):
    what is read back is always a fresh copy, and data that JSON cannot carry fails on the
    way in, as on SQLite."""
    return json.loads(text)


class MemoryUnitOfWork:
    """A unit of work over :class:`MemoryStorage`; see the module docstring."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._d = storage._data
        self._stage: dict[str, dict[Any, Any]] = {}
        self._ledger_new: list[LedgerEntry] = []
        # the entry numbers and document numbers of ``_ledger_new`` (a batch of postings in
        # one unit of work checks each posting against them without a scan)
        self._new_nos: set[int] = set()
        self._new_docs: set[str] = set()
        #: the next order number of a new row, per table (see :meth:`_next_order`)
        self._orders: dict[str, int] = {}
        self._active = False
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
        self._journal_new: list[_JournalPart] = []
        self.outbox: OutboxRepository = _Outbox(self)
        self.idempotency: IdempotencyRepository = _Idempotency(self)
        self.sequences: SequenceRepository = _Sequences(self)

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        storage = self._storage
        storage._lock.acquire()
        if storage._depth:  # this thread has one open already (the lock is re-entrant)
            storage._lock.release()
            raise nested()
        storage._depth = 1
        self._active = True
        self._clear()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._active = False
            self._storage._depth = 0
            self._storage._lock.release()

    def rollback(self) -> None:
        self._clear()

    def _clear(self) -> None:
        """Nothing staged: the state of a unit of work that begins, rolls back or commits."""
        self._stage = {}
        self._ledger_new = []
        self._new_nos.clear()  # never handed out: emptied, not made anew
        self._new_docs.clear()
        self._journal_new = []
        self._orders = {}

    def commit(self) -> None:
        self._check_active()
        fault = self._storage.fault
        if fault is not None:
            fault("commit")
        d = self._d
        for table, staged in self._stage.items():
            target: dict[Any, Any] = getattr(d, table)
            if table == "serials":
                _place_serials(d, staged)
            rows_apart = table == "valuations"
            for key, value in staged.items():
                if value is _MISSING:
                    target.pop(key, None)
                elif rows_apart and type(value[2]) is _RowChanges:
                    kept = value[2].base  # the changes applied in place (applied(), inlined)
                    for k, data in value[2].changes.items():
                        if data is None:
                            kept.pop(k, None)
                        else:
                            kept[k] = data
                    target[key] = (value[0], value[1], kept)
                else:
                    target[key] = value
        new = self._ledger_new
        if new:
            rows = list(map(_entry_row, new))
            d.ledger += rows
            d.entry_nos.update(map(_entry_no_of, rows))
            d.ledger_docs.update(map(_doc_id_of, rows))
            by_scope = d.ledger_by_scope
            get = by_scope.get
            for row, scope in zip(rows, map(_scope_of, rows), strict=True):
                found = get(scope)
                if found is None:
                    by_scope[scope] = [row]
                else:
                    found.append(row)
        for part in self._journal_new:
            d.journal.append(part)
            d.journal_pos.append(part[0])
            d.journal_size = part[0] + part[1]
        self._storage._commits += 1
        self._clear()

    def stamp(self) -> Hashable | None:
        """The number of commits of the storage (its lock is held while this is open)."""
        return self._storage._commits

    # -- staging helpers -----------------------------------------------------------------
    def _get(self, table: str, key: Any) -> Any:
        staged = self._stage.get(table)
        if staged is not None:
            v = staged.get(key, _MISSING)
            if v is not _MISSING or key in staged:
                return None if v is _MISSING else v
        return getattr(self._d, table).get(key)

    def _put(self, table: str, key: Any, value: Any) -> None:
        self._table(table)[key] = value

    def _table(self, table: str) -> dict[Any, Any]:
        """The staged rows of ``table``, for a repository that writes several at once: the
        checks of :meth:`_put` made once."""
        if not self._active:  # _check_active(), inlined: once per table written
            raise outside()
        fault = self._storage.fault
        if fault is not None:
            fault(table)
        staged = self._stage.get(table)
        if staged is None:
            staged = self._stage[table] = {}
        return staged

    def _check_active(self) -> None:
        if not self._active:
            raise outside()

    def _cow(self, table: str, key: Any) -> dict[Any, Any]:
        """A staged, writable copy of the dict stored under ``key`` of ``table``."""
        staged = self._stage.get(table)
        if staged is not None:
            found = staged.get(key, _MISSING)
            if found is not _MISSING:
                result: dict[Any, Any] = found
                return result
        copy = dict(getattr(self._d, table).get(key) or {})
        self._put(table, key, copy)
        return copy

    def _next_order(self, table: str) -> int:
        """The order number of a new row of ``table`` (rows are never deleted from it): the
        stored rows and the new ones staged, counted without copying the table."""
        n = self._orders.get(table)
        if n is None:  # counted once per unit of work, then one more per new row
            stored = getattr(self._d, table)
            n = len(stored) + sum(1 for k in self._stage.get(table, {}) if k not in stored)
        self._orders[table] = n + 1
        return n

    def _merged(self, table: str) -> dict[Any, Any]:
        out = dict(getattr(self._d, table))
        for k, v in self._stage.get(table, {}).items():
            if v is _MISSING:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    # -- master data ---------------------------------------------------------------------
    def get_item(self, code: str) -> Item | None:
        result: Item | None = self._get("items", code)
        return result

    def put_item(self, item: Item) -> None:
        self._put("items", item.code, item)

    def get_warehouse(self, code: str) -> Warehouse | None:
        result: Warehouse | None = self._get("warehouses", code)
        return result

    def put_warehouse(self, warehouse: Warehouse) -> None:
        self._put("warehouses", warehouse.code, warehouse)

    def get_lot(self, item: str, code: str) -> Lot | None:
        result: Lot | None = self._get("lots", (item, code))
        return result

    def put_lot(self, lot: Lot) -> None:
        self._put("lots", (lot.item, lot.code), lot)

    def get_party(self, code: str) -> Party | None:
        result: Party | None = self._get("parties", code)
        return result

    def put_party(self, party: Party) -> None:
        self._put("parties", party.code, party)


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.u = uow


class _Ledger(_Repo):
    def append(self, entries: Sequence[LedgerEntry]) -> None:
        u = self.u
        u._check_active()
        nos = list(map(_entry_no_attr, entries))
        given = set(nos)
        # a number given twice, or one the store or this unit of work has already
        if (len(given) != len(nos) or not u._d.entry_nos.isdisjoint(given)
                or not u._new_nos.isdisjoint(given)):
            raise JxcError("duplicate_key", table="ledger", key=nos)
        fault = u._storage.fault
        if fault is not None:
            fault("ledger")
        u._ledger_new.extend(entries)
        u._new_nos |= given
        u._new_docs.update(map(_doc_id_attr, entries))

    def _scope(self, item: str, warehouse: str | None,
               keep: Callable[[dt.datetime, int], bool] | None = None) -> list[LedgerEntry]:
        """The entries of (item[, warehouse]) for which ``keep(posted_at, entry_no)`` holds;
        committed ones are made into entry objects only when kept."""
        u = self.u
        if warehouse is None:  # the item's scopes, not the whole ledger
            base = [r for (i, _), rows in u._d.ledger_by_scope.items() if i == item
                    for r in rows]
            new = [e for e in u._ledger_new if e.item == item]
        else:
            base = u._d.ledger_by_scope.get((item, warehouse), [])
            new = [e for e in u._ledger_new if e.item == item and e.warehouse == warehouse]
        if keep is None:
            return [LedgerEntry(*r) for r in base] + new
        return ([LedgerEntry(*r) for r in base if keep(r[7], r[0])]
                + [e for e in new if keep(e.posted_at, e.entry_no)])

    def entries(
        self, item: str, warehouse: str | None = None, until: dt.datetime | None = None
    ) -> list[LedgerEntry]:
        rows = self._scope(item, warehouse, None if until is None else (
            lambda at, _no: at <= until))
        return sorted(rows, key=lambda e: e.entry_no)

    def after(
        self,
        item: str,
        warehouse: str | None,
        since: dt.datetime | None = None,
        entry_no: int = 0,
    ) -> list[LedgerEntry]:
        rows = self._scope(item, warehouse, None if since is None else (
            lambda at, no: (at, no) > (since, entry_no)))
        return sorted(rows, key=lambda e: (e.posted_at, e.entry_no))

    def has_document(self, doc_id: str) -> bool:
        u = self.u
        return doc_id in u._d.ledger_docs or doc_id in u._new_docs

    def count(self) -> int:
        return len(self.u._d.ledger) + len(self.u._ledger_new)


class _Balances(_Repo):
    def for_item(self, item: str, warehouse: str | None = None) -> list[Balance]:
        u = self.u
        # each group is kept in (location, lot) order (put sorts a group a new row joins)
        if warehouse is None:
            groups = sorted(k for k in u._merged("balances") if k[0] == item)
            return [b for g in groups for b in self._group(g).values()]
        return list(self._group((item, warehouse)).values())

    def _group(self, key: tuple[str, str]) -> dict[tuple[str, str], Balance]:
        found: dict[tuple[str, str], Balance] | None = self.u._get("balances", key)
        return found if found is not None else {}

    def put(self, rows: Sequence[Balance]) -> None:
        if not rows:
            return
        u = self.u
        staged = u._table("balances")
        base = u._d.balances
        unsorted: list[tuple[str, str]] = []
        for b in rows:
            key = (b.item, b.warehouse)
            group = staged.get(key)
            if group is None or group is _MISSING:  # copy on first write
                group = staged[key] = dict(base.get(key) or {})
            if b.reserved:  # not kept: the service counts it from the reservations
                b = attrs.evolve(b, reserved=_ZERO)
            place = (b.location, b.lot)
            if place not in group and group and place < next(reversed(group)):
                unsorted.append(key)
            group[place] = b
        for key in unsorted:
            staged[key] = dict(sorted(staged[key].items()))

    def all(self) -> list[Balance]:
        return [b for g in self.u._merged("balances").values() for b in g.values()]


class _Valuations(_Repo):
    def get(self, scope: tuple[str, str]) -> dict[str, Any] | None:
        found: _Stored | None = self.u._get("valuations", scope)
        if found is None:
            return None
        state: dict[str, Any] = _plain(found[1])
        kept = found[2]
        rows = kept.merged() if isinstance(kept, _RowChanges) else kept
        if rows:
            state["rows"] = [[k, _plain(rows[k])] for k in sorted(rows)]
        return state

    def put(self, scope: tuple[str, str], state: dict[str, Any]) -> None:
        self.write([ValuationChange.of_state(scope, state)])

    def write(self, changes: Sequence[ValuationChange]) -> None:
        u = self.u
        staged = u._table("valuations")  # checks the unit of work is open, calls the fault
        base = u._d.valuations
        stored: dict[tuple[str, str], _Stored | None] = {}
        for c in changes:  # every scope first: a refusal stages nothing
            scope = c.scope
            if scope not in stored:
                found = staged.get(scope, _UNSTAGED)
                if found is _UNSTAGED:
                    found = base.get(scope)
                elif found is _MISSING:
                    found = None
                stored[scope] = found
            if not c.whole and stored[scope] is None:
                raise JxcError("not_found", kind="valuation", key=list(scope))
        for c in changes:
            scope = c.scope
            found = stored[scope]  # a scope may come twice: the latest
            given = c.rows
            rows: dict[int, Any] | _RowChanges
            if c.whole or found is None:
                rows = {}
            else:
                rows = found[2]
                if given and type(rows) is dict:
                    committed = base.get(scope)
                    if committed is not None and rows is committed[2]:
                        rows = _RowChanges(rows)  # committed rows change only at the commit
            # data handed over (``owned``) is kept as it is: its maker never touches it again
            copy = _kept if c.owned else _plain
            if given:
                if type(rows) is _RowChanges:
                    changed = rows.changes
                    if c.owned:  # kept as given: (key, data or None) pairs, in order
                        changed.update(given)
                    else:
                        for k, d in given:
                            changed[k] = None if d is None else copy(d)
                else:  # rows made by this unit of work
                    assert isinstance(rows, dict)
                    for k, d in given:
                        if d is None:
                            rows.pop(k, None)
                        else:
                            rows[k] = copy(d)
            made: _Stored = ((found[0] if found else 0) + 1,
                             c.header if c.owned else _plain(c.header), rows)
            stored[scope] = staged[scope] = made

    def version(self, scope: tuple[str, str]) -> int | None:
        found: _Stored | None = self.u._get("valuations", scope)
        return None if found is None else found[0]


class _Checkpoints(_Repo):
    def put(self, scope: tuple[str, str], posted_at: dt.datetime, entry_no: int,
            state: dict[str, Any]) -> None:
        self.u._cow("checkpoints", scope)[(posted_at, entry_no)] = _plain(state)

    def latest(self, scope: tuple[str, str], at_or_before: dt.datetime
               ) -> tuple[dt.datetime, int, dict[str, Any]] | None:
        group: dict[tuple[dt.datetime, int], Any] = self.u._get("checkpoints", scope) or {}
        keys = [k for k in group if k[0] <= at_or_before]
        if not keys:
            return None
        best = max(keys)
        return best[0], best[1], _plain(group[best])

    def drop_after(self, scope: tuple[str, str], posted_at: dt.datetime) -> None:
        group = self.u._cow("checkpoints", scope)
        for k in [k for k in group if k[0] > posted_at]:
            del group[k]


class _Reservations(_Repo):
    def for_item(self, item: str, warehouse: str) -> list[Reservation]:
        group: dict[str, Reservation] | None = self.u._get("reservations", (item, warehouse))
        return list(group.values()) if group else []

    def for_demand(self, demand: str) -> list[Reservation]:
        ids: dict[str, tuple[str, str]] | None = self.u._get("res_demand", demand)
        if not ids:
            return []
        out = []
        for rid, group in ids.items():
            found = (self.u._get("reservations", group) or {}).get(rid)
            if found is not None:
                out.append(found)
        return out

    def add(self, reservation: Reservation) -> None:
        rid = reservation.reservation_id
        if self.u._get("res_ids", rid) is not None:
            raise JxcError("duplicate_key", table="reservations", key=rid)
        group = (reservation.item, reservation.warehouse)
        self.u._put("res_ids", rid, group)
        self.u._cow("res_demand", reservation.demand)[rid] = group
        self.u._cow("reservations", group)[rid] = reservation

    def replace(self, reservation: Reservation) -> None:
        """Insert or replace, as SQLite's upsert: an unknown id is added, and a reservation
        that changed its demand or its (item, warehouse) is found under the new ones only."""
        rid = reservation.reservation_id
        group = (reservation.item, reservation.warehouse)
        was: tuple[str, str] | None = self.u._get("res_ids", rid)
        if was is not None:
            old = (self.u._get("reservations", was) or {}).get(rid)
            if was == group and old is not None and old.demand == reservation.demand:
                self.u._cow("reservations", group)[rid] = reservation  # in its place
                return
            self.remove(rid)  # moved: a new one, after the others
        self.add(reservation)

    def remove(self, reservation_id: str) -> None:
        self.u._check_active()  # refused alike when there is nothing to remove (as SQLite)
        group: tuple[str, str] | None = self.u._get("res_ids", reservation_id)
        if group is None:
            return
        found = self.u._cow("reservations", group).pop(reservation_id)
        self.u._cow("res_demand", found.demand).pop(reservation_id, None)
        self.u._put("res_ids", reservation_id, _MISSING)

    def all(self) -> list[Reservation]:
        return [r for g in self.u._merged("reservations").values() for r in g.values()]


class _Documents(_Repo):
    """Documents are kept as JSON text, as SQLite keeps them: nothing nested is shared with
    the caller, and data that JSON cannot carry is refused here too."""

    def get(self, doc_id: str) -> dict[str, Any] | None:
        found = self.u._get("documents", doc_id)
        if found is None:
            return None
        data: dict[str, Any] = _loads(found[3])
        return data

    def put(self, doc_id: str, doc_type: str, state: str, data: dict[str, Any]) -> None:
        text = _text(data)
        found = self.u._get("documents", doc_id)
        order = found[0] if found is not None else self.u._next_order("documents")
        self.u._put("documents", doc_id, (order, doc_type, state, text))

    def ids(self, doc_type: str | None = None, state: str | None = None) -> list[str]:
        rows = sorted(self.u._merged("documents").items(), key=lambda kv: kv[1][0])
        return [k for k, (_, t, s, _) in rows
                if (doc_type is None or t == doc_type) and (state is None or s == state)]


class _Journal(_Repo):
    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        self.u._check_active()
        fault = self.u._storage.fault
        if fault is not None:
            fault("journal")
        if not rows:
            return
        u = self.u
        staged = u._journal_new
        pos = staged[-1][0] + staged[-1][1] if staged else u._d.journal_size
        doc_ids = tuple(sorted({str(r.get("doc_id", "")) for r in rows}))
        staged.append((pos, len(rows), doc_ids, _text(rows)))

    def all(self, doc_id: str | None = None) -> list[dict[str, Any]]:
        return [r for part in self.u._d.journal + self.u._journal_new
                if doc_id is None or doc_id in part[2]
                for r in _loads(part[3])
                if doc_id is None or str(r.get("doc_id", "")) == doc_id]  # as SQL stores it

    def since(self, position: int) -> list[dict[str, Any]]:
        if position < 0:
            raise ValueError(f"position must not be negative, got {position}")
        d = self.u._d
        start = max(bisect.bisect_right(d.journal_pos, position) - 1, 0)
        out: list[dict[str, Any]] = []
        for pos, _, _, text in d.journal[start:] + self.u._journal_new:
            rows = _loads(text)
            out.extend(rows[position - pos:] if pos < position else rows)
        return out


class _Records(_Repo):
    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        found = self.u._get("records", (kind, key))
        return None if found is None else _copy(found[1])

    def put(self, kind: str, key: str, data: dict[str, Any]) -> None:
        found = self.u._get("records", (kind, key))
        order = found[0] if found is not None else self.u._next_order("records")
        # kept as SQLite keeps it: JSON's types (a tuple as a list; a Decimal refused)
        self.u._put("records", (kind, key), (order, _plain(data)))

    def list(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        rows = [(k[1], v) for k, v in self.u._merged("records").items()
                if k[0] == kind and k[1].startswith(prefix)]
        rows.sort(key=lambda kv: kv[1][0])
        return [(k, _copy(v[1])) for k, v in rows]


def _place_serials(d: _Data, staged: dict[Any, Any]) -> None:
    """Keep ``serial_places`` up to date with the staged serials about to be committed
    (before ``serials`` itself changes: the committed place of each is read from it)."""
    places = d.serial_places
    for (item, serial), warehouse in staged.items():
        before = d.serials.get((item, serial))
        if before is not None:
            found = places.get((item, before))
            if found is not None:
                found.discard(serial)
                if not found:
                    del places[(item, before)]
        if warehouse is not _MISSING:
            places.setdefault((item, warehouse), set()).add(serial)


class _Serials(_Repo):
    def where(self, item: str, serial: str) -> str | None:
        result: str | None = self.u._get("serials", (item, serial))
        return result

    def set(self, item: str, serial: str, warehouse: str | None) -> None:
        self.u._put("serials", (item, serial), _MISSING if warehouse is None else warehouse)

    def in_warehouse(self, item: str, warehouse: str) -> list[str]:
        """The committed serials of the place, with this unit of work's changes (only the
        serials it staged are read, not the store's)."""
        found = set(self.u._d.serial_places.get((item, warehouse), ()))
        for (code, serial), where in self.u._stage.get("serials", {}).items():
            if code != item:
                continue
            if where == warehouse:
                found.add(serial)
            else:
                found.discard(serial)
        return sorted(found)


class _Outbox(_Repo):
    def add(self, events: Iterable[Event]) -> None:
        self.u._check_active()  # refused alike when there is nothing to add (as SQLite)
        batch = list(events)
        seen: set[str] = set()
        for e in batch:  # check every key first: a refused batch stages nothing
            if self.u._get("outbox", e.event_id) is not None or e.event_id in seen:
                raise JxcError("duplicate_key", table="outbox", key=[x.event_id for x in batch])
            seen.add(e.event_id)
        if not batch:
            return
        staged, pending = self.u._table("outbox"), self.u._table("outbox_pending")
        for e in batch:
            # as JSON text, like SQLite: Decimals in a payload come back as strings (and a
            # tuple of strings is not tracked by the garbage collector)
            staged[e.event_id] = (e.event_id, e.type, e.occurred_at, _dumps_any(e.payload),
                                  False)
            pending[e.event_id] = True

    def pending(self, limit: int = 1000) -> list[Event]:
        u = self.u
        stored: dict[str, bool] = u._d.outbox_pending
        staged = u._stage.get("outbox_pending", {})
        ids: list[str] = []
        for i in itertools.chain(stored, (k for k in staged if k not in stored)):
            if len(ids) >= limit:
                break
            if staged.get(i, True) is not _MISSING:
                ids.append(i)
        out = []
        for i in ids:
            event_id, type_, at, text, _ = u._get("outbox", i)
            out.append(Event(event_id, type_, at, json.loads(text)))
        return out

    def mark_delivered(self, event_ids: Sequence[str]) -> None:
        self.u._check_active()  # refused alike when nothing is to mark (as SQLite)
        for i in event_ids:
            found = self.u._get("outbox", i)
            if found is not None:
                self.u._put("outbox", i, (*found[:4], True))
                self.u._put("outbox_pending", i, _MISSING)

    def purge(self, occurred_before: dt.datetime, limit: int = 1000) -> int:
        purged = _outbox.purge_rule(occurred_before, limit)
        u = self.u
        staged = u._table("outbox")  # refused alike when nothing is to purge (as SQLite)
        stored = u._d.outbox
        done = 0
        # the committed events in the order they were added, then the unit of work's own
        for i in itertools.chain(list(stored), [k for k in staged if k not in stored]):
            if done >= limit:
                break
            found = u._get("outbox", i)
            if found is not None and found[4] and purged(found[2]):
                staged[i] = _MISSING
                done += 1
        return done


class _Idempotency(_Repo):
    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        found: tuple[str, dict[str, Any]] | None = self.u._get("idempotency", key)
        return None if found is None else (found[0], _copy(found[1]))

    def put(self, key: str, fingerprint: str, result: dict[str, Any]) -> None:
        if self.get(key) is not None:
            raise JxcError("duplicate_key", table="idempotency", key=key)
        self.u._put("idempotency", key, (fingerprint, _plain(result)))  # as SQLite: JSON


class _Sequences(_Repo):
    def next(self, name: str, count: int = 1) -> int:
        current: int = self.u._get("sequences", name) or 0
        self.u._put("sequences", name, current + count)
        return current + 1


class MemoryStorage:
    """Everything in process memory; lost when the process ends.

    ``fault`` (tests only) is called with the name of each table written and with
    ``"commit"``; raising from it simulates a storage failure at that point.
    """

    def __init__(self) -> None:
        self._data = _Data()
        self._lock = threading.RLock()
        #: 1 while a unit of work is open (the lock is held by its thread)
        self._depth = 0
        self._commits = 0
        self.fault: Any = None

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release."""

"""Ports (typing.Protocol): what the domain needs from the outside world.

A :class:`Storage` opens units of work. A :class:`UnitOfWork` is a context manager that commits
only when :meth:`UnitOfWork.commit` is called and rolls back otherwise (also on exception); it
serialises writers (the first write of a unit of work may wait for another to finish) so that
a check made inside it still holds when it commits. Repositories speak domain types only.

Adapters raise :class:`~jxc_core.errors.JxcError` ``duplicate_key`` for a second record under a
unique key (ledger entry number, idempotency key, reservation id), the same on every adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

import attrs

from jxc_core.stock.model import (
    Balance,
    Item,
    LedgerEntry,
    Lot,
    Party,
    Reservation,
    Warehouse,
)

__all__ = [
    "BalanceRepository",
    "CheckpointRepository",
    "Clock",
    "DocumentRepository",
    "Event",
    "ExchangeRates",
    "IdempotencyRepository",
    "JournalRepository",
    "LedgerRepository",
    "MasterDataRepository",
    "Notifier",
    "OutboxRepository",
    "RecordRepository",
    "ReservationRepository",
    "SequenceRepository",
    "SerialRepository",
    "Storage",
    "SystemClock",
    "UnitOfWork",
    "ValuationChange",
    "ValuationRepository",
]


@attrs.frozen(slots=True)
class Event:
    """A domain event (通知). ``event_id`` is stable: consumers drop duplicates by it."""

    event_id: str
    type: str
    occurred_at: dt.datetime
    payload: dict[str, Any]


class MasterDataRepository(Protocol):
    def get_item(self, code: str) -> Item | None: ...
    def put_item(self, item: Item) -> None: ...
    def get_warehouse(self, code: str) -> Warehouse | None: ...
    def put_warehouse(self, warehouse: Warehouse) -> None: ...
    def get_lot(self, item: str, code: str) -> Lot | None: ...
    def put_lot(self, lot: Lot) -> None: ...
    def get_party(self, code: str) -> Party | None: ...
    def put_party(self, party: Party) -> None: ...


class LedgerRepository(Protocol):
    def append(self, entries: Sequence[LedgerEntry]) -> None:
        """Append entries; a used ``entry_no`` raises ``duplicate_key``."""

    def entries(
        self, item: str, warehouse: str | None = None, until: dt.datetime | None = None
    ) -> list[LedgerEntry]:
        """Entries of ``item`` (in ``warehouse``), posted at or before ``until``, by entry_no."""

    def after(
        self,
        item: str,
        warehouse: str | None,
        since: dt.datetime | None = None,
        entry_no: int = 0,
    ) -> list[LedgerEntry]:
        """Entries of the item (in ``warehouse``; None: every warehouse) whose position
        (posted_at, entry_no) comes after (``since``, ``entry_no``), ordered by position.
        ``since=None``: all of them. Moments of one store are all naive or all aware in one
        offset (the service keeps aware ones in UTC): adapters may order a mix differently."""

    def has_document(self, doc_id: str) -> bool:
        """Whether an entry carries ``doc_id`` (committed, or appended in this unit of
        work): an indexed lookup, never a scan of the ledger (the service refuses a
        document number posted again with it)."""

    def count(self) -> int: ...


class BalanceRepository(Protocol):
    def for_item(self, item: str, warehouse: str | None = None) -> list[Balance]:
        """Detail rows (per location and lot) of ``item`` in ``warehouse`` (or everywhere),
        ordered by warehouse, then location, then lot. ``reserved`` is not stored: it reads
        back as 0 (the service counts it from the reservations)."""

    def put(self, rows: Sequence[Balance]) -> None:
        """Insert or replace rows by (item, warehouse, location, lot): all of them or none."""

    def all(self) -> list[Balance]:
        """Every row, in no particular order (``reserved`` 0, as in :meth:`for_item`)."""


@attrs.frozen(slots=True)
class ValuationChange:
    """What one unit of work changed in the stored state of one costing scope.

    A state may keep rows apart under its ``"rows"`` key: a list of ``[key, data]`` pairs with
    distinct integer keys (the layers of FIFO/LIFO, the numbered receipts of moving average),
    so that a posting writes only the rows it
    changed. ``header`` is the state without ``"rows"``. ``rows`` gives ``(key, data)`` to
    insert or replace and ``(key, None)`` to delete. ``whole=True``: the rows given are all the
    rows of the scope (the others are deleted). ``owned=True``: the caller hands ``header`` and
    the rows' data over and never reads or changes them again, so an adapter that keeps plain
    data in memory may keep them as they are instead of copying them (the service does so for
    the states it has just made); an adapter that serialises them ignores it.
    """

    scope: tuple[str, str]
    header: dict[str, Any]
    rows: tuple[tuple[int, Any], ...] = ()
    whole: bool = False
    owned: bool = False

    @classmethod
    def of_state(cls, scope: tuple[str, str], state: dict[str, Any]) -> ValuationChange:
        """The change that stores ``state`` whole."""
        header = {k: v for k, v in state.items() if k != "rows"}
        return cls(scope, header, tuple((int(k), d) for k, d in state.get("rows", ())), True)


class ValuationRepository(Protocol):
    def get(self, scope: tuple[str, str]) -> dict[str, Any] | None:
        """The ``to_state()`` data of the costing scope (item, warehouse-or-'*'); its rows,
        if any, under ``"rows"`` in key order."""

    def put(self, scope: tuple[str, str], state: dict[str, Any]) -> None:
        """Store the state whole; the scope's version becomes the previous one + 1 (first: 1).
        Same as ``write([ValuationChange.of_state(scope, state)])``."""

    def write(self, changes: Sequence[ValuationChange]) -> None:
        """Apply the changes of several scopes at once; each scope's version + 1. A change
        that is not ``whole`` needs the scope stored already (else ``not_found``)."""

    def version(self, scope: tuple[str, str]) -> int | None:
        """The scope's version (None: never stored). Cheap: lets a caller keep the live
        valuation object between units of work and reload it only when it changed."""


class CheckpointRepository(Protocol):
    """Valuation states of a costing scope at ledger positions, for back-dated replays."""

    def put(self, scope: tuple[str, str], posted_at: dt.datetime, entry_no: int,
            state: dict[str, Any]) -> None: ...

    def latest(self, scope: tuple[str, str], at_or_before: dt.datetime
               ) -> tuple[dt.datetime, int, dict[str, Any]] | None:
        """The checkpoint of the scope with the greatest position whose posted_at is at or
        before ``at_or_before``."""

    def drop_after(self, scope: tuple[str, str], posted_at: dt.datetime) -> None:
        """Forget the checkpoints of the scope positioned after ``posted_at`` (stale)."""


class DocumentRepository(Protocol):
    """Documents as plain data (``jxc_core.documents.codec``), by id, with their type/state."""

    def get(self, doc_id: str) -> dict[str, Any] | None: ...

    def put(self, doc_id: str, doc_type: str, state: str, data: dict[str, Any]) -> None:
        """Insert or replace."""

    def ids(self, doc_type: str | None = None, state: str | None = None) -> list[str]:
        """Document ids (of a type, in a state), in creation order."""


class JournalRepository(Protocol):
    """Accounting events (what moved in money, by role) recorded by postings, in order."""

    def append(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def all(self, doc_id: str | None = None) -> list[dict[str, Any]]: ...

    def since(self, position: int) -> list[dict[str, Any]]:
        """The rows after the first ``position`` (``all()[position:]``), read without the
        rows before them: what a reader that keeps its place (voucher generation) needs."""


class RecordRepository(Protocol):
    """Small records by kind and key, as plain data: vouchers, periods, snapshots, settings."""

    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    def put(self, kind: str, key: str, data: dict[str, Any]) -> None:
        """Insert or replace; a new key goes after the existing ones of its kind."""

    def list(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        """(key, data) of a kind whose key starts with ``prefix`` (every such key, whatever
        characters follow), in insertion order."""


class ReservationRepository(Protocol):
    def for_item(self, item: str, warehouse: str) -> list[Reservation]: ...
    def for_demand(self, demand: str) -> list[Reservation]: ...
    def add(self, reservation: Reservation) -> None:
        """A used ``reservation_id`` raises ``duplicate_key``."""

    def replace(self, reservation: Reservation) -> None: ...
    def remove(self, reservation_id: str) -> None: ...
    def all(self) -> list[Reservation]: ...


class SerialRepository(Protocol):
    def where(self, item: str, serial: str) -> str | None:
        """Warehouse holding the serial number, or None when it is not on hand."""

    def set(self, item: str, serial: str, warehouse: str | None) -> None: ...

    def in_warehouse(self, item: str, warehouse: str) -> list[str]:
        """The serial numbers of ``item`` on hand in ``warehouse``, sorted (by code point,
        as ``sorted`` orders texts), the unit of work's own changes included. Serials are
        kept per warehouse, not per location or lot. An adapter answers it from an index on
        (item, warehouse), not by reading every serial of the store."""


class OutboxRepository(Protocol):
    def add(self, events: Iterable[Event]) -> None: ...
    def pending(self, limit: int = 1000) -> list[Event]: ...
    def mark_delivered(self, event_ids: Sequence[str]) -> None: ...

    def purge(self, occurred_before: dt.datetime, limit: int = 1000) -> int:
        """Delete up to ``limit`` DELIVERED events whose ``occurred_at`` is before
        ``occurred_before``, the first added first; returns how many. A pending event is
        never deleted, and the order of the pending ones and of those added later is kept.

        Moments are compared as ``datetime`` compares them: timezone-aware ones as instants
        (whatever their offsets), naive ones as they are; an event of the other kind (naive
        when ``occurred_before`` is aware, or the reverse) is kept. Part of the unit of work:
        applied at its commit, undone by its rollback. ``occurred_before`` not a ``datetime``,
        or ``limit`` not an ``int``, is ``TypeError``; ``limit`` below 1 ``configuration``.
        A purged event's id may be used again."""


class IdempotencyRepository(Protocol):
    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """(fingerprint of the payload, stored result) of a used key."""

    def put(self, key: str, fingerprint: str, result: dict[str, Any]) -> None:
        """A used key raises ``duplicate_key``."""


class SequenceRepository(Protocol):
    def next(self, name: str, count: int = 1) -> int:
        """Reserve ``count`` numbers of sequence ``name``; returns the first (from 1)."""


class UnitOfWork(Protocol):
    master: MasterDataRepository
    ledger: LedgerRepository
    balances: BalanceRepository
    valuations: ValuationRepository
    checkpoints: CheckpointRepository
    reservations: ReservationRepository
    documents: DocumentRepository
    journal: JournalRepository
    records: RecordRepository
    serials: SerialRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    sequences: SequenceRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...

    def stamp(self) -> Hashable | None:
        """A token of the committed state of the whole store, for caches in the caller.

        Inside a unit of work that writes: the state it started from. After its ``commit``:
        the state that commit produced. Equal stamps (never ``None``) mean nobody else
        committed in between, so whatever the caller read and wrote through this storage is
        still what the store holds. ``None``: the adapter cannot tell, the caller re-reads.
        """


class Storage(Protocol):
    def unit_of_work(self) -> UnitOfWork: ...
    def close(self) -> None: ...


class Notifier(Protocol):
    def notify(self, event: Event) -> None:
        """Deliver one event; raising leaves it pending for the next delivery."""


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class ExchangeRates(Protocol):
    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal: ...


class SystemClock:
    """The real clock (naive local time of the machine)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now().replace(microsecond=0)

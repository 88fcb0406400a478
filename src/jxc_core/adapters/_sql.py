"""What the SQL adapters (SQLite, PostgreSQL) share: the stored form of the domain rows, the
journal's packing, the split of valuation changes into statements and the ``storage_error``
reasons. The two engines keep the same columns as TEXT (Decimals exact, moments ISO-8601), so
a row reads back the same through either.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from jxc_core.adapters import _json
from jxc_core.errors import JxcError
from jxc_core.ports import ValuationChange
from jxc_core.stock.model import Balance, LedgerEntry, Reservation

__all__: list[str] = []

_D = Decimal
_dumps = _json.dumps
_text = _json.text

#: ``problem`` of a ``storage_error`` -> (English, Chinese) reason, for every SQL engine
REASONS: dict[str, tuple[str, str]] = {
    "full": ("the disk or the database is full", "磁盘或数据库已满"),
    "io": ("a disk I/O error", "磁盘读写错误"),
    "corrupt": ("the database file is damaged", "数据库文件已损坏"),
    "read_only": ("the database cannot be written (a read-only file or directory, or no "
                  "permission)", "数据库不可写（文件或目录只读，或没有权限）"),
    "locked": ("the database is locked by another connection", "数据库被其他连接锁定"),
    "cannot_open": ("the database file cannot be opened", "无法打开数据库文件"),
    "connection": ("the connection to the database server was lost or refused",
                   "与数据库服务器的连接中断或被拒绝"),
    "rolled_back": ("an earlier storage error rolled this unit of work back: start a new one",
                    "先前的存储错误已回滚本工作单元：请重新开始一个"),
}


def storage_error(path: str, problem: str, engine: tuple[str, str], message: str | None,
                  doing: tuple[str, str] | None = None) -> JxcError:
    """``JxcError("storage_error")`` with data ``path``, ``problem`` and a ``reason`` (with the
    engine's own ``message``); ``engine`` is the (English, Chinese) name of the engine, also
    used for the problem ``other`` ("<engine> refused the operation")."""
    if problem in REASONS:
        en, zh = REASONS[problem]
    else:
        en, zh = f"{engine[0]} refused the operation", f"{engine[1]} 拒绝了该操作"
    if doing is not None:
        en, zh = f"{doing[0]}: {en}", f"{doing[1]}：{zh}"
    if message is not None:
        en, zh = f"{en} ({engine[0]}: {message})", f"{zh}（{engine[1]}：{message}）"
    return JxcError("storage_error", path=path, problem=problem, reason=en, reason_zh=zh)


def dup(table: str, key: object) -> JxcError:
    """A second record under a unique key."""
    return JxcError("duplicate_key", table=table, key=key)


def refused_row(table: str, exc: BaseException) -> JxcError:
    """A row refused by a constraint other than a unique key (a NOT NULL column given None):
    ``configuration`` naming the table."""
    return JxcError("configuration", field=table,
                    reason=f"{table}: a row the store cannot keep ({exc})",
                    reason_zh=f"{table}：存储无法保存的行（{exc}）")


def unstorable(field: str, exc: UnicodeEncodeError) -> JxcError:
    """A text the store cannot keep (a lone surrogate): ``invalid_text``."""
    return JxcError("invalid_text", field=field, value=repr(exc.object), position=exc.start)


# -- rows ------------------------------------------------------------------------------------

def entry(r: Sequence[Any]) -> LedgerEntry:
    """A ledger row (the columns of the ledger table, in order) as an entry."""
    return LedgerEntry(r[0], r[1], r[2], r[3], r[4], _D(r[5]), _D(r[6]),
                       dt.datetime.fromisoformat(r[7]), r[8], r[9], r[10], r[11], r[12])


def ledger_rows(entries: Sequence[LedgerEntry]) -> list[tuple[Any, ...]]:
    """The ledger rows of entries (the entries of a posting share their moment: one ISO
    text each)."""
    iso: dict[dt.datetime, str] = {}
    rows = []
    for e in entries:
        at = iso.get(e.posted_at)
        if at is None:
            at = iso[e.posted_at] = e.posted_at.isoformat()
        rows.append((e.entry_no, e.item, e.warehouse, e.location, e.lot, str(e.quantity),
                     str(e.value), at, e.kind, e.doc_type, e.doc_id, e.line_no, e.from_ref))
    return rows


def balance(r: Sequence[Any]) -> Balance:
    """A balances row (item, warehouse, location, lot, on_hand, held, on_order, demand)."""
    return Balance(r[0], r[1], r[2], r[3], _D(r[4]), _D(0), _D(r[5]), _D(r[6]), _D(r[7]))


def balance_rows(rows: Sequence[Balance]) -> list[tuple[Any, ...]]:
    return [(b.item, b.warehouse, b.location, b.lot, str(b.on_hand), str(b.held),
             str(b.on_order), str(b.demand)) for b in rows]


def reservation(r: Sequence[Any]) -> Reservation:
    """A reservations row (id, item, warehouse, lot, demand, quantity, expires_at)."""
    return Reservation(r[0], r[1], r[2], r[3], r[4], _D(r[5]),
                       None if r[6] is None else dt.datetime.fromisoformat(r[6]))


def reservation_row(r: Reservation) -> tuple[Any, ...]:
    return (r.reservation_id, r.item, r.warehouse, r.lot, r.demand, str(r.quantity),
            None if r.expires_at is None else r.expires_at.isoformat())


# -- journal ---------------------------------------------------------------------------------

def journal_batches(rows: Sequence[dict[str, Any]], compact: bool = False
                    ) -> list[tuple[str, str, int]]:
    """(doc_id, text, number of rows) per table row: the rows of one append with the same
    document and the same keys (in the same order) are stored as one table row,
    ``[keys, values, values, ...]`` (one index entry and the key names once per posting).

    ``compact``: a table row of two rows or more whose columns are partly the same in every
    row (a posting's document, party, date, currency, rate) is stored as
    ``[keys, {key: value of the columns that are the same}, values of the others, ...]``:
    about 60 % of a posting's journal text less (a page of the log less per posting)."""
    batches: list[tuple[str, str, int]] = []
    shapes = [(r.get("doc_id", ""), tuple(r)) for r in rows]  # keys in their order
    start = 0
    for end in range(1, len(rows) + 1):
        if end < len(rows) and shapes[end] == shapes[start]:
            continue
        keys = shapes[start][1]
        values = [list(r.values()) for r in rows[start:end]]
        data: list[Any] = [list(keys), *values]
        if compact and end - start > 1:
            same: dict[str, Any] = {}
            varying: list[int] = []
            n = end - start
            for i, column in enumerate(zip(*values, strict=True)):
                first = column[0]
                # the same value, of the same type (1 and True are equal, never the same; a
                # text equals texts only)
                if column.count(first) == n and (
                        type(first) is str or len(set(map(type, column))) == 1):
                    same[keys[i]] = first
                else:
                    varying.append(i)
            if same and len(varying) > 1:
                pick = operator.itemgetter(*varying)
                data = [list(keys), same, *[pick(v) for v in values]]
        batches.append((shapes[start][0], _text(data), end - start))
        start = end
    return batches


def journal_rows(text: str) -> list[dict[str, Any]]:
    """The journal rows of one table row: ``[keys, values, ...]``, ``[keys, {same}, values
    of the other keys, ...]`` (``journal_batches(compact=True)``), or one row stored alone
    (a JSON object) by earlier versions."""
    data = json.loads(text)
    if isinstance(data, dict):
        return [data]
    keys = data[0]
    if len(data) > 1 and isinstance(data[1], dict):
        same = data[1]
        out = []
        for values in data[2:]:
            it = iter(values)
            out.append({k: same[k] if k in same else next(it) for k in keys})
        return out
    return [dict(zip(keys, values, strict=True)) for values in data[1:]]


# -- valuations ------------------------------------------------------------------------------

def valuation_runs(changes: Sequence[ValuationChange]) -> list[Sequence[ValuationChange]]:
    """``changes`` cut where a scope comes again: the statements of one run are grouped by
    kind (headers, whole states, row upserts, row deletes), which gives what applying its
    changes in order gives only while each scope comes once (the memory adapter applies them
    in order: a row deleted then given again is there, a whole state after a partial change
    replaces its rows, the later header wins)."""
    runs: list[Sequence[ValuationChange]] = []
    start = 0
    seen: set[tuple[str, str]] = set()
    for i, c in enumerate(changes):
        if c.scope in seen:
            runs.append(changes[start:i])
            start, seen = i, set()
        seen.add(c.scope)
    runs.append(changes[start:])
    return runs


#: the stored text of the keys of each shape of valuation header (its keys, in order):
#: ``[[key, ...],`` (:func:`header_text`); a costing method has one shape or a few
_SHAPES: dict[tuple[Any, ...], str] = {}
#: the most shapes kept; a header of another shape is stored as a JSON object
SHAPES_KEPT = 256


def header_text(header: dict[str, Any]) -> str:
    """A valuation header in the compact stored form ``[[key, ...], value, ...]``: its keys
    once, as an array, then its values in the same order. The C encoder writes the array of
    values in about half the time of the object, whose keys it escapes again on every call;
    the text of the keys is made once per shape (:data:`SHAPES_KEPT`). A header without keys,
    with a key that is not a str (JSON would make it one) or of a shape beyond those kept is
    a JSON object, as before. :func:`header_state` reads both forms."""
    if type(header) is not dict:
        return _dumps(header)
    keys = tuple(header)
    prefix = _SHAPES.get(keys)
    if prefix is None:
        if (not keys or len(_SHAPES) >= SHAPES_KEPT
                or not all(type(k) is str for k in keys)):
            return _dumps(header)
        prefix = _SHAPES[keys] = "[" + _dumps(list(keys)) + ","
    return prefix + _dumps(list(header.values()))[1:]


def header_state(text: str) -> dict[str, Any]:
    """A stored valuation header: a JSON object, or the compact form of
    :func:`header_text`."""
    data = json.loads(text)
    if type(data) is list:  # [[key, ...], value, ...]
        return dict(zip(data[0], data[1:], strict=True))
    state: dict[str, Any] = data
    return state


class ValuationWrites:
    """The statements' arguments of one ``ValuationRepository.write``: ``partial`` (header,
    item, scope) of the changes that keep their rows, ``whole`` the changes that replace
    them, ``upserts`` (item, scope, key, data) and ``deletes`` (item, scope, key) of rows.
    Encoding happens here, before any statement runs (a ``TypeError`` writes nothing).
    ``compact``: the headers in the form of :func:`header_text` (else JSON objects)."""

    __slots__ = ("deletes", "partial", "upserts", "whole", "whole_rows")

    def __init__(self, changes: Sequence[ValuationChange], compact: bool = False) -> None:
        # one pass over the changes, each list in the order of the changes (and of their rows)
        encode = header_text if compact else _dumps
        self.partial: list[tuple[str, str, str]] = []
        self.whole: list[tuple[str, str]] = []
        #: (item, scope, header) of the whole changes
        self.whole_rows: list[tuple[str, str, str]] = []
        self.upserts: list[tuple[str, str, int, str]] = []
        self.deletes: list[tuple[str, str, int]] = []
        upsert = self.upserts.append
        delete = self.deletes.append
        for c in changes:
            scope = c.scope
            item, where = scope
            whole = c.whole
            if whole:
                self.whole.append(scope)
                self.whole_rows.append((item, where, encode(c.header)))
            else:
                self.partial.append((encode(c.header), item, where))
            given: Any = c.rows
            if len(given) > 1:
                # a key given twice in one change: the last (a row deleted, then given
                # again, is there)
                given = dict(given).items()
            for k, d in given:
                if d is not None:
                    upsert((item, where, k, _dumps(d)))
                elif not whole:
                    delete((item, where, k))

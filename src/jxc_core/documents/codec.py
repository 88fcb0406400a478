"""Documents to plain data and back (JSON-safe: Decimals and dates as strings), exactly.

Two forms of the same data. The full form (the default) gives each line as an object with
every field named. The compact form (``compact=True``) gives each line as an array of its
values in :data:`LINE_FIELDS` order: about half the text, quicker to write and read; the
storage keeps documents in it. :func:`document_from_data` reads both.

Lines stored by earlier versions lack the fields added since, at the end of
:data:`LINE_FIELDS`: ``to_location`` (read as ``""``) and ``serials`` (read as ``()``). The
compact form leaves out ``serials`` when a line has none, so that a document without serial
numbers is stored as before (and an earlier version can still read it back).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jxc_core.documents.lifecycle import State
from jxc_core.documents.model import ActionRecord, DocType, Document, Line
from jxc_core.errors import JxcError

__all__ = ["LINE_FIELDS", "document_from_data", "document_to_data"]

#: the fields of a line, in the order of a compact line array
LINE_FIELDS = ("line_no", "item", "quantity", "price", "tax_rate", "price_includes_tax", "unit",
               "warehouse", "to_warehouse", "location", "lot", "expiry", "source", "counted",
               "weight", "volume", "to_location", "serials")

#: the fields of lines stored before ``to_location`` and ``serials`` existed
_OLD_FIELDS = LINE_FIELDS[:-2]
_NO_SERIALS = len(LINE_FIELDS) - 1  # a compact line without its serials

_DEC: dict[str, Decimal] = {}  # the few texts most lines share ("0", tax rates), parsed once


def _dec(text: str) -> Decimal:
    found = _DEC.get(text)
    if found is None:
        found = Decimal(text)
        if len(_DEC) < 256:
            _DEC[text] = found
    return found


def _d(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def _line_values(line: Line, compact: bool = False) -> list[Any]:
    values = [
        line.line_no, line.item, str(line.quantity), str(line.price), str(line.tax_rate),
        line.price_includes_tax, line.unit, line.warehouse, line.to_warehouse, line.location,
        line.lot, None if line.expiry is None else line.expiry.isoformat(),
        None if line.source is None else [line.source[0], line.source[1]],
        _d(line.counted), str(line.weight), str(line.volume), line.to_location,
    ]
    if line.serials or not compact:
        values.append(list(line.serials))
    return values


#: the compact lines of the documents encoded last: ``id`` of a document's lines -> (the
#: lines, their arrays). The lines are kept with their arrays, so an ``id`` here is never
#: one of other lines; a document saved again with the same lines (an order whose counters
#: change, a document moving through its lifecycle) reuses them
_COMPACT: dict[int, tuple[tuple[Line, ...], list[list[Any]]]] = {}
_COMPACT_KEPT = 256


def _compact_lines(lines: tuple[Line, ...]) -> list[list[Any]]:
    """The compact arrays of ``lines``: new lists (the caller may change them), made from
    the ones kept when these very lines were encoded before."""
    kept = _COMPACT.get(id(lines))
    if kept is None or kept[0] is not lines:
        arrays = [_line_values(x, True) for x in lines]
        if len(_COMPACT) >= _COMPACT_KEPT:
            _COMPACT.clear()
        _COMPACT[id(lines)] = (lines, arrays)
    else:
        arrays = kept[1]
    return [[*v[:12], None if v[12] is None else v[12].copy(), *v[13:17],
             *([v[17].copy()] if len(v) > 17 else ())] for v in arrays]


def _line_to(line: Line) -> dict[str, Any]:
    return dict(zip(LINE_FIELDS, _line_values(line), strict=True))


def _line_from(d: dict[str, Any] | list[Any]) -> Line:
    # lines stored before they had a to_location and serials (the last fields) lack them
    if isinstance(d, list):
        values = d
        if len(values) == len(_OLD_FIELDS):
            values = [*values, ""]
    else:
        values = [*(d[k] for k in _OLD_FIELDS), d.get("to_location", ""),
                  d.get("serials") or ()]
    serials: tuple[str, ...] = ()
    if len(values) > _NO_SERIALS:
        serials = tuple(values[_NO_SERIALS])
        values = values[:_NO_SERIALS]
    (line_no, item, quantity, price, tax_rate, includes, unit, warehouse, to_warehouse,
     location, lot, expiry, source, counted, weight, volume, to_location) = values
    return Line(
        line_no, item, Decimal(quantity), _dec(price), _dec(tax_rate), includes, unit,
        warehouse, to_warehouse, location, lot,
        None if expiry is None else dt.date.fromisoformat(expiry),
        None if source is None else (source[0], source[1]),
        None if counted is None else Decimal(counted), _dec(weight), _dec(volume),
        to_location, serials,
    )


def document_to_data(doc: Document, *, compact: bool = False) -> dict[str, Any]:
    """The document as plain data; ``compact``: lines as arrays (see the module docstring)."""
    return {
        "doc_type": doc.doc_type.value, "doc_id": doc.doc_id, "party": doc.party,
        "date": None if doc.date is None else doc.date.isoformat(), "currency": doc.currency,
        "lines": _compact_lines(doc.lines) if compact else [_line_to(x) for x in doc.lines],
        "state": doc.state.value,
        "source": doc.source, "created_by": doc.created_by,
        "history": [[h.action, h.user, h.at.isoformat(), h.from_state, h.to_state, h.comment,
                     h.step] for h in doc.history],
        "counters": {str(k): {n: str(q) for n, q in v.items()} for k, v in doc.counters.items()},
        "approvals_done": list(doc.approvals_done), "attributes": doc.attributes,
        "reversal_of": doc.reversal_of, "digits": doc.digits,
    }


def document_from_data(d: dict[str, Any]) -> Document:
    """The document of :func:`document_to_data` data, full or compact. Data that lacks a
    field (``doc_id``, ``state``, a line's ``price``, ...) is ``invalid_document`` naming it
    (``field``), not a ``KeyError``: a form of a few fields is not a document; make one with
    ``Documents.create``."""
    try:
        return _document_from(d)
    except KeyError as err:
        field = err.args[0] if err.args else ""
        doc_id = d.get("doc_id", "") if isinstance(d, dict) else ""
        raise JxcError("invalid_document", doc_id=doc_id if isinstance(doc_id, str) else "",
                       field=field,
                       reason=f"the data has no {field!r} (document_from_data reads what "
                              "document_to_data wrote)",
                       reason_zh=f"数据缺少字段 {field!r}（document_from_data 读取的是 "
                                 "document_to_data 写出的数据）") from None


def _document_from(d: dict[str, Any]) -> Document:
    return Document(
        doc_type=DocType(d["doc_type"]), doc_id=d["doc_id"], party=d["party"],
        date=None if d["date"] is None else dt.date.fromisoformat(d["date"]),
        currency=d["currency"], lines=tuple(_line_from(x) for x in d["lines"]),
        state=State(d["state"]), source=d["source"], created_by=d["created_by"],
        history=tuple(ActionRecord(h[0], h[1], dt.datetime.fromisoformat(h[2]), h[3], h[4],
                                   h[5], h[6]) for h in d["history"]),
        counters={int(k): {n: _dec(q) for n, q in v.items()}
                  for k, v in d["counters"].items()},
        approvals_done=tuple(d["approvals_done"]), attributes=dict(d["attributes"]),
        reversal_of=d["reversal_of"], digits=d.get("digits"),  # absent in older data
    )

"""Documents to plain data and back (JSON-safe: Decimals and dates as strings), exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jxc_core.documents.lifecycle import State
from jxc_core.documents.model import ActionRecord, DocType, Document, Line

__all__ = ["document_from_data", "document_to_data"]


def _d(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def _line_to(line: Line) -> dict[str, Any]:
    return {
        "line_no": line.line_no, "item": line.item, "quantity": str(line.quantity),
        "price": str(line.price), "tax_rate": str(line.tax_rate),
        "price_includes_tax": line.price_includes_tax, "unit": line.unit,
        "warehouse": line.warehouse, "to_warehouse": line.to_warehouse,
        "location": line.location, "lot": line.lot,
        "expiry": None if line.expiry is None else line.expiry.isoformat(),
        "source": None if line.source is None else [line.source[0], line.source[1]],
        "counted": _d(line.counted), "weight": str(line.weight), "volume": str(line.volume),
    }


def _line_from(d: dict[str, Any]) -> Line:
    return Line(
        line_no=d["line_no"], item=d["item"], quantity=Decimal(d["quantity"]),
        price=Decimal(d["price"]), tax_rate=Decimal(d["tax_rate"]),
        price_includes_tax=d["price_includes_tax"], unit=d["unit"], warehouse=d["warehouse"],
        to_warehouse=d["to_warehouse"], location=d["location"], lot=d["lot"],
        expiry=None if d["expiry"] is None else dt.date.fromisoformat(d["expiry"]),
        source=None if d["source"] is None else (d["source"][0], d["source"][1]),
        counted=None if d["counted"] is None else Decimal(d["counted"]),
        weight=Decimal(d["weight"]), volume=Decimal(d["volume"]),
    )


def document_to_data(doc: Document) -> dict[str, Any]:
    return {
        "doc_type": doc.doc_type.value, "doc_id": doc.doc_id, "party": doc.party,
        "date": None if doc.date is None else doc.date.isoformat(), "currency": doc.currency,
        "lines": [_line_to(x) for x in doc.lines], "state": doc.state.value,
        "source": doc.source, "created_by": doc.created_by,
        "history": [[h.action, h.user, h.at.isoformat(), h.from_state, h.to_state, h.comment,
                     h.step] for h in doc.history],
        "counters": {str(k): {n: str(q) for n, q in v.items()} for k, v in doc.counters.items()},
        "approvals_done": list(doc.approvals_done), "attributes": doc.attributes,
        "reversal_of": doc.reversal_of,
    }


def document_from_data(d: dict[str, Any]) -> Document:
    return Document(
        doc_type=DocType(d["doc_type"]), doc_id=d["doc_id"], party=d["party"],
        date=None if d["date"] is None else dt.date.fromisoformat(d["date"]),
        currency=d["currency"], lines=tuple(_line_from(x) for x in d["lines"]),
        state=State(d["state"]), source=d["source"], created_by=d["created_by"],
        history=tuple(ActionRecord(h[0], h[1], dt.datetime.fromisoformat(h[2]), h[3], h[4],
                                   h[5], h[6]) for h in d["history"]),
        counters={int(k): {n: Decimal(q) for n, q in v.items()}
                  for k, v in d["counters"].items()},
        approvals_done=tuple(d["approvals_done"]), attributes=dict(d["attributes"]),
        reversal_of=d["reversal_of"],
    )

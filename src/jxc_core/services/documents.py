"""Documents (单据) as use cases: create, submit, approve, post, cancel (红冲), close.

``Documents(jxc)`` drives every document of domain rules section 5 through the core lifecycle, with
an optional approval :class:`~jxc_core.documents.workflow.Workflow` per document type. Each
action is one unit of work of the :class:`~jxc_core.services.Jxc` service: the document, the
stock postings, the orders it fulfils, its accounting events (journal) and its domain events
are saved together or not at all. Posting a posted document again changes nothing.

Accounting events (journal rows) say what moved in money, by role, balanced per posting:
``inventory``, ``grni`` (暂估应付), ``payable``, ``input_tax``, ``cogs``, ``price_difference``,
``material_variance`` (材料成本差异), ``count_gain_loss`` (待处理财产损溢), ``adjustment``,
``receivable``, ``revenue``, ``output_tax``, ``credit_pending`` (待冲发票: a supplier return of
invoiced units, awaiting its red-letter invoice). A cancellation records the same roles with negated
amounts (a red entry, 红字).

Digits: a document's own amounts (line net, tax, 价税合计, the rows of party roles) are in its
currency at that currency's digits (``Document.digits``, fixed at creation from
``Jxc.digits_of``); book-currency amounts (stock values, the conversion of a document amount
at its rate, the rows of stock roles) at the book currency's ``Jxc.currency_digits``.

Currencies: a document is in the book currency unless ``create`` is given another; a document
made from a source line (a receipt from its order, a return or invoice from its receipt or
delivery, a delivery from its sales order) is in its source's currency (``currency_mismatch``);
adjustments, stock counts and transfers have no counterparty and are in the book currency
(``book_currency_required``). Both are checked at creation and again at posting.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from jxc_core.costing import (
    AllocationBasis,
    AllocationLine,
    MovingAverageValuation,
    StandardCostValuation,
    allocate_landed_cost,
)
from jxc_core.documents.codec import document_from_data, document_to_data
from jxc_core.documents.forms import document_form
from jxc_core.documents.lifecycle import CLOSABLE, Action, State, next_state, offered_actions
from jxc_core.documents.model import ActionRecord, DocType, Document, Line
from jxc_core.documents.workflow import User, Workflow
from jxc_core.errors import InsufficientStockError, JxcError, NotFoundError
from jxc_core.services._checks import (
    check_attributes,
    check_bool,
    check_doc_type,
    check_list_of,
    check_state,
    check_texts,
    check_user,
)
from jxc_core.services.jxc import (
    _RECEIPT_COST,
    _TICK,
    IN,
    OUT,
    Jxc,
    MonthlyScope,
    ReserveLine,
    StockLine,
    _group_ref,
    _local,
    _moment,
    _refuse_posted,
    _split_group,
    _Work,
)
from jxc_core.stock.model import Balance, Item, LedgerEntry, Warehouse
from jxc_core.stock.replenishment import (
    PurchaseSuggestion,
    ReplenishmentRule,
    group_by_supplier,
    suggest_quantity,
    without_supplier,
)
from jxc_core.stock.rules import ReservationShortError, fefo_order, lot_usable
from jxc_core.values import (
    DIVISION_CONTEXT,
    ZERO,
    check_number,
    check_text,
    money_quantum,
    multiply,
    round_money,
)

__all__ = ["APPROVAL_STEP_EVENT", "CREATED_EVENT", "LIFECYCLE_EVENTS", "PREFIXES", "Documents",
           "DraftedOrders", "JournalRow"]

#: default number prefixes (CG = 采购, XS = 销售, ...)
PREFIXES: dict[DocType, str] = {
    DocType.PURCHASE_ORDER: "CG", DocType.PURCHASE_RECEIPT: "CGRK",
    DocType.PURCHASE_RETURN: "CGTH", DocType.PURCHASE_INVOICE: "CGFP",
    DocType.SALES_ORDER: "XS", DocType.DELIVERY: "XSCK", DocType.SALES_RETURN: "XSTH",
    DocType.SALES_INVOICE: "XSFP", DocType.TRANSFER: "DB", DocType.STOCK_COUNT: "PD",
    DocType.ADJUSTMENT: "QT", DocType.LANDED_COST: "FY",
}

_SUPPLIER_DOCS = {DocType.PURCHASE_ORDER, DocType.PURCHASE_RECEIPT, DocType.PURCHASE_RETURN,
                  DocType.PURCHASE_INVOICE, DocType.LANDED_COST}
_CUSTOMER_DOCS = {DocType.SALES_ORDER, DocType.DELIVERY, DocType.SALES_RETURN,
                  DocType.SALES_INVOICE}
_NEEDS_SOURCE = {DocType.PURCHASE_RETURN: DocType.PURCHASE_RECEIPT,
                 DocType.PURCHASE_INVOICE: DocType.PURCHASE_RECEIPT,
                 DocType.SALES_RETURN: DocType.DELIVERY,
                 DocType.SALES_INVOICE: DocType.DELIVERY}
_MAY_SOURCE = {DocType.PURCHASE_RECEIPT: DocType.PURCHASE_ORDER,
               DocType.DELIVERY: DocType.SALES_ORDER}
#: a red-letter invoice (红字发票, a credit note): an invoice whose lines name the lines of a
#: return that took back invoiced units (instead of receipt or delivery lines)
_CREDIT_SOURCE = {DocType.PURCHASE_INVOICE: DocType.PURCHASE_RETURN,
                  DocType.SALES_INVOICE: DocType.SALES_RETURN}
_RETURNS = frozenset({DocType.PURCHASE_RETURN, DocType.SALES_RETURN})
#: a receipt's or delivery's line counter: the invoiced units its returns took back (they
#: count in ``returned`` and still in ``invoiced``: they wait for a red-letter invoice)
_RETURNED_INVOICED = "returned_invoiced"
#: a receipt's line counter: the net (its currency) of the invoiced units its returns took
#: back, what they left awaiting a red-letter invoice (``credit_pending``)
_RETURNED_INVOICED_VALUE = "returned_invoiced_value"
#: a receipt's and a purchase invoice's line counter: the net (their currency) the invoice(s)
#: charged less the GRNI they cleared (kept when not 0): the invoices' own price of the
#: invoiced units is ``invoiced_value`` + this (invoices posted before it count at the GRNI)
_INVOICED_DIFF = "invoiced_diff"
#: a return's line counters: the invoiced units it took back (``to_credit``), their amount
#: awaiting the red-letter invoice (``credit_value``, purchase returns), and what red-letter
#: invoices credited of them (``credited`` units, ``credited_value`` of the amount)
_TO_CREDIT, _CREDIT_VALUE, _CREDITED, _CREDITED_VALUE = (
    "to_credit", "credit_value", "credited", "credited_value")
#: documents without a counterparty: their prices are book-currency unit costs
_INTERNAL_DOCS = frozenset({DocType.ADJUSTMENT, DocType.STOCK_COUNT, DocType.TRANSFER})
#: attribute of a receipt or delivery: the serials its lines took back, by line number
_RETURNED_SERIALS = "returned_serials"
#: documents that follow stock postings (their sources' costs): posted after them
_FOLLOWERS = frozenset({DocType.PURCHASE_RETURN, DocType.SALES_RETURN, DocType.PURCHASE_INVOICE,
                        DocType.SALES_INVOICE, DocType.LANDED_COST})


#: the event each action that changes a document records (domain rules 8), one per action
LIFECYCLE_EVENTS: Mapping[Action, str] = MappingProxyType({
    Action.SUBMIT: "document_submitted", Action.APPROVE: "document_approved",
    Action.REJECT: "document_rejected", Action.POST: "document_posted",
    Action.CLOSE: "document_closed", Action.CANCEL: "document_cancelled",
})
#: a draft made (:meth:`Documents.create`, drafting from suggestions): ``from`` is ``None``
CREATED_EVENT = "document_created"
#: an approval of a workflow step after which other steps still wait: the document stays
#: ``submitted`` (``from`` and ``to`` are both ``submitted``; ``step`` names the step done)
APPROVAL_STEP_EVENT = "document_approval_step"


#: the documents whose posting moves stock (orders and invoices do not)
_MOVES_STOCK = frozenset({DocType.PURCHASE_RECEIPT, DocType.PURCHASE_RETURN, DocType.DELIVERY,
                          DocType.SALES_RETURN, DocType.TRANSFER, DocType.ADJUSTMENT,
                          DocType.STOCK_COUNT})

def _lifecycle_payload(doc: Document, action: Action, before: State, target: State,
                       user: User, comment: str, step: str) -> dict[str, Any]:
    """The payload of a lifecycle event: ``doc_id`` (the document's number), ``doc_type``,
    ``action``, ``from`` and ``to`` (states), ``user`` (the name); ``comment`` when one was
    given, ``step`` when an approval step was done."""
    data: dict[str, Any] = {"doc_id": doc.doc_id, "doc_type": doc.doc_type.value,
                            "action": action.value, "from": before.value, "to": target.value,
                            "user": user.name}
    if comment:
        data["comment"] = comment
    if step:
        data["step"] = step
    return data


def _cost(values: Mapping[int, Decimal], line_no: int, out: bool) -> Decimal:
    """The stock value of a document line as it was first posted, from the signed value its
    ledger entries moved now (``out``: they left stock now). Not ``abs``: a line can move a
    negative value (stock whose layers went below zero through a price difference), and its
    voucher must carry that sign, or the inventory account leaves the stock valuation."""
    moved = values.get(line_no, ZERO)
    return -moved if out else moved


def _may(wf: Workflow, user: User, action: Action) -> bool:
    """Whether ``user`` holds a role the workflow lists for ``action`` (any user when it lists
    none), whatever the document's state: the permission part of ``Workflow.allowed``."""
    roles = wf.actions.get(action.value)
    return roles is None or bool(roles & user.roles)


class DraftedOrders(list[Document]):
    """What :meth:`Documents.draft_purchase_orders` returns: the draft purchase orders made
    (a list, one per supplier, in order of first appearance), and ``unassigned``: the
    suggestions that name no supplier, for which no order was drafted."""

    unassigned: tuple[PurchaseSuggestion, ...]

    def __init__(self, orders: Iterable[Document] = (),
                 unassigned: Iterable[PurchaseSuggestion] = ()) -> None:
        super().__init__(orders)
        self.unassigned = tuple(unassigned)

    def __repr__(self) -> str:
        return f"DraftedOrders({list(self)!r}, unassigned={list(self.unassigned)!r})"


@attrs.frozen(slots=True)
class JournalRow:
    """One accounting event: an amount on the debit or credit side of a role.

    ``book_amount`` (a text, empty when not given): the row's amount in the book currency,
    on the same side and with the same sign as its amount, when it is not
    ``round_half_up(amount x rate)`` — the GRNI slice that clears the last of a foreign-currency
    receipt line's GRNI, or the settlement part that clears a foreign-currency invoice, takes
    the book amount left, not its own conversion. The voucher uses it as it is
    (:func:`~jxc_core.accounting.vouchers.build_voucher`)."""

    doc_type: str
    doc_id: str
    line_no: int
    role: str
    debit: Decimal
    credit: Decimal
    item: str = ""
    warehouse: str = ""
    party: str = ""
    date: str = ""
    currency: str = "CNY"
    tax_rate: str = ""
    rate: str = "1"
    ref: str = ""
    book_amount: str = ""

    def to_data(self) -> dict[str, Any]:
        data = {"doc_type": self.doc_type, "doc_id": self.doc_id, "line_no": self.line_no,
                "role": self.role, "debit": str(self.debit), "credit": str(self.credit),
                "item": self.item, "warehouse": self.warehouse, "party": self.party,
                "date": self.date, "currency": self.currency, "tax_rate": self.tax_rate,
                "rate": self.rate, "ref": self.ref}
        if self.book_amount:  # only where it is given (the rows stored stay as they were)
            data["book_amount"] = self.book_amount
        return data

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> JournalRow:
        data = {k: v for k, v in d.items() if k in attrs.fields_dict(cls)}
        data["debit"], data["credit"] = Decimal(d["debit"]), Decimal(d["credit"])
        return cls(**data)


_ONE = Decimal(1)

#: record kind: a return of a delivery of a closed month under the monthly average (it follows
#: the delivery's cost if that month is reopened and valued anew)
LATE_RETURN = "late_return"
#: record kind: what settlements (收付款核销, ``Accounting.settle``) cleared of an invoice, in
#: its currency, by invoice id: an invoice with settlements standing is not cancelled
SETTLED = "settled"


def _posted_month(w: _Work, doc: Document) -> str:
    """``YYYY-MM`` of the month a posted document's movements belong to: its date, else the
    day it was posted (in the clock's timezone, as the month of its movements)."""
    day = doc.date or next((w.day_of(r.at) for r in reversed(doc.history)
                            if r.to_state == State.POSTED.value), None)
    if day is None:
        raise JxcError("invalid_document", doc_id=doc.doc_id, reason="not posted",
                       reason_zh="未过账")
    return f"{day.year:04d}-{day.month:02d}"

#: documents kept between commands (the most recently saved or read), per service
_KEPT_DOCUMENTS = 64


#: every field of a document, in the order of its constructor (one C call reads them all)
_DOC_FIELDS = tuple(f.name for f in attrs.fields(Document))
_doc_values = operator.attrgetter(*_DOC_FIELDS)
_COUNTERS, _ATTRIBUTES = _DOC_FIELDS.index("counters"), _DOC_FIELDS.index("attributes")


def _closed_before(doc: Document) -> bool:
    """A document that is no order but closed: earlier versions closed any posted document
    (now only orders, :data:`CLOSABLE`); such a receipt or delivery is a source as if posted."""
    return doc.state == State.CLOSED and doc.doc_type not in CLOSABLE


def _own(doc: Document) -> Document:
    """``doc`` with copies of its mutable parts (counters, attributes): what attrs.evolve
    would give, built directly (a third of the time)."""
    values = list(_doc_values(doc))
    values[_COUNTERS] = {k: dict(v) for k, v in doc.counters.items()}
    values[_ATTRIBUTES] = dict(doc.attributes)
    return Document(*values)


#: the position of each field of a document among its constructor's arguments
_DOC_FIELD_AT = {name: i for i, name in enumerate(_DOC_FIELDS)}


def _evolve(doc: Document, **changes: Any) -> Document:
    """What ``attrs.evolve(doc, **changes)`` gives, built directly as :func:`_own` builds
    (a name that is no field of a document is ``TypeError``, as there)."""
    values = list(_doc_values(doc))
    for name, value in changes.items():
        at = _DOC_FIELD_AT.get(name)
        if at is None:
            raise TypeError(f"Document has no field {name!r}")
        values[at] = value
    return Document(*values)


def _with_digits(jxc: Jxc, doc: Document) -> Document:
    """A document stored before documents kept their digits gets the service's digits for its
    currency (an unknown code stays ``None``: refused when its amounts are needed)."""
    if doc.digits is not None:
        return doc
    try:
        digits = jxc.digits_of(doc.currency)
    except JxcError:
        return doc
    return _evolve(doc, digits=digits)


def _docs_data(docs: Sequence[Document]) -> dict[str, Any]:
    """The documents a command returned, as stored for its idempotency key."""
    return {"documents": [document_to_data(d) for d in docs]}


def _docs_of(data: dict[str, Any]) -> list[Document]:
    return [document_from_data(d) for d in data["documents"]]


def _check_transfer_line(doc: Document, line: Line, source: Warehouse,
                         target: Warehouse) -> None:
    """A transfer line goes to another warehouse (from ``location`` of its own, ``""``: rows
    anywhere in it, to ``to_location`` of the target, ``""``: the row without a location),
    or to another location of its own warehouse (a location move: ``location`` ->
    ``to_location``, either may be ``""``, the stock without a location). A location the
    warehouse does not list is ``not_found``."""
    if target.code != source.code:
        for house, loc in ((source, line.location), (target, line.to_location)):
            if loc and house.locations and loc not in house.locations:
                raise NotFoundError(kind="location", key=f"{house.code}/{loc}")
        return
    if not line.location and not line.to_location:
        raise JxcError("same_warehouse", warehouse=source.code)
    if line.location == line.to_location:
        raise JxcError("same_location", warehouse=source.code, location=line.location)
    for loc in (line.location, line.to_location):
        if loc and source.locations and loc not in source.locations:
            raise NotFoundError(kind="location", key=f"{source.code}/{loc}")


def _picked_rows(doc: Document, posted: Sequence[LedgerEntry], kind: str = "delivery"
                 ) -> dict[str, list[list[str]]]:
    """Per line of a delivery, the rows its out entries left — ``[location, lot, quantity,
    value]``, base units, positive — when they are not just the line's own lot and location
    (the stock service picked lots by FEFO, or rows of several locations): a cancellation puts
    the units back there."""
    found: dict[int, dict[tuple[str, str], list[Decimal]]] = {}
    for e in posted:
        if e.quantity < 0 and e.kind == kind:
            pair = found.setdefault(e.line_no, {}).setdefault((e.location, e.lot), [ZERO, ZERO])
            pair[0] -= e.quantity
            pair[1] -= e.value
    out: dict[str, list[list[str]]] = {}
    for line in doc.lines:
        rows = found.get(line.line_no, {})
        if len(rows) == 1 and next(iter(rows)) == (line.location, line.lot):
            continue
        if rows:
            out[str(line.line_no)] = [[loc, lot, str(q), str(v)]
                                      for (loc, lot), (q, v) in rows.items()]
    return out


def _sent_rows(entries: Sequence[LedgerEntry], warehouse: str) -> list[list[str]]:
    """The rows of ``warehouse`` the ``transfer_out`` entries of a transfer line left,
    ``[location, lot, quantity]`` (base units, positive, in the order taken): its
    cancellation puts the units back there. Kept for every line between warehouses, so
    that a document posted before lines had locations is told apart (it has none)."""
    found: dict[tuple[str, str], Decimal] = {}
    for e in entries:
        if e.kind == "transfer_out" and e.warehouse == warehouse and e.quantity < 0:
            found[(e.location, e.lot)] = found.get((e.location, e.lot), ZERO) - e.quantity
    return [[loc, lot, str(q)] for (loc, lot), q in found.items()]


#: the refusals of the stock service's serial numbers (:meth:`Jxc._serials`, ``_validate``)
_SERIAL_CODES = frozenset({"serial_on_hand", "serial_not_on_hand", "serial_count"})


def _check_line_serials(doc: Document, line: Line, item: Item | None) -> None:
    """The serial numbers of a line (each a non-blank text, none twice: :meth:`Line.check`)
    may stand only on a document that moves stock, for a serial-tracked item (``item``;
    ``None``: a landed-cost charge), and there it lists one per unit of the item's base unit
    (``serial_count``: a quantity that is not a whole number of base units has no count that
    fits) — of a stock count, one per unit counted (:func:`_check_count_serials`)."""
    n = line.line_no
    kind = doc.doc_type
    if kind not in _MOVES_STOCK or item is None:
        raise JxcError("invalid_document", doc_id=doc.doc_id,
                       reason=f"line {n}: a {kind.value} carries no serial numbers (they go on "
                              "the receipts, returns, deliveries, transfers and adjustments "
                              "that move the units)",
                       reason_zh=f"第 {n} 行：{kind.value} 不记录序列号（序列号记在收发库存的"
                                 f"入库、退货、出库、调拨和其他出入库单上）")
    if not item.serial_tracked:
        raise JxcError("invalid_document", doc_id=doc.doc_id,
                       reason=f"line {n}: {item.code} is not serial-tracked: its lines carry "
                              "no serial numbers",
                       reason_zh=f"第 {n} 行：{item.code} 未启用序列号管理，其明细行不能带序"
                                 f"列号")
    if kind == DocType.STOCK_COUNT:
        _check_count_serials(doc, line, item)
        return
    base = item.to_base(abs(line.quantity), line.unit)
    if len(line.serials) != base:
        raise JxcError("serial_count", item=item.code, count=len(line.serials), quantity=base,
                       line=n)


def _check_count_serials(doc: Document, line: Line, item: Item) -> None:
    """A stock count line of a serial-tracked item lists the serial numbers counted, one per
    unit of the base unit of its counted quantity (``serial_count``), and none before it is
    counted (``invalid_document``). It counts the whole warehouse: serial numbers are kept per
    warehouse, not per location or lot, so a line naming a location or a lot is refused
    (``invalid_document``), and so is an item that is lot-tracked too (the remaining limit:
    a serial found or missing could not say which lot it is of)."""
    n = line.line_no
    if item.lot_tracked:
        raise JxcError("invalid_document", doc_id=doc.doc_id,
                       reason=f"line {n}: {item.code} is lot-tracked and serial-tracked: a "
                              "stock count does not count such items (serial numbers are "
                              "kept per warehouse, not per lot: a count could not say which "
                              "lot a serial found or missing is of); put a difference right "
                              "with an adjustment that lists the lot and the serials",
                       reason_zh=f"第 {n} 行：{item.code} 同时启用批次管理和序列号管理，盘点单"
                                 f"不盘点此类存货（序列号按仓库记录，不按批次记录：盘点无法确定"
                                 f"盘盈或盘亏的序列号属于哪个批次）：盘点差异请用列出批次和序列"
                                 f"号的其他出入库单调整")
    if line.location or line.lot:
        raise JxcError("invalid_document", doc_id=doc.doc_id,
                       reason=f"line {n}: {item.code} is serial-tracked: its serial numbers "
                              "are kept per warehouse, not per location or lot; count the "
                              "whole warehouse (a line without a location or lot)",
                       reason_zh=f"第 {n} 行：{item.code} 启用序列号管理，序列号按仓库记录，"
                                 f"不按库位或批次记录：请盘点整个仓库（不指定库位和批次的行）")
    if line.counted is None:
        if line.serials:
            raise JxcError("invalid_document", doc_id=doc.doc_id,
                           reason=f"line {n}: serial numbers are entered with the counted "
                                  "quantity",
                           reason_zh=f"第 {n} 行：序列号须与实盘数量一同录入")
        return
    base = item.to_base(line.counted, line.unit)
    if len(line.serials) != base:
        raise JxcError("serial_count", item=item.code, count=len(line.serials), quantity=base,
                       line=n)


def _check_serials_of_source(doc: Document, line: Line, src: Document, src_line: Line
                             ) -> None:
    """A return lists serial numbers its receipt or delivery line moved (when that line
    lists any: one posted before lines had serials lists none, and is not checked)."""
    others = [x for x in line.serials if x not in src_line.serials]
    if others:
        listed = ", ".join(others)
        raise JxcError("invalid_document", doc_id=doc.doc_id,
                       reason=f"line {line.line_no}: serial number(s) {listed} are not on "
                              f"{src.doc_id} line {src_line.line_no}",
                       reason_zh=f"第 {line.line_no} 行：序列号 {'、'.join(others)} 不在 "
                                 f"{src.doc_id} 第 {src_line.line_no} 行上")
    _not_returned_yet(doc, line, src, src_line.line_no)


def _not_returned_yet(doc: Document, line: Line, src: Document, n: int) -> None:
    """A serial comes back once against its source line (``attributes["returned_serials"]``
    of the source, by line): returned, delivered again on another document, it was accepted
    a second time against the first one, whose other units could then never come back."""
    done = src.attributes.get(_RETURNED_SERIALS, {}).get(str(n), ())
    again = [x for x in line.serials if x in done]
    if again:
        raise JxcError("invalid_document", doc_id=doc.doc_id,
                       reason=f"line {line.line_no}: serial number(s) {', '.join(again)} came "
                              f"back on {src.doc_id} line {n} already",
                       reason_zh=f"第 {line.line_no} 行：序列号 {'、'.join(again)} 已按 "
                                 f"{src.doc_id} 第 {n} 行退回过")


def _note_returned_serials(doc: Document, line: Line, src: Document, n: int,
                           reverse: bool) -> None:
    """Keep on the source (changed in place: the caller saves it) the serials its line ``n``
    took back; a cancelled return gives them up again."""
    if not line.serials:
        return
    kept: dict[str, list[str]] = src.attributes.setdefault(_RETURNED_SERIALS, {})
    if reverse:
        left = [x for x in kept.get(str(n), ()) if x not in line.serials]
        if left:
            kept[str(n)] = left
        else:
            kept.pop(str(n), None)
        if not kept:
            del src.attributes[_RETURNED_SERIALS]
        return
    _not_returned_yet(doc, line, src, n)
    kept[str(n)] = [*kept.get(str(n), ()), *line.serials]


def _check_serials_once(doc: Document) -> None:
    """A serial number stands on one line of a document (``duplicate_serial``): two lines
    moving one unit could never both post. A transfer may list it on several lines that
    chain (sent from A to B by one, from B on to C by the next: the next leaves from where
    the one before put it, its location or any); two lines sending it from the same place
    could never both post either (serials are kept per warehouse: two location moves out of
    one row posted, naming one unit twice)."""
    chained = doc.doc_type == DocType.TRANSFER
    last: dict[tuple[str, str], Line] = {}
    for line in doc.lines:
        for serial in line.serials:
            key = (line.item, serial)
            before = last.get(key)
            if before is not None and before.line_no != line.line_no and not (
                    chained and (before.to_warehouse or before.warehouse) == line.warehouse
                    and line.location in ("", before.to_location)):
                raise JxcError("duplicate_serial", item=line.item, serial=serial,
                               first=before.line_no, line=line.line_no)
            last[key] = line


def _with_serials(doc: Document, lines: list[StockLine]) -> list[StockLine]:
    """The stock lines of ``doc`` carrying the serial numbers of their document lines (by
    ``line_no``): all of them on a line's one stock line; a line posted as several stock
    lines (a reversal put back row by row, in base units) gives each, in order, as many as
    it moves. Serials are kept per warehouse, not per row or lot (:meth:`Jxc._serials`), so
    which row takes which serial does not matter. A stock count's lines list the serials
    counted, not those it moves: its stock lines carry their own
    (:meth:`Documents._stock_count`)."""
    serials = {line.line_no: line.serials for line in doc.lines if line.serials}
    if not serials or doc.doc_type == DocType.STOCK_COUNT:
        return lines
    parts: dict[int, int] = {}
    for sl in lines:
        parts[sl.line_no] = parts.get(sl.line_no, 0) + 1
    taken: dict[int, int] = {}
    out = []
    for sl in lines:
        own = serials.get(sl.line_no)
        if own and parts[sl.line_no] == 1:
            sl = attrs.evolve(sl, serials=own)
        elif own:
            start = taken.get(sl.line_no, 0)
            taken[sl.line_no] = end = start + int(sl.quantity)
            sl = attrs.evolve(sl, serials=own[start:end])
        out.append(sl)
    return out


def _spread(lines: list[StockLine], serials: tuple[str, ...]) -> list[StockLine]:
    """``lines`` (base units, of one movement) carrying ``serials``, in order: each line as
    many as it moves (a reversal put back row by row)."""
    out = []
    start = 0
    for sl in lines:
        end = start + int(sl.quantity)
        out.append(attrs.evolve(sl, serials=serials[start:end]))
        start = end
    return out


def _serials_moved_on(doc: Document, err: JxcError) -> JxcError:
    """The cancellation of ``doc`` refused because the serial numbers it moved are no longer
    where it left them (``reversal_impossible``, with the stock service's reason and its
    ``item``, ``serial`` and ``warehouse``)."""
    where = {k: err.data[k] for k in ("item", "serial", "warehouse") if k in err.data}
    before = err.code == "serial_count"  # posted before the item was serial-tracked
    return JxcError(
        "reversal_impossible", doc_id=doc.doc_id,
        reason=f"{err.message('en')}; " + (
            "it was posted without serial numbers, before the item was serial-tracked: put "
            "the stock right with an adjustment that lists them" if before else
            "the units it moved have moved on since: cancel what moved them first (a "
            "delivery, a transfer, a return)"),
        reason_zh=f"{err.message('zh')}；" + (
            "它过账时没有序列号（当时该存货尚未启用序列号管理）：请用列出序列号的其他出入库单"
            "调整库存" if before else
            "其收发的货品此后又有变动：请先红冲移动它们的单据（出库、调拨、退货）"),
        **where)


def _keyed(lines: Iterable[Line]) -> list[Any]:
    """Lines as the idempotency fingerprint of ``create`` sees them: a line without serial
    numbers without its ``serials`` field, so that keys stored before lines had serials
    still match their retries."""
    out: list[Any] = []
    for line in lines:
        if type(line) is Line and line.serials == ():
            data = attrs.asdict(line, recurse=False)
            del data["serials"]
            out.append(data)
        else:
            out.append(line)
    return out


def _open(ordered: Decimal, done: Decimal) -> Decimal:
    """Open quantity of an order line: what is still to receive or deliver, never below 0."""
    return max(ZERO, ordered - done)


def format_number(pattern: str, day: dt.date, seq: int) -> str:
    """``CG{yyyyMMdd}-{seq:04}`` -> ``CG20261125-0001``."""
    year = f"{day.year:04d}"  # strftime("%Y") writes the year 1 as "1"
    out = pattern.replace("{yyyyMMdd}", f"{year}{day.month:02d}{day.day:02d}")
    out = out.replace("{yyyyMM}", f"{year}{day.month:02d}").replace("{yyyy}", year)
    return re.sub(r"\{seq(?::0?(\d+))?\}", lambda m: str(seq).zfill(int(m.group(1) or 0)), out)


def _overlap(a: Line, b: Line) -> bool:
    """Whether count lines ``a`` and ``b`` count some stock both: the same item and warehouse,
    lots that overlap (the same, or one without a lot: every lot) and locations that overlap
    (the same, or one without a location: every location)."""
    return (a.item == b.item and a.warehouse == b.warehouse
            and (not a.lot or not b.lot or a.lot == b.lot)
            and (not a.location or not b.location or a.location == b.location))


def _check_count_lines(doc: Document) -> None:
    """Each line of a stock count counts stock that no other line counts, else
    ``duplicate_count_line``: a line books ``counted - on hand`` of its item in its warehouse
    (of its lot; without a lot, of every lot) and of its location (without a location, of every
    location), so two lines of the same stock would book the variance twice (on hand 10, two
    lines counted 8: on hand 6). Two lines of one item and warehouse overlap when their lots
    overlap (the same lot, or one of them without a lot) and their locations overlap (the same
    location, or one of them without a location)."""
    seen: dict[tuple[str, str], list[Line]] = {}
    for line in doc.lines:
        same = seen.setdefault((line.item, line.warehouse), [])
        for other in same:
            if _overlap(line, other):
                raise JxcError("duplicate_count_line", doc_id=doc.doc_id, line=line.line_no,
                               first=other.line_no, item=line.item, warehouse=line.warehouse,
                               lot=line.lot, location=line.location)
        same.append(line)


def _counts(line: Line, b: Balance) -> bool:
    """Whether count line ``line`` counts balance row ``b`` (of its item and warehouse): of
    its lot (without a lot, every lot) and of its location (without a location, every
    location)."""
    return (not line.lot or b.lot == line.lot) and (
        not line.location or b.location == line.location)


#: a foreign-currency receipt line's counter: the book amounts its GRNI slices cleared
_CLEARED = "grni_book_cleared"
#: a purchase return's or invoice's line counter: the book amount of the GRNI it cleared
_SLICE_BOOK = "grni_book"

#: roles booked in the document's currency (party-facing); the others are book currency
_PARTY_ROLES = frozenset({"grni", "payable", "input_tax", "receivable", "revenue",
                          "output_tax", "bank", "credit_pending"})


class _Book:
    """Journal rows of one posting, checked to balance.

    Party-facing roles are in the document's currency with its rate; stock roles are in the
    book currency (rate 1). In one currency the rows balance exactly; across currencies the
    voucher closes the conversion rounding on the exchange-difference account.
    """

    def __init__(self, doc: Document, sign: int, day: dt.date, book_currency: str,
                 rate: Decimal, book_digits: int) -> None:
        self.doc = doc
        self.sign = sign
        self.day = day
        self.book_currency = book_currency
        self.rate = rate
        self.book_digits = book_digits
        #: the rows as plain data (:meth:`JournalRow.to_data`), with the rate of each
        self.rows: list[dict[str, Any]] = []
        self._rates: list[Decimal] = []
        # the same for every row of the posting
        self._doc_type = doc.doc_type.value
        self._doc_id = doc.doc_id if sign > 0 else f"{doc.doc_id}-R"
        self._date = day.isoformat()
        self._rate_text = str(rate)

    def add(self, line: Line | None, role: str, amount: Decimal, *, debit: bool,
            warehouse: str | None = None, rate: Decimal | None = None, ref: str = "",
            item: str | None = None, as_is: bool = False, book: Decimal | None = None,
            day: dt.date | None = None) -> None:
        """One row; ``as_is`` books the amount as it is even in a red (reversal) posting.
        ``book``: the row's book-currency amount (same sign as ``amount``) when it is not
        ``round_half_up(amount x rate)``; kept on the row as ``book_amount``. ``day``: the
        row's date when it is not the posting's (a cost correction the ledger dates later)."""
        if not amount:  # (a GRNI slice of 0 in its currency clears 0 in the books too)
            return
        if amount < 0:  # a negative debit is a credit
            amount, debit = -amount, not debit
            book = None if book is None else -book
        if not as_is:
            amount = amount * self.sign
            book = None if book is None else book * self.sign
        if role in _PARTY_ROLES:  # in the document's currency, at its rate
            currency = self.doc.currency
            row_rate = rate or self.rate
            rate_text = self._rate_text if row_rate is self.rate else str(row_rate)
        else:
            currency, row_rate, rate_text = self.book_currency, _ONE, "1"
        if book is not None and book == round_money(multiply(amount, row_rate), self.book_digits):
            book = None  # its conversion says the same: nothing to keep
        row = {
            "doc_type": self._doc_type, "doc_id": self._doc_id,
            "line_no": line.line_no if line else 0, "role": role,
            "debit": str(amount) if debit else "0", "credit": "0" if debit else str(amount),
            "item": item if item is not None else (line.item if line else ""),
            "warehouse": warehouse if warehouse is not None else (
                line.warehouse if line else ""),
            "party": self.doc.party, "date": self._date if day is None else day.isoformat(),
            "currency": currency,
            "tax_rate": str(line.tax_rate) if line else "", "rate": rate_text, "ref": ref}
        if book is None:
            exact = amount * row_rate
        else:
            row["book_amount"] = str(book)
            exact = book
        self.rows.append(row)
        self._rates.append(exact if debit else -exact)

    def take_since(self, mark: int) -> tuple[list[dict[str, Any]], list[Decimal]]:
        """Take out the rows added since there were ``mark`` (to add them back in another
        order, :meth:`put_back`)."""
        taken = self.rows[mark:], self._rates[mark:]
        del self.rows[mark:], self._rates[mark:]
        return taken

    def put_back(self, rows: list[dict[str, Any]], rates: list[Decimal]) -> None:
        self.rows.extend(rows)
        self._rates.extend(rates)

    def check(self) -> list[dict[str, Any]]:
        """The rows, once checked to balance (debit - credit at each row's rate)."""
        diff = sum(self._rates, ZERO)
        # across currencies each row may carry the rounding of its conversion: up to one unit
        # of the book currency's last digit per row (0.01 for CNY books, 1 for JPY books)
        slack = money_quantum(self.book_digits) * len(self.rows) \
            if self.doc.currency != self.book_currency else ZERO
        if abs(diff) > slack:  # a bug, never bad input: the rules always balance
            dr = sum((x for x in self._rates if x > 0), ZERO)
            raise JxcError("invalid_document", doc_id=self.doc.doc_id,
                           reason=f"journal does not balance: {dr} != {dr - diff}",
                           reason_zh=f"会计分录借贷不平：{dr} != {dr - diff}")
        return self.rows


def _issue_cancelled(w: _Work, settled: list[list[Any]]) -> bool:
    """Whether an issue whose shortage a receipt settled (``settled``: ``Jxc``'s
    ``_SETTLED_SHORTAGE`` record, issue group refs first) is a cancelled document already:
    its cancellation, dated before the receipt (or replayed before it), may have left its
    shortage to the receipt while its own units settled another's; opened again, that
    shortage would stand for an issue no longer there. The receipt then waits, as before
    2026-12-17."""
    for s in settled:
        doc = w.uow.documents.get(_split_group(s[0])[1])
        if doc is not None and doc.get("state") == State.CANCELLED.value:
            return True
    return False


#: the arrivals after a moving-average line in whose cancellation its out-of-turn
#: cancellation may leave without units, for good (:meth:`Documents._returns_kept`): a
#: customer return (its delivery cannot be cancelled before it), a transfer's arrival
#: (units sent away and back: each leg's cancellation needs the other's first), and an
#: adjustment's or a count's line in whose document took units out there too (cancelled
#: last line first, the line in before the document's line out, which alone would bring
#: back what it needs)
_KEPT_ARRIVALS = {"sales_return": ("customer return", "客户退货"),
                  "transfer_in": ("transfer", "调拨单"),
                  "adjustment_in": ("adjustment", "其他出入库单"),
                  "stock_count_in": ("stock count", "盘点单")}
#: those kept only when their document also took units out of the warehouse
_MIXED_ARRIVALS = frozenset({"adjustment_in", "stock_count_in"})


def _why_settled_stay(w: _Work, doc_id: str, settled: list[list[Any]], beside: bool
                      ) -> tuple[str, str]:
    """Why the units of a receipt line (a transfer's arrival) that settled open shortages
    (``settled``: ``Jxc``'s ``_SETTLED_SHORTAGE`` record) cannot count as still in its
    layer, when that is for good (docs/stock-ledger.md, "Known limits"): one of those
    shortages is of a document cancelled since (:func:`_issue_cancelled`; opened again it
    would stand for an issue no longer there), or of another line of the same document
    while stock is on hand beside (``beside``: a shortage never stands beside stock, and
    the cancellation undoes the other line only after this one). ``("", "")`` otherwise:
    the units left, and cancelling what took them lets this line go."""
    gone = sorted({_split_group(s[0])[1] for s in settled if _issue_cancelled(w, [s])})
    if gone:
        names = ", ".join(gone)
        return (f"; they settled the shortage of {names}, cancelled since, which cannot be "
                "opened again", f"；这些单位冲抵了已红冲的 {names} 的缺货，该缺货无法重新打开")
    own = sorted({_split_group(s[0])[2] for s in settled
                  if _split_group(s[0])[1] == doc_id})
    if own and beside:
        lines = ", ".join(str(n) for n in own)
        return (f"; they settled the shortage of line {lines} of this document, which cannot "
                "be opened again beside the stock on hand",
                f"；这些单位冲抵了本单第 {lines} 行的缺货，现有库存时该缺货无法重新打开")
    return "", ""


class Documents:
    """Document use cases over a :class:`Jxc` service. See the module docstring."""

    def __init__(
        self,
        jxc: Jxc,
        *,
        workflows: Mapping[str, Workflow] | None = None,
        tolerance: Decimal = ZERO,
        reserve_on_approve: bool = True,
        numbering: Mapping[str, str] | None = None,
        reserve_partial: bool = True,
    ) -> None:
        """``tolerance``: over-receipt/over-delivery allowed, as a fraction of the ordered
        quantity (0.05 = 5%), a ``Decimal`` or ``int`` from 0 up to, not including, 1 (else
        ``configuration``, ``field="tolerance"``; a float is ``TypeError``, NaN or infinity
        ``ValueError``). ``reserve_on_approve``: an approved sales order reserves its
        lines (else it only checks availability); ``reserve_partial`` (DOMAIN 4: reserve
        partially or not at all, a setting): ``True`` reserves what is available of each line,
        ``False`` reserves nothing for an order with a short line (its stock stays free; the
        short lines are reported all the same). ``numbering``: pattern per document type.
        ``workflows``: a loaded :class:`Workflow` per document type (a type's value or a
        :class:`DocType`); an unknown type, which would govern nothing, or a value that is not
        a ``Workflow`` is refused (``configuration``, ``field="workflows"``, ``doc_type``).
        ``jxc`` is a :class:`Jxc` (else ``TypeError``)."""
        if not isinstance(jxc, Jxc):
            raise TypeError(f"jxc must be a Jxc, got {type(jxc).__name__} {jxc!r}")
        self.jxc = jxc
        self.workflows: dict[str, Workflow] = {}
        if workflows is not None and not isinstance(workflows, Mapping):
            raise JxcError("configuration", field="workflows",
                           reason="workflows is a mapping of document type to Workflow, "
                                  f"got {type(workflows).__name__}",
                           reason_zh=f"workflows 应为单据类型到 Workflow 的映射，实际"
                                     f"为 {type(workflows).__name__}")
        known = [t.value for t in DocType]
        for key, wf in (workflows or {}).items():
            if key not in known:
                raise JxcError("configuration", field="workflows", doc_type=key,
                               reason=f"workflows: unknown document type {key!r} "
                                      f"(one of {', '.join(known)})",
                               reason_zh=f"workflows：未知的单据类型 {key!r}（可选"
                                         f"：{', '.join(known)}）")
            if not isinstance(wf, Workflow):
                raise JxcError("configuration", field="workflows", doc_type=key,
                               reason=f"workflows[{key!r}] is a {type(wf).__name__}, not a "
                                      "Workflow: load it with Workflow.from_data",
                               reason_zh=f"workflows[{key!r}] 是 {type(wf).__name__}，不是 "
                                         f"Workflow：请用 Workflow.from_data 加载")
            self.workflows[DocType(key).value] = wf
        self.tolerance = check_number(tolerance, "tolerance")
        if not ZERO <= self.tolerance < 1:
            # a fraction of the ordered quantity: below 0 it refused receipts within the order
            # ("over_receipt" of 6 of 10 open); 1 or more is a percentage typed as a fraction
            # (5 for 5% allowed six times the order), or no limit at all: receive without an
            # order then
            raise JxcError("configuration", field="tolerance", value=self.tolerance,
                           reason=f"tolerance is the over-receipt allowed as a fraction of the "
                                  f"ordered quantity, from 0 up to (not including) 1 (0.05 = 5%)"
                                  f", got {self.tolerance}",
                           reason_zh=f"tolerance（超收容差）是允许超出订货数量的比例，取值 0 到 1"
                                     f"（不含 1；0.05 即 5%），实际为 {self.tolerance}")
        check_bool(reserve_on_approve, "reserve_on_approve")
        check_bool(reserve_partial, "reserve_partial")
        self.reserve_on_approve = reserve_on_approve
        self.reserve_partial = reserve_partial
        self.numbering: dict[DocType, str] = {}
        for key, pattern in (numbering or {}).items():
            if key not in known:
                raise JxcError("configuration", field="numbering", doc_type=key,
                               reason=f"numbering: unknown document type {key!r} "
                                      f"(one of {', '.join(known)})",
                               reason_zh=f"numbering：未知的单据类型 {key!r}（可选"
                                         f"：{', '.join(known)}）")
            if (not isinstance(pattern, str)
                    or len(re.findall(r"\{seq(?::0?\d+)?\}", pattern)) != 1):
                raise JxcError("configuration", field="numbering", doc_type=key,
                               reason=f"numbering[{key!r}] must be a text with one {{seq}} "
                                      f"(e.g. 'CG{{yyyyMMdd}}-{{seq:04}}'), got {pattern!r}",
                               reason_zh=f"numbering[{key!r}] 须为含一个 {{seq}} 的文本（如 "
                                         f"'CG{{yyyyMMdd}}-{{seq:04}}'），实际"
                                         f"为 {pattern!r}")
            rest = re.sub(r"\{seq(?::0?\d+)?\}|\{yyyyMMdd\}|\{yyyyMM\}|\{yyyy\}", "",
                          pattern)
            if "{" in rest or "}" in rest:
                raise JxcError("configuration", field="numbering", doc_type=key,
                               reason=f"numbering[{key!r}]: {pattern!r} has a placeholder "
                                      "other than {yyyyMMdd}, {yyyyMM}, {yyyy}, {seq}, "
                                      "{seq:N} (it would stay in every number as written)",
                               reason_zh=f"numbering[{key!r}]：{pattern!r} 含有 {{yyyyMMdd}}、"
                                         "{yyyyMM}、{yyyy}、{seq}、{seq:N} 以外的占位符（它会"
                                         "原样留在每个编号中）")
            if pattern.endswith("-R"):
                raise JxcError("configuration", field="numbering", doc_type=key,
                               reason=f"numbering[{key!r}]: {pattern!r} makes numbers ending "
                                      "in -R, the mark of a cancellation (红冲)",
                               reason_zh=f"numbering[{key!r}]：{pattern!r} 生成以 -R 结尾的"
                                         "编号，而 -R 是红冲单据的标记")
            self.numbering[DocType(key)] = pattern

    # -- plumbing ---------------------------------------------------------------------------
    def _run(self, command: str, payload: Any, key: str | None, body: Any) -> Document:
        result: Document = self.jxc._run(command, payload, key, body, document_to_data,
                                         document_from_data)
        return result

    @staticmethod
    def _load(w: _Work, doc_id: str) -> Document:
        """The stored document, with counters and attributes of its own (the caller may
        change them in place until it saves). From the documents the service's last commands
        saved while nobody else wrote (:class:`_Warm`), else read and decoded."""
        docs = w.warm.docs
        kept: Document | None = docs.pop(doc_id, None)
        if kept is not None:
            docs[doc_id] = kept  # the most recently used last
            return _own(kept)
        data = w.uow.documents.get(doc_id)
        if data is None:
            raise NotFoundError(kind="document", key=doc_id)
        return _with_digits(w.jxc, document_from_data(data))

    @staticmethod
    def _save(w: _Work, doc: Document) -> None:
        w.uow.documents.put(doc.doc_id, doc.doc_type.value, doc.state.value,
                            document_to_data(doc, compact=True))
        docs = w.warm.docs
        docs.pop(doc.doc_id, None)
        docs[doc.doc_id] = _own(doc)  # a copy: the caller keeps the one it was given
        if len(docs) > _KEPT_DOCUMENTS:
            del docs[next(iter(docs))]  # the least recently used

    def get(self, doc_id: str) -> Document:
        check_text(doc_id, "doc_id")
        with self.jxc.storage.unit_of_work() as uow:
            data = uow.documents.get(doc_id)
        if data is None:
            raise NotFoundError(kind="document", key=doc_id)
        return _with_digits(self.jxc, document_from_data(data))

    def ids(self, doc_type: str | None = None, state: str | None = None) -> list[str]:
        """The numbers of the documents stored, of one type and/or in one state. A name that
        is no document type or no state is ``invalid_document`` listing them (a misspelt
        filter would otherwise read as "there are none"); not a str: ``TypeError``."""
        kind = None if doc_type is None else check_doc_type(doc_type).value
        if state is not None:
            check_state(state)
        with self.jxc.storage.unit_of_work() as uow:
            return uow.documents.ids(kind, state)

    def journal(self, doc_id: str | None = None) -> list[JournalRow]:
        """The accounting events recorded by postings (of one document, or all). ``doc_id``
        is a str (else ``TypeError``); an unknown one has no rows."""
        if doc_id is not None:
            check_text(doc_id, "doc_id")
        with self.jxc.storage.unit_of_work() as uow:
            return [JournalRow.from_data(r) for r in uow.journal.all(doc_id)]

    # -- creating ---------------------------------------------------------------------------
    def create_from_form(self, form: Mapping[str, Any], *, user: str = "",
                         idempotency_key: str | None = None) -> Document:
        """:meth:`create` from a form: plain data as a web form or a low-code platform sends
        it, numbers as text (:func:`jxc_core.documents.document_form`). A form that cannot be
        read is ``invalid_document`` naming the field (``lines[2].price``); then the rules of
        :meth:`create` apply. Nothing is written on any refusal."""
        f = document_form(form)
        return self.create(f.doc_type, list(f.lines), party=f.party, date=f.date,
                           currency=f.currency, user=user, attributes=f.attributes,
                           doc_id=f.doc_id, idempotency_key=idempotency_key)

    def create(
        self,
        doc_type: DocType | str,
        lines: Sequence[Line],
        *,
        party: str = "",
        date: dt.date | None = None,
        currency: str | None = None,
        user: str = "",
        attributes: Mapping[str, Any] | None = None,
        doc_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Document:
        """Create a draft document; its number comes from the numbering pattern. Its
        amounts are in ``currency`` (default: the book currency, ``Jxc.book_currency``) at
        ``Jxc.digits_of(currency)`` decimals, kept as ``Document.digits``. Refused, writing
        nothing: an unknown currency (``unknown_currency``); a line whose source document is
        in another currency (``currency_mismatch``); an adjustment, stock count or transfer
        in another currency than the book currency (``book_currency_required``). ``date``
        is a ``datetime.date`` (not a datetime, not a str; else ``invalid_date``). A ``doc_id``
        given may not be blank or end in ``-R``, the suffix of cancellations
        (``invalid_document``).

        Serial numbers (``Line.serials``): a line of a serial-tracked item on a document that
        moves stock lists one per base unit (``serial_count``), a serial stands once on a
        document but for a transfer (``duplicate_serial``), a return lists serials of its
        source line; serials elsewhere (orders, invoices, landed costs, items not
        serial-tracked) are ``invalid_document`` (docs/purchase-and-sales.md, "Serial
        numbers"). A stock count line of a serial-tracked item lists the serials counted,
        one per base unit of ``counted``, and counts the whole warehouse; one of an item that
        is lot-tracked too is ``invalid_document`` (docs/counts-and-replenishment.md).

        An unknown ``doc_type`` is ``invalid_document`` (``field="doc_type"``, the reason lists
        the types); a line that is not a :class:`Line` (a tuple of its fields) is
        ``TypeError``."""
        if date is not None and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
            raise JxcError("invalid_date", field="date", expected="datetime.date",
                           kind=type(date).__name__, value=date)
        kind = check_doc_type(doc_type)
        check_list_of(lines, Line, "lines")  # a list or tuple: a generator would be read
        # up by the check and leave the document empty
        check_text(party, "party")
        check_text(user, "user")
        if currency is not None:
            check_text(currency, "currency")
        if doc_id is not None:
            check_text(doc_id, "doc_id")
        attributes = check_attributes(attributes)
        if currency is None:
            currency = self.jxc.book_currency
        payload = (kind.value, list(lines) if idempotency_key is None else _keyed(lines), party,
                   date, currency, user, dict(attributes), doc_id)

        def body(w: _Work) -> Document:
            return self._create_in(w, kind, lines, party, date or w.now.date(), currency, user,
                                   dict(attributes), doc_id)

        return self._run("create_document", payload, idempotency_key, body)

    def _validate(self, w: _Work, doc: Document) -> None:
        kind = doc.doc_type
        self._check_book_currency(doc)
        if not doc.lines:
            raise JxcError("invalid_document", doc_id=doc.doc_id, reason="it has no lines",
                           reason_zh="单据没有明细行")
        if kind in _SUPPLIER_DOCS or kind in _CUSTOMER_DOCS:
            party = w.uow.master.get_party(doc.party) if doc.party else None
            if party is None:
                raise NotFoundError(kind="party", key=doc.party)
            if kind in _SUPPLIER_DOCS and not party.is_supplier():
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"{doc.party} is not a supplier",
                               reason_zh=f"{doc.party} 不是供应商")
            if kind in _CUSTOMER_DOCS and not party.is_customer():
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"{doc.party} is not a customer",
                               reason_zh=f"{doc.party} 不是客户")
        elif doc.party and w.uow.master.get_party(doc.party) is None:
            # no counterparty is needed (adjustments, counts, transfers), but one named is a
            # party of the store (a department, a person), never a dangling code
            raise NotFoundError(kind="party", key=doc.party)
        for line in doc.lines:  # the fields' types and ranges first (line_no: an int)
            line.check()
            # its amounts round to the cent (a product beyond 28 digits is refused whole now,
            # not when an invoice or a voucher needs them: ``computation_out_of_range``)
            line.amounts(doc.amount_digits)
        numbers = [line.line_no for line in doc.lines]
        if len(set(numbers)) != len(numbers):
            raise JxcError("invalid_document", doc_id=doc.doc_id, reason="duplicate line_no",
                           reason_zh="行号重复")
        for line in doc.lines:
            if kind == DocType.LANDED_COST:  # lines are charges (freight, duty), not items
                if line.quantity <= 0:
                    raise JxcError("invalid_quantity", field="quantity", value=line.quantity)
                if line.serials:
                    _check_line_serials(doc, line, None)
                continue
            item = w.item(line.item)
            if line.serials or (item.serial_tracked and kind in _MOVES_STOCK):
                # refused now rather than at posting (``serial_count``, ``serial_on_hand``
                # aside), which left an approved document that never posts
                _check_line_serials(doc, line, item)
            if item.lot_tracked and not line.lot and (
                    kind == DocType.PURCHASE_RECEIPT
                    or (kind == DocType.ADJUSTMENT and line.quantity > 0)):
                # units coming in must say their lot: refused now rather than at posting
                # (a customer return takes its delivery's, a supplier return its receipt's)
                raise JxcError("lot_missing", item=item.code, doc_id=doc.doc_id,
                               line=line.line_no)
            if kind == DocType.ADJUSTMENT:
                if not line.quantity:
                    raise JxcError("invalid_quantity", field="quantity", value=line.quantity)
                item.to_base(abs(line.quantity), line.unit)
            elif kind == DocType.STOCK_COUNT:
                if line.quantity < 0:
                    raise JxcError("invalid_quantity", field="quantity", value=line.quantity)
                item.to_base(line.quantity, line.unit)  # the unit must be known now
                if line.counted is not None:  # exact now, not refused at posting
                    item.to_base(line.counted, line.unit)
            else:
                if line.quantity <= 0:
                    raise JxcError("invalid_quantity", field="quantity", value=line.quantity)
                item.to_base(line.quantity, line.unit)
            if kind in (DocType.PURCHASE_INVOICE, DocType.SALES_INVOICE):
                if line.warehouse:  # optional (the source line's counts), never a dangling code
                    w.warehouse(line.warehouse)
            else:
                if not line.warehouse:
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no} has no warehouse",
                                   reason_zh=f"第 {line.line_no} 行没有仓库")
                wh = w.warehouse(line.warehouse)
                if kind == DocType.STOCK_COUNT and line.location and wh.locations and \
                        line.location not in wh.locations:  # a count of no location's stock
                    raise NotFoundError(kind="location", key=f"{wh.code}/{line.location}")
            if kind == DocType.TRANSFER:
                _check_transfer_line(doc, line, wh, w.warehouse(line.to_warehouse))
            elif line.to_location:
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"line {line.line_no}: to_location is for a transfer "
                                      "between locations of one warehouse",
                               reason_zh=f"第 {line.line_no} 行：to_location 只用于同一仓库"
                                         f"内库位之间的调拨")
            need = _NEEDS_SOURCE.get(kind)
            if need is not None and line.source is None:
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"line {line.line_no} must name its {need.value} line",
                               reason_zh=f"第 {line.line_no} 行须指明其 {need.value} 行")
            if line.source is not None:
                src = self._load(w, line.source[0])
                expected = need or _MAY_SOURCE.get(kind)
                if expected is None or (src.doc_type != expected
                                        and src.doc_type != _CREDIT_SOURCE.get(kind)):
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no}: {src.doc_id} is a "
                                          f"{src.doc_type.value}",
                                   reason_zh=f"第 {line.line_no} 行：{src.doc_id} "
                                             f"是 {src.doc_type.value}")
                self._same_currency(doc, line, src)
                if src.party != doc.party:  # a document of one party from another's
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no}: {src.doc_id} is of "
                                          f"{src.party or 'no party'}, not of {doc.party}",
                                   reason_zh=f"第 {line.line_no} 行：{src.doc_id} 的往来单位"
                                             f"是 {src.party or '（无）'}，而不是 {doc.party}")
                src_line = src.line(line.source[1])
                if src_line.item != line.item:
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no}: item differs from its source",
                                   reason_zh=f"第 {line.line_no} 行：商品与来源行不同")
                if (src_line.unit or "") != (line.unit or ""):
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no}: unit differs from its source",
                                   reason_zh=f"第 {line.line_no} 行：单位与来源行不同")
                if (kind == DocType.PURCHASE_RETURN and line.warehouse
                        and line.warehouse != src_line.warehouse):
                    # the units go back from where the receipt put them: from another
                    # warehouse the return took other receipts' stock at their cost, and
                    # the receipt's own units stayed (its invoice then never posted)
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no}: a return leaves from its "
                                          f"receipt's warehouse {src_line.warehouse}",
                                   reason_zh=f"第 {line.line_no} 行：退货须从其入库仓库 "
                                             f"{src_line.warehouse} 发出")
                if line.serials and src_line.serials:  # a return: the units its source moved
                    _check_serials_of_source(doc, line, src, src_line)
        if kind in _CREDIT_SOURCE:
            self._check_credit_note(w, doc)
        if any(line.serials for line in doc.lines):
            _check_serials_once(doc)
        if kind == DocType.STOCK_COUNT:
            _check_count_lines(doc)
        if kind == DocType.LANDED_COST:
            receipts = doc.attributes.get("receipts")
            if not receipts:
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason="a landed cost names the receipts it goes to",
                               reason_zh="到岸成本须指明要分摊到的入库单")
            if not isinstance(receipts, (list, tuple)) or not all(
                    isinstance(r, str) for r in receipts):
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"receipts is a list of receipt numbers, got "
                                      f"{receipts!r}",
                               reason_zh=f"receipts 须为入库单号的列表，实际为 {receipts!r}")
            twice = sorted({r for r in receipts if receipts.count(r) > 1})
            if twice:  # refused at posting otherwise: an approved document that never posts
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"receipt {twice[0]} is named twice",
                               reason_zh=f"入库单 {twice[0]} 被指明了两次")
            try:
                AllocationBasis(doc.attributes.get("basis", "value"))
            except ValueError:
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"unknown basis {doc.attributes.get('basis')!r}: "
                                      "quantity, value, weight or volume",
                               reason_zh=f"未知的分摊依据 {doc.attributes.get('basis')!r}："
                                         f"可选 quantity（数量）、value（金额）、weight（重"
                                         f"量）或 volume（体积）") from None
            for rid in receipts:
                if self._load(w, rid).doc_type != DocType.PURCHASE_RECEIPT:
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"{rid} is not a purchase receipt",
                                   reason_zh=f"{rid} 不是采购入库单")

    def _credit_note(self, w: _Work, doc: Document) -> bool:
        """Whether ``doc`` (an invoice) is a red-letter invoice (红字发票): its lines name
        return lines. The first line tells (:meth:`_check_credit_note` refuses a mix at
        creation), so an invoice of many receipts reads no more of them than it did."""
        red = _CREDIT_SOURCE.get(doc.doc_type)
        first = next((line.source for line in doc.lines if line.source is not None), None)
        return red is not None and first is not None and self._load(w, first[0]).doc_type == red

    def _check_credit_note(self, w: _Work, doc: Document) -> None:
        """A red-letter invoice names return lines only (an invoice names receipt or delivery
        lines only: one document is one open item, a charge or a credit), and is in the book
        currency (a return of invoiced units in another currency is not supported yet)."""
        red = _CREDIT_SOURCE[doc.doc_type]
        kinds = {self._load(w, line.source[0]).doc_type == red
                 for line in doc.lines if line.source is not None}
        if len(kinds) > 1:
            raise JxcError("invalid_document", doc_id=doc.doc_id,
                           reason=f"its lines name both {red.value} lines and "
                                  f"{_NEEDS_SOURCE[doc.doc_type].value} lines: a red-letter "
                                  "invoice (credit note) names return lines only",
                           reason_zh=f"其明细行既有 {red.value} 行又有 "
                                     f"{_NEEDS_SOURCE[doc.doc_type].value} 行：红字发票只能"
                                     f"引用退货单的行")
        if any(kinds):
            self._credit_in_book_currency(doc)

    def _credit_in_book_currency(self, doc: Document) -> None:
        """Returns of invoiced units and their red-letter invoices are in the book currency
        (``invalid_document``): in another, the amount awaiting the credit note would be
        booked at the return's rate and cleared at the red-letter invoice's."""
        book = self.jxc.book_currency
        if doc.currency != book:
            raise JxcError("invalid_document", doc_id=doc.doc_id,
                           reason=f"it is in {doc.currency}: returns of invoiced units and "
                                  f"red-letter invoices are supported in the book currency "
                                  f"{book} only (return units not invoiced yet, or cancel "
                                  "the invoice first)",
                           reason_zh=f"其币种为 {doc.currency}：已开票货物的退货及红字发票仅"
                                     f"支持本位币 {book}（请只退未开票的数量，或先红冲发票）")

    # -- actions ----------------------------------------------------------------------------
    def available_actions(self, doc: Document | str, user: User) -> list[str]:
        """What ``user`` may do with ``doc`` now (for a UI to show). ``doc`` is a
        :class:`Document` or its number, ``user`` a :class:`User` (else ``TypeError``)."""
        check_user(user)
        if not isinstance(doc, Document | str):
            raise TypeError(f"doc must be a Document or its doc_id (a str), got "
                            f"{type(doc).__name__} {doc!r}")
        d = self.get(doc) if isinstance(doc, str) else doc
        wf = self.workflows.get(d.doc_type.value)
        if wf is None:  # every action of the table from its state (close: orders only)
            return [a.value for a in offered_actions(d.state, d.doc_type)]
        return wf.available_actions(d, user)

    def submit(self, doc_id: str, user: User, comment: str = "",
               idempotency_key: str | None = None) -> Document:
        return self._act(doc_id, Action.SUBMIT, user, comment, idempotency_key)

    def approve(self, doc_id: str, user: User, comment: str = "",
                idempotency_key: str | None = None) -> Document:
        return self._act(doc_id, Action.APPROVE, user, comment, idempotency_key)

    def reject(self, doc_id: str, user: User, comment: str = "",
               idempotency_key: str | None = None) -> Document:
        return self._act(doc_id, Action.REJECT, user, comment, idempotency_key)

    def post(self, doc_id: str, user: User, comment: str = "",
             idempotency_key: str | None = None) -> Document:
        """Post: the stock and accounting effect, all lines or nothing. Idempotent: posting a
        posted document returns it unchanged."""
        return self._act(doc_id, Action.POST, user, comment, idempotency_key)

    def cancel(self, doc_id: str, user: User, comment: str = "",
               idempotency_key: str | None = None) -> Document:
        """Cancel; a posted document is reversed (红冲) at its original costs."""
        return self._act(doc_id, Action.CANCEL, user, comment, idempotency_key)

    def close(self, doc_id: str, user: User, comment: str = "",
              idempotency_key: str | None = None) -> Document:
        """Close a posted order: its open remainder no longer counts as on order/demand.
        Only orders are closed: any other document is ``invalid_transition`` (with
        ``doc_type`` and a ``reason``), nothing written."""
        return self._act(doc_id, Action.CLOSE, user, comment, idempotency_key)

    def approve_through(self, doc_id: str, users: Sequence[User],
                        idempotency_key: str | None = None) -> Document:
        """Submit, approve with each user in turn until approved, and post (a convenience):
        one unit of work, all of it or nothing — a post refused (short stock, a closed
        period) leaves the document as it was, with no lifecycle event written."""
        if isinstance(users, (str, User)) or not isinstance(users, Sequence):
            raise TypeError(f"users must be a list of User, got {type(users).__name__} "
                            f"{users!r}")
        for i, u in enumerate(users):
            check_user(u, f"users[{i}]")
        check_text(doc_id, "doc_id")
        if not users:
            raise JxcError("invalid_document", doc_id=doc_id,
                           field="users",
                           reason="approve_through needs at least one user (who submits, "
                                  "approves and posts)",
                           reason_zh="approve_through 至少需要一个用户（提交、审批并过账）")
        payload = (doc_id, [(u.name, sorted(u.roles)) for u in users])

        def body(w: _Work) -> Document:
            doc = self._load(w, doc_id)
            if doc.state == State.DRAFT:
                doc = self._act_in(w, doc_id, Action.SUBMIT, users[0], "")
            for u in users:
                if doc.state != State.SUBMITTED:
                    break
                doc = self._act_in(w, doc_id, Action.APPROVE, u, "")
            return self._act_in(w, doc_id, Action.POST, users[-1], "")

        return self._run("document_approve_through", payload, idempotency_key, body)

    def post_many(self, doc_ids: Sequence[str], user: User, comment: str = "",
                  idempotency_key: str | None = None) -> list[Document]:
        """Post several documents in one unit of work (批量过账): all of them or none.

        Each document is posted as :meth:`post` would, in the order given (a receipt before
        the delivery that needs its stock); a posted one is left as it is. The first refusal
        refuses the batch and leaves nothing written: the error is that document's own, with
        ``batch_doc_id`` added to its data. One commit for the batch is why it is faster than
        one :meth:`post` per document."""
        check_user(user)
        check_text(comment, "comment")
        if isinstance(doc_ids, (str, bytes)):
            raise TypeError(f"doc_ids must be a list of document ids, got {type(doc_ids).__name__}"
                            f" {doc_ids!r} (a str is one id: pass [{doc_ids!r}])")
        if not isinstance(doc_ids, Sequence):
            raise TypeError(f"doc_ids must be a list of document ids, got "
                            f"{type(doc_ids).__name__} {doc_ids!r}")
        ids = [check_text(d, f"doc_ids[{i}]") for i, d in enumerate(doc_ids)]
        if not ids:
            raise JxcError("invalid_document", doc_id="", reason="no documents to post",
                           reason_zh="没有要过账的单据")
        payload = (ids, Action.POST.value, user.name, sorted(user.roles), comment)

        def body(w: _Work) -> list[Document]:
            done = []
            for doc_id in ids:
                try:
                    done.append(self._act_in(w, doc_id, Action.POST, user, comment))
                except JxcError as exc:
                    exc.data.setdefault("batch_doc_id", doc_id)
                    raise
            return done

        result: list[Document] = self.jxc._run(
            "document_post_many", payload, idempotency_key, body,
            _docs_data, _docs_of)
        return result

    def _act(self, doc_id: str, action: Action, user: User, comment: str,
             key: str | None) -> Document:
        check_user(user)  # every action: submit, approve, reject, post, cancel, close
        check_text(doc_id, "doc_id")
        check_text(comment, "comment")
        payload = (doc_id, action.value, user.name, sorted(user.roles), comment)

        def body(w: _Work) -> Document:
            return self._act_in(w, doc_id, action, user, comment)

        return self._run(f"document_{action.value}", payload, key, body)

    def _act_in(self, w: _Work, doc_id: str, action: Action, user: User,
                comment: str) -> Document:
        """One action on one document inside the unit of work of ``w``.

        The permission comes first: a user the workflow does not allow to ``post`` is
        refused (``not_allowed``) even when the document is posted already and posting
        again would change nothing. Every action that changes the document records one
        lifecycle event (:data:`LIFECYCLE_EVENTS`, :func:`_lifecycle_payload`) after the
        events of its effects (stock, reservations) and before the ``approval_requested``
        of the next step, all in the outbox of this unit of work."""
        doc = self._load(w, doc_id)
        wf = self.workflows.get(doc.doc_type.value)
        if action == Action.POST and doc.state in (State.POSTED, State.CLOSED):
            if wf is not None and not _may(wf, user, action):
                raise JxcError("not_allowed", user=user.name, action=action.value,
                               doc_id=doc_id, state=doc.state.value)
            return doc  # posting twice changes nothing (no history record, no event)
        target = next_state(doc.state, action, doc.doc_type)  # close: orders only
        if wf is not None and not wf.allowed(doc, user, action.value):
            raise JxcError("not_allowed", user=user.name, action=action.value,
                           doc_id=doc_id, state=doc.state.value)
        step = ""
        approvals = doc.approvals_done
        if action == Action.APPROVE and wf is not None:
            pending = wf.pending_steps(doc)
            if pending:
                step = pending[0].name
                approvals = (*approvals, step)
                if len(pending) > 1:
                    target = State.SUBMITTED
        if action == Action.REJECT:
            approvals = ()
        when = self._posting_time(doc, w.now)
        if action == Action.POST or (action == Action.CANCEL and doc.state == State.POSTED):
            when = self._late_moment(w, doc, when)
        if action == Action.POST and doc.doc_type in _FOLLOWERS:
            when = self._after_sources(w, doc, when)
        if action == Action.CANCEL and doc.state == State.POSTED:
            # the reversal never comes before the posting it reverses: cancelled another day,
            # the document's date with today's time of day could (15:00 posted, 09:00 the
            # next morning cancelled), and the reversal found no stock there
            posted = self._posted_at(doc, w.zone)
            if posted is not None:
                when = max(when, posted)
        if (action == Action.POST or (action == Action.CANCEL and doc.state == State.POSTED)
                ) and (doc.date is None or doc.date == w.day_of(w.now)):
            # dated today: a moment of its own when the clock has not moved on (Jxc._own_now)
            when = self.jxc._own_now(w, when)
        before = doc.state
        if action in (Action.POST, Action.CANCEL) and (
                action == Action.POST or doc.state == State.POSTED):
            w.check_open(doc.date or when)
        requested: dict[str, Any] | None = None  # the approval_requested of the next step
        if action == Action.SUBMIT:
            doc = self._on_submit(w, doc)
            if wf is not None:
                pending = wf.pending_steps(doc)
                if pending:
                    requested = {"doc_id": doc_id, "step": pending[0].name,
                                 "role": pending[0].role}
        elif action == Action.APPROVE and target == State.APPROVED:
            doc = self._on_approve(w, doc)
        elif action == Action.APPROVE and wf is not None:
            rest = [st for st in wf.pending_steps(doc) if st.name not in approvals]
            if rest:
                requested = {"doc_id": doc_id, "step": rest[0].name, "role": rest[0].role}
        elif action == Action.POST:
            doc = self._on_post(w, doc, when)
        elif action == Action.CANCEL:
            doc = self._on_cancel(w, doc, when)
        elif action == Action.REJECT:
            doc = self._on_reject(w, doc)
        elif action == Action.CLOSE:
            doc = self._on_close(w, doc)
        kind = (APPROVAL_STEP_EVENT if action == Action.APPROVE and target == State.SUBMITTED
                else LIFECYCLE_EVENTS[action])
        w.event(kind, _lifecycle_payload(doc, action, before, target, user, comment, step))
        if requested is not None:
            w.event("approval_requested", requested)
        # the clock's time; a posting and the reversal of one: the moment the stock moved
        # (the document's date), which :meth:`_posted_at` and the months read back
        at = (when if action == Action.POST or before == State.POSTED
              else _moment(w.now, "clock.now()"))
        record = ActionRecord(action.value, user.name, at, before.value, target.value,
                              comment, step)
        doc = _evolve(doc, state=target, history=(*doc.history, record),
                      approvals_done=approvals)
        self._save(w, doc)
        return doc

    # -- replenishment ----------------------------------------------------------------------
    def suggest_purchases(self, rules: Sequence[ReplenishmentRule]) -> list[PurchaseSuggestion]:
        """Purchase suggestions from the projected quantity of each rule's item/warehouse
        (a read: low-stock events come from the postings that cross the levels).

        A purchase order counts as on order from its posting; before that (draft,
        submitted, approved) its lines count here as ``pending_orders``: the rule is
        applied to ``projected + pending_orders``, so that asking again after
        :meth:`draft_purchase_orders` does not suggest the same quantity again. The orders
        not posted are read before the balances: an order posted in between is counted
        twice (a smaller suggestion), never missed (a double order). ``rules`` is a list or
        tuple of :class:`ReplenishmentRule` (else ``TypeError`` naming ``rules[i]``); a rule
        naming an unknown item or warehouse refuses the call (``not_found``, ``kind`` and
        ``key`` of the first one, in the order of the rules), with no suggestion for the
        others: a balance of 0 there would suggest a purchase no order can take."""
        check_list_of(rules, ReplenishmentRule, "rules")
        pending = self._unposted_purchases(rules)
        out: list[PurchaseSuggestion] = []
        for rule in rules:
            b = self.jxc.balance(rule.item, rule.warehouse)
            coming = pending.get((rule.item, rule.warehouse), ZERO)
            qty = suggest_quantity(rule, b.projected + coming)
            if qty:
                out.append(PurchaseSuggestion(rule.item, rule.warehouse, rule.supplier,
                                              b.projected, qty, rule.price, coming))
        return out

    def _unposted_purchases(self, rules: Sequence[ReplenishmentRule]
                            ) -> dict[tuple[str, str], Decimal]:
        """Per (item, warehouse), the base quantity of the lines of purchase orders that are
        not posted yet and not cancelled (draft, submitted, approved); first, in the same
        unit of work, the items and warehouses of ``rules`` are checked (an unknown one:
        ``not_found``)."""
        out: dict[tuple[str, str], Decimal] = {}
        with self.jxc.storage.unit_of_work() as uow:
            items: dict[str, Item | None] = {}
            houses: set[str] = set()
            for rule in rules:
                if rule.item not in items:
                    items[rule.item] = uow.master.get_item(rule.item)
                if items[rule.item] is None:
                    raise NotFoundError(kind="item", key=rule.item)
                if rule.warehouse not in houses:
                    if uow.master.get_warehouse(rule.warehouse) is None:
                        raise NotFoundError(kind="warehouse", key=rule.warehouse)
                    houses.add(rule.warehouse)
            for state in (State.DRAFT, State.SUBMITTED, State.APPROVED):
                for doc_id in uow.documents.ids(DocType.PURCHASE_ORDER.value, state.value):
                    data = uow.documents.get(doc_id)
                    if data is None:
                        continue
                    for line in document_from_data(data).lines:
                        if line.item not in items:
                            items[line.item] = uow.master.get_item(line.item)
                        item = items[line.item]
                        if item is None:  # (a draft is checked when made: never)
                            continue
                        key = (line.item, line.warehouse)
                        out[key] = out.get(key, ZERO) + item.to_base(line.quantity, line.unit)
        return out

    def _create_in(self, w: _Work, kind: DocType, lines: Sequence[Line], party: str,
                   day: dt.date, currency: str, user: str, attributes: dict[str, Any],
                   doc_id: str | None) -> Document:
        """A draft inside the unit of work of ``w``: validated, numbered (``doc_id``, else
        the numbering pattern), a taken number refused (``duplicate_key``), saved."""
        digits = self.jxc.digits_of(currency)  # first: an unknown currency writes nothing
        doc = Document(kind, doc_id or "", party, day, currency, tuple(lines), created_by=user,
                       attributes=attributes, digits=digits)
        self._validate(w, doc)
        if kind == DocType.STOCK_COUNT and any(ln.counted is not None for ln in doc.lines):
            doc = self._with_counted_book(w, doc, [ln.line_no for ln in doc.lines
                                                   if ln.counted is not None])
        number = doc_id
        if number is not None and (not number.strip() or number.endswith("-R")):
            # "<id>-R" names the cancellation (红冲) of <id> in the ledger and the journal
            raise JxcError("invalid_document", doc_id=number, field="doc_id",
                           reason="a document number may not be blank or end in -R (the "
                                  "suffix of cancellations)",
                           reason_zh="单号不能为空，也不能以 -R 结尾（红冲单据的后缀）")
        if number is None:
            pattern = self.numbering.get(kind, PREFIXES[kind] + "{yyyyMMdd}-{seq:04}")
            scope = format_number(pattern, day, 0)
            number = format_number(pattern, day, w.uow.sequences.next(f"doc:{scope}"))
            # a number typed by hand (``doc_id``) may hold the next one: skip the numbers taken
            while w.uow.documents.get(number) is not None:
                number = format_number(pattern, day, w.uow.sequences.next(f"doc:{scope}"))
        elif w.uow.documents.get(number) is not None:
            raise JxcError("duplicate_key", table="documents", key=number)
        doc = _evolve(doc, doc_id=number)
        self._save(w, doc)
        w.event(CREATED_EVENT, {"doc_id": number, "doc_type": kind.value, "action": "create",
                                "from": None, "to": State.DRAFT.value, "user": user,
                                "party": party})
        return doc

    def draft_purchase_orders(self, suggestions: Sequence[PurchaseSuggestion], *,
                              user: str = "", tax_rate: Decimal = ZERO,
                              idempotency_key: str | None = None) -> DraftedOrders:
        """One draft purchase order per preferred supplier from the suggestions, in the book
        currency, made as :meth:`create` makes one — all of them in one unit of work: the first
        refusal (a supplier that is unknown or not a supplier, an unknown item or warehouse, a
        bad quantity) refuses them all and writes nothing, with ``supplier`` (the group
        refused) added to the error's data. ``idempotency_key``: the same key with the same
        suggestions (those without a supplier included) returns the first orders without
        making more (other suggestions: ``idempotency_conflict``); a call with a key is kept
        under it even when it drafts no order.

        A suggestion without a supplier (``supplier == ""``: its rule names none) drafts no
        order and refuses nothing: the orders of the others are drafted, and it comes back
        in the result's ``unassigned`` (:class:`DraftedOrders`, a list of the orders made),
        for someone to choose its supplier.

        ``suggestions`` is a list or tuple of :class:`PurchaseSuggestion` (else ``TypeError``
        naming ``suggestions[i]``); ``user`` (who creates the orders, as in :meth:`create`) a
        str, ``tax_rate`` a ``Decimal`` or an int (else ``TypeError``)."""
        check_list_of(suggestions, PurchaseSuggestion, "suggestions")
        check_text(user, "user")
        check_number(tax_rate, "tax_rate")
        unassigned = tuple(without_supplier(suggestions))
        groups = group_by_supplier(s for s in suggestions if s.supplier)
        if not groups and idempotency_key is None:
            return DraftedOrders((), unassigned)
        kind, currency = DocType.PURCHASE_ORDER, self.jxc.book_currency
        orders = [(supplier, tuple(Line(n, s.item, s.quantity, s.price, tax_rate,
                                        warehouse=s.warehouse)
                                   for n, s in enumerate(group, start=1)))
                  for supplier, group in groups.items()]
        keyed = [(supplier, _keyed(lines)) for supplier, lines in orders]
        # the suggestions without a supplier are part of the call: another set of them is
        # a conflict. Versions before 2026-12-15 left them out of the payload (``former``): a
        # key they stored still matches its retry; a payload of four parts never hashes as
        # one of three, so a key stored from now on is compared with the whole call
        payload = (keyed, user, currency, list(unassigned))
        former = (keyed, user, currency)

        def body(w: _Work) -> list[Document]:
            day = w.now.date()
            made = []
            for supplier, lines in orders:
                try:
                    made.append(self._create_in(w, kind, lines, supplier, day, currency, user,
                                                {"origin": "replenishment"}, None))
                except JxcError as exc:
                    exc.data.setdefault("supplier", supplier)
                    raise
            return made

        result: list[Document] = self.jxc._run(
            "draft_purchase_orders", payload, idempotency_key, body,
            _docs_data, _docs_of, former=(former,))
        return DraftedOrders(result, unassigned)

    def _after_sources(self, w: _Work, doc: Document, when: dt.datetime) -> dt.datetime:
        """A return, an invoice or a landed cost posts no earlier than the postings it follows
        (its source receipts or deliveries): dated on their day and entered the next
        morning, the document's date with that morning's time of day came first in the
        ledger, and a return took another receipt's layer (FIFO), or a sales return brought
        units back before they had left."""
        ids = {line.source[0] for line in doc.lines if line.source is not None}
        if doc.doc_type == DocType.LANDED_COST:
            ids.update(r for r in doc.attributes.get("receipts", ()) if isinstance(r, str))
        for src_id in sorted(ids):
            src = self._load(w, src_id)
            at = self._posted_at(src, w.zone)
            if at is None or src.state not in (State.POSTED, State.CLOSED):
                continue
            if (at.utcoffset() is None) != (when.utcoffset() is None) or at <= when:
                continue
            # days of the clock's timezone, as the documents are dated
            day, src_day = w.day_of(when), w.day_of(at)
            if src_day == day:  # its source's day: just after it
                when = at
            elif doc.doc_type in _RETURNS or src.doc_type in _RETURNS:
                # a return, or a red-letter invoice of a return, never before its source
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"it is dated {day}, before its source "
                                      f"{src_id} ({src_day})",
                               reason_zh=f"其日期 {day} 早于来源单据 {src_id}"
                                         f"（{src_day}）")
            # an invoice dated before its receipt (先票后货) posts on its date; a receipt
            # cost it carries is refused there (``backdated_posting``)
        return when

    @classmethod
    def _posted_at(cls, doc: Document, zone: dt.tzinfo | None) -> dt.datetime | None:
        """The moment ``doc``'s stock was posted at (its last ``post`` action), or ``None``.
        ``zone``: the clock's timezone (:attr:`_Work.zone`), whose day the recorded moment (in
        UTC when aware) is set against the document's date."""
        posted = next((r for r in reversed(doc.history) if r.action == Action.POST.value),
                      None)
        return None if posted is None else cls._posting_time(doc, _local(posted.at, zone))

    @staticmethod
    def _posting_time(doc: Document, now: dt.datetime) -> dt.datetime:
        """Stock moves on the document's date (its vouchers carry that date too): dated today
        (or undated) at now, dated another day at that day with ``now``'s time of day; a
        document dated an earlier day goes no earlier than the movements already on that day
        (:meth:`_late_moment`). The rule of ``Jxc.post``'s ``posted_at``: naive or aware as the
        clock's ``now`` is (the time keeps its timezone), and in UTC when aware."""
        if doc.date is None or doc.date == now.date():
            return _moment(now, "clock.now()")
        return _moment(dt.datetime.combine(doc.date, now.timetz()), "date")

    def _late_moment(self, w: _Work, doc: Document, when: dt.datetime) -> dt.datetime:
        """The moment of ``doc``, dated an earlier day than the clock's today and posted (or
        cancelled) at ``when`` (that day with the clock's time of day): just after the last
        movement already on that day of the items it moves or charges, when that is later,
        and never past the day's last moment (23:59:59.999999 of the clock's timezone). A
        document entered after midnight for the day before comes after what it followed, and
        documents entered late for one day follow each other in the order they were posted,
        each at a moment of its own (so that a reversal dated at one of them, such as a
        charge's, sits right after it and before the later ones)."""
        if doc.date is None or doc.date >= w.day_of(w.now):
            return when
        if doc.doc_type in (DocType.PURCHASE_ORDER, DocType.SALES_ORDER):
            return when  # no stock of their own
        items = {line.item for line in doc.lines}
        if doc.doc_type == DocType.LANDED_COST:  # its lines are charges: the receipts' items
            items = {line.item for rid in doc.attributes.get("receipts", ())
                     if isinstance(rid, str) for line in self._load(w, rid).lines}
        end = w.day_end(doc.date)
        last: dt.datetime | None = None
        for item in sorted(items):
            for e in w.uow.ledger.after(item, None, when - _TICK, 1 << 62):
                if e.posted_at > end:
                    break
                if last is None or e.posted_at > last:
                    last = e.posted_at
        if last is None or last < when:
            return when
        return min(last + _TICK, end)

    # -- stock count sheets -----------------------------------------------------------------
    def count_sheet(self, doc_id: str, *, blind: bool = True) -> list[dict[str, Any]]:
        """The count sheet (盘点表): per line where to count (item, warehouse, location, lot)
        and what was counted; a blind one does not show the book quantity. A line of a
        serial-tracked item adds ``serials``, those counted; not blind, also
        ``book_serials``, those on hand in the warehouse now (:meth:`Jxc.serials_in`).
        ``blind`` is a bool (else ``TypeError``)."""
        check_bool(blind, "blind")
        doc = self.get(doc_id)
        book = doc.attributes.get("book", {})
        out = []
        for line in doc.lines:
            item = self.jxc.item(line.item)
            base_unit = item.base_unit
            row: dict[str, Any] = {"line_no": line.line_no, "item": line.item,
                                   "warehouse": line.warehouse, "location": line.location,
                                   "lot": line.lot, "counted": line.counted,
                                   "unit": line.unit or base_unit}
            if item.serial_tracked:
                row["serials"] = line.serials
            if not blind:  # in the item's base unit
                row["book"] = Decimal(book.get(str(line.line_no), "0"))
                row["book_unit"] = base_unit
                if item.serial_tracked:
                    row["book_serials"] = self.jxc.serials_in(line.item, line.warehouse)
            out.append(row)
        return out

    def record_count(self, doc_id: str, counted: Mapping[int, Decimal],
                     idempotency_key: str | None = None, *,
                     serials: Mapping[int, Sequence[str]] | None = None) -> Document:
        """Enter counted quantities (by line number) while the count is open (submitted). A
        number that is not a line of the count is refused (``not_found``, kind ``line``, key
        ``doc_id/line_no``), writing nothing.

        A line of a serial-tracked item is entered with the serial numbers counted,
        ``serials={line_no: [...]}`` (a list or tuple of texts; they replace those entered
        before): one per base unit of its counted quantity (``serial_count``), none twice on
        the count (``duplicate_serial``), none on hand in another warehouse
        (``serial_on_hand``, naming the serial and where it is: transfer it, do not count it
        twice). Serials for a line not entered now, or of an item that is not serial-tracked,
        are ``invalid_document``. Any refusal enters nothing."""
        check_text(doc_id, "doc_id")
        if not isinstance(counted, Mapping):
            raise TypeError(f"counted must be a mapping of line number to quantity, got "
                            f"{type(counted).__name__} {counted!r}")
        for n, q in counted.items():
            if type(n) is not int:
                raise TypeError(f"counted: line numbers are int, got {type(n).__name__} {n!r}")
            check_number(q, f"counted[{n}]")
        if serials is not None and not isinstance(serials, Mapping):
            raise TypeError(f"serials must be a mapping of line number to serial numbers, got "
                            f"{type(serials).__name__} {serials!r}")
        given = {} if serials is None else dict(serials)
        # numbers by value (as every command's fingerprint): 5 and 5.0 are one count
        payload: tuple[Any, ...] = (doc_id, sorted(counted.items()))
        if given:  # (the payload of a call without serials is as it was before they existed)
            payload += (sorted((k, list(check_texts(v, f"serials[{k}]")))
                               for k, v in given.items()),)

        def body(w: _Work) -> Document:
            doc = self._load(w, doc_id)
            if doc.doc_type != DocType.STOCK_COUNT or doc.state != State.SUBMITTED:
                raise JxcError("invalid_transition", state=doc.state.value, action="count")
            numbers = {line.line_no for line in doc.lines}
            for n in [*counted, *given]:
                if n not in numbers:
                    raise NotFoundError(kind="line", key=f"{doc_id}/{n}")
            for n in given:
                if n not in counted:
                    raise JxcError("invalid_document", doc_id=doc_id,
                                   reason=f"line {n}: serial numbers are entered with the "
                                          "counted quantity of their line",
                                   reason_zh=f"第 {n} 行：序列号须与该行的实盘数量一同录入")
            lines = []
            for line in doc.lines:
                if line.line_no in counted:
                    q = check_number(counted[line.line_no], "counted")
                    if q < 0:
                        raise JxcError("invalid_quantity", field="counted", value=q,
                                       reason="a counted quantity is zero or more",
                                       reason_zh="实盘数量须大于或等于零")
                    # exact in base units now: refused at posting, the count would be stuck
                    # (approved, no longer open to a corrected figure) with its stock held
                    item = w.item(line.item)
                    item.to_base(q, line.unit)
                    listed = check_texts(given.get(line.line_no, ()),
                                         f"serials[{line.line_no}]")
                    line = attrs.evolve(line, counted=q, serials=listed)
                    if listed or item.serial_tracked:
                        line.check()  # none blank, none twice
                        _check_line_serials(doc, line, item)
                lines.append(line)
            doc = _evolve(doc, lines=tuple(lines))
            if any(line.serials for line in doc.lines):
                _check_serials_once(doc)
            doc = self._with_counted_book(w, doc, list(counted))
            self._save(w, doc)
            return doc

        return self._run("record_count", payload, idempotency_key, body)

    @classmethod
    def _with_counted_book(cls, w: _Work, doc: Document, numbers: Sequence[int]) -> Document:
        """``doc`` with the book quantity of lines ``numbers`` as it stands now, when their
        counted figures are entered (``attributes["counted_book"]``, base units): the variance
        posted is counted - that, so that what moves after the count (a delivery of reserved
        units, an issue of units a lapsed reservation freed, a receipt) is not taken for a
        gain or a loss."""
        book = dict(doc.attributes.get("counted_book", {}))
        # a serial-tracked line: the serial numbers on hand then too (``book_serials``): the
        # units it gained and lost are those counted but not on hand then, and the reverse
        serial_book = dict(doc.attributes.get("book_serials", {}))
        # with the last ledger entry and the moment: an entry made later but dated before
        # the figure (补录, a late receipt) belongs to the book it is compared with
        last = w.uow.sequences.next("ledger", 0) - 1
        at = _moment(w.now, "clock.now()").isoformat()
        for n in numbers:
            line = doc.line(n)
            on_hand = cls._count_on_hand(w, line)
            book[str(n)] = [str(on_hand), last, at]
            if w.item(line.item).serial_tracked:
                here = cls._serials_here(w, doc, line, on_hand)
                cls._serials_elsewhere(w, line, here)
                serial_book[str(n)] = here
        attributes = {**doc.attributes, "counted_book": book}
        if serial_book:
            attributes["book_serials"] = serial_book
        return _evolve(doc, attributes=attributes)

    @staticmethod
    def _serials_here(w: _Work, doc: Document, line: Line, on_hand: Decimal) -> list[str]:
        """The serial numbers on hand in the warehouse that the serial-tracked count line
        ``line`` counts (sorted), which must be as many as its book quantity ``on_hand``: a
        unit posted before the item was serial-tracked has none, and a count of serial numbers
        could not say which unit it is (``invalid_document``)."""
        here = w.uow.serials.in_warehouse(line.item, line.warehouse)
        if len(here) != on_hand:
            n = line.line_no
            raise JxcError("invalid_document", doc_id=doc.doc_id,
                           reason=f"line {n}: {line.warehouse} holds {on_hand} of {line.item} "
                                  f"on the books but {len(here)} serial numbers (units posted "
                                  "before the item was serial-tracked have none): a count of "
                                  "serial numbers cannot say which units those are",
                           reason_zh=f"第 {n} 行：{line.warehouse} 账面有 {on_hand} 个 "
                                     f"{line.item}，但只有 {len(here)} 个序列号（该存货启用序"
                                     f"列号管理之前过账的货品没有序列号）：按序列号盘点无法确定"
                                     f"是哪些货品")
        return here

    @staticmethod
    def _serials_elsewhere(w: _Work, line: Line, here: Sequence[str]) -> None:
        """A serial counted by ``line`` that is on hand in another warehouse is refused
        (``serial_on_hand``, naming it and where it is): counted here too, it would be on hand
        twice; the user transfers it. ``here``: the serials on hand in the line's warehouse
        (not looked up one by one)."""
        known = set(here)
        for serial in line.serials:
            if serial in known:
                continue
            where = w.uow.serials.where(line.item, serial)
            if where is not None and where != line.warehouse:
                raise JxcError("serial_on_hand", item=line.item, serial=serial,
                               warehouse=where, line=line.line_no)

    @staticmethod
    def _entered_book(w: _Work, line: Line, entered: Any) -> Decimal:
        """The book quantity of count line ``line`` when its figure was entered
        (``counted_book``: ``[book, last entry_no, moment]``): the book then, plus the
        entries made since but dated at or before that moment (back-dated ones)."""
        if not isinstance(entered, list):  # the book alone (kept so on 2026-12-05)
            return Decimal(entered)
        book, last, at = entered
        late = sum((e.quantity for e in w.uow.ledger.entries(
            line.item, line.warehouse, until=dt.datetime.fromisoformat(at))
            if e.entry_no > last and (not line.lot or e.lot == line.lot)
            and (not line.location or e.location == line.location)), ZERO)
        return Decimal(book) + late

    # -- effects of the actions -------------------------------------------------------------
    def _on_submit(self, w: _Work, doc: Document) -> Document:
        if doc.doc_type != DocType.STOCK_COUNT:
            return doc
        if doc.attributes.get("held"):  # a draft that still holds stock (rejected before
            # rejecting released it): let go of that freeze first, so that the count holds
            # exactly what it freezes now
            doc = self._release_count(w, doc)
        self._check_open_counts(w, doc)
        # start of a count: freeze what is available of each counted balance (held), and
        # what is free in the expired lots it counts (nothing moves them during the count)
        book: dict[str, str] = {}
        held: dict[str, Any] = {}
        for line in doc.lines:
            book[str(line.line_no)] = str(self._count_on_hand(w, line))
            if line.location:
                rows = self._freeze_rows(w, line, self._count_rows(w, line))
                if rows:
                    held[str(line.line_no)] = rows
                continue
            free = self.jxc._available(w, line.item, line.warehouse, line.lot)
            if free > 0:
                self.jxc._hold(w, line.item, line.warehouse, free, line.lot, count=True)
            stale = self._freeze_rows(w, line, self._count_rows(w, line, expired_only=True))
            if stale:  # rows: the usable part (if any) on the line's own row, as before
                usable = [["", line.lot, str(free)]] if free > 0 else []
                held[str(line.line_no)] = usable + stale
            elif free > 0:
                held[str(line.line_no)] = str(free)
        return _evolve(doc, attributes={**doc.attributes, "book": book, "held": held})

    def _check_open_counts(self, w: _Work, doc: Document) -> None:
        """A count starts only on stock that no other open count (submitted or approved)
        counts, else ``count_overlap``: the second one froze nothing (the first held it all)
        and both posted their variance (on hand 10, both counted 8: on hand 6)."""
        for state in (State.SUBMITTED, State.APPROVED):
            for other_id in w.uow.documents.ids(DocType.STOCK_COUNT.value, state.value):
                if other_id == doc.doc_id:
                    continue
                other = self._load(w, other_id)
                for line in doc.lines:
                    for theirs in other.lines:
                        if _overlap(line, theirs):
                            raise JxcError("count_overlap", doc_id=doc.doc_id,
                                           line=line.line_no, other=other_id,
                                           first=theirs.line_no, item=line.item,
                                           warehouse=line.warehouse, lot=line.lot,
                                           location=line.location)

    @staticmethod
    def _count_rows(w: _Work, line: Line, expired_only: bool = False) -> list[Balance]:
        """The rows with stock that count line ``line`` counts (:func:`_counts`), first
        expired first out, expired lots included (they come first: they expired first);
        ``expired_only``: the rows of expired lots only."""
        rows = [b for b in w.group(line.item, line.warehouse).values() if _counts(line, b)]
        lots = w.lots_of(line.item, rows)
        today = w.now.date()
        return [b for b in fefo_order(rows, lots, today, expired=True)
                if not expired_only or (b.lot and not lot_usable(lots.get(b.lot), today))]

    def _freeze_rows(self, w: _Work, line: Line, rows: Sequence[Balance]
                     ) -> list[list[str]]:
        """Freeze what is free of each of ``rows`` (rows a count line counts): on each its
        on hand - held, no more than is free in its lot in the warehouse — of a usable lot
        what the warehouse has available of it (reservations are per warehouse and lot, not
        per location), of an expired lot its stock less the holds and reservations naming it.
        Returns the rows held: ``[location, lot, quantity]``."""
        held: list[list[str]] = []
        for b in rows:
            free = min(b.on_hand - b.held,
                       self.jxc._lot_free(w, line.item, line.warehouse, b.lot))
            if free > 0:
                self.jxc._hold(w, line.item, line.warehouse, free, b.lot, b.location,
                               expired=True, count=True)
                held.append([b.location, b.lot, str(free)])
        return held

    def _release_count(self, w: _Work, doc: Document) -> Document:
        """Let go of the freeze of a stock count: exactly what ``attributes["held"]`` says
        it holds (posting, cancelling and rejecting it; submitting a draft that still holds
        some); ``held`` is then empty. Per line, ``held`` is either a quantity, held on the
        row of the line's lot without a location (a line without a location that froze no
        expired lot, and every such line of a count submitted before expired lots were
        frozen), or the rows held, ``[location, lot, quantity]`` (a line with a location; a
        line without one that froze expired lots: its usable part on the row of its lot
        without a location, then the rows of the expired lots)."""
        for n, q in doc.attributes.get("held", {}).items():
            line = doc.line(int(n))
            if isinstance(q, list):
                for location, lot, part in q:
                    self.jxc._hold(w, line.item, line.warehouse, -Decimal(part), lot, location,
                                   count=True)
            else:
                self.jxc._hold(w, line.item, line.warehouse, -Decimal(q), line.lot, count=True)
        return _evolve(doc, attributes={**doc.attributes, "held": {}})

    def _on_reject(self, w: _Work, doc: Document) -> Document:
        """A stock count sent back to draft is no longer open: its freeze is released (a new
        submit freezes again)."""
        if doc.doc_type != DocType.STOCK_COUNT:
            return doc
        return self._release_count(w, doc)

    def _on_approve(self, w: _Work, doc: Document) -> Document:
        """An approved sales order reserves its lines (``reserve_on_approve``), else checks
        them. Its short lines are kept in ``attributes["short"]`` and reported by one
        ``reservation_short`` event that names the order: ``doc_id``, ``doc_type`` and, per
        short line, ``line_no`` (a text) and ``demand`` (``"{doc_id}/{line_no}"``, the
        demand its reservations carry) besides item, warehouse, lot, wanted, available and
        short (base units)."""
        if doc.doc_type != DocType.SALES_ORDER:
            return doc
        lines = [ReserveLine(f"{doc.doc_id}/{line.line_no}", line.item, line.warehouse,
                             line.quantity, line.lot, line.unit) for line in doc.lines]
        short: list[dict[str, str]] = []
        mark = len(w.events)
        if self.reserve_on_approve:
            try:
                found = self.jxc._reserve(w, lines, self.reserve_partial, None).short
            except ReservationShortError as exc:  # all or nothing: nothing reserved
                found = exc.short_lines
                w.event("reservation_short", {})  # named below, as the partial one
        else:  # checked as reserve would find them: later lines after the earlier ones
            found = tuple(self.jxc._short(w, lines)[1])
            if found:
                w.event("reservation_short", {})
        line_of = {rl.demand: line.line_no for rl, line in zip(lines, doc.lines, strict=True)}
        for s in found:  # each short line names its demand: the order's line
            assert s.demand is not None
            short.append({**s.to_data(), "line_no": str(line_of[s.demand])})
        # the stock service's own event does not know the order: name it there
        for n in range(mark, len(w.events)):
            if w.events[n].type == "reservation_short":
                w.events[n] = attrs.evolve(w.events[n], payload=self._short_payload(
                    doc, short))
        return _evolve(doc, attributes={**doc.attributes, "short": short})

    @staticmethod
    def _short_payload(doc: Document, short: list[dict[str, str]]) -> dict[str, Any]:
        return {"doc_id": doc.doc_id, "doc_type": doc.doc_type.value, "lines": short}

    def _on_close(self, w: _Work, doc: Document) -> Document:
        if doc.doc_type in (DocType.PURCHASE_ORDER, DocType.SALES_ORDER):
            self._order_effect(w, doc, -1, remaining_only=True)
        return doc

    @staticmethod
    def _count_on_hand(w: _Work, line: Line) -> Decimal:
        """The on hand a count line counts (:func:`_counts`): its book quantity."""
        return sum((b.on_hand for b in w.group(line.item, line.warehouse).values()
                    if _counts(line, b)), ZERO)

    def _order_effect(self, w: _Work, doc: Document, sign: int,
                      remaining_only: bool = False) -> None:
        """On order (purchase) or demand (sales) of an order's open lines."""
        field = "on_order" if doc.doc_type == DocType.PURCHASE_ORDER else "demand"
        done_name = "received" if field == "on_order" else "delivered"
        for line in doc.lines:
            item = w.item(line.item)
            qty = item.to_base(line.quantity, line.unit)
            if remaining_only:
                qty = _open(qty, doc.counter(line.line_no, done_name)
                            - doc.counter(line.line_no, "returned"))
            self._move_open(w, line.item, doc, line.line_no, field, sign * qty)
        if doc.doc_type == DocType.SALES_ORDER and sign < 0:
            for line in doc.lines:
                self.jxc._release(w, f"{doc.doc_id}/{line.line_no}")

    # posting ------------------------------------------------------------------------------
    def _on_post(self, w: _Work, doc: Document, when: dt.datetime) -> Document:
        kind = doc.doc_type
        if kind in (DocType.PURCHASE_ORDER, DocType.SALES_ORDER):
            self._order_effect(w, doc, +1)
            counters = {line.line_no: {"ordered": w.item(line.item).to_base(
                line.quantity, line.unit)} for line in doc.lines}
            return _evolve(doc, counters=counters)
        self._check_book_currency(doc)  # a draft stored before the rule
        _refuse_posted(w, doc.doc_id)
        rate = self._rate(doc, doc.date or w.day_of(when))
        doc = _evolve(doc, attributes={**doc.attributes, "rate": str(rate)})
        book = self._book(w, doc, +1, when)
        doc = self._post_rules(w, doc, when, book, reverse=False)
        w.uow.journal.append(book.check())
        return doc

    def _on_cancel(self, w: _Work, doc: Document, when: dt.datetime) -> Document:
        kind = doc.doc_type
        if doc.state != State.POSTED:
            if kind in (DocType.SALES_ORDER, DocType.TRANSFER):  # demands: let go of theirs
                for line in doc.lines:
                    self.jxc._release(w, f"{doc.doc_id}/{line.line_no}")
            if kind == DocType.STOCK_COUNT:
                doc = self._release_count(w, doc)
            return doc
        if kind in (DocType.PURCHASE_ORDER, DocType.SALES_ORDER):
            done = "received" if kind == DocType.PURCHASE_ORDER else "delivered"
            done_zh = "入库" if kind == DocType.PURCHASE_ORDER else "发货"
            if any(doc.counter(line.line_no, done) for line in doc.lines):
                raise JxcError("reversal_impossible", doc_id=doc.doc_id,
                               reason=f"it has been {done} in part: close it instead",
                               reason_zh=f"它已部分{done_zh}：请改为关闭")
            self._order_effect(w, doc, -1)
            return doc
        if kind in (DocType.PURCHASE_RECEIPT, DocType.DELIVERY) and any(
                v for counters in doc.counters.values()
                for k, v in counters.items() if k in ("returned", "invoiced", "landed")):
            raise JxcError("reversal_impossible", doc_id=doc.doc_id,
                           reason="later documents (returns, invoices, landed costs) refer to "
                                  "it: cancel them first",
                           reason_zh="有后续单据（退货、发票、到岸成本）引用它：请先红冲它"
                                     "们")
        if kind in _RETURNS and any(doc.counter(line.line_no, _CREDITED)
                                    for line in doc.lines):
            raise JxcError("reversal_impossible", doc_id=doc.doc_id,
                           reason="red-letter invoices credit the invoiced units it took "
                                  "back: cancel them first",
                           reason_zh="已有红字发票冲销其退回的已开票数量：请先红冲这些红字"
                                     "发票")
        if kind in (DocType.PURCHASE_INVOICE, DocType.SALES_INVOICE, DocType.LANDED_COST):
            # an open item (a landed cost is one on payables): cancelled with settlements
            # standing, it would leave a negative open item that blocks the party's others
            found = w.uow.records.get(SETTLED, doc.doc_id)
            if found and Decimal(found["amount"]):
                raise JxcError("reversal_impossible", doc_id=doc.doc_id,
                               reason=f"settlements clear {found['amount']} of it: cancel them "
                                      "first (Accounting.cancel_settlement)",
                               reason_zh=f"已有核销冲抵其中 {found['amount']}：请先取消核销"
                                         f"（Accounting.cancel_settlement）")
        _refuse_posted(w, self._doc_ref(doc, True))
        if kind in (DocType.LANDED_COST, DocType.PURCHASE_INVOICE):
            # a receipt cost (a landed cost, an invoice's price difference) is taken back at
            # the moment it was charged: split there as it was split, and taken out of every
            # later movement it flowed into (deliveries, supplier returns, transfers)
            charged = self._charged_at(w, doc)
            if charged is not None:
                self._check_charge_open(w, doc, charged)
                when = charged
        book = self._book(w, doc, -1, when)
        try:
            doc = self._post_rules(w, doc, when, book, reverse=True)
        except JxcError as err:
            if err.code in _SERIAL_CODES:  # the serials are not where the posting left them
                raise _serials_moved_on(doc, err) from err
            raise
        w.uow.journal.append(book.check())
        return doc

    def _charged_at(self, w: _Work, doc: Document) -> dt.datetime | None:
        """The moment the receipt costs of a posted landed cost or purchase invoice were
        applied (the ``posted_at`` of their ``landed_cost`` ledger entries: a document's lines
        share one), or ``None`` when it applied none (an invoice at the price received, a
        red-letter invoice). Read from the ledger of the first scope it charged, from the
        document's posting on: followers post no earlier than their sources
        (:meth:`_after_sources`), so not before it."""
        targets: list[tuple[str, int | None]]
        if doc.doc_type == DocType.LANDED_COST:
            targets = [(rid, None) for rid in doc.attributes.get("receipts", ())]
        elif self._credit_note(w, doc):
            return None
        else:
            targets = [line.source for line in doc.lines if line.source is not None]
        posted = self._posted_at(doc, w.zone)
        since = None if posted is None else posted - dt.timedelta(seconds=1)
        seen: set[tuple[str, str]] = set()
        for rid, n in targets:
            for line in self._load(w, rid).lines:
                if (n is not None and line.line_no != n) or (line.item, line.warehouse) in seen:
                    continue
                seen.add((line.item, line.warehouse))
                found = self._charge_entry(w, doc, line.item, line.warehouse, since)
                if found is not None:
                    return found.posted_at
        return None

    @staticmethod
    def _charge_entry(w: _Work, doc: Document, item: str, warehouse: str,
                      since: dt.datetime | None, line_no: int | None = None
                      ) -> LedgerEntry | None:
        """The first ``landed_cost`` ledger entry of ``doc`` (of its line ``line_no``) in
        the scope, posted after ``since``."""
        for e in w.uow.ledger.after(item, warehouse, since):
            if (e.kind == "landed_cost" and e.doc_id == doc.doc_id
                    and e.doc_type == doc.doc_type.value
                    and (line_no is None or e.line_no == line_no)):
                return e
        return None

    def _charged_received(self, w: _Work, doc: Document, line: Line, src_line: Line,
                          charged: dt.datetime, now: Decimal) -> Decimal:
        """The units of the receipt line that invoice line ``line`` split its price
        difference on when it was posted at ``charged`` (received less returned then, kept
        with the receipt cost); ``now``, what they are now, when that is not recorded. Split
        on what they are at the cancellation, the on-hand share of a receipt that supplier
        returns took units from since is not the charge's."""
        e = self._charge_entry(w, doc, src_line.item, src_line.warehouse,
                               charged - dt.timedelta(microseconds=1), line.line_no)
        found = None if e is None else w.uow.records.get(_RECEIPT_COST, str(e.entry_no))
        if found is None or found.get("received") is None:
            return now
        return Decimal(found["received"])

    def _check_charge_open(self, w: _Work, doc: Document, charged: dt.datetime) -> None:
        """A receipt cost is cancelled at the moment it was charged: in a closed period that
        is refused (``period_closed``, with a reason), as the cancellation of any document
        dated there is: its books cannot change, and a reversal of today would not mirror
        the charge once the units moved."""
        try:
            w.check_open(charged)
        except JxcError as err:
            if err.code != "period_closed":
                raise
            raise type(err)(
                **err.data,
                reason=f"{doc.doc_id} charged its receipt costs in that period: its reversal "
                       "goes there too; reopen the period to cancel it",
                reason_zh=f"{doc.doc_id} 的入库成本计入该期间，红冲也须记入该期间：请先反结账"
                          "再红冲") from err

    def _book(self, w: _Work, doc: Document, sign: int, when: dt.datetime) -> _Book:
        day = doc.date or w.day_of(when)  # undated: the day of the clock's timezone
        rate = Decimal(doc.attributes.get("rate", "1"))
        return _Book(doc, sign, day, self.jxc.book_currency, rate, self.jxc.currency_digits)

    def _rate(self, doc: Document, day: dt.date) -> Decimal:
        """Book-currency units per unit of the document's currency (through the rates port)."""
        if doc.currency == self.jxc.book_currency:
            return Decimal(1)
        if self.jxc.rates is None:
            raise JxcError("configuration",
                           reason=f"{doc.doc_id} is in {doc.currency}: no exchange rates given",
                           reason_zh=f"{doc.doc_id} 的币种是 {doc.currency}：未提供汇率")
        rate = check_number(self.jxc.rates.rate(doc.currency, self.jxc.book_currency, day),
                            "rate")
        if rate <= 0:
            raise JxcError("configuration", reason=f"rate {rate} for {doc.currency}",
                           reason_zh=f"{doc.currency} 的汇率 {rate} 无效")
        return rate

    def _book_amount(self, doc: Document, amount: Decimal) -> Decimal:
        """``amount`` of the document's currency in the book currency: at the document's rate,
        rounded at the book currency's digits."""
        rate = doc.attributes.get("rate", "1")
        return round_money(amount if rate == "1" else amount * Decimal(rate),
                           self.jxc.currency_digits)

    def _post_rules(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                    reverse: bool) -> Document:
        kind = doc.doc_type
        handler = {
            DocType.PURCHASE_RECEIPT: self._purchase_receipt,
            DocType.PURCHASE_RETURN: self._purchase_return,
            DocType.PURCHASE_INVOICE: self._purchase_invoice,
            DocType.DELIVERY: self._delivery,
            DocType.SALES_RETURN: self._sales_return,
            DocType.SALES_INVOICE: self._sales_invoice,
            DocType.TRANSFER: self._transfer,
            DocType.STOCK_COUNT: self._stock_count,
            DocType.ADJUSTMENT: self._adjustment,
            DocType.LANDED_COST: self._landed_cost,
        }[kind]
        return handler(w, doc, when, book, reverse)

    # helpers for the handlers
    def _doc_ref(self, doc: Document, reverse: bool) -> str:
        return f"{doc.doc_id}-R" if reverse else doc.doc_id

    def _stock(self, w: _Work, doc: Document, lines: list[StockLine], when: dt.datetime,
               reverse: bool, book: _Book | None = None,
               posted: list[LedgerEntry] | None = None,
               returned_at: dt.datetime | None = None) -> dict[int, Decimal]:
        """Post stock lines; returns the signed value per document line (and adds the
        posting's ledger entries to ``posted``, when given). ``returned_at``: a customer
        return, the earliest posting moment of the deliveries it takes back (``Jxc._post``)."""
        if not lines:
            return {}
        lines = _with_serials(doc, lines)
        if reverse and len({line.line_no for line in lines}) > 1:
            # a cancellation undoes the document's lines last first, the mirror of the
            # posting: a later line's shortage is closed before an earlier line's units go
            # back into the layers they took (else they filled it, and those layers stayed
            # empty). The stock lines of one document line keep their order.
            # Under specific identification a lot never goes short (no shortage to close):
            # the lines that bring units back into a lot go first, so that a line in's
            # reversal finds the units the document's own lines out took (an adjustment that
            # took 1 of a lot and brought 2 back, the receipt of the lot cancelled out of
            # turn: only the net 1 is left; by organisation, a warehouse that had none)
            order = {n: k for k, n in enumerate(dict.fromkeys(
                line.line_no for line in reversed(lines)))}
            lots = {code for code in {line.item for line in lines}
                    if w.item(code).costing_method == "specific_lot"}
            lines = sorted(lines, key=lambda line: (
                line.direction != IN or line.item not in lots, order[line.line_no]))
        posting = self.jxc._post(w, doc.doc_type.value, self._doc_ref(doc, reverse), lines,
                                 when,
                                 issued_at=self._posted_at(doc, w.zone) if reverse else None,
                                 reverses=doc.doc_id if reverse else None,
                                 returned_at=returned_at)
        if posted is not None:
            posted.extend(posting.entries)
        if book is not None:
            self._book_cost_entries(w, book, posting.entries)
        values: dict[int, Decimal] = {}
        for e in posting.entries:
            if e.quantity and e.kind != "transfer_in":
                values[e.line_no] = values.get(e.line_no, ZERO) + e.value
        return values

    def _book_cost_entries(self, w: _Work, book: _Book, entries: Sequence[LedgerEntry]
                           ) -> None:
        """Costs booked after the fact by this posting (a receipt settling an earlier shortage,
        a back-dated movement re-valuing later issues) reach cost of goods sold; the part of
        a re-valued transfer still on hand where it arrived, or of a charge sent on to where
        transferred units are (a ``landed_cost`` entry after the posting's own), comes back
        from it into that warehouse's stock. A back-dating correction
        of an issue that booked its cost elsewhere goes where that issue booked it
        (:meth:`_correction_role`): else the issue and its cancellation no longer net to
        zero by role.

        Each pair of rows carries the date of its ledger entry (a back-dating correction is
        dated at the scope's latest movement, a re-valued transfer's cost at its arrival), so
        that 1405 equals the stock valuation on every day: dated with the posting, a receipt
        back-dated into November booked in November the extra cost of a December delivery.
        Rows of another date than the posting's make a voucher of their own
        (``Accounting.generate_vouchers`` groups a posting's rows by date)."""
        for e in entries:
            if e.value and e.kind in ("cost_settlement", "cost_backdating", "landed_cost"):
                moment = w.day_of(e.posted_at)  # the day of the clock's timezone
                day: dt.date | None = None if moment == book.day else moment
                book.add(None, self._correction_role(w, e), -e.value, debit=True,
                         warehouse=e.warehouse, item=e.item, as_is=True, day=day)
                book.add(None, "inventory", -e.value, debit=False, warehouse=e.warehouse,
                         item=e.item, as_is=True, day=day)

    def _correction_role(self, w: _Work, e: LedgerEntry) -> str:
        """The role taking the change of the cost of the issue a ``cost_backdating`` entry
        re-values, or a ``cost_settlement`` entry settles (a receipt's cancellation or a
        supplier return that went short: price difference, as for its back-dating; of an
        adjustment or a count, its counter role, as below; any other settlement: ``cogs``):
        the role that issue booked its stock value against. A receipt's
        cancellation and a supplier return book the difference between the stock value and
        the supplier's amount to ``price_difference`` (``material_variance`` under standard
        cost); an adjustment or count line (out, or the cancellation of one in) books its
        counter role at the value it moved, but under moving average and standard cost, where
        a cancellation undoes the counter role at what it booked and the rest is ``cogs`` /
        a variance. Anything else (a delivery, a transfer, a shortage settlement):
        ``cogs``. Without this a receipt of a lot cancelled before a later receipt of the
        same lot re-valued that one's cancellation to cost of goods sold while its price
        difference stayed as booked: the two roles were left off by the same amount."""
        if e.kind not in ("cost_backdating", "cost_settlement"):
            return "cogs"
        method = w.item(e.item).costing_method
        if e.doc_type in (DocType.PURCHASE_RECEIPT.value, DocType.PURCHASE_RETURN.value):
            return "material_variance" if method == "standard" else "price_difference"
        if method in ("standard", "moving_average"):
            return "cogs"
        if e.doc_type == DocType.STOCK_COUNT.value:
            return "count_gain_loss"
        if e.doc_type == DocType.ADJUSTMENT.value:
            doc = self._load(w, e.doc_id.removesuffix("-R"))
            return str(doc.attributes.get("account_role", "adjustment"))
        return "cogs"

    @staticmethod
    def _posted_source(doc: Document, line: Line, src: Document, *,
                       same_currency: bool = True) -> None:
        """The source of ``line`` is posted and in the document's currency (checked again
        when posting: a draft may have been stored before the currency rule; a reversal
        takes back what was posted as it was). A receipt or delivery closed by an earlier
        version, which closed any posted document, counts as posted: its units can still be
        invoiced or returned (a closed order takes nothing more)."""
        if src.state != State.POSTED and not _closed_before(src):
            raise JxcError("invalid_document", doc_id=doc.doc_id,
                           reason=f"{src.doc_id} is {src.state.value}, not posted",
                           reason_zh=f"{src.doc_id} 的状态是 {src.state.value}，未过账")
        if same_currency:
            Documents._same_currency(doc, line, src)

    @staticmethod
    def _same_currency(doc: Document, line: Line, src: Document) -> None:
        """A document made from another is in its currency: its party amounts (GRNI cleared,
        a return's supplier value, an invoice's quantities of the delivery) are the source's
        amounts, and a journal row has one currency."""
        if src.currency != doc.currency:
            raise JxcError("currency_mismatch", doc=doc.doc_id, line=line.line_no,
                           source=src.doc_id, currency=doc.currency,
                           source_currency=src.currency)

    def _check_book_currency(self, doc: Document) -> None:
        """Internal stock documents (adjustment, stock count, transfer) have no counterparty:
        they are in the book currency, their prices book-currency unit costs."""
        book = self.jxc.book_currency
        if doc.doc_type in _INTERNAL_DOCS and doc.currency != book:
            raise JxcError("book_currency_required", doc=doc.doc_id,
                           doc_type=doc.doc_type.value, currency=doc.currency,
                           book_currency=book)

    def _bump(self, w: _Work, doc_id: str, line_no: int, counts: Mapping[str, Decimal],
              cache: dict[str, Document]) -> Document:
        src = cache.get(doc_id) or self._load(w, doc_id)
        # a loaded document's counters are this unit of work's own copy (see _load): counted
        # in place, saved by _flush
        row = src.counters.setdefault(line_no, {})
        for name, q in counts.items():
            row[name] = row.get(name, ZERO) + q
        cache[doc_id] = src
        return src

    def _fulfil(self, w: _Work, doc: Document, line: Line, q: Decimal, sign: int,
                reverse: bool, cache: dict[str, Document], done: str, field: str,
                kind: str) -> Decimal:
        """A receipt or delivery line against its (posted) order line: refuse more than the
        tolerance allows, count it, and move on order / demand by the change of the line's
        open quantity. Returns what it took off on order / demand."""
        assert line.source is not None
        order = cache.get(line.source[0]) or self._load(w, line.source[0])
        cache[order.doc_id] = order
        n = line.source[1]
        if reverse and order.state == State.CLOSED:
            # the reversal of a receipt or delivery of an order closed since: counted back, the
            # order stays closed (its open remainder left on order / demand at the close)
            self._bump(w, order.doc_id, n, {done: -q}, cache)
            return ZERO
        self._posted_source(doc, line, order, same_currency=not reverse)
        ordered = order.counter(n, "ordered")
        before = order.counter(n, done) - order.counter(n, "returned")
        if not reverse:
            self._check_tolerance(order, n, before, q, kind)
        self._bump(w, order.doc_id, n, {done: sign * q}, cache)
        change = _open(ordered, before + sign * q) - _open(ordered, before)
        self._move_open(w, line.item, order, n, field, change)
        return -change

    def _check_tolerance(self, order: Document, n: int, before: Decimal, q: Decimal,
                         kind: str) -> None:
        """``q`` more units received / delivered against order line ``n`` (``before`` of them
        net of returns so far) stay within ``ordered x (1 + tolerance)``, else
        ``over_receipt`` (``open``: what the line still takes within the ordered quantity,
        never below 0)."""
        ordered = order.counter(n, "ordered")
        if before + q > ordered * (1 + self.tolerance):
            raise JxcError("over_receipt", order=order.doc_id, line=n, kind=kind,
                           quantity=q, open=_open(ordered, before), tolerance=self.tolerance)

    def _reopen(self, w: _Work, src_line: Line, q: Decimal, sign: int,
                cache: dict[str, Document], done: str, field: str,
                q_inv: Decimal = ZERO) -> None:
        """A return of ``q`` units of a receipt/delivery line opens its order line again; its
        cancellation (``sign`` -1) counts them as received / delivered again, within the
        tolerance as a receipt / delivery (``over_receipt``, closed order or not). The
        invoiced units among them (``q_inv``) count in the order line's ``returned_invoiced``
        as in the receipt/delivery line's, so that the order line tells the same story:
        ``invoiced − returned_invoiced`` within ``received/delivered − returned``."""
        if src_line.source is None:
            return
        order = cache.get(src_line.source[0]) or self._load(w, src_line.source[0])
        n = src_line.source[1]
        before = order.counter(n, done) - order.counter(n, "returned")
        ordered = order.counter(n, "ordered")
        if sign < 0:  # later receipts / deliveries took the units the return gave back
            self._check_tolerance(order, n, before, q,
                                  "receipt" if done == "received" else "delivery")
        change = _open(ordered, before - sign * q) - _open(ordered, before)
        back = {_RETURNED_INVOICED: sign * q_inv} if q_inv else {}
        order = self._bump(w, order.doc_id, n, {"returned": sign * q, **back}, cache)
        if order.state == State.POSTED:  # a closed order stays closed
            self._move_open(w, src_line.item, order, n, field, change)

    @staticmethod
    def _move_open(w: _Work, item: str, order: Document, n: int, field: str,
                   change: Decimal) -> None:
        """Change ``on_order`` or ``demand`` of the order line's warehouse."""
        b = w.row(item, order.line(n).warehouse, "", "")
        on_order, demand = b.on_order, b.demand
        if field == "on_order":
            on_order += change
        elif field == "demand":
            demand += change
        else:
            raise ValueError(field)
        w.set_row(Balance(b.item, b.warehouse, b.location, b.lot, b.on_hand, b.reserved, b.held,
                          on_order, demand))

    def _flush(self, w: _Work, cache: dict[str, Document]) -> None:
        for src in cache.values():
            self._save(w, src)

    def _receipt_ref(self, w: _Work, doc_id: str, line: Line) -> str:
        item = w.item(line.item)
        return line.lot if item.costing_method == "specific_lot" else f"{doc_id}/{line.line_no}"

    def _returns_kept(self, w: _Work, item: Item, warehouse: str, doc: Document, line: Line,
                      posted_at: dt.datetime) -> None:
        """Under moving average and standard cost (negative stock forbidden: no layer to
        check), a line in (a receipt, a customer
        return, a transfer's arrival, an adjustment in) cancelled while customer returns or
        transfers' arrivals posted after it stand: its cancellation takes its units from the
        pool, which may hold the units those returns or arrivals brought, and a return's
        cancellation takes them out again while its delivery cannot be cancelled before it (an
        arrival's, while the transfer that sent them away cannot be: units sent to another
        warehouse and back, each leg's cancellation needing the other's first). Cancelled
        newest first, the movements after the line come undone back to each return (arrival),
        which then finds the stock on hand just before it was posted (only what still stands
        counted) plus its own units: so the line's cancellation is refused (until those
        returns or transfers are cancelled) when that stock, without the line's units, is
        below zero for one of them. FIFO/LIFO refuse it too (the line's
        layer is not whole). ``posted_at``: the line's moment; the movements dated from then
        are counted."""
        doc_id = doc.doc_id
        entries = w.uow.ledger.after(item.code, warehouse,
                                     posted_at - dt.timedelta(microseconds=1), 1 << 62)
        own = [e.entry_no for e in entries
               if e.doc_id == doc_id and e.line_no == line.line_no and e.quantity > 0]
        if not own:
            return
        first = min(own)
        undone = {(e.doc_id[:-2], e.line_no) for e in entries if e.doc_id.endswith("-R")}
        #: the movements still standing posted after the line, in posting order; the
        #: document's own later lines are undone by the same cancellation
        standing = sorted((e for e in entries if e.entry_no > first and e.quantity
                           and not e.doc_id.endswith("-R") and e.doc_id != doc_id
                           and (e.doc_id, e.line_no) not in undone),
                          key=operator.attrgetter("entry_no"))
        #: the documents (adjustments, counts) that also took units out here: their line in
        #: is cancelled before that line out, which alone would bring back what it needs; a
        #: line in alone needs only its own units, which the cancellations after it bring back
        mixed = {e.doc_id for e in standing if e.quantity < 0}

        def kept(e: LedgerEntry) -> bool:
            return e.quantity > 0 and e.kind in _KEPT_ARRIVALS and (
                e.kind not in _MIXED_ARRIVALS or e.doc_id in mixed)

        if not any(kept(e) for e in standing):
            return
        # the cancellation takes what every line of the document brought in here (a receipt
        # of two lines of the item takes both), not this line's units alone
        brought = sum((e.quantity for e in entries if e.doc_id == doc_id and e.quantity > 0),
                      ZERO)
        level = self.jxc._on_hand(w, item.code, warehouse) - brought
        for e in reversed(standing):  # back through them, newest first
            level -= e.quantity
            if level < 0 and kept(e):
                what, what_zh = _KEPT_ARRIVALS[e.kind]
                raise JxcError("reversal_impossible", doc_id=doc_id,
                               reason=f"line {line.line_no}: the {what} {e.doc_id} "
                                      f"posted after it would find no units to take back: "
                                      f"cancel it first",
                               reason_zh=f"第 {line.line_no} 行：其后的{what_zh} {e.doc_id} "
                                         f"红冲时将无库存可退：请先红冲它")

    def _base(self, w: _Work, line: Line) -> Decimal:
        return w.item(line.item).to_base(abs(line.quantity), line.unit)

    def _intact(self, w: _Work, doc: Document, line: Line, what: str,
                until: dt.datetime | None = None) -> str:
        """The layer a reversal takes: under FIFO/LIFO it must still be whole. A customer
        return's units that settled its own delivery's shortage count as still in it (its
        cancellation opens that shortage again, ``Jxc``'s ``_reopen_own``), as long as no
        other units are on hand beside its layer (a shortage never stands beside layers) and
        every movement of the scope after the return is cancelled: newest first. Under moving
        average (no layer to check) such a return is refused until then too. Alike under
        FIFO/LIFO (per warehouse or by organisation), a purchase receipt's (a transfer
        arrival's, a customer return's, an adjustment's or a count's line in) units that
        settled open shortages (``Jxc``'s ``_SETTLED_SHORTAGE``; a return's, of other issues
        too), cancelled newest first (the document's later lines undone before it).

        Under moving average, negative stock forbidden, the cancellation is refused while a
        customer return (a transfer's arrival) posted after the line would be left without the
        units it takes back
        (:meth:`_returns_kept`).

        An adjustment or a count (``what`` ``"adjustment"``: lines that add and remove stock):
        units of the line's layer that later lines of the same document took count as still
        in it: the cancellation undoes the lines last first, so they are back in the layer
        when this line's reversal takes it (:meth:`_later_lines`), and so do the units of the
        layer that settled their shortages since, up to ``until`` (the cancellation's moment):
        an issue the line settled, cancelled out of turn, put its units back into the layer
        while a later line's shortage was open, which they settled named by the layer."""
        doc_id = doc.doc_id
        posted_at = self._posted_at(doc, w.zone)
        item = w.item(line.item)
        ref = self._receipt_ref(w, doc_id, line)
        v = w.valuation(item, line.to_warehouse if what == "transfer" else line.warehouse)
        remaining = getattr(v, "receipt_remaining", None)
        into = (line.to_warehouse if what == "transfer" else line.warehouse) or ""
        if (posted_at is not None
                and isinstance(v, MovingAverageValuation | StandardCostValuation)
                and not item.serial_tracked and not w.allows_negative(item, into)):
            # (no layer to check, under standard cost as under moving average; serials name
            # the units: a line's cancellation takes its own, and one a later movement moved
            # on is refused for that, ``Jxc``'s serial check)
            self._returns_kept(w, item, into, doc, line, posted_at)
        if remaining is not None:
            try:
                left, _, received = remaining(ref)
            except JxcError:  # no layer of it is left at all
                left, received = ZERO, self._base(w, line)
            own = Jxc._own_record(w, ref) if what == "return" else None
            # the document's later lines, undone first: the units they took from the layer
            # (an adjustment or count), and what they moved in the scope on balance
            taken = moved = ZERO
            if left < received and what != "transfer" and posted_at is not None:
                taken, moved = self._later_lines(w, doc, line, ref, posted_at,
                                                 what == "adjustment", until)
                taken = min(received - left, taken)
            # a receipt (a transfer's arrival, a customer return, an adjustment's or a count's
            # line in) whose units settled open shortages: they count as still in its layer
            # when it is cancelled newest first (its cancellation opens them again, ``Jxc``'s
            # ``_reopen_settled``), its document's later lines undone before it
            wh = into
            fills = (Jxc._settled_record(w, wh, ref) if left + taken < received else [])
            units = sum((f[1] for f in fills), ZERO)
            if fills and v.quantity - moved - left - taken <= ZERO \
                    and left + taken + units == received \
                    and not _issue_cancelled(w, fills) \
                    and self.jxc._undone_since(w, item, wh, ref, settled=True,
                                               undoing=None if what == "transfer" else doc_id):
                left += units
            elif own is not None and v.quantity - moved - left <= ZERO \
                    and self.jxc._undone_since(w, item, line.warehouse, ref, undoing=doc_id):
                left += own[1]
            left += taken
            if left != received:
                why, why_zh = _why_settled_stay(w, doc_id, fills, v.quantity - left > ZERO)
                raise JxcError("reversal_impossible", doc_id=doc_id,
                               reason=f"line {line.line_no}: {received - left} of its units "
                                      f"have left stock already{why}",
                               reason_zh=f"第 {line.line_no} 行：其中 {received - left} 个"
                                         f"单位已出库{why_zh}")
        elif what == "return" and isinstance(v, MovingAverageValuation):
            # moving average keeps no layer to check, but a return whose units settled its
            # own delivery's shortage opens it again only as the newest movement of its
            # scope; out of turn it would leave at the average and the settlement it booked
            # would stay (cost of goods sold and price difference apart): refused, as FIFO/LIFO
            # refuse it above
            own = Jxc._own_record(w, ref)
            if own is not None and not self.jxc._undone_since(w, item, line.warehouse, ref,
                                                              undoing=doc_id):
                raise JxcError("reversal_impossible", doc_id=doc_id,
                               reason=f"line {line.line_no}: {own[1]} of its units settled "
                                      f"its delivery's shortage; cancel the later movements "
                                      f"of {item.code} in {line.warehouse} first",
                               reason_zh=f"第 {line.line_no} 行：其中 {own[1]} 个单位已冲抵"
                                         f"原销售出库的缺货；请先红冲 {line.warehouse} 中 "
                                         f"{item.code} 之后的出入库")
        return ref

    def _later_lines(self, w: _Work, doc: Document, line: Line, ref: str,
                     at: dt.datetime, slices: bool, until: dt.datetime | None = None
                     ) -> tuple[Decimal, Decimal]:
        """What the lines of ``doc`` after ``line`` (an in line, its layer ``ref``) did in
        the line's scope when it was posted at ``at``: (the units of the layer they took,
        as the ledger has it now, :meth:`Jxc._issue_slices`, looked up with ``slices``
        only, with the units of the layer that settled their shortages up to ``until``;
        the quantity they moved there on balance). The cancellation undoes them first: an
        adjustment that adds 1 and removes 1 of an item in one warehouse, say, whose
        removal took the added unit (LIFO, or FIFO with nothing older on hand), has it back
        in the layer when the addition's reversal takes it, and a later line in has left
        the scope again."""
        item = w.item(line.item)
        scope = w.scope(item, line.warehouse)
        # costed by organisation the later lines may take from the layer in any warehouse
        wh = None if scope[1] == "*" else line.warehouse
        later = [e for e in w.uow.ledger.after(
            item.code, wh, at - dt.timedelta(microseconds=1), 1 << 62)
            if e.doc_id == doc.doc_id and e.quantity and e.line_no > line.line_no
            and e.posted_at == at]
        moved = sum((e.quantity for e in later), ZERO)
        taken = ZERO
        for n in sorted({e.line_no for e in later if e.quantity < 0}) if slices else ():
            found = self.jxc._issue_slices(w, item, scope,
                                           _group_ref(doc.doc_type.value, doc.doc_id, n), at,
                                           until)
            taken += sum((s[3] for s in found or () if s[1] == ref), ZERO)
        return taken, moved

    # purchase --------------------------------------------------------------------------------
    def _purchase_receipt(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                          reverse: bool) -> Document:
        cache: dict[str, Document] = {}
        taken: dict[int, Decimal] = {}
        sign = -1 if reverse else 1
        stock: list[StockLine] = []
        digits = doc.amount_digits  # the receipt's own amounts: its currency's digits
        nets = {line.line_no: line.amounts(digits).net for line in doc.lines}  # once each
        bases = {line.line_no: self._base(w, line) for line in doc.lines}
        for line in doc.lines:
            q = bases[line.line_no]
            net = nets[line.line_no]
            if line.source is not None:
                taken[line.line_no] = self._fulfil(w, doc, line, q, sign, reverse, cache,
                                                   "received", "on_order", "receipt")
            if reverse:
                stock.append(StockLine(line.item, line.warehouse, line.quantity, OUT,
                                       unit=line.unit, lot=line.lot, location=line.location,
                                       from_ref=self._intact(w, doc, line, "receipt"),
                                       kind="receipt_reversal", line_no=line.line_no))
            else:
                stock.append(StockLine(line.item, line.warehouse, line.quantity, IN,
                                       value=self._book_amount(doc, net), unit=line.unit,
                                       lot=line.lot,
                                       expiry=line.expiry, location=line.location,
                                       kind="purchase_receipt", line_no=line.line_no))
        values = self._stock(w, doc, stock, when, reverse, book=book)
        for line in doc.lines:
            value = _cost(values, line.line_no, out=reverse)
            net = nets[line.line_no]
            book.add(line, "inventory", value, debit=True)
            book.add(line, "grni", net, debit=False)
            variance = ("material_variance" if w.item(line.item).costing_method == "standard"
                        else "price_difference")
            book.add(line, variance, self._book_amount(doc, net) - value, debit=True)
        self._flush(w, cache)
        counters = {line.line_no: {"received": bases[line.line_no],
                                   "value": nets[line.line_no],
                                   "on_order": taken.get(line.line_no, ZERO)}
                    for line in doc.lines}
        return _evolve(doc, counters=counters) if not reverse else doc

    def _grni_tracked(self, rc: Document, n: int) -> bool:
        """Whether receipt line ``n`` counts the book amounts of its GRNI slices
        (``grni_book_cleared``): a receipt in a foreign currency, once the counter is there,
        or while no slice (return, invoice) of it is outstanding — a receipt whose slices were
        posted before the counter existed keeps rounding each slice on its own."""
        if rc.currency == self.jxc.book_currency:
            return False
        row = rc.counters.get(n, {})
        return _CLEARED in row or not any(
            row.get(k) for k in ("returned", "invoiced", "returned_value", "invoiced_value"))

    def _grni_book(self, rc: Document, n: int, grni: Decimal, left: Decimal,
                   doc: Document, line_no: int, reverse: bool) -> Decimal:
        """The book-currency amount of a GRNI slice of receipt line ``n``: ``grni`` in the
        receipt's currency, leaving ``left`` of the line's GRNI in that currency.

        As a rule ``round_half_up(grni x receipt rate)``. The slice that leaves nothing
        (``left == 0``: the last invoice or return of the line) takes the line's GRNI in the
        books — ``round_half_up(value x rate)``, what the receipt credited — less the book
        amounts its earlier slices cleared, so that the line's GRNI is exactly zero in the book
        currency too. A reversal takes back the amount its posting cleared."""
        digits = self.jxc.currency_digits
        rate = Decimal(rc.attributes.get("rate", "1"))
        if reverse:
            kept = doc.counters.get(line_no, {}).get(_SLICE_BOOK)
            return kept if kept is not None else round_money(multiply(grni, rate), digits)
        if left or not self._grni_tracked(rc, n):
            return round_money(multiply(grni, rate), digits)
        return (self._book_amount(rc, rc.counter(n, "value"))
                - rc.counters.get(n, {}).get(_CLEARED, ZERO))

    def _cleared(self, rc: Document, n: int, book_amount: Decimal) -> dict[str, Decimal]:
        """The receipt line's counter of book amounts cleared, when it keeps one."""
        return {_CLEARED: book_amount} if self._grni_tracked(rc, n) else {}

    def _slice_counter(self, doc: Document, book_amount: Decimal) -> dict[str, Decimal]:
        """A return's or invoice's own counter of the GRNI it cleared in the book currency
        (its reversal takes back exactly that); in the book currency it is the slice itself."""
        return {} if doc.currency == self.jxc.book_currency else {_SLICE_BOOK: book_amount}

    def _purchase_return(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                         reverse: bool) -> Document:
        cache: dict[str, Document] = {}
        sign = -1 if reverse else 1
        stock: list[StockLine] = []
        supplier_value: dict[int, Decimal] = {}
        grni_book: dict[int, Decimal] = {}  # the GRNI slice in the book currency
        receipt_rate: dict[int, Decimal] = {}
        #: per line, the invoiced units it takes back and their amount awaiting the credit
        pending: dict[int, tuple[Decimal, Decimal]] = {}
        for line in doc.lines:
            assert line.source is not None
            rc = cache.get(line.source[0]) or self._load(w, line.source[0])
            if not reverse:
                self._posted_source(doc, line, rc)
            receipt_rate[line.line_no] = Decimal(rc.attributes.get("rate", "1"))
            n = line.source[1]
            q = self._base(w, line)
            received = rc.counter(n, "received")
            returned = rc.counter(n, "returned")
            back = rc.counter(n, _RETURNED_INVOICED)  # invoiced units returned before
            invoiced = rc.counter(n, "invoiced") - back  # invoiced units still here
            returnable = received - returned - invoiced  # not invoiced yet
            if reverse:
                q_inv = doc.counter(line.line_no, _TO_CREDIT)
            else:
                if q > received - returned:
                    raise JxcError("over_receipt", order=rc.doc_id, line=n, kind="return",
                                   quantity=q, open=received - returned, tolerance=0)
                # the units not invoiced yet go back first; the rest were invoiced: their
                # money waits for a red-letter invoice (``credit_pending``), not GRNI
                q_inv = q - min(q, max(ZERO, returnable))
                if q_inv:
                    self._credit_in_book_currency(doc)
            q_open = q - q_inv
            # the supplier's price of the returned units: a slice of the receipt's net value
            value_left = rc.counter(n, "value") - rc.counter(n, "returned_value")
            qty_left = received - returned + back  # the units value_left is the value of
            grni_left = value_left - rc.counter(n, "invoiced_value")  # its currency
            if reverse:
                sv = doc.counter(line.line_no, "supplier_value")
            elif q_open == returnable:  # the last open units: exactly the GRNI left (nothing
                sv = grni_left          # is left to invoice, whatever price the return names)
            else:
                # units not invoiced yet are owed at the receipt's price: the slice of its net
                # value. A price on the return line does not clear GRNI (a return at 12.00 of
                # units received at 10.00 cleared 12.00, and the invoice of the units kept
                # put the 2.00 a unit back into their stock); what the supplier finally
                # charges is settled by the invoice of the units kept
                sv = round_money(DIVISION_CONTEXT.divide(q_open * value_left, qty_left),
                                 rc.amount_digits)
            supplier_value[line.line_no] = sv
            grni_book[line.line_no] = book_sv = self._grni_book(
                rc, n, sv, grni_left - sv, doc, line.line_no, reverse)
            # invoiced units: at the price their invoices charged (their share of the net
            # invoiced and not yet returned; the last of them takes what is left)
            if reverse:
                pv = doc.counter(line.line_no, _CREDIT_VALUE)
            elif q_inv:
                net_left = (rc.counter(n, "invoiced_value") + rc.counter(n, _INVOICED_DIFF)
                            - rc.counter(n, _RETURNED_INVOICED_VALUE))
                pv = net_left if q_inv == invoiced else round_money(
                    DIVISION_CONTEXT.divide(q_inv * net_left, invoiced), rc.amount_digits)
            else:
                pv = ZERO
            pending[line.line_no] = (q_inv, pv)
            credit = {_RETURNED_INVOICED: sign * q_inv,
                      _RETURNED_INVOICED_VALUE: sign * pv} if q_inv else {}
            self._bump(w, rc.doc_id, n, {"returned": sign * q, "returned_value": sign * sv,
                                         **self._cleared(rc, n, sign * book_sv), **credit},
                       cache)
            _note_returned_serials(doc, line, cache[rc.doc_id], n, reverse)
            src_line = rc.line(n)
            self._reopen(w, src_line, q, sign, cache, "received", "on_order", q_inv)
            if reverse:  # under the monthly average: takes back the issue of its month
                # at the value it took out; stock of a negative value (a price difference
                # beyond it) comes back at 0.00: nothing enters stock below zero
                if not line.lot and src_line.lot:
                    self._returned_from(w, doc, line, src_line.lot)
                # at what the line costs now: its value when posted and the corrections of
                # back-dated movements since (as a delivery's cancellation)
                own = _group_ref(doc.doc_type.value, doc.doc_id, line.line_no)
                stock.append(StockLine(line.item, line.warehouse, line.quantity, IN,
                                       value=max(ZERO, doc.counter(line.line_no, "stock_value")
                                                 + Jxc._cost_change_at(w, own, line.item,
                                                                       when)),
                                       unit=line.unit, lot=line.lot or src_line.lot,
                                       location=line.location,
                                       from_ref=_group_ref(doc.doc_type.value, doc.doc_id,
                                                           line.line_no),
                                       kind="return_reversal", line_no=line.line_no))
            else:
                # the units of its receipt line: its lot when the return names none (else
                # the lots would be picked FEFO, and another lot than the receipt's leave)
                stock.append(StockLine(line.item, line.warehouse, line.quantity, OUT,
                                       unit=line.unit, lot=line.lot or src_line.lot,
                                       location=line.location,
                                       from_ref=self._receipt_ref(w, rc.doc_id, src_line),
                                       kind="purchase_return", line_no=line.line_no))
        values = self._stock(w, doc, stock, when, reverse, book=book)
        counters = {}
        for line in doc.lines:
            value = _cost(values, line.line_no, out=not reverse)
            sv = supplier_value[line.line_no]
            book_sv = grni_book[line.line_no]
            q_inv, pv = pending[line.line_no]
            book.add(line, "grni", sv, debit=True, rate=receipt_rate[line.line_no],
                     book=book_sv)
            # invoiced units: the supplier owes a red-letter invoice for them (待冲发票)
            book.add(line, "credit_pending", pv, debit=True)
            book.add(line, "inventory", value, debit=False)
            # under standard cost the difference is the receipt's variance going back
            # (材料成本差异), as a receipt's cancellation and an invoice book it
            book.add(line, ("material_variance" if w.item(line.item).costing_method
                            == "standard" else "price_difference"), value - book_sv - pv,
                     debit=True)
            counters[line.line_no] = {"returned": self._base(w, line), "supplier_value": sv,
                                      "stock_value": value,
                                      **self._slice_counter(doc, book_sv)}
            if q_inv:
                counters[line.line_no].update({_TO_CREDIT: q_inv, _CREDIT_VALUE: pv})
        self._flush(w, cache)
        return _evolve(doc, counters=counters) if not reverse else doc

    def _return_lot(self, w: _Work, line: Line, dl: Document, n: int) -> str:
        """The lot a customer return line comes back into: its own, else (a lot-tracked item)
        the lot its delivery line names, else the one lot that line took (picked FEFO when
        posted: the delivery's ``attributes["picked"]``, :func:`_picked_rows`). A delivery
        line that took several lots (or posted before it kept what it picked):
        ``lot_missing``, with those lots in its data (``lots``): the return names which one
        comes back."""
        if line.lot or not w.item(line.item).lot_tracked:
            return line.lot
        src = dl.line(n)
        if src.lot:
            return src.lot
        lots = sorted({row[1] for row in dl.attributes.get("picked", {}).get(str(n), ())})
        if len(lots) != 1:
            raise JxcError("lot_missing", item=line.item, doc_id=dl.doc_id, line=n, lots=lots)
        return str(lots[0])

    @staticmethod
    def _returned_from(w: _Work, doc: Document, line: Line, lot: str) -> None:
        """A return line naming no lot goes back into its receipt line's ``lot``: refused
        (``reversal_impossible``) when its ledger entries took another lot (a return posted
        before it took its receipt's lot picked lots FEFO), rather than put into the wrong one."""
        taken = {e.lot for e in w.uow.ledger.entries(line.item, line.warehouse)
                 if e.doc_id == doc.doc_id and e.line_no == line.line_no
                 and e.kind == "purchase_return"}
        other = sorted(taken - {lot})
        if other:
            raise JxcError("reversal_impossible", doc_id=doc.doc_id,
                           reason=f"line {line.line_no} took lot(s) {', '.join(other)}, not "
                                  f"its receipt's lot {lot}: put them back by an adjustment",
                           reason_zh=f"第 {line.line_no} 行退出的是批次 {'、'.join(other)}，"
                                     f"而不是其入库单的批次 {lot}：请用其他入库单调回")

    @staticmethod
    def _still_invoiced(doc: Document, line: Line, src: Document, q: Decimal) -> None:
        """An invoice is cancelled only while no return took back invoiced units of its
        source line (``returned_invoiced`` of the receipt or delivery line is 0): those units
        were priced at the line's invoices (their share of ``credit_pending``, what a
        red-letter invoice may credit), and cancelling one of them under them misvalued the
        units left and booked a false price difference later (``reversal_impossible``).
        Cancel the red-letter invoices and the returns first, then the invoice."""
        assert line.source is not None
        n = line.source[1]
        back = src.counter(n, _RETURNED_INVOICED)
        if back:
            raise JxcError("reversal_impossible", doc_id=doc.doc_id,
                           reason=f"line {line.line_no}: returns took back {back} invoiced "
                                  f"units of {src.doc_id} line {n}: cancel those returns "
                                  "(and their red-letter invoices) first",
                           reason_zh=f"第 {line.line_no} 行：退货已退回 {src.doc_id} 第 {n} "
                                     f"行的已开票数量 {back}：请先红冲这些退货（及其红字发票）")

    def _purchase_invoice(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                          reverse: bool) -> Document:
        if self._credit_note(w, doc):
            return self._purchase_credit_note(w, doc, book, reverse)
        cache: dict[str, Document] = {}
        sign = -1 if reverse else 1
        counters = {}
        for line in doc.lines:
            assert line.source is not None
            rc = cache.get(line.source[0]) or self._load(w, line.source[0])
            if not reverse:
                self._posted_source(doc, line, rc)
            n = line.source[1]
            q = self._base(w, line)
            open_q = (rc.counter(n, "received") - rc.counter(n, "returned")
                      - rc.counter(n, "invoiced") + rc.counter(n, _RETURNED_INVOICED))
            if not reverse and q > open_q:
                raise JxcError("over_receipt", order=rc.doc_id, line=n, kind="invoice",
                               quantity=q, open=open_q, tolerance=0)
            if reverse:
                self._still_invoiced(doc, line, rc, q)
            amounts = line.amounts(doc.amount_digits)
            value_left = (rc.counter(n, "value") - rc.counter(n, "returned_value")
                          - rc.counter(n, "invoiced_value"))
            if reverse:
                grni = doc.counter(line.line_no, "grni")
            else:
                grni = value_left if q == open_q else round_money(  # the receipt's currency
                    DIVISION_CONTEXT.divide(q * value_left, open_q), rc.amount_digits)
            grni_book = self._grni_book(rc, n, grni, value_left - grni, doc, line.line_no,
                                        reverse)
            # the invoice's price over the GRNI it clears: the net invoiced, at the invoices'
            # prices, is what a return of invoiced units waits to have credited
            over = doc.counter(line.line_no, _INVOICED_DIFF) if reverse else amounts.net - grni
            priced = {_INVOICED_DIFF: sign * over} if over else {}
            self._bump(w, rc.doc_id, n, {"invoiced": sign * q, "invoiced_value": sign * grni,
                                         **self._cleared(rc, n, sign * grni_book), **priced},
                       cache)
            src_line = rc.line(n)
            if src_line.source is not None:
                self._bump(w, src_line.source[0], src_line.source[1], {"invoiced": sign * q},
                           cache)
            rc_rate = Decimal(rc.attributes.get("rate", "1"))
            # invoice net in the books less the GRNI it clears there: to the receipt's cost
            diff = self._book_amount(doc, amounts.net) - grni_book
            kept = issued = variance = ZERO
            if diff:
                received = rc.counter(n, "received") - rc.counter(n, "returned")
                if reverse:  # split as the charge was, on the units received then
                    received = self._charged_received(w, doc, line, src_line, when, received)
                kept, issued, variance, written = self.jxc._apply_receipt_cost(
                    w, src_line.item, src_line.warehouse,
                    self._receipt_ref(w, rc.doc_id, src_line), sign * diff,
                    doc.doc_type.value, self._doc_ref(doc, reverse), line.line_no, when,
                    received, receipt=(rc.doc_id, n), received_at=self._posted_at(rc, w.zone))
                kept, issued, variance = sign * kept, sign * issued, sign * variance
                self._book_cost_entries(w, book, written[1:])
            book.add(line, "grni", grni, debit=True, warehouse=src_line.warehouse, rate=rc_rate,
                     book=grni_book)
            book.add(line, "input_tax", amounts.tax, debit=True, warehouse="")
            book.add(line, "payable", amounts.gross, debit=False, warehouse="")
            book.add(line, "inventory", kept, debit=True, warehouse=src_line.warehouse)
            book.add(line, "cogs", issued, debit=True, warehouse=src_line.warehouse)
            book.add(line, "material_variance", variance, debit=True,
                     warehouse=src_line.warehouse)
            counters[line.line_no] = {"invoiced": q, "grni": grni,
                                      **({_INVOICED_DIFF: over} if over else {}),
                                      **self._slice_counter(doc, grni_book)}
        self._flush(w, cache)
        return _evolve(doc, counters=counters) if not reverse else doc

    def _credit_lines(self, w: _Work, doc: Document, reverse: bool,
                      cache: dict[str, Document]
                      ) -> list[tuple[Line, Document, int, Decimal]]:
        """The lines of a red-letter invoice with their return, its line number and the units
        they credit: all its lines naming one return line together credit no more than that
        line took back of invoiced units and red-letter invoices did not credit yet
        (``over_receipt``, ``kind="credit"``), each at the tax rate of the invoices of the
        units (:meth:`_invoice_terms`, ``invalid_document``)."""
        out = []
        taken: dict[tuple[str, int], Decimal] = {}  # per return line, what earlier lines took
        for line in doc.lines:
            assert line.source is not None
            rt = cache.get(line.source[0]) or self._load(w, line.source[0])
            cache[rt.doc_id] = rt
            if not reverse:
                self._posted_source(doc, line, rt)
                self._credit_in_book_currency(doc)  # a draft stored in another currency
            n = line.source[1]
            q = self._base(w, line)
            key = (rt.doc_id, n)
            total = taken.get(key, ZERO) + q
            taken[key] = total
            open_q = rt.counter(n, _TO_CREDIT) - rt.counter(n, _CREDITED)
            if not reverse:
                if total > open_q:
                    raise JxcError("over_receipt", order=rt.doc_id, line=n, kind="credit",
                                   quantity=total, open=open_q, tolerance=0)
                rates = {rate for rate, _ in self._invoice_terms(w, doc, rt, n)}
                if rates and line.tax_rate not in rates:
                    shown = ", ".join(str(r) for r in sorted(rates))
                    raise JxcError("invalid_document", doc_id=doc.doc_id, field="tax_rate",
                                   reason=f"line {line.line_no}: tax rate {line.tax_rate} is "
                                          f"not that of the invoiced units it credits "
                                          f"({shown})",
                                   reason_zh=f"第 {line.line_no} 行：税率 {line.tax_rate} 与"
                                             f"所冲销的已开票货物的税率（{shown}）不同")
            out.append((line, rt, n, q))
        return out

    def _invoice_terms(self, w: _Work, doc: Document, rt: Document, n: int
                       ) -> list[tuple[Decimal, Decimal]]:
        """The (tax rate, net per base unit) of the posted invoice lines of the receipt or
        delivery line that the return line ``n`` of ``rt`` took units back from: what a
        red-letter invoice of those units may credit (read at its posting; red-letter invoices
        are rare, the invoices of one type are read once per posting)."""
        src = rt.line(n).source
        if src is None:
            return []
        found: list[tuple[Decimal, Decimal]] = []
        for state in (State.POSTED, State.CLOSED):
            for doc_id in w.uow.documents.ids(doc.doc_type.value, state.value):
                inv = self._load(w, doc_id)
                for inv_line in inv.lines:
                    if inv_line.source is not None and tuple(inv_line.source) == tuple(src):
                        net = inv_line.amounts(inv.amount_digits).net
                        found.append((inv_line.tax_rate, DIVISION_CONTEXT.divide(
                            net, self._base(w, inv_line))))
        return found

    @staticmethod
    def _over_invoiced(doc: Document, line: Line, net: Decimal, bound: Decimal) -> None:
        """A red-letter invoice line credits no more than its units were invoiced at (红字
        发票不得超过原蓝字发票): ``net`` at most ``bound`` plus one cent of rounding (the
        invoices rounded per line, the share of the units per return), else
        ``invalid_document``."""
        if net > bound + Decimal(1).scaleb(-doc.amount_digits):
            raise JxcError("invalid_document", doc_id=doc.doc_id, field="price",
                           reason=f"line {line.line_no}: its net {net} is more than the "
                                  f"invoiced units it credits were invoiced at ({bound})",
                           reason_zh=f"第 {line.line_no} 行：不含税金额 {net} 超过所冲销的"
                                     f"已开票货物的原开票金额（{bound}）")

    def _purchase_credit_note(self, w: _Work, doc: Document, book: _Book, reverse: bool
                              ) -> Document:
        """A red-letter purchase invoice (红字采购发票): per line, the invoiced units of a
        supplier return it credits. Dr payable (the gross less), Cr input tax (进项税额转出),
        Cr ``credit_pending`` by what the return left there for these units (all that is
        left for the last of them), the difference between its own net and that to
        ``price_difference`` (the goods are gone)."""
        cache: dict[str, Document] = {}
        sign = -1 if reverse else 1
        counters = {}
        for line, rt, n, q in self._credit_lines(w, doc, reverse, cache):
            open_q = rt.counter(n, _TO_CREDIT) - rt.counter(n, _CREDITED)
            left = rt.counter(n, _CREDIT_VALUE) - rt.counter(n, _CREDITED_VALUE)
            if reverse:
                cleared = doc.counter(line.line_no, _CREDITED_VALUE)
            else:
                cleared = left if q == open_q else round_money(
                    DIVISION_CONTEXT.divide(q * left, open_q), doc.amount_digits)
            amounts = line.amounts(doc.amount_digits)
            if not reverse:  # what the invoices charged for these units, their share of it
                self._over_invoiced(doc, line, amounts.net, cleared)
            self._bump(w, rt.doc_id, n, {_CREDITED: sign * q, _CREDITED_VALUE: sign * cleared},
                       cache)
            warehouse = rt.line(n).warehouse
            book.add(line, "payable", amounts.gross, debit=True, warehouse="")
            book.add(line, "input_tax", amounts.tax, debit=False, warehouse="")
            book.add(line, "credit_pending", cleared, debit=False, warehouse=warehouse)
            book.add(line, "price_difference", cleared - amounts.net, debit=True,
                     warehouse=warehouse)
            counters[line.line_no] = {_CREDITED: q, _CREDITED_VALUE: cleared}
        self._flush(w, cache)
        return _evolve(doc, counters=counters) if not reverse else doc

    def _sales_credit_note(self, w: _Work, doc: Document, book: _Book, reverse: bool
                           ) -> Document:
        """A red-letter sales invoice (红字销售发票): per line, the invoiced units of a
        customer return it credits. Dr revenue (net), Dr output tax / Cr receivable (gross):
        the invoice's rows in red. The return itself booked only the goods coming back (Dr
        inventory / Cr cost of goods sold): revenue, output tax and the receivable are the
        invoices' alone, so nothing waits on an account in between."""
        cache: dict[str, Document] = {}
        sign = -1 if reverse else 1
        counters = {}
        for line, rt, n, q in self._credit_lines(w, doc, reverse, cache):
            self._bump(w, rt.doc_id, n, {_CREDITED: sign * q}, cache)
            amounts = line.amounts(doc.amount_digits)
            if not reverse:  # at most the highest price the units were invoiced at
                prices = [p for _, p in self._invoice_terms(w, doc, rt, n)]
                if prices:
                    self._over_invoiced(doc, line, amounts.net, round_money(
                        q * max(prices), doc.amount_digits))
            book.add(line, "receivable", amounts.gross, debit=False, warehouse="")
            book.add(line, "revenue", amounts.net, debit=True, warehouse="")
            book.add(line, "output_tax", amounts.tax, debit=True, warehouse="")
            counters[line.line_no] = {_CREDITED: q}
        self._flush(w, cache)
        return _evolve(doc, counters=counters) if not reverse else doc

    # sales -----------------------------------------------------------------------------------
    def _delivery(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                  reverse: bool) -> Document:
        cache: dict[str, Document] = {}
        taken: dict[int, Decimal] = {}
        sign = -1 if reverse else 1
        stock: list[StockLine] = []
        bases = {line.line_no: self._base(w, line) for line in doc.lines}
        #: the rows a line was picked from, when not just its own lot and location
        picked: dict[str, list[list[str]]] = doc.attributes.get("picked", {})
        back: dict[int, Decimal] = {}  # a cancellation: the cost each line takes back
        for line in doc.lines:
            q = bases[line.line_no]
            demand = None
            if line.source is not None:
                taken[line.line_no] = self._fulfil(w, doc, line, q, sign, reverse, cache,
                                                   "delivered", "demand", "delivery")
                demand = f"{line.source[0]}/{line.source[1]}"
            if reverse:  # under the monthly average: takes back the issue if still open
                # at what the line costs at the cancellation's moment: its cost when posted
                # and the adjustments up to then (a later settlement the replay takes back)
                own = _group_ref(doc.doc_type.value, doc.doc_id, line.line_no)
                value = max(ZERO, doc.counter(line.line_no, "cost")
                            + Jxc._cost_change_at(w, own, line.item, when))
                back[line.line_no] = value
                rows = picked.get(str(line.line_no))
                if rows:  # back into the rows (lots, locations) it was picked from
                    stock += self._back_into(line, rows, value, own)
                    continue
                stock.append(StockLine(line.item, line.warehouse, line.quantity, IN,
                                       value=value, unit=line.unit, lot=line.lot,
                                       location=line.location, from_ref=own,
                                       kind="delivery_reversal", line_no=line.line_no))
            else:
                stock.append(StockLine(line.item, line.warehouse, line.quantity, OUT,
                                       unit=line.unit, lot=line.lot, location=line.location,
                                       demand=demand, kind="delivery", line_no=line.line_no))
        posted: list[LedgerEntry] = []
        values = self._stock(w, doc, stock, when, reverse, book=book, posted=posted)
        if not reverse:
            self._trim_elsewhere(w, doc, cache)
        counters = {}
        for line in doc.lines:
            cost = _cost(values, line.line_no, out=not reverse)
            if reverse and w.item(line.item).costing_method == "standard":
                # the units come back at the standard of the day; cost of goods sold takes
                # back what the delivery cost, and a new standard since is a variance
                book.add(line, "cogs", back[line.line_no], debit=True)
                book.add(line, "material_variance", cost - back[line.line_no], debit=True)
            else:
                book.add(line, "cogs", cost, debit=True)
            book.add(line, "inventory", cost, debit=False)
            counters[line.line_no] = {"delivered": bases[line.line_no], "cost": cost,
                                      "demand": taken.get(line.line_no, ZERO)}
        self._flush(w, cache)
        if reverse:
            return doc
        picked_now = _picked_rows(doc, posted)
        if picked_now:
            return _evolve(doc, counters=counters,
                                attributes={**doc.attributes, "picked": picked_now})
        return _evolve(doc, counters=counters)

    def _row_shares(self, rows: Sequence[Sequence[str]], amount: Decimal) -> list[Decimal]:
        """``amount`` split over the rows a line left from (``[location, lot, quantity,
        value]``): by the value each row left with, else by quantity; rounded to the
        currency, the last row taking the rest."""
        weights = [Decimal(r[3]) for r in rows]
        if not sum(weights, ZERO):
            weights = [Decimal(r[2]) for r in rows]
        total, left, out = sum(weights, ZERO), amount, []
        for k, weight in enumerate(weights):
            share = left if k == len(rows) - 1 else round_money(
                DIVISION_CONTEXT.divide(amount * weight, total), self.jxc.currency_digits)
            left -= share
            out.append(share)
        return out

    def _back_into(self, line: Line, rows: Sequence[Sequence[str]], value: Decimal, own: str
                   ) -> list[StockLine]:
        """The reversal of a delivery line picked from several rows: a line per row, in base
        units, its value the row's share of ``value`` (by the value each row left with, else
        by quantity; the last row takes the rest)."""
        out = []
        for (location, lot, qty, _), share in zip(rows, self._row_shares(rows, value),
                                                   strict=True):
            out.append(StockLine(line.item, line.warehouse, Decimal(qty), IN, value=share,
                                 lot=lot, location=location, from_ref=own,
                                 kind="delivery_reversal", line_no=line.line_no))
        return out

    def _trim_elsewhere(self, w: _Work, doc: Document, cache: dict[str, Document]) -> None:
        """A delivery line from another warehouse (or naming a lot) than its order line's
        reservation could not consume it: what the order line no longer needs is released, so
        that its reservations never hold more than its open quantity."""
        for line in doc.lines:
            if line.source is None:
                continue
            order = cache[line.source[0]]
            n = line.source[1]
            if order.state != State.POSTED or (
                    line.warehouse == order.line(n).warehouse and not line.lot):
                continue  # same warehouse, any lot: consumed by the posting itself
            still = _open(order.counter(n, "ordered"),
                          order.counter(n, "delivered") - order.counter(n, "returned"))
            self.jxc._trim_reservations(w, f"{order.doc_id}/{n}", still)

    def _sales_return(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                      reverse: bool) -> Document:
        cache: dict[str, Document] = {}
        sign = -1 if reverse else 1
        stock: list[StockLine] = []
        to_credit: dict[int, Decimal] = {}  # per line, the invoiced units it takes back
        cogs: dict[int, Decimal] = {}  # per line, the delivery's cost it takes back
        for line in doc.lines:
            assert line.source is not None
            dl = cache.get(line.source[0]) or self._load(w, line.source[0])
            if not reverse:
                self._posted_source(doc, line, dl)
            n = line.source[1]
            q = self._base(w, line)
            delivered = dl.counter(n, "delivered")
            returned = dl.counter(n, "returned")
            returnable = (delivered - returned - dl.counter(n, "invoiced")
                          + dl.counter(n, _RETURNED_INVOICED))  # not invoiced yet
            if reverse:
                q_inv = doc.counter(line.line_no, _TO_CREDIT)
            else:
                if q > delivered - returned:
                    raise JxcError("over_receipt", order=dl.doc_id, line=n, kind="return",
                                   quantity=q, open=delivered - returned, tolerance=0)
                # the units not invoiced yet come back first; the rest were invoiced: a
                # red-letter invoice credits them (their revenue, output tax, receivable)
                q_inv = q - min(q, max(ZERO, returnable))
                if q_inv:
                    self._credit_in_book_currency(doc)
            to_credit[line.line_no] = q_inv
            lot = self._return_lot(w, line, dl, n)
            if reverse:
                stock.append(StockLine(line.item, line.warehouse, line.quantity, OUT,
                                       unit=line.unit, lot=lot, location=line.location,
                                       from_ref=self._intact(w, doc, line, "return"),
                                       kind="return_reversal", line_no=line.line_no))
                # what the return credited to cost of goods sold: its own counter under
                # standard cost (the stock value is at the standard of the day), else the value
                cost = doc.counters.get(line.line_no, {}).get(
                    "cogs", doc.counter(line.line_no, "value"))
                key = f"{_posted_month(w, dl)}|{doc.doc_id}|{line.line_no}"
                if w.uow.records.get(LATE_RETURN, key) is not None:  # cancelled: not followed
                    w.uow.records.put(LATE_RETURN, key, {"cancelled": True})
                # what back-dating added to its value is no longer taken back of the delivery
                Jxc._return_cancelled(w, _group_ref(dl.doc_type.value, dl.doc_id, n),
                                      _group_ref(doc.doc_type.value, doc.doc_id, line.line_no))
            else:
                issue_ref = _group_ref(dl.doc_type.value, dl.doc_id, n)
                # what the delivery line costs now: its cost when posted, plus what cost
                # adjustments (shortage settlements, back-dating) added since, less the value
                # of the units already returned, with what back-dating added to it (never
                # below zero)
                cost_left = max(ZERO, dl.counter(n, "cost")
                                + Jxc._cost_change_at(w, issue_ref, line.item, when)
                                - dl.counter(n, "returned_value")
                                - Jxc._returned_change(w, issue_ref))
                left = delivered - returned
                cost = cost_left if q == left else round_money(
                    DIVISION_CONTEXT.divide(q * cost_left, left), self.jxc.currency_digits)
                # under the monthly average a delivery of the open month is taken back by
                # quantity (its cost counter is still 0.00) and valued at the close
                self._check_monthly_return(w, line, dl.line(n).warehouse, issue_ref)
                self._note_late_return(w, doc, line, dl, n, issue_ref, q, cost, when)
                stock.append(StockLine(line.item, line.warehouse, line.quantity, IN,
                                       value=cost, unit=line.unit, lot=lot,
                                       location=line.location, kind="sales_return",
                                       from_ref=issue_ref, line_no=line.line_no))
            cogs[line.line_no] = cost
            credit = {_RETURNED_INVOICED: sign * q_inv} if q_inv else {}
            self._bump(w, dl.doc_id, n, {"returned": sign * q, "returned_value": sign * cost,
                                         **credit}, cache)
            _note_returned_serials(doc, line, cache[dl.doc_id], n, reverse)
            src_line = dl.line(n)
            self._reopen(w, src_line, q, sign, cache, "delivered", "demand", q_inv)
        returned_at = None
        if not reverse:  # under moving average the units go back into the delivery's rows
            moments = [self._posted_at(cache[line.source[0]], w.zone) for line in doc.lines
                       if line.source is not None and line.source[0] in cache]
            known = [m for m in moments if m is not None]
            returned_at = min(known) if known and len(known) == len(moments) else None
        values = self._stock(w, doc, stock, when, reverse, book=book, returned_at=returned_at)
        counters = {}
        for line in doc.lines:
            value = _cost(values, line.line_no, out=reverse)
            book.add(line, "inventory", value, debit=True)
            counters[line.line_no] = {"returned": self._base(w, line), "value": value}
            if w.item(line.item).costing_method == "standard":
                # stock is carried at the standard of the day; cost of goods sold takes back
                # the cost at which the delivery left stock (DOMAIN.md section 2), and a new
                # standard since is a variance (材料成本差异), as the revaluation booked it
                back = cogs[line.line_no]
                book.add(line, "cogs", back, debit=False)
                book.add(line, "material_variance", back - value, debit=True)
                if back != value and not reverse:
                    counters[line.line_no]["cogs"] = back
            else:
                book.add(line, "cogs", value, debit=False)
            if to_credit[line.line_no]:
                counters[line.line_no][_TO_CREDIT] = to_credit[line.line_no]
        self._flush(w, cache)
        return _evolve(doc, counters=counters) if not reverse else doc

    @staticmethod
    def _note_late_return(w: _Work, doc: Document, line: Line, dl: Document, n: int,
                          issue_ref: str, q: Decimal, cost: Decimal, when: dt.datetime
                          ) -> None:
        """Under the monthly average a return of a delivery of a closed month comes back at
        the cost that close gave it. Noted (``late_return`` records, by the delivery's month),
        so that if that month is reopened and valued anew the return follows the new cost
        (:meth:`Accounting.close_period`)."""
        item = w.item(line.item)
        if item.costing_method != "monthly_average":
            return
        v = w.valuation(item, dl.line(n).warehouse)
        if not isinstance(v, MonthlyScope) or v.can_take_back(issue_ref):
            return  # a delivery of an open month: taken back by quantity, valued at its close
        month = _posted_month(w, dl)
        scope = w.scope(item, line.warehouse)
        w.uow.records.put(LATE_RETURN, f"{month}|{doc.doc_id}|{line.line_no}", {
            "scope": list(scope), "issue": issue_ref,
            "ref": _group_ref(doc.doc_type.value, doc.doc_id, line.line_no),
            "quantity": str(q), "value": str(cost), "at": when.isoformat(),
            "party": doc.party})

    @staticmethod
    def _check_monthly_return(w: _Work, line: Line, delivered_from: str, issue_ref: str
                              ) -> None:
        """Under the monthly average a return of a delivery of the open month goes back to
        the costing scope it left: elsewhere it would carry a value known only at month end
        (like a transfer of such an item, refused the same way)."""
        item = w.item(line.item)
        if item.costing_method != "monthly_average" or (
                w.scope(item, line.warehouse) == w.scope(item, delivered_from)):
            return
        v = w.valuation(item, delivered_from)
        if isinstance(v, MonthlyScope) and v.can_take_back(issue_ref):
            raise JxcError("configuration", reason=f"{item.code} is costed by monthly average "
                           f"per warehouse: a return of a delivery of the open month goes back "
                           f"to {delivered_from}, where its cost is known at month end (or "
                           "use organisation_scope)",
                           reason_zh=f"{item.code} 按仓库采用月末一次加权平均：本月未结账期间的销"
                                     f"售退货须退回 {delivered_from}，其成本到月末才知道（或用 "
                                     f"organisation_scope）")

    def _sales_invoice(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                       reverse: bool) -> Document:
        if self._credit_note(w, doc):
            return self._sales_credit_note(w, doc, book, reverse)
        cache: dict[str, Document] = {}
        sign = -1 if reverse else 1
        for line in doc.lines:
            assert line.source is not None
            dl = cache.get(line.source[0]) or self._load(w, line.source[0])
            if not reverse:
                self._posted_source(doc, line, dl)
            n = line.source[1]
            q = self._base(w, line)
            open_q = (dl.counter(n, "delivered") - dl.counter(n, "returned")
                      - dl.counter(n, "invoiced") + dl.counter(n, _RETURNED_INVOICED))
            if not reverse and q > open_q:
                raise JxcError("over_receipt", order=dl.doc_id, line=n, kind="invoice",
                               quantity=q, open=open_q, tolerance=0)
            if reverse:
                self._still_invoiced(doc, line, dl, q)
            self._bump(w, dl.doc_id, n, {"invoiced": sign * q}, cache)
            src_line = dl.line(n)
            if src_line.source is not None:
                self._bump(w, src_line.source[0], src_line.source[1], {"invoiced": sign * q},
                           cache)
            amounts = line.amounts(doc.amount_digits)
            book.add(line, "receivable", amounts.gross, debit=True, warehouse="")
            book.add(line, "revenue", amounts.net, debit=False, warehouse="")
            book.add(line, "output_tax", amounts.tax, debit=False, warehouse="")
        self._flush(w, cache)
        counters = {line.line_no: {"invoiced": self._base(w, line)} for line in doc.lines}
        return _evolve(doc, counters=counters) if not reverse else doc

    # inventory documents -----------------------------------------------------------------------
    def _transfer(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                  reverse: bool) -> Document:
        """Post the lines in order; cancelled, undo them last first: a line may move on
        units an earlier line brought (moved from A to B, then sent from B to another
        warehouse), so each is undone while its units are where it put them. The red
        voucher keeps the rows in the order of the lines (the posted voucher, mirrored)."""
        counters = {}
        moved: dict[str, list[list[str]]] = {}
        #: per line between warehouses, the source rows it took (see :func:`_sent_rows`);
        #: documents posted before lines had locations have none
        sent: dict[str, list[list[str]]] = dict(doc.attributes.get("sent", {})) if reverse \
            else {}
        #: per line cancelled, its voucher rows (taken out of ``book`` as they come)
        red: dict[int, tuple[list[dict[str, Any]], list[Decimal]]] = {}
        #: on hand before the document of each watched (item, warehouse): one low-stock
        #: event per crossing by the whole document, not per line
        low: dict[tuple[str, str], Decimal] = {}
        for line in (reversed(doc.lines) if reverse else doc.lines):
            if line.to_warehouse == line.warehouse:  # a location move: no accounting effect
                rows, value = self._move_line(w, doc, line, when, reverse)
                if rows:
                    moved[str(line.line_no)] = rows
                counters[line.line_no] = {"moved": self._base(w, line), "value": value}
                continue
            mark = len(book.rows)
            exact = False
            if reverse:
                back = sent.get(str(line.line_no))
                stock, landing = self._transfer_back(w, doc, line, back)
                src, dst = line.to_warehouse, line.warehouse
                exact = bool(back)  # the rows it filled (a document without them: any row)
            else:
                # the line is a demand (DOMAIN 4): it may take and consumes the units
                # reserved for it, as ``Jxc.transfer(..., demand=...)`` does
                stock = [StockLine(line.item, line.warehouse, line.quantity, OUT,
                                   unit=line.unit, lot=line.lot, location=line.location,
                                   demand=f"{doc.doc_id}/{line.line_no}",
                                   kind="transfer_out", line_no=line.line_no)]
                landing = [line.to_location]
                src, dst = line.warehouse, line.to_warehouse
            posting = self.jxc._post(w, doc.doc_type.value, self._doc_ref(doc, reverse),
                                     _with_serials(doc, stock), when, dst, landing,
                                     exact_rows=exact,
                                     issued_at=self._posted_at(doc, w.zone) if reverse else None,
                                     reverses=doc.doc_id if reverse else None,
                                     low_stock=low)
            if not reverse:
                sent[str(line.line_no)] = _sent_rows(posting.entries, src)
            self._book_cost_entries(w, book, posting.entries)
            value = sum((e.value for e in posting.entries if e.kind == "transfer_in"), ZERO)
            left = -sum((e.value for e in posting.entries
                         if e.quantity < 0 and e.warehouse == src), ZERO)
            # the rows of the line as posted, those of a cancellation the same rows in red
            # (the book turns them): in the target what arrived, out of the source what left
            into, out = (left, value) if reverse else (value, left)
            book.add(line, "inventory", into, debit=True, warehouse=line.to_warehouse)
            book.add(line, "inventory", out, debit=False, warehouse=line.warehouse)
            if into != out:
                # at standard cost the units enter at the standard of what arrived, and leave
                # with the rounding their warehouse kept (13.34 out, 13.33 in): the cent is a
                # variance, not stock (it stayed on the inventory account)
                book.add(line, "material_variance" if w.item(line.item).costing_method
                         == "standard" else "price_difference", out - into, debit=True)
            counters[line.line_no] = {"moved": self._base(w, line), "value": value}
            if reverse:
                red[line.line_no] = book.take_since(mark)
        self.jxc._low_stock_events(w, low)
        if reverse:
            for line in doc.lines:
                if line.line_no in red:
                    book.put_back(*red[line.line_no])
            return doc
        for line in doc.lines:  # a posted line is done: what is still reserved for it (more
            # than it moved, or for a location move, which consumes none) is let go
            self.jxc._release(w, f"{doc.doc_id}/{line.line_no}")
        extra = {k: v for k, v in (("moved", moved), ("sent", sent)) if v}
        if extra:
            return _evolve(doc, counters=counters, attributes={**doc.attributes, **extra})
        return _evolve(doc, counters=counters)

    def _transfer_back(self, w: _Work, doc: Document, line: Line,
                       rows: Sequence[Sequence[str]] | None
                       ) -> tuple[list[StockLine], list[str]]:
        """The cancellation of a transfer line between warehouses: out of ``to_warehouse``
        at ``to_location`` (where the units landed), back into ``warehouse`` on the rows the
        line took (``rows``: ``[location, lot, quantity]``, base units), a line per row, each
        taking its units from the layer the transfer made there (refused when some of it has
        left, :meth:`_intact`). Each out line takes exactly the row it names (posted with
        ``exact_rows``: lot ``""`` or ``to_location`` ``""`` is the row without one, never
        another lot or location). Without ``rows`` (a document posted before transfers kept
        them): the line out of ``to_warehouse`` as it was (any row there) into the row
        without a location. Returns the out lines and where each lands."""
        # costed by organisation a transfer moves no value and makes no layer to check
        from_ref = (None if self.jxc.organisation_scope
                    else self._intact(w, doc, line, "transfer"))
        if not rows:
            return [StockLine(line.item, line.to_warehouse, line.quantity, OUT, unit=line.unit,
                              lot=line.lot, from_ref=from_ref, kind="transfer_out",
                              line_no=line.line_no)], [""]
        return ([StockLine(line.item, line.to_warehouse, Decimal(qty), OUT, lot=lot,
                           location=line.to_location, from_ref=from_ref,  # base units
                           kind="transfer_out", line_no=line.line_no)
                 for _, lot, qty in rows],
                [location for location, _, _ in rows])

    def _move_line(self, w: _Work, doc: Document, line: Line, when: dt.datetime,
                   reverse: bool) -> tuple[list[list[str]], Decimal]:
        """A transfer line inside one warehouse: a location move (:meth:`Jxc.move`) from
        ``line.location`` to ``line.to_location``. Returns the rows it took when they are not
        just the line's own lot (``[lot, quantity]``, base units: lots picked FEFO), and the
        value moved. Cancelled, it moves what it moved back: each lot it took, from
        ``to_location`` to ``location``, taking exactly those rows (lot ``""`` the row without
        a lot, never another lot lying there; refused when those units are no longer
        there)."""
        if not reverse:
            sl = StockLine(line.item, line.warehouse, line.quantity, OUT, unit=line.unit,
                           lot=line.lot, location=line.location, kind="move_out",
                           demand=f"{doc.doc_id}/{line.line_no}",  # may move what is its own
                           serials=line.serials, line_no=line.line_no)
            posting = self.jxc._move(w, doc.doc_type.value, doc.doc_id,
                                     [(sl, line.to_location)], when)
            taken: dict[str, Decimal] = {}
            for e in posting.entries:
                if e.quantity < 0:
                    taken[e.lot] = taken.get(e.lot, ZERO) - e.quantity
            rows = ([] if list(taken) == [line.lot] else
                    [[lot, str(q)] for lot, q in taken.items()])
            return rows, sum((e.value for e in posting.entries if e.quantity > 0), ZERO)
        picked = doc.attributes.get("moved", {}).get(str(line.line_no))
        parts = ([(lot, Decimal(q)) for lot, q in picked] if picked else
                 [(line.lot, self._base(w, line))])
        outs = _with_serials(doc, [StockLine(line.item, line.warehouse, q, OUT, lot=lot,
                                             location=line.to_location,  # base units
                                             kind="move_out", line_no=line.line_no)
                                   for lot, q in parts])
        back = [(out, line.location) for out in outs]
        posting = self.jxc._move(w, doc.doc_type.value, self._doc_ref(doc, reverse), back, when,
                                 exact_rows=True, reverses=doc.doc_id)
        return [], sum((e.value for e in posting.entries if e.quantity > 0), ZERO)

    def _adjustment(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                    reverse: bool) -> Document:
        role = str(doc.attributes.get("account_role", "adjustment"))
        # an out line picked from other rows than its own (FEFO lots, locations) goes back
        # into them when cancelled (``attributes["picked"]``, as a delivery)
        rows = ({int(n): r for n, r in doc.attributes.get("picked", {}).items()} if reverse
                else None)
        posted: list[LedgerEntry] = []
        out = self._signed_lines(w, doc, when, book, reverse, role,
                                 {line.line_no: line.quantity for line in doc.lines},
                                 {line.line_no: line.price for line in doc.lines}, rows, posted,
                                 priced=True)
        picked = {} if reverse else _picked_rows(doc, posted, "adjustment_out")
        if picked:
            return attrs.evolve(out, attributes={**out.attributes, "picked": picked})
        return out

    def _signed_lines(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                      reverse: bool, role: str, qty: Mapping[int, Decimal],
                      unit_cost: Mapping[int, Decimal],
                      rows: Mapping[int, Sequence[Sequence[str]]] | None = None,
                      posted: list[LedgerEntry] | None = None, base: bool = False,
                      serials: Mapping[int, tuple[Sequence[str], Sequence[str]]] | None = None,
                      priced: bool = False) -> Document:
        """Lines that add (+) or remove (-) stock against ``role`` (adjustments, counts).

        ``qty`` and ``unit_cost`` are in each line's unit, or in the item's base unit with
        ``base=True`` (a count's variance, worked out in base units).

        ``rows``: per line that removes stock, the balance rows it takes its quantity from,
        ``[location, lot, quantity]`` (a count's loss in a location); cancelled, the line puts
        it back on those rows, ``[location, lot, quantity, value]``. ``posted`` receives the
        ledger entries.

        ``serials`` (a count of serial-tracked items, base units): per line, the serial
        numbers it gains and those it loses, ``(gained, lost)``. Such a line moves both, each
        as the line of that sign would (the loss first, so that it leaves from the stock
        there was), each stock line carrying its serials; ``qty`` holds their net, which the
        line books and counts as any other.

        ``priced`` (an adjustment: its lines' prices are prices): a posted line that adds stock
        of a standard-cost item books ``role`` at its own amount, ``round_money(quantity x
        price)`` in its unit — what the costing engine took as the receipt's cost — the stock
        at standard and the difference to ``material_variance`` (材料成本差异), as a purchase
        receipt does; its ``value`` counter keeps that amount, what the line booked to
        ``role``, which a cancellation undoes. A count's cost is no price: it moves at
        standard."""
        stock: list[StockLine] = []
        for line in doc.lines:
            q = qty.get(line.line_no, ZERO)
            pair = (serials or {}).get(line.line_no)
            if pair is not None:
                gained, lost = pair
                for signed, listed in ((-len(lost), lost), (len(gained), gained)):
                    if listed:
                        stock += _spread(self._signed_stock(
                            w, doc, line, Decimal(signed), reverse, unit_cost, rows, base,
                            when),
                            tuple(listed))
            elif q:
                stock += self._signed_stock(w, doc, line, q, reverse, unit_cost, rows, base,
                                            when)
        if serials and posted is None:
            posted = []  # the value of each movement of a line that gains and loses
        values = self._stock(w, doc, stock, when, reverse, book=book, posted=posted)
        counters: dict[int, dict[str, Decimal]] = {}
        for line in doc.lines:
            q = qty.get(line.line_no, ZERO)
            value = values.get(line.line_no, ZERO)
            if reverse:
                value = -value
            # cancelled at standard cost: the units move at the standard of the day, the
            # counter role is undone at what the line booked to it (its counters); so under
            # moving average, where the units of the line no longer on hand leave at the
            # average (the difference is a cost of goods sold correction)
            method = w.item(line.item).costing_method if reverse else ""
            booked = (doc.counters.get(line.line_no, {})
                      if method in ("standard", "moving_average") else {})
            variance = "cogs" if method == "moving_average" else "material_variance"
            pair = (serials or {}).get(line.line_no)
            if pair is not None:  # its gain and its loss booked apart, as two lines would
                assert posted is not None
                gain, loss = self._moved_values(posted, line.line_no, reverse)
                at_loss = -booked["loss_value"] if "loss_value" in booked else loss
                for part, at in ((loss, at_loss), (gain, booked.get("gain_value", gain))):
                    book.add(line, "inventory", part, debit=True)
                    self._book_counter_role(book, line, role, part, at, variance)
                counters[line.line_no] = {"quantity": q, "value": abs(value),
                                          "gained": Decimal(len(pair[0])), "gain_value": gain,
                                          "lost": Decimal(len(pair[1])), "loss_value": -loss}
                continue
            if value or q:
                book.add(line, "inventory", value, debit=True)
                at = value
                if "value" in booked:  # (kept unsigned: the sign of the line's quantity)
                    at = booked["value"] if q > 0 else -booked["value"]
                elif (priced and q > 0 and not reverse
                      and w.item(line.item).costing_method == "standard"):
                    # the price is the receipt's cost (the engine's price_variance): the
                    # counter role at the line's amount, the rest is material_variance
                    at = round_money(multiply(q, unit_cost.get(line.line_no, ZERO)),
                                     self.jxc.currency_digits)
                self._book_counter_role(book, line, role, value, at, variance)
            else:
                at = value
            if not base and q and line.unit is not None:  # counters are in base units
                b = w.item(line.item).to_base(abs(q), line.unit)
                q = b if q > 0 else -b
            # ``value``: what the line booked to ``role`` (the stock value but for a priced
            # line in of a standard-cost item), which its cancellation undoes
            counters[line.line_no] = {"quantity": q, "value": abs(at)}
        return _evolve(doc, counters=counters) if not reverse else doc

    @staticmethod
    def _book_counter_role(book: _Book, line: Line, role: str, value: Decimal,
                           booked: Decimal, variance: str = "material_variance") -> None:
        """The counter side of a stock ``value`` moved by an adjustment or count line (signed
        as the line posted it: + for units in): ``role`` takes ``booked`` — the value itself
        when posting (an adjustment line in of a standard-cost item: its quantity x price);
        cancelled under standard cost or moving average, what the line booked to it when
        posted — and the difference goes to ``variance``: under standard cost
        ``material_variance``, the price variance of such a line and the revaluation of those
        units by new standards since (材料成本差异), as for a purchase receipt and a customer
        return; under moving average ``cogs``, the units of the line
        that left meanwhile taken back at the average instead of their own cost (what the
        issues that took them at the average cost too little or too much)."""
        book.add(line, role, booked, debit=False)
        book.add(line, variance, value - booked, debit=False)

    @staticmethod
    def _moved_values(posted: Sequence[LedgerEntry], line_no: int, reverse: bool
                      ) -> tuple[Decimal, Decimal]:
        """(gain, loss) of a line that moves stock in and out (signed: the gain +, the loss
        -, as :meth:`Documents._stock` counts a line's value), from its ledger entries:
        posted, the entries in and out; reversed, the entries that take them back."""
        into = out = ZERO
        for e in posted:
            if e.line_no == line_no and e.quantity:
                if e.quantity > 0:
                    into += e.value
                else:
                    out += e.value
        return (-out, -into) if reverse else (into, out)

    def _signed_stock(self, w: _Work, doc: Document, line: Line, q: Decimal, reverse: bool,
                      unit_cost: Mapping[int, Decimal],
                      rows: Mapping[int, Sequence[Sequence[str]]] | None, base: bool,
                      when: dt.datetime) -> list[StockLine]:
        """The stock lines of the signed quantity ``q`` of ``line`` (:meth:`_signed_lines`)."""
        stock: list[StockLine] = []
        unit = None if base else line.unit
        going_in = (q > 0) != reverse
        taken = (rows or {}).get(line.line_no)
        # what corrections (back-dating, a charge's cancellation, a shortage's settlement)
        # added to the cost of the out line since it was posted: it comes back at that cost
        change = (Jxc._cost_change_at(w, _group_ref(doc.doc_type.value, doc.doc_id,
                                                    line.line_no), line.item, when)
                  if going_in and reverse else ZERO)
        if going_in and reverse and taken:  # back where it was taken, row by row
            group = _group_ref(doc.doc_type.value, doc.doc_id, line.line_no)
            shares = self._row_shares(taken, change) if change else [ZERO] * len(taken)
            for (location, lot, part, left_with), share in zip(taken, shares, strict=True):
                part_value = (max(ZERO, Decimal(left_with) + share) if change
                              else Decimal(left_with))
                stock.append(StockLine(line.item, line.warehouse, Decimal(part), IN,
                                       value=part_value, lot=lot,  # base units
                                       location=location, from_ref=group,
                                       kind=f"{doc.doc_type.value}_reversal",
                                       line_no=line.line_no))
        elif going_in and reverse:  # under the monthly average: takes back its issue
            stock.append(StockLine(line.item, line.warehouse, abs(q), IN,
                                   value=max(ZERO, doc.counter(line.line_no, "value") + change),
                                   unit=unit, lot=line.lot, location=line.location,
                                   from_ref=_group_ref(doc.doc_type.value, doc.doc_id,
                                                       line.line_no),
                                   kind=f"{doc.doc_type.value}_reversal",
                                   line_no=line.line_no))
        elif going_in:
            stock.append(StockLine(line.item, line.warehouse, abs(q), IN,
                                   unit_cost=unit_cost.get(line.line_no, ZERO),
                                   unit=unit, lot=line.lot, expiry=line.expiry,
                                   location=line.location, kind=f"{doc.doc_type.value}_in",
                                   line_no=line.line_no))
        elif taken and not reverse:
            for location, lot, part in taken:
                stock.append(StockLine(line.item, line.warehouse, Decimal(part), OUT,
                                       lot=lot, location=location,  # base units
                                       kind=f"{doc.doc_type.value}_out",
                                       line_no=line.line_no))
        else:
            from_ref = (self._intact(w, doc, line, "adjustment", when) if reverse else None)
            stock.append(StockLine(line.item, line.warehouse, abs(q), OUT, unit=unit,
                                   lot=line.lot, location=line.location, from_ref=from_ref,
                                   kind=f"{doc.doc_type.value}_out",
                                   line_no=line.line_no))
        return stock

    def _stock_count(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                     reverse: bool) -> Document:
        qty: dict[int, Decimal] = {}
        cost: dict[int, Decimal] = {}
        # the variance is in base units (``count_base``: counts posted before it moved it in the
        # line's unit, and are reversed as they were posted)
        base = not reverse or bool(doc.attributes.get("count_base"))
        #: a loss of a located line: the rows of its location it leaves; of a line without a
        #: location or lot that counts expired lots: those lots, by name, then the rest
        #: (``["", "", quantity]``: the usable lots, picked by the stock service). Cancelled,
        #: the rows it goes back to with the value each took: ``attributes["loss_rows"]``
        rows: dict[int, list[list[str]]] = {}
        #: a line of a serial-tracked item: the serials it gains and loses (``_count_moves``);
        #: cancelled, it takes back those it gained and puts back those it lost
        #: (``attributes["count_serials"]``)
        moves: dict[int, tuple[Sequence[str], Sequence[str]]] = {}
        if reverse:
            for line in doc.lines:
                qty[line.line_no] = doc.counter(line.line_no, "quantity")
            rows = {int(n): r for n, r in doc.attributes.get("loss_rows", {}).items()}
            moves = {int(n): (gained, lost) for n, (gained, lost)
                     in doc.attributes.get("count_serials", {}).items()}
        else:
            _check_count_lines(doc)  # a draft stored before the rule
            doc = self._release_count(w, doc)
            for line in doc.lines:
                if line.counted is None:
                    raise JxcError("invalid_document", doc_id=doc.doc_id,
                                   reason=f"line {line.line_no} has not been counted",
                                   reason_zh=f"第 {line.line_no} 行尚未盘点")
                item = w.item(line.item)
                counted = item.to_base(line.counted, line.unit)
                if item.serial_tracked or line.serials:  # (an item serial-tracked since)
                    _check_line_serials(doc, line, item)
                if item.serial_tracked:
                    gained, lost = self._count_moves(w, doc, line)
                    moves[line.line_no] = (gained, lost)
                    qty[line.line_no] = Decimal(len(gained) - len(lost))
                    if gained:  # (only a gain needs a cost, see below)
                        cost[line.line_no] = self._count_cost(w, item, line, when)
                    continue
                # against the book when the figure was entered (counts entered before it was
                # kept: the book now)
                entered = doc.attributes.get("counted_book", {}).get(str(line.line_no))
                qty[line.line_no] = counted - (self._entered_book(w, line, entered)
                                               if entered is not None
                                               else self._count_on_hand(w, line))
                if line.location and qty[line.line_no] < 0:
                    rows[line.line_no] = self._count_loss_rows(w, line, -qty[line.line_no])
                elif not line.lot and qty[line.line_no] < 0:
                    parts = self._count_expired_parts(w, line, -qty[line.line_no])
                    if parts:
                        rows[line.line_no] = parts
                if qty[line.line_no] > 0:
                    # only a gain needs a cost: reading it loads the scope's valuation, which
                    # the unit of work then stores, and a line that moves nothing in a
                    # warehouse without stock would leave a state behind there that has no
                    # balance row — one a new standard never reaches (it revalues the
                    # warehouses with balances), so a later receipt came in at the old one
                    cost[line.line_no] = self._count_cost(w, item, line, when)
        posted: list[LedgerEntry] = []
        out = self._signed_lines(w, doc, when, book, reverse, "count_gain_loss", qty, cost,
                                 rows, posted, base=base, serials=moves)
        if not reverse:
            attributes = {**doc.attributes, "count_base": True}
            kept = {str(n): [list(gained), list(lost)] for n, (gained, lost) in moves.items()
                    if gained or lost}
            if kept:
                attributes["count_serials"] = kept
            doc = _evolve(doc, attributes=attributes)
        if reverse:
            return attrs.evolve(out, attributes=doc.attributes)
        # every loss, located or not, keeps the rows it left and the value each took, so that
        # a cancellation puts them back where they were (a line without a lot of a
        # lot-tracked item leaves lot by lot: it cannot come back without its lots)
        taken: dict[tuple[int, str, str], list[Decimal]] = {}
        for e in posted:
            if e.kind == "stock_count_out":
                pair = taken.setdefault((e.line_no, e.location, e.lot), [ZERO, ZERO])
                pair[0] -= e.quantity
                pair[1] -= e.value
        if not taken:
            return attrs.evolve(out, attributes=doc.attributes)
        loss_rows: dict[str, list[list[str]]] = {}
        for (n, loc, lot), (q, value) in taken.items():
            loss_rows.setdefault(str(n), []).append([loc, lot, str(q), str(value)])
        return attrs.evolve(out, attributes={**doc.attributes, "loss_rows": loss_rows})

    @staticmethod
    def _count_cost(w: _Work, item: Item, line: Line, when: dt.datetime) -> Decimal:
        """The unit cost of a count line's gain: the scope's average (value ÷ quantity; 0 when
        nothing is on hand), under the monthly average the count month's unit cost as it
        stands."""
        v = w.valuation(item, line.warehouse)
        if isinstance(v, MonthlyScope):  # the value leaves out the open months' issues, not
            # valued before close
            return v.preview_unit_cost(w.month_of(when))
        return DIVISION_CONTEXT.divide(v.value, v.quantity) if v.quantity > 0 else ZERO

    def _count_moves(self, w: _Work, doc: Document, line: Line
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The serial numbers a count line of a serial-tracked item gains and loses, against
        those on hand when its figure was entered (``attributes["book_serials"]``; a figure
        entered before they were kept: those on hand now): gained, those counted that were
        not on hand then (in the order counted); lost, those on hand then that were not
        counted (sorted). What moved since by documents of its own is neither: a counted
        serial on hand here now (received since) is not gained, a serial not counted that has
        left since (delivered) is not lost. A counted serial on hand in another warehouse is
        refused (``serial_on_hand``, naming it and where it is), nothing written."""
        here = w.uow.serials.in_warehouse(line.item, line.warehouse)
        entered = doc.attributes.get("book_serials", {}).get(str(line.line_no))
        if entered is None:
            entered = self._serials_here(w, doc, line, self._count_on_hand(w, line))
        self._serials_elsewhere(w, line, here)
        then, now = set(entered), set(here)
        gained = tuple(s for s in line.serials if s not in then and s not in now)
        counted = set(line.serials)
        lost = tuple(s for s in entered if s not in counted and s in now)
        return gained, lost

    def _count_loss_rows(self, w: _Work, line: Line, qty: Decimal) -> list[list[str]]:
        """The rows the loss ``qty`` of a count line with a location leaves from: the rows of
        its location — of its lot, or, without a lot, lot by lot first expired first out,
        the expired lots included (they come first: they expired first, and they are what
        was thrown away) — each up to its on hand - held. What they do not have is refused
        (``insufficient_stock`` naming the location), unless the item allows negative stock:
        then the last row taken (or the line's lot) takes it. Returns ``[location, lot,
        quantity]`` per row (the stock service checks the claims of others on each lot:
        reservations naming it, holds)."""
        rows = [b for b in w.group(line.item, line.warehouse).values() if _counts(line, b)]
        if not line.lot:
            rows = self._count_rows(w, line)
        parts: dict[str, Decimal] = {}
        left = qty
        for b in rows:
            take = min(left, b.on_hand - b.held)
            if take > 0:
                parts[b.lot] = take
                left -= take
            if not left:
                break
        if left:
            if not w.allows_negative(w.item(line.item), line.warehouse):
                raise InsufficientStockError(item=line.item, warehouse=line.warehouse,
                                             location=line.location, lot=line.lot, needed=qty,
                                             on_hand=qty - left, short=left)
            last = next(reversed(parts), line.lot)
            parts[last] = parts.get(last, ZERO) + left
        return [[line.location, lot, str(q)] for lot, q in parts.items()]

    def _count_expired_parts(self, w: _Work, line: Line, qty: Decimal) -> list[list[str]]:
        """The loss ``qty`` of a count line without a location or lot, when it counts expired
        lots with stock: those lots first expired first out, each up to its on hand - held
        (summed over its locations), named (``["", lot, quantity]``: the stock service takes
        an expired lot a ``stock_count_out`` line names, and checks the claims of others on
        it: reservations naming it, holds), then what is left as a line without a lot
        (``["", "", quantity]``: the usable lots, picked as before). Empty when the line
        counts no expired stock that is free of holds: the line goes through as it is."""
        parts: dict[str, Decimal] = {}
        left = qty
        for b in self._count_rows(w, line, expired_only=True):
            take = min(left, b.on_hand - b.held)
            if take > 0:
                parts[b.lot] = parts.get(b.lot, ZERO) + take
                left -= take
            if not left:
                break
        if not parts:
            return []
        out = [["", lot, str(q)] for lot, q in parts.items()]
        return [*out, ["", "", str(left)]] if left else out

    def _landed_cost(self, w: _Work, doc: Document, when: dt.datetime, book: _Book,
                     reverse: bool) -> Document:
        sign = -1 if reverse else 1
        basis = AllocationBasis(doc.attributes.get("basis", "value"))
        targets: list[tuple[Document, Line]] = []
        cache: dict[str, Document] = {}  # the receipts, counting their landed costs
        for rid in doc.attributes["receipts"]:
            rc = cache.get(rid) or self._load(w, rid)
            cache[rid] = rc
            if rc.state != State.POSTED and not _closed_before(rc):
                raise JxcError("invalid_document", doc_id=doc.doc_id,
                               reason=f"{rid} is {rc.state.value}, not posted",
                               reason_zh=f"{rid} 的状态是 {rc.state.value}，未过账")
            targets += [(rc, line) for line in rc.lines]
        # the basis "value" is each receipt line's value in the book currency: its net at the
        # receipt's rate, what it entered stock at (receipts in several currencies, or in one
        # currency at several rates, weigh what they cost; a book-currency receipt: its net)
        alloc = [AllocationLine(f"{rc.doc_id}/{line.line_no}", self._base(w, line),
                                self._book_amount(rc, line.amounts(rc.amount_digits).net),
                                line.weight, line.volume)
                 for rc, line in targets]
        net, tax = doc.net_total, doc.tax_total  # the charges, in the document's currency
        shares = allocate_landed_cost(self._book_amount(doc, net), alloc, basis,
                                      self.jxc.currency_digits)
        for rc, line in targets:
            share = shares[f"{rc.doc_id}/{line.line_no}"]
            if not share:
                continue
            # the receipt line carries it (``landed``): the receipt cannot be cancelled while
            # a landed cost on it stands
            self._bump(w, rc.doc_id, line.line_no, {"landed": sign * share}, cache)
            kept, issued, variance, written = self.jxc._apply_receipt_cost(
                w, line.item, line.warehouse, self._receipt_ref(w, rc.doc_id, line),
                sign * share, doc.doc_type.value, self._doc_ref(doc, reverse), line.line_no,
                when, self._base(w, line), receipt=(rc.doc_id, line.line_no),
                received_at=self._posted_at(rc, w.zone))
            self._book_cost_entries(w, book, written[1:])
            book.add(line, "inventory", sign * kept, debit=True)
            book.add(line, "cogs", sign * issued, debit=True)
            book.add(line, "material_variance", sign * variance, debit=True)
        book.add(None, "input_tax", tax, debit=True)
        book.add(None, "payable", net + tax, debit=False)
        self._flush(w, cache)
        if not reverse:
            doc = _evolve(doc, attributes={**doc.attributes, "shares": {
                k: str(v) for k, v in shares.items()}})
        return doc

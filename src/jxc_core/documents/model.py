"""Documents (单据) and their lines: amounts with VAT, per-line fulfilment counters.

Amounts (domain rules 5-6): a line's price is with or without VAT (``price_includes_tax``); tax is
rounded per line (ROUND_HALF_UP):

* without tax: ``net = round(qty x price)``, ``tax = round(net x rate)``, ``gross = net + tax``;
* with tax: ``gross = round(qty x price)``, ``net = round(gross / (1 + rate))``,
  ``tax = gross - net`` — so 价税合计 is exactly what was typed.

A document's amounts are in its own currency, rounded at that currency's digits
(:attr:`Document.amount_digits`): CNY/USD 2, JPY 0, BHD 3.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import attrs

from jxc_core.documents.lifecycle import State
from jxc_core.errors import JxcError
from jxc_core.values import (
    DIVISION_CONTEXT,
    MAX_LINE_NO,
    MAX_MAGNITUDE,
    ZERO,
    check_amount,
    check_number,
    check_text,
    currency_minor_unit,
    multiply,
    round_money,
)

__all__ = [
    "VAT_RATES",
    "ActionRecord",
    "DocType",
    "Document",
    "Fulfilment",
    "Line",
    "LineAmounts",
    "line_amounts",
]

#: China's VAT rates (增值税税率)
VAT_RATES = (Decimal("0.13"), Decimal("0.09"), Decimal("0.06"), Decimal("0.03"),
             Decimal("0.01"), Decimal("0"))


class Fulfilment(enum.StrEnum):
    """How far an order is fulfilled (执行状态), derived from its line counters by
    :attr:`Document.fulfilment`: what was received (delivered) less what went back, against what
    was ordered, and what was invoiced of it."""

    #: nothing kept on any line yet (未执行): not posted, or all of it returned
    NONE = "none"
    #: some kept, some line still short of its ordered quantity (部分执行: a backorder remains)
    PARTIAL = "partial"
    #: every line kept its ordered quantity or more (全部入库 / 全部出库)
    COMPLETE = "complete"
    #: complete, and every line invoiced for what it kept (全部开票)
    INVOICED = "invoiced"


class DocType(enum.StrEnum):
    PURCHASE_ORDER = "purchase_order"  # 采购订单
    PURCHASE_RECEIPT = "purchase_receipt"  # 采购入库单
    PURCHASE_RETURN = "purchase_return"  # 采购退货单
    PURCHASE_INVOICE = "purchase_invoice"  # 采购发票
    SALES_ORDER = "sales_order"  # 销售订单
    DELIVERY = "delivery"  # 销售出库单
    SALES_RETURN = "sales_return"  # 销售退货单
    SALES_INVOICE = "sales_invoice"  # 销售发票
    TRANSFER = "transfer"  # 调拨单
    STOCK_COUNT = "stock_count"  # 盘点单
    ADJUSTMENT = "adjustment"  # 其他出入库
    LANDED_COST = "landed_cost"  # 费用分摊


@attrs.frozen(slots=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(quantity: Decimal, price: Decimal, tax_rate: Decimal, includes_tax: bool,
                 digits: int = 2) -> LineAmounts:
    """Net, tax and gross of a line, rounded per line (see the module docstring)."""
    if includes_tax:
        gross = round_money(multiply(quantity, price), digits)
        net = round_money(DIVISION_CONTEXT.divide(gross, 1 + tax_rate), digits)
        return LineAmounts(net, gross - net, gross)
    net = round_money(multiply(quantity, price), digits)
    tax = round_money(multiply(net, tax_rate), digits)
    return LineAmounts(net, tax, net + tax)


@attrs.frozen(slots=True)
class Line:
    """A document line. ``source`` links to the line it fulfils: ``(doc_id, line_no)``.

    ``counted`` is the counted quantity of a stock count line; ``quantity`` of an adjustment
    line is signed (+ in, - out); ``weight``/``volume`` serve landed-cost allocation.
    ``to_location`` is the target of a transfer line inside one warehouse (``to_warehouse`` the
    same as ``warehouse``): a location move (库位移动) from ``location`` (``""``: the stock
    without a location) to ``to_location``.

    ``serials`` are the serial numbers (序列号) a line of a serial-tracked item moves: a tuple
    of texts, one per unit of the item's base unit, on the documents that move stock
    (receipts, returns, deliveries, transfers, adjustments; not stock counts), none on other
    lines (see docs/purchase-and-sales.md, "Serial numbers").
    """

    line_no: int
    item: str
    quantity: Decimal
    price: Decimal = ZERO
    tax_rate: Decimal = ZERO
    price_includes_tax: bool = False
    unit: str | None = None
    warehouse: str = ""
    to_warehouse: str = ""
    location: str = ""
    lot: str = ""
    expiry: dt.date | None = None
    source: tuple[str, int] | None = None
    counted: Decimal | None = None
    weight: Decimal = ZERO
    volume: Decimal = ZERO
    to_location: str = ""
    serials: tuple[str, ...] = ()

    def amounts(self, digits: int = 2) -> LineAmounts:
        return line_amounts(abs(self.quantity), self.price, self.tax_rate,
                            self.price_includes_tax, digits)

    def check(self) -> None:
        """Refuse bad fields (called by ``Documents.create``): a ``line_no`` that is not an
        ``int`` (a ``TypeError``; one outside 1 to :data:`~jxc_core.values.MAX_LINE_NO` is
        ``invalid_document``), or a number that is not a Decimal or an int, raises
        ``TypeError`` naming the field (:func:`~jxc_core.values.check_number`); a value out
        of range a coded error — a negative ``price``, ``weight`` or ``volume``
        ``negative_amount``, a negative ``counted`` ``invalid_quantity``, a tax rate of 1 or
        more ``configuration``.

        ``serials``: a tuple (a list or anything else is a ``TypeError``: pass ``tuple(...)``)
        of ``str`` (else ``TypeError`` naming ``serials``), none blank (``invalid_document``),
        none twice (``duplicate_serial``). Whether the line may carry them, and how many, is
        the document's rule (``Documents.create``: it knows the item).

        ``price_includes_tax`` is a ``bool`` (else ``TypeError``). ``source``: ``None`` or a
        ``(doc_id, line_no)`` tuple of a ``str`` and an ``int`` (a bare ``"CG-1"``, a list or
        anything else is a ``TypeError`` naming ``source``)."""
        if type(self.line_no) is not int:
            raise TypeError(f"line_no must be an int, got {type(self.line_no).__name__} "
                            f"{self.line_no!r}")
        if not 1 <= self.line_no <= MAX_LINE_NO:  # as a form's line (``line_from_form``)
            raise JxcError("invalid_document", doc_id="", field="line_no",
                           reason=f"line_no must be a whole number from 1 to {MAX_LINE_NO}, "
                                  f"got {self.line_no}",
                           reason_zh=f"line_no 须为 1 到 {MAX_LINE_NO} 的整数，实际为 "
                                     f"{self.line_no}")
        check_number(self.quantity, "quantity", MAX_MAGNITUDE)
        check_amount(self.price, "price", MAX_MAGNITUDE)
        if type(self.price_includes_tax) is not bool:  # "no" was read as true: taxed twice
            raise TypeError(f"price_includes_tax must be a bool, got "
                            f"{type(self.price_includes_tax).__name__} "
                            f"{self.price_includes_tax!r}")
        rate = check_amount(self.tax_rate, "tax_rate")
        if rate >= 1:
            raise JxcError("configuration", field="tax_rate", line=self.line_no, value=rate,
                           reason=f"tax rate {rate} must be a fraction",
                           reason_zh=f"税率 {rate} 须为小于 1 的小数")
        check_amount(self.weight, "weight")
        check_amount(self.volume, "volume")
        for name in ("item", "warehouse", "to_warehouse", "location", "lot", "to_location"):
            check_text(getattr(self, name), name)  # a None was stored, then broke every read
        if self.expiry is not None and type(self.expiry) is not dt.date:
            raise JxcError("invalid_date", field="expiry", expected="datetime.date",
                           kind=type(self.expiry).__name__, value=self.expiry)
        source = self.source
        if source is not None and (type(source) is not tuple or len(source) != 2
                                   or not isinstance(source[0], str)
                                   or type(source[1]) is not int):
            # a str was read as its characters: "CG-1" named the line "G" of document "C"
            raise TypeError(f"source must be None or a (doc_id, line_no) tuple of a str and an "
                            f"int, got {type(source).__name__} {source!r}")
        if source is not None:
            check_text(source[0], "source")
        if self.counted is not None:
            counted = check_number(self.counted, "counted")
            if counted < 0:
                raise JxcError("invalid_quantity", field="counted", value=counted)
        serials = self.serials
        if type(serials) is not tuple:
            raise TypeError(f"serials must be a tuple of str, got {type(serials).__name__} "
                            f"{serials!r}")
        if serials:
            self._check_serials(serials)

    def _check_serials(self, serials: tuple[str, ...]) -> None:
        seen: set[str] = set()
        for serial in serials:
            check_text(serial, "serials")
            if not serial.strip():
                raise JxcError("invalid_document", doc_id="",
                               reason=f"line {self.line_no}: a serial number is blank "
                                      f"({serial!r})",
                               reason_zh=f"第 {self.line_no} 行：序列号为空（{serial!r}）")
            if serial in seen:
                raise JxcError("duplicate_serial", item=self.item, serial=serial,
                               first=self.line_no, line=self.line_no)
            seen.add(serial)


@attrs.frozen(slots=True)
class ActionRecord:
    """One recorded action: who did what, when, from which state to which, and why."""

    action: str
    user: str
    at: dt.datetime
    from_state: str
    to_state: str
    comment: str = ""
    step: str = ""


@attrs.frozen(slots=True)
class Document:
    """A document. ``counters`` keeps per line fulfilment (ordered lines of orders):
    ``{line_no: {"received": q, "returned": q, "invoiced": q, ...}}``.

    ``digits`` is the number of decimals of the document's amounts — its currency's minor
    unit, fixed when ``Documents.create`` makes it (``Jxc.digits_of(currency)``). ``None``
    (a document built by hand, or stored before the field existed): the ISO 4217 digits of
    ``currency`` (:func:`~jxc_core.values.currency_minor_unit`)."""

    doc_type: DocType
    doc_id: str
    party: str = ""
    date: dt.date | None = None
    currency: str = "CNY"
    lines: tuple[Line, ...] = ()
    state: State = State.DRAFT
    source: str = ""
    created_by: str = ""
    history: tuple[ActionRecord, ...] = ()
    counters: dict[int, dict[str, Decimal]] = attrs.field(factory=dict)
    approvals_done: tuple[str, ...] = ()
    attributes: dict[str, Any] = attrs.field(factory=dict)
    reversal_of: str = ""
    digits: int | None = None

    @property
    def amount_digits(self) -> int:
        """Decimals of the document's amounts: ``digits``, else its currency's minor unit
        (``unknown_currency`` for a code that has none). A line's own amounts at these
        digits: ``line.amounts(doc.amount_digits)``."""
        return self.digits if self.digits is not None else currency_minor_unit(self.currency)

    @property
    def net_total(self) -> Decimal:
        """The lines' rounded net amounts added, in the document's currency."""
        digits = self.amount_digits
        return sum((line.amounts(digits).net for line in self.lines), ZERO)

    @property
    def tax_total(self) -> Decimal:
        """The lines' rounded taxes added, in the document's currency."""
        digits = self.amount_digits
        return sum((line.amounts(digits).tax for line in self.lines), ZERO)

    @property
    def gross_total(self) -> Decimal:
        """价税合计: the lines' rounded gross amounts added, in the document's currency (what
        approval steps compare with their amounts)."""
        digits = self.amount_digits
        return sum((line.amounts(digits).gross for line in self.lines), ZERO)

    def line(self, line_no: int) -> Line:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise JxcError("not_found", kind="line", key=f"{self.doc_id}/{line_no}")

    def counter(self, line_no: int, name: str) -> Decimal:
        return self.counters.get(line_no, {}).get(name, ZERO)

    @property
    def fulfilment(self) -> Fulfilment | None:
        """The fulfilment status of a purchase or sales order (None for other documents),
        derived from its line counters (base units): per line what it kept — ``received``
        (``delivered``) less ``returned`` — against ``ordered``, and what stays invoiced of it
        (``invoiced`` less ``returned_invoiced``, the invoiced units returns took back). The
        lifecycle state says where the document is (posted, closed); this says how far its
        lines are served: a closed order may stay ``partial`` (its remainder dropped)."""
        if self.doc_type == DocType.PURCHASE_ORDER:
            done = "received"
        elif self.doc_type == DocType.SALES_ORDER:
            done = "delivered"
        else:
            return None
        kept_any, complete, invoiced = False, True, True
        for line in self.lines:
            n = line.line_no
            kept = self.counter(n, done) - self.counter(n, "returned")
            kept_any = kept_any or kept > 0
            complete = complete and kept > 0 and kept >= self.counter(n, "ordered")
            invoiced = invoiced and (self.counter(n, "invoiced")
                                     - self.counter(n, "returned_invoiced")) >= kept
        if not kept_any:
            return Fulfilment.NONE
        if not complete:
            return Fulfilment.PARTIAL
        return Fulfilment.INVOICED if invoiced else Fulfilment.COMPLETE

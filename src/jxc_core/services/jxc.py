"""The service layer: the face most users call.

``Jxc(storage=SqliteStorage("shop.db"))`` (or ``MemoryStorage()``) offers the use cases:
define master data, receive, issue, transfer, move (between locations), adjust, reserve, release,
hold, and the queries (balances, ledger, availability). Each command is one unit of work:
validate, call the pure domain (costing, stock rules), save, record events in the outbox,
commit — all or nothing.
Events reach the notifier after commit, at least once, each with a stable id.

Every command takes an optional ``idempotency_key``: the same key with the same payload returns
the first result without a second effect; with a different payload it is refused
(``idempotency_conflict``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Container, Hashable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from typing import Any

import attrs

from jxc_core._fast import fast_init
from jxc_core.costing import (
    CostAdjustment,
    FifoValuation,
    LayerSlice,
    LifoValuation,
    MonthlyAverageValuation,
    MovingAverageValuation,
    SpecificLotValuation,
    StandardCostValuation,
    allocate,
    valuation_from_state,
)
from jxc_core.costing._common import (
    BACK_DATING,
    PRICE_VARIANCE,
    SHORTAGE_SETTLEMENT,
    slice_value,
)
from jxc_core.errors import InsufficientStockError, JxcError, NotFoundError, PeriodClosedError
from jxc_core.ports import (
    Clock,
    Event,
    ExchangeRates,
    Notifier,
    Storage,
    SystemClock,
    UnitOfWork,
    ValuationChange,
)
from jxc_core.services._checks import check_bool, check_list_of, check_texts
from jxc_core.stock.model import (
    Balance,
    Item,
    LedgerEntry,
    Lot,
    Party,
    Reservation,
    Warehouse,
    _new_balance,
    _new_entry,
)
from jxc_core.stock.rules import (
    AvailabilityLine,
    FreeStock,
    ReservationShortError,
    ShortLine,
    consumption_order,
    free_stock,
    lot_usable,
    plan_reservations,
)
from jxc_core.values import (
    DIVISION_CONTEXT,
    MAX_AMOUNT,
    MAX_LINE_NO,
    MAX_MAGNITUDE,
    ZERO,
    check_amount,
    check_number,
    check_quantity,
    check_text,
    currency_minor_unit,
    money_quantum,
    multiply,
    period_key,
    round_money,
)

__all__ = [
    "Jxc",
    "LedgerLine",
    "Posting",
    "ReservationResult",
    "ReserveLine",
    "StockBalance",
    "StockLine",
    "StockPosting",
]

class MonthlyScope:
    """A monthly-weighted-average scope seen through the perpetual interface of the engine:
    an issue is recorded by quantity and costs 0.00 now; :meth:`Accounting.close_period`
    values the month's issues and books their cost (``period_cost`` ledger entries).

    Each movement belongs to the month of its posting date (:attr:`period`, set by the engine
    before it moves the scope; with an aware clock the month of the clock's timezone,
    :meth:`_Work.month_of`), so a month closes with its own movements while the next one is
    already posting.

    A movement that undoes another of its month undoes it in the month's figures instead of
    being a new receipt or issue. An in line whose ``from_ref`` names an issue of the month (a
    customer return of a delivery of the month, the cancellation of a delivery, of an
    adjustment or a stock count that took units out, of a purchase return) takes that issue
    back by quantity (:meth:`take_back`). An out line whose ``from_ref`` (``doc/line``) names,
    under the same document type, a return of the month or a receipt of the month (the
    cancellation of a return, of a purchase receipt, of an adjustment or a count that brought
    units in) undoes that return, or takes the receipt out of the month's receipts at its own
    value (:meth:`issue`)."""

    method = "monthly_average"

    def __init__(self, inner: MonthlyAverageValuation) -> None:
        self.inner = inner
        self.item: object = None
        self.warehouse: object = None
        #: the month (``YYYY-MM``) of the movement being posted
        self.period: str | None = None

    @property
    def quantity(self) -> Decimal:
        return self.inner.quantity

    @property
    def value(self) -> Decimal:
        """Opening + receipts of the open months (their issues are not valued yet)."""
        return self.inner.value

    def _zero(self) -> Decimal:
        return ZERO.quantize(money_quantum(self.inner.currency_digits))

    def receive(self, quantity: Decimal, unit_cost: Decimal, ref: str | None = None, *,
                value: Decimal | None = None) -> Decimal:
        """A receipt of the month; ``ref`` is the group ref of its line (:func:`_group_ref`),
        under which its cancellation finds it."""
        return self.inner.receive(quantity, unit_cost, ref, value=value, period=self.period)

    def issue(self, quantity: Decimal, from_ref: str | None = None, *,
              ref: str | None = None) -> Decimal:
        """Record the issue by quantity (0.00 now). When ``from_ref`` (``doc/line``) names a
        return or a receipt of the month posted under the same document type as ``ref``, the
        issue (that movement's cancellation) undoes the return first, then takes the receipt
        out of the month's receipts: the value that leaves is the receipt's own."""
        inner = self.inner
        inner.item, inner.warehouse = self.item, self.warehouse
        back = _returned_ref(ref, from_ref)
        value = ZERO
        if back is not None:
            undo = min(quantity, inner.returned(back, self.period))
            if undo > 0:
                inner.cancel_return(undo, back, period=self.period)
                quantity -= undo
            out = min(quantity, inner.received(back, self.period))
            if out > 0:
                value += inner.cancel_receipt(out, back, period=self.period)
                quantity -= out
        if quantity > 0 or back is None:
            inner.issue(quantity, from_ref, ref=ref, period=self.period)
        return value + self._zero()

    def preview_unit_cost(self, period: str | None = None) -> Decimal:
        """The unit cost ``period`` would close at now (see
        :meth:`MonthlyAverageValuation.preview_unit_cost`)."""
        return self.inner.preview_unit_cost(period)

    def can_take_back(self, issue_ref: str) -> bool:
        """Whether ``issue_ref`` names an issue of an open month with units left to take
        back."""
        return self.inner.returnable(issue_ref) > 0

    def take_back(self, quantity: Decimal, issue_ref: str, ref: str) -> Decimal:
        """A return of the month's issue ``issue_ref`` (冲减本月发出): on hand again at 0.00
        now, valued by :meth:`Accounting.close_period` at the month's unit cost. An issue of
        another open month is refused (``issue_period_open``)."""
        try:
            self.inner.return_issue(quantity, issue_ref, ref=ref, period=self.period)
        except JxcError as err:  # name the issue as the documents do: doc/line
            if "ref" not in err.data:
                raise
            _, doc_id, line_no = _split_group(issue_ref)
            raise JxcError(err.code, **{**err.data, "ref": f"{doc_id}/{line_no}"}) from None
        return self._zero()

    def take_adjustments(self) -> list[CostAdjustment]:
        return []

    def _receipt_key(self, ref: str) -> str | None:
        """The group ref of the month's receipt named ``doc/line`` (the receipt ref of a landed
        cost or an invoice), or ``None``."""
        doc_id, _, line_no = ref.rpartition("/")
        if line_no.isdigit():  # landed costs and invoices name purchase receipts: one look-up
            key = _group_ref("purchase_receipt", doc_id, int(line_no))
            if self.inner.received(key, self.period) > 0:
                return key
        for key in self.inner.receipt_refs(self.period):
            _, k_doc, k_line = _split_group(key)
            if k_doc == doc_id and str(k_line) == line_no:
                return key
        return None

    def add_kept_cost(self, ref: str, kept: Decimal) -> None:
        self.inner.add_receipt_cost(kept, self._receipt_key(ref), period=self.period)

    def add_landed_cost(self, ref: str, amount: Decimal, *,
                        received_quantity: Decimal | None = None) -> Decimal:
        """Landed cost joins the receipts value of its month (the whole amount stays in the
        pool and reaches the issues through the month's unit cost); it follows the receipt
        when that is a receipt of the same month and is cancelled."""
        return self.inner.add_receipt_cost(amount, self._receipt_key(ref), period=self.period)

    def take_changes(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        return self.inner.take_changes()

    def to_state(self) -> dict[str, Any]:
        return self.inner.to_state()


def _check_line_no(line_no: object) -> None:
    """A stock line's ``line_no``: an int (else ``TypeError``), 0 (its position in the
    posting) or from 1 to :data:`MAX_LINE_NO` (else ``configuration`` naming the field)."""
    if type(line_no) is not int:
        raise TypeError(f"line_no must be an int, got {type(line_no).__name__} {line_no!r}")
    if not 0 <= line_no <= MAX_LINE_NO:
        raise JxcError("configuration", field="line_no", value=line_no,
                       reason=f"line_no is 0 (the position) or 1 to {MAX_LINE_NO}, "
                              f"got {line_no}",
                       reason_zh=f"line_no 须为 0（按位置）或 1 到 {MAX_LINE_NO}，实际为 {line_no}")


def _local(moment: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    """A stored moment as the service clock reads it: an aware one (kept in UTC) in ``zone``,
    the timezone of the clock's ``now()``; a naive one, or any with a naive clock (``zone``
    ``None``), as it is."""
    if zone is None or moment.utcoffset() is None:
        return moment
    return moment.astimezone(zone)


def _period_of(moment: dt.datetime, zone: dt.tzinfo | None) -> str:
    """The month of a posting moment in the clock's timezone ``zone`` (:func:`_local`), the
    key of a monthly-average period."""
    return period_key(_local(moment, zone))


def _month_bounds(year: int, month: int, zone: dt.tzinfo | None
                  ) -> tuple[dt.datetime, dt.datetime]:
    """[first moment, last moment] of a month, comparable with stored moments: naive with a
    naive clock (``zone`` ``None``); with an aware one the month of the clock's timezone,
    its bounds in UTC as aware moments are kept (the last one is the next month's first
    less a microsecond, so that consecutive months meet whatever the zone does at
    midnight)."""
    first = dt.datetime(year, month, 1)
    after = dt.datetime(year + 1, 1, 1) if month == 12 else dt.datetime(year, month + 1, 1)
    if zone is not None:
        first = first.replace(tzinfo=zone).astimezone(dt.UTC)
        after = after.replace(tzinfo=zone).astimezone(dt.UTC)
    return first, after - dt.timedelta(microseconds=1)


Valuation = (
    FifoValuation
    | LifoValuation
    | MovingAverageValuation
    | StandardCostValuation
    | SpecificLotValuation
    | MonthlyScope
)


#: the documents whose receipt costs are charges (a landed cost, a purchase invoice's price
#: difference): their share of transferred units goes on where the units are
_CHARGE_TYPES = ("landed_cost", "purchase_invoice")

#: a charge's share sent on with transferred units: (warehouse, receipt ref there, units
#: received there, amount, document and line of that receipt)
_Sent = tuple[str, str, Decimal, Decimal, str, int]
#: per charge (the entry_no of its ``landed_cost`` entry in a source): the shares it sent on
#: with the transfer lines that took the receipt's units, by the transfer's (document, line):
#: (amount, units of the receipt the transfer took) — from the eighth element of a ``sent``
#: share (:meth:`Jxc._sent_shares`)
_Shares = dict[int, dict[tuple[str, int], tuple[Decimal, Decimal]]]


def _units_of(v: Valuation, ref: str, received: Decimal) -> Decimal:
    """The units of receipt ``ref`` still on hand in valuation ``v`` (FIFO/LIFO layers,
    moving-average rows)."""
    if isinstance(v, MovingAverageValuation):
        return v.receipt_on_hand(ref, received)
    if isinstance(v, FifoValuation | LifoValuation):
        try:
            return v.receipt_remaining(ref)[0]
        except JxcError:
            return ZERO
    return ZERO


def _align(v: Valuation, allow: bool, default_cost: Decimal | None) -> None:
    """Give the valuation of a scope the negative-stock policy and default cost of its item
    (and warehouse) as they are now: a stored state keeps the ones it was made with, and
    a change of the item or the warehouse holds for the issues after it. A comparison when
    nothing changed; specific identification never goes negative and is left as it is."""
    target = v.inner if isinstance(v, MonthlyScope) else v
    if isinstance(target, SpecificLotValuation):
        return
    if target.allow_negative is not allow or target.default_cost != default_cost:
        target.set_policy(allow, default_cost)


#: the record (kind; key ``"allow"``) of the warehouses defined with ``allow_negative=True``:
#: ``{"warehouses": [code, ...]}``; an organisation-wide scope allows negative stock when
#: there is one (:meth:`_Work.policy`)
_NEGATIVE_WAREHOUSES = "negative_stock"

IN = "in"
OUT = "out"

#: The kinds of out line (``StockLine.kind``) that may name an expired lot: they take stock off
#: the books or move it, they do not sell it — a write-off (其他出库/报损), a supplier return, a
#: transfer (to a quarantine or scrap warehouse, say), a location move (``"move_out"``: to a
#: quarantine location of the warehouse), a count loss, and the cancellations (红冲)
#: that take stock out again: of an adjustment in, of a receipt, of a customer return, of a
#: count gain. Any other out line naming an expired lot is refused (``lot_expired``): a
#: delivery, an issue (``"issue"``, the default of an out line), an embedder's own kind. A line
#: that names no lot never picks an expired lot, whatever its kind; reserving one stays
#: refused. See docs/stock-ledger.md, "Lots and expiry".
EXPIRED_LOT_KINDS: frozenset[str] = frozenset({
    "adjustment_out", "adjustment_reversal",
    "purchase_return", "receipt_reversal",
    "return_reversal",  # the cancellation of a customer return (out again)
    "stock_count_out", "stock_count_reversal",
    "transfer_out", "move_out",
})


@attrs.frozen(slots=True)
class StockLine:
    """One line of a stock posting. ``direction`` is ``"in"`` or ``"out"``.

    In: ``unit_cost`` (or a total ``value``); ``from_ref`` may name the issue the line takes
    back (its group ref: a customer return, the cancellation of a delivery, an adjustment or
    count out, a purchase return), which matters under the monthly average only
    (:class:`MonthlyScope`). Out: ``demand`` names the demand line whose reservations it
    consumes first; ``from_ref`` names the receipt a supplier return or a cancellation leaves
    from. ``unit`` converts ``quantity`` to the item's base unit. An out line that leaves its
    ``lot`` or ``location`` empty takes the rows that have stock among those it names: its
    demand's reserved lots first, then FEFO, rows without a location first (docs/stock-ledger.md,
    "Locations"), one ledger entry per row.
    """

    item: str
    warehouse: str
    quantity: Decimal
    direction: str = IN
    unit_cost: Decimal | None = None
    value: Decimal | None = None
    unit: str | None = None
    lot: str = ""
    expiry: dt.date | None = None
    location: str = ""
    serials: tuple[str, ...] = ()
    demand: str | None = None
    from_ref: str | None = None
    kind: str = ""
    line_no: int = 0


@attrs.frozen(slots=True)
class ReserveLine:
    """One line to reserve for ``demand``: quantity of (item, warehouse[, lot])."""

    demand: str
    item: str
    warehouse: str
    quantity: Decimal
    lot: str = ""
    unit: str | None = None


@attrs.frozen(slots=True)
class Posting:
    """The result of a stock posting: its ledger entries and the cost adjustments it caused."""

    doc_type: str
    doc_id: str
    entries: tuple[LedgerEntry, ...]
    adjustments: tuple[tuple[str, str, CostAdjustment], ...] = ()

    @property
    def value(self) -> Decimal:
        """Signed stock value moved by the posting (sum of its entries)."""
        return sum((e.value for e in self.entries), ZERO)

    def line_value(self, line_no: int) -> Decimal:
        return sum((e.value for e in self.entries if e.line_no == line_no), ZERO)

    def to_data(self) -> dict[str, Any]:
        return {
            "doc_type": self.doc_type,
            "doc_id": self.doc_id,
            "entries": [_entry_data(e) for e in self.entries],
            "adjustments": [[i, w, a.to_data()] for i, w, a in self.adjustments],
        }

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Posting:
        return cls(
            d["doc_type"],
            d["doc_id"],
            tuple(_entry_from(e) for e in d["entries"]),
            tuple((i, w, CostAdjustment.from_data(a)) for i, w, a in d["adjustments"]),
        )


@attrs.frozen(slots=True)
class StockPosting:
    """One posting of :meth:`Jxc.post_many`: what one :meth:`Jxc.post` call takes.

    ``lines`` a list or tuple of :class:`StockLine`; ``posted_at`` ``None`` for the service
    clock's now (the same moment for every posting of the batch)."""

    doc_type: str
    doc_id: str
    lines: Sequence[StockLine]
    posted_at: dt.datetime | None = None


def _postings_data(postings: list[Posting]) -> dict[str, Any]:
    return {"postings": [p.to_data() for p in postings]}


def _postings_of(d: dict[str, Any]) -> list[Posting]:
    return [Posting.from_data(p) for p in d["postings"]]


@attrs.frozen(slots=True)
class ReservationResult:
    """What a reserve call granted per line, the reservations made, and the short lines."""

    granted: tuple[Decimal, ...]
    reservations: tuple[Reservation, ...]
    short: tuple[ShortLine, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "granted": [str(g) for g in self.granted],
            "reservations": [_res_data(r) for r in self.reservations],
            "short": [s.to_data() for s in self.short],
        }

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> ReservationResult:
        return cls(
            tuple(Decimal(g) for g in d["granted"]),
            tuple(_res_from(r) for r in d["reservations"]),
            tuple(
                ShortLine(s["item"], s["warehouse"], Decimal(s["wanted"]),
                          Decimal(s["available"]), s["lot"], demand=s.get("demand"))
                for s in d["short"]
            ),
        )


@attrs.frozen(slots=True)
class StockBalance:
    """Aggregated balance of an item in a warehouse (or everywhere), with its value."""

    item: str
    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    held: Decimal
    on_order: Decimal
    demand: Decimal
    value: Decimal
    unusable: Decimal = ZERO
    #: reserved or held quantity that no usable stock of its lot covers (a reservation of an
    #: expired lot, or beyond its lot's stock): short, it takes nothing from the other lots
    uncovered: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        """on hand - reserved - held - stock in expired lots + the uncovered claims (counted
        in reserved or held, and not free anyway); below zero where reservations without a
        lot exceed the usable stock (its lots expired) or stock is negative (an item that
        allows it)."""
        return self.on_hand - self.reserved - self.held - self.unusable + self.uncovered

    @property
    def projected(self) -> Decimal:
        return self.on_hand + self.on_order - self.demand


@attrs.frozen(slots=True)
class LedgerLine:
    """A line of the stock ledger report (明细账): the entry and the running figures."""

    entry: LedgerEntry
    running_quantity: Decimal
    running_value: Decimal
    #: costed by organisation, in the ledger of one warehouse: the change of the warehouse's
    #: share of the scope's value that this entry does not carry (the other warehouses'
    #: movements moved the scope's unit cost), so that the previous running value + the
    #: entry's value + ``allocation`` = ``running_value``; 0 otherwise
    allocation: Decimal = ZERO


def _entry_data(e: LedgerEntry) -> list[Any]:
    return [e.entry_no, e.item, e.warehouse, e.location, e.lot, str(e.quantity), str(e.value),
            e.posted_at.isoformat(), e.kind, e.doc_type, e.doc_id, e.line_no, e.from_ref]


def _entry_from(d: list[Any]) -> LedgerEntry:
    return LedgerEntry(d[0], d[1], d[2], d[3], d[4], Decimal(d[5]), Decimal(d[6]),
                       dt.datetime.fromisoformat(d[7]), d[8], d[9], d[10], d[11], d[12])


def _res_data(r: Reservation) -> list[Any]:
    return [r.reservation_id, r.item, r.warehouse, r.lot, r.demand, str(r.quantity),
            None if r.expires_at is None else r.expires_at.isoformat()]


def _res_from(d: list[Any]) -> Reservation:
    return Reservation(d[0], d[1], d[2], d[3], d[4], Decimal(d[5]),
                       None if d[6] is None else dt.datetime.fromisoformat(d[6]))


def _canonical(value: Any, legacy: bool = False) -> Any:
    """``value`` as plain JSON data: a number by its value, so that ``3``, ``Decimal(3)`` and
    ``Decimal("3.00")`` are the same payload (the library takes an int wherever it takes a
    Decimal). ``legacy``: ints as they were kept before (as JSON ints), to recognise the
    fingerprints stored by earlier versions."""
    if isinstance(value, Decimal):
        return ["D", str(value.normalize())]
    if type(value) is int and not legacy:  # not a bool: True is not the number 1 here
        return ["D", str(Decimal(value).normalize())]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if attrs.has(type(value)):
        return {k: _canonical(v, legacy)
                for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, dict):
        return {str(k): _canonical(v, legacy) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v, legacy) for v in value]
    return value


_SEP = "\x1f"


def _group_ref(doc_type: str, doc_id: str, line_no: int) -> str:
    """The name an issue line gives its costs, so adjustments can find it again."""
    return f"{doc_type}{_SEP}{doc_id}{_SEP}{line_no}"


def _returned_ref(ref: str | None, from_ref: str | None) -> str | None:
    """The group ref of the movement ``from_ref`` (``doc/line``, the engine's receipt ref)
    posted under the document type of the group ``ref``, or ``None``."""
    doc_type = _split_group(ref)[0]
    if not doc_type or not from_ref or "/" not in from_ref:
        return None
    doc_id, _, line_no = from_ref.rpartition("/")
    return _group_ref(doc_type, doc_id, int(line_no)) if line_no.isdigit() else None


def _split_group(ref: str | None) -> tuple[str, str, int]:
    if ref is None or ref.count(_SEP) != 2:
        return ("", ref or "", 0)
    doc_type, doc_id, line_no = ref.split(_SEP)
    return doc_type, doc_id, int(line_no)


def _average_value(v: Valuation, qty: Decimal, digits: int) -> Decimal:
    """``qty`` at the scope's unit cost now; under the monthly average the month's (its value
    leaves out the month's issues, valued at the close)."""
    if type(v) is MonthlyScope:
        return round_money(multiply(qty, v.preview_unit_cost(v.period)), digits)
    if v.quantity <= 0:
        return round_money(ZERO, digits)
    return round_money(DIVISION_CONTEXT.divide(qty * v.value, v.quantity), digits)


#: ``(number, ref, quantity)``: units an issue took from a moving-average receipt row
RowSlice = tuple[int, str | None, Decimal]
#: what a movement taken back under moving average brought in: (quantity, value, the rows of
#: other receipts its units went into, number -> units)
_Received = tuple[Decimal, Decimal, dict[int, Decimal]]


class _Replay:
    """A back-dated posting's work on one scope: the window of entries after the checkpoint,
    the later part still to replay, and the new costs and settlements found."""

    def __init__(self, window: list[LedgerEntry], latest: dt.datetime,
                 relaxed: bool = False,
                 replayed_after: tuple[dt.datetime, Decimal] | None = None,
                 start: Decimal | None = None, settled_nothing: bool = False) -> None:
        self.window = window
        self.later: list[LedgerEntry] = []
        self.latest = latest
        #: replayed with negative stock allowed although the policy of now forbids it: the
        #: posting only adds stock to the scope (:meth:`Jxc._scope_at`, ``lowered``)
        self.relaxed = relaxed
        self.new: dict[str, Decimal] = {}
        #: moving average: the (units, cost) each issue took as replayed here, by group ref;
        #: and the cancellations back into rows re-valued to it (entry numbers)
        self.took_cost: dict[str, tuple[Decimal, Decimal]] = {}
        self.rows_revalued: set[int] = set()
        #: specific identification: the (units, cost) each issue took of each lot as
        #: replayed here, by (group ref, lot), less what its cancellations took back; and
        #: the cancellations re-valued to it (entry numbers, :meth:`Jxc._lot_back`)
        self.lot_took: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        self.lots_back: set[int] = set()
        #: and the (units, value) each transfer line brought into a lot here (its arrival,
        #: by (group ref, lot)): its cancellation takes them back with the changes carried
        #: to them as replayed
        self.lot_came: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        #: moving average: the shortage settlements of each issue (group ref) found so far
        #: that its re-valued cancellations have taken back (:func:`_settled_since_taken`)
        self.settled_taken: dict[str, Decimal] = {}
        #: cancellations under moving average that closed their issue's open part when
        #: posted, by entry_no: the value it closed at (:func:`_close_own_open`)
        self.rows_closed: dict[int, Decimal] = {}
        #: cancellations of moving-average customer returns that opened their delivery's
        #: shortage again when posted (:func:`_reopen_own`), by entry_no: a replay tries the
        #: same first, else takes the return's units back (:data:`_TAKEN_BACK`)
        self.reopen: set[int] = set()
        self.settled: list[CostAdjustment] = []
        self.replayed = 0
        #: receipt costs (landed cost, invoice price difference) of the window by entry_no:
        #: (amount, received quantity), split again when replayed
        self.receipt_costs: dict[int, tuple[Decimal, Decimal | None]] = {}
        #: those of them that are a change carried back with a cancelled moving-average
        #: transfer's units into the rows they went back into (:meth:`Jxc._carry_into_rows`)
        self.carried_back: set[int] = set()
        #: cancellations that went back into FIFO/LIFO layers, by entry_no: the layers
        self.restored: dict[int, list[LayerSlice]] = {}
        #: the issues (group refs) those cancellations take back, and what each took as
        #: replayed here (what a replay changes, the cancellation follows)
        self.wanted: set[str] = set()
        self.took: dict[str, deque[LayerSlice]] = {}
        #: the layers of cancellations that the replay put back elsewhere than recorded
        self.rewrite: dict[int, list[LayerSlice]] = {}
        #: cancellations that took back a receipt under moving average, by entry_no: the
        #: receipt's (quantity, value) (:data:`_TAKEN_BACK`)
        self.taken_back: dict[int, _Received] = {}
        #: cancellations that went back into moving-average receipt rows, by entry_no: the
        #: rows (:data:`_RESTORED_ROWS`); what the issues they take back took from the rows as
        #: replayed here; and those the replay put back elsewhere than recorded
        self.rows: dict[int, list[RowSlice]] = {}
        self.took_rows: dict[str, deque[RowSlice]] = {}
        self.rewrite_rows: dict[int, list[RowSlice]] = {}
        #: the rows each movement (``doc/line``) replayed here put its units into, and the
        #: receipt cancellations whose rows the replay changed
        self.back_rows: dict[str, dict[int, Decimal]] = {}
        self.rewrite_taken: dict[int, _Received] = {}
        #: the transfers out (group ref -> an out entry) that the replay left short: their
        #: settlements go on with the units (:data:`_TRANSFER_SHORT`)
        self.short_transfers: dict[str, LedgerEntry] = {}
        #: cancelled issues and their reversals (:func:`_void_pairs`): the entries the replay
        #: passes over and the groups whose costs it leaves as posted
        #: transfers out after this moment replayed even when cancelled, and the quantity the
        #: window starts from (:func:`_void_pairs`)
        self.replayed_after = replayed_after
        #: the quantity on hand where the window starts, when known, and whether no receipt
        #: line of the scope ever settled a shortage (:func:`_void_pairs`)
        self.start = start
        self.settled_nothing = settled_nothing
        self.void, self.void_groups = _void_pairs(window, replayed_after=replayed_after,
                                                  start=start, settled_nothing=settled_nothing)
        #: charges whose shares sent with the units of a void transfer pair are split here
        #: as if not sent (:func:`_void_pairs`, ``unsent``): by entry_no, the amount added
        self.unsent: dict[int, Decimal] = {}
        #: the charge (document) whose cancellation this replay is for: its shares are
        #: mirrored as sent, so they make no pair void here
        self.cancelling: str | None = None
        #: the customer returns (``doc/line``) of void issues, replayed as plain receipts
        self.plain: set[str] = set()
        #: customer returns (:meth:`Jxc._return_value`): per delivery (group ref) replayed
        #: here, the units it took, what it cost as the ledger had it so far, and the units
        #: and value its returns replayed so far took back; the return entries valued anew,
        #: the delivery each return (or its cancellation) takes back, by group ref, and each
        #: return's ``doc/line`` -> (delivery, the value it brought in as replayed)
        self.delivered: dict[str, Decimal] = {}
        self.posted: dict[str, Decimal] = {}
        self.returned: dict[str, tuple[Decimal, Decimal]] = {}
        self.return_entries: set[int] = set()
        self.returns: dict[str, str] = {}
        self.revalued: dict[str, tuple[str, Decimal]] = {}
        #: receipt costs (the whole amount, by the receipt ref) posted by the back-dated
        #: movement this replay is for, before the later entries: under moving average a
        #: cancellation of that receipt (a transfer's, in its target) replayed after them
        #: takes back its recorded worth with them (:data:`_TAKEN_BACK` rewritten)
        self.ref_costs: dict[str, Decimal] = {}
        #: FIFO/LIFO customer return lines (``doc/line``): what each settled of its own
        #: delivery's shortage (:data:`_OWN_SHORTAGE`), as recorded or as replayed here, what
        #: their cancellations open again taken off (:func:`_reopen_own`); and as replayed
        #: here, for the records
        self.own: dict[str, list[Any] | None] = {}
        self.own_found: dict[str, list[Any] | None] = {}
        self.own_at: dict[str, tuple[dt.datetime, int]] = {}
        #: purchase receipt lines, transfer arrivals and returns replayed, by (item,
        #: ``doc/line``, warehouse): what each settled of open shortages as replayed
        #: (:data:`_SETTLED_SHORTAGE`) with the number of its last entry, and the moment of
        #: that entry, for the records; and by ``doc/line``, what their cancellations in the
        #: window are to open again (as replayed here, else as recorded: :func:`_reopen_settled`)
        self.settled_found: dict[tuple[str, str, str], tuple[int, list[list[Any]]]] = {}
        self.settled_at: dict[tuple[str, str, str], dt.datetime] = {}
        self.to_reopen: dict[str, list[list[Any]]] = {}
        #: moving average: changes of what a transfer's units cost carried to their arrival
        #: (``doc/line``) replayed here, the share of the units that settled shortages there
        #: (cost of goods sold, their issued share): the arrival's cancellation that opens
        #: those shortages again takes it back with the units (:meth:`Jxc._carried_back`)
        self.carried: dict[str, Decimal] = {}
        self._fixes: dict[str, Decimal] | None = None

    def fixes(self, group: str) -> Decimal:
        """What the value-only corrections of the window (``cost_backdating``,
        ``cost_settlement``) added to the movement ``group`` (a group ref), as stock value."""
        if self._fixes is None:
            self._fixes = {}
            for e in self.window:
                if not e.quantity and e.kind in ("cost_backdating", "cost_settlement"):
                    g = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    self._fixes[g] = self._fixes.get(g, ZERO) + e.value
        return self._fixes.get(group, ZERO)


def _fixed_with_stock(old: Item, new: Item) -> list[str]:
    """The fields of ``old`` that ``new`` changes and that stay as they are once the item has
    stock (balance rows): what the stored quantities, reservations and open document lines
    mean. A unit's conversion changed or removed (a sales order reserved 12 个 for its 1 箱;
    at 箱 = 10 its delivery consumed 10 and left 2 reserved for ever), the base unit, fewer
    quantity digits, lot or serial tracking switched (units on hand without a lot or a serial
    could no longer leave), the category (the account mapping books its stock by category:
    1405 kept what was booked before the change and 1403 took what left after it, neither
    equal to the stock). Adding a unit stays possible."""
    fixed = []
    if new.base_unit != old.base_unit:
        fixed.append("base_unit")
    if any(new.units.get(unit) != factor for unit, factor in old.units.items()):
        fixed.append("units")
    if new.quantity_digits < old.quantity_digits:
        fixed.append("quantity_digits")
    if new.lot_tracked != old.lot_tracked:
        fixed.append("lot_tracked")
    if new.serial_tracked != old.serial_tracked:
        fixed.append("serial_tracked")
    if new.category != old.category:  # its stock is booked on its category's accounts
        fixed.append("category")
    return fixed


def _check_stock_lines(lines: object) -> list[StockLine]:
    """The lines of :meth:`Jxc.post`: a list or tuple of :class:`StockLine` (else
    ``TypeError`` naming ``lines[i]``), each with a number of its own (its ``line_no``, else
    its position; else ``configuration``: the ledger entries of both would carry it, and a
    later ``from_ref`` naming it — a return, a cancellation — could not tell them apart)."""
    if not isinstance(lines, Sequence) or isinstance(lines, str | bytes):
        raise TypeError(f"lines must be a list of StockLine, got {type(lines).__name__}")
    seen: set[int] = set()
    for n, line in enumerate(lines, start=1):
        if not isinstance(line, StockLine):
            raise TypeError(f"lines[{n - 1}] must be a StockLine, got {type(line).__name__} "
                            f"{line!r}")
        demand, ref = line.demand, line.from_ref
        if ((demand is not None and type(demand) is not str)
                or (ref is not None and type(ref) is not str)
                or type(line.kind) is not str or type(line.serials) is not tuple):
            _check_line_texts(n - 1, line)
        number = line.line_no or n
        if number in seen:
            raise JxcError("configuration",
                           reason=f"line_no {number} is given to two lines of the posting: "
                                  f"each line has its own number",
                           reason_zh=f"行号 {number} 被过账中的两行使用：每行须有自己的行号")
        seen.add(number)
    return list(lines)


def _check_line_texts(index: int, line: StockLine) -> None:
    """The fields of a stock line that :meth:`Jxc._validate` does not check as texts:
    ``demand`` and ``from_ref`` ``None`` or a str, ``kind`` a str, ``serials`` a tuple (or a
    list) of them, not a str (``"S1"`` is not the serials ``S`` and ``1``); else
    ``TypeError`` naming ``lines[i].<field>``."""
    for name in ("demand", "from_ref"):
        value = getattr(line, name)
        if value is not None:
            check_text(value, f"lines[{index}].{name}")
    check_text(line.kind, f"lines[{index}].kind")
    if not isinstance(line.serials, tuple | list):
        raise TypeError(f"lines[{index}].serials must be a tuple of str, got "
                        f"{type(line.serials).__name__} {line.serials!r}")


def _check_serials_arg(serials: object) -> tuple[str, ...]:
    """The ``serials`` argument of a posting shortcut: a list or tuple of str (a bare str,
    ``None`` or a number is ``TypeError`` naming ``serials``)."""
    if type(serials) is tuple and not serials:
        return ()
    return check_texts(serials, "serials")


def _check_optional_texts(**values: object) -> None:
    """Each value ``None`` or a str (else ``TypeError`` naming it, :func:`check_text`)."""
    for name, value in values.items():
        if value is not None:
            check_text(value, name)


def _check_serials(item: Item, line_no: int, serials: Sequence[str]) -> None:
    """The serial numbers of a stock line: of a serial-tracked item (else ``configuration``:
    a serial recorded for an item without them could never leave), texts that are not blank
    (``configuration``), each once (``duplicate_serial``, as on a document)."""
    if not item.serial_tracked:
        raise JxcError("configuration",
                       reason=f"{item.code} is not serial-tracked: its lines list no serial "
                              f"numbers",
                       reason_zh=f"{item.code} 未启用序列号管理：其行不能列出序列号")
    seen: set[str] = set()
    for serial in serials:
        check_text(serial, "serials")
        if not serial.strip():
            raise JxcError("configuration",
                           reason=f"a serial number of {item.code} is blank: {serial!r}",
                           reason_zh=f"{item.code} 的序列号为空：{serial!r}")
        if serial in seen:
            raise JxcError("duplicate_serial", item=item.code, serial=serial, first=line_no,
                           line=line_no)
        seen.add(serial)


def _lowest(now: Decimal, entries: Sequence[LedgerEntry], skip: Container[int]) -> Decimal:
    """The least quantity a stock whose later ``entries`` (oldest first) brought it to ``now``
    had from before the first of them on, passing over the entries numbered in ``skip`` (void
    pairs: they net to zero, as if never posted)."""
    level = now - sum((e.quantity for e in entries), ZERO)
    lowest = level
    for e in entries:
        if e.entry_no not in skip:
            level += e.quantity
            lowest = min(lowest, level)
    return lowest


def _close_own_shortage(v: object, issue: str, qty: Decimal, value: Decimal | None) -> bool:
    """Whether the cancellation (``qty`` units worth ``value``) of issue ``issue`` (a group
    ref) closed the issue's own open shortage in ``v`` (FIFO, LIFO, moving average): all its
    units went short and no receipt has settled any of them, so they come back as that
    shortage, at its estimate (``value``), instead of a receipt that settles the oldest
    shortage — which left the issue's own open for a later receipt to settle against a
    cancelled document. Otherwise (none open, only part of it, another value) nothing is
    closed and the units are received or restored as before.

    ``value`` ``None``: at the estimate the shortage holds, whatever it is — a replay's
    cancellation kept as one (:data:`_RESTORED`), whose change of value is booked as a
    correction of it: its issue, short in full, costs that estimate as replayed, and the
    reversal is at its issue's cost (DOMAIN §2, 红冲). At the value as posted instead, a
    replay whose estimate moved (an earlier receipt cancelled before it) received the units
    as a receipt: they settled an older issue's shortage at the old estimate, and the
    difference ended in a layer that a receipt's cancellation took out (from cost of goods
    sold to price difference, docs/decisions.md, 2026-12-16)."""
    if not isinstance(v, FifoValuation | LifoValuation | MovingAverageValuation):
        return False
    own = [(q, est) for q, est, r in v.shortages if r == issue]
    if sum((q for q, _ in own), ZERO) != qty:
        return False
    if value is None:
        value = sum((est for _, est in own), ZERO)
    return v.close_shortage(issue, qty, value)[0] == qty


def _may_fill(v: FifoValuation | LifoValuation, issue: str) -> bool:
    """Whether the cancellation of ``issue`` (a group ref) under FIFO/LIFO goes back into
    the layers it took (:meth:`Jxc._restoring`) as the scope stands: no shortage open, or
    a supplier return's, or only shortages of other issues open, which its units then
    settle named by those layers (:meth:`FifoValuation.restore_filling`). With a part of its
    own still open (:func:`_close_own_part` closes none beside other issues' shortages, nor
    for more than the cancellation is worth) it is received as any receipt: its units are
    not to settle its own shortage as taken from one of its layers."""
    return (not v.shortages or issue.startswith(f"purchase_return{_SEP}")
            or all(r != issue for _, _, r in v.shortages))


def _close_own_part(v: object, issue: str, qty: Decimal, value: Decimal
                    ) -> tuple[Decimal, Decimal]:
    """The cancellation (``qty`` units worth ``value``) of issue ``issue`` (a group ref) under
    FIFO/LIFO when the only open shortages are the issue's own and fewer than ``qty``: receipts
    settled part of what went short (or the issue took layers too). Those still open are closed
    at their estimate (no receipt is to settle them), so the rest can go back into the layers
    the issue took from and the receipts that settled it (:meth:`Jxc._restoring`). Returns
    (units closed, their value); nothing closed otherwise."""
    if not isinstance(v, FifoValuation | LifoValuation):
        return ZERO, ZERO
    open_ = v.shortages
    if not open_ or any(r != issue for _, _, r in open_) \
            or sum((q for q, _, _ in open_), ZERO) >= qty:
        return ZERO, ZERO
    return v.close_shortage(issue, qty, value)


def _close_reopened_own(v: object, issue: str, qty: Decimal
                        ) -> tuple[Decimal, Decimal] | None:
    """The cancellation (``qty`` units) of transfer line ``issue`` (a group ref) under
    FIFO/LIFO, coming back into the warehouse it left, where the only open shortages are its
    own and fewer than ``qty``, opened again by an earlier line of the same cancellation (a
    transfer both ways, whose other line's arrival had settled them): they are closed at the
    estimate they hold whatever the cancellation brings (:func:`_close_own_part` closes none
    for more than that), as the transfer's own units, never received. Its other units go back
    into the layers it took, at what it took from each; what left the other warehouse differs
    by the cost the transfer carried to cost of goods sold since. Returns (units closed,
    their estimate); ``None`` when nothing was closed."""
    if not isinstance(v, FifoValuation | LifoValuation):
        return None
    open_ = v.shortages
    if not open_ or any(r != issue for _, _, r in open_):
        return None
    units, estimate = v.open_of(issue)
    if not ZERO < units < qty:
        return None
    closed = v.close_shortage(issue, units, estimate)
    return closed if closed[0] else None


def _settled_by_then(w: _Work, v: MovingAverageValuation | FifoValuation | LifoValuation,
                     line: StockLine, item: str, when: dt.datetime,
                     replay: _Replay | None = None) -> StockLine:
    """The cancellation ``line`` of a delivery line (its group ref ``line.from_ref``) under
    moving average, FIFO or LIFO, received into ``v`` as the scope stands at its moment
    ``when``. It comes with the delivery's cost as of that moment
    (:meth:`Jxc._cost_change_at`): less the shortage settlements dated after it, which the
    replay the cancellation starts is to take back — true while the delivery's shortage is
    still open at ``when``. A back-dated receipt can have settled it before ``when`` since
    (a replay re-settles it without moving the settlement's date, and at the same cost
    without any entry): nothing of it is open then, and nothing takes those settlements
    back, so the cancellation takes them back with the rest of the delivery's cost (else
    they stayed in cost of goods sold, and the units came back short of them, a price
    difference the other way).

    Under FIFO/LIFO alike: a movement dated before a delivery posted earlier and short (a
    transfer's or a receipt's units the delivery takes in the replay) re-costs the delivery
    at its moment and changes its later settlements in one back-dating correction, which
    :meth:`Jxc._cost_change_at` counts whole; the cancellation takes back what the delivery
    costs as replayed up to ``when``, and its units go back into the layers it took there
    (else they came back at a cost of nothing, and the layer of that movement stayed empty:
    it could never be cancelled). The cost as replayed, not the ledger's cost changed by what
    the replay changed since: the back-dating correction also takes back part of the later
    settlements, and the ledger's cost less them can even be held at zero by the caller."""
    issue = line.from_ref or ""
    if any(r == issue for _, _, r in v.shortages):
        # part of it still open at ``when``: a back-dated receipt can have settled the rest
        # before then since, and the replay that did it booked the change as one back-dating
        # correction dated later, which also takes back part of a settlement the
        # cancellation leaves out. It takes back what the delivery costs as replayed up to
        # ``when`` (:func:`_replayed_cost`), when the replay saw it
        cost = _replayed_cost(replay, issue) if replay is not None else None
        if cost is None or cost == line.value:
            return line
        return attrs.evolve(line, value=max(ZERO, cost))
    at = Jxc._cost_change_at(w, issue, item, when)
    excluded = Jxc._cost_change(w, issue) - at
    if not excluded:
        return line
    value = line.value or ZERO
    if not value and replay is not None:
        # the caller holds a cost below zero at zero (nothing enters stock below it): what
        # it was, for the settlements to be added to
        value = _below_zero(replay, issue, at)
    return attrs.evolve(line, value=max(ZERO, value + excluded))


def _posted_cost(replay: _Replay, group: str) -> Decimal | None:
    """The cost of the issue ``group`` (a group ref) as posted, from its out entries in the
    replay's window; ``None`` when none is there (the replay started after it)."""
    posted: Decimal | None = None
    for e in replay.window:
        if (e.quantity < 0 and e.kind != MOVE_OUT and e.entry_no not in replay.void
                and _group_ref(e.doc_type, e.doc_id, e.line_no) == group):
            posted = (posted or ZERO) - e.value
    return posted


def _below_zero(replay: _Replay, group: str, change: Decimal) -> Decimal:
    """The cost of the issue ``group`` as posted (:func:`_posted_cost`) plus ``change`` (its
    cost adjustments up to a moment), when that is below zero; else (or the issue is not in
    the window) 0."""
    posted = _posted_cost(replay, group)
    return ZERO if posted is None else min(ZERO, posted + change)


def _replayed_cost(replay: _Replay, group: str) -> Decimal | None:
    """What the issue ``group`` (a group ref) costs as the replay of its scope found it up to
    the moment of the posting: its issue replayed and the shortage settlements found (not
    those dated later). ``None`` when its entries are not in the replay's window (the
    replay started after it)."""
    if _posted_cost(replay, group) is None:
        return None
    return replay.new.get(group, ZERO) + _settlements_of(replay.settled, group)


def _settlements_of(adjustments: Iterable[CostAdjustment], issue: str) -> Decimal:
    """The sum of the shortage settlements of issue ``issue`` (a group ref) among
    ``adjustments``."""
    return sum((a.amount for a in adjustments
                if a.reason == SHORTAGE_SETTLEMENT and a.issue_ref == issue), ZERO)


def _close_own_open(v: MovingAverageValuation, issue: str, qty: Decimal, value: Decimal
                    ) -> tuple[Decimal, Decimal]:
    """The cancellation (``qty`` units worth ``value``) under moving average of issue
    ``issue`` (a group ref) of which only part is still open short (receipts settled the
    rest, or it took units on hand too): those open units are closed at their estimate (no
    receipt is to settle them, they were never received), whatever other shortages are open;
    the rest of the units come back as a receipt would (into the rows the issue took, or
    settling the other shortages). Received whole, they settled the issue's own open part
    with units worth the settlements it had, and cost of goods sold and price difference
    ended apart (docs/decisions.md, 2026-12-17). Returns (units closed, their value)."""
    own = sum((q for q, _, r in v.shortages if r == issue), ZERO)
    if not own or own >= qty:
        return ZERO, ZERO
    return v.close_shortage(issue, qty, value)


def _own_open(v: Valuation, issue: str | None) -> tuple[Decimal, Decimal] | None:
    """Before a customer return of ``issue`` (a group ref) is received into ``v``: the units
    and estimate of that delivery's open shortage (FIFO/LIFO), for :func:`_own_settled`."""
    if issue and isinstance(v, FifoValuation | LifoValuation | MovingAverageValuation) \
            and v.shortages:
        return v.open_of(issue)
    return None


def _own_settled(v: Valuation, issue: str | None, before: tuple[Decimal, Decimal] | None
                 ) -> list[Any] | None:
    """After that return was received: what its units settled of its own delivery's open
    shortage, ``[issue, units, estimate released, real cost]`` (:data:`_OWN_SHORTAGE`);
    ``None`` when nothing."""
    if before is None or not before[0] or not issue:
        return None
    found = _settled_by(v, {issue: before})
    return found[0] if found else None


def _add_own(found: dict[str, list[Any] | None], ref: str, fill: list[Any] | None) -> None:
    """Add what a part of a customer return line ``ref`` settled of its own delivery's
    shortage (:func:`_own_settled`) to what the line's other parts did."""
    was = found.get(ref)
    if fill is None:
        found.setdefault(ref, None)
    elif was is None:
        found[ref] = list(fill)
    else:
        found[ref] = [was[0], was[1] + fill[1], was[2] + fill[2], was[3] + fill[3]]


def _reopen_own(v: Valuation, own: list[Any] | None, qty: Decimal, from_ref: str, ref: str,
                quantum: Decimal) -> tuple[Decimal, Decimal] | None:
    """The cancellation (``qty`` units out) of the customer return line ``from_ref`` whose
    units settled ``own`` (``[issue, units, estimate, real]``, what is still to open again;
    lessened here) of its own delivery's shortage (FIFO/LIFO). A return is the reverse of
    its delivery, and its cancellation the reverse of the return: those units go back to
    being the delivery's open shortage, at the estimate they released, and the settlement
    the return booked on the delivery is taken back (:meth:`FifoValuation.reopen_shortage`);
    the rest of ``qty`` leaves the return's layer as before. So the delivery's cancellation
    then closes its own shortage at its estimate and finds its receipts' layers whole, the
    return and its cancellation mirror each other entry by entry, and the return's units
    count as still "in" it though no layer holds them. Returns (the value taken out: the
    layer's and the settled units' real cost, as the return brought them in; the units
    opened again); ``None`` when nothing is to open, or when units would be left on hand
    beside the shortage (a later receipt's: the return cancelled out of turn, which a live
    cancellation is refused for first, :meth:`Documents._intact` and
    :meth:`Jxc._undone_since`; a replay may find one dated back before the cancellation):
    then the line is issued as any other. The shortage goes to the front of the queue, where
    the return found it: cancelled newest first, the scope is then as before the return."""
    if own is None or not own[1] or not isinstance(
            v, FifoValuation | LifoValuation | MovingAverageValuation):
        return None
    issue, units, estimate, real = own
    take = min(qty, units)
    rest = qty - take
    if v.quantity - rest > ZERO:
        return None
    est = estimate if take == units else slice_value(take, units, estimate, quantum)
    got = real if take == units else slice_value(take, units, real, quantum)
    cost = v.issue(rest, from_ref, ref=ref) if rest else ZERO
    cost += v.reopen_shortage(issue, take, est, got, ref)
    own[1:] = [units - take, estimate - est, real - got]
    return cost, take


def _open_before(v: Valuation) -> dict[str, tuple[Decimal, Decimal]] | None:
    """Before a receipt or a transfer's arrival is received into ``v`` (FIFO/LIFO, moving
    average): the units and estimate of each issue's open shortage, for :func:`_settled_by`;
    ``None``: none open."""
    if not isinstance(v, FifoValuation | LifoValuation | MovingAverageValuation) \
            or not v.shortages:
        return None
    return {r: v.open_of(r) for r in dict.fromkeys(r for _, _, r in v.shortages if r)}


def _settled_by(v: Valuation, before: dict[str, tuple[Decimal, Decimal]] | None
                ) -> list[list[Any]]:
    """After that receipt: what its units settled of each issue's open shortage, oldest
    first, ``[issue, units, estimate released, real cost]`` (:data:`_SETTLED_SHORTAGE`;
    one issue of a customer return: :func:`_own_settled`)."""
    if not before:
        return []
    if isinstance(v, MovingAverageValuation):  # (issue ref, units, real cost) per fill
        fills = [(ref, real) for ref, _, real in v.settled]
    elif isinstance(v, FifoValuation | LifoValuation):  # (issue ref, slice of the receipt)
        fills = [(ref, s[4]) for ref, s in v.settled]
    else:
        return []
    out: list[list[Any]] = []
    for issue, (units, estimate) in before.items():
        now_q, now_v = v.open_of(issue)
        if now_q == units:
            continue
        real = sum((r for ref, r in fills if ref == issue), ZERO)
        out.append([issue, units - now_q, estimate - now_v, real])
    return out


def _reopens(v: Valuation, settled: list[list[Any]], qty: Decimal) -> bool:
    """Whether :func:`_reopen_settled` would open those shortages again (``qty`` units
    out): nothing would be left on hand beside them."""
    units = sum((s[1] for s in settled), ZERO)
    return (bool(settled) and isinstance(v, FifoValuation | LifoValuation
                                         | MovingAverageValuation) and units <= qty
            and v.quantity - (qty - units) <= ZERO)


def _reopen_settled(v: Valuation, settled: list[list[Any]], qty: Decimal, from_ref: str,
                    ref: str) -> Decimal | None:
    """The cancellation (``qty`` units out, newest first) of a receipt, a transfer's
    arrival or a customer return ``from_ref`` whose units settled the open shortages
    ``settled`` (:data:`_SETTLED_SHORTAGE`; a return's own delivery's among them
    in its place): as :func:`_reopen_own` for a return of its own delivery alone, those units
    open each shortage again at the estimate they released, taking back the settlement
    booked, the newest settled first so that the oldest ends in front of the queue, where
    the receipt found it; the rest of ``qty`` leaves the receipt's layer (under moving
    average the pool, of which it is all that is on hand). Returns the value
    taken out; ``None`` when units would be left on hand beside the shortages (then the
    line is issued as any other)."""
    if not _reopens(v, settled, qty):
        return None
    assert isinstance(v, FifoValuation | LifoValuation | MovingAverageValuation)
    rest = qty - sum((s[1] for s in settled), ZERO)
    cost = v.issue(rest, from_ref, ref=ref) if rest else ZERO
    for issue, q, estimate, real in reversed(settled):
        cost += v.reopen_shortage(issue, q, estimate, real, ref)
    return cost


#: the kinds of in line (``StockLine.kind``) that keep what they settled of open shortages
#: (:data:`_SETTLED_SHORTAGE`) besides customer returns and transfer arrivals: a purchase
#: receipt line, an adjustment's line in (其他入库), a stock count's gain
_SETTLING_KINDS = frozenset({"purchase_receipt", "adjustment_in", "stock_count_in"})
#: the kinds of out entry that cancel such an in line of an adjustment or a count (its
#: cancellation, ``<doc_id>-R``, takes the line's units out under the out line's kind)
_CANCELS_IN_KINDS = frozenset({"adjustment_out", "stock_count_out"})
#: the kinds of in line that cancel an adjustment's or a count's line out: back at what the
#: line costs at the cancellation's moment, as a delivery's cancellation
#: (:func:`_settled_by_then`)
_UNDO_OUT_KINDS = frozenset({"adjustment_reversal", "stock_count_reversal"})


def _cancels_receipt(e: LedgerEntry) -> bool:
    """Whether ``e`` is the out entry of a purchase receipt line's cancellation, of a
    customer return line's, of an adjustment's or a count's line in, or of a transfer's
    cancellation leaving the transfer's target (the arrival it cancels: its ``from_ref``):
    the lines that may have settled open shortages (:data:`_SETTLED_SHORTAGE`)."""
    return e.kind in ("receipt_reversal", "return_reversal") or (
        (e.kind == "transfer_out" or e.kind in _CANCELS_IN_KINDS)
        and e.doc_id.endswith("-R"))


def _settled_others(fills: list[list[Any]], own: list[Any] | None) -> list[list[Any]]:
    """What a receipt line settled of open shortages (:func:`_settled_by`), as its
    :data:`_SETTLED_SHORTAGE` record is to keep it: ``[]`` when it is a customer return
    that settled only its own delivery's shortage (``own``, :data:`_OWN_SHORTAGE`; that
    record alone opens it again, :func:`_reopen_own`). A return that settled other issues'
    shortages too keeps them all, its own delivery's in its place in the queue, for its
    cancellation to open them again in order (:func:`_reopen_settled`)."""
    return [] if own is not None and [f[0] for f in fills] == [own[0]] else fills


def _add_settled(found: dict[tuple[str, str, str], tuple[int, list[list[Any]]]],
                 key: tuple[str, str, str], entry_no: int, fills: list[list[Any]]) -> None:
    """Add what a part of a receipt line settled (:func:`_settled_by`) to the line's other
    parts, issue by issue, and keep the number of its last entry."""
    kept = found.get(key, (entry_no, []))[1]
    for fill in fills:
        for was in kept:
            if was[0] == fill[0]:
                was[1:] = [was[1] + fill[1], was[2] + fill[2], was[3] + fill[3]]
                break
        else:
            kept.append(list(fill))
    found[key] = (entry_no, kept)


def _carried_transfer_cost(e: LedgerEntry) -> bool:
    """Whether the ``landed_cost`` entry ``e`` is a change of what a transfer's units cost,
    carried to their arrival (:meth:`Jxc._follow_transfers`, :meth:`Jxc._carry_settlement`:
    a receipt cost of the transfer's own ref named by the transfer line), not a charge's
    share nor a change carried back into a cancelled transfer's rows."""
    return (e.doc_type == "transfer" and not e.doc_id.endswith("-R")
            and e.from_ref == f"{e.doc_id}/{e.line_no}")


def _carried_share(fills: list[list[Any]], amount: Decimal, received: Decimal,
                   quantum: Decimal) -> Decimal:
    """The share of ``amount`` (a change of what a transfer's units cost, carried to their
    arrival of ``received`` units since: :func:`_carried_transfer_cost`) of the units that
    settled open shortages there (``fills``, :func:`_settled_by`): their issued share."""
    return sum((slice_value(min(f[1], received), received, amount, quantum) for f in fills),
               ZERO)


def _drop_slices(took: deque[LayerSlice], ref: str, units: Decimal, quantum: Decimal) -> None:
    """Take ``units`` of the slices of receipt ``ref`` out of ``took`` (what an issue took as
    replayed): a customer return's units that settled the issue's shortage, opened again by
    the return's cancellation (:func:`_reopen_own`), are no longer the issue's."""
    kept: list[LayerSlice] = []
    for key, r, received, q, val in took:
        if r == ref and units:
            gone = min(q, units)
            units -= gone
            if gone < q:
                part = slice_value(gone, q, val, quantum)
                kept.append((key, r, received, q - gone, val - part))
            continue
        kept.append((key, r, received, q, val))
    took.clear()
    took.extend(kept)


def _settled_since_taken(replay: _Replay, v: MovingAverageValuation, issue: str
                         ) -> Decimal:
    """Under moving average, in a replay: the shortage settlements of ``issue`` (a group
    ref) the replay has found so far (booked, or still in ``v``) that no re-valued
    cancellation of it has taken back yet; counted as taken now. A cancellation of an issue
    whose shortage receipts settled before it comes back at the issue's cost by then, as the
    live path values it (:func:`_settled_by_then`), not at the estimate it went short at."""
    found = _settlements_of(itertools.chain(replay.settled, v.adjustments), issue)
    new = found - replay.settled_taken.get(issue, ZERO)
    if new:
        replay.settled_taken[issue] = found
    return new


def _note_settled(v: Valuation, replay: _Replay) -> None:
    """After a receipt that filled open shortages in a replay: the units it settled of an
    issue whose layers the replay follows (:attr:`_Replay.took`) count as taken from the
    receipt's layer at their real cost, so that the issue's cancellation puts them back
    there (:attr:`_LayerValuation.settled`)."""
    if isinstance(v, FifoValuation | LifoValuation):
        for issue, part in v.settled:
            took = replay.took.get(issue) if issue is not None else None
            if took is not None:
                took.append(part)


def _shares_of(cost: Mapping[str, Any]) -> dict[tuple[str, int], tuple[Decimal, Decimal]]:
    """The shares a charge's receipt cost record (:data:`_RECEIPT_COST`) sent on with
    transfer lines, by the transfer's (document, line): (amount, units of the receipt it
    took); shares recorded without those units are left out."""
    found: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
    for x in cost.get("sent") or ():
        if len(x) > 7:
            key = (str(x[4]), int(x[5]))
            had = found.get(key, (ZERO, ZERO))
            found[key] = (had[0] + Decimal(x[3]), had[1] + Decimal(x[7]))
    return found


def _void_pairs(window: Sequence[LedgerEntry], moved_only: bool = False,
                charges: _Shares | None = None,
                unsent: dict[int, tuple[Decimal, Decimal]] | None = None,
                replayed_after: tuple[dt.datetime, Decimal] | None = None,
                start: Decimal | None = None,
                settled_nothing: bool = False) -> tuple[set[int], set[str]]:
    """The cancelled issues of ``window`` and their reversals, one void pair each: in a replay
    they are passed over, as if neither had happened, their costs left as posted (they net to
    zero). Else a receipt cancelled back-dated before them would replay the issue without its
    stock, its reversal coming after it, and a replay that re-costs the issue would leave its
    reversal at the old value.

    A pair is an issue line (its out entries; of a transfer line, its ``transfer_out`` entries,
    in the source) and the in entries of its cancellation (``<doc_id>-R``, same document type
    and line; of a transfer, its ``transfer_in`` back into the source), both in the window, with
    the value-only entries of either; when the window holds both warehouses of a transfer line
    (costed by organisation), the line's ``transfer_in`` into the target and its cancellation's
    ``transfer_out`` belong to the pair too (each leg shown at the value of the leg it pairs
    with: the four net to zero). It is void when their quantities net to zero, lot by lot, and
    so do their values; when nothing else takes the issue back but customer returns; and when
    between its first and last entry lie only void pairs, corrections (``cost_backdating``,
    ``cost_settlement``), location moves, receipt lines cancelled there too (a receipt, a
    customer return: its in entries and the out entries of its ``-R``, netting to zero; a
    transfer's ``transfer_in`` in its target and its cancellation's ``transfer_out``, with
    the receipt costs carried to the line's units while they were there), the
    out entries of the cancellation of a receipt line that came in before the pair and that
    took the line's units back (its quantities net to zero: a line cancelled out of turn,
    the pair's issue a supplier return of an older receipt, say; passed over, the pair
    leaves the line's units where they were, and its cancellation takes them alike), at
    their own values or not (moving average: the cancellation emptied the stock and took
    the value left there, less or more than the line's, the pair's issue having left at
    the average; passed over, the replay re-costs the cancellation at the line's own value,
    a correction of it), or pairs overlapping it that are void with it. A
    receipt cost line (a ``landed_cost`` entry: a landed cost, an invoice price difference) and
    its cancellation's are a void pair too when what they left in stock nets to zero, their
    corrections counted, and only void pairs lie between them: both were split on the same
    stock, so passing over both leaves their splits as posted — and an issue cancelled
    around them (newest first, the cost was posted and cancelled between the issue and its
    cancellation) is void as before. Replayed
    instead, the cost would be split again on a stock without the void issue's units out,
    its cancellation alike. Passing over such a pair changes nothing for
    the movements between (the stock they saw came back whole); a cancellation posted after
    other movements that took stock is replayed in its place, as before. A customer return of
    a void issue is replayed as a receipt of its own (:attr:`_Replay.plain`), its cancellation
    taking its units back from there. Returns the entry numbers passed over and their group
    refs.

    ``moved_only``: the pairs of quantities alone, values left out (no pair, receipt line or
    cancellation between needs to net to zero in value, entries without a quantity lie
    between freely) — for the stock check of one warehouse costed by organisation
    (:meth:`Jxc._check_history`), where a transfer inside the one scope moves no value: it
    is shown at the average as it leaves and as it comes back, two values that need not be
    equal.

    ``charges``: the shares charges of the window sent on with transfer lines
    (:meth:`Jxc._sent_shares`). A transfer cancelled after such a charge brought its units
    back with the share, so in the source its leg out and its way back are apart by it; with
    the charge between them (and not cancelled in the window) the pair is void all the same
    when the shares sent with it make up the difference: passed over, its units never left,
    and the charge is split again as if it had sent nothing with them — ``unsent`` gets, by
    the charge's entry, the amount and units to add to its split (and to what it left in
    stock). Only for pairs that are not void without this (their replay stays as it was).

    ``replayed_after``: (a moment, the quantity on hand where the window starts): transfer
    lines out posted after that moment are not void (nor what holds them) when the scope
    keeps stock through them, every entry of the window counted: the replay of a receipt
    cost (a charge, or its cancellation) dated before them under moving average re-costs
    them, the change going on with their units (:meth:`Jxc._scope_at`, ``cost_only``). A
    pair whose units a back-dated movement has taken since is passed over as before.

    A receipt line that came in between a pair's entries and whose cancellation lies after
    the pair (in the window: a receipt line cancelled there), or that is not cancelled in the
    window (between issue pairs only: a receipt cost pair was split on the stock it is part
    of), lies between it freely when it cannot have settled a shortage of the pair's issue:
    the pair has no corrections, or the stock before it came in was not below zero
    (``start``: the quantity on hand where the window starts, when known), or no receipt
    line of the scope ever settled a shortage (``settled_nothing``, :meth:`Jxc._settled_nothing`;
    customer returns aside: one that settles its own delivery's shortage leaves no record).
    It took nothing from the stock the pair passes over, so it is replayed alike either
    way. The stock check of a back-dated posting
    (:meth:`Jxc._check_history`) gives the same ``start`` for a warehouse costed alone, so
    that it passes over the pairs the replay passes over (a pair with a correction, a
    landed cost back-dated before its issue say, around such a receipt line: else the check
    saw the stock dip between the issue and its reversal and refused)."""
    void, groups, _ = _void_in(window, moved_only, None, replayed_after, start, settled_nothing)
    if charges and not moved_only:
        void2, groups2, found = _void_in(window, moved_only, charges, replayed_after, start,
                                         settled_nothing)
        if found and not found.keys() & groups:
            for shares in found.values():
                for no, (amount, units) in shares.items():
                    if unsent is not None:
                        had = unsent.get(no, (ZERO, ZERO))
                        unsent[no] = (had[0] + amount, had[1] + units)
            return void2, groups2
    return void, groups


def _void_in(window: Sequence[LedgerEntry], moved_only: bool, charges: _Shares | None,
             replayed_after: tuple[dt.datetime, Decimal] | None = None,
             start: Decimal | None = None, settled_nothing: bool = False
             ) -> tuple[set[int], set[str], dict[str, dict[int, tuple[Decimal, Decimal]]]]:
    """:func:`_void_pairs`, with the pairs void by the shares of ``charges`` sent with them,
    by group ref: the charge's entry -> (amount, units) of its shares."""
    place: dict[int, int] = {}
    issues: dict[str, list[LedgerEntry]] = {}
    backs: dict[str, list[LedgerEntry]] = {}
    costs: dict[str, list[LedgerEntry]] = {}
    named: dict[str, list[LedgerEntry]] = {}
    ins: dict[str, list[LedgerEntry]] = {}  # receipt lines and their cancellations' outs
    #: receipt cost lines (a landed cost, an invoice price difference: value only) and their
    #: cancellations', by the group ref of the line cancelled
    receipt_costs: dict[str, list[LedgerEntry]] = {}
    outs: dict[str, list[LedgerEntry]] = {}
    for i, e in enumerate(window):
        place[e.entry_no] = i
        if e.kind in _MOVE_KINDS:
            continue
        g = _group_ref(e.doc_type, e.doc_id, e.line_no)
        reversal = e.doc_id.endswith("-R")
        if e.kind in ("transfer_out", "transfer_in"):
            # a transfer line between warehouses: out of the source an issue, whose
            # cancellation's transfer_in brings the units back (a void pair as a delivery
            # and its reversal); into the target a receipt, whose cancellation's
            # transfer_out takes them away again (a receipt line cancelled there)
            if e.quantity:
                cancelled = _group_ref(e.doc_type, e.doc_id[:-2], e.line_no)
                if e.kind == "transfer_out":
                    (outs.setdefault(cancelled, []) if reversal
                     else issues.setdefault(g, [])).append(e)
                else:
                    (backs.setdefault(cancelled, []) if reversal
                     else ins.setdefault(g, [])).append(e)
            if e.from_ref:
                named.setdefault(e.from_ref, []).append(e)
            continue
        if e.kind.startswith("transfer"):
            continue
        if e.quantity < 0 and not reversal:
            issues.setdefault(g, []).append(e)
        elif e.quantity > 0 and reversal and e.kind.endswith("_reversal"):
            backs.setdefault(_group_ref(e.doc_type, e.doc_id[:-2], e.line_no), []).append(e)
        elif e.quantity > 0:
            ins.setdefault(g, []).append(e)
        elif e.quantity < 0:
            outs.setdefault(_group_ref(e.doc_type, e.doc_id[:-2], e.line_no), []).append(e)
        elif e.kind in ("cost_backdating", "cost_settlement"):
            costs.setdefault(g, []).append(e)
        elif e.kind == "landed_cost":  # a receipt cost line, or its cancellation's
            receipt_costs.setdefault(
                _group_ref(e.doc_type, e.doc_id[:-2], e.line_no) if reversal else g,
                []).append(e)
        if e.from_ref:
            named.setdefault(e.from_ref, []).append(e)
    #: receipt lines cancelled in the window: entry number -> the span of the pair
    closed: dict[int, tuple[int, int]] = {}
    #: the out entries of those cancellations (they took the line's units back: its
    #: quantities net to zero, lot by lot): entry number -> where the line came in
    took_line: dict[int, int] = {}
    #: the receipt costs carried with those lines' units (entry number): the line's in entries
    carried_by: dict[int, list[LedgerEntry]] = {}
    for g, got in ins.items():
        gone = outs.get(g)
        if not gone:
            continue
        lots: dict[str, Decimal] = {}
        for e in got + gone:
            lots[e.lot] = lots.get(e.lot, ZERO) + e.quantity
        if any(lots.values()):
            continue
        at = [place[e.entry_no] for e in got + gone]
        for e in got + gone:
            closed[e.entry_no] = (min(at), max(at))
        for e in receipt_costs.get(g, ()):
            # a receipt cost carried with the line's units while they were here (a charge's
            # share, or its cancellation's, sent on with a transfer into here): replayed
            # with the line, it lies between a pair as the line does
            if not e.doc_id.endswith("-R") and min(at) < place[e.entry_no] < max(at):
                closed[e.entry_no] = (min(at), max(at))
                carried_by[e.entry_no] = got
        # at their own values or not: a moving-average (or lot) cancellation that emptied
        # the stock took the value left there, less or more than its line's (the pair's
        # issue had left at the average); passed over, the pair leaves the line's units
        # where they were and the replay takes them back at their own value (a correction)
        came = max(place[e.entry_no] for e in got)
        took_line.update((e.entry_no, came) for e in gone)
    #: the in entries of receipt lines not cancelled in the window (a receipt, an adjustment's
    #: or a count's line in, a customer return, a transfer's arrival whose leg out is not in
    #: the window): they lie between a pair as one cancelled after it does (``passes``)
    kept = {e.entry_no for g, got in ins.items() if g not in issues and g not in outs
            for e in got if e.kind != "sales_return"}
    #: receipt lines cancelled later, or not at all, that settled no shortage: the stock
    #: before them was not below zero, or no receipt line of the scope ever settled one
    #: (``settled_nothing``; customer returns left out: one that settles its own delivery's
    #: shortage leaves no record) — they may lie between a pair cancelled before them
    settled_none: set[int] = set()
    if settled_nothing:
        settled_none.update(e.entry_no for e in window
                            if e.quantity > 0 and e.kind != "sales_return"
                            and (e.entry_no in closed or e.entry_no in kept))
    if start is not None:
        running = start
        for e in window:
            if (running >= 0 and e.quantity > 0
                    and (e.entry_no in closed or e.entry_no in kept)):
                settled_none.add(e.entry_no)
            running += e.quantity
        # a receipt cost carried with such a line's units lies between as the line does
        settled_none.update(no for no, got in carried_by.items()
                            if all(e.entry_no in settled_none for e in got))
    #: the running quantity after each entry, every entry counted (``replayed_after``)
    level: list[Decimal] = []
    if replayed_after is not None:
        running = replayed_after[1]
        for e in window:
            running += e.quantity
            level.append(running)
    #: the candidate pairs: group ref -> (their entries with a quantity, all, first, last)
    pairs: dict[str, tuple[set[int], list[LedgerEntry], int, int]] = {}
    #: the receipt cost lines cancelled in the window (their split is passed over with their
    #: cancellation's, not split again)
    both = {g for g, lines in receipt_costs.items()
            if len({e.doc_id.removesuffix("-R") for e in lines}) == 1
            and len({e.doc_id for e in lines}) == 2}
    #: pairs void by the shares charges between them sent with their units
    by_shares: dict[str, dict[int, tuple[Decimal, Decimal]]] = {}
    unsent: dict[str, dict[int, tuple[Decimal, Decimal]]] = {}
    #: the candidate issue pairs whose values do not net to zero by themselves (moving
    #: average: a cancelled transfer came back at another cost than it left, a later issue's
    #: cancellation making up the difference), with what they leave
    unbalanced: dict[str, Decimal] = {}
    #: the candidate issue pairs without corrections (no shortage settled, nothing
    #: back-dated): a receipt line between them cannot have settled what they left short
    uncorrected: set[str] = set()
    for g, out in issues.items():
        if g not in backs:
            continue
        if replayed_after is not None and any(
                e.kind == "transfer_out" and e.posted_at > replayed_after[0] for e in out):
            at = [place[e.entry_no] for e in out + backs[g]]
            if min(level[min(at):max(at) + 1]) >= 0:
                continue  # replayed: re-costed, the change going on with its units
        doc_type, doc_id, line_no = _split_group(g)
        moved = out + backs[g]
        if g in ins and g in outs and out[0].kind == "transfer_out":
            # both warehouses of a transfer line in one window (costed by organisation): its
            # legs into the target and its cancellation's out of it belong to the pair; each
            # leg is shown at the same value as the one it pairs with, so the four net to zero
            moved += ins[g] + outs[g]
        # receipt costs carried with its units (a charge sent on with a transfer's units, and
        # back with them by its cancellation): value-only entries of the pair
        carried = receipt_costs.get(g, [])
        pair = moved + carried + costs.get(g, []) + costs.get(
            _group_ref(doc_type, f"{doc_id}-R", line_no), [])
        lots = {}
        for e in moved:
            lots[e.lot] = lots.get(e.lot, ZERO) + e.quantity
        if any(lots.values()):
            continue
        off = ZERO if moved_only else sum((e.value for e in pair), ZERO)
        mine = {e.entry_no for e in moved}
        if any(e.quantity <= 0 or e.doc_id.endswith("-R") for e in named.get(g, ())
               if e.entry_no not in mine):
            continue  # taken back otherwise than by its reversal or a customer return
        at = [place[n] for n in mine]
        first, last = min(at), max(at)
        allowed: set[int] = set()
        if off and charges:
            # the charges between that sent a share with the transfer's units: back with them
            shares = {e.entry_no: share for e in window[first + 1:last]
                      if e.kind == "landed_cost" and not e.quantity
                      and _group_ref(e.doc_type, e.doc_id, e.line_no) not in both
                      and (share := charges.get(e.entry_no, {}).get((doc_id, line_no)))
                      is not None}
            if shares and sum((x for x, _ in shares.values()), ZERO) == off:
                off = ZERO
                allowed = set(shares)
                by_shares[g] = shares
        pairs[g] = (mine | {e.entry_no for e in carried} | allowed, pair, first, last)
        if not (costs.get(g) or costs.get(_group_ref(doc_type, f"{doc_id}-R", line_no))):
            uncorrected.add(g)
        receipt_costs.pop(g, None)
        if off:  # void only in a run of overlapping pairs whose values net to zero
            unbalanced[g] = off
    #: the receipt cost pairs: a receipt line that stays lies between them never (they were
    #: split on the stock it is part of)
    split: set[str] = set()
    for g, lines in receipt_costs.items():
        # a receipt cost and its cancellation: void alike when what they left in stock nets to
        # zero, their corrections counted, and only void pairs lie between (the stock they
        # were split on is the same: passing over both leaves their splits as posted)
        doc_type, doc_id, line_no = _split_group(g)
        if not (any(e.doc_id == doc_id for e in lines)
                and any(e.doc_id != doc_id for e in lines)):
            continue
        pair = lines + costs.get(g, []) + costs.get(_group_ref(doc_type, f"{doc_id}-R", line_no),
                                                    [])
        if sum((e.value for e in pair), ZERO):
            continue
        mine = {e.entry_no for e in lines}
        at = [place[n] for n in mine]
        pairs[g] = (mine, pair, min(at), max(at))
        split.add(g)
    void: set[int] = set()
    groups: set[str] = set()

    def passes(mine: set[int], first: int, last: int, spill: bool = False,
               stays: bool = False) -> bool:
        # ``spill``: a receipt line that came in between may be cancelled after the last
        # entry (the pair has no corrections; else only where it settled no shortage).
        # ``stays`` (issue pairs alone): it may be not cancelled in the window at all, alike
        # A receipt cost carried with the units of a receipt line cancelled in the window
        # that came in before the pair and left after it (a transfer both ways: one line's
        # arrival around the other line's leg out and way back) lies between freely: it
        # moves no units, and the line's units are there before and after the pair
        span = window[first:last + 1]
        #: a receipt cost before the first entry of the pairs that moves units lies between
        #: freely: what it splits by, the units on hand, is the same with them passed over
        moves = next((i for i, e in enumerate(span) if e.quantity and e.entry_no in mine),
                     len(span))
        return all(e.entry_no in mine or e.entry_no in void or e.kind in _MOVE_KINDS
                   or (not e.quantity and (moved_only
                                           or e.kind in ("cost_backdating", "cost_settlement")))
                   or (e.kind == "landed_cost" and i < moves)
                   or (e.entry_no in closed and first < closed[e.entry_no][0]
                       and (closed[e.entry_no][1] < last or (
                           (e.quantity > 0 or e.entry_no in carried_by)
                           and (spill or e.entry_no in settled_none))))
                   or (stays and e.entry_no in kept and (spill or e.entry_no in settled_none))
                   or (e.entry_no in took_line and took_line[e.entry_no] < first)
                   or (e.entry_no in carried_by
                       and closed[e.entry_no][0] < first < last < closed[e.entry_no][1])
                   for i, e in enumerate(span))

    def drop(g: str) -> None:
        void.update(e.entry_no for e in pairs[g][1])
        if g in by_shares:
            unsent[g] = by_shares[g]
        doc_type, doc_id, line_no = _split_group(g)
        groups.update((g, _group_ref(doc_type, f"{doc_id}-R", line_no)))
        del pairs[g]

    found = True
    while found:
        found = False
        # inner pairs first: a pair may hold others cancelled before it
        for g, (mine, _, first, last) in list(pairs.items()):
            if g not in unbalanced and passes(mine, first, last, g in uncorrected,
                                              g not in split):
                drop(g)
                found = True
        if found:
            continue
        # then pairs that overlap (the older issue cancelled first), as one: together they
        # take nothing from what lies between them, and leave nothing (their values net to
        # zero) — first without the pairs that do not net to zero by themselves
        for some in (False, True):
            runs: list[tuple[list[str], set[int], int, int]] = []
            for g, (mine, _, first, last) in sorted(pairs.items(), key=lambda p: p[1][2]):
                if g in unbalanced and not some:
                    continue
                if runs and first <= runs[-1][3]:
                    names, held, lo, hi = runs[-1]
                    runs[-1] = ([*names, g], held | mine, lo, max(hi, last))
                else:
                    runs.append(([g], set(mine), first, last))
            for names, held, lo, hi in runs:
                if (len(names) > 1 and not sum((unbalanced.get(g, ZERO) for g in names), ZERO)
                        and passes(held, lo, hi, all(g in uncorrected for g in names),
                                   not split.intersection(names))):
                    for g in names:
                        drop(g)
                    found = True
            if found:
                break
    return void, groups, unsent


def _warehouse_shares(value: Decimal, quantities: Mapping[str, Decimal], quantum: Decimal
                     ) -> dict[str, Decimal]:
    """The warehouses' shares of the value of an organisation scope (按存货核算), by quantity.

    Each warehouse ``q x value / total`` rounded to ``quantum`` (ROUND_HALF_UP), ``total`` the
    sum of ``quantities`` — the scope's unit cost times the warehouse's quantity, the rule of
    a lot's share (:meth:`Jxc._lot_value`). A warehouse at quantity 0 is 0.00, and so is
    every warehouse when ``total`` is 0 (no unit cost). A warehouse below zero carries a
    negative share at the same unit cost (what its shortage is worth). The rest of the
    rounding goes to the last warehouse (in code order) with a positive quantity, else to the
    last one below zero, so that the shares add up to ``value``; with every warehouse at 0 it
    is left unallocated (the organisation's rows carry it; ``value`` is then 0.00 by DOMAIN
    1)."""
    order = sorted(quantities)
    total = sum((quantities[wh] for wh in order), ZERO)
    out = {wh: ZERO.quantize(quantum) for wh in order}
    if total:
        for wh in order:
            q = quantities[wh]
            if q:
                out[wh] = (value if q == total else DIVISION_CONTEXT.divide(
                    q * value, total).quantize(quantum, ROUND_HALF_UP))
    taker = next((wh for wh in reversed(order) if quantities[wh] > 0),
                 next((wh for wh in reversed(order) if quantities[wh]), None))
    if taker is not None:
        out[taker] += value - sum(out.values(), ZERO)
    return out


def _warehouse_values(rows: Mapping[tuple[str, str], tuple[Decimal, Decimal]],
                      quantum: Decimal) -> dict[str, Decimal]:
    """The value of each warehouse of an organisation scope: ``rows`` gives the quantity and
    value of each (group, warehouse) — the group a lot under specific identification (the
    lot is its own layer), else ``""`` (the whole scope); the value may stand under
    warehouse ``"*"`` (the scope's own, or its value-only entries). Each group's value is
    shared over its warehouses by quantity (:func:`_warehouse_shares`); what no warehouse
    of its group holds (a group at quantity 0 everywhere) goes to the last warehouse with a
    positive quantity overall (else the last below zero), so that the warehouses add up to
    the scope's value."""
    groups: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for (group, wh), qv in rows.items():
        groups.setdefault(group, {})[wh] = qv
    out: dict[str, Decimal] = {}
    every: dict[str, Decimal] = {}
    total = ZERO
    for group in sorted(groups):
        whs = groups[group]
        value = sum((v for _, v in whs.values()), ZERO)
        total += value
        quantities = {wh: q for wh, (q, _) in whs.items() if wh != "*"}
        for wh, share in _warehouse_shares(value, quantities, quantum).items():
            out[wh] = out.get(wh, ZERO) + share
        for wh, q in quantities.items():
            every[wh] = every.get(wh, ZERO) + q
    rest = total - sum(out.values(), ZERO)
    if rest:
        order = sorted(every)
        taker = next((wh for wh in reversed(order) if every[wh] > 0),
                     next((wh for wh in reversed(order) if every[wh]), None))
        if taker is not None:
            out[taker] += rest
    return out


def _share_back(found: deque[LayerSlice], qty: Decimal, value: Decimal, quantum: Decimal,
                *, as_taken: bool = False) -> list[LayerSlice] | None:
    """The layers ``qty`` units worth ``value`` go back into: taken from ``found`` (what the
    issue took, in its order; what is taken is removed from it), ``value`` spread over them by
    the value the issue took from each (else by quantity), the last taking the rest. Units
    beyond ``found`` are left to the caller (a layer of their own, at the rest of the value).
    ``None`` when nothing is found, or the value is below what the layers gave.
    ``as_taken``: each slice at the value it was taken at, ``value`` not spread (a replay,
    which books the difference as a correction)."""
    take: list[LayerSlice] = []
    left = qty
    while found and left:
        key, ref, received, q, val = found[0]
        if q <= left:
            take.append(found.popleft())
            left -= q
        else:
            part = slice_value(left, q, val, quantum)
            take.append((key, ref, received, left, part))
            found[0] = (key, ref, received, q - left, val - part)
            left = ZERO
    if not take:
        return None
    if as_taken:
        return take
    taken = sum((s[4] for s in take), ZERO)
    if left:  # the rest comes back as a layer of its own, at the rest of the value
        return take if value >= taken else None
    if value == taken:
        return take
    weights = [s[4] for s in take] if taken else [s[3] for s in take]
    left_weight, left_value = sum(weights, ZERO), value
    out: list[LayerSlice] = []
    for (key, ref, received, q, _), weight in zip(take, weights, strict=True):
        part = slice_value(weight, left_weight, left_value, quantum)
        out.append((key, ref, received, q, part))
        left_weight -= weight
        left_value -= part
    return out


def _record_restored(w: _Work, entry_no: int, layers: list[LayerSlice]) -> None:
    """Keep the layers the cancellation entry ``entry_no`` went back into (:data:`_RESTORED`;
    ``[]``: none, received as any receipt)."""
    w.uow.records.put(_RESTORED, str(entry_no), {"layers": [
        [k, r, str(rec), str(q), str(val)] for k, r, rec, q, val in layers]})


def _rows_back(found: deque[RowSlice], qty: Decimal) -> list[RowSlice]:
    """The receipt rows ``qty`` units go back into: taken from ``found`` (what the issue took,
    oldest first; what is taken is removed from it). Units beyond ``found`` are left to the
    caller (a row of their own)."""
    take: list[RowSlice] = []
    left = qty
    while found and left:
        number, ref, q = found[0]
        if q <= left:
            take.append(found.popleft())
            left -= q
        else:
            take.append((number, ref, left))
            found[0] = (number, ref, q - left)
            left = ZERO
    return take


def _record_rows(w: _Work, entry_no: int, rows: list[RowSlice],
                 closed: Decimal | None = None) -> None:
    """Keep the moving-average receipt rows the cancellation entry ``entry_no`` went back
    into (:data:`_RESTORED_ROWS`); ``closed``: the value of the open part of its issue's
    shortage it closed (:func:`_close_own_open`), if any."""
    w.uow.records.put(_RESTORED_ROWS, str(entry_no), {"rows": [
        [n, r, str(q)] for n, r, q in rows], **(
            {} if closed is None else {"closed": str(closed)})})


def _doc_id(prefix: str, doc_id: str | None, key: str | None) -> str:
    """The document id given, else one derived from the idempotency key, else a fresh one."""
    if doc_id is not None:
        check_text(doc_id, "doc_id")
        return doc_id
    if key is not None:
        check_text(key, "idempotency_key")
        return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _refuse_posted(w: _Work, doc_id: str) -> None:
    """A direct posting (``post``, ``receive``, ``issue``, ``adjust``, ``transfer``,
    ``move``) of a document number the ledger already has is ``duplicate_key`` naming it,
    nothing written (DOMAIN 5: posting again changes nothing; 3: one entry per movement of
    a line). A retry under the same idempotency key never gets here: it is answered with
    the first result. Documents post through ``_post`` (guarded by the document's state);
    ``Documents.post`` and ``cancel`` call this for the document's number and its reversal's
    (``<doc_id>-R``), so neither shares a number with a direct posting."""
    if w.uow.ledger.has_document(doc_id):
        raise JxcError("duplicate_key", table="ledger", key=doc_id, doc_id=doc_id)


def fingerprint(command: str, payload: Any, *, legacy: bool = False) -> str:
    """Stable hash of a command and its payload (numbers by value: an int and the Decimal
    of the same value alike, ``Decimal("3")`` and ``Decimal("3.0")`` alike). ``legacy``: the
    hash as versions before 2026-12-06 made it (ints apart from Decimals), which a key stored
    by them still matches."""
    raw = json.dumps([command, _canonical(payload, legacy)], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_expiry(expiry: object) -> None:
    """A lot's expiry is a ``datetime.date`` or ``None`` (a datetime or a str is
    ``invalid_date``): stored as given, a wrong one broke every later read of the item."""
    if expiry is not None and type(expiry) is not dt.date:
        raise JxcError("invalid_date", field="expiry", expected="datetime.date",
                       kind=type(expiry).__name__, value=expiry)


def _moment(value: object, field: str) -> dt.datetime:
    """``value`` as a posting or expiry moment: a ``datetime.datetime`` (a ``date``, a ``str``
    or anything else is refused, ``invalid_date``), a timezone-aware one converted to UTC so
    that every stored moment has one offset and ISO text sorts as time does (SQLite orders
    the ledger by that text, the memory adapter by time)."""
    if not isinstance(value, dt.datetime):
        raise JxcError("invalid_date", field=field, expected="datetime.datetime",
                       kind=type(value).__name__, value=value)
    if value.tzinfo is None:
        return value
    if value.utcoffset() is None:  # a tzinfo that gives no offset: naive, as Python has it
        return value.replace(tzinfo=None)
    return value.astimezone(dt.UTC)


def _optional_moment(value: object, field: str) -> dt.datetime | None:
    return None if value is None else _moment(value, field)


def _same_awareness(value: dt.datetime, now: dt.datetime, field: str) -> None:
    """Naive with a naive clock, aware with an aware one (else ``timezone_mismatch``): the
    two are compared and stored side by side."""
    if (value.utcoffset() is None) != (now.utcoffset() is None):
        raise JxcError("timezone_mismatch", field=field, value=value.isoformat(),
                       now=now.isoformat())


def _posting_moment(w: _Work, posted_at: object) -> dt.datetime:
    """The moment of a posting: ``posted_at`` (default: the service clock's now), checked
    (:func:`_moment`, :func:`_same_awareness`) and, when aware, in UTC."""
    if posted_at is None:
        return w.jxc._own_now(w, _moment(w.now, "clock.now()"))
    when = _moment(posted_at, "posted_at")
    _same_awareness(when, w.now, "posted_at")
    return when


_NO_LOCK: Any = object()
#: the last moment of a day, and the step after a movement: a posting "now" when the clock has
#: not moved on (:meth:`Jxc._own_now`), a document dated an earlier day
#: (``Documents._late_moment``)
_DAY_END = dt.time.max
_TICK = dt.timedelta(microseconds=1)
_WHOLE = Decimal(1)
#: ``ValuationChange(...)`` with every field given, faster (one per scope of every posting)
_new_change = fast_init(ValuationChange)
#: record kind of the receipt costs (landed cost, invoice price difference) applied, by the
#: entry_no of their ``landed_cost`` ledger entry: what a back-dated movement splits again
_RECEIPT_COST = "receipt_cost"
#: records of what cost adjustments added to an issue after it was posted, by group ref
_ISSUE_COST = "issue_cost"
#: an entry number past any entry's: positions after (moment, it) start at the next moment
_LAST_ENTRY = 2**62
#: records of the transfers that left their source short (negative stock allowed), by the
#: issue ref of their out line: where the units went, for the settlement that values them.
#: Written when the transfer is posted short, or when a back-dated movement's replay leaves
#: it short (:meth:`Jxc._record_short_transfers`)
#: the part of a row's hold that open stock counts froze (kind of record; key item, warehouse,
#: location and lot joined by ``_SEP``): only the count releases it (:meth:`Jxc._hold`)
_COUNT_HOLDS = "count_hold"
_TRANSFER_SHORT = "transfer_short"
#: records of the units a cancellation put back into the FIFO/LIFO layers they left, by the
#: entry_no of its ledger entry (which names the issue in ``from_ref``): the layers, so that
#: a replay puts them back alike (:meth:`_LayerValuation.restore`)
_RESTORED = "restored_layers"
#: records of the units a FIFO/LIFO customer return settled of its own delivery's open
#: shortage, by the return's receipt ref (``doc/line``): ``[issue, units, estimate, real]``
#: (the delivery's group ref, the units, the estimate they released, what they settled it
#: with), so that its cancellation opens that shortage again (:func:`_reopen_own`)
_OWN_SHORTAGE = "return_own_shortage"
#: purchase receipt lines, adjustments' and counts' lines in, transfer arrivals and customer
#: return lines (``doc/line`` in a warehouse; under moving average all but returns) whose
#: units settled open shortages, per warehouse or by organisation (transfers: per warehouse
#: only): ``{"warehouse", "settled": [[issue,
#: units, estimate, real], ...], "at", "entry"}`` (the moment and number of the line's last
#: entry), so that their cancellation, newest first, opens those shortages again
#: (:func:`_reopen_settled`); written as posted (back-dated too), and again by a back-dated
#: posting that replays the receipt, as it settles there (:meth:`Jxc._record_settled`; ``{}``
#: when nothing any more). A return that settled only its own delivery's shortage has none
#: (:data:`_OWN_SHORTAGE` alone, :func:`_settled_others`)
_SETTLED_SHORTAGE = "receipt_settled_shortage"
#: the scopes (``item<sep>warehouse``; by organisation ``item<sep>*``) with
#: :data:`_SETTLED_SHORTAGE` records: a back-dated replay of another scope need not look its
#: receipts up
_SETTLED_SCOPES = "settled_shortage_scope"


def _scope_marker(item: str, scope: str) -> str:
    """The key of the :data:`_SETTLED_SCOPES` record of (``item``, ``scope``: the warehouse,
    or ``"*"`` by organisation)."""
    return f"{item}{_SEP}{scope}"

#: records of the receipts cancellations took back under moving average, by the entry_no of
#: the cancellation's ledger entry (which names the receipt in ``from_ref``): the receipt's
#: quantity and value, so that a replay takes its units back alike
#: (:meth:`MovingAverageValuation.take_back`)
_TAKEN_BACK = "taken_back"
#: records of the units a cancellation of an issue put back into the moving-average receipt
#: rows they left, by the entry_no of its ledger entry (which names the issue in
#: ``from_ref``): the rows ``[number, ref, quantity]``, so that a replay puts them back alike
#: (:meth:`MovingAverageValuation.restore_rows`)
_RESTORED_ROWS = "restored_rows"
#: records of the movements of each serial number (kind of record; key item and serial joined
#: by ``_SEP``): ``{"moves": [[doc_type, doc_id], ...]}``, oldest first, one per stock line
#: that moved it. A cancellation takes its document's move off the end, and is refused when
#: another document's is there: the unit moved on since (:meth:`Jxc._serial_moved_on`)
_SERIAL_MOVES = "serial_moves"


class _EventIds:
    """Event ids: 32 hex digits like a UUID, time-ordered (milliseconds, then a random
    process part, then a counter), so that the outbox's id index grows at its end instead of
    at a random page per event. Unique across processes by the random part (40 bits, drawn
    again in a forked child) and within one by the counter."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._node = f"{int.from_bytes(os.urandom(5), 'big'):010x}"
        self._count = itertools.count(int.from_bytes(os.urandom(4), "big"))

    def __call__(self) -> str:
        return (f"{time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF:012x}{self._node}"
                f"{next(self._count) & 0xFFFFFFFFFF:010x}")


_event_id = _EventIds()


class _Warm:
    """What the last committed command of a service read and wrote (master data, balance rows,
    reservations, the period lock), kept while the store's stamp shows nobody else committed
    since: the next command starts from it instead of reading the store again."""

    __slots__ = ("aligned", "docs", "items", "lock", "negative", "reservations", "rows",
                 "stamp", "verified", "warehouses", "zone")

    def __init__(self) -> None:
        self.stamp: Hashable | None = None
        self.items: dict[str, Item] = {}
        self.warehouses: dict[str, Warehouse] = {}
        self.rows: dict[tuple[str, str], dict[tuple[str, str], Balance]] = {}
        #: every stored reservation of an (item, warehouse), active or not
        self.reservations: dict[tuple[str, str], list[Reservation]] = {}
        self.lock: Any = _NO_LOCK
        #: (lock, clock timezone) last found to agree: the lock is a month end of that zone
        self.zone: tuple[dt.datetime, dt.tzinfo] | None = None
        #: whether some warehouse lets stock go negative (:meth:`_Work.negative_somewhere`)
        self.negative: bool | None = None
        #: scopes whose cached live valuation was checked against the store in this chain
        self.verified: set[tuple[str, str]] = set()
        #: documents (单据) saved or read by the last commands, least recently used first
        self.docs: dict[str, Any] = {}
        #: per warehouse scope: (live valuation, item, warehouse) that :func:`_align` last
        #: gave the policy of; the same three objects (master data is immutable) need none
        self.aligned: dict[tuple[str, str], tuple[Valuation, Item, Warehouse]] = {}


class _Work:
    """State of one command inside its unit of work: loaded rows and valuations."""

    def __init__(self, jxc: Jxc, uow: UnitOfWork, warm: _Warm | None = None) -> None:
        self.jxc = jxc
        self.uow = uow
        self.warm = warm if warm is not None else _Warm()
        self.items = self.warm.items
        self.warehouses = self.warm.warehouses
        self.rows = self.warm.rows
        self.touched_rows: set[tuple[str, str, str, str]] = set()
        self.valuations: dict[tuple[str, str], Valuation] = {}
        self.posted_until: dict[tuple[str, str], dt.datetime] = {}
        self.moves: dict[tuple[str, str], int] = {}
        self.versions: dict[tuple[str, str], int] = {}
        #: scopes whose live valuation is the stored state plus its own take_changes(): only
        #: those changes need writing
        self.synced: set[tuple[str, str]] = set()
        #: active reservations by (item, warehouse), and the inactive ones stored beside them
        self.reservations: dict[tuple[str, str], list[Reservation]] = {}
        self.inactive: dict[tuple[str, str], list[Reservation]] = {}
        self.events: list[Event] = []
        #: a transfer's cancellation (its lines posted one by one, last first): the
        #: shortages of its own lines (group refs) that the cancellation of a later line
        #: opened again, its arrival having settled them (a transfer both ways)
        self.own_reopened: set[str] = set()
        self.now = jxc.clock.now()
        #: the clock's timezone (``None``: a naive clock): the months and days of the books,
        #: the reports and the monthly average are those of this zone (:meth:`local`)
        self.zone = self.now.tzinfo if self.now.utcoffset() is not None else None

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A stored moment (aware ones are kept in UTC) in the clock's timezone: its day and
        month are those of the books. Naive moments and a naive clock: as it is."""
        return _local(moment, self.zone)

    def day_of(self, moment: dt.datetime) -> dt.date:
        """The day of a stored moment in the clock's timezone (the date of its journal rows)."""
        return _local(moment, self.zone).date()

    def month_of(self, moment: dt.datetime) -> str:
        """``YYYY-MM`` of a stored moment in the clock's timezone: its period (monthly-average
        period, month-end close, 进销存汇总表), as its vouchers' date has it."""
        return _period_of(moment, self.zone)

    def month_bounds(self, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
        """[first moment, last moment] of a month of the clock's timezone, comparable with
        stored moments (in UTC when aware): :func:`_month_bounds`."""
        return _month_bounds(year, month, self.zone)

    def day_end(self, day: dt.date) -> dt.datetime:
        """The last moment of ``day`` (23:59:59.999999) in the clock's timezone, as stored
        moments are (:func:`_moment`: in UTC when aware)."""
        return _moment(dt.datetime.combine(day, _DAY_END.replace(tzinfo=self.now.tzinfo)),
                       "date")

    def day_start(self, day: dt.date) -> dt.datetime:
        """The first moment of ``day`` in the clock's timezone, comparable with stored
        moments (in UTC when aware; naive with a naive clock)."""
        start = dt.datetime.combine(day, dt.time())
        if self.zone is None:
            return start
        return start.replace(tzinfo=self.zone).astimezone(dt.UTC)

    def item(self, code: str) -> Item:
        try:
            found = self.items.get(code)
        except TypeError:  # unhashable (a list): not a code
            found = None
        if found is None:
            check_text(code, "item")
            found = self.uow.master.get_item(code)
            if found is None:
                raise NotFoundError(kind="item", key=code)
            self.items[code] = found
        return found

    def warehouse(self, code: str) -> Warehouse:
        try:
            found = self.warehouses.get(code)
        except TypeError:  # unhashable (a list): not a code
            found = None
        if found is None:
            check_text(code, "warehouse")
            found = self.uow.master.get_warehouse(code)
            if found is None:
                raise NotFoundError(kind="warehouse", key=code)
            self.warehouses[code] = found
        return found

    def group(self, item: str, warehouse: str) -> dict[tuple[str, str], Balance]:
        key = (item, warehouse)
        found = self.rows.get(key)
        if found is None:
            found = {(b.location, b.lot): b for b in self.uow.balances.for_item(item, warehouse)}
            self.rows[key] = found
        return found

    def row(self, item: str, warehouse: str, location: str, lot: str) -> Balance:
        found = self.group(item, warehouse).get((location, lot))
        return found if found is not None else Balance(item, warehouse, location, lot)

    def set_row(self, b: Balance) -> None:
        self.group(b.item, b.warehouse)[(b.location, b.lot)] = b
        self.touched_rows.add((b.item, b.warehouse, b.location, b.lot))

    def active_reservations(self, item: str, warehouse: str) -> list[Reservation]:
        key = (item, warehouse)
        found = self.reservations.get(key)
        if found is None:
            stored = self.warm.reservations.get(key)
            if stored is None:
                stored = self.uow.reservations.for_item(item, warehouse)
                self.warm.reservations[key] = stored
            if stored:
                now = self.now
                found = [r for r in stored if r.active(now)]
                self.inactive[key] = [r for r in stored if not r.active(now)]
            else:  # the common case: none at all
                found = []
            self.reservations[key] = found
        return found

    def forget_reservations(self, item: str, warehouse: str) -> None:
        """The stored reservations of (item, warehouse) changed behind the lists: re-read."""
        key = (item, warehouse)
        self.reservations.pop(key, None)
        self.inactive.pop(key, None)
        self.warm.reservations.pop(key, None)

    def scope(self, item: Item, warehouse: str) -> tuple[str, str]:
        return (item.code, "*" if self.jxc.organisation_scope else warehouse)

    def valuation(self, item: Item, warehouse: str,
                  scope: tuple[str, str] | None = None) -> Valuation:
        """``scope``: :meth:`scope` of the two, when the caller has it already."""
        if scope is None:
            scope = self.scope(item, warehouse)
        found = self.valuations.get(scope)
        if found is None:
            cached = self.jxc._cache.get(scope)
            # a hot start, and the live object was checked since the store last changed
            version = (cached[0] if cached is not None and scope in self.warm.verified
                       else self.uow.valuations.version(scope))
            if cached is not None and version is not None and cached[0] == version:
                # the live object of the last unit of work that wrote this scope: unchanged
                _, made, until, moves = cached
                if until is not None:
                    self.posted_until[scope] = until
                self.moves[scope] = moves
                self.versions[scope] = version
                self.valuations[scope] = made
                self.synced.add(scope)
                # the policy may have changed since: aligned unless it was, for these objects
                mark = self.warm.aligned.get(scope)
                wh = scope[1]
                if (mark is None or mark[0] is not made or mark[1] is not item
                        or mark[2] is not self.warehouses.get(wh)):
                    _align(made, *self.policy(item, scope))
                    found_wh = self.warehouses.get(wh)
                    if found_wh is not None and wh != "*":
                        self.warm.aligned[scope] = (made, item, found_wh)
                return made
            self.versions[scope] = version or 0
            state = self.uow.valuations.get(scope)
            if state is None:
                made = self.jxc._new_valuation(item, self.policy(item, scope))
            else:
                restored = valuation_from_state(state)
                made = (MonthlyScope(restored) if isinstance(restored, MonthlyAverageValuation)
                        else restored)
                if state.get("posted_until"):
                    self.posted_until[scope] = dt.datetime.fromisoformat(state["posted_until"])
                self.moves[scope] = int(state.get("moves", 0))
                self.synced.add(scope)  # restored: no change pending, in step with the store
                _align(made, *self.policy(item, scope))  # the item's policy now, not then
            made.item = item.code
            made.warehouse = scope[1]
            self.valuations[scope] = made
            return made
        return found

    def allows_negative(self, item: Item, warehouse: str) -> bool:
        """The negative-stock policy of ``item``'s stock in ``warehouse``: the warehouse's
        ``allow_negative`` if set, else the item's (DOMAIN 2)."""
        found = self.warehouses.get(warehouse)
        if found is None:
            found = self.uow.master.get_warehouse(warehouse)
            if found is None:  # not defined (rows written by hand): the item's policy
                return item.allow_negative
            self.warehouses[warehouse] = found
        own = found.allow_negative
        return item.allow_negative if own is None else own

    def negative_somewhere(self) -> bool:
        """Whether some warehouse was defined with ``allow_negative=True`` (the record
        :data:`_NEGATIVE_WAREHOUSES` that :meth:`Jxc.define_warehouse` keeps), read once per
        chain of commands."""
        found = self.warm.negative
        if found is None:
            kept = self.uow.records.get(_NEGATIVE_WAREHOUSES, "allow") or {}
            found = self.warm.negative = bool(kept.get("warehouses"))
        return found

    def policy(self, item: Item, scope: tuple[str, str]) -> tuple[bool, Decimal | None]:
        """(allow_negative, default_cost) of the valuation of ``scope``: per warehouse the
        effective policy of (item, warehouse); for the organisation (``"*"``) negative stock
        is allowed when the item allows it or some warehouse overrides it to allowed — the
        stock check of each warehouse already refused what its policy forbids."""
        wh = scope[1]
        if wh == "*":
            allow = item.allow_negative or self.negative_somewhere()
        else:
            allow = self.allows_negative(item, wh)
        return allow, item.default_cost

    def locked_until(self) -> dt.datetime | None:
        """End of the last closed period (月结): nothing may be posted on or before it.

        A store keeps the timezone its months were closed in: with an aware clock the lock
        must be the last moment of a month of the clock's timezone, else the clock's zone is
        not the one of the closes (``period_zone_mismatch``; the closed months, their
        snapshots and vouchers would disagree with the months this clock makes)."""
        lock: dt.datetime | None = self.warm.lock
        if lock is _NO_LOCK:
            found = self.uow.records.get("period", "lock")
            until = found.get("until") if found else None
            lock = self.warm.lock = dt.datetime.fromisoformat(until) if until else None
        zone = self.zone
        if (lock is not None and zone is not None and lock.utcoffset() is not None
                and self.warm.zone != (lock, zone)):
            local = lock.astimezone(zone)
            if _month_bounds(local.year, local.month, zone)[1] != lock:
                raise JxcError("period_zone_mismatch", until=lock.isoformat(),
                               local=local.isoformat())
            self.warm.zone = (lock, zone)
        return lock

    def check_open(self, moment: dt.datetime | dt.date) -> None:
        """Refuse a moment, or a day (its first moment in the clock's timezone), on or before
        the end of the last closed period (``period_closed``)."""
        lock = self.locked_until()
        if lock is None:
            return
        if isinstance(moment, dt.datetime):
            at = moment
        elif self.zone is not None and lock.utcoffset() is not None:
            at = self.day_start(moment)  # the day of the clock's timezone
        else:
            at = dt.datetime.combine(moment, dt.time())
        if (at.utcoffset() is None) != (lock.utcoffset() is None):  # a date, or an old lock
            at = (at.replace(tzinfo=dt.UTC) if at.utcoffset() is None
                  else at.astimezone(dt.UTC).replace(tzinfo=None))
        if at <= lock:
            raise PeriodClosedError(date=moment.isoformat())

    def lots_of(self, item: str, rows: Sequence[Balance]) -> dict[str, Lot | None]:
        return {b.lot: (self.uow.master.get_lot(item, b.lot) if b.lot else None) for b in rows}

    def event(self, type_: str, payload: dict[str, Any]) -> None:
        self.events.append(Event(_event_id(), type_, self.now, payload))

    def save(self) -> None:
        uow = self.uow
        if self.touched_rows:
            uow.balances.put([self.rows[(i, w)][(loc, lot)]
                              for i, w, loc, lot in sorted(self.touched_rows)])
        changes: list[ValuationChange] = []
        iso: dict[dt.datetime, str] = {}  # the scopes of a posting share their moment
        versions, synced, posted_until, moves = (self.versions, self.synced, self.posted_until,
                                                 self.moves)
        append = changes.append
        for scope, v in self.valuations.items():
            header, rows = v.take_changes()
            # the states are made here and never touched again: handed over (``owned``)
            if scope in synced:
                change = _new_change(scope, header, tuple(rows), False, True)
            else:  # new, or rewound by a back-dated replay: stored whole
                state = v.to_state()
                header = {k: x for k, x in state.items() if k != "rows"}
                change = ValuationChange(scope, header, tuple(
                    (int(k), d) for k, d in state.get("rows", ())), True, True)
            until = posted_until.get(scope)
            if until is not None:
                at = iso.get(until)
                if at is None:
                    at = iso[until] = until.isoformat()
                header["posted_until"] = at
            header["moves"] = moves.get(scope, 0)
            append(change)
            versions[scope] = versions.get(scope, 0) + 1
        if changes:
            uow.valuations.write(changes)
        if self.events:
            uow.outbox.add(self.events)
        stored = self.warm.reservations
        inactive = self.inactive
        for key, active in self.reservations.items():
            stored[key] = inactive[key] + active if key in inactive else active.copy()


def _reservation_data(r: Reservation, quantity: Decimal | None = None) -> dict[str, Any]:
    """A reservation in an event's payload (``quantity``: the part the event is about)."""
    return {"reservation_id": r.reservation_id, "item": r.item, "warehouse": r.warehouse,
            "lot": r.lot, "demand": r.demand,
            "quantity": str(r.quantity if quantity is None else quantity),
            "expires_at": None if r.expires_at is None else r.expires_at.isoformat()}


def _released_event(w: _Work, demand: str, reason: str,
                    parts: list[tuple[Reservation, Decimal]]) -> None:
    """One ``reservation_released`` event for what left the reservations of ``demand``."""
    w.event("reservation_released", {
        "demand": demand, "reason": reason,
        "quantity": str(sum((q for _, q in parts), ZERO)),
        "reservations": [_reservation_data(r, q) for r, q in parts]})


#: what an out line takes: (lot, location, quantity) per balance row
_Parts = list[tuple[str, str, Decimal]]
_FAR = dt.date.max


class _Pick:
    """The out lines of one posting for one (item, warehouse): the balance rows each line
    takes, and whether together they take only what is free (:meth:`short`).

    The lines are walked in the order the posting moves them (:meth:`take`); each sees the
    rows and the reservations as the lines before it leave them. A line naming both its lot
    and its location takes that row. Otherwise it takes, among the rows that match what it
    names and have stock (never those of an expired lot, unless the line names that lot and
    its kind is in :data:`EXPIRED_LOT_KINDS`):

    1. for a demand line, the lots that the demand's own reservations name, up to what they
       still reserve there;
    2. then the rows without a lot, then the lots first expired first out (lots without an
       expiry last, then by code);
    3. within a lot, the row without a location first, then the warehouse's locations in the
       order it lists them, then any other by name.

    A lot gives a line at most what is free in it for that line (its stock less the claims
    of others: reservations naming it, holds); a row at most its on hand less its hold. What
    no row can give stays on the last row taken (else on the row named): the stock check
    refuses it unless negative stock is allowed for the item in the warehouse (the
    warehouse's ``allow_negative`` if set, else the item's: :meth:`_Work.allows_negative`).

    An expired lot taken by name (:data:`EXPIRED_LOT_KINDS`) is checked on its own
    (:meth:`stale`): it gives its on hand less the claims of others on it (holds, reservations
    naming it), and it neither counts against nor makes room in the usable stock of the
    warehouse.
    """

    __slots__ = ("_free", "_lots", "_stale", "item", "left", "only", "only_taken", "reservations",
                 "rows", "started", "taken_lots", "taken_rows", "today", "total",
                 "used_bound", "used_floating", "w", "warehouse")

    today: dt.date
    _lots: dict[str, Lot | None] | None
    _free: FreeStock | None
    #: the expired lots, once a line takes one by name (:meth:`stale`)
    _stale: FreeStock | None
    #: taken so far by the posting's lines: per row (location, lot), per lot, in all
    taken_rows: dict[tuple[str, str], Decimal]
    taken_lots: dict[str, Decimal]
    total: Decimal
    #: what the lines so far leave of each reservation (by id) when they consume them
    left: dict[str, Decimal]
    #: reservations consumed so far: those naming a lot (by lot), those without one
    used_bound: dict[str, Decimal]
    used_floating: Decimal

    def __init__(self, w: _Work, item: Item, warehouse: str) -> None:
        self.w = w
        self.item = item
        self.warehouse = warehouse
        self.rows = rows = w.group(item.code, warehouse)
        self.reservations = w.active_reservations(item.code, warehouse)
        #: the common case: the group's one row has no lot and nothing is reserved; as long
        #: as the lines name that row they need no picking, they only add up (``only_taken``)
        self.only: tuple[str, str] | None = None
        self.only_taken = ZERO
        self.started = False
        if len(rows) == 1 and not self.reservations:
            key = next(iter(rows))
            if not key[1]:
                self.only = key

    def _start(self) -> None:
        """Set up picking and checking beyond the common case (what the lines took from the
        one row counts as any take from then on)."""
        if self.started:
            return
        self.started = True
        self.today = self.w.now.date()
        self._lots = self._free = self._stale = None
        self.taken_rows, self.taken_lots, self.total = {}, {}, ZERO
        self.left, self.used_bound, self.used_floating = {}, {}, ZERO
        if self.only is not None:
            location, lot = self.only
            self.only = None
            if self.only_taken:
                self._apply(None, lot, location, self.only_taken)

    # -- what the store holds ------------------------------------------------------------------
    def lots(self) -> dict[str, Lot | None]:
        if self._lots is None:
            self._lots = self.w.lots_of(self.item.code, list(self.rows.values()))
        return self._lots

    def free(self) -> FreeStock:
        """Stock and claims before the posting."""
        if self._free is None:
            self._free = free_stock(list(self.rows.values()), self.lots(), self.reservations,
                                    self.today)
        return self._free

    def stale(self) -> FreeStock:
        """The stock of the expired lots and the claims on them (holds on their rows,
        reservations naming them) before the posting, lot by lot, for the lines that may take
        them by name. The usable stock (:meth:`free`) leaves them out."""
        if self._stale is None:
            lots, today = self.lots(), self.today
            rows = [b for b in self.rows.values()
                    if b.lot and not lot_usable(lots.get(b.lot), today)]
            expired = {b.lot for b in rows}
            # no lots given: free_stock counts each of these lots as it counts a usable one
            self._stale = free_stock(rows, {}, [r for r in self.reservations
                                                if r.lot in expired], today)
        return self._stale

    def _lot_stock(self, lot: str) -> FreeStock:
        """The :class:`FreeStock` that holds ``lot``: the expired lots once taken by name,
        else the usable stock."""
        stale = self._stale
        return stale if stale is not None and lot in stale.stock else self.free()

    # -- picking -------------------------------------------------------------------------------
    def take(self, line: StockLine, qty: Decimal, parts: _Parts,
             exact: bool = False) -> _Parts:
        """The rows ``line`` takes ``qty`` (base units) from, counted as taken: ``parts`` (the
        row named) itself when there is nothing to choose. ``exact``: the row named even when
        its lot or location is ``""`` (the row without one), never another (a reversal takes
        back what its posting put on that row, :meth:`Jxc._post`)."""
        lot, location = line.lot, line.location
        if (location, lot) == self.only:
            self.only_taken += qty
            return parts
        self._start()
        expired = self._named_expired(line)
        rows = self.rows
        if exact or (lot and location) or not rows or (
                len(rows) == 1 and (location, lot) in rows):
            self._apply(line.demand, lot, location, qty)  # nothing to choose
            return parts
        return self._pick(line, qty, expired)

    def give_back(self, location: str, lot: str, qty: Decimal) -> None:
        """Count ``qty`` of what a line took from the row (``location``, ``lot``) as not
        taken from the stock before the posting: the posting's earlier lines put it back
        there (a document's cancellation, :meth:`Jxc._check_stock`)."""
        if self.only is not None and (location, lot) == self.only:
            self.only_taken -= qty
            return
        key = (location, lot)
        self.taken_rows[key] -= qty
        self.taken_lots[lot] -= qty
        self.total -= qty

    def _named_expired(self, line: StockLine) -> bool:
        """Whether ``line`` names an expired lot it may take (its kind is in
        :data:`EXPIRED_LOT_KINDS`; :meth:`Jxc._validate` refused the other kinds): then that
        lot is checked on its own (:meth:`stale`)."""
        lot = line.lot
        if not lot or line.kind not in EXPIRED_LOT_KINDS:
            return False
        known = self._lots
        found = (known[lot] if known is not None and lot in known
                 else self.w.uow.master.get_lot(self.item.code, lot))
        if lot_usable(found, self.today):
            return False
        # checked on its own even without stock here (received elsewhere): short by all of
        # the line in that lot, not counted against the warehouse's usable stock
        self.stale().stock.setdefault(lot, ZERO)
        return True

    def _pick(self, line: StockLine, qty: Decimal, expired: bool = False) -> _Parts:
        """``expired``: the line names an expired lot that it may take."""
        lot, location, demand = line.lot, line.location, line.demand
        lots = self.lots()
        today = self.today
        places = {code: n for n, code in enumerate(self.w.warehouse(self.warehouse).locations)}

        def order(b: Balance) -> tuple[int, dt.date, str, int, int, str]:
            found = lots.get(b.lot)
            expiry = found.expiry if found is not None and found.expiry else _FAR
            loc = b.location
            place = places.get(loc)
            rank = 0 if not loc else 1 if place is not None else 2
            return (1 if b.lot else 0, expiry, b.lot, rank, place or 0, loc)

        rows = sorted((b for b in self.rows.values()
                       if (not lot or b.lot == lot) and (not location or b.location == location)
                       and b.on_hand - b.held > self.taken_rows.get((b.location, b.lot), ZERO)
                       and (not b.lot or expired or lot_usable(lots.get(b.lot), today))),
                      key=order)
        parts: dict[tuple[str, str], Decimal] = {}
        left = qty
        passes = [True, False] if demand is not None else [False]
        for own_only in passes:  # first the lots of the demand's own reservations
            for b in rows:
                if not left:
                    break
                if own_only and not b.lot:
                    continue
                room = min(left, b.on_hand - b.held - self.taken_rows.get(
                    (b.location, b.lot), ZERO), self._room(b.lot, demand))
                if own_only:
                    room = min(room, self._own(demand, b.lot))
                if room <= 0:
                    continue
                key = (b.lot, b.location)
                parts[key] = parts.get(key, ZERO) + room
                self._apply(demand, b.lot, b.location, room)
                left -= room
        if left:  # not enough free: on the last row taken, else the row named
            key = next(reversed(parts)) if parts else (lot, location)
            parts[key] = parts.get(key, ZERO) + left
            self._apply(demand, key[0], key[1], left)
        return [(lt, loc, q) for (lt, loc), q in parts.items()]

    def _room(self, lot: str, demand: str | None) -> Decimal:
        """What ``lot`` can still give a line of ``demand``: its stock less what the lines so
        far took, less the claims on it still standing, except the demand's own."""
        free = self._lot_stock(lot) if lot else self.free()
        room = free.stock.get(lot, ZERO) - self.taken_lots.get(lot, ZERO)
        if not lot:
            return room
        room -= free.bound.get(lot, ZERO) - self.used_bound.get(lot, ZERO)
        return room + self._own(demand, lot) if demand is not None else room

    def _own(self, demand: str | None, lot: str) -> Decimal:
        """What the reservations of ``demand`` naming ``lot`` still reserve."""
        left = self.left
        return sum((left.get(r.reservation_id, r.quantity) for r in self.reservations
                    if r.demand == demand and r.lot == lot), ZERO)

    def _apply(self, demand: str | None, lot: str, location: str, qty: Decimal) -> None:
        """Count ``qty`` taken from the row, and the demand's reservations it consumes (as
        :meth:`Jxc._consume_reservations` will)."""
        key = (location, lot)
        self.taken_rows[key] = self.taken_rows.get(key, ZERO) + qty
        self.taken_lots[lot] = self.taken_lots.get(lot, ZERO) + qty
        self.total += qty
        if demand is None or not self.reservations:
            return
        want = qty
        for r in consumption_order(self.reservations, demand, lot):
            have = self.left.get(r.reservation_id, r.quantity)
            use = min(want, have)
            if use <= 0:
                continue
            self.left[r.reservation_id] = have - use
            if r.lot:
                self.used_bound[r.lot] = self.used_bound.get(r.lot, ZERO) + use
            else:
                self.used_floating += use
            want -= use
            if not want:
                break

    # -- the check -----------------------------------------------------------------------------
    def short(self) -> list[ShortLine]:
        """What the lines take beyond what is free for them, at the first level that fails:
        the warehouse, else each lot, else each row (the rows only when negative stock is
        forbidden). Empty when the lines may go through.

        Free for the posting: what is free (:class:`FreeStock`) plus the reservations its
        lines consume. Negative stock forbidden: no more than that, and no row below zero.
        Allowed: a level may go below zero, but while its stock covers claims of others the
        lines may not take them either. Either way a row gives no more than its on hand less
        its hold: what a row holds (a count freeze, a quality hold) stays there."""
        item, wh = self.item.code, self.warehouse
        forbid = not self.w.allows_negative(self.item, wh)
        rows = self.rows
        if self.only is not None:  # every line took the one row, nothing is reserved
            b = rows[self.only]
            have = max(b.on_hand - b.held, ZERO)
            taken = self.only_taken
            if taken > have and (forbid or (b.held > 0 and b.on_hand > 0)):
                return [ShortLine(item, wh, taken, have)]
            return []
        self._start()
        free = self.free()
        used_bound = self.used_bound
        used = sum(used_bound.values(), ZERO) + self.used_floating
        total = self.total
        stale = self._stale
        if stale is not None:  # expired lots taken by name: checked lot by lot only
            for lot in stale.stock:
                total -= self.taken_lots.get(lot, ZERO)
                used -= used_bound.get(lot, ZERO)
        have = max(free.total(), ZERO)
        if total - used > have and (forbid or self._protected(None)):
            return [ShortLine(item, wh, total, have + used)]
        out = []
        for lot, q in self.taken_lots.items():
            if not lot:
                continue
            mine = used_bound.get(lot, ZERO)
            have = max(self._lot_stock(lot).lot(lot), ZERO)
            if q - mine > have and (forbid or self._protected(lot)):
                out.append(ShortLine(item, wh, q, have + mine, lot))
        if out:
            return out
        for (location, lot), q in self.taken_rows.items():
            row = rows.get((location, lot))
            if row is None:
                if forbid:
                    out.append(ShortLine(item, wh, q, ZERO, lot, location))
                continue
            have = max(row.on_hand - row.held, ZERO)  # what a row holds stays where it is
            if q > have and (forbid or row.held > 0):
                out.append(ShortLine(item, wh, q, have, lot, location))
        return out

    def _protected(self, lot: str | None) -> bool:
        """Whether stock of ``lot`` (None: the warehouse) covers claims that the posting
        leaves standing: then negative stock allowed or not, the lines may not take them."""
        free = self.free() if lot is None else self._lot_stock(lot)
        used_bound = self.used_bound
        if lot is not None:
            return (free.stock.get(lot, ZERO) > 0
                    and free.bound.get(lot, ZERO) - used_bound.get(lot, ZERO) > 0)
        standing = free.floating - self.used_floating + sum(
            (q - used_bound.get(k, ZERO) for k, q in free.bound.items()), ZERO)
        return standing > 0 and sum(free.stock.values(), ZERO) > 0


#: ledger kinds of a location move (库位移动): a pair of entries of one costing scope with equal
#: and opposite value; they move on hand between rows and leave the valuation as it is (a
#: back-dated replay skips them, the 进销存汇总表 does not count them as receipts or issues)
MOVE_OUT = "move_out"
MOVE_IN = "move_in"
_MOVE_KINDS = frozenset({MOVE_OUT, MOVE_IN})


class _MovePick(_Pick):
    """The source rows of the lines of a location move: always the location named, ``""``
    being the row without a location (an issue line without a location may take any). A line
    naming its lot takes that row; one without takes the rows of the location: the row
    without a lot first, then the usable lots first expired first out. The checks are those of
    :class:`_Pick` (what is free in the warehouse and in each lot for the line, no row below
    zero when negative stock is forbidden, nothing a row holds). ``exact``: the row named,
    ``""`` being the row without a lot (a reversal, :meth:`Jxc._move`)."""

    __slots__ = ()

    def take(self, line: StockLine, qty: Decimal, parts: _Parts,
             exact: bool = False) -> _Parts:
        self._start()
        lot, location, demand = line.lot, line.location, line.demand
        if lot or exact:  # the row named (an expired lot too: to a quarantine location, say)
            self._named_expired(line)
            self._apply(demand, lot, location, qty)
            return parts
        lots = self.lots()
        today = self.today

        def order(b: Balance) -> tuple[int, dt.date, str]:
            found = lots.get(b.lot)
            expiry = found.expiry if found is not None and found.expiry else _FAR
            return (1 if b.lot else 0, expiry, b.lot)

        rows = sorted((b for b in self.rows.values()
                       if b.location == location
                       and b.on_hand - b.held > self.taken_rows.get((location, b.lot), ZERO)
                       and (not b.lot or lot_usable(lots.get(b.lot), today))), key=order)
        out: dict[str, Decimal] = {}
        left = qty
        for b in rows:
            if not left:
                break
            room = min(left, b.on_hand - b.held - self.taken_rows.get((location, b.lot), ZERO),
                       self._room(b.lot, demand))
            if room <= 0:
                continue
            out[b.lot] = out.get(b.lot, ZERO) + room
            self._apply(demand, b.lot, location, room)
            left -= room
        if left:  # not enough free: on the last row taken, else the row named
            key = next(reversed(out)) if out else lot
            out[key] = out.get(key, ZERO) + left
            self._apply(demand, key, location, left)
        return [(lt, location, q) for lt, q in out.items()]


#: the most decimals an amount may have (``currency_digits``, ``digits_by_currency``): an
#: amount below :data:`~jxc_core.values.MAX_AMOUNT` (10**21) has up to 21 digits before the
#: point, and 21 + 7 is the 28 significant digits of Decimal arithmetic; with more, rounding
#: a large amount to its digits fails (every posting of it would be refused)
MAX_CURRENCY_DIGITS = 7


def _check_setting_int(value: object, name: str, least: int, most: int | None = None) -> None:
    """A whole-number setting of :class:`Jxc`: an int (not a bool, a float or a str: those
    are ``TypeError``) of ``least`` or more, and ``most`` or less (else ``configuration``)."""
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < least:
        raise JxcError("configuration", field=name, value=value,
                       reason=f"{name} must be {least} or more, got {value}",
                       reason_zh=f"{name} 须为不小于 {least} 的整数，实际为 {value}")
    if most is not None and value > most:
        raise JxcError("configuration", field=name, value=value,
                       reason=f"{name} must be {most} or less, got {value} (an amount up to "
                              f"10**21 keeps its digits within 28 significant digits)",
                       reason_zh=f"{name} 须不大于 {most}，实际为 {value}（金额可达 10**21，"
                                 f"连同小数位须在 28 位有效数字之内）")


#: the most decimals of an item's base unit: a quantity below ``MAX_MAGNITUDE`` (15 digits)
#: with them stays within Decimal's 28 significant digits
MAX_QUANTITY_DIGITS = 12


def _checked_item(item: Item) -> Item:
    """``item`` with its numbers checked (see :meth:`Jxc.define_item`); an ``int`` standard
    or default cost is kept as the ``Decimal`` it means."""
    if not isinstance(item, Item):
        raise TypeError(f"item must be an Item, got {type(item).__name__} {item!r}")
    digits = item.quantity_digits
    if type(digits) is not int:
        raise TypeError(f"quantity_digits must be an int, got {type(digits).__name__} "
                        f"{digits!r}")
    if not 0 <= digits <= MAX_QUANTITY_DIGITS:
        raise JxcError("configuration", field="quantity_digits", value=digits,
                       reason=f"quantity_digits of {item.code} must be from 0 to "
                              f"{MAX_QUANTITY_DIGITS}, got {digits}",
                       reason_zh=f"{item.code} 的 quantity_digits 须为 0 到 "
                                 f"{MAX_QUANTITY_DIGITS} 的整数，实际为 {digits}")
    check_bool(item.allow_negative, "allow_negative")
    check_bool(item.lot_tracked, "lot_tracked")
    check_bool(item.serial_tracked, "serial_tracked")
    if item.default_cost is not None:
        default = check_amount(item.default_cost, "default_cost", MAX_MAGNITUDE)
        if default is not item.default_cost:
            item = attrs.evolve(item, default_cost=default)
    if item.standard_cost is None:
        return item
    cost = check_amount(item.standard_cost, "standard_cost", MAX_MAGNITUDE)
    if cost is item.standard_cost:
        return item
    return attrs.evolve(item, standard_cost=cost)


def _check_digits_by_currency(given: object, book_currency: str,
                              currency_digits: int) -> dict[str, int]:
    if not isinstance(given, Mapping):
        raise TypeError(f"digits_by_currency must be a dict of currency code -> int, got "
                        f"{type(given).__name__} {given!r}")
    out: dict[str, int] = {}
    for code, digits in given.items():
        if type(code) is not str or not code:
            raise JxcError("configuration", reason=f"digits_by_currency: bad code {code!r}",
                           reason_zh=f"digits_by_currency：币种代码有误 {code!r}")
        check_text(code, "digits_by_currency")
        if type(digits) is not int or not 0 <= digits <= MAX_CURRENCY_DIGITS:
            raise JxcError("configuration", reason=f"digits_by_currency: {code} needs an int "
                           f"from 0 to {MAX_CURRENCY_DIGITS}, got {digits!r}",
                           reason_zh=f"digits_by_currency：{code} 需要 0 到 "
                                     f"{MAX_CURRENCY_DIGITS} 的整数，实际为 {digits!r}")
        if code == book_currency and digits != currency_digits:
            raise JxcError("configuration", reason=f"digits_by_currency gives {code} {digits} "
                           f"digits, but the book currency has currency_digits="
                           f"{currency_digits}",
                           reason_zh=f"digits_by_currency 给 {code} {digits} 位小数，但记账本位币"
                                     f"的 currency_digits={currency_digits}")
        out[code] = digits
    return out


class Jxc:
    """The service layer over one storage. See the module docstring."""

    def __init__(
        self,
        storage: Storage,
        *,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        currency_digits: int = 2,
        organisation_scope: bool = False,
        checkpoint_every: int = 256,
        book_currency: str = "CNY",
        rates: ExchangeRates | None = None,
        digits_by_currency: Mapping[str, int] | None = None,
    ) -> None:
        """``currency_digits``: decimals of the book currency (stock values, vouchers).
        ``book_currency``: an ISO 4217 code (``"CNY"``, not ``"RMB"``), or a code named in
        ``digits_by_currency``; else ``unknown_currency``.
        ``digits_by_currency``: decimals of other currencies where they are not the ISO 4217
        ones babel gives (``{"HUF": 2}``), or of codes babel does not know; see
        :meth:`digits_of`.
        ``currency_digits`` is an int of 0 to :data:`MAX_CURRENCY_DIGITS` (7) and
        ``checkpoint_every`` one of 1 or more (a bool, a float or a str is ``TypeError``; out
        of range: ``configuration``, with ``field``); ``organisation_scope`` is a bool,
        ``digits_by_currency`` a mapping and ``clock`` has a ``now()`` (else ``TypeError``);
        ``storage`` has a ``unit_of_work()``, ``notifier`` (when given) a ``notify()`` and
        ``rates`` a ``rate()`` (else ``TypeError``, rather than an ``AttributeError`` at the
        first command that needs them)."""
        _check_setting_int(currency_digits, "currency_digits", 0, MAX_CURRENCY_DIGITS)
        _check_setting_int(checkpoint_every, "checkpoint_every", 1)
        if type(organisation_scope) is not bool:
            raise TypeError(f"organisation_scope must be a bool, got "
                            f"{type(organisation_scope).__name__} {organisation_scope!r}")
        for name, value, method, port in (("storage", storage, "unit_of_work", "a Storage"),
                                          ("clock", clock, "now", "a Clock"),
                                          ("notifier", notifier, "notify", "a Notifier"),
                                          ("rates", rates, "rate", "ExchangeRates")):
            if (value is not None or name == "storage") and not callable(
                    getattr(value, method, None)):
                raise TypeError(f"{name} must have a {method}() method ({port}), got "
                                f"{type(value).__name__} {value!r}")
        by_currency = _check_digits_by_currency(
            {} if digits_by_currency is None else digits_by_currency, book_currency,
            currency_digits)
        if type(book_currency) is not str or book_currency not in by_currency:
            currency_minor_unit(book_currency)  # unknown_currency for a code ISO lacks
        self.storage = storage
        #: the latest moment a posting "now" got (:meth:`_own_now`)
        self._last_now: dt.datetime | None = None
        #: live valuation objects by scope, with the stored version they match
        self._cache: dict[tuple[str, str], tuple[int, Valuation, dt.datetime | None, int]] = {}
        #: rows read and written by the last command, while the store's stamp still matches
        self._warm: _Warm | None = None
        self.book_currency = book_currency
        self.rates = rates
        self.checkpoint_every = checkpoint_every
        #: deliveries after a command that failed (the events stay pending for the next one)
        self.delivery_failures = 0
        #: per thread: a delivery is handing events to the notifier (see deliver_events)
        self._delivering = threading.local()
        #: ledger entries replayed by back-dated postings so far (for measurement)
        self.replayed = 0
        self.notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self.currency_digits = currency_digits
        self.digits_by_currency = by_currency
        self.organisation_scope = organisation_scope

    def digits_of(self, currency: str) -> int:
        """Decimals of amounts in ``currency``: ``currency_digits`` for the book currency,
        else ``digits_by_currency``, else the ISO 4217 minor unit (babel): USD 2, JPY 0,
        BHD 3. A code none of them knows raises ``unknown_currency``; a ``currency`` that is
        not a str is ``TypeError``."""
        if currency == self.book_currency:
            return self.currency_digits
        check_text(currency, "currency")
        found = self.digits_by_currency.get(currency)
        return found if found is not None else currency_minor_unit(currency)

    # -- plumbing --------------------------------------------------------------------------
    def _new_valuation(self, item: Item, policy: tuple[bool, Decimal | None]) -> Valuation:
        """A new valuation of a scope of ``item``; ``policy``: (allow_negative, default_cost)
        of the scope (:meth:`_Work.policy`)."""
        d = self.currency_digits
        m = item.costing_method
        allow, cost = policy
        if m == "fifo":
            return FifoValuation(d, allow, default_cost=cost)
        if m == "lifo":
            return LifoValuation(d, allow, default_cost=cost)
        if m == "moving_average":
            return MovingAverageValuation(d, allow, default_cost=cost)
        if m == "standard":
            assert item.standard_cost is not None
            return StandardCostValuation(item.standard_cost, d, allow)
        if m == "monthly_average":
            return MonthlyScope(MonthlyAverageValuation(d, allow, default_cost=cost))
        return SpecificLotValuation(d)

    def _run(
        self,
        command: str,
        payload: Any,
        key: str | None,
        body: Callable[[_Work], Any],
        encode: Callable[[Any], dict[str, Any]],
        decode: Callable[[dict[str, Any]], Any],
        *,
        keep_warm: bool = True,
        former: tuple[Any, ...] = (),
    ) -> Any:
        """One command in one unit of work. ``keep_warm=False`` for commands that write rows
        the next command would otherwise take from :class:`_Warm` (period close, reopen).
        ``former``: the payload of the same call as earlier versions shaped it, when the shape
        changed: a key they stored is compared with its hash too (and with the hash of
        ``payload`` as versions before 2026-12-06 made it) before a conflict is declared, so a
        retry across an upgrade still finds its first result. A payload of a new shape must
        never hash as a former one, or a stored key would match other calls."""
        if key is not None and (type(key) is not str or not key.isascii()):
            check_text(key, "idempotency_key")
        with self.storage.unit_of_work() as uow:
            fp = ""
            if key is not None:
                fp = fingerprint(command, payload)
                seen = uow.idempotency.get(key)
                if seen is not None:
                    earlier = [(payload, True), *((p, legacy) for p in former
                                                  for legacy in (False, True))]
                    if seen[0] != fp and all(seen[0] != fingerprint(command, p, legacy=legacy)
                                             for p, legacy in earlier):
                        raise JxcError("idempotency_conflict", key=key)
                    return decode(seen[1])
            work = _Work(self, uow, self._take_warm(uow))
            try:
                result = body(work)
                work.save()
                if key is not None:
                    uow.idempotency.put(key, fp, encode(result))
                uow.commit()
            except BaseException as e:
                for scope in work.valuations:  # they may be half-changed: never reuse them
                    self._cache.pop(scope, None)
                if isinstance(e, DecimalException):  # a product beyond 28 digits, nothing kept
                    raise JxcError("computation_out_of_range", command=command,
                                   limit=MAX_AMOUNT) from e
                raise
            cache, versions, until, moves = (self._cache, work.versions, work.posted_until,
                                             work.moves)
            for scope, v in work.valuations.items():
                if scope in versions:
                    cache[scope] = (versions[scope], v, until.get(scope), moves.get(scope, 0))
            if keep_warm:
                stamp = uow.stamp()
                if stamp is not None:
                    work.warm.stamp = stamp
                    work.warm.verified.update(work.versions)
                    self._warm = work.warm
        try:
            self.deliver_events()
        except Exception:  # the command committed; the event stays pending
            self.delivery_failures += 1
        return result

    def _take_warm(self, uow: UnitOfWork) -> _Warm | None:
        """The rows of the last command if nobody committed since (else ``None``); taken, so a
        command that fails leaves no half-changed rows behind."""
        warm, self._warm = self._warm, None
        if warm is None:
            return None
        stamp = uow.stamp()
        return warm if stamp is not None and stamp == warm.stamp else None

    def deliver_events(self, limit: int = 1000) -> int:
        """Hand pending outbox events to the notifier; returns how many were delivered.

        Called after every command. The pending events are read in one unit of work, handed
        to the notifier outside any (so a notifier may read from, or call, this service), and
        the ones it took are marked delivered in another. A notifier that raises leaves the
        event (and the ones after it) pending; the next call delivers them again: at least
        once, in order. An event is delivered more than once when the marking fails, or when
        two deliveries (threads, processes) overlap: consumers drop duplicates by event id.
        ``limit`` is an int of 1 or more (else ``TypeError``, ``configuration``).

        Called from inside the notifier (a command the notifier runs delivers after its
        commit), it returns 0 at once: the events of that command stay pending for the next
        delivery, and the ones being handed out are not handed out again in between.
        """
        if type(limit) is not int or limit < 1:
            _check_setting_int(limit, "limit", 1)
        notifier = self.notifier
        if notifier is None:
            return 0
        state = self._delivering
        if getattr(state, "active", False):
            return 0
        with self.storage.unit_of_work() as uow:
            pending = uow.outbox.pending(limit)
        if not pending:
            return 0
        done: list[str] = []
        state.active = True
        try:
            for e in pending:
                notifier.notify(e)
                done.append(e.event_id)
        finally:
            state.active = False
            if done:
                self._mark_delivered(done)
        return len(done)

    def _mark_delivered(self, event_ids: list[str]) -> None:
        with self.storage.unit_of_work() as uow:
            # the state this unit of work starts from: if it is the one the last command left
            # (nobody committed since, the notifier included), the rows kept for the next
            # command stay valid after this commit, which changes the outbox only
            warm = self._warm
            before = uow.stamp() if warm is not None else None
            uow.outbox.mark_delivered(event_ids)
            uow.commit()
            if warm is not None and before is not None and before == warm.stamp:
                warm.stamp = uow.stamp()

    def purge_events(self, *, occurred_before: dt.datetime, limit: int = 1000) -> int:
        """Delete delivered outbox events that occurred before ``occurred_before`` (at most
        ``limit`` of them, the oldest first) in one unit of work; returns how many.

        The retention tool of the outbox: delivered events are kept until purged, pending
        ones are never purged (they are delivered first, in order, whatever is purged). Call
        it again while it returns ``limit``. ``occurred_before`` is a ``datetime.datetime``
        (else ``invalid_date``), naive with a naive clock and aware with an aware one (else
        ``timezone_mismatch``; aware moments compare as instants, whatever their offsets);
        ``limit`` an int of 1 or more (else ``TypeError``, ``configuration``). No
        idempotency key: a retried purge deletes only what the first one left (delivered and
        before the moment), so a retry is harmless, and a key kept per purge would be one
        more thing that grows without bound.
        """
        when = _moment(occurred_before, "occurred_before")
        if type(limit) is not int or limit < 1:
            _check_setting_int(limit, "limit", 1)
        _same_awareness(when, self.clock.now(), "occurred_before")
        with self.storage.unit_of_work() as uow:
            warm = self._warm
            before = uow.stamp() if warm is not None else None
            count = uow.outbox.purge(when, limit)
            uow.commit()
            # as _mark_delivered: a commit that changes the outbox only keeps the rows of
            # the last command valid
            if warm is not None and before is not None and before == warm.stamp:
                warm.stamp = uow.stamp()
        return count

    # -- master data -----------------------------------------------------------------------
    def define_item(self, item: Item) -> None:
        """Create or replace an item (its costing method cannot change once it has stock).

        Its numbers are checked before anything is stored: ``standard_cost`` a ``Decimal`` or
        an ``int`` (a float or a str is ``TypeError``, NaN or Infinity ``ValueError``), zero or
        more (``negative_amount``) and below ``MAX_MAGNITUDE`` (``number_out_of_range``), kept
        as a ``Decimal``; ``default_cost`` likewise (or ``None``); ``allow_negative`` a
        ``bool`` (else ``TypeError``); ``quantity_digits`` an ``int`` (a float, str, bool or
        Decimal is ``TypeError``) from 0 to ``MAX_QUANTITY_DIGITS`` (else ``configuration``).

        A new ``allow_negative`` or ``default_cost`` holds for the issues after it, in every
        costing scope of the item, also those whose valuation is stored already: what was
        issued keeps its cost, open shortages keep their estimates.

        ``item`` is an :class:`Item` (else ``TypeError``); ``lot_tracked`` and
        ``serial_tracked`` are bools (else ``TypeError``: a ``"no"`` was stored, and read as
        true)."""
        item = _checked_item(item)
        check_text(item.code, "code")
        check_text(item.name, "name")
        check_text(item.base_unit, "base_unit")
        check_text(item.category, "category")
        for unit in item.units:
            check_text(unit, "units")
        for warehouse in item.levels:
            check_text(warehouse, "levels")
        with self.storage.unit_of_work() as uow:
            old = uow.master.get_item(item.code)
            if old is not None and old.costing_method != item.costing_method:
                if uow.balances.for_item(item.code):
                    raise JxcError("configuration",
                                   reason=f"item {item.code} has stock: costing method is fixed",
                                   reason_zh=f"商品 {item.code} 已有库存：计价方法不能再改")
            if (old is not None and old.costing_method == "standard"
                    and item.costing_method == "standard"
                    and old.standard_cost != item.standard_cost
                    and uow.balances.for_item(item.code)):
                raise JxcError("configuration", reason=f"item {item.code} has stock: change its "
                               "standard cost with set_standard_cost (it revalues the stock)",
                               reason_zh=f"商品 {item.code} 已有库存：请用 set_standard_cost 修改"
                                         f"标准成本（会对库存重估）")
            fixed = _fixed_with_stock(old, item) if old is not None else []
            if fixed and uow.balances.for_item(item.code):
                raise JxcError("configuration",
                               reason=f"item {item.code} has stock: {', '.join(fixed)} cannot "
                                      f"change (units may be added)",
                               reason_zh=f"商品 {item.code} 已有库存：{'、'.join(fixed)} 不能再改"
                                         f"（可以新增单位）")
            uow.master.put_item(item)
            uow.commit()

    def define_party(self, party: Party) -> None:
        """Create or replace a supplier or customer (往来单位). ``party`` is a
        :class:`Party` (else ``TypeError``), its code and name texts."""
        if not isinstance(party, Party):
            raise TypeError(f"party must be a Party, got {type(party).__name__} {party!r}")
        check_text(party.code, "code")
        check_text(party.name, "name")
        with self.storage.unit_of_work() as uow:
            uow.master.put_party(party)
            uow.commit()

    def define_warehouse(self, warehouse: Warehouse) -> None:
        """Create or replace a warehouse. ``locations`` is a list (or tuple) of str (a bare
        str is ``TypeError``: ``"L1"`` is not the locations ``L`` and ``1``), ``in_transit`` a
        bool, ``allow_negative`` ``None`` or a bool (else ``TypeError``); a text with a lone
        surrogate is ``invalid_text``.

        ``allow_negative`` overrides the negative-stock policy of every item for its stock
        here (``None``: each item's own); a change holds for the issues after it. Costed by
        organisation (``organisation_scope``), an item's one valuation allows negative stock
        when the item does or some warehouse is defined with ``allow_negative=True``; the stock
        check still follows the policy of each warehouse. ``warehouse`` is a
        :class:`Warehouse` (else ``TypeError``)."""
        if not isinstance(warehouse, Warehouse):
            raise TypeError(f"warehouse must be a Warehouse, got {type(warehouse).__name__} "
                            f"{warehouse!r}")
        check_text(warehouse.code, "code")
        check_text(warehouse.name, "name")
        locations = check_texts(warehouse.locations, "locations")
        check_bool(warehouse.in_transit, "in_transit")
        if warehouse.allow_negative is not None:
            check_bool(warehouse.allow_negative, "allow_negative")
        if type(warehouse.locations) is not tuple:  # kept as every store reads it back
            warehouse = attrs.evolve(warehouse, locations=locations)
        with self.storage.unit_of_work() as uow:
            old = uow.master.get_warehouse(warehouse.code)
            dropped = (set(old.locations) - set(locations)
                       if old is not None and locations else set())
            if dropped:  # (no locations at all: any location is accepted, the rows stay usable)
                for b in uow.balances.all():
                    if (b.warehouse == warehouse.code and b.location in dropped
                            and (b.on_hand or b.held)):
                        raise JxcError("configuration",
                                       reason=f"location {b.location} of {warehouse.code} "
                                              f"holds stock of {b.item}: move it first",
                                       reason_zh=f"仓库 {warehouse.code} 的库位 {b.location} "
                                                 f"还有 {b.item} 的库存：请先移出")
            uow.master.put_warehouse(warehouse)
            kept = uow.records.get(_NEGATIVE_WAREHOUSES, "allow")
            codes = list(kept.get("warehouses", ())) if kept else []
            if (warehouse.code in codes) != (warehouse.allow_negative is True):
                if warehouse.allow_negative is True:
                    codes.append(warehouse.code)
                else:
                    codes.remove(warehouse.code)
                uow.records.put(_NEGATIVE_WAREHOUSES, "allow", {"warehouses": sorted(codes)})
            uow.commit()

    def item(self, code: str) -> Item:
        """The item ``code`` (a str, else ``TypeError``); an unknown one is ``not_found``."""
        check_text(code, "code")
        with self.storage.unit_of_work() as uow:
            found = uow.master.get_item(code)
        if found is None:
            raise NotFoundError(kind="item", key=code)
        return found

    def set_standard_cost(
        self,
        item: str,
        standard_cost: Decimal,
        *,
        doc_id: str | None = None,
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Adopt a new standard cost for an item costed at standard (标准成本调整): what is on
        hand is revalued at it, in every costing scope of the item, by a value-only
        ``standard_revaluation`` ledger entry per scope (value: the revaluation, + or -); the
        item's ``standard_cost`` becomes the new one. No journal: ``Accounting.revalue_standard``
        does the same and books it. See :meth:`_revalue_standard` for the rules. ``posted_at``
        is ``None`` (now) or a ``datetime.datetime`` (else ``invalid_date``), naive or aware
        as the clock's now is (else ``timezone_mismatch``)."""
        doc = _doc_id("BZ", doc_id, idempotency_key)
        payload = (doc, item, standard_cost, posted_at)

        def body(w: _Work) -> Posting:
            # a moment as every posting's: checked, and kept in UTC when aware
            return self._revalue_standard(w, item, standard_cost, doc,
                                          _posting_moment(w, posted_at))

        result: Posting = self._run("set_standard_cost", payload, idempotency_key, body,
                                    Posting.to_data, Posting.from_data)
        return result

    def _revalue_standard(self, w: _Work, item_code: str, standard_cost: Decimal, doc_id: str,
                          when: dt.datetime) -> Posting:
        """The revaluation inside the unit of work of ``w``.

        Refused: an item not costed at standard (``configuration``), a negative or float cost,
        a date in a closed period, a date before later movements of a scope
        (``backdated_posting``: a revaluation is never back-dated), a scope with negative stock
        waiting for settlement (``configuration``). Each scope keeps a checkpoint at the
        revaluation, and a later movement dated before it is refused (``backdated_posting``),
        so a replay never crosses a change of standard. Entry ``from_ref``: the new standard.
        """
        item = w.item(item_code)
        if item.costing_method != "standard":
            raise JxcError("configuration", reason=f"{item_code} is costed by "
                           f"{item.costing_method}, not at standard cost",
                           reason_zh=f"{item_code} 的计价方法是 {item.costing_method}，"
                                     f"不是标准成本")
        new = check_amount(standard_cost, "standard_cost", MAX_MAGNITUDE)
        w.check_open(when)
        if self.organisation_scope:
            warehouses = ["*"]
        else:
            warehouses = sorted({b.warehouse for b in w.uow.balances.for_item(item_code)})
        replays: dict[tuple[str, str], _Replay] = {}
        no = w.uow.sequences.next("ledger", len(warehouses)) if warehouses else 0
        entries: list[LedgerEntry] = []
        for k, wh in enumerate(warehouses):
            v = self._scope_at(w, item, wh, when, replays)
            if replays:
                raise JxcError("backdated_posting", item=item_code, warehouse=wh,
                               posted_at=when.isoformat(),
                               reason="a change of standard cost cannot be dated before later "
                                      "movements",
                               reason_zh="标准成本的变更不能早于其后的出入库")
            state = v.to_state()
            if state.get("shortages"):
                raise JxcError("configuration", reason=f"{item_code} in {wh} has negative stock "
                               "waiting for settlement: receive it first",
                               reason_zh=f"{item_code} 在 {wh} 有等待结算的负库存：请先入库")
            assert isinstance(v, StandardCostValuation)
            delta = v.set_standard(new, ref=_group_ref("standard_revaluation", doc_id, k + 1))
            v.take_adjustments()  # the revaluation is the entry below
            e = LedgerEntry(no + k, item_code, wh, "", "", ZERO, delta, when,
                            "standard_revaluation", "standard_revaluation", doc_id, k + 1,
                            str(new))
            entries.append(e)
            w.event("cost_adjusted", {"item": item_code, "warehouse": wh,
                                      "reason": "revaluation", "amount": str(delta),
                                      "standard_cost": str(new)})
        w.uow.ledger.append(entries)
        for e in entries:  # a replay starts at or after the change, never before it
            scope = (item_code, e.warehouse)
            w.uow.checkpoints.put(scope, e.posted_at, e.entry_no, w.valuations[scope].to_state())
        changed = attrs.evolve(item, standard_cost=new)
        w.uow.master.put_item(changed)
        w.items[item_code] = changed
        return Posting("standard_revaluation", doc_id, tuple(entries), ())

    # -- postings ----------------------------------------------------------------------------
    def post(
        self,
        doc_type: str,
        doc_id: str,
        lines: Sequence[StockLine],
        *,
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Post stock lines as one unit of work: all lines or nothing.

        ``posted_at`` (default: the service clock's now) is a ``datetime.datetime``, naive
        when the clock's ``now()`` is naive and timezone-aware when it is aware; an aware one
        is kept in UTC. Else ``invalid_date`` or ``timezone_mismatch``, nothing written."""
        posted_at = _optional_moment(posted_at, "posted_at")
        if type(doc_type) is not str or not doc_type.isascii():  # else check_text passes it
            check_text(doc_type, "doc_type")
        if type(doc_id) is not str or not doc_id.isascii():
            check_text(doc_id, "doc_id")
        lines = _check_stock_lines(lines)
        payload = (doc_type, doc_id, lines, posted_at)

        def body(w: _Work) -> Posting:
            _refuse_posted(w, doc_id)
            return self._post(w, doc_type, doc_id, lines, posted_at)

        result: Posting = self._run("post", payload, idempotency_key, body,
                                    Posting.to_data, Posting.from_data)
        return result

    def post_many(
        self,
        postings: Sequence[StockPosting],
        *,
        idempotency_key: str | None = None,
    ) -> list[Posting]:
        """Post several stock postings in one unit of work (批量过账): all of them or none.

        Each :class:`StockPosting` is posted as :meth:`post` would post it, in the order
        given: a later posting sees the stock of the earlier ones (a receipt before the issue
        that needs its units), and a document number may appear once in the batch and not in
        the ledger (else ``duplicate_key``). The first refusal refuses the batch and leaves
        nothing written: the error is that posting's own, with ``batch_doc_id`` (its
        ``doc_id``) added to its data. The events of every posting are delivered after the
        one commit. With ``idempotency_key`` the same batch again returns the first result;
        another batch under the key is ``idempotency_conflict``. One unit of work (the
        valuation states of a scope written once, one commit) is why a batch is faster than
        one :meth:`post` per posting.

        ``postings`` a list or tuple of :class:`StockPosting` (else ``TypeError`` naming
        ``postings`` or ``postings[i]``); none is ``empty_batch``."""
        if not isinstance(postings, Sequence) or isinstance(postings, str | bytes):
            raise TypeError(f"postings must be a list of StockPosting, got "
                            f"{type(postings).__name__} {postings!r}")
        batch: list[tuple[str, str, list[StockLine], dt.datetime | None]] = []
        for i, p in enumerate(postings):
            if not isinstance(p, StockPosting):
                raise TypeError(f"postings[{i}] must be a StockPosting, got "
                                f"{type(p).__name__} {p!r}")
            check_text(p.doc_type, f"postings[{i}].doc_type")
            check_text(p.doc_id, f"postings[{i}].doc_id")
            batch.append((p.doc_type, p.doc_id, _check_stock_lines(p.lines),
                          _optional_moment(p.posted_at, "posted_at")))
        if not batch:
            raise JxcError("empty_batch")

        def body(w: _Work) -> list[Posting]:
            done = []
            for doc_type, doc_id, lines, posted_at in batch:
                try:
                    _refuse_posted(w, doc_id)
                    done.append(self._post(w, doc_type, doc_id, lines, posted_at))
                except JxcError as exc:
                    exc.data.setdefault("batch_doc_id", doc_id)
                    raise
            return done

        result: list[Posting] = self._run("post_many", batch, idempotency_key, body,
                                          _postings_data, _postings_of)
        return result

    def receive(
        self,
        item: str,
        warehouse: str,
        quantity: Decimal,
        unit_cost: Decimal,
        *,
        doc_id: str | None = None,
        unit: str | None = None,
        lot: str = "",
        expiry: dt.date | None = None,
        location: str = "",
        serials: Sequence[str] = (),
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Receive one line (a shortcut of :meth:`post`). ``unit_cost`` is a ``Decimal`` or an
        ``int`` (``None``, a float or a str is ``TypeError``); ``serials`` a list or tuple of
        str (a bare str is ``TypeError``: ``"S1"`` is not the serials ``S`` and ``1``)."""
        if unit_cost is None:  # (a StockLine without one is received at 0)
            check_number(unit_cost, "unit_cost")
        line = StockLine(item, warehouse, quantity, IN, unit_cost=unit_cost, unit=unit, lot=lot,
                         expiry=expiry, location=location, serials=_check_serials_arg(serials),
                         kind="receipt")
        return self.post("receipt", _doc_id("RK", doc_id, idempotency_key), [line],
                         posted_at=posted_at, idempotency_key=idempotency_key)

    def issue(
        self,
        item: str,
        warehouse: str,
        quantity: Decimal,
        *,
        doc_id: str | None = None,
        unit: str | None = None,
        lot: str = "",
        location: str = "",
        serials: Sequence[str] = (),
        demand: str | None = None,
        from_ref: str | None = None,
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Issue one line (a shortcut of :meth:`post`). ``demand`` and ``from_ref`` are
        ``None`` or a str, ``serials`` a list or tuple of str (else ``TypeError``)."""
        _check_optional_texts(demand=demand, from_ref=from_ref)
        line = StockLine(item, warehouse, quantity, OUT, unit=unit, lot=lot, location=location,
                         serials=_check_serials_arg(serials), demand=demand, from_ref=from_ref,
                         kind="issue")
        return self.post("issue", _doc_id("CK", doc_id, idempotency_key), [line],
                         posted_at=posted_at, idempotency_key=idempotency_key)

    def transfer(
        self,
        item: str,
        from_warehouse: str,
        to_warehouse: str,
        quantity: Decimal,
        *,
        doc_id: str | None = None,
        unit: str | None = None,
        lot: str = "",
        from_location: str = "",
        to_location: str = "",
        serials: Sequence[str] = (),
        demand: str | None = None,
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Move stock between warehouses at its cost (调拨). To go through in-transit, transfer
        into a warehouse defined with ``in_transit=True`` and later from it to the target.

        ``demand`` names the transfer line (``"DB-1/1"``) whose reservations in
        ``from_warehouse`` the transfer may take and consumes, as an issue for a demand does;
        without it the transfer sees only the stock nobody reserved.

        ``from_location`` (default ``""``: rows anywhere in ``from_warehouse``, picked as an
        issue without a location picks them) takes the units from that location only, as an
        issue naming a location does: what it lacks there is ``insufficient_stock`` naming
        it, whatever other locations hold. ``to_location`` (default ``""``: the row without a
        location) is where they land in ``to_warehouse``; a location a warehouse does not
        list is ``not_found`` (kind ``location``), nothing written. The warehouses, locations
        and ``lot`` are str, ``demand`` ``None`` or a str, ``serials`` a list or tuple of str
        (else ``TypeError`` naming the argument)."""
        for name, value in (("from_warehouse", from_warehouse), ("to_warehouse", to_warehouse),
                            ("from_location", from_location), ("to_location", to_location)):
            check_text(value, name)
        _check_optional_texts(demand=demand)
        serials = _check_serials_arg(serials)
        if from_warehouse == to_warehouse:
            raise JxcError("same_warehouse", warehouse=from_warehouse)
        doc = _doc_id("DB", doc_id, idempotency_key)
        posted_at = _optional_moment(posted_at, "posted_at")
        payload: tuple[Any, ...] = (doc, item, from_warehouse, to_warehouse, quantity, unit,
                                    lot, list(serials), posted_at)
        # appended only when given: the keys of earlier calls still hold
        if demand is not None:
            payload += (demand,)
        located = {k: v for k, v in (("from_location", from_location),
                                     ("to_location", to_location)) if v}
        if located:  # a mapping: never taken for a demand (a str) appended before it
            payload += (located,)

        def body(w: _Work) -> Posting:
            out = StockLine(item, from_warehouse, quantity, OUT, unit=unit, lot=lot,
                            location=from_location, serials=tuple(serials), demand=demand,
                            kind="transfer_out")
            _refuse_posted(w, doc)
            return self._post(w, "transfer", doc, [out], posted_at, transfer_to=to_warehouse,
                              landing=[to_location])

        result: Posting = self._run("transfer", payload, idempotency_key, body,
                                    Posting.to_data, Posting.from_data)
        return result

    def adjust(
        self,
        item: str,
        warehouse: str,
        quantity: Decimal,
        *,
        unit_cost: Decimal | None = None,
        doc_id: str | None = None,
        lot: str = "",
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Other in/out (其他出入库): ``quantity`` (a Decimal or an int) > 0 receives at
        ``unit_cost`` (default 0), < 0 issues (``unit_cost`` is not used; it is checked all
        the same). A float or a str, as quantity or as unit cost, is refused naming the
        field; a quantity of 0 is ``invalid_quantity``."""
        doc = _doc_id("TZ", doc_id, idempotency_key)
        if unit_cost is not None:
            check_amount(unit_cost, "unit_cost", MAX_MAGNITUDE)
        if check_number(quantity, "quantity", MAX_MAGNITUDE) >= 0:
            line = StockLine(item, warehouse, quantity, IN,
                             unit_cost=ZERO if unit_cost is None else unit_cost, lot=lot,
                             kind="adjustment_in")
        else:
            line = StockLine(item, warehouse, -quantity, OUT, lot=lot, kind="adjustment_out")
        return self.post("adjustment", doc, [line], posted_at=posted_at,
                         idempotency_key=idempotency_key)

    def move(
        self,
        item: str,
        warehouse: str,
        quantity: Decimal,
        *,
        from_location: str,
        to_location: str,
        doc_id: str | None = None,
        unit: str | None = None,
        lot: str = "",
        serials: Sequence[str] = (),
        demand: str | None = None,
        posted_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Move stock between two locations of one warehouse (库位移动, 移库): a ``move_out``
        entry from the row at ``from_location`` and a ``move_in`` entry into the row at
        ``to_location`` per row taken, with the lot kept, in the same costing scope and of
        equal and opposite value. On hand per row changes; the scope's quantity, value and
        valuation state (FIFO/LIFO layers and their order, averages, the month's figures,
        each lot's cost) do not, and nothing is booked (no cost adjustment, no journal).

        ``""`` is the row without a location (stock not put away yet): ``from_location=""``
        puts it away, ``to_location=""`` takes it back there. Without ``lot`` the rows of
        ``from_location`` are taken as :class:`_MovePick` picks them. The units leave
        ``from_location`` only: no more than its on hand less its hold there (negative stock
        forbidden), nor what reservations of others and holds claim in the warehouse or the lot
        (``insufficient_stock``); ``demand`` names a demand line whose reservations it may
        move (they stay as they are: reservations are per warehouse and lot, not per
        location). A location the warehouse does not list is ``not_found``; the same location
        twice is ``same_location``. Serial-tracked items list ``quantity`` serials on hand in
        the warehouse (they stay there; serials are kept per warehouse). The value of each
        pair: the units at the scope's unit cost (specific identification: at their lot's
        cost; monthly average: at the month's unit cost so far), see
        docs/stock-ledger.md, "Location moves". ``demand`` is ``None`` or a str, ``serials`` a
        list or tuple of str (else ``TypeError``).
        """
        for name, value in (("from_location", from_location), ("to_location", to_location)):
            check_text(value, name)
        _check_optional_texts(demand=demand)
        serials = _check_serials_arg(serials)
        if from_location == to_location:
            raise JxcError("same_location", warehouse=warehouse, location=from_location)
        doc = _doc_id("YK", doc_id, idempotency_key)
        posted_at = _optional_moment(posted_at, "posted_at")
        payload = (doc, item, warehouse, from_location, to_location, quantity, unit, lot,
                   list(serials), demand, posted_at)

        def body(w: _Work) -> Posting:
            out = StockLine(item, warehouse, quantity, OUT, unit=unit, lot=lot,
                            location=from_location, serials=tuple(serials), demand=demand,
                            kind=MOVE_OUT)
            _refuse_posted(w, doc)
            return self._move(w, "move", doc, [(out, to_location)], posted_at)

        result: Posting = self._run("move", payload, idempotency_key, body,
                                    Posting.to_data, Posting.from_data)
        return result

    # -- location moves -------------------------------------------------------------------------
    def _move(
        self,
        w: _Work,
        doc_type: str,
        doc_id: str,
        lines: Sequence[tuple[StockLine, str]],
        posted_at: dt.datetime | None,
        *,
        exact_rows: bool = False,
        reverses: str | None = None,
    ) -> Posting:
        """Post location moves: per pair, the out line (its ``location`` the source, ``""``
        the row without a location) and the target location. All lines or nothing; the
        valuation of no scope is loaded for change, nor written (see :meth:`move`).
        ``exact_rows`` (internal, for reversals): each line takes the row it names, its lot
        ``""`` being the row without a lot, never picking among the lots (:class:`_MovePick`).
        ``reverses`` (internal): the document these lines cancel; the serials they list are
        recorded as moved by it, or as moved back by its cancellation (:meth:`_serial_moves`)."""
        if not lines:
            raise JxcError("empty_posting")
        when = _posting_moment(w, posted_at)
        w.check_open(when)
        plans = []
        targets: list[str] = []
        for n, (line, to_location) in enumerate(lines, start=1):
            if line.direction != OUT:
                raise JxcError("configuration", reason="a move is given its out lines",
                               reason_zh="移库须给出其出库行")
            plan = self._validate(w, line.line_no or n, line)
            house = w.warehouse(line.warehouse)
            check_text(to_location, "to_location")
            if to_location == line.location:
                raise JxcError("same_location", warehouse=house.code, location=to_location)
            if to_location and house.locations and to_location not in house.locations:
                raise NotFoundError(kind="location", key=f"{house.code}/{to_location}")
            plans.append(plan)
            targets.append(to_location)
        picks: dict[tuple[str, str], _MovePick] = {}
        for n, (line_no, line, item, parts) in enumerate(plans):
            group = (item.code, line.warehouse)
            pick = picks.get(group)
            if pick is None:
                pick = picks[group] = _MovePick(w, item, line.warehouse)
            plans[n] = (line_no, line, item, pick.take(line, parts[0][2], parts, exact_rows))
        short = [s for pick in picks.values() for s in pick.short()]
        if short:
            s = short[0]
            where = {k: v for k, v in (("lot", s.lot), ("location", s.location)) if v}
            raise InsufficientStockError(
                item=s.item, warehouse=s.warehouse, needed=s.wanted, on_hand=s.available,
                short=s.short, lines=[x.to_data() for x in short], **where,
            )
        for _, line, item, _ in plans:
            for serial in line.serials:  # on hand in the warehouse; they stay there
                if reverses is not None:
                    self._serial_moved_on(w, line, serial, doc_type, reverses)
                if w.uow.serials.where(item.code, serial) != line.warehouse:
                    raise JxcError("serial_not_on_hand", item=item.code, serial=serial,
                                   warehouse=line.warehouse)
                self._serial_moves(w, item.code, serial, doc_type, doc_id, reverses)
        count = sum(len(parts) for _, _, _, parts in plans)
        no = w.uow.sequences.next("ledger", 2 * count)
        entries: list[LedgerEntry] = []
        moved: dict[tuple[str, str, str, str], Decimal] = {}
        views: dict[tuple[str, str], Valuation] = {}
        for (line_no, line, item, parts), to_location in zip(plans, targets, strict=True):
            wh = line.warehouse
            scope = w.scope(item, wh)
            v = views.get(scope)
            if v is None:
                v = views[scope] = self._peek_valuation(w, item, wh)
            for lot, location, qty in parts:
                value = self._move_value(v, item, lot, qty, w.month_of(when))
                for loc, q, val, kind in ((location, -qty, -value, MOVE_OUT),
                                          (to_location, qty, value, MOVE_IN)):
                    entries.append(LedgerEntry(no, item.code, wh, loc, lot, q, val, when, kind,
                                               doc_type, doc_id, line_no))
                    no += 1
                    key = (item.code, wh, loc, lot)
                    moved[key] = moved.get(key, ZERO) + q
        for key, q in moved.items():
            item_code, wh, location, lot = key
            b = w.group(item_code, wh).get((location, lot))
            w.set_row(Balance(item_code, wh, location, lot, q) if b is None else
                      attrs.evolve(b, on_hand=b.on_hand + q))
        w.uow.ledger.append(entries)
        w.event("stock_changed", {
            "doc_type": doc_type, "doc_id": doc_id,
            "lines": [[e.item, e.warehouse, e.lot, str(e.quantity), str(e.value)]
                      for e in entries],
            "locations": [e.location for e in entries],
        })
        return Posting(doc_type, doc_id, tuple(entries), ())

    def _peek_valuation(self, w: _Work, item: Item, warehouse: str) -> Valuation:
        """The valuation of the scope of (item, warehouse) as it stands, to read only: the one
        this unit of work holds, else the live one of the last that wrote it while the store
        still has its version, else the stored state. Unlike :meth:`_Work.valuation` it is not
        taken into the unit of work, so nothing of it is written."""
        scope = w.scope(item, warehouse)
        found = w.valuations.get(scope)
        if found is not None:
            return found
        cached = self._cache.get(scope)
        if cached is not None and cached[0] == w.uow.valuations.version(scope):
            return cached[1]
        state = w.uow.valuations.get(scope)
        if state is None:
            return self._new_valuation(item, w.policy(item, scope))
        restored = valuation_from_state(state)
        return MonthlyScope(restored) if isinstance(restored, MonthlyAverageValuation) \
            else restored

    def _move_value(self, v: Valuation, item: Item, lot: str, qty: Decimal,
                    period: str) -> Decimal:
        """The value a move of ``qty`` units shows on both its entries: under specific
        identification at the lot's own cost (all of the lot: exactly its value); under the
        monthly average at the unit cost its month ``period`` (the move's month in the clock's
        timezone, :meth:`_Work.month_of`) would close at now; otherwise at
        the scope's unit cost now (value / quantity; all of the scope: exactly its value).
        0.00 when the scope (or lot) has no positive quantity."""
        digits = self.currency_digits
        if isinstance(v, SpecificLotValuation):
            lot_q, lot_v = v.lot(lot)
            if lot_q <= 0:
                return round_money(ZERO, digits)
            if qty >= lot_q:
                return round_money(lot_v, digits)
            return round_money(DIVISION_CONTEXT.divide(qty * lot_v, lot_q), digits)
        if type(v) is MonthlyScope:
            return round_money(multiply(qty, v.preview_unit_cost(period)), digits)
        if v.quantity > 0 and qty >= v.quantity:
            return round_money(v.value, digits)
        return _average_value(v, qty, digits)

    def _own_now(self, w: _Work, moment: dt.datetime) -> dt.datetime:
        """The moment of a posting made "now" (``moment``: the clock's reading): a moment of its
        own, just after the latest one this service gave, when the clock has not moved past
        it — and never past the last moment of the clock's day. A clock that reads the same
        moment for several postings (one that keeps whole seconds, a batch import stamping
        documents alike) gave them one moment, ordered by entry number only; a charge's
        cancellation, dated at the moment it was charged, then sorted after the postings made
        since at that moment and was split with their units out (documents dated an earlier
        day follow the same rule: ``Documents._late_moment``). A clock that moves on leaves
        ``moment`` as it is. Kept per service object: another process (a second ``Jxc`` on the
        same SQLite file) keeps its own."""
        last = self._last_now
        if (last is None or (last.utcoffset() is None) != (moment.utcoffset() is None)
                or moment > last):
            self._last_now = moment
            return moment
        end = w.day_end(w.day_of(moment))
        if last + _TICK <= end:  # else the day's last moment, or the clock went a day back
            moment = self._last_now = last + _TICK
        return moment

    # -- the posting engine -------------------------------------------------------------------
    def _post(
        self,
        w: _Work,
        doc_type: str,
        doc_id: str,
        lines: Sequence[StockLine],
        posted_at: dt.datetime | None,
        transfer_to: str | None = None,
        landing: Sequence[str] | None = None,
        *,
        exact_rows: bool = False,
        issued_at: dt.datetime | None = None,
        reverses: str | None = None,
        returned_at: dt.datetime | None = None,
        low_stock: dict[tuple[str, str], Decimal] | None = None,
    ) -> Posting:
        """Post stock lines as one unit of work (see :meth:`post`). With ``transfer_to`` every
        line is an out line whose units go on into that warehouse: a ``transfer_in`` entry
        per row taken, with its lot, at the line's location in ``landing`` (one per line,
        in order; default ``""`` for all: the row without a location). ``exact_rows``
        (internal, for reversals; not a field of :class:`StockLine`, whose public posts it
        would change): each out line takes the row (location, lot) it names, ``""`` being
        the row without one, never picking among rows (:meth:`_Pick.take`).
        ``issued_at`` (internal, for cancellations): when the issues that the in lines take
        back (their ``from_ref``, a group ref) were posted; under FIFO/LIFO the units go back
        into the layers those issues took them from (:meth:`_restoring`). ``reverses``
        (internal, with ``issued_at``): the document these lines cancel; with ``transfer_to``
        the units come back into the layers its out lines took; under specific identification
        an out line takes the units its line brought into the lot at their own cost
        (:meth:`SpecificLotValuation.take_back`).
        ``returned_at`` (internal, for customer returns): when the deliveries that the in lines
        take back (their ``from_ref``) were posted, the earliest; under moving average the
        units go back into the receipt rows those deliveries took (:meth:`_restoring_rows`),
        under the other methods they are received as any receipt.
        ``low_stock`` (internal, for a document posted in several calls, a transfer line by
        line): the on hand before the first call of each watched (item, warehouse) is kept
        there and no low-stock event is raised; the caller raises them once for the whole
        document (:meth:`_low_stock_events`)."""
        if not lines:
            raise JxcError("empty_posting")
        when = _posting_moment(w, posted_at)
        w.check_open(when)
        for line in lines:  # a lone move entry would pass as a move: valuations skip moves
            if line.kind in _MOVE_KINDS:
                raise JxcError("configuration",
                               reason=f"kind {line.kind!r} is posted by Jxc.move only",
                               reason_zh=f"类型 {line.kind!r} 只能通过 Jxc.move 过账")
        plans = [self._validate(w, line.line_no or n, line)
                 for n, line in enumerate(lines, start=1)]
        lands: list[str] = [""] * len(plans)
        if transfer_to is not None:
            target = w.warehouse(transfer_to)
            if landing is not None:
                if len(landing) != len(plans):
                    raise JxcError("configuration", reason="one landing location per line",
                                   reason_zh="每行须有一个入库库位")
                lands = list(landing)
            for loc in lands:
                check_text(loc, "to_location")
                if loc and target.locations and loc not in target.locations:
                    raise NotFoundError(kind="location", key=f"{target.code}/{loc}")
        if reverses is not None:  # the serials moved on since: that first (not the stock)
            for line in lines:
                for serial in line.serials:
                    self._serial_moved_on(w, line, serial, doc_type, reverses)
        self._check_stock(w, plans, exact_rows, undo=reverses is not None)
        self._check_history(w, plans, when)
        entries: list[LedgerEntry] = []
        adjustments: list[tuple[str, str, CostAdjustment]] = []
        before: dict[tuple[str, str], Decimal] = {} if low_stock is None else low_stock
        replays: dict[tuple[str, str], _Replay] = {}
        #: on hand moved per balance row; the rows change once, after every line is costed
        moved: dict[tuple[str, str, str, str], Decimal] = {}
        counts: dict[tuple[str, str], int] = {}  # movements per scope, for the checkpoints
        #: transfer lines sent (partly) from a shortage: (receipt ref where they land, units)
        short_sent: dict[int, tuple[str, Decimal]] = {}
        #: the valuation of each (item, warehouse) of the lines, once rewound if back-dated
        scoped: dict[tuple[str, str], Valuation] = {}
        no = w.uow.sequences.next("ledger", self._entry_count(plans, transfer_to))
        org = self.organisation_scope
        #: the layers each issue taken back took, as far as the lines so far left them
        issued: dict[str, deque[LayerSlice] | None] = {}
        #: the same under moving average: the receipt rows each issue taken back took
        issued_rows: dict[str, deque[RowSlice] | None] = {}
        #: the receipts cancelled under moving average: (quantity, value) as received
        received: dict[tuple[str, str, str], _Received | None] = {}
        #: FIFO/LIFO customer return lines (``doc/line``): what they settled of their own
        #: delivery's shortage (:data:`_OWN_SHORTAGE`); and, for cancellations of returns,
        #: what is left to open again of it
        owns_found: dict[str, list[Any] | None] = {}
        owns: dict[str, list[Any] | None] = {}
        #: receipt lines and transfer arrivals (ref, warehouse): what they settled
        #: of open shortages (:data:`_SETTLED_SHORTAGE`) and the number of their last entry
        settled_found: dict[tuple[str, str, str], tuple[int, list[list[Any]]]] = {}
        #: FIFO/LIFO transfer cancellations that reopened the shortages their arrival settled
        #: and went back into the source's layers at more (or less) than that took out: the
        #: difference, a correction of the cancellation where its units arrive
        taken_fixes: list[tuple[tuple[str, str], CostAdjustment, dt.datetime]] = []
        transfer = transfer_to is not None
        append = entries.append
        #: the moment of the issues or deliveries that in lines take back, if any
        since = issued_at if issued_at is not None else returned_at
        #: the scopes some line of the posting takes stock from; a back-dated posting replays
        #: the others with later shortages kept (``_scope_at``). Costed by organisation a
        #: transfer takes nothing from the item's one scope
        lowered = set() if org and transfer else {
            (p[2].code, "*" if org else p[1].warehouse) for p in plans if p[1].direction == OUT}
        for (line_no, line, item, parts), land in zip(plans, lands, strict=True):
            code = item.code
            wh = line.warehouse
            if transfer and item.costing_method == "monthly_average" and not org:
                raise JxcError("configuration", reason=f"{code} is costed by monthly "
                               "average per warehouse: its transfers would move a value "
                               "known only at month end (use organisation_scope)",
                               reason_zh=f"{code} 按仓库采用月末一次加权平均：其调拨要移动的"
                                         f"金额到月末才知道（请用 organisation_scope）")
            pair = (code, wh)
            v = scoped.get(pair)
            if v is None:
                v = scoped[pair] = self._scope_at(w, item, wh, when, replays, lowered)
            v_to = v
            if transfer_to is not None:
                v_to = self._scope_at(w, item, transfer_to, when, replays, lowered)
            direction_in = line.direction == IN
            kind = line.kind or ("receipt" if direction_in else "issue")
            scope_key = (code, "*") if org else pair
            counts[scope_key] = counts.get(scope_key, 0) + len(parts)
            if transfer_to is not None:
                scope_key = (code, "*" if org else transfer_to)
                counts[scope_key] = counts.get(scope_key, 0) + len(parts)
            lot_costed = item.costing_method == "specific_lot"
            watched = item.watched
            monthly = type(v) is MonthlyScope
            if (direction_in and issued_at is not None and line.from_ref
                    and line.value is not None
                    and isinstance(v, MovingAverageValuation | FifoValuation | LifoValuation)):
                if len(parts) == 1 and (line.kind == "delivery_reversal" or (
                        line.kind in _UNDO_OUT_KINDS and v.open_of(line.from_ref)[0]
                        and sum(x.line_no == line.line_no for x in lines) == 1)):
                    # an adjustment's or a count's line out alike while part of its shortage
                    # is open (as replayed up to its moment, when back-dated), when one stock
                    # line takes it back (the value compared is the whole line's). Not the
                    # settlements dated after the moment: those of its own document's lines
                    # in, posted back-dated, are dated at the scope's latest movement
                    line = _settled_by_then(w, v, line, code, when,
                                            replays.get((code, "*") if org else pair))
                if v.adjustments:
                    # settlements of the issue that this posting's earlier lines took back
                    # (an adjustment's line in that settled its own out line's shortage,
                    # undone first, :func:`_reopen_settled`): its cost without them, the
                    # estimate its shortage is open at again
                    taken_back = _settlements_of(v.adjustments, line.from_ref or "")
                    if taken_back:
                        line = attrs.evolve(line, value=max(ZERO, (line.value or ZERO)
                                                            + taken_back))
            for lot, location, qty in parts:
                if watched:  # on hand before the posting, for the low-stock events
                    for on in (pair, (code, transfer_to or "")):
                        if on[1] and on not in before:
                            before[on] = self._on_hand(w, *on)
                from_ref = ""
                reopened_out = False  # a transfer's cancellation out of reopened shortages
                if direction_in:
                    if monthly:
                        assert isinstance(v, MonthlyScope)
                        own = _group_ref(doc_type, doc_id, line_no)
                        if line.from_ref and v.can_take_back(line.from_ref):
                            # a return of an issue of the month (冲减本月发出): valued at close
                            amount = v.take_back(qty, line.from_ref, own)
                        else:  # named by its group ref, so that its cancellation finds it
                            amount = v.receive(qty, line.unit_cost or ZERO, own,
                                               value=line.value)
                    else:
                        ref = lot if lot_costed else f"{doc_id}/{line_no}"
                        back = rows = None
                        # the cancellation of an issue whose units all went short and are
                        # still open: they close its own shortage (no receipt is to settle it)
                        closed = (issued_at is not None and bool(line.from_ref)
                                  and not transfer and line.value is not None
                                  and _close_own_shortage(v, line.from_ref or "", qty,
                                                          line.value or ZERO))
                        part_q = part_v = ZERO
                        if (since is not None and line.from_ref and not closed
                                and line.value is not None and not transfer):
                            if type(v) is MovingAverageValuation:
                                if issued_at is not None:  # its own open part closed
                                    part_q, part_v = _close_own_open(v, line.from_ref, qty,
                                                                     line.value)
                                rows = self._restoring_rows(w, item, v, wh, line.from_ref,
                                                            qty - part_q, since, issued_rows)
                                if part_q and rows is None:
                                    rows = []
                            elif issued_at is not None:
                                # receipts settled part of its shortage: the rest is closed
                                part_q, part_v = _close_own_part(v, line.from_ref, qty,
                                                                 line.value)
                                back = self._restoring(w, item, v, wh, line.from_ref,
                                                       qty - part_q, line.value - part_v,
                                                       issued_at, issued, when)
                        if part_q and back is None and rows is None:
                            # the rest received as any receipt
                            amount = part_v + v.receive(qty - part_q, ZERO, ref,
                                                        value=(line.value or ZERO) - part_v)
                            from_ref = line.from_ref or ""
                            _record_restored(w, no, [])  # a replay closes it alike
                        elif closed:
                            amount = line.value or ZERO
                            from_ref = line.from_ref or ""
                            if isinstance(v, FifoValuation | LifoValuation):
                                # a replay that finds its shortage settled by then (by a
                                # receipt it passes now) puts its units back into that receipt
                                _record_restored(w, no, [])
                        elif rows is not None:  # moving average: back into the receipt rows
                            assert isinstance(v, MovingAverageValuation)
                            amount = part_v + (v.restore_rows(rows, qty - part_q,
                                                              (line.value or ZERO) - part_v,
                                                              ref)
                                               if qty > part_q else ZERO)
                            from_ref = line.from_ref or ""
                            _record_rows(w, no, rows, part_v if part_q else None)
                        elif back is None:
                            own_before = (_own_open(v, line.from_ref)
                                          if line.kind == "sales_return" else None)
                            # (under moving average receipt lines only: a customer
                            # return's cancellation opens its own delivery's, _OWN_SHORTAGE)
                            open_before = (_open_before(v) if (
                                line.kind in _SETTLING_KINDS or (
                                    line.kind == "sales_return"
                                    and type(v) is not MovingAverageValuation))
                                and not lot_costed else None)
                            amount = v.receive(qty, line.unit_cost or ZERO, ref,
                                               value=line.value)
                            if open_before is not None:  # for its cancellation
                                _add_settled(settled_found, (code, ref, wh), no,
                                             _settled_by(v, open_before))
                            if line.kind == "sales_return" and not lot_costed:
                                # the delivery it takes back, for a replay to re-value it
                                from_ref = line.from_ref or ""
                                if own_before is not None:  # for its cancellation
                                    _add_own(owns_found, ref, _own_settled(
                                        v, line.from_ref, own_before))
                        else:
                            assert isinstance(v, FifoValuation | LifoValuation)
                            amount = part_v + self._restore(v, back, qty - part_q,
                                                            (line.value or ZERO) - part_v, ref)
                            from_ref = line.from_ref or ""
                            _record_restored(w, no, back)
                    signed_q, signed_v = qty, amount
                else:
                    if transfer and org:
                        # inside one organisation scope a transfer moves no value: shown at
                        # average
                        amount = _average_value(v, qty, self.currency_digits)
                    else:
                        from_ref = lot if lot_costed else (line.from_ref or "")
                        got_back = (self._received_line(w, code, wh, from_ref, issued_at,
                                                        received, until=when)
                                    if issued_at is not None and from_ref
                                    and type(v) is MovingAverageValuation else None)
                        if lot_costed and issued_at is not None and reverses is not None:
                            # a lot's units taken back: at their own cost (the line's units
                            # of that lot as it brought them in), not at the lot's average
                            got_back = self._received_line(w, code, wh,
                                                           f"{reverses}/{line_no}",
                                                           issued_at, received, lot)
                        settled_cost = None
                        if (issued_at is not None and from_ref and not lot_costed
                                and (got_back is None or type(v) is MovingAverageValuation)
                                and (line.kind in ("receipt_reversal", "return_reversal")
                                     or (reverses is not None and (
                                         line.kind in _CANCELS_IN_KINDS
                                         or (transfer and line.kind == "transfer_out"))))
                                and self._undone_since(w, item, wh, from_ref, settled=True,
                                                       undoing=None if transfer
                                                       else reverses)):
                            # a receipt (a transfer's arrival, a customer return, an adjustment's
                            # or a count's line in) that settled open shortages, cancelled newest
                            # first (its document's later lines undone before it): they open again
                            # (:func:`_reopen_settled`; a return's own delivery's among them)
                            fills = self._settled_record(w, wh, from_ref)
                            # dated before later movements (all cancelled since, else
                            # ``_undone_since`` answers no): the replay of them reopens and
                            # settles alike (``_Replay.to_reopen``)
                            settled_cost = _reopen_settled(
                                v, fills, qty, from_ref,
                                f"{doc_type}{_SEP}{doc_id}{_SEP}{line_no}")
                            if settled_cost is not None:
                                owns[from_ref] = None
                                if transfer:
                                    w.own_reopened.update(str(f[0]) for f in fills)
                        reopened = None
                        if (settled_cost is None and line.kind == "return_reversal"
                                and issued_at is not None
                                and from_ref and (got_back is None or (
                                    type(v) is MovingAverageValuation and not lot_costed
                                    and self._own_record(w, from_ref) is not None
                                    and self._undone_since(w, item, wh, from_ref,
                                                           undoing=reverses)))):
                            # a customer return that settled its own delivery's shortage:
                            # those units open it again (:func:`_reopen_own`); under moving
                            # average only cancelled newest first (FIFO/LIFO refuse it
                            # otherwise, ``Documents._intact``), else taken back as before
                            if from_ref not in owns:
                                owns[from_ref] = self._own_record(w, from_ref)
                            reopened = _reopen_own(
                                v, owns[from_ref], qty, from_ref,
                                f"{doc_type}{_SEP}{doc_id}{_SEP}{line_no}",
                                money_quantum(self.currency_digits))
                        if settled_cost is not None:
                            amount = settled_cost
                            reopened_out = transfer
                            if got_back is not None:  # moving average: a replay that cannot
                                # open them again takes the receipt's units back instead
                                w.uow.records.put(_TAKEN_BACK, str(no), {
                                    "received": str(got_back[0]),
                                    "value": str(got_back[1]),
                                    **({"rows": [[n, str(q)] for n, q in got_back[2].items()]}
                                       if got_back[2] else {})})
                        elif reopened is not None:
                            amount = reopened[0]
                            if got_back is not None:  # a replay opens it again alike
                                w.uow.records.put(_TAKEN_BACK, str(no), {
                                    "received": str(got_back[0]),
                                    "value": str(got_back[1]), "reopen": True,
                                    **({"rows": [[n, str(q)] for n, q in got_back[2].items()]}
                                       if got_back[2] else {})})
                        elif got_back is None:
                            amount = v.issue(qty, from_ref or None,
                                             ref=f"{doc_type}{_SEP}{doc_id}{_SEP}{line_no}")
                        else:  # a cancelled receipt: its units on hand at their own cost
                            assert isinstance(v, MovingAverageValuation | SpecificLotValuation)
                            into = got_back[2]
                            w.uow.records.put(_TAKEN_BACK, str(no), {
                                "received": str(got_back[0]), "value": str(got_back[1]),
                                **({"rows": [[n, str(q)] for n, q in into.items()]}
                                   if into else {})})
                            amount = v.take_back(
                                qty, from_ref, got_back[0], got_back[1],
                                ref=f"{doc_type}{_SEP}{doc_id}{_SEP}{line_no}",
                                rows=into or None)
                    signed_q, signed_v = -qty, -amount
                    if line.demand is not None:  # an issue or a transfer for its demand line
                        self._consume_reservations(w, line, code, lot, qty)
                key = (code, wh, location, lot)
                moved[key] = moved.get(key, ZERO) + signed_q
                append(_new_entry(no, code, wh, location, lot, signed_q, signed_v, when, kind,
                                 doc_type, doc_id, line_no, from_ref))
                no += 1
                if transfer_to is not None:
                    got = amount
                    back_ref = ""
                    if not org:
                        ref_to = lot if lot_costed else f"{doc_id}/{line_no}"
                        back = rows = None
                        part_q = part_v = ZERO
                        closed_own = False
                        worth = amount  # what it puts back into the layers
                        if issued_at is not None and reverses is not None:
                            sent = _group_ref(doc_type, reverses, line_no)
                            if type(v_to) is MovingAverageValuation:
                                rows = self._restoring_rows(w, item, v_to, transfer_to, sent,
                                                            qty, issued_at, issued_rows)
                            elif _close_own_shortage(v_to, sent, qty, amount):
                                # all its units went short and are still open: they close
                                # its own shortage, whatever other shortages are open (a
                                # receipt would settle the oldest), as a delivery's does
                                closed_own = True
                            else:
                                # the part of its shortage still open is closed, the rest
                                # goes back into the layers it took and the receipts that
                                # settled it, as a delivery's cancellation does
                                part_q, part_v = _close_own_part(v_to, sent, qty, amount)
                                # its own shortage here opened again by an earlier line of
                                # this cancellation (a transfer both ways: that line's
                                # arrival had settled it), worth more than comes back: closed
                                # at its estimate all the same, the rest back into the layers
                                # at what the transfer took (:func:`_close_reopened_own`)
                                reopened_own = sent in w.own_reopened
                                forced = (not part_q and reopened_own
                                          and _close_reopened_own(v_to, sent, qty))
                                if forced:
                                    part_q, part_v = forced
                                # its arrival's units filled shortages in the target, opened
                                # again: it took out what they settled them with, not a cost
                                # carried to those units since (to cost of goods sold); its
                                # units go back at what the transfer took from each layer
                                # (:func:`_share_back`, ``as_taken``), the difference a
                                # correction of it here
                                as_taken = (reopened_out and not part_q) or reopened_own
                                # a cost carried to its arrival whose share went to cost of
                                # goods sold there (the units had left at that moment with
                                # a later line of the transfer: a transfer both ways): it
                                # comes back without it into the layers here, whose units
                                # carry it (:meth:`_cut_at_arrival`), the difference a
                                # correction of it here
                                cut = ZERO if as_taken else self._cut_at_arrival(
                                    w, code, wh, reverses, line_no, issued_at)
                                back = self._restoring(w, item, v_to, transfer_to, sent,
                                                       qty - part_q, amount + cut - part_v,
                                                       issued_at, issued, when,
                                                       as_taken=as_taken)
                                if part_q and back is None:
                                    back = []
                                if as_taken and back is not None and sum(
                                        (sl[3] for sl in back), ZERO) == qty - part_q:
                                    # (all its units in those layers: else as before)
                                    worth = part_v + sum((sl[4] for sl in back), ZERO)
                                elif cut and back is not None:
                                    worth = amount + cut
                        if rows is not None:  # moving average: back into the receipt rows
                            assert isinstance(v_to, MovingAverageValuation)
                            assert reverses is not None and issued_at is not None
                            # (a cost carried to its arrival that stopped there: as above)
                            cut = self._cut_at_arrival(w, code, wh, reverses, line_no,
                                                       issued_at)
                            got = v_to.restore_rows(rows, qty, amount + cut, ref_to)
                            back_ref = _group_ref(doc_type, reverses or "", line_no)
                            _record_rows(w, no, rows)
                            if cut and got != amount:
                                taken_fixes.append(((code, transfer_to), CostAdjustment(
                                    BACK_DATING, amount - got, ZERO,
                                    _group_ref(doc_type, doc_id, line_no)), when))
                                got = amount
                        elif closed_own:  # named by the transfer it takes back
                            back_ref = _group_ref(doc_type, reverses or "", line_no)
                        elif back is None:
                            open_before = (_open_before(v_to) if reverses is None
                                           and not lot_costed else None)
                            sent_worth = (self._lot_sent(w, code, transfer_to, reverses,
                                                         line_no, lot, qty, issued_at)
                                          if lot_costed and reverses is not None
                                          and issued_at is not None else None)
                            got = v_to.receive(qty, ZERO, ref_to, value=(
                                amount if sent_worth is None else sent_worth))
                            if sent_worth is not None and got != amount:
                                # a lot's transfer cancelled: back into the source at what
                                # it took there (its leg out and way back net to zero); what
                                # left the target beside it (the share of a change carried
                                # to its arrival that went to cost of goods sold) a
                                # correction of it, where that share went
                                taken_fixes.append(((code, transfer_to), CostAdjustment(
                                    BACK_DATING, amount - got, ZERO,
                                    _group_ref(doc_type, doc_id, line_no)), when))
                                got = amount
                            if open_before is not None:  # for its cancellation
                                _add_settled(settled_found, (code, ref_to, transfer_to), no,
                                             _settled_by(v_to, open_before))
                        else:  # a cancelled transfer: back into the layers it left
                            assert isinstance(v_to, FifoValuation | LifoValuation)
                            got = part_v + self._restore(v_to, back, qty - part_q,
                                                         worth - part_v, ref_to)
                            back_ref = _group_ref(doc_type, reverses or "", line_no)
                            _record_restored(w, no, back)
                            if got != amount and worth != amount:
                                # the arrival entry moves what left the target; the rest a
                                # correction (cost of goods sold, where the carried cost went)
                                taken_fixes.append(((code, transfer_to), CostAdjustment(
                                    BACK_DATING, amount - got, ZERO,
                                    _group_ref(doc_type, doc_id, line_no)), when))
                                got = amount
                        if v.quantity < 0:  # sent from a shortage, at an estimate
                            short_sent[line_no] = (ref_to, short_sent.get(
                                line_no, ("", ZERO))[1] + qty)
                    key = (code, transfer_to, land, lot)
                    moved[key] = moved.get(key, ZERO) + qty
                    append(_new_entry(no, code, transfer_to, land, lot, qty, got,
                                     when, "transfer_in", doc_type, doc_id, line_no, back_ref))
                    no += 1
            if line.serials:
                self._serials(w, line, item, transfer_to, doc_type, doc_id, reverses)
        # the value of every scope stays below MAX_AMOUNT: else an issue of all of it could
        # never be reversed (its value would be refused coming back)
        for (code, wh), v in w.valuations.items():
            if not -MAX_AMOUNT < v.value < MAX_AMOUNT:
                raise JxcError("number_out_of_range", field=f"stock value of {code} in {wh}",
                               value=v.value, limit=MAX_AMOUNT)
        touched = w.touched_rows
        for key, q in moved.items():  # one new row per balance
            item_code, wh, location, lot = key
            group = w.group(item_code, wh)
            b = group.get((location, lot))
            group[(location, lot)] = (
                Balance(item_code, wh, location, lot, q) if b is None else
                _new_balance(item_code, wh, location, lot, b.on_hand + q, b.reserved, b.held,
                            b.on_order, b.demand))
            touched.add(key)
        # settlements of open shortages: a value-only entry of the issue they adjust
        for scope, val in w.valuations.items():
            taken = val.take_adjustments()
            if not taken:
                continue
            replay = replays.get(scope)
            if replay is not None:
                replay.settled.extend(taken)
                continue
            for a in taken:
                adjustments.append((scope[0], scope[1], a))
        cost_entries: list[tuple[tuple[str, str], CostAdjustment, dt.datetime]] = [
            ((i, wh), a, when) for i, wh, a in adjustments if a.reason == SHORTAGE_SETTLEMENT
        ]
        own_groups = ({_group_ref(doc_type, doc_id, n) for n, _, _, _ in plans} if replays
                      else set())
        moved_on: list[tuple[tuple[str, str], list[CostAdjustment], list[LedgerEntry]]] = []
        for scope, replay in replays.items():
            found = self._finish_replay(w, scope, replay, own_groups, when)
            for a in found:
                adjustments.append((scope[0], scope[1], a))
                cost_entries.append((scope, a, replay.latest))
            moved_on.append((scope, found, replay.window))
        for fix in taken_fixes:
            adjustments.append((fix[0][0], fix[0][1], fix[1]))
            cost_entries.append(fix)
        entries += self._cost_entries(w, cost_entries)
        w.uow.ledger.append(entries)
        for scope, found, window in moved_on:  # once this posting is in the ledger
            entries += self._follow_transfers(w, scope, found, window)
        if short_sent:
            assert transfer_to is not None
            at = when.isoformat()
            for line_no, (ref_to, qty) in short_sent.items():
                w.uow.records.put(_TRANSFER_SHORT, f"{doc_type}{_SEP}{doc_id}{_SEP}{line_no}",
                                  {"warehouse": transfer_to, "ref": ref_to, "at": at,
                                   "received": str(qty)})
        for (scope, a, _) in cost_entries:
            if a.reason == SHORTAGE_SETTLEMENT:
                entries += self._carry_settlement(w, scope[0], a)
        for (code_of, ref, wh_of), (entry_no, fills) in settled_found.items():
            fills = _settled_others(fills, owns_found.get(ref))
            if fills:
                w.uow.records.put(_SETTLED_SHORTAGE, f"{wh_of}{_SEP}{ref}", {
                    "warehouse": wh_of, "at": when.isoformat(), "entry": entry_no,
                    "settled": [[i, str(q), str(e), str(r)] for i, q, e, r in fills]})
                # the scope has such records: a replay of it looks them up (else it need not)
                w.uow.records.put(_SETTLED_SCOPES,
                                  _scope_marker(code_of, "*" if org else wh_of), {"any": True})
        for ref, fill in owns_found.items():
            if fill is not None:
                came = [e for e in entries if e.quantity > 0 and e.kind == "sales_return"
                        and f"{e.doc_id}/{e.line_no}" == ref]
                self._put_own(w, ref, fill, (came[-1].posted_at, came[-1].entry_no))
        self._checkpoint(w, entries, replays, counts)
        self._events_after_posting(w, doc_type, doc_id, entries,
                                   before if low_stock is None else {}, adjustments)
        return Posting(doc_type, doc_id, tuple(entries), tuple(adjustments))

    def _apply_receipt_cost(
        self, w: _Work, item_code: str, warehouse: str, receipt_ref: str, amount: Decimal,
        doc_type: str, doc_id: str, line_no: int, when: dt.datetime,
        received_quantity: Decimal | None = None, *, receipt: tuple[str, int],
        received_at: dt.datetime | None = None, charge_entry: int | None = None,
        into_rows: bool = False,
    ) -> tuple[Decimal, Decimal, Decimal, list[LedgerEntry]]:
        """Add ``amount`` to the cost of a receipt (landed cost, invoice price difference).

        The share of the receipt's units on hand at ``when`` raises the stock (a
        ``landed_cost`` ledger entry of quantity 0); the share of units already issued goes to
        cost of goods sold; under standard cost all of it is a variance (材料成本差异). Dated
        before later movements of the scope (a late invoice), the later issues that took the
        receipt's raised units cost more: ``cost_backdating`` entries, as for any back-dated
        movement (a date before the receipt itself is refused: ``receipt`` is the (document,
        line) whose ledger entries received the units, posted at ``received_at`` when known;
        under specific identification
        ``receipt_ref`` is only the lot, which later receipts of other documents may receive
        too without the cost being dated before its own receipt).
        Returns (kept in stock, issued share, variance, the entries written: the
        ``landed_cost`` entry, then the corrections, with those of the transfers that took the
        receipt's units further, :meth:`_follow_transfers`). A charge's cancellation applied
        where a share was sent on names the charge's ``landed_cost`` entry there
        (``charge_entry``), the share it mirrors.
        """
        when = _posting_moment(w, when)
        item = w.item(item_code)
        replays: dict[tuple[str, str], _Replay] = {}
        scope = w.scope(item, warehouse)
        v = w.valuation(item, warehouse, scope)
        latest = w.posted_until.get(scope)
        if (item.costing_method != "standard" or latest is None
                or (latest.utcoffset() is None) != (when.utcoffset() is None)
                or when >= latest):
            # a cost only; a charge's cancellation mirrors the shares its charge sent
            cancelling = (doc_id[:-2] if doc_type in _CHARGE_TYPES and doc_id.endswith("-R")
                          else None)
            v = self._scope_at(w, item, warehouse, when, replays, lowered=set(),
                               cost_only=True, cancelling=cancelling)
        # else stock stays at standard: the whole amount is a variance and no later movement
        # of the scope changes, so a charge (or its cancellation) dated before later ones, a
        # change of standard among them, needs no replay (which would refuse to cross that
        # change); documents are never dated before their source receipt
        replay = replays.get(scope)
        lot_costed = item.costing_method == "specific_lot"
        if replay is not None and any(
                e.quantity > 0 and (
                    e.lot == receipt_ref and (e.doc_id, e.line_no) == receipt if lot_costed
                    else f"{e.doc_id}/{e.line_no}" == receipt_ref)
                for e in replay.later):
            raise JxcError("backdated_posting", item=item_code, warehouse=warehouse,
                           posted_at=when.isoformat(),
                           reason=f"a receipt cost cannot be dated before its receipt "
                                  f"{receipt_ref}",
                           reason_zh=f"入库成本的日期不能早于其入库 {receipt_ref}")
        here, received_here = amount, received_quantity
        sent: list[_Sent] = []
        links: list[int | None] = []
        units: list[Decimal | None] = []
        if (doc_type in _CHARGE_TYPES and received_quantity is not None
                and not self.organisation_scope
                and item.costing_method in ("fifo", "lifo", "moving_average")):
            here, received_here, sent, links, units = self._charge_sent(
                w, item, warehouse, v, receipt_ref, amount, received_quantity, doc_id,
                line_no, when, receipt, received_at, charge_entry)
        kept = v.add_landed_cost(receipt_ref, here, received_quantity=received_here)
        taken = v.take_adjustments()
        # the shares sent on with transferred units count as issued here: the entries that
        # raise the stock where those units are now take them back from cost of goods sold
        issued = sum((a.amount for a in taken if a.reason == "landed_cost"), amount - here)
        variance = sum((a.amount for a in taken if a.reason == "price_variance"), ZERO)
        no = w.uow.sequences.next("ledger")
        entries = [LedgerEntry(no, item_code, warehouse, "", "", ZERO, kept, when,
                               "landed_cost", doc_type, doc_id, line_no, receipt_ref)]
        if (type(v) is MovingAverageValuation and received_here
                and _carried_transfer_cost(entries[0])):
            self._carry_into_settled(replay, item_code, warehouse, receipt_ref, here,
                                     received_here)
        # what a back-dated movement needs to split the amount again (the entry keeps the
        # on-hand share only; the amount and units of this scope, without those sent on)
        record: dict[str, Any] = {
            "amount": str(here),
            "received": None if received_here is None else str(received_here),
            **({"rows": True} if into_rows else {})}
        w.uow.records.put(_RECEIPT_COST, str(no), record)
        later: list[CostAdjustment] = []
        if replay is not None:  # dated before later movements: they carry the cost from here
            if not into_rows:  # (a change of the units back in those rows: not the ref's)
                replay.ref_costs[receipt_ref] = here
            later = self._finish_replay(w, scope, replay, set(), when)
            corrections = self._cost_entries(w, [(scope, a, replay.latest) for a in later])
            entries += corrections
        w.uow.ledger.append(entries)
        if replay is not None:
            entries += self._follow_transfers(w, scope, later, replay.window)
        applied: list[list[object]] = []
        for (wh, ref, q, part, rd, rl), link, took in zip(sent, links, units, strict=True):
            # where the transferred units are now; the share's own landed_cost entry there
            # kept with it, so that the cancellation mirrors exactly that one (a charge may
            # reach a warehouse twice at the same moment, for the same ref)
            there = self._apply_receipt_cost(
                w, item_code, wh, ref, part, doc_type, doc_id, line_no, when, q,
                receipt=(rd, rl), charge_entry=link)[3]
            entries += there
            applied.append([wh, ref, str(q), str(part), rd, rl,
                            there[0].entry_no if there else None,
                            *(() if took is None else (str(took),))])
        if applied:
            w.uow.records.put(_RECEIPT_COST, str(no), {**record, "sent": applied})
        for a in (*taken, *later):
            w.event("cost_adjusted", {"item": item_code, "warehouse": warehouse, **a.to_data()})
        return kept, issued, variance, entries

    def _charge_sent(
        self, w: _Work, item: Item, warehouse: str, live: Valuation, ref: str,
        amount: Decimal, received: Decimal, doc_id: str, line_no: int, when: dt.datetime,
        receipt: tuple[str, int], received_at: dt.datetime | None = None,
        charge_entry: int | None = None,
    ) -> tuple[Decimal, Decimal, list[_Sent], list[int | None], list[Decimal | None]]:
        """A charge (landed cost, invoice price difference) on receipt ``ref`` at ``when``:
        the share of the receipt's units that transfers took to other warehouses before it
        goes where those units went (DOMAIN 2: the share of units still on hand raises their
        value). Returns (the amount split here, the units it is split over here, the shares
        sent on: (warehouse, receipt ref there, units received there, amount, document and
        line of that receipt)). Each share is applied there as a receipt cost of the
        transfer, dated at the charge (never at the transfer's arrival: a charge writes
        nothing into days before its own, nor into a closed period), and splits again between
        the units on hand there and those issued since, a further transfer carrying its part
        on in turn.

        Which transfers took the receipt's units is found by replaying the scope from before
        the receipt up to the charge on a copy of its valuation (units leave as the costing
        method takes them: FIFO, LIFO, the rows of moving average); a transfer cancelled
        before the charge brought its units back. A cancellation (``doc_id`` ending ``-R``)
        sends exactly what its charge sent (kept with the charge's receipt cost record), so
        that it mirrors the charge wherever the units moved since: the charge's
        ``landed_cost`` entry here is ``charge_entry`` when known (a share sent on), else the
        one of its document, line and ref at ``when``. Also returns, for each share sent
        on, the charge's ``landed_cost`` entry there that a cancellation mirrors (else
        ``None``), and the units of the receipt its transfer took (the weight of its share;
        ``None`` where not known: a cancellation of a charge recorded without them)."""
        none: tuple[Decimal, Decimal, list[_Sent], list[int | None], list[Decimal | None]] = (
            amount, received, [], [], [])
        scope = w.scope(item, warehouse)
        if doc_id.endswith("-R"):
            base = doc_id[:-2]
            charge = next((e for e in w.uow.ledger.after(
                item.code, scope[1], when - dt.timedelta(microseconds=1), 1 << 62)
                if e.posted_at == when and e.kind == "landed_cost" and e.doc_id == base
                and e.line_no == line_no and e.from_ref == ref
                and charge_entry in (None, e.entry_no)), None)
            found = (None if charge is None
                     else w.uow.records.get(_RECEIPT_COST, str(charge.entry_no)))
            if not found or not found.get("sent"):
                return none
            sent = [(wh, r, Decimal(q), -Decimal(part), rd, int(rl))
                    for wh, r, q, part, rd, rl, *_ in found["sent"]]
            links = [None if len(x) < 7 or x[6] is None else int(x[6]) for x in found["sent"]]
            units = [Decimal(x[7]) if len(x) > 7 else None for x in found["sent"]]
            here = -Decimal(found["amount"])
            if here + sum((x[3] for x in sent), ZERO) != amount:
                return none  # not the charge's amount: split here as it stands
            return here, Decimal(found["received"]), sent, links, units
        # the scope's entries from the receipt on (followers post no earlier than their
        # sources: a second before the document's posting moment is before its entries)
        since = None if received_at is None else received_at - dt.timedelta(seconds=1)
        window = w.uow.ledger.after(item.code, scope[1], since)
        start = next((k for k, e in enumerate(window)
                      if e.quantity > 0 and (e.doc_id, e.line_no) == receipt), None)
        if start is None and since is not None:
            window = w.uow.ledger.after(item.code, scope[1])
            start = next((k for k, e in enumerate(window)
                          if e.quantity > 0 and (e.doc_id, e.line_no) == receipt), None)
        if start is None or not any(e.kind == "transfer_out" and e.posted_at <= when
                                    for e in window[start:]):
            return none
        received_at = window[start].posted_at
        cp = w.uow.checkpoints.latest(scope, received_at - dt.timedelta(microseconds=1))
        cost = w.policy(item, scope)[1]
        v: Valuation
        if cp is None:  # the scope from its start: the stock on hand before the receipt too
            v = self._new_valuation(item, (True, cost))
            if since is not None:
                window = w.uow.ledger.after(item.code, scope[1])
        else:
            window = w.uow.ledger.after(item.code, scope[1], cp[0], cp[1])
            restored = valuation_from_state(cp[2])
            if isinstance(restored, MonthlyAverageValuation):  # (not costed here)
                return none
            v = restored
            _align(v, True, cost)
        window = [e for e in window if e.posted_at <= when]
        replay = _Replay(window, when)
        self._window_records(w, replay, window, item.costing_method == "moving_average")
        took: dict[str, tuple[LedgerEntry, Decimal]] = {}
        for e in window:
            moved = e.kind == "transfer_out" or (e.kind == "transfer_in"
                                                 and e.doc_id.endswith("-R"))
            before = _units_of(v, ref, received) if moved else ZERO
            self._replay_entries(v, [e], replay, item)
            v.take_adjustments()
            if not moved:
                continue
            change = before - _units_of(v, ref, received)
            if e.kind == "transfer_out":
                g = _group_ref(e.doc_type, e.doc_id, e.line_no)
                out, q = took.get(g, (e, ZERO))
                took[g] = (out, q + change)
            else:  # a transfer out cancelled: its units back here
                g = _group_ref(e.doc_type, e.doc_id[:-2], e.line_no)
                if g in took:
                    out, q = took[g]
                    took[g] = (out, q + change)
        apps: list[tuple[str, str, Decimal, Decimal, str, int]] = []
        direct: set[tuple[str, int]] = set()
        for out, q in took.values():
            if q <= 0:
                continue
            arrival = self._arrival(w, out)
            if arrival is None:
                continue
            wh, there, _, got, back = arrival
            if not back:
                apps.append((wh, there, got, q, out.doc_id, out.line_no))
                direct.add((out.doc_id, out.line_no))
            elif item.costing_method == "moving_average":  # back into the rows they left
                into = self._rows_into(w, out, wh, out.posted_at)
                total = sum(into.values(), ZERO)
                for r, n in into.items():
                    rd, _, rl = r.rpartition("/")
                    apps.append((wh, r, n, q * n / total, rd, int(rl)))
        units_sent = sum((x[3] for x in apps), ZERO)
        if not apps or received - units_sent < _units_of(live, ref, received):
            return none
        parts = allocate(amount, [*(x[3] for x in apps), received - units_sent],
                         self.currency_digits)
        kept = [(x, part) for x, part in zip(apps, parts, strict=False) if part]
        sent = [(wh, r, got, part, rd, rl) for (wh, r, got, _, rd, rl), part in kept]
        # every unit sent on: nothing is split here (over the units received, as a valid
        # split of 0.00); the units of a share sent with a transfer (not back into rows)
        return (parts[-1], received - units_sent or received, sent, [None] * len(sent),
                [x[3] if (x[4], x[5]) in direct else None for x, _ in kept])

    def _carry_settlement(self, w: _Work, item_code: str, a: CostAdjustment
                          ) -> list[LedgerEntry]:
        """A receipt settled the shortage a transfer was sent from (its units left at an
        estimate): the units are in the other warehouse, so the settled cost goes on with
        them, as a receipt cost of the transfer dated when they arrived (as
        :meth:`_follow_transfers` carries a back-dating correction): the share still on hand
        there raises its stock, the share issued since corrects those issues. Without it the
        settlement left the source's stock for cost of goods sold while the units stayed on
        hand at the estimate. Returns the entries written."""
        if not a.amount or a.issue_ref is None or self.organisation_scope:
            return []
        found = w.uow.records.get(_TRANSFER_SHORT, a.issue_ref)
        if found is None:
            return []
        g_type, g_doc, g_line = _split_group(a.issue_ref)
        return self._apply_receipt_cost(
            w, item_code, found["warehouse"], found["ref"], a.amount, g_type, g_doc, g_line,
            dt.datetime.fromisoformat(found["at"]), Decimal(found["received"]),
            receipt=(g_doc, g_line))[3]

    def _follow_transfers(self, w: _Work, scope: tuple[str, str],
                          found: Sequence[CostAdjustment], window: Sequence[LedgerEntry]
                          ) -> list[LedgerEntry]:
        """A back-dated movement changed what earlier transfers out of ``scope`` cost (their
        ``cost_backdating`` entries, in ``found``): the units they took to the other warehouse
        carry the change there. It is added to the cost of those units where they arrived, as
        a receipt cost of the transfer dated when they arrived (a ``landed_cost`` entry of
        doc type ``transfer``): the share still on hand stays in stock, the later issues that
        took them get corrections, and a transfer further on carries its share on in the same
        way. Organisation-wide costing has no such value to move. Returns the entries
        written."""
        if self.organisation_scope or not found:
            return []
        outs = {_group_ref(e.doc_type, e.doc_id, e.line_no): e for e in window
                if e.kind == "transfer_out"}
        written: list[LedgerEntry] = []
        for a in found:
            out = outs.get(a.issue_ref or "")
            if out is None or a.reason != BACK_DATING or not a.amount:
                continue
            if (out.doc_id.endswith("-R")
                    and w.item(out.item).costing_method == "specific_lot"):
                # a lot's transfer cancelled: its way back into the source is what the
                # transfer took there (:meth:`_lot_sent`), whatever left the target; the
                # change of what left stays there, a correction of it
                continue
            arrival = self._arrival(w, out)
            if arrival is None:
                continue
            warehouse, ref, at, received, back = arrival
            if back and w.item(out.item).costing_method == "moving_average":
                written += self._carry_into_rows(w, out, warehouse, at, a.amount)
                continue
            written += self._apply_receipt_cost(
                w, out.item, warehouse, ref, a.amount, out.doc_type, out.doc_id,
                out.line_no, at, received, receipt=(out.doc_id, out.line_no))[3]
        return written

    def _carry_into_settled(self, replay: _Replay | None, item_code: str, warehouse: str,
                            ref: str, amount: Decimal, received: Decimal) -> None:
        """Under moving average, a change of what a transfer's units cost carried to their
        arrival ``ref`` in ``warehouse`` (:func:`_carried_transfer_cost`) in a replay that
        replayed the arrival: the share of its units that settled open shortages there went
        to cost of goods sold as their issued share; the arrival's cancellation replayed
        after it, opening those shortages again, takes it back with the units
        (:attr:`_Replay.carried`)."""
        key = (item_code, ref, warehouse)
        if replay is None or key not in replay.settled_found:
            return
        share = _carried_share(replay.settled_found[key][1], amount, received,
                               money_quantum(self.currency_digits))
        if share:
            replay.carried[ref] = replay.carried.get(ref, ZERO) + share

    def _carry_into_rows(self, w: _Work, out: LedgerEntry, warehouse: str, at: dt.datetime,
                         amount: Decimal) -> list[LedgerEntry]:
        """Carry ``amount`` to the units of moving-average transfer-out entry ``out`` that
        went back into the receipt rows they had left where they arrived (a cancelled
        transfer's: :data:`_RESTORED_ROWS`): a receipt cost of each of those receipts, for
        the units that came back into its rows, dated when they came back. Carried to the
        transfer's own ref, there is no such receipt there: nothing stayed in stock, and the
        source's stock was left off by the amount. Returns the entries written."""
        into = self._rows_into(w, out, warehouse, at)
        total = sum(into.values(), ZERO)
        written: list[LedgerEntry] = []
        left = amount
        for k, (ref, q) in enumerate(into.items()):
            part = left if k == len(into) - 1 else slice_value(
                q, total, amount, money_quantum(self.currency_digits))
            left -= part
            if part:
                written += self._apply_receipt_cost(
                    w, out.item, warehouse, ref, part, out.doc_type, out.doc_id, out.line_no,
                    at, q, receipt=(out.doc_id, out.line_no), into_rows=True)[3]
        return written

    @staticmethod
    def _rows_into(w: _Work, out: LedgerEntry, warehouse: str, at: dt.datetime
                   ) -> dict[str, Decimal]:
        """The receipts (refs) whose rows the units of moving-average transfer-out entry
        ``out`` went back into where they arrived at ``at`` (a cancelled transfer's,
        :data:`_RESTORED_ROWS`), with the units each got."""
        arrived = [e for e in w.uow.ledger.after(
            out.item, warehouse, at - dt.timedelta(microseconds=1), 1 << 62)
            if e.posted_at == at and e.kind == "transfer_in"
            and e.doc_id == out.doc_id and e.line_no == out.line_no]
        into: dict[str, Decimal] = {}
        for e in arrived:
            found = w.uow.records.get(_RESTORED_ROWS, str(e.entry_no))
            rows = [] if found is None else [(r, Decimal(q)) for _, r, q in found["rows"]]
            for r, q in rows:  # a row of an unknown receipt: as the units beyond the rows
                key = r or f"{e.doc_id}/{e.line_no}"
                into[key] = into.get(key, ZERO) + q
            rest = e.quantity - sum((q for _, q in rows), ZERO)
            if rest > 0:  # beyond the rows: a row of the cancellation's own ref
                key = f"{e.doc_id}/{e.line_no}"
                into[key] = into.get(key, ZERO) + rest
        return into

    @staticmethod
    def _arrival(w: _Work, out: LedgerEntry
                 ) -> tuple[str, str, dt.datetime, Decimal, bool] | None:
        """Where the units of transfer-out entry ``out`` arrived: (warehouse, the receipt ref
        they carry there, when, the units of the line that arrived there, whether they went
        back into the layers or rows they had left — a cancelled transfer's, whose arrival is
        no receipt of that ref); ``None`` when its ``transfer_in`` entries are not found.
        Reads the item's entries from that moment on."""
        arrived = [e for e in w.uow.ledger.after(
            out.item, None, out.posted_at - dt.timedelta(microseconds=1), 1 << 62)
            if e.posted_at == out.posted_at and e.kind == "transfer_in"
            and e.doc_id == out.doc_id and e.line_no == out.line_no]
        if not arrived:
            return None
        first = arrived[0]
        lot_costed = w.item(out.item).costing_method == "specific_lot"
        ref = first.lot if lot_costed else f"{first.doc_id}/{first.line_no}"
        received = sum((e.quantity for e in arrived if e.warehouse == first.warehouse), ZERO)
        return (first.warehouse, ref, first.posted_at, received,
                any(e.from_ref for e in arrived))

    def _record_short_transfers(self, w: _Work, replay: _Replay) -> None:
        """The transfers a replay left short, recorded as a transfer posted short is
        (:data:`_TRANSFER_SHORT`, when not already): a later receipt's settlement of their
        shortage goes on with their units (:meth:`_carry_settlement`), as the replay's own
        changes of their cost do (:meth:`_follow_transfers`). Without it such a settlement
        stayed in the source's cost of goods sold, and a later replay that undid it carried
        the undoing to the target, leaving stock there below zero in value."""
        if self.organisation_scope:
            return
        records = w.uow.records
        for group, out in replay.short_transfers.items():
            if records.get(_TRANSFER_SHORT, group) is not None:
                continue
            arrival = self._arrival(w, out)
            if arrival is None or arrival[4]:  # none, or back into layers: no ref to carry to
                continue
            warehouse, ref, at, received, _ = arrival
            records.put(_TRANSFER_SHORT, group, {"warehouse": warehouse, "ref": ref,
                                                 "at": at.isoformat(),
                                                 "received": str(received)})

    @staticmethod
    def _cost_entries(w: _Work, found: list[tuple[tuple[str, str], CostAdjustment, dt.datetime]]
                      ) -> list[LedgerEntry]:
        """Value-only ledger entries of cost adjustments found by a posting (a shortage
        settlement, a back-dating correction), each naming the issue (or receipt cost) it
        adjusts, dated at ``at``."""
        if not found:
            return []
        first = w.uow.sequences.next("ledger", len(found))
        out = []
        changed: dict[str, Decimal] = {}
        for k, ((item_code, wh), a, at) in enumerate(found):
            g_type, g_doc, g_line = _split_group(a.issue_ref)
            kind = "cost_settlement" if a.reason == SHORTAGE_SETTLEMENT else "cost_backdating"
            out.append(LedgerEntry(first + k, item_code, wh, "", "", ZERO, -a.amount, at, kind,
                                   g_type, g_doc, g_line))
            # the issues customer returns take back, and those whose cancellation comes back
            # at what they cost (a supplier return: else a re-valued return and its
            # cancellation no longer net, and a replay can no longer pass over the pair; an
            # adjustment's or a count's loss: else its cancellation brings the units back
            # at what they left with before the correction, and the books keep it)
            if g_type in ("delivery", "purchase_return", "adjustment", "stock_count"):
                changed[a.issue_ref or ""] = changed.get(a.issue_ref or "", ZERO) + a.amount
        for ref, amount in changed.items():  # what the delivery costs now, for its returns
            Jxc._add_issue_cost(w, ref, "amount", amount)
        return out

    @staticmethod
    def _add_issue_cost(w: _Work, ref: str, field: str, amount: Decimal) -> None:
        """Add ``amount`` to ``field`` of the :data:`_ISSUE_COST` record of the group ref
        ``ref`` (``amount``: :meth:`_cost_change`; ``returned``: :meth:`_returned_change`),
        keeping its other field."""
        records = w.uow.records
        kept = records.get(_ISSUE_COST, ref) or {"amount": "0"}
        records.put(_ISSUE_COST, ref, {
            **kept, field: str(Decimal(kept.get(field, "0")) + amount)})

    @staticmethod
    def _cost_change(w: _Work, issue_ref: str) -> Decimal:
        """What cost adjustments (shortage settlements, back-dating corrections) added to the
        cost of the delivery line ``issue_ref`` (a group ref) after it was posted: it now costs
        its ledger value plus this. Kept for deliveries, supplier returns, adjustments and
        counts (doc types ``delivery``, ``purchase_return``, ``adjustment``,
        ``stock_count``), the issues that customer returns and cancellations take back:
        other issues read 0. For a customer return line (doc type
        ``sales_return``): what back-dating corrections added to the value it brought in
        (:meth:`_note_return_change`)."""
        found = w.uow.records.get(_ISSUE_COST, issue_ref)
        return Decimal(found["amount"]) if found else ZERO

    @staticmethod
    def _cost_change_at(w: _Work, issue_ref: str, item: str, when: dt.datetime) -> Decimal:
        """:meth:`_cost_change` as it stood at ``when``: less what shortage settlements dated
        after it added (the issue's units that went short, settled by a later receipt). A
        cancellation or a customer return dated before them takes back the issue's cost at
        its own moment; the replay it starts works the settlements out again (a shortage the
        cancellation closed is no longer there to settle). Back-dating corrections count
        whatever their date: they re-cost what the issue took at its own moment, and are
        dated at the scope's latest movement. Reads the ledger only for an issue that has
        adjustments."""
        found = w.uow.records.get(_ISSUE_COST, issue_ref)
        if not found:
            return ZERO
        change = Decimal(found["amount"])
        g_type, g_doc, g_line = _split_group(issue_ref)
        for e in w.uow.ledger.after(item, None, when, _LAST_ENTRY):
            if (not e.quantity and e.kind == "cost_settlement" and e.line_no == g_line
                    and e.doc_id == g_doc and e.doc_type == g_type):
                change += e.value  # the entry's value is minus what it added to the cost
        return change

    @staticmethod
    def _returned_change(w: _Work, issue_ref: str) -> Decimal:
        """What back-dating corrections of the customer returns of the delivery line
        ``issue_ref`` (a group ref) added to the value they took back, beyond the value they
        were posted at: the delivery's returns took back their posted value plus this."""
        found = w.uow.records.get(_ISSUE_COST, issue_ref)
        return Decimal(found.get("returned", "0")) if found else ZERO

    @staticmethod
    def _note_return_change(w: _Work, delivery: str, group: str, amount: Decimal) -> None:
        """A back-dating correction added ``amount`` to the value that the customer return
        line ``group`` (or, a negative ``amount``, its cancellation ``<doc>-R``) took back of
        the delivery line ``delivery`` (group refs): kept with the delivery, so that its
        later returns take back only what is left (:meth:`_returned_change`), and with the
        return, so that its cancellation takes it out of the delivery's returns again
        (:meth:`_return_cancelled`)."""
        Jxc._add_issue_cost(w, delivery, "returned", amount)
        if not _split_group(group)[1].endswith("-R"):
            Jxc._add_issue_cost(w, group, "amount", amount)

    @staticmethod
    def _return_cancelled(w: _Work, delivery: str, group: str) -> None:
        """The customer return line ``group`` of the delivery line ``delivery`` (group refs)
        is cancelled: what corrections added to its value no longer counts as taken back."""
        change = Jxc._cost_change(w, group)
        if change:
            Jxc._add_issue_cost(w, delivery, "returned", -change)
            Jxc._add_issue_cost(w, group, "amount", -change)

    @staticmethod
    def _own_record(w: _Work, ref: str) -> list[Any] | None:
        """What the customer return line ``ref`` (``doc/line``) settled of its own delivery's
        shortage, ``[issue, units, estimate, real]`` (:data:`_OWN_SHORTAGE`); ``None``:
        nothing (or not FIFO/LIFO)."""
        found = w.uow.records.get(_OWN_SHORTAGE, ref)
        if not found or not Decimal(found["units"]):
            return None
        return [found["issue"], Decimal(found["units"]), Decimal(found["estimate"]),
                Decimal(found["real"])]

    @staticmethod
    def _put_own(w: _Work, ref: str, fill: list[Any] | None,
                 at: tuple[dt.datetime, int]) -> None:
        """Keep (``None``: nothing) what the return line ``ref`` settled of its own delivery's
        shortage (:data:`_OWN_SHORTAGE`), and where its (last) entry is in the ledger."""
        issue, units, estimate, real = fill or ["", ZERO, ZERO, ZERO]
        w.uow.records.put(_OWN_SHORTAGE, ref, {"issue": issue, "units": str(units),
                                               "estimate": str(estimate), "real": str(real),
                                               "at": at[0].isoformat(), "entry": at[1]})

    @staticmethod
    def _settled_record(w: _Work, warehouse: str, ref: str) -> list[list[Any]]:
        """What the receipt line, transfer arrival or customer return line ``ref``
        (``doc/line``) in ``warehouse`` settled of open shortages (:data:`_SETTLED_SHORTAGE`),
        oldest first; ``[]``: none."""
        found = w.uow.records.get(_SETTLED_SHORTAGE, f"{warehouse}{_SEP}{ref}")
        if not found:
            return []
        return [[i, Decimal(q), Decimal(e), Decimal(r)] for i, q, e, r in found["settled"]]

    def _undone_since(self, w: _Work, item: Item, warehouse: str, ref: str,
                      settled: bool = False, undoing: str | None = None) -> bool:
        """Whether every movement of the scope posted after the customer return line ``ref``
        (``doc/line``, :data:`_OWN_SHORTAGE`) — with ``settled``, after the receipt line,
        transfer arrival, customer return line or adjustment's (count's) line in that settled
        open shortages (:data:`_SETTLED_SHORTAGE`) — has been cancelled since: its
        cancellation is then the newest, and opening the shortages again leaves the scope as
        before it. A later movement still posted may have been costed on the shortage being
        closed (a receipt that settled another issue's instead): the delivery's shortage
        opened again in front of it would take the units that issue's cancellation is to put
        back into that receipt's layer. ``undoing``: the document being cancelled, whose
        later lines (an adjustment's removal after its addition) count as cancelled: its
        cancellation undoes them first."""
        found = (w.uow.records.get(_SETTLED_SHORTAGE, f"{warehouse}{_SEP}{ref}") if settled
                 else w.uow.records.get(_OWN_SHORTAGE, ref))
        if not found or "at" not in found:
            return False
        scope = w.scope(item, warehouse)
        later = w.uow.ledger.after(item.code, None if scope[1] == "*" else scope[1],
                                   dt.datetime.fromisoformat(found["at"]), int(found["entry"]))
        moved = [e for e in later if e.quantity and e.kind not in _MOVE_KINDS]
        # a cancellation is never before what it cancels: it is among them too
        undone = {(e.doc_id[:-2], e.line_no) for e in moved if e.doc_id.endswith("-R")}
        if settled and not undone <= {(e.doc_id, e.line_no) for e in moved}:
            return False  # an older movement cancelled since (its units back in the layer)
        return all(e.doc_id.endswith("-R") or e.doc_id == undoing
                   or (e.doc_id, e.line_no) in undone for e in moved)

    # -- cancelling a receipt under moving average: its own units at its own cost -----------
    @staticmethod
    def _received_line(w: _Work, item: str, warehouse: str, ref: str,
                       issued_at: dt.datetime,
                       found: dict[tuple[str, str, str], _Received | None],
                       lot: str | None = None, *, until: dt.datetime | None = None
                       ) -> _Received | None:
        """(quantity, value, rows) that the receipt ``ref`` (``doc/line``, the engine's receipt
        ref) brought into ``warehouse`` when posted at ``issued_at``: its ledger entries in (a
        transfer's ``transfer_in`` in its target), with the ``cost_backdating`` corrections of
        its value since (a customer return re-valued with its delivery) and the receipt costs
        of the ref there (``landed_cost`` entries: a transfer's carried change of cost, a
        charge that followed the units; the whole amount, not only the share kept then, so
        that a transfer's cancellation takes back what the transfer carries); ``rows``: the other
        receipts' rows its units went into (a customer return, :data:`_RESTORED_ROWS`),
        number -> units. ``None`` when none is found (a receipt posted otherwise: taken back
        at the average). Cached per posting in ``found`` (the rows lessened as parts take
        them). ``lot`` (specific identification): only the line's entries of that lot.
        ``until`` (the cancellation's moment): receipt costs positioned after it are not
        counted: a cancellation dated before a charge that followed the units takes them
        back at what they carry at its moment, and the charge, replayed after it, finds
        them gone (as FIFO/LIFO take back the layer at its value then)."""
        key = (item, warehouse, ref if lot is None else f"{ref}/{lot}")
        if key in found:
            return found[key]
        doc_id, _, line_no = ref.rpartition("/")
        qty = value = ZERO
        rows: dict[int, Decimal] = {}
        if doc_id and line_no.isdigit():
            n = int(line_no)
            for e in w.uow.ledger.after(item, warehouse, issued_at - dt.timedelta(
                    microseconds=1), 1 << 62):
                if (e.doc_id == doc_id and e.line_no == n and e.quantity > 0
                        and e.warehouse == warehouse and (lot is None or e.lot == lot)):
                    qty += e.quantity
                    value += e.value
                    if e.from_ref:  # back into the rows of the receipts of an issue
                        kept = w.uow.records.get(_RESTORED_ROWS, str(e.entry_no))
                        for number, _, q in kept["rows"] if kept else ():
                            rows[int(number)] = rows.get(int(number), ZERO) + Decimal(q)
                elif (e.doc_id == doc_id and e.line_no == n and e.kind == "cost_backdating"
                        and e.doc_type == "sales_return" and e.warehouse == warehouse
                        and lot is None):
                    value += e.value  # a customer return re-valued by a back-dated movement
                elif (lot is not None and e.doc_id == doc_id and e.line_no == n
                        and e.warehouse == warehouse and (
                            (e.kind == "landed_cost" and e.from_ref == lot
                             and (until is None or e.posted_at <= until))
                            or (e.kind == "cost_backdating" and e.doc_type == "transfer"))):
                    # a lot's: a transfer's change carried to its arrival (named by the
                    # lot), the share the lot kept, as a later replay split it again (its
                    # corrections); the rest went to cost of goods sold: the transfer's way
                    # back into its source makes up for it (:meth:`_lot_sent`)
                    value += e.value
                elif (e.kind == "landed_cost" and e.from_ref == ref
                        and e.warehouse == warehouse
                        and (until is None or e.posted_at <= until)):
                    # a receipt cost of these units (a transfer's, carried from its source):
                    # all of it, as split over the units received (the entry keeps the
                    # on-hand share only)
                    cost = w.uow.records.get(_RECEIPT_COST, str(e.entry_no))
                    if cost is None or not cost.get("rows"):
                        # (not a change carried back with a cancelled transfer's units into
                        # these rows: it makes up for what that transfer took and brought
                        # back, which is not counted here either)
                        value += e.value if cost is None else Decimal(cost["amount"])
        found[key] = (qty, value, rows) if qty > 0 and value >= 0 else None
        return found[key]

    @staticmethod
    def _lot_sent(w: _Work, item: str, warehouse: str, doc_id: str, line_no: int, lot: str,
                  qty: Decimal, issued_at: dt.datetime) -> Decimal | None:
        """What transfer line ``doc_id``/``line_no`` took of lot ``lot`` out of ``warehouse``
        (its source) when posted at ``issued_at``: its ``transfer_out`` entries of the lot
        there, with the back-dating corrections of the line there since — what its
        cancellation's ``qty`` units come back at into the source (specific
        identification, per warehouse). ``None`` unless the line took exactly ``qty`` units
        of that lot there and nothing else (else as before: what left the target)."""
        units = value = fixes = ZERO
        for e in w.uow.ledger.after(item, warehouse, issued_at - _TICK, 1 << 62):
            if (e.doc_id != doc_id or e.line_no != line_no or e.warehouse != warehouse
                    or e.doc_type != "transfer"):
                continue
            if e.kind == "transfer_out" and e.quantity:
                if e.lot != lot:
                    return None
                units -= e.quantity
                value -= e.value
            elif e.kind == "cost_backdating":
                fixes -= e.value
        if units != qty or value + fixes < 0:
            return None
        return value + fixes

    @staticmethod
    def _cut_at_arrival(w: _Work, item: str, warehouse: str, doc_id: str, line_no: int,
                        at: dt.datetime) -> Decimal:
        """The share of the costs carried to the arrival of transfer line ``doc_id``/
        ``line_no`` in ``warehouse`` at ``at`` (its ``landed_cost`` entries there, of the
        transfer's own ref: a re-costing of its leg out, :meth:`_follow_transfers`, or a
        settlement of the shortage it left, :meth:`_carry_settlement`) that went to cost of
        goods sold: the units it was split over that were no longer on hand at that moment,
        a later line of the same transfer having taken them out again (a transfer both
        ways; 0 without such a line). The change stops there (the replay does not follow it
        on with that line's units), so those units keep what they cost before it: the
        line's cancellation takes them out of ``warehouse`` at that much less (or more) than
        its leg out is worth as corrected."""
        ref = f"{doc_id}/{line_no}"
        cut = ZERO
        both_ways = False
        for e in w.uow.ledger.after(item, warehouse, at - _TICK, 1 << 62):
            if e.posted_at != at:
                break
            if e.doc_id != doc_id or e.doc_type != "transfer":
                continue
            if e.kind == "transfer_out" and e.line_no > line_no:
                both_ways = True
            elif e.kind == "landed_cost" and e.line_no == line_no and e.from_ref == ref:
                cost = w.uow.records.get(_RECEIPT_COST, str(e.entry_no))
                if cost is not None and not cost.get("rows"):
                    cut += Decimal(cost["amount"]) - e.value
        return cut if both_ways else ZERO

    # -- cancelling an issue under FIFO/LIFO: back into the layers it took ------------------
    def _restoring(self, w: _Work, item: Item, v: Valuation, warehouse: str, group: str,
                   qty: Decimal, value: Decimal, issued_at: dt.datetime,
                   issued: dict[str, deque[LayerSlice] | None],
                   until: dt.datetime | None = None, *, as_taken: bool = False
                   ) -> list[LayerSlice] | None:
        """The layers that ``qty`` units worth ``value`` coming into ``warehouse``, the
        cancellation of the issue ``group`` (a group ref), go back into: the layers
        that issue took from (:meth:`_issue_slices`), as far as earlier lines of the posting
        that take back the same issue left them, then the layers of the receipts that settled
        its shortage before ``until`` (the cancellation's moment). ``None``: received as any
        receipt (not FIFO/LIFO, a part of its own shortage open beside others' (:func:`_may_fill`),
        the issue not found, nothing of it in layers). With other issues' shortages open its
        units settle them named by the layers (:meth:`_restore`).

        The line's value is spread over the layers by the value the issue took from each (a
        cost adjusted since is spread with it); units beyond what the layers gave (a part
        that left short) come back at the rest of the value as a layer of their own."""
        if not isinstance(v, FifoValuation | LifoValuation) or not _may_fill(v, group):
            return None
        if group.count(_SEP) != 2:
            return None
        if group not in issued:
            issued[group] = self._issue_slices(w, item, w.scope(item, warehouse), group,
                                               issued_at, until)
        found = issued[group]
        if not found:
            return None
        # ``as_taken``: each layer at the value the issue took from it, when they give all
        # ``qty`` units (else the value spread over them, as always)
        as_taken = as_taken and sum((s[3] for s in found), ZERO) >= qty
        return _share_back(found, qty, value, money_quantum(self.currency_digits),
                           as_taken=as_taken)

    @staticmethod
    def _restore(v: FifoValuation | LifoValuation, back: list[LayerSlice], qty: Decimal,
                 value: Decimal, ref: str) -> Decimal:
        """Put ``back`` into its layers; the units beyond them (``qty`` in all, ``value``)
        are received as a layer named ``ref``. Returns the value that entered stock."""
        restored = v.restore_filling(back, ref) if v.shortages else v.restore(back)
        rest = qty - sum((s[3] for s in back), ZERO)
        if rest:
            restored += v.receive(rest, ZERO, ref, value=value - restored)
        return restored

    def _restoring_rows(self, w: _Work, item: Item, v: MovingAverageValuation, warehouse: str,
                        group: str, qty: Decimal, issued_at: dt.datetime,
                        issued: dict[str, deque[RowSlice] | None]) -> list[RowSlice] | None:
        """Under moving average, the receipt rows that ``qty`` units coming into ``warehouse``,
        the cancellation of the issue ``group`` (a group ref), go back into: the rows that
        issue took from (:meth:`_issue_rows`), as far as earlier lines of the posting that
        take back the same issue left them. ``None``: received as any receipt (open
        shortages, the issue not found, nothing of it in rows). The value is not split: the
        pool's value is one average."""
        if v.shortages or group.count(_SEP) != 2:
            return None
        if group not in issued:
            issued[group] = self._issue_rows(w, item, w.scope(item, warehouse), group,
                                             issued_at)
        found = issued[group]
        if not found:
            return None
        return _rows_back(found, qty) or None

    def _issue_slices(self, w: _Work, item: Item, scope: tuple[str, str], group: str,
                      issued_at: dt.datetime, until: dt.datetime | None = None
                      ) -> deque[LayerSlice] | None:
        """The layers the issue ``group`` (a group ref) of the scope took from, as the ledger
        has it now: the scope is rebuilt from its last checkpoint before ``issued_at`` and
        its entries replayed up to that issue, whose entries are issued again to see what
        they take (:meth:`_LayerValuation.issue_layers`). ``None`` when the issue is not in
        the scope's ledger there. The work is that of a back-dated movement to that date.

        When part of the issue went short (negative stock), the replay goes on up to
        ``until`` (the cancellation's moment) and the receipts that settled that shortage
        count as layers it took from, at their real cost (:attr:`_LayerValuation.settled`),
        after the layers it took when posted: its cancellation puts those units back into
        the receipts' layers, so each receipt is whole again and can be cancelled."""
        slices: deque[LayerSlice] = deque()
        seen: list[Valuation] = []
        issued = ZERO

        def take(v: Valuation, e: LedgerEntry) -> None:
            nonlocal issued
            assert isinstance(v, FifoValuation | LifoValuation)
            slices.extend(v.issue_layers(-e.quantity, e.from_ref or None, ref=group)[1])
            issued -= e.quantity
            seen[:] = [v]

        done = self._replay_issue(w, item, scope, group, issued_at, take, average=False)
        if done is None:
            return None
        window, replay, last = done
        if seen and until is not None and sum((s[3] for s in slices), ZERO) < issued:
            rest = [e for e in window[last + 1:] if e.posted_at <= until]
            replay.took[group] = slices
            replay.wanted.add(group)
            counted = self.replayed
            try:
                self._replay_entries(seen[0], rest, replay, item)
            except JxcError:  # cannot be followed: the layers it took, as before
                replay.took.pop(group, None)
            finally:
                self.replayed = counted
        return slices

    def _issue_rows(self, w: _Work, item: Item, scope: tuple[str, str], group: str,
                    issued_at: dt.datetime) -> deque[RowSlice] | None:
        """:meth:`_issue_slices` under moving average: the receipt rows the issue ``group``
        took units from (:meth:`MovingAverageValuation.issue_rows`)."""
        rows: deque[RowSlice] = deque()

        def take(v: Valuation, e: LedgerEntry) -> None:
            assert isinstance(v, MovingAverageValuation)
            rows.extend(v.issue_rows(-e.quantity, e.from_ref or None, ref=group)[1])

        done = self._replay_issue(w, item, scope, group, issued_at, take, average=True)
        if done is None:
            return None
        window, replay, last = done
        # less what earlier customer returns of the issue already put back into the rows,
        # but for those cancelled since: their cancellation took the units out of the rows
        # again (``take_back(..., rows=...)``), nothing of the issue is back by them
        cancelled = {(e.doc_type, e.doc_id[:-2], e.line_no) for e in window[last + 1:]
                     if e.quantity < 0 and e.doc_id.endswith("-R")}
        back: dict[int, Decimal] = {}
        for e in window[last + 1:]:
            if (e.quantity > 0 and e.from_ref == group
                    and (e.doc_type, e.doc_id, e.line_no) not in cancelled):
                for number, _, q in replay.rows.get(e.entry_no, ()):
                    back[number] = back.get(number, ZERO) + q
        if back:
            left: deque[RowSlice] = deque()
            for number, ref, q in rows:
                gone = back.get(number, ZERO)
                if gone:
                    back[number] = gone - min(gone, q)
                if q > gone:
                    left.append((number, ref, q - gone))
            rows = left
        return rows

    def _replay_issue(self, w: _Work, item: Item, scope: tuple[str, str], group: str,
                      issued_at: dt.datetime, take: Callable[[Valuation, LedgerEntry], None],
                      *, average: bool) -> tuple[list[LedgerEntry], _Replay, int] | None:
        """Rebuild the scope from its last checkpoint before ``issued_at``, replay its entries
        up to the issue ``group`` and give each entry of that issue to ``take`` (with the
        valuation as it stands then). Returns the window replayed, its records and the index
        of the issue's last entry in it; ``None`` when the scope is not of the method wanted
        (``average``: moving average, else FIFO/LIFO), the issue is not in its ledger there,
        or its history cannot be replayed."""
        cp = w.uow.checkpoints.latest(scope, issued_at - dt.timedelta(microseconds=1))
        wh = None if scope[1] == "*" else scope[1]
        if cp is None:
            window = w.uow.ledger.after(item.code, wh)
            made: object = self._new_valuation(item, w.policy(item, scope))
        else:
            window = w.uow.ledger.after(item.code, wh, cp[0], cp[1])
            made = valuation_from_state(cp[2])
        if average:
            if type(made) is not MovingAverageValuation:
                return None
        elif not isinstance(made, FifoValuation | LifoValuation):
            return None
        v: Valuation = made
        _align(v, *w.policy(item, scope))  # replayed under the policy of now, as the scope
        v.item, v.warehouse = item.code, scope[1]
        replay = _Replay(window, issued_at)
        self._window_records(w, replay, window, average)
        doc_type, doc_id, line_no = _split_group(group)
        org = self.organisation_scope
        at = [i for i, e in enumerate(window)
              if e.quantity < 0 and e.line_no == line_no and e.doc_id == doc_id
              and e.doc_type == doc_type and e.kind not in _MOVE_KINDS
              and not (org and e.kind == "transfer_out")]
        if not at:
            return None
        counted = self.replayed  # not a back-dating: not counted as one
        try:
            self._replay_entries(v, window[:at[0]], replay, item)
            hit = set(at)
            for i in range(at[0], at[-1] + 1):
                e = window[i]
                if i in hit:
                    take(v, e)
                else:
                    self._replay_entries(v, [e], replay, item)
        except JxcError:
            # the scope's history cannot be replayed to that issue (written by a version that
            # kept less): the units come back as a layer (a row) of the cancellation, as before
            return None
        finally:
            self.replayed = counted
        return list(window), replay, at[-1]

    def _window_records(self, w: _Work, replay: _Replay, window: Sequence[LedgerEntry],
                        average: bool = False, lots: bool = False) -> None:
        """What a replay of ``window`` reads besides the entries: the receipt costs applied
        (:data:`_RECEIPT_COST`, split again on the stock as the replay has it), the layers
        cancellations went back into (:data:`_RESTORED`) and, under moving average
        (``average``) and specific identification (``lots``), the receipts cancellations took
        back (:data:`_TAKEN_BACK`). A charge's shares sent on with a transfer whose
        cancellation brought them back may make that pair void (:func:`_void_pairs`,
        ``charges``): the charge is then split again with them."""
        charges: _Shares = {}
        marked: bool | None = None  # the scope has receipts that settled shortages
        for e in window:
            if (e.kind == "return_reversal" and e.quantity < 0 and e.from_ref
                    and e.from_ref not in replay.own):
                replay.own[e.from_ref] = self._own_record(w, e.from_ref)
            if (e.quantity < 0 and e.from_ref and _cancels_receipt(e)
                    and not lots and e.from_ref not in replay.to_reopen):
                # a receipt's cancellation: what the receipt settled (its receipt may lie
                # before the window), for a replay to open it again; looked up only in a
                # scope with such records
                if marked is None:
                    scope = "*" if self.organisation_scope else e.warehouse
                    marked = bool(w.uow.records.get(_SETTLED_SCOPES,
                                                    _scope_marker(e.item, scope)))
                if marked:
                    replay.to_reopen[e.from_ref] = self._settled_record(w, e.warehouse,
                                                                        e.from_ref)
            if e.kind == "landed_cost":
                cost = w.uow.records.get(_RECEIPT_COST, str(e.entry_no))
                if cost is not None:
                    received = cost.get("received")
                    replay.receipt_costs[e.entry_no] = (
                        Decimal(cost["amount"]),
                        None if received is None else Decimal(received))
                    if cost.get("rows"):
                        replay.carried_back.add(e.entry_no)
                    shares = _shares_of(cost)
                    if shares and e.doc_id != replay.cancelling:
                        charges[e.entry_no] = shares
            elif e.quantity < 0 and e.from_ref and (average or lots):
                taken = w.uow.records.get(_TAKEN_BACK, str(e.entry_no))
                if taken is not None:
                    replay.taken_back[e.entry_no] = (
                        Decimal(taken["received"]), Decimal(taken["value"]),
                        {int(n): Decimal(q) for n, q in taken.get("rows", ())})
                    if taken.get("reopen"):
                        replay.reopen.add(e.entry_no)
            elif e.quantity > 0 and e.from_ref and average:
                kept = w.uow.records.get(_RESTORED_ROWS, str(e.entry_no))
                if kept is not None:
                    replay.rows[e.entry_no] = [(int(n), r, Decimal(q))
                                               for n, r, q in kept["rows"]]
                    if "closed" in kept:
                        replay.rows_closed[e.entry_no] = Decimal(kept["closed"])
                    replay.wanted.add(e.from_ref)
            elif e.quantity > 0 and e.from_ref:
                found = w.uow.records.get(_RESTORED, str(e.entry_no))
                if found is not None:
                    replay.restored[e.entry_no] = [
                        (int(k), r, Decimal(rec), Decimal(q), Decimal(val))
                        for k, r, rec, q, val in found["layers"]]
                    replay.wanted.add(e.from_ref)
        if charges:
            unsent: dict[int, tuple[Decimal, Decimal]] = {}
            replay.void, replay.void_groups = _void_pairs(
                window, charges=charges, unsent=unsent, replayed_after=replay.replayed_after,
                start=replay.start, settled_nothing=replay.settled_nothing)
            for no, (amount, units) in unsent.items():
                here, received = replay.receipt_costs[no]
                if received is None:  # (never: a charge sent on is split over its units)
                    continue
                replay.receipt_costs[no] = (here + amount, received + units)
                replay.unsent[no] = amount

    # -- costing in date order: back-dated movements ----------------------------------------
    def _scope_at(self, w: _Work, item: Item, warehouse: str, when: dt.datetime,
                  replays: dict[tuple[str, str], _Replay],
                  lowered: set[tuple[str, str]] | None = None,
                  cost_only: bool = False, cancelling: str | None = None) -> Valuation:
        """The valuation of the scope as it stands just before ``when``.

        For a movement dated at or after the scope's last one that is the live valuation.
        For a back-dated one (补录) the valuation is rewound: the scope's latest checkpoint at
        or before ``when`` is restored and the ledger entries between it and ``when`` are
        replayed; the entries after ``when`` are replayed once the posting's own lines are in
        (:meth:`_finish_replay`). The work is proportional to the entries of this scope after
        the checkpoint, never to the ledger.

        The replay follows the negative-stock policy of now, except for a scope not in
        ``lowered`` (the scopes the posting takes stock from; ``None``: every scope): the
        posting only adds stock to it (in lines, the arriving side of a transfer) or only
        changes a receipt's cost, so every later level is at least what it was. Those
        later issues were accepted when posted; a shortage among them (the policy allowed it
        then) stays a shortage, now partly filled, instead of refusing the posting. The
        scope's policy of now holds again from the end of the replay on.

        ``cost_only``: the posting is a receipt cost (a charge, its cancellation, a carried
        change), which moves no units: under moving average the transfers out after it are
        replayed even when cancelled since (:func:`_void_pairs`, ``replayed_after``), so
        that what they cost goes on with their units into the warehouse they reached.
        ``cancelling``: the charge (document) the posting cancels (:attr:`_Replay.cancelling`).
        """
        scope = (item.code, "*" if self.organisation_scope else warehouse)  # w.scope()
        v = w.valuation(item, warehouse, scope)
        if type(v) is MonthlyScope:
            v.period = w.month_of(when)  # the month the movement belongs to (clock's zone)
        if scope in replays:
            return v
        latest = w.posted_until.get(scope)
        if latest is None:
            w.posted_until[scope] = when
            return v
        if (latest.utcoffset() is None) != (when.utcoffset() is None):
            # a clock of the other kind on this store: the moments could not be ordered
            # (memory raised TypeError, SQLite compared the texts)
            raise JxcError("store_timezone_mismatch", item=item.code, value=when.isoformat(),
                           last=latest.isoformat())
        if when >= latest:
            w.posted_until[scope] = when
            return v
        if isinstance(v, MonthlyScope):
            return v  # inside its month the order of movements changes no cost
        cp = w.uow.checkpoints.latest(scope, when)
        wh = None if scope[1] == "*" else scope[1]
        allow, cost = w.policy(item, scope)
        relaxed = (lowered is not None and scope not in lowered and not allow
                   and item.costing_method != "specific_lot")
        rewound: Valuation
        if cp is None:
            window = w.uow.ledger.after(item.code, wh)
            rewound = self._new_valuation(item, (allow or relaxed, cost))
        else:
            window = w.uow.ledger.after(item.code, wh, cp[0], cp[1])
            restored = valuation_from_state(cp[2])
            if isinstance(restored, MonthlyAverageValuation):
                raise JxcError("configuration", reason="monthly average scope in the engine",
                               reason_zh="引擎中不应出现月末一次加权平均的核算范围")
            rewound = restored
            _align(rewound, allow or relaxed, cost)  # the checkpoint's policy was then's
        rewound.item, rewound.warehouse = item.code, scope[1]
        replay = _Replay(window, latest, relaxed,
                         (when, rewound.quantity) if cost_only
                         and item.costing_method == "moving_average"
                         and not self.organisation_scope else None, rewound.quantity,
                         self._settled_nothing(w, item, scope[1]))
        replay.cancelling = cancelling
        self._window_records(w, replay, window, item.costing_method == "moving_average",
                             item.costing_method == "specific_lot")
        for e in window:
            if (e.kind == "landed_cost" and e.entry_no not in replay.receipt_costs
                    and (e.posted_at, e.entry_no) > (when, 1 << 62)):
                # written before receipt costs were recorded: its split cannot be redone
                raise JxcError("backdated_posting", item=item.code, warehouse=warehouse,
                               posted_at=when.isoformat(),
                               reason="a landed cost was applied to the scope after that date",
                               reason_zh="该日期之后此核算范围已分摊过到岸成本")
        split = 0
        while split < len(window) and window[split].posted_at <= when:
            split += 1
        replay.later = window[split:]
        if any(e.kind == "standard_revaluation" for e in replay.later):
            raise JxcError("backdated_posting", item=item.code, warehouse=warehouse,
                           posted_at=when.isoformat(),
                           reason="the standard cost was changed after that date",
                           reason_zh="该日期之后标准成本已变更")
        self._replay_entries(rewound, window[:split], replay, item)
        w.valuations[scope] = rewound
        w.synced.discard(scope)
        replays[scope] = replay
        return rewound

    def _replay_entries(self, v: Valuation, entries: Sequence[LedgerEntry], replay: _Replay,
                        item: Item) -> None:
        lot_costed = item.costing_method == "specific_lot"
        standard = type(v) is StandardCostValuation
        quantum = money_quantum(self.currency_digits)
        org = self.organisation_scope
        for e in entries:
            if e.kind in _MOVE_KINDS or (org and e.kind in ("transfer_out", "transfer_in")):
                continue  # no value moved between scopes (a move: not even between layers)
            before = v.value
            if e.entry_no in replay.void:  # a cancelled issue or its reversal: as if never
                if lot_costed and e.quantity > 0:  # but the lot received its units when posted
                    assert isinstance(v, SpecificLotValuation)
                    v.note_received(e.lot, e.quantity)
                replay.replayed += 1
                continue
            if e.quantity > 0 and e.from_ref in replay.void_groups:
                # a customer return of a void issue: the units it took back are not in the
                # replay's stock (nor in the rows the issue took), a receipt of their own; at
                # its value as the ledger has it, its corrections counted in (the first entry
                # of the line takes them), as the pair keeps its costs: no change is booked,
                # and its cancellation takes back what it brought in as recorded
                ref = f"{e.doc_id}/{e.line_no}"
                own_before = _own_open(v, e.from_ref) if e.kind == "sales_return" else None
                value = e.value
                if ref not in replay.plain:
                    line = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    fixed = replay.fixes(line)
                    value += fixed
                    replay.new[line] = replay.new.get(line, ZERO) - fixed
                v.receive(e.quantity, ZERO, e.lot if lot_costed else ref, value=value)
                if e.kind == "sales_return":
                    self._replayed_own(v, e, own_before, replay)
                if replay.took:
                    _note_settled(v, replay)
                replay.plain.add(ref)
                replay.back_rows[ref] = {}
                replay.settled.extend(v.take_adjustments())
                replay.replayed += 1
                continue
            # a customer return: at its share of what its delivery costs as replayed here
            back_at = (self._return_value(v, e, replay)
                       if e.kind == "sales_return" and e.from_ref else None)
            if e.kind == "standard_revaluation":  # (a checkpoint keeps replays after it)
                assert isinstance(v, StandardCostValuation)
                v.set_standard(Decimal(e.from_ref))
                v.take_adjustments()
            elif e.kind == "landed_cost":  # a receipt cost: split again on the stock as it is
                split = replay.receipt_costs.get(e.entry_no)
                if split is None:  # not recorded (earlier than the date): its on-hand share
                    v.add_kept_cost(e.from_ref, e.value)
                elif (e.entry_no in replay.carried_back and v.quantity > 0
                      and v.value + split[0] >= 0):
                    # a change carried back with a cancelled transfer's units: part of what
                    # they came back at (its pair's), kept in stock whole as their way back
                    # is, not a cost of the receipt whose rows they went into (cancelled
                    # since, it would find no units and send it to cost of goods sold)
                    v.add_kept_cost(e.from_ref, split[0])
                    group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    replay.new[group] = replay.new.get(group, ZERO) - split[0]
                else:
                    kept = v.add_landed_cost(e.from_ref, split[0], received_quantity=split[1])
                    v.take_adjustments()  # the issued share: booked as the change below
                    group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    replay.new[group] = replay.new.get(group, ZERO) - kept
                    arrival = (e.item, e.from_ref, e.warehouse)
                    if (type(v) is MovingAverageValuation and split[1]
                            and _carried_transfer_cost(e) and arrival in replay.settled_found):
                        # a change carried to a transfer's arrival replayed here: its share
                        # of the units that settled shortages (:meth:`_carry_into_settled`)
                        share = _carried_share(replay.settled_found[arrival][1], split[0],
                                               split[1], quantum)
                        if share:
                            replay.carried[e.from_ref] = replay.carried.get(
                                e.from_ref, ZERO) + share
            elif (e.quantity > 0 and e.from_ref and e.doc_id.endswith("-R")
                  and e.kind.endswith("_reversal") and e.entry_no not in replay.rows
                  and _close_own_shortage(v, e.from_ref, e.quantity,
                                          None if e.entry_no in replay.restored else e.value)):
                # the cancellation of an issue short in full: its own shortage closed, also
                # when it went back into layers as posted (its issue was settled then, by a
                # receipt that settles older shortages in this replay); kept as one, at the
                # estimate the replay holds (what its issue costs as replayed here)
                if e.entry_no in replay.restored:  # kept as one (counted among the revalued)
                    group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    replay.new[group] = replay.new.get(group, ZERO) - (v.value - before)
            elif e.quantity > 0 and e.entry_no in replay.rows and type(v) is \
                    MovingAverageValuation:
                # a cancellation back into receipt rows: those the issue took as replayed here
                # (where it was), else those recorded; the value as posted (one pool), or
                # what its issue took as replayed here
                into = replay.rows[e.entry_no]
                gave = replay.took_rows.get(e.from_ref)
                value = e.value if back_at is None else back_at
                took_now = replay.took_cost.get(e.from_ref)
                # a cancellation of an issue partly open short: that part closed at the
                # estimate held here (:func:`_close_own_open`), the rest at the value as
                # posted less the part it closed then; the change is a correction of it
                part_q = part_v = ZERO
                # the open part it closed when posted is settled as replayed here (a receipt
                # the replay passes settles this issue now): back at what its issue costs
                # by then, as a cancellation posted now would, not at the value as posted
                settled_since = False
                if (back_at is None and e.kind.endswith("_reversal")
                        and e.doc_id.endswith("-R")):
                    part_q, part_v = _close_own_open(v, e.from_ref, e.quantity, e.value)
                    if part_q:
                        value = e.value - replay.rows_closed.get(e.entry_no, part_v)
                    else:
                        settled_since = (e.entry_no in replay.rows_closed
                                         and not v.open_of(e.from_ref)[0])
                elif e.entry_no in replay.rows_closed:
                    value -= replay.rows_closed[e.entry_no]
                revalue = (gave is not None and took_now is not None and back_at is None
                           and e.kind != "transfer_in" and took_now[0] >= e.quantity
                           and not part_q and (e.entry_no not in replay.rows_closed
                                               or settled_since))
                if gave is not None:
                    again = _rows_back(gave, e.quantity - part_q)
                    if again != into:
                        replay.rewrite_rows[e.entry_no] = into = again
                elif sum((q for _, _, q in into), ZERO) > e.quantity - part_q:
                    into = _rows_back(deque(into), e.quantity - part_q)
                if revalue and took_now is not None:
                    # its issue was replayed here: back at what it took now, as a cancellation
                    # posted now would (a transfer's: the target's change is carried back),
                    # with what receipts settled of its shortage since (its cost by then)
                    worth = took_now[1] + _settled_since_taken(replay, v, e.from_ref)
                    value = worth if took_now[0] == e.quantity else slice_value(
                        e.quantity, took_now[0], worth, money_quantum(self.currency_digits))
                    replay.took_cost[e.from_ref] = (took_now[0] - e.quantity, worth - value)
                got = part_v + (v.restore_rows(into, e.quantity - part_q, value,
                                               f"{e.doc_id}/{e.line_no}")
                                if e.quantity > part_q else ZERO)
                if revalue or part_q or e.entry_no in replay.rows_closed:
                    group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    replay.new[group] = replay.new.get(group, ZERO) - got
                    replay.rows_revalued.add(e.entry_no)
                put = replay.back_rows.setdefault(f"{e.doc_id}/{e.line_no}", {})
                for number, _, q in into:
                    put[number] = put.get(number, ZERO) + q
            elif e.quantity > 0:
                back = replay.restored.get(e.entry_no) if e.from_ref else None
                part_q = part_v = ZERO
                # a supplier return's cancellation kept as one whose own open part is closed:
                # at its value as the ledger has it now (with the corrections of it that
                # earlier replays booked), which that part's estimate as replayed may pass
                now = (e.value + replay.fixes(_group_ref(e.doc_type, e.doc_id, e.line_no))
                       if back is not None and e.doc_type == "purchase_return" else e.value)
                if back is not None:  # receipts settled part of its shortage: rest closed
                    part_q, part_v = _close_own_part(v, e.from_ref, e.quantity, now)
                if not part_q:
                    now = e.value
                if (back is not None and isinstance(v, FifoValuation | LifoValuation)
                        and (e.doc_type == "purchase_return" or _may_fill(v, e.from_ref))):
                    # a cancellation with other issues' shortages open: its units fill them
                    # named by the layers (:meth:`FifoValuation.restore_filling`)
                    filling = bool(v.shortages)
                    units, worth = e.quantity - part_q, now - part_v
                    value = worth
                    took = replay.took.get(e.from_ref)
                    if took is not None:  # its issue was replayed here: what it took now,
                        # at the cost it took it (what the value changes is a correction)
                        fresh = _share_back(took, units, worth, quantum,
                                            as_taken=True) or []
                        if fresh != back:
                            replay.rewrite[e.entry_no] = fresh
                            rest = units - sum((s[3] for s in fresh), ZERO)
                            value = sum((s[4] for s in fresh), ZERO) + (round_money(
                                DIVISION_CONTEXT.divide(worth * rest, units),
                                self.currency_digits) if rest else ZERO)
                        back = fresh
                    restored = part_v + self._restore(v, list(back), units, value,
                                                      f"{e.doc_id}/{e.line_no}")
                    if filling and replay.took:
                        _note_settled(v, replay)
                    group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    replay.new[group] = replay.new.get(group, ZERO) - restored
                else:
                    filling = bool(replay.took) and isinstance(
                        v, FifoValuation | LifoValuation) and bool(v.shortages)
                    if lot_costed and back_at is None:
                        back_at = self._lot_back(e, replay, quantum)
                    value = e.value if back_at is None else back_at
                    if back is not None and filling:
                        # a cancellation kept as one, received (shortages are open): at what
                        # its issue took as replayed here, as it would have gone back
                        value = part_v + self._took_worth(replay, e.from_ref,
                                                          e.quantity - part_q,
                                                          now - part_v, quantum)
                    own_before = (_own_open(v, e.from_ref)
                                  if e.kind == "sales_return" and back is None else None)
                    # a purchase receipt, an adjustment's or a count's line in, a transfer's
                    # arrival or a customer return: what it settles here, for its
                    # cancellation (:data:`_SETTLED_SHORTAGE`, as the live path records)
                    receipt = (back is None and not lot_costed
                               and (not e.from_ref or e.kind == "sales_return")
                               and not e.doc_id.endswith("-R")
                               and (e.kind in _SETTLING_KINDS
                                    or e.kind in ("transfer_in", "sales_return"))
                               and (isinstance(v, FifoValuation | LifoValuation)
                                    or (type(v) is MovingAverageValuation
                                        and e.kind != "sales_return")))
                    open_before = _open_before(v) if receipt else None
                    got = part_v + v.receive(e.quantity - part_q, ZERO,
                                             e.lot if lot_costed else f"{e.doc_id}/{e.line_no}",
                                             value=value - part_v)
                    if lot_costed and e.kind == "transfer_in" and not e.doc_id.endswith("-R"):
                        key = (_group_ref(e.doc_type, e.doc_id, e.line_no), e.lot)
                        units, worth = replay.lot_came.get(key, (ZERO, ZERO))
                        replay.lot_came[key] = (units + e.quantity, worth + got)
                    if e.kind == "sales_return" and back is None and not lot_costed:
                        self._replayed_own(v, e, own_before, replay)
                    if receipt:
                        self._replayed_settled(v, e, open_before, replay)
                    if filling:
                        _note_settled(v, replay)
                    if back is not None or e.entry_no in replay.lots_back:
                        # kept as a cancellation (or a lot's, re-valued): it counts as one
                        group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                        replay.new[group] = replay.new.get(group, ZERO) - got
                if standard:
                    # at standard a receipt that brings the stock back to zero takes the
                    # rounding left in it: on another path it enters at another cent. That
                    # change of its value is booked as a correction naming it (the variance
                    # the replay reports is the ledger value less the new one)
                    group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                    for a in v.take_adjustments():
                        if a.reason == PRICE_VARIANCE:
                            replay.new[group] = replay.new.get(group, ZERO) + a.amount
                        else:
                            replay.settled.append(a)
            elif e.quantity < 0:
                group = _group_ref(e.doc_type, e.doc_id, e.line_no)
                if group in replay.wanted and isinstance(v, FifoValuation | LifoValuation):
                    cost, taken = v.issue_layers(-e.quantity, e.from_ref or None, ref=group)
                    replay.took.setdefault(group, deque()).extend(taken)
                elif group in replay.wanted and type(v) is MovingAverageValuation \
                        and e.entry_no not in replay.taken_back:
                    cost, from_rows = v.issue_rows(-e.quantity, e.from_ref or None, ref=group)
                    replay.took_rows.setdefault(group, deque()).extend(from_rows)
                    units, worth = replay.took_cost.get(group, (ZERO, ZERO))
                    replay.took_cost[group] = (units - e.quantity, worth + cost)
                elif e.entry_no in replay.taken_back and type(v) is MovingAverageValuation:
                    got, worth, went = replay.taken_back[e.entry_no]
                    added = replay.ref_costs.get(e.from_ref)
                    if added and e.kind == "transfer_out":
                        # a receipt cost of the transfer's units posted before it (a charge
                        # that followed them, or its cancellation): what the units came to
                        # as the record had it, with that cost (the source gets the change
                        # as a correction carried back with the units)
                        worth = max(ZERO, worth + added)
                        replay.rewrite_taken[e.entry_no] = (got, worth, went)
                    revalued = replay.revalued.get(e.from_ref)
                    if revalued is not None and revalued[1] != worth:
                        # a customer return valued anew here: its cancellation takes that
                        worth = revalued[1]
                        replay.rewrite_taken[e.entry_no] = (got, worth, went)
                    now_in = replay.back_rows.get(e.from_ref)
                    if e.from_ref in replay.plain:  # a return of a void issue, as a receipt
                        went = {}
                    elif now_in is not None:  # the movement was replayed here: its rows now
                        if now_in != went:
                            replay.rewrite_taken[e.entry_no] = (got, worth, dict(now_in))
                        went = now_in
                    fills = (replay.to_reopen.get(e.from_ref)
                             if _cancels_receipt(e) else None)
                    settled_cost = (_reopen_settled(v, fills, -e.quantity, e.from_ref, group)
                                    if fills else None)
                    if settled_cost is not None:
                        # a receipt (a transfer's arrival) that settled open shortages: they
                        # open again, as when posted (:func:`_reopen_settled`)
                        del replay.to_reopen[e.from_ref]
                        settled_cost += self._carried_back(replay, e)
                    reopened = (_reopen_own(v, replay.own.get(e.from_ref), -e.quantity,
                                            e.from_ref, group, quantum)
                                if e.entry_no in replay.reopen and settled_cost is None
                                else None)
                    cost = (settled_cost if settled_cost is not None else
                            reopened[0] if reopened is not None else
                            v.take_back(-e.quantity, e.from_ref, got, worth, ref=group,
                                        rows=went or None))
                elif e.entry_no in replay.taken_back and isinstance(v, SpecificLotValuation):
                    got, worth, _ = replay.taken_back[e.entry_no]  # a lot's units, own cost
                    if e.kind == "transfer_out" and e.doc_id.endswith("-R"):
                        # a transfer's cancellation out of its target: its arrival replayed
                        # here, at what it came with and the changes carried to it kept as
                        # replayed (split again on the lot as it is)
                        sent = _group_ref(e.doc_type, e.doc_id[:-2], e.line_no)
                        came = replay.lot_came.get((sent, e.lot))
                        if came is not None and came[0] == got:
                            worth = max(ZERO, came[1] - replay.new.get(sent, ZERO))
                    cost = v.take_back(-e.quantity, e.from_ref, got, worth, ref=group)
                else:
                    fills = (replay.to_reopen.get(e.from_ref)
                             if e.from_ref and _cancels_receipt(e) else None)
                    reopen = (fills is not None and not lot_costed
                              and _reopens(v, fills, -e.quantity))
                    reopened = (_reopen_own(v, replay.own.get(e.from_ref), -e.quantity,
                                            e.from_ref, group, quantum)
                                if not reopen and e.kind == "return_reversal" and e.from_ref
                                else None)
                    if reopen:
                        # a receipt that settled open shortages, cancelled with nothing else
                        # on hand beside its layer: they open again, as when posted
                        assert fills is not None
                        got_back = _reopen_settled(v, fills, -e.quantity, e.from_ref, group)
                        assert got_back is not None
                        cost = got_back + self._carried_back(replay, e)
                        del replay.to_reopen[e.from_ref]
                        replay.own[e.from_ref] = None  # a return's own delivery's among them
                        for issue, q, _, _ in fills:  # no longer settled by its layer
                            took = replay.took.get(issue)
                            if took is not None:
                                _drop_slices(took, e.from_ref, q, quantum)
                    elif reopened is None:
                        cost = v.issue(-e.quantity, e.from_ref or None, ref=group)
                        if lot_costed and not e.doc_id.endswith("-R"):
                            # what a lot's issue took as replayed here: its cancellation
                            # comes back at it (:meth:`_lot_back`)
                            key = (group, e.lot)
                            units, worth = replay.lot_took.get(key, (ZERO, ZERO))
                            replay.lot_took[key] = (units - e.quantity, worth + cost)
                    else:  # its return's units settled the delivery: open again
                        cost = reopened[0]
                        own = replay.own.get(e.from_ref)
                        took = replay.took.get(own[0]) if own is not None else None
                        if took is not None:  # no longer settled by the return's layer
                            _drop_slices(took, e.from_ref, reopened[1], quantum)
                replay.new[group] = replay.new.get(group, ZERO) + cost
                if e.doc_type == "delivery" and not e.doc_id.endswith("-R"):
                    replay.delivered[group] = replay.delivered.get(group, ZERO) - e.quantity
                    replay.posted[group] = replay.posted.get(group, ZERO) - e.value
                elif e.from_ref in replay.revalued:  # the cancellation of a customer return
                    delivery = replay.revalued[e.from_ref][0]
                    replay.returns[group] = delivery
                    units, worth_back = replay.returned.get(delivery, (ZERO, ZERO))
                    replay.returned[delivery] = (units + e.quantity, worth_back - cost)
                if e.kind == "transfer_out" and v.quantity < 0:  # sent (partly) from a shortage
                    replay.short_transfers.setdefault(group, e)
            elif e.doc_type == "delivery" and e.kind in ("cost_backdating", "cost_settlement"):
                group = _group_ref(e.doc_type, e.doc_id, e.line_no)  # its cost in the ledger
                replay.posted[group] = replay.posted.get(group, ZERO) - e.value
            replay.settled.extend(v.take_adjustments())
            replay.replayed += 1
        self.replayed += replay.replayed

    @staticmethod
    def _carried_back(replay: _Replay, e: LedgerEntry) -> Decimal:
        """The cancellation ``e`` of a transfer's arrival (its leg out of the target) opened
        again the shortages the arrival settled, in a replay that carried a change of the
        transfer's cost to those units (:attr:`_Replay.carried`): the change goes back with
        them, with what they settled (returned, to add to what ``e`` takes out; the source
        gets it with the units, as a correction carried back). It never was a settlement
        of the issues they settled (their settlements open again as recorded): their
        issued share, booked to cost of goods sold with the transfer, is taken back there
        (a correction of the arrival's line)."""
        share = replay.carried.pop(e.from_ref, ZERO)
        if share:
            arrival = _group_ref(e.doc_type, e.doc_id.removesuffix("-R"), e.line_no)
            replay.new[arrival] = replay.new.get(arrival, ZERO) - share
        return share

    @staticmethod
    def _lot_back(e: LedgerEntry, replay: _Replay, quantum: Decimal) -> Decimal | None:
        """What the cancellation entry ``e`` of a lot's issue (a delivery, a supplier return,
        an adjustment's or a count's line out; a transfer's way back into its source, which
        comes at what the transfer took there, :meth:`_lot_sent`) brings back as replayed:
        its share of what the issue took of its lot here, less what its cancellations
        replayed before brought back; all that is left when it brings back the rest (DOMAIN
        §2, 红冲: a reversal at its issue's cost).
        Posted, the cancellation came at the issue's cost as the ledger had it then; a
        replay that re-costs the issue (a receipt cost of its lot cancelled, or dated
        before it) re-costs its cancellation alike, the change booked as a correction of the
        cancellation (:meth:`_finish_replay`). Else the issue and its cancellation no longer
        netted to zero: the lot kept the difference, and a receipt of it cancelled later was
        refused for good (its history never passed over the pair). ``None``: not such an
        entry, or its issue was not replayed here (the value as posted stands)."""
        if not (e.doc_id.endswith("-R")
                and (e.kind.endswith("_reversal") or e.kind == "transfer_in")):
            return None
        key = (_group_ref(e.doc_type, e.doc_id[:-2], e.line_no), e.lot)
        units, worth = replay.lot_took.get(key, (ZERO, ZERO))
        if units < e.quantity:
            return None
        value = worth if units == e.quantity else slice_value(e.quantity, units, worth,
                                                              quantum)
        replay.lot_took[key] = (units - e.quantity, worth - value)
        replay.lots_back.add(e.entry_no)
        return value

    @staticmethod
    def _replayed_own(v: Valuation, e: LedgerEntry, before: tuple[Decimal, Decimal] | None,
                      replay: _Replay) -> None:
        """A customer return entry ``e`` replayed: what it settled of its own delivery's
        shortage here (:func:`_own_settled`) is what its cancellation opens again, and what
        its record is to say (several entries of a line add up)."""
        ref = f"{e.doc_id}/{e.line_no}"
        fill = _own_settled(v, e.from_ref, before)
        if ref not in replay.own_found:
            replay.own.pop(ref, None)
        _add_own(replay.own_found, ref, fill)
        _add_own(replay.own, ref, fill)
        replay.own_at[ref] = (e.posted_at, e.entry_no)

    @staticmethod
    def _replayed_settled(v: Valuation, e: LedgerEntry,
                          before: dict[str, tuple[Decimal, Decimal]] | None,
                          replay: _Replay) -> None:
        """A purchase receipt, adjustment or count gain, transfer arrival or customer return
        entry ``e`` replayed: what it
        settled of open shortages here (:func:`_settled_by`) is what its record is to say
        (several entries of a line add up) and what its cancellation opens again."""
        ref = f"{e.doc_id}/{e.line_no}"
        key = (e.item, ref, e.warehouse)
        _add_settled(replay.settled_found, key, e.entry_no, _settled_by(v, before))
        replay.settled_at[key] = e.posted_at
        replay.to_reopen[ref] = [list(f) for f in _settled_others(
            replay.settled_found[key][1], replay.own_found.get(ref))]

    def _took_worth(self, replay: _Replay, issue: str, units: Decimal, worth: Decimal,
                    quantum: Decimal) -> Decimal:
        """What ``units`` of the cancellation of ``issue`` (a group ref; ``worth`` as posted)
        come back at in a replay that followed the issue: the layers it took as replayed
        here, at the cost it took them (:func:`_share_back`, ``as_taken``; taken from
        :attr:`_Replay.took` as a restore would), the units beyond them at their share of
        ``worth``. ``worth`` itself when the issue was not followed."""
        took = replay.took.get(issue)
        if took is None:
            return worth
        fresh = _share_back(took, units, worth, quantum, as_taken=True) or []
        rest = units - sum((s[3] for s in fresh), ZERO)
        return sum((s[4] for s in fresh), ZERO) + (round_money(
            DIVISION_CONTEXT.divide(worth * rest, units), self.currency_digits)
            if rest else ZERO)

    def _return_value(self, v: Valuation, e: LedgerEntry, replay: _Replay) -> Decimal | None:
        """What the customer return entry ``e`` (its ``from_ref``: the delivery line it takes
        back, a group ref) brings in as replayed, as :meth:`Documents._sales_return` values a
        return when posted: its share of what the delivery costs at that point (its issue
        as replayed here, plus the shortage settlements found so far), less what its
        returns replayed before took back; all that is left when it takes back the rest. So a
        back-dated movement that re-values the delivery re-values its returns, and the
        movements after them that took the returned units. A delivery not replayed here, or
        whose cost the replay leaves as the ledger had it at that point: the value as the
        ledger has it (posted, with its corrections). The change is booked as a correction
        of the return (:meth:`_finish_replay`). ``None``: not FIFO/LIFO/moving average."""
        if not isinstance(v, FifoValuation | LifoValuation | MovingAverageValuation):
            return None
        delivery = e.from_ref
        own = _group_ref(e.doc_type, e.doc_id, e.line_no)
        value = e.value + replay.fixes(own)  # as the ledger has it
        units, worth = replay.returned.get(delivery, (ZERO, ZERO))
        delivered = replay.delivered.get(delivery)
        if delivered is not None:
            cost = replay.new.get(delivery, ZERO) + _settlements_of(replay.settled, delivery)
            left = delivered - units
            if cost != replay.posted.get(delivery, ZERO) and ZERO < e.quantity <= left:
                rest = max(ZERO, cost - worth)
                value = rest if e.quantity == left else round_money(
                    DIVISION_CONTEXT.divide(e.quantity * rest, left), self.currency_digits)
        replay.returned[delivery] = (units + e.quantity, worth + value)
        replay.return_entries.add(e.entry_no)
        replay.returns[own] = delivery
        replay.revalued[f"{e.doc_id}/{e.line_no}"] = (delivery, value)
        replay.new[own] = replay.new.get(own, ZERO) - value
        return value

    def _finish_replay(self, w: _Work, scope: tuple[str, str], replay: _Replay,
                       own_groups: set[str], when: dt.datetime) -> list[CostAdjustment]:
        """Replay the later entries and book what changed, issue by issue."""
        v = w.valuations[scope]
        replay.replayed = 0
        self._replay_entries(v, replay.later, replay, w.items[scope[0]])
        self._record_settled(w, scope, replay)
        if replay.relaxed:  # the policy of now again, for the issues after this posting
            _align(v, *w.policy(w.items[scope[0]], scope))
        replay.settled.extend(v.take_adjustments())
        old: dict[str, Decimal] = {}
        qty: dict[str, Decimal] = {}
        for e in replay.window:
            if e.entry_no in replay.void:
                continue  # a void pair: its costs stay as posted
            if (e.quantity < 0 or e.kind in ("cost_settlement", "cost_backdating")
                    or e.entry_no in replay.receipt_costs or e.entry_no in replay.restored
                    or e.entry_no in replay.return_entries or e.entry_no in replay.rows_revalued
                    or e.entry_no in replay.lots_back):
                if e.kind == MOVE_OUT or (self.organisation_scope
                                          and e.kind == "transfer_out"):
                    continue
                g = _group_ref(e.doc_type, e.doc_id, e.line_no)
                # (a charge split again with the shares it sent with a void transfer pair's
                # units: they came back with the pair, left as posted, into this stock)
                old[g] = old.get(g, ZERO) - e.value - replay.unsent.get(e.entry_no, ZERO)
                qty[g] = qty.get(g, ZERO) - e.quantity
        new = dict(replay.new)
        for a in replay.settled:
            if a.reason == SHORTAGE_SETTLEMENT and a.issue_ref is not None:
                new[a.issue_ref] = new.get(a.issue_ref, ZERO) + a.amount
        out: list[CostAdjustment] = []
        for g in sorted(set(old) | set(new)):
            delta = new.get(g, ZERO) - old.get(g, ZERO)
            if not delta:
                continue
            if g in own_groups:  # the posting's own issue: only later settlements can change it
                out.append(CostAdjustment(SHORTAGE_SETTLEMENT, delta, ZERO, g))
            else:
                out.append(CostAdjustment(BACK_DATING, delta, qty.get(g, ZERO), g))
        for a in out:  # customer returns valued anew (and their cancellations)
            delivery = replay.returns.get(a.issue_ref or "")
            if delivery is not None:
                self._note_return_change(w, delivery, a.issue_ref or "", -a.amount)
        w.uow.checkpoints.drop_after(scope, when)
        self._record_short_transfers(w, replay)
        for ref, fill in replay.own_found.items():  # what returns settled as replayed
            if fill != self._own_record(w, ref):
                self._put_own(w, ref, fill, replay.own_at[ref])
        for entry_no, layers in replay.rewrite.items():  # cancellations the replay moved
            _record_restored(w, entry_no, layers)
        for entry_no, rows in replay.rewrite_rows.items():
            _record_rows(w, entry_no, rows)
        for entry_no, (got, worth, into) in replay.rewrite_taken.items():
            w.uow.records.put(_TAKEN_BACK, str(entry_no), {
                "received": str(got), "value": str(worth),
                **({"reopen": True} if entry_no in replay.reopen else {}),
                **({"rows": [[n, str(q)] for n, q in into.items()]} if into else {})})
        return out

    @staticmethod
    def _record_settled(w: _Work, scope: tuple[str, str], replay: _Replay) -> None:
        """What the purchase receipts, adjustments' and counts' lines in, transfer arrivals and
        customer returns of a replayed scope settled of open shortages, as replayed
        (:data:`_SETTLED_SHORTAGE`): kept, with the moment and number of each line's last
        entry, as the live path keeps it; a record the replay no longer finds is dropped
        (nothing to open again). Only a scope with such records (:data:`_SETTLED_SCOPES`) is
        looked up receipt by receipt."""
        found = replay.settled_found
        marker = _scope_marker(*scope)
        marked = bool(w.uow.records.get(_SETTLED_SCOPES, marker))
        any_fills = False
        for (_, ref, wh), (entry_no, fills) in found.items():
            key = f"{wh}{_SEP}{ref}"
            fills = _settled_others(fills, replay.own_found.get(ref))
            if fills:
                any_fills = True
                w.uow.records.put(_SETTLED_SHORTAGE, key, {
                    "warehouse": wh, "at": replay.settled_at[(scope[0], ref, wh)].isoformat(),
                    "entry": entry_no,
                    "settled": [[i, str(q), str(e), str(r)] for i, q, e, r in fills]})
            elif marked and w.uow.records.get(_SETTLED_SHORTAGE, key):
                w.uow.records.put(_SETTLED_SHORTAGE, key, {})
        for e in replay.window if marked else ():  # receipts not replayed (passed over)
            if (e.quantity > 0 and (e.kind in _SETTLING_KINDS
                                    or e.kind in ("transfer_in", "sales_return"))
                    and (e.item, f"{e.doc_id}/{e.line_no}", e.warehouse) not in found):
                key = f"{e.warehouse}{_SEP}{e.doc_id}/{e.line_no}"
                if w.uow.records.get(_SETTLED_SHORTAGE, key):
                    w.uow.records.put(_SETTLED_SHORTAGE, key, {})
        if any_fills and not marked:  # a replay of the scope looks its receipts up now
            w.uow.records.put(_SETTLED_SCOPES, marker, {"any": True})

    def _checkpoint(self, w: _Work, entries: list[LedgerEntry],
                    replays: dict[tuple[str, str], _Replay],
                    counts: dict[tuple[str, str], int]) -> None:
        """Every ``checkpoint_every`` movements of a scope, keep its valuation state
        (only when no shortage is open, so that a replay never has to look before it).
        ``counts``: the movements (entries with a quantity) of the posting per scope.

        A state of many rows (layers, open receipts, lots) is kept less often: every
        ``checkpoint_every`` × 2**k movements, the least such span not below its row count,
        so the rows written stay under one per movement however the stock grows, and a
        replay reads fewer movements than the state it starts from has rows (or fewer than
        ``checkpoint_every``)."""
        org = self.organisation_scope
        every = self.checkpoint_every
        for scope, n in counts.items():
            moves = w.moves.get(scope, 0)
            w.moves[scope] = moves + n
            if (moves + n) // every == moves // every:
                continue
            v = w.valuations[scope]
            if scope in replays or isinstance(v, MonthlyScope):
                continue  # replayed tails checkpoint later; monthly scopes need none
            span, rows = every, v.state_rows()
            while span < rows:
                span *= 2
            if (moves + n) // span == moves // span:
                continue
            state = v.to_state()
            if state.get("shortages"):
                continue
            # the position after everything this posting wrote to the scope, cost entries too
            e = max((x for x in entries if (x.item, "*" if org else x.warehouse) == scope),
                    key=lambda x: (x.posted_at, x.entry_no))
            w.uow.checkpoints.put(scope, e.posted_at, e.entry_no, state)

    @staticmethod
    def _entry_count(plans: list[tuple[int, StockLine, Item, list[tuple[str, str, Decimal]]]],
                     transfer_to: str | None) -> int:
        n = sum(len(parts) for _, _, _, parts in plans)
        return n * 2 if transfer_to is not None else n

    def _validate(
        self, w: _Work, line_no: int, line: StockLine
    ) -> tuple[int, StockLine, Item, list[tuple[str, str, Decimal]]]:
        try:
            item = w.items.get(line.item) or w.item(line.item)
            wh = w.warehouses.get(line.warehouse) or w.warehouse(line.warehouse)
        except TypeError:  # unhashable (a list): not a code, refused naming the field
            item, wh = w.item(line.item), w.warehouse(line.warehouse)
        direction = line.direction
        if direction not in (IN, OUT):
            raise JxcError("configuration", reason=f"direction must be in or out: {line.direction}",
                           reason_zh=f"方向须为 in 或 out：{line.direction}")
        if type(line.line_no) is not int or not 0 <= line.line_no <= MAX_LINE_NO:
            _check_line_no(line.line_no)
        q = line.quantity
        if type(q) is not Decimal or not q.is_finite() or q <= 0 or q >= MAX_MAGNITUDE:
            q = check_quantity(q, "quantity")
        unit: str | None = line.unit
        if unit is None and not item.quantity_digits:  # the common case of Item.to_base:
            whole = q.quantize(_WHOLE)  # whole pieces of the base unit, written as such
            qty = whole if whole == q else item.to_base(q, unit)
        else:
            qty = item.to_base(q, unit)
        lot_code, location = line.lot, line.location
        if (type(lot_code) is not str or type(location) is not str
                or not lot_code.isascii() or not location.isascii()):
            check_text(line.lot, "lot")  # memory kept a None, then failed every read
            check_text(line.location, "location")
        if location and wh.locations and location not in wh.locations:
            raise NotFoundError(kind="location", key=f"{wh.code}/{location}")
        serials = line.serials
        if serials:
            _check_serials(item, line_no, serials)
        if item.serial_tracked and len(serials) != qty:
            raise JxcError("serial_count", item=item.code, count=len(serials), quantity=qty)
        if direction == IN:
            if line.value is None:
                cost = line.unit_cost if line.unit_cost is not None else ZERO
                if (type(cost) is not Decimal or not cost.is_finite() or cost < 0
                            or cost >= MAX_MAGNITUDE):
                    # refused, or an int or subclass
                    cost = check_amount(cost, "unit_cost", MAX_MAGNITUDE)
                if qty is not q and qty != line.quantity:
                    # the price is per the unit given: value the line in that unit
                    line = attrs.evolve(line, value=round_money(multiply(line.quantity, cost),
                                                                self.currency_digits))
            else:
                check_amount(line.value, "value")
            if item.lot_tracked and not lot_code:
                raise JxcError("lot_missing", item=item.code)
            if line.expiry is not None:
                _check_expiry(line.expiry)
            if line.lot:
                lot = w.uow.master.get_lot(item.code, line.lot)
                if lot is None:
                    w.uow.master.put_lot(Lot(item.code, line.lot, line.expiry))
                elif line.expiry is not None and lot.expiry != line.expiry:
                    raise JxcError("configuration",
                                   reason=f"lot {line.lot} of {item.code} has expiry {lot.expiry}",
                                   reason_zh=f"商品 {item.code} 的批次 {line.lot} "
                                             f"有效期为 {lot.expiry}")
            return line_no, line, item, [(lot_code, location, qty)]
        if lot_code and line.kind not in EXPIRED_LOT_KINDS:  # a sale: never an expired lot
            lot = w.uow.master.get_lot(item.code, line.lot)
            if lot is not None and not lot_usable(lot, w.now.date()):
                raise JxcError("lot_expired", item=item.code, lot=line.lot, expiry=lot.expiry)
        # the row named; a lot or a location left open is picked by _check_stock
        return line_no, line, item, [(lot_code, location, qty)]

    def _check_history(
        self, w: _Work, plans: list[tuple[int, StockLine, Item, list[tuple[str, str, Decimal]]]],
        when: dt.datetime,
    ) -> None:
        """A back-dated posting that takes stock (negative stock forbidden): what it takes from
        had the units then and keeps enough through every later movement. The replay of the
        scope's valuation sees the stock of its scope only, so this checks what it cannot:

        * costed by organisation, the warehouse: one scope replays the stock of every
          warehouse together, so a warehouse that was empty then passed (its history went to
          -5, costed at another one's layer);
        * always, each row (location, lot) taken from: a lot received only later, or a
          location filled later, was taken below zero (its running quantity -2, costed from
          another lot's layer). Cancelled issues and their cancellations that a replay passes
          over (:func:`_void_pairs`) are passed over here too, found alike (a warehouse
          costed alone: from the quantity it had then, as its replay starts from); costed by
          organisation, by their quantities alone (``moved_only``: a transfer inside the one
          scope moves no value, so its leg out and its way back need not net to zero in
          value).

        Back-dated means before the scope's latest costed movement; the work is proportional to
        the later entries of the warehouse, as the replay's."""
        # the common case first: nothing taken (a receipt), or taken now, after the latest
        # costed movement of every scope it takes from
        seen: set[tuple[str, str]] = set()  # each (item, warehouse) once: lines share them
        for _, line, item, _ in plans:
            if line.direction == OUT:
                pair = (item.code, line.warehouse)
                if pair not in seen:
                    seen.add(pair)
                    if self._backdated(w, item, line.warehouse, when):
                        break
        else:
            return
        #: per (item, warehouse): what the posting takes from each row (location, lot), net
        taken: dict[tuple[str, str], dict[tuple[str, str], Decimal]] = {}
        for _, line, item, parts in plans:
            if w.allows_negative(item, line.warehouse):
                continue
            rows = taken.setdefault((item.code, line.warehouse), {})
            sign = 1 if line.direction == OUT else -1
            for lot, location, qty in parts:
                rows[(location, lot)] = rows.get((location, lot), ZERO) + sign * qty
        later: dict[tuple[str, str], list[LedgerEntry]] = {}
        for (code, wh), rows in taken.items():
            if any(q > 0 for q in rows.values()):
                found = self._later(w, w.items[code], wh, when)
                if found:
                    later[(code, wh)] = found
        #: per (item, warehouse) the entries passed over, for both checks below. A warehouse
        #: costed alone is its scope: the pairs are found as its replay finds them, from the
        #: quantity it had where the later entries start (:func:`_void_pairs`, ``start``);
        #: costed by organisation its replay counts every warehouse, so that is not known here
        voids = {
            key: _void_pairs(
                found, moved_only=self.organisation_scope, charges=self._sent_shares(w, found),
                start=None if self.organisation_scope
                else self._on_hand(w, *key) - sum((e.quantity for e in found), ZERO),
                settled_nothing=self._settled_nothing(w, w.items[key[0]], key[1]))[0]
            for key, found in later.items()}
        if self.organisation_scope:
            for (code, wh), found in later.items():
                out = sum(taken[(code, wh)].values(), ZERO)
                lowest = _lowest(self._on_hand(w, code, wh), found, voids[(code, wh)])
                if out > 0 and lowest < out:
                    have = max(lowest, ZERO)
                    raise InsufficientStockError(item=code, warehouse=wh, needed=out,
                                                 on_hand=have, short=out - have)
        for (code, wh), found in later.items():
            void = voids[(code, wh)]
            group = w.group(code, wh)
            for (location, lot), out in taken[(code, wh)].items():
                if out <= 0:
                    continue
                row = group.get((location, lot))
                lowest = _lowest(row.on_hand if row is not None else ZERO,
                                 [e for e in found if e.location == location and e.lot == lot],
                                 void)
                if lowest < out:
                    have = max(lowest, ZERO)
                    where = {k: v for k, v in (("lot", lot), ("location", location)) if v}
                    raise InsufficientStockError(item=code, warehouse=wh, needed=out,
                                                 on_hand=have, short=out - have, **where)

    def _settled_nothing(self, w: _Work, item: Item, warehouse: str) -> bool:
        """Whether no receipt line of the scope of ``item`` in ``warehouse`` (a warehouse
        costed alone, not by specific lot) ever settled a shortage: the scope has no
        :data:`_SETTLED_SCOPES` marker, written with the first such record, as posted or as
        replayed (:func:`_void_pairs`, ``settled_nothing``). Costed by organisation a
        transfer's arrival settles without a record of the scope, so this is never known
        there."""
        if self.organisation_scope or item.costing_method == "specific_lot":
            return False
        return not w.uow.records.get(_SETTLED_SCOPES, _scope_marker(item.code, warehouse))

    @staticmethod
    def _sent_shares(w: _Work, entries: Sequence[LedgerEntry]) -> _Shares:
        """The shares the charges of ``entries`` sent on with transfer lines
        (:func:`_void_pairs`, ``charges``)."""
        found: _Shares = {}
        for e in entries:
            if e.kind == "landed_cost" and not e.quantity:
                cost = w.uow.records.get(_RECEIPT_COST, str(e.entry_no))
                shares = None if cost is None else _shares_of(cost)
                if shares:
                    found[e.entry_no] = shares
        return found

    @staticmethod
    def _later(w: _Work, item: Item, warehouse: str, when: dt.datetime
               ) -> list[LedgerEntry] | None:
        """The entries of ``item`` in ``warehouse`` after ``when``, if a posting at ``when`` is
        back-dated (before its scope's latest costed movement); else None: the stock check of
        now was enough. Moments of the other kind (naive against aware) are refused later."""
        if not Jxc._backdated(w, item, warehouse, when):
            return None
        return w.uow.ledger.after(item.code, warehouse, when, 1 << 62)

    @staticmethod
    def _backdated(w: _Work, item: Item, warehouse: str, when: dt.datetime) -> bool:
        """Whether a posting at ``when`` comes before the latest costed movement of the scope
        of ``item`` in ``warehouse`` (of the same kind of moment: naive against aware is
        refused later)."""
        scope = w.scope(item, warehouse)
        w.valuation(item, warehouse, scope)  # loads the scope's position
        until = w.posted_until.get(scope)
        return (until is not None and (until.tzinfo is None) == (when.tzinfo is None)
                and when < until)

    def _on_hand(self, w: _Work, item: str, warehouse: str) -> Decimal:
        return sum((b.on_hand for b in w.group(item, warehouse).values()), ZERO)

    def _check_stock(
        self, w: _Work, plans: list[tuple[int, StockLine, Item, list[tuple[str, str, Decimal]]]],
        exact_rows: bool = False, undo: bool = False,
    ) -> None:
        """Pick the balance rows of the out lines (their parts in ``plans`` are replaced by
        the rows taken, see :class:`_Pick`; with ``exact_rows`` each takes the row it names),
        then refuse every out line that would take what is not free, all at once.

        Per (item, warehouse) the lines of a posting together, per lot and (negative stock
        forbidden) per row: no more than is free (usable on hand less the reservations and
        holds of the warehouse and of the lot) plus the reservations the lines consume: a line
        for a demand consumes that demand's reservations, each counted once, and the stock
        check credits exactly those. Negative stock allowed: beyond that too, except while on
        hand covers claims of others (:meth:`_Pick.short`). ``undo`` (a document's
        cancellation): an out line may also take what the posting's earlier in lines put back
        on its row."""
        # per (item, warehouse), in the order of the lines: its _Pick, or, in the common case
        # that _Pick.only stands for (one row without a lot, nothing reserved, every line so
        # far naming that row), [row key, quantity taken, item] without a _Pick
        picks: dict[tuple[str, str], _Pick | list[Any]] = {}
        #: a document's cancellation (``undo``): what its in lines put back on each row so
        #: far, which its later out lines may take (a document that added and removed the
        #: same stock, undone last line first: the removal's units are back before the
        #: addition leaves). A posting's out lines take from the stock before it otherwise
        back: dict[tuple[str, str, str, str], Decimal] | None = {} if undo else None
        for n, (line_no, line, item, parts) in enumerate(plans):
            if line.direction != OUT:
                if back is not None:
                    for lot, location, q in parts:
                        row_key = (item.code, line.warehouse, location, lot)
                        back[row_key] = back.get(row_key, ZERO) + q
                continue
            key = (item.code, line.warehouse)
            qty = parts[0][2] if len(parts) == 1 else sum((q for _, _, q in parts), ZERO)
            use = None  # of what the cancellation's earlier lines put back on its row
            if back and len(parts) == 1:
                row_key = (item.code, line.warehouse, parts[0][1], parts[0][0])
                found = min(back.get(row_key, ZERO), qty)
                if found > 0:
                    back[row_key] -= found
                    use = found
            pick = picks.get(key)
            if pick is None:
                rows = w.group(item.code, line.warehouse)
                if len(rows) == 1 and not w.active_reservations(item.code, line.warehouse):
                    row = next(iter(rows))
                    if not row[1]:
                        pick = picks[key] = [row, ZERO, item]
                if pick is None:
                    pick = picks[key] = _Pick(w, item, line.warehouse)
            if type(pick) is list:
                if (line.location, line.lot) == pick[0]:
                    pick[1] += qty if use is None else qty - use
                    continue
                taken_so_far = pick[1]  # from here on as _Pick picks, with what was taken
                pick = picks[key] = _Pick(w, item, line.warehouse)
                pick.only_taken = taken_so_far
            assert isinstance(pick, _Pick)
            # taking what was put back on its row: that row, as the line names it
            taken = pick.take(line, qty, parts, exact_rows if use is None else True)
            if use is not None:
                pick.give_back(parts[0][1], parts[0][0], use)
            if taken is not parts:
                plans[n] = (line_no, line, item, taken)
        short: list[ShortLine] = []
        for key, pick in picks.items():
            if type(pick) is list:  # _Pick.short of its one row
                b = w.group(*key)[pick[0]]
                have = max(b.on_hand - b.held, ZERO)
                wanted: Decimal = pick[1]
                if wanted > have and (not w.allows_negative(pick[2], key[1])
                                      or (b.held > 0 and b.on_hand > 0)):
                    short.append(ShortLine(key[0], key[1], wanted, have))
            else:
                assert isinstance(pick, _Pick)
                short += pick.short()
        if short:
            s = short[0]
            where = {k: v for k, v in (("lot", s.lot), ("location", s.location)) if v}
            raise InsufficientStockError(
                item=s.item, warehouse=s.warehouse, needed=s.wanted, on_hand=s.available,
                short=s.short, lines=[x.to_data() for x in short], **where,
            )

    def _available(self, w: _Work, item: str, warehouse: str, lot: str = "") -> Decimal:
        """Free of (item, warehouse), or of one lot of it (no more than the warehouse's):
        usable on hand less the active reservations and holds (:class:`FreeStock`); a
        reservation or hold of an expired lot, or beyond its lot's stock, takes nothing from
        the other lots. An expired lot has nothing free."""
        group = w.group(item, warehouse)
        res = w.active_reservations(item, warehouse)
        if len(group) == 1 and not lot:  # the common case: one row without a lot
            b = next(iter(group.values()))
            if not b.lot and not any(r.lot for r in res):
                total = b.on_hand - b.held
                return total - sum((r.quantity for r in res), ZERO) if res else total
        rows = list(group.values())
        lots = w.lots_of(item, rows) if any(b.lot for b in rows) else {}
        free = free_stock(rows, lots, res, w.now.date())
        total = free.total()
        return min(total, free.lot(lot)) if lot else total

    def _expired_free(self, w: _Work, item: str, warehouse: str, lot: str) -> Decimal | None:
        """Free in ``lot`` when it has expired (None when it has not, or no lot is named):
        its on hand at every location less the holds on its rows and the active reservations
        naming it — what an out line naming it may take (``_Pick.stale``)."""
        if not lot:
            return None
        if lot_usable(w.uow.master.get_lot(item, lot), w.now.date()):
            return None
        rows = [b for b in w.group(item, warehouse).values() if b.lot == lot]
        res = [r for r in w.active_reservations(item, warehouse) if r.lot == lot]
        return free_stock(rows, {}, res, w.now.date()).lot(lot)

    def _lot_free(self, w: _Work, item: str, warehouse: str, lot: str) -> Decimal:
        """Free in ``lot`` for a count's freeze: :meth:`_expired_free` of an expired lot,
        else :meth:`_available`."""
        stale = self._expired_free(w, item, warehouse, lot)
        return stale if stale is not None else self._available(w, item, warehouse, lot)

    def _consume_reservations(self, w: _Work, line: StockLine, item: str, lot: str,
                              qty: Decimal) -> None:
        """The reservations of the line's demand that ``qty`` taken from ``lot`` uses up: those
        naming the lot, then those without one (:func:`consumption_order`, the order the stock
        check counted them in)."""
        if line.demand is None:
            return
        left = qty
        active = w.active_reservations(item, line.warehouse)
        used: list[tuple[Reservation, Decimal]] = []
        for r in consumption_order(active, line.demand, lot):
            if left <= 0:
                break
            take = min(left, r.quantity)
            left -= take
            n = active.index(r)
            if take == r.quantity:
                del active[n]
                w.uow.reservations.remove(r.reservation_id)
            else:
                smaller = attrs.evolve(r, quantity=r.quantity - take)
                w.uow.reservations.replace(smaller)
                active[n] = smaller
            used.append((r, take))
        if used:
            _released_event(w, line.demand, "consumed", used)

    def _serials(self, w: _Work, line: StockLine, item: Item, transfer_to: str | None,
                 doc_type: str, doc_id: str, reverses: str | None) -> None:
        """Each serial number at most once on hand: in needs it absent, out needs it here.
        The line's move of each is recorded; a cancellation (``reverses``) takes back its
        document's, refused when the serial moved on since (:meth:`_serial_moved_on`)."""
        for serial in line.serials:
            where = w.uow.serials.where(item.code, serial)
            if line.direction == IN:
                if where is not None:
                    raise JxcError("serial_on_hand", item=item.code, serial=serial,
                                   warehouse=where)
            elif where != line.warehouse:
                raise JxcError("serial_not_on_hand", item=item.code, serial=serial,
                               warehouse=line.warehouse)
            self._serial_moves(w, item.code, serial, doc_type, doc_id, reverses)
            w.uow.serials.set(item.code, serial,
                              line.warehouse if line.direction == IN else transfer_to)

    @staticmethod
    def _serial_moved_on(w: _Work, line: StockLine, serial: str, doc_type: str,
                         reverses: str) -> None:
        """Refuse the cancellation of ``reverses`` when ``serial`` (of ``line``, one of the
        cancellation's lines) moved on after it: the last move recorded for the serial
        (:data:`_SERIAL_MOVES`) is another document's (a delivery and a return since, a
        transfer away and back, a location move), even when the serial happens to be where
        the document left it. ``reversal_impossible`` naming the serial and that document
        (``moved_by``, ``moved_by_type``); ``warehouse`` is where the serial is, or (not on
        hand) the warehouse of the line. The later document is cancelled first. A serial
        whose moves were never recorded (a store written before they were) is not refused
        here: the checks of where it is stay."""
        found = w.uow.records.get(_SERIAL_MOVES, f"{line.item}{_SEP}{serial}")
        if not found or not found["moves"]:
            return
        last_type, last_id = found["moves"][-1]
        if (last_type, last_id) == (doc_type, reverses):
            return
        where = w.uow.serials.where(line.item, serial)
        raise JxcError(
            "reversal_impossible", doc_id=reverses, item=line.item, serial=serial,
            warehouse=line.warehouse if where is None else where,
            moved_by=last_id, moved_by_type=last_type,
            reason=f"serial number {serial} of {line.item} moved on after it: {last_type} "
                   f"{last_id} moved it since; cancel {last_id} first",
            reason_zh=f"{line.item} 的序列号 {serial} 此后又被 {last_type} {last_id} 移动："
                      f"请先红冲 {last_id}")

    @staticmethod
    def _serial_moves(w: _Work, item: str, serial: str, doc_type: str, doc_id: str,
                      reverses: str | None) -> None:
        """Record a move of ``serial`` by ``doc_id`` (one record per serial: its moves,
        oldest first, :data:`_SERIAL_MOVES`), or, for the cancellation of ``reverses``,
        take that document's move off the end (checked before by :meth:`_serial_moved_on`;
        a serial whose moves were never recorded has none to take off)."""
        key = f"{item}{_SEP}{serial}"
        found = w.uow.records.get(_SERIAL_MOVES, key)
        moves: list[list[str]] = list(found["moves"]) if found else []
        if reverses is None:
            moves.append([doc_type, doc_id])
        elif moves and moves[-1] == [doc_type, reverses]:
            moves.pop()
        else:
            return
        w.uow.records.put(_SERIAL_MOVES, key, {"moves": moves})

    def _events_after_posting(
        self, w: _Work, doc_type: str, doc_id: str, entries: list[LedgerEntry],
        before: dict[tuple[str, str], Decimal],
        adjustments: list[tuple[str, str, CostAdjustment]],
    ) -> None:
        w.event("stock_changed", {
            "doc_type": doc_type, "doc_id": doc_id,
            "lines": [[e.item, e.warehouse, e.lot, str(e.quantity), str(e.value)]
                      for e in entries],
        })
        self._low_stock_events(w, before)
        for item_code, wh, a in adjustments:
            w.event("cost_adjusted", {"item": item_code, "warehouse": wh, **a.to_data()})

    def _low_stock_events(self, w: _Work, before: dict[tuple[str, str], Decimal]) -> None:
        """``below_safety_stock`` / ``below_reorder_point`` for each (item, warehouse) of
        ``before`` (its on hand before the posting) whose on hand now crossed the level."""
        for (item_code, wh), old in before.items():
            item = w.items[item_code]
            new = self._on_hand(w, item_code, wh)
            levels = item.levels_in(wh)
            for level_name, level in (("below_safety_stock", levels.safety_stock),
                                      ("below_reorder_point", levels.reorder_point)):
                if level is not None and new < level <= old:
                    w.event(level_name, {"item": item_code, "warehouse": wh,
                                         "on_hand": str(new), "level": str(level)})

    # -- reservations ---------------------------------------------------------------------------
    def reserve(
        self,
        lines: Sequence[ReserveLine],
        *,
        partial: bool = True,
        expires_at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> ReservationResult:
        """Reserve each line (锁库). Never more than available.

        ``partial=True`` grants what is available and reports the short lines (and a
        ``reservation_short`` event); ``partial=False`` grants nothing when any line is short
        and raises :class:`ReservationShortError` listing every short line. ``expires_at``
        makes soft reservations that lapse by themselves: a ``datetime.datetime`` after the
        service clock's now (else ``invalid_date``, ``expiry_not_in_future``), naive or aware
        as that now is (else ``timezone_mismatch``); an aware one is kept in UTC. A refusal
        reserves nothing.

        ``lines`` is a list or tuple of :class:`ReserveLine` (a tuple of its fields is
        ``TypeError`` naming ``lines[i]``); ``partial`` a bool (else ``TypeError``).
        """
        expires = _optional_moment(expires_at, "expires_at")
        check_bool(partial, "partial")
        check_list_of(lines, ReserveLine, "lines")
        for line in lines:
            check_text(line.demand, "demand")
            check_text(line.lot, "lot")
        payload = (list(lines), partial, expires)

        def body(w: _Work) -> ReservationResult:
            return self._reserve(w, lines, partial, expires)

        result: ReservationResult = self._run(
            "reserve", payload, idempotency_key, body,
            ReservationResult.to_data, ReservationResult.from_data)
        return result

    def _wanted(self, w: _Work, lines: Sequence[ReserveLine], floor: bool = True
                ) -> tuple[list[tuple[int, Decimal, Decimal]], list[Decimal]]:
        """Each line's (index, wanted, available to it) in base units, and the wanted ones:
        a line is available what the earlier lines of the same item and warehouse (and lot)
        left, as they would take it (all they want, at most what was there). Unknown item
        or warehouse ``not_found``; a bad quantity ``invalid_quantity``; a unit with no exact
        conversion ``unit_conversion_inexact`` / ``unknown_unit``. ``floor=False``: what is
        available may be below 0 (negative stock), as the balance shows it."""
        wanted: list[tuple[int, Decimal, Decimal]] = []
        taken: dict[tuple[str, str, str], Decimal] = {}
        taken_all: dict[tuple[str, str], Decimal] = {}
        bases: list[Decimal] = []
        for i, line in enumerate(lines):
            item = w.item(line.item)
            w.warehouse(line.warehouse)
            qty = item.to_base(check_quantity(line.quantity, "quantity"), line.unit)
            bases.append(qty)
            avail_all = self._available(w, item.code, line.warehouse) - taken_all.get(
                (item.code, line.warehouse), ZERO)
            avail = avail_all
            if line.lot:
                avail = min(avail_all, self._available(w, item.code, line.warehouse,
                            line.lot) - taken.get((item.code, line.warehouse, line.lot),
                                                  ZERO))
            if floor:
                avail = max(avail, ZERO)
            wanted.append((i, qty, avail))
            got = max(min(qty, avail), ZERO)
            taken_all[(item.code, line.warehouse)] = taken_all.get(
                (item.code, line.warehouse), ZERO) + got
            if line.lot:
                k = (item.code, line.warehouse, line.lot)
                taken[k] = taken.get(k, ZERO) + got
        return wanted, bases

    def _short(self, w: _Work, lines: Sequence[ReserveLine], partial: bool = True
               ) -> tuple[dict[int, Decimal], list[ShortLine]]:
        """What :func:`plan_reservations` grants each line (by index) and the lines it
        finds short, as :class:`ShortLine`; reserves nothing (:meth:`_reserve` does, and a
        sales order approved with ``reserve_on_approve=False`` only checks)."""
        wanted, bases = self._wanted(w, lines)
        grant, short_idx = plan_reservations(wanted, partial)
        return grant, [ShortLine(lines[i].item, lines[i].warehouse, bases[i], wanted[i][2],
                                 lines[i].lot, demand=lines[i].demand) for i in short_idx]

    def _reserve(self, w: _Work, lines: Sequence[ReserveLine], partial: bool,
                 expires_at: dt.datetime | None) -> ReservationResult:
        if expires_at is not None:
            expires_at = _moment(expires_at, "expires_at")
            _same_awareness(expires_at, w.now, "expires_at")
            if expires_at <= w.now:  # it would be granted and lapse at once
                raise JxcError("expiry_not_in_future", expires_at=expires_at.isoformat(),
                               now=w.now.isoformat())
        grant, short = self._short(w, lines, partial)
        if short and not partial:
            raise ReservationShortError(short)
        made: list[Reservation] = []
        first = w.uow.sequences.next("reservation", max(1, len(grant)))
        for n, (i, qty) in enumerate(sorted(grant.items())):
            line = lines[i]
            r = Reservation(f"R{first + n}", line.item, line.warehouse, line.lot,
                            line.demand, qty, expires_at)
            w.uow.reservations.add(r)
            w.forget_reservations(r.item, r.warehouse)
            made.append(r)
        if made:
            w.event("stock_reserved", {"reservations": [_reservation_data(r) for r in made]})
        if short:
            w.event("reservation_short", {"lines": [s.to_data() for s in short]})
        return ReservationResult(
            tuple(grant.get(i, ZERO) for i in range(len(lines))), tuple(made), tuple(short)
        )

    def release(self, demand: str, *, idempotency_key: str | None = None) -> Decimal:
        """Release every reservation of ``demand`` (cancel); returns the quantity released:
        what was actively reserved for it (base units). Soft reservations that had already
        lapsed are removed too but count for nothing: their stock was free already.
        ``demand`` is a str (else ``TypeError``)."""
        check_text(demand, "demand")

        def body(w: _Work) -> Decimal:
            return self._release(w, demand)

        result: Decimal = self._run("release", demand, idempotency_key, body,
                                    lambda d: {"q": str(d)}, lambda d: Decimal(d["q"]))
        return result

    def purge_lapsed_reservations(self, *, idempotency_key: str | None = None) -> int:
        """Remove every soft reservation that has lapsed (``expires_at`` at or before the
        service clock's now) from storage; returns how many were removed. A lapsed
        reservation already counted for nothing (every read and check ignores it), so no
        balance changes and no event is recorded; hard reservations and soft ones still
        active stay. A job for the host to run now and then (nightly, say): lapsed records
        otherwise stay until their demand is released. One unit of work; ``idempotency_key``
        as for every command (the same key again returns the first count, removing
        nothing)."""

        def body(w: _Work) -> int:
            now = w.now
            lapsed = [r for r in w.uow.reservations.all() if not r.active(now)]
            for r in sorted(lapsed, key=lambda r: r.reservation_id):
                w.uow.reservations.remove(r.reservation_id)
                w.forget_reservations(r.item, r.warehouse)
            return len(lapsed)

        result: int = self._run("purge_lapsed_reservations", None, idempotency_key, body,
                                lambda n: {"n": n}, lambda d: int(d["n"]))
        return result

    @staticmethod
    def _release(w: _Work, demand: str) -> Decimal:
        total = ZERO
        now = w.now
        gone: list[tuple[Reservation, Decimal]] = []
        for r in w.uow.reservations.for_demand(demand):
            w.uow.reservations.remove(r.reservation_id)
            w.forget_reservations(r.item, r.warehouse)
            if r.active(now):
                total += r.quantity
                gone.append((r, r.quantity))
        if gone:  # (lapsed ones are purged, not released: their stock was free already)
            _released_event(w, demand, "released", gone)
        return total

    @staticmethod
    def _trim_reservations(w: _Work, demand: str, keep: Decimal) -> Decimal:
        """Cut the active reservations of ``demand`` so that together they hold at most
        ``keep`` (what its order line still needs), the last made first; returns what was
        released. A delivery from another warehouse (or lot) than the reserved one uses this:
        it cannot consume the reservation, which would outlive the order line's need."""
        active = [r for r in w.uow.reservations.for_demand(demand) if r.active(w.now)]
        excess = sum((r.quantity for r in active), ZERO) - max(keep, ZERO)
        released = ZERO
        cut: list[tuple[Reservation, Decimal]] = []
        for r in reversed(active):
            if excess <= 0:
                break
            take = min(excess, r.quantity)
            if take == r.quantity:
                w.uow.reservations.remove(r.reservation_id)
            else:
                w.uow.reservations.replace(attrs.evolve(r, quantity=r.quantity - take))
            w.forget_reservations(r.item, r.warehouse)
            excess -= take
            released += take
            cut.append((r, take))
        if cut:
            _released_event(w, demand, "trimmed", cut)
        return released

    def hold(self, item: str, warehouse: str, quantity: Decimal, *, lot: str = "",
             location: str = "", idempotency_key: str | None = None) -> None:
        """Freeze quantity (quality hold, count freeze); negative ``quantity`` releases.

        ``idempotency_key``: the same key with the same item, warehouse, quantity, lot and
        location again does nothing (the first call froze it); with any of them different it
        is ``idempotency_conflict``, nothing written.

        ``location``: the hold is on that row, so it takes no more than the row's on hand
        less what it already holds (``insufficient_stock`` naming the location), and the
        location must be one of the warehouse's when it lists them (``not_found``). Without
        a location the hold is on the warehouse's row of the lot without a location and takes
        what is available in the warehouse (the freeze of a count of a whole warehouse).
        ``lot`` and ``location`` are texts (``TypeError`` otherwise, as for a float quantity).
        ``quantity`` carries the precision of the item's base unit (``quantity_digits``):
        a finer one (0.5 of a pieces item) is ``unit_conversion_inexact``, nothing held.
        """
        check_text(lot, "lot")
        check_text(location, "location")

        def body(w: _Work) -> None:
            house = w.warehouse(warehouse)
            if location and house.locations and location not in house.locations:
                raise NotFoundError(kind="location", key=f"{warehouse}/{location}")
            # a hold carries the precision of the item's base unit, as reserve and receive
            # do: 0.5 of a pieces item is unit_conversion_inexact (DOMAIN 1), nothing held
            qty = w.item(item).to_base(check_number(quantity, "quantity", MAX_MAGNITUDE),
                                       None)
            self._hold(w, item, warehouse, qty, lot, location)

        payload = (item, warehouse, quantity, lot, location)
        self._run("hold", payload, idempotency_key, body, lambda _: {}, lambda _: None)

    def _hold(self, w: _Work, item: str, warehouse: str, quantity: Decimal, lot: str = "",
              location: str = "", *, expired: bool = False, count: bool = False) -> None:
        """Hold ``quantity`` on a row (negative: release it), no more than is free
        (:meth:`_available`: an expired lot has nothing free). ``expired``: a hold naming an
        expired lot may take what is free in that lot (:meth:`_expired_free`) — a count
        freezes the expired stock it counts, so that nothing moves it during the count.
        ``count``: the freeze of a stock count, or its release, kept apart
        (:data:`_COUNT_HOLDS`); any other release takes no more than the row holds apart
        from counts (``hold_release_exceeded``): released from outside, the count's freeze let
        stock move during the count, and the count could then neither post nor be cancelled
        (its release found less held than it froze)."""
        w.item(item)
        w.warehouse(warehouse)
        check_number(quantity, "quantity")
        b = w.row(item, warehouse, location, lot)
        if quantity < 0 or count:
            key = _SEP.join((item, warehouse, location, lot))
            found = w.uow.records.get(_COUNT_HOLDS, key)
            frozen = Decimal(found["held"]) if found else ZERO
            if quantity < 0 and -quantity > b.held - (ZERO if count else frozen):
                raise JxcError("hold_release_exceeded", item=item, warehouse=warehouse,
                               location=location, lot=lot, quantity=-quantity, held=b.held,
                               frozen=frozen)
            if count:  # (a count of an earlier version froze without a record: none below 0)
                w.uow.records.put(_COUNT_HOLDS, key,
                                  {"held": str(max(ZERO, frozen + quantity))})
        if quantity > 0 and location and quantity > b.on_hand - b.held:
            # a hold on a row holds units of that row: no more than it has free
            free = max(ZERO, b.on_hand - b.held)
            raise InsufficientStockError(item=item, warehouse=warehouse, needed=quantity,
                                         on_hand=free, short=quantity - free, lot=lot,
                                         location=location)
        if quantity > 0:
            stale = self._expired_free(w, item, warehouse, lot) if expired else None
            available = (stale if stale is not None
                         else self._available(w, item, warehouse, lot))
            if quantity > available:
                raise InsufficientStockError(item=item, warehouse=warehouse,
                                             needed=quantity, on_hand=available,
                                             short=quantity - available)
        w.set_row(attrs.evolve(b, held=b.held + quantity))
        if quantity:
            w.event("stock_held" if quantity > 0 else "hold_released", {
                "item": item, "warehouse": warehouse, "lot": lot, "location": location,
                "quantity": str(abs(quantity)), "held": str(b.held + quantity)})

    # -- queries ----------------------------------------------------------------------------
    def balance(self, item: str, warehouse: str | None = None, *, lot: str | None = None,
                as_of: dt.datetime | None = None) -> StockBalance:
        """Aggregated balance of ``item`` in ``warehouse`` (or every warehouse) with its value.

        ``as_of``: quantity and value only, at that moment: the snapshot of the last closed
        month before it plus the ledger entries after the snapshot (see :meth:`_as_of`). A
        ``datetime.datetime`` (a date, a str, a number: ``invalid_date``, field ``as_of``).
        ``item`` is a str, ``warehouse`` and ``lot`` ``None`` or a str (else ``TypeError``).
        """
        _check_optional_texts(warehouse=warehouse, lot=lot)
        if as_of is not None:  # a datetime.datetime, as posted_at (else invalid_date)
            as_of = _moment(as_of, "as_of")
        if self.organisation_scope and warehouse == "*":
            warehouse = None  # the organisation, as the "*" row of stock_balances
        with self.storage.unit_of_work() as uow:
            w = _Work(self, uow)
            w.item(item)
            if as_of is not None:
                if self.organisation_scope and warehouse is not None and lot is None:
                    quantities, values, _ = self._values_at(uow, w.item(item), as_of)
                    q = quantities.get(warehouse, ZERO)
                    v = values.get(warehouse, ZERO).quantize(
                        money_quantum(self.currency_digits))
                else:
                    q, v = self._as_of(uow, item, warehouse, lot, as_of,
                                       self.organisation_scope)
                return StockBalance(item, warehouse or "*", q, ZERO, ZERO, ZERO, ZERO, v)
            return self._balance_in(w, item, warehouse, lot)

    def stock_balances(self) -> list[StockBalance]:
        """The balance of every item in every warehouse where it has a balance row, with its
        value, as :meth:`balance` gives each, read in one unit of work (one consistent view):
        the stock valuation (库存余额表) to set against the inventory account, whose ``value``
        add up to it. Costed by organisation (``organisation_scope``) the value is the
        item's, not a warehouse's: one row per item, warehouse ``"*"``. Sorted by item, then
        warehouse."""
        with self.storage.unit_of_work() as uow:
            return self._stock_balances(_Work(self, uow))

    def _stock_balances(self, w: _Work) -> list[StockBalance]:
        """:meth:`stock_balances` inside the unit of work of ``w``."""
        org = self.organisation_scope
        pairs = sorted({(b.item, "*" if org else b.warehouse) for b in w.uow.balances.all()})
        return [self._balance_in(w, item, None if org else wh, None) for item, wh in pairs]

    def _balance_in(self, w: _Work, item: str, warehouse: str | None, lot: str | None
                    ) -> StockBalance:
        uow = w.uow
        it = w.item(item)
        rows = uow.balances.for_item(item, warehouse)
        if lot is not None:
            rows = [b for b in rows if b.lot == lot]
        whs = sorted({b.warehouse for b in rows}) if warehouse is None else [warehouse]
        lots = w.lots_of(item, rows)
        today = w.now.date()
        reserved = uncovered = ZERO
        for wh in whs:
            res = [r for r in w.active_reservations(item, wh) if lot is None or r.lot == lot]
            reserved += sum((r.quantity for r in res), ZERO)
            uncovered += free_stock([b for b in rows if b.warehouse == wh], lots, res,
                                    today).uncovered
        unusable = sum((b.on_hand for b in rows if not lot_usable(lots.get(b.lot), today)),
                       ZERO)
        value = ZERO
        if lot is not None:
            value = self._lot_value(w, it, whs, lot, rows)
        elif self.organisation_scope and warehouse is not None:
            value = self._share_now(w, it, warehouse)
        else:
            for scope in {w.scope(it, wh) for wh in whs}:
                state = uow.valuations.get(scope)
                if state is not None:
                    value += valuation_from_state(state).value
        return StockBalance(
            item, warehouse or "*",
            sum((b.on_hand for b in rows), ZERO), reserved,
            sum((b.held for b in rows), ZERO), sum((b.on_order for b in rows), ZERO),
            sum((b.demand for b in rows), ZERO),
            value.quantize(money_quantum(self.currency_digits)), unusable, uncovered,
        )

    def _lot_value(self, w: _Work, item: Item, whs: list[str], lot: str,
                   rows: list[Balance]) -> Decimal:
        """The value of ``lot`` in ``whs``: its share of each costing scope's value.

        Specific identification: the lot is its own layer, so its value is exact (costed by
        organisation, the warehouses' share of the lot's layer by quantity). Any other method
        keeps no value per lot (FIFO layers follow receipts, not lots): the lot's on hand at
        the scope's unit cost, ``round_half_up(lot qty x scope value / scope qty)``, 0.00 when
        the scope has no positive quantity — the cost a move of the lot is shown at. A lot at
        quantity 0 is worth 0.00, and all of a scope's stock in one lot is worth exactly the
        scope's value. The lots of a scope may add up to its value give or take a cent of
        rounding each."""
        quantum = money_quantum(self.currency_digits)
        by_scope: dict[tuple[str, str], Decimal] = {}
        for b in rows:
            if b.lot == lot and b.warehouse in whs:
                scope = w.scope(item, b.warehouse)
                by_scope[scope] = by_scope.get(scope, ZERO) + b.on_hand
        total = ZERO
        for scope, qty in by_scope.items():
            if not qty:
                continue
            state = w.uow.valuations.get(scope)
            if state is None:
                continue
            v = valuation_from_state(state)
            if isinstance(v, SpecificLotValuation):
                lot_qty, lot_value = v.lot(lot)
            else:
                lot_qty, lot_value = v.quantity, v.value
            if lot_qty <= 0:
                continue
            total += (lot_value if qty == lot_qty else
                      DIVISION_CONTEXT.divide(qty * lot_value, lot_qty).quantize(
                          quantum, ROUND_HALF_UP))
        return total

    def _share_now(self, w: _Work, item: Item, warehouse: str) -> Decimal:
        """Costed by organisation: the value of ``item`` in ``warehouse`` now, its share of
        the scope's value by quantity (:func:`_warehouse_values`: under specific
        identification lot by lot; the warehouses add up to the scope's value, a warehouse at
        quantity 0 is 0.00)."""
        state = w.uow.valuations.get(w.scope(item, warehouse))
        if state is None:
            return ZERO
        v = valuation_from_state(state)
        specific = isinstance(v, SpecificLotValuation)
        rows: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        for b in w.uow.balances.for_item(item.code):
            key = (b.lot if specific else "", b.warehouse)
            q, _ = rows.get(key, (ZERO, ZERO))
            rows[key] = (q + b.on_hand, ZERO)
        placed = ZERO
        if isinstance(v, SpecificLotValuation):
            for lot in sorted({g for g, _ in rows}):
                lot_value = v.lot(lot)[1]
                rows[(lot, "*")] = (ZERO, lot_value)
                placed += lot_value
        rest = rows.get(("", "*"), (ZERO, ZERO))[1]
        rows[("", "*")] = (ZERO, rest + v.value - placed)
        return _warehouse_values(rows, money_quantum(self.currency_digits)).get(
            warehouse, ZERO)

    def _values_at(self, uow: UnitOfWork, item: Item, as_of: dt.datetime
                   ) -> tuple[dict[str, Decimal], dict[str, Decimal], Decimal]:
        """Costed by organisation, at ``as_of``: the quantity and value of each warehouse of
        ``item`` (its share of the scope's value, as :meth:`_share_now`) and the scope's
        value (the sum of its ledger: the value-only entries stand under ``"*"``). Under
        specific identification the lots are read from the ledger up to ``as_of``; else
        from the month-end snapshots on (:meth:`_as_of_rows`)."""
        rows: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        if item.costing_method == "specific_lot":
            if as_of.utcoffset() is not None:
                as_of = as_of.astimezone(dt.UTC)
            for e in uow.ledger.entries(item.code, None, as_of):
                if e.posted_at > as_of:
                    continue
                q, v = rows.get((e.lot, e.warehouse), (ZERO, ZERO))
                rows[(e.lot, e.warehouse)] = (q + e.quantity, v + e.value)
        else:
            whs = sorted({b.warehouse for b in uow.balances.for_item(item.code)} | {"*"})
            rows = {("", wh): qv for wh, qv in
                    self._as_of_rows(uow, item.code, whs, None, as_of).items()}
        quantities: dict[str, Decimal] = {}
        for (_, wh), (q, _) in rows.items():
            if wh != "*":
                quantities[wh] = quantities.get(wh, ZERO) + q
        total = sum((v for _, v in rows.values()), ZERO)
        return quantities, _warehouse_values(rows, money_quantum(self.currency_digits)), total

    @staticmethod
    def _as_of(uow: UnitOfWork, item: str, warehouse: str | None, lot: str | None,
               as_of: dt.datetime, org: bool = False) -> tuple[Decimal, Decimal]:
        """Quantity and value at ``as_of``: the snapshot of the last closed period before it
        plus that period's following ledger — never the whole history (月结 snapshots).

        Costed by organisation (``org``), the value-only entries of the item's one scope
        (cost settlements, back-dating corrections, month-end costs) stand under warehouse
        ``"*"``: they count in the item's total, not in any one warehouse's."""
        whs = [warehouse] if warehouse is not None else sorted(
            {b.warehouse for b in uow.balances.for_item(item)} | ({"*"} if org else set()))
        at = Jxc._as_of_rows(uow, item, whs, lot, as_of)
        return (sum((q for q, _ in at.values()), ZERO), sum((v for _, v in at.values()), ZERO))

    @staticmethod
    def _as_of_rows(uow: UnitOfWork, item: str, whs: Sequence[str], lot: str | None,
                    as_of: dt.datetime) -> dict[str, tuple[Decimal, Decimal]]:
        """:meth:`_as_of` of each warehouse of ``whs``: its ledger's sums (movements at the
        values they were posted at)."""
        if as_of.utcoffset() is not None:  # aware: compared with the moments kept in UTC
            as_of = as_of.astimezone(dt.UTC)
        ends = (uow.records.get("period", "closed") or {}).get("ends", [])
        end = max((e for e in ends if e <= as_of.isoformat()), default=None)
        out: dict[str, tuple[Decimal, Decimal]] = {}
        for wh in whs:
            q = v = ZERO
            since = None
            if end is not None and lot is None:
                snap = uow.records.get("snapshot", f"{end}|{item}|{wh}")
                if snap is not None:
                    q += Decimal(snap["quantity"])
                    v += Decimal(snap["value"])
                since = dt.datetime.fromisoformat(end)
            for e in uow.ledger.after(item, wh, since, 1 << 62):
                if e.posted_at > as_of:
                    break
                if lot is None or e.lot == lot:
                    q += e.quantity
                    v += e.value
            out[wh] = (q, v)
        return out

    def balances(self) -> list[Balance]:
        """Every detail balance row, with ``reserved`` filled from the active reservations.

        A reservation is shown on the first row of its (item, warehouse, lot); one with no
        such row (a reservation without a lot of a lot-tracked item, whose rows are per lot)
        on a row of its own with that lot and no location, on hand 0 — so that the rows add up
        to :meth:`balance` (reserved, available) of every item and warehouse."""
        with self.storage.unit_of_work() as uow:
            now = self.clock.now()
            res: dict[tuple[str, str, str], Decimal] = {}
            for r in uow.reservations.all():
                if r.active(now):
                    k = (r.item, r.warehouse, r.lot)
                    res[k] = res.get(k, ZERO) + r.quantity
            rows = [attrs.evolve(b, reserved=res.pop((b.item, b.warehouse, b.lot), ZERO))
                    if (b.item, b.warehouse, b.lot) in res else b for b in sorted(
                        uow.balances.all(), key=lambda b: (b.item, b.warehouse, b.location,
                                                           b.lot))]
            rows += [Balance(i, wh, "", lot, reserved=q) for (i, wh, lot), q in res.items()]
            return sorted(rows, key=lambda b: (b.item, b.warehouse, b.location, b.lot))

    def serial_warehouse(self, item: str, serial: str) -> str | None:
        """The warehouse that has the serial number ``serial`` of ``item`` on hand, or
        ``None`` (never received, or gone: delivered, returned to the supplier, written off).
        ``item`` and ``serial`` must be texts (``TypeError``)."""
        check_text(item, "item")
        check_text(serial, "serial")
        with self.storage.unit_of_work() as uow:
            return uow.serials.where(item, serial)

    def serials_in(self, item: str, warehouse: str, location: str | None = None
                   ) -> tuple[str, ...]:
        """The serial numbers of ``item`` on hand in ``warehouse``, sorted (by code point, as
        ``sorted`` orders texts): what a count sheet of a serial-tracked item lists
        (``SerialRepository.in_warehouse``, an indexed read). An unknown item or warehouse is
        ``not_found``; ``item``, ``warehouse`` and ``location`` must be texts (``TypeError``).

        Serials are kept per warehouse, not per location: ``location`` ``None`` (or ``""``)
        asks for the warehouse; a location is refused (``configuration``; ``not_found`` when
        the warehouse does not list it), rather than answered with the warehouse's serials as
        if they all lay there."""
        check_text(item, "item")
        check_text(warehouse, "warehouse")
        if location is not None:
            check_text(location, "location")
        with self.storage.unit_of_work() as uow:
            w = _Work(self, uow)
            w.item(item)
            wh = w.warehouse(warehouse)
            if location:
                if wh.locations and location not in wh.locations:
                    raise NotFoundError(kind="location", key=f"{warehouse}/{location}")
                raise JxcError("configuration", field="location",
                               reason=f"serial numbers are kept per warehouse, not per "
                                      f"location: ask for the serials of {item} in "
                                      f"{warehouse} (location=None), not in {location}",
                               reason_zh=f"序列号按仓库记录，不按库位记录：请查询 {item} 在仓"
                                         f"库 {warehouse} 的序列号（location=None），而不是库"
                                         f"位 {location} 的")
            return tuple(uow.serials.in_warehouse(item, warehouse))

    def reservations(self, demand: str | None = None) -> list[Reservation]:
        """Active reservations (of one demand, or all: ``None`` or ``""``). ``demand`` is a
        str or ``None`` (else ``TypeError``)."""
        _check_optional_texts(demand=demand)
        with self.storage.unit_of_work() as uow:
            now = self.clock.now()
            rows = uow.reservations.for_demand(demand) if demand else uow.reservations.all()
            return sorted((r for r in rows if r.active(now)), key=lambda r: r.reservation_id)

    def ledger(self, item: str, warehouse: str | None = None) -> list[LedgerLine]:
        """The stock ledger of ``item`` (明细账) with running quantity and value. ``item`` is a
        str and ``warehouse`` ``None`` or a str (else ``TypeError``); an unknown one has no
        entries."""
        check_text(item, "item")
        _check_optional_texts(warehouse=warehouse)
        org = self.organisation_scope and warehouse is not None and warehouse != "*"
        specific = False
        with self.storage.unit_of_work() as uow:
            if org:
                try:
                    specific = _Work(self, uow).item(item).costing_method == "specific_lot"
                except NotFoundError:
                    org = False  # an unknown item has no entries
            entries = sorted(uow.ledger.entries(item, None if org else warehouse),
                             key=lambda e: (e.posted_at, e.entry_no))
        out: list[LedgerLine] = []
        q = v = ZERO
        if not org:
            for e in entries:
                q += e.quantity
                v += e.value
                out.append(LedgerLine(e, q, v))
            return out
        # costed by organisation: the warehouse's running value is its share of the scope's
        # value after each entry (as balance gives it), what the entry does not carry shown
        # apart (``allocation``): the other warehouses' movements moved the unit cost
        quantum = money_quantum(self.currency_digits)
        rows: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}

        def apply(e: LedgerEntry) -> None:
            key = (e.lot if specific else "", e.warehouse)
            rq, rv = rows.get(key, (ZERO, ZERO))
            rows[key] = (rq + e.quantity, rv + e.value)

        # one moment at a time: the other warehouses' entries of the moment first (the
        # other leg of a transfer), so that the warehouse's last line of a moment shows what
        # balance(as_of=that moment) gives
        here = warehouse or ""  # (a warehouse: org)
        for _, moment in itertools.groupby(entries, key=lambda e: e.posted_at):
            mine = []
            for e in moment:
                if e.warehouse == here:
                    mine.append(e)
                else:
                    apply(e)
            for e in mine:
                apply(e)
                q += e.quantity
                share = _warehouse_values(rows, quantum).get(here, ZERO.quantize(quantum))
                out.append(LedgerLine(e, q, share, share - v - e.value))
                v = share
        return out

    def availability(self, lines: Sequence[tuple[str, str, Decimal]]) -> list[AvailabilityLine]:
        """Available quantity for each (item, warehouse, wanted) in one call. ``lines`` is a
        list or tuple of such triples (tuples or lists): anything else, a triple of another
        length, codes that are not str or a ``wanted`` that is not a ``Decimal`` or an int is
        ``TypeError`` naming ``lines[i]``; an unknown item or warehouse is ``not_found``; a
        ``wanted`` that :meth:`reserve` refuses is refused alike (``invalid_quantity``,
        ``unit_conversion_inexact``). Each line is answered as :meth:`reserve` would find it:
        a line repeating an item and warehouse is available what the earlier lines left (below
        0 under negative stock, as the balance shows it)."""
        if not isinstance(lines, Sequence) or isinstance(lines, str | bytes):
            raise TypeError(f"lines must be a list of (item, warehouse, wanted), got "
                            f"{type(lines).__name__} {lines!r}")
        for i, line in enumerate(lines):
            if not isinstance(line, tuple | list) or len(line) != 3:
                raise TypeError(f"lines[{i}] must be an (item, warehouse, wanted) tuple, got "
                                f"{type(line).__name__} {line!r}")
            check_text(line[0], f"lines[{i}] item")
            check_text(line[1], f"lines[{i}] warehouse")
            check_quantity(line[2], f"lines[{i}] wanted")
        with self.storage.unit_of_work() as uow:
            w = _Work(self, uow)
            # as reserve() would find them: a wanted quantity that it refuses is refused
            # (zero, negative, finer than the item's base unit), and a line repeating an
            # item and warehouse is available what the earlier lines left
            wanted, _ = self._wanted(w, [ReserveLine(f"lines[{i}]", item, warehouse, qty)
                                         for i, (item, warehouse, qty) in enumerate(lines)],
                                     floor=False)
            return [AvailabilityLine(item, warehouse, qty, have)
                    for (item, warehouse, qty), (_, _, have) in zip(lines, wanted,
                                                                    strict=True)]

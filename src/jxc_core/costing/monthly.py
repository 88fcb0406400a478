"""Monthly weighted average (全月一次加权平均).

Issues inside an open period are recorded by quantity only; the period's unit cost is known when
it closes: ``(opening value + receipts value) / (opening qty + receipts qty)``. Each issue is
then worth ``round_half_up(qty x unit cost)``, and the last issue of the period takes the
residue so that ``closing value = opening + receipts - issues`` exactly, with the closing value
``round_half_up(closing qty x unit cost)`` (0.00 when the closing quantity is 0).

A customer return of an issue of the open period (:meth:`MonthlyAverageValuation.return_issue`)
is not a receipt: it takes the issue back by quantity (冲减本月发出), so it leaves the period's unit
cost alone. At the close it is valued at the same unit cost, ``round_half_up(qty x unit cost)``;
the return that brings the whole issue back takes exactly the issue's cost. The residue then
falls on the last issue that has not been wholly taken back.

Under ``allow_negative=False`` an issue beyond ``opening + receipts so far - issues so far`` is
refused. Under ``allow_negative=True`` the closing quantity may be negative; it is then valued at
the period's unit cost (or, with no receipts and no opening stock, at ``default_cost``, else 0).

A negative opening is units owed at an estimate (the unit cost of the period that issued them
short), not a cost: the receipts of the next period fill it. So a period that opens negative
and has receipts takes the receipts' own average as its unit cost, whatever the quantities (back
to zero, beyond it, or still short): the units owed are worth ``round_half_up(opening qty x unit
cost)``, the estimate's difference is ``settled`` (a cost adjustment of the earlier issues, to
cost of goods sold), and the period's issues, returns and closing stock are valued at that same
unit cost from the opening so restated. Averaging the estimate in with the receipts would leave
its error in the closing stock. With no receipts the opening's own unit cost stands and nothing
settles.

A receipt of an open period may be cancelled (:meth:`MonthlyAverageValuation.cancel_receipt`,
the reversal of a purchase receipt, of an adjustment or a stock count that brought units in):
it leaves that period's receipts with its quantity and its value, so the period's unit cost is
as if it never came, and the reversal is worth exactly what the receipt brought (a part of it:
``round_half_up(qty x value / received)``).

Several periods may be open at once (用友/金蝶 let the next month post before the current one
closes). Every movement names its period (``period=``, a string that sorts in time order such
as ``"2026-11"``; the service passes the month of the posting date), and :meth:`close_period`
closes the earliest open period with its own receipts, issues and returns: the movements of
later periods stay open, and the closing figures become their opening. Movements given no
period are kept in the unnamed period, which belongs to the earliest open one (a valuation used
without periods has only that one, and a state stored before periods were named holds it).
An issue is refused (``allow_negative=False``) when it would take the stock below zero at the
end of its period or of any later open one. A return takes back an issue of its own period
only; an issue of another open period is refused (``issue_period_open``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import attrs

from jxc_core.costing._common import (
    ValuationBase,
    bad_quantity,
    base_state,
    dec,
    expect_method,
    insufficient,
    opt_dec,
)
from jxc_core.errors import JxcError, StateError
from jxc_core.values import DIVISION_CONTEXT, MAX_MAGNITUDE, ZERO, check_number, multiply

__all__ = ["IssueCost", "MonthlyAverageValuation", "PeriodCloseResult", "ReturnCost"]


@attrs.frozen(slots=True)
class IssueCost:
    """The cost given to one issue of the period when it closed."""

    ref: str | None
    quantity: Decimal
    cost: Decimal


@attrs.frozen(slots=True)
class ReturnCost:
    """The value given at the close to a return of an issue of the period (coming back into
    stock): ``ref`` is the return, ``issue_ref`` the issue it took back."""

    ref: str | None
    issue_ref: str
    quantity: Decimal
    cost: Decimal


@attrs.frozen(slots=True)
class PeriodCloseResult:
    """What closing a period computed.

    ``settled`` is value that left with no issue of this period to carry it: a negative
    opening restated at the period's unit cost (the receipts' own average), less its estimate,
    settles the earlier issues (to cost of goods sold; negative when the estimate was too
    high).
    ``returns`` are the issues of the period taken back, valued at the period's unit cost.
    Always ``opening + receipts - issues + returns - settled == closing``. ``period`` names
    the period closed (``""`` for the unnamed one).
    """

    unit_cost: Decimal
    opening_quantity: Decimal
    opening_value: Decimal
    receipt_quantity: Decimal
    receipt_value: Decimal
    issues: tuple[IssueCost, ...]
    closing_quantity: Decimal
    closing_value: Decimal
    settled: Decimal = ZERO
    returns: tuple[ReturnCost, ...] = ()
    period: str = ""

    @property
    def issue_value(self) -> Decimal:
        """The issues' costs, before the returns."""
        return sum((i.cost for i in self.issues), ZERO)

    @property
    def return_value(self) -> Decimal:
        """The value the returns brought back."""
        return sum((r.cost for r in self.returns), ZERO)


def _wholly_back(ref: str | None, issued: dict[str | None, Decimal],
                 back: dict[str, Decimal]) -> bool:
    return ref is not None and back.get(ref, ZERO) == issued[ref]


def _key(period: str | None) -> str:
    """The key of a period: ``""`` for the unnamed one."""
    if period is None:
        return ""
    if not isinstance(period, str):
        raise TypeError(f"period must be a str, got {period!r}")
    return period


def _check_qty(quantity: object) -> Decimal:
    if (type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0
            or quantity >= MAX_MAGNITUDE):
        return bad_quantity(quantity)
    return quantity


class _Rows:
    """The row keys of a valuation's movements and the rows changed since the last
    :meth:`MonthlyAverageValuation.take_changes` (``None``: gone)."""

    __slots__ = ("changed", "next")

    def __init__(self) -> None:
        self.next = 0
        self.changed: dict[int, list[Any] | None] = {}

    def new(self, data: list[Any]) -> int:
        key = self.next
        self.next += 1
        self.changed[key] = data
        return key


class _Open:
    """The movements of one open period: its receipts (in total, and by ref while they may be
    cancelled), its issues and the returns of its issues. Sums by ref are kept as the
    movements come (a return's checks cost O(1), not a scan of the period's issues).

    Each issue, return and cancellable receipt is one row of the stored state (its key from
    :class:`_Rows`), so that a movement writes one row, not the period: an issue is
    ``["i", period, ref, qty]``, a return ``["r", period, ref, issue_ref, qty]``, a receipt
    ``["c", period, ref, qty, value]``."""

    __slots__ = ("_back", "_issued", "_returned", "_rows", "_totals", "issue_keys", "issues",
                 "key", "rec_q", "rec_v", "receipt_keys", "receipts", "return_keys",
                 "returns")

    def __init__(self, key: str = "", rows: _Rows | None = None) -> None:
        self.key = key
        self._rows = rows if rows is not None else _Rows()
        self.rec_q = ZERO
        self.rec_v = ZERO
        self.issues: list[tuple[str | None, Decimal]] = []
        self.issue_keys: list[int] = []
        #: row key -> (return ref, issue ref, quantity) of the issues of this period taken back
        #: in it, in the order they came
        self.returns: dict[int, tuple[str | None, str, Decimal]] = {}
        #: return ref -> the row keys of its returns, in order
        self.return_keys: dict[str | None, list[int]] = {}
        #: receipt ref -> [quantity, value] of the receipts still in this period's receipts
        self.receipts: dict[str, list[Decimal]] = {}
        self.receipt_keys: dict[str, int] = {}
        self._issued: dict[str | None, Decimal] = {}  # by issue ref
        self._back: dict[str, Decimal] = {}  # taken back, by issue ref
        self._returned: dict[str | None, Decimal] = {}  # by return ref
        self._totals = [ZERO, ZERO]  # issued, taken back

    def add_issue(self, ref: str | None, quantity: Decimal, key: int | None = None) -> None:
        self.issues.append((ref, quantity))
        self.issue_keys.append(self._rows.new(["i", self.key, ref, str(quantity)])
                               if key is None else key)
        self._issued[ref] = self._issued.get(ref, ZERO) + quantity
        self._totals[0] += quantity

    def add_return(self, ref: str | None, issue_ref: str, quantity: Decimal,
                   key: int | None = None) -> None:
        if key is None:
            key = self._rows.new(["r", self.key, ref, issue_ref, str(quantity)])
        self.returns[key] = (ref, issue_ref, quantity)
        self.return_keys.setdefault(ref, []).append(key)
        self._count_return(ref, issue_ref, quantity)

    def reduce_return(self, key: int, by: Decimal) -> None:
        """Take ``by`` off the return of row ``key`` (all of it: the return is dropped)."""
        ref, issue_ref, q = self.returns[key]
        if by == q:
            del self.returns[key]
            self.return_keys[ref].remove(key)
            self._rows.changed[key] = None
        else:
            self.returns[key] = (ref, issue_ref, q - by)
            self._rows.changed[key] = ["r", self.key, ref, issue_ref, str(q - by)]
        self._count_return(ref, issue_ref, -by)

    def _count_return(self, ref: str | None, issue_ref: str, quantity: Decimal) -> None:
        self._back[issue_ref] = self._back.get(issue_ref, ZERO) + quantity
        self._returned[ref] = self._returned.get(ref, ZERO) + quantity
        self._totals[1] += quantity

    def set_receipt(self, ref: str, quantity: Decimal, value: Decimal) -> None:
        """The part of receipt ``ref`` still in this period's receipts (quantity 0: none)."""
        key = self.receipt_keys.get(ref)
        if not quantity:
            self.receipts.pop(ref, None)
            if key is not None:
                del self.receipt_keys[ref]
                self._rows.changed[key] = None
            return
        self.receipts[ref] = [quantity, value]
        data = ["c", self.key, ref, str(quantity), str(value)]
        if key is None:
            self.receipt_keys[ref] = self._rows.new(data)
        else:
            self._rows.changed[key] = data

    def keys(self) -> list[int]:
        """The row keys of this period's movements."""
        return [*self.issue_keys, *self.returns, *self.receipt_keys.values()]

    def rows(self) -> list[tuple[int, list[Any]]]:
        key = self.key
        out: list[tuple[int, list[Any]]] = [
            (k, ["i", key, r, str(q)]) for k, (r, q) in zip(self.issue_keys, self.issues,
                                                              strict=True)]
        out += [(k, ["r", key, r, i, str(q)]) for k, (r, i, q) in self.returns.items()]
        out += [(self.receipt_keys[r], ["c", key, r, str(q), str(v)])
                for r, (q, v) in self.receipts.items()]
        return out

    def issued(self, ref: str) -> Decimal:
        return self._issued.get(ref, ZERO)

    def taken_back(self, issue_ref: str) -> Decimal:
        return self._back.get(issue_ref, ZERO)

    def returned(self, ref: str) -> Decimal:
        return self._returned.get(ref, ZERO)

    def pending(self) -> Decimal:
        """Issued net of the returns."""
        return self._totals[0] - self._totals[1]

    def empty(self) -> bool:
        return not (self.rec_q or self.rec_v or self.issues or self.returns or self.receipts)

    def merged(self, later: _Open) -> _Open:
        """This period's movements followed by ``later``'s, in a new object (its rows are
        counted apart: they are not changes of the state)."""
        out = _Open(later.key)
        out.rec_q, out.rec_v = self.rec_q + later.rec_q, self.rec_v + later.rec_v
        for ref, q in self.issues + later.issues:
            out.add_issue(ref, q)
        for ref, issue_ref, q in [*self.returns.values(), *later.returns.values()]:
            out.add_return(ref, issue_ref, q)
        out.receipts = {r: list(qv) for r, qv in self.receipts.items()}
        for r, (q, v) in later.receipts.items():
            got = out.receipts.setdefault(r, [ZERO, ZERO])
            got[0] += q
            got[1] += v
        return out

    def to_data(self) -> dict[str, Any]:
        """The period's movements listed (the earlier stored form, and the form a closed
        period is kept in for :meth:`MonthlyAverageValuation.reopen`)."""
        data: dict[str, Any] = {
            "receipts": [str(self.rec_q), str(self.rec_v)],
            "issues": [[r, str(q)] for r, q in self.issues],
        }
        if self.returns:
            data["returns"] = [[r, i, str(q)] for r, i, q in self.returns.values()]
        if self.receipts:
            data["receipt_refs"] = [[r, str(q), str(v)] for r, (q, v) in self.receipts.items()]
        return data

    def check_return(self, ref: object, issue_ref: object, q: Decimal) -> None:
        """A return read back from a stored state must be open on its issue."""
        if not isinstance(issue_ref, str) or not (ref is None or isinstance(ref, str)):
            raise StateError(reason=f"bad return {[ref, issue_ref, q]!r}",
                             reason_zh=f"退回数据有误 {[ref, issue_ref, q]!r}")
        if q <= 0 or q > self.issued(issue_ref) - self.taken_back(issue_ref):
            raise StateError(reason=f"return {ref!r} of {q} is not open on issue {issue_ref!r}",
                             reason_zh=f"退回 {ref!r}（{q}）在发出 {issue_ref!r} 上没有未退数量")

    def check_receipt(self, ref: object, q: Decimal) -> None:
        if not isinstance(ref, str) or ref in self.receipts:
            raise StateError(reason=f"bad receipt ref {ref!r}",
                             reason_zh=f"入库引用有误 {ref!r}")
        if q <= 0:
            raise StateError(reason=f"receipt {ref!r} of {q} is not open",
                             reason_zh=f"入库 {ref!r}（{q}）没有未结数量")

    @classmethod
    def from_data(cls, data: dict[str, Any], key: str, rows: _Rows) -> _Open:
        """A period of the earlier forms of the state (its movements listed in it); each
        movement gets a new row key, to be stored as a row at the next save."""
        p = cls(key, rows)
        p.rec_q, p.rec_v = dec(data["receipts"][0]), dec(data["receipts"][1])
        for r, q in data["issues"]:
            p.add_issue(r, dec(q))
        returns = data.get("returns", [])  # absent from states of the earliest form
        if not isinstance(returns, list):
            raise StateError(reason=f"returns must be a list, got {returns!r}",
                             reason_zh=f"returns 应为列表，实际为 {returns!r}")
        for r, i, q in returns:
            q = dec(q)
            p.check_return(r, i, q)
            p.add_return(r, i, q)
        refs = data.get("receipt_refs", [])
        if not isinstance(refs, list):
            raise StateError(reason=f"receipt_refs must be a list, got {refs!r}",
                             reason_zh=f"receipt_refs 应为列表，实际为 {refs!r}")
        for r, q, v in refs:
            q = dec(q)
            p.check_receipt(r, q)
            p.set_receipt(r, q, dec(v))
        return p


class MonthlyAverageValuation(ValuationBase):
    """Monthly weighted average over one costing scope; the open periods' movements are kept
    per period until each closes, the earliest first."""

    method: ClassVar[str] = "monthly_average"

    __slots__ = ("_open_q", "_open_v", "_periods", "_rows")

    def _setup(self) -> None:
        self._open_q = ZERO
        self._open_v = ZERO
        #: the open periods by key (``""``: the unnamed one)
        self._periods: dict[str, _Open] = {}
        self._rows = _Rows()

    # -- reading ---------------------------------------------------------------------------
    @property
    def quantity(self) -> Decimal:
        """Quantity on hand now: opening + receipts - issues + returns of the open periods."""
        return self._open_q + sum((p.rec_q - p.pending() for p in self._periods.values()),
                                  ZERO)

    @property
    def pending_issue_quantity(self) -> Decimal:
        """Quantity issued in the open periods net of the returns, not valued until
        :meth:`close_period`."""
        return sum((p.pending() for p in self._periods.values()), ZERO)

    @property
    def value(self) -> Decimal:
        """Opening value + receipts of the open periods (issues are valued at close)."""
        return self._open_v + sum((p.rec_v for p in self._periods.values()), ZERO)

    @property
    def opening_quantity(self) -> Decimal:
        return self._open_q

    @property
    def opening_value(self) -> Decimal:
        return self._open_v

    @property
    def periods(self) -> tuple[str, ...]:
        """The keys of the open periods with movements, in order (``""``, the unnamed period,
        first)."""
        return tuple(sorted(k for k, p in self._periods.items() if not p.empty()))

    def _at(self, period: str | None) -> _Open:
        key = _key(period)
        found = self._periods.get(key)
        if found is None:
            found = self._periods[key] = _Open(key, self._rows)
        return found

    def _room(self, key: str) -> Decimal:
        """What may leave stock in period ``key`` without taking the stock below zero at the end
        of that period or of any later open one (the unnamed period counts as the earliest)."""
        cum = self._open_q
        room: Decimal | None = None
        for k in sorted(self._periods):
            if k > key and room is None:  # the end of period ``key``, which has no movement
                room = cum
            p = self._periods[k]
            cum += p.rec_q - p.pending()
            if k >= key:
                room = cum if room is None else min(room, cum)
        return cum if room is None else room

    def _check_room(self, quantity: Decimal, key: str) -> None:
        if self._allow:
            return
        room = self._room(key)
        if quantity > room:
            raise insufficient(self.item, self.warehouse, quantity, room)

    def _holding(self, period: str | None, has: Any) -> tuple[str, _Open] | None:
        """The open period of ``period`` (any, when ``None``) for which ``has`` is true: the
        named period itself, else the unnamed one (it belongs to the earliest open period);
        with ``period=None`` the latest that has it."""
        if period is None:
            found = [(k, p) for k, p in sorted(self._periods.items()) if has(p)]
            return found[-1] if found else None
        for k in (_key(period), ""):
            p = self._periods.get(k)
            if p is not None and has(p):
                return k, p
        return None

    # -- movements -------------------------------------------------------------------------
    def receive(
        self,
        quantity: Decimal,
        unit_cost: Decimal,
        ref: str | None = None,
        *,
        value: Decimal | None = None,
        period: str | None = None,
    ) -> Decimal:
        """Receive into the open period ``period``; returns the receipt value. A receipt with a
        ``ref`` may be cancelled while its period is open (:meth:`cancel_receipt`)."""
        quantity, val = self._receipt(quantity, unit_cost, value)
        p = self._at(period)
        p.rec_q += quantity
        p.rec_v += val
        if ref is not None:
            q, v = p.receipts.get(ref, (ZERO, ZERO))
            p.set_receipt(ref, q + quantity, v + val)
        return val

    def issue(self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None,
              period: str | None = None) -> None:
        """Record an issue of the open period ``period`` (valued at its close). ``from_ref`` is
        ignored."""
        quantity = _check_qty(quantity)
        key = _key(period)
        self._check_room(quantity, key)
        self._at(key).add_issue(ref, quantity)

    def add_receipt_cost(self, amount: Decimal, ref: str | None = None, *,
                         period: str | None = None) -> Decimal:
        """A cost added to the receipts of the open period ``period`` (a landed cost, an
        invoice's price difference; signed): it joins the period's receipts value and reaches
        its issues through the unit cost. When ``ref`` names a receipt of that period, the
        amount also follows that receipt if it is cancelled. Returns the amount."""
        amount = check_number(amount, "amount")
        p = self._at(period)
        p.rec_v += amount
        if ref is not None and ref in p.receipts:
            q, v = p.receipts[ref]
            p.set_receipt(ref, q, v + amount)
        return amount

    def received(self, ref: str, period: str | None = None) -> Decimal:
        """Quantity of the receipt ``ref`` still in the receipts of its open period (of the
        period ``period`` when given; 0 when none)."""
        found = self._holding(period, lambda p: ref in p.receipts)
        return ZERO if found is None else found[1].receipts[ref][0]

    def receipt_refs(self, period: str | None = None) -> tuple[str, ...]:
        """The refs of the receipts of the open period ``period`` that may be cancelled."""
        p = self._periods.get(_key(period))
        return () if p is None else tuple(p.receipts)

    def cancel_receipt(self, quantity: Decimal, ref: str, *, period: str | None = None
                       ) -> Decimal:
        """Take ``quantity`` of the receipt ``ref`` out of the receipts of its open period (its
        cancellation, 红冲): the period's unit cost is as if those units never came. Returns the
        value they take out: the receipt's whole value (with the receipt costs that followed
        it) for the rest of it, else ``round_half_up(quantity x value / quantity left)``. More
        than the receipt has left is refused (``over_return``); units no longer on hand like an
        issue (``insufficient_stock``)."""
        quantity = _check_qty(quantity)
        found = self._holding(period, lambda p: ref in p.receipts)
        left = ZERO if found is None else found[1].receipts[ref][0]
        if found is None or quantity > left:
            raise JxcError("over_return", ref=ref, quantity=quantity, open=left)
        key, p = found
        self._check_room(quantity, key)
        q, v = p.receipts[ref]
        taken = v if quantity == q else DIVISION_CONTEXT.divide(multiply(quantity, v), q).quantize(
            self._quantum, ROUND_HALF_UP)
        p.set_receipt(ref, q - quantity, v - taken)
        p.rec_q -= quantity
        p.rec_v -= taken
        return taken

    def returnable(self, issue_ref: str) -> Decimal:
        """Quantity of the open periods' issue ``issue_ref`` not taken back yet (0 when no
        issue of an open period has that ref)."""
        return sum((p.issued(issue_ref) - p.taken_back(issue_ref)
                    for p in self._periods.values()), ZERO)

    def returned(self, ref: str, period: str | None = None) -> Decimal:
        """Quantity the return ``ref`` took back in the open periods (in ``period`` when
        given; 0 when none)."""
        found = self._holding(period, lambda p: p.returned(ref) > 0)
        return ZERO if found is None else found[1].returned(ref)

    def return_issue(self, quantity: Decimal, issue_ref: str, *, ref: str | None = None,
                     period: str | None = None) -> None:
        """Take back ``quantity`` of the open period's issue ``issue_ref`` (a customer return of
        a delivery of the month, 冲减本月发出): the units are on hand again, the period's
        receipts and unit cost do not change, and :meth:`close_period` values the return at
        the period's unit cost (all of the issue back: exactly its cost). More than the issue
        has left to take back is refused (``over_return``). The return belongs to the issue's
        period: given a ``period``, an issue of another open period is refused
        (``issue_period_open``: its cost is known when that period closes)."""
        quantity = _check_qty(quantity)
        if not isinstance(issue_ref, str):
            raise TypeError(f"issue_ref must be a str, got {issue_ref!r}")
        found = self._holding(period, lambda p: p.issued(issue_ref) > 0)
        if found is None:
            other = self._holding(None, lambda p: p.issued(issue_ref) > 0)
            if other is not None:
                raise JxcError("issue_period_open", ref=issue_ref, issue_period=other[0],
                               period=period)
            raise JxcError("over_return", ref=issue_ref, quantity=quantity, open=ZERO)
        p = found[1]
        left = p.issued(issue_ref) - p.taken_back(issue_ref)
        if quantity > left:
            raise JxcError("over_return", ref=issue_ref, quantity=quantity, open=left)
        p.add_return(ref, issue_ref, quantity)

    def cancel_return(self, quantity: Decimal, ref: str, *, period: str | None = None
                      ) -> None:
        """Undo ``quantity`` of the return ``ref`` of an open period (of ``period`` when given;
        its cancellation, 红冲): the units leave stock again, the issue can be taken back
        again. More than the return took back is refused (``over_return``); units no longer on
        hand like an issue (``insufficient_stock``)."""
        quantity = _check_qty(quantity)
        found = self._holding(period, lambda p: p.returned(ref) > 0)
        left = ZERO if found is None else found[1].returned(ref)
        if found is None or quantity > left:
            raise JxcError("over_return", ref=ref, quantity=quantity, open=left)
        key, p = found
        self._check_room(quantity, key)
        for row in reversed(list(p.return_keys[ref])):  # the latest first
            take = min(p.returns[row][2], quantity)
            quantity -= take
            p.reduce_return(row, take)
            if not quantity:
                break

    # -- the close -------------------------------------------------------------------------
    def _earliest(self, period: str | None) -> tuple[str, _Open]:
        """The period the next close closes (``period``, else the earliest open one) with the
        unnamed period's movements first; refused while an earlier named period is open."""
        named = [k for k in self.periods if k]
        key = _key(period) if period is not None else (named[0] if named else "")
        earlier = [k for k in named if k < key]
        if earlier:
            raise JxcError("invalid_transition", state=f"{earlier[0]} open",
                           action=f"close {key}")
        first = self._periods.get("", _Open())
        if key:
            first = first.merged(self._periods.get(key, _Open(key)))
        return key, first

    def preview_unit_cost(self, period: str | None = None) -> Decimal:
        """The unit cost ``period`` (the earliest open one when ``None``) would close at now
        (unrounded): (opening + its receipts) value over quantity; after a negative opening,
        the receipts' own average (they fill it); with no receipts and no positive pool, the
        opening's, else ``default_cost``, else 0. The opening
        of a later period is the closing the open periods before it would have now, each at
        its own unit cost (the unnamed movements go with the first). Running totals only: no
        movement list is copied or scanned."""
        named = [k for k in self.periods if k]
        target = _key(period) if period is not None else (named[0] if named else "")
        open_q, open_v = self._open_q, self._open_v
        unnamed = self._periods.get("")
        rec_q, rec_v = (unnamed.rec_q, unnamed.rec_v) if unnamed else (ZERO, ZERO)
        pending = unnamed.pending() if unnamed else ZERO
        for k in named:
            if k >= target:
                break
            p = self._periods[k]
            q, v = rec_q + p.rec_q, rec_v + p.rec_v
            num, den = self._basis(open_q, open_v, q, v)
            closing_q = open_q + q - pending - p.pending()
            closing_v = (ZERO if closing_q == 0
                         else DIVISION_CONTEXT.divide(closing_q * num, den))
            open_q, open_v = closing_q, closing_v.quantize(self._quantum, ROUND_HALF_UP)
            rec_q = rec_v = pending = ZERO
        found = self._periods.get(target) if target else None
        if found is not None:
            rec_q, rec_v = rec_q + found.rec_q, rec_v + found.rec_v
        return self._unit_of(open_q, open_v, rec_q, rec_v)

    def _unit_of(self, open_q: Decimal, open_v: Decimal, rec_q: Decimal, rec_v: Decimal
                 ) -> Decimal:
        num, den = self._basis(open_q, open_v, rec_q, rec_v)
        return DIVISION_CONTEXT.divide(num, den)

    def _basis(self, open_q: Decimal, open_v: Decimal, rec_q: Decimal, rec_v: Decimal
               ) -> tuple[Decimal, Decimal]:
        """The period's unit cost as a value over a quantity, so that ``qty x unit`` is
        computed as ``(qty x value) / quantity`` and an exact half cent stays exact.

        A negative opening (units issued short in earlier periods, valued at an estimate) is
        no cost: the period's receipts fill it, so with receipts the unit cost is their own
        average, whatever the quantities; the estimate's difference is settled at the close.
        Otherwise (opening + receipts) value over quantity when that quantity is positive;
        with no receipts and a negative opening, the opening's own unit cost (the estimate
        stands); else ``default_cost``, else 0."""
        if open_q < 0 and rec_q > 0:
            return rec_v, rec_q
        q = open_q + rec_q
        if q > 0:
            return open_v + rec_v, q
        if open_q < 0 and open_v:
            return open_v, open_q
        if self._default_cost is not None:
            return self._default_cost, Decimal(1)
        return ZERO, Decimal(1)

    def closing_data(self, period: str | None = None) -> dict[str, Any]:
        """What :meth:`reopen` needs to put back the period ``close_period(period)`` would close
        now: its key, its opening and its movements (the unnamed ones with it), as plain data.
        Take it just before the close."""
        key, p = self._earliest(period)
        return {"period": key, "opening": [str(self._open_q), str(self._open_v)],
                "movements": p.to_data()}

    def reopen(self, closed: Sequence[dict[str, Any]]) -> None:
        """Put closed periods back (反结账): ``closed`` is the :meth:`closing_data` of each, the
        earliest first, the last one being the period closed last. The opening goes back to the
        first one's, and their movements are open again in their periods, to be valued anew by
        the next close with whatever was posted into them since (every issue at the new unit
        cost). Periods open now must all come after them (``invalid_transition``)."""
        if not closed:
            return
        keys = [c["period"] for c in closed]
        open_now = [k for k in self.periods if k]
        in_order = all(isinstance(k, str) for k in keys) and all(
            a < b for a, b in itertools.pairwise(keys))
        if "" in self.periods or not in_order or (open_now and keys[-1] >= open_now[0]):
            raise JxcError("invalid_transition", state=f"open {', '.join(open_now)}",
                           action=f"reopen {', '.join(map(str, keys))}")
        rows = self._rows
        mark, changed = rows.next, dict(rows.changed)
        try:
            periods = [_Open.from_data(c["movements"], c["period"], rows) for c in closed]
            open_q, open_v = dec(closed[0]["opening"][0]), dec(closed[0]["opening"][1])
        except BaseException as exc:
            rows.next, rows.changed = mark, changed  # nothing changed
            if isinstance(exc, (KeyError, IndexError, TypeError, ValueError, ArithmeticError)):
                raise StateError(reason=f"closing data: {type(exc).__name__}: {exc}",
                                 reason_zh=f"结账数据无法读取（{type(exc).__name__}: "
                                           f"{exc}）") from None
            raise
        self._open_q, self._open_v = open_q, open_v
        for p in periods:
            self._periods[p.key] = p

    def close_period(self, period: str | None = None) -> PeriodCloseResult:
        """Close the open period ``period`` (the earliest open one when ``None``): value its
        issues and returns with its own opening and receipts, roll its closing figures into
        the opening of the next period. The movements of later periods stay open. Closing a
        period while an earlier one is open is refused (``invalid_transition``)."""
        key, p = self._earliest(period)
        num, den = self._basis(self._open_q, self._open_v, p.rec_q, p.rec_v)
        unit = DIVISION_CONTEXT.divide(num, den)
        quantum = self._quantum

        def value(qty: Decimal) -> Decimal:  # round_half_up(qty x unit); 0.00, never -0.00
            exact = DIVISION_CONTEXT.divide(multiply(qty, num), den)
            return exact.quantize(quantum, ROUND_HALF_UP) + 0

        # A negative opening is units owed at an estimate: they are worth the period's unit
        # cost (the receipts that fill them); the estimate's difference settles the earlier
        # issues, and the period goes on from the opening at that cost.
        open_v = self._open_v
        settled = ZERO
        if self._open_q < 0:
            open_v = value(self._open_q)
            settled = self._open_v - open_v
        avail_v = open_v + p.rec_v
        closing_q = self._open_q + p.rec_q - p.pending()
        closing_v = ZERO.quantize(quantum) if closing_q == 0 else value(closing_q)
        issued: dict[str | None, Decimal] = {}
        for ref, q in p.issues:
            issued[ref] = issued.get(ref, ZERO) + q
        back: dict[str, Decimal] = {}
        for _, issue_ref, q in p.returns.values():
            back[issue_ref] = back.get(issue_ref, ZERO) + q
        # the residue goes to the last issue not wholly taken back (without returns: the last)
        last = next((i for i in range(len(p.issues) - 1, -1, -1)
                     if not _wholly_back(p.issues[i][0], issued, back)), None)
        costs: list[Decimal] = []
        cost_of: dict[str | None, Decimal] = {}
        for i, (ref, q) in enumerate(p.issues):
            cost = ZERO if i == last else value(q)
            costs.append(cost)
            cost_of[ref] = cost_of.get(ref, ZERO) + cost
        returns: list[ReturnCost] = []
        taken: dict[str, tuple[Decimal, Decimal]] = {}
        for ref, issue_ref, q in p.returns.values():
            tq, tv = taken.get(issue_ref, (ZERO, ZERO))
            if tq + q == issued[issue_ref]:  # the whole issue is back: exactly its cost
                cost = cost_of[issue_ref] - tv
            else:
                cost = value(q)
            taken[issue_ref] = (tq + q, tv + cost)
            returns.append(ReturnCost(ref, issue_ref, q, cost))
        if last is None:  # no issue left once the returns are taken back: the closing is
            # at the unit cost (0.00 for nothing left) and what remains of the value settles
            # earlier issues (a positive pool leaves nothing: its closing is all of its value;
            # a restated opening may leave a rounding cent)
            settled += avail_v - closing_v
        else:
            costs[last] = (avail_v - sum(costs, ZERO) + sum((r.cost for r in returns), ZERO)
                           - closing_v)
        result = PeriodCloseResult(
            unit_cost=unit,
            opening_quantity=self._open_q,
            opening_value=self._open_v,
            receipt_quantity=p.rec_q,
            receipt_value=p.rec_v,
            issues=tuple(IssueCost(ref, q, c) for (ref, q), c in zip(p.issues, costs,
                                                                       strict=True)),
            closing_quantity=closing_q,
            closing_value=closing_v,
            settled=settled,
            returns=tuple(returns),
            period=key,
        )
        self._open_q, self._open_v = closing_q, closing_v
        changed = self._rows.changed
        for k in ("", key):
            gone = self._periods.pop(k, None)
            if gone is not None:
                for row in gone.keys():
                    changed[row] = None
        return result

    # -- state -----------------------------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        state = base_state(self.method, self._digits, self._allow)
        state["opening"] = [str(self._open_q), str(self._open_v)]
        state["default_cost"] = None if self._default_cost is None else str(self._default_cost)
        state["next"] = self._rows.next
        periods = self._periods
        state["months"] = [[k, str(periods[k].rec_q), str(periods[k].rec_v)]
                           for k in self.periods]
        return state

    def to_state(self) -> dict[str, Any]:
        """Plain data. ``months`` lists the open periods with movements (``""``: the unnamed
        one) and their receipts ``[key, quantity, value]``; each issue, return and receipt that
        may be cancelled is a row (``"rows"``: ``[key, data]`` in key order, see
        :class:`_Open`), so a store that keeps rows apart writes one row per movement
        (:meth:`take_changes`), not the month. ``next`` is the key of the next row."""
        state = self._header()
        state["rows"] = [[k, d] for k, d in sorted(
            (kd for p in self._periods.values() for kd in p.rows()), key=lambda kd: kd[0])]
        return state

    def take_changes(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        """The header and the rows changed since the last call (gone ones: ``None``)."""
        changed = self._rows.changed
        self._rows.changed = {}
        return self._header(), list(changed.items())

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MonthlyAverageValuation:
        """Rebuild from :meth:`to_state` data, or from the earlier forms (the movements listed
        in the state: the unnamed period at the top, named ones under ``periods``); a state of
        an earlier form has all its movements changed, to be stored as rows."""
        expect_method(state, cls.method)
        v = cls(
            state["currency_digits"],
            state["allow_negative"],
            default_cost=opt_dec(state.get("default_cost")),
        )
        v._open_q, v._open_v = dec(state["opening"][0]), dec(state["opening"][1])
        if "next" not in state:
            v._load_earlier(state)
            return v
        rows = v._rows
        months = state["months"]
        if not isinstance(months, list):
            raise StateError(reason=f"months must be a list, got {months!r}",
                             reason_zh=f"months 应为列表，实际为 {months!r}")
        before: str | None = None
        for entry in months:
            if not isinstance(entry, list) or len(entry) != 3:
                raise StateError(reason=f"bad period {entry!r}",
                                 reason_zh=f"期间数据有误 {entry!r}")
            key = entry[0]
            if not isinstance(key, str) or (before is not None and key <= before):
                raise StateError(reason=f"bad period {key!r}",
                                 reason_zh=f"期间有误 {key!r}")
            p = v._periods[key] = _Open(key, rows)
            p.rec_q, p.rec_v = dec(entry[1]), dec(entry[2])
            before = key
        last = -1
        for entry in state.get("rows", []):
            k, data = entry
            if type(k) is not int or k <= last or not isinstance(data, list) or not data:
                raise StateError(reason=f"bad row {entry!r}",
                                 reason_zh=f"行数据有误 {entry!r}")
            last = k
            kind, key = data[0], data[1] if len(data) > 1 else None
            found = v._periods.get(key) if isinstance(key, str) else None
            if found is None:
                raise StateError(reason=f"row {k} of a period not open: {key!r}",
                                 reason_zh=f"第 {k} 行属于未打开的期间：{key!r}")
            p = found
            if kind == "i" and len(data) == 4:
                ref = data[2]
                if not (ref is None or isinstance(ref, str)):
                    raise StateError(reason=f"bad issue {data!r}",
                                     reason_zh=f"发出数据有误 {data!r}")
                q = dec(data[3])
                if q <= 0:
                    raise StateError(reason=f"bad issue {data!r}",
                                     reason_zh=f"发出数据有误 {data!r}")
                p.add_issue(ref, q, k)
            elif kind == "r" and len(data) == 5:
                q = dec(data[4])
                p.check_return(data[2], data[3], q)
                p.add_return(data[2], data[3], q, k)
            elif kind == "c" and len(data) == 5:
                q = dec(data[3])
                p.check_receipt(data[2], q)
                p.receipts[data[2]] = [q, dec(data[4])]
                p.receipt_keys[data[2]] = k
            else:
                raise StateError(reason=f"bad row {entry!r}",
                                 reason_zh=f"行数据有误 {entry!r}")
        nxt = state["next"]
        if type(nxt) is not int or nxt <= last:
            raise StateError(reason=f"next must be an int after the rows, got {nxt!r}",
                             reason_zh=f"next 应为大于各行号的整数，实际为 {nxt!r}")
        rows.next = nxt
        idle = [k for k, p in v._periods.items() if p.empty()]
        if idle:
            raise StateError(reason=f"period {idle[0]!r} listed with no movement",
                             reason_zh=f"期间 {idle[0]!r} 已列出但没有任何业务")
        return v

    def _load_earlier(self, state: dict[str, Any]) -> None:
        unnamed = _Open.from_data(state, "", self._rows)
        if not unnamed.empty():
            self._periods[""] = unnamed
        named = state.get("periods", [])  # absent from states of the earliest form
        if not isinstance(named, list):
            raise StateError(reason=f"periods must be a list, got {named!r}",
                             reason_zh=f"periods 应为列表，实际为 {named!r}")
        before = ""
        for entry in named:
            if not isinstance(entry, list) or len(entry) != 2:
                raise StateError(reason=f"bad period {entry!r}",
                                 reason_zh=f"期间数据有误 {entry!r}")
            key, data = entry
            if not isinstance(key, str) or key <= before or not isinstance(data, dict):
                raise StateError(reason=f"bad period {key!r}",
                                 reason_zh=f"期间有误 {key!r}")
            self._periods[key] = _Open.from_data(data, key, self._rows)
            before = key

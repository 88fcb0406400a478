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
"""

from __future__ import annotations

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
from jxc_core.values import DIVISION_CONTEXT, ZERO

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
    opening filled back to exactly zero settles the earlier issues (to cost of goods sold).
    ``returns`` are the issues of the period taken back, valued at the period's unit cost.
    Always ``opening + receipts - issues + returns - settled == closing``.
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


class MonthlyAverageValuation(ValuationBase):
    """Monthly weighted average over one costing scope and one open period at a time."""

    method: ClassVar[str] = "monthly_average"

    __slots__ = ("_issues", "_open_q", "_open_v", "_rec_q", "_rec_v", "_returns")

    def _setup(self) -> None:
        self._open_q = ZERO
        self._open_v = ZERO
        self._rec_q = ZERO
        self._rec_v = ZERO
        self._issues: list[tuple[str | None, Decimal]] = []
        #: (return ref, issue ref, quantity) of the issues taken back in the open period
        self._returns: list[tuple[str | None, str, Decimal]] = []

    @property
    def quantity(self) -> Decimal:
        """Quantity on hand now: opening + receipts - issues + returns of the open period."""
        return self._open_q + self._rec_q - self.pending_issue_quantity

    @property
    def pending_issue_quantity(self) -> Decimal:
        """Quantity issued in the open period net of the returns, not valued until
        :meth:`close_period`."""
        return (sum((q for _, q in self._issues), ZERO)
                - sum((q for _, _, q in self._returns), ZERO))

    @property
    def value(self) -> Decimal:
        """Opening value + receipts of the open period (issues are valued at close)."""
        return self._open_v + self._rec_v

    @property
    def opening_quantity(self) -> Decimal:
        return self._open_q

    @property
    def opening_value(self) -> Decimal:
        return self._open_v

    def receive(
        self,
        quantity: Decimal,
        unit_cost: Decimal,
        ref: str | None = None,
        *,
        value: Decimal | None = None,
    ) -> Decimal:
        """Receive into the open period; returns the receipt value."""
        quantity, val = self._receipt(quantity, unit_cost, value)
        self._rec_q += quantity
        self._rec_v += val
        return val

    def issue(self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
              ) -> None:
        """Record an issue of the open period (valued at close). ``from_ref`` is ignored."""
        if type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0:
            quantity = bad_quantity(quantity)
        on_hand = self.quantity
        if quantity > on_hand and not self._allow:
            raise insufficient(self.item, self.warehouse, quantity, on_hand)
        self._issues.append((ref, quantity))

    def returnable(self, issue_ref: str) -> Decimal:
        """Quantity of the open period's issue ``issue_ref`` not taken back yet (0 when no
        issue of the open period has that ref)."""
        issued = sum((q for r, q in self._issues if r == issue_ref), ZERO)
        if not issued:
            return ZERO
        return issued - sum((q for _, i, q in self._returns if i == issue_ref), ZERO)

    def returned(self, ref: str) -> Decimal:
        """Quantity the return ``ref`` took back in the open period (0 when none)."""
        return sum((q for r, _, q in self._returns if r == ref), ZERO)

    def return_issue(self, quantity: Decimal, issue_ref: str, *, ref: str | None = None
                     ) -> None:
        """Take back ``quantity`` of the open period's issue ``issue_ref`` (a customer return of
        a delivery of the month, 冲减本月发出): the units are on hand again, the period's
        receipts and unit cost do not change, and :meth:`close_period` values the return at
        the period's unit cost (all of the issue back: exactly its cost). More than the issue
        has left to take back is refused (``over_return``)."""
        if type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0:
            quantity = bad_quantity(quantity)
        if not isinstance(issue_ref, str):
            raise TypeError(f"issue_ref must be a str, got {issue_ref!r}")
        left = self.returnable(issue_ref)
        if quantity > left:
            raise JxcError("over_return", ref=issue_ref, quantity=quantity, open=left)
        self._returns.append((ref, issue_ref, quantity))

    def cancel_return(self, quantity: Decimal, ref: str) -> None:
        """Undo ``quantity`` of the return ``ref`` of the open period (its cancellation, 红冲):
        the units leave stock again, the issue can be taken back again. More than the return
        took back is refused (``over_return``); units no longer on hand like an issue
        (``insufficient_stock``)."""
        if type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0:
            quantity = bad_quantity(quantity)
        left = self.returned(ref)
        if quantity > left:
            raise JxcError("over_return", ref=ref, quantity=quantity, open=left)
        on_hand = self.quantity
        if quantity > on_hand and not self._allow:
            raise insufficient(self.item, self.warehouse, quantity, on_hand)
        for k in range(len(self._returns) - 1, -1, -1):  # the latest first
            r, issue_ref, q = self._returns[k]
            if r != ref:
                continue
            take = min(q, quantity)
            quantity -= take
            if take == q:
                del self._returns[k]
            else:
                self._returns[k] = (r, issue_ref, q - take)
            if not quantity:
                break

    def preview_unit_cost(self) -> Decimal:
        """The unit cost the period would close at now (unrounded): (opening + receipts) value
        over quantity; with no positive pool, the receipts' own average, else the opening's,
        else ``default_cost``, else 0."""
        q = self._open_q + self._rec_q
        if q > 0:
            return DIVISION_CONTEXT.divide(self._open_v + self._rec_v, q)
        if self._rec_q > 0:
            return DIVISION_CONTEXT.divide(self._rec_v, self._rec_q)
        if self._open_q < 0 and self._open_v:
            return DIVISION_CONTEXT.divide(self._open_v, self._open_q)
        if self._default_cost is not None:
            return self._default_cost
        return ZERO

    def _value_of(self, qty: Decimal, unit: Decimal) -> Decimal:
        """qty x (V / Q) computed as (qty x V) / Q, so an exact half cent stays exact."""
        q = self._open_q + self._rec_q
        if q > 0:
            return DIVISION_CONTEXT.divide(qty * (self._open_v + self._rec_v), q)
        if self._rec_q > 0 and unit == DIVISION_CONTEXT.divide(self._rec_v, self._rec_q):
            return DIVISION_CONTEXT.divide(qty * self._rec_v, self._rec_q)
        return DIVISION_CONTEXT.multiply(qty, unit)

    def close_period(self) -> PeriodCloseResult:
        """Value the period's issues and returns, roll the closing figures into the next
        period's opening."""
        unit = self.preview_unit_cost()
        quantum = self._quantum
        avail_v = self._open_v + self._rec_v
        closing_q = self.quantity
        if closing_q == 0:
            closing_v = ZERO.quantize(quantum)
        else:
            closing_v = self._value_of(closing_q, unit).quantize(quantum, ROUND_HALF_UP)
        issued: dict[str | None, Decimal] = {}
        for ref, q in self._issues:
            issued[ref] = issued.get(ref, ZERO) + q
        back: dict[str, Decimal] = {}
        for _, issue_ref, q in self._returns:
            back[issue_ref] = back.get(issue_ref, ZERO) + q
        # the residue goes to the last issue not wholly taken back (without returns: the last)
        last = next((i for i in range(len(self._issues) - 1, -1, -1)
                     if not _wholly_back(self._issues[i][0], issued, back)), None)
        costs: list[Decimal] = []
        cost_of: dict[str | None, Decimal] = {}
        for i, (ref, q) in enumerate(self._issues):
            cost = ZERO if i == last else self._value_of(q, unit).quantize(quantum, ROUND_HALF_UP)
            costs.append(cost)
            cost_of[ref] = cost_of.get(ref, ZERO) + cost
        returns: list[ReturnCost] = []
        taken: dict[str, tuple[Decimal, Decimal]] = {}
        for ref, issue_ref, q in self._returns:
            tq, tv = taken.get(issue_ref, (ZERO, ZERO))
            if tq + q == issued[issue_ref]:  # the whole issue is back: exactly its cost
                cost = cost_of[issue_ref] - tv
            else:
                cost = self._value_of(q, unit).quantize(quantum, ROUND_HALF_UP)
            taken[issue_ref] = (tq + q, tv + cost)
            returns.append(ReturnCost(ref, issue_ref, q, cost))
        settled = ZERO
        if last is None:  # no issue left once the returns are taken back
            if closing_q == 0:  # nothing left: whatever value remains settles earlier issues
                settled = avail_v
            else:
                closing_v = avail_v
        else:
            costs[last] = (avail_v - sum(costs, ZERO) + sum((r.cost for r in returns), ZERO)
                           - closing_v)
        result = PeriodCloseResult(
            unit_cost=unit,
            opening_quantity=self._open_q,
            opening_value=self._open_v,
            receipt_quantity=self._rec_q,
            receipt_value=self._rec_v,
            issues=tuple(IssueCost(ref, q, c) for (ref, q), c in zip(self._issues, costs,
                                                                       strict=True)),
            closing_quantity=closing_q,
            closing_value=closing_v,
            settled=settled,
            returns=tuple(returns),
        )
        self._open_q, self._open_v = closing_q, closing_v
        self._rec_q = ZERO
        self._rec_v = ZERO
        self._issues = []
        self._returns = []
        return result

    def to_state(self) -> dict[str, Any]:
        state = base_state(self.method, self._digits, self._allow)
        state.update(
            opening=[str(self._open_q), str(self._open_v)],
            receipts=[str(self._rec_q), str(self._rec_v)],
            issues=[[r, str(q)] for r, q in self._issues],
            default_cost=None if self._default_cost is None else str(self._default_cost),
        )
        if self._returns:  # a state with none keeps the earlier form
            state["returns"] = [[r, i, str(q)] for r, i, q in self._returns]
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MonthlyAverageValuation:
        expect_method(state, cls.method)
        v = cls(
            state["currency_digits"],
            state["allow_negative"],
            default_cost=opt_dec(state.get("default_cost")),
        )
        v._open_q, v._open_v = dec(state["opening"][0]), dec(state["opening"][1])
        v._rec_q, v._rec_v = dec(state["receipts"][0]), dec(state["receipts"][1])
        v._issues = [(r, dec(q)) for r, q in state["issues"]]
        returns = state.get("returns", [])  # absent from states of the earlier form
        if not isinstance(returns, list):
            raise StateError(reason=f"returns must be a list, got {returns!r}")
        for r, i, q in returns:
            if not isinstance(i, str) or not (r is None or isinstance(r, str)):
                raise StateError(reason=f"bad return {[r, i, q]!r}")
            q = dec(q)
            if q <= 0 or q > v.returnable(i):
                raise StateError(reason=f"return {r!r} of {q} is not open on issue {i!r}")
            v._returns.append((r, i, q))
        return v

"""Monthly weighted average (全月一次加权平均).

Issues inside an open period are recorded by quantity only; the period's unit cost is known when
it closes: ``(opening value + receipts value) / (opening qty + receipts qty)``. Each issue is
then worth ``round_half_up(qty x unit cost)``, and the last issue of the period takes the
residue so that ``closing value = opening + receipts - issues`` exactly, with the closing value
``round_half_up(closing qty x unit cost)`` (0.00 when the closing quantity is 0).

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
from jxc_core.values import DIVISION_CONTEXT, ZERO

__all__ = ["IssueCost", "MonthlyAverageValuation", "PeriodCloseResult"]


@attrs.frozen(slots=True)
class IssueCost:
    """The cost given to one issue of the period when it closed."""

    ref: str | None
    quantity: Decimal
    cost: Decimal


@attrs.frozen(slots=True)
class PeriodCloseResult:
    """What closing a period computed.

    ``settled`` is value that left with no issue of this period to carry it: a negative
    opening filled back to exactly zero settles the earlier issues (to cost of goods sold).
    Always ``opening + receipts - issues - settled == closing``.
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

    @property
    def issue_value(self) -> Decimal:
        return sum((i.cost for i in self.issues), ZERO)


class MonthlyAverageValuation(ValuationBase):
    """Monthly weighted average over one costing scope and one open period at a time."""

    method: ClassVar[str] = "monthly_average"

    __slots__ = ("_issues", "_open_q", "_open_v", "_rec_q", "_rec_v")

    def _setup(self) -> None:
        self._open_q = ZERO
        self._open_v = ZERO
        self._rec_q = ZERO
        self._rec_v = ZERO
        self._issues: list[tuple[str | None, Decimal]] = []

    @property
    def quantity(self) -> Decimal:
        """Quantity on hand now: opening + receipts - issues of the open period."""
        return self._open_q + self._rec_q - self.pending_issue_quantity

    @property
    def pending_issue_quantity(self) -> Decimal:
        """Quantity issued in the open period, not valued until :meth:`close_period`."""
        return sum((q for _, q in self._issues), ZERO)

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
        """Value the period's issues, roll the closing figures into the next period's opening."""
        unit = self.preview_unit_cost()
        quantum = self._quantum
        avail_v = self._open_v + self._rec_v
        closing_q = self.quantity
        if closing_q == 0:
            closing_v = ZERO.quantize(quantum)
        else:
            closing_v = self._value_of(closing_q, unit).quantize(quantum, ROUND_HALF_UP)
        costs: list[IssueCost] = []
        total = ZERO
        for i, (ref, q) in enumerate(self._issues):
            if i == len(self._issues) - 1:
                cost = avail_v - total - closing_v
            else:
                cost = self._value_of(q, unit).quantize(quantum, ROUND_HALF_UP)
            total += cost
            costs.append(IssueCost(ref, q, cost))
        settled = ZERO
        if not self._issues:
            if closing_q == 0:  # nothing left: whatever value remains settles earlier issues
                settled = avail_v
            else:
                closing_v = avail_v
        result = PeriodCloseResult(
            unit_cost=unit,
            opening_quantity=self._open_q,
            opening_value=self._open_v,
            receipt_quantity=self._rec_q,
            receipt_value=self._rec_v,
            issues=tuple(costs),
            closing_quantity=closing_q,
            closing_value=closing_v,
            settled=settled,
        )
        self._open_q, self._open_v = closing_q, closing_v
        self._rec_q = ZERO
        self._rec_v = ZERO
        self._issues = []
        return result

    def to_state(self) -> dict[str, Any]:
        state = base_state(self.method, self._digits, self._allow)
        state.update(
            opening=[str(self._open_q), str(self._open_v)],
            receipts=[str(self._rec_q), str(self._rec_v)],
            issues=[[r, str(q)] for r, q in self._issues],
            default_cost=None if self._default_cost is None else str(self._default_cost),
        )
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
        return v

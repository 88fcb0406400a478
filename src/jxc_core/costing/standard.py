"""Standard cost (计划成本/标准成本).

Stock moves at the standard unit cost. A receipt enters stock at ``round_half_up(qty x
standard)``; the receipt's price minus that is a ``price_variance`` adjustment (材料成本差异,
positive = the purchase cost more than standard). An issue leaves at ``round_half_up(qty x
standard)``; issuing everything takes exactly the remaining value. A new standard revalues what
is on hand to ``round_half_up(qty x new standard)`` and the change is a ``revaluation``
adjustment. Negative stock (when allowed) is valued at standard too: there is no estimate to
settle later.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from jxc_core.costing._common import (
    PRICE_VARIANCE,
    REVALUATION,
    CostAdjustment,
    ValuationBase,
    bad_quantity,
    base_state,
    check_money,
    dec,
    expect_method,
    insufficient,
)
from jxc_core.errors import JxcError
from jxc_core.values import MAX_MAGNITUDE, ZERO, check_amount, multiply

__all__ = ["StandardCostValuation"]


class StandardCostValuation(ValuationBase):
    """Stock at a standard unit cost, with purchase-price variance and revaluation events."""

    method: ClassVar[str] = "standard"

    __slots__ = ("_standard",)

    def __init__(
        self,
        standard_cost: Decimal,
        currency_digits: int = 2,
        allow_negative: bool = False,
        *,
        item: object = None,
        warehouse: object = None,
    ) -> None:
        super().__init__(currency_digits, allow_negative, item=item, warehouse=warehouse)
        self._standard = check_amount(standard_cost, "standard_cost", MAX_MAGNITUDE)

    @property
    def standard_cost(self) -> Decimal:
        return self._standard

    def receive(
        self,
        quantity: Decimal,
        unit_cost: Decimal,
        ref: str | None = None,
        *,
        value: Decimal | None = None,
    ) -> Decimal:
        """Receive at the purchase price ``unit_cost`` (or total ``value``).

        Returns the value entering stock (at standard); the variance is an adjustment.
        """
        quantity, actual = self._receipt(quantity, unit_cost, value)
        at_standard = multiply(quantity, self._standard).quantize(self._quantum, ROUND_HALF_UP)
        if self._qty + quantity == 0:  # back to zero: no rounding residue may stay in stock
            at_standard = -self._val
        if actual != at_standard:
            self._adjustments.append(
                CostAdjustment(PRICE_VARIANCE, actual - at_standard, quantity, None, ref)
            )
        self._qty += quantity
        self._val += at_standard
        return at_standard

    def issue(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> Decimal:
        """Issue at standard; returns the cost. ``from_ref`` is ignored."""
        if (type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        if quantity > self._qty and not self._allow:
            raise insufficient(self.item, self.warehouse, quantity, self._qty)
        if quantity == self._qty:
            cost = self._val
        else:
            cost = multiply(quantity, self._standard).quantize(self._quantum, ROUND_HALF_UP)
        self._qty -= quantity
        self._val -= cost
        return cost

    def add_landed_cost(
        self, ref: str, amount: Decimal, *, received_quantity: Decimal | None = None
    ) -> Decimal:
        """Stock stays at standard: the whole amount is a ``price_variance`` (材料成本差异).

        Returns the share kept in stock: always 0.00.
        """
        amount = check_money(amount, self._quantum, "amount")
        if amount:
            self._adjustments.append(CostAdjustment(PRICE_VARIANCE, amount, ZERO, None, ref))
        return amount - amount

    def add_kept_cost(self, ref: str, kept: Decimal) -> None:
        """Stock stays at standard: a replayed receipt cost never has an on-hand share."""
        if check_money(kept, self._quantum, "kept"):
            raise JxcError("configuration", reason="standard cost keeps no receipt cost",
                           reason_zh="标准成本法不保留入库成本差异")

    def set_standard(self, standard_cost: Decimal, ref: str | None = None) -> Decimal:
        """Adopt a new standard; returns the revaluation of the stock on hand (signed)."""
        new = check_amount(standard_cost, "standard_cost", MAX_MAGNITUDE)
        target = multiply(self._qty, new).quantize(self._quantum, ROUND_HALF_UP)
        delta = target - self._val
        self._standard = new
        self._val = target
        if delta:
            self._adjustments.append(CostAdjustment(REVALUATION, delta, self._qty, None, ref))
        return delta

    def to_state(self) -> dict[str, Any]:
        state = base_state(self.method, self._digits, self._allow)
        state.update(
            standard_cost=str(self._standard),
            quantity=str(self._qty),
            value=str(self._val),
            adjustments=[a.to_data() for a in self._adjustments],
        )
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StandardCostValuation:
        expect_method(state, cls.method)
        v = cls(dec(state["standard_cost"]), state["currency_digits"], state["allow_negative"])
        v._qty = dec(state["quantity"])
        v._val = dec(state["value"])
        v._adjustments = [CostAdjustment.from_data(a) for a in state["adjustments"]]
        return v

"""Landed cost allocation (到岸成本/采购费用分摊).

:func:`allocate_landed_cost` splits an amount (freight, duty, insurance) over receipt lines in
proportion to their quantity, value, weight or volume. Each share is the exact proportion
rounded *down* to the currency's minor unit, and the cents left over go one by one to the lines
with the largest remainders (ties: the earlier line) — the largest-remainder method. The
shares always add up to the amount exactly and none is negative, which "round each, the last
takes the rest" cannot promise.

Applying a share to stock is the valuation's job: ``add_landed_cost(receipt_ref, share)`` keeps
the share of the receipt's units still on hand in stock and reports the share of units already
issued as a ``landed_cost`` :class:`~jxc_core.costing.CostAdjustment` (to COGS).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

import attrs

from jxc_core.errors import JxcError
from jxc_core.values import DIVISION_CONTEXT, ZERO, check_amount, check_number, money_quantum

__all__ = ["AllocationBasis", "AllocationLine", "allocate", "allocate_landed_cost"]


class AllocationBasis(enum.Enum):
    """What a landed cost is allocated by (分摊依据)."""

    QUANTITY = "quantity"
    VALUE = "value"
    WEIGHT = "weight"
    VOLUME = "volume"


def _non_negative(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    check_amount(value, attribute.name)


@attrs.frozen(slots=True)
class AllocationLine:
    """One receipt line that shares a landed cost."""

    ref: str
    quantity: Decimal = attrs.field(validator=_non_negative)
    value: Decimal = attrs.field(default=ZERO, validator=_non_negative)
    weight: Decimal = attrs.field(default=ZERO, validator=_non_negative)
    volume: Decimal = attrs.field(default=ZERO, validator=_non_negative)

    def basis(self, basis: AllocationBasis) -> Decimal:
        result: Decimal = getattr(self, basis.value)
        return result


def allocate(
    amount: Decimal, weights: Sequence[Decimal], currency_digits: int = 2
) -> list[Decimal]:
    """Split ``amount`` in proportion to ``weights`` by the largest-remainder method.

    ``amount`` may be negative (a credit note on freight): shares then carry its sign.
    """
    amount = check_number(amount, "amount")
    ws = [check_amount(w, f"weights[{i}]") for i, w in enumerate(weights)]
    quantum = money_quantum(currency_digits)
    if amount.quantize(quantum) != amount:
        raise JxcError("invalid_allocation", reason=f"amount {amount} has more than "
                       f"{currency_digits} decimals",
                       reason_zh=f"金额 {amount} 的小数位多于 {currency_digits} 位")
    total = sum(ws, ZERO)
    if not ws or total <= 0:
        raise JxcError("invalid_allocation", reason="the basis adds up to zero",
                       reason_zh="分摊依据合计为零")
    sign = -1 if amount < 0 else 1
    units = int(abs(amount) / quantum)  # amount in minor units
    exact = [DIVISION_CONTEXT.divide(DIVISION_CONTEXT.multiply(w, units), total) for w in ws]
    floors = [int(e.to_integral_value(ROUND_FLOOR)) for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(sign * f) * quantum) for f in floors]


def allocate_landed_cost(
    amount: Decimal,
    lines: Sequence[AllocationLine],
    basis: AllocationBasis = AllocationBasis.VALUE,
    currency_digits: int = 2,
) -> dict[str, Decimal]:
    """Allocate ``amount`` over receipt ``lines`` by ``basis``; returns ``{ref: share}``."""
    if not lines:
        raise JxcError("invalid_allocation", reason="no receipt lines",
                       reason_zh="没有入库行")
    refs = [line.ref for line in lines]
    if len(set(refs)) != len(refs):
        raise JxcError("invalid_allocation", reason="a receipt line is named twice",
                       reason_zh="同一入库行被列出两次")
    shares = allocate(amount, [line.basis(basis) for line in lines], currency_digits)
    return dict(zip(refs, shares, strict=True))

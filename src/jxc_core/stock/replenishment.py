"""Replenishment (补货): safety stock, reorder point, min-max, order multiples — pure rules.

A :class:`ReplenishmentRule` is plain data per (item, warehouse). When the *projected* quantity
(on hand + on order - open demand) falls to the reorder point or below, the rule suggests
ordering up to ``max_stock`` (min-max), or, without a maximum, up to
``reorder_point + safety_stock``. The quantity is raised to ``min_order_qty`` and then rounded
*up* to a multiple of ``order_multiple``.

``Documents.suggest_purchases`` applies the rule to the projected quantity plus the purchase
orders not posted yet (draft, submitted, approved: not on order until posted), so that asking
twice does not order the same quantity twice. A rule without ``supplier`` (``""``) still
suggests; ``Documents.draft_purchase_orders`` drafts no order for such a suggestion and
reports it as ``unassigned`` (:func:`without_supplier`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal

import attrs

from jxc_core.errors import JxcError
from jxc_core.stock.model import StockLevels
from jxc_core.values import ZERO, check_amount

__all__ = ["PurchaseSuggestion", "ReplenishmentRule", "group_by_supplier", "suggest_quantity",
           "without_supplier"]


def _non_negative(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    check_amount(value, attribute.name)


def _optional_non_negative(_: object, attribute: attrs.Attribute[Decimal | None],
                           value: Decimal | None) -> None:
    if value is not None:
        check_amount(value, attribute.name)


def _text(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if type(value) is not str:
        raise TypeError(f"{attribute.name} must be a str, got {type(value).__name__} {value!r}")


@attrs.frozen(slots=True)
class ReplenishmentRule:
    """Replenishment settings of one item in one warehouse, checked when it is made: a number
    that is not a Decimal or an int (``max_stock``: or ``None``) raises ``TypeError`` naming
    the field, a negative one ``negative_amount``; ``item``, ``warehouse`` and ``supplier``
    are texts (else ``TypeError``); a zero ``order_multiple`` or a ``max_stock`` below the
    reorder point is a ``configuration`` error."""

    item: str = attrs.field(validator=_text)
    warehouse: str = attrs.field(validator=_text)
    reorder_point: Decimal = attrs.field(validator=_non_negative)
    safety_stock: Decimal = attrs.field(default=ZERO, validator=_non_negative)
    max_stock: Decimal | None = attrs.field(default=None, validator=_optional_non_negative)
    order_multiple: Decimal = attrs.field(default=Decimal(1), validator=_non_negative)
    min_order_qty: Decimal = attrs.field(default=ZERO, validator=_non_negative)
    supplier: str = attrs.field(default="", validator=_text)
    price: Decimal = attrs.field(default=ZERO, validator=_non_negative)

    def stock_levels(self) -> StockLevels:
        """The rule's levels as the low-stock levels of its warehouse, for
        ``Item(levels={rule.warehouse: rule.stock_levels()})``: the stock service then alerts
        on the same figures as the suggestions use."""
        return StockLevels(self.safety_stock, self.reorder_point)

    def __attrs_post_init__(self) -> None:
        if self.order_multiple <= 0:
            raise JxcError("configuration", field="order_multiple",
                           reason="order_multiple must be greater than zero",
                           reason_zh="order_multiple（订货倍数）须大于零")
        if self.max_stock is not None and self.max_stock < self.reorder_point:
            raise JxcError("configuration", field="max_stock",
                           reason=f"max_stock {self.max_stock} is below the reorder point",
                           reason_zh=f"max_stock（最高库存）{self.max_stock} 低于再订货点")


@attrs.frozen(slots=True)
class PurchaseSuggestion:
    """One suggested purchase of ``quantity`` (base units) of ``item`` into ``warehouse`` from
    the preferred ``supplier`` (``""``: none, the rule names no supplier) at ``price``.

    ``projected``: the balance's projected quantity (on hand + on order - open demand);
    ``pending_orders``: what purchase orders not posted yet (draft, submitted, approved)
    bring of the item into the warehouse. The quantity is the rule's for
    ``projected + pending_orders``."""

    item: str
    warehouse: str
    supplier: str
    projected: Decimal
    quantity: Decimal
    price: Decimal = ZERO
    pending_orders: Decimal = ZERO


def suggest_quantity(rule: ReplenishmentRule, projected: Decimal) -> Decimal:
    """How much to order now (0 when the projected quantity is above the reorder point)."""
    if projected > rule.reorder_point:
        return ZERO
    target = rule.max_stock if rule.max_stock is not None else (
        rule.reorder_point + rule.safety_stock)
    qty = max(target - projected, rule.min_order_qty, ZERO)
    if not qty:
        return ZERO
    multiples = (qty / rule.order_multiple).to_integral_value(ROUND_CEILING)
    return multiples * rule.order_multiple


def group_by_supplier(suggestions: Iterable[PurchaseSuggestion]
                      ) -> dict[str, list[PurchaseSuggestion]]:
    """Suggestions grouped by preferred supplier (in order of first appearance)."""
    out: dict[str, list[PurchaseSuggestion]] = {}
    for s in suggestions:
        out.setdefault(s.supplier, []).append(s)
    return out


def without_supplier(suggestions: Iterable[PurchaseSuggestion]) -> list[PurchaseSuggestion]:
    """The suggestions that name no supplier (``supplier == ""``), in order: no purchase
    order can be drafted for them until someone chooses the supplier."""
    return [s for s in suggestions if not s.supplier]

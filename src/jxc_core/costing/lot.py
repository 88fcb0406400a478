"""Specific identification (个别计价): every lot is its own layer; an issue names the lot.

A lot may be received more than once (its receipts merge into one layer at their total value);
an issue takes ``round_half_up(qty x lot value / lot qty)``, and emptying the lot takes exactly
its value. Negative stock is never allowed per lot: the cost of units that were never received
cannot be identified.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from jxc_core.costing._common import (
    LANDED_COST,
    CostAdjustment,
    ValuationBase,
    bad_quantity,
    base_state,
    check_money,
    dec,
    expect_method,
    insufficient,
    slice_value,
)
from jxc_core.errors import JxcError, LotError
from jxc_core.values import MAX_MAGNITUDE, ZERO, check_quantity

__all__ = ["SpecificLotValuation"]


class SpecificLotValuation(ValuationBase):
    """Specific identification over one costing scope."""

    method: ClassVar[str] = "specific_lot"

    __slots__ = ("_lots", "_received")

    def __init__(
        self, currency_digits: int = 2, *, item: object = None, warehouse: object = None
    ) -> None:
        super().__init__(currency_digits, False, item=item, warehouse=warehouse)
        self._lots: dict[str, list[Decimal]] = {}
        self._received: dict[str, Decimal] = {}

    def set_policy(self, allow_negative: bool, default_cost: Decimal | None = None) -> None:
        """Negative stock is never allowed per lot: ``allow_negative=True`` is
        ``configuration``; a default cost has nothing to estimate here."""
        if allow_negative is True:
            raise JxcError("configuration", field="allow_negative",
                           reason="specific identification never lets a lot go negative",
                           reason_zh="个别计价下批次库存不能为负")
        super().set_policy(allow_negative, default_cost)

    def lot(self, lot: str) -> tuple[Decimal, Decimal]:
        """(quantity, value) of ``lot``; (0, 0) when unknown or empty."""
        found = self._lots.get(lot)
        return (found[0], found[1]) if found else (ZERO, ZERO)

    @property
    def lots(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {k: (q, v) for k, (q, v) in self._lots.items() if q}

    def receive(
        self,
        quantity: Decimal,
        unit_cost: Decimal,
        ref: str | None = None,
        *,
        value: Decimal | None = None,
    ) -> Decimal:
        """Receive into lot ``ref`` (required); returns the receipt value."""
        quantity, val = self._receipt(quantity, unit_cost, value)
        if ref is None:
            raise LotError()
        self._received[ref] = self._received.get(ref, ZERO) + quantity
        found = self._lots.get(ref)
        if found is None:
            self._lots[ref] = [quantity, val]
        else:
            found[0] += quantity
            found[1] += val
        self._qty += quantity
        self._val += val
        return val

    def issue(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> Decimal:
        """Issue ``quantity`` from lot ``from_ref`` (required); returns its cost."""
        if (type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        if from_ref is None:
            raise LotError()
        found = self._lots.get(from_ref)
        on_hand = found[0] if found else ZERO
        if found is None or quantity > on_hand:
            raise insufficient(self.item, f"{self.warehouse} / lot {from_ref}", quantity, on_hand)
        cost = slice_value(quantity, found[0], found[1], self._quantum)
        found[0] -= quantity
        found[1] -= cost
        self._qty -= quantity
        self._val -= cost
        return cost

    def take_back(
        self,
        quantity: Decimal,
        from_ref: str | None,
        received_quantity: Decimal,
        received_value: Decimal,
        *,
        ref: str | None = None,
        rows: dict[int, Decimal] | None = None,
    ) -> Decimal:
        """Issue ``quantity`` of lot ``from_ref`` as the cancellation (红冲) of a movement into
        it (a receipt, an adjustment in, a customer return, a transfer in) that brought
        ``received_quantity`` units worth ``received_value``; returns its cost.

        The units leave at their own cost, ``round_half_up(quantity x received_value /
        received_quantity)`` (exactly ``received_value`` for all of it), not at the lot's
        average: cancelled newest first, the lot is back where it was before the movement.
        Clamp: never more than the lot's value nor less than 0.00, so a lot with units never
        goes below zero in value. Units beyond ``received_quantity`` leave at the average of
        what stays. Emptying the lot is :meth:`issue`: exactly its value. ``rows`` (moving
        average's receipt rows) has no meaning for a lot and is ignored."""
        if (type(quantity) is not Decimal or not quantity.is_finite() or quantity <= 0
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        received = check_quantity(received_quantity, "received_quantity")
        original = check_money(received_value, self._quantum, "received_value")
        if from_ref is None:
            raise LotError()
        found = self._lots.get(from_ref)
        if found is None or quantity >= found[0]:
            cost = self.issue(quantity, from_ref, ref=ref)
            self._unreceived(from_ref, quantity)
            return cost
        own = quantity if quantity < received else received
        cost = slice_value(own, received, original, self._quantum)
        if cost > found[1]:  # the lot cannot give it: what keeps its value at 0.00 or more
            cost = found[1] if found[1] > 0 else ZERO.quantize(self._quantum)
        elif cost < 0:
            cost = ZERO.quantize(self._quantum)
        if quantity > own:
            cost += slice_value(quantity - own, found[0] - own, found[1] - cost, self._quantum)
        found[0] -= quantity
        found[1] -= cost
        self._qty -= quantity
        self._val -= cost
        self._unreceived(from_ref, quantity)
        return cost

    def _unreceived(self, ref: str, quantity: Decimal) -> None:
        """A cancellation took ``quantity`` units that lot ``ref`` received back: they no
        longer count as received (never below zero). Neither on hand nor issued, they take
        no share of a cost added to the lot later (:meth:`add_landed_cost`): else a receipt
        of the lot cancelled before a charge sent that share to cost of goods sold."""
        had = self._received.get(ref)
        if had is not None:
            self._received[ref] = had - quantity if had > quantity else ZERO

    def add_landed_cost(
        self, ref: str, amount: Decimal, *, received_quantity: Decimal | None = None
    ) -> Decimal:
        """Add ``amount`` to lot ``ref``: the share of its units still on hand raises the lot,
        the share already issued is a ``landed_cost`` adjustment (to COGS).

        A lot received more than once is one layer: its units share the cost alike, so the
        share on hand is taken over everything the lot received (never more than ``amount``),
        not over the ``received_quantity`` of the one receipt the cost belongs to. A negative
        share never takes a lot with units below zero: what it cannot give is issued share."""
        amount = check_money(amount, self._quantum, "amount")
        found = self._lots.get(ref)
        if found is None and received_quantity is None:
            raise JxcError("unknown_receipt", ref=ref)
        on_hand = found[0] if found is not None else ZERO
        lot_received = self._received.get(ref)
        if received_quantity is not None:
            received = check_quantity(received_quantity, "received_quantity")
            if lot_received is not None and lot_received > received:
                received = lot_received
        else:
            received = lot_received if lot_received is not None else on_hand
        kept = (slice_value(on_hand, received, amount, self._quantum) if on_hand
                else ZERO.quantize(self._quantum))
        if found is not None and kept < 0 and found[1] + kept < 0:
            # a lot with units never goes below zero in value (each cost's share is rounded
            # on its own): what it cannot give goes to COGS
            kept = -found[1] if found[1] > 0 else ZERO.quantize(self._quantum)
        if found is not None:
            found[1] += kept
        self._val += kept
        if amount - kept:
            self._adjustments.append(
                CostAdjustment(LANDED_COST, amount - kept, received - on_hand, None, ref))
        return kept

    def add_kept_cost(self, ref: str, kept: Decimal) -> None:
        """Add the on-hand share of a lot cost already split (a replay)."""
        kept = check_money(kept, self._quantum, "kept")
        found = self._lots.get(ref)
        if found is None or not found[0]:
            raise JxcError("unknown_receipt", ref=ref)
        found[1] += kept
        self._val += kept

    def note_received(self, ref: str, quantity: Decimal) -> None:
        """Count ``quantity`` units as received by lot ``ref`` without moving stock: a replay
        passing over a void pair (an issue and its cancellation) whose units the lot received
        when they were posted (what :meth:`add_landed_cost` shares a cost over)."""
        quantity = check_quantity(quantity, "quantity")
        self._received[ref] = self._received.get(ref, ZERO) + quantity

    def state_rows(self) -> int:
        return len(self._lots) + len(self._received)

    def to_state(self) -> dict[str, Any]:
        state = base_state(self.method, self._digits, False)
        state.update(lots={k: [str(q), str(v)] for k, (q, v) in self._lots.items()},
                     received={k: str(q) for k, q in self._received.items()},
                     adjustments=[a.to_data() for a in self._adjustments])
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SpecificLotValuation:
        expect_method(state, cls.method)
        v = cls(state["currency_digits"])
        for k, (q, val) in state["lots"].items():
            v._lots[k] = [dec(q), dec(val)]
            v._qty += v._lots[k][0]
            v._val += v._lots[k][1]
        v._received = {k: dec(q) for k, q in state.get("received", {}).items()}
        v._adjustments = [CostAdjustment.from_data(a) for a in state.get("adjustments", [])]
        return v

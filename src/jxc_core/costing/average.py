"""Moving weighted average (移动加权平均): one pool per costing scope.

The unit cost is value / quantity after every receipt (never stored rounded). An issue is worth
``round_half_up(qty x value / qty on hand)``; issuing everything takes exactly the remaining
value. Examples (domain rules section 2): receipts 1@1.00, 1@1.00, 1@1.01, issue 3 -> 3.01;
1000@0.17 + 800@0.23, issue 1000 -> 196.67, issue 800 -> 157.33.

A landed cost or price difference of a receipt keeps in stock the share of
``min(received, lowest on hand since the receipt)`` units: the pool numbers the receipts since
on hand was last zero (one state row each, ``[number, ref]``, written once) and keeps the lows
as a short stack of ``[low, first number]`` (``"lows"`` in the header): consecutive receipts
share a low, so the header stays small however many receipts the stock has seen.

``from_ref`` is accepted and ignored: a return to supplier leaves at the current average and
the difference to the supplier's price is a price-difference line of the voucher.

Negative stock follows the same shortage rules as FIFO (estimate = last unit cost consumed,
else current average, else ``default_cost``, else 0; receipts fill shortages first and emit
``shortage_settlement`` adjustments).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from jxc_core.costing._common import (
    LANDED_COST,
    CostAdjustment,
    ShortageBook,
    ValuationBase,
    bad_cost,
    bad_quantity,
    check_money,
    check_value,
    dec,
    expect_method,
    insufficient,
    opt_dec,
    slice_value,
)
from jxc_core.errors import JxcError
from jxc_core.values import DIVISION_CONTEXT, MAX_MAGNITUDE, ZERO, check_quantity

__all__ = ["MovingAverageValuation"]

_D = Decimal
_HALF_UP = ROUND_HALF_UP
_divide = DIVISION_CONTEXT.divide
_multiply = DIVISION_CONTEXT.multiply


class MovingAverageValuation(ValuationBase):
    """Moving weighted average over one costing scope. See the module docstring."""

    method: ClassVar[str] = "moving_average"

    __slots__ = ("_changed", "_last_q", "_last_v", "_low", "_next", "_refs", "_shortages",
                 "_tracked")

    def _setup(self) -> None:
        self._last_q: Decimal | None = None
        self._last_v: Decimal | None = None
        self._shortages = ShortageBook()
        #: the receipts since on hand last fell to zero, by number (the state's rows)
        self._refs: dict[int, str] = {}
        #: the next receipt number
        self._next = 0
        #: rows changed since the last take_changes (None: gone)
        self._changed: dict[int, str | None] = {}
        #: the lows of those receipts, oldest first: ``[low, first number]``, the lows rising
        #: from old to new; a group runs from its first number to the next group's. No more
        #: of a receipt than its low can still be on hand.
        self._low: list[list[Any]] = []
        #: whether ``_refs`` names every receipt since on hand was last zero: False for a
        #: state stored before they were kept, until on hand next falls to zero
        self._tracked = True

    def _received(self, ref: str | None) -> None:
        """Note receipt ``ref``: its low is what is on hand now."""
        if ref is None:
            return
        qty = self._qty
        if qty <= ZERO:  # it filled shortages only: none of it is on hand
            return
        refs = self._refs
        low = self._low
        last = self._next - 1
        if refs.get(last) == ref:  # another part of the same receipt (lots, rows): moved
            del refs[last]
            self._changed[last] = None
            if low and low[-1][1] == last:
                low.pop()
        n = self._next
        self._next = n + 1
        refs[n] = ref
        self._changed[n] = ref
        if not low or low[-1][0] != qty:
            low.append([qty, n])

    def _issued(self) -> None:
        """On hand fell to ``_qty``: the receipts' lows fall with it."""
        qty = self._qty
        low = self._low
        if qty <= ZERO:  # every unit received so far is gone
            if self._refs:
                changed = self._changed
                for n in self._refs:
                    changed[n] = None
                self._refs.clear()
            low.clear()
            self._tracked = True
            return
        if not low or low[-1][0] <= qty:
            return
        first = 0
        while low and low[-1][0] > qty:
            first = low.pop()[1]  # the groups above merge into one, from the oldest's start
        if not low or low[-1][0] != qty:
            low.append([qty, first])

    def _low_of(self, ref: str) -> Decimal | None:
        """The lowest on hand since receipt ``ref``: 0 for a receipt before on hand was last
        zero, None when not known (a state stored before lows were kept)."""
        refs = self._refs
        for n in reversed(refs):  # the latest part of the receipt
            if refs[n] == ref:
                found: Decimal = ZERO
                for level, first in self._low:
                    if first > n:
                        break
                    found = level
                return found
        return ZERO if self._tracked else None

    @property
    def unit_cost(self) -> Decimal | None:
        """Current average (unrounded, 60 digits), or None when nothing is on hand."""
        return _divide(self._val, self._qty) if self._qty > 0 else None

    @property
    def shortages(self) -> list[tuple[Decimal, Decimal, str | None]]:
        return [(q, v, r) for q, v, r in self._shortages.open]

    def receive(
        self,
        quantity: Decimal,
        unit_cost: Decimal,
        ref: str | None = None,
        *,
        value: Decimal | None = None,
    ) -> Decimal:
        """Receive ``quantity`` at ``unit_cost`` (or for ``value``); returns the receipt value."""
        if (type(quantity) is not _D or not quantity.is_finite() or quantity <= ZERO
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        if value is None:
            if (type(unit_cost) is not _D or not unit_cost.is_finite() or unit_cost < ZERO
                    or unit_cost >= MAX_MAGNITUDE):
                unit_cost = bad_cost(unit_cost)
            val = (quantity * unit_cost).quantize(self._quantum, _HALF_UP)
        else:  # the unit cost is not used, but checked as the other methods check it
            if (type(unit_cost) is not _D or not unit_cost.is_finite() or unit_cost < ZERO
                    or unit_cost >= MAX_MAGNITUDE):
                unit_cost = bad_cost(unit_cost)
            val = check_value(value, self._quantum)
        if self._shortages.open:
            rq, rv, filled, released = self._shortages.fill(
                quantity, val, ref, self._quantum, self._adjustments
            )
            self._qty += filled + rq
            self._val += released + rv
            self._received(ref)
            return val
        self._qty += quantity
        self._val += val
        self._received(ref)
        return val

    def issue(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> Decimal:
        """Issue ``quantity`` at the current average; returns its cost (``from_ref`` ignored)."""
        if (type(quantity) is not _D or not quantity.is_finite() or quantity <= ZERO
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        qty = self._qty
        if quantity < qty:
            val = self._val
            cost = _divide(quantity * val, qty).quantize(self._quantum, _HALF_UP)
            self._last_q = qty
            self._last_v = val
            self._qty = qty - quantity
            self._val = val - cost
            if self._low:
                self._issued()
            return cost
        if quantity == qty:  # issuing everything takes exactly the remaining value
            cost = self._val
            self._last_q = qty
            self._last_v = cost
            self._qty = qty - quantity
            self._val = cost - cost
            self._issued()
            return cost
        if not self._allow:
            raise insufficient(self.item, self.warehouse, quantity, qty)
        return self._issue_short(quantity, ref)

    def _issue_short(self, quantity: Decimal, ref: str | None) -> Decimal:
        qty_before = self._qty
        cost = ZERO
        if qty_before > 0:
            cost = self.issue(qty_before)
        short = quantity - (qty_before if qty_before > 0 else ZERO)
        if self._last_q is not None and self._last_v is not None and self._last_q > 0:
            est = _divide(short * self._last_v, self._last_q)  # exact halves stay exact
        elif self._default_cost is not None:
            est = _multiply(short, self._default_cost)
        else:
            est = ZERO
        est_value = est.quantize(self._quantum, _HALF_UP)
        self._shortages.open.append([short, est_value, ref])
        self._qty -= short
        self._val -= est_value
        self._issued()
        return cost + est_value

    def add_landed_cost(
        self, ref: str, amount: Decimal, *, received_quantity: Decimal | None = None
    ) -> Decimal:
        """Add landed cost to receipt ``ref`` of ``received_quantity`` units; returns the
        share kept in stock.

        The pool does not know which units are left, so the units of the receipt still on hand
        are taken as ``min(received, lowest on hand since the receipt)`` — none once on hand
        has fallen to zero after it: that share raises the pool's value, the rest is a
        ``landed_cost`` adjustment (to COGS). The pool keeps no per-receipt quantity, so
        ``received_quantity`` is required. (A state stored before the lows were kept counts
        ``min(received, on hand)`` for its older receipts until on hand next falls to zero.)
        """
        amount = check_money(amount, self._quantum, "amount")
        if received_quantity is None:
            raise JxcError("configuration",
                           reason=f"moving average needs the quantity received by {ref}",
                           reason_zh=f"移动加权平均法需要 {ref} 的入库数量")
        received = check_quantity(received_quantity, "received_quantity")
        on_hand = self._qty if self._qty < received else received
        low = self._low_of(ref)
        if low is not None and low < on_hand:
            on_hand = low
        if on_hand < 0:
            on_hand = ZERO
        kept = (slice_value(on_hand, received, amount, self._quantum) if on_hand
                else ZERO.quantize(self._quantum))
        self._val += kept
        if amount - kept:
            self._adjustments.append(
                CostAdjustment(LANDED_COST, amount - kept, received - on_hand, None, ref)
            )
        return kept

    def add_kept_cost(self, ref: str, kept: Decimal) -> None:
        """Add the on-hand share of a receipt cost already split (a replay): to the pool."""
        self._val += check_money(kept, self._quantum, "kept")

    def _header(self) -> dict[str, Any]:
        last_q = self._last_q
        adjustments = self._adjustments
        shortages = self._shortages
        return {  # base_state(), then this method's figures: one literal is the quickest
            "method": self.method, "version": 1, "currency_digits": self._digits,
            "allow_negative": self._allow,
            "quantity": str(self._qty), "value": str(self._val),
            "shortages": shortages.to_data() if shortages.open else [],
            "last": None if last_q is None else [str(last_q), str(self._last_v)],
            "default_cost": None if self._default_cost is None else str(self._default_cost),
            "adjustments": [a.to_data() for a in adjustments] if adjustments else [],
            "lows": [[str(level), first] for level, first in self._low],
            "next": self._next,
            **({} if self._tracked else {"lows_from": "later"}),
        }

    def to_state(self) -> dict[str, Any]:
        """Plain data that restores this valuation exactly; the receipts since on hand was
        last zero are ``"rows"``: ``[number, ref]``."""
        state = self._header()
        state["rows"] = [[n, ref] for n, ref in self._refs.items()]
        return state

    def take_changes(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        """The header and the receipt rows added (or gone: ``None``) since the last call."""
        changed = self._changed
        if not changed:
            return self._header(), []
        self._changed = {}
        return self._header(), list(changed.items())

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MovingAverageValuation:
        expect_method(state, cls.method)
        v = cls(
            state["currency_digits"],
            state["allow_negative"],
            default_cost=opt_dec(state.get("default_cost")),
        )
        v._qty = dec(state["quantity"])
        v._val = dec(state["value"])
        v._shortages.load(state["shortages"])
        if state["last"] is not None:
            v._last_q, v._last_v = dec(state["last"][0]), dec(state["last"][1])
        v._adjustments = [CostAdjustment.from_data(a) for a in state["adjustments"]]
        lows = state.get("lows")
        if lows is None:  # stored before the lows were kept: unknown until on hand is zero
            v._tracked = v._qty <= 0
        elif lows and isinstance(lows[0][1], list):  # the earlier form: [low, [refs]]
            n = 0
            for level, refs in lows:
                v._low.append([dec(level), n])
                for ref in refs:
                    v._refs[n] = str(ref)
                    n += 1
            v._next = n
            v._changed = dict(v._refs)  # every receipt is still to be a row
            v._tracked = state.get("lows_from") is None
        else:
            v._low = [[dec(level), int(first)] for level, first in lows]
            v._refs = {int(n): str(ref) for n, ref in state.get("rows", ())}
            v._next = int(state.get("next", 0))
            v._tracked = state.get("lows_from") is None
        return v

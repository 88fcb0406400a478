"""Moving weighted average (移动加权平均): one pool per costing scope.

The unit cost is value / quantity after every receipt (never stored rounded). An issue is worth
``round_half_up(qty x value / qty on hand)``; issuing everything takes exactly the remaining
value. Examples (domain rules section 2): receipts 1@1.00, 1@1.00, 1@1.01, issue 3 -> 3.01;
1000@0.17 + 800@0.23, issue 1000 -> 196.67, issue 800 -> 157.33.

A landed cost or price difference of a receipt keeps in stock the share of the receipt's units
still on hand, counted as if units left the pool oldest first (the flow FIFO assumes, as the
remaining quantity of receipt layers under AVCO in common ERPs): the pool keeps the receipts
whose units still make up its stock, ``[ref, remaining]`` each (a state row), and an issue takes
them oldest first, a return to supplier (``from_ref``) its own receipt first. The rows never
hold more than the stock, whatever the number of receipts the scope has seen. Values are not
kept per receipt: the pool's value stays one average.

A return to supplier leaves at the current average and the difference to the supplier's price
is a price-difference line of the voucher.

The cancellation (红冲) of a receipt (:meth:`MovingAverageValuation.take_back`) takes the
receipt's units still on hand at their original value (pro rata of the receipt's value, round
half up), the rest at the average of what stays: a receipt whose units are all on hand leaves
the pool as if it had never been posted (10 @ 200.00, receive 4 for 40.00, cancel it: 10 @
200.00, not 10 @ 171.43). The own units never take more than the pool's value.

Units that come back by the cancellation of an issue (a delivery, a transfer out) or by a
customer return go back into the rows the issue took them from
(:meth:`MovingAverageValuation.issue_rows`, :meth:`MovingAverageValuation.restore_rows`): a
row gone is kept again at its place by number, so the units leave in their old turn and count
as their receipt's on hand. Only the rows change: the units come back at the value given, into
the one pool. The cancellation of such a return takes its units out of those rows again
(``take_back(..., rows=...)``).

Negative stock follows the same shortage rules as FIFO (estimate = last unit cost consumed,
else current average, else ``default_cost``, else 0; receipts fill shortages first and emit
``shortage_settlement`` adjustments).
"""

from __future__ import annotations

from collections import deque
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
from jxc_core.values import DIVISION_CONTEXT, MAX_MAGNITUDE, ZERO, check_quantity, multiply

__all__ = ["MovingAverageValuation"]

_D = Decimal
_HALF_UP = ROUND_HALF_UP
_divide = DIVISION_CONTEXT.divide
_multiply = DIVISION_CONTEXT.multiply


class MovingAverageValuation(ValuationBase):
    """Moving weighted average over one costing scope. See the module docstring."""

    method: ClassVar[str] = "moving_average"

    __slots__ = ("_changed", "_last_q", "_last_v", "_maybe", "_next", "_open", "_settled",
                 "_shortages", "_untracked")

    def _shortage_book(self) -> ShortageBook:
        return self._shortages

    def _setup(self) -> None:
        self._last_q: Decimal | None = None
        self._last_v: Decimal | None = None
        self._shortages = ShortageBook()
        #: what the last receipt that filled shortages settled (not stored: see settled)
        self._settled: list[tuple[str | None, Decimal, Decimal]] = []
        #: the receipts whose units make up the stock, oldest first: ``[number, ref, remaining]``
        #: (the state's rows, by number)
        self._open: deque[list[Any]] = deque()
        #: the next row number
        self._next = 0
        #: rows changed since the last take_changes (None: gone)
        self._changed: dict[int, Any] = {}
        #: units on hand older than every row: of a state stored before the rows were kept
        #: (their receipts are unknown); taken first by issues
        self._untracked = ZERO
        #: the receipts the untracked units can be of, with the most of each that can be left
        #: (what a state of the earlier "lows" form knew); None: any receipt
        self._maybe: dict[str, Decimal] | None = None

    def _received(self, ref: str | None, quantity: Decimal) -> None:
        """``quantity`` units of receipt ``ref`` went on hand (after filling shortages)."""
        if quantity <= ZERO:
            return
        rows = self._open
        if rows and rows[-1][1] == ref:  # another part of the same receipt (lots, rows)
            last = rows[-1]
            last[2] += quantity
            self._changed[last[0]] = [ref, str(last[2])]
            return
        n = self._next
        self._next = n + 1
        rows.append([n, ref, quantity])
        self._changed[n] = [ref, str(quantity)]

    def _taken(self, quantity: Decimal, from_ref: str | None,
               own: dict[int, Decimal] | None = None) -> None:
        """``quantity`` units left the pool: those of the rows ``own`` (number: at most this
        many of it) first, then the receipt ``from_ref``'s (a return to supplier), then the
        oldest; nothing left on hand: no row left."""
        rows = self._open
        changed = self._changed
        if self._qty <= ZERO:  # every unit received so far is gone
            for row in rows:
                changed[row[0]] = None
            rows.clear()
            self._untracked = ZERO
            self._maybe = None
            return
        left = quantity
        if own:
            for row in rows:
                most = own.get(row[0])
                if most is None or left <= ZERO or row[2] <= ZERO:
                    continue
                take = min(row[2], most, left)
                row[2] -= take
                left -= take
                own[row[0]] = most - take  # what is left of them for a next part
                changed[row[0]] = [row[1], str(row[2])] if row[2] else None
            if left != quantity:
                self._open = rows = deque(r for r in rows if r[2])
        if from_ref is not None and left > ZERO:
            done = left
            for row in reversed(rows):
                if left <= ZERO:
                    break
                if row[1] == from_ref and row[2] > ZERO:
                    take = row[2] if row[2] < left else left
                    row[2] -= take
                    left -= take
                    changed[row[0]] = [row[1], str(row[2])] if row[2] else None
            if left != done:
                self._open = rows = deque(r for r in rows if r[2])
        if left > ZERO and self._untracked > ZERO:
            take = self._untracked if self._untracked < left else left
            self._untracked -= take
            left -= take
            if not self._untracked:
                self._maybe = None
        while left > ZERO and rows:
            row = rows[0]
            if row[2] <= left:
                left -= row[2]
                rows.popleft()
                changed[row[0]] = None
            else:
                row[2] -= left
                changed[row[0]] = [row[1], str(row[2])]
                left = ZERO

    def _on_hand_of(self, ref: str, received: Decimal) -> Decimal:
        """The units of receipt ``ref`` still on hand: its rows' remaining; for a receipt not
        kept, none — unless units of unknown receipts remain (a state stored before the rows
        were kept), which it may be among: ``min(received, those units)``."""
        remaining = ZERO
        for row in self._open:
            if row[1] == ref:
                remaining += row[2]
        if remaining or self._untracked <= ZERO:
            return remaining if remaining < received else received
        bound = self._untracked
        if self._maybe is not None:  # the earlier state named the receipts still possible
            low = self._maybe.get(ref)
            if low is None:
                return ZERO
            if low < bound:
                bound = low
        return bound if bound < received else received

    def receipt_on_hand(self, ref: str, received: Decimal) -> Decimal:
        """The units of receipt ``ref`` (of ``received`` units) still on hand, as a landed
        cost counts them (its rows, oldest leaving first)."""
        return self._on_hand_of(ref, received)

    @property
    def unit_cost(self) -> Decimal | None:
        """Current average (unrounded, 60 digits), or None when nothing is on hand."""
        return _divide(self._val, self._qty) if self._qty > 0 else None

    @property
    def shortages(self) -> list[tuple[Decimal, Decimal, str | None]]:
        return [(q, v, r) for q, v, r in self._shortages.open]

    @property
    def settled(self) -> list[tuple[str | None, Decimal, Decimal]]:
        """What the last receipt that filled open shortages settled: ``(issue ref, units,
        their real cost)`` per shortage filled. Only meaningful right after a receipt made
        while shortages were open; not part of the stored state."""
        return list(self._settled)

    def _reopened(self, quantity: Decimal) -> None:
        self._taken(quantity, None)  # the units reopened leave the pool's receipt rows

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
            val = multiply(quantity, unit_cost).quantize(self._quantum, _HALF_UP)
        else:  # the unit cost is not used, but checked as the other methods check it
            if (type(unit_cost) is not _D or not unit_cost.is_finite() or unit_cost < ZERO
                    or unit_cost >= MAX_MAGNITUDE):
                unit_cost = bad_cost(unit_cost)
            val = check_value(value, self._quantum)
        if self._shortages.open:
            fills: list[tuple[Any, Decimal, Decimal]] = []
            rq, rv, filled, released = self._shortages.fill(
                quantity, val, ref, self._quantum, self._adjustments, fills
            )
            self._settled = fills
            self._qty += filled + rq
            self._val += released + rv
            if self._qty > ZERO:  # the part not used to fill shortages is on hand
                self._received(ref, rq if rq < self._qty else self._qty)
            return val
        self._qty += quantity
        self._val += val
        if self._qty > ZERO:
            self._received(ref, quantity if quantity < self._qty else self._qty)
        return val

    def issue(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> Decimal:
        """Issue ``quantity`` at the current average; returns its cost. ``from_ref`` (a return
        to supplier) names the receipt whose units leave first; it does not change the cost."""
        if (type(quantity) is not _D or not quantity.is_finite() or quantity <= ZERO
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        qty = self._qty
        if quantity < qty:
            val = self._val
            cost = _divide(multiply(quantity, val), qty).quantize(self._quantum, _HALF_UP)
            self._last_q = qty
            self._last_v = val
            self._qty = qty - quantity
            self._val = val - cost
            self._taken(quantity, from_ref)
            return cost
        if quantity == qty:  # issuing everything takes exactly the remaining value
            cost = self._val
            self._last_q = qty
            self._last_v = cost
            self._qty = qty - quantity
            self._val = cost - cost
            self._taken(quantity, from_ref)
            return cost
        if not self._allow:
            raise insufficient(self.item, self.warehouse, quantity, qty)
        return self._issue_short(quantity, ref)

    def issue_rows(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> tuple[Decimal, list[tuple[int, str | None, Decimal]]]:
        """:meth:`issue`, and the receipt rows it took units from: ``(number, ref, quantity)``
        each, oldest first (units of unknown receipts, of a state stored before the rows were
        kept, and a part beyond stock are in none). Reads every row: meant for the rare
        question "what did that issue take" (its cancellation), not for every issue."""
        before = [(n, r, q) for n, r, q in self._open]
        cost = self.issue(quantity, from_ref, ref=ref)
        after = {row[0]: row[2] for row in self._open}
        taken = [(n, r, q - after.get(n, ZERO)) for n, r, q in before
                 if after.get(n, ZERO) < q]
        return cost, taken

    def restore_rows(
        self,
        rows: list[tuple[int, str | None, Decimal]],
        quantity: Decimal,
        value: Decimal,
        ref: str | None = None,
    ) -> Decimal:
        """Receive ``quantity`` units worth ``value`` that a cancelled issue took from
        ``rows`` (``(number, ref, quantity)`` each, as :meth:`issue_rows` reported them): the
        pool takes them as :meth:`receive` does (its value is one average: the value is not
        split), but the units go back into the rows they left — a row still kept grows, a row
        gone is kept again at its place by number — so that they leave in their old turn and
        count as their receipt's on hand (:meth:`add_landed_cost`). Units beyond the rows
        come back as a row named ``ref``, as any receipt. With open shortages the units are
        received (they settle the shortages first). Returns the value that entered stock."""
        if self._shortages.open:
            return self.receive(quantity, ZERO, ref, value=value)
        if (type(quantity) is not _D or not quantity.is_finite() or quantity <= ZERO
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        val = check_value(value, self._quantum)
        checked: list[tuple[int, str | None, Decimal]] = []
        back = ZERO
        for number, row_ref, q in rows:  # all checked, then done
            if type(number) is not int or not 0 <= number < self._next:
                raise JxcError("configuration", reason=f"no row {number!r} was ever received",
                               reason_zh=f"从未入库过行 {number!r}")
            q = check_quantity(q, "quantity")
            checked.append((number, row_ref, q))
            back += q
        if back > quantity:
            raise JxcError("configuration",
                           reason=f"rows of {back} units for {quantity} units coming back",
                           reason_zh=f"退回 {quantity} 个单位，却要放回 {back} 个单位的行")
        self._qty += quantity
        self._val += val
        if checked:
            changed = self._changed
            by_number = {row[0]: row for row in self._open}
            added = False
            for number, row_ref, q in checked:
                row = by_number.get(number)
                if row is None:  # it had left the rows: back at its place, below
                    row = by_number[number] = [number, row_ref, ZERO]
                    added = True
                row[2] += q
                changed[number] = [row[1], str(row[2])]
            if added:
                self._open = deque(sorted(by_number.values(), key=lambda row: int(row[0])))
        if quantity > back and self._qty > ZERO:
            rest = quantity - back
            self._received(ref, rest if rest < self._qty else self._qty)
        return val

    def take_back(
        self,
        quantity: Decimal,
        from_ref: str,
        received_quantity: Decimal,
        received_value: Decimal,
        *,
        ref: str | None = None,
        rows: dict[int, Decimal] | None = None,
    ) -> Decimal:
        """Issue ``quantity`` as the cancellation (红冲) of receipt ``from_ref``, which brought
        ``received_quantity`` units worth ``received_value``; returns its cost.

        The receipt's units still on hand (its rows, see the module docstring), at most
        ``quantity``, leave at their original value, ``round_half_up(own x received_value /
        received_quantity)`` (exactly ``received_value`` for all of it); the rest at the
        average of what stays once they are out. Clamp: the own units never take more than
        the pool's value (nor less than 0.00), so the pool's value never goes negative while
        units remain. Issuing everything on hand (or more: a shortage) is :meth:`issue`:
        exactly the pool's value, the units beyond it at the shortage estimate.

        ``rows`` (a movement whose units went into other receipts' rows: a customer return,
        :meth:`restore_rows`): number -> units it put there; its units on hand are then
        ``min(units put, row's remaining)`` of each, taken out of those rows first (and
        ``rows`` is lessened by what is taken, for a next part of the same movement)."""
        if (type(quantity) is not _D or not quantity.is_finite() or quantity <= ZERO
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        received = check_quantity(received_quantity, "received_quantity")
        original = check_money(received_value, self._quantum, "received_value")
        qty = self._qty
        if quantity >= qty:
            return self.issue(quantity, from_ref, ref=ref)
        val = self._val
        if rows:
            own = ZERO
            for row in self._open:
                most = rows.get(row[0])
                if most is not None:
                    own += row[2] if row[2] < most else most
            own += self._on_hand_of(from_ref, received)  # a part beyond the rows: own row
            if own > received:
                own = received
        else:
            own = self._on_hand_of(from_ref, received)
        if own > quantity:
            own = quantity
        own_cost = (slice_value(own, received, original, self._quantum) if own
                    else ZERO.quantize(self._quantum))
        if own_cost > val:  # the pool cannot give it: what keeps its value at 0.00 or more
            own_cost = val if val > ZERO else ZERO.quantize(self._quantum)
        rest = quantity - own
        cost = own_cost
        if rest:
            cost += _divide(multiply(rest, val - own_cost), qty - own).quantize(self._quantum,
                                                                      _HALF_UP)
        self._last_q = qty
        self._last_v = val
        self._qty = qty - quantity
        self._val = val - cost
        self._taken(quantity, from_ref, rows)
        return cost

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
        self._taken(short, None)
        return cost + est_value

    def add_landed_cost(
        self, ref: str, amount: Decimal, *, received_quantity: Decimal | None = None
    ) -> Decimal:
        """Add landed cost to receipt ``ref`` of ``received_quantity`` units; returns the
        share kept in stock.

        The receipt's units still on hand are those its rows keep (units leave oldest first,
        see the module docstring): that share raises the pool's value, the rest is a
        ``landed_cost`` adjustment (to COGS) — all of it once the receipt's units are gone.
        A negative share never takes a pool with units below zero: what it cannot give is
        issued share too.
        ``received_quantity`` is required (the pool keeps no received quantity). A state stored
        before the rows were kept counts ``min(received, units of unknown receipts)`` for a
        receipt it does not know, until those units are gone.
        """
        amount = check_money(amount, self._quantum, "amount")
        if received_quantity is None:
            raise JxcError("configuration",
                           reason=f"moving average needs the quantity received by {ref}",
                           reason_zh=f"移动加权平均法需要 {ref} 的入库数量")
        received = check_quantity(received_quantity, "received_quantity")
        on_hand = self._on_hand_of(ref, received)
        kept = (slice_value(on_hand, received, amount, self._quantum) if on_hand
                else ZERO.quantize(self._quantum))
        if kept < 0 < self._qty and self._val + kept < 0:
            # units on hand never go below zero in value (each cost's share is rounded on its
            # own: costs that net to 0.00 can keep a cent less): the rest goes to COGS
            kept = -self._val if self._val > 0 else ZERO.quantize(self._quantum)
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
        header = {  # base_state(), then this method's figures: one literal is the quickest
            "method": self.method, "version": 1, "currency_digits": self._digits,
            "allow_negative": self._allow,
            "quantity": str(self._qty), "value": str(self._val),
            "shortages": shortages.to_data() if shortages.open else [],
            "last": None if last_q is None else [str(last_q), str(self._last_v)],
            "default_cost": None if self._default_cost is None else str(self._default_cost),
            "adjustments": [a.to_data() for a in adjustments] if adjustments else [],
            "next": self._next,
        }
        if self._untracked:  # units of a state stored before the rows were kept: rare
            header["untracked"] = str(self._untracked)
            if self._maybe is not None:
                header["untracked_refs"] = [[r, str(q)] for r, q in self._maybe.items()]
        return header

    def state_rows(self) -> int:
        return len(self._open)

    def to_state(self) -> dict[str, Any]:
        """Plain data that restores this valuation exactly; the receipts whose units make up
        the stock are ``"rows"``: ``[number, [ref, remaining]]``, oldest first."""
        state = self._header()
        state["rows"] = [[n, [ref, str(q)]] for n, ref, q in self._open]
        return state

    def take_changes(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        """The header and the receipt rows changed (or gone: ``None``) since the last call."""
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
        if "next" in state and "lows" not in state:
            v._next = int(state["next"])
            v._open = deque([int(n), ref, dec(q)] for n, (ref, q) in state.get("rows", ()))
            v._untracked = dec(state.get("untracked", "0"))
            refs = state.get("untracked_refs")
            if refs is not None and v._untracked:
                v._maybe = {str(r): dec(q) for r, q in refs}
        elif v._qty > ZERO:  # stored before the rows were kept: its receipts are unknown
            v._untracked = v._qty
            lows = state.get("lows")
            known: dict[str, Decimal] = {}
            rows = state.get("rows", ())
            if lows and isinstance(lows[0][1], list):  # [low, [refs]], oldest first
                known = {str(r): dec(low) for low, refs in lows for r in refs}
            elif lows is not None:  # [low, first number] with rows [number, ref]
                for n, ref in rows:
                    low = ZERO
                    for level, first in lows:
                        if int(first) > int(n):
                            break
                        low = dec(level)
                    known[str(ref)] = low
            if lows is not None and state.get("lows_from") is None:
                # the lows named every receipt since stock was last zero: no other can be
                # on hand, and none of these beyond its low
                v._maybe = {r: q for r, q in known.items() if q > ZERO}
            for n, _ in rows:  # rows of an intermediate form: dropped
                v._changed[int(n)] = None
                v._next = max(v._next, int(n) + 1)
        return v

"""Shared pieces of the perpetual costing methods: adjustments, shortages, checks."""

from __future__ import annotations

from collections import deque
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from jxc_core.errors import InsufficientStockError, InvalidQuantityError, JxcError, StateError
from jxc_core.values import (
    DIVISION_CONTEXT,
    MAX_MAGNITUDE,
    ZERO,
    check_amount,
    check_number,
    check_quantity,
    money_quantum,
    multiply,
)

__all__ = ["CostAdjustment"]

_divide = DIVISION_CONTEXT.divide

#: reasons of a :class:`CostAdjustment`
SHORTAGE_SETTLEMENT = "shortage_settlement"
LANDED_COST = "landed_cost"
BACK_DATING = "back_dating"
REVALUATION = "revaluation"
PRICE_VARIANCE = "price_variance"


@attrs.frozen(slots=True)
class CostAdjustment:
    """A change of cost booked after the fact; history is never edited.

    ``amount`` is signed from the point of view of the cost of goods sold (or of the account the
    event names): ``+100.00`` means the issue ``issue_ref`` really cost 100.00 more than was
    booked when it left stock. ``reason`` is one of ``shortage_settlement`` (a receipt filled a
    negative-stock shortage valued at an estimate), ``landed_cost`` (the issued share of a landed
    cost), ``back_dating`` (a back-dated movement changed the cost of a later issue),
    ``revaluation`` (standard cost: a new standard revalued the stock on hand; the amount is the
    change of stock value) and ``price_variance`` (standard cost: receipt price minus standard,
    材料成本差异).
    """

    reason: str
    amount: Decimal
    quantity: Decimal
    issue_ref: str | None = None
    receipt_ref: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "amount": str(self.amount),
            "quantity": str(self.quantity),
            "issue_ref": self.issue_ref,
            "receipt_ref": self.receipt_ref,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CostAdjustment:
        return cls(
            reason=data["reason"],
            amount=Decimal(data["amount"]),
            quantity=Decimal(data["quantity"]),
            issue_ref=data.get("issue_ref"),
            receipt_ref=data.get("receipt_ref"),
        )


class ValuationBase:
    """What every valuation has: currency digits, the negative-stock policy, the scope's
    quantity and value, and the cost adjustments booked after the fact (read them with
    :meth:`take_adjustments`)."""

    __slots__ = ("_adjustments", "_allow", "_default_cost", "_digits", "_qty", "_quantum",
                 "_val", "item", "warehouse")

    def __init__(
        self,
        currency_digits: int = 2,
        allow_negative: bool = False,
        *,
        default_cost: Decimal | None = None,
        item: object = None,
        warehouse: object = None,
    ) -> None:
        self._digits = currency_digits
        self._quantum = money_quantum(currency_digits)
        if type(allow_negative) is not bool:
            raise TypeError(f"allow_negative must be a bool, got {allow_negative!r}")
        self._allow = allow_negative
        self._default_cost = (
            None if default_cost is None else check_amount(default_cost, "default_cost",
                                                               MAX_MAGNITUDE)
        )
        self.item = item
        self.warehouse = warehouse
        self._qty = ZERO
        self._val = ZERO
        self._adjustments: list[CostAdjustment] = []
        self._setup()

    def _setup(self) -> None:
        """The method's own empty state (layers, pools, shortages): override."""

    def _shortage_book(self) -> ShortageBook | None:
        """The open shortages of a method that keeps them (``None``: none kept): override."""
        return None

    def close_shortage(self, ref: str, quantity: Decimal, value: Decimal
                       ) -> tuple[Decimal, Decimal]:
        """The cancellation of issue ``ref`` (``quantity`` units worth ``value``, see
        :meth:`ShortageBook.close`) brings back up to ``quantity`` units of its own
        open shortage: those units close it (at the estimate it holds) instead of settling
        the oldest shortage as a receipt would, so no later receipt settles a shortage of a
        cancelled issue. Returns (units closed, their value); the rest of the cancellation
        is received or restored as usual. A method without shortages closes none."""
        book = self._shortage_book()
        if book is None:
            return ZERO, ZERO
        closed, released = book.close(ref, quantity, value, self._quantum)
        if closed:
            self._qty += closed
            self._val += released
        return closed, released

    def open_of(self, issue: str) -> tuple[Decimal, Decimal]:
        """(units, estimated value) of the open shortages of issue ``issue`` (none for a
        method without shortages)."""
        book = self._shortage_book()
        return (ZERO, ZERO) if book is None else book.open_of(issue)

    def reopen_shortage(self, issue: str, quantity: Decimal, estimate: Decimal,
                        real: Decimal, ref: str | None = None) -> Decimal:
        """Open again ``quantity`` units of the shortage of issue ``issue`` that a receipt
        settled (its cancellation: a customer return that settled its own delivery's
        shortage, a receipt that settled open shortages), at the ``estimate`` they released;
        ``real`` is what they settled it with, and the settlement booked then is taken back
        (a ``shortage_settlement`` of ``estimate - real``, named by ``ref``). The units go
        to the front of the queue, where the receipt found them (it fills the oldest first),
        joining the issue's open part if that is there. Returns ``real`` (the value the
        cancellation takes out, as the receipt brought it in). Only with nothing on hand (a
        shortage never stands beside stock) and for a method that keeps shortages: else
        ``configuration``, nothing changed."""
        book = self._shortage_book()
        if book is None:
            raise JxcError("configuration", reason="this method keeps no shortages",
                           reason_zh="该计价方法不保留缺货")
        quantity = check_quantity(quantity, "quantity")
        estimate = check_value(estimate, self._quantum)
        real = check_value(real, self._quantum)
        if self._qty > ZERO:
            raise JxcError("configuration", reason="units on hand: a shortage cannot reopen",
                           reason_zh="尚有库存：缺货不能重新打开")
        book.reopen(issue, quantity, estimate, real, ref, self._adjustments)
        self._qty -= quantity
        self._val -= estimate
        self._reopened(quantity)
        return real

    def _reopened(self, quantity: Decimal) -> None:
        """After :meth:`reopen_shortage`: ``quantity`` units left what the method keeps of
        its receipts (a pool's rows); override where that is kept apart."""

    @property
    def quantity(self) -> Decimal:
        """Quantity on hand (negative while shortages are open)."""
        return self._qty

    @property
    def value(self) -> Decimal:
        """Stock value, rounded money."""
        return self._val

    @property
    def currency_digits(self) -> int:
        return self._digits

    @property
    def allow_negative(self) -> bool:
        return self._allow

    @property
    def default_cost(self) -> Decimal | None:
        """The unit cost of a shortage's estimate when no cost is known (None: 0)."""
        return self._default_cost

    def set_policy(self, allow_negative: bool, default_cost: Decimal | None = None) -> None:
        """Adopt a negative-stock policy and a default cost for the issues from now on (the
        owner of the scope changed them). What was issued keeps its cost; open shortages keep
        their estimates and are settled against them."""
        if type(allow_negative) is not bool:
            raise TypeError(f"allow_negative must be a bool, got {allow_negative!r}")
        cost = (None if default_cost is None
                else check_amount(default_cost, "default_cost", MAX_MAGNITUDE))
        self._allow = allow_negative
        self._default_cost = cost

    @property
    def adjustments(self) -> tuple[CostAdjustment, ...]:
        """Cost adjustments produced and not yet taken."""
        return tuple(self._adjustments)

    def take_changes(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        """What changed since the last call (or since ``from_state``), for storage that keeps
        rows apart: (the state without ``"rows"``, [(row key, row data, or None: gone)]). A
        method that keeps no rows apart gives its whole state and no rows."""
        return self.to_state(), []

    def to_state(self) -> dict[str, Any]:
        """Plain data that restores the valuation exactly; each method defines it."""
        raise NotImplementedError

    def state_rows(self) -> int:
        """How many rows (layers, receipts, lots) :meth:`to_state` would write: its cost,
        known without making it. 0 for a method that keeps only totals."""
        return 0

    def take_adjustments(self) -> list[CostAdjustment]:
        """Return the pending cost adjustments and forget them (the caller books them)."""
        out = self._adjustments
        self._adjustments = []
        return out

    def _receipt(self, quantity: object, unit_cost: object, value: object
                 ) -> tuple[Decimal, Decimal]:
        """Checked (quantity, value) of a receipt: ``value`` if given, else qty x unit cost.

        FIFO, LIFO and moving average inline the same checks in their hot paths.
        """
        q = bad_quantity(quantity)
        cost = bad_cost(unit_cost)
        if value is None:
            return q, multiply(q, cost).quantize(self._quantum, ROUND_HALF_UP)
        return q, check_value(value, self._quantum)


def slice_value(taken: Decimal, qty: Decimal, value: Decimal, quantum: Decimal) -> Decimal:
    """round_half_up(taken x value / qty); exactly ``value`` when ``taken`` empties ``qty``."""
    if taken == qty:
        return value
    return _divide(multiply(taken, value), qty).quantize(quantum, ROUND_HALF_UP)


def bad_quantity(quantity: object, name: str = "quantity") -> Decimal:
    """Slow path of the inline checks: raise the right error, or return a Decimal."""
    q = check_number(quantity, name, MAX_MAGNITUDE)
    if q <= 0:
        raise InvalidQuantityError(field=name, value=q)
    return q


def bad_cost(cost: object, name: str = "unit_cost") -> Decimal:
    c = check_number(cost, name, MAX_MAGNITUDE)
    if c < 0:
        raise JxcError("negative_amount", field=name, value=c)
    return c


def check_value(value: object, quantum: Decimal, name: str = "value") -> Decimal:
    """A money value of zero or more, at the currency's digits (``100`` -> ``100.00``)."""
    v = check_number(value, name)
    if v < 0:
        raise JxcError("negative_amount", field=name, value=v)
    return check_money(v, quantum, name)


def check_money(value: object, quantum: Decimal, name: str = "amount") -> Decimal:
    """A signed money amount with no more digits than the currency has, brought to them."""
    v = check_number(value, name)
    rounded = v.quantize(quantum, ROUND_HALF_UP)
    if rounded != v:
        raise JxcError("invalid_amount_precision", field=name, value=v, quantum=quantum)
    return rounded


def insufficient(item: object, warehouse: object, needed: Decimal, on_hand: Decimal) -> JxcError:
    return InsufficientStockError(
        item=item, warehouse=warehouse, needed=needed, on_hand=on_hand, short=needed - on_hand
    )


class ShortageBook:
    """Open shortages of negative stock: ``[quantity, estimated value, issue ref]``, oldest first.

    ``fill`` settles them with a receipt: the real cost of the units that fill a shortage is a
    slice of the receipt; the estimate released is a slice of the shortage; the difference is a
    ``shortage_settlement`` adjustment of the original issue.
    """

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open: deque[list[Any]] = deque()

    def reopen(self, issue: str, quantity: Decimal, estimate: Decimal, real: Decimal,
               ref: str | None, out: list[CostAdjustment]) -> None:
        """Open again ``quantity`` units of issue ``issue``'s shortage at the front (joining
        its open part there), at ``estimate``; a receipt had settled them with ``real``: that
        settlement is taken back (a ``shortage_settlement`` of ``estimate - real`` in
        ``out``, named by ``ref``). The caller checks the figures and moves its stock."""
        open_ = self.open
        if open_ and open_[0][2] == issue:
            open_[0][0] += quantity
            open_[0][1] += estimate
        else:
            open_.appendleft([quantity, estimate, issue])
        if real != estimate:
            out.append(CostAdjustment(SHORTAGE_SETTLEMENT, estimate - real, quantity, issue,
                                      ref))

    def open_of(self, issue: str) -> tuple[Decimal, Decimal]:
        """(units, estimated value) of the open shortages of issue ``issue``."""
        q = v = ZERO
        for sq, sv, sref in self.open:
            if sref == issue:
                q += sq
                v += sv
        return q, v

    def fill(
        self,
        rq: Decimal,
        rv: Decimal,
        ref: str | None,
        quantum: Decimal,
        out: list[CostAdjustment],
        fills: list[tuple[Any, Decimal, Decimal]] | None = None,
    ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """Fill shortages with ``rq`` units worth ``rv``; ``fills`` (when given) gets one
        ``(issue ref, units filled, their real cost)`` per shortage filled.

        Returns (receipt qty left, receipt value left, qty filled, estimate released).
        """
        filled_q = ZERO
        released = ZERO
        shortages = self.open
        while shortages and rq > 0:
            s = shortages[0]
            sq, sv, sref = s
            take = sq if sq <= rq else rq
            real = slice_value(take, rq, rv, quantum)
            est = slice_value(take, sq, sv, quantum)
            rq -= take
            rv -= real
            filled_q += take
            released += est
            if fills is not None:
                fills.append((sref, take, real))
            if take == sq:
                shortages.popleft()
            else:
                s[0] = sq - take
                s[1] = sv - est
            if real != est:
                out.append(CostAdjustment(SHORTAGE_SETTLEMENT, real - est, take, sref, ref))
        return rq, rv, filled_q, released

    def close(self, ref: str, quantity: Decimal, value: Decimal, quantum: Decimal
              ) -> tuple[Decimal, Decimal]:
        """Close up to ``quantity`` units of the open shortages of issue ``ref`` (its
        cancellation, ``quantity`` units worth ``value``, brings them back: they were never
        received, so no receipt is to settle them), the newest first, each at its estimate.
        Nothing is closed when that would not leave the rest of ``value`` for the rest of
        the units (every unit closed, at another value; or more released than ``value``).
        Returns (units closed, their estimate released)."""
        plan: list[tuple[list[Any], Decimal, Decimal]] = []
        closed = released = ZERO
        for s in reversed(self.open):
            if closed >= quantity:
                break
            sq, sv, sref = s
            if sref != ref or sq <= ZERO:
                continue
            take = min(sq, quantity - closed)
            est = sv if take == sq else slice_value(take, sq, sv, quantum)
            plan.append((s, take, est))
            closed += take
            released += est
        if not closed or (closed == quantity and released != value) or (
                released > value if value >= ZERO else released < value):
            return ZERO, ZERO
        for s, take, est in plan:
            s[0] -= take
            s[1] -= est
        self.open = deque(s for s in self.open if s[0] > ZERO)
        return closed, released

    def to_data(self) -> list[list[Any]]:
        return [[str(q), str(v), r] for q, v, r in self.open]

    def load(self, data: list[list[Any]]) -> None:
        self.open = deque([Decimal(q), Decimal(v), r] for q, v, r in data)


def base_state(method: str, digits: int, allow_negative: bool) -> dict[str, Any]:
    return {
        "method": method,
        "version": 1,
        "currency_digits": digits,
        "allow_negative": allow_negative,
    }


def expect_method(state: dict[str, Any], method: str) -> None:
    if not isinstance(state, dict) or state.get("method") != method:
        got = state.get("method") if isinstance(state, dict) else type(state).__name__
        raise StateError(reason=f"expected method {method!r}, got {got!r}",
                         reason_zh=f"计价方法应为 {method!r}，实际为 {got!r}")
    if state.get("version") != 1:
        raise StateError(reason=f"unknown state version {state.get('version')!r}",
                         reason_zh=f"未知的状态版本 {state.get('version')!r}")


def dec(s: object) -> Decimal:
    if not isinstance(s, str):
        raise StateError(reason=f"expected a decimal string, got {s!r}",
                         reason_zh=f"应为十进制数字的文本，实际为 {s!r}")
    try:
        d = Decimal(s)
    except ArithmeticError:
        raise StateError(reason=f"{s!r} is not a decimal",
                         reason_zh=f"{s!r} 不是十进制数") from None
    if not d.is_finite():
        raise StateError(reason=f"{s!r} is not a finite decimal",
                         reason_zh=f"{s!r} 不是有限的十进制数")
    return d


def opt_dec(s: object) -> Decimal | None:
    return None if s is None else dec(s)


def quantum_for(digits: int) -> Decimal:
    return money_quantum(digits)

"""Back-dated movements (补录/倒挤): a dated timeline over one costing scope.

:class:`CostingTimeline` keeps the movements of one scope in date order, drives a perpetual
valuation (FIFO, LIFO, moving average, standard) and records what each issue cost. A movement
dated after the last one is simply applied. A movement dated *before* later movements is
inserted at its place: the timeline restores the valuation as it was just before that place
from the nearest checkpoint, replays the later movements of this scope only, and reports every
issue whose cost changed as a ``back_dating`` :class:`~jxc_core.costing.CostAdjustment` — the
history is never edited, the difference is booked now. The work is proportional to the number
of later movements of the scope (plus at most ``checkpoint_every`` earlier ones), never to the
whole ledger.

Movements dated on or before :attr:`locked_until` (a closed period) are refused with
``period_closed``.

What an issue "cost" here is its effective cost: the cost booked when it left plus every
shortage settlement booked for it since. Value is conserved:
``value = sum(receipt values) - sum(issue costs returned) - sum(adjustments reported)``.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

import attrs

from jxc_core.costing._common import BACK_DATING, SHORTAGE_SETTLEMENT, CostAdjustment
from jxc_core.errors import PeriodClosedError
from jxc_core.values import ZERO, check_number

__all__ = ["CostingTimeline", "PerpetualValuation", "TimelineResult"]

When = dt.date | dt.datetime


class PerpetualValuation(Protocol):
    """What the timeline needs of a valuation (FIFO, LIFO, moving average, standard)."""

    @property
    def quantity(self) -> Decimal: ...

    @property
    def value(self) -> Decimal: ...

    def receive(
        self, quantity: Decimal, unit_cost: Decimal, ref: str | None = None, *,
        value: Decimal | None = None,
    ) -> Decimal: ...

    def issue(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> Decimal: ...

    def take_adjustments(self) -> list[CostAdjustment]: ...

    def to_state(self) -> dict[str, Any]: ...


@attrs.frozen(slots=True)
class TimelineResult:
    """The amount of the new movement (receipt value or issue cost) and what it changed."""

    amount: Decimal
    adjustments: tuple[CostAdjustment, ...]


@attrs.frozen(slots=True)
class _Move:
    key: tuple[int, int, int, int]
    seq: int
    when: When
    is_receipt: bool
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal | None
    ref: str | None
    from_ref: str | None


def _sort_key(when: When) -> tuple[int, int, int]:
    """Order of a date or datetime: (day ordinal, second of day, microsecond); tz dropped."""
    if isinstance(when, dt.datetime):
        return (
            when.toordinal(),
            when.hour * 3600 + when.minute * 60 + when.second,
            when.microsecond,
        )
    if isinstance(when, dt.date):
        return (when.toordinal(), 0, 0)
    raise TypeError(f"when must be a date or datetime, got {type(when).__name__}")


class CostingTimeline:
    """Dated movements of one costing scope, with back-dated insertion."""

    def __init__(
        self,
        factory: Callable[[], PerpetualValuation],
        restore: Callable[[dict[str, Any]], PerpetualValuation],
        *,
        checkpoint_every: int = 64,
    ) -> None:
        """``factory`` makes an empty valuation; ``restore`` rebuilds one from ``to_state``."""
        self._factory = factory
        self._restore = restore
        self._every = checkpoint_every
        self.valuation: PerpetualValuation = factory()
        self._moves: list[_Move] = []
        self._keys: list[tuple[int, int, int, int]] = []
        self._by_seq: dict[int, _Move] = {}
        self._base: dict[int, Decimal] = {}  # issue seq -> cost when it left
        self._settled: dict[int, Decimal] = {}  # issue seq -> settlements booked for it
        #: receipt seq -> the value it entered stock at, with the corrections reported since
        #: (at standard cost a receipt that brings the stock back to zero takes the rounding
        #: left in it: on another path it enters at another cent)
        self._entered: dict[int, Decimal] = {}
        self._checkpoints: dict[int, dict[str, Any]] = {0: self.valuation.to_state()}
        self._seq = 0
        self.locked_until: When | None = None
        self.replayed = 0  # movements replayed by back-dated insertions (for measurement)

    # -- reading -------------------------------------------------------------------------
    @property
    def quantity(self) -> Decimal:
        return self.valuation.quantity

    @property
    def value(self) -> Decimal:
        return self.valuation.value

    def __len__(self) -> int:
        return len(self._moves)

    def issue_cost(self, ref: str) -> Decimal:
        """Effective cost of the issue named ``ref`` (sum if several share the name)."""
        total = ZERO
        for m in self._moves:
            if not m.is_receipt and m.ref == ref:
                total += self._base[m.seq] + self._settled.get(m.seq, ZERO)
        return total

    # -- writing -------------------------------------------------------------------------
    def _locked(self, when: When) -> bool:
        until = self.locked_until
        assert until is not None
        if not isinstance(until, dt.datetime):  # a date closes the whole day
            return _sort_key(when)[0] <= until.toordinal()
        return _sort_key(when) <= _sort_key(until)

    def lock(self, until: When) -> None:
        """Refuse from now on every movement dated on or before ``until`` (period closed)."""
        self.locked_until = until

    def receive(
        self, when: When, quantity: Decimal, unit_cost: Decimal, ref: str | None = None, *,
        value: Decimal | None = None,
    ) -> TimelineResult:
        return self._post(when, True, quantity, unit_cost, value, ref, None)

    def issue(
        self, when: When, quantity: Decimal, ref: str | None = None, *,
        from_ref: str | None = None,
    ) -> TimelineResult:
        return self._post(when, False, quantity, ZERO, None, ref, from_ref)

    def _post(
        self, when: When, is_receipt: bool, quantity: Decimal, unit_cost: Decimal,
        value: Decimal | None, ref: str | None, from_ref: str | None,
    ) -> TimelineResult:
        check_number(quantity, "quantity")
        if self.locked_until is not None and self._locked(when):
            raise PeriodClosedError(date=when)
        key = (*_sort_key(when), self._seq)
        move = _Move(key, self._seq, when, is_receipt, quantity, unit_cost, value, ref, from_ref)
        pos = bisect.bisect_right(self._keys, key)
        if pos == len(self._moves):
            amount, settlements = self._apply(self.valuation, move)
            self._record(move, pos, amount)
            self._seq += 1
            if len(self._moves) % self._every == 0:
                self._checkpoints[len(self._moves)] = self.valuation.to_state()
            return TimelineResult(amount, self._book_settlements(settlements))
        return self._insert(move, pos)

    def _apply(
        self, v: PerpetualValuation, m: _Move
    ) -> tuple[Decimal, list[CostAdjustment]]:
        if m.is_receipt:
            amount = v.receive(m.quantity, m.unit_cost, m.ref, value=m.value)
        else:
            amount = v.issue(m.quantity, m.from_ref, ref=str(m.seq))
        return amount, v.take_adjustments()

    def _record(self, move: _Move, pos: int, amount: Decimal) -> None:
        self._moves.insert(pos, move)
        self._keys.insert(pos, move.key)
        self._by_seq[move.seq] = move
        if move.is_receipt:
            self._entered[move.seq] = amount
        else:
            self._base[move.seq] = amount

    def _book_settlements(self, adjustments: list[CostAdjustment]) -> tuple[CostAdjustment, ...]:
        out = []
        for a in adjustments:
            if a.reason == SHORTAGE_SETTLEMENT and a.issue_ref is not None:
                seq = int(a.issue_ref)
                self._settled[seq] = self._settled.get(seq, ZERO) + a.amount
                out.append(attrs.evolve(a, issue_ref=self._by_seq[seq].ref))
            else:
                out.append(a)
        return tuple(out)

    def _insert(self, move: _Move, pos: int) -> TimelineResult:
        start = max(c for c in self._checkpoints if c <= pos)
        v = self._restore(self._checkpoints[start])
        tail = [*self._moves[start:pos], move, *self._moves[pos:]]
        # settlements booked before the checkpoint are final; the replay re-books the rest
        new_settled = self._settled_before(start)
        new_base: dict[int, Decimal] = {}
        new_entered: dict[int, Decimal] = {}
        checkpoints = {c: st for c, st in self._checkpoints.items() if c <= start}
        amount = ZERO
        own: list[CostAdjustment] = []
        for j, m in enumerate(tail):
            i = start + j
            if j and i % self._every == 0:
                checkpoints[i] = v.to_state()
            got, adjustments = self._apply(v, m)
            if m.is_receipt:
                new_entered[m.seq] = got
            else:
                new_base[m.seq] = got
            if m is move:
                amount = got
                own = [a for a in adjustments if a.reason != SHORTAGE_SETTLEMENT]
            for a in adjustments:
                if a.reason == SHORTAGE_SETTLEMENT and a.issue_ref is not None:
                    seq = int(a.issue_ref)
                    new_settled[seq] = new_settled.get(seq, ZERO) + a.amount
        end = start + len(tail)
        if end % self._every == 0:
            checkpoints[end] = v.to_state()
        self.replayed += len(tail)
        out: list[CostAdjustment] = list(own)  # the new movement's own events (e.g. variance)
        for m in tail:
            if m.is_receipt:
                if m is not move and new_entered[m.seq] != self._entered[m.seq]:
                    # entered at another value on this path: the stock changes by the
                    # difference (signed as the cost of goods sold sees it)
                    out.append(CostAdjustment(BACK_DATING, self._entered[m.seq]
                                              - new_entered[m.seq], m.quantity, m.ref))
                continue
            if m is move:
                extra = new_settled.get(m.seq, ZERO)
                if extra:
                    out.append(CostAdjustment(SHORTAGE_SETTLEMENT, extra, m.quantity, m.ref))
                continue
            old = self._base[m.seq] + self._settled.get(m.seq, ZERO)
            new = new_base[m.seq] + new_settled.get(m.seq, ZERO)
            if new != old:
                out.append(CostAdjustment(BACK_DATING, new - old, m.quantity, m.ref))
        # issues before the checkpoint whose later settlements changed
        for seq in set(self._settled) | set(new_settled):
            if seq in new_base or seq == move.seq:
                continue
            old_amt = self._settled.get(seq, ZERO)
            new_amt = new_settled.get(seq, ZERO)
            if new_amt != old_amt:
                prior = self._by_seq[seq]
                delta = new_amt - old_amt
                out.append(CostAdjustment(BACK_DATING, delta, prior.quantity, prior.ref))
        # commit the replay
        self.valuation = v
        self._record(move, pos, amount)
        self._base.update(new_base)
        self._entered.update(new_entered)
        self._settled = {seq: amt for seq, amt in new_settled.items() if amt}
        self._checkpoints = checkpoints
        self._seq += 1
        return TimelineResult(amount, tuple(out))

    def _settled_before(self, start: int) -> dict[int, Decimal]:
        """Settlements of issues before ``start`` booked by movements before ``start``.

        Those are final: the replay from the checkpoint re-books only what came after it.
        With no shortage open at the checkpoint, every settlement of an earlier issue was
        booked before it; otherwise the old tail is replayed once to separate the two.
        """
        late = {m.seq for m in self._moves[start:]}
        early = {seq: amt for seq, amt in self._settled.items() if seq not in late}
        if not early or not self._checkpoints[start].get("shortages"):
            return early
        v = self._restore(self._checkpoints[start])
        for m in self._moves[start:]:
            _, adjustments = self._apply(v, m)
            for a in adjustments:
                if a.reason == SHORTAGE_SETTLEMENT and a.issue_ref is not None:
                    seq = int(a.issue_ref)
                    if seq in early:
                        early[seq] -= a.amount
        return {seq: amt for seq, amt in early.items() if amt}

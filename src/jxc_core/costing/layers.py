"""FIFO (先进先出) and LIFO (后进先出) valuation: one layer per receipt.

A layer is ``[remaining qty, remaining value, ref, received qty, key]`` (``key``: a number
that never repeats in the scope, its row in the stored state). An issue consumes the oldest
(FIFO) or newest (LIFO) layers; the value of a slice is
``round_half_up(taken x remaining value / remaining qty)`` and a slice that empties its layer
takes exactly the layer's remaining value, so no rounding residue is ever left in stock.

``issue(q, from_ref=R)`` (a return to supplier) takes the layers of receipt ``R`` first while
they have quantity, then the normal order. Layers emptied that way stay in the queue at zero and
are skipped, so every operation is O(1) amortised whatever the depth of the queue.

Negative stock (``allow_negative=True``): the units beyond stock are valued at the last unit
cost consumed (else the current average, else ``default_cost``, else 0) and kept as an open
shortage; each later receipt fills open shortages first, oldest first, and the difference
between the estimate and the real cost becomes a ``shortage_settlement``
:class:`~jxc_core.costing.CostAdjustment`. Read them with :meth:`take_adjustments`.
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

__all__ = ["FifoValuation", "LayerSlice", "LifoValuation"]

_D = Decimal
_HALF_UP = ROUND_HALF_UP
_divide = DIVISION_CONTEXT.divide
_multiply = DIVISION_CONTEXT.multiply

#: what an issue took from one layer: (layer key, receipt ref, the layer's received quantity,
#: quantity taken, value taken) — :meth:`FifoValuation.issue_layers`, :meth:`~FifoValuation.restore`
LayerSlice = tuple[int, "str | None", Decimal, Decimal, Decimal]


class _LayerValuation(ValuationBase):
    """Common engine of FIFO and LIFO (``_front`` is 0 for FIFO, -1 for LIFO)."""

    method: ClassVar[str] = ""
    _front: ClassVar[int] = 0

    __slots__ = ("_by_ref", "_changed", "_last_q", "_last_v", "_layers", "_next", "_pop",
                 "_settled", "_shortages")

    def _shortage_book(self) -> ShortageBook:
        return self._shortages

    def _setup(self) -> None:
        self._layers: deque[list[Any]] = deque()
        self._pop = self._layers.popleft if self._front == 0 else self._layers.pop
        self._by_ref: dict[str, list[list[Any]]] = {}
        self._shortages = ShortageBook()
        self._last_q: Decimal | None = None
        self._last_v: Decimal | None = None
        self._next = 0
        #: layers changed since the last take_changes, by key
        self._changed: dict[int, list[Any]] = {}
        #: what the last receipt that filled shortages settled (not stored: see settled)
        self._settled: list[tuple[str | None, LayerSlice]] = []

    # -- reading -------------------------------------------------------------------------
    @property
    def layers(self) -> list[tuple[Decimal, Decimal, str | None]]:
        """Non-empty layers, in consumption order of FIFO (oldest first): (qty, value, ref)."""
        return [(x[0], x[1], x[2]) for x in self._layers if x[0]]

    @property
    def shortages(self) -> list[tuple[Decimal, Decimal, str | None]]:
        """Open shortages, oldest first: (qty, estimated value, issue ref)."""
        return [(q, v, r) for q, v, r in self._shortages.open]

    @property
    def settled(self) -> list[tuple[str | None, LayerSlice]]:
        """What the last receipt that filled open shortages settled: ``(issue ref, slice)``
        per shortage filled, the slice ``(key, receipt ref, received, units, real cost)``
        naming the receipt's layer. The cancellation of that issue puts those units back into
        the receipt's layer at that cost (:meth:`restore`), as it does with the layers the
        issue took from, so the receipt's layer is whole again. Only meaningful right after a
        receipt made while shortages were open (a receipt that fills none leaves it as it
        was); not part of the stored state."""
        return list(self._settled)

    # -- receiving -----------------------------------------------------------------------
    def receive(
        self,
        quantity: Decimal,
        unit_cost: Decimal,
        ref: str | None = None,
        *,
        value: Decimal | None = None,
    ) -> Decimal:
        """Receive ``quantity`` at ``unit_cost``; returns the receipt's value (rounded money).

        ``value`` (keyword) gives the receipt's total value instead, e.g. a customer return at
        the cost its delivery left with; ``unit_cost`` is then ignored.
        """
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
            return self._receive_filling(quantity, val, ref)
        n = self._next
        self._next = n + 1
        layer = [quantity, val, ref, quantity, n]
        self._layers.append(layer)
        self._changed[n] = layer
        if ref is not None:
            self._index(ref, layer)
        self._qty += quantity
        self._val += val
        return val

    def _index(self, ref: str, layer: list[Any]) -> None:
        found = self._by_ref.get(ref)
        if found is None:
            self._by_ref[ref] = [layer]
        else:
            found.append(layer)

    def _forget(self, ref: str) -> None:
        """Drop a receipt from the index once all its layers have left the queue, so the
        index stays as small as the stock (like a restored state)."""
        found = self._by_ref.get(ref)
        if found is not None and not any(x[0] for x in found):
            del self._by_ref[ref]

    def _receive_filling(self, quantity: Decimal, val: Decimal, ref: str | None) -> Decimal:
        fills: list[tuple[Any, Decimal, Decimal]] = []
        rq, rv, filled, released = self._shortages.fill(
            quantity, val, ref, self._quantum, self._adjustments, fills
        )
        self._qty += filled
        self._val += released
        n = self._next
        self._next = n + 1
        self._settled = [(sref, (n, ref, quantity, take, real)) for sref, take, real in fills]
        if rq > 0:
            layer = [rq, rv, ref, quantity, n]
            self._layers.append(layer)
            self._changed[n] = layer
            if ref is not None:
                self._index(ref, layer)
            self._qty += rq
            self._val += rv
        elif ref is not None:
            self._index(ref, [ZERO, ZERO, ref, quantity, n])
        return val

    # -- issuing -------------------------------------------------------------------------
    def issue(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> Decimal:
        """Issue ``quantity``; returns its cost (positive rounded money).

        ``from_ref`` names a receipt whose layer is consumed first (return to supplier).
        ``ref`` names this issue in the cost adjustments that may follow it.
        Beyond stock with ``allow_negative=False``: ``InsufficientStockError``, nothing changed.
        """
        if (type(quantity) is not _D or not quantity.is_finite() or quantity <= ZERO
                or quantity >= MAX_MAGNITUDE):
            quantity = bad_quantity(quantity)
        qty = self._qty
        if quantity > qty:
            if not self._allow:
                raise insufficient(self.item, self.warehouse, quantity, qty)
            return self._issue_short(quantity, from_ref, ref)
        if from_ref is not None:
            return self._issue_from_ref(quantity, from_ref)
        layers = self._layers
        front = self._front
        # fast paths: the issue stays inside the first layer, or empties exactly it
        layer = layers[front]
        lq = layer[0]
        if quantity < lq:
            lv = layer[1]
            s = _divide(multiply(quantity, lv), lq).quantize(self._quantum, _HALF_UP)
            layer[0] = lq - quantity
            layer[1] = lv - s
            self._changed[layer[4]] = layer
            self._last_q = lq
            self._last_v = lv
            self._qty = qty - quantity
            self._val -= s
            result: Decimal = ZERO + s
            return result
        if quantity == lq:
            lv = layer[1]
            self._pop()
            layer[0] = ZERO
            layer[1] = ZERO
            self._changed[layer[4]] = layer
            if layer[2] is not None:
                self._forget(layer[2])
            self._last_q = lq
            self._last_v = lv
            self._qty = qty - quantity
            cost: Decimal = ZERO + lv
            self._val -= cost
            return cost
        remaining = quantity
        cost = ZERO
        while True:
            layer = layers[front]
            lq = layer[0]
            if lq <= remaining:
                lv = layer[1]
                cost += lv
                remaining -= lq
                self._pop()
                layer[0] = ZERO
                layer[1] = ZERO
                self._changed[layer[4]] = layer
                if layer[2] is not None:
                    self._forget(layer[2])
                if not remaining:
                    if lq:
                        self._last_q = lq
                        self._last_v = lv
                    break
            else:
                lv = layer[1]
                s = _divide(multiply(remaining, lv), lq).quantize(self._quantum, _HALF_UP)
                layer[0] = lq - remaining
                layer[1] = lv - s
                self._changed[layer[4]] = layer
                cost += s
                self._last_q = lq
                self._last_v = lv
                break
        self._qty = qty - quantity
        self._val -= cost
        return cost

    def _issue_from_ref(self, quantity: Decimal, from_ref: str) -> Decimal:
        found = self._by_ref.get(from_ref)
        if found is None:  # no layer of that receipt is left: the normal order
            return self.issue(quantity)
        remaining = quantity
        cost = ZERO
        for layer in found:
            lq = layer[0]
            if not lq:
                continue
            take = lq if lq <= remaining else remaining
            s = slice_value(take, lq, layer[1], self._quantum)
            layer[0] = lq - take
            layer[1] -= s
            self._changed[layer[4]] = layer
            self._last_q = lq
            self._last_v = layer[1] + s
            cost += s
            remaining -= take
            if not remaining:
                break
        self._qty -= quantity - remaining
        self._val -= cost
        self._forget(from_ref)  # all of it returned: forgotten, as a restored state has it
        if remaining:
            cost += self.issue(remaining)
        return cost

    # -- cancelling an issue: the units go back into the layers they left -------------------
    def issue_layers(
        self, quantity: Decimal, from_ref: str | None = None, *, ref: str | None = None
    ) -> tuple[Decimal, list[LayerSlice]]:
        """:meth:`issue`, and the layers it took from: one :data:`LayerSlice` per layer, in
        the order the issue took them (a part beyond stock, negative stock allowed, is in
        none). Reads the whole queue: meant for the rare question "what did that issue
        take", not for every issue."""
        before = [(x[4], x[0], x[1], x[2], x[3]) for x in self._layers]
        cost = self.issue(quantity, from_ref, ref=ref)
        after = {x[4]: (x[0], x[1]) for x in self._layers}
        taken: list[LayerSlice] = []
        for key, q, val, layer_ref, received in before:
            q_after, v_after = after.get(key, (ZERO, ZERO))
            if q_after < q:
                taken.append((key, layer_ref, received, q - q_after, val - v_after))
        if self._front:  # LIFO took the newest first
            taken.reverse()
        if from_ref is not None:  # the named receipt's layers first, as the issue took them
            taken.sort(key=lambda s: s[1] != from_ref)
        return cost, taken

    def _checked(self, slices: list[LayerSlice]) -> list[LayerSlice]:
        """``slices`` with their figures checked: each names a layer ever received here."""
        checked: list[LayerSlice] = []
        for key, layer_ref, received, quantity, value in slices:
            if type(key) is not int or not 0 <= key < self._next:
                raise JxcError("configuration", reason=f"no layer {key!r} was ever received",
                               reason_zh=f"从未入库过层 {key!r}")
            checked.append((key, layer_ref, check_quantity(received, "received"),
                            check_quantity(quantity, "quantity"),
                            check_value(value, self._quantum)))
        return checked

    def restore(self, slices: list[LayerSlice]) -> Decimal:
        """Put units back into the layers an issue took them from (its cancellation): each
        ``(key, ref, received, quantity, value)`` goes back into layer ``key`` — where it still
        is in the queue, else at its place in the queue, which stays in receipt order — so the
        receipt's layer is whole again and the units leave in their old turn, as if never
        issued. Returns the value restored.

        With open shortages (negative stock) the units are not restored: the caller receives
        them (they settle the shortages first), as :meth:`receive` does.

        A key the receipt ``ref`` never had while the receipt still has layers (slices read
        from another build of the scope, whose layers were numbered otherwise) goes into the
        receipt's first layer in the queue with room, so its reception is never counted
        twice; a key that is now another receipt's layer is never shared: the units come
        back as a layer of a new key.
        """
        if self._shortages.open:
            raise JxcError("configuration", reason="open shortages: receive the units instead",
                           reason_zh="存在未结缺货：请改为入库")
        checked = self._checked(slices)  # all checked, then done
        layers = self._layers
        by_key = {x[4]: x for x in layers} if checked else {}
        new: list[list[Any]] = []
        indexed: dict[str, list[list[Any]]] = {}
        total = ZERO
        for key, layer_ref, received, quantity, value in checked:
            layer = by_key.get(key)
            if layer_ref is not None and (layer is None or layer[2] != layer_ref):
                stale = layer is not None  # the key is another receipt's layer now
                own = self._by_ref.get(layer_ref, ())
                layer = None
                if own and all(x[4] != key for x in own):
                    # a key from another build of the scope (the issue's layers were read
                    # from a rebuild, the queue was replayed since): the receipt's layers
                    # are these, the units go back into the first with room
                    room = [x for x in own if x[4] in by_key and x[0] < x[3]]
                    layer = room[0] if room else None
                if layer is None and stale:  # never two layers of one key
                    key = self._next
                    self._next = key + 1
            if layer is None:  # it had left the queue: back at its place, below
                layer = by_key[key] = [ZERO, ZERO, layer_ref, received, key]
                new.append(layer)
            layer[0] += quantity
            layer[1] += value
            self._changed[layer[4]] = layer
            if layer_ref is not None:
                indexed.setdefault(layer_ref, []).append(layer)
            self._qty += quantity
            self._val += value
            total += value
        if new:  # the queue stays in receipt order (keys), one sort whatever the slices
            merged = sorted([*layers, *new], key=lambda x: int(x[4]))
            layers.clear()
            layers.extend(merged)
        for layer_ref, back in indexed.items():
            found = self._by_ref.setdefault(layer_ref, [])
            known = {id(x) for x in found}
            added = []
            for x in back:
                if id(x) not in known:
                    known.add(id(x))
                    added.append(x)
            if added:
                # a receipt that only filled shortages is indexed without a layer in the
                # queue (an empty one of the same key): the layer restored takes its place
                keys = {x[4] for x in added}
                found[:] = [x for x in found if x[4] not in keys]
                found += added
                found.sort(key=lambda x: int(x[4]))
        return total

    def restore_filling(self, slices: list[LayerSlice], ref: str | None = None) -> Decimal:
        """:meth:`restore` while shortages are open (negative stock): the units fill them
        first, oldest first, as a receipt's would (``shortage_settlement`` adjustments, the
        settling receipt named ``ref``), but what they settle is named by the layer they
        belong to (:attr:`settled`: ``(key, layer ref, received, units, real cost)``), so
        the cancellation of the issue they settle puts them back into that layer, which is
        whole again; the units left once no shortage is open are restored into their
        layers. Without open shortages it is :meth:`restore`. Returns the value of the
        slices."""
        if not self._shortages.open:
            self._settled = []
            return self.restore(slices)
        checked = self._checked(slices)  # all checked, then done
        settled: list[tuple[str | None, LayerSlice]] = []
        rest: list[LayerSlice] = []
        total = ZERO
        for key, layer_ref, received, quantity, value in checked:
            total += value
            if not self._shortages.open:
                rest.append((key, layer_ref, received, quantity, value))
                continue
            fills: list[tuple[Any, Decimal, Decimal]] = []
            rq, rv, filled, released = self._shortages.fill(
                quantity, value, ref, self._quantum, self._adjustments, fills)
            self._qty += filled
            self._val += released
            settled += [(sref, (key, layer_ref, received, take, real))
                        for sref, take, real in fills]
            if rq > 0:
                rest.append((key, layer_ref, received, rq, rv))
        self._settled = settled
        if rest:
            self.restore(rest)
        return total

    def _estimate(self, short: Decimal, qty_before: Decimal, val_before: Decimal) -> Decimal:
        """Unrounded value of ``short`` units at the estimate: the last unit cost consumed,
        else the current average, else ``default_cost``, else 0 (short x value / qty, so an
        exact half cent stays exact)."""
        if self._last_q is not None and self._last_v is not None:
            return _divide(short * self._last_v, self._last_q)
        if qty_before > 0:
            return _divide(short * val_before, qty_before)
        if self._default_cost is not None:
            return _multiply(short, self._default_cost)
        return ZERO

    def _issue_short(self, quantity: Decimal, from_ref: str | None, ref: str | None) -> Decimal:
        qty_before, val_before = self._qty, self._val
        cost = ZERO
        on_hand = qty_before if qty_before > 0 else ZERO
        if on_hand:
            cost = self.issue(on_hand, from_ref)
        short = quantity - on_hand
        est_value = self._estimate(short, qty_before, val_before).quantize(
            self._quantum, _HALF_UP)
        self._shortages.open.append([short, est_value, ref])
        self._qty -= short
        self._val -= est_value
        return cost + est_value

    def receipt_remaining(self, ref: str) -> tuple[Decimal, Decimal, Decimal]:
        """(quantity left, value left, quantity received) of the receipt ``ref``."""
        found = self._by_ref.get(ref)
        if found is None:
            raise JxcError("unknown_receipt", ref=ref)
        return (sum((x[0] for x in found), ZERO), sum((x[1] for x in found), ZERO),
                sum((x[3] for x in found), ZERO))

    # -- landed cost ---------------------------------------------------------------------
    def add_landed_cost(
        self, ref: str, amount: Decimal, *, received_quantity: Decimal | None = None
    ) -> Decimal:
        """Add ``amount`` of landed cost to receipt ``ref``; returns the share left in stock.

        The share of the receipt's units still on hand raises their layers
        (``round_half_up(amount x on hand / received)``); the rest, the share of units already
        issued, becomes a ``landed_cost`` adjustment (to COGS). A negative share never takes
        the layers below zero (each cost's share is rounded on its own, so costs that net to
        0.00 can keep a cent less): what they cannot give is issued share too. A receipt whose
        layers are all gone (and forgotten) needs ``received_quantity``: all of the amount is
        then issued share.
        """
        amount = check_money(amount, self._quantum, "amount")
        found = self._by_ref.get(ref)
        if found is not None and not any(layer[0] for layer in found):
            found = None  # used up: as if forgotten, like a restored state
        if found is None:
            if received_quantity is None:
                raise JxcError("unknown_receipt", ref=ref)
            found = []
        received = (check_quantity(received_quantity, "received_quantity")
                    if received_quantity is not None
                    else sum((layer[3] for layer in found), ZERO))
        on_hand = sum((layer[0] for layer in found), ZERO)
        if on_hand > received:
            raise JxcError("received_below_on_hand", ref=ref, received=received,
                           on_hand=on_hand)
        kept = (slice_value(on_hand, received, amount, self._quantum) if on_hand
                else ZERO.quantize(self._quantum))
        if kept < 0:  # never below zero: the units on hand cannot give more than they are worth
            held = sum((layer[1] for layer in found if layer[0]), ZERO)
            if kept < -held:
                kept = -held if held > 0 else ZERO.quantize(self._quantum)
        self._spread(found, kept)
        issued_share = amount - kept
        if issued_share:
            self._adjustments.append(
                CostAdjustment(LANDED_COST, issued_share, received - on_hand, None, ref)
            )
        return kept

    def _spread(self, found: list[list[Any]], kept: Decimal) -> None:
        """Add ``kept`` to the live layers of a receipt, in proportion; the last takes the
        rest. A negative share never takes a layer below zero: what a layer cannot give is
        taken from the others of the receipt, in queue order, while they have value (only a
        kept share replayed as booked can ask for more than they hold: the last layer takes
        it, the stock keeps the booked value)."""
        live = [layer for layer in found if layer[0]]
        quantum = self._quantum
        left_amount, left_qty = kept, sum((layer[0] for layer in live), ZERO)
        parts = []
        for layer in live:
            part = slice_value(layer[0], left_qty, left_amount, quantum)
            parts.append(part)
            left_amount -= part
            left_qty -= layer[0]
        if kept < 0:
            floors = [-layer[1] if layer[1] > 0 else ZERO for layer in live]
            over = ZERO
            for i, floor in enumerate(floors):
                if parts[i] < floor:
                    over += parts[i] - floor
                    parts[i] = floor
            for i, floor in enumerate(floors):
                if not over:
                    break
                take = max(over, floor - parts[i])  # both <= 0
                parts[i] += take
                over -= take
            if over:
                parts[-1] += over
        for layer, part in zip(live, parts, strict=True):
            layer[1] += part
            self._changed[layer[4]] = layer
        self._val += kept

    def add_kept_cost(self, ref: str, kept: Decimal) -> None:
        """Add the on-hand share of a receipt cost that was already split (a replay of a
        ``landed_cost`` ledger entry): no new adjustment."""
        found = self._by_ref.get(ref)
        if not found or not any(layer[0] for layer in found):
            raise JxcError("unknown_receipt", ref=ref)
        self._spread(found, check_money(kept, self._quantum, "kept"))

    # -- state ---------------------------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        last_q = self._last_q
        adjustments = self._adjustments
        shortages = self._shortages
        return {  # base_state(), then this method's figures: one literal is the quickest
            "method": self.method, "version": 1, "currency_digits": self._digits,
            "allow_negative": self._allow, "next": self._next,
            "shortages": shortages.to_data() if shortages.open else [],
            "quantity": str(self._qty), "value": str(self._val),
            "last": None if last_q is None else [str(last_q), str(self._last_v)],
            "default_cost": None if self._default_cost is None else str(self._default_cost),
            "adjustments": [a.to_data() for a in adjustments] if adjustments else [],
        }

    def state_rows(self) -> int:
        return len(self._layers)

    def to_state(self) -> dict[str, Any]:
        """Plain data (str, int, bool, None, lists, dicts) that restores this valuation exactly.

        The layers are ``"rows"``: ``[key, [qty, value, ref, received]]`` in queue order;
        emptied layers are forgotten, so the state stays as small as the stock.
        """
        state = self._header()
        state["rows"] = [[x[4], [str(x[0]), str(x[1]), x[2], str(x[3])]]
                         for x in self._layers if x[0]]
        return state

    def take_changes(self) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        """The header and the layers changed since the last call (emptied ones: ``None``)."""
        changed = self._changed
        self._changed = {}
        return self._header(), [
            (k, [str(x[0]), str(x[1]), x[2], str(x[3])] if x[0] else None)
            for k, x in changed.items()]

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> _LayerValuation:
        """Rebuild a valuation from :meth:`to_state` data (also the earlier form, with
        ``"layers"`` and ``"index"``)."""
        expect_method(state, cls.method)
        v = cls(
            state["currency_digits"],
            state["allow_negative"],
            default_cost=opt_dec(state.get("default_cost")),
        )
        if "layers" in state:  # the earlier form: keys are the positions
            rows = list(enumerate(state["layers"]))
            v._next = len(rows)
        else:
            rows = state.get("rows", [])
            v._next = int(state["next"])
        for key, (q, val, ref, received) in rows:
            layer = [dec(q), dec(val), ref, dec(received), int(key)]
            v._layers.append(layer)
            if ref is not None:
                v._index(ref, layer)
        v._shortages.load(state["shortages"])
        v._qty = dec(state["quantity"])
        v._val = dec(state["value"])
        if state["last"] is not None:
            v._last_q, v._last_v = dec(state["last"][0]), dec(state["last"][1])
        v._adjustments = [CostAdjustment.from_data(a) for a in state["adjustments"]]
        if "layers" in state:  # stored in the earlier form: every layer is still to be a row
            v._changed = {x[4]: x for x in v._layers}
        return v


class FifoValuation(_LayerValuation):
    """First in, first out (先进先出). See the module docstring for the rules."""

    method = "fifo"
    _front = 0
    __slots__ = ()


class LifoValuation(_LayerValuation):
    """Last in, first out (后进先出). Kept for parity: CAS 1 and IFRS (IAS 2) do not allow it."""

    method = "lifo"
    _front = -1
    __slots__ = ()

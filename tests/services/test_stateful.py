"""Stateful property test of the Jxc service on both storage adapters.

A hypothesis state machine receives (sometimes in 箱 = 12 base units), issues (sometimes for a
reservation's demand), transfers between warehouses, moves between locations of a warehouse
(库位移动: the rows change, the valuation does not), reserves (partial or all-or-nothing) and
releases, on FIFO and moving-average items that forbid negative stock and one item that allows
it; and, on a lot-tracked item (lots with expiry dates, the clock moving on by whole days so
that lots expire) and an item kept at locations (库位, sometimes with a lot), receives into lots
and locations, issues naming a lot, a location or neither (the service picks the rows),
reserves lots and delivers demands whose reservations name lots.

The machine keeps its own model of the balance rows (item, warehouse, location, lot) and of the
reservations (demand, item, warehouse, lot), predicts which commands must be refused (and the
shortage reported), and after every step checks the service against the model and against its
own ledger (on hand and value = sums of the ledger, quantity 0 -> value 0, ...). The rules the
model predicts (docs/reservations.md): free = usable on hand less the reservations (a
reservation of an expired lot, or beyond its lot's stock, is short and takes nothing from the
other lots); an out line takes no more than free plus the reservations of its own demand that
it consumes (those naming the lot it takes, then those without a lot), per warehouse and per
lot, and no row goes below zero; an item that allows negative stock may go below zero, but not
while on hand covers reservations of others. Commands never make reservations shorter than
they are (only the clock does, when lots expire).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from jxc_core.adapters import MemoryStorage, PostgresStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, Posting, ReserveLine
from jxc_core.stock import Balance, Item, Reservation, ReservationShortError, Warehouse
from tests import pg_support

D = Decimal
ZERO = D(0)
BOX = "箱"
BOX_FACTOR = D(12)
WAREHOUSES = ("W1", "W2", "W3")
LOCATIONS = ("A", "B")
#: item code -> costing method of the items that forbid negative stock
FORBID = {"F": "fifo", "M": "moving_average"}
NEG = "N"  # the item that allows negative stock (its method is drawn)
PLAIN = (*FORBID, NEG)  # items without lots or locations
LOTTED = "L"  # lot-tracked, FIFO, forbids negative stock
PLACED = "P"  # not lot-tracked, kept at locations, sometimes received with lot PL
ITEMS = (*PLAIN, LOTTED, PLACED)
START = dt.datetime(2026, 3, 1, 8, 0, 0)
#: the lots of L and their expiry (the clock starts on 1 March and moves on by days)
LOT_EXPIRY: dict[str, dt.date | None] = {
    "L1": dt.date(2026, 3, 1), "L2": dt.date(2026, 3, 2), "L3": dt.date(2026, 3, 4),
    "L4": None,
}
PLACED_LOT = "PL"
DEMANDS = ("SO-1", "SO-2", "SO-3", "SO-4")

Key = tuple[str, str]  # (item, warehouse)
RowKey = tuple[str, str, str, str]  # (item, warehouse, location, lot)
ResKey = tuple[str, str, str, str]  # (demand, item, warehouse, lot)
Snapshot = tuple[list[Balance], list[Reservation], dict[Key, int], dict[Key, Decimal]]

items_st = st.sampled_from(PLAIN)
all_items_st = st.sampled_from(ITEMS)
whs_st = st.sampled_from(WAREHOUSES)
#: lots and locations mostly in one warehouse, so that lines split over its rows
rows_whs_st = st.sampled_from(("W1", "W1", "W1", *WAREHOUSES))
lots_st = st.sampled_from(sorted(LOT_EXPIRY))
costs_st = st.one_of(
    st.integers(0, 99_999),
    st.sampled_from([1, 17, 23, 33, 67, 100, 101]),
).map(lambda cents: D(cents).scaleb(-2))


class TickingClock:
    """A clock that moves one second forward on every reading (deterministic, increasing);
    :meth:`next_day` moves it on by a day."""

    def __init__(self) -> None:
        self._now = START

    def now(self) -> dt.datetime:
        self._now += dt.timedelta(seconds=1)
        return self._now

    def today(self) -> dt.date:
        return self._now.date()

    def next_day(self) -> None:
        self._now += dt.timedelta(days=1)


class JxcMachine(RuleBasedStateMachine):
    """Drives one Jxc over a fresh storage; subclasses choose the adapter."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="jxc-stateful-")
        self.storage = self.make_storage(Path(self.tmp))
        self.clock = TickingClock()
        self.jxc = Jxc(self.storage, clock=self.clock)
        self.allow_negative: dict[str, bool] = {}
        self.rows: dict[RowKey, Decimal] = {}
        self.reserved: dict[ResKey, Decimal] = {}
        #: shortage of the reservations per (item, warehouse) after the last step
        self.shortage: dict[Key, Decimal] = {}
        self.days = 0
        #: the lots received so far (the service knows their expiry from then on)
        self.lots: set[str] = set()

    def make_storage(self, tmp: Path) -> Storage:
        raise NotImplementedError

    def teardown(self) -> None:
        close: Callable[[], None] | None = getattr(self.storage, "close", None)
        if close is not None:
            close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- model helpers -------------------------------------------------------------------
    def usable(self, lot: str) -> bool:
        """A lot is usable up to its expiry; one never received has no record: usable."""
        expiry = LOT_EXPIRY.get(lot)
        return lot not in self.lots or expiry is None or expiry >= self.clock.today()

    def model_on_hand(self, item: str, wh: str) -> Decimal:
        return sum((q for (i, w, _, _), q in self.rows.items() if (i, w) == (item, wh)), ZERO)

    def model_reserved(self, item: str, wh: str) -> Decimal:
        return sum((q for (_, i, w, _), q in self.reserved.items() if (i, w) == (item, wh)),
                   ZERO)

    def stock(self, item: str, wh: str) -> dict[str, Decimal]:
        """Usable on hand per lot."""
        out: dict[str, Decimal] = {}
        for (i, w, _, lot), q in self.rows.items():
            if (i, w) == (item, wh) and self.usable(lot):
                out[lot] = out.get(lot, ZERO) + q
        return out

    def bound(self, item: str, wh: str) -> dict[str, Decimal]:
        """Reserved per usable lot (reservations naming it)."""
        out: dict[str, Decimal] = {}
        for (_, i, w, lot), q in self.reserved.items():
            if (i, w) == (item, wh) and lot and self.usable(lot):
                out[lot] = out.get(lot, ZERO) + q
        return out

    def floating(self, item: str, wh: str) -> Decimal:
        return sum((q for (_, i, w, lot), q in self.reserved.items()
                    if (i, w) == (item, wh) and not lot), ZERO)

    def model_free(self, item: str, wh: str) -> Decimal:
        """Free in the warehouse: each usable lot's stock less the reservations of it that it
        covers, less the reservations without a lot."""
        bound = self.bound(item, wh)
        return sum((s - min(bound.get(lot, ZERO), max(s, ZERO))
                    for lot, s in self.stock(item, wh).items()), ZERO) - self.floating(item, wh)

    def model_lot_free(self, item: str, wh: str, lot: str) -> Decimal:
        if not self.usable(lot):
            return ZERO
        return self.stock(item, wh).get(lot, ZERO) - self.bound(item, wh).get(lot, ZERO)

    def shortage_of(self, item: str, wh: str) -> Decimal:
        """Reserved quantity that usable stock does not cover."""
        stock, bound = self.stock(item, wh), self.bound(item, wh)
        short = sum((q for (_, i, w, lot), q in self.reserved.items()
                     if (i, w) == (item, wh) and lot and not self.usable(lot)), ZERO)
        short += sum((max(ZERO, b - max(stock.get(lot, ZERO), ZERO))
                      for lot, b in bound.items()), ZERO)
        spare = sum((max(ZERO, s - bound.get(lot, ZERO)) for lot, s in stock.items()), ZERO)
        return short + max(ZERO, self.floating(item, wh) - spare)

    def own(self, demand: str, item: str, wh: str, lot: str) -> Decimal:
        """What ``demand``'s reservations give an out line: those without a lot, and those
        naming ``lot`` (no lot: any usable lot)."""
        total = ZERO
        for (d, i, w, r_lot), q in self.reserved.items():
            if (d, i, w) != (demand, item, wh):
                continue
            if not r_lot or (r_lot == lot if lot else self.usable(r_lot)):
                total += q
        return total

    def add_row(self, key: RowKey, qty: Decimal) -> None:
        left = self.rows.get(key, ZERO) + qty
        if left:
            self.rows[key] = left
        else:
            self.rows.pop(key, None)

    def apply_entries(self, posting: Posting) -> None:
        for e in posting.entries:
            if e.quantity:
                self.add_row((e.item, e.warehouse, e.location, e.lot), e.quantity)

    def consume(self, demand: str | None, posting: Posting) -> Decimal:
        """An issue for ``demand`` uses that demand's reservations, entry by entry: those naming
        the entry's lot first, then those without a lot. Returns the quantity consumed."""
        if demand is None:
            return ZERO
        used = ZERO
        for e in posting.entries:
            want = -e.quantity
            if want <= 0:
                continue
            keys = [(demand, e.item, e.warehouse, e.lot)]
            if e.lot:
                keys.append((demand, e.item, e.warehouse, ""))
            for key in keys:
                have = self.reserved.get(key, ZERO)
                take = min(have, want)
                if take:
                    want -= take
                    used += take
                    if have - take:
                        self.reserved[key] = have - take
                    else:
                        del self.reserved[key]
        return used

    def predict_out(self, item: str, wh: str, base: Decimal, demand: str | None,
                    lot: str = "", location: str = ""
                    ) -> tuple[str | None, Decimal | None, Decimal]:
        """(the refusal an out line must meet or None, the shortage it reports if known, the
        reservations of ``demand`` it consumes)."""
        if lot and not self.usable(lot):
            return "lot_expired", None, ZERO
        forbid = not self.allow_negative[item]
        use = mine = ZERO
        if demand is not None:
            use = min(base, self.own(demand, item, wh, lot))
            if lot:
                mine = min(base, self.reserved.get((demand, item, wh, lot), ZERO))
        stock, bound = self.stock(item, wh), self.bound(item, wh)
        standing = sum(bound.values(), ZERO) + self.floating(item, wh) - use
        have = max(self.model_free(item, wh), ZERO)
        if base - use > have and (forbid or (standing > 0 and sum(stock.values(), ZERO) > 0)):
            return "insufficient_stock", base - have - use, use
        if lot:
            have = max(self.model_lot_free(item, wh, lot), ZERO)
            if base - mine > have and (forbid or (bound.get(lot, ZERO) - mine > 0
                                                  and stock.get(lot, ZERO) > 0)):
                return "insufficient_stock", base - have - mine, use
        if forbid and not lot:  # the rows the service can pick from: free for this line
            mine_by_lot = {r_lot: q for (d, i, w, r_lot), q in self.reserved.items()
                           if (d, i, w) == (demand, item, wh) and r_lot}
            room = sum((max(ZERO, s - bound.get(r_lot, ZERO) + mine_by_lot.get(r_lot, ZERO))
                        for r_lot, s in stock.items()), ZERO)
            if base > room:
                return "insufficient_stock", None, use
        if forbid and location:
            # each lot's row there gives no more than is free in its lot for this line
            # (others' reservations naming the lot stay: the rest of the lot may be elsewhere)
            mine_lots = {r_lot: q for (d, i, w, r_lot), q in self.reserved.items()
                         if (d, i, w) == (demand, item, wh) and r_lot}
            at = sum((min(max(q, ZERO), max(ZERO, stock.get(r_lot, ZERO)
                                             - bound.get(r_lot, ZERO)
                                             + mine_lots.get(r_lot, ZERO)))
                      if r_lot else max(q, ZERO)
                      for (i, w, loc, r_lot), q in self.rows.items()
                      if (i, w, loc) == (item, wh, location) and self.usable(r_lot)
                      and (not lot or r_lot == lot)), ZERO)
            if base > at:
                return "insufficient_stock", None, use
        return None, None, use

    def snapshot(self) -> Snapshot:
        counts: dict[Key, int] = {}
        values: dict[Key, Decimal] = {}
        for item in ITEMS:
            for wh in WAREHOUSES:
                counts[(item, wh)] = len(self.jxc.ledger(item, wh))
                values[(item, wh)] = self.jxc.balance(item, wh).value
        return self.jxc.balances(), self.jxc.reservations(), counts, values

    def expect_refused(self, code: str, command: Callable[[], Any]) -> JxcError:
        before = self.snapshot()
        try:
            command()
        except JxcError as exc:
            assert exc.code == code, f"refused with {exc.code}, expected {code}: {exc!r}"
            event(f"refused: {code}")
            after = self.snapshot()
            assert after == before, f"refused command changed the state:\n{before}\n{after}"
            return exc
        raise AssertionError(f"expected a {code} refusal, the command went through")

    # -- set up --------------------------------------------------------------------------
    @initialize(neg_method=st.sampled_from(["fifo", "moving_average"]),
                seed=st.lists(st.integers(0, 12), min_size=6, max_size=6))
    def define(self, neg_method: str, seed: list[int]) -> None:
        units = {BOX: BOX_FACTOR}
        for code, method in FORBID.items():
            self.jxc.define_item(Item(code, f"item {code}", units=units, costing_method=method))
            self.allow_negative[code] = False
        self.jxc.define_item(Item(NEG, "negative ok", units=units, costing_method=neg_method,
                                  allow_negative=True))
        self.allow_negative[NEG] = True
        self.jxc.define_item(Item(LOTTED, "perishable", lot_tracked=True))
        self.jxc.define_item(Item(PLACED, "kept at locations"))
        self.allow_negative[LOTTED] = self.allow_negative[PLACED] = False
        for wh in WAREHOUSES:
            self.jxc.define_warehouse(Warehouse(wh, f"warehouse {wh}", locations=LOCATIONS))
        # rows to pick from in W1: three lots of L, three places of P (0: none)
        self.receive_rows("W1", False, D("1.00"), [
            (q, lot, "", False) for q, lot in zip(seed[:3], ("L2", "L3", "L4"), strict=True)
            if q])
        self.receive_rows("W1", True, D("2.00"), [
            (q, "", loc, loc == "B") for q, loc in zip(seed[3:], ("", "A", "B"), strict=True)
            if q])

    # -- commands ------------------------------------------------------------------------
    @rule(item=items_st, wh=whs_st, qty=st.integers(1, 20), boxes=st.booleans(),
          cost=costs_st)
    def receive(self, item: str, wh: str, qty: int, boxes: bool, cost: Decimal) -> None:
        if boxes:
            q = D(1 + qty % 3)
            posting = self.jxc.receive(item, wh, q, cost, unit=BOX)
            base = q * BOX_FACTOR
        else:
            posting = self.jxc.receive(item, wh, D(qty), cost)
            base = D(qty)
        receipt = [e for e in posting.entries if e.kind == "receipt"]
        assert [e.quantity for e in receipt] == [base]
        assert receipt[0].value == (base / BOX_FACTOR * cost if boxes else base * cost
                                    ).quantize(D("0.01"))
        if self.model_on_hand(item, wh) < 0:
            event("receipt fills a shortage")
        self.add_row((item, wh, "", ""), base)

    @rule(wh=rows_whs_st, placed=st.booleans(), cost=costs_st,
          rows=st.lists(st.tuples(st.integers(1, 20), lots_st,
                                  st.sampled_from(("", *LOCATIONS)), st.booleans()),
                        min_size=1, max_size=3))
    def receive_rows(self, wh: str, placed: bool, cost: Decimal,
                     rows: list[tuple[int, str, str, bool]]) -> None:
        """L into lots with their expiry; P at locations, sometimes with a lot."""
        for qty, lot, location, with_lot in rows:
            if placed:
                item, lot, expiry = PLACED, PLACED_LOT if with_lot else "", None
            else:
                item, location, expiry = LOTTED, "", LOT_EXPIRY[lot]
            posting = self.jxc.receive(item, wh, D(qty), cost, lot=lot, expiry=expiry,
                                       location=location)
            assert [(e.location, e.lot, e.quantity) for e in posting.entries] == [
                (location, lot, D(qty))]
            if lot:
                self.lots.add(lot)
            if not self.usable(lot):
                event("receipt into an expired lot")
            self.add_row((item, wh, location, lot), D(qty))

    def _issue(self, item: str, wh: str, base: Decimal, demand: str | None,
               command: Callable[[], Posting], lot: str = "", location: str = "") -> None:
        code, short, use = self.predict_out(item, wh, base, demand, lot, location)
        if code is not None:
            exc = self.expect_refused(code, command)
            if short is not None:
                assert D(str(exc.data["short"])) == short, (exc.data, short)
            return
        reserved_before = self.model_reserved(item, wh)
        posting = command()
        out = [e for e in posting.entries if e.quantity < 0]
        assert sum((e.quantity for e in out), ZERO) == -base
        assert all(e.location == location for e in out if location)
        assert all(e.lot == lot for e in out if lot)
        assert all(self.usable(e.lot) for e in out), "an expired lot was picked"
        assert len({(e.location, e.lot) for e in out}) == len(out), "one entry per row"
        if len(out) > 1:
            event("an out line split over rows")
        if use:
            event("issue consumes its demand's reservation")
        if base > self.model_on_hand(item, wh):
            event("issue goes negative")
        if self.allow_negative[item] and reserved_before - use > 0:
            event("negative stock allowed beside reservations of others")
        self.apply_entries(posting)
        assert self.consume(demand, posting) == use, "the demand's reservations consumed"

    @rule(item=items_st, wh=whs_st, qty=st.integers(1, 40), boxes=st.booleans())
    def issue(self, item: str, wh: str, qty: int, boxes: bool) -> None:
        if boxes:
            q = D(1 + qty % 2)
            self._issue(item, wh, q * BOX_FACTOR, None,
                        lambda: self.jxc.issue(item, wh, q, unit=BOX))
        else:
            self._issue(item, wh, D(qty), None, lambda: self.jxc.issue(item, wh, D(qty)))

    @rule(wh=rows_whs_st, qty=st.integers(1, 30), placed=st.booleans(),
          lot=st.none() | lots_st, location=st.sampled_from(("", "", *LOCATIONS)),
          share=st.none() | st.sampled_from((D("0.5"), D("0.8"), D(1))))
    def issue_rows(self, wh: str, qty: int, placed: bool, lot: str | None,
                   location: str, share: Decimal | None) -> None:
        """L naming a lot or not (FEFO); P naming a location or not. ``share``: that share of
        what is free instead of ``qty``, so that lines go through and split over rows."""
        item = PLACED if placed else LOTTED
        lot_named = "" if placed or lot is None else lot
        loc = location if placed else ""
        base = D(qty)
        if share is not None:
            base = max(D(1), (self.model_free(item, wh) * share).to_integral_value())
        self._issue(item, wh, base, None,
                    lambda: self.jxc.issue(item, wh, base, lot=lot_named, location=loc),
                    lot_named, loc)

    @precondition(lambda self: bool(self.reserved))
    @rule(data=st.data(), extra=st.integers(-30, 30), any_item=st.booleans(),
          name_lot=st.booleans())
    def issue_for_demand(self, data: st.DataObject, extra: int, any_item: bool,
                         name_lot: bool) -> None:
        demand, item, wh, lot = data.draw(st.sampled_from(sorted(self.reserved)),
                                          label="reserved")
        if any_item:  # the demand exists but may hold nothing of this (item, warehouse)
            item = data.draw(all_items_st, label="item")
            wh = data.draw(whs_st, label="warehouse")
        if item != LOTTED or not name_lot:
            lot = ""
        own = self.own(demand, item, wh, lot)
        base = max(D(1), own + extra)
        self._issue(item, wh, base, demand,
                    lambda: self.jxc.issue(item, wh, base, demand=demand, lot=lot), lot)

    @rule(item=all_items_st, src=whs_st, dst=whs_st, qty=st.integers(1, 30),
          from_location=st.sampled_from(("", "", *LOCATIONS)),
          to_location=st.sampled_from(("", "", *LOCATIONS)))
    def transfer(self, item: str, src: str, dst: str, qty: int, from_location: str,
                 to_location: str) -> None:
        """Between warehouses, from the rows anywhere in ``src`` or from one location only
        (strictly, as an issue naming it), landing at ``to_location`` of ``dst``."""
        if src == dst:
            dst = WAREHOUSES[(WAREHOUSES.index(src) + 1) % len(WAREHOUSES)]
        base = D(qty)
        code, short, _ = self.predict_out(item, src, base, None, location=from_location)

        def command() -> Posting:
            return self.jxc.transfer(item, src, dst, base, from_location=from_location,
                                     to_location=to_location)

        if code is not None:
            exc = self.expect_refused(code, command)
            assert short is None or D(str(exc.data["short"])) == short
            return
        posting = command()
        moved = [e for e in posting.entries if e.quantity]
        assert sum((e.quantity for e in moved if e.warehouse == src), ZERO) == -base
        assert sum((e.quantity for e in moved if e.warehouse == dst), ZERO) == base
        # each row taken arrives in the target with its lot, at the location named
        assert sorted((e.lot, -e.quantity) for e in moved if e.warehouse == src) == sorted(
            (e.lot, e.quantity) for e in moved if e.warehouse == dst)
        assert all(e.location == from_location for e in moved
                   if e.warehouse == src and from_location)
        assert all(e.location == to_location for e in moved if e.warehouse == dst)
        if from_location:
            event("a transfer from a location")
        # a transfer moves value, it does not create or destroy it
        assert sum((e.value for e in moved), ZERO) == ZERO
        self.apply_entries(posting)

    def predict_move(self, item: str, wh: str, base: Decimal, lot: str, location: str
                     ) -> tuple[str | None, Decimal | None]:
        """(the refusal a location move must meet or None, the shortage it reports if known).

        Checked as an out line without a demand (free in the warehouse, then in the lot
        named), but its rows are those of ``location`` only (``""``: the rows without a
        location): the lot named, else each usable lot there, each row giving no more than
        its own stock and what is free in its lot. An expired lot named (to a quarantine
        location) is checked on its own: its stock less the reservations naming it, then the
        row's stock."""
        if lot and not self.usable(lot):
            have = max(sum((q for (i, w, _, r_lot), q in self.rows.items()
                            if (i, w, r_lot) == (item, wh, lot)), ZERO)
                       - sum((q for (_, i, w, r_lot), q in self.reserved.items()
                              if (i, w, r_lot) == (item, wh, lot)), ZERO), ZERO)
            if base > have:
                return "insufficient_stock", base - have
            if base > self.rows.get((item, wh, location, lot), ZERO):
                return "insufficient_stock", None
            event("an expired lot moved by name")
            return None, None
        have = max(self.model_free(item, wh), ZERO)
        if base > have:
            return "insufficient_stock", base - have
        stock, bound = self.stock(item, wh), self.bound(item, wh)
        there = {r_lot: q for (i, w, loc, r_lot), q in self.rows.items()
                 if (i, w, loc) == (item, wh, location) and q > 0 and self.usable(r_lot)}
        if lot:
            have = max(self.model_lot_free(item, wh, lot), ZERO)
            if base > have:
                return "insufficient_stock", base - have
            room = there.get(lot, ZERO)
        else:
            room = sum((min(q, max(ZERO, stock.get(r_lot, ZERO) - bound.get(r_lot, ZERO)))
                        for r_lot, q in there.items()), ZERO)
        if base > room:
            return "insufficient_stock", None
        return None, None

    @rule(item=st.sampled_from((*FORBID, LOTTED, PLACED)), wh=rows_whs_st,
          src=st.sampled_from(("", *LOCATIONS)), dst=st.sampled_from(("", *LOCATIONS)),
          qty=st.integers(1, 30), lot=st.none() | lots_st,
          share=st.none() | st.sampled_from((D("0.5"), D(1))))
    def move(self, item: str, wh: str, src: str, dst: str, qty: int, lot: str | None,
             share: Decimal | None) -> None:
        """A location move (库位移动) of a plain item (its stock has no location), of L (in
        lots, without a location) and of P (at locations, sometimes in lot PL): on hand moves
        between the rows, the scope's value and valuation state stay as they are."""
        lot_named = ""
        if item == LOTTED and lot is not None:
            lot_named = lot
        elif item == PLACED and lot is not None:
            lot_named = PLACED_LOT
        base = D(qty)
        if share is not None:  # that share of the source rows, so that moves go through
            at = sum((q for (i, w, loc, r_lot), q in self.rows.items()
                      if (i, w, loc) == (item, wh, src) and (not lot_named or r_lot == lot_named)
                      ), ZERO)
            base = max(D(1), (at * share).to_integral_value())
        self._move(item, wh, src, dst, base, lot_named)

    @precondition(lambda self: any(q > 0 and k[0] != NEG for k, q in self.rows.items()))
    @rule(data=st.data(), name_lot=st.booleans(),
          share=st.sampled_from((D("0.5"), D(1), D(1), D("1.5"))))
    def move_stocked(self, data: st.DataObject, name_lot: bool, share: Decimal) -> None:
        """Move a share of a row that has stock (its lot named or not) to another location,
        so that moves go through (or just fail at the row) often."""
        stocked = sorted(k for k, q in self.rows.items() if q > 0 and k[0] != NEG)
        item, wh, src, lot = data.draw(st.sampled_from(stocked), label="row")
        dst = data.draw(st.sampled_from([x for x in ("", *LOCATIONS) if x != src]), label="to")
        base = max(D(1), (self.rows[(item, wh, src, lot)] * share).to_integral_value())
        self._move(item, wh, src, dst, base, lot if name_lot else "")

    def _move(self, item: str, wh: str, src: str, dst: str, base: Decimal,
              lot_named: str) -> None:
        def command() -> Posting:
            return self.jxc.move(item, wh, base, from_location=src, to_location=dst,
                                 lot=lot_named)

        if src == dst:
            self.expect_refused("same_location", command)
            return
        code, short = self.predict_move(item, wh, base, lot_named, src)
        if code is not None:
            exc = self.expect_refused(code, command)
            if short is not None:
                assert D(str(exc.data["short"])) == short, (exc.data, short)
            return
        scope = (item, wh)
        with self.storage.unit_of_work() as uow:
            before = uow.valuations.get(scope), uow.valuations.version(scope)
        value = self.jxc.balance(item, wh).value
        posting = command()
        outs = [e for e in posting.entries if e.kind == "move_out"]
        ins = [e for e in posting.entries if e.kind == "move_in"]
        assert len(outs) == len(ins) == len(posting.entries) // 2
        assert sum((e.quantity for e in outs), ZERO) == -base
        assert all(e.location == src for e in outs) and all(e.location == dst for e in ins)
        assert all(e.lot == lot_named for e in outs if lot_named)
        assert all(self.usable(e.lot) or e.lot == lot_named for e in outs), \
            "an expired lot was moved without being named"
        # pairwise: the same lot, the same quantity and value, in and out
        assert [(e.lot, -e.quantity, -e.value) for e in outs] == [
            (e.lot, e.quantity, e.value) for e in ins]
        event(f"move of {item} went through")
        if len(outs) > 1:
            event("a move split over lots")
        with self.storage.unit_of_work() as uow:
            after = uow.valuations.get(scope), uow.valuations.version(scope)
        assert after == before, "a move changed the valuation"
        assert self.jxc.balance(item, wh).value == value
        self.apply_entries(posting)

    def _reserve(self, req: list[ReserveLine], bases: list[Decimal], partial: bool) -> None:
        taken: dict[Key, Decimal] = {}
        taken_lot: dict[tuple[str, str, str], Decimal] = {}
        grants: list[Decimal] = []
        short = 0
        for line, base in zip(req, bases, strict=True):
            k = (line.item, line.warehouse)
            avail = self.model_free(*k) - taken.get(k, ZERO)
            if line.lot:
                k3 = (*k, line.lot)
                avail = min(avail, min(self.model_free(*k), self.model_lot_free(*k3))
                            - taken_lot.get(k3, ZERO))
            got = min(base, max(avail, ZERO))
            short += got < base
            taken[k] = taken.get(k, ZERO) + got
            if line.lot:
                taken_lot[(*k, line.lot)] = taken_lot.get((*k, line.lot), ZERO) + got
            grants.append(got)
        if short and not partial:
            exc = self.expect_refused("reservation_short",
                                      lambda: self.jxc.reserve(req, partial=False))
            assert isinstance(exc, ReservationShortError)
            assert len(exc.short_lines) == short  # every short line, not only the first
            return
        if short:
            event("partial reservation")
        result = self.jxc.reserve(req, partial=partial)
        assert list(result.granted) == grants
        assert len(result.short) == short
        assert sorted(r.quantity for r in result.reservations) == sorted(
            g for g in grants if g > 0)
        for line, got in zip(req, grants, strict=True):
            if got > 0:
                k4 = (line.demand, line.item, line.warehouse, line.lot)
                self.reserved[k4] = self.reserved.get(k4, ZERO) + got
                if line.lot:
                    event("reservation of a lot")

    @rule(
        lines=st.lists(st.tuples(st.sampled_from(DEMANDS), all_items_st, whs_st,
                                 st.integers(1, 30), st.booleans(), st.none() | lots_st),
                       min_size=1, max_size=3),
        partial=st.booleans(),
    )
    def reserve(self, lines: list[tuple[str, str, str, int, bool, str | None]],
                partial: bool) -> None:
        req: list[ReserveLine] = []
        bases: list[Decimal] = []
        for d, i, w, q, boxes, lot in lines:
            boxes = boxes and i in PLAIN
            req.append(ReserveLine(d, i, w, D(1) if boxes else D(q),
                                   lot=lot if lot is not None and i == LOTTED else "",
                                   unit=BOX if boxes else None))
            bases.append(BOX_FACTOR if boxes else D(q))
        self._reserve(req, bases, partial)

    @precondition(lambda self: any(q > 0 for q in self.rows.values()))
    @rule(data=st.data(), demand=st.sampled_from(DEMANDS), qty=st.integers(1, 30),
          partial=st.booleans(), name_lot=st.booleans())
    def reserve_in_stock(self, data: st.DataObject, demand: str, qty: int,
                         partial: bool, name_lot: bool) -> None:
        """Reserve where there is stock (of a lot: naming it), so that reservations are
        actually granted."""
        stocked = sorted(k for k, q in self.rows.items() if q > 0)
        item, wh, _, lot = data.draw(st.sampled_from(stocked), label="stocked")
        lot = lot if item == LOTTED and name_lot else ""
        self._reserve([ReserveLine(demand, item, wh, D(qty), lot=lot)], [D(qty)], partial)

    @precondition(lambda self: any(q > 0 and k[0] == LOTTED and self.usable(k[3])
                                   for k, q in self.rows.items()))
    @rule(data=st.data(), demand=st.sampled_from(DEMANDS), qty=st.integers(1, 10))
    def reserve_lot(self, data: st.DataObject, demand: str, qty: int) -> None:
        """Reserve part of a lot that has usable stock."""
        stocked = sorted(k for k, q in self.rows.items()
                         if q > 0 and k[0] == LOTTED and self.usable(k[3]))
        item, wh, _, lot = data.draw(st.sampled_from(stocked), label="lot")
        self._reserve([ReserveLine(demand, item, wh, D(qty), lot=lot)], [D(qty)], True)

    @rule(demand=st.sampled_from(DEMANDS))
    def release(self, demand: str) -> None:
        expected = sum((q for (d, _, _, _), q in self.reserved.items() if d == demand), ZERO)
        assert self.jxc.release(demand) == expected
        for k in [k for k in self.reserved if k[0] == demand]:
            del self.reserved[k]
        assert self.jxc.reservations(demand) == []

    @precondition(lambda self: self.days < 4)
    @rule()
    def next_day(self) -> None:
        """The clock moves on a day: lots expire (their stock and reservations are short)."""
        self.clock.next_day()
        self.days += 1
        for item, wh in {(i, w) for (i, w, _, lot) in self.rows if lot}:
            if any(not self.usable(lot) and q > 0 for (i, w, _, lot), q in self.rows.items()
                   if (i, w) == (item, wh)):
                event("stock in an expired lot")
        self.shortage.clear()  # expiry may make reservations short: start again

    # -- invariants ----------------------------------------------------------------------
    @invariant()
    def balances_match_ledger_and_model(self) -> None:
        active = self.jxc.reservations()
        for item in ITEMS:
            for wh in WAREHOUSES:
                b = self.jxc.balance(item, wh)
                ledger = self.jxc.ledger(item, wh)
                q = sum((x.entry.quantity for x in ledger), ZERO)
                v = sum((x.entry.value for x in ledger), ZERO)
                where = f"{item}@{wh}"
                assert b.on_hand == q, f"{where}: on hand {b.on_hand} != ledger {q}"
                assert b.value == v, f"{where}: value {b.value} != ledger {v}"
                if b.on_hand == 0:
                    assert b.value == 0, f"{where}: quantity 0 but value {b.value}"
                res = sum((r.quantity for r in active if (r.item, r.warehouse) == (item, wh)),
                          ZERO)
                if item != LOTTED:  # lots expire: their reservations become short
                    if not self.allow_negative[item]:
                        assert b.available >= 0, f"{where}: available {b.available} < 0"
                    assert res == 0 or res <= b.on_hand, (
                        f"{where}: reserved {res} > on hand {b.on_hand}")
                # the machine's own model of what the successful commands did
                assert b.on_hand == self.model_on_hand(item, wh), (
                    f"{where}: on hand {b.on_hand} != model {self.model_on_hand(item, wh)}")
                assert b.reserved == self.model_reserved(item, wh), (
                    f"{where}: reserved {b.reserved} != model {self.model_reserved(item, wh)}")
                free = self.model_free(item, wh)
                assert b.available == free, f"{where}: available {b.available} != {free}"
                [line] = self.jxc.availability([(item, wh, D(1))])
                assert line.available == free, f"{where}: availability {line.available}"
                # commands never make reservations shorter than they were
                short = self.shortage_of(item, wh)
                before = self.shortage.get((item, wh))
                assert before is None or short <= before, (
                    f"{where}: reservations short by {short}, were {before}")
                self.shortage[(item, wh)] = short

    @invariant()
    def rows_and_reservations_match_model(self) -> None:
        rows = {(b.item, b.warehouse, b.location, b.lot): b.on_hand
                for b in self.jxc.balances() if b.on_hand}
        assert rows == self.rows
        for key, q in rows.items():
            if not self.allow_negative[key[0]]:
                assert q > 0, f"row {key} below zero: {q}"
        got: dict[ResKey, Decimal] = {}
        for r in self.jxc.reservations():
            k = (r.demand, r.item, r.warehouse, r.lot)
            got[k] = got.get(k, ZERO) + r.quantity
        assert got == self.reserved


class MachineMemory(JxcMachine):
    def make_storage(self, tmp: Path) -> Storage:
        return MemoryStorage()


class MachineSqlite(JxcMachine):
    def make_storage(self, tmp: Path) -> Storage:
        return SqliteStorage(str(tmp / "jxc.db"))


class MachinePostgres(JxcMachine):
    """On PostgreSQL: each example a new schema on the session's server (``pg_server``)."""

    server: str = ""

    def make_storage(self, tmp: Path) -> Storage:
        return PostgresStorage(pg_support.fresh_dsn(self.server))


_SETTINGS = settings(max_examples=100, stateful_step_count=30, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])

TestStatefulMemory = MachineMemory.TestCase
TestStatefulMemory.settings = _SETTINGS
TestStatefulSqlite = MachineSqlite.TestCase
TestStatefulSqlite.settings = _SETTINGS
TestStatefulPostgres = MachinePostgres.TestCase
#: fewer examples than the embedded adapters: each one makes a schema on the server
TestStatefulPostgres.settings = settings(_SETTINGS, max_examples=25)


@pytest.fixture(autouse=True)
def _postgres_server(request: pytest.FixtureRequest) -> None:
    """The PostgreSQL machine gets the session's server (only its tests ask for one)."""
    if request.cls is TestStatefulPostgres:
        MachinePostgres.server = request.getfixturevalue("pg_server")

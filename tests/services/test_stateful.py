"""Stateful property test of the Jxc service on both storage adapters.

A hypothesis state machine receives (sometimes in 箱 = 12 base units), issues (sometimes for a
reservation's demand), transfers between warehouses, reserves (partial or all-or-nothing) and
releases, on FIFO and moving-average items that forbid negative stock and one item that allows
it. The machine keeps its own model of on hand and of reservations, predicts which commands
must be refused, and after every step checks the service against the model and against its
own ledger (on hand and value = sums of the ledger, quantity 0 -> value 0, ...).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Balance, Item, Reservation, ReservationShortError, Warehouse

D = Decimal
ZERO = D(0)
BOX = "箱"
BOX_FACTOR = D(12)
WAREHOUSES = ("W1", "W2", "W3")
#: item code -> costing method of the items that forbid negative stock
FORBID = {"F": "fifo", "M": "moving_average"}
NEG = "N"  # the item that allows negative stock (its method is drawn)
ITEMS = (*FORBID, NEG)
DEMANDS = ("SO-1", "SO-2", "SO-3", "SO-4")

Key = tuple[str, str]  # (item, warehouse)
ResKey = tuple[str, str, str]  # (demand, item, warehouse)
Snapshot = tuple[list[Balance], list[Reservation], dict[Key, int], dict[Key, Decimal]]

items_st = st.sampled_from(ITEMS)
whs_st = st.sampled_from(WAREHOUSES)
costs_st = st.one_of(
    st.integers(0, 99_999),
    st.sampled_from([1, 17, 23, 33, 67, 100, 101]),
).map(lambda cents: D(cents).scaleb(-2))


class TickingClock:
    """A clock that moves one second forward on every reading (deterministic, increasing)."""

    def __init__(self) -> None:
        self._now = dt.datetime(2026, 3, 1, 8, 0, 0)

    def now(self) -> dt.datetime:
        self._now += dt.timedelta(seconds=1)
        return self._now


class JxcMachine(RuleBasedStateMachine):
    """Drives one Jxc over a fresh storage; subclasses choose the adapter."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="jxc-stateful-")
        self.storage = self.make_storage(Path(self.tmp))
        self.jxc = Jxc(self.storage, clock=TickingClock())
        self.allow_negative: dict[str, bool] = {}
        self.on_hand: dict[Key, Decimal] = {}
        self.reserved: dict[ResKey, Decimal] = {}

    def make_storage(self, tmp: Path) -> Storage:
        raise NotImplementedError

    def teardown(self) -> None:
        close: Callable[[], None] | None = getattr(self.storage, "close", None)
        if close is not None:
            close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- model helpers -------------------------------------------------------------------
    def model_on_hand(self, item: str, wh: str) -> Decimal:
        return self.on_hand.get((item, wh), ZERO)

    def model_reserved(self, item: str, wh: str) -> Decimal:
        return sum((q for (_, i, w), q in self.reserved.items() if (i, w) == (item, wh)), ZERO)

    def model_available(self, item: str, wh: str) -> Decimal:
        return self.model_on_hand(item, wh) - self.model_reserved(item, wh)

    def add_on_hand(self, item: str, wh: str, qty: Decimal) -> None:
        self.on_hand[(item, wh)] = self.model_on_hand(item, wh) + qty

    def consume(self, demand: str | None, item: str, wh: str, qty: Decimal) -> None:
        """An issue for ``demand`` uses that demand's reservations of (item, wh) first."""
        if demand is None:
            return
        key = (demand, item, wh)
        own = self.reserved.get(key, ZERO)
        left = own - min(own, qty)
        if left > 0:
            self.reserved[key] = left
        else:
            self.reserved.pop(key, None)

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
    @initialize(neg_method=st.sampled_from(["fifo", "moving_average"]))
    def define(self, neg_method: str) -> None:
        units = {BOX: BOX_FACTOR}
        for code, method in FORBID.items():
            self.jxc.define_item(Item(code, f"item {code}", units=units, costing_method=method))
            self.allow_negative[code] = False
        self.jxc.define_item(Item(NEG, "negative ok", units=units, costing_method=neg_method,
                                  allow_negative=True))
        self.allow_negative[NEG] = True
        for wh in WAREHOUSES:
            self.jxc.define_warehouse(Warehouse(wh, f"warehouse {wh}"))

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
        self.add_on_hand(item, wh, base)

    def _issue(self, item: str, wh: str, base: Decimal, demand: str | None,
               command: Callable[[], Any]) -> None:
        own = ZERO if demand is None else self.reserved.get((demand, item, wh), ZERO)
        limit = self.model_available(item, wh) + own
        if not self.allow_negative[item] and base > limit:
            exc = self.expect_refused("insufficient_stock", command)
            assert D(str(exc.data["short"])) == base - limit
            return
        posting = command()
        assert sum((e.quantity for e in posting.entries), ZERO) == -base
        if own:
            event("issue consumes its demand's reservation")
        if base > self.model_on_hand(item, wh):
            event("issue goes negative")
        self.add_on_hand(item, wh, -base)
        self.consume(demand, item, wh, base)

    @rule(item=items_st, wh=whs_st, qty=st.integers(1, 40), boxes=st.booleans())
    def issue(self, item: str, wh: str, qty: int, boxes: bool) -> None:
        if boxes:
            q = D(1 + qty % 2)
            self._issue(item, wh, q * BOX_FACTOR, None,
                        lambda: self.jxc.issue(item, wh, q, unit=BOX))
        else:
            self._issue(item, wh, D(qty), None, lambda: self.jxc.issue(item, wh, D(qty)))

    @precondition(lambda self: bool(self.reserved))
    @rule(data=st.data(), extra=st.integers(-30, 30), any_item=st.booleans())
    def issue_for_demand(self, data: st.DataObject, extra: int, any_item: bool) -> None:
        demand, item, wh = data.draw(st.sampled_from(sorted(self.reserved)), label="reserved")
        if any_item:  # the demand exists but may hold nothing of this (item, warehouse)
            item = data.draw(items_st, label="item")
            wh = data.draw(whs_st, label="warehouse")
        own = self.reserved.get((demand, item, wh), ZERO)
        base = max(D(1), own + extra)
        self._issue(item, wh, base, demand,
                    lambda: self.jxc.issue(item, wh, base, demand=demand))

    @rule(item=items_st, src=whs_st, dst=whs_st, qty=st.integers(1, 30))
    def transfer(self, item: str, src: str, dst: str, qty: int) -> None:
        if src == dst:
            dst = WAREHOUSES[(WAREHOUSES.index(src) + 1) % len(WAREHOUSES)]
        base = D(qty)
        if not self.allow_negative[item] and base > self.model_available(item, src):
            self.expect_refused("insufficient_stock",
                                lambda: self.jxc.transfer(item, src, dst, base))
            return
        posting = self.jxc.transfer(item, src, dst, base)
        moved = [e for e in posting.entries if e.quantity]
        assert sorted((e.warehouse, e.quantity) for e in moved) == sorted(
            [(src, -base), (dst, base)])
        # a transfer moves value, it does not create or destroy it
        assert sum((e.value for e in moved), ZERO) == ZERO
        self.add_on_hand(item, src, -base)
        self.add_on_hand(item, dst, base)

    @rule(
        lines=st.lists(st.tuples(st.sampled_from(DEMANDS), items_st, whs_st,
                                 st.integers(1, 30), st.booleans()),
                       min_size=1, max_size=3),
        partial=st.booleans(),
    )
    def reserve(self, lines: list[tuple[str, str, str, int, bool]], partial: bool) -> None:
        req = [ReserveLine(d, i, w, D(1) if boxes else D(q), unit=BOX if boxes else None)
               for d, i, w, q, boxes in lines]
        bases = [BOX_FACTOR if boxes else D(q) for _, _, _, q, boxes in lines]
        taken: dict[Key, Decimal] = {}
        grants: list[Decimal] = []
        short = 0
        for line, base in zip(req, bases, strict=True):
            k = (line.item, line.warehouse)
            avail = max(self.model_available(*k) - taken.get(k, ZERO), ZERO)
            got = min(base, avail)
            short += got < base
            taken[k] = taken.get(k, ZERO) + got
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
                k3 = (line.demand, line.item, line.warehouse)
                self.reserved[k3] = self.reserved.get(k3, ZERO) + got

    @precondition(lambda self: any(q > 0 for q in self.on_hand.values()))
    @rule(data=st.data(), demand=st.sampled_from(DEMANDS), qty=st.integers(1, 30),
          partial=st.booleans())
    def reserve_in_stock(self, data: st.DataObject, demand: str, qty: int,
                         partial: bool) -> None:
        """Reserve where there is stock, so that reservations are actually granted."""
        stocked = sorted(k for k, q in self.on_hand.items() if q > 0)
        item, wh = data.draw(st.sampled_from(stocked), label="stocked")
        self.reserve([(demand, item, wh, qty, False)], partial)

    @rule(demand=st.sampled_from(DEMANDS))
    def release(self, demand: str) -> None:
        expected = sum((q for (d, _, _), q in self.reserved.items() if d == demand), ZERO)
        assert self.jxc.release(demand) == expected
        for k in [k for k in self.reserved if k[0] == demand]:
            del self.reserved[k]
        assert self.jxc.reservations(demand) == []

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
                if not self.allow_negative[item]:
                    assert b.available >= 0, f"{where}: available {b.available} < 0"
                    res = sum((r.quantity for r in active
                               if (r.item, r.warehouse) == (item, wh)), ZERO)
                    assert res <= b.on_hand, f"{where}: reserved {res} > on hand {b.on_hand}"
                # the machine's own model of what the successful commands did
                assert b.on_hand == self.model_on_hand(item, wh), (
                    f"{where}: on hand {b.on_hand} != model {self.model_on_hand(item, wh)}")
                assert b.reserved == self.model_reserved(item, wh), (
                    f"{where}: reserved {b.reserved} != model {self.model_reserved(item, wh)}")


class MachineMemory(JxcMachine):
    def make_storage(self, tmp: Path) -> Storage:
        return MemoryStorage()


class MachineSqlite(JxcMachine):
    def make_storage(self, tmp: Path) -> Storage:
        return SqliteStorage(str(tmp / "jxc.db"))


_SETTINGS = settings(max_examples=100, stateful_step_count=30, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])

TestStatefulMemory = MachineMemory.TestCase
TestStatefulMemory.settings = _SETTINGS
TestStatefulSqlite = MachineSqlite.TestCase
TestStatefulSqlite.settings = _SETTINGS

"""Transfers between warehouses that name locations (``Jxc.transfer(from_location=,
to_location=)``), and the idempotency key of ``Jxc.hold``. On both adapters (the ``storage``
fixture)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.services.jxc import fingerprint
from jxc_core.stock import Item, Warehouse

from .support import HandClock

D = Decimal
T0 = dt.datetime(2026, 3, 2, 9, 0)


def shop(storage: Storage, method: str = "fifo", *, org: bool = False,
         **item: Any) -> tuple[Jxc, HandClock]:
    """Item X costed by ``method``; W (locations A, B), W2 (locations A, B), T in transit."""
    clock = HandClock(T0)
    j = Jxc(storage, clock=clock, organisation_scope=org)
    j.define_item(Item("X", "item", costing_method=method, **item))
    j.define_warehouse(Warehouse("W", "main", locations=("A", "B")))
    j.define_warehouse(Warehouse("W2", "second", locations=("A", "B")))
    j.define_warehouse(Warehouse("T", "on the road", in_transit=True))
    return j, clock


def rows(j: Jxc, wh: str, item: str = "X") -> dict[tuple[str, str], Decimal]:
    return {(b.location, b.lot): b.on_hand for b in j.balances()
            if (b.item, b.warehouse) == (item, wh) and b.on_hand}


def snapshot(j: Jxc) -> Any:
    return (j.balances(), j.reservations(), [x.entry for x in j.ledger("X")],
            [(j.balance("X", wh).value) for wh in ("W", "W2", "T")])


def refused(j: Jxc, code: str, command: Callable[[], object]) -> JxcError:
    before = snapshot(j)
    with pytest.raises(JxcError) as info:
        command()
    assert info.value.code == code, info.value
    assert snapshot(j) == before, "a refused command wrote something"
    return info.value


def stocked(j: Jxc, clock: HandClock) -> None:
    """W: 4 @ 1.00 at A, then 10 @ 2.00 at B."""
    j.receive("X", "W", D(4), D("1.00"), location="A", doc_id="RK-1")
    clock.at += dt.timedelta(hours=1)
    j.receive("X", "W", D(10), D("2.00"), location="B", doc_id="RK-2")
    clock.at += dt.timedelta(hours=1)


# -- where the units leave and land -----------------------------------------------------------
def test_from_a_location_to_a_location(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    p = j.transfer("X", "W", "W2", D(3), from_location="B", to_location="A", doc_id="DB-1")
    assert [(e.kind, e.warehouse, e.location, e.quantity, e.value) for e in p.entries] == [
        ("transfer_out", "W", "B", D(-3), D("-3.00")),  # FIFO: the layer of A's 1.00 units
        ("transfer_in", "W2", "A", D(3), D("3.00"))]
    assert rows(j, "W") == {("A", ""): D(4), ("B", ""): D(7)}
    assert rows(j, "W2") == {("A", ""): D(3)}
    assert (j.balance("X", "W2").on_hand, j.balance("X", "W2").value) == (D(3), D("3.00"))


def test_without_locations_it_picks_and_lands_as_before(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    p = j.transfer("X", "W", "W2", D(6))  # the pick path: A, then B
    assert [(e.warehouse, e.location, e.quantity) for e in p.entries] == [
        ("W", "A", D(-4)), ("W2", "", D(4)), ("W", "B", D(-2)), ("W2", "", D(2))]
    assert rows(j, "W2") == {("", ""): D(6)}


def test_a_location_named_is_strict(storage: Storage) -> None:
    """Like an issue naming a location: what A lacks is short, whatever B holds."""
    j, clock = shop(storage)
    stocked(j, clock)
    exc = refused(j, "insufficient_stock",
                  lambda: j.transfer("X", "W", "W2", D(5), from_location="A"))
    assert exc.data["location"] == "A"
    # a hold on the row stays there
    j.hold("X", "W", D(2), location="A")
    exc = refused(j, "insufficient_stock",
                  lambda: j.transfer("X", "W", "W2", D(3), from_location="A"))
    assert exc.data["location"] == "A"
    j.transfer("X", "W", "W2", D(2), from_location="A", to_location="B")
    assert rows(j, "W") == {("A", ""): D(2), ("B", ""): D(10)}
    assert rows(j, "W2") == {("B", ""): D(2)}


def test_unknown_locations_are_refused(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    for kw, key in (({"to_location": "Z"}, "W2/Z"), ({"from_location": "Z"}, "W/Z")):
        exc = refused(j, "not_found", lambda kw=kw: j.transfer("X", "W", "W2", D(1), **kw))
        assert (exc.data["kind"], exc.data["key"]) == ("location", key)
    with pytest.raises(TypeError, match="to_location"):
        j.transfer("X", "W", "W2", D(1), to_location=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="from_location"):
        j.transfer("X", "W", "W2", D(1), from_location=1)  # type: ignore[arg-type]
    assert rows(j, "W2") == {}


def test_lots_arrive_with_their_lot_at_the_location(storage: Storage) -> None:
    j, _ = shop(storage)
    j.define_item(Item("P", "perishable", lot_tracked=True))
    j.receive("P", "W", D(3), D("1.00"), lot="LATE", expiry=dt.date(2026, 12, 1), location="A")
    j.receive("P", "W", D(3), D("1.00"), lot="SOON", expiry=dt.date(2026, 6, 1), location="A")
    j.receive("P", "W", D(9), D("1.00"), lot="SOON", location="B")
    j.transfer("P", "W", "W2", D(5), from_location="A", to_location="B")
    assert rows(j, "W", "P") == {("A", "LATE"): D(1), ("B", "SOON"): D(9)}
    assert rows(j, "W2", "P") == {("B", "SOON"): D(3), ("B", "LATE"): D(2)}


def test_through_in_transit(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    j.transfer("X", "W", "T", D(3), from_location="B")
    assert rows(j, "T") == {("", ""): D(3)}
    j.transfer("X", "T", "W2", D(3), to_location="B")
    assert rows(j, "T") == {} and rows(j, "W2") == {("B", ""): D(3)}
    assert j.balance("X", "W2").value == D("3.00")


def test_organisation_scope(storage: Storage) -> None:
    j, clock = shop(storage, "moving_average", org=True)
    stocked(j, clock)
    p = j.transfer("X", "W", "W2", D(7), from_location="B", to_location="A")
    assert [(e.warehouse, e.location, e.quantity) for e in p.entries] == [
        ("W", "B", D(-7)), ("W2", "A", D(7))]
    assert sum((e.value for e in p.entries), D(0)) == 0


def test_a_demand_takes_its_own_reservation_from_the_location(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    j.reserve([ReserveLine("DB-9/1", "X", "W", D(10))])
    refused(j, "insufficient_stock",
            lambda: j.transfer("X", "W", "W2", D(5), from_location="B"))
    j.transfer("X", "W", "W2", D(5), from_location="B", demand="DB-9/1", to_location="A")
    assert [(r.demand, r.quantity) for r in j.reservations()] == [("DB-9/1", D(5))]
    assert rows(j, "W") == {("A", ""): D(4), ("B", ""): D(5)}


def test_a_back_dated_receipt_reaches_the_units_where_they_landed(storage: Storage) -> None:
    """FIFO: a receipt dated before the first one changes what the transfer took; the
    change follows the units to W2 (a landed cost of the transfer), at whatever location
    they landed."""
    j, clock = shop(storage)
    j.receive("X", "W", D(10), D("10.00"), location="A", posted_at=T0)
    clock.at = T0 + dt.timedelta(hours=2)
    j.transfer("X", "W", "W2", D(5), from_location="A", to_location="B", doc_id="DB-1")
    assert j.balance("X", "W2").value == D("50.00")
    j.receive("X", "W", D(10), D("20.00"), location="B",
              posted_at=T0 - dt.timedelta(hours=1))
    w, w2 = j.balance("X", "W"), j.balance("X", "W2")
    assert (w2.on_hand, w2.value) == (D(5), D("100.00"))
    assert (w.on_hand, w.value) == (D(15), D("200.00"))
    assert rows(j, "W2") == {("B", ""): D(5)}
    for wh in ("W", "W2"):  # the ledger sums to the balance
        assert sum((x.entry.value for x in j.ledger("X", wh)), D(0)) == \
            j.balance("X", wh).value


# -- idempotency --------------------------------------------------------------------------------
def test_a_transfer_key_covers_the_locations(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    first = j.transfer("X", "W", "W2", D(2), from_location="B", to_location="A",
                       idempotency_key="t1")
    assert j.transfer("X", "W", "W2", D(2), from_location="B", to_location="A",
                      idempotency_key="t1") == first
    assert rows(j, "W2") == {("A", ""): D(2)}
    for kw in ({"from_location": "A", "to_location": "A"}, {"from_location": "B"},
               {"to_location": "A"}, {}):
        refused(j, "idempotency_conflict",
                lambda kw=kw: j.transfer("X", "W", "W2", D(2), idempotency_key="t1", **kw))
    # a demand and a location of the same name are not the same payload
    j.transfer("X", "W", "W2", D(1), demand="A", idempotency_key="t2")
    refused(j, "idempotency_conflict",
            lambda: j.transfer("X", "W", "W2", D(1), from_location="A",
                               idempotency_key="t2"))


def test_the_key_of_a_transfer_without_locations_is_unchanged(storage: Storage) -> None:
    """Keys stored before transfers had locations still match their retries."""
    j, clock = shop(storage)
    stocked(j, clock)
    j.transfer("X", "W", "W2", D(2), doc_id="DB-1", idempotency_key="old")
    j.transfer("X", "W", "W2", D(1), doc_id="DB-2", demand="D-1", idempotency_key="old2")
    with storage.unit_of_work() as uow:
        seen, seen2 = uow.idempotency.get("old"), uow.idempotency.get("old2")
    assert seen is not None and seen2 is not None
    assert seen[0] == fingerprint("transfer", ("DB-1", "X", "W", "W2", D(2), None, "", [],
                                               None))
    assert seen2[0] == fingerprint("transfer", ("DB-2", "X", "W", "W2", D(1), None, "", [],
                                                None, "D-1"))


def test_a_retried_hold_freezes_once(storage: Storage) -> None:
    j, clock = shop(storage)
    stocked(j, clock)
    j.hold("X", "W", D(3), location="B", idempotency_key="h1")
    j.hold("X", "W", D("3.0"), location="B", idempotency_key="h1")  # the same payload
    b = j.balance("X", "W")
    assert (b.held, b.available) == (D(3), D(11))
    for args, kw in (((D(4),), {"location": "B"}), ((D(3),), {"location": "A"}),
                     ((D(3),), {"location": "B", "lot": "L"}), ((D(-3),), {"location": "B"})):
        refused(j, "idempotency_conflict",
                lambda args=args, kw=kw: j.hold("X", "W", *args, idempotency_key="h1", **kw))
    refused(j, "idempotency_conflict",
            lambda: j.hold("X", "W2", D(3), location="B", idempotency_key="h1"))
    # releasing under a key of its own, retried, releases once
    j.hold("X", "W", D(-2), location="B", idempotency_key="h2")
    j.hold("X", "W", D(-2), location="B", idempotency_key="h2")
    assert j.balance("X", "W").held == D(1)
    # a refused hold stores no key: the same key may be used again once it can go through
    refused(j, "insufficient_stock", lambda: j.hold("X", "W", D(50), idempotency_key="h3"))
    j.hold("X", "W", D(5), idempotency_key="h3")
    assert j.balance("X", "W").held == D(6)
    # without a key each call freezes, as before
    j.hold("X", "W", D(1))
    j.hold("X", "W", D(1))
    assert j.balance("X", "W").held == D(8)

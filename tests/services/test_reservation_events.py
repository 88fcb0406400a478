"""Reservations and holds raise events (DOMAIN.md section 8: every change of state): a grant is
``stock_reserved``, whatever leaves a reservation is ``reservation_released`` (``reason``
released, consumed by its demand's issue, or trimmed), a hold is ``stock_held`` and its release
``hold_released``. Written with the change, delivered after commit; a refusal or an idempotent
replay adds none. On both adapters (the ``storage`` fixture)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, ReservationShortError, Warehouse
from jxc_core.testing.contract import RecordingNotifier

from .support import HandClock

D = Decimal
NOW = dt.datetime(2026, 3, 2, 9)


def shop(storage: Storage) -> tuple[Jxc, RecordingNotifier, HandClock]:
    notes = RecordingNotifier()
    clock = HandClock(NOW)
    j = Jxc(storage, clock=clock, notifier=notes)
    j.define_item(Item("T", "tea"))
    j.define_warehouse(Warehouse("SH", "Shanghai"))
    j.receive("T", "SH", D(10), D("1.00"))
    return j, notes, clock


def of(notes: RecordingNotifier, *types: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.payload) for e in notes.delivered if e.type in types]


RES = ("stock_reserved", "reservation_released")


def test_a_grant_is_stock_reserved_with_each_reservation(storage: Storage) -> None:
    j, notes, _ = shop(storage)
    got = j.reserve([ReserveLine("SO-1/1", "T", "SH", D(3)),
                     ReserveLine("SO-1/2", "T", "SH", D(2))])
    [(kind, payload)] = of(notes, *RES)
    assert kind == "stock_reserved"
    assert payload["reservations"] == [
        {"reservation_id": r.reservation_id, "item": "T", "warehouse": "SH", "lot": "",
         "demand": d, "quantity": q, "expires_at": None}
        for r, d, q in zip(got.reservations, ("SO-1/1", "SO-1/2"), ("3", "2"), strict=True)]


def test_a_soft_reservation_carries_its_expiry(storage: Storage) -> None:
    j, notes, _ = shop(storage)
    j.reserve([ReserveLine("CART-1", "T", "SH", D(1))], expires_at=NOW + dt.timedelta(hours=1))
    [(_, payload)] = of(notes, "stock_reserved")
    assert payload["reservations"][0]["expires_at"] == "2026-03-02T10:00:00"


def test_release_names_the_demand_and_what_it_freed(storage: Storage) -> None:
    j, notes, _ = shop(storage)
    j.reserve([ReserveLine("SO-1/1", "T", "SH", D(3)), ReserveLine("SO-1/1", "T", "SH", D(2))])
    assert j.release("SO-1/1") == D(5)
    [(_, payload)] = of(notes, "reservation_released")
    assert (payload["demand"], payload["reason"], payload["quantity"]) == ("SO-1/1", "released",
                                                                           "5")
    assert [r["quantity"] for r in payload["reservations"]] == ["3", "2"]
    j.release("SO-1/1")  # nothing left to release: no event
    assert len(of(notes, "reservation_released")) == 1


def test_a_lapsed_soft_reservation_is_purged_without_an_event(storage: Storage) -> None:
    j, notes, clock = shop(storage)
    j.reserve([ReserveLine("CART-1", "T", "SH", D(1))], expires_at=NOW + dt.timedelta(hours=1))
    clock.at = NOW + dt.timedelta(hours=2)
    assert j.release("CART-1") == D(0)
    assert of(notes, "reservation_released") == []


def test_an_issue_of_the_demand_consumes_its_reservation(storage: Storage) -> None:
    j, notes, _ = shop(storage)
    j.reserve([ReserveLine("SO-1/1", "T", "SH", D(4))])
    j.issue("T", "SH", D(3), demand="SO-1/1", doc_id="CK-1")
    [(_, payload)] = of(notes, "reservation_released")
    assert (payload["reason"], payload["quantity"], payload["demand"]) == ("consumed", "3",
                                                                           "SO-1/1")
    assert j.balance("T", "SH").reserved == D(1)
    j.issue("T", "SH", D(2), doc_id="CK-2")  # no demand: touches no reservation
    assert len(of(notes, "reservation_released")) == 1


def test_refusals_and_replays_raise_no_event(storage: Storage) -> None:
    j, notes, _ = shop(storage)
    with pytest.raises(ReservationShortError):
        j.reserve([ReserveLine("SO-1/1", "T", "SH", D(11))], partial=False)
    j.reserve([ReserveLine("SO-1/1", "T", "SH", D(2))], idempotency_key="k")
    j.reserve([ReserveLine("SO-1/1", "T", "SH", D(2))], idempotency_key="k")
    assert [k for k, _ in of(notes, *RES)] == ["stock_reserved"]
    j.hold("T", "SH", D(3), idempotency_key="h")
    j.hold("T", "SH", D(3), idempotency_key="h")
    with pytest.raises(JxcError):
        j.hold("T", "SH", D(99))
    assert len(of(notes, "stock_held")) == 1


def test_a_hold_and_its_release(storage: Storage) -> None:
    j, notes, _ = shop(storage)
    j.hold("T", "SH", D(4))
    j.hold("T", "SH", D(-1))
    assert of(notes, "stock_held", "hold_released") == [
        ("stock_held", {"item": "T", "warehouse": "SH", "lot": "", "location": "",
                        "quantity": "4", "held": "4"}),
        ("hold_released", {"item": "T", "warehouse": "SH", "lot": "", "location": "",
                           "quantity": "1", "held": "3"})]

"""Soft reservations, on both adapters: ``expires_at`` must lapse in the future (granted and
lapsed at once, it reserved nothing while it reported a grant), an aware one is kept in UTC,
and ``release`` returns only what was still reserved, not what had lapsed already. The
refusals of a wrong type or timezone are in test_bad_input.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import ReserveLine
from tests.services.support import HandClock, fifo_shop

D = Decimal
NOW = dt.datetime(2026, 3, 1, 10, 0)
CST = dt.timezone(dt.timedelta(hours=8))  # China Standard Time




# -- release and expiry ---------------------------------------------------------------------
def test_release_returns_only_what_was_still_reserved(storage: Storage) -> None:
    clock = HandClock(NOW)
    j = fifo_shop(storage, clock)
    j.receive("F", "W", D(10), D(1))
    j.reserve([ReserveLine("CART-1", "F", "W", D(4))], expires_at=NOW + dt.timedelta(hours=1))
    j.reserve([ReserveLine("CART-1", "F", "W", D(2))])  # hard
    j.reserve([ReserveLine("CART-2", "F", "W", D(3))], expires_at=NOW + dt.timedelta(hours=3))
    clock.at = NOW + dt.timedelta(hours=2)  # the first cart's 4 have lapsed, CART-2 has not
    assert j.release("CART-1") == D(2)
    assert j.release("CART-1") == D(0)
    assert j.release("CART-2") == D(3)
    with storage.unit_of_work() as u:  # the lapsed record is purged too
        assert u.reservations.for_demand("CART-1") == []
    b = j.balance("F", "W")
    assert (b.reserved, b.available) == (D(0), D(10))


def test_release_of_lapsed_reservations_only_returns_zero(storage: Storage) -> None:
    clock = HandClock(NOW)
    j = fifo_shop(storage, clock)
    j.receive("F", "W", D(10), D(1))
    j.reserve([ReserveLine("CART-1", "F", "W", D(4))], expires_at=NOW + dt.timedelta(hours=1))
    clock.at = NOW + dt.timedelta(hours=1)  # lapses at expires_at itself
    assert j.release("CART-1", idempotency_key="REL-1") == D(0)
    assert j.release("CART-1", idempotency_key="REL-1") == D(0)


def test_expiry_must_be_in_the_future(storage: Storage) -> None:
    j = fifo_shop(storage, HandClock(NOW))
    j.receive("F", "W", D(10), D(1))
    for at in (NOW, NOW - dt.timedelta(seconds=1)):
        with pytest.raises(JxcError) as info:
            j.reserve([ReserveLine("CART-1", "F", "W", D(4))], expires_at=at)
        assert info.value.code == "expiry_not_in_future"
        assert info.value.data == {"expires_at": at.isoformat(), "now": NOW.isoformat()}
    assert j.reservations() == []
    r = j.reserve([ReserveLine("CART-1", "F", "W", D(4))],
                  expires_at=NOW + dt.timedelta(microseconds=1))
    assert r.granted == (D(4),) and j.balance("F", "W").reserved == D(4)


def test_aware_expiry_beside_an_aware_clock_is_kept_in_utc(storage: Storage) -> None:
    j = fifo_shop(storage, HandClock(dt.datetime(2026, 3, 2, 20, 0, tzinfo=CST)))
    j.receive("F", "W", D(2), D(1))
    expires = dt.datetime(2026, 3, 2, 21, 0, tzinfo=CST)
    j.reserve([ReserveLine("CART-1", "F", "W", D(1))], expires_at=expires)
    (r,) = j.reservations()
    assert r.expires_at == expires and r.expires_at.utcoffset() == dt.timedelta(0)
    with pytest.raises(JxcError) as info:  # a naive time beside an aware clock
        j.reserve([ReserveLine("CART-2", "F", "W", D(1))],
                  expires_at=dt.datetime(2026, 3, 3, 9, 0))
    assert info.value.code == "timezone_mismatch"
    assert [x.demand for x in j.reservations()] == ["CART-1"]


# -- purging lapsed reservations ------------------------------------------------------------
def _stored(storage: Storage) -> list[tuple[str, str, Decimal]]:
    with storage.unit_of_work() as u:
        return sorted((r.reservation_id, r.demand, r.quantity) for r in u.reservations.all())


def test_purge_removes_only_lapsed_soft_reservations(storage: Storage) -> None:
    """Two carts lapse (one at its ``expires_at`` exactly), one is still active, one
    reservation is hard: the purge removes the two lapsed records and nothing else; the
    balance and the events are as before it; a second purge finds nothing."""
    clock = HandClock(NOW)
    j = fifo_shop(storage, clock)
    j.receive("F", "W", D(10), D(1))
    j.reserve([ReserveLine("CART-1", "F", "W", D(4))], expires_at=NOW + dt.timedelta(hours=1))
    j.reserve([ReserveLine("CART-2", "F", "W", D(1))], expires_at=NOW + dt.timedelta(hours=2))
    j.reserve([ReserveLine("CART-3", "F", "W", D(2))], expires_at=NOW + dt.timedelta(hours=5))
    j.reserve([ReserveLine("SO-1/1", "F", "W", D(3))])  # hard
    clock.at = NOW + dt.timedelta(hours=2)  # CART-1 lapsed, CART-2 lapses at this moment
    assert len(_stored(storage)) == 4
    before = (j.balance("F", "W"), j.reservations())
    with storage.unit_of_work() as u:
        pending = len(u.outbox.pending())
    assert j.purge_lapsed_reservations() == 2
    assert _stored(storage) == [("R3", "CART-3", D(2)), ("R4", "SO-1/1", D(3))]
    assert (j.balance("F", "W"), j.reservations()) == before
    assert before[0].reserved == D(5) and before[0].available == D(5)
    with storage.unit_of_work() as u:  # a lapsed reservation raises no event, nor its purge
        assert len(u.outbox.pending()) == pending
    assert j.purge_lapsed_reservations() == 0
    clock.at = NOW + dt.timedelta(hours=6)
    assert j.purge_lapsed_reservations() == 1
    assert _stored(storage) == [("R4", "SO-1/1", D(3))]


def test_purge_is_idempotent_with_a_key(storage: Storage) -> None:
    clock = HandClock(NOW)
    j = fifo_shop(storage, clock)
    j.receive("F", "W", D(10), D(1))
    j.reserve([ReserveLine("CART-1", "F", "W", D(4))], expires_at=NOW + dt.timedelta(hours=1))
    clock.at = NOW + dt.timedelta(hours=1)
    assert j.purge_lapsed_reservations(idempotency_key="PURGE-1") == 1
    j.reserve([ReserveLine("CART-2", "F", "W", D(1))], expires_at=NOW + dt.timedelta(hours=2))
    clock.at = NOW + dt.timedelta(hours=3)
    assert j.purge_lapsed_reservations(idempotency_key="PURGE-1") == 1  # the first answer
    assert _stored(storage) == [("R2", "CART-2", D(1))]  # nothing removed the second time
    assert j.purge_lapsed_reservations() == 1
    assert _stored(storage) == []


def test_a_purged_cart_leaves_the_next_reservation_all_the_stock(storage: Storage) -> None:
    """After the purge, reading the warehouse's reservations again (a warm service keeps
    them between commands) sees none: the whole stock can be reserved and issued."""
    clock = HandClock(NOW)
    j = fifo_shop(storage, clock)
    j.receive("F", "W", D(10), D(1))
    j.reserve([ReserveLine("CART-1", "F", "W", D(10))], expires_at=NOW + dt.timedelta(hours=1))
    clock.at = NOW + dt.timedelta(hours=1)
    assert j.purge_lapsed_reservations() == 1
    got = j.reserve([ReserveLine("SO-1/1", "F", "W", D(10))], partial=False)
    assert got.granted == (D(10),)
    j.issue("F", "W", D(10), demand="SO-1/1")
    assert j.balance("F", "W").on_hand == D(0)
    assert _stored(storage) == []

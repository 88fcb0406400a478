"""A transfer document's line is a demand (DOMAIN.md 4, docs/reservations.md), on both adapters:
posting takes and consumes the units reserved for ``"{doc_id}/{line_no}"``, and cancelling a
draft or approved transfer releases them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc, ReserveLine
from jxc_core.stock import Item, Warehouse

from .support import TickingClock

D = Decimal
BOSS = User("boss", frozenset())


#: the clock of these tests: a minute on at every reading, from 2026-11-02 09:00
START = dt.datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def shop(storage: Storage) -> Iterator[tuple[Jxc, Documents]]:
    jxc = Jxc(storage, clock=TickingClock(START))
    jxc.define_warehouse(Warehouse("SH", "上海"))
    jxc.define_warehouse(Warehouse("BJ", "北京"))
    jxc.define_item(Item("TEA", "茶"))
    jxc.receive("TEA", "SH", D(10), D("10.00"), doc_id="RK-1")
    yield jxc, Documents(jxc)


def test_a_transfer_document_takes_what_is_reserved_for_its_line(
        shop: tuple[Jxc, Documents]) -> None:
    jxc, docs = shop
    db = docs.create("transfer", [Line(1, "TEA", D(6), warehouse="SH", to_warehouse="BJ")])
    jxc.reserve([ReserveLine(f"{db.doc_id}/1", "TEA", "SH", D(6))], partial=False)
    jxc.reserve([ReserveLine("SO-X/1", "TEA", "SH", D(4))], partial=False)
    assert jxc.balance("TEA", "SH").available == 0
    docs.approve_through(db.doc_id, [BOSS])
    assert [(r.demand, r.quantity) for r in jxc.reservations()] == [("SO-X/1", D(4))]
    assert (jxc.balance("TEA", "SH").on_hand, jxc.balance("TEA", "BJ").on_hand) == (D(4), D(6))
    other = docs.create("transfer", [Line(1, "TEA", D(1), warehouse="SH", to_warehouse="BJ")])
    with pytest.raises(JxcError) as err:  # the customer's 4 stay the customer's
        docs.approve_through(other.doc_id, [BOSS])
    assert err.value.code == "insufficient_stock"


@pytest.mark.parametrize("approved", [False, True])
def test_cancelling_a_transfer_not_posted_releases_its_reservations(
        shop: tuple[Jxc, Documents], approved: bool) -> None:
    jxc, docs = shop
    db = docs.create("transfer", [Line(1, "TEA", D(2), warehouse="SH", to_warehouse="BJ")])
    jxc.reserve([ReserveLine(f"{db.doc_id}/1", "TEA", "SH", D(2))])
    if approved:
        docs.submit(db.doc_id, BOSS)
        docs.approve(db.doc_id, BOSS)
    docs.cancel(db.doc_id, BOSS)
    assert jxc.reservations() == []
    assert jxc.balance("TEA", "SH").available == D(10)


@pytest.mark.parametrize("move", [False, True])
def test_what_is_reserved_beyond_a_posted_line_is_let_go(shop: tuple[Jxc, Documents],
                                                         move: bool) -> None:
    """A posted line is done: reserved for it beyond what it moved (8 for a line of 6), or
    reserved for a location move (which consumes none), is released, not stranded."""
    jxc, docs = shop
    if move:
        jxc.define_warehouse(Warehouse("SH", "上海", locations=("A",)))
    line = (Line(1, "TEA", D(6), warehouse="SH", to_warehouse="SH", to_location="A") if move
            else Line(1, "TEA", D(6), warehouse="SH", to_warehouse="BJ"))
    db = docs.create("transfer", [line])
    jxc.reserve([ReserveLine(f"{db.doc_id}/1", "TEA", "SH", D(8))])
    docs.approve_through(db.doc_id, [BOSS])
    assert jxc.reservations() == []
    assert jxc.balance("TEA", "SH").available == (D(10) if move else D(4))
    docs.cancel(db.doc_id, BOSS)
    assert jxc.reservations() == [] and jxc.balance("TEA", "SH").on_hand == D(10)

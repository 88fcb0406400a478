"""A count line without a lot counts the expired lots too (docs/counts-and-replenishment.md),
on both adapters: its book quantity holds them, its freeze holds them, and its loss takes lots
first expired first out with the expired lots included — they expired first, and they are
what was thrown away. A loss used to take only usable lots: the count was refused (negative
stock forbidden), or a usable lot went below zero while the expired lot stayed on the books.

Set-up: item M tracked by lot, W1 with locations A and B. On 2026-03-02 an adjustment brings
into location A lot L-OLD (3 at 1.00, expiry 2026-03-10) and lot L-NEW (at 2.00, expiry
2026-06-01); then the clock moves to 2026-03-11 18:00: L-OLD has expired.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.documents.codec import document_to_data
from jxc_core.errors import JxcError
from jxc_core.services import ReserveLine
from jxc_core.stock import Item, Warehouse

from .support import BOSS, ITEMS, WAREHOUSES, Shop, TickingClock

D = Decimal
OLD, NEW = "L-OLD", "L-NEW"


def stock(shop: Shop, new: int = 5, *, allow_negative: bool = False,
          reserve_old: int = 0) -> None:
    """M: L-OLD 3 @ 1.00 and L-NEW ``new`` @ 2.00 in location A; with ``reserve_old``, a sales
    order line of another demand reserves that much of L-OLD before it expires. Then L-OLD
    expires."""
    shop.jxc.define_warehouse(Warehouse("W1", "main", locations=("A", "B")))
    shop.jxc.define_item(Item("M", "milk", lot_tracked=True, allow_negative=allow_negative))
    shop.run("adjustment", [
        Line(1, "M", D(3), D("1.00"), warehouse="W1", location="A", lot=OLD,
             expiry=dt.date(2026, 3, 10)),
        Line(2, "M", D(new), D("2.00"), warehouse="W1", location="A", lot=NEW,
             expiry=dt.date(2026, 6, 1))])
    if reserve_old:
        shop.jxc.reserve([ReserveLine("SO-X/1", "M", "W1", D(reserve_old), lot=OLD)])
    clock = shop.jxc.clock
    assert isinstance(clock, TickingClock)
    clock.at = dt.datetime(2026, 3, 11, 18, 0)


def rows(shop: Shop) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(location, lot) -> (on hand, held) of M's rows in W1 that are not all zero."""
    return {(b.location, b.lot): (b.on_hand, b.held) for b in shop.jxc.balances()
            if b.item == "M" and b.warehouse == "W1" and (b.on_hand or b.held)}


def moves(shop: Shop, doc_id: str) -> list[tuple[str, str, Decimal, Decimal]]:
    """(location, lot, quantity, value) of M's ledger entries of a document."""
    return [(x.entry.location, x.entry.lot, x.entry.quantity, x.entry.value)
            for x in shop.jxc.ledger("M") if x.entry.doc_id == doc_id]


def books(shop: Shop) -> None:
    """Every posting balances; the inventory role equals the valuation of the stock, M's
    too; M's on hand is the sum of its ledger."""
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    value = sum((shop.jxc.balance(i, w).value for i in (*ITEMS, "M") for w in WAREHOUSES),
                D(0))
    assert shop.net("inventory") == value
    assert shop.jxc.balance("M", "W1").on_hand == sum(
        (x.entry.quantity for x in shop.jxc.ledger("M", "W1")), D(0))


def refused(shop: Shop, code: str, call: Any) -> JxcError:
    """``call`` is refused with ``code`` and writes nothing (M's ledger included)."""
    before = shop.snapshot(), [x.entry for x in shop.jxc.ledger("M")]
    with pytest.raises(JxcError) as err:
        call()
    assert err.value.code == code, err.value
    assert (shop.snapshot(), [x.entry for x in shop.jxc.ledger("M")]) == before
    return err.value


def open_count(shop: Shop, location: str) -> Document:
    """A submitted count of M in W1 without a lot (of location ``location``, or of the
    whole warehouse)."""
    doc = shop.make("stock_count", [Line(1, "M", D(0), warehouse="W1", location=location)])
    return shop.docs.submit(doc.doc_id, BOSS)


def counted(shop: Shop, pc: Document, qty: Decimal) -> str:
    """Count ``qty`` and approve: the id, ready to post."""
    shop.docs.record_count(pc.doc_id, {1: qty})
    return shop.docs.approve(pc.doc_id, BOSS).doc_id


WHERE = pytest.mark.parametrize("where", ["A", ""], ids=["located", "unlocated"])
NEGATIVE = pytest.mark.parametrize("allow_negative", [False, True],
                                   ids=["forbid", "allow_negative"])


#: (L-NEW on hand, counted, what the loss takes: lot -> quantity, value)
LOSSES = [
    (D(5), D(5), {OLD: (D(3), D("3.00"))}),  # the example: the expired units are gone
    (D(2), D(2), {OLD: (D(3), D("3.00"))}),  # usable stock alone could not give the loss
    (D(5), D(3), {OLD: (D(3), D("3.00")), NEW: (D(2), D("4.00"))}),  # expired first, then
    (D(5), D(0), {OLD: (D(3), D("3.00")), NEW: (D(5), D("10.00"))}),  # FEFO: everything
]


@WHERE
@NEGATIVE
@pytest.mark.parametrize(("new", "found", "taken"), LOSSES)
def test_a_count_loss_without_a_lot_takes_the_expired_lot_first_and_cancels_back_into_it(
        shop: Shop, where: str, allow_negative: bool, new: Decimal, found: Decimal,
        taken: dict[str, tuple[Decimal, Decimal]]) -> None:
    """Book 3 + ``new``, counted ``found``: the loss leaves L-OLD first, then L-NEW; no lot
    goes below zero. Cancelled, each lot gets its units back at the value they left with."""
    stock(shop, int(new), allow_negative=allow_negative)
    pc = open_count(shop, where)
    assert pc.attributes["book"] == {"1": str(3 + new)}
    pc = shop.docs.post(counted(shop, pc, found), BOSS)
    loss = sum((q for q, _ in taken.values()), D(0))
    value = sum((v for _, v in taken.values()), D(0))
    assert pc.counters[1] == {"quantity": -loss, "value": value}
    assert moves(shop, pc.doc_id) == [("A", lot, -q, -v) for lot, (q, v) in taken.items()]
    assert pc.attributes["loss_rows"] == {"1": [["A", lot, str(q), str(v)]
                                                for lot, (q, v) in taken.items()]}
    left = {("A", OLD): D(3), ("A", NEW): new}
    for lot, (q, _) in taken.items():
        left[("A", lot)] -= q
    assert rows(shop) == {k: (q, D(0)) for k, q in left.items() if q}
    assert shop.roles(pc.doc_id) == {"inventory": -value, "count_gain_loss": value}
    books(shop)
    shop.docs.cancel(pc.doc_id, BOSS)
    assert moves(shop, f"{pc.doc_id}-R") == [("A", lot, q, v)
                                             for lot, (q, v) in taken.items()]
    assert rows(shop) == {("A", OLD): (D(3), D(0)), ("A", NEW): (new, D(0))}
    m = shop.jxc.balance("M", "W1")
    assert (m.on_hand, m.value) == (3 + new, D("3.00") + 2 * new)
    assert shop.roles(pc.doc_id) == {"inventory": D(0), "count_gain_loss": D(0)}
    books(shop)


@WHERE
def test_the_freeze_holds_the_expired_lot_too_and_release_undoes_it(
        shop: Shop, where: str) -> None:
    """Submitted, the count freezes the expired lot's rows as well (by name: nothing usable
    is in them), so a write-off of L-OLD cannot take them during the count; cancelling the
    open count lets go of exactly what it froze."""
    stock(shop)
    pc = open_count(shop, where)
    if where:
        assert pc.attributes["held"] == {"1": [["A", OLD, "3"], ["A", NEW, "5"]]}
        assert rows(shop) == {("A", OLD): (D(3), D(3)), ("A", NEW): (D(5), D(5))}
    else:  # the usable part on the row without lot and location, as before
        assert pc.attributes["held"] == {"1": [["", "", "5"], ["A", OLD, "3"]]}
        assert rows(shop) == {("", ""): (D(0), D(5)), ("A", OLD): (D(3), D(3)),
                              ("A", NEW): (D(5), D(0))}
    m = shop.jxc.balance("M", "W1")
    assert (m.on_hand, m.held, m.available) == (8, 8, 0)
    write_off = shop.approved("adjustment", [Line(1, "M", D(-1), warehouse="W1", lot=OLD)])
    refused(shop, "insufficient_stock", lambda: shop.docs.post(write_off, BOSS))
    pc = shop.docs.cancel(pc.doc_id, BOSS)
    assert pc.attributes["held"] == {}
    assert rows(shop) == {("A", OLD): (D(3), D(0)), ("A", NEW): (D(5), D(0))}
    m = shop.jxc.balance("M", "W1")
    assert (m.on_hand, m.held, m.available) == (8, 0, 5)
    tz = shop.docs.post(write_off, BOSS)  # free again to leave by name
    assert moves(shop, tz.doc_id) == [("A", OLD, D(-1), D("-1.00"))]
    books(shop)


@WHERE
def test_a_count_of_a_location_without_the_expired_lot_leaves_it_alone(
        shop: Shop, where: str) -> None:
    """L-OLD in A only; a count of B (or of lot L-NEW) neither freezes nor takes it."""
    stock(shop)
    shop.run("adjustment", [Line(1, "M", D(4), D("2.00"), warehouse="W1", location="B",
                                 lot=NEW)])
    line = (Line(1, "M", D(0), warehouse="W1", location="B") if where
            else Line(1, "M", D(0), warehouse="W1", lot=NEW))
    pc = shop.docs.submit(shop.make("stock_count", [line]).doc_id, BOSS)
    assert rows(shop)[("A", OLD)] == (D(3), D(0))
    pc = shop.docs.post(counted(shop, pc, D(1) if where else D(6)), BOSS)
    assert [(loc, lot, q) for loc, lot, q, _ in moves(shop, pc.doc_id)] == [
        ("A" if not where else "B", NEW, D(-3))]
    assert rows(shop)[("A", OLD)] == (D(3), D(0))
    books(shop)


@WHERE
@NEGATIVE
def test_a_reservation_of_another_demand_naming_the_expired_lot_still_protects_it(
        shop: Shop, where: str, allow_negative: bool) -> None:
    """SO-X reserved 2 of L-OLD before it expired. The count freezes only the free 1 of it;
    a loss of 3 would take the reserved units: refused (the reservation names the lot),
    naming L-OLD, and nothing is written; the count stays approved and frozen. A new count
    that finds 7: the loss of 1 takes the free unit of L-OLD, the reservation stands."""
    stock(shop, allow_negative=allow_negative, reserve_old=2)
    pc = open_count(shop, where)
    frozen = (["A", OLD, "1"] if where else ["", "", "5"])
    assert frozen in pc.attributes["held"]["1"]
    assert rows(shop)[("A", OLD)] == (D(3), D(1))
    doc_id = counted(shop, pc, D(5))
    err = refused(shop, "insufficient_stock", lambda: shop.docs.post(doc_id, BOSS))
    assert err.data["lot"] == OLD
    assert shop.docs.get(doc_id).state == State.APPROVED
    assert rows(shop)[("A", OLD)] == (D(3), D(1))
    assert shop.docs.cancel(doc_id, BOSS).attributes["held"] == {}
    assert rows(shop)[("A", OLD)] == (D(3), D(0))
    pc = shop.docs.post(counted(shop, open_count(shop, where), D(7)), BOSS)
    assert moves(shop, pc.doc_id) == [("A", OLD, D(-1), D("-1.00"))]
    assert rows(shop) == {("A", OLD): (D(2), D(0)), ("A", NEW): (D(5), D(0))}
    assert [r.quantity for r in shop.jxc.reservations() if r.demand == "SO-X/1"] == [D(2)]
    books(shop)


def test_an_unlocated_count_submitted_before_with_a_quantity_held_still_posts(
        shop: Shop) -> None:
    """``held`` as a quantity (a line without a location, submitted before expired lots
    were frozen): posting lets go of exactly that and takes the loss from L-OLD."""
    stock(shop)
    pc = open_count(shop, "")
    shop.docs.reject(pc.doc_id, BOSS)
    assert rows(shop) == {("A", OLD): (D(3), D(0)), ("A", NEW): (D(5), D(0))}
    old = attrs.evolve(pc, attributes={"book": {"1": "8"}, "held": {"1": "5"}})
    shop.jxc.hold("M", "W1", D(5))
    with shop.jxc.storage.unit_of_work() as uow:
        uow.documents.put(pc.doc_id, pc.doc_type.value, State.SUBMITTED.value,
                          document_to_data(old, compact=True))
        uow.commit()
    pc = shop.docs.post(counted(shop, old, D(5)), BOSS)
    assert pc.attributes["held"] == {}
    assert moves(shop, pc.doc_id) == [("A", OLD, D(-3), D("-3.00"))]
    assert rows(shop) == {("A", NEW): (D(5), D(0))}
    books(shop)

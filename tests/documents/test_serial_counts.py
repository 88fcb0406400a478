"""Stock counts (盘点) of serial-tracked items, on both adapters.

- A count line of a serial-tracked item lists the serial numbers counted, one per base unit
  of its counted quantity (``serial_count``), entered with ``record_count(..., serials=...)``
  or given at ``create``; it counts the whole warehouse (a line naming a location or a lot is
  ``invalid_document``), and an item that is lot-tracked too is still refused.
- Posting: the serials on hand that were not counted leave as the count loss (costed as any
  count loss: by the costing method), the counted ones not on hand come in as the count gain
  (at the average cost, as any count gain), each with its serials; gain and loss are booked
  apart. A counted serial on hand in another warehouse is ``serial_on_hand`` (naming it and
  where it is), nothing written. What moves by documents of its own between the figure and
  the posting is neither gain nor loss.
- Cancelling (红冲) puts the serials back where they were; refused (``reversal_impossible``)
  when they moved on since, nothing written.
- ``Jxc.serials_in`` lists the serials on hand in a warehouse, sorted.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal
#: P: FIFO; M: moving average, 盒 = 2; L: lot-tracked too
SERIAL_ITEMS = ("P", "M", "L")


@pytest.fixture
def sn(shop: Shop) -> Iterator[Shop]:
    """The shop of support.py with serial-tracked items and a warehouse with locations."""
    shop.jxc.define_item(Item("P", "phone", serial_tracked=True))
    shop.jxc.define_item(Item("M", "modem", costing_method="moving_average",
                              units={"盒": D(2)}, serial_tracked=True))
    shop.jxc.define_item(Item("L", "laptop", lot_tracked=True, serial_tracked=True))
    shop.jxc.define_warehouse(Warehouse("W3", "racks", locations=("A-01", "A-02")))
    yield shop


def refused(code: str, act: Any) -> JxcError:
    with pytest.raises(JxcError) as err:
        act()
    assert err.value.code == code, err.value
    assert err.value.message_zh != err.value.message_en  # both languages
    return err.value


def state(shop: Shop) -> dict[str, Any]:
    """What a refused command must leave as it was, the serials on hand included."""
    return {
        **shop.snapshot(),
        "serial_ledger": [(i, x.entry) for i in SERIAL_ITEMS for x in shop.jxc.ledger(i)],
        "serials": {(i, w): shop.jxc.serials_in(i, w) for i in SERIAL_ITEMS
                    for w in ("W1", "W2", "W3")},
    }


def books(shop: Shop) -> None:
    """Debits == credits; the inventory role == the stock's value, serial items included;
    on hand == the number of serials on hand, per item and warehouse."""
    rows = shop.journal()
    assert sum((r.debit for r in rows), D(0)) == sum((r.credit for r in rows), D(0))
    value = sum((shop.jxc.balance(i, w).value for i in (*SERIAL_ITEMS, "A", "B", "C", "KG")
                 for w in ("W1", "W2", "W3")), D(0))
    assert shop.net("inventory") == value
    for i in ("P", "M"):
        for w in ("W1", "W2", "W3"):
            assert shop.jxc.balance(i, w).on_hand == len(shop.jxc.serials_in(i, w))


def stock_in(shop: Shop, item: str, serials: tuple[str, ...], cost: str, wh: str = "W1"
             ) -> Document:
    return shop.run("adjustment", [Line(1, item, D(len(serials)), D(cost), warehouse=wh,
                                        serials=serials)])


def counting(shop: Shop, item: str = "P", wh: str = "W1") -> str:
    """A submitted count of ``item`` in ``wh`` (the whole warehouse): its id."""
    doc = shop.make("stock_count", [Line(1, item, D(0), warehouse=wh)])
    return shop.docs.submit(doc.doc_id, BOSS).doc_id


def post(shop: Shop, doc_id: str) -> Document:
    shop.docs.approve(doc_id, BOSS)
    return shop.docs.post(doc_id, BOSS)


# -- the query ----------------------------------------------------------------------------------
def test_serials_in_lists_a_warehouse_sorted(sn: Shop) -> None:
    stock_in(sn, "P", ("SN3", "SN10", "SN1"), "100.00")
    stock_in(sn, "P", ("SN7",), "100.00", wh="W2")
    assert sn.jxc.serials_in("P", "W1") == ("SN1", "SN10", "SN3")
    assert sn.jxc.serials_in("P", "W1", None) == sn.jxc.serials_in("P", "W1", "")
    assert sn.jxc.serials_in("P", "W2") == ("SN7",)
    assert sn.jxc.serials_in("M", "W1") == ()
    sn.run("delivery", [Line(1, "P", D(1), D("150.00"), warehouse="W1", serials=("SN10",))],
           "C1")
    assert sn.jxc.serials_in("P", "W1") == ("SN1", "SN3")


def test_serials_in_refuses_what_it_cannot_answer(sn: Shop) -> None:
    err = refused("not_found", lambda: sn.jxc.serials_in("NOPE", "W1"))
    assert err.data == {"kind": "item", "key": "NOPE"}
    refused("not_found", lambda: sn.jxc.serials_in("P", "NOPE"))
    err = refused("not_found", lambda: sn.jxc.serials_in("P", "W3", "Z-99"))
    assert err.data == {"kind": "location", "key": "W3/Z-99"}
    # serials are kept per warehouse: a location is refused, not answered for the warehouse
    err = refused("configuration", lambda: sn.jxc.serials_in("P", "W3", "A-01"))
    assert err.data["field"] == "location" and "序列号按仓库记录" in err.message_zh
    with pytest.raises(TypeError, match="warehouse"):
        sn.jxc.serials_in("P", None)  # type: ignore[arg-type]


# -- the count sheet ----------------------------------------------------------------------------
def test_a_blind_count_of_serials_hides_the_book(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1", "SN2"), "100.00")
    pd = counting(sn)
    blind = sn.docs.count_sheet(pd)[0]
    assert blind["serials"] == () and blind["counted"] is None
    assert "book" not in blind and "book_serials" not in blind
    full = sn.docs.count_sheet(pd, blind=False)[0]
    assert (full["book"], full["book_serials"]) == (D(2), ("SN1", "SN2"))
    sn.docs.record_count(pd, {1: D(2)}, serials={1: ["SN2", "SN3"]})
    blind = sn.docs.count_sheet(pd)[0]
    assert (blind["counted"], blind["serials"]) == (D(2), ("SN2", "SN3"))
    assert "book_serials" not in blind
    # the stock is frozen during the count as any other
    assert sn.jxc.balance("P", "W1").held == 2
    done = post(sn, pd)
    assert sn.jxc.serials_in("P", "W1") == ("SN2", "SN3")
    assert done.counters[1]["quantity"] == 0 and sn.jxc.balance("P", "W1").held == 0
    books(sn)


# -- variance -----------------------------------------------------------------------------------
def test_serials_not_counted_go_out_as_the_loss(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1", "SN2"), "100.00")
    stock_in(sn, "P", ("SN3",), "130.00")
    pd = counting(sn)
    sn.docs.record_count(pd, {1: D(1)}, serials={1: ("SN2",)})
    done = post(sn, pd)
    assert sn.jxc.serials_in("P", "W1") == ("SN2",)
    for serial in ("SN1", "SN3"):
        assert sn.jxc.serial_warehouse("P", serial) is None
    # costed as a count loss is: FIFO, the oldest layers (100.00 + 100.00), not the units'
    assert done.counters[1] == {"quantity": D(-2), "value": D("200.00"), "gained": D(0),
                                "gain_value": D(0), "lost": D(2), "loss_value": D("200.00")}
    assert done.attributes["count_serials"] == {"1": [[], ["SN1", "SN3"]]}
    assert (sn.jxc.balance("P", "W1").on_hand, sn.value("P")) == (D(1), D("130.00"))
    assert sn.roles(done.doc_id) == {"inventory": D("-200.00"), "count_gain_loss": D("200.00")}
    out = [x.entry for x in sn.jxc.ledger("P", "W1") if x.entry.doc_id == done.doc_id]
    assert [(e.kind, e.quantity, e.value) for e in out] == [
        ("stock_count_out", D(-2), D("-200.00"))]
    books(sn)


def test_a_serial_counted_but_not_on_hand_comes_in_as_the_gain(sn: Shop) -> None:
    stock_in(sn, "M", ("SN1",), "100.00")
    stock_in(sn, "M", ("SN2",), "120.00")  # average 110.00
    pd = counting(sn, "M")
    sn.docs.record_count(pd, {1: D(3)}, serials={1: ["SN1", "SN9", "SN2"]})
    done = post(sn, pd)
    assert sn.jxc.serials_in("M", "W1") == ("SN1", "SN2", "SN9")
    # at the average cost, as any count gain
    assert done.counters[1] == {"quantity": D(1), "value": D("110.00"), "gained": D(1),
                                "gain_value": D("110.00"), "lost": D(0), "loss_value": D(0)}
    assert sn.roles(done.doc_id) == {"inventory": D("110.00"), "count_gain_loss": D("-110.00")}
    books(sn)


def test_a_count_that_finds_one_and_misses_another_books_both(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1", "SN2"), "100.00")
    stock_in(sn, "P", ("SN3",), "160.00")  # average 120.00
    pd = counting(sn)
    sn.docs.record_count(pd, {1: D(3)}, serials={1: ["SN3", "SN8", "SN2"]})
    done = post(sn, pd)
    assert sn.jxc.serials_in("P", "W1") == ("SN2", "SN3", "SN8")
    assert done.attributes["count_serials"] == {"1": [["SN8"], ["SN1"]]}
    assert done.counters[1]["quantity"] == 0
    assert (done.counters[1]["gain_value"], done.counters[1]["loss_value"]) == (
        D("120.00"), D("100.00"))
    rows = [(r.role, r.debit, r.credit) for r in sn.journal(done.doc_id)]
    assert rows == [("inventory", D(0), D("100.00")), ("count_gain_loss", D("100.00"), D(0)),
                    ("inventory", D("120.00"), D(0)), ("count_gain_loss", D(0), D("120.00"))]
    assert (sn.jxc.balance("P", "W1").on_hand, sn.value("P")) == (D(3), D("380.00"))
    books(sn)


def test_a_count_in_another_unit_lists_a_serial_per_base_unit(sn: Shop) -> None:
    stock_in(sn, "M", ("SN1", "SN2", "SN3", "SN4"), "50.00")
    pd = sn.docs.submit(sn.make("stock_count", [
        Line(1, "M", D(0), unit="盒", warehouse="W1")]).doc_id, BOSS).doc_id
    err = refused("serial_count", lambda: sn.docs.record_count(pd, {1: D(2)}, serials={
        1: ["SN1", "SN2"]}))  # 2 盒 are 4 units
    assert err.data == {"item": "M", "count": 2, "quantity": 4, "line": 1}
    sn.docs.record_count(pd, {1: D(1)}, serials={1: ["SN4", "SN1"]})
    assert post(sn, pd).counters[1]["quantity"] == -2
    assert sn.jxc.serials_in("M", "W1") == ("SN1", "SN4")
    books(sn)


def test_what_moves_after_the_figure_is_neither_gain_nor_loss(sn: Shop) -> None:
    """Reserved units may still be delivered during a count: SN1, counted, delivered after
    the figure was entered, is not gained back; SN2, not counted, delivered since, is not
    lost twice; SN5, received after the figure and not counted, is not lost."""
    stock_in(sn, "P", ("SN1", "SN2", "SN3"), "100.00")
    so = sn.run("sales_order", [Line(1, "P", D(2), D("150.00"), warehouse="W1")], "C1")
    pd = counting(sn)
    sn.docs.record_count(pd, {1: D(2)}, serials={1: ["SN1", "SN3"]})
    sn.run("delivery", [Line(1, "P", D(2), D("150.00"), warehouse="W1",
                             source=(so.doc_id, 1), serials=("SN1", "SN2"))], "C1")
    stock_in(sn, "P", ("SN5",), "100.00")
    done = post(sn, pd)
    assert done.counters[1]["quantity"] == 0
    assert "count_serials" not in done.attributes
    assert sn.jxc.serials_in("P", "W1") == ("SN3", "SN5")
    books(sn)


# -- refusals -----------------------------------------------------------------------------------
def test_a_serial_on_hand_in_another_warehouse_is_refused_when_entered(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1",), "100.00")
    stock_in(sn, "P", ("SN7",), "100.00", wh="W2")
    pd = counting(sn)
    before = state(sn)
    err = refused("serial_on_hand", lambda: sn.docs.record_count(pd, {1: D(2)}, serials={
        1: ["SN1", "SN7"]}))
    assert err.data == {"item": "P", "serial": "SN7", "warehouse": "W2", "line": 1}
    assert "W2" in str(err) and "SN7" in err.message_zh
    assert state(sn) == before
    assert sn.docs.get(pd).line(1).counted is None


def test_a_serial_moved_to_another_warehouse_after_the_figure_refuses_the_posting(
        sn: Shop) -> None:
    stock_in(sn, "P", ("SN1",), "100.00")
    pd = counting(sn)
    sn.docs.record_count(pd, {1: D(2)}, serials={1: ["SN1", "SN7"]})  # SN7 not on hand yet
    sn.docs.approve(pd, BOSS)
    stock_in(sn, "P", ("SN7",), "100.00", wh="W2")
    before = state(sn)
    err = refused("serial_on_hand", lambda: sn.docs.post(pd, BOSS))
    assert (err.data["serial"], err.data["warehouse"]) == ("SN7", "W2")
    assert state(sn) == before
    assert sn.docs.get(pd).state == State.APPROVED
    # transferred here, it counts as on hand: no gain, and the count posts
    sn.run("transfer", [Line(1, "P", D(1), warehouse="W2", to_warehouse="W1",
                             serials=("SN7",))])
    done = sn.docs.post(pd, BOSS)
    assert done.counters[1]["quantity"] == 0
    assert sn.jxc.serials_in("P", "W1") == ("SN1", "SN7")
    books(sn)


@pytest.mark.parametrize(("counted", "serials", "count", "quantity"), [
    (D(2), ("SN1",), 1, 2),
    (D(1), ("SN1", "SN2"), 2, 1),
    (D(1), (), 0, 1),
])
def test_a_counted_quantity_that_is_not_the_number_of_serials_is_refused(
        sn: Shop, counted: Decimal, serials: tuple[str, ...], count: int, quantity: int
) -> None:
    stock_in(sn, "P", ("SN1", "SN2"), "100.00")
    pd = counting(sn)
    before = state(sn)
    err = refused("serial_count", lambda: sn.docs.record_count(pd, {1: counted},
                                                              serials={1: serials}))
    assert err.data == {"item": "P", "count": count, "quantity": quantity, "line": 1}
    assert state(sn) == before
    # at create too
    n = len(sn.docs.ids())
    refused("serial_count", lambda: sn.make("stock_count", [
        Line(1, "P", D(0), warehouse="W2", counted=counted, serials=serials)]))
    assert len(sn.docs.ids()) == n


def test_serials_entered_wrongly_are_refused(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1",), "100.00")
    sn.stock_in("C", D(3), D("1.00"))
    pd = sn.docs.submit(sn.make("stock_count", [Line(1, "P", D(0), warehouse="W1"),
                                                Line(2, "C", D(0), warehouse="W1")]).doc_id,
                        BOSS).doc_id
    before = state(sn)
    # serials without the counted quantity of their line
    err = refused("invalid_document", lambda: sn.docs.record_count(pd, {2: D(3)}, serials={
        1: ["SN1"]}))
    assert "counted quantity" in err.data["reason"]
    # serials of an item that is not serial-tracked
    refused("invalid_document", lambda: sn.docs.record_count(pd, {2: D(3)}, serials={
        2: ["X1", "X2", "X3"]}))
    refused("duplicate_serial", lambda: sn.docs.record_count(pd, {1: D(2)}, serials={
        1: ["SN1", "SN1"]}))
    refused("invalid_document", lambda: sn.docs.record_count(pd, {1: D(1)}, serials={1: [" "]}))
    refused("not_found", lambda: sn.docs.record_count(pd, {1: D(1)}, serials={9: ["SN1"]}))
    with pytest.raises(TypeError, match="serials"):
        sn.docs.record_count(pd, {1: D(1)}, serials={1: "SN1"})  # type: ignore[dict-item]
    assert state(sn) == before


def test_a_serial_counted_in_two_warehouses_is_refused(sn: Shop) -> None:
    err = refused("duplicate_serial", lambda: sn.make("stock_count", [
        Line(1, "P", D(0), warehouse="W1", counted=D(1), serials=("SN1",)),
        Line(2, "P", D(0), warehouse="W2", counted=D(1), serials=("SN1",))]))
    assert err.data == {"item": "P", "serial": "SN1", "first": 1, "line": 2}
    assert sn.docs.ids() == []


def test_a_serial_count_line_counts_the_whole_warehouse(sn: Shop) -> None:
    for line in (Line(1, "P", D(0), warehouse="W3", location="A-01"),
                 Line(1, "P", D(0), warehouse="W1", lot="X")):
        err = refused("invalid_document", lambda line=line: sn.make("stock_count", [line]))
        assert "per warehouse" in err.data["reason"] and "按仓库记录" in err.message_zh
    assert sn.docs.ids() == []
    # a warehouse with locations is counted whole: the loss leaves from wherever it lies
    sn.run("adjustment", [Line(1, "P", D(2), D("100.00"), warehouse="W3", location="A-02",
                               serials=("SN1", "SN2"))])
    pd = counting(sn, wh="W3")
    sn.docs.record_count(pd, {1: D(1)}, serials={1: ["SN2"]})
    done = post(sn, pd)
    assert done.attributes["loss_rows"] == {"1": [["A-02", "", "1", "100.00"]]}
    assert sn.jxc.serials_in("P", "W3") == ("SN2",)
    sn.docs.cancel(done.doc_id, BOSS)
    assert sn.jxc.serials_in("P", "W3") == ("SN1", "SN2")
    assert [(b.location, b.on_hand) for b in sn.jxc.balances()
            if b.item == "P" and b.on_hand] == [("A-02", D(2))]  # back where it was
    books(sn)


def test_an_item_both_lot_and_serial_tracked_is_still_refused_on_a_count(sn: Shop) -> None:
    for line in (Line(1, "L", D(0), warehouse="W1"),
                 Line(1, "L", D(0), warehouse="W1", lot="B1", counted=D(1), serials=("S1",))):
        err = refused("invalid_document", lambda line=line: sn.make("stock_count", [line]))
        assert "lot-tracked and serial-tracked" in err.data["reason"]
        assert "批次管理和序列号管理" in err.message_zh
    assert sn.docs.ids() == []


def test_units_without_serials_refuse_a_count_of_serials(sn: Shop) -> None:
    """Units posted before the item was serial-tracked have no serial: a count of serial
    numbers cannot say which units they are (it would gain them twice). ``define_item``
    refuses the switch with stock now; a store written by an earlier version may have it."""
    sn.jxc.define_item(Item("Q", "old stock"))
    sn.stock_in("Q", D(2), D("10.00"))
    refused("configuration", lambda: sn.jxc.define_item(Item("Q", "old stock",
                                                             serial_tracked=True)))
    with sn.jxc.storage.unit_of_work() as uow:  # as an earlier version let it be
        uow.master.put_item(Item("Q", "old stock", serial_tracked=True))
        uow.commit()
    pd = sn.docs.submit(sn.make("stock_count", [Line(1, "Q", D(0), warehouse="W1")]).doc_id,
                        BOSS).doc_id
    before = state(sn)
    err = refused("invalid_document", lambda: sn.docs.record_count(pd, {1: D(2)}, serials={
        1: ["Q1", "Q2"]}))
    assert "2 of Q on the books but 0 serial numbers" in err.data["reason"]
    assert state(sn) == before


# -- cancelling ---------------------------------------------------------------------------------
def test_cancelling_a_serial_count_puts_the_serials_back(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1", "SN2"), "100.00")
    stock_in(sn, "P", ("SN3",), "160.00")
    value = sn.value("P")
    pd = counting(sn)
    sn.docs.record_count(pd, {1: D(2)}, serials={1: ["SN3", "SN9"]})
    done = post(sn, pd)
    assert sn.jxc.serials_in("P", "W1") == ("SN3", "SN9")
    gone = sn.docs.cancel(done.doc_id, BOSS)
    assert gone.state == State.CANCELLED
    assert sn.jxc.serials_in("P", "W1") == ("SN1", "SN2", "SN3")
    assert sn.jxc.serial_warehouse("P", "SN9") is None
    assert (sn.jxc.balance("P", "W1").on_hand, sn.value("P")) == (D(3), value)
    assert sn.roles(done.doc_id) == {"inventory": D(0), "count_gain_loss": D(0)}
    # the lost units are on hand again: they may be delivered
    sn.run("delivery", [Line(1, "P", D(1), D("150.00"), warehouse="W1", serials=("SN1",))],
           "C1")
    books(sn)


def test_a_cancellation_the_serials_no_longer_allow_is_refused(sn: Shop) -> None:
    stock_in(sn, "M", ("SN1", "SN2"), "100.00")
    pd = counting(sn, "M")
    sn.docs.record_count(pd, {1: D(2)}, serials={1: ["SN1", "SN9"]})
    done = post(sn, pd)
    # the gained SN9 was delivered since: it cannot be taken back out
    dl = sn.run("delivery", [Line(1, "M", D(1), D("150.00"), warehouse="W1",
                                  serials=("SN9",))], "C1")
    before = state(sn)
    err = refused("reversal_impossible", lambda: sn.docs.cancel(done.doc_id, BOSS))
    assert (err.data["serial"], err.data["warehouse"]) == ("SN9", "W1")
    assert "SN9" in err.data["reason"] and "序列号 SN9" in err.message_zh
    assert state(sn) == before
    sn.docs.cancel(dl.doc_id, BOSS)
    # the lost SN2 was found and put on hand in W2 since: it cannot come back to W1
    stock_in(sn, "M", ("SN2",), "100.00", wh="W2")
    before = state(sn)
    err = refused("reversal_impossible", lambda: sn.docs.cancel(done.doc_id, BOSS))
    assert (err.data["serial"], err.data["warehouse"]) == ("SN2", "W2")
    assert state(sn) == before
    assert sn.docs.get(done.doc_id).state == State.POSTED
    books(sn)


def test_record_count_with_serials_is_idempotent(sn: Shop) -> None:
    stock_in(sn, "P", ("SN1", "SN2"), "100.00")
    pd = counting(sn)
    first = sn.docs.record_count(pd, {1: D(1)}, idempotency_key="k1", serials={1: ["SN2"]})
    again = sn.docs.record_count(pd, {1: D(1)}, idempotency_key="k1", serials={1: ("SN2",)})
    assert again == first
    refused("idempotency_conflict", lambda: sn.docs.record_count(
        pd, {1: D(1)}, idempotency_key="k1", serials={1: ["SN1"]}))
    assert sn.docs.get(pd).line(1).serials == ("SN2",)

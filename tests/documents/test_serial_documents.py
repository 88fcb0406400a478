"""Serial numbers (序列号) on document lines, on both adapters.

- A line of a serial-tracked item on a document that moves stock lists one serial number per
  unit of the item's base unit (``serial_count`` at ``create``); a line of another item, an
  order, an invoice or a landed cost lists none (stock counts: test_serial_counts.py); a
  serial is listed once per document (``duplicate_serial``; a transfer may list it
  on two lines); a return lists serials its source line moved.
- Posting moves them as ``Jxc`` does: a receipt puts them on hand (one already on hand is
  ``serial_on_hand``, nothing written), a delivery takes them from the warehouse (one not
  there is ``serial_not_on_hand``), a transfer moves them, returns take them back.
- Cancelling (红冲) moves them back; serials that moved on since refuse the cancellation
  (``reversal_impossible``, naming the serial), nothing written.
- The codec carries them; documents stored before lines had serials read with none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest

from jxc_core.documents import (
    LINE_FIELDS,
    DocType,
    Document,
    Line,
    State,
    document_from_data,
    document_to_data,
)
from jxc_core.errors import JxcError
from jxc_core.services.jxc import fingerprint
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal
#: P: FIFO; M: moving average, 盒 = 2; L: lot-tracked too (FIFO)
SERIAL_ITEMS = ("P", "M", "L")


@pytest.fixture
def sn(shop: Shop) -> Iterator[Shop]:
    """The shop of support.py with three serial-tracked items."""
    shop.jxc.define_item(Item("P", "phone", serial_tracked=True))
    shop.jxc.define_item(Item("M", "modem", costing_method="moving_average",
                              units={"盒": D(2)}, serial_tracked=True))
    shop.jxc.define_item(Item("L", "laptop", lot_tracked=True, serial_tracked=True))
    yield shop


def where(shop: Shop, item: str, *serials: str) -> list[str | None]:
    """The warehouse holding each serial (``None``: not on hand)."""
    with shop.jxc.storage.unit_of_work() as uow:
        return [uow.serials.where(item, s) for s in serials]


def snapshot(shop: Shop, serials: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """What a refused command must leave as it was, serial positions included."""
    return {
        **shop.snapshot(),
        "serial_ledger": [(i, x.entry) for i in SERIAL_ITEMS for x in shop.jxc.ledger(i)],
        "where": {i: where(shop, i, *s) for i, s in serials.items()},
    }


def books(shop: Shop) -> None:
    """Debits == credits; the inventory role == the stock's value, serial items included."""
    rows = shop.journal()
    assert sum((r.debit for r in rows), D(0)) == sum((r.credit for r in rows), D(0))
    value = sum((shop.jxc.balance(i, w).value for i in (*SERIAL_ITEMS, "A", "B", "C", "KG")
                 for w in ("W1", "W2")), D(0))
    assert shop.net("inventory") == value


def refused(code: str, act: Any) -> JxcError:
    with pytest.raises(JxcError) as err:
        act()
    assert err.value.code == code, err.value
    return err.value


def receipt(shop: Shop, item: str, serials: tuple[str, ...], wh: str = "W1",
            **kw: Any) -> Document:
    return shop.receipt([Line(1, item, D(len(serials)), D("100.00"), warehouse=wh,
                              serials=serials, **kw)])


# -- create ---------------------------------------------------------------------------------
def test_a_document_keeps_its_serials(sn: Shop) -> None:
    rk = sn.make("purchase_receipt", [Line(1, "P", D(2), D("100.00"), warehouse="W1",
                                           serials=("SN1", "SN2"))], "S1")
    assert rk.lines[0].serials == ("SN1", "SN2")
    assert sn.docs.get(rk.doc_id).lines[0].serials == ("SN1", "SN2")
    assert where(sn, "P", "SN1") == [None]  # a draft moves nothing


@pytest.mark.parametrize(("line", "code"), [
    (Line(1, "P", D(2), D("1.00"), warehouse="W1", serials=("SN1",)), "serial_count"),
    (Line(1, "P", D(1), D("1.00"), warehouse="W1", serials=("SN1", "SN2")), "serial_count"),
    (Line(1, "P", D(1), D("1.00"), warehouse="W1"), "serial_count"),
    # 1 盒 is 2 units of the base unit: two serials
    (Line(1, "M", D(1), D("1.00"), unit="盒", warehouse="W1", serials=("SN1",)),
     "serial_count"),
    (Line(1, "P", D(2), D("1.00"), warehouse="W1", serials=("SN1", "SN1")), "duplicate_serial"),
    (Line(1, "P", D(1), D("1.00"), warehouse="W1", serials=("",)), "invalid_document"),
    (Line(1, "P", D(1), D("1.00"), warehouse="W1", serials=(" ",)), "invalid_document"),
    (Line(1, "C", D(1), D("1.00"), warehouse="W1", serials=("SN1",)), "invalid_document"),
])
def test_wrong_serials_are_refused_at_create(sn: Shop, line: Line, code: str) -> None:
    err = refused(code, lambda: sn.make("purchase_receipt", [line], "S1"))
    assert err.message_zh != err.message_en  # both languages
    assert sn.docs.ids() == []


def test_serials_that_are_not_texts_are_a_type_error(sn: Shop) -> None:
    for serials, name in ((["SN1"], "tuple"), (("SN1", 2), "str")):
        with pytest.raises(TypeError, match=f"serials must be a {name}"):
            sn.make("purchase_receipt", [Line(1, "P", D(len(serials)), D("1.00"),
                                              warehouse="W1", serials=serials)], "S1")
    assert sn.docs.ids() == []


def test_the_count_is_in_base_units(sn: Shop) -> None:
    rk = sn.receipt([Line(1, "M", D(1), D("10.00"), unit="盒", warehouse="W1",
                          serials=("M1", "M2"))])
    assert where(sn, "M", "M1", "M2") == ["W1", "W1"]
    assert sn.jxc.balance("M", "W1").on_hand == 2
    assert rk.state == State.POSTED


@pytest.mark.parametrize("kind", ["purchase_order", "sales_order"])
def test_orders_carry_no_serials(sn: Shop, kind: str) -> None:
    party = "S1" if kind == "purchase_order" else "C1"
    err = refused("invalid_document", lambda: sn.make(kind, [
        Line(1, "P", D(1), D("1.00"), warehouse="W1", serials=("SN1",))], party))
    assert "serial" in err.data["reason"] and "序列号" in err.message_zh
    sn.make(kind, [Line(1, "P", D(1), D("1.00"), warehouse="W1")], party)  # without: fine


def test_invoices_and_landed_costs_carry_no_serials(sn: Shop) -> None:
    rk = receipt(sn, "P", ("SN1",))
    refused("invalid_document", lambda: sn.make("purchase_invoice", [
        Line(1, "P", D(1), D("100.00"), source=(rk.doc_id, 1), serials=("SN1",))], "S1"))
    refused("invalid_document", lambda: sn.make("landed_cost", [
        Line(1, "freight", D(1), D("5.00"), serials=("SN1",))], "S1",
        attributes={"receipts": [rk.doc_id]}))
    sn.run("purchase_invoice", [Line(1, "P", D(1), D("100.00"), source=(rk.doc_id, 1))], "S1")


def test_a_serial_is_listed_once_per_document(sn: Shop) -> None:
    err = refused("duplicate_serial", lambda: sn.make("purchase_receipt", [
        Line(1, "P", D(1), D("1.00"), warehouse="W1", serials=("SN1",)),
        Line(2, "P", D(1), D("1.00"), warehouse="W2", serials=("SN1",))], "S1"))
    assert err.data == {"item": "P", "serial": "SN1", "first": 1, "line": 2}
    # the same text as a serial of another item is another unit
    sn.make("purchase_receipt", [
        Line(1, "P", D(1), D("1.00"), warehouse="W1", serials=("SN1",)),
        Line(2, "M", D(1), D("1.00"), warehouse="W1", serials=("SN1",))], "S1")


# -- receipts and deliveries ------------------------------------------------------------------
def test_a_receipt_puts_its_serials_on_hand(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2"))
    assert where(sn, "P", "SN1", "SN2", "SN3") == ["W1", "W1", None]
    assert sn.jxc.balance("P", "W1").on_hand == 2
    books(sn)


def test_a_serial_received_twice_is_refused_and_nothing_written(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2"))
    for wh in ("W1", "W2"):  # on hand anywhere
        doc = sn.approved("purchase_receipt", [
            Line(1, "P", D(2), D("100.00"), warehouse=wh, serials=("SN3", "SN2"))], "S1")
        before = snapshot(sn, {"P": ("SN1", "SN2", "SN3")})
        err = refused("serial_on_hand", lambda doc=doc: sn.docs.post(doc, BOSS))
        assert err.data == {"item": "P", "serial": "SN2", "warehouse": "W1"}
        assert snapshot(sn, {"P": ("SN1", "SN2", "SN3")}) == before
        assert sn.docs.get(doc).state == State.APPROVED
    assert where(sn, "P", "SN3") == [None]  # not half received
    books(sn)


def test_a_delivery_takes_its_serials(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2", "SN3"))
    sn.run("delivery", [Line(1, "P", D(2), D("300.00"), warehouse="W1",
                             serials=("SN3", "SN1"))], "C1")
    assert where(sn, "P", "SN1", "SN2", "SN3") == [None, "W1", None]
    assert sn.jxc.balance("P", "W1").on_hand == 1
    books(sn)


def test_a_delivery_of_a_serial_not_on_hand_is_refused(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2"))
    receipt(sn, "P", ("SN7",), wh="W2")
    for missing in ("SN9", "SN7"):  # never received; on hand in another warehouse
        doc = sn.approved("delivery", [Line(1, "P", D(2), D("300.00"), warehouse="W1",
                                            serials=("SN1", missing))], "C1")
        before = snapshot(sn, {"P": ("SN1", "SN2", "SN7")})
        err = refused("serial_not_on_hand", lambda doc=doc: sn.docs.post(doc, BOSS))
        assert err.data == {"item": "P", "serial": missing, "warehouse": "W1"}
        assert snapshot(sn, {"P": ("SN1", "SN2", "SN7")}) == before
    assert where(sn, "P", "SN1", "SN2", "SN7") == ["W1", "W1", "W2"]


def test_a_serial_delivered_on_the_first_of_two_documents_is_refused_on_the_second(
        sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2"))
    first = sn.approved("delivery", [Line(1, "P", D(1), D("1.00"), warehouse="W1",
                                          serials=("SN1",))], "C1")
    second = sn.approved("delivery", [Line(1, "P", D(1), D("1.00"), warehouse="W1",
                                           serials=("SN1",))], "C1")
    sn.docs.post(first, BOSS)
    refused("serial_not_on_hand", lambda: sn.docs.post(second, BOSS))
    assert sn.jxc.balance("P", "W1").on_hand == 1


# -- cancellations ----------------------------------------------------------------------------
def test_cancelling_a_receipt_takes_its_serials_off(sn: Shop) -> None:
    rk = receipt(sn, "P", ("SN1", "SN2"))
    sn.docs.cancel(rk.doc_id, BOSS)
    assert where(sn, "P", "SN1", "SN2") == [None, None]
    assert sn.jxc.balance("P", "W1").on_hand == 0
    receipt(sn, "P", ("SN1",))  # may come in again
    books(sn)


def test_a_receipt_whose_serials_left_cannot_be_cancelled(sn: Shop) -> None:
    # moving average: the quantity is there (SN2, SN3), the units of the receipt are not
    rk = receipt(sn, "M", ("SN1", "SN2"))
    receipt(sn, "M", ("SN3",))
    dl = sn.run("delivery", [Line(1, "M", D(1), D("1.00"), warehouse="W1",
                                  serials=("SN1",))], "C1")
    before = snapshot(sn, {"M": ("SN1", "SN2", "SN3")})
    err = refused("reversal_impossible", lambda: sn.docs.cancel(rk.doc_id, BOSS))
    assert (err.data["doc_id"], err.data["serial"], err.data["item"]) == (rk.doc_id, "SN1",
                                                                          "M")
    assert "SN1" in err.data["reason"] and "序列号 SN1" in err.message_zh
    assert snapshot(sn, {"M": ("SN1", "SN2", "SN3")}) == before
    sn.docs.cancel(dl.doc_id, BOSS)  # the delivery first: then the receipt may go
    sn.docs.cancel(rk.doc_id, BOSS)
    assert where(sn, "M", "SN1", "SN2", "SN3") == [None, None, "W1"]
    books(sn)


def test_cancelling_a_delivery_brings_its_serials_back(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2"))
    dl = sn.run("delivery", [Line(1, "P", D(2), D("1.00"), warehouse="W1",
                                  serials=("SN1", "SN2"))], "C1")
    sn.docs.cancel(dl.doc_id, BOSS)
    assert where(sn, "P", "SN1", "SN2") == ["W1", "W1"]
    assert sn.jxc.balance("P", "W1").on_hand == 2
    books(sn)


def test_a_delivery_picked_from_two_lots_puts_its_serials_back_on_cancel(sn: Shop) -> None:
    sn.receipt([
        Line(1, "L", D(1), D("100.00"), warehouse="W1", lot="L1", expiry=dt.date(2027, 1, 1),
             serials=("X1",)),
        Line(2, "L", D(2), D("120.00"), warehouse="W1", lot="L2", expiry=dt.date(2027, 6, 1),
             serials=("X2", "X3"))])
    # no lot named: picked FEFO from L1 then L2, one serial list for the line
    dl = sn.run("delivery", [Line(1, "L", D(2), D("1.00"), warehouse="W1",
                                  serials=("X1", "X3"))], "C1")
    assert len(dl.attributes["picked"]["1"]) == 2
    assert where(sn, "L", "X1", "X2", "X3") == [None, "W1", None]
    sn.docs.cancel(dl.doc_id, BOSS)  # back row by row, the serials spread over the rows
    assert where(sn, "L", "X1", "X2", "X3") == ["W1", "W1", "W1"]
    assert [sn.jxc.balance("L", "W1", lot=lot).on_hand for lot in ("L1", "L2")] == [1, 2]
    books(sn)


def test_a_delivery_whose_serials_came_back_otherwise_cannot_be_cancelled(sn: Shop) -> None:
    receipt(sn, "M", ("SN1", "SN2"))
    dl = sn.run("delivery", [Line(1, "M", D(1), D("1.00"), warehouse="W1",
                                  serials=("SN1",))], "C1")
    sn.run("adjustment", [Line(1, "M", D(1), D("100.00"), warehouse="W2",
                               serials=("SN1",))])  # found again, elsewhere
    before = snapshot(sn, {"M": ("SN1", "SN2")})
    err = refused("reversal_impossible", lambda: sn.docs.cancel(dl.doc_id, BOSS))
    assert (err.data["serial"], err.data["warehouse"]) == ("SN1", "W2")
    assert snapshot(sn, {"M": ("SN1", "SN2")}) == before


def test_a_transfer_moves_its_serials_and_its_cancellation_moves_them_back(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2", "SN3"))
    db = sn.run("transfer", [Line(1, "P", D(2), warehouse="W1", to_warehouse="W2",
                                  serials=("SN1", "SN2"))])
    assert where(sn, "P", "SN1", "SN2", "SN3") == ["W2", "W2", "W1"]
    assert (sn.jxc.balance("P", "W1").on_hand, sn.jxc.balance("P", "W2").on_hand) == (1, 2)
    sn.docs.cancel(db.doc_id, BOSS)
    assert where(sn, "P", "SN1", "SN2", "SN3") == ["W1", "W1", "W1"]
    assert (sn.jxc.balance("P", "W1").on_hand, sn.jxc.balance("P", "W2").on_hand) == (3, 0)
    books(sn)


def test_a_transfer_of_a_serial_not_in_its_warehouse_is_refused(sn: Shop) -> None:
    receipt(sn, "P", ("SN1",), wh="W2")
    receipt(sn, "P", ("SN2",))  # stock enough in W1, not that unit
    doc = sn.approved("transfer", [Line(1, "P", D(1), warehouse="W1", to_warehouse="W2",
                                        serials=("SN1",))])
    refused("serial_not_on_hand", lambda: sn.docs.post(doc, BOSS))
    assert where(sn, "P", "SN1") == ["W2"]


def test_a_transfer_may_send_a_serial_on_along_two_lines(sn: Shop) -> None:
    receipt(sn, "M", ("SN1",))
    db = sn.run("transfer", [
        Line(1, "M", D(1), warehouse="W1", to_warehouse="W2", serials=("SN1",)),
        Line(2, "M", D(1), warehouse="W2", to_warehouse="W1", serials=("SN1",))])
    assert where(sn, "M", "SN1") == ["W1"]
    sn.docs.cancel(db.doc_id, BOSS)  # undone last line first
    assert where(sn, "M", "SN1") == ["W1"]
    assert sn.jxc.balance("M", "W2").on_hand == 0


def test_a_transfer_sending_a_serial_twice_from_one_place_is_refused_at_entry(
        sn: Shop) -> None:
    """Two lines of a transfer may name one serial only when they chain (W1 -> W2, then
    W2 -> ...): two lines sending it from W1 could never both post, and the document was
    approved and then failed at posting (``serial_not_on_hand``)."""
    receipt(sn, "M", ("SN1",))
    err = refused("duplicate_serial", lambda: sn.make("transfer", [
        Line(1, "M", D(1), warehouse="W1", to_warehouse="W2", serials=("SN1",)),
        Line(2, "M", D(1), warehouse="W1", to_warehouse="W2", serials=("SN1",))]))
    assert err.data == {"item": "M", "serial": "SN1", "first": 1, "line": 2}


def test_two_location_moves_of_one_serial_must_chain_too(sn: Shop) -> None:
    """Serials are kept per warehouse: two moves out of one row naming one serial posted,
    and the document named that unit twice (the other one never)."""
    sn.jxc.define_warehouse(Warehouse("WL", "racks", locations=("L1", "L2", "L3")))
    receipt(sn, "M", ("S1", "S2"), wh="WL", location="L1")
    refused("duplicate_serial", lambda: sn.make("transfer", [
        Line(1, "M", D(1), warehouse="WL", location="L1", to_warehouse="WL",
             to_location="L2", serials=("S1",)),
        Line(2, "M", D(1), warehouse="WL", location="L1", to_warehouse="WL",
             to_location="L3", serials=("S1",))]))
    sn.run("transfer", [  # chained: L1 -> L2, then L2 -> L3
        Line(1, "M", D(1), warehouse="WL", location="L1", to_warehouse="WL",
             to_location="L2", serials=("S1",)),
        Line(2, "M", D(1), warehouse="WL", location="L2", to_warehouse="WL",
             to_location="L3", serials=("S1",))])
    assert where(sn, "M", "S1", "S2") == ["WL", "WL"]


def test_a_transfer_whose_serials_moved_on_cannot_be_cancelled(sn: Shop) -> None:
    receipt(sn, "M", ("SN1", "SN2"))
    receipt(sn, "M", ("SN3",), wh="W2")
    db = sn.run("transfer", [Line(1, "M", D(1), warehouse="W1", to_warehouse="W2",
                                  serials=("SN1",))])
    sn.run("delivery", [Line(1, "M", D(1), D("1.00"), warehouse="W2",
                             serials=("SN1",))], "C1")
    err = refused("reversal_impossible", lambda: sn.docs.cancel(db.doc_id, BOSS))
    assert err.data["serial"] == "SN1"
    assert sn.docs.get(db.doc_id).state == State.POSTED


def test_a_location_move_keeps_the_serials_in_the_warehouse(sn: Shop) -> None:
    from jxc_core.stock import Warehouse

    sn.jxc.define_warehouse(Warehouse("W3", "racks", locations=("A1", "B1")))
    receipt(sn, "P", ("SN1", "SN2"), wh="W3", location="A1")
    doc = sn.run("transfer", [Line(1, "P", D(1), warehouse="W3", to_warehouse="W3",
                                   location="A1", to_location="B1", serials=("SN2",))])
    assert where(sn, "P", "SN1", "SN2") == ["W3", "W3"]
    sn.docs.cancel(doc.doc_id, BOSS)
    assert where(sn, "P", "SN1", "SN2") == ["W3", "W3"]
    bad = sn.approved("transfer", [Line(1, "P", D(1), warehouse="W3", to_warehouse="W3",
                                        location="A1", to_location="B1", serials=("SN9",))])
    refused("serial_not_on_hand", lambda: sn.docs.post(bad, BOSS))


# -- returns ----------------------------------------------------------------------------------
def test_a_sales_return_takes_back_delivered_serials(sn: Shop) -> None:
    receipt(sn, "P", ("SN1", "SN2", "SN3"))
    dl = sn.run("delivery", [Line(1, "P", D(2), D("300.00"), warehouse="W1",
                                  serials=("SN1", "SN2"))], "C1")
    # only serials the delivery line moved
    err = refused("invalid_document", lambda: sn.make("sales_return", [
        Line(1, "P", D(1), D("300.00"), warehouse="W1", source=(dl.doc_id, 1),
             serials=("SN3",))], "C1"))
    assert "SN3" in err.data["reason"] and "SN3" in err.message_zh
    th = sn.run("sales_return", [Line(1, "P", D(1), D("300.00"), warehouse="W1",
                                      source=(dl.doc_id, 1), serials=("SN2",))], "C1")
    assert where(sn, "P", "SN1", "SN2") == [None, "W1"]
    # returned already against that line: refused at entry
    refused("invalid_document", lambda: sn.approved("sales_return", [
        Line(1, "P", D(1), D("300.00"), warehouse="W1", source=(dl.doc_id, 1),
             serials=("SN2",))], "C1"))
    sn.docs.cancel(th.doc_id, BOSS)  # its serials leave again
    assert where(sn, "P", "SN1", "SN2") == [None, None]
    books(sn)


def test_a_purchase_return_sends_back_received_serials(sn: Shop) -> None:
    rk = receipt(sn, "P", ("SN1", "SN2"))
    refused("invalid_document", lambda: sn.make("purchase_return", [
        Line(1, "P", D(1), D("100.00"), warehouse="W1", source=(rk.doc_id, 1),
             serials=("SN5",))], "S1"))
    th = sn.run("purchase_return", [Line(1, "P", D(1), D("100.00"), warehouse="W1",
                                         source=(rk.doc_id, 1), serials=("SN1",))], "S1")
    assert where(sn, "P", "SN1", "SN2") == [None, "W1"]
    sn.docs.cancel(th.doc_id, BOSS)  # it comes back
    assert where(sn, "P", "SN1", "SN2") == ["W1", "W1"]
    books(sn)


# -- adjustments ------------------------------------------------------------------------------
def test_adjustments_in_and_out_move_serials_and_cancel(sn: Shop) -> None:
    # moving average: the cancelled issue's units join the pool, the receipt may go after
    qt_in = sn.run("adjustment", [Line(1, "M", D(2), D("50.00"), warehouse="W1",
                                       serials=("SN1", "SN2"))])
    assert where(sn, "M", "SN1", "SN2") == ["W1", "W1"]
    qt_out = sn.run("adjustment", [Line(1, "M", D(-1), warehouse="W1", serials=("SN2",))])
    assert where(sn, "M", "SN1", "SN2") == ["W1", None]
    refused("serial_count", lambda: sn.make("adjustment", [
        Line(1, "M", D(-2), warehouse="W1", serials=("SN1",))]))
    sn.docs.cancel(qt_out.doc_id, BOSS)
    assert where(sn, "M", "SN1", "SN2") == ["W1", "W1"]
    sn.docs.cancel(qt_in.doc_id, BOSS)
    assert where(sn, "M", "SN1", "SN2") == [None, None]
    books(sn)


# -- posted before the item was serial-tracked -----------------------------------------------
def test_a_document_posted_before_the_item_was_serial_tracked_cannot_be_cancelled(
        sn: Shop) -> None:
    """``define_item`` refuses the switch with stock now; a store written by an earlier
    version may have it."""
    rk = sn.receipt([Line(1, "C", D(1), D("100.00"), warehouse="W1")])
    refused("configuration", lambda: sn.jxc.define_item(Item("C", "cable", serial_tracked=True)))
    with sn.jxc.storage.unit_of_work() as uow:  # as an earlier version let it be
        uow.master.put_item(Item("C", "cable", serial_tracked=True))
        uow.commit()
    err = refused("reversal_impossible", lambda: sn.docs.cancel(rk.doc_id, BOSS))
    assert "serial" in err.data["reason"] and "序列号" in err.message_zh
    assert sn.docs.get(rk.doc_id).state == State.POSTED


# -- codec and storage ------------------------------------------------------------------------
def _doc() -> Document:
    return Document(DocType.DELIVERY, "XSCK-1", party="C1", lines=(
        Line(1, "P", D(2), D("300.00"), warehouse="W1", serials=("SN1", "序列-2")),
        Line(2, "C", D(5), D("1.00"), warehouse="W1")))


def test_a_document_with_serials_goes_through_json_and_back() -> None:
    doc = _doc()
    for compact in (False, True):
        data = json.loads(json.dumps(document_to_data(doc, compact=compact)))
        assert document_from_data(data) == doc
    full = document_to_data(doc)
    assert [x["serials"] for x in full["lines"]] == [["SN1", "序列-2"], []]
    compact_lines = document_to_data(doc, compact=True)["lines"]
    # the compact form leaves out the serials of a line that has none: stored as before
    assert [len(x) for x in compact_lines] == [len(LINE_FIELDS), len(LINE_FIELDS) - 1]


def test_documents_stored_before_lines_had_serials_read_with_none() -> None:
    doc = attrs.evolve(_doc(), lines=(attrs.evolve(_doc().lines[0], serials=()),
                                      _doc().lines[1]))
    for compact in (False, True):
        old = json.loads(json.dumps(document_to_data(doc, compact=compact)))
        for line in old["lines"]:
            if compact:
                assert len(line) == len(LINE_FIELDS) - 1  # as they were stored
            else:
                del line["serials"]
        assert document_from_data(old) == doc
        # and from before to_location too
        for line in old["lines"]:
            if compact:
                line.pop()
            else:
                del line["to_location"]
        assert document_from_data(old) == doc


def test_the_storage_keeps_and_reads_the_serials(sn: Shop) -> None:
    rk = receipt(sn, "P", ("SN1", "SN2"))
    with sn.jxc.storage.unit_of_work() as uow:
        stored = uow.documents.get(rk.doc_id)
    assert stored is not None and stored["lines"][0][-1] == ["SN1", "SN2"]
    assert sn.docs.get(rk.doc_id).lines[0].serials == ("SN1", "SN2")


def test_the_idempotency_key_of_a_document_without_serials_is_unchanged(sn: Shop) -> None:
    """Keys stored before lines had serials still match their retries."""
    line = Line(1, "C", D(2), D("1.00"), warehouse="W1")
    doc = sn.docs.create("purchase_receipt", [line], party="S1", date=dt.date(2026, 3, 2),
                         idempotency_key="k1")
    old_line = attrs.asdict(line, recurse=False)
    del old_line["serials"]
    with sn.jxc.storage.unit_of_work() as uow:
        seen = uow.idempotency.get("k1")
    assert seen is not None
    assert seen[0] == fingerprint("create_document", (
        "purchase_receipt", [old_line], "S1", dt.date(2026, 3, 2), "CNY", "", {}, None))
    again = sn.docs.create("purchase_receipt", [line], party="S1", date=dt.date(2026, 3, 2),
                           idempotency_key="k1")
    assert again.doc_id == doc.doc_id
    # with serials: another payload
    sn.docs.create("purchase_receipt", [Line(1, "P", D(1), D("1.00"), warehouse="W1",
                                             serials=("SN1",))], party="S1",
                   idempotency_key="k2")
    refused("idempotency_conflict", lambda: sn.docs.create(
        "purchase_receipt", [Line(1, "P", D(1), D("1.00"), warehouse="W1",
                                  serials=("SN2",))], party="S1", idempotency_key="k2"))


@pytest.mark.parametrize("side", ["sales", "purchase"])
def test_a_serial_comes_back_once_against_its_source_line(sn: Shop, side: str) -> None:
    """Returned, then moved again on another document, a serial was accepted a second time
    against its first source line: that line then counted all its units back while another
    was still out, and that one could never be returned."""
    rk = receipt(sn, "P", ("S1", "S2"))
    if side == "sales":
        first = sn.run("delivery", [Line(1, "P", D(2), D("300"), warehouse="W1",
                                         serials=("S1", "S2"))], "C1")
        kind, party = "sales_return", "C1"
    else:
        first, kind, party = rk, "purchase_return", "S1"

    def back(src: str) -> Document:
        return sn.run(kind, [Line(1, "P", D(1), D("300") if side == "sales" else D("100.00"),
                                  warehouse="W1", source=(src, 1), serials=("S1",))], party)

    ret = back(first.doc_id)
    if side == "sales":  # S1 is here again: sold on another delivery
        sn.run("delivery", [Line(1, "P", D(1), D("300"), warehouse="W1", serials=("S1",))],
               "C1")
    else:  # S1 is with the supplier: received again on another receipt
        receipt(sn, "P", ("S1",))
    refused("invalid_document", lambda: back(first.doc_id))
    assert sn.docs.get(ret.doc_id).state.value == "posted"
    books(sn)


def test_a_cancelled_return_gives_its_serials_back_to_its_source_line(sn: Shop) -> None:
    rk = receipt(sn, "P", ("S1", "S2"))
    line = Line(1, "P", D(1), D("100.00"), warehouse="W1", source=(rk.doc_id, 1),
                serials=("S1",))
    ret = sn.run("purchase_return", [line], "S1")
    assert sn.docs.get(rk.doc_id).attributes["returned_serials"] == {"1": ["S1"]}
    sn.docs.cancel(ret.doc_id, BOSS)
    assert "returned_serials" not in sn.docs.get(rk.doc_id).attributes
    sn.run("purchase_return", [line], "S1")  # and it may go back again
    assert where(sn, "P", "S1", "S2") == [None, "W1"]
    books(sn)


def test_the_service_tells_where_a_serial_is(sn: Shop) -> None:
    receipt(sn, "P", ("S1", "S2"))
    sn.run("delivery", [Line(1, "P", D(1), D("300"), warehouse="W1", serials=("S2",))], "C1")
    assert [sn.jxc.serial_warehouse("P", s) for s in ("S1", "S2", "S9")] == ["W1", None, None]
    assert sn.jxc.serial_warehouse("M", "S1") is None  # another item's serial is another unit
    with pytest.raises(TypeError):
        sn.jxc.serial_warehouse("P", 1)  # type: ignore[arg-type]

"""Cancelling (红冲) documents that moved serial numbers, newest first, on both adapters.

A serial number that moved again after a document (delivered and returned since, sent away
and back, moved to another location) may happen to be where the document left it; its
cancellation is still refused (``reversal_impossible``, naming the serial and the later
document that moved it), nothing written: the later document is cancelled first. Undone
newest first, every cancellation goes through and the serials end where they were.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal


@pytest.fixture
def sn(shop: Shop) -> Shop:
    """The shop of support.py with P (FIFO) and M (moving average), serial-tracked."""
    shop.jxc.define_item(Item("P", "phone", serial_tracked=True))
    shop.jxc.define_item(Item("M", "modem", costing_method="moving_average",
                              serial_tracked=True))
    return shop


def where(shop: Shop, item: str, *serials: str) -> list[str | None]:
    return [shop.jxc.serial_warehouse(item, s) for s in serials]


def state(shop: Shop, item: str, serials: tuple[str, ...]) -> dict[str, Any]:
    """What a refused cancellation must leave as it was."""
    return {
        **shop.snapshot(),
        "serial_ledger": [x.entry for x in shop.jxc.ledger(item)],
        "where": where(shop, item, *serials),
        "value": [shop.jxc.balance(item, w).value for w in ("W1", "W2")],
    }


def refused_moved_on(shop: Shop, doc: Document, item: str, serial: str, later: Document,
                     serials: tuple[str, ...]) -> JxcError:
    """The cancellation of ``doc`` is refused naming ``serial`` and ``later``; nothing
    written."""
    before = state(shop, item, serials)
    with pytest.raises(JxcError) as caught:
        shop.docs.cancel(doc.doc_id, BOSS)
    err = caught.value
    assert err.code == "reversal_impossible", err
    assert (err.data["doc_id"], err.data["item"], err.data["serial"]) == (doc.doc_id, item,
                                                                          serial)
    assert (err.data["moved_by"], err.data["moved_by_type"]) == (later.doc_id,
                                                                 later.doc_type.value)
    assert serial in err.data["reason"] and later.doc_id in err.data["reason"]
    assert f"序列号 {serial}" in err.message_zh and later.doc_id in err.message_zh
    assert state(shop, item, serials) == before
    assert shop.docs.get(doc.doc_id).state == State.POSTED
    return err


def receipt(shop: Shop, item: str, serials: tuple[str, ...], wh: str = "W1",
            **kw: Any) -> Document:
    return shop.receipt([Line(1, item, D(len(serials)), D("100.00"), warehouse=wh,
                              serials=serials, **kw)])


def delivery(shop: Shop, item: str, serials: tuple[str, ...], wh: str = "W1") -> Document:
    return shop.run("delivery", [Line(1, item, D(len(serials)), D("200.00"), warehouse=wh,
                                      serials=serials)], "C1")


def sales_return(shop: Shop, dl: Document, serials: tuple[str, ...]) -> Document:
    line = dl.lines[0]
    return shop.run("sales_return", [Line(1, line.item, D(len(serials)), D("200.00"),
                                          warehouse=line.warehouse, source=(dl.doc_id, 1),
                                          serials=serials)], "C1")


def books(shop: Shop, *more: str) -> None:
    """Debits == credits; the inventory role == the stock's value (in W1, W2 and ``more``)."""
    rows = shop.journal()
    assert sum((r.debit for r in rows), D(0)) == sum((r.credit for r in rows), D(0))
    value = sum((shop.jxc.balance(i, w).value for i in ("P", "M", "A", "B", "C", "KG")
                 for w in ("W1", "W2", *more)), D(0))
    assert shop.net("inventory") == value


def test_a_return_whose_serial_was_delivered_and_returned_again_is_cancelled_last(
        sn: Shop) -> None:
    """S1 delivered, returned (XSTH-1), delivered again (XSCK-2), returned again (XSTH-2):
    S1 is on hand, as XSTH-1 left it, but the cancellation of XSTH-1 is refused; XSTH-2 and
    XSCK-2 can still be cancelled, then XSTH-1."""
    receipt(sn, "P", ("S1", "S2"))
    dl1 = delivery(sn, "P", ("S1",))
    sr1 = sales_return(sn, dl1, ("S1",))
    dl2 = delivery(sn, "P", ("S1",))
    sr2 = sales_return(sn, dl2, ("S1",))
    assert where(sn, "P", "S1", "S2") == ["W1", "W1"]
    refused_moved_on(sn, sr1, "P", "S1", sr2, ("S1", "S2"))
    assert sn.jxc.serials_in("P", "W1") == ("S1", "S2")
    sn.docs.cancel(sr2.doc_id, BOSS)
    refused_moved_on(sn, sr1, "P", "S1", dl2, ("S1", "S2"))  # now the delivery is newest
    sn.docs.cancel(dl2.doc_id, BOSS)
    sn.docs.cancel(sr1.doc_id, BOSS)
    assert where(sn, "P", "S1", "S2") == [None, "W1"]
    books(sn)


def test_a_moving_average_receipt_whose_serial_came_back_is_not_cancelled(sn: Shop) -> None:
    """S9 received, delivered, returned: on hand again, but not the receipt's doing any
    more; cancelled, the books would show S9 delivered and returned, never received."""
    rk = receipt(sn, "M", ("S9",))
    dl = delivery(sn, "M", ("S9",))
    sr = sales_return(sn, dl, ("S9",))
    refused_moved_on(sn, rk, "M", "S9", sr, ("S9",))
    assert (where(sn, "M", "S9"), sn.qty("M")) == (["W1"], D(1))
    sn.docs.cancel(sr.doc_id, BOSS)
    sn.docs.cancel(dl.doc_id, BOSS)
    sn.docs.cancel(rk.doc_id, BOSS)
    assert (where(sn, "M", "S9"), sn.qty("M"), sn.value("M")) == ([None], D(0), D(0))
    books(sn)


@pytest.mark.parametrize("item", ["P", "M"])
def test_undone_newest_first_every_cancellation_goes_through(sn: Shop, item: str) -> None:
    """Receipt, XSCK-1, XSTH-1, XSCK-2, XSTH-2; each older one refused while a newer one
    stands; cancelled XSTH-2, XSCK-2, XSTH-1, XSCK-1, receipt: the serials end as before."""
    rk = receipt(sn, item, ("S1", "S2"))
    dl1 = delivery(sn, item, ("S1",))
    sr1 = sales_return(sn, dl1, ("S1",))
    dl2 = delivery(sn, item, ("S1",))
    sr2 = sales_return(sn, dl2, ("S1",))
    newest_first = [sr2, dl2, sr1, dl1, rk]
    places = [["W1", "W1"], [None, "W1"], ["W1", "W1"], [None, "W1"], ["W1", "W1"],
              [None, None]]
    assert where(sn, item, "S1", "S2") == places[0]
    for n, doc in enumerate(newest_first):
        for older in newest_first[n + 1:]:
            if older is rk and item == "P":  # FIFO: its layer is not whole (refused for that)
                before = state(sn, item, ("S1", "S2"))
                with pytest.raises(JxcError) as caught:
                    sn.docs.cancel(rk.doc_id, BOSS)
                assert caught.value.code == "reversal_impossible"
                assert state(sn, item, ("S1", "S2")) == before
            elif older.doc_type.value != "delivery":  # returned against: refused for that
                refused_moved_on(sn, older, item, "S1", doc, ("S1", "S2"))
        sn.docs.cancel(doc.doc_id, BOSS)
        assert where(sn, item, "S1", "S2") == places[n + 1]
    assert (sn.qty(item), sn.value(item)) == (D(0), D(0))
    assert all(sn.docs.get(d.doc_id).state == State.CANCELLED for d in newest_first)
    receipt(sn, item, ("S1", "S2"))  # they may come in again
    books(sn)


def test_a_receipt_whose_serial_went_away_and_back_by_transfers_is_not_cancelled(
        sn: Shop) -> None:
    rk = receipt(sn, "M", ("S1", "S2"))
    out = sn.run("transfer", [Line(1, "M", D(1), warehouse="W1", to_warehouse="W2",
                                   serials=("S1",))])
    back = sn.run("transfer", [Line(1, "M", D(1), warehouse="W2", to_warehouse="W1",
                                    serials=("S1",))])
    assert where(sn, "M", "S1") == ["W1"]
    refused_moved_on(sn, rk, "M", "S1", back, ("S1", "S2"))
    sn.docs.cancel(back.doc_id, BOSS)
    refused_moved_on(sn, rk, "M", "S1", out, ("S1", "S2"))
    sn.docs.cancel(out.doc_id, BOSS)
    sn.docs.cancel(rk.doc_id, BOSS)
    assert where(sn, "M", "S1", "S2") == [None, None]
    books(sn)


def test_a_receipt_whose_serial_moved_to_another_location_is_not_cancelled(
        sn: Shop) -> None:
    """Serials are kept per warehouse: a location move leaves the serial there, but the
    receipt's own units are no longer where it put them."""
    sn.jxc.define_warehouse(Warehouse("WL", "racks", locations=("L1", "L2")))
    rk = receipt(sn, "P", ("S1", "S2"), wh="WL", location="L1")
    receipt(sn, "P", ("S3",), wh="WL", location="L1")
    move = sn.run("transfer", [Line(1, "P", D(1), warehouse="WL", location="L1",
                                    to_warehouse="WL", to_location="L2", serials=("S1",))])
    refused_moved_on(sn, rk, "P", "S1", move, ("S1", "S2", "S3"))
    sn.docs.cancel(move.doc_id, BOSS)
    sn.docs.cancel(rk.doc_id, BOSS)
    assert where(sn, "P", "S1", "S2", "S3") == [None, None, "WL"]
    books(sn, "WL")


def test_a_count_whose_found_serial_was_delivered_and_returned_is_not_cancelled(
        sn: Shop) -> None:
    sn.run("adjustment", [Line(1, "P", D(2), D("100.00"), warehouse="W1",
                               serials=("S1", "S2"))])
    pd = sn.make("stock_count", [Line(1, "P", D(0), warehouse="W1")])
    sn.docs.submit(pd.doc_id, BOSS)
    sn.docs.record_count(pd.doc_id, {1: D(2)}, serials={1: ["S1", "S9"]})
    sn.docs.approve(pd.doc_id, BOSS)
    done = sn.docs.post(pd.doc_id, BOSS)
    dl = delivery(sn, "P", ("S9",))
    sr = sales_return(sn, dl, ("S9",))
    refused_moved_on(sn, done, "P", "S9", sr, ("S1", "S2", "S9"))
    for doc in (sr, dl, done):
        sn.docs.cancel(doc.doc_id, BOSS)
    assert where(sn, "P", "S1", "S2", "S9") == ["W1", "W1", None]
    books(sn)

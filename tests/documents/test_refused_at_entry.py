"""What a posting would refuse is refused when it is entered (docs/lifecycle.md), on both
adapters: an approved document that can never post is a dead end (a count keeps its stock
held, a figure can no longer be corrected).

- a counted quantity that is not a whole number of base units (``unit_conversion_inexact``)
  at ``create`` and at ``record_count``, nothing written;
- a serial-tracked item on a document that moves stock without one serial number per unit
  (``serial_count``; on a stock count, per unit counted), on a stock count line of a location
  or lot, or of an item that is lot-tracked too (``invalid_document``); orders and invoices of
  it are fine (tests/documents/test_serial_documents.py and test_serial_counts.py have the
  rest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

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
    jxc.define_item(Item("CUP", "杯子", units={"箱": D(12)}))
    jxc.define_item(Item("PHONE", "手机", serial_tracked=True))
    jxc.define_party(Party("S", "供应商", "both"))
    jxc.receive("CUP", "SH", D(20), D("1.00"), doc_id="RK-1")
    yield jxc, Documents(jxc)


def test_an_inexact_counted_quantity_is_refused_when_entered(
        shop: tuple[Jxc, Documents]) -> None:
    jxc, docs = shop
    with pytest.raises(JxcError) as err:
        docs.create("stock_count", [Line(1, "CUP", D(0), warehouse="SH", unit="箱",
                                         counted=D("0.1"))])
    assert err.value.code == "unit_conversion_inexact"
    assert docs.ids() == []
    count = docs.create("stock_count", [Line(1, "CUP", D(0), warehouse="SH", unit="箱")])
    docs.submit(count.doc_id, BOSS)
    with pytest.raises(JxcError) as err:
        docs.record_count(count.doc_id, {1: D("1.6")})  # 19.2 pieces
    assert err.value.code == "unit_conversion_inexact"
    assert docs.get(count.doc_id).line(1).counted is None
    docs.record_count(count.doc_id, {1: D("1.5")})  # 18 pieces: can be corrected and posted
    docs.approve_through(count.doc_id, [BOSS])
    assert jxc.balance("CUP", "SH").on_hand == 18
    assert jxc.balance("CUP", "SH").held == 0


@pytest.mark.parametrize(("kind", "line"), [
    ("purchase_receipt", Line(1, "PHONE", D(1), D("100.00"), warehouse="SH")),
    ("adjustment", Line(1, "PHONE", D(1), D("100.00"), warehouse="SH")),
    ("transfer", Line(1, "PHONE", D(1), warehouse="SH", to_warehouse="BJ")),
])
def test_a_serial_tracked_item_without_its_serials_is_refused_on_documents_that_move_stock(
        shop: tuple[Jxc, Documents], kind: str, line: Line) -> None:
    _, docs = shop
    party = "S" if kind == "purchase_receipt" else ""
    with pytest.raises(JxcError) as err:
        docs.create(kind, [line], party=party)
    assert err.value.code == "serial_count"
    assert err.value.data == {"item": "PHONE", "count": 0, "quantity": 1, "line": 1}
    assert docs.ids() == []


@pytest.mark.parametrize(("line", "code", "why"), [
    (Line(1, "PHONE", D(0), warehouse="SH", counted=D(0), serials=("SN1",)), "serial_count",
     ""),
    (Line(1, "PHONE", D(0), warehouse="SH", counted=D(1)), "serial_count", ""),
    (Line(1, "PHONE", D(0), warehouse="SH", serials=("SN1",)), "invalid_document",
     "entered with the counted quantity"),
    (Line(1, "PHONE", D(0), warehouse="SH", lot="X"), "invalid_document",
     "kept per warehouse, not per location or lot"),
    (Line(1, "PAD", D(0), warehouse="SH"), "invalid_document",
     "lot-tracked and serial-tracked"),
])
def test_a_serial_count_line_that_could_never_post_is_refused_on_a_stock_count(
        shop: tuple[Jxc, Documents], line: Line, code: str, why: str) -> None:
    """A stock count of serial-tracked items lists one serial per unit counted, none before
    it is counted, and counts the whole warehouse; an item that is lot-tracked too is not
    counted (tests/documents/test_serial_counts.py has the rest)."""
    jxc, docs = shop
    jxc.define_item(Item("PAD", "平板", lot_tracked=True, serial_tracked=True))
    with pytest.raises(JxcError) as err:
        docs.create("stock_count", [line])
    assert err.value.code == code
    if code == "invalid_document":
        assert why in err.value.data["reason"] and "序列号" in err.value.message_zh
    assert docs.ids() == []


def test_a_serial_tracked_item_may_be_ordered(shop: tuple[Jxc, Documents]) -> None:
    jxc, docs = shop
    po = docs.approve_through(docs.create("purchase_order", [
        Line(1, "PHONE", D(2), D("100.00"), warehouse="SH")], party="S").doc_id, [BOSS])
    assert po.state == "posted"
    assert jxc.balance("PHONE", "SH").on_order == 2


@pytest.mark.parametrize("expiry", [dt.datetime(2027, 1, 1, 15, 30), "2027-01-01"])
def test_a_line_expiry_that_is_not_a_date_is_refused(shop: tuple[Jxc, Documents],
                                                     expiry: object) -> None:
    """Stored as given, it broke every later read of the item's lots."""
    _, docs = shop
    with pytest.raises(JxcError) as err:
        docs.create("purchase_receipt", [Line(1, "CUP", D(1), D("1.00"), warehouse="SH",
                                              lot="B", expiry=expiry)],  # type: ignore[arg-type]
                    party="S")
    assert (err.value.code, err.value.data["field"]) == ("invalid_date", "expiry")
    assert docs.ids() == []

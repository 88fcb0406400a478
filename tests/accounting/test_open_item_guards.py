"""Guards around open items and periods (docs/settlement.md, docs/month-end.md), on both
adapters:

- a landed cost is an open item on payables: it is not cancelled while settlements clear it
  (``reversal_impossible``), as a purchase invoice; once they are reversed it goes through and
  nothing is left open;
- ``close_period`` refuses a month that has not begun (``period_not_started``), writing
  nothing; the current month may be closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Document, Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.documents.support import TickingClock

D = Decimal
BOSS = User("boss", frozenset())


Shop = tuple[Jxc, Documents, Accounting]


@pytest.fixture
def shop(storage: Storage) -> Shop:
    jxc = Jxc(storage, clock=TickingClock(dt.datetime(2026, 11, 2, 9, 0)))
    jxc.define_warehouse(Warehouse("SH", "上海"))
    jxc.define_item(Item("TEA", "茶"))
    jxc.define_party(Party("S", "供应商", "both"))
    return jxc, Documents(jxc), Accounting(jxc)


def run(docs: Documents, kind: str, lines: list[Line], **kw: object) -> Document:
    return docs.approve_through(docs.create(kind, lines, party="S", **kw).doc_id,  # type: ignore[arg-type]
                                [BOSS])


def test_a_settled_landed_cost_is_cancelled_only_after_its_settlements(shop: Shop) -> None:
    jxc, docs, books = shop
    rk = run(docs, "purchase_receipt", [Line(1, "TEA", D(10), D("10.00"), warehouse="SH")])
    fy = run(docs, "landed_cost", [Line(1, "freight", D(1), D("100.00"), D("0.09"))],
             attributes={"receipts": [rk.doc_id], "basis": "quantity"})
    paid = books.settle("payable", "S", D("109.00"), date=dt.date(2026, 11, 5))
    assert books.open_items("payable") == []
    with pytest.raises(JxcError) as e:
        docs.cancel(fy.doc_id, BOSS)
    assert e.value.code == "reversal_impossible"
    assert "109.00" in e.value.data["reason"] and "核销" in e.value.message_zh
    assert docs.get(fy.doc_id).state == "posted"
    assert jxc.balance("TEA", "SH").value == D("200.00")  # 100.00 goods + 100.00 freight
    books.cancel_settlement(paid[0].doc_id)
    docs.cancel(fy.doc_id, BOSS)
    assert books.open_items("payable") == []  # the receipt alone leaves nothing to pay
    assert jxc.balance("TEA", "SH").value == D("100.00")


def test_a_month_to_come_cannot_be_closed(shop: Shop) -> None:
    _, docs, books = shop
    with pytest.raises(JxcError) as e:
        books.close_period(2026, 12)  # the clock is in 2026-11
    assert (e.value.code, e.value.data["period"]) == ("period_not_started", "2026-12")
    assert "尚未开始" in e.value.message_zh
    assert books.period_log() == []
    run(docs, "purchase_receipt", [Line(1, "TEA", D(1), D("1.00"), warehouse="SH")])
    closed = books.close_period(2026, 11)  # the current month may be closed
    assert closed.period == "2026-11"
    with pytest.raises(JxcError) as e:
        run(docs, "purchase_receipt", [Line(1, "TEA", D(1), D("1.00"), warehouse="SH")])
    assert e.value.code == "period_closed"

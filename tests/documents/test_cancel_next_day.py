"""A reversal (红冲) never comes before the posting it reverses (docs/lifecycle.md), on both
adapters: a document posted at 15:00 and cancelled at 09:00 the next morning was reversed at
its date with 09:00 — before its own posting — and refused (``insufficient_stock``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.services.support import HandClock

D = Decimal
BOSS = User("boss", frozenset())


@pytest.fixture
def shop(storage: Storage) -> Iterator[tuple[Jxc, Documents, HandClock]]:
    clock = HandClock(dt.datetime(2026, 11, 2, 15, 0))
    jxc = Jxc(storage, clock=clock)
    jxc.define_warehouse(Warehouse("SH", "上海"))
    jxc.define_warehouse(Warehouse("BJ", "北京"))
    jxc.define_item(Item("TEA", "茶"))
    jxc.define_party(Party("S", "供应商", "both"))
    jxc.receive("TEA", "SH", D(10), D("1.00"), doc_id="RK-0")
    yield jxc, Documents(jxc), clock


def test_documents_posted_in_the_afternoon_are_cancelled_the_next_morning(
        shop: tuple[Jxc, Documents, HandClock]) -> None:
    jxc, docs, clock = shop
    rk = docs.approve_through(docs.create("purchase_receipt", [
        Line(1, "TEA", D(5), D("2.00"), warehouse="SH")], party="S").doc_id, [BOSS])
    db = docs.approve_through(docs.create("transfer", [
        Line(1, "TEA", D(3), warehouse="SH", to_warehouse="BJ")]).doc_id, [BOSS])
    clock.at = dt.datetime(2026, 11, 3, 9, 0)
    docs.cancel(db.doc_id, BOSS)
    docs.cancel(rk.doc_id, BOSS)
    assert (jxc.balance("TEA", "SH").on_hand, jxc.balance("TEA", "BJ").on_hand) == (D(10), 0)
    assert jxc.balance("TEA", "SH").value == D("10.00")
    # on the document's date, after its posting: just after the last movement of that day
    # (a document dated an earlier day comes after every movement already on it), each at a
    # moment of its own, in the order cancelled; the postings at 15:00, the clock reading
    # the moment of RK-0 again, each at a moment of their own too (Jxc._own_now)
    moments = [(e.entry.doc_id, e.entry.posted_at) for e in jxc.ledger("TEA", "SH")]
    assert moments == [("RK-0", dt.datetime(2026, 11, 2, 15, 0)),
                       (rk.doc_id, dt.datetime(2026, 11, 2, 15, 0, 0, 1)),
                       (db.doc_id, dt.datetime(2026, 11, 2, 15, 0, 0, 2)),
                       (f"{db.doc_id}-R", dt.datetime(2026, 11, 2, 15, 0, 0, 3)),
                       (f"{rk.doc_id}-R", dt.datetime(2026, 11, 2, 15, 0, 0, 4))]

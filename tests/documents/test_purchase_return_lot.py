"""A purchase return that names no lot takes the lot of its receipt line (DOMAIN.md 2: the
return takes the returned receipt's own layer), on both adapters and under FIFO and specific
identification: it picked lots FEFO, so another lot left (FIFO: the receipt's cost posted on
another lot; specific lot: that lot's cost and a false price difference). Cancelling it puts
the units back into that lot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import attrs
import pytest

from jxc_core.documents import Document, Line, User
from jxc_core.documents.codec import document_to_data
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

from .support import TickingClock

D = Decimal
BOSS = User("boss", frozenset())


#: the clock of these tests: a minute on at every reading, from 2026-11-02 09:00
START = dt.datetime(2026, 11, 2, 9, 0)


@pytest.fixture(params=["fifo", "specific_lot"])
def shop(request: pytest.FixtureRequest, storage: Storage) -> Iterator[tuple[Jxc, Documents]]:
    method = request.param
    jxc = Jxc(storage, clock=TickingClock(START))
    jxc.define_warehouse(Warehouse("SH", "上海"))
    jxc.define_item(Item("MILK", "牛奶", lot_tracked=True, costing_method=method))
    jxc.define_party(Party("S", "供应商", "both"))
    yield jxc, Documents(jxc)


def run(docs: Documents, kind: str, line: Line) -> Document:
    return docs.approve_through(docs.create(kind, [line], party="S").doc_id, [BOSS])


def lots(jxc: Jxc) -> dict[str, Decimal]:
    return {b.lot: b.on_hand for b in jxc.balances() if b.item == "MILK"}


def test_a_return_without_lot_takes_its_receipts_lot(shop: tuple[Jxc, Documents]) -> None:
    jxc, docs = shop
    r1 = run(docs, "purchase_receipt", Line(1, "MILK", D(10), D("3.00"), warehouse="SH",
                                            lot="LA", expiry=dt.date(2027, 6, 1)))
    run(docs, "purchase_receipt", Line(1, "MILK", D(10), D("4.00"), warehouse="SH",
                                       lot="LB", expiry=dt.date(2027, 1, 1)))  # FEFO first
    ret = run(docs, "purchase_return", Line(1, "MILK", D(4), warehouse="SH",
                                            source=(r1.doc_id, 1)))
    assert lots(jxc) == {"LA": D(6), "LB": D(10)}
    assert ret.counter(1, "stock_value") == D("12.00") == ret.counter(1, "supplier_value")
    assert jxc.balance("MILK", "SH").value == D("58.00")
    # a lot's value: exact under specific identification (the lot is its layer); FIFO keeps
    # no value per lot, so a lot is its share of the scope (58.00 x 6/16, 58.00 x 10/16)
    exact = jxc.item("MILK").costing_method == "specific_lot"
    assert jxc.balance("MILK", "SH", lot="LA").value == D("18.00" if exact else "21.75")
    assert jxc.balance("MILK", "SH", lot="LB").value == D("40.00" if exact else "36.25")
    docs.cancel(ret.doc_id, BOSS)
    assert lots(jxc) == {"LA": D(10), "LB": D(10)}
    assert jxc.balance("MILK", "SH", lot="LA").value == D("30.00" if exact else "35.00")
    assert jxc.balance("MILK", "SH").value == D("70.00")


def test_a_return_that_took_another_lot_is_not_cancelled_into_the_receipts_lot(
        shop: tuple[Jxc, Documents]) -> None:
    """A return posted before returns took their receipt's lot picked lots FEFO: its line
    names no lot but its ledger took LB. Cancelling it would put the units into LA (the
    receipt's lot: 14 on hand of 10 received); it is refused, nothing written."""
    jxc, docs = shop
    r1 = run(docs, "purchase_receipt", Line(1, "MILK", D(10), D("3.00"), warehouse="SH",
                                            lot="LA", expiry=dt.date(2027, 6, 1)))
    run(docs, "purchase_receipt", Line(1, "MILK", D(10), D("4.00"), warehouse="SH",
                                       lot="LB", expiry=dt.date(2027, 1, 1)))
    ret = run(docs, "purchase_return", Line(1, "MILK", D(4), warehouse="SH", lot="LB",
                                            source=(r1.doc_id, 1)))
    # as an earlier version stored it: the line names no lot (its ledger took LB)
    old = attrs.evolve(ret, lines=(attrs.evolve(ret.lines[0], lot=""),))
    with jxc.storage.unit_of_work() as u:
        u.documents.put(old.doc_id, old.doc_type.value, old.state.value,
                        document_to_data(old, compact=True))
        u.commit()
    fresh = Documents(Jxc(jxc.storage, clock=TickingClock(START)))
    before = lots(jxc)
    with pytest.raises(JxcError) as err:
        fresh.cancel(ret.doc_id, BOSS)
    assert err.value.code == "reversal_impossible" and "LB" in err.value.data["reason"]
    assert lots(jxc) == before == {"LA": D(10), "LB": D(6)}

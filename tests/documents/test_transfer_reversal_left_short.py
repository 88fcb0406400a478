"""A transfer's cancellation (红冲) that a back-dated issue leaves short: its units went back
into the layers (rows) they had left in the source, so there is no receipt of the
cancellation's own ref there to carry a settlement to. The replay writes no
``transfer_short`` record for it: the settlement of its shortage stays in the cost of goods
sold of the warehouse it left (a known limit), and nothing is booked against a ref that does
not exist (a review found a ``landed_cost`` entry of 0.00 for ``<doc>-R/1`` in W1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal


@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
def test_a_cancelled_transfer_left_short_keeps_its_settlement_where_it_left(
        method: str) -> None:
    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    j.define_item(Item("S", "s", costing_method=method, allow_negative=True))
    s = Shop(j, Documents(j))
    s.run("adjustment", [Line(1, "S", D(5), D(10), warehouse="W1")], date=dt.date(2026, 2, 1))
    t = s.run("transfer", [Line(1, "S", D(5), warehouse="W1", to_warehouse="W2")],
              date=dt.date(2026, 2, 2)).doc_id
    s.docs.cancel(t, BOSS)
    arrived = next(x.entry for x in j.ledger("S", "W2") if x.entry.kind == "transfer_in")
    # dated between the transfer and its cancellation: the cancellation now leaves W2 short
    j.issue("S", "W2", D(3), doc_id="I0", posted_at=arrived.posted_at + dt.timedelta(seconds=30))
    with j.storage.unit_of_work() as uow:
        assert uow.records.get("transfer_short", f"transfer\x1f{t}-R\x1f1") is None
    j.receive("S", "W2", D(3), D(20), doc_id="R9")  # settles the shortage: 30.00 in W2
    assert [x.entry.kind for x in j.ledger("S", "W1")
            if x.entry.kind == "landed_cost"] == []
    for wh, expected in (("W1", (D(5), D("50.00"))), ("W2", (D(0), D("0.00")))):
        b = j.balance("S", wh)
        rows = j.ledger("S", wh)
        assert (b.on_hand, b.value) == expected
        assert (sum((x.entry.quantity for x in rows), D(0)),
                sum((x.entry.value for x in rows), D(0))) == expected

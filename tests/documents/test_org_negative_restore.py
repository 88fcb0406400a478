"""Costed by organisation with negative stock (FIFO/LIFO): deliveries that went short in two
warehouses, a back-dated receipt that settled them, and their cancellations out of turn. A
cancellation puts its units back into the layers its delivery took, read from a rebuild of the
scope; a back-dated cancellation replayed the scope since, numbering its layers anew, and the
units must still go back into the receipt's own layer (docs/decisions.md, 2026-12-17)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.services.support import HandClock

D = Decimal
BOSS = User("boss", frozenset())


@pytest.mark.parametrize("method", ["fifo", "lifo"])
def test_deliveries_short_in_two_warehouses_undone_out_of_turn(storage: Storage,
                                                               method: str) -> None:
    """D1 delivers 1 from V (03-09) and D2 2 from W (03-01, entered later), both short; R 3 @
    12.50 into W dated 03-02 settles D2 and gives D1 its unit. D2 cancelled (dated 03-01: the
    scope is replayed), then D1, then R: R's 3 units are all back in its layer, so R goes, and
    everything ends 0 / 0.00 with every role at zero. Before, D1's units came back as a
    second layer of R under the key of the rebuild, R counted as received twice and its
    cancellation was refused (``reversal_impossible``: 3 of its units have left stock)."""
    clock = HandClock(dt.datetime(2026, 3, 20, 8, 0))
    j = Jxc(storage, clock=clock, organisation_scope=True)
    j.define_item(Item("X", "x", costing_method=method, allow_negative=True))
    for wh in ("W", "V"):
        j.define_warehouse(Warehouse(wh, wh))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    docs = Documents(j)

    def post(doc_type: str, line: Line, day: int, party: str) -> str:
        clock.at += dt.timedelta(minutes=7)
        doc = docs.create(doc_type, [line], party=party, date=dt.date(2026, 3, day))
        return docs.approve_through(doc.doc_id, [BOSS]).doc_id

    d1 = post("delivery", Line(1, "X", D(1), D("99.00"), warehouse="V"), 9, "C")
    d2 = post("delivery", Line(1, "X", D(2), D("99.00"), warehouse="W"), 1, "C")
    r = post("purchase_receipt", Line(1, "X", D(3), D("12.50"), warehouse="W"), 2, "S")
    assert sum((j.balance("X", wh).value for wh in ("W", "V")), D(0)) == D("0.00")
    for doc_id in (d2, d1, r):
        clock.at += dt.timedelta(minutes=7)
        docs.cancel(doc_id, BOSS)
    for wh in ("W", "V"):
        b = j.balance("X", wh)
        assert (b.on_hand, b.value) == (D(0), D("0.00"))
    net: dict[str, Decimal] = {}
    for row in docs.journal():
        net[row.role] = net.get(row.role, D(0)) + row.debit - row.credit
    assert {k: v for k, v in net.items() if v} == {}

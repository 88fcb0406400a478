"""A transfer for a transfer line takes the stock reserved for that line (DOMAIN section 4: a
hard reservation ties stock to "a sales order line, a transfer line"), on both adapters and
with either costing scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, Warehouse

D = Decimal
NOW = dt.datetime(2026, 3, 1, 10, 0)


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


@pytest.fixture(params=[False, True], ids=["by_warehouse", "by_organisation"])
def jxc(request: pytest.FixtureRequest, storage: Storage) -> Jxc:
    j = Jxc(storage, clock=FixedClock(), organisation_scope=request.param)
    j.define_item(Item("T", "tea", costing_method="moving_average"))
    j.define_warehouse(Warehouse("SH", "Shanghai"))
    j.define_warehouse(Warehouse("ZT", "in transit", in_transit=True))
    j.receive("T", "SH", D(10), D("8.00"), doc_id="RK-1")
    return j


def test_transfer_takes_the_stock_reserved_for_its_line(jxc: Jxc) -> None:
    jxc.reserve([ReserveLine("DB-1/1", "T", "SH", D(10))])
    with pytest.raises(JxcError) as info:  # without its demand: reserved for someone
        jxc.transfer("T", "SH", "ZT", D(10), doc_id="DB-1")
    assert info.value.code == "insufficient_stock"
    posting = jxc.transfer("T", "SH", "ZT", D(10), doc_id="DB-1", demand="DB-1/1")
    assert [(e.warehouse, e.quantity) for e in posting.entries] == [("SH", D(-10)),
                                                                      ("ZT", D(10))]
    assert jxc.reservations() == []  # consumed in the same unit of work
    sh, zt = jxc.balance("T", "SH"), jxc.balance("T", "ZT")
    assert (sh.on_hand, sh.reserved, sh.available) == (D(0), D(0), D(0))
    assert (zt.on_hand, zt.available) == (D(10), D(10))
    assert jxc.balance("T").value == D("80.00")


def test_transfer_takes_its_own_reservation_and_free_stock_only(jxc: Jxc) -> None:
    jxc.reserve([ReserveLine("DB-1/1", "T", "SH", D(6)), ReserveLine("SO-9/1", "T", "SH", D(3))])
    jxc.transfer("T", "SH", "ZT", D(4), doc_id="DB-1", demand="DB-1/1")  # part of its 6
    assert [(r.demand, r.quantity) for r in jxc.reservations()] == [("DB-1/1", D(2)),
                                                                    ("SO-9/1", D(3))]
    jxc.transfer("T", "SH", "ZT", D(3), doc_id="DB-2", demand="DB-1/1")  # its 2 + 1 free
    assert [(r.demand, r.quantity) for r in jxc.reservations()] == [("SO-9/1", D(3))]
    with pytest.raises(JxcError) as info:  # the sales order's 3 stay its own
        jxc.transfer("T", "SH", "ZT", D(1), doc_id="DB-3", demand="DB-1/1")
    assert info.value.code == "insufficient_stock"
    sh = jxc.balance("T", "SH")
    assert (sh.on_hand, sh.reserved, sh.available) == (D(3), D(3), D(0))


def test_the_demand_is_part_of_the_idempotent_payload(jxc: Jxc) -> None:
    jxc.reserve([ReserveLine("DB-1/1", "T", "SH", D(5))])
    first = jxc.transfer("T", "SH", "ZT", D(5), demand="DB-1/1", idempotency_key="DB-K")
    assert jxc.transfer("T", "SH", "ZT", D(5), demand="DB-1/1", idempotency_key="DB-K") == first
    for other in (None, "DB-9/1"):
        with pytest.raises(JxcError) as info:
            jxc.transfer("T", "SH", "ZT", D(5), demand=other, idempotency_key="DB-K")
        assert info.value.code == "idempotency_conflict"
    assert jxc.balance("T", "ZT").on_hand == D(5)

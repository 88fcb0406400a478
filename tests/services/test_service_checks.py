"""Service checks (audit findings 3, 4, 8): quantities, document numbers and item fields are
checked at the boundary, on both adapters; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, Warehouse
from tests.services.support import HandClock

D = Decimal


def shop(storage: Storage) -> Jxc:
    j = Jxc(storage, clock=HandClock(dt.datetime(2026, 3, 2, 9, 0)))
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("P", "pieces"))  # 0 digits
    j.define_item(Item("K", "kg", base_unit="kg", quantity_digits=3, units={"g": D("0.001")}))
    return j


# -- (3) a hold carries the precision of the item's unit ------------------------------------
def test_a_hold_finer_than_the_unit_is_refused_and_holds_nothing(storage: Storage) -> None:
    j = shop(storage)
    j.receive("P", "W", D(10), D(5), doc_id="RK-1")
    with pytest.raises(JxcError) as err:
        j.hold("P", "W", D("0.5"))
    assert err.value.code == "unit_conversion_inexact"
    assert err.value.data["item"] == "P"
    b = j.balance("P", "W")
    assert (b.held, b.available) == (D(0), D(10))
    r = j.reserve([ReserveLine("SO-1/1", "P", "W", D(10))], partial=True)
    assert r.granted == (D(10),)


def test_a_hold_release_finer_than_the_unit_is_refused(storage: Storage) -> None:
    j = shop(storage)
    j.receive("P", "W", D(10), D(5), doc_id="RK-1")
    j.hold("P", "W", D(3))
    with pytest.raises(JxcError) as err:
        j.hold("P", "W", D("-0.5"))
    assert err.value.code == "unit_conversion_inexact"
    assert j.balance("P", "W").held == D(3)
    j.hold("P", "W", D("-3.000"))  # the same whole number, written with zeros
    assert j.balance("P", "W").held == D(0)


def test_a_hold_within_the_digits_of_the_unit_is_kept_at_its_precision(
        storage: Storage) -> None:
    j = shop(storage)
    j.receive("K", "W", D("2.5"), D(4), doc_id="RK-K")
    j.hold("K", "W", D("1.25"))
    assert j.balance("K", "W").held == D("1.250")
    with pytest.raises(JxcError) as err:
        j.hold("K", "W", D("0.0005"))
    assert err.value.code == "unit_conversion_inexact"
    assert j.balance("K", "W").held == D("1.250")


"""A hold on a row (Jxc.hold with a location) — docs/stock-ledger.md, holds — on both adapters.

- a hold naming a location takes no more than that row has free (on hand less its holds),
  though the warehouse has free stock at other locations; it must name a listed location;
- lot and location are texts (a ``None`` is a ``TypeError``, nothing written);
- a hold without a location is the warehouse-wide freeze of its lot, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Jxc
from jxc_core.services.jxc import fingerprint
from jxc_core.stock import Item, Warehouse

D = Decimal


class Clock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 2, 9, 0)


@pytest.fixture(params=["memory", "sqlite"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Jxc]:
    storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "shop.db"))
    j = Jxc(storage, clock=Clock())
    j.define_warehouse(Warehouse("SH", "上海", locations=("A", "B")))
    j.define_warehouse(Warehouse("BJ", "北京"))
    j.define_item(Item("P", "plate"))
    j.receive("P", "SH", D(3), D("1.00"), location="A", doc_id="RK-A")
    j.receive("P", "SH", D(10), D("1.00"), location="B", doc_id="RK-B")
    yield j
    storage.close()


def held(j: Jxc) -> dict[tuple[str, str], Decimal]:
    return {(b.warehouse, b.location): b.held for b in j.balances() if b.item == "P"
            and b.held}


def test_a_hold_on_a_row_takes_no_more_than_the_row_has_free(shop: Jxc) -> None:
    j = shop
    with pytest.raises(JxcError) as err:
        j.hold("P", "SH", D(4), location="A")  # 13 free in SH, 3 of them at A
    assert err.value.code == "insufficient_stock"
    assert (err.value.data["location"], err.value.data["on_hand"], err.value.data["short"]) \
        == ("A", D(3), D(1))
    assert "库位 A" in err.value.message_zh
    assert held(j) == {}
    j.hold("P", "SH", D(2), location="A")
    with pytest.raises(JxcError) as err:
        j.hold("P", "SH", D(2), location="A")  # 1 left free on the row
    assert (err.value.code, err.value.data["on_hand"]) == ("insufficient_stock", D(1))
    j.hold("P", "SH", D(1), location="A")
    assert held(j) == {("SH", "A"): D(3)}
    assert j.balance("P", "SH").available == D(10)


def test_a_hold_names_a_listed_location(shop: Jxc) -> None:
    j = shop
    with pytest.raises(JxcError) as err:
        j.hold("P", "SH", D(1), location="Z")
    assert (err.value.code, err.value.data) == ("not_found",
                                               {"kind": "location", "key": "SH/Z"})
    assert held(j) == {}


@pytest.mark.parametrize("field", ["lot", "location"])
def test_lot_and_location_of_a_hold_are_texts(shop: Jxc, field: str) -> None:
    j = shop
    with pytest.raises(TypeError, match=field):
        j.hold("P", "SH", D(1), **{field: None})  # type: ignore[arg-type]
    assert held(j) == {}
    j.hold("P", "SH", D(1), **{field: ""})  # the same call with '' is the warehouse hold
    assert held(j) == {("SH", ""): D(1)}


def test_a_hold_without_location_freezes_the_warehouse(shop: Jxc) -> None:
    """Not a row's units: what is available in the warehouse (a count's freeze)."""
    j = shop
    j.hold("P", "SH", D(13))
    assert held(j) == {("SH", ""): D(13)}
    assert j.balance("P", "SH").available == 0
    with pytest.raises(JxcError) as err:
        j.hold("P", "SH", D(1))
    assert err.value.code == "insufficient_stock"


def test_an_int_quantity_and_its_decimal_are_one_payload(shop: Jxc) -> None:
    """The library takes an int wherever it takes a Decimal (a JSON number from a low-code
    form): retrying with the Decimal of the same value is the same command, not a
    conflict; another value under the key still is."""
    j = shop
    j.hold("P", "SH", 2, location="B", idempotency_key="h-1")  # type: ignore[arg-type]
    j.hold("P", "SH", D("2.00"), location="B", idempotency_key="h-1")
    assert held(j) == {("SH", "B"): D(2)}
    with pytest.raises(JxcError) as err:
        j.hold("P", "SH", D(3), location="B", idempotency_key="h-1")
    assert err.value.code == "idempotency_conflict"
    j.issue("P", "SH", D(1), location="B", idempotency_key="i-1")
    j.issue("P", "SH", 1, location="B", idempotency_key="i-1")  # type: ignore[arg-type]
    assert j.balance("P", "SH").on_hand == D(12)


def test_a_key_stored_by_an_earlier_version_still_matches(shop: Jxc) -> None:
    """Before ints were read as numbers, a payload's ints were hashed as JSON ints: a key
    stored then, retried with the same payload, is recognised (no second effect), and another
    payload under it is still a conflict."""
    j = shop
    payload = ("P", "SH", 2, "", "B")  # item, warehouse, quantity, lot, location
    old = fingerprint("hold", payload, legacy=True)
    assert old != fingerprint("hold", payload)
    with j.storage.unit_of_work() as uow:
        uow.idempotency.put("h-old", old, {})
        uow.commit()
    j.hold("P", "SH", 2, location="B", idempotency_key="h-old")  # type: ignore[arg-type]
    assert held(j) == {}  # the first call's effect was the one that counted
    with pytest.raises(JxcError) as err:
        j.hold("P", "SH", 1, location="B", idempotency_key="h-old")  # type: ignore[arg-type]
    assert err.value.code == "idempotency_conflict"

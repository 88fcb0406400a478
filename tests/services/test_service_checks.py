"""Service checks (audit findings 3, 4, 8): quantities, document numbers and item fields are
checked at the boundary, on both adapters; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc, ReserveLine
from jxc_core.stock import Item, Party, Warehouse
from tests.documents.support import BOSS
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


# -- (4) a document number already in the ledger is not posted again ------------------------
def _entries(j: Jxc, item: str = "P") -> list[tuple[str, int, Decimal]]:
    return [(x.entry.doc_id, x.entry.line_no, x.entry.quantity) for x in j.ledger(item, "W")]


def test_a_receipt_posted_again_under_its_doc_id_is_refused(storage: Storage) -> None:
    j = shop(storage)
    j.receive("P", "W", D(10), D(5), doc_id="RK-1")
    with pytest.raises(JxcError) as err:
        j.receive("P", "W", D(10), D(5), doc_id="RK-1")
    assert err.value.code == "duplicate_key"
    assert err.value.data["doc_id"] == "RK-1"
    assert "RK-1" in err.value.message_en and "RK-1" in err.value.message_zh
    assert _entries(j) == [("RK-1", 1, D(10))]
    assert j.balance("P", "W").on_hand == D(10)


def test_every_public_posting_refuses_a_doc_id_in_the_ledger(storage: Storage) -> None:
    j = shop(storage)
    j.define_warehouse(Warehouse("V", "other"))
    j.define_warehouse(Warehouse("L", "located", locations=("A", "B")))
    j.receive("P", "W", D(10), D(5), doc_id="RK-1")
    j.receive("P", "L", D(4), D(5), doc_id="RK-2", location="A")
    j.issue("P", "W", D(3), doc_id="CK-1")
    before = _entries(j)
    tries = [
        lambda: j.issue("P", "W", D(3), doc_id="CK-1"),
        lambda: j.issue("P", "W", D(1), doc_id="RK-1"),  # the number, whatever the type
        lambda: j.adjust("P", "W", D(1), doc_id="CK-1"),
        lambda: j.transfer("P", "W", "V", D(1), doc_id="RK-1"),
        lambda: j.move("P", "L", D(1), from_location="A", to_location="B", doc_id="RK-2"),
        lambda: j.post("issue", "CK-1", []),
    ]
    for attempt in tries:
        with pytest.raises(JxcError) as err:
            attempt()
        assert err.value.code == "duplicate_key"
    assert _entries(j) == before
    assert j.balance("P", "W").on_hand == D(7)


def test_a_retry_under_its_idempotency_key_is_still_answered_not_refused(
        storage: Storage) -> None:
    j = shop(storage)
    first = j.receive("P", "W", D(10), D(5), doc_id="RK-1", idempotency_key="k1")
    again = j.receive("P", "W", D(10), D(5), doc_id="RK-1", idempotency_key="k1")
    assert again == first
    auto = j.issue("P", "W", D(2), idempotency_key="k2")
    assert j.issue("P", "W", D(2), idempotency_key="k2") == auto
    assert j.balance("P", "W").on_hand == D(8)


def test_a_document_number_is_refused_to_a_direct_posting(storage: Storage) -> None:
    j = shop(storage)
    j.define_party(Party("S1", "supplier", "supplier"))
    docs = Documents(j)
    d = docs.create("purchase_receipt", [Line(1, "P", D(1), D(5), warehouse="W")], party="S1")
    docs.approve_through(d.doc_id, [BOSS])
    with pytest.raises(JxcError) as err:
        j.receive("P", "W", D(7), D(5), doc_id=d.doc_id)
    assert err.value.code == "duplicate_key"
    assert j.balance("P", "W").on_hand == D(1)
    docs.cancel(d.doc_id, BOSS)  # the cancellation posts "<id>-R" through the same ledger
    assert j.balance("P", "W").on_hand == D(0)
    assert [e[0] for e in _entries(j)] == [d.doc_id, f"{d.doc_id}-R"]


# -- (8) the numbers of an item are checked when it is defined ------------------------------
@pytest.mark.parametrize(("fields", "error", "code"), [
    ({"costing_method": "standard", "standard_cost": 1.1}, TypeError, None),
    ({"costing_method": "standard", "standard_cost": "1.10"}, TypeError, None),
    ({"costing_method": "standard", "standard_cost": D("NaN")}, ValueError, None),
    ({"costing_method": "standard", "standard_cost": D("Infinity")}, ValueError, None),
    ({"costing_method": "standard", "standard_cost": D("-1")}, JxcError, "negative_amount"),
    ({"costing_method": "standard", "standard_cost": D(10) ** 15}, JxcError,
     "number_out_of_range"),
    ({"quantity_digits": 1.5}, TypeError, None),
    ({"quantity_digits": "2"}, TypeError, None),
    ({"quantity_digits": True}, TypeError, None),
    ({"quantity_digits": D(2)}, TypeError, None),
    ({"quantity_digits": -1}, JxcError, "configuration"),
    ({"quantity_digits": 13}, JxcError, "configuration"),
])
def test_an_item_with_a_bad_number_is_refused_and_not_stored(
        storage: Storage, fields: dict[str, object], error: type[Exception],
        code: str | None) -> None:
    j = shop(storage)
    with pytest.raises(error) as err:
        j.define_item(Item("X", "bad", **fields))  # type: ignore[arg-type]
    name = next(iter(k for k in fields if k != "costing_method"))
    if code is None:
        assert name in str(err.value)
    else:
        assert isinstance(err.value, JxcError)
        assert err.value.code == code and err.value.data["field"] == name
        assert err.value.message_zh
    with pytest.raises(JxcError) as missing:
        j.item("X")
    assert missing.value.code == "not_found"


def test_an_item_with_good_numbers_is_kept_as_the_decimals_they_mean(
        storage: Storage) -> None:
    j = shop(storage)
    j.define_item(Item("S", "std", costing_method="standard", standard_cost=7))
    j.define_item(Item("G", "grams", base_unit="g", quantity_digits=12))
    assert j.item("S").standard_cost == D(7)
    assert isinstance(j.item("S").standard_cost, Decimal)
    assert j.receive("S", "W", D(3), D(7), doc_id="RK-S").value == D("21.00")
    assert j.item("G").quantity_digits == 12


@pytest.mark.parametrize("as_of", [1.5, "2026-03-02", dt.date(2026, 3, 2)])
def test_balance_as_of_takes_a_datetime_only(storage: Storage, as_of: object) -> None:
    j = shop(storage)
    j.receive("P", "W", D(2), D(5), doc_id="RK-1")
    with pytest.raises(JxcError) as err:
        j.balance("P", "W", as_of=as_of)  # type: ignore[arg-type]
    assert err.value.code == "invalid_date"
    assert err.value.data["field"] == "as_of"
    assert j.balance("P", "W", as_of=dt.datetime(2026, 3, 3)).on_hand == D(2)

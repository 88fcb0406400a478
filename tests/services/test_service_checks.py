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

"""A new standard cost revalues what is on hand (DOMAIN.md section 2, standard cost):
``Jxc.set_standard_cost`` (stock only) and ``Accounting.revalue_standard`` (stock and journal).

- each costing scope of the item gets one ``standard_revaluation`` entry (quantity 0, value the
  revaluation), the item's standard becomes the new one, later receipts enter at it;
- redefining the item with another standard while it has stock is refused;
- a revaluation is never back-dated, and a later movement dated before it is refused; a
  back-dated movement after it replays from the revaluation (no spurious corrections).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Jxc
from jxc_core.stock import Item, Warehouse

D = Decimal


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1, 9) + dt.timedelta(days=n)


@pytest.fixture(params=["memory", "sqlite"])
def jxc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Jxc]:
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "s.db")))
    j = Jxc(storage)
    j.define_item(Item("S", "standard item", costing_method="standard",
                       standard_cost=D("10.00")))
    j.define_item(Item("F", "fifo item"))
    j.define_warehouse(Warehouse("W", "w"))
    j.define_warehouse(Warehouse("W2", "w2"))
    yield j
    storage.close()


def ledger_sums(j: Jxc, item: str, wh: str) -> tuple[Decimal, Decimal]:
    lines = j.ledger(item, wh)
    return (sum((x.entry.quantity for x in lines), D(0)),
            sum((x.entry.value for x in lines), D(0)))


def test_new_standard_revalues_every_warehouse(jxc: Jxc) -> None:
    jxc.receive("S", "W", D(10), D("11.00"), posted_at=day(1))
    jxc.receive("S", "W2", D(3), D("9.00"), posted_at=day(1))
    jxc.issue("S", "W", D(5), posted_at=day(2))
    p = jxc.set_standard_cost("S", D("12.50"), doc_id="BZ-1", posted_at=day(3))
    assert [(e.warehouse, e.quantity, e.value, e.kind, e.from_ref) for e in p.entries] == [
        ("W", 0, D("12.50"), "standard_revaluation", "12.50"),  # 5 x 2.50
        ("W2", 0, D("7.50"), "standard_revaluation", "12.50"),  # 3 x 2.50
    ]
    assert jxc.item("S").standard_cost == D("12.50")
    assert (jxc.balance("S", "W").value, jxc.balance("S", "W2").value) == (D("62.50"),
                                                                          D("37.50"))
    for wh in ("W", "W2"):
        b = jxc.balance("S", wh)
        assert ledger_sums(jxc, "S", wh) == (b.on_hand, b.value)
    # later movements at the new standard
    assert jxc.issue("S", "W", D(1), posted_at=day(4)).entries[0].value == D("-12.50")
    jxc.receive("S", "W", D(2), D("13.00"), posted_at=day(5))
    assert jxc.balance("S", "W").value == D("75.00")  # 6 x 12.50


def test_a_fall_and_no_stock(jxc: Jxc) -> None:
    jxc.receive("S", "W", D(4), D("10.00"), posted_at=day(1))
    p = jxc.set_standard_cost("S", D("9.25"), posted_at=day(2))
    assert [e.value for e in p.entries] == [D("-3.00")]
    jxc.issue("S", "W", D(4), posted_at=day(3))
    p = jxc.set_standard_cost("S", D("8.00"), posted_at=day(4))
    assert [e.value for e in p.entries] == [D("0.00")]  # nothing on hand: standard only
    assert jxc.item("S").standard_cost == D("8.00")
    assert jxc.balance("S", "W").value == 0


def test_redefining_the_item_with_another_standard_is_refused_once_it_has_stock(
        jxc: Jxc) -> None:
    jxc.define_item(Item("S", "renamed", costing_method="standard", standard_cost=D("11")))
    assert jxc.item("S").standard_cost == 11  # no stock yet: a plain redefinition
    jxc.receive("S", "W", D(1), D("11.00"), posted_at=day(1))
    with pytest.raises(JxcError) as e:
        jxc.define_item(Item("S", "s", costing_method="standard", standard_cost=D("12")))
    assert e.value.code == "configuration"
    assert "set_standard_cost" in e.value.data["reason"]
    jxc.define_item(Item("S", "new name", costing_method="standard", standard_cost=D("11")))
    assert jxc.item("S").name == "new name"


@pytest.mark.parametrize(("item", "cost", "code"), [
    ("F", D("12"), "configuration"),  # not costed at standard
    ("S", D("-1"), "negative_amount"),
    ("NOPE", D("12"), "not_found"),
])
def test_refusals_write_nothing(jxc: Jxc, item: str, cost: Decimal, code: str) -> None:
    jxc.receive("S", "W", D(2), D("10.00"), posted_at=day(1))
    jxc.receive("F", "W", D(2), D("10.00"), posted_at=day(1))
    before = (jxc.balances(), jxc.ledger("S", "W"), jxc.item("S"))
    with pytest.raises(JxcError) as e:
        jxc.set_standard_cost(item, cost, posted_at=day(2))
    assert e.value.code == code
    assert (jxc.balances(), jxc.ledger("S", "W"), jxc.item("S")) == before


def test_float_cost_is_refused(jxc: Jxc) -> None:
    jxc.receive("S", "W", D(2), D("10.00"), posted_at=day(1))
    with pytest.raises(TypeError, match="standard_cost"):
        jxc.set_standard_cost("S", 12.0, posted_at=day(2))  # type: ignore[arg-type]
    assert jxc.item("S").standard_cost == D("10.00")


def test_never_backdated_and_nothing_backdated_before_it(jxc: Jxc) -> None:
    jxc.receive("S", "W", D(10), D("10.00"), posted_at=day(1))
    jxc.issue("S", "W", D(5), posted_at=day(5))
    with pytest.raises(JxcError) as e:
        jxc.set_standard_cost("S", D("12.00"), posted_at=day(3))
    assert e.value.code == "backdated_posting"
    jxc.set_standard_cost("S", D("12.00"), posted_at=day(6))
    jxc.receive("S", "W", D(1), D("12.00"), posted_at=day(8))
    with pytest.raises(JxcError) as e:
        jxc.receive("S", "W", D(1), D("12.00"), posted_at=day(3))
    assert e.value.code == "backdated_posting"
    assert "standard cost" in e.value.data["reason"]
    # after the change, a back-dated movement replays from it: no correction of the
    # day-5 issue, nothing spurious
    p = jxc.issue("S", "W", D(2), posted_at=day(7))
    assert [e.kind for e in p.entries] == ["issue"]
    assert p.entries[0].value == D("-24.00")
    b = jxc.balance("S", "W")
    assert (b.on_hand, b.value) == (D(4), D("48.00"))
    assert ledger_sums(jxc, "S", "W") == (D(4), D("48.00"))


def test_idempotent(jxc: Jxc) -> None:
    jxc.receive("S", "W", D(2), D("10.00"), posted_at=day(1))
    first = jxc.set_standard_cost("S", D("11.00"), posted_at=day(2), idempotency_key="k")
    again = jxc.set_standard_cost("S", D("11.00"), posted_at=day(2), idempotency_key="k")
    assert first == again
    assert len([x for x in jxc.ledger("S", "W")
                if x.entry.kind == "standard_revaluation"]) == 1
    with pytest.raises(JxcError) as e:
        jxc.set_standard_cost("S", D("13.00"), posted_at=day(2), idempotency_key="k")
    assert e.value.code == "idempotency_conflict"


def test_accounting_books_the_revaluation(jxc: Jxc) -> None:
    books = Accounting(jxc)
    jxc.receive("S", "W", D(10), D("10.00"), posted_at=day(1))
    jxc.receive("S", "W2", D(4), D("10.00"), posted_at=day(1))
    posting = books.revalue_standard("S", D("9.00"), doc_id="BZ-9")
    assert [e.value for e in posting.entries] == [D("-10.00"), D("-4.00")]
    vouchers = books.generate_vouchers()
    (v,) = [v for v in vouchers if v.doc_id == "BZ-9"]
    assert sum((x.debit for x in v.lines), D(0)) == sum((x.credit for x in v.lines), D(0))
    assert books.account_balance("1405") == D("-14.00")  # the receipts booked no journal
    assert books.account_balance("1404") == D("14.00")  # 材料成本差异
    assert jxc.item("S").standard_cost == D("9.00")

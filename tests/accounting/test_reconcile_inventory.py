"""存货与总账对账: ``Accounting.reconcile_inventory`` sets the inventory role of the journal
against the stock valuation per item and warehouse (per item, ``"*"``, costed by
organisation), on both adapters. Documents keep them equal; a direct ``Jxc`` posting moves the
stock only and shows as a difference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, InventoryReconciliation, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
U = User("boss")


class Clock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 11, 3, 10)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    s: Storage = (MemoryStorage() if request.param == "memory"
                  else SqliteStorage(str(tmp_path / "r.db")))
    yield s
    s.close()


def shop(storage: Storage, organisation: bool = False) -> tuple[Jxc, Documents, Accounting]:
    j = Jxc(storage, clock=Clock(), organisation_scope=organisation)
    j.define_item(Item("A", "tea"))
    j.define_item(Item("M", "leaf", costing_method="moving_average"))
    for code in ("W", "V"):
        j.define_warehouse(Warehouse(code, code))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    return j, Documents(j), Accounting(j)


def post(docs: Documents, kind: str, lines: list[Line], party: str = "") -> None:
    docs.approve_through(docs.create(kind, lines, party=party).doc_id, [U])


def flow(docs: Documents) -> None:
    """Receipts at two prices, a delivery, a transfer, an adjustment out."""
    post(docs, "purchase_receipt", [Line(1, "A", D(10), D("12.50"), D("0.13"), warehouse="W"),
                                    Line(2, "M", D(6), D("3.33"), D("0.13"), warehouse="W")],
         "S")
    post(docs, "purchase_receipt", [Line(1, "M", D(4), D("4.10"), D("0.13"), warehouse="W")],
         "S")
    post(docs, "delivery", [Line(1, "A", D(3), D(20), D("0.13"), warehouse="W"),
                            Line(2, "M", D(7), D(9), D("0.13"), warehouse="W")], "C")
    post(docs, "transfer", [Line(1, "A", D(2), warehouse="W", to_warehouse="V")])
    post(docs, "adjustment", [Line(1, "M", D(-1), warehouse="W")])


def test_documents_keep_the_books_and_the_stock_equal(storage: Storage) -> None:
    j, docs, books = shop(storage)
    flow(docs)
    rows = books.reconcile_inventory()
    assert [(r.item, r.warehouse) for r in rows] == [("A", "V"), ("A", "W"), ("M", "W")]
    for r in rows:
        assert r.books == r.stock == j.balance(r.item, r.warehouse).value
        assert r.difference == 0
    assert rows[0].stock == D("25.00")  # 2 of 12.50 moved to V
    assert books.reconcile_inventory(differences_only=True) == []


def test_a_direct_posting_shows_as_a_difference(storage: Storage) -> None:
    j, docs, books = shop(storage)
    flow(docs)
    j.receive("A", "V", D(4), D("7.25"))  # the stock only: no journal row
    j.issue("M", "W", D(1))
    found = books.reconcile_inventory(differences_only=True)
    m_cost = -j.ledger("M", "W")[-1].entry.value
    assert found == [
        InventoryReconciliation("A", "V", D("25.00"), D("54.00")),
        InventoryReconciliation("M", "W", j.balance("M", "W").value + m_cost,
                                j.balance("M", "W").value),
    ]
    assert [r.difference for r in found] == [D("29.00"), -m_cost]
    assert m_cost > 0


def test_costed_by_organisation_one_row_per_item(storage: Storage) -> None:
    j, docs, books = shop(storage, organisation=True)
    flow(docs)
    rows = books.reconcile_inventory()
    assert [(r.item, r.warehouse, r.difference) for r in rows] == [
        ("A", "*", D(0)), ("M", "*", D(0))]
    assert rows[0].stock == j.balance("A").value == D("87.50")  # 7 of 12.50


def test_differences_only_is_a_bool(storage: Storage) -> None:
    _, _, books = shop(storage)
    with pytest.raises(TypeError, match="differences_only"):
        books.reconcile_inventory(differences_only=1)  # type: ignore[arg-type]

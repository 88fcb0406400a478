"""The cost of ``gross_profit`` is what the account mapping books to cost of sales.

With the Chinese preset the price difference of a purchase return (stock value removed less
the GRNI it clears) goes to 6401 主营业务成本, as ``cogs`` does: the report counted only the
``cogs`` rows and disagreed with the trial balance. The rows of any role that the mapping sends
to the account ``cogs`` takes (for the same document type, item category and warehouse) count;
with the English preset the price difference goes to 5100 Purchase price variance, not 5000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.accounting import AccountMapping, chinese_mapping, english_mapping
from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
U = User("boss")


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 3, 10)

    def now(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=1)
        return self.at


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Jxc, Documents]]:
    storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "g.db"))
    j = Jxc(storage, clock=Clock())
    j.define_item(Item("CUP", "cup", costing_method="moving_average"))
    j.define_item(Item("Q", "leaf", costing_method="monthly_average"))
    j.define_warehouse(Warehouse("W", "main"))
    j.define_warehouse(Warehouse("W2", "second"))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    yield j, Documents(j)
    storage.close()


def run(docs: Documents, kind: str, lines: list[Line], party: str) -> str:
    doc = docs.create(kind, lines, party=party)
    docs.approve_through(doc.doc_id, [U])
    return doc.doc_id


def _the_finding(docs: Documents, wh: str = "W") -> None:
    """The reviewer's probe: 10 @ 8.00 and 10 @ 10.00 (average 9.00), 5 sold at 15.00 and
    invoiced, 5 of the first receipt returned at its 8.00: stock leaves at 45.00, GRNI is
    cleared by 40.00, the 5.00 between them is the return's price difference."""
    r1 = run(docs, "purchase_receipt", [Line(1, "CUP", D(10), D("8.00"), warehouse=wh)], "S")
    run(docs, "purchase_receipt", [Line(1, "CUP", D(10), D("10.00"), warehouse=wh)], "S")
    ck = run(docs, "delivery", [Line(1, "CUP", D(5), D("15.00"), warehouse=wh)], "C")
    run(docs, "sales_invoice", [Line(1, "CUP", D(5), D("15.00"), source=(ck, 1))], "C")
    run(docs, "purchase_return", [Line(1, "CUP", D(5), D("8.00"), warehouse=wh,
                                       source=(r1, 1))], "S")


def _gross(acc: Accounting, by: str = "item") -> dict[str, tuple[Decimal, Decimal]]:
    return {g.key: (g.revenue, g.cost) for g in acc.gross_profit(by)}


def test_the_price_difference_booked_to_6401_is_cost(world: tuple[Jxc, Documents]) -> None:
    j, docs = world
    _the_finding(docs)
    acc = Accounting(j)
    acc.generate_vouchers()
    assert acc.account_balance("6401") == D("50.00")  # 45.00 sold + 5.00 price difference
    assert _gross(acc) == {"CUP": (D("75.00"), D("50.00"))}
    [row] = acc.gross_profit("item")
    assert (row.profit, row.margin) == (D("25.00"), D("33.33"))
    # by customer: the customer's own deliveries only; the supplier's return is no customer's
    assert _gross(acc, "customer") == {"C": (D("75.00"), D("45.00"))}


def test_with_the_english_preset_the_price_difference_is_a_variance_not_cost(
        world: tuple[Jxc, Documents]) -> None:
    j, docs = world
    _the_finding(docs)
    acc = Accounting(j, mapping=english_mapping())
    acc.generate_vouchers()
    assert (acc.account_balance("5000"), acc.account_balance("5100")) == (
        D("45.00"), D("5.00"))
    assert _gross(acc) == {"CUP": (D("75.00"), D("45.00"))}


def test_the_rule_follows_the_mapping_per_warehouse(world: tuple[Jxc, Documents]) -> None:
    """A mapping that books W2's price differences to 1404 材料成本差异: the same flow in W
    and in W2 costs 50.00 in W and 45.00 in W2, as 6401 says."""
    j, docs = world
    data = chinese_mapping().to_data()
    data["rules"].append({"role": "price_difference", "account": "1404", "warehouse": "W2"})
    acc = Accounting(j, mapping=AccountMapping.from_data(data))
    _the_finding(docs, "W")
    _the_finding(docs, "W2")
    acc.generate_vouchers()
    assert acc.account_balance("6401") == D("95.00")
    assert acc.account_balance("1404") == D("5.00")
    assert _gross(acc) == {"CUP": (D("150.00"), D("95.00"))}


def test_the_month_end_cost_of_a_purchase_return_is_cost_too(
        world: tuple[Jxc, Documents]) -> None:
    """Monthly average: a purchase return of the open month leaves by quantity (its posting
    books the 40.00 of GRNI it clears against ``price_difference``); the close values it at
    the month's unit cost, 50.00, on a ``period_close`` row of ``price_difference``: 10.00 net,
    to 6401 with the Chinese preset."""
    j, docs = world
    r1 = run(docs, "purchase_receipt", [Line(1, "Q", D(10), D("8.00"), warehouse="W")], "S")
    run(docs, "purchase_receipt", [Line(1, "Q", D(10), D("12.00"), warehouse="W")], "S")
    ck = run(docs, "delivery", [Line(1, "Q", D(5), D("30.00"), warehouse="W")], "C")
    run(docs, "sales_invoice", [Line(1, "Q", D(5), D("30.00"), source=(ck, 1))], "C")
    run(docs, "purchase_return", [Line(1, "Q", D(5), D("8.00"), warehouse="W",
                                       source=(r1, 1))], "S")
    acc = Accounting(j)
    acc.close_period(2026, 11)  # unit cost 200.00 / 20 = 10.00
    diff = [r for r in docs.journal() if r.role == "price_difference"]
    assert [(r.doc_type, r.debit - r.credit) for r in diff] == [
        ("purchase_return", D("-40.00")), ("period_close", D("50.00"))]
    assert acc.account_balance("6401") == D("60.00")  # 50.00 sold + 10.00
    assert _gross(acc) == {"Q": (D("150.00"), D("60.00"))}
    assert _gross(acc, "customer") == {"C": (D("150.00"), D("50.00"))}

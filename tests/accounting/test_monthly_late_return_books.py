"""Monthly weighted average (全月一次加权平均): a delivery of March, March closed, in April a
customer return of it (with and without its sales invoice, the red-letter invoice of the
returned units and a settlement of what is left), April closed: 1405 equals the stock
valuation (``Jxc.stock_balances``) and the journal's inventory role, with the stock back on
hand or taken to zero again in April (a second delivery or a supplier return).

A report of 1405 = 176.00 against a valuation of 0.00 in this flow could not be reproduced
(docs/decisions.md, 2026-12-06): this is the regression guard of the flow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
U = User("boss", frozenset({"all"}))


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 3, 2, 9)

    def now(self) -> dt.datetime:
        return self.at


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
@pytest.mark.parametrize("paper", ["none", "invoice", "invoice+red", "invoice+red+settle"])
@pytest.mark.parametrize("then", ["kept", "delivered again", "returned to supplier"])
@pytest.mark.parametrize("returned", [10, 4])
def test_late_customer_return_keeps_1405_equal_to_the_valuation(
        tmp_path: Path, adapter: str, paper: str, then: str, returned: int) -> None:
    storage = MemoryStorage() if adapter == "memory" else SqliteStorage(str(tmp_path / "m.db"))
    clock = Clock()
    j = Jxc(storage, clock=clock)
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("Q", "leaf", costing_method="monthly_average"))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    docs, acc = Documents(j), Accounting(j)

    def post(kind: str, line: Line, party: str) -> str:
        return docs.approve_through(docs.create(kind, [line], party=party).doc_id,
                                    [U]).doc_id

    def books_agree(closed: bool = True) -> None:
        acc.generate_vouchers()
        valuation = sum((b.value for b in j.stock_balances()), D(0))
        journal = sum((r.debit - r.credit for r in docs.journal() if r.role == "inventory"),
                      D(0))
        assert acc.account_balance("1405") == valuation == journal
        for b in j.stock_balances():  # an open month's issues are valued at its close
            if closed and b.on_hand == 0:
                assert b.value == 0

    rc = post("purchase_receipt", Line(1, "Q", D(10), D("17.60"), warehouse="W"), "S")
    clock.at = dt.datetime(2026, 3, 5, 9)
    dl = post("delivery", Line(1, "Q", D(10), D("30.00"), warehouse="W"), "C")
    if "invoice" in paper:
        post("sales_invoice", Line(1, "Q", D(10), D("30.00"), source=(dl, 1)), "C")
    clock.at = dt.datetime(2026, 4, 1, 8)
    acc.close_period(2026, 3)
    assert docs.get(dl).counter(1, "cost") == D("176.00")
    books_agree()
    clock.at = dt.datetime(2026, 4, 3, 9)
    sr = post("sales_return", Line(1, "Q", D(returned), D("30.00"), warehouse="W",
                                   source=(dl, 1)), "C")
    assert docs.get(sr).counter(1, "value") == D("17.60") * returned
    if "red" in paper:
        post("sales_invoice", Line(1, "Q", D(returned), D("30.00"), source=(sr, 1)), "C")
    if "settle" in paper:
        acc.settle("receivable", "C", D("300.00") - D("30.00") * returned,
                   date=clock.at.date())
    clock.at = dt.datetime(2026, 4, 4, 9)
    if then == "delivered again":
        post("delivery", Line(1, "Q", D(returned), D("30.00"), warehouse="W"), "C")
    elif then == "returned to supplier":
        post("purchase_return", Line(1, "Q", D(returned), D(0), warehouse="W",
                                     source=(rc, 1)), "S")
    books_agree(closed=False)
    clock.at = dt.datetime(2026, 5, 1, 8)
    acc.close_period(2026, 4)
    books_agree()
    b = j.balance("Q", "W")
    left = D(returned) if then == "kept" else D(0)
    assert (b.on_hand, b.value) == (left, D("17.60") * left)
    storage.close()

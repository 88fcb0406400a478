"""The walkthrough: the same receipts and issues under FIFO and moving average."""

from __future__ import annotations

from decimal import Decimal
from typing import TextIO

from jxc_core.cli.table import render_table
from jxc_core.costing import FifoValuation, MovingAverageValuation

__all__ = ["run_demo"]

D = Decimal

# (operation, quantity, unit cost, reference)
STORY: list[tuple[str, Decimal, Decimal, str]] = [
    ("receive", D("100"), D("10.00"), "CG20261101-0001"),
    ("receive", D("50"), D("10.60"), "CG20261105-0002"),
    ("issue", D("120"), D("0"), "XS20261108-0001"),
    ("receive", D("80"), D("9.85"), "CG20261112-0003"),
    ("issue", D("45"), D("0"), "XS20261115-0002"),
    ("issue", D("30"), D("0"), "XS20261120-0003"),
]


def _ledger(valuation: FifoValuation | MovingAverageValuation) -> list[list[object]]:
    rows: list[list[object]] = []
    for op, qty, cost, ref in STORY:
        if op == "receive":
            amount = valuation.receive(qty, cost, ref)
            q, v = valuation.quantity, valuation.value
            rows.append([ref, "入库 in", qty, cost, amount, "", q, v])
        else:
            amount = valuation.issue(qty, ref=ref)
            rows.append([ref, "出库 out", qty, "", "", amount, valuation.quantity, valuation.value])
    return rows


def run_demo(locale: str, db_path: str, out: TextIO) -> int:
    headers = ["单据 document", "类型 kind", "数量 qty", "单价 unit cost", "入库金额 in",
               "出库成本 out", "结存数量 qty", "结存金额 value"]
    methods: list[tuple[str, FifoValuation | MovingAverageValuation]] = [
        ("FIFO 先进先出", FifoValuation(currency_digits=2)),
        ("Moving average 移动加权平均", MovingAverageValuation(currency_digits=2)),
    ]
    for title, valuation in methods:
        print(render_table(title, headers, _ledger(valuation)), file=out)
        print(file=out)
    return 0

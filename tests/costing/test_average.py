"""Moving weighted average (移动加权平均): the worked examples of domain rules section 2 as tables.

The table language is the one of ``test_layers`` (see its docstring). ``landed R1 30.00 /10``
passes ``received_quantity=10``: the pool keeps no record per receipt.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.costing import MovingAverageValuation
from jxc_core.errors import JxcError
from tests.costing.test_layers import LANDED, SHORT, Scenario, adj_row, run_scenario

D = Decimal

AVERAGE: dict[str, Scenario] = {
    "domain_three_receipts_issued_at_once": Scenario([
        "in 1@1.00 -> 1.00 | 1 / 1.00",
        "in 1@1.00 -> 1.00 | 2 / 2.00",
        "in 1@1.01 -> 1.01 | 3 / 3.01",
        "out 3 -> 3.01 | 0 / 0.00",
    ]),
    "three_receipts_issued_one_by_one": Scenario([
        "in 1@1.00 -> 1.00 | 1 / 1.00",
        "in 1@1.00 -> 1.00 | 2 / 2.00",
        "in 1@1.01 -> 1.01 | 3 / 3.01",
        "out 1 -> 1.00 | 2 / 2.01",
        "out 1 -> 1.01 | 1 / 1.00",  # 2.01 / 2 = 1.005 -> 1.01 (half up)
        "out 1 -> 1.00 | 0 / 0.00",
    ]),
    "domain_1000_and_800": Scenario([
        "in 1000@0.17 -> 170.00 | 1000 / 170.00",
        "in 800@0.23 -> 184.00 | 1800 / 354.00",
        "out 1000 -> 196.67 | 800 / 157.33",
        "out 800 -> 157.33 | 0 / 0.00",
    ]),
    "domain_negative_1": Scenario([
        "in 10@10 -> 100.00 | 10 / 100.00",
        "in 10@20 -> 200.00 | 20 / 300.00",
        "out 30 -> 450.00 | -10 / -150.00",  # estimate: the last average consumed, 15
        "in 10@30 -> 300.00 | 0 / 0.00",
        "in 10@40 -> 400.00 | 10 / 400.00",
    ], [(SHORT, "150.00", "10", None, None)], allow_negative=True),
    "domain_negative_2": Scenario([
        "in 10@10 -> 100.00 | 10 / 100.00",
        "out 15 #D1 -> 150.00 | -5 / -50.00",
        "out 5 #D2 -> 50.00 | -10 / -100.00",
        "in 15@15 G9 -> 225.00 | 5 / 75.00",
    ], [(SHORT, "25.00", "5", "D1", "G9"), (SHORT, "25.00", "5", "D2", "G9")],
        allow_negative=True),
    "shortage_filled_in_two_receipts": Scenario([
        "in 10@10 -> 100.00 | 10 / 100.00",
        "out 15 #D1 -> 150.00 | -5 / -50.00",
        "in 3@12 G1 -> 36.00 | -2 / -20.00",
        "in 4@11 G2 -> 44.00 | 2 / 22.00",
    ], [(SHORT, "6.00", "3", "D1", "G1"), (SHORT, "2.00", "2", "D1", "G2")],
        allow_negative=True),
    "shortage_estimate_is_unrounded_average": Scenario([
        "in 3=10.00 -> 10.00 | 3 / 10.00",
        "out 4 -> 13.33 | -1 / -3.33",  # 10.00 + 1 x 3.333...
        "in 1@3.00 -> 3.00 | 0 / 0.00",
    ], [(SHORT, "-0.33", "1", None, None)], allow_negative=True),
    "shortage_without_history_is_zero": Scenario([
        "out 2 #D1 -> 0.00 | -2 / 0.00",
        "in 5@5 G1 -> 25.00 | 3 / 15.00",
    ], [(SHORT, "10.00", "2", "D1", "G1")], allow_negative=True),
    "shortage_at_default_cost": Scenario([
        "out 4 #D1 -> 30.00 | -4 / -30.00",
        "in 4@8 G1 -> 32.00 | 0 / 0.00",
    ], [(SHORT, "2.00", "4", "D1", "G1")], allow_negative=True, default_cost="7.50"),
    "return_to_supplier_at_average": Scenario([
        "in 10@10 R1 -> 100.00 | 10 / 100.00",
        "in 10@20 R2 -> 200.00 | 20 / 300.00",
        "in 10@30 R3 -> 300.00 | 30 / 600.00",
        "out 4 <R2 -> 80.00 | 26 / 520.00",
        "out 8 <R2 -> 160.00 | 18 / 360.00",
        "out 1 <NOPE -> 20.00 | 17 / 340.00",  # from_ref is ignored, even when unknown
    ]),
    "customer_return_restores_value": Scenario([
        "in 10@1.23 -> 12.30 | 10 / 12.30",
        "in 5@1.27 -> 6.35 | 15 / 18.65",
        "out 12 -> 14.92 | 3 / 3.73",
        "in 12=14.92 -> 14.92 | 15 / 18.65",
        "out 15 -> 18.65 | 0 / 0.00",
    ]),
    "zero_cost_receipt_lowers_average": Scenario([
        "in 5@0 -> 0.00 | 5 / 0.00",
        "in 5@2.00 -> 10.00 | 10 / 10.00",
        "out 3 -> 3.00 | 7 / 7.00",
        "out 7 -> 7.00 | 0 / 0.00",
    ]),
    "zero_cost_receipt_alone": Scenario([
        "in 3@0 -> 0.00 | 3 / 0.00",
        "out 1 -> 0.00 | 2 / 0.00",
        "out 2 -> 0.00 | 0 / 0.00",
    ]),
    "jpy_1000_and_800": Scenario([
        "in 1000@0.17 -> 170 | 1000 / 170",
        "in 800@0.23 -> 184 | 1800 / 354",
        "out 1000 -> 197 | 800 / 157",
        "out 800 -> 157 | 0 / 0",
    ], digits=0),
    "jpy_thirds": Scenario([
        "in 3@33.5 -> 101 | 3 / 101",
        "out 1 -> 34 | 2 / 67",
        "out 1 -> 34 | 1 / 33",  # 67 / 2 = 33.5 -> 34
        "out 1 -> 33 | 0 / 0",
    ], digits=0),
    "landed_cost_docs_example": Scenario([
        "in 10@10 R1 -> 100.00 | 10 / 100.00",
        "in 10@20 R2 -> 200.00 | 20 / 300.00",
        "out 15 -> 225.00 | 5 / 75.00",
        "landed R1 30.00 /10 -> 0.00 | 5 / 75.00",  # R1's units left first: all to COGS
        "landed R2 30.00 /10 -> 15.00 | 5 / 90.00",  # 5 of R2's 10 are still here
        "out 5 -> 90.00 | 0 / 0.00",
    ], [(LANDED, "30.00", "10", None, "R1"), (LANDED, "15.00", "5", None, "R2")]),
    "landed_cost_all_on_hand": Scenario([
        "in 10@10 R1 -> 100.00 | 10 / 100.00",
        "out 4 -> 40.00 | 6 / 60.00",
        "in 10@20 R2 -> 200.00 | 16 / 260.00",
        "landed R2 8.00 /10 -> 8.00 | 16 / 268.00",
        "out 8 -> 134.00 | 8 / 134.00",
    ]),
    "landed_cost_after_everything_left": Scenario([
        "in 3@5 R1 -> 15.00 | 3 / 15.00",
        "out 3 -> 15.00 | 0 / 0.00",
        "landed R1 0.90 /3 -> 0.00 | 0 / 0.00",
    ], [(LANDED, "0.90", "3", None, "R1")]),
}


@pytest.mark.parametrize("s", list(AVERAGE.values()), ids=list(AVERAGE))
def test_moving_average_scenario(s: Scenario) -> None:
    run_scenario(MovingAverageValuation, s)


def test_unit_cost_is_kept_unrounded() -> None:
    v = MovingAverageValuation()
    v.receive(D(3), D(0), value=D("10.00"))
    assert v.unit_cost is not None
    assert v.unit_cost != D("3.333333")  # not rounded to 6 digits, let alone to cents
    assert abs(v.unit_cost - D(10) / D(3)) < D("1e-20")
    assert v.issue(D(2)) == D("6.67")
    assert v.unit_cost == D("3.33")  # one unit left worth 3.33
    assert v.issue(D(1)) == D("3.33")
    assert v.unit_cost is None


def test_open_shortages_and_adjustment_refs() -> None:
    v = MovingAverageValuation(allow_negative=True)
    v.receive(D(2), D("1.50"))
    assert v.issue(D(3), ref="D1") == D("4.50")
    assert v.shortages == [(D(1), D("1.50"), "D1")]
    v.receive(D(1), D(2), "G1")
    assert v.shortages == []
    assert [adj_row(a) for a in v.adjustments] == [(SHORT, "0.50", "1", "D1", "G1")]
    assert [adj_row(a) for a in v.take_adjustments()] == [(SHORT, "0.50", "1", "D1", "G1")]
    assert v.take_adjustments() == []


def test_issue_beyond_stock_is_refused_with_figures() -> None:
    v = MovingAverageValuation(item="SKU-9", warehouse="WH-B")
    v.receive(D("2.5"), D(4))
    before = v.to_state()
    with pytest.raises(JxcError) as info:
        v.issue(D(3), from_ref="R1")
    assert info.value.code == "insufficient_stock"
    assert info.value.data == {
        "item": "SKU-9", "warehouse": "WH-B", "needed": D(3), "on_hand": D("2.5"),
        "available": D("2.5"), "short": D("0.5"),
    }
    assert v.to_state() == before

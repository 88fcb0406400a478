"""``close_shortage``: the cancellation of a short issue closes its own open shortage (FIFO,
LIFO, moving average); a method that keeps no shortages closes none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.costing import (
    FifoValuation,
    LifoValuation,
    MovingAverageValuation,
    StandardCostValuation,
)

D = Decimal


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation, MovingAverageValuation])
def test_a_short_issue_cancelled_closes_its_own_shortage(cls: type) -> None:
    v = cls(allow_negative=True, default_cost=D("2.00"))
    v.issue(D(3), ref="first")
    v.issue(D(2), ref="second")
    assert (v.quantity, v.value) == (D(-5), D("-10.00"))
    assert v.close_shortage("second", D(2), D("4.00")) == (D(2), D("4.00"))
    assert (v.quantity, v.value) == (D(-3), D("-6.00"))
    v.receive(D(5), D("3.00"), "R1")  # settles the first issue only: 3 units at 1.00 more
    assert [(a.issue_ref, a.amount) for a in v.take_adjustments()] == [("first", D("3.00"))]
    assert (v.quantity, v.value) == (D(2), D("6.00"))


def test_a_method_without_shortages_closes_none() -> None:
    v = StandardCostValuation(D("5.00"))
    assert v.close_shortage("x", D(1), D("5.00")) == (D(0), D(0))

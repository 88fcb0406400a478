"""A layer with units never has a value of the opposite sign after a cost split.

A receipt cost (landed cost, invoice price difference, a transfer's change of cost carried to
where its units arrived) is split between the receipt's units on hand and those already issued:
``round_half_up(amount x on hand / received)`` stays in the layers, the rest goes to COGS. Each
cost is rounded on its own, so costs that net to zero can leave their on-hand shares a cent
below zero (2 of 7 on hand: +22.52, -11.26, -11.26 keep 6.43, -3.22, -3.22 = -0.01). A
negative share never takes the layers below zero: what they cannot give goes to the issued
share, so the amount is still all booked (kept + issued = amount).
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import FifoValuation, LifoValuation

D = Decimal
LayerClass = type[FifoValuation] | type[LifoValuation]


def split(v: FifoValuation | LifoValuation, ref: str, amount: str,
          received: int | None = None) -> tuple[Decimal, Decimal]:
    """add_landed_cost; returns (kept in stock, issued share), checking they make the amount."""
    before = v.value
    kept = v.add_landed_cost(ref, D(amount),
                             received_quantity=None if received is None else D(received))
    issued = sum((a.amount for a in v.take_adjustments()), D(0))
    assert kept + issued == D(amount)
    assert v.value == before + kept == sum((x[1] for x in v.layers), D(0))
    return kept, issued


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_a_layer_with_units_never_has_a_value_of_the_opposite_sign_after_a_cost_split(
        cls: LayerClass) -> None:
    v = cls(allow_negative=True)
    v.receive(D(7), D(0), "R1")
    v.issue(D(5))  # 2 of the 7 left, worth 0.00
    assert split(v, "R1", "22.52") == (D("6.43"), D("16.09"))
    assert split(v, "R1", "-11.26") == (D("-3.22"), D("-8.04"))
    # 2/7 of -11.26 is -3.217 -> -3.22, but the layer has 3.21 left: it gives 3.21 (was -0.01)
    assert split(v, "R1", "-11.26") == (D("-3.21"), D("-8.05"))
    assert v.layers == [(D(2), D("0.00"), "R1")]


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_a_negative_cost_on_a_layer_worth_nothing_goes_to_the_issued_units(
        cls: LayerClass) -> None:
    v = cls()
    v.receive(D(6), D(0), "T1")
    v.issue(D(5))
    # 1/6 of -0.03 is -0.005 -> -0.01 half up: the unit worth 0.00 would be worth -0.01
    assert split(v, "T1", "-0.03") == (D("0.00"), D("-0.03"))
    assert v.layers == [(D(1), D("0.00"), "T1")]
    assert split(v, "T1", "0.03") == (D("0.01"), D("0.02"))  # a positive one as before


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_what_one_layer_cannot_give_is_taken_from_the_other_layers_of_the_receipt(
        cls: LayerClass) -> None:
    v = cls()
    v.receive(D(1), D(0), "R1", value=D("10.00"))
    v.receive(D(1), D(0), "R1", value=D("0.00"))  # one receipt, two layers
    # -5.00 on 2 of 2: half each would take the second layer to -2.50
    assert split(v, "R1", "-5.00") == (D("-5.00"), D("0.00"))
    assert sorted(x[1] for x in v.layers) == [D("0.00"), D("5.00")]
    # more than both are worth: they give what they have, the rest is the issued share
    assert split(v, "R1", "-7.00", received=4) == (D("-3.50"), D("-3.50"))
    assert split(v, "R1", "-7.00", received=4) == (D("-1.50"), D("-5.50"))
    assert [x[1] for x in v.layers] == [D("0.00"), D("0.00")]


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "200")), deadline=None)
@given(lifo=st.booleans(),
       receipts=st.lists(st.tuples(st.integers(1, 9), st.integers(0, 3000)), min_size=1,
                         max_size=3),
       steps=st.lists(st.one_of(st.tuples(st.just("out"), st.integers(1, 9)),
                                st.tuples(st.just("cost"), st.integers(-3000, 3000))),
                      max_size=12))
def test_random_cost_splits_keep_every_layer_with_units_at_zero_or_more_and_conserve_value(
        lifo: bool, receipts: list[tuple[int, int]], steps: list[tuple[str, int]]) -> None:
    v = (LifoValuation if lifo else FifoValuation)()
    for q, cents in receipts:  # all under one ref: several layers share each split
        v.receive(D(q), D(0), "R", value=D(cents) / 100)
    received = sum(q for q, _ in receipts)
    for kind, n in steps:
        if kind == "out":
            if D(n) <= v.quantity:
                v.issue(D(n))
        elif v.quantity:
            split(v, "R", str(D(n) / 100), received)
        assert all(value >= 0 for q, value, _ in v.layers if q > 0)


def test_moving_average_pool_with_units_never_goes_below_zero_after_a_cost_split() -> None:
    from jxc_core.costing import MovingAverageValuation

    v = MovingAverageValuation()
    v.receive(D(6), D(0), "T1")
    v.issue(D(5))
    kept = v.add_landed_cost("T1", D("-0.03"), received_quantity=D(6))
    issued = sum((a.amount for a in v.take_adjustments()), D(0))
    # 1/6 of -0.03 is -0.005 -> -0.01 half up: the unit worth 0.00 would be worth -0.01
    assert (kept, issued, v.quantity, v.value) == (D("0.00"), D("-0.03"), D(1), D("0.00"))
    v.receive(D(2), D("1.00"), "T2")
    kept = v.add_landed_cost("T2", D("-5.00"), received_quantity=D(2))
    issued = sum((a.amount for a in v.take_adjustments()), D(0))
    assert (kept, issued, v.value) == (D("-2.00"), D("-3.00"), D("0.00"))


def test_a_lot_with_units_never_goes_below_zero_after_a_cost_split() -> None:
    from jxc_core.costing import SpecificLotValuation

    v = SpecificLotValuation()
    v.receive(D(6), D(0), "L1")
    v.issue(D(5), "L1")
    kept = v.add_landed_cost("L1", D("-0.03"))
    issued = sum((a.amount for a in v.take_adjustments()), D(0))
    assert (kept, issued, v.quantity, v.value) == (D("0.00"), D("-0.03"), D(1), D("0.00"))

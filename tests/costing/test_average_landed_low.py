"""Moving average: a landed cost or price difference of a receipt counts as still on hand at
most the lowest quantity on hand since that receipt (DOMAIN.md sections 2 and 5: the share of
units already issued goes to COGS). Units of a receipt cannot be on hand once on hand has
fallen below them after it — in particular none once it fell to zero."""

from __future__ import annotations

from decimal import Decimal

from jxc_core.costing import MovingAverageValuation, valuation_from_state

D = Decimal


def _landed(v: MovingAverageValuation, ref: str, amount: str, received: int
            ) -> tuple[Decimal, Decimal]:
    kept = v.add_landed_cost(ref, D(amount), received_quantity=D(received))
    issued = sum((a.amount for a in v.take_adjustments()), D(0))
    return kept, issued


def test_receipt_all_issued_before_a_later_receipt_goes_to_cogs() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(10))
    v.receive(D(10), D(20), "R2")
    assert _landed(v, "R1", "10.00", 10) == (D("0.00"), D("10.00"))
    assert (v.quantity, v.value) == (D(10), D("200.00"))  # R2's stock untouched


def test_lowest_on_hand_since_the_receipt_bounds_the_share() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))  # 2 left: at most 2 of R1
    v.receive(D(10), D(20), "R2")
    assert _landed(v, "R1", "30.00", 10) == (D("6.00"), D("24.00"))
    assert _landed(v, "R2", "10.00", 10) == (D("10.00"), D("0.00"))  # all of R2 still here


def test_each_receipt_judged_on_its_own_as_before() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    v.issue(D(15))
    assert _landed(v, "R1", "30.00", 10) == (D("15.00"), D("15.00"))
    assert _landed(v, "R2", "30.00", 10) == (D("15.00"), D("15.00"))


def test_parts_of_one_receipt_count_together() -> None:
    v = MovingAverageValuation()
    v.receive(D(5), D(10), "R1")
    v.receive(D(5), D(10), "R1")  # the same receipt line, another lot
    assert _landed(v, "R1", "10.00", 10) == (D("10.00"), D("0.00"))


def test_a_receipt_that_only_filled_shortages_has_nothing_on_hand() -> None:
    v = MovingAverageValuation(allow_negative=True)
    v.receive(D(5), D(10), "R0")
    v.issue(D(15))
    v.receive(D(10), D(10), "R1")  # fills the shortage of 10
    v.take_adjustments()
    v.receive(D(4), D(10), "R2")
    assert _landed(v, "R1", "10.00", 10) == (D("0.00"), D("10.00"))


def test_the_lows_survive_the_state() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))
    v.receive(D(10), D(20), "R2")
    back = valuation_from_state(v.to_state())
    assert isinstance(back, MovingAverageValuation)
    assert back.to_state() == v.to_state()
    assert _landed(back, "R1", "30.00", 10) == (D("6.00"), D("24.00"))


def test_a_state_stored_before_the_lows_keeps_the_old_rule_until_stock_is_zero() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))
    v.receive(D(10), D(20), "R2")
    old = v.to_state()
    del old["lows"]
    back = valuation_from_state(old)
    assert isinstance(back, MovingAverageValuation)
    # R1 is not known: min(received, on hand), as stored states were read before
    assert _landed(back, "R1", "10.00", 10) == (D("10.00"), D("0.00"))
    assert "lows_from" in back.to_state()
    back.issue(back.quantity)  # at zero everything before is gone, and known to be
    back.receive(D(10), D(20), "R3")
    assert "lows_from" not in back.to_state()
    assert _landed(back, "R2", "10.00", 10) == (D("0.00"), D("10.00"))
    assert _landed(back, "R3", "10.00", 10) == (D("10.00"), D("0.00"))

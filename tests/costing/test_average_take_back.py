"""Moving average: the cancellation (红冲) of a receipt, ``take_back``. The receipt's units still
on hand (units leave oldest first, a return to supplier its own receipt's first: see
test_average_landed_low.py) leave at their original value, pro rata of the receipt's value
(round half up); the rest at the average of what stays once they are out. Issuing everything
on hand takes exactly the pool's value; the own units never take more than the pool's value,
so it never goes negative while units remain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import MovingAverageValuation, valuation_from_state

D = Decimal


def _pool(*receipts: tuple[str, int, str]) -> MovingAverageValuation:
    v = MovingAverageValuation()
    for ref, qty, cost in receipts:
        v.receive(D(qty), D(cost), ref)
    return v


@pytest.mark.parametrize(("issued", "received", "take", "cost", "after"), [
    # all of R2 on hand: as if it had never been received (issue() would take 68.57)
    (0, "R2", 4, "40.00", (10, "200.00")),
    # half of R2 cancelled: 2 x 40.00 / 4
    (0, "R2", 2, "20.00", (12, "220.00")),
    # R1's units leave first: after an issue of 9 (154.29), R1 has 1 left, R2 all 4
    (9, "R2", 4, "40.00", (1, "45.71")),
    # an issue of 11 (188.57) took R1's 10 and 1 of R2: the 3 left are everything on hand,
    # taken at exactly the pool's value, 51.43 (not 30.00: nothing else may keep the rest)
    (11, "R2", 3, "51.43", (0, "0")),
])
def test_own_units_at_their_original_cost(issued: int, received: str, take: int, cost: str,
                                          after: tuple[int, str]) -> None:
    v = _pool(("R1", 10, "20"), ("R2", 4, "10"))  # 14 @ 240.00
    if issued:
        v.issue(D(issued))
    assert v.take_back(D(take), received, D(4), D("40.00")) == D(cost)
    assert (v.quantity, v.value) == (D(after[0]), D(after[1]))


def test_the_rest_at_the_average_of_what_stays() -> None:
    """R1 10 @ 20.00, R2 4 @ 10.00; an issue of 11 (188.57) leaves 3 of R2 (51.43); R3 5 @
    30.00: 8 @ 201.43. Taking back R2's 4: its 3 at 30.00, the 4th at (201.43 - 30.00) / 5
    = 34.29; 64.29 in all, 4 @ 137.14 left (R3's units: a later cancellation of R3 finds 4)."""
    v = _pool(("R1", 10, "20"), ("R2", 4, "10"))
    v.issue(D(11))
    v.receive(D(5), D(30), "R3")
    assert v.take_back(D(4), "R2", D(4), D("40.00")) == D("64.29")
    assert (v.quantity, v.value) == (D(4), D("137.14"))
    assert v.take_back(D(1), "R3", D(5), D("150.00")) == D("30.00")  # R3's own cost
    assert (v.quantity, v.value) == (D(3), D("107.14"))


def test_a_receipt_with_none_left_is_taken_at_the_average() -> None:
    v = _pool(("R1", 4, "10"), ("R2", 10, "20"))
    v.issue(D(4))  # R1's 4 gone: 10 @ 200.00 + ... at the average
    before = v.value
    assert v.take_back(D(2), "R1", D(4), D("40.00")) == (before * 2 / 10).quantize(D("0.01"))


def test_everything_on_hand_takes_exactly_the_pools_value() -> None:
    v = _pool(("R1", 3, "10"))
    v.receive(D(1), D("0.01"), "R2")
    assert v.take_back(D(4), "R2", D(1), D("0.01")) == D("30.01")
    assert (v.quantity, v.value) == (D(0), D(0))


def test_rounding_half_up_of_the_receipts_value() -> None:
    v = _pool(("R1", 3, "3.335"))  # 10.01 (3 x 3.335 = 10.005 -> 10.01)
    v.receive(D(5), D(1), "R2")
    assert v.take_back(D(1), "R1", D(3), D("10.01")) == D("3.34")  # 3.3367 -> 3.34
    assert v.take_back(D(1), "R1", D(3), D("10.01")) == D("3.34")


def test_clamp_never_more_than_the_pools_value() -> None:
    """R1 10 @ 0.00, R2 4 @ 10.00; an issue of 8 costs 40 x 8 / 14 = 22.86 and takes R1's 8
    (oldest first): 6 @ 17.14, R2's 4 still on hand. Their original 20.00 for 2 is more than
    the pool has: they take 17.14, leaving 4 @ 0.00, not 4 @ -2.86."""
    v = _pool(("R1", 10, "0"), ("R2", 4, "10"))
    assert v.issue(D(8)) == D("22.86")
    assert v.take_back(D(2), "R2", D(4), D("40.00")) == D("17.14")
    assert (v.quantity, v.value) == (D(4), D("0.00"))


def test_a_shortage_beyond_the_stock_is_an_issue() -> None:
    v = MovingAverageValuation(allow_negative=True)
    v.receive(D(2), D(10), "R1")
    assert v.take_back(D(3), "R1", D(2), D("20.00")) == D("30.00")  # estimate 10.00
    assert v.quantity == D(-1)


def test_a_restored_state_takes_back_alike() -> None:
    v = _pool(("R1", 10, "20"), ("R2", 4, "10"))
    v.issue(D(9))
    w = valuation_from_state(v.to_state())
    assert isinstance(w, MovingAverageValuation)
    assert w.take_back(D(4), "R2", D(4), D("40.00")) == v.take_back(D(4), "R2", D(4),
                                                                    D("40.00")) == D("40.00")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 5000)), min_size=1, max_size=6),
       st.integers(0, 40), st.data())
def test_never_a_negative_value_with_units_left(receipts: list[tuple[int, int]], issue: int,
                                                data: st.DataObject) -> None:
    v = MovingAverageValuation()
    for n, (qty, cents) in enumerate(receipts):
        v.receive(D(qty), D(cents) / 100, f"R{n}")
    if 0 < issue < v.quantity:
        v.issue(D(issue))
    n = data.draw(st.integers(0, len(receipts) - 1))
    qty, cents = receipts[n]
    take = data.draw(st.integers(1, int(v.quantity)))
    before = v.value
    cost = v.take_back(D(take), f"R{n}", D(qty), (D(qty) * D(cents) / 100).quantize(D("0.01")))
    assert cost == cost.quantize(D("0.01")) and cost >= 0
    assert v.value == before - cost
    if v.quantity > 0:
        assert v.value >= 0
    else:
        assert v.value == 0

"""Landed cost allocation (到岸成本分摊): largest remainder, bases, refusals, and applying the
shares to receipts that are partly issued."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import (
    AllocationBasis,
    AllocationLine,
    CostAdjustment,
    FifoValuation,
    MovingAverageValuation,
    SpecificLotValuation,
    allocate,
    allocate_landed_cost,
)
from jxc_core.errors import JxcError

D = Decimal


@pytest.mark.parametrize(
    ("amount", "weights", "digits", "shares"),
    [
        pytest.param("100.00", ["1", "1", "1"], 2, ["33.34", "33.33", "33.33"], id="thirds"),
        pytest.param("0.01", ["1", "1", "1"], 2, ["0.01", "0.00", "0.00"], id="one_cent"),
        pytest.param("0.02", ["1", "1", "1"], 2, ["0.01", "0.01", "0.00"], id="ties_earlier"),
        pytest.param("-100.00", ["1", "1", "1"], 2, ["-33.34", "-33.33", "-33.33"], id="credit"),
        # exact 3.333.., 6.666..: the larger remainder (second line) gets the cent
        pytest.param("10.00", ["1", "2"], 2, ["3.33", "6.67"], id="largest_remainder_wins"),
        # exact 42.857, 42.857, 14.286 cents: two cents left go to the two largest remainders
        pytest.param("1.00", ["3", "3", "1"], 2, ["0.43", "0.43", "0.14"], id="sevenths"),
        pytest.param("100", ["1", "1", "1"], 0, ["34", "33", "33"], id="jpy"),
        pytest.param("5.00", ["0", "1.5"], 2, ["0.00", "5.00"], id="zero_weight_line"),
        pytest.param("0", ["2", "1"], 2, ["0.00", "0.00"], id="zero_amount"),
    ],
)
def test_allocate_largest_remainder(
    amount: str, weights: list[str], digits: int, shares: list[str]
) -> None:
    got = allocate(D(amount), [D(w) for w in weights], digits)
    assert got == [D(s) for s in shares]
    assert sum(got, D(0)) == D(amount)


@pytest.mark.parametrize(
    ("amount", "weights", "code"),
    [
        pytest.param("10.00", ["0", "0"], "invalid_allocation", id="zero_basis"),
        pytest.param("10.00", [], "invalid_allocation", id="no_lines"),
        pytest.param("10.005", ["1"], "invalid_allocation", id="sub_cent_amount"),
        pytest.param("10.00", ["1", "-1"], "negative_amount", id="negative_weight"),
    ],
)
def test_allocate_refusals(amount: str, weights: list[str], code: str) -> None:
    with pytest.raises(JxcError) as err:
        allocate(D(amount), [D(w) for w in weights])
    assert err.value.code == code


def test_allocate_refuses_floats() -> None:
    with pytest.raises(TypeError, match="amount"):
        allocate(1.5, [D(1)])  # type: ignore[arg-type]


LINES = [
    AllocationLine("r1", quantity=D(10), value=D("300.00"), weight=D(1), volume=D("2.0")),
    AllocationLine("r2", quantity=D(30), value=D("100.00"), weight=D(2), volume=D("1.0")),
]


@pytest.mark.parametrize(
    ("basis", "r1", "r2"),
    [
        (AllocationBasis.QUANTITY, "22.50", "67.50"),
        (AllocationBasis.VALUE, "67.50", "22.50"),
        (AllocationBasis.WEIGHT, "30.00", "60.00"),
        (AllocationBasis.VOLUME, "60.00", "30.00"),
    ],
)
def test_allocate_landed_cost_by_basis(basis: AllocationBasis, r1: str, r2: str) -> None:
    assert allocate_landed_cost(D("90.00"), LINES, basis) == {"r1": D(r1), "r2": D(r2)}


def test_allocate_landed_cost_default_basis_is_value() -> None:
    assert allocate_landed_cost(D("90.00"), LINES) == {"r1": D("67.50"), "r2": D("22.50")}


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([], id="no_lines"),
        pytest.param([LINES[0], LINES[0]], id="duplicate_ref"),
        pytest.param([AllocationLine("r1", quantity=D(1))], id="zero_value_basis"),
    ],
)
def test_allocate_landed_cost_refusals(lines: list[AllocationLine]) -> None:
    with pytest.raises(JxcError) as err:
        allocate_landed_cost(D("1.00"), lines)
    assert err.value.code == "invalid_allocation"


def test_allocation_line_refuses_negative_basis() -> None:
    with pytest.raises(JxcError) as err:
        AllocationLine("r1", quantity=D(-1))
    assert err.value.code == "negative_amount"


def test_shares_applied_to_fifo_receipts_partly_issued() -> None:
    v = FifoValuation()
    v.receive(D(10), D(10), "r1")
    v.receive(D(10), D(20), "r2")
    assert v.issue(D(5), ref="i1") == D("50.00")  # half of r1
    shares = allocate_landed_cost(
        D("30.00"),
        [AllocationLine("r1", quantity=D(10)), AllocationLine("r2", quantity=D(10))],
        AllocationBasis.QUANTITY,
    )
    assert shares == {"r1": D("15.00"), "r2": D("15.00")}
    kept = {ref: v.add_landed_cost(ref, share) for ref, share in shares.items()}
    # r1: 5 of 10 units on hand keep 7.50; the issued half goes to COGS
    assert kept == {"r1": D("7.50"), "r2": D("15.00")}
    assert v.take_adjustments() == [CostAdjustment("landed_cost", D("7.50"), D(5), None, "r1")]
    assert (v.quantity, v.value) == (D(15), D("272.50"))
    assert v.receipt_remaining("r1") == (D(5), D("57.50"), D(10))
    assert v.layers == [(D(5), D("57.50"), "r1"), (D(10), D("215.00"), "r2")]
    assert v.issue(D(15)) == D("272.50")
    assert (v.quantity, v.value) == (D(0), D(0))


def test_landed_cost_on_fully_issued_receipt_is_all_cogs() -> None:
    v = FifoValuation()
    v.receive(D(3), D("1.00"), "r1")
    v.issue(D(3))
    # a credit note on freight; the receipt has no layer left, its quantity comes from the caller
    assert v.add_landed_cost("r1", D("-0.90"), received_quantity=D(3)) == D(0)
    assert v.take_adjustments() == [CostAdjustment("landed_cost", D("-0.90"), D(3), None, "r1")]
    assert (v.quantity, v.value) == (D(0), D(0))
    with pytest.raises(JxcError) as err:
        v.add_landed_cost("nope", D("1.00"))
    assert err.value.code == "unknown_receipt"


def test_landed_cost_moving_average_needs_received_quantity() -> None:
    v = MovingAverageValuation()
    v.receive(D(2), D(1), "r1")
    with pytest.raises(JxcError) as err:
        v.add_landed_cost("r1", D("1.00"))
    assert err.value.code == "configuration"
    assert v.value == D("2.00")


@pytest.mark.parametrize("make", [FifoValuation, MovingAverageValuation, SpecificLotValuation],
                         ids=["fifo", "moving_average", "specific_lot"])
@pytest.mark.parametrize("received", [D(0), D(-5)])
def test_landed_cost_refuses_a_received_quantity_not_above_zero(make: type, received: Decimal
                                                                 ) -> None:
    v = make()
    v.receive(D(10), D(10), "R1")
    with pytest.raises(JxcError) as err:
        v.add_landed_cost("R1", D("30.00"), received_quantity=received)
    assert err.value.code == "invalid_quantity"
    assert err.value.data["field"] == "received_quantity"
    assert (v.value, v.take_adjustments()) == (D("100.00"), [])


def test_landed_cost_refuses_a_received_quantity_below_what_is_on_hand() -> None:
    """10 of R1 are on hand: it cannot have received 5 (the on-hand share would exceed the
    amount and the issued share go negative)."""
    v = FifoValuation()
    v.receive(D(10), D(10), "R1")
    with pytest.raises(JxcError) as err:
        v.add_landed_cost("R1", D("30.00"), received_quantity=D(5))
    assert err.value.code == "received_below_on_hand"
    assert err.value.data == {"ref": "R1", "received": D(5), "on_hand": D(10)}
    assert (v.value, v.take_adjustments()) == (D("100.00"), [])
    assert v.add_landed_cost("R1", D("30.00"), received_quantity=D(10)) == D("30.00")


@pytest.mark.parametrize("taken", ["5", "15"], ids=["part-of-the-lot", "emptying-it"])
def test_a_lot_s_units_taken_back_no_longer_count_as_received(taken: str) -> None:
    """Lot L1 receives 10 (R1) and 5 (R2) at 10.00; R2's cancellation takes its 5 back (or
    R1's and R2's, the lot emptied), then 10 more come in. A cost of 15.00 on the 10 units
    still there was shared over the 15 (or 25) the lot ever received: 10.00 (6.00) kept, the
    rest to cost of goods sold although nothing was issued. Units a cancellation took back
    are neither on hand nor issued: the whole cost is kept."""
    v = SpecificLotValuation()
    v.receive(D(10), D(10), "L1")
    v.receive(D(5), D(10), "L1")
    assert v.take_back(D(taken), "L1", D(taken), D(taken) * 10) == D(taken) * 10
    if taken == "15":
        v.receive(D(10), D(10), "L1")
    assert v.add_landed_cost("L1", D("15.00"), received_quantity=D(10)) == D("15.00")
    assert v.take_adjustments() == []
    assert v.lot("L1") == (D(10), D("115.00"))


def test_landed_cost_thirds_on_hand_rounds_half_up() -> None:
    v = FifoValuation()
    v.receive(D(3), D(1), "r1")
    v.issue(D(1))
    # 2/3 of 0.10 = 0.0666.. -> 0.07 kept; 0.03 to COGS
    assert v.add_landed_cost("r1", D("0.10")) == D("0.07")
    assert v.take_adjustments()[0].amount == D("0.03")
    assert v.value == D("2.07")


def test_landed_cost_moving_average_single_receipt() -> None:
    v = MovingAverageValuation()
    v.receive(D(20), D(15), "r1")
    assert v.issue(D(15)) == D("225.00")
    # 5 of the 20 units received are still on hand
    assert v.add_landed_cost("r1", D("30.00"), received_quantity=D(20)) == D("7.50")
    assert v.take_adjustments() == [CostAdjustment("landed_cost", D("22.50"), D(15), None, "r1")]
    assert (v.quantity, v.value) == (D(5), D("82.50"))


# -- property: shares add up exactly and keep the sign ------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    cents=st.integers(-10**7, 10**7),
    weights=st.lists(st.integers(0, 10**5), min_size=1, max_size=8).filter(any),
    scale=st.sampled_from([0, 2, 3]),
    digits=st.sampled_from([0, 2]),
)
def test_allocate_sums_exactly(cents: int, weights: list[int], scale: int, digits: int) -> None:
    amount = D(cents).scaleb(-digits)
    ws = [D(w).scaleb(-scale) for w in weights]
    shares = allocate(amount, ws, digits)
    assert len(shares) == len(ws)
    assert sum(shares, D(0)) == amount
    quantum = D(1).scaleb(-digits)
    total = sum(ws, D(0))
    for s, w in zip(shares, ws, strict=True):
        assert s.quantize(quantum) == s
        assert s >= 0 if amount >= 0 else s <= 0
        # within one minor unit of the exact proportion
        assert abs(Fraction(s) - Fraction(amount) * Fraction(w) / Fraction(total)) < Fraction(
            quantum
        )
    # a heavier line never gets less than a lighter one
    for i, wi in enumerate(ws):
        for j, wj in enumerate(ws):
            if wi > wj:
                assert abs(shares[i]) >= abs(shares[j])

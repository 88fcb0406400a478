"""Standard cost (计划成本/标准成本): price variance on receipt, issues at standard, revaluation
by a new standard, and value conservation."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import CostAdjustment, StandardCostValuation
from jxc_core.errors import JxcError

D = Decimal


def half_up(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), ROUND_HALF_UP)


# standard, qty, price, value kw, value in stock, variance (None = no adjustment)
RECEIPTS = [
    pytest.param("10.00", "5", "10.40", None, "50.00", "2.00", id="dearer"),
    pytest.param("10.00", "3", "9.50", None, "30.00", "-1.50", id="cheaper"),
    pytest.param("10.00", "2", "10.00", None, "20.00", None, id="at_standard"),
    pytest.param("10.00", "4", "0", "41.23", "40.00", "1.23", id="by_value"),
    pytest.param("0.335", "3", "0.30", None, "1.01", "-0.11", id="standard_rounds_half_up"),
    pytest.param("1.234", "1.5", "1.234", None, "1.85", None, id="same_rounding_no_variance"),
]


@pytest.mark.parametrize(("std", "qty", "price", "value", "in_stock", "variance"), RECEIPTS)
def test_receipt_price_variance(
    std: str, qty: str, price: str, value: str | None, in_stock: str, variance: str | None
) -> None:
    v = StandardCostValuation(D(std))
    got = v.receive(D(qty), D(price), "r1", value=None if value is None else D(value))
    assert got == D(in_stock)
    assert (v.quantity, v.value) == (D(qty), D(in_stock))
    adjustments = v.take_adjustments()
    if variance is None:
        assert adjustments == []
    else:
        assert adjustments == [CostAdjustment("price_variance", D(variance), D(qty), None, "r1")]
    assert v.take_adjustments() == []  # taken once


@pytest.mark.parametrize(
    ("std", "receipts", "issues", "costs"),
    [
        pytest.param("10.00", ["5"], ["2", "3"], ["20.00", "30.00"], id="whole_numbers"),
        # 3 x 0.335 = 1.005 -> 1.01 in stock; 0.34, 0.34, then the last takes 0.33
        pytest.param("0.335", ["3"], ["1", "1", "1"], ["0.34", "0.34", "0.33"], id="last_takes"),
        # receipts 1.01 + 1.01 = 2.02; issue 5 -> 1.68 (1.675), issue 1 -> the rest 0.34
        pytest.param("0.335", ["3", "3"], ["5", "1"], ["1.68", "0.34"], id="two_receipts"),
    ],
)
def test_issues_at_standard_and_issuing_all_takes_the_rest(
    std: str, receipts: list[str], issues: list[str], costs: list[str]
) -> None:
    v = StandardCostValuation(D(std))
    total = sum((v.receive(D(q), D(std)) for q in receipts), D(0))
    got = [v.issue(D(q)) for q in issues]
    assert got == [D(c) for c in costs]
    for q, c in zip(issues[:-1], got[:-1], strict=True):
        assert c == half_up(D(q) * D(std))
    assert sum(got, D(0)) == total
    assert (v.quantity, v.value) == (D(0), D(0))


def test_over_issue_refused_nothing_changed() -> None:
    v = StandardCostValuation(D("10"), item="A", warehouse="W")
    v.receive(D(2), D("10"))
    with pytest.raises(JxcError) as err:
        v.issue(D(3))
    assert err.value.code == "insufficient_stock"
    assert (err.value.data["needed"], err.value.data["on_hand"]) == (D(3), D(2))
    assert (v.quantity, v.value) == (D(2), D("20.00"))


def test_set_standard_revalues_stock_on_hand() -> None:
    v = StandardCostValuation(D("10.00"))
    v.receive(D(5), D("10.00"))
    v.issue(D(2))
    assert v.set_standard(D("12.50"), ref="std-2026") == D("7.50")  # 3 x 2.50
    assert v.standard_cost == D("12.50")
    assert (v.quantity, v.value) == (D(3), D("37.50"))
    assert v.take_adjustments() == [
        CostAdjustment("revaluation", D("7.50"), D(3), None, "std-2026")
    ]
    assert v.issue(D(1)) == D("12.50")
    # revaluing down with rounding: 2 x 0.3333 = 0.6666 -> 0.67
    assert v.set_standard(D("0.3333")) == D("-24.33")
    assert v.value == D("0.67")
    assert v.take_adjustments()[0].amount == D("-24.33")
    assert v.issue(D(2)) == D("0.67")


def test_set_standard_with_nothing_on_hand_books_nothing() -> None:
    v = StandardCostValuation(D("10.00"))
    assert v.set_standard(D("11.00")) == D(0)
    assert v.take_adjustments() == []
    assert v.receive(D(1), D("11.00")) == D("11.00")
    assert v.take_adjustments() == []


def test_landed_cost_under_standard_is_all_variance() -> None:
    v = StandardCostValuation(D("10.00"))
    v.receive(D(4), D("10.00"), "r1")
    assert v.add_landed_cost("r1", D("3.20")) == D(0)
    assert v.value == D("40.00")
    assert v.take_adjustments() == [CostAdjustment("price_variance", D("3.20"), D(0), None, "r1")]


def test_negative_stock_valued_at_standard() -> None:
    v = StandardCostValuation(D("10.00"), allow_negative=True)
    v.receive(D(1), D("10.00"))
    assert v.issue(D(3)) == D("30.00")
    assert (v.quantity, v.value) == (D(-2), D("-20.00"))
    v.receive(D(2), D("11.00"))
    assert (v.quantity, v.value) == (D(0), D("0.00"))
    assert [a.amount for a in v.take_adjustments()] == [D("2.00")]


def test_negative_stock_back_to_zero_leaves_no_residue() -> None:
    v = StandardCostValuation(D("0.335"), allow_negative=True)
    v.receive(D(1), D("0.335"))  # 0.34
    v.issue(D(2))  # 0.67 -> stock -1 / -0.33
    v.receive(D(1), D("0.335"))  # 0.34 -> stock 0 / 0.01
    assert v.quantity == 0
    assert v.value == D("0.00")


# -- property: value conservation ---------------------------------------------------------------

op = st.one_of(
    st.tuples(st.just("r"), st.integers(1, 30), st.integers(0, 3000)),  # qty, price in cents
    st.tuples(st.just("i"), st.integers(1, 30), st.just(0)),
    st.tuples(st.just("s"), st.just(0), st.integers(0, 30000)),  # new standard, 1/1000
)


@settings(max_examples=80, deadline=None)
@given(
    std=st.integers(0, 30000),
    ops=st.lists(op, max_size=25),
    scale=st.sampled_from([0, 1, 3]),
)
def test_standard_cost_conserves_value(
    std: int, ops: list[tuple[str, int, int]], scale: int
) -> None:
    v = StandardCostValuation(D(std).scaleb(-3))
    received = issued = revalued = variance = actual_total = D(0)
    for kind, n, x in ops:
        q = D(n).scaleb(-scale)
        if kind == "r":
            price = D(x).scaleb(-2)
            got = v.receive(q, price)
            assert got == half_up(q * v.standard_cost)
            received += got
            actual_total += half_up(q * price)
        elif kind == "i":
            if q > v.quantity:
                with pytest.raises(JxcError) as err:
                    v.issue(q)
                assert err.value.code == "insufficient_stock"
                continue
            before = v.quantity
            cost = v.issue(q)
            if q < before:
                assert cost == half_up(q * v.standard_cost)
            issued += cost
        else:
            revalued += v.set_standard(D(x).scaleb(-3))
            assert v.value == half_up(v.quantity * v.standard_cost)
        for a in v.take_adjustments():
            if a.reason == "price_variance":
                variance += a.amount
            else:
                assert a.reason == "revaluation"
        assert v.value == received + revalued - issued
        assert v.quantity >= 0
        if v.quantity == 0:
            assert v.value == 0
    assert variance == actual_total - received

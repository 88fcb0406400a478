"""Products rounded to money are rounded once (DOMAIN 1: half up to the currency's digits).

In Python's default 28-digit context ``4.515 x 0.3333333333333333333333333333`` (exactly
1.504999...) was first rounded to 1.505 and then to 1.51. Line amounts, receipt values under
every costing method and issue values are now the exact product rounded half up once: checked
against ``fractions.Fraction`` arithmetic.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from jxc_core.costing import (
    FifoValuation,
    LifoValuation,
    MovingAverageValuation,
    StandardCostValuation,
)
from jxc_core.documents.model import line_amounts
from jxc_core.values import multiply

D = Decimal
THIRD = D(1) / 3  # 0.3333333333333333333333333333: a price computed in the caller's code


def half_up(x: Fraction, digits: int = 2) -> Decimal:
    """``x`` rounded half up (away from zero) to ``digits`` places, exactly."""
    scale = 10 ** digits
    n = abs(x) * scale
    whole = int(n)
    if n - whole >= Fraction(1, 2):
        whole += 1
    sign = -1 if x < 0 else 1
    return (D(sign * whole) / scale).quantize(D(1).scaleb(-digits))


def test_the_worked_examples() -> None:
    assert line_amounts(D("4.515"), THIRD, D(0), False).net == D("1.50")
    assert line_amounts(D("0.015"), THIRD, D(0), False).net == D("0.00")
    assert line_amounts(D(2), D("0.50249999999999999999999999999995"), D(0), False).net == (
        D("1.00"))
    assert line_amounts(D("4.515"), THIRD, D(0), True).gross == D("1.50")
    for v in (FifoValuation(2, False), LifoValuation(2, False), MovingAverageValuation(2, False)):
        assert v.receive(D("4.515"), THIRD) == D("1.50")
    std = StandardCostValuation(THIRD, 2, False)
    std.receive(D("4.515"), THIRD)
    assert std.value == D("1.50")
    assert multiply(D("4.515"), THIRD) == D("1.5049999999999999999999999998495")


_QTY = st.decimals(min_value=D("0.001"), max_value=D(10**6), places=3)
_PRICE = st.one_of(
    st.decimals(min_value=D(0), max_value=D(10**5), places=6),
    st.integers(1, 10**6).map(lambda n: D(1) / n),  # 28 significant digits
    st.integers(1, 10**6).map(lambda n: D(n) / 7),
)


@given(_QTY, _PRICE, st.sampled_from([D(0), D("0.13"), D("0.09"), D("0.06")]),
       st.sampled_from([0, 2, 3]))
def test_line_amounts_round_the_exact_product_once(q: Decimal, p: Decimal, rate: Decimal,
                                                  digits: int) -> None:
    exact = Fraction(q) * Fraction(p)
    net = line_amounts(q, p, rate, False, digits).net
    assert net == half_up(exact, digits)
    assert line_amounts(q, p, rate, False, digits).tax == half_up(Fraction(net) * Fraction(rate),
                                                                   digits)
    assert line_amounts(q, p, rate, True, digits).gross == half_up(exact, digits)


@given(_QTY, _PRICE)
def test_receipt_values_are_the_exact_product_rounded_once(q: Decimal, p: Decimal) -> None:
    expected = half_up(Fraction(q) * Fraction(p))
    for v in (FifoValuation(2, False), LifoValuation(2, False), MovingAverageValuation(2, False)):
        assert v.receive(q, p) == expected

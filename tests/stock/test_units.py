"""Unit conversions of an item (DOMAIN.md 1): exact or refused, and a converted quantity
carries the precision of the base unit (0.5 箱 is 6 个, not 6.0)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jxc_core.errors import JxcError
from jxc_core.stock import Item

D = Decimal
CUP = Item("CUP", "杯子", units={"箱": D(12)})
RICE = Item("RICE", "大米", base_unit="kg", quantity_digits=3, units={"袋": D("2.5")})


@pytest.mark.parametrize(("item", "quantity", "unit", "text"), [
    (CUP, D("0.5"), "箱", "6"),
    (CUP, D("1.50"), "箱", "18"),
    (CUP, D(2), "箱", "24"),
    (CUP, D(7), None, "7"),
    (RICE, D("1.1"), "袋", "2.750"),
    (RICE, D(2), "袋", "5.000"),
])
def test_a_converted_quantity_has_the_base_units_precision(item: Item, quantity: Decimal,
                                                          unit: str | None, text: str) -> None:
    assert str(item.to_base(quantity, unit)) == text


@pytest.mark.parametrize(("item", "quantity", "unit"), [
    (CUP, D("0.1"), "箱"), (CUP, D("1.6"), "箱"), (RICE, D("0.0001"), "袋"),
    # a fraction typed with 28 digits: its product with the factor is not rounded to 5 个 or
    # 4 个 before the check (0.4166666666666666666666666667 x 12 = 5.0000...0004)
    (CUP, D(5) / 12, "箱"), (CUP, D(1) / 3, "箱"), (RICE, D(1) / 3, "袋")])
def test_an_inexact_conversion_is_refused(item: Item, quantity: Decimal, unit: str) -> None:
    with pytest.raises(JxcError) as err:
        item.to_base(quantity, unit)
    assert err.value.code == "unit_conversion_inexact"


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=2))
def test_boxes_convert_to_whole_pieces_by_value(n: int, places: int) -> None:
    """n/12 箱 is n pieces whenever that is exact; the value is kept, the exponent is 0."""
    boxes = D(n) / D(12)
    if boxes != boxes.quantize(D(1).scaleb(-places)):
        return  # not a quantity someone can type with that many places
    pieces = CUP.to_base(boxes.quantize(D(1).scaleb(-places)), "箱")
    assert pieces == n and pieces.as_tuple().exponent == 0


def test_a_quantity_carries_the_precision_of_the_base_unit() -> None:
    """DOMAIN 1: pieces have 0 digits. A whole quantity written another way ("5.000",
    "1E+2") is that whole number; a 3-digit item's quantity has its 3 digits."""
    pieces = Item("P", "piece", units={"箱": Decimal(12)})
    assert str(pieces.to_base(Decimal("5.000"), None)) == "5"
    assert str(pieces.to_base(Decimal("1E+2"), None)) == "100"
    assert str(pieces.to_base(Decimal("0.50"), "箱")) == "6"
    flour = Item("KG", "flour", base_unit="kg", quantity_digits=3)
    assert str(flour.to_base(Decimal("2.5"), None)) == "2.500"

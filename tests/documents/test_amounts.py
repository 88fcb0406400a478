"""Line amounts with VAT (domain rules 5-6): per line, ROUND_HALF_UP, with or without tax."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import VAT_RATES, DocType, Document, Line, LineAmounts, line_amounts
from jxc_core.errors import JxcError

D = Decimal

# 7 x 13.57 = 94.99, at every Chinese VAT rate. Without tax: tax = round(94.99 x rate).
# With tax: 94.99 is the gross; net = round(94.99 / (1 + rate)); tax = gross - net.
#: (rate, net, tax, gross) without tax
WITHOUT_TAX = [
    ("0.13", "94.99", "12.35", "107.34"),  # 12.3487
    ("0.09", "94.99", "8.55", "103.54"),  # 8.5491
    ("0.06", "94.99", "5.70", "100.69"),  # 5.6994
    ("0.03", "94.99", "2.85", "97.84"),  # 2.8497
    ("0.01", "94.99", "0.95", "95.94"),  # 0.9499
    ("0", "94.99", "0.00", "94.99"),
]
#: (rate, net, tax, gross) with tax
WITH_TAX = [
    ("0.13", "84.06", "10.93", "94.99"),  # 84.0619
    ("0.09", "87.15", "7.84", "94.99"),  # 87.1468
    ("0.06", "89.61", "5.38", "94.99"),  # 89.6132
    ("0.03", "92.22", "2.77", "94.99"),  # 92.2233
    ("0.01", "94.05", "0.94", "94.99"),  # 94.0495
    ("0", "94.99", "0.00", "94.99"),
]


def test_vat_rates_are_the_chinese_ones() -> None:
    assert tuple(VAT_RATES) == (D("0.13"), D("0.09"), D("0.06"), D("0.03"), D("0.01"), D(0))
    assert {r for r, *_ in WITHOUT_TAX} == {str(r) for r in VAT_RATES} | {"0"}


@pytest.mark.parametrize(("rate", "net", "tax", "gross"), WITHOUT_TAX)
def test_price_without_tax(rate: str, net: str, tax: str, gross: str) -> None:
    got = line_amounts(D(7), D("13.57"), D(rate), False)
    assert got == LineAmounts(D(net), D(tax), D(gross))
    assert got.net + got.tax == got.gross


@pytest.mark.parametrize(("rate", "net", "tax", "gross"), WITH_TAX)
def test_price_with_tax(rate: str, net: str, tax: str, gross: str) -> None:
    got = line_amounts(D(7), D("13.57"), D(rate), True)
    assert got == LineAmounts(D(net), D(tax), D(gross))
    assert got.gross == D("94.99")  # 价税合计 is exactly what was typed


@pytest.mark.parametrize(
    ("qty", "price", "rate", "incl", "net", "tax", "gross"),
    [
        ("3", "33.33", "0.13", False, "99.99", "13.00", "112.99"),  # tax 12.9987
        ("1", "11.30", "0.13", True, "10.00", "1.30", "11.30"),
        ("1", "0.50", "0.01", False, "0.50", "0.01", "0.51"),  # 0.005 half up, not to even
        ("1.5", "3.33", "0.13", False, "5.00", "0.65", "5.65"),  # 4.995 -> 5.00
        ("1", "1.00", "0.01", True, "0.99", "0.01", "1.00"),  # 0.990099
        ("12", "9.99", "0.09", True, "109.98", "9.90", "119.88"),  # 119.88 / 1.09 = 109.9817
        ("0.125", "8", "0.06", False, "1.00", "0.06", "1.06"),
    ],
)
def test_scenarios(qty: str, price: str, rate: str, incl: bool, net: str, tax: str,
                   gross: str) -> None:
    assert line_amounts(D(qty), D(price), D(rate), incl) == LineAmounts(D(net), D(tax), D(gross))


def test_zero_digit_currency_rounds_to_units() -> None:
    assert line_amounts(D(3), D("33.33"), D("0.13"), False, 0) == LineAmounts(D(100), D(13),
                                                                             D(113))
    assert line_amounts(D(1), D(1130), D("0.13"), True, 0) == LineAmounts(D(1000), D(130),
                                                                         D(1130))


def test_tax_is_rounded_per_line_not_per_document() -> None:
    # three lines of 0.05 at 13%: 0.0065 each -> 0.01 each; the document total is 0.03
    # (rounding the document's 0.0195 once would give 0.02)
    lines = tuple(Line(n, "A", D(1), D("0.05"), D("0.13")) for n in (1, 2, 3))
    doc = Document(DocType.SALES_INVOICE, "X", lines=lines)
    assert [line.amounts().tax for line in lines] == [D("0.01")] * 3
    assert (doc.net_total, doc.tax_total, doc.gross_total) == (D("0.15"), D("0.03"), D("0.18"))


def test_document_totals_mix_lines_with_and_without_tax() -> None:
    doc = Document(DocType.PURCHASE_ORDER, "X", lines=(
        Line(1, "A", D(3), D("33.33"), D("0.13")),  # 99.99 + 13.00
        Line(2, "B", D(1), D("11.30"), D("0.13"), True),  # 10.00 + 1.30
        Line(3, "C", D(2), D("50.00"), D("0.06")),  # 100.00 + 6.00
    ))
    assert doc.net_total == D("209.99")
    assert doc.tax_total == D("20.30")
    assert doc.gross_total == D("230.29")
    assert doc.net_total + doc.tax_total == doc.gross_total


def test_signed_adjustment_line_amounts_use_the_magnitude() -> None:
    line = Line(1, "A", D(-2), D("5.00"), D("0.13"))
    assert line.amounts() == LineAmounts(D("10.00"), D("1.30"), D("11.30"))


def test_line_check_refuses_bad_numbers_with_codes() -> None:
    with pytest.raises(JxcError) as neg:
        Line(1, "A", D(1), D("-0.01")).check()
    assert neg.value.code == "negative_amount"
    assert neg.value.data["field"] == "price"
    with pytest.raises(JxcError) as rate:
        Line(1, "A", D(1), D(1), D(13)).check()
    assert rate.value.code == "configuration"
    with pytest.raises(TypeError, match="quantity"):
        Line(1, "A", 1.5, D(1)).check()  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="price"):
        Line(1, "A", D(1), "2.00").check()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tax_rate"):
        Line(1, "A", D(1), D(1), D("NaN")).check()

"""A line in another currency than the book's is converted whatever its rate.

BHD has 3 digits, CNY 2. At a rate of exactly 1 a purchase receipt of 1 x 0.005 BHD puts
0.01 CNY in stock (0.005 rounded half up) and credits GRNI 0.005 BHD, which is 0.01 CNY on the
voucher too — the same conversion rounding as at any other rate. A voucher once took a line as
converted only when its rate was not 1, allowed it no rounding, and refused the voucher
("does not balance: debit 0.01, credit 0.01"); every later ``generate_vouchers`` and
``close_period`` failed on it for good. The refusal now shows each side before rounding, so it
never reads as two equal amounts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.accounting import build_voucher, chinese_mapping
from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.currency_support import MinuteClock

D = Decimal
ZERO = D(0)
BOSS = User("boss", frozenset({"all"}))
DAY = dt.date(2026, 11, 2)


class AtOne:
    """Every currency at exactly 1 book-currency unit."""

    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        return D(1)


def test_a_bhd_receipt_at_rate_1_gets_a_balanced_voucher_and_the_books_go_on() -> None:
    j = Jxc(MemoryStorage(), clock=MinuteClock(), rates=AtOne())
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("A", "tea"))
    j.define_party(Party("S", "Manama Trading", "supplier"))
    docs, acc = Documents(j), Accounting(j)

    def run(lines: list[Line], currency: str, kind: str = "purchase_receipt") -> str:
        doc = docs.create(kind, lines, party="S", date=DAY, currency=currency)
        return docs.approve_through(doc.doc_id, [BOSS]).doc_id

    rk = run([Line(1, "A", D(1), D("0.005"), warehouse="W")], "BHD")
    [voucher] = acc.generate_vouchers()
    assert voucher.doc_id == rk and voucher.debit == voucher.credit == D("0.01")
    assert [(x.account, x.debit, x.credit, x.currency, x.amount, x.rate)
            for x in voucher.lines] == [
        ("1405", D("0.01"), D("0.00"), "CNY", D("0.01"), D(1)),
        ("2202.02", D("0.00"), D("0.01"), "BHD", D("-0.005"), D(1))]
    # the books go on: later postings are vouchered, the month closes
    run([Line(1, "A", D(1), D("10.00"), warehouse="W")], "CNY")
    run([Line(1, "A", D(1), D("0.005"), source=(rk, 1))], "BHD", "purchase_invoice")
    assert len(acc.generate_vouchers()) == 2
    acc.close_period(2026, 11)
    assert acc.account_balance("2202.02") == D("-10.00")  # the CNY receipt's, not invoiced
    assert acc.account_balance("1405") == j.balance("A", "W").value
    for v in acc.vouchers():
        assert v.debit == v.credit, v


BASE = {"doc_type": "purchase_receipt", "doc_id": "R", "line_no": 1, "item": "A",
        "date": "2026-11-02"}


def test_rows_of_a_foreign_currency_at_rate_1_round_like_converted_ones() -> None:
    """Three GRNI rows of 0.005 BHD at rate 1 are 0.01 CNY each; the stock row is 0.02 CNY:
    exactly the sides differ by 0.005, less than half a cent for each of the three converted
    rows; rounded they differ by 0.01, closed on ``fx_difference``."""
    rows = [{**BASE, "role": "inventory", "debit": "0.02", "credit": "0", "currency": "CNY",
             "rate": "1"},
            *({**BASE, "line_no": n, "role": "grni", "debit": "0", "credit": "0.005",
               "currency": "BHD", "rate": "1"} for n in (1, 2, 3))]
    v = build_voucher(rows, chinese_mapping(), number="V")
    assert [(x.account, x.debit, x.credit, x.amount, x.memo) for x in v.lines] == [
        ("1405", D("0.02"), D("0.00"), D("0.02"), "inventory A"),
        *[("2202.02", D("0.00"), D("0.01"), D("-0.005"), "grni A")] * 3,
        ("6603", D("0.01"), D("0.00"), ZERO, "rounding of conversion")]
    assert v.debit == v.credit == D("0.03")


@pytest.mark.parametrize(("rows", "debit", "credit"), [
    # book currency: nothing converted, 0.005 is not 0.01 (rounded both read 0.01)
    ([("inventory", "0.005", "0", "CNY", "1"), ("grni", "0", "0.01", "CNY", "1")],
     "0.005", "0.01"),
    # converted, beyond half a cent per line: 10.00 x 7.1234 = 71.234 against 71.22
    ([("grni", "10.00", "0", "USD", "7.1234"), ("payable", "0", "71.22", "CNY", "1")],
     "71.234", "71.22"),
    # a plain one keeps the book currency's digits
    ([("inventory", "10.00", "0", "CNY", "1"), ("grni", "0", "9.99", "CNY", "1")],
     "10.00", "9.99"),
])
def test_an_unbalanced_voucher_names_each_side_before_rounding(
        rows: list[tuple[str, str, str, str, str]], debit: str, credit: str) -> None:
    with pytest.raises(JxcError) as err:
        build_voucher([{**BASE, "role": role, "debit": dr, "credit": cr, "currency": cur,
                        "rate": rate} for role, dr, cr, cur, rate in rows],
                      chinese_mapping(), number="V")
    assert err.value.code == "unbalanced_voucher"
    assert err.value.data == {"doc_id": "R", "debit": debit, "credit": credit}
    assert err.value.message() == (
        f"The voucher of R does not balance: debit {debit}, credit {credit}")

"""A foreign-currency open item settled in parts ends at exactly zero in the book currency.

A sales invoice of 33.33 USD + 13% VAT (37.66 USD) at 7.1234 debits 1122 with
37.66 x 7.1234 = 268.267 -> 268.27 CNY. Received in three parts of 10.00, 10.00 and 17.66 USD,
each converted at the invoice's rate on its own, the settlements would clear
71.23 + 71.23 + 125.80 = 268.26 and leave 0.01 on 1122 of an invoice fully settled. The
settlement that clears the last of an open item clears the book amount left (125.81); the
exchange difference is booked on the settlement's rate as before (17.66 x 7.20 = 127.15 in the
bank: a gain of 1.34). Payments of a purchase invoice do the same on 2202. The exchange
difference is the bank converted once less what the parts cleared, so one settlement of
several invoices balances too (reckoned invoice by invoice it could miss the bank by a cent
per invoice and the voucher was refused).

Checked: the account is 0 in the book currency (trial balance) and 0 in the document currency
(the vouchers' original amounts), every voucher balances, no open item is left. The worked
examples run on the memory and the SQLite adapter, the property on memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.currency_support import Books, MakeBooks, MinuteClock

D = Decimal
ZERO = D(0)
BOSS = User("boss", frozenset({"all"}))
INVOICED = dt.date(2026, 11, 2)
PAID = dt.date(2026, 11, 25)
ACCOUNT = {"receivable": "1122", "payable": "2202"}


class Rates:
    """Book-currency units per unit of any currency, from a date on."""

    def __init__(self, table: dict[dt.date, Decimal]) -> None:
        self.table = table

    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        return self.table[max(d for d in self.table if d <= on)]


def _make(storage: MemoryStorage | SqliteStorage, rates: Rates, book_currency: str = "CNY",
          currency_digits: int = 2) -> Books:
    j = Jxc(storage, clock=MinuteClock(), rates=rates, book_currency=book_currency,
            currency_digits=currency_digits)
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("A", "tea"))
    j.define_party(Party("P", "Boston Tea Co.", "both"))
    docs = Documents(j)
    # stock for the deliveries, in the book currency
    rk = docs.create("purchase_receipt", [Line(1, "A", D(1000), D(1), warehouse="W")],
                     party="P", date=INVOICED)
    docs.approve_through(rk.doc_id, [BOSS])
    return j, docs, Accounting(j)


@pytest.fixture(params=["memory", "sqlite"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeBooks]:
    """``books(rates, book_currency="CNY", currency_digits=2)`` over either adapter."""
    opened: list[MemoryStorage | SqliteStorage] = []

    def make(rates: Rates, book_currency: str = "CNY", currency_digits: int = 2) -> Books:
        storage: MemoryStorage | SqliteStorage = (
            MemoryStorage() if request.param == "memory"
            else SqliteStorage(str(tmp_path / f"s{len(opened)}.db")))
        opened.append(storage)
        return _make(storage, rates, book_currency, currency_digits)

    yield make
    for s in opened:
        s.close()


def invoice(docs: Documents, kind: str, lines: list[tuple[int, str]], currency: str,
            tax: str = "0.13") -> str:
    """A sales invoice (``receivable``) of a delivery, or a purchase invoice (``payable``) of a
    receipt, in ``currency``: one line per (quantity, unit price)."""
    first, second = (("delivery", "sales_invoice") if kind == "receivable"
                     else ("purchase_receipt", "purchase_invoice"))

    def post(doc_type: str, made: list[Line]) -> str:
        doc = docs.create(doc_type, made, party="P", date=INVOICED, currency=currency)
        return docs.approve_through(doc.doc_id, [BOSS]).doc_id

    moved = post(first, [Line(n, "A", D(q), D(p), D(tax), warehouse="W")
                         for n, (q, p) in enumerate(lines, 1)])
    return post(second, [Line(n, "A", D(q), D(p), D(tax), source=(moved, n))
                         for n, (q, p) in enumerate(lines, 1)])


def left_on(acc: Accounting, kind: str) -> tuple[Decimal, Decimal]:
    """The receivable (debit positive) or payable (credit positive) account in the book
    currency and in the documents' currency, once everything is vouchered."""
    acc.generate_vouchers()
    account = ACCOUNT[kind]
    lines = [x for v in acc.vouchers() for x in v.lines if x.account == account]
    book = acc.account_balance(account)
    assert book == sum((x.debit - x.credit for x in lines), ZERO)
    foreign = sum((x.amount for x in lines), ZERO)
    return (book, foreign) if kind == "receivable" else (-book, -foreign)


def check_books(acc: Accounting) -> None:
    acc.generate_vouchers()
    for v in acc.vouchers():
        assert v.debit == v.credit, v
    trial = acc.trial_balance()
    assert sum((r.debit for r in trial), ZERO) == sum((r.credit for r in trial), ZERO)


# -- the worked examples ------------------------------------------------------------------------

def test_a_usd_receivable_received_in_three_parts_ends_at_zero_on_1122(
        books: MakeBooks) -> None:
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D("7.1234"),
                                dt.date(2026, 11, 20): D("7.20")}))
    inv = invoice(docs, "receivable", [(1, "33.33")], "USD")
    assert [(i.doc_id, i.amount, i.rate) for i in acc.open_items("receivable")] == [
        (inv, D("37.66"), D("7.1234"))]
    made = acc.generate_vouchers()
    assert [(x.account, x.debit) for x in made[-1].lines if x.account == "1122"] == [
        ("1122", D("268.27"))]  # 37.66 x 7.1234 = 268.267
    rows = [acc.settle("receivable", "P", D(a), date=PAID, currency="USD")
            for a in ("10.00", "10.00", "17.66")]
    assert acc.open_items("receivable") == []
    # the first two clear 10.00 x 7.1234 = 71.234 -> 71.23 each, as converted; the last
    # clears the 268.27 - 142.46 = 125.81 left (17.66 x 7.1234 = 125.80 would leave 0.01)
    assert [[r.book_amount for r in rs if r.role == "receivable"] for rs in rows] == [
        [""], [""], ["125.81"]]
    settled = acc.generate_vouchers()
    assert [[(x.account, x.debit, x.credit, x.amount) for x in v.lines] for v in settled] == [
        [("1122", D("0.00"), D("71.23"), D("-10.00")),
         ("1002", D("72.00"), D("0.00"), D("10.00")),
         ("6603", D("0.00"), D("0.77"), D("-0.77"))],
        [("1122", D("0.00"), D("71.23"), D("-10.00")),
         ("1002", D("72.00"), D("0.00"), D("10.00")),
         ("6603", D("0.00"), D("0.77"), D("-0.77"))],
        # the bank on the settlement's rate, 17.66 x 7.20 = 127.152 -> 127.15: gain 1.34
        [("1122", D("0.00"), D("125.81"), D("-17.66")),
         ("1002", D("127.15"), D("0.00"), D("17.66")),
         ("6603", D("0.00"), D("1.34"), D("-1.34"))]]
    assert left_on(acc, "receivable") == (ZERO, ZERO)
    # the bank got 72.00 + 72.00 + 127.15 = 271.15 for 268.27 booked: a gain of 2.88 on 6603
    # (beside the 0.01 of the invoice's own conversion rounding: 268.27 = 237.42 + 30.84
    # + 0.01)
    assert acc.account_balance("1002") == D("271.15")
    assert acc.account_balance("6603") == D("-2.89")
    check_books(acc)


def test_a_usd_payable_paid_in_three_parts_ends_at_zero_on_2202(books: MakeBooks) -> None:
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D("7.1234"),
                                dt.date(2026, 11, 20): D("7.20")}))
    invoice(docs, "payable", [(1, "33.33")], "USD")
    for a in ("10.00", "10.00", "17.66"):
        acc.settle("payable", "P", D(a), date=PAID, currency="USD")
    assert acc.open_items("payable") == []
    last = acc.generate_vouchers()[-1]
    # paid 127.15 for a debt booked 125.81: a loss of 1.34
    assert [(x.account, x.debit, x.credit) for x in last.lines] == [
        ("2202", D("125.81"), D("0.00")), ("1002", D("0.00"), D("127.15")),
        ("6603", D("1.34"), D("0.00"))]
    assert left_on(acc, "payable") == (ZERO, ZERO)
    check_books(acc)


def test_one_settlement_clearing_several_items_clears_each_ones_book_amount_left(
        books: MakeBooks) -> None:
    """Two invoices part-settled on their own, then one receipt that clears the rest of both
    and a part of a third."""
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D("7.1234"),
                                dt.date(2026, 11, 20): D("7.20")}))
    first = invoice(docs, "receivable", [(1, "33.33")], "USD")  # 37.66 -> 268.27
    # two lines, two receivable rows: 11.29 x 7.1234 = 80.423 -> 80.42, 0.01 -> 0.07: 80.49
    second = invoice(docs, "receivable", [(3, "3.33"), (1, "0.01")], "USD")
    third = invoice(docs, "receivable", [(1, "10.00")], "USD")  # 11.30
    acc.settle("receivable", "P", D("10.00"), date=PAID, currency="USD", invoices=[first])
    acc.settle("receivable", "P", D("10.00"), date=PAID, currency="USD", invoices=[first])
    acc.settle("receivable", "P", D("5.00"), date=PAID, currency="USD", invoices=[second])
    rows = acc.settle("receivable", "P", D("30.00"), date=PAID, currency="USD")
    assert [(r.ref, r.credit, r.book_amount) for r in rows if r.role == "receivable"] == [
        # 268.27 - 2 x 71.23 = 125.81 (17.66 -> 125.80); 80.49 - 35.62 (5.00) = 44.87 (6.30
        # -> 44.88); the third only in part: converted, 6.04 x 7.1234 = 43.025 -> 43.03
        (first, D("17.66"), "125.81"), (second, D("6.30"), "44.87"), (third, D("6.04"), "")]
    assert [i.doc_id for i in acc.open_items("receivable")] == [third]
    acc.settle("receivable", "P", D("5.26"), date=PAID, currency="USD")
    assert left_on(acc, "receivable") == (ZERO, ZERO)
    check_books(acc)


def test_a_book_currency_item_settled_in_parts_is_unchanged(books: MakeBooks) -> None:
    """In the book currency every part is its own book amount: no ``book_amount`` written."""
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D(1)}))
    invoice(docs, "payable", [(3, "3.33")], "CNY")  # 9.99 + 1.30 = 11.29
    for a in ("3.00", "3.00", "5.29"):
        rows = acc.settle("payable", "P", D(a), date=PAID)
        assert all(not r.book_amount for r in rows)
    assert left_on(acc, "payable") == (ZERO, ZERO)
    check_books(acc)


def test_a_repeated_settlement_returns_the_book_amount_it_cleared(books: MakeBooks) -> None:
    """With an idempotency key the repeated call returns the first result, ``book_amount``
    included, and writes nothing more."""
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D("7.1234"),
                                dt.date(2026, 11, 20): D("7.20")}))
    invoice(docs, "payable", [(1, "33.33")], "USD")
    acc.settle("payable", "P", D("10.00"), date=PAID, currency="USD")
    first = acc.settle("payable", "P", D("27.66"), date=PAID, currency="USD",
                       idempotency_key="bank-7788")
    again = acc.settle("payable", "P", D("27.66"), date=PAID, currency="USD",
                       idempotency_key="bank-7788")
    # 268.27 - 71.23 = 197.04 left; 27.66 x 7.1234 = 197.033 -> 197.03
    assert first == again and first[0].book_amount == "197.04"
    assert left_on(acc, "payable") == (ZERO, ZERO)
    check_books(acc)


@pytest.mark.parametrize("kind", sorted(ACCOUNT))
def test_one_settlement_of_two_invoices_balances_on_the_bank_rounded_once(
        books: MakeBooks, kind: str) -> None:
    """Two invoices of 10.02 USD at 6.1251 (61.373502 -> 61.37 each) settled by one 20.04 USD
    at 7.75: the bank is 20.04 x 7.75 = 155.31, so the exchange difference is
    155.31 - 122.74 = 32.57. Reckoned invoice by invoice (10.02 x 7.75 = 77.655 -> 77.66,
    twice) it was 32.58, a cent beyond what the voucher can close as conversion rounding:
    ``unbalanced_voucher``, and no voucher could be made any more."""
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D("6.1251"),
                                dt.date(2026, 11, 20): D("7.75")}))
    for _ in range(2):
        invoice(docs, kind, [(1, "10.02")], "USD", "0")
    acc.settle(kind, "P", D("20.04"), date=PAID, currency="USD")
    v = acc.generate_vouchers()[-1]
    gained = kind == "receivable"  # the rate rose: a gain on receivables, a loss on payables
    assert sorted((x.account, x.debit + x.credit) for x in v.lines) == [
        ("1002", D("155.31")), (ACCOUNT[kind], D("61.37")), (ACCOUNT[kind], D("61.37")),
        ("6603", D("32.57"))]
    assert acc.account_balance("6603") == (D("-32.57") if gained else D("32.57"))
    assert not any(x.memo == "rounding of conversion" for x in v.lines)
    assert left_on(acc, kind) == (ZERO, ZERO)
    check_books(acc)


def test_a_last_part_may_clear_a_negative_book_amount(books: MakeBooks) -> None:
    """At a rate below 1, parts of one minor unit round up: 0.05 EUR at 0.5 booked 0.025 ->
    0.03 CNY, and four parts of 0.01 EUR clear 0.005 -> 0.01 each, 0.04. The fifth clears
    what is left, -0.01: a negative (red) amount on its side, and 1122 ends at 0.00."""
    _, docs, acc = books(Rates({dt.date(2026, 11, 1): D("0.5")}))
    invoice(docs, "receivable", [(1, "0.05")], "EUR", "0")
    for _ in range(5):
        rows = acc.settle("receivable", "P", D("0.01"), date=PAID, currency="EUR")
    assert rows[0].book_amount == "-0.01"
    last = acc.generate_vouchers()[-1]
    assert [(x.account, x.debit, x.credit) for x in last.lines] == [
        ("1122", D("0.00"), D("-0.01")), ("1002", D("0.01"), D("0.00")),
        ("6603", D("0.00"), D("0.02"))]
    assert left_on(acc, "receivable") == (ZERO, ZERO)
    check_books(acc)


# -- the property -------------------------------------------------------------------------------

#: (book currency, digits, documents' currency, its digits, a rate strategy)
CURRENCIES: tuple[tuple[str, int, str, int, st.SearchStrategy[Decimal]], ...] = (
    ("CNY", 2, "USD", 2, st.integers(60_000, 80_000).map(lambda n: D(n).scaleb(-4))),
    ("CNY", 2, "JPY", 0, st.integers(400, 600).map(lambda n: D(n).scaleb(-4))),
    ("JPY", 0, "USD", 2, st.integers(14_000, 16_000).map(lambda n: D(n).scaleb(-2))),
    ("CNY", 2, "BHD", 3, st.integers(180_000, 200_000).map(lambda n: D(n).scaleb(-4))),
    ("CNY", 2, "BHD", 3, st.just(D(1))),
    ("CNY", 2, "EUR", 2, st.integers(1, 30_000).map(lambda n: D(n).scaleb(-4))),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_any_split_of_foreign_items_leaves_the_account_at_zero(
        data: st.DataObject) -> None:
    book_currency, digits, currency, cur_digits, rate_st = data.draw(
        st.sampled_from(CURRENCIES))
    kind = data.draw(st.sampled_from(sorted(ACCOUNT)))
    n_parts = data.draw(st.integers(1, 6))
    days = [PAID + dt.timedelta(days=k) for k in range(n_parts)]
    rates = Rates({INVOICED: data.draw(rate_st), **{d: data.draw(rate_st) for d in days}})
    storage = MemoryStorage()
    _, docs, acc = _make(storage, rates, book_currency, digits)
    price = st.integers(1, 99_999).map(lambda n: str(D(n).scaleb(-cur_digits)))
    for _ in range(data.draw(st.integers(1, 2))):
        lines = data.draw(st.lists(st.tuples(st.integers(1, 5), price), min_size=1,
                                   max_size=3))
        invoice(docs, kind, lines, currency, data.draw(st.sampled_from(["0", "0.13", "0.09"])))
    total = sum((i.open for i in acc.open_items(kind)), ZERO)
    units = int(total.scaleb(cur_digits))
    cuts = sorted(data.draw(st.lists(st.integers(1, units - 1), max_size=n_parts - 1,
                                     unique=True)) if units > 1 else [])
    bounds = [0, *cuts, units]
    for day, (a, b) in zip(days, pairwise(bounds), strict=False):
        acc.settle(kind, "P", D(b - a).scaleb(-cur_digits), date=day, currency=currency)
    assert acc.open_items(kind) == []
    assert left_on(acc, kind) == (ZERO, ZERO)
    check_books(acc)
    storage.close()

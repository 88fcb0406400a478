"""GRNI (暂估应付, 2202.02) of a foreign-currency receipt ends at exactly zero, to the cent.

A receipt in a foreign currency credits GRNI its net at the receipt's rate, converted once:
30.00 USD x 7.1234 = 213.702 -> 213.70 CNY. Its invoices and returns clear slices of it, exact
in USD; converted one by one they would clear 3 x round(10.00 x 7.1234) = 3 x 71.23 = 213.69
and leave -0.01 on 2202.02 of a receipt fully invoiced. The slice that clears the last of a
receipt line's GRNI in its currency clears the book amount left (71.24); the difference to the
invoice's (or return's) own book amount goes where every other GRNI difference goes: the
receipt's cost (stock or COGS, material variance under standard cost) for an invoice, the
price difference for a return (docs/tax-and-currency.md, "GRNI to the cent").

Checked after every flow: 2202.02 is 0 in the book currency (trial balance and
``account_balance``) and 0 in the receipt's currency (the vouchers' original amounts), every
voucher balances, and 1405 equals the stock valuation. The worked example and the scenario
table run on the memory and the SQLite adapter, the property on memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jxc_core.accounting import build_voucher, chinese_mapping
from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Document, Line, User
from jxc_core.documents.codec import document_from_data, document_to_data
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.currency_support import Books, MakeBooks, MinuteClock

D = Decimal
ZERO = D(0)
BOSS = User("boss", frozenset({"all"}))
RECEIVED = dt.date(2026, 11, 2)
INVOICED = dt.date(2026, 11, 6)
GRNI = "2202.02"


class Rates:
    """One rate for the receipts (up to 11-05) and one for the invoices (from 11-06)."""

    def __init__(self, at_receipt: Decimal, at_invoice: Decimal | None = None) -> None:
        self.table = {RECEIVED: at_receipt, INVOICED: at_invoice or at_receipt}

    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        return self.table[max(d for d in self.table if d <= on)]


Clock = MinuteClock


def _make(storage: MemoryStorage | SqliteStorage, rates: Rates, book_currency: str = "CNY",
          currency_digits: int = 2) -> Books:
    j = Jxc(storage, clock=Clock(), rates=rates, book_currency=book_currency,
            currency_digits=currency_digits)
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("A", "tea"))  # FIFO
    j.define_item(Item("B", "cup", costing_method="moving_average"))
    j.define_item(Item("S", "pot", costing_method="standard", standard_cost=D("70")))
    j.define_party(Party("US", "Boston Tea Co.", "both"))
    return j, Documents(j), Accounting(j)


@pytest.fixture(params=["memory", "sqlite"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeBooks]:
    """``books(rates, book_currency="CNY", currency_digits=2)`` over either adapter."""
    opened: list[MemoryStorage | SqliteStorage] = []

    def make(rates: Rates, book_currency: str = "CNY", currency_digits: int = 2) -> Books:
        storage: MemoryStorage | SqliteStorage = (
            MemoryStorage() if request.param == "memory"
            else SqliteStorage(str(tmp_path / f"g{len(opened)}.db")))
        opened.append(storage)
        return _make(storage, rates, book_currency, currency_digits)

    yield make
    for s in opened:
        s.close()


def run(docs: Documents, kind: str, lines: list[Line], currency: str,
        day: dt.date = RECEIVED) -> Document:
    doc = docs.create(kind, lines, party="US", date=day, currency=currency)
    return docs.approve_through(doc.doc_id, [BOSS])


def grni_left(acc: Accounting) -> tuple[Decimal, Decimal]:
    """GRNI (credit positive) in the book currency and in the documents' currency."""
    acc.generate_vouchers()
    lines = [x for v in acc.vouchers() for x in v.lines if x.account == GRNI]
    book = -acc.account_balance(GRNI)
    assert book == sum((x.credit - x.debit for x in lines), ZERO)
    return book, -sum((x.amount for x in lines), ZERO)


def check_books(j: Jxc, acc: Accounting, items: tuple[str, ...] = ("A",)) -> None:
    """Every voucher balances, so does the trial balance, and 1405 is the stock value."""
    acc.generate_vouchers()
    for v in acc.vouchers():
        assert v.debit == v.credit, v
    trial = acc.trial_balance()
    assert sum((r.debit for r in trial), ZERO) == sum((r.credit for r in trial), ZERO)
    stock = sum((j.balance(i, "W").value for i in items), ZERO)
    assert acc.account_balance("1405") == stock


# -- the worked example -----------------------------------------------------------------------

def test_three_one_unit_invoices_of_a_usd_receipt_clear_its_grni_to_the_cent(
        books: MakeBooks) -> None:
    j, docs, acc = books(Rates(D("7.1234")))
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(3), D("10.00"), warehouse="W")], "USD")
    invoices = [run(docs, "purchase_invoice",
                    [Line(1, "A", D(1), D("10.00"), source=(rk.doc_id, 1))], "USD")
                for _ in range(3)]
    made = acc.generate_vouchers()
    # receipt: 30.00 USD x 7.1234 = 213.702 -> 213.70 on both sides
    assert [(x.account, x.debit, x.credit, x.amount) for x in made[0].lines] == [
        ("1405", D("213.70"), D("0.00"), D("213.70")),
        (GRNI, D("0.00"), D("213.70"), D("-30.00"))]
    # the first two invoices clear 10.00 x 7.1234 = 71.234 -> 71.23 each
    for v in made[1:3]:
        assert [(x.account, x.debit, x.credit) for x in v.lines] == [
            (GRNI, D("71.23"), D("0.00")), ("2202", D("0.00"), D("71.23"))]
    # the last clears what is left, 213.70 - 142.46 = 71.24; its invoice is 71.23: the 0.01
    # comes off the receipt's cost (all 3 units still in stock)
    assert [(x.account, x.debit, x.credit, x.currency, x.amount, x.rate)
            for x in made[3].lines] == [
        (GRNI, D("71.24"), D("0.00"), "USD", D("10.00"), D("7.1234")),
        ("2202", D("0.00"), D("71.23"), "USD", D("-10.00"), D("7.1234")),
        ("1405", D("0.00"), D("0.01"), "CNY", D("-0.01"), D(1))]
    assert grni_left(acc) == (ZERO, ZERO)
    assert {r.account: r.balance for r in acc.trial_balance()} == {
        "1405": D("213.69"), GRNI: D("0.00"), "2202": D("-213.69")}
    assert j.balance("A", "W").value == D("213.69")
    check_books(j, acc)
    # the journal row says so; the receipt counts what its slices cleared in CNY
    last = [r for r in docs.journal(invoices[-1].doc_id) if r.role == "grni"]
    assert [(r.debit, r.book_amount) for r in last] == [(D("10.00"), "71.24")]
    assert docs.get(rk.doc_id).counter(1, "grni_book_cleared") == D("213.70")
    assert [docs.get(i.doc_id).counter(1, "grni_book") for i in invoices] == [
        D("71.23"), D("71.23"), D("71.24")]

    # 红冲 of the last invoice takes back exactly its 71.24 (and the 0.01)
    docs.cancel(invoices[-1].doc_id, BOSS)
    red = acc.generate_vouchers()[-1]
    assert red.red and red.debit == red.credit == D("-71.24")
    assert [(x.account, x.debit, x.credit) for x in red.lines] == [
        (GRNI, D("-71.24"), D("0.00")), ("2202", D("0.00"), D("-71.23")),
        ("1405", D("0.00"), D("-0.01"))]
    assert grni_left(acc) == (D("71.24"), D("10.00"))
    assert docs.get(rk.doc_id).counter(1, "grni_book_cleared") == D("142.46")
    check_books(j, acc)
    # cancelling one of the first two as well, then invoicing both units at once
    docs.cancel(invoices[0].doc_id, BOSS)
    assert grni_left(acc) == (D("142.47"), D("20.00"))
    again = run(docs, "purchase_invoice",
                [Line(1, "A", D(2), D("10.00"), source=(rk.doc_id, 1))], "USD")
    assert grni_left(acc) == (ZERO, ZERO)
    assert docs.get(again.doc_id).counter(1, "grni_book") == D("142.47")
    check_books(j, acc)


def test_book_currency_flows_keep_their_figures_and_counters(books: MakeBooks) -> None:
    """A CNY receipt: the slices are its own book amounts, exact already; nothing new is
    written (no ``book_amount`` on the rows, no book counters)."""
    j, docs, acc = books(Rates(D("7.1234")))
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(3), D("100.00") / 3, warehouse="W")],
             "CNY")
    assert rk.net_total == D("100.00")
    pr = run(docs, "purchase_return",
             [Line(1, "A", D(1), source=(rk.doc_id, 1), warehouse="W")], "CNY")
    iv = [run(docs, "purchase_invoice",
              [Line(1, "A", D(1), D("33.00"), source=(rk.doc_id, 1))], "CNY")
          for _ in range(2)]
    # 100.00 / 3 -> 33.33; 66.67 / 2 = 33.335 -> 33.34; the last takes the 33.33 left
    # (``invoiced_diff``: the invoice's net over the GRNI it cleared, in its currency)
    assert [docs.get(d.doc_id).counters[1] for d in (pr, *iv)] == [
        {"returned": D(1), "supplier_value": D("33.33"), "stock_value": D("33.33")},
        {"invoiced": D(1), "grni": D("33.34"), "invoiced_diff": D("-0.34")},
        {"invoiced": D(1), "grni": D("33.33"), "invoiced_diff": D("-0.33")}]
    assert "grni_book_cleared" not in docs.get(rk.doc_id).counters[1]
    assert not any("book_amount" in r.to_data() for r in docs.journal())
    assert grni_left(acc) == (ZERO, ZERO)
    check_books(j, acc)


def test_a_receipt_sliced_before_the_book_counters_keeps_rounding_each_slice(
        books: MakeBooks) -> None:
    """A receipt whose invoices were posted by a version without the book counters (stored
    counters without ``grni_book_cleared`` / ``grni_book``) cannot know the book amounts its
    slices cleared: its later slices round on their own, as before, and a reversal takes back
    the rounded slice. Once no slice of it is outstanding it counts again."""
    j, docs, acc = books(Rates(D("7.1234")))
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(3), D("10.00"), warehouse="W")], "USD")

    def invoice(q: int) -> Document:
        return run(docs, "purchase_invoice",
                   [Line(1, "A", D(q), D("10.00"), source=(rk.doc_id, 1))], "USD")

    first = invoice(1)
    with j.storage.unit_of_work() as uow:  # as the earlier version stored them
        for doc_id in (rk.doc_id, first.doc_id):
            found = uow.documents.get(doc_id)
            assert found is not None
            doc = document_from_data(found)
            for row in doc.counters.values():
                row.pop("grni_book_cleared", None)
                row.pop("grni_book", None)
            uow.documents.put(doc_id, doc.doc_type.value, doc.state.value,
                              document_to_data(doc, compact=True))
        uow.commit()
    rest = [invoice(1), invoice(1)]
    assert "grni_book_cleared" not in docs.get(rk.doc_id).counters[1]
    assert grni_left(acc) == (D("0.01"), ZERO)  # 213.70 - 3 x 71.23, as before
    check_books(j, acc)
    for doc in (first, *rest):
        docs.cancel(doc.doc_id, BOSS)
    assert grni_left(acc) == (D("213.70"), D("30.00"))
    invoice(2)
    invoice(1)
    assert grni_left(acc) == (ZERO, ZERO)
    assert docs.get(rk.doc_id).counter(1, "grni_book_cleared") == D("213.70")
    check_books(j, acc)


def test_build_voucher_takes_a_rows_book_amount_as_it_is() -> None:
    """A row with ``book_amount`` is not converted again; the others are, as before."""
    base = {"doc_type": "purchase_invoice", "doc_id": "F", "line_no": 1, "item": "A",
            "date": "2026-11-06", "rate": "7.1234"}
    rows = [{**base, "role": "grni", "debit": "10.00", "credit": "0", "currency": "USD",
             "book_amount": "71.24"},
            {**base, "role": "payable", "debit": "0", "credit": "10.00", "currency": "USD"},
            {**base, "role": "inventory", "debit": "0", "credit": "0.01", "currency": "CNY",
             "rate": "1"}]
    v = build_voucher(rows, chinese_mapping(), number="V")
    assert [(x.account, x.debit, x.credit, x.amount, x.rate) for x in v.lines] == [
        (GRNI, D("71.24"), D("0.00"), D("10.00"), D("7.1234")),
        ("2202", D("0.00"), D("71.23"), D("-10.00"), D("7.1234")),
        ("1405", D("0.00"), D("0.01"), D("-0.01"), D(1))]
    red = build_voucher([{**r, **{k: f"-{r[k]}" for k in ("debit", "credit", "book_amount")
                                  if r.get(k, "0") != "0"}} for r in rows],
                        chinese_mapping(), number="R")
    assert red.red and red.debit == red.credit == D("-71.24")
    assert [(x.debit, x.credit) for x in red.lines] == [
        (D("-71.24"), D("0.00")), (D("0.00"), D("-71.23")), (D("0.00"), D("-0.01"))]


# -- the scenario table -------------------------------------------------------------------------

#: (book currency, its digits, the documents' currency, rate at the receipt, rate at the
#: invoices, item, quantity received, unit price, the slices in order: ``i`` invoice, ``r``
#: return, with their quantities, ``x<n>`` cancels the n-th slice posted, 1-based)
SCENARIOS: dict[str, tuple[str, int, str, str, str, str, int, str, str]] = {
    # 30.00 USD -> 213.70; 3 x 71.23 = 213.69
    "usd-cny-3-invoices": ("CNY", 2, "USD", "7.1234", "7.1234", "A", 3, "10.00", "i1 i1 i1"),
    "usd-cny-return-invoice-return": ("CNY", 2, "USD", "7.1234", "7.1234", "A", 3, "10.00",
                                      "r1 i1 r1"),
    "usd-cny-3-returns": ("CNY", 2, "USD", "7.1234", "7.1234", "A", 3, "10.00", "r1 r1 r1"),
    # the rate moves before the invoices: the rate difference and the cent go to stock
    "usd-cny-rate-moves": ("CNY", 2, "USD", "7.1234", "7.2051", "A", 3, "10.00", "i1 i1 i1"),
    "usd-cny-moving-average": ("CNY", 2, "USD", "6.9995", "7.1003", "B", 7, "3.33",
                               "i2 r1 i2 r2"),
    "usd-cny-standard-cost": ("CNY", 2, "USD", "7.1234", "7.1234", "S", 3, "10.00",
                              "i1 i1 i1"),
    # 1000 JPY x 0.0478 = 47.80; 3 x 333 x 0.0478 = 3 x 15.92 = 47.76 (+1 JPY: 0.05)
    "jpy-cny": ("CNY", 2, "JPY", "0.0478", "0.0478", "A", 3, "333.34", "i1 i1 i1"),
    "jpy-cny-mixed": ("CNY", 2, "JPY", "0.0477", "0.0481", "A", 7, "333", "i2 r1 i3 r1"),
    # yen books: 31.05 USD x 151.37 = 4700.0385 -> 4700; 3 x 10.35 x 151.37 -> 3 x 1567
    "usd-jpy-books": ("JPY", 0, "USD", "151.37", "151.37", "A", 3, "10.35", "i1 i1 i1"),
    "usd-jpy-books-returns": ("JPY", 0, "USD", "151.37", "152.00", "A", 5, "10.35",
                              "r1 i2 r1 i1"),
    # three digits: 3.702 BHD x 19.1234 = 70.7948 -> 70.79; 1.234 x 19.1234 -> 3 x 23.60
    "bhd-cny": ("CNY", 2, "BHD", "19.1234", "19.1234", "A", 3, "1.234", "i1 i1 i1"),
    "bhd-cny-returns": ("CNY", 2, "BHD", "19.1234", "19.3001", "B", 6, "1.234",
                        "r1 i1 r2 i2"),
    # cancellations in between: the last slice, then an earlier one, posted again
    "usd-cny-cancel-last": ("CNY", 2, "USD", "7.1234", "7.1234", "A", 3, "10.00",
                            "i1 i1 i1 x3 i1"),
    "usd-cny-cancel-return": ("CNY", 2, "USD", "7.1234", "7.1234", "A", 3, "10.00",
                              "i1 r1 r1 x3 x1 r1 i1"),
    "jpy-cny-cancel-first": ("CNY", 2, "JPY", "0.0478", "0.0478", "A", 3, "333.34",
                             "i1 i1 i1 x1 i1"),
    # book currency: the last return takes exactly the GRNI left (0.01 for 2 units, the
    # invoice took 0.01 already; 0.005 rounded up again would leave -0.01)
    "cny-last-return": ("CNY", 2, "CNY", "1", "1", "A", 2, "0.005", "i1 r1"),
    # 5 x 0.001 USD = 0.01 USD (0.06 CNY); the invoice that clears the GRNI left costs 0.00, so
    # -0.06 is a receipt cost: the 3 units on hand give what they are worth, down to 0.00 (they
    # went to -0.02 before: a layer with units never goes below zero), the rest goes to COGS
    "usd-cny-negative-layer": ("CNY", 2, "USD", "6.0000", "6.0000", "A", 5, "0.001",
                               "i1 r2 i1 r1"),
}


def play(j: Jxc, docs: Documents, acc: Accounting, currency: str, item: str, qty: int,
         price: str, steps: str) -> Document:
    """Post the receipt and its slices; after each step the books still balance."""
    rk = run(docs, "purchase_receipt", [Line(1, item, D(qty), D(price), warehouse="W")],
             currency)
    posted: list[Document] = []
    for step in steps.split():
        if step[0] == "x":
            docs.cancel(posted[int(step[1:]) - 1].doc_id, BOSS)
        else:
            kind = "purchase_invoice" if step[0] == "i" else "purchase_return"
            line = Line(1, item, D(step[1:]), D(price) if kind == "purchase_invoice" else ZERO,
                        source=(rk.doc_id, 1), warehouse="" if step[0] == "i" else "W")
            posted.append(run(docs, kind, [line], currency, INVOICED))
        check_books(j, acc, (item,))
    return rk


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_grni_is_zero_once_the_receipt_is_invoiced_and_returned(books: MakeBooks,
                                                                name: str) -> None:
    book_currency, digits, currency, r1, r2, item, qty, price, steps = SCENARIOS[name]
    j, docs, acc = books(Rates(D(r1), D(r2)), book_currency, digits)
    rk = play(j, docs, acc, currency, item, qty, price, steps)
    done = docs.get(rk.doc_id)
    assert done.counter(1, "received") == done.counter(1, "returned") + done.counter(
        1, "invoiced")
    assert grni_left(acc) == (ZERO, ZERO)
    if currency != book_currency:  # every slice counted, none of them twice
        received = round(rk.net_total * D(r1), digits)
        assert done.counter(1, "grni_book_cleared") == received


# -- the property -------------------------------------------------------------------------------

#: (book currency, digits, documents' currency, a rate strategy)
CURRENCIES: tuple[tuple[str, int, str, st.SearchStrategy[Decimal]], ...] = (
    ("CNY", 2, "USD", st.integers(60_000, 80_000).map(lambda n: D(n).scaleb(-4))),
    ("CNY", 2, "JPY", st.integers(400, 600).map(lambda n: D(n).scaleb(-4))),
    ("JPY", 0, "USD", st.integers(14_000, 16_000).map(lambda n: D(n).scaleb(-2))),
    ("CNY", 2, "BHD", st.integers(180_000, 200_000).map(lambda n: D(n).scaleb(-4))),
    ("CNY", 2, "CNY", st.just(D(1))),
)


@st.composite
def flows(draw: st.DrawFn) -> dict[str, Any]:
    book_currency, digits, currency, rate_st = draw(st.sampled_from(CURRENCIES))
    cur_digits = {"JPY": 0, "BHD": 3}.get(currency, 2)
    qty = draw(st.integers(1, 9))
    price = D(draw(st.integers(1, 99_999))).scaleb(-cur_digits - draw(st.integers(0, 2)))
    left, steps = qty, []
    while left:
        q = draw(st.integers(1, left))
        steps.append(f"{draw(st.sampled_from('ir'))}{q}")
        left -= q
    cancels = draw(st.lists(st.integers(1, len(steps)), max_size=2, unique=True))
    for n in cancels:  # cancel a slice and post it again (the same quantity, as an invoice)
        steps += [f"x{n}", f"i{steps[n - 1][1:]}"]
    return {"book_currency": book_currency, "digits": digits, "currency": currency,
            "rates": (draw(rate_st), draw(rate_st)), "item": draw(st.sampled_from("ABS")),
            "qty": qty, "price": str(price), "steps": " ".join(steps)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow=flows())
@example(flow={"book_currency": "CNY", "digits": 2, "currency": "USD",  # a negative layer
               "rates": (D("6.0000"), D("6.0000")), "item": "A", "qty": 5, "price": "0.001",
               "steps": "i1 r2 i1 r1"})
def test_property_grni_ends_at_zero_in_both_currencies(flow: Mapping[str, Any]) -> None:
    storage = MemoryStorage()
    r1, r2 = flow["rates"]
    if flow["currency"] == flow["book_currency"]:
        r2 = r1
    j, docs, acc = _make(storage, Rates(r1, r2), flow["book_currency"], flow["digits"])
    play(j, docs, acc, flow["currency"], flow["item"], flow["qty"], flow["price"],
         flow["steps"])
    assert grni_left(acc) == (ZERO, ZERO)
    storage.close()


def test_a_slice_that_clears_nothing_in_the_book_currency_keeps_its_foreign_amount(
        books: MakeBooks) -> None:
    """8 @ 0.001 BHD at 18.0000: GRNI 0.008 BHD = 0.144 -> 0.14 CNY. Seven one-unit invoices
    clear 0.02 CNY each (0.018 rounded): the book GRNI is cleared after seven, and the eighth
    clears 0.00 CNY but 0.001 BHD. Its voucher keeps that line (0.00 / 0.00, 0.001 BHD), so the
    account ends at 0 in both currencies (the line was dropped: 0.001 BHD stayed)."""
    j, docs, acc = books(Rates(D("18.0000")))
    play(j, docs, acc, "BHD", "A", 8, "0.001", " ".join(["i1"] * 8))
    assert grni_left(acc) == (ZERO, ZERO)
    last = acc.vouchers()[-1]
    assert [(x.debit, x.credit, x.amount) for x in last.lines if x.account == GRNI] == [
        (D("0.00"), D("0.00"), D("0.001"))]


@pytest.mark.parametrize("price", ["9.00", "10.00", "11.50"])
def test_a_priced_return_of_the_last_open_units_clears_the_grni_left(books: MakeBooks,
                                                                      price: str) -> None:
    """Receive 10 @ 10.00 CNY, invoice 4, return the other 6 at the supplier's price: nothing
    is left to invoice, so the return clears the 60.00 of GRNI left whatever its price (at
    9.00 it cleared 54.00 and 6.00 stayed on 2202.02 for ever); the stock leaves at its cost,
    60.00, with no price difference."""
    j, docs, acc = books(Rates(D(1)))
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(10), D("10.00"), warehouse="W")], "CNY")
    run(docs, "purchase_invoice", [Line(1, "A", D(4), D("10.00"), source=(rk.doc_id, 1))],
        "CNY", INVOICED)
    back = run(docs, "purchase_return", [Line(1, "A", D(6), D(price), warehouse="W",
                                              source=(rk.doc_id, 1))], "CNY", INVOICED)
    assert back.counters[1]["supplier_value"] == D("60.00")
    assert grni_left(acc) == (ZERO, ZERO)
    assert acc.account_balance("6401") == ZERO
    check_books(j, acc)


def test_stock_of_a_negative_value_leaves_with_its_sign(books: MakeBooks) -> None:
    """The 3 units left of the negative-layer scenario were worth -0.02 (a negative receipt
    cost took them below zero); they stop at 0.00 now, the rest of that cost going to COGS. A
    delivery of all three costs 0.00, its customer return and the cancellations come back at
    0.00. 1405 equals the stock value after every step."""
    j, docs, acc = books(Rates(D("6.0000")))
    play(j, docs, acc, "USD", "A", 5, "0.001", "i1 r2 i1")
    assert (j.balance("A", "W").on_hand, j.balance("A", "W").value) == (D(3), ZERO)
    dl = run(docs, "delivery", [Line(1, "A", D(3), D("1.00"), warehouse="W")], "CNY",
             INVOICED)
    check_books(j, acc)
    assert dl.counters[1]["cost"] == ZERO
    assert j.balance("A", "W").value == ZERO
    back = run(docs, "sales_return", [Line(1, "A", D(3), D("1.00"), warehouse="W",
                                           source=(dl.doc_id, 1))], "CNY", INVOICED)
    check_books(j, acc)
    assert back.counters[1]["value"] == ZERO
    for doc in (back, dl):
        docs.cancel(doc.doc_id, BOSS)
        check_books(j, acc)
    assert (j.balance("A", "W").on_hand, j.balance("A", "W").value) == (D(3), ZERO)


def test_a_return_of_stock_of_a_negative_value_is_cancelled_at_zero(books: MakeBooks) -> None:
    """Cancelling the last return of the negative-layer scenario puts its unit back at 0.00
    (it took -0.01 out while the layer was below zero; the layer stops at 0.00 now, so the
    return takes 0.00). The books still hold: 1405 is the stock value."""
    j, docs, acc = books(Rates(D("6.0000")))
    play(j, docs, acc, "USD", "A", 5, "0.001", "i1 r2 i1 r1")
    before = j.balance("A", "W")
    assert (before.on_hand, before.value) == (D(2), ZERO)
    play_cancel = [e.entry for e in j.ledger("A", "W")][-1]
    assert (play_cancel.kind, play_cancel.value) == ("purchase_return", ZERO)
    docs.cancel(play_cancel.doc_id, BOSS)
    check_books(j, acc)
    after = j.balance("A", "W")
    assert (after.on_hand, after.value) == (D(3), ZERO)

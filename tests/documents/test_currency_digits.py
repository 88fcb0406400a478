"""A document's amounts at its own currency's digits, book amounts at the book currency's.

Worked examples (docs/tax-and-currency.md, "Digits of a document and of the books"):

* a USD purchase receipt, return and invoice and a USD sales invoice on JPY books
  (``currency_digits=0``): the documents keep their cents, stock values and vouchers are whole
  yen and balance;
* a JPY receipt and sales invoice on CNY books: whole yen on the documents, book amounts at
  2 digits;
* totals and approval thresholds in the document's currency at its digits;
* an unknown currency code is refused and writes nothing.

Each runs on the memory and the SQLite adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Document, Line, User, Workflow
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.currency_support import Books, MakeBooks, MinuteClock, TableRates

D = Decimal
BOSS = User("boss", frozenset({"cfo"}))
CLERK = User("clerk")
NOV = dt.date(2026, 11, 1)


class Rates(TableRates):
    """Book-currency units per unit of a currency, from a date on."""

    table: Mapping[tuple[str, str], Mapping[dt.date, Decimal]] = {
        ("USD", "JPY"): {NOV: D("151.37"), dt.date(2026, 11, 6): D("152.00")},
        ("JPY", "CNY"): {NOV: D("0.0478")},
        ("BHD", "CNY"): {NOV: D("19.1234")},
    }


Clock = MinuteClock


@pytest.fixture(params=["memory", "sqlite"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeBooks]:
    """``books(book_currency="CNY", currency_digits=2, **jxc_options)``: a service over the
    memory or the SQLite adapter, with items A (FIFO) and B (moving average), warehouse W and
    the parties US and JP (suppliers and customers)."""
    opened: list[MemoryStorage | SqliteStorage] = []

    def make(book_currency: str = "CNY", currency_digits: int = 2, *,
             workflows: Mapping[str, Workflow] | None = None, **options: Any) -> Books:
        storage: MemoryStorage | SqliteStorage = (
            MemoryStorage() if request.param == "memory"
            else SqliteStorage(str(tmp_path / f"books{len(opened)}.db")))
        opened.append(storage)
        j = Jxc(storage, clock=Clock(), rates=Rates(), book_currency=book_currency,
                currency_digits=currency_digits, **options)
        j.define_warehouse(Warehouse("W", "main"))
        j.define_item(Item("A", "tea"))
        j.define_item(Item("B", "cup", costing_method="moving_average"))
        j.define_party(Party("US", "Boston Tea Co.", "both"))
        j.define_party(Party("JP", "Kyoto Tea", "both"))
        return j, Documents(j, workflows=workflows), Accounting(j)

    yield make
    for s in opened:
        s.close()


def run(docs: Documents, kind: str, lines: list[Line], party: str, day: dt.date,
        currency: str) -> Document:
    doc = docs.create(kind, lines, party=party, date=day, currency=currency)
    return docs.approve_through(doc.doc_id, [BOSS])


def journal(docs: Documents, *ids: str) -> list[tuple[str, str, str, str, str, str]]:
    """(doc type, role, currency, debit, credit, rate) of the postings' rows, as texts."""
    return [(r.doc_type, r.role, r.currency, str(r.debit), str(r.credit), r.rate)
            for doc_id in ids for r in docs.journal(doc_id)]


def is_whole(x: Decimal) -> bool:
    return x.as_tuple().exponent == 0


# -- USD documents on JPY books (currency_digits=0) -------------------------------------------

#: the journal rows: party roles in USD with cents, stock roles in whole yen
USD_ON_JPY_JOURNAL = [
    # receipt 3 x 10.35 = 31.05 USD and 2 x 10.25 = 20.50 USD at 151.37:
    # 31.05 x 151.37 = 4700.0385 -> 4700 JPY; 20.50 x 151.37 = 3103.085 -> 3103 JPY
    ("purchase_receipt", "inventory", "JPY", "4700", "0", "1"),
    ("purchase_receipt", "grni", "USD", "0", "31.05", "151.37"),
    ("purchase_receipt", "inventory", "JPY", "3103", "0", "1"),
    ("purchase_receipt", "grni", "USD", "0", "20.50", "151.37"),
    # invoice of line 1 at 152.00, 13%: tax 31.05 x 0.13 = 4.0365 -> 4.04, gross 35.09;
    # price difference 31.05 x 152.00 = 4719.60 -> 4720 minus 4700 = 20 JPY to stock
    ("purchase_invoice", "grni", "USD", "31.05", "0", "151.37"),
    ("purchase_invoice", "input_tax", "USD", "4.04", "0", "152.00"),
    ("purchase_invoice", "payable", "USD", "0", "35.09", "152.00"),
    ("purchase_invoice", "inventory", "JPY", "20", "0", "1"),
    # return of 1 of the 2 B without a price: the receipt's 20.50 / 2 = 10.25 USD; stock
    # 3103 / 2 = 1551.5 -> 1552 JPY; 10.25 x 151.37 = 1551.5425 -> 1552: no price difference
    ("purchase_return", "grni", "USD", "10.25", "0", "151.37"),
    ("purchase_return", "inventory", "JPY", "0", "1552", "1"),
    # delivery of 1 A (a USD document, stock roles in yen): (4700 + 20) / 3 = 1573.33 -> 1573
    ("delivery", "cogs", "JPY", "1573", "0", "1"),
    ("delivery", "inventory", "JPY", "0", "1573", "1"),
    # sales invoice 1 x 19.99 USD, 13%: 2.5987 -> 2.60, gross 22.59
    ("sales_invoice", "receivable", "USD", "22.59", "0", "152.00"),
    ("sales_invoice", "revenue", "USD", "0", "19.99", "152.00"),
    ("sales_invoice", "output_tax", "USD", "0", "2.60", "152.00"),
]

#: the vouchers: (document type, account, debit, credit), whole yen
USD_ON_JPY_VOUCHERS = [
    ("purchase_receipt", "1405", "4700", "0"),
    ("purchase_receipt", "2202.02", "0", "4700"),
    ("purchase_receipt", "1405", "3103", "0"),
    ("purchase_receipt", "2202.02", "0", "3103"),
    ("purchase_invoice", "2202.02", "4700", "0"),
    ("purchase_invoice", "2221.01.01", "614", "0"),  # 4.04 x 152.00 = 614.08
    ("purchase_invoice", "2202", "0", "5334"),  # 35.09 x 152.00 = 5333.68
    ("purchase_invoice", "1405", "20", "0"),
    ("purchase_return", "2202.02", "1552", "0"),
    ("purchase_return", "1405", "0", "1552"),
    ("delivery", "6401", "1573", "0"),
    ("delivery", "1405", "0", "1573"),
    ("sales_invoice", "1122", "3434", "0"),  # 22.59 x 152.00 = 3433.68
    ("sales_invoice", "6001", "0", "3038"),  # 19.99 x 152.00 = 3038.48
    ("sales_invoice", "2221.01.02", "0", "395"),  # 2.60 x 152.00 = 395.20
    ("sales_invoice", "6603", "0", "1"),  # 3038 + 395 = 3433: conversion rounding
]


def test_usd_documents_on_jpy_books_keep_cents_and_book_whole_yen(books: MakeBooks) -> None:
    j, docs, acc = books("JPY", 0)
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(3), D("10.35"), warehouse="W"),
                                        Line(2, "B", D(2), D("10.25"), warehouse="W")],
             "US", dt.date(2026, 11, 2), "USD")
    assert (rk.digits, rk.net_total, rk.gross_total) == (2, D("51.55"), D("51.55"))
    assert (j.balance("A", "W").value, j.balance("B", "W").value) == (D(4700), D(3103))
    pf = run(docs, "purchase_invoice",
             [Line(1, "A", D(3), D("10.35"), D("0.13"), source=(rk.doc_id, 1))],
             "US", dt.date(2026, 11, 6), "USD")
    assert (pf.net_total, pf.tax_total, pf.gross_total) == (D("31.05"), D("4.04"), D("35.09"))
    th = run(docs, "purchase_return", [Line(1, "B", D(1), warehouse="W",
                                            source=(rk.doc_id, 2))],
             "US", dt.date(2026, 11, 6), "USD")
    ck = run(docs, "delivery", [Line(1, "A", D(1), D(20), warehouse="W")], "US",
             dt.date(2026, 11, 6), "USD")  # the invoice is made from it: in its currency
    xf = run(docs, "sales_invoice",
             [Line(1, "A", D(1), D("19.99"), D("0.13"), source=(ck.doc_id, 1))],
             "US", dt.date(2026, 11, 6), "USD")
    assert (xf.net_total, xf.tax_total, xf.gross_total) == (D("19.99"), D("2.60"), D("22.59"))
    assert journal(docs, *(d.doc_id for d in (rk, pf, th, ck, xf))) == USD_ON_JPY_JOURNAL
    vouchers = acc.generate_vouchers()
    assert [(v.doc_type, x.account, str(x.debit), str(x.credit))
            for v in vouchers for x in v.lines] == USD_ON_JPY_VOUCHERS
    for v in vouchers:
        assert v.debit == v.credit
        assert all(is_whole(x.debit) and is_whole(x.credit) for x in v.lines)
    stock = j.balance("A", "W").value + j.balance("B", "W").value
    assert stock == acc.account_balance("1405") == D(4698)  # 4700+20-1573 + 3103-1552
    # red entries keep the same digits: the books still agree with stock
    docs.cancel(xf.doc_id, BOSS)
    docs.cancel(th.doc_id, BOSS)
    assert journal(docs, f"{xf.doc_id}-R") == [
        ("sales_invoice", "receivable", "USD", "-22.59", "0", "152.00"),
        ("sales_invoice", "revenue", "USD", "0", "-19.99", "152.00"),
        ("sales_invoice", "output_tax", "USD", "0", "-2.60", "152.00")]
    red = acc.generate_vouchers()
    assert all(v.debit == v.credit for v in red)
    stock = j.balance("A", "W").value + j.balance("B", "W").value
    assert stock == acc.account_balance("1405") == D(6250)  # 4698 + 1552


# -- JPY documents on CNY books ----------------------------------------------------------------

JPY_ON_CNY_JOURNAL = [
    # 3 x 10.5 = 31.5 -> 32 JPY; 32 x 0.0478 = 1.5296 -> 1.53 CNY
    ("purchase_receipt", "inventory", "CNY", "1.53", "0", "1"),
    ("purchase_receipt", "grni", "JPY", "0", "32", "0.0478"),
    ("delivery", "cogs", "CNY", "1.53", "0", "1"),
    ("delivery", "inventory", "CNY", "0", "1.53", "1"),
    # 3 x 333.5 = 1000.5 -> 1001 JPY, tax 130.13 -> 130, gross 1131
    ("sales_invoice", "receivable", "JPY", "1131", "0", "0.0478"),
    ("sales_invoice", "revenue", "JPY", "0", "1001", "0.0478"),
    ("sales_invoice", "output_tax", "JPY", "0", "130", "0.0478"),
]

JPY_ON_CNY_VOUCHERS = [
    ("purchase_receipt", "1405", "1.53", "0.00"),
    ("purchase_receipt", "2202.02", "0.00", "1.53"),
    ("delivery", "6401", "1.53", "0.00"),
    ("delivery", "1405", "0.00", "1.53"),
    ("sales_invoice", "1122", "54.06", "0.00"),  # 1131 x 0.0478 = 54.0618
    ("sales_invoice", "6001", "0.00", "47.85"),  # 1001 x 0.0478 = 47.8478
    ("sales_invoice", "2221.01.02", "0.00", "6.21"),  # 130 x 0.0478 = 6.214
]


def test_jpy_documents_on_cny_books_are_whole_yen(books: MakeBooks) -> None:
    j, docs, acc = books()
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(3), D("10.5"), warehouse="W")], "JP",
             dt.date(2026, 11, 3), "JPY")
    assert rk.net_total == D(32)
    assert j.balance("A", "W").value == D("1.53")
    ck = run(docs, "delivery", [Line(1, "A", D(3), D(1), warehouse="W")], "JP",
             dt.date(2026, 11, 3), "JPY")  # the invoice is made from it: in its currency
    xf = run(docs, "sales_invoice",
             [Line(1, "A", D(3), D("333.5"), D("0.13"), source=(ck.doc_id, 1))],
             "JP", dt.date(2026, 11, 3), "JPY")
    assert (xf.net_total, xf.tax_total, xf.gross_total) == (D(1001), D(130), D(1131))
    assert journal(docs, rk.doc_id, ck.doc_id, xf.doc_id) == JPY_ON_CNY_JOURNAL
    vouchers = acc.generate_vouchers()
    assert [(v.doc_type, x.account, str(x.debit), str(x.credit))
            for v in vouchers for x in v.lines] == JPY_ON_CNY_VOUCHERS
    assert all(v.debit == v.credit for v in vouchers)
    assert acc.account_balance("1405") == j.balance("A", "W").value == D("0.00")
    [item] = acc.open_items("receivable", "JP")
    assert (item.currency, item.open) == ("JPY", D(1131))
    assert (rk.digits, xf.digits, ck.digits) == (0, 0, 0)


# -- totals and approval thresholds ------------------------------------------------------------

#: (book currency, currency_digits, digits_by_currency, document currency,
#:  line (quantity, price, tax rate, price includes tax), (net, tax, gross) of the document)
TOTALS = [
    ("JPY", 0, None, "USD", (1, "10.5", "0.13", False), ("10.50", "1.37", "11.87")),
    ("CNY", 2, None, "JPY", (3, "333.5", "0.13", False), ("1001", "130", "1131")),
    ("CNY", 2, None, "JPY", (1, "1000", "0.10", True), ("909", "91", "1000")),
    ("JPY", 0, None, "JPY", (1, "10.5", "0", False), ("11", "0", "11")),
    ("CNY", 2, None, "BHD", (1, "10.0005", "0", False), ("10.001", "0.000", "10.001")),
    # the book currency keeps the digits configured for it, not ISO's
    ("CNY", 0, None, "CNY", (1, "10.5", "0.13", False), ("11", "1", "12")),
    # babel (CLDR) gives HUF 0 digits; digits_by_currency may say otherwise
    ("CNY", 2, None, "HUF", (1, "10.5", "0.27", False), ("11", "3", "14")),
    ("CNY", 2, {"HUF": 2}, "HUF", (1, "10.5", "0.27", False), ("10.50", "2.84", "13.34")),
    # documents in the book currency: the same figures as ever
    ("CNY", 2, None, "CNY", (3, "33.33", "0.13", False), ("99.99", "13.00", "112.99")),
]


def _finance_only(min_amount: str) -> Workflow:
    return Workflow.from_data({"name": "big", "steps": [
        {"name": "finance", "role": "cfo", "min_amount": min_amount}]})


@pytest.mark.parametrize(("book", "digits", "by_currency", "currency", "line", "totals"), TOTALS)
def test_totals_and_approval_threshold_are_in_the_document_currency(
        books: MakeBooks, book: str, digits: int, by_currency: dict[str, int] | None,
        currency: str, line: tuple[int, str, str, bool], totals: tuple[str, str, str]) -> None:
    qty, price, rate, includes = line
    net, tax, gross = (D(x) for x in totals)
    one_more = gross + D(1).scaleb(gross.as_tuple().exponent)  # one minor unit above
    options = {} if by_currency is None else {"digits_by_currency": by_currency}
    _, docs, _ = books(book, digits, workflows={
        "purchase_order": _finance_only(str(gross)), "sales_order": _finance_only(str(one_more))},
        **options)
    made = []
    for kind in ("purchase_order", "sales_order"):
        doc = docs.create(kind, [Line(1, "A", D(qty), D(price), D(rate), includes,
                                      warehouse="W")], party="US", currency=currency)
        made.append(docs.submit(doc.doc_id, CLERK))
    po, so = made
    for doc in (po, so, docs.get(po.doc_id)):
        assert (doc.net_total, doc.tax_total, doc.gross_total) == (net, tax, gross)
        assert str(doc.gross_total) == str(gross)  # the digits too: 10.50, not 10.5
    # the step from `gross` up applies to the order of exactly `gross`; the one from a minor
    # unit more does not: the clerk may approve that one, only the cfo the other
    assert "approve" not in docs.available_actions(po.doc_id, CLERK)
    assert "approve" in docs.available_actions(so.doc_id, CLERK)
    assert docs.approve(po.doc_id, BOSS).approvals_done == ("finance",)


# -- unknown currencies and the digits option --------------------------------------------------

@pytest.mark.parametrize("code", ["usd", "RMB", "", "XYZ"])
def test_an_unknown_currency_is_refused_and_writes_nothing(books: MakeBooks,
                                                           code: str) -> None:
    j, docs, _ = books()
    with j.storage.unit_of_work() as uow:
        events = uow.outbox.pending()
    with pytest.raises(JxcError) as exc:
        docs.create("purchase_order", [Line(1, "A", D(1), D(1), warehouse="W")], party="US",
                    currency=code)
    assert exc.value.code == "unknown_currency" and exc.value.data == {"currency": code}
    assert exc.value.message("en").startswith(f"Unknown currency {code!r}: not an ISO 4217")
    assert exc.value.message("zh_CN").startswith(f"未知币种 {code!r}：不是 ISO 4217 币种代码")
    assert docs.ids() == []
    with j.storage.unit_of_work() as uow:
        assert uow.outbox.pending() == events
    # the number sequence was not used either
    doc = docs.create("purchase_order", [Line(1, "A", D(1), D(1), warehouse="W")], party="US",
                      currency="USD")
    assert doc.doc_id.endswith("-0001")


def test_digits_by_currency_declares_codes_and_is_checked(books: MakeBooks) -> None:
    _, docs, _ = books(digits_by_currency={"USDT": 6, "HUF": 2})
    doc = docs.create("purchase_order", [Line(1, "A", D(3), D("0.3333335"), warehouse="W")],
                      party="US", currency="USDT")
    assert (doc.digits, doc.gross_total) == (6, D("1.000001"))
    for bad, reason in [
            ({"CNY": 0}, "digits_by_currency gives CNY 0 digits, but the book currency has "
                         "currency_digits=2"),
            ({"HUF": -1}, "digits_by_currency: HUF needs an int from 0 to 7, got -1"),
            ({"HUF": True}, "digits_by_currency: HUF needs an int from 0 to 7, got True"),
            ({"HUF": 8}, "digits_by_currency: HUF needs an int from 0 to 7, got 8"),
            ({"": 2}, "digits_by_currency: bad code ''")]:
        with pytest.raises(JxcError) as exc:
            books(digits_by_currency=bad)
        assert exc.value.code == "configuration" and exc.value.data == {"reason": reason}
    j, _, _ = books("JPY", 0, digits_by_currency={"JPY": 0})  # the same digits: fine
    assert [j.digits_of(c) for c in ("JPY", "USD", "KRW", "BHD", "CLF")] == [0, 2, 0, 3, 4]


def test_a_document_stored_without_digits_takes_the_service_digits(books: MakeBooks) -> None:
    """Documents stored before they kept their digits read with the service's digits for
    their currency, and post with them."""
    from jxc_core.documents import document_to_data

    _, docs, _ = books("CNY", 0)
    doc = docs.create("purchase_order", [Line(1, "A", D(1), D("10.5"), warehouse="W")],
                      party="US", currency="CNY")
    assert (doc.digits, doc.gross_total) == (0, D(11))
    data = document_to_data(doc, compact=True)
    del data["digits"]
    with docs.jxc.storage.unit_of_work() as uow:
        uow.documents.put(doc.doc_id, doc.doc_type.value, doc.state.value, data)
        uow.commit()
    again = docs.get(doc.doc_id)
    assert (again.digits, again.gross_total) == (0, D(11))
    assert docs.approve_through(doc.doc_id, [BOSS]).digits == 0


# -- the pure model ----------------------------------------------------------------------------

def test_a_document_rounds_at_its_digits_else_its_currency() -> None:
    from jxc_core.documents import DocType, document_from_data, document_to_data
    from jxc_core.values import currency_minor_unit

    assert [currency_minor_unit(c) for c in ("CNY", "USD", "EUR", "JPY", "KRW", "BHD", "KWD")
            ] == [2, 2, 2, 0, 0, 3, 3]
    lines = (Line(1, "A", D(1), D("10.5"), D("0.13")), Line(2, "A", D(3), D("0.3335")))
    cases = [("CNY", None, "12.87"), ("JPY", None, "13"), ("BHD", None, "12.866"),
             ("CNY", 0, "13"), ("JPY", 2, "12.87")]
    for currency, digits, gross in cases:
        doc = Document(DocType.SALES_INVOICE, "X", currency=currency, lines=lines,
                       digits=digits)
        assert str(doc.gross_total) == gross, (currency, digits)
        data = document_to_data(doc)
        assert data["digits"] == digits and document_from_data(data) == doc
    with pytest.raises(JxcError) as exc:
        _ = Document(DocType.SALES_INVOICE, "X", currency="RMB", lines=lines).gross_total
    assert exc.value.code == "unknown_currency"

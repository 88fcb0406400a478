"""Which currency a document may be in, and what its amounts are worth in the book currency.

Rules (docs/tax-and-currency.md, "Which currency a document is in"):

* a document created without ``currency=`` is in the service's book currency;
* a document made from a source line (a receipt from its order, a return or an invoice from
  its receipt or delivery, a delivery from its sales order) is in its source's currency, else
  ``currency_mismatch`` — when it is created, and again when it is posted;
* internal stock documents (adjustment, stock count, transfer) have no counterparty: they are
  in the book currency, else ``book_currency_required``;
* the "value" basis of a landed cost weighs receipt lines by their book-currency values;
* ``Jxc(book_currency=...)`` must be a currency the service knows (``unknown_currency``).

A refusal writes nothing: no document, no number, no event, no stock, no journal row.
Each test runs on the memory and the SQLite adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Document, Line, User, document_to_data
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, ReplenishmentRule, Warehouse
from tests.currency_support import Books, MakeBooks, MinuteClock, TableRates

D = Decimal
BOSS = User("boss", frozenset({"cfo"}))
NOV = dt.date(2026, 11, 1)
DAY = dt.date(2026, 11, 3)


class Rates(TableRates):
    """Book-currency units per unit of a currency, from a date on."""

    table: Mapping[tuple[str, str], Mapping[dt.date, Decimal]] = {
        ("USD", "CNY"): {NOV: D("7.10"), dt.date(2026, 11, 10): D("7.20")},
        ("USD", "JPY"): {NOV: D("151.37")},
        ("JPY", "CNY"): {NOV: D("0.0478")},
    }


Clock = MinuteClock


@pytest.fixture(params=["memory", "sqlite"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeBooks]:
    """``books(book_currency="CNY", currency_digits=2)``: a service over the memory or the
    SQLite adapter, with items A (FIFO) and B (moving average), warehouses W and V, the party
    US (supplier and customer)."""
    opened: list[MemoryStorage | SqliteStorage] = []

    def make(book_currency: str = "CNY", currency_digits: int = 2) -> Books:
        storage: MemoryStorage | SqliteStorage = (
            MemoryStorage() if request.param == "memory"
            else SqliteStorage(str(tmp_path / f"books{len(opened)}.db")))
        opened.append(storage)
        j = Jxc(storage, clock=Clock(), rates=Rates(), book_currency=book_currency,
                currency_digits=currency_digits)
        j.define_warehouse(Warehouse("W", "main"))
        j.define_warehouse(Warehouse("V", "second"))
        j.define_item(Item("A", "tea"))
        j.define_item(Item("B", "cup", costing_method="moving_average"))
        j.define_party(Party("US", "Boston Tea Co.", "both"))
        return j, Documents(j), Accounting(j)

    yield make
    for s in opened:
        s.close()


def run(docs: Documents, kind: str, lines: list[Line], *, party: str = "US",
        day: dt.date = DAY, **kw: Any) -> Document:
    doc = docs.create(kind, lines, party=party, date=day, **kw)
    return docs.approve_through(doc.doc_id, [BOSS])


def state(j: Jxc, docs: Documents) -> dict[str, Any]:
    """Everything a refused command must leave as it was."""
    with j.storage.unit_of_work() as uow:
        events = uow.outbox.pending()
    ids = docs.ids()
    return {"ids": ids, "docs": [document_to_data(docs.get(i)) for i in ids],
            "journal": docs.journal(), "events": events, "balances": j.balances(),
            "ledger": [x.entry for i in ("A", "B") for x in j.ledger(i)]}


# -- 1. the default currency is the book currency ---------------------------------------------

#: (book currency, its digits, line (quantity, price), currency and digits of the document
#:  made without currency=, its net, the stock value once posted)
DEFAULT_CURRENCY = [
    ("JPY", 0, (3, "10.5"), "JPY", 0, "32", "32"),  # 31.5 -> 32 yen, no rate needed
    ("CNY", 2, (3, "10.005"), "CNY", 2, "30.02", "30.02"),  # 30.015 -> 30.02: as ever
    ("USD", 2, (3, "10.005"), "USD", 2, "30.02", "30.02"),
    ("CNY", 0, (3, "10.5"), "CNY", 0, "32", "32"),  # the book's digits win over ISO's
]


@pytest.mark.parametrize(("book", "digits", "line", "currency", "doc_digits", "net", "value"),
                         DEFAULT_CURRENCY)
def test_a_document_made_without_a_currency_is_in_the_book_currency(
        books: MakeBooks, book: str, digits: int, line: tuple[int, str], currency: str,
        doc_digits: int, net: str, value: str) -> None:
    j, docs, _ = books(book, digits)
    qty, price = line
    rk = run(docs, "purchase_receipt", [Line(1, "A", D(qty), D(price), warehouse="W")])
    assert (rk.currency, rk.digits, rk.net_total) == (currency, doc_digits, D(net))
    assert str(rk.net_total) == net and rk.attributes["rate"] == "1"
    assert j.balance("A", "W").value == D(value)
    assert {r.currency for r in docs.journal(rk.doc_id)} == {currency}
    # a currency given is kept
    usd = docs.create("purchase_order", [Line(1, "A", D(1), D("1.25"), warehouse="W")],
                      party="US", currency="USD")
    assert (usd.currency, usd.digits, usd.net_total) == ("USD", 2, D("1.25"))
    # so are the purchase orders drafted from suggestions
    j.define_party(Party("S2", "Osaka Cups", "supplier"))
    rule = ReplenishmentRule("B", "W", reorder_point=D(5), max_stock=D(10), supplier="S2",
                             price=D("2.5"))
    [po] = docs.draft_purchase_orders(docs.suggest_purchases([rule]))
    assert (po.currency, po.digits) == (currency, doc_digits)


# -- 2. a document made from a source is in the source's currency ----------------------------

#: (source kind, source currency, made kind, made currency) on CNY books
MISMATCHES = [
    ("purchase_order", "USD", "purchase_receipt", "CNY"),
    ("purchase_order", "CNY", "purchase_receipt", "USD"),
    ("purchase_receipt", "USD", "purchase_return", "CNY"),
    ("purchase_receipt", "USD", "purchase_invoice", "CNY"),
    ("purchase_receipt", "CNY", "purchase_invoice", "USD"),
    ("purchase_receipt", "USD", "purchase_invoice", "JPY"),
    ("sales_order", "USD", "delivery", "CNY"),
    ("delivery", "CNY", "sales_return", "USD"),
    ("delivery", "CNY", "sales_invoice", "USD"),
    ("delivery", "USD", "sales_invoice", "JPY"),
]


def _source(docs: Documents, kind: str, currency: str) -> Document:
    """A posted source of ``kind`` in ``currency``: 4 A in W (the stock comes first)."""
    if kind in ("delivery", "sales_order"):
        run(docs, "purchase_receipt", [Line(1, "A", D(10), D("5.00"), warehouse="W")])
    return run(docs, kind, [Line(1, "A", D(4), D("10.00"), warehouse="W")],
               currency=currency)


@pytest.mark.parametrize(("src_kind", "src_currency", "kind", "currency"), MISMATCHES)
def test_a_document_in_another_currency_than_its_source_is_refused(
        books: MakeBooks, src_kind: str, src_currency: str, kind: str, currency: str) -> None:
    j, docs, _ = books()
    src = _source(docs, src_kind, src_currency)
    warehouse = "" if kind.endswith("invoice") else "W"
    line = Line(1, "A", D(2), D("10.00"), warehouse=warehouse, source=(src.doc_id, 1))
    before = state(j, docs)
    with pytest.raises(JxcError) as exc:
        docs.create(kind, [line], party="US", date=DAY, currency=currency)
    assert exc.value.code == "currency_mismatch"
    assert exc.value.data == {"doc": "", "line": 1, "source": src.doc_id, "currency": currency,
                              "source_currency": src_currency}
    assert exc.value.message() == (
        f"Line 1 is in {currency}, but its source {src.doc_id} is in {src_currency}: a "
        "document made from another is in the source's currency")
    assert exc.value.message("zh_CN") == (
        f"第 1 行的币种为 {currency}，但其来源单据 {src.doc_id} 的币种为 {src_currency}："
        "依来源生成的单据须与来源单据币种相同")
    assert state(j, docs) == before
    # in the source's currency it is fine, and it takes the number nobody used
    made = run(docs, kind, [line], currency=src_currency)
    assert made.currency == src_currency and made.doc_id.endswith("-0001")


@pytest.mark.parametrize(("src_kind", "src_currency", "kind", "currency"), MISMATCHES[::3])
def test_a_stored_draft_in_another_currency_than_its_source_is_not_posted(
        books: MakeBooks, src_kind: str, src_currency: str, kind: str, currency: str) -> None:
    """A draft stored before the rule (or written by another program) is refused when it is
    posted: its party amounts would be booked in the wrong currency."""
    j, docs, _ = books()
    src = _source(docs, src_kind, src_currency)
    warehouse = "" if kind.endswith("invoice") else "W"
    line = Line(1, "A", D(2), D("10.00"), warehouse=warehouse, source=(src.doc_id, 1))
    draft = docs.create(kind, [line], party="US", date=DAY, currency=src_currency)
    data = document_to_data(draft, compact=True)
    data["currency"] = currency
    with j.storage.unit_of_work() as uow:
        uow.documents.put(draft.doc_id, draft.doc_type.value, draft.state.value, data)
        uow.commit()
    docs.submit(draft.doc_id, BOSS)
    docs.approve(draft.doc_id, BOSS)
    before = state(j, docs)
    with pytest.raises(JxcError) as exc:
        docs.post(draft.doc_id, BOSS)
    assert exc.value.code == "currency_mismatch"
    assert exc.value.data == {"doc": draft.doc_id, "line": 1, "source": src.doc_id,
                              "currency": currency, "source_currency": src_currency}
    assert state(j, docs) == before


# -- 3. internal stock documents are in the book currency -------------------------------------

def _internal(kind: str) -> Line:
    if kind == "transfer":
        return Line(1, "A", D(1), warehouse="W", to_warehouse="V")
    if kind == "stock_count":
        return Line(1, "A", D(0), warehouse="W")
    return Line(1, "A", D(2), D("10.00"), warehouse="W")  # an adjustment: 2 in at 10.00


#: (book currency, digits, document kind, document currency)
INTERNAL = [
    ("CNY", 2, "adjustment", "USD"),
    ("CNY", 2, "stock_count", "USD"),
    ("CNY", 2, "transfer", "USD"),
    ("JPY", 0, "adjustment", "CNY"),
    ("JPY", 0, "adjustment", "USD"),
    ("JPY", 0, "stock_count", "CNY"),
    ("JPY", 0, "transfer", "USD"),
]


@pytest.mark.parametrize(("book", "digits", "kind", "currency"), INTERNAL)
def test_an_internal_document_in_a_foreign_currency_is_refused(
        books: MakeBooks, book: str, digits: int, kind: str, currency: str) -> None:
    j, docs, _ = books(book, digits)
    run(docs, "adjustment", [Line(1, "A", D(5), D(100), warehouse="W")])  # 5 A at 100 each
    before = state(j, docs)
    with pytest.raises(JxcError) as exc:
        docs.create(kind, [_internal(kind)], date=DAY, currency=currency)
    assert exc.value.code == "book_currency_required"
    assert exc.value.data == {"doc": "", "doc_type": kind, "currency": currency,
                              "book_currency": book}
    assert exc.value.message() == (
        f"A document of type {kind} has no counterparty: it is kept in the book currency "
        f"{book}, not in {currency}")
    assert exc.value.message("zh_CN") == (
        f"{kind} 类单据没有往来单位，只能使用本位币 {book}，不能使用 {currency}")
    assert state(j, docs) == before
    # in the book currency it is fine
    made = docs.create(kind, [_internal(kind)], date=DAY, currency=book)
    docs.submit(made.doc_id, BOSS)
    if kind == "stock_count":
        docs.record_count(made.doc_id, {1: D(6)})  # one more than the books: a gain
    made = docs.approve_through(made.doc_id, [BOSS])
    assert made.currency == book and made.doc_id.endswith("-0002" if kind == "adjustment"
                                                           else "-0001")


def test_an_adjustment_prices_units_in_the_book_currency(books: MakeBooks) -> None:
    """The price of an adjustment line is a book-currency unit cost: 2 in at 10.5 on JPY
    books is 21 yen in stock and on the adjustment account."""
    j, docs, acc = books("JPY", 0)
    qt = run(docs, "adjustment", [Line(1, "A", D(2), D("10.5"), warehouse="W")])
    assert qt.currency == "JPY"
    assert j.balance("A", "W").value == D(21)
    assert [(r.role, r.currency, r.debit, r.credit) for r in docs.journal(qt.doc_id)] == [
        ("inventory", "JPY", D(21), D(0)), ("adjustment", "JPY", D(0), D(21))]
    assert all(v.debit == v.credit for v in acc.generate_vouchers())
    assert acc.account_balance("1405") == D(21)


def test_a_stored_foreign_adjustment_is_not_posted(books: MakeBooks) -> None:
    j, docs, _ = books()
    draft = docs.create("adjustment", [_internal("adjustment")], date=DAY)
    data = document_to_data(draft, compact=True)
    data["currency"] = "USD"
    with j.storage.unit_of_work() as uow:
        uow.documents.put(draft.doc_id, draft.doc_type.value, draft.state.value, data)
        uow.commit()
    docs.submit(draft.doc_id, BOSS)
    docs.approve(draft.doc_id, BOSS)
    before = state(j, docs)
    with pytest.raises(JxcError) as exc:
        docs.post(draft.doc_id, BOSS)
    assert exc.value.code == "book_currency_required"
    assert exc.value.data["doc"] == draft.doc_id
    assert state(j, docs) == before


# -- 4. the landed-cost "value" basis is in the book currency ---------------------------------

#: (book currency, digits, receipts [(currency, day, quantity, price)], the charge
#:  (currency, amount), the shares per receipt, in the book currency)
LANDED = [
    # 10 x 10.00 USD at 7.10 = 710.00 CNY and 10 x 71.00 CNY = 710.00: equal values, equal
    # shares (by the nets, 10.00 : 71.00 of 81.00 went to them)
    ("CNY", 2, [("USD", 3, 10, "10.00"), ("CNY", 3, 10, "71.00")], ("CNY", "81.00"),
     ["40.50", "40.50"]),
    # one currency, two rates: 100.00 USD at 7.10 = 710.00 and at 7.20 = 720.00
    ("CNY", 2, [("USD", 3, 1, "100.00"), ("USD", 10, 1, "100.00")], ("CNY", "143.00"),
     ["71.00", "72.00"]),
    # a USD charge too: 20.00 USD at 7.20 = 144.00 CNY over 710.00 : 1420.00
    ("CNY", 2, [("USD", 3, 1, "100.00"), ("CNY", 10, 2, "710.00")], ("USD", "20.00"),
     ["48.00", "96.00"]),
    # JPY books: 2 x 10.00 USD at 151.37 = 3027.40 -> 3027 yen, and 1 x 3027 yen
    ("JPY", 0, [("USD", 3, 2, "10.00"), ("JPY", 3, 1, "3027")], ("JPY", "1000"),
     ["500", "500"]),
    # JPY receipts on CNY books: 1000 yen at 0.0478 = 47.80 CNY, and 47.80 CNY
    ("CNY", 2, [("JPY", 3, 1, "1000"), ("CNY", 3, 1, "47.80")], ("CNY", "10.00"),
     ["5.00", "5.00"]),
    # receipts in the book currency: as ever, by their nets
    ("CNY", 2, [("CNY", 3, 1, "100.00"), ("CNY", 3, 3, "100.00")], ("CNY", "40.00"),
     ["10.00", "30.00"]),
]


@pytest.mark.parametrize(("book", "digits", "receipts", "charge", "shares"), LANDED)
def test_the_value_basis_of_a_landed_cost_is_in_the_book_currency(
        books: MakeBooks, book: str, digits: int, receipts: list[tuple[str, int, int, str]],
        charge: tuple[str, str], shares: list[str]) -> None:
    j, docs, acc = books(book, digits)
    made = [run(docs, "purchase_receipt", [Line(1, "A", D(q), D(p), warehouse="W")],
                day=dt.date(2026, 11, day), currency=c) for c, day, q, p in receipts]
    values = j.balance("A", "W").value
    currency, amount = charge
    fy = run(docs, "landed_cost", [Line(1, "freight", D(1), D(amount))],
             day=dt.date(2026, 11, 12), currency=currency,
             attributes={"receipts": [r.doc_id for r in made], "basis": "value"})
    assert [fy.attributes["shares"][f"{r.doc_id}/1"] for r in made] == shares
    assert j.balance("A", "W").value == values + sum((D(s) for s in shares), D(0))
    assert all(v.debit == v.credit for v in acc.generate_vouchers())
    assert acc.account_balance("1405") == j.balance("A", "W").value


# -- 6. the book currency is checked when the service is made --------------------------------

@pytest.mark.parametrize("code", ["RMB", "usd", "", "XYZ", None])
def test_an_unknown_book_currency_is_refused(code: Any) -> None:
    with pytest.raises(JxcError) as exc:
        Jxc(MemoryStorage(), book_currency=code)
    assert exc.value.code == "unknown_currency" and exc.value.data == {"currency": code}


@pytest.mark.parametrize(("code", "digits", "by_currency"), [
    ("CNY", 2, None), ("JPY", 0, None), ("EUR", 2, None), ("BHD", 3, None),
    ("RMB", 2, {"RMB": 2}),  # a code of one's own, declared with its digits
    ("USDT", 6, {"USDT": 6})])
def test_a_known_book_currency_is_accepted(code: str, digits: int,
                                           by_currency: dict[str, int] | None) -> None:
    j = Jxc(MemoryStorage(), book_currency=code, currency_digits=digits,
            digits_by_currency=by_currency)
    assert (j.book_currency, j.digits_of(code)) == (code, digits)

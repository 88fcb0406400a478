"""A settlement's currency and amount are checked like a document's: a code the service knows,
and no more decimals than that currency has. A refusal writes nothing (no journal row, no
settlement number, no event). On both adapters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
U = User("boss")
DAY = dt.date(2026, 11, 4)
PAID = dt.date(2026, 11, 25)


class Rates:
    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        return {("USD", "CNY"): D("7.10"), ("JPY", "CNY"): D("0.0478"),
                ("USD", "JPY"): D("151.37"), ("CNY", "JPY"): D("21.00")}[
                    (from_currency, to_currency)]


class Clock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 11, 3, 10)


World = tuple[Jxc, Documents, Accounting]


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., World]]:
    """``world(book_currency, currency_digits)``: a customer X with a sales invoice open in
    each of CNY, USD and JPY (in the book currency too)."""
    opened: list[MemoryStorage | SqliteStorage] = []

    def make(book: str = "CNY", digits: int = 2) -> World:
        storage: MemoryStorage | SqliteStorage = (
            MemoryStorage() if request.param == "memory"
            else SqliteStorage(str(tmp_path / f"s{len(opened)}.db")))
        opened.append(storage)
        j = Jxc(storage, clock=Clock(), rates=Rates(), book_currency=book,
                currency_digits=digits)
        j.define_item(Item("A", "tea"))
        j.define_warehouse(Warehouse("W", "main"))
        j.define_party(Party("X", "customer", "both"))
        docs = Documents(j)

        def post(kind: str, line: Line, currency: str) -> str:
            doc = docs.create(kind, [line], party="X", date=DAY, currency=currency)
            return docs.approve_through(doc.doc_id, [U]).doc_id

        post("purchase_receipt", Line(1, "A", D(30), D(1), warehouse="W"), book)
        for currency, price in (("CNY", "100.00"), ("USD", "100.00"), ("JPY", "10000")):
            ck = post("delivery", Line(1, "A", D(1), D(price), warehouse="W"), currency)
            post("sales_invoice", Line(1, "A", D(1), D(price), source=(ck, 1)), currency)
        return j, docs, Accounting(j)

    yield make
    for s in opened:
        s.close()


def written(j: Jxc, docs: Documents) -> tuple[Any, ...]:
    with j.storage.unit_of_work() as uow:
        events = uow.outbox.pending()
    return docs.journal(), events


#: (book currency, its digits, settlement currency (None: the book's), amount, the refusal)
REFUSED = [
    ("CNY", 2, "JPY", "10.5", ("invalid_amount_precision", "1")),  # no sen
    ("CNY", 2, "USD", "10.005", ("invalid_amount_precision", "0.01")),
    ("CNY", 2, None, "0.001", ("invalid_amount_precision", "0.01")),
    ("JPY", 0, None, "10.5", ("invalid_amount_precision", "1")),  # the book's own digits
    ("CNY", 0, "CNY", "10.5", ("invalid_amount_precision", "1")),  # currency_digits wins
    ("CNY", 2, "RMB", "10.00", ("unknown_currency", None)),
    ("CNY", 2, "usd", "10.00", ("unknown_currency", None)),
    ("CNY", 2, "", "10.00", ("unknown_currency", None)),
    ("JPY", 0, "XYZ", "10", ("unknown_currency", None)),
]


@pytest.mark.parametrize(("book", "digits", "currency", "amount", "refusal"), REFUSED)
def test_a_settlement_in_an_unknown_currency_or_finer_than_its_digits_is_refused(
        world: Callable[..., World], book: str, digits: int, currency: str | None,
        amount: str, refusal: tuple[str, str | None]) -> None:
    j, docs, acc = world(book, digits)
    before = written(j, docs)
    with pytest.raises(JxcError) as exc:
        acc.settle("receivable", "X", D(amount), date=PAID, currency=currency)
    code, quantum = refusal
    assert exc.value.code == code
    if quantum is None:
        assert exc.value.data == {"currency": currency}
    else:
        assert exc.value.data == {"field": "amount", "value": D(amount),
                                  "quantum": D(quantum), "currency": currency or book}
        assert exc.value.message() == (
            f"amount {amount} has more decimals than the currency's minor unit {quantum}")
    assert written(j, docs) == before
    # a settlement the service accepts takes the first number: the refusal used none
    rows = acc.settle("receivable", "X", D(1), date=PAID)
    assert rows[0].doc_id == "SK-20261125-0001" and rows[0].currency == book


#: an amount with trailing zeros is the same amount; it is booked at the currency's digits
ACCEPTED = [
    ("CNY", 2, "USD", "10.500", "10.50"),
    ("CNY", 2, "JPY", "1000.00", "1000"),
    ("CNY", 2, None, "10", "10.00"),
    ("JPY", 0, None, "10000", "10000"),
    ("JPY", 0, "USD", "20", "20.00"),
]


@pytest.mark.parametrize(("book", "digits", "currency", "amount", "booked"), ACCEPTED)
def test_a_settlement_is_booked_at_its_currency_digits(
        world: Callable[..., World], book: str, digits: int, currency: str | None,
        amount: str, booked: str) -> None:
    _, _, acc = world(book, digits)
    rows = acc.settle("receivable", "X", D(amount), date=PAID, currency=currency)
    bank = next(r for r in rows if r.role == "bank")
    assert str(bank.debit) == booked and rows[0].credit == D(amount)
    assert str(rows[0].credit) == booked

"""Settlements can be reversed (反核销), and an invoice is not cancelled while settlements
clear it: cancelling one left a negative open item nobody could settle.

- ``Accounting.cancel_settlement(number)`` books the settlement's rows again with the sides
  swapped under ``{number}-R``: the invoices are open again by what it cleared, in both
  currencies, the bank and the exchange difference are taken back;
- ``Documents.cancel`` of a purchase or sales invoice with settlements standing is refused
  (``reversal_impossible``); once they are reversed it goes through and nothing is left open.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.errors import JxcError
from tests.accounting import test_settlement_cents as cents
from tests.accounting.test_settlement_cents import (
    BOSS,
    PAID,
    Rates,
    check_books,
    invoice,
    left_on,
)
from tests.currency_support import MakeBooks

#: the books over either adapter, as the settlement tests make them
shop = cents.books

D = Decimal
USD = Rates({dt.date(2026, 11, 1): D("7.1234"), dt.date(2026, 11, 20): D("7.20")})


@pytest.mark.parametrize("kind", ["receivable", "payable"])
def test_a_reversed_settlement_opens_the_invoice_again(shop: MakeBooks, kind: str) -> None:
    _, docs, acc = shop(USD)
    inv = invoice(docs, kind, [(1, "33.33")], "USD")  # 37.66 USD, 268.27 CNY
    first = acc.settle(kind, "P", D("10.00"), date=PAID, currency="USD")
    acc.settle(kind, "P", D("27.66"), date=PAID, currency="USD")
    assert acc.open_items(kind) == []
    back = acc.cancel_settlement(first[0].doc_id)
    assert {r.doc_id for r in back} == {f"{first[0].doc_id}-R"}
    assert [(r.role, r.debit, r.credit) for r in back] == [
        (r.role, r.credit, r.debit) for r in first]
    (item,) = acc.open_items(kind)
    assert (item.doc_id, item.open) == (inv, D("10.00"))
    # open again in both currencies: 10.00 USD at the invoice's 7.1234 is 71.23 CNY
    assert left_on(acc, kind) == (D("71.23"), D("10.00"))
    acc.settle(kind, "P", D("10.00"), date=PAID, currency="USD")  # settled again
    assert left_on(acc, kind) == (D("0.00"), D("0.00"))
    check_books(acc)


def test_an_invoice_with_settlements_is_cancelled_only_after_them(shop: MakeBooks) -> None:
    _, docs, acc = shop(USD)
    inv = invoice(docs, "receivable", [(1, "33.33")], "USD")
    part = acc.settle("receivable", "P", D("10.00"), date=PAID, currency="USD")
    with pytest.raises(JxcError) as e:
        docs.cancel(inv, BOSS)
    assert e.value.code == "reversal_impossible"
    assert "cancel_settlement" in e.value.data["reason"]
    acc.cancel_settlement(part[0].doc_id)
    docs.cancel(inv, BOSS)
    assert acc.open_items("receivable") == []
    assert left_on(acc, "receivable") == (D("0.00"), D("0.00"))
    check_books(acc)


def test_refusals(shop: MakeBooks) -> None:
    _, docs, acc = shop(USD)
    invoice(docs, "payable", [(1, "10.00")], "USD")
    paid = acc.settle("payable", "P", D("5.00"), date=PAID, currency="USD")
    with pytest.raises(JxcError) as e:
        acc.cancel_settlement("FK-NOPE")
    assert e.value.code == "not_found"
    acc.cancel_settlement(paid[0].doc_id)
    for again in (paid[0].doc_id, f"{paid[0].doc_id}-R"):
        with pytest.raises(JxcError) as e:
            acc.cancel_settlement(again)
        assert e.value.code == "invalid_transition"
    acc.close_period(2026, 11)
    late = acc.settle("payable", "P", D("5.00"), date=dt.date(2026, 12, 1), currency="USD")
    with pytest.raises(JxcError) as e:  # dated in the closed month
        acc.cancel_settlement(late[0].doc_id, date=dt.date(2026, 11, 30))
    assert e.value.code == "period_closed"


@pytest.mark.parametrize("kind", ["receivable", "payable"])
def test_an_invoice_named_twice_is_settled_once(shop: MakeBooks, kind: str) -> None:
    """``invoices=[inv, inv]`` counted the invoice twice at its full open amount: 200.00 was
    accepted against 113.00 and left −87.00 open."""
    _, docs, acc = shop(USD)
    inv = invoice(docs, kind, [(1, "100.00")], "CNY")  # 113.00
    journal = len(docs.journal())
    with pytest.raises(JxcError) as e:
        acc.settle(kind, "P", D("200.00"), date=PAID, invoices=[inv, inv])
    assert e.value.code == "over_settlement" and e.value.data["open"] == D("113.00")
    assert len(docs.journal()) == journal
    acc.settle(kind, "P", D("113.00"), date=PAID, invoices=[inv, inv, inv])
    assert acc.open_items(kind) == []

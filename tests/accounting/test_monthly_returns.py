"""Property of the monthly weighted average (全月一次加权平均) through the documents, on both
adapters: random receipts, deliveries, customer returns (of deliveries of the open month or of
the closed one) and cancellations over two months, each closed. After each close:

* every voucher balances; 1405 equals the stock valuation, which the ledger's running value
  reaches;
* value is conserved: 1405 + 6401 == the value of the receipts (what came in is in stock or
  in the cost of goods sold);
* the month's unit cost is (opening + receipts) / quantity, where the receipts are the purchase
  receipts and the returns of deliveries of a closed month (at the closed cost): a return of a
  delivery of the open month, or a cancelled delivery, only takes the issue back. So the stock
  closes at round_half_up(on hand x that unit cost), exactly 0.00 when nothing is on hand;
* a delivery taken back whole comes back at exactly its cost (``returned_value == cost``),
  whether the returns fell in its month (valued at the close) or later (at its closed cost).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, State, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
U = User("boss", frozenset({"all"}))

step = st.tuples(
    st.sampled_from(("receipt", "delivery", "return", "return", "cancel")),
    st.integers(1, 6),  # quantity
    st.integers(0, 9_999),  # a price in cents, or which document
)


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 1, 9)

    def now(self) -> dt.datetime:
        return self.at


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(months=st.lists(st.lists(step, max_size=12), min_size=2, max_size=2))
def test_monthly_average_returns_and_cancellations_keep_the_books(
        adapter: str, months: list[list[tuple[str, int, int]]]) -> None:
    tmp = tempfile.mkdtemp(prefix="jxc-monthly-") if adapter == "sqlite" else None
    storage: Storage = (MemoryStorage() if tmp is None
                        else SqliteStorage(str(Path(tmp) / "m.db")))
    try:
        run(storage, months)
    finally:
        storage.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(storage: Storage, months: list[list[tuple[str, int, int]]]) -> None:
    clock = Clock()
    j = Jxc(storage, clock=clock)
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("Q", "leaf", costing_method="monthly_average"))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    docs, acc = Documents(j), Accounting(j)
    received = D(0)
    deliveries: list[str] = []
    month_of: dict[str, int] = {}
    open_q, open_v = D(0), D(0)
    for month, steps in zip((11, 12), months, strict=True):
        this_month: list[str] = []  # posted documents of the open month that may be cancelled
        rec_q, rec_v = D(0), D(0)  # the month's receipts, as the unit cost counts them
        for day, (kind, q, k) in enumerate(steps, start=1):
            clock.at = dt.datetime(2026, month, day, 9)
            try:
                if kind == "receipt":
                    price = D(k + 1).scaleb(-2)
                    d = post(docs, "purchase_receipt", Line(1, "Q", D(q), price, warehouse="W"),
                             "S")
                    received += docs.get(d).counters[1]["value"]
                    rec_q += q
                    rec_v += docs.get(d).counters[1]["value"]
                elif kind == "delivery":
                    d = post(docs, "delivery", Line(1, "Q", D(q), D("9.99"), warehouse="W"), "C")
                    deliveries.append(d)
                    month_of[d] = month
                    this_month.append(d)
                elif kind == "return" and deliveries:
                    src = docs.get(deliveries[k % len(deliveries)])
                    left = src.counter(1, "delivered") - src.counter(1, "returned")
                    if src.state != State.POSTED or not left:
                        continue
                    d = post(docs, "sales_return", Line(1, "Q", min(D(q), left), D("9.99"),
                                                        warehouse="W",
                                                        source=(src.doc_id, 1)), "C")
                    this_month.append(d)
                    if month_of[src.doc_id] < month:  # a receipt at the closed cost
                        rec_q += docs.get(d).counter(1, "returned")
                        rec_v += docs.get(d).counter(1, "value")
                elif kind == "cancel" and this_month:
                    d = this_month.pop(k % len(this_month))
                    docs.cancel(d, U)
            except JxcError as err:  # short of stock, a delivery with returns: refused
                assert err.code in ("insufficient_stock", "reversal_impossible"), err
        acc.close_period(2026, month)
        acc.generate_vouchers()
        assert all(v.debit == v.credit for v in acc.vouchers())
        b = j.balance("Q", "W")
        assert acc.account_balance("1405") == b.value
        ledger = j.ledger("Q", "W")
        assert not ledger or ledger[-1].running_value == b.value
        assert acc.account_balance("1405") + acc.account_balance("6401") == received
        if open_q + rec_q > 0:
            exact = Fraction(b.on_hand) * Fraction(open_v + rec_v) / Fraction(open_q + rec_q)
            assert b.value == D(math.floor(exact * 100 + Fraction(1, 2))).scaleb(-2)
        if b.on_hand == 0:
            assert b.value == D("0.00")
        open_q, open_v = b.on_hand, b.value
        for d in deliveries:
            dl = docs.get(d)
            if dl.state == State.POSTED and dl.counter(1, "returned") == dl.counter(1,
                                                                                   "delivered"):
                assert dl.counter(1, "returned_value") == dl.counter(1, "cost"), d


def post(docs: Documents, kind: str, line: Line, party: str) -> str:
    doc = docs.create(kind, [line], party=party)
    try:
        docs.approve_through(doc.doc_id, [U])
    except JxcError:
        docs.cancel(doc.doc_id, U)  # an approved document: nothing to reverse
        raise
    return doc.doc_id

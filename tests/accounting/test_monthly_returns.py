"""Property of the monthly weighted average (全月一次加权平均) through the documents, on both
adapters: random receipts, deliveries, customer returns (of deliveries of the open month or of
a closed one), adjustments in and out, purchase returns and cancellations (红冲) over two
months, some of them dated in the next month and posted before the month closes; each month
closed. After each close:

* every voucher balances and only the stock accounts move; 1405 equals the stock valuation,
  which the ledger's running value reaches;
* the month's unit cost is (opening + receipts) / quantity, where the receipts are the
  month's own purchase receipts, adjustments in and returns of deliveries of a closed month (at
  the closed cost), less the ones cancelled: a return of a delivery of the open month, or the
  cancellation of a movement that took units out, only takes the issue back, and a movement
  dated in the next month waits for that month's close. So the month's snapshot is
  round_half_up(on hand x that unit cost), exactly 0.00 when nothing is on hand;
* a cancelled document and its reversal net to zero in quantity and value, period costs
  included;
* a return dated in another month than its delivery, while the delivery's month is open, is
  refused (``issue_period_open``);
* a delivery taken back whole comes back at exactly its cost (``returned_value == cost``),
  whether the returns fell in its month (valued at the close) or later (at its closed cost);
* gross profit by customer counts what the customer's deliveries and returns took out of
  stock (their month-end costs included), by item that and the settled pools.
"""

from __future__ import annotations

import calendar
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
    st.sampled_from(("receipt", "receipt", "delivery", "return", "return", "cancel", "cancel",
                     "adjust_out", "adjust_in", "purchase_return")),
    st.integers(1, 6),  # quantity
    st.integers(0, 9_999),  # a price in cents, or which document
    st.integers(0, 3),  # 0: dated in the next month, posted before this month closes
)

#: the stock accounts of the documents used here (no invoices): inventory, GRNI, COGS (and
#: price difference), 待处理财产损溢 (adjustments)
ACCOUNTS = {"1405", "2202.02", "6401", "1901"}


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 1, 9)

    def now(self) -> dt.datetime:
        return self.at


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(months=st.lists(st.lists(step, max_size=14), min_size=2, max_size=2),
       reopen=st.booleans(), forgotten=st.tuples(st.integers(0, 6), st.integers(1, 9_999)))
def test_monthly_average_returns_and_cancellations_keep_the_books(
        adapter: str, months: list[list[tuple[str, int, int, int]]], reopen: bool,
        forgotten: tuple[int, int]) -> None:
    tmp = tempfile.mkdtemp(prefix="jxc-monthly-") if adapter == "sqlite" else None
    storage: Storage = (MemoryStorage() if tmp is None
                        else SqliteStorage(str(Path(tmp) / "m.db")))
    try:
        run(storage, months, reopen, forgotten)
    finally:
        storage.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(storage: Storage, months: list[list[tuple[str, int, int, int]]],
        reopen: bool = False, forgotten: tuple[int, int] = (0, 0)) -> None:
    """The two months, each closed and checked; then, with ``forgotten`` units, November
    reopened (December with it), a receipt it forgot posted into it, December closed again
    (November first): the books still agree and every return follows its delivery's new
    cost, those of December included."""
    clock = Clock()
    j = Jxc(storage, clock=clock)
    j.define_warehouse(Warehouse("W", "main"))
    j.define_item(Item("Q", "leaf", costing_method="monthly_average"))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    docs, acc = Documents(j), Accounting(j)
    month_of: dict[str, tuple[int, int]] = {}  # every posted document's month
    date_of: dict[str, dt.date] = {}  # and its date
    deliveries: list[str] = []
    receipts: list[str] = []
    #: posted documents of an open month that may be cancelled, and what each brought into
    #: its month's receipts (quantity, value)
    open_docs: list[str] = []
    brought: dict[str, tuple[Decimal, Decimal]] = {}
    cancelled: list[str] = []
    #: the receipts of each month, as its unit cost counts them
    rec: dict[tuple[int, int], list[Decimal]] = {}
    closed: list[tuple[int, int]] = []
    open_q, open_v = D(0), D(0)
    for (year, month), steps in zip(((2026, 11), (2026, 12)), months, strict=True):
        nxt = (year + month // 12, month % 12 + 1)
        for day, (kind, q, k, when) in enumerate(steps, start=1):
            ym = nxt if when == 0 else (year, month)
            clock.at = dt.datetime(*ym, day, 9)
            try:
                d = ""
                if kind == "receipt":
                    price = D(k + 1).scaleb(-2)
                    d = post(docs, "purchase_receipt", Line(1, "Q", D(q), price, warehouse="W"),
                             "S")
                    brought[d] = (D(q), docs.get(d).counters[1]["value"])
                    receipts.append(d)
                elif kind == "adjust_in":
                    price = D(k + 1).scaleb(-2)
                    d = post(docs, "adjustment", Line(1, "Q", D(q), price, warehouse="W"), "")
                    brought[d] = (D(q), docs.get(d).counters[1]["value"])
                elif kind == "adjust_out":
                    d = post(docs, "adjustment", Line(1, "Q", D(-q), D(0), warehouse="W"), "")
                elif kind == "delivery":
                    d = post(docs, "delivery", Line(1, "Q", D(q), D("9.99"), warehouse="W"), "C")
                    deliveries.append(d)
                elif kind == "purchase_return" and receipts:
                    src = docs.get(receipts[k % len(receipts)])
                    left = src.counter(1, "received") - src.counter(1, "returned")
                    if src.state != State.POSTED or not left:
                        continue
                    back = Line(1, "Q", min(D(q), left), D(0), warehouse="W",
                                source=(src.doc_id, 1))
                    if date_of[src.doc_id] > clock.at.date():  # before its receipt
                        with pytest.raises(JxcError) as err:
                            post(docs, "purchase_return", back, "S")
                        assert err.value.code == "invalid_document", err.value
                        continue
                    d = post(docs, "purchase_return", back, "S")
                elif kind == "return" and deliveries:
                    src = docs.get(deliveries[k % len(deliveries)])
                    left = src.counter(1, "delivered") - src.counter(1, "returned")
                    if src.state != State.POSTED or not left:
                        continue
                    line = Line(1, "Q", min(D(q), left), D("9.99"), warehouse="W",
                                source=(src.doc_id, 1))
                    delivered_in = month_of[src.doc_id]
                    if date_of[src.doc_id] > clock.at.date():  # before its delivery
                        with pytest.raises(JxcError) as err:
                            post(docs, "sales_return", line, "C")
                        assert err.value.code == "invalid_document", err.value
                        continue
                    if delivered_in != ym and delivered_in not in closed:
                        # its cost is known when the delivery's month closes
                        with pytest.raises(JxcError) as err:
                            post(docs, "sales_return", line, "C")
                        assert err.value.code == "issue_period_open", err.value
                        continue
                    d = post(docs, "sales_return", line, "C")
                    if delivered_in in closed:  # a receipt at the closed cost
                        brought[d] = (docs.get(d).counter(1, "returned"),
                                      docs.get(d).counter(1, "value"))
                elif kind == "cancel" and open_docs:
                    d = open_docs[k % len(open_docs)]
                    clock.at = dt.datetime.combine(docs.get(d).date or clock.at.date(),
                                                   clock.at.time())
                    docs.cancel(d, U)
                    open_docs.remove(d)
                    cancelled.append(d)
                    got_q, got_v = brought.pop(d, (D(0), D(0)))
                    r = rec.setdefault(month_of[d], [D(0), D(0)])
                    r[0] -= got_q
                    r[1] -= got_v
                    continue
                if d:
                    month_of[d] = ym
                    date_of[d] = clock.at.date()
                    open_docs.append(d)
                    if d in brought:
                        r = rec.setdefault(ym, [D(0), D(0)])
                        r[0] += brought[d][0]
                        r[1] += brought[d][1]
            except JxcError as err:  # short of stock, a document with later ones: refused
                assert err.code in ("insufficient_stock", "reversal_impossible"), err
        clock.at = max(clock.at, dt.datetime(year, month, 28, 18))  # closed from within it
        acc.close_period(year, month)
        if reopen:  # reopened (反结账) and closed again with nothing new: the same figures
            before = figures(j, docs, acc, list(month_of), (year, month))
            acc.reopen_period(year, month, user="cfo", reason="check")
            acc.close_period(year, month)
            assert figures(j, docs, acc, list(month_of), (year, month)) == before
        closed.append((year, month))
        acc.generate_vouchers()
        assert all(v.debit == v.credit for v in acc.vouchers())
        trial = acc.trial_balance()
        assert {r.account for r in trial} <= ACCOUNTS
        assert sum((r.balance for r in trial), D(0)) == 0
        b = j.balance("Q", "W")
        assert acc.account_balance("1405") == b.value
        ledger = j.ledger("Q", "W")
        assert not ledger or ledger[-1].running_value == b.value
        # gross profit by customer: what the customer's documents took out of stock, their
        # month-end costs included; by item also what no customer's document did (a settled
        # pool, ``YJ-YYYY-MM`` itself) and the price differences of purchase returns, which
        # the Chinese preset books to 6401 as well: by item it is 6401
        took = -sum((x.entry.value for x in ledger
                     if x.entry.doc_type in ("delivery", "sales_return")), D(0))
        by_customer = sum((g.cost for g in acc.gross_profit("customer")), D(0))
        assert by_customer == took
        settled = -sum((x.entry.value for x in ledger if x.entry.doc_type == "period_close"),
                       D(0))
        differences = sum((r.debit - r.credit for r in docs.journal()
                           if r.role == "price_difference"), D(0))
        by_item = sum((g.cost for g in acc.gross_profit("item")), D(0))
        assert by_item == by_customer + settled + differences == acc.account_balance("6401")
        # the month's snapshot: its own receipts only, the next month's movements wait
        end = dt.datetime(year, month, calendar.monthrange(year, month)[1], 23, 59, 59,
                          999999)
        snap = j.balance("Q", "W", as_of=end)
        rec_q, rec_v = rec.get((year, month), [D(0), D(0)])
        if open_q + rec_q > 0:
            exact = Fraction(snap.on_hand) * Fraction(open_v + rec_v) / Fraction(open_q + rec_q)
            assert snap.value == D(math.floor(exact * 100 + Fraction(1, 2))).scaleb(-2)
        if snap.on_hand == 0:
            assert snap.value == D("0.00")
        open_q, open_v = snap.on_hand, snap.value
        for d in open_docs:  # a delivery of the next month is not valued yet
            if month_of[d] == nxt and docs.get(d).doc_type.value == "delivery":
                assert docs.get(d).counter(1, "cost") == 0
        open_docs = [d for d in open_docs if month_of[d] not in closed]
        # a cancelled document nets to zero once its month is closed, its period costs too
        for d in cancelled:
            if month_of[d] in closed:
                moved = [x.entry for x in ledger if x.entry.doc_id in (d, f"{d}-R")]
                assert sum((e.quantity for e in moved), D(0)) == 0, d
                assert sum((e.value for e in moved), D(0)) == 0, d
        for d in deliveries:
            dl = docs.get(d)
            if dl.state == State.POSTED and dl.counter(1, "returned") == dl.counter(1,
                                                                                   "delivered"):
                assert dl.counter(1, "returned_value") == dl.counter(1, "cost"), d
    qty, cents = forgotten
    if not qty:
        return
    clock.at = dt.datetime(2027, 1, 5, 9)
    acc.reopen_period(2026, 11, user="cfo", reason="a forgotten receipt")
    clock.at = dt.datetime(2026, 11, 28, 9)
    post(docs, "purchase_receipt", Line(1, "Q", D(qty), D(cents).scaleb(-2), warehouse="W"),
         "S")
    clock.at = dt.datetime(2027, 1, 6, 9)
    acc.close_period(2026, 12)
    acc.generate_vouchers()
    assert all(v.debit == v.credit for v in acc.vouchers())
    assert sum((r.balance for r in acc.trial_balance()), D(0)) == 0
    b = j.balance("Q", "W")
    assert acc.account_balance("1405") == b.value
    ledger = j.ledger("Q", "W")
    assert ledger[-1].running_value == b.value
    took = -sum((x.entry.value for x in ledger
                 if x.entry.doc_type in ("delivery", "sales_return")), D(0))
    assert sum((g.cost for g in acc.gross_profit("customer")), D(0)) == took
    for d in month_of:  # every document's counters say what its entries moved
        doc = docs.get(d)
        moved = sum((x.entry.value for x in ledger if x.entry.doc_id == d), D(0))
        if doc.state == State.POSTED and doc.doc_type.value == "delivery":
            assert doc.counter(1, "cost") == -moved, d
            if doc.counter(1, "returned") == doc.counter(1, "delivered"):
                assert doc.counter(1, "returned_value") == doc.counter(1, "cost"), d
        elif doc.state == State.POSTED and doc.doc_type.value == "sales_return":
            assert doc.counter(1, "value") == moved, d


def figures(j: Jxc, docs: Documents, acc: Accounting, doc_ids: list[str],
            ym: tuple[int, int]) -> tuple[object, ...]:
    """What a close leaves: the documents' counters, the stock and its accounts, the month's
    snapshot."""
    end = dt.datetime(*ym, calendar.monthrange(*ym)[1], 23, 59, 59, 999999)
    b, snap = j.balance("Q", "W"), j.balance("Q", "W", as_of=end)
    return ({d: docs.get(d).counters for d in doc_ids}, (b.on_hand, b.value),
            (snap.on_hand, snap.value),
            {a: acc.account_balance(a) for a in sorted(ACCOUNTS)})


def post(docs: Documents, kind: str, line: Line, party: str) -> str:
    doc = docs.create(kind, [line], party=party)
    try:
        docs.approve_through(doc.doc_id, [U])
    except JxcError:
        docs.cancel(doc.doc_id, U)  # an approved document: nothing to reverse
        raise
    return doc.doc_id

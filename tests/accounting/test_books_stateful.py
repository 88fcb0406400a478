"""Stateful property test of the books (vouchers, settlement, 进销存汇总表) on both adapters.

A hypothesis state machine drives random document flows through :class:`Documents` —
purchase receipts (VAT 13%/9%/0%, prices with or without tax), supplier returns (of invoiced
units too), purchase invoices at other prices, red-letter purchase invoices of the returns,
deliveries, customer returns, sales invoices, red-letter sales invoices, transfers between two
warehouses, adjustments in and out, cancellations of posted receipts and deliveries — and
receipts/payments through :meth:`Accounting.settle` (partial, sometimes too much). A refused
command (any :class:`JxcError`) must change nothing. After every step the machine vouchers
the journal (:meth:`Accounting.generate_vouchers`) and checks:

* every voucher balances (debit == credit), and vouchering again makes nothing new;
* inventory accounts (1405 库存商品, 1403 原材料 with the Chinese preset) per item and
  warehouse == ``Jxc.balance(item, wh).value``; 1403 == the value of the material item,
  1405 == the value of the others;
* 1122 应收账款 == the open receivable items; 2202 应付账款 == -(the open payable items),
  red-letter invoices (credit notes) counting as negative open items;
* 2202.03 待冲发票 == what the supplier returns of invoiced units still wait to have credited
  (their ``credit_value`` less the ``credited_value`` of their red-letter invoices);
* the 进销存汇总表 of the month: closing value per item/warehouse == the balance value,
  closing quantity == on hand.

Items: ``F`` (FIFO), ``A`` (moving average), ``M`` (category ``material``, FIFO). The clock is
fixed inside one month, so every posting is dated on the same day.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from jxc_core.accounting import DOC_TYPES
from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
ZERO = D(0)
U = User("boss", frozenset({"all"}))
ITEMS = ("F", "A", "M")
MATERIAL = "M"
WAREHOUSES = ("W1", "W2")
SUPPLIER, CUSTOMER = "S", "C"
INVENTORY_ACCOUNTS = ("1405", "1403")
YEAR, MONTH = 2026, 11
TODAY = dt.date(YEAR, MONTH, 16)

item_st = st.sampled_from(ITEMS)
wh_st = st.sampled_from(WAREHOUSES)
qty_st = st.integers(1, 12).map(D)
big_qty_st = st.integers(1, 40).map(D)
price_st = st.integers(1, 9_999).map(lambda c: D(c).scaleb(-2))
tax_st = st.sampled_from((D("0.13"), D("0.09"), D(0)))
day_st = st.integers(1, 30).map(lambda d: dt.date(YEAR, MONTH, d))  # document dates


class FixedClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def make_world(storage: Storage) -> tuple[Jxc, Documents, Accounting]:
    j = Jxc(storage, clock=FixedClock(dt.datetime(YEAR, MONTH, 16, 10, 30)))
    j.define_item(Item("F", "fifo goods", costing_method="fifo"))
    j.define_item(Item("A", "average goods", costing_method="moving_average"))
    j.define_item(Item(MATERIAL, "raw material", costing_method="fifo", category="material"))
    for wh in WAREHOUSES:
        j.define_warehouse(Warehouse(wh, f"warehouse {wh}"))
    j.define_party(Party(SUPPLIER, "supplier", "supplier"))
    j.define_party(Party(CUSTOMER, "customer", "customer"))
    return j, Documents(j), Accounting(j)


class BooksMachine(RuleBasedStateMachine):
    """See the module docstring. Subclasses choose the storage."""

    def make_storage(self) -> tuple[Storage, str | None]:
        raise NotImplementedError

    def __init__(self) -> None:
        super().__init__()
        self.storage, self.tmp = self.make_storage()
        self.j, self.docs, self.acc = make_world(self.storage)
        self.receipts: list[tuple[str, str, str]] = []  # (doc_id, item, warehouse)
        self.deliveries: list[tuple[str, str, str]] = []
        self.returns: list[tuple[str, str]] = []  # (doc_id, item): supplier returns
        self.customer_returns: list[tuple[str, str]] = []
        self.credit_notes: list[tuple[str, str]] = []  # red-letter invoices (doc_id, item)

    def teardown(self) -> None:
        self.storage.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------
    def snapshot(self) -> Any:
        with self.storage.unit_of_work() as uow:
            journal = uow.journal.all()
            ledger = {i: uow.ledger.entries(i) for i in ITEMS}
        return (
            journal, ledger, self.j.balances(),
            [self.j.balance(i, wh) for i in ITEMS for wh in WAREHOUSES],
            [self.docs.get(d) for d in self.docs.ids()],
            self.acc.open_items("receivable"), self.acc.open_items("payable"),
            self.acc.vouchers(),
        )

    def refused(self, before: Any, err: JxcError, what: str) -> None:
        event(f"{what} refused: {err.code}")
        assert self.snapshot() == before, f"refused {what} ({err.code}) changed the state"

    def post(self, kind: str, lines: list[Line], party: str = "",
             day: dt.date | None = None) -> str | None:
        """Create, submit, approve and post; a refusal must leave everything as it was."""
        before = self.snapshot()
        try:
            doc = self.docs.create(kind, lines, party=party, date=day)
        except JxcError as err:
            self.refused(before, err, f"create {kind}")
            return None
        self.docs.submit(doc.doc_id, U)
        self.docs.approve(doc.doc_id, U)
        before = self.snapshot()
        try:
            self.docs.post(doc.doc_id, U)
        except JxcError as err:
            self.refused(before, err, f"post {kind}")
            self.docs.cancel(doc.doc_id, U)  # an approved document: no effect to reverse
            return None
        event(f"posted {kind}")
        return doc.doc_id

    # -- rules ------------------------------------------------------------------------------
    @rule(item=item_st, wh=wh_st, q=big_qty_st, price=price_st, tax=tax_st,
          incl=st.booleans(), day=day_st)
    def purchase_receipt(self, item: str, wh: str, q: Decimal, price: Decimal, tax: Decimal,
                         incl: bool, day: dt.date) -> None:
        doc = self.post("purchase_receipt",
                        [Line(1, item, q, price, tax, incl, warehouse=wh)], SUPPLIER, day)
        if doc is not None:
            self.receipts.append((doc, item, wh))

    @precondition(lambda self: self.receipts)
    @rule(data=st.data(), q=qty_st)
    def supplier_return(self, data: st.DataObject, q: Decimal) -> None:
        rc, item, wh = data.draw(st.sampled_from(self.receipts))
        q = self.all_left(data, rc, "received", q)
        doc = self.post("purchase_return", [Line(1, item, q, warehouse=wh, source=(rc, 1))],
                        SUPPLIER)
        if doc is not None:
            self.returns.append((doc, item))
            if self.docs.get(doc).counter(1, "to_credit"):
                event("supplier return of invoiced units")

    @precondition(lambda self: self.receipts)
    @rule(data=st.data(), q=qty_st, price=price_st, tax=tax_st, incl=st.booleans())
    def invoice_all_then_return(self, data: st.DataObject, q: Decimal, price: Decimal,
                                tax: Decimal, incl: bool) -> None:
        """Invoice what is open of a receipt line, then return units of it: invoiced ones."""
        rc, item, wh = data.draw(st.sampled_from(self.receipts))
        c = self.docs.get(rc)
        open_q = (c.counter(1, "received") - c.counter(1, "returned") - c.counter(1, "invoiced")
                  + c.counter(1, "returned_invoiced"))
        if open_q > 0:
            self.post("purchase_invoice",
                      [Line(1, item, open_q, price, tax, incl, source=(rc, 1))], SUPPLIER)
        doc = self.post("purchase_return", [Line(1, item, q, warehouse=wh, source=(rc, 1))],
                        SUPPLIER)
        if doc is not None:
            self.returns.append((doc, item))
            if self.docs.get(doc).counter(1, "to_credit"):
                event("supplier return of invoiced units")

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data(), q=qty_st, price=price_st, tax=tax_st, incl=st.booleans(),
          to=wh_st)
    def sales_invoice_all_then_return(self, data: st.DataObject, q: Decimal, price: Decimal,
                                      tax: Decimal, incl: bool, to: str) -> None:
        """Invoice what is open of a delivery line, then take units of it back."""
        dl, item, _ = data.draw(st.sampled_from(self.deliveries))
        c = self.docs.get(dl)
        open_q = (c.counter(1, "delivered") - c.counter(1, "returned")
                  - c.counter(1, "invoiced") + c.counter(1, "returned_invoiced"))
        if open_q > 0:
            self.post("sales_invoice",
                      [Line(1, item, open_q, price, tax, incl, source=(dl, 1))], CUSTOMER)
        doc = self.post("sales_return", [Line(1, item, q, warehouse=to, source=(dl, 1))],
                        CUSTOMER, max(TODAY, c.date or TODAY))  # not before the delivery
        if doc is not None:
            self.customer_returns.append((doc, item))
            if self.docs.get(doc).counter(1, "to_credit"):
                event("customer return of invoiced units")

    @precondition(lambda self: self.returns)
    @rule(data=st.data(), q=qty_st, price=price_st, tax=tax_st, incl=st.booleans())
    def red_purchase_invoice(self, data: st.DataObject, q: Decimal, price: Decimal,
                             tax: Decimal, incl: bool) -> None:
        rt, item = data.draw(st.sampled_from(self.returns))
        q = self.credit_quantity(data, rt, q)
        doc = self.post("purchase_invoice",
                        [Line(1, item, q, price, tax, incl, source=(rt, 1))], SUPPLIER)
        if doc is not None:
            self.credit_notes.append((doc, item))
            event("posted a red-letter purchase invoice")

    def all_left(self, data: st.DataObject, src: str, done: str, q: Decimal) -> Decimal:
        """Sometimes all that is left of the source line (its invoiced units too), else ``q``."""
        doc = self.docs.get(src)
        left = doc.counter(1, done) - doc.counter(1, "returned")
        return left if left > 0 and data.draw(st.booleans(), label="all") else q

    def credit_quantity(self, data: st.DataObject, rt: str, q: Decimal) -> Decimal:
        """Mostly what the return has left to credit (else ``q``: often too many)."""
        doc = self.docs.get(rt)
        left = doc.counter(1, "to_credit") - doc.counter(1, "credited")
        if left > 0 and data.draw(st.booleans(), label="within"):
            return D(data.draw(st.integers(1, int(left)), label="credit"))
        return q

    @precondition(lambda self: self.receipts)
    @rule(data=st.data(), q=qty_st, price=price_st, tax=tax_st, incl=st.booleans(),
          day=day_st)
    def purchase_invoice(self, data: st.DataObject, q: Decimal, price: Decimal, tax: Decimal,
                         incl: bool, day: dt.date) -> None:
        rc, item, _ = data.draw(st.sampled_from(self.receipts))
        self.post("purchase_invoice", [Line(1, item, q, price, tax, incl, source=(rc, 1))],
                  SUPPLIER, day)

    @rule(item=item_st, wh=wh_st, q=qty_st, price=price_st, tax=tax_st, day=day_st)
    def delivery(self, item: str, wh: str, q: Decimal, price: Decimal, tax: Decimal,
                 day: dt.date) -> None:
        doc = self.post("delivery", [Line(1, item, q, price, tax, warehouse=wh)], CUSTOMER,
                        day)
        if doc is not None:
            self.deliveries.append((doc, item, wh))

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data(), q=qty_st, to=wh_st)
    def customer_return(self, data: st.DataObject, q: Decimal, to: str) -> None:
        dl, item, _ = data.draw(st.sampled_from(self.deliveries))
        q = self.all_left(data, dl, "delivered", q)
        doc = self.post("sales_return", [Line(1, item, q, warehouse=to, source=(dl, 1))],
                        CUSTOMER)
        if doc is not None:
            self.customer_returns.append((doc, item))

    @precondition(lambda self: self.customer_returns)
    @rule(data=st.data(), q=qty_st, price=price_st, tax=tax_st, incl=st.booleans())
    def red_sales_invoice(self, data: st.DataObject, q: Decimal, price: Decimal,
                          tax: Decimal, incl: bool) -> None:
        sr, item = data.draw(st.sampled_from(self.customer_returns))
        q = self.credit_quantity(data, sr, q)
        doc = self.post("sales_invoice",
                        [Line(1, item, q, price, tax, incl, source=(sr, 1))], CUSTOMER)
        if doc is not None:
            self.credit_notes.append((doc, item))
            event("posted a red-letter sales invoice")

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data(), q=qty_st, price=price_st, tax=tax_st, incl=st.booleans(),
          day=day_st)
    def sales_invoice(self, data: st.DataObject, q: Decimal, price: Decimal, tax: Decimal,
                      incl: bool, day: dt.date) -> None:
        dl, item, _ = data.draw(st.sampled_from(self.deliveries))
        self.post("sales_invoice", [Line(1, item, q, price, tax, incl, source=(dl, 1))],
                  CUSTOMER, day)

    @rule(item=item_st, src=wh_st, q=qty_st)
    def transfer(self, item: str, src: str, q: Decimal) -> None:
        dst = WAREHOUSES[1 - WAREHOUSES.index(src)]
        self.post("transfer", [Line(1, item, q, warehouse=src, to_warehouse=dst)])

    @rule(item=item_st, wh=wh_st, q=st.integers(-8, 8).filter(bool).map(D), cost=price_st)
    def adjustment(self, item: str, wh: str, q: Decimal, cost: Decimal) -> None:
        self.post("adjustment", [Line(1, item, q, cost, warehouse=wh)])

    @precondition(lambda self: self.receipts or self.deliveries)
    @rule(data=st.data())
    def cancel_posted(self, data: st.DataObject) -> None:
        doc_id, _, _ = data.draw(st.sampled_from(
            self.receipts + self.deliveries
            + [(d, i, "") for d, i in
               self.returns + self.customer_returns + self.credit_notes]))
        state = self.docs.get(doc_id).state.value
        before = self.snapshot()
        try:
            self.docs.cancel(doc_id, U)
        except JxcError as err:
            self.refused(before, err, f"cancel of a {state} document")
            return
        event(f"cancelled a {state} document")

    @rule(kind=st.sampled_from(("receivable", "payable")), percent=st.integers(1, 110))
    def settle(self, kind: str, percent: int) -> None:
        party = CUSTOMER if kind == "receivable" else SUPPLIER
        total = sum((i.open for i in self.acc.open_items(kind, party)), ZERO)
        amount = max(D("0.01"), (total * percent / 100).quantize(D("0.01")))
        before = self.snapshot()
        try:
            self.acc.settle(kind, party, amount, date=TODAY)
        except JxcError as err:
            assert amount > total, f"settling {amount} of {total} open was refused"
            self.refused(before, err, f"settle {kind}")
            return
        assert amount <= total
        event(f"settled {kind}")

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def books_agree_with_stock(self) -> None:
        # vouchering is part of every step (generate_vouchers after each command)
        self.acc.generate_vouchers()
        assert self.acc.generate_vouchers() == []
        vouchers = self.acc.vouchers()
        inv: dict[tuple[str, str], Decimal] = {}
        by_account: dict[str, Decimal] = {}
        for v in vouchers:
            assert v.debit == v.credit, f"{v.number} ({v.doc_id}) does not balance"
            # a mapping rule by document type can name every type the journal writes
            assert v.doc_type in DOC_TYPES, v.doc_type
            for x in v.lines:
                by_account[x.account] = by_account.get(x.account, ZERO) + x.debit - x.credit
                if x.account in INVENTORY_ACCOUNTS:
                    expected = "1403" if x.item == MATERIAL else "1405"
                    assert x.account == expected, (v.doc_id, x)
                    key = (x.item, x.warehouse)
                    inv[key] = inv.get(key, ZERO) + x.debit - x.credit
        values = {(i, wh): self.j.balance(i, wh) for i in ITEMS for wh in WAREHOUSES}
        for key, b in values.items():
            assert inv.get(key, ZERO) == b.value, (key, inv.get(key), b.value)
        assert set(inv) <= set(values), inv
        # the same from the journal, by the service's own reconciliation (存货与总账对账)
        assert self.acc.reconcile_inventory(differences_only=True) == []
        for r in self.acc.reconcile_inventory():
            assert (r.books, r.stock) == (inv.get((r.item, r.warehouse), ZERO),
                                          values[(r.item, r.warehouse)].value)
        material = sum((b.value for (i, _), b in values.items() if i == MATERIAL), ZERO)
        goods = sum((b.value for (i, _), b in values.items() if i != MATERIAL), ZERO)
        assert by_account.get("1403", ZERO) == material
        assert by_account.get("1405", ZERO) == goods
        for account in INVENTORY_ACCOUNTS:
            assert self.acc.account_balance(account) == by_account.get(account, ZERO)
        # receivables and payables: the ledger accounts equal the open items
        ar = sum((i.open * i.rate for i in self.acc.open_items("receivable")), ZERO)
        ap = sum((i.open * i.rate for i in self.acc.open_items("payable")), ZERO)
        assert by_account.get("1122", ZERO) == ar
        assert by_account.get("2202", ZERO) == -ap
        pending = ZERO
        for rt, _ in self.returns:
            doc = self.docs.get(rt)
            if doc.state.value == "posted":
                pending += doc.counter(1, "credit_value") - doc.counter(1, "credited_value")
        assert by_account.get("2202.03", ZERO) == pending
        # 进销存汇总表 of the month closes on the balances
        rows = {(r.item, r.warehouse): r for r in self.acc.inventory_summary(YEAR, MONTH)}
        for key, b in values.items():
            r = rows.get(key)
            if r is None:
                assert b.on_hand == 0 and b.value == 0, (key, b)
                continue
            assert (r.closing_qty, r.closing_value) == (b.on_hand, b.value), (key, r, b)
            assert r.opening_qty == 0 and r.opening_value == 0
            assert r.closing_qty == r.in_qty - r.out_qty


class MemoryBooks(BooksMachine):
    def make_storage(self) -> tuple[Storage, str | None]:
        return MemoryStorage(), None


class SqliteBooks(BooksMachine):
    def make_storage(self) -> tuple[Storage, str | None]:
        tmp = tempfile.mkdtemp(prefix="jxc-books-")
        return SqliteStorage(str(Path(tmp) / "books.db")), tmp


SETTINGS = settings(max_examples=int(os.environ.get("BOOKS_N", "12")), stateful_step_count=20,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TestMemoryBooks = MemoryBooks.TestCase
TestMemoryBooks.settings = SETTINGS
TestSqliteBooks = SqliteBooks.TestCase
TestSqliteBooks.settings = SETTINGS



def test_vouchers_and_stock_of_a_back_dated_document_fall_in_the_same_period() -> None:
    storage = MemoryStorage()
    j, docs, acc = make_world(storage)  # the clock says 2026-11-16
    doc = docs.create("purchase_receipt", [Line(1, "F", D(10), D("10.00"), warehouse="W1")],
                      party=SUPPLIER, date=dt.date(2026, 10, 20))
    docs.approve_through(doc.doc_id, [U])
    acc.generate_vouchers()
    october_end = dt.datetime(2026, 10, 31, 23, 59, 59)
    books = acc.account_balance("1405", "2026-10")
    stock = j.balance("F", "W1", as_of=october_end).value
    summary = sum((r.closing_value for r in acc.inventory_summary(2026, 10)), ZERO)
    storage.close()
    assert books == stock == summary, (books, stock, summary)

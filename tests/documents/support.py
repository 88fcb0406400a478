"""Shared set-up for the document tests: a small shop over a storage, and the checks every
posting must pass (balanced journal, inventory role == stock valuation, nothing written)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jxc_core.documents import Document, Line, State, User
from jxc_core.services import Documents, JournalRow, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
ITEMS = ("A", "B", "C", "KG")
WAREHOUSES = ("W1", "W2")
BOSS = User("boss", frozenset({"all"}))


class TickingClock:
    """A clock that moves one minute forward at every reading (stable, ordered postings)."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 3, 2, 9, 0)) -> None:
        self.at = start

    def now(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=1)
        return self.at


def setup_master(j: Jxc) -> None:
    """Items: A (FIFO, 箱 = 12), B (moving average), C (FIFO), KG (3 digits); two warehouses;
    supplier S1, customer C1, party BOTH that is both."""
    j.define_item(Item("A", "apple", units={"箱": D(12)}))
    j.define_item(Item("B", "bolt", costing_method="moving_average"))
    j.define_item(Item("C", "cable"))
    j.define_item(Item("KG", "flour", base_unit="kg", quantity_digits=3))
    j.define_warehouse(Warehouse("W1", "main"))
    j.define_warehouse(Warehouse("W2", "second"))
    j.define_party(Party("S1", "supplier one", "supplier"))
    j.define_party(Party("C1", "customer one", "customer"))
    j.define_party(Party("BOTH", "trader", "both"))


class Shop:
    """A Jxc service with its Documents, and helpers to drive and check them."""

    def __init__(self, jxc: Jxc, docs: Documents) -> None:
        self.jxc = jxc
        self.docs = docs

    # -- driving -------------------------------------------------------------------------
    def make(self, doc_type: str, lines: list[Line], party: str = "",
             **kw: Any) -> Document:
        return self.docs.create(doc_type, lines, party=party, **kw)

    def approved(self, doc_type: str, lines: list[Line], party: str = "", **kw: Any) -> str:
        """Create, submit and approve (not posted): the id."""
        doc = self.make(doc_type, lines, party, **kw)
        self.docs.submit(doc.doc_id, BOSS)
        return self.docs.approve(doc.doc_id, BOSS).doc_id

    def run(self, doc_type: str, lines: list[Line], party: str = "", **kw: Any) -> Document:
        """Create, submit, approve and post."""
        doc = self.make(doc_type, lines, party, **kw)
        posted = self.docs.approve_through(doc.doc_id, [BOSS])
        assert posted.state == State.POSTED
        return posted

    def stock_in(self, item: str, qty: Decimal, cost: Decimal, wh: str = "W1") -> Document:
        """Stock through a document (adjustment +), so the journal knows about it."""
        return self.run("adjustment", [Line(1, item, qty, cost, warehouse=wh)])

    def po(self, lines: list[Line]) -> Document:
        return self.run("purchase_order", lines, "S1")

    def receipt(self, lines: list[Line]) -> Document:
        return self.run("purchase_receipt", lines, "S1")

    # -- reading -------------------------------------------------------------------------
    def value(self, item: str, wh: str = "W1") -> Decimal:
        return self.jxc.balance(item, wh).value

    def qty(self, item: str, wh: str = "W1") -> Decimal:
        return self.jxc.balance(item, wh).on_hand

    def journal(self, doc_id: str | None = None) -> list[JournalRow]:
        return self.docs.journal(doc_id)

    def net(self, role: str, doc_id: str | None = None) -> Decimal:
        """Debit minus credit of ``role`` (of one document, or all)."""
        return sum((r.debit - r.credit for r in self.journal(doc_id) if r.role == role),
                   D(0))

    def rows_of(self, doc_id: str) -> list[JournalRow]:
        """The journal rows of a document and of its cancellation (red entry, 红冲)."""
        return [r for r in self.journal() if r.doc_id in (doc_id, f"{doc_id}-R")]

    def roles(self, doc_id: str) -> dict[str, Decimal]:
        """Net (debit - credit) per role of a document's rows, its red entry included."""
        out: dict[str, Decimal] = {}
        for r in self.rows_of(doc_id):
            out[r.role] = out.get(r.role, D(0)) + r.debit - r.credit
        return out

    def counters(self, doc_id: str, line_no: int, *names: str) -> dict[str, Decimal]:
        """The named fulfilment counters of a document line (absent ones read 0)."""
        doc = self.docs.get(doc_id)
        return {n: doc.counter(line_no, n) for n in names}

    def stock_value(self) -> Decimal:
        return sum((self.jxc.balance(i, w).value for i in ITEMS for w in WAREHOUSES), D(0))

    def ledger_all(self) -> list[Any]:
        return [(i, line.entry) for i in ITEMS for line in self.jxc.ledger(i)]

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused command must leave untouched."""
        ids = self.docs.ids()
        return {
            "ids": ids,
            "docs": [self.docs.get(i) for i in ids],
            "ledger": self.ledger_all(),
            "journal": self.journal(),
            "balances": self.jxc.balances(),
            "reservations": self.jxc.reservations(),
            "values": [self.jxc.balance(i, w).value for i in ITEMS for w in WAREHOUSES],
        }

    def assert_all_undone(self, item: str) -> None:
        """Every warehouse at 0 / 0.00 for ``item`` and every role netting to zero (after
        every document was cancelled)."""
        for wh in WAREHOUSES:
            b = self.jxc.balance(item, wh)
            assert (b.on_hand, b.value) == (D(0), D("0.00")), wh
        roles = {r.role for r in self.journal()}
        assert {role: self.net(role) for role in roles if self.net(role)} == {}

    def check_books(self) -> None:
        """Debits == credits (overall and per document); inventory role == valuation;
        on hand == ledger sum per item and warehouse."""
        rows = self.journal()
        assert sum((r.debit for r in rows), D(0)) == sum((r.credit for r in rows), D(0))
        for doc_id in {r.doc_id for r in rows}:  # every posting balances on its own
            mine = [r for r in rows if r.doc_id == doc_id]
            assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
        assert self.net("inventory") == self.stock_value()
        # every item, not only those above: the one-call stock valuation agrees too
        assert sum((b.value for b in self.jxc.stock_balances()), D(0)) == self.net("inventory")
        for i in ITEMS:
            for w in WAREHOUSES:
                ledger = self.jxc.ledger(i, w)
                on_hand = sum((x.entry.quantity for x in ledger), D(0))
                assert self.qty(i, w) == on_hand
                if on_hand == 0:
                    assert self.value(i, w) == D(0)


def day(n: int) -> dt.date:
    """A day of March 2026, the month the document scenarios post in."""
    return dt.date(2026, 3, n)


def receipt(shop: Shop, item: str, qty: int, price: str, on: int, wh: str = "W1") -> str:
    """A one-line purchase receipt from S1 dated day ``on``: its document id."""
    return shop.run("purchase_receipt", [Line(1, item, D(qty), D(price), warehouse=wh)],
                    "S1", date=day(on)).doc_id


def delivery(shop: Shop, item: str, qty: int, on: int, wh: str = "W1") -> str:
    """A one-line delivery to C1 dated day ``on`` (at 99.00 a unit): its document id."""
    return shop.run("delivery", [Line(1, item, D(qty), D("99.00"), warehouse=wh)], "C1",
                    date=day(on)).doc_id


def stock(shop: Shop, item: str, wh: str = "W1") -> tuple[Decimal, Decimal]:
    """(on hand, value) of ``item`` in ``wh``."""
    b = shop.jxc.balance(item, wh)
    return b.on_hand, b.value


def transfer(shop: Shop, item: str, qty: int, on: int, source: str = "W1",
             target: str = "W2") -> str:
    """A one-line transfer dated day ``on``: its document id."""
    return shop.run("transfer", [Line(1, item, D(qty), D(0), warehouse=source,
                                      to_warehouse=target)], date=day(on)).doc_id


def landed_cost(shop: Shop, receipt_id: str, amount: str, on: int) -> str:
    """A landed cost (freight from S1) on the receipt ``receipt_id``, split by quantity,
    dated day ``on``: its document id."""
    return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                    attributes={"receipts": [receipt_id], "basis": "quantity"},
                    date=day(on)).doc_id

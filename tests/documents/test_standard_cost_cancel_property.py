"""Property: adjustments (其他出入库), stock counts (盘点), new standards and cancellations (红冲)
of a standard-cost item keep the books equal to the stock (DOMAIN.md sections 2, 5 and 6).

A hypothesis state machine posts, on item S at standard cost in W1, adjustments in (at a random
price, 0 included: stock enters at the standard, the adjustment account takes the price, the
difference is 材料成本差异) and out, stock counts (gain or loss), new standards
(``Accounting.revalue_standard``, in cents or thousandths) and cancellations of any of those
documents still standing (refused when the stock is short: nothing changes). After every step
it vouchers the journal with the Chinese preset and checks:

* every voucher balances, and so does every posting's journal;
* 1405 库存商品 == the stock valuation == on hand x the current standard (when that is in
  cents: under a standard in thousandths the issues round, as the costing allows);
* on hand == the sum of the quantities of the documents still standing;
* 1901 待处理财产损溢 (``adjustment`` and ``count_gain_loss``) == minus what the documents still
  standing booked to it when posted — an adjustment in its quantity x price, the others their
  value at standard: a cancellation undoes its document at the value it booked, whatever the
  standard became since (the difference is 1404 材料成本差异);
* an adjustment in books to 1404 exactly the ``price_variance`` the costing published for it
  (``cost_adjusted``), its price minus the standard value.
"""

from __future__ import annotations

import os
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item
from tests.services.support import Events

from .support import BOSS, TickingClock, setup_master

D = Decimal
ZERO = D(0)
cents = st.integers(1, 3_000).map(lambda c: D(c).scaleb(-2))
#: an adjustment's price: around the standard, or 0 (goods at no cost)
prices = st.one_of(st.just(D("0.00")), cents)
#: standards in cents, or in thousandths (issues round: the cent goes to 1404, never to 1901)
standards = st.one_of(cents, st.integers(1, 30_000).map(lambda m: D(m).scaleb(-3)))


class StandardCancellations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.storage = MemoryStorage()
        self.events = Events()
        self.jxc = Jxc(self.storage, clock=TickingClock(), notifier=self.events)
        setup_master(self.jxc)
        self.jxc.define_item(Item("S", "standard item", costing_method="standard",
                                  standard_cost=D("10.00")))
        self.docs = Documents(self.jxc)
        self.books = Accounting(self.jxc)
        #: documents posted and not cancelled: (quantity, value booked to 1901 when posted)
        self.standing: dict[str, tuple[Decimal, Decimal]] = {}

    def teardown(self) -> None:
        self.storage.close()

    # -- reading --------------------------------------------------------------------------------
    def _on_hand(self) -> Decimal:
        return self.jxc.balance("S", "W1").on_hand

    def _booked(self, doc_id: str) -> Decimal:
        return sum((r.debit - r.credit for r in self.docs.journal(doc_id)
                    if r.role == "inventory"), ZERO)

    def _state(self) -> tuple[object, ...]:
        b = self.jxc.balance("S", "W1")
        return b.on_hand, b.value, len(self.docs.journal())

    def _posted(self, doc_id: str, qty: Decimal, counter: Decimal | None = None) -> None:
        """``counter``: what the document booked to 1901 (credit +), when it is not the value
        it booked to stock."""
        self.standing[doc_id] = (qty, self._booked(doc_id) if counter is None else counter)

    # -- rules ----------------------------------------------------------------------------------
    @rule(qty=st.integers(1, 9).map(D), price=prices)
    def adjust_in(self, qty: Decimal, price: Decimal) -> None:
        doc = self.docs.create("adjustment", [Line(1, "S", qty, price, warehouse="W1")])
        self.docs.approve_through(doc.doc_id, [BOSS])
        amount = qty * price  # (in cents already)
        variance = amount - self._booked(doc.doc_id)
        rows = self.docs.journal(doc.doc_id)
        assert sum((r.debit - r.credit for r in rows if r.role == "material_variance"),
                   ZERO) == variance
        published = [D(e["amount"]) for e in self.events.of("cost_adjusted")
                     if e["reason"] == "price_variance"
                     and e["receipt_ref"] == f"{doc.doc_id}/1"]
        assert published == ([variance] if variance else [])
        self._posted(doc.doc_id, qty, amount)

    @precondition(lambda self: self._on_hand() > 0)
    @rule(share=st.integers(1, 100))
    def adjust_out(self, share: int) -> None:
        qty = max(D(1), (self._on_hand() * share / 100).to_integral_value())
        doc = self.docs.create("adjustment", [Line(1, "S", -qty, warehouse="W1")])
        self.docs.approve_through(doc.doc_id, [BOSS])
        self._posted(doc.doc_id, -qty)

    @rule(delta=st.integers(-6, 6))
    def count(self, delta: int) -> None:
        before = self._on_hand()
        counted = max(ZERO, before + delta)
        pd = self.docs.create("stock_count", [Line(1, "S", ZERO, warehouse="W1")]).doc_id
        self.docs.submit(pd, BOSS)
        self.docs.record_count(pd, {1: counted})
        self.docs.approve(pd, BOSS)
        self.docs.post(pd, BOSS)
        self._posted(pd, counted - before)

    @rule(standard=standards)
    def new_standard(self, standard: Decimal) -> None:
        self.books.revalue_standard("S", standard)

    @precondition(lambda self: bool(self.standing))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        doc_id = data.draw(st.sampled_from(sorted(self.standing)))
        before = self._state()
        try:
            self.docs.cancel(doc_id, BOSS)
        except JxcError as err:  # the stock it would take back is no longer there
            assert err.code == "insufficient_stock", err
            assert self._state() == before
            return
        del self.standing[doc_id]

    # -- invariants -----------------------------------------------------------------------------
    @invariant()
    def books_equal_the_stock(self) -> None:
        rows = self.docs.journal()
        for doc_id in {r.doc_id for r in rows}:
            mine = [r for r in rows if r.doc_id == doc_id]
            assert sum((r.debit for r in mine), ZERO) == sum((r.credit for r in mine), ZERO)
        self.books.generate_vouchers()
        for v in self.books.vouchers():
            assert v.debit == v.credit, v
        b = self.jxc.balance("S", "W1")
        standard = self.jxc.item("S").standard_cost
        if standard == standard.quantize(D("0.01")):  # else issues may leave cents of rounding
            assert b.value == b.on_hand * standard
        assert self.books.account_balance("1405") == b.value
        assert b.on_hand == sum((q for q, _ in self.standing.values()), ZERO)
        assert self.books.account_balance("1901") == -sum(
            (v for _, v in self.standing.values()), ZERO)


TestStandardCancellations = StandardCancellations.TestCase
TestStandardCancellations.settings = settings(
    max_examples=int(os.environ.get("STD_CANCEL_N", "25")), stateful_step_count=15,
    deadline=None, suppress_health_check=[HealthCheck.too_slow])

"""Every posted document can be cancelled again (红冲), whatever happened since, and cancelling
them all leaves nothing behind: a hypothesis state machine (DOMAIN.md §2, §5, §6).

Random multi-line purchase receipts, deliveries, adjustments (lines adding and removing stock,
of one item and warehouse too), stock counts (gains and losses), transfers, supplier and
customer returns, landed costs and purchase invoices of FIFO, LIFO, moving-average and
standard-cost items in two warehouses, dated on random days of the month (so many are
back-dated before later movements), some cancelled out of turn (a refusal is fine). After every
step the journal balances and its inventory role equals the stock valuation. The last step
cancels every document still posted, newest first, pass after pass while any cancellation goes
through: each must end cancelled (no document that can never be cancelled), every warehouse
must be back at 0 / 0.00 and every accounting role must net to zero. Negative stock forbidden
(the default policy); costed per warehouse, and by organisation."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, State, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

from .support import TickingClock

D = Decimal
ZERO = D(0)
U = User("boss", frozenset({"all"}))
ITEMS = ("F", "L", "M", "S")
WAREHOUSES = ("W1", "W2")
PRICES = ("8.00", "10.00", "12.50", "13.33")

in_day_st = st.integers(1, 15)  # receipts mostly before the issues, some after
out_day_st = st.integers(5, 19)
item_st = st.sampled_from(ITEMS)
wh_st = st.sampled_from(WAREHOUSES)
in_line_st = st.tuples(item_st, wh_st, st.integers(1, 6), st.sampled_from(PRICES))
out_line_st = st.tuples(item_st, wh_st, st.integers(1, 2))
adjust_line_st = st.tuples(item_st, wh_st, st.sampled_from((-2, -1, 1, 2)),
                           st.sampled_from(("9.00", "11.00")))


class UndoMachine(RuleBasedStateMachine):
    organisation_scope = False
    sqlite = False

    def __init__(self) -> None:
        super().__init__()
        self.tmp: str | None = None
        storage: Storage
        if self.sqlite:
            self.tmp = tempfile.mkdtemp(prefix="jxc-undo-")
            storage = SqliteStorage(os.path.join(self.tmp, "undo.db"))
        else:
            storage = MemoryStorage()
        self.storage = storage
        j = Jxc(storage, clock=TickingClock(dt.datetime(2026, 3, 20, 8, 0)),
                organisation_scope=self.organisation_scope)
        j.define_item(Item("F", "fifo item", costing_method="fifo"))
        j.define_item(Item("L", "lifo item", costing_method="lifo"))
        j.define_item(Item("M", "moving average item", costing_method="moving_average"))
        j.define_item(Item("S", "standard item", costing_method="standard",
                           standard_cost=D("10.00")))
        for wh in WAREHOUSES:
            j.define_warehouse(Warehouse(wh, wh))
        j.define_party(Party("S1", "supplier", "supplier"))
        j.define_party(Party("C1", "customer", "customer"))
        self.jxc = j
        self.docs = Documents(j)
        #: posted documents in posting order: (doc_id, kind, lines as posted)
        self.posted: list[tuple[str, str, list[Line]]] = []
        self.done = False

    def teardown(self) -> None:
        self.storage.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def post(self, kind: str, lines: list[Line], party: str, day: int,
             **kw: object) -> None:
        try:
            doc = self.docs.create(kind, lines, party=party, date=dt.date(2026, 3, day), **kw)
            self.docs.approve_through(doc.doc_id, [U])
        except JxcError as err:
            event(f"{kind} refused: {err.code}")
            return
        event(f"posted {kind}")
        self.posted.append((doc.doc_id, kind, lines))

    def of_kind(self, *kinds: str) -> list[tuple[str, str, list[Line]]]:
        return [p for p in self.posted if p[1] in kinds
                and self.docs.get(p[0]).state == State.POSTED]

    # -- rules ------------------------------------------------------------------------------
    @precondition(lambda self: not self.done)
    @rule(spec=st.lists(in_line_st, min_size=1, max_size=3), day=in_day_st)
    def receipt(self, spec: list[tuple[str, str, int, str]], day: int) -> None:
        self.post("purchase_receipt", [Line(n, i, D(q), D(p), warehouse=wh)
                                       for n, (i, wh, q, p) in enumerate(spec, start=1)],
                  "S1", day)

    @precondition(lambda self: not self.done)
    @rule(spec=st.lists(out_line_st, min_size=1, max_size=3), day=out_day_st)
    def delivery(self, spec: list[tuple[str, str, int]], day: int) -> None:
        self.post("delivery", [Line(n, i, D(q), D("99.00"), warehouse=wh)
                               for n, (i, wh, q) in enumerate(spec, start=1)], "C1", day)

    @precondition(lambda self: not self.done)
    @rule(spec=st.lists(adjust_line_st, min_size=1, max_size=3), day=out_day_st)
    def adjustment(self, spec: list[tuple[str, str, int, str]], day: int) -> None:
        """其他出入库: lines adding and removing stock, the same item and warehouse possibly
        on both sides (a later line may take what an earlier one added)."""
        self.post("adjustment", [Line(n, i, D(q), D(p), warehouse=wh)
                                 for n, (i, wh, q, p) in enumerate(spec, start=1)], "", day)

    @precondition(lambda self: not self.done)
    @rule(item=item_st, wh=wh_st, added=st.integers(1, 2), removed=st.integers(1, 3),
          day=out_day_st)
    def adjustment_in_and_out(self, item: str, wh: str, added: int, removed: int,
                              day: int) -> None:
        """One item and warehouse added then removed in one document (the removal may take
        the added units: LIFO, or FIFO with nothing older on hand)."""
        self.post("adjustment", [Line(1, item, D(added), D("11.00"), warehouse=wh),
                                 Line(2, item, D(-removed), D("11.00"), warehouse=wh)], "",
                  day)

    @precondition(lambda self: not self.done)
    @rule(spec=st.lists(st.tuples(item_st, st.sampled_from((-2, -1, 1, 2))), min_size=1,
                        max_size=2, unique_by=lambda t: t[0]),
          wh=wh_st, day=out_day_st)
    def stock_count(self, spec: list[tuple[str, int]], wh: str, day: int) -> None:
        """盘点: started, counted at the book quantity plus a gain or a loss, posted; a count
        that cannot be posted (a loss back-dated before its stock) is cancelled, releasing
        its freeze."""
        doc = self.docs.create("stock_count", [Line(n, i, D(0), warehouse=wh)
                                               for n, (i, _) in enumerate(spec, start=1)],
                               date=dt.date(2026, 3, day))
        try:
            self.docs.submit(doc.doc_id, U)
            counted = {n: max(ZERO, self.jxc.balance(i, wh).on_hand + d)
                       for n, (i, d) in enumerate(spec, start=1)}
            self.docs.record_count(doc.doc_id, counted)
            self.docs.approve(doc.doc_id, U)
            self.docs.post(doc.doc_id, U)
        except JxcError as err:
            event(f"stock_count refused: {err.code}")
            self.docs.cancel(doc.doc_id, U)
            return
        event("posted stock_count")
        self.posted.append((doc.doc_id, "stock_count", []))

    @precondition(lambda self: not self.done)
    @rule(item=item_st, src=wh_st, q=st.integers(1, 3), day=out_day_st)
    def transfer(self, item: str, src: str, q: int, day: int) -> None:
        to = WAREHOUSES[1 - WAREHOUSES.index(src)]
        self.post("transfer", [Line(1, item, D(q), D(0), warehouse=src, to_warehouse=to)], "",
                  day)

    @precondition(lambda self: not self.done)
    @rule(item=item_st, src=wh_st, there=st.integers(1, 3), back=st.integers(1, 3),
          day=out_day_st)
    def transfer_both_ways(self, item: str, src: str, there: int, back: int, day: int
                           ) -> None:
        """One transfer document moving an item both ways between the two warehouses."""
        to = WAREHOUSES[1 - WAREHOUSES.index(src)]
        self.post("transfer", [Line(1, item, D(there), D(0), warehouse=src, to_warehouse=to),
                               Line(2, item, D(back), D(0), warehouse=to, to_warehouse=src)],
                  "", day)

    @precondition(lambda self: not self.done and bool(self.of_kind("purchase_receipt")))
    @rule(data=st.data())
    def supplier_return(self, data: st.DataObject) -> None:
        doc_id, _, lines = data.draw(st.sampled_from(self.of_kind("purchase_receipt")))
        line = data.draw(st.sampled_from(lines))
        self.post("purchase_return", [Line(1, line.item, D(1), D("11.00"),
                                           warehouse=line.warehouse,
                                           source=(doc_id, line.line_no))], "S1", 19)

    @precondition(lambda self: not self.done and bool(self.of_kind("delivery")))
    @rule(data=st.data())
    def customer_return(self, data: st.DataObject) -> None:
        doc_id, _, lines = data.draw(st.sampled_from(self.of_kind("delivery")))
        line = data.draw(st.sampled_from(lines))
        self.post("sales_return", [Line(1, line.item, D(1), D("99.00"),
                                        warehouse=line.warehouse,
                                        source=(doc_id, line.line_no))], "C1", 19)

    @precondition(lambda self: not self.done and bool(self.of_kind("purchase_receipt")))
    @rule(data=st.data(), amount=st.sampled_from(("3.00", "5.55", "7.77")),
          basis=st.sampled_from(("quantity", "value")))
    def landed_cost(self, data: st.DataObject, amount: str, basis: str) -> None:
        doc_id, _, _ = data.draw(st.sampled_from(self.of_kind("purchase_receipt")))
        self.post("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1", 19,
                  attributes={"receipts": [doc_id], "basis": basis})

    @precondition(lambda self: not self.done and bool(self.of_kind("purchase_receipt")))
    @rule(data=st.data(), price=st.sampled_from(("9.00", "10.00", "11.11", "14.00")))
    def purchase_invoice(self, data: st.DataObject, price: str) -> None:
        doc_id, _, lines = data.draw(st.sampled_from(self.of_kind("purchase_receipt")))
        line = data.draw(st.sampled_from(lines))
        self.post("purchase_invoice", [Line(1, line.item, line.quantity, D(price),
                                            warehouse=line.warehouse,
                                            source=(doc_id, line.line_no))], "S1", 19)

    @precondition(lambda self: not self.done and bool(self.posted))
    @rule(data=st.data())
    def cancel_one(self, data: st.DataObject) -> None:
        doc_id, kind, _ = data.draw(st.sampled_from(self.posted))
        try:
            self.docs.cancel(doc_id, U)
        except JxcError as err:
            event(f"cancel of a {kind} refused: {err.code}")
            return
        event(f"cancelled a {kind}")

    @precondition(lambda self: not self.done and len(self.posted) >= 5)
    @rule()
    def undo_everything(self) -> None:
        """Newest first, pass after pass while any cancellation goes through."""
        self.done = True
        left = [p[0] for p in self.posted if self.docs.get(p[0]).state == State.POSTED]
        while left:
            refused: list[str] = []
            for doc_id in reversed(left):
                try:
                    self.docs.cancel(doc_id, U)
                except JxcError:
                    refused.append(doc_id)
                else:
                    self.books_agree()
            if len(refused) == len(left):
                break
            left = refused[::-1]
        assert left == [], f"never cancelled: {left}"
        for b in self.jxc.balances():
            assert b.on_hand == ZERO, b
        for item in ITEMS:
            for wh in WAREHOUSES:
                assert self.jxc.balance(item, wh).value == ZERO, (item, wh)
        net: dict[str, Decimal] = {}
        for r in self.docs.journal():
            net[r.role] = net.get(r.role, ZERO) + r.debit - r.credit
        assert {k: v for k, v in net.items() if v} == {}
        event("everything undone")

    @precondition(lambda self: self.done)
    @rule()
    def after_the_undo(self) -> None:
        """Nothing is left to do once everything is undone (a run may draw further steps)."""
        assert all(self.docs.get(p[0]).state != State.POSTED for p in self.posted)

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def books_agree(self) -> None:
        rows = self.docs.journal()
        assert sum((r.debit for r in rows), ZERO) == sum((r.credit for r in rows), ZERO)
        inventory = sum((r.debit - r.credit for r in rows if r.role == "inventory"), ZERO)
        assert inventory == sum((b.value for b in self.jxc.stock_balances()), ZERO)


class SqliteUndoMachine(UndoMachine):
    sqlite = True


class OrganisationUndoMachine(UndoMachine):
    organisation_scope = True


SETTINGS = settings(max_examples=int(os.environ.get("UNDO_N", "25")), stateful_step_count=25,
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])
TestUndoEverything = UndoMachine.TestCase
TestUndoEverything.settings = SETTINGS
TestUndoEverythingSqlite = SqliteUndoMachine.TestCase
TestUndoEverythingSqlite.settings = SETTINGS
TestUndoEverythingByOrganisation = OrganisationUndoMachine.TestCase
TestUndoEverythingByOrganisation.settings = SETTINGS

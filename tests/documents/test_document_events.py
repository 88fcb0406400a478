"""Domain events of documents (domain rules 8) and replenishment (domain rules 5), on both
adapters: every action that changes a document records a lifecycle event in its unit of work
(outbox, delivered after commit); the reservation_short of an approved sales order names the
order and its lines; suggestions without a supplier are reported, not drafted; purchase orders
not posted yet count against new suggestions, and a rule of an unknown item or warehouse is
refused; posting again checks the permission first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Document, Line, State, User, Workflow
from jxc_core.errors import JxcError
from jxc_core.ports import Event
from jxc_core.services import (
    APPROVAL_STEP_EVENT,
    CREATED_EVENT,
    LIFECYCLE_EVENTS,
    Documents,
    DraftedOrders,
)
from jxc_core.stock import PurchaseSuggestion, ReplenishmentRule

from .support import BOSS, Shop

D = Decimal

BUYER = User("bob", frozenset({"buyer"}))
MANAGER = User("mia", frozenset({"manager"}))
CFO = User("carl", frozenset({"cfo"}))
CLERK = User("cleo", frozenset({"clerk"}))

#: two approval steps, and roles for the other actions
WORKFLOW = {
    "name": "purchase",
    "doc_types": ["purchase_order"],
    "actions": {"submit": ["buyer"], "post": ["buyer"], "cancel": ["buyer", "manager"],
                "close": ["manager"]},
    "steps": [{"name": "manager", "role": "manager"}, {"name": "finance", "role": "cfo"}],
}


def with_workflow(shop: Shop) -> Documents:
    return Documents(shop.jxc, workflows={"purchase_order": Workflow.from_data(WORKFLOW)})


def pending(shop: Shop) -> list[Event]:
    """The events in the outbox (the shop has no notifier: nothing is delivered)."""
    with shop.jxc.storage.unit_of_work() as uow:
        return uow.outbox.pending()


def new_events(shop: Shop, before: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    seen = {e.event_id for e in before}
    return [(e.type, e.payload) for e in pending(shop) if e.event_id not in seen]


def po_lines(qty: str = "10") -> list[Line]:
    return [Line(1, "A", D(qty), D("2.50"), warehouse="W1")]


def lifecycle(doc: Document, action: str, src: str, dst: str, user: User,
              **more: str) -> dict[str, Any]:
    """The payload of a lifecycle event."""
    return {"doc_id": doc.doc_id, "doc_type": doc.doc_type.value, "action": action,
            "from": src, "to": dst, "user": user.name, **more}


# -- 1. a lifecycle event per action ------------------------------------------------------------

def test_every_action_records_its_lifecycle_event(shop: Shop) -> None:
    po = shop.make("purchase_order", po_lines(), "S1")
    assert new_events(shop, []) == [(CREATED_EVENT, {  # a new draft is announced
        "doc_id": po.doc_id, "doc_type": "purchase_order", "action": "create", "from": None,
        "to": "draft", "user": po.created_by, "party": "S1"})]
    steps = [("submit", "draft", "submitted", "please"), ("approve", "submitted", "approved", ""),
             ("post", "approved", "posted", "ok"), ("close", "posted", "closed", "done")]
    for action, src, dst, comment in steps:
        before = pending(shop)
        getattr(shop.docs, action)(po.doc_id, BOSS, comment)
        more = {"comment": comment} if comment else {}
        assert new_events(shop, before) == [
            (LIFECYCLE_EVENTS[action], lifecycle(po, action, src, dst, BOSS, **more))]
    assert [LIFECYCLE_EVENTS[a] for a, *_ in steps] == [
        "document_submitted", "document_approved", "document_posted", "document_closed"]
    # posting a closed order again changes nothing: no event either
    before = pending(shop)
    shop.docs.post(po.doc_id, BOSS)
    assert new_events(shop, before) == []


def test_reject_and_cancel_record_theirs(shop: Shop) -> None:
    po = shop.make("purchase_order", po_lines(), "S1")
    shop.docs.submit(po.doc_id, BOSS)
    before = pending(shop)
    shop.docs.reject(po.doc_id, BOSS, "wrong price")
    assert new_events(shop, before) == [("document_rejected", lifecycle(
        po, "reject", "submitted", "draft", BOSS, comment="wrong price"))]
    before = pending(shop)
    shop.docs.cancel(po.doc_id, BOSS)
    assert new_events(shop, before) == [("document_cancelled", lifecycle(
        po, "cancel", "draft", "cancelled", BOSS))]


def test_the_events_of_effects_come_first_the_lifecycle_event_last(shop: Shop) -> None:
    doc = shop.make("adjustment", [Line(1, "A", D(5), D("1.00"), warehouse="W1")])
    shop.docs.submit(doc.doc_id, BOSS)
    shop.docs.approve(doc.doc_id, BOSS)
    before = pending(shop)
    shop.docs.post(doc.doc_id, BOSS)
    assert [t for t, _ in new_events(shop, before)] == ["stock_changed", "document_posted"]
    before = pending(shop)
    shop.docs.cancel(doc.doc_id, BOSS)
    got = new_events(shop, before)
    assert [t for t, _ in got] == ["stock_changed", "document_cancelled"]
    assert got[-1][1] == lifecycle(doc, "cancel", "posted", "cancelled", BOSS)


def test_approval_steps_record_a_step_event_then_the_approval(shop: Shop) -> None:
    docs = with_workflow(shop)
    po = docs.create("purchase_order", po_lines(), party="S1")
    before = pending(shop)
    docs.submit(po.doc_id, BUYER)
    assert new_events(shop, before) == [
        ("document_submitted", lifecycle(po, "submit", "draft", "submitted", BUYER)),
        ("approval_requested", {"doc_id": po.doc_id, "step": "manager", "role": "manager"})]
    before = pending(shop)
    docs.approve(po.doc_id, MANAGER, "fine")
    assert new_events(shop, before) == [
        (APPROVAL_STEP_EVENT, lifecycle(po, "approve", "submitted", "submitted", MANAGER,
                                        comment="fine", step="manager")),
        ("approval_requested", {"doc_id": po.doc_id, "step": "finance", "role": "cfo"})]
    assert APPROVAL_STEP_EVENT == "document_approval_step"
    before = pending(shop)
    docs.approve(po.doc_id, CFO)
    assert new_events(shop, before) == [
        ("document_approved", lifecycle(po, "approve", "submitted", "approved", CFO,
                                        step="finance"))]


def test_a_refused_action_records_no_event(shop: Shop) -> None:
    docs = with_workflow(shop)
    po = docs.create("purchase_order", po_lines(), party="S1")
    docs.submit(po.doc_id, BUYER)
    before = pending(shop)
    with pytest.raises(JxcError) as err:
        docs.approve(po.doc_id, CFO)  # the manager approves first
    assert err.value.code == "not_allowed"
    with pytest.raises(JxcError) as err:
        docs.post(po.doc_id, BUYER)  # not approved yet
    assert err.value.code == "invalid_transition"
    assert new_events(shop, before) == []


def test_the_notifier_gets_the_events_after_the_commit(shop: Shop) -> None:
    """Each event reaches the notifier once its command has committed: the document read
    from inside the notifier is already in the event's ``to`` state."""
    seen: list[tuple[str, str, str]] = []

    class Reader:
        def notify(self, event: Event) -> None:
            if event.type.startswith("document_"):
                state = shop.docs.get(event.payload["doc_id"]).state.value
                seen.append((event.type, event.payload["to"], state))

    shop.jxc.notifier = Reader()
    so = shop.make("sales_order", [Line(1, "A", D(1), D("9.00"), warehouse="W1")], "C1")
    shop.docs.submit(so.doc_id, BOSS)
    shop.docs.reject(so.doc_id, BOSS)
    shop.docs.submit(so.doc_id, BOSS)
    shop.docs.approve(so.doc_id, BOSS)
    shop.docs.cancel(so.doc_id, BOSS)
    assert seen == [("document_created", "draft", "draft"),
                    ("document_submitted", "submitted", "submitted"),
                    ("document_rejected", "draft", "draft"),
                    ("document_submitted", "submitted", "submitted"),
                    ("document_approved", "approved", "approved"),
                    ("document_cancelled", "cancelled", "cancelled")]
    assert pending(shop) == []


# -- 2. reservation_short names the sales order ------------------------------------------------

@pytest.mark.parametrize("reserve", [True, False], ids=["reserve", "check_only"])
def test_reservation_short_names_the_order_and_its_lines(shop: Shop, reserve: bool) -> None:
    shop.stock_in("A", D(3), D("1.00"))
    shop.stock_in("C", D(10), D("1.00"))
    docs = Documents(shop.jxc, reserve_on_approve=reserve)
    so = docs.create("sales_order", [Line(1, "C", D(2), D("9.00"), warehouse="W1"),
                                     Line(2, "A", D(5), D("9.00"), warehouse="W1"),
                                     Line(3, "B", D(1), D("9.00"), warehouse="W1")],
                     party="C1")
    docs.submit(so.doc_id, BOSS)
    before = pending(shop)
    approved = docs.approve(so.doc_id, BOSS)
    got = new_events(shop, before)
    # reserving on approval: the grants are an event of their own (stock_reserved)
    assert [t for t, _ in got] == ["stock_reserved"] * reserve + ["reservation_short",
                                                                  "document_approved"]
    if reserve:
        assert [(r["demand"], r["quantity"]) for r in got[0][1]["reservations"]] == [
            (f"{so.doc_id}/1", "2"), (f"{so.doc_id}/2", "3")]
    payload = got[int(reserve)][1]
    assert (payload["doc_id"], payload["doc_type"]) == (so.doc_id, "sales_order")
    short = [{"item": "A", "warehouse": "W1", "lot": "", "wanted": "5", "available": "3",
              "short": "2", "line_no": "2", "demand": f"{so.doc_id}/2"},
             {"item": "B", "warehouse": "W1", "lot": "", "wanted": "1", "available": "0",
              "short": "1", "line_no": "3", "demand": f"{so.doc_id}/3"}]
    assert payload["lines"] == short
    assert approved.attributes["short"] == short
    if reserve:  # the demand names the reservations the line got
        assert {r.demand: r.quantity for r in shop.jxc.reservations()} == {
            f"{so.doc_id}/1": D(2), f"{so.doc_id}/2": D(3)}


def test_a_sales_order_served_in_full_reports_nothing_short(shop: Shop) -> None:
    shop.stock_in("A", D(5), D("1.00"))
    so = shop.make("sales_order", [Line(1, "A", D(5), D("9.00"), warehouse="W1")], "C1")
    shop.docs.submit(so.doc_id, BOSS)
    before = pending(shop)
    assert shop.docs.approve(so.doc_id, BOSS).attributes["short"] == []
    assert [t for t, _ in new_events(shop, before)] == ["stock_reserved", "document_approved"]


# -- 3. suggestions without a supplier ---------------------------------------------------------

def suggestion(item: str, supplier: str, qty: str = "10") -> PurchaseSuggestion:
    return PurchaseSuggestion(item, "W1", supplier, D(0), D(qty), D("2.50"))


def test_suggestions_without_supplier_are_reported_not_drafted(shop: Shop) -> None:
    wanted = [suggestion("A", "S1"), suggestion("B", ""), suggestion("C", "S1"),
              suggestion("KG", "")]
    before = pending(shop)
    made = shop.docs.draft_purchase_orders(wanted, idempotency_key="plan-1")
    assert isinstance(made, DraftedOrders)
    [po] = made
    assert (po.party, [line.item for line in po.lines]) == ("S1", ["A", "C"])
    assert [(t, p["doc_id"], p["party"]) for t, p in new_events(shop, before)] == [
        (CREATED_EVENT, po.doc_id, "S1")]
    assert made.unassigned == (wanted[1], wanted[3])
    assert shop.docs.ids("purchase_order") == [po.doc_id]
    again = shop.docs.draft_purchase_orders(wanted, idempotency_key="plan-1")
    assert [d.doc_id for d in again] == [po.doc_id]
    assert again.unassigned == made.unassigned
    assert shop.docs.ids("purchase_order") == [po.doc_id]


def test_only_suggestions_without_supplier_draft_nothing(shop: Shop) -> None:
    before = shop.snapshot()
    made = shop.docs.draft_purchase_orders([suggestion("A", "")])
    assert made == [] and made.unassigned == (suggestion("A", ""),)
    assert shop.snapshot() == before


def test_a_rule_without_supplier_suggests_and_is_reported(shop: Shop) -> None:
    rules = [ReplenishmentRule("A", "W1", D(5), max_stock=D(20), supplier="S1"),
             ReplenishmentRule("B", "W1", D(5), max_stock=D(20))]
    got = shop.docs.suggest_purchases(rules)
    assert [(s.item, s.supplier, s.quantity) for s in got] == [("A", "S1", D(20)),
                                                               ("B", "", D(20))]
    made = shop.docs.draft_purchase_orders(got)
    assert [d.party for d in made] == ["S1"]
    assert [s.item for s in made.unassigned] == ["B"]


# -- 4. purchase orders not posted yet count against new suggestions ---------------------------

RULES = [ReplenishmentRule("A", "W1", D(10), max_stock=D(40), supplier="S1")]


def test_asking_twice_does_not_suggest_the_drafted_quantity_again(shop: Shop) -> None:
    [first] = shop.docs.suggest_purchases(RULES)
    assert (first.projected, first.pending_orders, first.quantity) == (D(0), D(0), D(40))
    [po] = shop.docs.draft_purchase_orders([first])
    assert shop.docs.suggest_purchases(RULES) == []  # drafted: pending
    shop.docs.submit(po.doc_id, BOSS)
    assert shop.docs.suggest_purchases(RULES) == []  # submitted
    shop.docs.approve(po.doc_id, BOSS)
    assert shop.docs.suggest_purchases(RULES) == []  # approved, not posted yet
    shop.docs.post(po.doc_id, BOSS)
    assert shop.jxc.balance("A", "W1").projected == D(40)  # now on order
    assert shop.docs.suggest_purchases(RULES) == []  # counted once, not twice


def test_a_cancelled_draft_no_longer_counts(shop: Shop) -> None:
    [po] = shop.docs.draft_purchase_orders(shop.docs.suggest_purchases(RULES))
    shop.docs.cancel(po.doc_id, BOSS)
    [again] = shop.docs.suggest_purchases(RULES)
    assert (again.pending_orders, again.quantity) == (D(0), D(40))


def test_any_open_purchase_order_counts_in_its_own_unit(shop: Shop) -> None:
    """A purchase order entered by hand counts as well, converted to base units (箱 = 12);
    another warehouse's or a sales order's lines do not."""
    shop.make("purchase_order", [Line(1, "A", D(1), D("30.00"), warehouse="W1", unit="箱"),
                                 Line(2, "A", D(50), D("2.50"), warehouse="W2")], "S1")
    shop.make("sales_order", [Line(1, "A", D(7), D("9.00"), warehouse="W1")], "C1")
    rule = ReplenishmentRule("A", "W1", D(20), max_stock=D(40), supplier="S1")
    [s] = shop.docs.suggest_purchases([rule])
    assert (s.projected, s.pending_orders, s.quantity) == (D(0), D(12), D(28))
    # 12 on the way is above a reorder point of 10: nothing to order
    assert shop.docs.suggest_purchases(RULES) == []


#: (id, the rules, what is unknown): a rule of an unknown item or warehouse, alone or after
#: a good one
UNKNOWN = [
    ("warehouse", [ReplenishmentRule("A", "W9", D(5), supplier="S1")], ("warehouse", "W9")),
    ("item", [ReplenishmentRule("NOPE", "W1", D(5), supplier="S1")], ("item", "NOPE")),
    ("warehouse_after_a_good_rule", [*RULES, ReplenishmentRule("B", "W9", D(5))],
     ("warehouse", "W9")),
    ("item_and_warehouse", [ReplenishmentRule("NOPE", "W9", D(5))], ("item", "NOPE")),
]


@pytest.mark.parametrize(("rules", "unknown"), [(r, u) for _, r, u in UNKNOWN],
                         ids=[i for i, _, _ in UNKNOWN])
def test_a_rule_of_an_unknown_item_or_warehouse_is_refused(
        shop: Shop, rules: list[ReplenishmentRule], unknown: tuple[str, str]) -> None:
    """An unknown warehouse used to give a suggestion computed from a projected 0 (a balance
    of a warehouse that does not exist), which no order could take."""
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.suggest_purchases(rules)
    assert err.value.code == "not_found"
    assert (err.value.data["kind"], err.value.data["key"]) == unknown
    assert shop.snapshot() == before


# -- 5. posting again checks the permission first ----------------------------------------------

def test_posting_a_posted_document_again_needs_the_post_role(shop: Shop) -> None:
    docs = with_workflow(shop)
    po = docs.create("purchase_order", po_lines(), party="S1")
    docs.submit(po.doc_id, BUYER)
    docs.approve(po.doc_id, MANAGER)
    docs.approve(po.doc_id, CFO)
    posted = docs.post(po.doc_id, BUYER)
    assert docs.post(po.doc_id, BUYER) == posted  # idempotent for who may post
    for state in (State.POSTED, State.CLOSED):
        before = shop.snapshot()
        for call in (lambda: docs.post(po.doc_id, CLERK),
                     lambda: docs.post_many([po.doc_id], CLERK)):
            with pytest.raises(JxcError) as err:
                call()
            assert err.value.code == "not_allowed"
            assert {k: err.value.data[k] for k in ("user", "action", "doc_id", "state")} == {
                "user": "cleo", "action": "post", "doc_id": po.doc_id, "state": state.value}
        assert shop.snapshot() == before
        if state == State.POSTED:
            docs.close(po.doc_id, MANAGER)
    assert docs.post(po.doc_id, BUYER).state == State.CLOSED


@pytest.mark.parametrize("reserve", [True, False], ids=["reserve", "check_only"])
def test_lines_of_one_item_share_what_is_available(shop: Shop, reserve: bool) -> None:
    """Two lines of 6 of one item against 10 on hand: the second is short by 2 whether the
    approval reserves or only checks (the check took each line against all 10)."""
    shop.stock_in("C", D(10), D("1.00"))
    docs = Documents(shop.jxc, reserve_on_approve=reserve)
    so = docs.create("sales_order", [Line(1, "C", D(6), D("9.00"), warehouse="W1"),
                                     Line(2, "C", D(6), D("9.00"), warehouse="W1")],
                     party="C1")
    docs.submit(so.doc_id, BOSS)
    before = pending(shop)
    approved = docs.approve(so.doc_id, BOSS)
    short = [{"item": "C", "warehouse": "W1", "lot": "", "wanted": "6", "available": "4",
              "short": "2", "line_no": "2", "demand": f"{so.doc_id}/2"}]
    assert approved.attributes["short"] == short
    events = [p for t, p in new_events(shop, before) if t == "reservation_short"]
    assert [p["lines"] for p in events] == [short]
    assert sum((r.quantity for r in shop.jxc.reservations()), D(0)) == (D(10) if reserve
                                                                         else D(0))

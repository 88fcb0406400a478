"""The core lifecycle (domain rules 5): every allowed transition, every refused one, idempotent
posting, cancel before posting, the export of the table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import (
    TRANSITIONS,
    Action,
    Document,
    Line,
    State,
    Workflow,
    lifecycle_data,
    next_state,
)
from jxc_core.errors import JxcError

from .support import BOSS, Shop

D = Decimal

#: the path of actions that brings a fresh draft to each state
PATH: dict[State, list[Action]] = {
    State.DRAFT: [],
    State.SUBMITTED: [Action.SUBMIT],
    State.APPROVED: [Action.SUBMIT, Action.APPROVE],
    State.POSTED: [Action.SUBMIT, Action.APPROVE, Action.POST],
    State.CLOSED: [Action.SUBMIT, Action.APPROVE, Action.POST, Action.CLOSE],
    State.CANCELLED: [Action.CANCEL],
}

EXPECTED = {
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.DRAFT, Action.CANCEL): State.CANCELLED,
    (State.SUBMITTED, Action.APPROVE): State.APPROVED,
    (State.SUBMITTED, Action.REJECT): State.DRAFT,
    (State.SUBMITTED, Action.CANCEL): State.CANCELLED,
    (State.APPROVED, Action.POST): State.POSTED,
    (State.APPROVED, Action.CANCEL): State.CANCELLED,
    (State.POSTED, Action.CLOSE): State.CLOSED,
    (State.POSTED, Action.CANCEL): State.CANCELLED,
}

REFUSED = [(s, a) for s in State for a in Action if (s, a) not in EXPECTED]


def act(shop: Shop, doc_id: str, action: Action) -> Document:
    return {
        Action.SUBMIT: shop.docs.submit, Action.APPROVE: shop.docs.approve,
        Action.REJECT: shop.docs.reject, Action.POST: shop.docs.post,
        Action.CLOSE: shop.docs.close, Action.CANCEL: shop.docs.cancel,
    }[action](doc_id, BOSS)


#: ``close`` ends an order's life; the other document types are never closed
NOT_ORDER = {pair: to for pair, to in EXPECTED.items() if pair[1] != Action.CLOSE}
NOT_ORDER_REFUSED = [(s, a) for s in State if s != State.CLOSED for a in Action
                     if (s, a) not in NOT_ORDER]


def doc_in(shop: Shop, state: State, kind: str = "adjustment") -> Document:
    """An adjustment (+2 of A at 5.00), or a purchase order of 2 A at 5.00, brought to
    ``state``."""
    line = Line(1, "A", D(2), D("5.00"), warehouse="W1")
    doc = (shop.make(kind, [line], "S1") if kind == "purchase_order"
           else shop.make(kind, [line]))
    for a in PATH[state]:
        doc = act(shop, doc.doc_id, a)
    assert doc.state == state
    return doc


def test_the_table_is_exactly_the_documented_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED
    assert len(REFUSED) == len(State) * len(Action) - 9


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED))
def test_next_state_of_every_allowed_transition(state: State, action: Action) -> None:
    assert next_state(state, action) == EXPECTED[(state, action)]
    assert next_state(state.value, action.value) == EXPECTED[(state, action)]


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_next_state_refuses_every_other_pair(state: State, action: Action) -> None:
    with pytest.raises(JxcError) as err:
        next_state(state, action)
    assert err.value.code == "invalid_transition"
    assert err.value.data == {"state": state.value, "action": action.value}


def test_next_state_refuses_unknown_names() -> None:
    with pytest.raises(JxcError) as err:
        next_state("archived", "submit")
    assert err.value.code == "invalid_transition"
    assert err.value.data == {"state": "archived", "action": "submit"}
    with pytest.raises(JxcError) as err2:
        next_state("draft", "delete")
    assert err2.value.data == {"state": "draft", "action": "delete"}


@pytest.mark.parametrize(("kind", "state", "action"),
                         [("purchase_order", *pair) for pair in sorted(EXPECTED)]
                         + [("adjustment", *pair) for pair in sorted(NOT_ORDER)])
def test_service_takes_every_allowed_transition(shop: Shop, kind: str, state: State,
                                                action: Action) -> None:
    doc = doc_in(shop, state, kind)
    after = act(shop, doc.doc_id, action)
    assert after.state == EXPECTED[(state, action)]
    last = after.history[-1]
    assert (last.action, last.user, last.from_state, last.to_state) == (
        action.value, "boss", state.value, EXPECTED[(state, action)].value)
    assert shop.docs.get(doc.doc_id) == after
    assert len(after.history) == len(PATH[state]) + 1
    shop.check_books()


@pytest.mark.parametrize(("kind", "state", "action"),
                         [("purchase_order", *pair) for pair in REFUSED]
                         + [("adjustment", *pair) for pair in NOT_ORDER_REFUSED])
def test_service_refuses_every_other_pair(shop: Shop, kind: str, state: State,
                                          action: Action) -> None:
    doc = doc_in(shop, state, kind)
    before = shop.snapshot()
    if action == Action.POST and state in (State.POSTED, State.CLOSED):
        assert act(shop, doc.doc_id, action) == doc  # posting again changes nothing
    else:
        with pytest.raises(JxcError) as err:
            act(shop, doc.doc_id, action)
        assert err.value.code == "invalid_transition"
        if (state, action) == (State.POSTED, Action.CLOSE):  # in the table, not for it
            assert kind != "purchase_order"
            assert err.value.data["doc_type"] == kind and err.value.reason_zh
            assert err.value.data["reason"].startswith("close ends an order")
            del err.value.data["doc_type"], err.value.data["reason"]
        assert err.value.data == {"state": state.value, "action": action.value}
    assert shop.snapshot() == before


def test_posting_a_posted_document_changes_nothing(shop: Shop) -> None:
    doc = doc_in(shop, State.POSTED)
    assert shop.qty("A") == 2
    assert shop.value("A") == D("10.00")
    before = shop.snapshot()
    again = shop.docs.post(doc.doc_id, BOSS)
    assert again == doc
    assert shop.counters(doc.doc_id, 1, "quantity", "value") == {
        "quantity": D(2), "value": D("10.00")}
    assert shop.snapshot() == before
    assert len(shop.journal(doc.doc_id)) == 2


def test_posting_a_posted_receipt_with_a_key_twice_changes_nothing(shop: Shop) -> None:
    po = shop.po([Line(1, "A", D(10), D(3), warehouse="W1")])
    rc = shop.make("purchase_receipt", [Line(1, "A", D(4), D(3), warehouse="W1",
                                             source=(po.doc_id, 1))], "S1")
    shop.docs.submit(rc.doc_id, BOSS)
    shop.docs.approve(rc.doc_id, BOSS)
    first = shop.docs.post(rc.doc_id, BOSS, idempotency_key="post-once")
    before = shop.snapshot()
    assert shop.docs.post(rc.doc_id, BOSS, idempotency_key="post-once") == first
    assert shop.docs.post(rc.doc_id, BOSS) == first
    assert shop.snapshot() == before
    assert shop.docs.get(po.doc_id).counter(1, "received") == 4
    assert shop.jxc.balance("A", "W1").on_order == 6


@pytest.mark.parametrize("state", [State.DRAFT, State.SUBMITTED, State.APPROVED])
def test_cancel_before_posting_only_changes_the_state(shop: Shop, state: State) -> None:
    doc = doc_in(shop, state)
    before = shop.snapshot()
    cancelled = shop.docs.cancel(doc.doc_id, BOSS, comment="not needed")
    assert cancelled.state == State.CANCELLED
    assert cancelled.history[-1].comment == "not needed"
    assert cancelled.lines == doc.lines
    assert cancelled.counters == {}
    after = shop.snapshot()
    for key in ("ids", "ledger", "journal", "balances", "values", "reservations"):
        assert after[key] == before[key]
    assert shop.docs.ids(state="cancelled") == [doc.doc_id]


def test_cancel_of_a_posted_document_posts_the_reversal(shop: Shop) -> None:
    doc = doc_in(shop, State.POSTED)
    shop.docs.cancel(doc.doc_id, BOSS)
    assert shop.qty("A") == 0
    assert shop.value("A") == 0
    assert shop.roles(doc.doc_id) == {"inventory": 0, "adjustment": 0}
    assert len(shop.rows_of(doc.doc_id)) == 4  # the entry and its red entry
    kinds = [x.entry.kind for x in shop.jxc.ledger("A")]
    assert kinds == ["adjustment_in", "adjustment_out"]
    shop.check_books()


def test_numbers_follow_the_prefix_and_the_day(shop: Shop) -> None:
    a = shop.make("adjustment", [Line(1, "A", D(1), warehouse="W1")])
    b = shop.make("adjustment", [Line(1, "A", D(1), warehouse="W1")])
    po = shop.make("purchase_order", [Line(1, "A", D(1), warehouse="W1")], "S1")
    assert (a.doc_id, b.doc_id, po.doc_id) == (
        "QT20260302-0001", "QT20260302-0002", "CG20260302-0001")


def test_mermaid_export_contains_every_transition() -> None:
    chart = Workflow.from_data({"name": "plain"}).to_mermaid()
    assert chart.startswith("stateDiagram-v2")
    for (state, action), target in EXPECTED.items():
        assert f"    {state.value} --> {target.value}: {action.value}" in chart
    assert "    [*] --> draft" in chart
    assert "    closed --> [*]" in chart
    assert "    cancelled --> [*]" in chart


def test_lifecycle_data_is_the_table_as_plain_data() -> None:
    data = lifecycle_data()
    assert len(data) == 9
    assert {(d["from"], d["action"], d["to"]) for d in data} == {
        (s.value, a.value, t.value) for (s, a), t in EXPECTED.items()}
    assert {"from": "posted", "action": "cancel", "to": "cancelled"} in data
    assert all(set(d) == {"from", "action", "to"} for d in data)


def test_the_exports_draw_close_only_for_orders() -> None:
    """``close`` ends an order's life only: the table of a receipt leaves it out, and so does
    the diagram of a workflow for receipts (they showed posted --> closed for every type)."""
    receipt = {(d["from"], d["action"]) for d in lifecycle_data("purchase_receipt")}
    order = {(d["from"], d["action"]) for d in lifecycle_data("purchase_order")}
    assert ("posted", "close") not in receipt and ("posted", "close") in order
    assert order - receipt == {("posted", "close")}
    chart = Workflow.from_data({"name": "in", "doc_types": ["purchase_receipt"]}).to_mermaid()
    assert "closed" not in chart and "posted --> cancelled" in chart
    both = Workflow.from_data({"name": "buy", "doc_types": ["purchase_receipt",
                                                            "purchase_order"]}).to_mermaid()
    assert "posted --> closed: close" in both and "closed --> [*]" in both


def test_an_action_is_recorded_at_the_clock_time_a_posting_at_its_stock_moment(
        shop: Shop) -> None:
    """A document dated another day (earlier, later): its submit, reject, approve and the
    cancel of an unposted one are recorded at the service clock's time (docs/approvals.md,
    ``at``); its posting, and the cancel of a posted document, at the moment its stock
    moved (the document's date with the clock's time of day)."""
    for day in (dt.date(2026, 2, 10), dt.date(2026, 3, 20)):
        line = [Line(1, "A", D(1), D(1), warehouse="W1")]
        doc = shop.docs.create("purchase_receipt", line, party="S1", date=day)
        shop.docs.submit(doc.doc_id, BOSS)
        shop.docs.reject(doc.doc_id, BOSS, "no")
        shop.docs.submit(doc.doc_id, BOSS)
        shop.docs.approve(doc.doc_id, BOSS)
        if day > shop.jxc.clock.now().date():
            shop.docs.cancel(doc.doc_id, BOSS)  # a receipt dated ahead is not posted here
            acts = shop.docs.get(doc.doc_id).history
            assert [h.action for h in acts] == ["submit", "reject", "submit", "approve",
                                                 "cancel"]
            assert all(h.at.date() == dt.date(2026, 3, 2) for h in acts)
            continue
        shop.docs.post(doc.doc_id, BOSS)
        shop.docs.cancel(doc.doc_id, BOSS)
        acts = shop.docs.get(doc.doc_id).history
        assert [h.action for h in acts] == ["submit", "reject", "submit", "approve", "post",
                                             "cancel"]
        assert [h.at.date() for h in acts] == [dt.date(2026, 3, 2)] * 4 + [day] * 2
        assert [h.at for h in acts[:4]] == sorted(h.at for h in acts[:4])

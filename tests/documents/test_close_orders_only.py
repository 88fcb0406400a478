"""``close`` ends an order's life (purchase and sales orders); no other document is closed.

A closed receipt or delivery could be neither invoiced, returned nor cancelled (the source of
a return or an invoice must be posted, and ``closed`` is final): its GRNI stayed on the books
for good. So ``close`` of any document that is no order is refused (``invalid_transition``
with ``doc_type`` and a reason), ``available_actions`` never offers it, and a receipt or
delivery closed by an earlier version is still a source as if posted.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from jxc_core.documents import (
    CLOSABLE,
    Action,
    DocType,
    Document,
    Line,
    State,
    User,
    Workflow,
    document_to_data,
    next_state,
    offered_actions,
)
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents

from .support import BOSS, Shop

D = Decimal
MANAGER = User("mgr", frozenset({"manager"}))


def _grni(shop: Shop) -> Decimal:
    return shop.net("grni")


def _posted_of_every_kind(shop: Shop) -> dict[str, Document]:
    """A posted document of every type that is no order."""
    shop.stock_in("C", D(20), D("5.00"))
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "C", D(4), D("9.00"), warehouse="W1")], "C1")
    out = {
        "purchase_receipt": rk,
        "delivery": dl,
        "purchase_return": shop.run("purchase_return", [Line(
            1, "A", D(1), D("10.00"), warehouse="W1", source=(rk.doc_id, 1))], "S1"),
        "purchase_invoice": shop.run("purchase_invoice", [Line(
            1, "A", D(2), D("10.00"), source=(rk.doc_id, 1))], "S1"),
        "sales_return": shop.run("sales_return", [Line(
            1, "C", D(1), D("9.00"), warehouse="W1", source=(dl.doc_id, 1))], "C1"),
        "sales_invoice": shop.run("sales_invoice", [Line(
            1, "C", D(2), D("9.00"), source=(dl.doc_id, 1))], "C1"),
        "transfer": shop.run("transfer", [Line(1, "C", D(1), warehouse="W1",
                                               to_warehouse="W2")]),
        "adjustment": shop.stock_in("B", D(3), D("2.00")),
        "landed_cost": shop.run("landed_cost", [Line(1, "freight", D(1), D("6.00"))], "S1",
                                attributes={"receipts": [rk.doc_id]}),
    }
    count = shop.make("stock_count", [Line(1, "B", D(0), warehouse="W1")])
    shop.docs.submit(count.doc_id, BOSS)
    shop.docs.record_count(count.doc_id, {1: D(2)})  # one short
    out["stock_count"] = shop.docs.approve_through(count.doc_id, [BOSS])
    assert {d.state for d in out.values()} == {State.POSTED}
    assert set(out) | CLOSABLE == {t.value for t in DocType}
    return out


def test_close_is_for_orders_only_in_the_pure_rules() -> None:
    for t in DocType:
        order = t.value in CLOSABLE
        assert offered_actions(State.POSTED, t) == (
            [Action.CLOSE, Action.CANCEL] if order else [Action.CANCEL])
        assert offered_actions(State.DRAFT, t.value) == [Action.SUBMIT, Action.CANCEL]
        if order:
            assert next_state(State.POSTED, Action.CLOSE, t) == State.CLOSED
            continue
        with pytest.raises(JxcError) as err:
            next_state("posted", "close", t.value)
        assert err.value.code == "invalid_transition"
        assert err.value.data["doc_type"] == t.value
        assert (err.value.data["state"], err.value.data["action"]) == ("posted", "close")
        assert err.value.reason_zh and "不能关闭" in err.value.message_zh
        assert str(err.value).startswith(
            "Action close is not allowed in state posted: close ends an order")
    assert next_state("posted", "close") == State.CLOSED  # the table alone, as before
    assert CLOSABLE == {"purchase_order", "sales_order"}


def test_a_posted_document_that_is_no_order_cannot_be_closed(shop: Shop) -> None:
    docs = _posted_of_every_kind(shop)
    before = shop.snapshot()
    for kind, doc in docs.items():
        assert shop.docs.available_actions(doc.doc_id, BOSS) == ["cancel"], kind
        with pytest.raises(JxcError) as err:
            shop.docs.close(doc.doc_id, BOSS)
        assert err.value.code == "invalid_transition", kind
        assert err.value.data["doc_type"] == kind and err.value.reason_zh
        assert shop.docs.get(doc.doc_id).state == State.POSTED
    assert shop.snapshot() == before  # nothing written, no event
    shop.check_books()


def test_the_receipt_of_the_finding_is_invoiced_and_its_grni_cleared(shop: Shop) -> None:
    """The reviewer's probe: a receipt offered ``close``, closed, then never invoiced."""
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    assert shop.docs.available_actions(rk, BOSS) == ["cancel"]
    with pytest.raises(JxcError):
        shop.docs.close(rk.doc_id, BOSS)
    shop.run("purchase_invoice", [Line(1, "A", D(10), D("10.00"), source=(rk.doc_id, 1))],
             "S1")
    assert _grni(shop) == 0
    books = Accounting(shop.jxc)
    books.generate_vouchers()
    assert books.account_balance("2202.02") == 0
    shop.check_books()


def test_orders_are_still_offered_close(shop: Shop) -> None:
    po = shop.po([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    so = shop.run("sales_order", [Line(1, "A", D(1), D("10.00"), warehouse="W1")], "C1")
    for doc in (po, so):
        assert shop.docs.available_actions(doc, BOSS) == ["close", "cancel"]
        assert shop.docs.close(doc.doc_id, BOSS).state == State.CLOSED
        assert shop.docs.available_actions(doc.doc_id, BOSS) == []


def test_a_workflow_granting_close_offers_it_on_orders_only(shop: Shop) -> None:
    wf = Workflow.from_data({"name": "books", "actions": {"close": ["manager"]}})
    docs = Documents(shop.jxc, workflows={"purchase_receipt": wf, "purchase_order": wf})
    s = Shop(shop.jxc, docs)
    po = s.po([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    rk = s.receipt([Line(1, "A", D(4), D("10.00"), warehouse="W1", source=(po.doc_id, 1))])
    assert docs.available_actions(po, MANAGER) == ["close", "cancel"]
    assert docs.available_actions(rk, MANAGER) == ["cancel"]
    assert wf.allowed(po, MANAGER, "close") and not wf.allowed(rk, MANAGER, "close")
    before = s.snapshot()
    with pytest.raises(JxcError) as err:  # the state and the type first, then the roles
        docs.close(rk.doc_id, BOSS)
    assert err.value.code == "invalid_transition"
    assert s.snapshot() == before


def _store_as_closed(shop: Shop, doc: Document) -> None:
    """``doc`` as an earlier version left it after ``close``: state ``closed``."""
    old = attrs.evolve(doc, state=State.CLOSED)
    with shop.jxc.storage.unit_of_work() as uow:
        uow.documents.put(old.doc_id, old.doc_type.value, old.state.value,
                          document_to_data(old, compact=True))
        uow.commit()


def test_a_receipt_closed_by_an_earlier_version_is_still_a_source(shop: Shop) -> None:
    rk = shop.receipt([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    _store_as_closed(shop, rk)
    s = Shop(shop.jxc, Documents(shop.jxc))  # a fresh service: nothing kept warm
    assert s.docs.get(rk.doc_id).state == State.CLOSED
    assert s.docs.available_actions(rk.doc_id, BOSS) == []
    th = s.run("purchase_return", [Line(1, "A", D(2), D("10.00"), warehouse="W1",
                                        source=(rk.doc_id, 1))], "S1")
    s.run("landed_cost", [Line(1, "freight", D(1), D("8.00"))], "S1",
          attributes={"receipts": [rk.doc_id]})
    s.run("purchase_invoice", [Line(1, "A", D(8), D("10.00"), source=(rk.doc_id, 1))], "S1")
    assert _grni(s) == 0  # the GRNI of the closed receipt is cleared
    assert s.counters(rk.doc_id, 1, "returned", "invoiced") == {
        "returned": D(2), "invoiced": D(8)}
    s.docs.cancel(th.doc_id, BOSS)  # its return can be cancelled: back into GRNI
    assert _grni(s) == D("-20.00")
    assert s.docs.get(rk.doc_id).state == State.CLOSED
    s.check_books()


def test_a_delivery_closed_by_an_earlier_version_is_still_a_source(shop: Shop) -> None:
    shop.stock_in("C", D(10), D("5.00"))
    dl = shop.run("delivery", [Line(1, "C", D(4), D("9.00"), warehouse="W1")], "C1")
    _store_as_closed(shop, dl)
    s = Shop(shop.jxc, Documents(shop.jxc))
    s.run("sales_return", [Line(1, "C", D(1), D("9.00"), warehouse="W1",
                                source=(dl.doc_id, 1))], "C1")
    s.run("sales_invoice", [Line(1, "C", D(3), D("9.00"), source=(dl.doc_id, 1))], "C1")
    assert s.counters(dl.doc_id, 1, "returned", "invoiced") == {
        "returned": D(1), "invoiced": D(3)}
    s.check_books()


def test_a_closed_order_still_takes_no_receipt(shop: Shop) -> None:
    po = shop.po([Line(1, "A", D(10), D("10.00"), warehouse="W1")])
    shop.docs.close(po.doc_id, BOSS)
    rk = shop.make("purchase_receipt", [Line(1, "A", D(1), D("10.00"), warehouse="W1",
                                             source=(po.doc_id, 1))], "S1")
    with pytest.raises(JxcError) as err:
        shop.docs.approve_through(rk.doc_id, [BOSS])
    assert err.value.code == "invalid_document"

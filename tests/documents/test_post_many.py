"""Batch posting (批量过账): several documents in one unit of work, all of them or none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line, State, User
from jxc_core.errors import InsufficientStockError, JxcError

from .support import BOSS, Shop

D = Decimal


def test_a_batch_posts_every_document_in_order(shop: Shop) -> None:
    # the receipt comes first in the batch: the delivery after it finds its stock
    rk = shop.approved("purchase_receipt",
                   [Line(1, "C", D(10), D("3.00"), warehouse="W1")], "S1")
    ck = shop.approved("delivery", [Line(1, "C", D(4), D("5.00"), warehouse="W1")], "C1")
    done = shop.docs.post_many([rk, ck], BOSS)
    assert [d.doc_id for d in done] == [rk, ck]
    assert [d.state for d in done] == [State.POSTED, State.POSTED]
    assert shop.docs.get(ck).state == State.POSTED
    assert shop.qty("C") == D(6)
    assert shop.value("C") == D("18.00")
    assert shop.net("cogs", ck) == D("12.00")
    assert shop.net("inventory") == shop.stock_value()


def test_a_refused_document_refuses_the_batch_and_names_itself(shop: Shop) -> None:
    rk = shop.approved("purchase_receipt",
                   [Line(1, "C", D(10), D("3.00"), warehouse="W1")], "S1")
    ck = shop.approved("delivery", [Line(1, "C", D(11), D("5.00"), warehouse="W1")], "C1")
    before = shop.snapshot()
    with pytest.raises(InsufficientStockError) as caught:
        shop.docs.post_many([rk, ck], BOSS)
    assert caught.value.data["batch_doc_id"] == ck
    assert caught.value.data["short"] == D(1)
    # the receipt posted before the refusal is undone with it
    assert shop.snapshot() == before
    assert shop.docs.get(rk).state == State.APPROVED
    # the batch can be posted once the delivery is fixed: here, the receipt alone
    assert [d.state for d in shop.docs.post_many([rk], BOSS)] == [State.POSTED]
    assert shop.qty("C") == D(10)


def test_posted_documents_in_a_batch_are_left_as_they_are(shop: Shop) -> None:
    rk = shop.receipt([Line(1, "C", D(10), D("3.00"), warehouse="W1")]).doc_id
    rk2 = shop.approved("purchase_receipt",
                    [Line(1, "C", D(5), D("4.00"), warehouse="W1")], "S1")
    done = shop.docs.post_many([rk, rk2, rk2], BOSS)
    assert [d.doc_id for d in done] == [rk, rk2, rk2]
    assert shop.qty("C") == D(15)
    assert shop.value("C") == D("50.00")
    assert len(shop.rows_of(rk2)) == len(shop.journal(rk2))  # booked once, no red entry
    assert shop.net("grni", rk2) == D("-20.00")


def test_a_batch_with_a_draft_is_refused_with_its_transition(shop: Shop) -> None:
    rk = shop.approved("purchase_receipt",
                   [Line(1, "C", D(10), D("3.00"), warehouse="W1")], "S1")
    draft = shop.make("purchase_receipt", [Line(1, "C", D(1), D("3.00"), warehouse="W1")],
                      "S1").doc_id
    with pytest.raises(JxcError) as caught:
        shop.docs.post_many([rk, draft], BOSS)
    assert caught.value.code == "invalid_transition"
    assert caught.value.data["batch_doc_id"] == draft
    assert shop.docs.get(rk).state == State.APPROVED
    assert shop.qty("C") == D(0)


def test_an_empty_batch_is_refused(shop: Shop) -> None:
    with pytest.raises(JxcError) as caught:
        shop.docs.post_many([], BOSS)
    assert caught.value.code == "invalid_document"


def test_a_batch_with_an_idempotency_key_posts_once(shop: Shop) -> None:
    rk = shop.approved("purchase_receipt",
                   [Line(1, "C", D(10), D("3.00"), warehouse="W1")], "S1")
    first = shop.docs.post_many([rk], BOSS, idempotency_key="batch-1")
    again = shop.docs.post_many([rk], BOSS, idempotency_key="batch-1")
    assert [d.doc_id for d in again] == [d.doc_id for d in first]
    assert again[0].state == State.POSTED
    assert shop.qty("C") == D(10)
    with pytest.raises(JxcError) as caught:
        shop.docs.post_many([rk], User("other", frozenset({"all"})), idempotency_key="batch-1")
    assert caught.value.code == "idempotency_conflict"


def test_a_batch_of_receipts_against_one_order_counts_every_receipt(shop: Shop) -> None:
    po = shop.po([Line(1, "C", D(10), D("3.00"), warehouse="W1")]).doc_id
    ids = [shop.approved("purchase_receipt",
                     [Line(1, "C", D(3), D("3.00"), warehouse="W1", source=(po, 1))], "S1")
           for _ in range(3)]
    shop.docs.post_many(ids, BOSS)
    assert shop.counters(po, 1, "received")["received"] == D(9)
    assert shop.jxc.balance("C", "W1").projected == D(10)  # 9 on hand + 1 still on order

"""Purchase orders drafted from replenishment suggestions: one per supplier, all of them in one
unit of work — a refused group leaves none of the others behind (domain rules 9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from jxc_core.documents import DocType, Line, State
from jxc_core.errors import JxcError
from jxc_core.services.jxc import fingerprint
from jxc_core.stock import PurchaseSuggestion

from .support import Shop

D = Decimal


def suggestion(item: str, supplier: str, qty: str = "10", price: str = "2.50",
               warehouse: str = "W1") -> PurchaseSuggestion:
    return PurchaseSuggestion(item, warehouse, supplier, D(0), D(qty), D(price))


def test_one_draft_order_per_supplier_numbered_in_turn(shop: Shop) -> None:
    made = shop.docs.draft_purchase_orders(
        [suggestion("A", "S1"), suggestion("B", "BOTH", "4", "1.25"), suggestion("C", "S1")],
        user="planner", tax_rate=D("0.13"))
    assert [(d.doc_id, d.party) for d in made] == [("CG20260302-0001", "S1"),
                                                  ("CG20260302-0002", "BOTH")]
    assert [[(ln.line_no, ln.item, ln.quantity, ln.price, ln.tax_rate) for ln in d.lines]
            for d in made] == [
        [(1, "A", D(10), D("2.50"), D("0.13")), (2, "C", D(10), D("2.50"), D("0.13"))],
        [(1, "B", D(4), D("1.25"), D("0.13"))]]
    for d in made:
        assert (d.doc_type, d.state, d.created_by) == (DocType.PURCHASE_ORDER, State.DRAFT,
                                                       "planner")
        assert d.attributes == {"origin": "replenishment"}
        assert shop.docs.get(d.doc_id) == d
    assert shop.docs.ids("purchase_order") == [d.doc_id for d in made]
    assert shop.docs.draft_purchase_orders([]) == []


#: (id, the second supplier's suggestions, the error code, what the error names); a suggestion
#: without a supplier is not refused but reported (test_document_events.py)
REFUSED = [
    ("customer_only", [suggestion("B", "C1")], "invalid_document", "C1 is not a supplier"),
    ("unknown_party", [suggestion("B", "S9")], "not_found", "S9"),
    ("unknown_item", [suggestion("NOPE", "BOTH")], "not_found", "NOPE"),
    ("unknown_warehouse", [suggestion("B", "BOTH", warehouse="W9")], "not_found", "W9"),
    ("zero_quantity", [suggestion("B", "BOTH", qty="0")], "invalid_quantity", "quantity"),
    ("inexact_quantity", [suggestion("KG", "BOTH", qty="0.0005")], "unit_conversion_inexact",
     ""),
    ("item_fine_then_not", [suggestion("B", "BOTH"), suggestion("NOPE", "BOTH")], "not_found",
     "NOPE"),
]


@pytest.mark.parametrize(("second", "code", "named"), [(s, c, n) for _, s, c, n in REFUSED],
                         ids=[i for i, _, _, _ in REFUSED])
def test_a_refused_supplier_leaves_no_order_behind(shop: Shop, second: list[PurchaseSuggestion],
                                                   code: str, named: str) -> None:
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.draft_purchase_orders([suggestion("A", "S1"), *second])
    assert err.value.code == code
    assert named in str(err.value)
    # the order of S1, made before the refusal, is undone with it
    assert shop.snapshot() == before
    assert shop.docs.ids("purchase_order") == []
    assert err.value.data["supplier"] == second[0].supplier  # the group refused
    # nothing was used up either: the next order takes the first number
    [po] = shop.docs.draft_purchase_orders([suggestion("A", "S1")])
    assert po.doc_id == "CG20260302-0001"
    assert shop.docs.ids() == [po.doc_id]


def test_the_same_key_returns_the_first_orders(shop: Shop) -> None:
    wanted = [suggestion("A", "S1"), suggestion("C", "BOTH")]
    first = shop.docs.draft_purchase_orders(wanted, idempotency_key="plan-1")
    again = shop.docs.draft_purchase_orders(wanted, idempotency_key="plan-1")
    assert [d.doc_id for d in again] == [d.doc_id for d in first]
    assert len(shop.docs.ids(DocType.PURCHASE_ORDER.value)) == 2
    with pytest.raises(JxcError) as e:
        shop.docs.draft_purchase_orders([suggestion("A", "S1", qty="11")],
                                        idempotency_key="plan-1")
    assert e.value.code == "idempotency_conflict"
    assert len(shop.docs.ids(DocType.PURCHASE_ORDER.value)) == 2


# -- the idempotency key covers the suggestions without a supplier too ------------------------

#: two groups and two suggestions without a supplier
PLAN = [suggestion("A", "S1"), suggestion("B", ""), suggestion("C", "BOTH"),
        suggestion("KG", "", qty="1.5")]

#: (id, another set of the suggestions without a supplier beside the same groups)
OTHER_UNASSIGNED = [
    ("one_more", [*PLAN, suggestion("C", "", qty="3")]),
    ("one_less", PLAN[:3]),
    ("another_quantity", [PLAN[0], suggestion("B", "", qty="11"), PLAN[2], PLAN[3]]),
    ("another_warehouse", [*PLAN[:3], suggestion("KG", "", qty="1.5", warehouse="W2")]),
]


def test_the_same_key_and_suggestions_return_the_first_result_once(shop: Shop) -> None:
    first = shop.docs.draft_purchase_orders(PLAN, idempotency_key="plan-u")
    after = shop.snapshot()
    again = shop.docs.draft_purchase_orders(list(PLAN), idempotency_key="plan-u")
    assert list(again) == list(first) and again.unassigned == first.unassigned == (
        PLAN[1], PLAN[3])
    assert shop.snapshot() == after  # no second effect
    assert len(shop.docs.ids(DocType.PURCHASE_ORDER.value)) == 2


@pytest.mark.parametrize("other", [o for _, o in OTHER_UNASSIGNED],
                         ids=[i for i, _ in OTHER_UNASSIGNED])
def test_other_suggestions_without_supplier_under_the_same_key_conflict(
        shop: Shop, other: list[PurchaseSuggestion]) -> None:
    """The orders drafted are the same, but the call is not: it used to return the first
    result (the payload held the supplier groups only)."""
    shop.docs.draft_purchase_orders(PLAN, idempotency_key="plan-u")
    after = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.draft_purchase_orders(other, idempotency_key="plan-u")
    assert (err.value.code, err.value.data) == ("idempotency_conflict", {"key": "plan-u"})
    assert shop.snapshot() == after  # nothing written


def test_a_key_that_drafted_nothing_is_kept(shop: Shop) -> None:
    """Only suggestions without a supplier: nothing is drafted, but the key is bound to the
    call, so a retry is answered alike and other suggestions under it conflict."""
    only = [suggestion("B", "")]
    made = shop.docs.draft_purchase_orders(only, idempotency_key="plan-0")
    assert made == [] and made.unassigned == (only[0],)
    again = shop.docs.draft_purchase_orders(only, idempotency_key="plan-0")
    assert again == [] and again.unassigned == (only[0],)
    before = shop.snapshot()
    for other in ([suggestion("A", "S1")], [suggestion("B", "", qty="2")]):
        with pytest.raises(JxcError) as err:
            shop.docs.draft_purchase_orders(other, idempotency_key="plan-0")
        assert err.value.code == "idempotency_conflict"
    assert shop.snapshot() == before
    assert shop.docs.ids() == []


def _former_payload(suggestions: list[PurchaseSuggestion]) -> Any:
    """The payload of ``draft_purchase_orders`` (no user, tax rate 0) before 2026-12-15: the
    supplier groups as order lines (without their empty ``serials``), the user and the book
    currency."""
    groups: dict[str, list[Any]] = {}
    for s in suggestions:
        if s.supplier:
            mine = groups.setdefault(s.supplier, [])
            line = attrs.asdict(Line(len(mine) + 1, s.item, s.quantity, s.price, D(0),
                                     warehouse=s.warehouse), recurse=False)
            del line["serials"]
            mine.append(line)
    return (list(groups.items()), "", "CNY")


def test_a_key_stored_before_the_change_still_matches_its_retry(shop: Shop) -> None:
    """A key stored by a version that hashed the supplier groups only is still found by the
    retry of its call (no second orders); a change of the groups still conflicts. A key stored
    from now on is bound to the whole call, even if its groups hash as a former payload."""
    made = shop.docs.draft_purchase_orders(PLAN, idempotency_key="new")
    with shop.jxc.storage.unit_of_work() as uow:
        stored = uow.idempotency.get("new")
        assert stored is not None
        assert stored[0] != fingerprint("draft_purchase_orders", _former_payload(PLAN))
        # the same result, kept under a key as the earlier version hashed it
        uow.idempotency.put("old", fingerprint("draft_purchase_orders", _former_payload(PLAN)),
                            stored[1])
        uow.commit()
    after = shop.snapshot()
    again = shop.docs.draft_purchase_orders(PLAN, idempotency_key="old")
    assert list(again) == list(made) and again.unassigned == (PLAN[1], PLAN[3])
    assert shop.snapshot() == after
    with pytest.raises(JxcError) as err:
        shop.docs.draft_purchase_orders([suggestion("A", "S1", qty="11"), *PLAN[1:]],
                                        idempotency_key="old")
    assert err.value.code == "idempotency_conflict"
    # stored now without suggestions lacking a supplier, then retried with one: a conflict
    shop.docs.draft_purchase_orders(PLAN[:1], idempotency_key="new-1")
    with pytest.raises(JxcError) as err:
        shop.docs.draft_purchase_orders([*PLAN[:1], PLAN[1]], idempotency_key="new-1")
    assert err.value.code == "idempotency_conflict"
    assert shop.snapshot()["ids"] == [*after["ids"], "CG20260302-0003"]

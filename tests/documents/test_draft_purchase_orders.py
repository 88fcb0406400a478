"""Purchase orders drafted from replenishment suggestions: one per supplier, all of them in one
unit of work — a refused group leaves none of the others behind (domain rules 9)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import DocType, State
from jxc_core.errors import JxcError
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

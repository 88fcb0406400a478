"""Replenishment: reorder point, min-max, order multiples, grouping by supplier."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import DocType, User
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, ReplenishmentRule, Warehouse, suggest_quantity

D = Decimal


@pytest.mark.parametrize(
    ("reorder", "safety", "max_stock", "multiple", "moq", "projected", "expected"),
    [
        ("10", "0", None, "1", "0", "11", "0"),  # above the reorder point: nothing
        ("10", "0", None, "1", "0", "10", "0"),  # at it, target = reorder point: nothing left
        ("10", "5", None, "1", "0", "10", "5"),  # up to reorder + safety
        ("10", "5", None, "1", "0", "-3", "18"),  # negative projected (backorders)
        ("10", "0", "50", "1", "0", "4", "46"),  # min-max: up to max
        ("10", "0", "50", "12", "0", "4", "48"),  # rounded up to a multiple of 12
        ("10", "0", "50", "12", "60", "4", "60"),  # minimum order quantity first
        ("10", "0", "50", "25", "30", "4", "50"),  # MOQ 30, then up to a multiple of 25
        ("0.5", "0", "2.5", "0.25", "0", "0.4", "2.25"),  # kilograms
    ],
)
def test_suggest_quantity(reorder: str, safety: str, max_stock: str | None, multiple: str,
                          moq: str, projected: str, expected: str) -> None:
    rule = ReplenishmentRule("A", "W", D(reorder), D(safety),
                             None if max_stock is None else D(max_stock), D(multiple), D(moq))
    assert suggest_quantity(rule, D(projected)) == D(expected)


@given(reorder=st.integers(0, 100), extra=st.integers(0, 100), multiple=st.integers(1, 24),
       moq=st.integers(0, 50), projected=st.integers(-50, 150))
def test_suggestion_properties(reorder: int, extra: int, multiple: int, moq: int,
                               projected: int) -> None:
    rule = ReplenishmentRule("A", "W", D(reorder), max_stock=D(reorder + extra),
                             order_multiple=D(multiple), min_order_qty=D(moq))
    q = suggest_quantity(rule, D(projected))
    if projected > reorder:
        assert q == 0
        return
    assert q % multiple == 0
    if q:
        assert q >= moq
        assert projected + q >= reorder + extra  # reaches the maximum
        assert q - multiple < max(reorder + extra - projected, moq)  # and not a multiple more


def test_bad_rules_are_refused() -> None:
    with pytest.raises(JxcError) as err:
        ReplenishmentRule("A", "W", D(10), max_stock=D(5))
    assert (err.value.code, err.value.data["field"]) == ("configuration", "max_stock")
    with pytest.raises(JxcError) as err:
        ReplenishmentRule("A", "W", D(10), order_multiple=D(0))
    assert (err.value.code, err.value.data["field"]) == ("configuration", "order_multiple")
    with pytest.raises(TypeError):
        ReplenishmentRule("A", "W", 10.0)  # type: ignore[arg-type]


#: (field, value, error: an exception type, or the code of a JxcError)
BAD_FIELDS = [
    ("max_stock", 40.0, TypeError),
    ("max_stock", "50", TypeError),
    ("max_stock", D("NaN"), ValueError),
    ("max_stock", D(-1), "negative_amount"),
    ("reorder_point", 10.0, TypeError),
    ("safety_stock", "5", TypeError),
    ("order_multiple", 1.5, TypeError),
    ("min_order_qty", "2", TypeError),
    ("price", 2.5, TypeError),
    ("price", D("-0.01"), "negative_amount"),
    ("item", 7, TypeError),
    ("warehouse", None, TypeError),
    ("supplier", None, TypeError),
]


@pytest.mark.parametrize(("field", "value", "error"), BAD_FIELDS)
def test_bad_fields_are_refused_when_the_rule_is_made(field: str, value: object,
                                                      error: type[Exception] | str) -> None:
    """Refused at construction, naming the field (a float max_stock was accepted and failed
    later in suggest_quantity with a TypeError that named nothing)."""
    fields: dict[str, object] = {"item": "A", "warehouse": "W", "reorder_point": D(10),
                                 field: value}
    if isinstance(error, str):
        with pytest.raises(JxcError) as err:
            ReplenishmentRule(**fields)  # type: ignore[arg-type]
        assert (err.value.code, err.value.data["field"]) == (error, field)
    else:
        with pytest.raises(error, match=field):
            ReplenishmentRule(**fields)  # type: ignore[arg-type]


def test_a_float_maximum_no_longer_reaches_the_suggestion() -> None:
    with pytest.raises(TypeError, match="max_stock"):
        ReplenishmentRule("A", "W", D(10), max_stock=40.0)  # type: ignore[arg-type]
    rule = ReplenishmentRule("A", "W", D(10), max_stock=D(40))  # the same with a Decimal
    assert suggest_quantity(rule, D(4)) == D(36)


def test_suggestions_become_draft_orders_per_supplier_and_count_as_on_order() -> None:
    j = Jxc(MemoryStorage())
    docs = Documents(j)
    for code in ("A", "B", "C"):
        j.define_item(Item(code, code))
    j.define_warehouse(Warehouse("W", "w"))
    j.define_party(Party("S1", "one", "supplier"))
    j.define_party(Party("S2", "two", "supplier"))
    j.receive("A", "W", D(3), D("1.00"))
    j.receive("C", "W", D(100), D("1.00"))
    rules = [
        ReplenishmentRule("A", "W", D(10), max_stock=D(40), order_multiple=D(6), supplier="S1",
                          price=D("2.50")),
        ReplenishmentRule("B", "W", D(5), safety_stock=D(5), supplier="S1"),
        ReplenishmentRule("C", "W", D(10), max_stock=D(50), supplier="S2"),
    ]
    got = docs.suggest_purchases(rules)
    assert [(s.item, s.projected, s.quantity) for s in got] == [("A", D(3), D(42)),
                                                                ("B", D(0), D(10))]
    orders = docs.draft_purchase_orders(got)
    assert len(orders) == 1  # both lines go to S1; C needs nothing
    po = orders[0]
    assert po.doc_type == DocType.PURCHASE_ORDER and po.party == "S1"
    assert [(line.item, line.quantity, line.price) for line in po.lines] == [
        ("A", D(42), D("2.50")), ("B", D(10), D(0))]
    docs.approve_through(po.doc_id, [User("buyer")])
    assert j.balance("A", "W").projected == D(45)  # on order counts in projected
    assert docs.suggest_purchases(rules) == []

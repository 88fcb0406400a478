"""Figures beyond what Decimal keeps to the cent: a coded JxcError, never a raw
``decimal.InvalidOperation``, and nothing written (domain rules section 1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.costing import FifoValuation, MovingAverageValuation
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc, StockLine
from jxc_core.stock import Item, Party, Warehouse
from jxc_core.values import MAX_AMOUNT, MAX_MAGNITUDE, check_amount, check_quantity

D = Decimal


def shop(storage: Storage) -> Jxc:
    j = Jxc(storage)
    j.define_item(Item("A", "apple"))
    j.define_item(Item("B", "bolt", costing_method="moving_average"))
    j.define_warehouse(Warehouse("W1", "main"))
    j.define_party(Party("S1", "supplier", "supplier"))
    return j


def nothing_written(j: Jxc) -> None:
    assert j.balances() == [] or all(b.on_hand == 0 for b in j.balances())
    with j.storage.unit_of_work() as uow:
        assert uow.ledger.count() == 0
        assert uow.outbox.pending() == []


@pytest.mark.parametrize("value", [MAX_MAGNITUDE, -MAX_MAGNITUDE, D("1E+30"), 10 ** 20])
def test_one_figure_beyond_the_limit_is_refused_naming_it(value: object) -> None:
    with pytest.raises(JxcError) as e:
        check_amount(value, "price", MAX_MAGNITUDE)
    assert e.value.code == "number_out_of_range"
    assert e.value.data["field"] == "price"
    assert "超出范围" in e.value.message_zh


@pytest.mark.parametrize("value", [MAX_AMOUNT, -MAX_AMOUNT, D("1E+30")])
def test_an_amount_beyond_its_limit_is_refused(value: object) -> None:
    assert check_amount(MAX_MAGNITUDE, "value") == MAX_MAGNITUDE  # an amount may be larger
    with pytest.raises(JxcError) as e:
        check_amount(value, "value")
    assert e.value.code == "number_out_of_range"


def test_the_largest_figure_below_the_limit_is_kept() -> None:
    top = MAX_MAGNITUDE - D("0.000001")
    assert check_quantity(top) == top


@pytest.mark.parametrize("item", ["A", "B"])
@pytest.mark.parametrize(("qty", "cost", "field"), [
    (D("1E+30"), D(1), "quantity"), (D("1E+15"), D(1), "quantity"),
    (D(1), D("1E+20"), "unit_cost"),
])
def test_a_huge_quantity_or_cost_is_refused_and_nothing_written(
        storage: Storage, item: str, qty: Decimal, cost: Decimal, field: str) -> None:
    j = shop(storage)
    with pytest.raises(JxcError) as e:
        j.post("receipt", "R1", [StockLine(item, "W1", qty, "in", unit_cost=cost)])
    assert e.value.code == "number_out_of_range"
    assert e.value.data["field"] == field
    nothing_written(j)


@pytest.mark.parametrize("item", ["A", "B"])
def test_a_product_beyond_28_digits_is_refused_whole(storage: Storage, item: str) -> None:
    """Each figure is below the limit, their product is not kept to the cent: the whole
    command is refused, the first line (which fits) is not kept either."""
    j = shop(storage)
    big = MAX_MAGNITUDE - 1
    with pytest.raises(JxcError) as e:
        j.post("receipt", "R1", [StockLine(item, "W1", D(1), "in", unit_cost=D(5)),
                                 StockLine(item, "W1", big, "in", unit_cost=big)])
    assert e.value.code == "computation_out_of_range"
    assert e.value.data == {"command": "post", "limit": MAX_AMOUNT}
    assert "计算" in e.value.message_zh
    nothing_written(j)
    # the store is usable afterwards, and the live valuation was not kept half-changed
    j.post("receipt", "R2", [StockLine(item, "W1", D(2), "in", unit_cost=D(5))])
    assert j.balance(item, "W1").value == D("10.00")


def test_a_document_whose_amount_overflows_is_refused_and_not_stored(storage: Storage) -> None:
    j = shop(storage)
    docs = Documents(j)
    big = MAX_MAGNITUDE - 1
    with pytest.raises(JxcError) as e:
        docs.create("purchase_order", [Line(1, "A", big, big, D("0.13"), warehouse="W1")],
                    party="S1")
    assert e.value.code in {"computation_out_of_range", "number_out_of_range"}
    assert docs.ids() == []


@pytest.mark.parametrize("cls", [FifoValuation, MovingAverageValuation])
def test_the_kernel_refuses_a_huge_figure_with_the_same_code(cls: type) -> None:
    v = cls(2, False)
    with pytest.raises(JxcError) as e:
        v.receive(D("1E+20"), D(1))
    assert e.value.code == "number_out_of_range"
    v.receive(D(2), D("1.50"))
    with pytest.raises(JxcError) as e:
        v.issue(D("1E+16"))
    assert e.value.code == "number_out_of_range"
    assert v.quantity == 2 and v.value == D("3.00")


def test_amounts_of_large_stocks_move_beyond_the_unit_limit(storage: Storage) -> None:
    """The limit of one quantity or unit price (10^15) is not a limit on amounts: 1,200
    units at 10^12 are worth 1.2 x 10^15 (about 50 million dollars in dong) and must still
    transfer, sell, come back and be cancelled (all were refused as ``value`` out of range,
    leaving the delivery impossible to reverse)."""
    j = shop(storage)
    j.define_warehouse(Warehouse("W2", "second"))
    j.define_party(Party("C1", "customer", "customer"))
    docs = Documents(j)
    boss = User("boss", frozenset({"all"}))
    for _ in range(2):
        doc = docs.create("purchase_receipt", [Line(1, "A", D(600), D(10) ** 12,
                                                    warehouse="W1")], party="S1")
        docs.approve_through(doc.doc_id, [boss])
    t = docs.create("transfer", [Line(1, "A", D(1200), warehouse="W1", to_warehouse="W2")])
    docs.approve_through(t.doc_id, [boss])
    assert j.balance("A", "W2").value == D("1200000000000000.00")
    dl = docs.approve_through(docs.create("delivery", [Line(1, "A", D(1200), D(10) ** 12,
                                                            warehouse="W2")],
                                          party="C1").doc_id, [boss])
    back = docs.approve_through(docs.create("sales_return", [Line(
        1, "A", D(1200), D(10) ** 12, warehouse="W2", source=(dl.doc_id, 1))],
        party="C1").doc_id, [boss])
    assert j.balance("A", "W2").value == D("1200000000000000.00")
    docs.cancel(back.doc_id, boss)
    docs.cancel(dl.doc_id, boss)
    assert j.balance("A", "W2").on_hand == D(1200)
    with pytest.raises(JxcError) as e:  # an amount beyond its own limit is still refused
        j.post("receipt", "R9", [StockLine("A", "W1", D(1), "in", value=MAX_AMOUNT)])
    assert e.value.code == "number_out_of_range" and e.value.data["field"] == "value"


def test_stock_value_of_a_scope_stays_below_the_amount_limit(storage: Storage) -> None:
    """Every amount that leaves a scope comes back within the limit (a cancellation, a return,
    a transfer of all of it): a receipt that would take the scope's stock value to 10^21
    is refused, nothing written (the delivery of 1.8 x 10^21 posted and could never be
    cancelled: its value was refused coming back)."""
    j = shop(storage)
    price = MAX_MAGNITUDE - 1
    j.post("receipt", "R1", [StockLine("A", "W1", D(900_000), "in", unit_cost=price)])
    with storage.unit_of_work() as uow:
        before = uow.ledger.count()
    with pytest.raises(JxcError) as e:
        j.post("receipt", "R2", [StockLine("A", "W1", D(900_000), "in", unit_cost=price)])
    assert e.value.code == "number_out_of_range"
    assert e.value.data["field"] == "stock value of A in W1"
    with storage.unit_of_work() as uow:
        assert uow.ledger.count() == before
    assert j.balance("A", "W1").on_hand == D(900_000)
    out = j.post("issue", "I1", [StockLine("A", "W1", D(900_000), "out")])
    back = j.post("receipt", "I1-R", [StockLine("A", "W1", D(900_000), "in",
                                                value=-out.value)])
    assert back.value == -out.value

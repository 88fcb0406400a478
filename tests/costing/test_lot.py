"""Specific identification (个别计价): every lot is its own layer, an issue names the lot."""

from decimal import Decimal

import pytest

from jxc_core.costing import SpecificLotValuation
from jxc_core.errors import JxcError

D = Decimal


# receipts [(lot, qty, value)], issues [(lot, qty)], costs, lots left {lot: (qty, value)}
SCENARIOS = [
    pytest.param(
        [("A", "3", "100.00")], [("A", "1"), ("A", "1"), ("A", "1")],
        ["33.33", "33.34", "33.33"], {}, id="thirds_last_takes_rest",
    ),
    pytest.param(
        [("A", "3", "100.00"), ("B", "2", "7.00")], [("B", "1"), ("A", "2")],
        ["3.50", "66.67"], {"A": ("1", "33.33"), "B": ("1", "3.50")}, id="lots_independent",
    ),
    pytest.param(
        [("A", "1", "1.00"), ("A", "2", "4.00")], [("A", "1")],
        ["1.67"], {"A": ("2", "3.33")}, id="receipts_of_a_lot_merge",
    ),
    pytest.param(
        [("K", "2.500", "10.01")], [("K", "1.250"), ("K", "1.250")],
        ["5.01", "5.00"], {}, id="kg_half_up_then_rest",
    ),
]


@pytest.mark.parametrize(("receipts", "issues", "costs", "left"), SCENARIOS)
def test_issue_slices_per_lot(
    receipts: list[tuple[str, str, str]],
    issues: list[tuple[str, str]],
    costs: list[str],
    left: dict[str, tuple[str, str]],
) -> None:
    v = SpecificLotValuation()
    total = sum((v.receive(D(q), D(0), lot, value=D(val)) for lot, q, val in receipts), D(0))
    got = [v.issue(D(q), lot) for lot, q in issues]
    assert got == [D(c) for c in costs]
    assert v.lots == {k: (D(q), D(val)) for k, (q, val) in left.items()}
    assert v.quantity == sum((D(q) for q, _ in left.values()), D(0))
    assert v.value == total - sum(got, D(0))
    assert v.take_adjustments() == []


def test_receive_at_unit_cost_rounds_half_up() -> None:
    v = SpecificLotValuation()
    assert v.receive(D(3), D("0.335"), "L1") == D("1.01")
    assert v.lot("L1") == (D(3), D("1.01"))
    assert v.lot("nope") == (D(0), D(0))


@pytest.mark.parametrize("where", ["issue", "receive"])
def test_lot_is_required(where: str) -> None:
    v = SpecificLotValuation()
    v.receive(D(2), D(5), "L1")
    with pytest.raises(JxcError) as err:
        if where == "issue":
            v.issue(D(1))
        else:
            v.receive(D(1), D(5))
    assert err.value.code == "lot_required"
    assert (v.quantity, v.value) == (D(2), D("10"))
    assert v.lots == {"L1": (D(2), D(10))}


@pytest.mark.parametrize(("lot", "qty", "on_hand"), [("L1", "3", "2"), ("L2", "1", "0")])
def test_over_issue_of_a_lot_is_refused(lot: str, qty: str, on_hand: str) -> None:
    v = SpecificLotValuation(item="A", warehouse="W")
    v.receive(D(2), D(5), "L1")
    v.receive(D(9), D(1), "L3")  # plenty in another lot does not help
    with pytest.raises(JxcError) as err:
        v.issue(D(qty), lot)
    assert err.value.code == "insufficient_stock"
    assert err.value.data["on_hand"] == D(on_hand)
    assert err.value.data["short"] == D(qty) - D(on_hand)
    assert (v.quantity, v.value) == (D(11), D(19))
    assert v.allow_negative is False


def test_emptied_lot_can_be_received_again() -> None:
    v = SpecificLotValuation()
    v.receive(D(3), D(0), "L1", value=D("1.00"))
    assert v.issue(D(3), "L1") == D("1.00")
    assert v.lots == {}
    assert (v.quantity, v.value) == (D(0), D(0))
    v.receive(D(2), D("2.50"), "L1")
    assert v.issue(D(1), "L1") == D("2.50")


def test_landed_cost_on_a_lot_fully_on_hand_stays_in_stock() -> None:
    v = SpecificLotValuation()
    v.receive(D(4), D(10), "L1")
    assert v.add_landed_cost("L1", D("3.00")) == D("3.00")
    assert v.lot("L1") == (D(4), D("43.00"))
    assert v.issue(D(1), "L1") == D("10.75")
    with pytest.raises(JxcError) as err:
        v.add_landed_cost("L9", D("1.00"))
    assert err.value.code == "unknown_receipt"


def test_landed_cost_on_a_partly_issued_lot_splits_like_fifo() -> None:
    v = SpecificLotValuation()
    v.receive(D(10), D(1), "L1")
    v.issue(D(5), "L1")
    kept = v.add_landed_cost("L1", D("10.00"))
    assert kept == D("5.00")
    assert v.lot("L1") == (D(5), D("10.00"))
    assert [(a.reason, a.amount) for a in v.take_adjustments()] == [("landed_cost", D("5.00"))]


#: a lot received twice (10 + 10 @ 10.00): a landed cost of 20.00 on one receipt of 10 units
#: (received_quantity=10) is shared over the lot's 20 units: (issued before, kept, to COGS)
LOT_RECEIVED_TWICE = [("0", "20.00", None), ("10", "10.00", "10.00"), ("20", "0.00", "20.00")]


@pytest.mark.parametrize(("issued", "kept", "cogs"), LOT_RECEIVED_TWICE)
def test_landed_cost_on_a_lot_received_twice_never_keeps_more_than_it_is(
        issued: str, kept: str, cogs: str | None) -> None:
    v = SpecificLotValuation()
    v.receive(D(10), D(10), "X")
    v.receive(D(10), D(10), "X")
    if D(issued):
        v.issue(D(issued), "X")
    assert v.add_landed_cost("X", D("20.00"), received_quantity=D(10)) == D(kept)
    assert [a.amount for a in v.take_adjustments()] == ([D(cogs)] if cogs else [])
    assert v.value == (D(20) - D(issued)) * 10 + D(kept)


def test_take_back_gives_a_cancelled_movement_its_own_cost() -> None:
    """The cancellation of a movement into a lot takes its units at their own cost (not the
    lot's average), clamped to the lot's value; emptying the lot takes exactly its value."""
    v = SpecificLotValuation()
    v.receive(D(10), D("10.00"), "L1")
    v.receive(D(3), D("11.00"), "L1")
    assert v.take_back(D(3), "L1", D(3), D("33.00")) == D("33.00")  # issue(): 30.69
    assert v.lot("L1") == (D(10), D("100.00"))
    assert v.take_back(D(1), "L1", D(3), D("33.00")) == D("11.00")  # a part of it
    v.receive(D(2), D("500.00"), "L2")
    assert v.take_back(D(1), "L2", D(1), D("2000.00")) == D("1000.00")  # clamped to the lot
    assert v.lot("L2") == (D(1), D("0.00"))
    assert v.take_back(D(1), "L2", D(1), D("7.00")) == D("0.00")  # emptying: what is left
    assert v.take_back(D(9), "L1", D(9), D("1.00")) == D("89.00")  # emptying: exactly
    assert (v.quantity, v.value) == (D(0), D("0.00"))
    with pytest.raises(JxcError):
        v.take_back(D(1), "L1", D(1), D("1.00"))  # nothing left
    v.note_received("L3", D(4))  # counted as received, no stock moved
    assert v.lot("L3") == (D(0), D(0)) and v.quantity == 0

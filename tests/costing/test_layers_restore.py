"""FIFO/LIFO: what an issue took (``issue_layers``) and putting it back (``restore``).

The cancellation of an issue puts its units back into the layers they left, at the value each
left with, in the place of those layers in the queue: the receipt's layer is whole again (so
the receipt itself can be cancelled), and the units leave in their old turn.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import FifoValuation, LifoValuation, valuation_from_state
from jxc_core.errors import JxcError

D = Decimal

Layered = type[FifoValuation] | type[LifoValuation]


def _three(cls: Layered) -> FifoValuation | LifoValuation:
    v = cls()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    v.receive(D(5), D(30), "R3")
    return v


@pytest.mark.parametrize(("cls", "cost", "took"), [
    (FifoValuation, D("140.00"), [(0, "R1", D(10), D(10), D("100.00")),
                                  (1, "R2", D(10), D(2), D("40.00"))]),
    (LifoValuation, D("290.00"), [(2, "R3", D(5), D(5), D("150.00")),
                                  (1, "R2", D(10), D(7), D("140.00"))]),
])
def test_issue_layers_says_what_it_took(cls: Layered, cost: Decimal,
                                        took: list[tuple[int, str, Decimal, Decimal, Decimal]]
                                        ) -> None:
    v = _three(cls)
    got, slices = v.issue_layers(D(12))
    assert (got, slices) == (cost, took)
    assert v.quantity == 13


def test_issue_layers_names_the_receipt_of_a_return_first() -> None:
    v = _three(FifoValuation)
    cost, slices = v.issue_layers(D(12), "R2")
    assert cost == D("220.00")  # 10 of R2, then 2 of R1
    assert [(s[1], s[3]) for s in slices] == [("R2", D(10)), ("R1", D(2))]


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_restore_makes_the_receipts_whole_again(cls: Layered) -> None:
    v = _three(cls)
    before = (v.layers, v.quantity, v.value)
    _, slices = v.issue_layers(D(12))
    assert v.restore(slices) == sum((s[4] for s in slices), D(0))
    assert (v.layers, v.quantity, v.value) == before
    for ref, received in (("R1", 10), ("R2", 10), ("R3", 5)):
        left, _, got = v.receipt_remaining(ref)
        assert left == got == received


def test_fifo_restored_units_leave_first_again() -> None:
    v = FifoValuation()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    _, slices = v.issue_layers(D(10))  # all of R1: its layer left the queue
    v.restore(slices)
    assert v.issue(D(10)) == D("100.00")  # R1 again, not R2 (a new layer would be last)


def test_lifo_restored_layer_goes_back_under_later_receipts() -> None:
    v = LifoValuation()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    _, slices = v.issue_layers(D(10))  # R2
    v.receive(D(10), D(30), "R3")
    v.restore(slices)
    assert v.layers == [(D(10), D("100.00"), "R1"), (D(10), D("200.00"), "R2"),
                        (D(10), D("300.00"), "R3")]
    assert v.issue(D(10)) == D("300.00")  # the newest receipt first, R2 after it


def test_restore_survives_the_stored_state() -> None:
    v = _three(FifoValuation)
    _, slices = v.issue_layers(D(12))
    v.receive(D(1), D(40), "R4")
    restored = valuation_from_state(v.to_state())
    assert isinstance(restored, FifoValuation)
    restored.restore(slices)
    v.restore(slices)
    assert restored.to_state() == v.to_state()
    assert restored.issue(D(11)) == v.issue(D(11)) == D("120.00")


def test_restore_with_open_shortages_is_refused() -> None:
    v = FifoValuation(allow_negative=True)
    v.receive(D(5), D(10), "R1")
    _, slices = v.issue_layers(D(5))
    v.issue(D(2))  # 2 short
    with pytest.raises(JxcError) as err:
        v.restore(slices)
    assert err.value.code == "configuration"
    assert v.quantity == -2  # nothing changed


def test_restore_of_a_layer_never_received_is_refused() -> None:
    v = _three(FifoValuation)
    with pytest.raises(JxcError):
        v.restore([(7, "R9", D(1), D(1), D("1.00"))])
    with pytest.raises(JxcError):
        v.restore([(0, "R1", D(10), D(0), D("1.00"))])  # no quantity
    assert v.quantity == 25


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([FifoValuation, LifoValuation]),
       st.lists(st.tuples(st.integers(1, 9), st.integers(100, 999)), min_size=1, max_size=6),
       st.lists(st.integers(1, 12), min_size=1, max_size=5),
       st.data())
def test_cancelling_any_issue_gives_the_state_without_it(
        cls: Layered, receipts: list[tuple[int, int]], issues: list[int],
        data: st.DataObject) -> None:
    """Receipts, then issues; cancelling one issue (restore) leaves the valuation as if the
    issues after it had taken from the stock without that issue; and when it is the last
    one, exactly as before it."""
    v = cls()
    for n, (q, cents) in enumerate(receipts):
        v.receive(D(q), D(cents) / 100, f"R{n}")
    taken: list[list[tuple[int, str | None, Decimal, Decimal, Decimal]]] = []
    states = [v.to_state()]
    for q in issues:
        if D(q) > v.quantity:
            break
        taken.append(v.issue_layers(D(q))[1])
        states.append(v.to_state())
    if not taken:
        return
    # the last issue cancelled: the state before it, exactly
    v.restore(taken[-1])
    expected = valuation_from_state(states[-2])
    assert v.layers == expected.layers
    assert (v.quantity, v.value) == (expected.quantity, expected.value)
    # any other issue cancelled as well: quantity and value conserved, receipts never above
    # what they received
    k = data.draw(st.integers(0, len(taken) - 1))
    if k < len(taken) - 1:
        q_before, v_before = v.quantity, v.value
        v.restore(taken[k])
        assert v.quantity == q_before + sum((s[3] for s in taken[k]), D(0))
        assert v.value == v_before + sum((s[4] for s in taken[k]), D(0))
    for n in range(len(receipts)):
        try:
            left, _, received = v.receipt_remaining(f"R{n}")
        except JxcError:
            continue
        assert left <= received
    assert v.value == sum((x[1] for x in v.layers), D(0))
    assert v.quantity == sum((x[0] for x in v.layers), D(0))


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_a_receipt_that_settled_a_shortage_names_its_layer_and_gets_the_units_back(
        cls: Layered) -> None:
    """``settled``: what the last receipt filling shortages settled, as slices of its own
    layer at the real cost; restoring them (the short issue's cancellation) makes the
    receipt's layer whole again, so it can be taken back in full."""
    v = cls(allow_negative=True)
    v.receive(D(10), D("10.00"), "R1")
    _, took = v.issue_layers(D(15), ref="S1")  # 5 short, estimated at 10.00
    assert v.shortages == [(D(5), D("50.00"), "S1")]
    v.receive(D(10), D("14.00"), "R2")
    [(issue, part)] = v.settled
    assert issue == "S1"
    assert part[1:] == ("R2", D(10), D(5), D("70.00"))
    assert v.layers == [(D(5), D("70.00"), "R2")]
    assert v.receipt_remaining("R2") == (D(5), D("70.00"), D(10))
    assert v.restore([*took, part]) == D("170.00")
    assert v.receipt_remaining("R2") == (D(10), D("140.00"), D(10))
    assert v.issue(D(10), "R2") == D("140.00")
    assert v.issue(D(10), "R1") == D("100.00")
    assert (v.quantity, v.value) == (D(0), D("0.00"))


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_a_receipt_that_settles_a_whole_shortage_and_keeps_no_layer(
        cls: Layered) -> None:
    """A receipt used up by shortages has no layer in the queue: its units come back at its
    place, and ``settled`` lists each shortage it filled; a state round trip leaves it
    empty (it is not stored)."""
    v = cls(allow_negative=True, default_cost=D("9.00"))
    v.issue(D(2), ref="S1")
    v.issue(D(3), ref="S2")
    v.receive(D(4), D("11.00"), "R1")  # fills S1 (2) and 2 of S2
    assert [(i, p[1:]) for i, p in v.settled] == [
        ("S1", ("R1", D(4), D(2), D("22.00"))), ("S2", ("R1", D(4), D(2), D("22.00")))]
    assert v.layers == []
    assert v.shortages == [(D(1), D("9.00"), "S2")]
    assert cls.from_state(v.to_state()).settled == []
    from_r1 = [part for _, part in v.settled]
    v.receive(D(1), D("9.00"), "R2")  # S2's last unit
    from_r2 = [part for _, part in v.settled]
    assert from_r2 == [(1, "R2", D(1), D(1), D("9.00"))]
    assert v.restore(from_r1 + from_r2) == D("53.00")
    assert v.receipt_remaining("R1") == (D(4), D("44.00"), D(4))
    assert v.receipt_remaining("R2") == (D(1), D("9.00"), D(1))


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_restore_of_a_key_from_another_build_goes_into_the_receipts_layer(cls: Layered
                                                                           ) -> None:
    """The slices of an issue read from a rebuild of the scope can name a key the live queue
    never had for that receipt (the queue was replayed since, its layers numbered anew): the
    units go back into the receipt's own layer, which is whole again, not into a second layer
    of it that would count its reception twice."""
    v = cls()
    v.receive(D(1), D(5), "R0")  # key 0, issued out: the live queue numbers R4 as key 1
    v.issue(D(1))
    v.receive(D(3), D("12.50"), "R4")
    v.issue(D(1))
    assert v.restore([(0, "R4", D(3), D(1), D("12.50"))]) == D("12.50")
    assert v.receipt_remaining("R4") == (D(3), D("37.50"), D(3))
    assert [(x[0], x[2]) for x in v.layers] == [(D(3), "R4")]
    assert v.issue(D(3)) == D("37.50")


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_restore_of_a_key_now_another_receipts_takes_a_key_of_its_own(cls: Layered) -> None:
    """A key from another build that is another receipt's layer in the live queue: the units
    of a receipt no longer indexed come back as a layer of a new key, never into the other
    receipt's layer, and no two layers share a key."""
    v = cls()
    v.receive(D(2), D(10), "R1")  # key 0
    assert v.restore([(0, "R9", D(1), D(1), D("7.00"))]) == D("7.00")
    assert v.receipt_remaining("R1") == (D(2), D("20.00"), D(2))
    assert v.receipt_remaining("R9") == (D(1), D("7.00"), D(1))
    keys = [k for k, _ in v.to_state()["rows"]]
    assert len(keys) == len(set(keys)) == 2
    again = valuation_from_state(v.to_state())
    assert (again.quantity, again.value) == (D(3), D("27.00"))

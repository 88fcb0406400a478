"""Moving average: a landed cost or price difference of a receipt counts as still on hand at
most the lowest quantity on hand since that receipt (DOMAIN.md sections 2 and 5: the share of
units already issued goes to COGS). Units of a receipt cannot be on hand once on hand has
fallen below them after it — in particular none once it fell to zero."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import MovingAverageValuation, valuation_from_state

D = Decimal


def _landed(v: MovingAverageValuation, ref: str, amount: str, received: int
            ) -> tuple[Decimal, Decimal]:
    kept = v.add_landed_cost(ref, D(amount), received_quantity=D(received))
    issued = sum((a.amount for a in v.take_adjustments()), D(0))
    return kept, issued


def test_receipt_all_issued_before_a_later_receipt_goes_to_cogs() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(10))
    v.receive(D(10), D(20), "R2")
    assert _landed(v, "R1", "10.00", 10) == (D("0.00"), D("10.00"))
    assert (v.quantity, v.value) == (D(10), D("200.00"))  # R2's stock untouched


def test_lowest_on_hand_since_the_receipt_bounds_the_share() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))  # 2 left: at most 2 of R1
    v.receive(D(10), D(20), "R2")
    assert _landed(v, "R1", "30.00", 10) == (D("6.00"), D("24.00"))
    assert _landed(v, "R2", "10.00", 10) == (D("10.00"), D("0.00"))  # all of R2 still here


def test_each_receipt_judged_on_its_own_as_before() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    v.issue(D(15))
    assert _landed(v, "R1", "30.00", 10) == (D("15.00"), D("15.00"))
    assert _landed(v, "R2", "30.00", 10) == (D("15.00"), D("15.00"))


def test_parts_of_one_receipt_count_together() -> None:
    v = MovingAverageValuation()
    v.receive(D(5), D(10), "R1")
    v.receive(D(5), D(10), "R1")  # the same receipt line, another lot
    assert _landed(v, "R1", "10.00", 10) == (D("10.00"), D("0.00"))


def test_a_receipt_that_only_filled_shortages_has_nothing_on_hand() -> None:
    v = MovingAverageValuation(allow_negative=True)
    v.receive(D(5), D(10), "R0")
    v.issue(D(15))
    v.receive(D(10), D(10), "R1")  # fills the shortage of 10
    v.take_adjustments()
    v.receive(D(4), D(10), "R2")
    assert _landed(v, "R1", "10.00", 10) == (D("0.00"), D("10.00"))


def test_the_lows_survive_the_state() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))
    v.receive(D(10), D(20), "R2")
    back = valuation_from_state(v.to_state())
    assert isinstance(back, MovingAverageValuation)
    assert back.to_state() == v.to_state()
    assert _landed(back, "R1", "30.00", 10) == (D("6.00"), D("24.00"))


def test_a_state_stored_before_the_lows_keeps_the_old_rule_until_stock_is_zero() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))
    v.receive(D(10), D(20), "R2")
    old = v.to_state()
    del old["lows"]
    back = valuation_from_state(old)
    assert isinstance(back, MovingAverageValuation)
    # R1 is not known: min(received, on hand), as stored states were read before
    assert _landed(back, "R1", "10.00", 10) == (D("10.00"), D("0.00"))
    assert "lows_from" in back.to_state()
    back.issue(back.quantity)  # at zero everything before is gone, and known to be
    back.receive(D(10), D(20), "R3")
    assert "lows_from" not in back.to_state()
    assert _landed(back, "R2", "10.00", 10) == (D("0.00"), D("10.00"))
    assert _landed(back, "R3", "10.00", 10) == (D("10.00"), D("0.00"))


def test_the_header_stays_small_however_many_receipts() -> None:
    """Stock that never falls to zero: each receipt is one row written once; the header keeps
    one low, not every receipt (it was rewritten with all of them at every posting)."""
    v = MovingAverageValuation()
    v.receive(D(100), D(1), "seed")
    v.take_changes()
    for k in range(500):
        v.receive(D(5), D(2), f"R{k}")
        v.issue(D(5))
        header, rows = v.take_changes()
        assert rows == [(k + 1, f"R{k}")]
    assert header["lows"] == [["100", 0]] and header["next"] == 501
    assert len(v.to_state()["rows"]) == 501
    # R0's units were all issued (on hand fell back to 100, the seed's): the seed's low
    assert _landed(v, "R0", "10.00", 5) == (D("10.00"), D("0.00"))
    v.issue(D(100))  # on hand zero: every receipt row goes
    header, rows = v.take_changes()
    assert header["lows"] == [] and len(rows) == 501 and all(d is None for _, d in rows)
    assert v.to_state()["rows"] == []


def test_a_state_of_the_earlier_form_is_read_and_rewritten_as_rows() -> None:
    earlier = {"method": "moving_average", "version": 1, "currency_digits": 2,
               "allow_negative": False, "quantity": "12", "value": "220.00",
               "shortages": [], "last": ["10", "100.00"], "default_cost": None,
               "adjustments": [], "lows": [["2", ["R1"]], ["12", ["R2"]]]}
    v = valuation_from_state(earlier)
    assert isinstance(v, MovingAverageValuation)
    header, rows = v.take_changes()
    assert header["lows"] == [["2", 0], ["12", 1]] and rows == [(0, "R1"), (1, "R2")]
    assert _landed(v, "R1", "30.00", 10) == (D("6.00"), D("24.00"))
    assert _landed(v, "R2", "10.00", 10) == (D("10.00"), D("0.00"))


@st.composite
def _moves(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Receipts (``("in", qty)``, or ``("part", qty)``: another part of the receipt before)
    and issues (``("out", qty)``) that never take more than is on hand."""
    out: list[tuple[str, int]] = []
    on_hand = 0
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["in", "in", "part", "out", "out"]))
        if kind == "out" and on_hand:
            q = draw(st.integers(1, on_hand))
            on_hand -= q
        else:
            kind = "part" if kind == "part" and out and out[-1][0] != "out" else "in"
            q = draw(st.integers(1, 9))
            on_hand += q
        out.append((kind, q))
    return out


@given(_moves(), st.data())
@settings(max_examples=300, deadline=None)
def test_the_share_kept_is_the_lowest_on_hand_since_the_receipt(
        moves: list[tuple[str, int]], data: st.DataObject) -> None:
    """Against a plain reading of the history: the units of a receipt still on hand are at most
    its quantity and the least on hand after its last part (none once on hand reached zero),
    also after the state has been stored and read back."""
    v = MovingAverageValuation()
    history: list[int] = []  # on hand after each move
    last_part: dict[str, int] = {}  # ref -> index of its last part in history
    received: dict[str, int] = {}
    n = 0
    for kind, q in moves:
        if kind == "out":
            v.issue(D(q))
        else:
            if kind == "in":
                n += 1
            ref = f"R{n}"
            v.receive(D(q), D(3), ref)
            received[ref] = received.get(ref, 0) + q
            last_part[ref] = len(history)
        history.append(int(v.quantity))
    if not received:
        return
    ref = data.draw(st.sampled_from(sorted(received)))
    since = history[last_part[ref]:]
    kept_units = 0 if min(since) <= 0 else min(received[ref], min(since))
    if data.draw(st.booleans()):
        back = valuation_from_state(v.to_state())
        assert isinstance(back, MovingAverageValuation)
        v = back
    amount = D(received[ref] * 7)
    kept, issued = _landed(v, ref, f"{amount}.00", received[ref])
    assert kept == (amount * kept_units / received[ref]).quantize(D("0.01"))
    assert kept + issued == amount

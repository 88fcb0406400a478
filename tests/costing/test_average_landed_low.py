"""Moving average: a landed cost or price difference of a receipt keeps in stock the share of
the receipt's units still on hand (DOMAIN.md sections 2 and 5: the share of units already issued
goes to COGS). The pool counts units as leaving oldest first — the flow FIFO assumes, and the
remaining quantity of receipt layers under AVCO in common ERPs — while its value stays one
average. So the units attributed to receipts add up to the stock, and the state keeps no more
receipts than make up the stock."""

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


def test_what_is_left_of_the_receipt_bounds_the_share() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))  # 2 left of R1
    v.receive(D(10), D(20), "R2")
    assert _landed(v, "R1", "30.00", 10) == (D("6.00"), D("24.00"))
    assert _landed(v, "R2", "10.00", 10) == (D("10.00"), D("0.00"))  # all of R2 still here


def test_units_leave_oldest_first() -> None:
    """15 issued of R1 10 + R2 10: R1's units are gone, 5 of R2's remain — 5 in all, as on
    hand (the units counted for the receipts never add up to more than the stock)."""
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    v.issue(D(15))
    assert _landed(v, "R1", "30.00", 10) == (D("0.00"), D("30.00"))
    assert _landed(v, "R2", "30.00", 10) == (D("15.00"), D("15.00"))


def test_a_return_to_supplier_takes_its_own_receipts_units_first() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    assert v.issue(D(4), "R2") == D("60.00")  # at the average (15.00), as before
    v.issue(D(10))  # R1's 10 go
    assert _landed(v, "R2", "10.00", 10) == (D("6.00"), D("4.00"))


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
    assert _landed(v, "R2", "4.00", 4) == (D("4.00"), D("0.00"))


def test_a_receipt_part_filling_shortages_keeps_the_rest() -> None:
    v = MovingAverageValuation(allow_negative=True)
    v.issue(D(3))  # 3 short
    v.receive(D(10), D(10), "R1")  # 3 fill the shortage, 7 on hand
    v.take_adjustments()
    assert _landed(v, "R1", "10.00", 10) == (D("7.00"), D("3.00"))


def test_the_receipts_survive_the_state() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))
    v.receive(D(10), D(20), "R2")
    back = valuation_from_state(v.to_state())
    assert isinstance(back, MovingAverageValuation)
    assert back.to_state() == v.to_state()
    assert _landed(back, "R1", "30.00", 10) == (D("6.00"), D("24.00"))


def test_the_rows_stay_as_few_as_the_receipts_in_stock() -> None:
    """Stock that never falls to zero: a posting writes the header and the rows it changed,
    and the state keeps only the receipts that make up the stock, however many there were."""
    v = MovingAverageValuation()
    v.receive(D(100), D(1), "seed")
    v.take_changes()
    for k in range(500):
        v.receive(D(5), D(2), f"R{k}")
        v.issue(D(5))
        _, rows = v.take_changes()
        assert len(rows) <= 3
    state = v.to_state()
    # 100 units on hand: the last 20 receipts of 5 (the seed's units went first)
    assert [ref for _, (ref, _) in state["rows"]] == [f"R{k}" for k in range(480, 500)]
    assert sum(D(q) for _, (_, q) in state["rows"]) == v.quantity
    assert _landed(v, "R0", "10.00", 5) == (D("0.00"), D("10.00"))  # long gone
    assert _landed(v, "R499", "10.00", 5) == (D("10.00"), D("0.00"))
    v.issue(D(100))  # on hand zero: every row goes
    _, rows = v.take_changes()
    assert rows and all(d is None for _, d in rows)
    assert v.to_state()["rows"] == []


def test_a_state_stored_before_the_rows_keeps_the_old_rule_for_its_stock() -> None:
    v = MovingAverageValuation()
    v.receive(D(10), D(10), "R1")
    v.issue(D(8))
    v.receive(D(10), D(20), "R2")
    old = v.to_state()
    del old["rows"], old["next"]
    back = valuation_from_state(old)
    assert isinstance(back, MovingAverageValuation)
    # R1 is not known: among the 12 units of unknown receipts, min(received, 12)
    assert _landed(back, "R1", "10.00", 10) == (D("10.00"), D("0.00"))
    assert back.to_state()["untracked"] == "12"
    back.receive(D(10), D(20), "R3")
    back.issue(D(12))  # the unknown units go first
    assert "untracked" not in back.to_state()
    assert _landed(back, "R2", "10.00", 10) == (D("0.00"), D("10.00"))
    assert _landed(back, "R3", "10.00", 10) == (D("10.00"), D("0.00"))


def test_the_intermediate_forms_keep_what_they_knew() -> None:
    """Two earlier forms kept the lows of the receipts since stock was last zero (``"lows"``):
    read as stock of unknown receipts among those named, each at most its low; a receipt not
    named is gone (its cost goes to COGS), as the lows said. The rows of the second form are
    dropped; the names stay in the header (``"untracked_refs"``) until those units are gone."""
    base = {"method": "moving_average", "version": 1, "currency_digits": 2,
            "allow_negative": False, "quantity": "12", "value": "220.00", "shortages": [],
            "last": ["10", "100.00"], "default_cost": None, "adjustments": []}
    first = {**base, "lows": [["2", ["R1"]], ["12", ["R2"]]]}
    second = {**base, "lows": [["2", 0], ["12", 1]], "next": 2, "rows": [[0, "R1"], [1, "R2"]]}
    for state in (first, second):
        v = valuation_from_state(state)
        assert isinstance(v, MovingAverageValuation)
        header, rows = v.take_changes()
        assert header["untracked"] == "12" and "lows" not in header
        assert header["untracked_refs"] == [["R1", "2"], ["R2", "12"]]
        assert all(d is None for _, d in rows) and len(rows) == len(state.get("rows", []))
        back = valuation_from_state(v.to_state())
        assert isinstance(back, MovingAverageValuation)
        assert _landed(back, "R1", "30.00", 10) == (D("6.00"), D("24.00"))  # at most 2
        assert _landed(back, "R2", "10.00", 10) == (D("10.00"), D("0.00"))
        assert _landed(back, "R0", "10.00", 10) == (D("0.00"), D("10.00"))  # not named: gone
        back.issue(D(12))  # the unknown units are gone, and their names with them
        assert "untracked_refs" not in back.to_state()


def test_a_lows_state_whose_receipt_was_all_issued_keeps_it_gone() -> None:
    """As the earlier form stored it: R1 10 @ 10 all issued, then R2 10 @ 20 — the lows name
    R2 only, so R1's landed cost goes to COGS (not into R2's stock)."""
    state = {"method": "moving_average", "version": 1, "currency_digits": 2,
             "allow_negative": False, "quantity": "10", "value": "200.00", "shortages": [],
             "last": ["10", "100.00"], "default_cost": None, "adjustments": [],
             "lows": [["10", ["R2/1"]]]}
    v = valuation_from_state(state)
    assert isinstance(v, MovingAverageValuation)
    assert _landed(v, "R1/1", "10.00", 10) == (D("0.00"), D("10.00"))
    assert v.value == D("200.00")


@st.composite
def _moves(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Receipts (``("in", qty, 0)``, ``("part", qty, 0)``: another part of the receipt
    before), issues (``("out", qty, 0)``) and returns to supplier of receipt k
    (``("back", qty, k)``) that never take more than is on hand."""
    out: list[tuple[str, int, int]] = []
    on_hand = receipts = 0
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["in", "in", "part", "out", "out", "back"]))
        if kind in ("out", "back") and on_hand:
            q = draw(st.integers(1, on_hand))
            on_hand -= q
            out.append((kind, q, draw(st.integers(1, receipts)) if kind == "back" else 0))
            continue
        kind = "part" if kind == "part" and out and out[-1][0] in ("in", "part") else "in"
        receipts += kind == "in"
        q = draw(st.integers(1, 9))
        on_hand += q
        out.append((kind, q, 0))
    return out


@given(_moves(), st.data())
@settings(max_examples=300, deadline=None)
def test_the_share_kept_is_what_is_left_of_the_receipt(
        moves: list[tuple[str, int, int]], data: st.DataObject) -> None:
    """Against a plain model (a list of [ref, units left], taken oldest first, a return its
    receipt's first), also after the state has been stored and read back."""
    v = MovingAverageValuation()
    model: list[list[object]] = []
    received: dict[str, int] = {}
    n = 0
    for kind, q, k in moves:
        if kind in ("in", "part"):
            n += kind == "in"
            ref = f"R{n}"
            v.receive(D(q), D(3), ref)
            received[ref] = received.get(ref, 0) + q
            if kind == "part":
                model[-1][1] = int(str(model[-1][1])) + q
            else:
                model.append([ref, q])
            continue
        left = q
        if kind == "back":
            v.issue(D(q), f"R{k}")
            for row in reversed(model):
                if row[0] == f"R{k}":
                    take = min(left, int(str(row[1])))
                    row[1] = int(str(row[1])) - take
                    left -= take
        else:
            v.issue(D(q))
        for row in model:
            take = min(left, int(str(row[1])))
            row[1] = int(str(row[1])) - take
            left -= take
        model = [row for row in model if int(str(row[1]))]
    assert sum(int(str(r[1])) for r in model) == v.quantity
    if not received:
        return
    ref = data.draw(st.sampled_from(sorted(received)))
    units = sum(int(str(r[1])) for r in model if r[0] == ref)
    if data.draw(st.booleans()):
        back = valuation_from_state(v.to_state())
        assert isinstance(back, MovingAverageValuation)
        v = back
    amount = D(received[ref] * 7)
    kept, issued = _landed(v, ref, f"{amount}.00", received[ref])
    assert kept == D(7 * units).quantize(D("0.01"))
    assert kept + issued == amount

"""MovingAverageValuation.issue_rows / restore_rows: what an issue took from the receipt rows,
and the units of its cancellation put back into them (a row gone at its place by number); the
pool's value is not split."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.costing import MovingAverageValuation
from jxc_core.errors import JxcError

D = Decimal


def _rows(v: MovingAverageValuation) -> list[tuple[int, str, Decimal]]:
    return [(n, ref, D(q)) for n, (ref, q) in v.to_state()["rows"]]


def _pool() -> MovingAverageValuation:
    v = MovingAverageValuation(2)
    v.receive(D(10), D(10), "R1")
    v.receive(D(10), D(20), "R2")
    return v


def test_issue_rows_reports_the_rows_taken_oldest_first() -> None:
    v = _pool()
    cost, taken = v.issue_rows(D(15))
    assert cost == D("225.00")
    assert taken == [(0, "R1", D(10)), (1, "R2", D(5))]
    assert _rows(v) == [(1, "R2", D(5))]


def test_restore_rows_puts_a_gone_row_back_at_its_place() -> None:
    v = _pool()
    cost, taken = v.issue_rows(D(15))
    v.receive(D(2), D(30), "R3")
    got = v.restore_rows(taken, D(15), cost, "DL-R/1")
    assert got == cost
    assert _rows(v) == [(0, "R1", D(10)), (1, "R2", D(10)), (2, "R3", D(2))]
    assert (v.quantity, v.value) == (D(22), D("360.00"))
    assert dict(v.take_changes()[1]) == {0: ["R1", "10"], 1: ["R2", "10"], 2: ["R3", "2"]}
    # a landed cost of R1 stays in stock whole: its units are on hand again
    assert v.add_landed_cost("R1", D("10.00"), received_quantity=D(10)) == D("10.00")


def test_units_beyond_the_rows_come_back_as_a_row_of_their_own() -> None:
    v = _pool()
    cost, _ = v.issue_rows(D(5))
    got = v.restore_rows([(0, "R1", D(3))], D(5), cost, "DL-R/1")
    assert got == cost
    assert _rows(v) == [(0, "R1", D(8)), (1, "R2", D(10)), (2, "DL-R/1", D(2))]
    assert v.quantity == D(20)


def test_restore_rows_is_the_same_as_receive_on_the_value_side() -> None:
    a, b = _pool(), _pool()
    _, taken = a.issue_rows(D(7))
    b.issue(D(7))
    a.restore_rows(taken, D(7), D("99.99"), "X")
    b.receive(D(7), D(0), "X", value=D("99.99"))
    assert (a.quantity, a.value, a.unit_cost) == (b.quantity, b.value, b.unit_cost)


def test_restore_rows_refuses_rows_never_received_or_beyond_the_units() -> None:
    v = _pool()
    with pytest.raises(JxcError) as e:
        v.restore_rows([(7, "R9", D(1))], D(1), D(1), "X")
    assert e.value.code == "configuration"
    with pytest.raises(JxcError):
        v.restore_rows([(0, "R1", D(3))], D(2), D(1), "X")
    assert (v.quantity, v.value) == (D(20), D("300.00"))


def test_with_open_shortages_the_units_are_received() -> None:
    v = MovingAverageValuation(2, allow_negative=True)
    v.receive(D(2), D(10), "R1")
    v.issue(D(5))
    assert v.shortages
    got = v.restore_rows([(0, "R1", D(2))], D(4), D("40.00"), "DL-R/1")
    assert got == D("40.00")
    assert v.quantity == D(1)

"""CostingTimeline: dated movements of one scope, back-dated insertion re-valuing later issues
only, closed periods, bounded replay, and equivalence with a fresh replay in date order."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jxc_core.costing import (
    CostAdjustment,
    CostingTimeline,
    FifoValuation,
    LifoValuation,
    MovingAverageValuation,
    StandardCostValuation,
    TimelineResult,
)
from jxc_core.errors import JxcError

D = Decimal

CLASSES: dict[str, Any] = {
    "fifo": FifoValuation,
    "lifo": LifoValuation,
    "moving_average": MovingAverageValuation,
}


def day(n: int) -> dt.date:
    return dt.date(2026, 1, 1) + dt.timedelta(days=n - 1)


def make(method: str, allow_negative: bool = False, every: int = 64) -> CostingTimeline:
    cls = CLASSES[method]
    factory: Callable[[], Any] = lambda: cls(allow_negative=allow_negative)  # noqa: E731
    return CostingTimeline(factory, cls.from_state, checkpoint_every=every)


class Book:
    """Everything a timeline reported, to check value conservation."""

    def __init__(self) -> None:
        self.receipts = D(0)
        self.issues = D(0)
        self.adjustments: list[CostAdjustment] = []

    def take(self, result: TimelineResult, is_receipt: bool) -> TimelineResult:
        if is_receipt:
            self.receipts += result.amount
        else:
            self.issues += result.amount
        self.adjustments.extend(result.adjustments)
        return result

    def value(self) -> Decimal:
        return self.receipts - self.issues - sum((a.amount for a in self.adjustments), D(0))


def base(method: str, book: Book) -> CostingTimeline:
    """r1 10@10 day 1, i1 5 day 5, r2 10@20 day 6, i2 10 day 7, i3 3 day 8."""
    tl = make(method)
    book.take(tl.receive(day(1), D(10), D(10), "r1"), True)
    book.take(tl.issue(day(5), D(5), "i1"), False)
    book.take(tl.receive(day(6), D(10), D(20), "r2"), True)
    book.take(tl.issue(day(7), D(10), "i2"), False)
    book.take(tl.issue(day(8), D(3), "i3"), False)
    assert book.adjustments == []
    return tl


BASE_COSTS = {
    "fifo": {"i1": "50.00", "i2": "150.00", "i3": "60.00"},
    "lifo": {"i1": "50.00", "i2": "200.00", "i3": "30.00"},
    # 10 x 250/15 = 166.67; 3 x 83.33/5 = 49.998 -> 50.00
    "moving_average": {"i1": "50.00", "i2": "166.67", "i3": "50.00"},
}


@pytest.mark.parametrize(
    ("method", "move", "amount", "changes", "qty", "value"),
    [
        # r1 10@10, r0 10@4: i2 = 5@10 + 5@4 = 70 (-80), i3 = 3@4 = 12 (-48); left 2@4 + 10@20
        pytest.param("fifo", ("r", 2, "10", "4", "r0"), "40.00",
                     {"i2": "-80.00", "i3": "-48.00"}, "12", "208.00", id="fifo_receipt"),
        # 20 units 140: i1 35.00; 15/105 + 200 = 25/305: i2 122.00; 15/183: i3 36.60
        pytest.param("moving_average", ("r", 2, "10", "4", "r0"), "40.00",
                     {"i1": "-15.00", "i2": "-44.67", "i3": "-13.40"}, "12", "146.40",
                     id="moving_average_receipt"),
        # newest first: i1 = 5@4 = 20 (-30), i2 = r2 unchanged, i3 = 3@4 = 12 (-18)
        pytest.param("lifo", ("r", 2, "10", "4", "r0"), "40.00",
                     {"i1": "-30.00", "i3": "-18.00"}, "12", "108.00", id="lifo_receipt"),
        # i0 2@10 = 20; r1 left 3 after i1: i2 = 3@10 + 7@20 = 170 (+20); i3 = 3@20 unchanged
        pytest.param("fifo", ("i", 3, "2", "0", "i0"), "20.00",
                     {"i2": "20.00"}, "0", "0.00", id="fifo_issue"),
        # 8/80 -> i1 50.00 -> 3/30 + 200 = 13/230: i2 176.92 (+10.25), i3 53.08 (+3.08)
        pytest.param("moving_average", ("i", 3, "2", "0", "i0"), "20.00",
                     {"i2": "10.25", "i3": "3.08"}, "0", "0.00", id="moving_average_issue"),
        # i0 2@10, i1 5@10, i2 10@20 (r2), i3 3@10 (r1): nothing later changes
        pytest.param("lifo", ("i", 3, "2", "0", "i0"), "20.00", {}, "0", "0.00",
                     id="lifo_issue_changes_nothing"),
    ],
)
def test_back_dated_movement_revalues_later_issues(
    method: str,
    move: tuple[str, int, str, str, str],
    amount: str,
    changes: dict[str, str],
    qty: str,
    value: str,
) -> None:
    book = Book()
    tl = base(method, book)
    before = {ref: tl.issue_cost(ref) for ref in ("i1", "i2", "i3")}
    assert before == {ref: D(c) for ref, c in BASE_COSTS[method].items()}
    kind, n, q, cost, ref = move
    if kind == "r":
        result = book.take(tl.receive(day(n), D(q), D(cost), ref), True)
    else:
        result = book.take(tl.issue(day(n), D(q), ref), False)
    assert result.amount == D(amount)
    assert {a.issue_ref: a.amount for a in result.adjustments} == {
        ref: D(x) for ref, x in changes.items()
    }
    assert all(a.reason == "back_dating" for a in result.adjustments)
    sizes = {"i1": D(5), "i2": D(10), "i3": D(3)}
    assert all(a.quantity == sizes[a.issue_ref or ""] for a in result.adjustments)
    assert (tl.quantity, tl.value) == (D(qty), D(value))
    assert tl.value == book.value()
    for r in ("i1", "i2", "i3"):
        assert tl.issue_cost(r) == before[r] + D(changes.get(r, "0"))
    assert len(tl) == 6
    assert tl.replayed == 6  # every move from checkpoint 0 on, the new one included


def test_same_date_keeps_insertion_order() -> None:
    tl = make("fifo")
    tl.receive(day(3), D(10), D(20), "b")
    tl.receive(day(1), D(10), D(10), "a")
    # same date as "b": goes after it, so it takes a then b
    assert tl.issue(day(3), D(15), "late").amount == D("200.00")
    # day 2 is before "b": takes 5 of a; "late" now takes 5@10 + 10@20
    result = tl.issue(day(2), D(5), "early")
    assert result.amount == D("50.00")
    assert result.adjustments == (CostAdjustment("back_dating", D("50.00"), D(15), "late"),)
    assert tl.issue_cost("late") == D("250.00")
    assert (tl.quantity, tl.value) == (D(0), D(0))


def test_datetime_orders_within_the_day() -> None:
    tl = make("fifo")
    tl.receive(day(1), D(10), D(10), "a")  # a date sorts at midnight
    tl.receive(dt.datetime(2026, 1, 1, 9), D(10), D(20), "b")
    assert tl.issue(day(1), D(5), "x").amount == D("50.00")  # before 09:00
    assert tl.issue(dt.datetime(2026, 1, 1, 10), D(10), "y").amount == D("150.00")
    assert (tl.quantity, tl.value) == (D(5), D("100.00"))


def test_appended_receipt_settles_a_shortage() -> None:
    # domain rules §2: in 10@10, in 10@20, out 30 (500), in 10@30 (+100), in 10@40 -> 10 / 400
    book = Book()
    tl = make("fifo", allow_negative=True)
    book.take(tl.receive(day(1), D(10), D(10), "r1"), True)
    book.take(tl.receive(day(2), D(10), D(20), "r2"), True)
    assert book.take(tl.issue(day(3), D(30), "out"), False).amount == D("500.00")
    settled = book.take(tl.receive(day(4), D(10), D(30), "r3"), True)
    assert settled.adjustments == (
        CostAdjustment("shortage_settlement", D("100.00"), D(10), "out", "r3"),
    )
    assert book.take(tl.receive(day(5), D(10), D(40), "r4"), True).adjustments == ()
    assert (tl.quantity, tl.value) == (D(10), D("400.00"))
    assert tl.issue_cost("out") == D("600.00")
    assert tl.value == book.value()


def test_back_dated_receipt_replaces_a_settled_shortage() -> None:
    book = Book()
    tl = make("fifo", allow_negative=True)
    book.take(tl.receive(day(1), D(10), D(10), "r1"), True)
    assert book.take(tl.issue(day(3), D(15), "out"), False).amount == D("150.00")  # 5 @ 10 est.
    book.take(tl.receive(day(4), D(10), D(30), "r3"), True)  # settles +100
    assert tl.issue_cost("out") == D("250.00")
    # r2 on day 2: "out" now takes 10@10 + 5@20 = 200, no shortage at all
    result = book.take(tl.receive(day(2), D(10), D(20), "r2"), True)
    assert result.adjustments == (CostAdjustment("back_dating", D("-50.00"), D(15), "out"),)
    assert tl.issue_cost("out") == D("200.00")
    assert (tl.quantity, tl.value) == (D(15), D("400.00"))
    assert tl.value == book.value()


def test_back_dated_short_issue_is_settled_by_a_later_receipt() -> None:
    book = Book()
    tl = make("moving_average", allow_negative=True)
    book.take(tl.receive(day(1), D(10), D(10), "r1"), True)
    book.take(tl.receive(day(5), D(10), D(20), "r2"), True)
    result = book.take(tl.issue(day(3), D(15), "x"), False)
    assert result.amount == D("150.00")  # 10 on hand + 5 estimated at 10
    assert result.adjustments == (CostAdjustment("shortage_settlement", D("50.00"), D(15), "x"),)
    assert tl.issue_cost("x") == D("200.00")
    assert (tl.quantity, tl.value) == (D(5), D("100.00"))
    assert tl.value == book.value()


@pytest.mark.parametrize(
    ("until", "when"),
    [
        pytest.param(day(5), day(5), id="on_the_day"),
        pytest.param(day(5), day(2), id="before"),
        pytest.param(dt.datetime(2026, 1, 5, 18), dt.datetime(2026, 1, 5, 17), id="datetimes"),
    ],
)
@pytest.mark.parametrize("kind", ["receive", "issue"])
def test_movement_in_closed_period_is_refused(
    until: dt.date, when: dt.date, kind: str
) -> None:
    book = Book()
    tl = base("fifo", book)
    tl.lock(until)
    snapshot = (len(tl), tl.quantity, tl.value, tl.replayed, tl.issue_cost("i2"))
    with pytest.raises(JxcError) as err:
        if kind == "receive":
            tl.receive(when, D(10), D(4), "r0")
        else:
            tl.issue(when, D(1), "i0")
    assert err.value.code == "period_closed"
    assert err.value.data["date"] == when
    assert (len(tl), tl.quantity, tl.value, tl.replayed, tl.issue_cost("i2")) == snapshot
    # after the lock is fine (the later issues of the open period are re-valued as usual)
    result = tl.receive(day(9), D(1), D(1), "r9")
    assert result.amount == D("1.00") and len(tl) == 6


def test_datetime_on_the_locked_day_is_refused() -> None:
    tl = make("fifo")
    tl.receive(day(1), D(10), D(10), "r1")
    tl.lock(day(5))
    with pytest.raises(JxcError) as err:
        tl.receive(dt.datetime(2026, 1, 5, 9), D(1), D(1), "r2")
    assert err.value.code == "period_closed"


def test_back_dated_issue_driving_a_later_issue_short_is_refused() -> None:
    book = Book()
    tl = base("fifo", book)  # 20 received, 18 issued
    snapshot = (len(tl), tl.quantity, tl.value, {r: tl.issue_cost(r) for r in ("i1", "i2", "i3")})
    with pytest.raises(JxcError) as err:
        tl.issue(day(3), D(3), "i0")  # fine on day 3, but i3 on day 8 would be 1 short
    assert err.value.code == "insufficient_stock"
    assert err.value.data["short"] == D(1)
    assert (
        len(tl), tl.quantity, tl.value, {r: tl.issue_cost(r) for r in ("i1", "i2", "i3")}
    ) == snapshot
    # the timeline still works as before the refusal
    assert tl.issue(day(9), D(2), "i4").amount == D("40.00")
    assert (tl.quantity, tl.value) == (D(0), D(0))
    # and a back-dated receipt replays from the unchanged checkpoint
    tl.receive(day(2), D(10), D(4), "r0")
    assert (tl.quantity, tl.value) == (D(10), D("200.00"))


def test_replay_work_is_bounded_by_checkpoint() -> None:
    start = dt.datetime(2026, 1, 1)
    tl = make("fifo", every=64)
    fresh = FifoValuation()
    for k in range(5000):
        cost = D(10 + k % 7)
        tl.receive(start + dt.timedelta(minutes=2 * k), D(2), cost, f"r{k}")
        tl.issue(start + dt.timedelta(minutes=2 * k + 1), D(1), f"i{k}")
    assert len(tl) == 10_000 and tl.replayed == 0
    # 10 positions from the end: between movements 9989 and 9990
    when = start + dt.timedelta(minutes=9989, seconds=30)
    tl.receive(when, D(1), D("3.33"), "late")
    assert tl.replayed < 64 + 11
    assert len(tl) == 10_001
    # the result is that of a fresh replay in date order
    for k in range(5000):
        if 2 * k == 9990:
            fresh.receive(D(1), D("3.33"), "late")
        fresh.receive(D(2), D(10 + k % 7), f"r{k}")
        if 2 * k + 1 == 9990:
            fresh.receive(D(1), D("3.33"), "late")
        fresh.issue(D(1))
    assert (tl.quantity, tl.value) == (fresh.quantity, fresh.value)


def test_back_dated_standard_receipt_reports_its_variance() -> None:
    def std() -> StandardCostValuation:
        return StandardCostValuation(D(10))

    tl = CostingTimeline(std, StandardCostValuation.from_state)
    appended = tl.receive(day(2), D(1), D(12), "r2")
    assert [(a.reason, a.amount) for a in appended.adjustments] == [("price_variance", D(2))]
    back = tl.receive(day(1), D(1), D(12), "r1")
    assert [(a.reason, a.amount) for a in back.adjustments] == [("price_variance", D(2))]


# -- property: any insertion order gives the fresh replay in date order -------------------------

moves = st.lists(
    st.tuples(
        st.integers(1, 6),  # day
        st.booleans(),  # receipt?
        st.integers(1, 40),  # quantity in tenths
        st.integers(0, 3000),  # unit cost in cents
    ),
    min_size=1,
    max_size=18,
)


def fresh_replay(
    method: str, seen: list[tuple[int, bool, int, int]]
) -> tuple[Any, dict[str, Decimal]]:
    """A new valuation fed the movements sorted by date, stable by insertion order."""
    v = CLASSES[method](allow_negative=True)
    costs: dict[str, Decimal] = {}
    for idx in sorted(range(len(seen)), key=lambda i: (seen[i][0], i)):
        _, is_receipt, n, cents = seen[idx]
        if is_receipt:
            v.receive(D(n).scaleb(-1), D(cents).scaleb(-2), f"r{idx}")
        else:
            costs[f"i{idx}"] = v.issue(D(n).scaleb(-1), ref=f"i{idx}")
        for a in v.take_adjustments():
            assert a.reason == "shortage_settlement"
            costs[a.issue_ref] += a.amount
    return v, costs


@settings(max_examples=120, deadline=None)
@given(
    method=st.sampled_from(sorted(CLASSES)),
    every=st.sampled_from([1, 2, 3, 64]),
    seen=moves,
)
def test_timeline_equals_fresh_sorted_replay(
    method: str, every: int, seen: list[tuple[int, bool, int, int]]
) -> None:
    tl = make(method, allow_negative=True, every=every)
    book = Book()
    for i, (d, is_receipt, n, cents) in enumerate(seen):
        if is_receipt:
            r = tl.receive(day(d), D(n).scaleb(-1), D(cents).scaleb(-2), f"r{i}")
        else:
            r = tl.issue(day(d), D(n).scaleb(-1), f"i{i}")
        book.take(r, is_receipt)
        assert tl.value == book.value()
    fresh, costs = fresh_replay(method, seen)
    assert (tl.quantity, tl.value) == (fresh.quantity, fresh.value)
    for ref, cost in costs.items():
        assert tl.issue_cost(ref) == cost, ref
    assert {a.reason for a in book.adjustments} <= {"back_dating", "shortage_settlement"}
    assert len(tl) == len(seen)


def test_standard_cost_receipt_on_another_path_reports_its_new_value() -> None:
    """At standard 33.333, a receipt of 2 that brought the stock from -2 to 0 entered at
    66.66 (the rounding left in stock); a receipt dated first makes it bring -1 to 1, at
    66.67: the insertion reports the cent (``back_dating`` naming the receipt, signed as cost
    of goods sold sees it), so value = receipts - issues - adjustments holds (33.33 vs 33.34)."""
    tl = CostingTimeline(lambda: StandardCostValuation(Decimal("33.333"), allow_negative=True),
                         StandardCostValuation.from_state)
    results = [tl.issue(dt.date(2026, 3, 2), Decimal(1), "S1"),
               tl.issue(dt.date(2026, 3, 3), Decimal(1), "S2"),
               tl.receive(dt.date(2026, 3, 4), Decimal(2), Decimal("33.333"), "R")]
    inserted = tl.receive(dt.date(2026, 3, 1), Decimal(1), Decimal("33.333"), "R0")
    assert [(a.reason, a.amount, a.issue_ref) for a in inserted.adjustments] == [
        ("back_dating", Decimal("-0.01"), "R")]
    receipts = results[2].amount + inserted.amount
    issues = results[0].amount + results[1].amount
    moved = sum((a.amount for r in (*results, inserted) for a in r.adjustments
                 if a.reason in ("back_dating", "shortage_settlement")), Decimal(0))
    assert receipts - issues - moved == tl.value == Decimal("33.34")

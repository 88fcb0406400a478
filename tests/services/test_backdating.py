"""Back-dated postings through the service: only the later entries of the scope are re-valued,
each changed issue gets a cost_backdating entry, and the ledger still sums to the valuation."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse

from .support import group_costs

D = Decimal


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1, 9) + dt.timedelta(days=n)


def make(kind: str, tmp: Path, method: str = "fifo", allow_negative: bool = False,
         checkpoint_every: int = 256) -> Jxc:
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp / "b.db"))
    j = Jxc(storage, checkpoint_every=checkpoint_every)
    j.define_item(Item("A", "a", costing_method=method, allow_negative=allow_negative))
    j.define_warehouse(Warehouse("W", "w"))
    return j


def assert_ledger_matches(j: Jxc) -> None:
    b = j.balance("A", "W")
    lines = j.ledger("A", "W")
    q = sum((x.entry.quantity for x in lines), D(0))
    v = sum((x.entry.value for x in lines), D(0))
    assert (b.on_hand, b.value) == (q, v)
    if q == 0:
        assert v == 0


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("checkpoint_every", [256, 2])
def test_backdated_receipt_revalues_later_issues(kind: str, checkpoint_every: int,
                                                  tmp_path: Path) -> None:
    j = make(kind, tmp_path, checkpoint_every=checkpoint_every)
    j.receive("A", "W", D(10), D(10), doc_id="r1", posted_at=day(1))
    j.issue("A", "W", D(5), doc_id="i1", posted_at=day(5))
    j.receive("A", "W", D(10), D(20), doc_id="r2", posted_at=day(6))
    j.issue("A", "W", D(10), doc_id="i2", posted_at=day(7))
    j.issue("A", "W", D(3), doc_id="i3", posted_at=day(8))
    p = j.receive("A", "W", D(10), D(4), doc_id="r0", posted_at=day(2))
    got = sorted((a.issue_ref or "").split("\x1f")[1] + " " + str(a.amount)
                 for _, _, a in p.adjustments)
    assert got == ["i2 -80.00", "i3 -48.00"]
    assert [a.reason for _, _, a in p.adjustments] == ["back_dating", "back_dating"]
    assert (j.balance("A", "W").on_hand, j.balance("A", "W").value) == (D(12), D("208.00"))
    assert_ledger_matches(j)
    assert group_costs(j) == {"i1": D("50.00"), "i2": D("70.00"), "i3": D("12.00")}
    # a second back-dated movement, an issue, re-values again from the corrected figures
    p2 = j.issue("A", "W", D(4), doc_id="i0", posted_at=day(3))
    assert [e.value for e in p2.entries if e.kind == "issue"] == [D("-40.00")]
    assert p2.value == D("-48.00")  # the issue and the two corrections it caused
    assert group_costs(j) == {"i0": D("40.00"), "i1": D("50.00"), "i2": D("46.00"),
                              "i3": D("44.00")}
    assert (j.balance("A", "W").on_hand, j.balance("A", "W").value) == (D(8), D("160.00"))
    assert_ledger_matches(j)


def test_backdated_issue_refused_when_later_issue_would_go_short(tmp_path: Path) -> None:
    j = make("memory", tmp_path)
    j.receive("A", "W", D(10), D(10), doc_id="r1", posted_at=day(1))
    j.issue("A", "W", D(6), doc_id="i1", posted_at=day(5))
    before = (j.balance("A", "W"), [x.entry for x in j.ledger("A", "W")])
    # on hand now is 4, so the stock check passes; at day 2 the issue fits too, but replaying
    # i1 (6) afterwards finds only 5 left: the whole posting is refused
    with pytest.raises(JxcError) as err:
        j.issue("A", "W", D(5), doc_id="i0", posted_at=day(2))
    assert err.value.code == "insufficient_stock"
    assert (j.balance("A", "W"), [x.entry for x in j.ledger("A", "W")]) == before


movements = st.lists(
    st.tuples(st.booleans(), st.integers(1, 30), st.integers(100, 5000), st.integers(0, 20)),
    min_size=1, max_size=25,
)


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=movements, method=st.sampled_from(["fifo", "moving_average", "lifo"]),
       checkpoint_every=st.sampled_from([2, 5, 256]))
def test_any_posting_order_gives_the_date_order_figures(
    moves: list[tuple[bool, int, int, int]], method: str, checkpoint_every: int
) -> None:
    """Posting in any order equals posting in date order: same quantity, value and cost of
    every issue (its own entries plus its settlements and back-dating corrections)."""
    tmp = Path(tempfile.mkdtemp())
    shuffled = make("memory", tmp, method, allow_negative=True, checkpoint_every=checkpoint_every)
    for n, (is_in, q, cents, d) in enumerate(moves):
        doc = f"{'r' if is_in else 'i'}{n}"
        if is_in:
            shuffled.receive("A", "W", D(q), D(cents).scaleb(-2), doc_id=doc, posted_at=day(d))
        else:
            shuffled.issue("A", "W", D(q), doc_id=doc, posted_at=day(d))
        assert_ledger_matches(shuffled)
    ordered = make("memory", tmp, method, allow_negative=True)
    order = sorted(range(len(moves)), key=lambda n: (moves[n][3], n))
    for n in order:
        is_in, q, cents, d = moves[n]
        doc = f"{'r' if is_in else 'i'}{n}"
        if is_in:
            ordered.receive("A", "W", D(q), D(cents).scaleb(-2), doc_id=doc, posted_at=day(d))
        else:
            ordered.issue("A", "W", D(q), doc_id=doc, posted_at=day(d))
    a, b = shuffled.balance("A", "W"), ordered.balance("A", "W")
    assert (a.on_hand, a.value) == (b.on_hand, b.value)
    assert group_costs(shuffled) == group_costs(ordered)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_second_service_on_the_same_store_sees_fresh_valuations(kind: str,
                                                                  tmp_path: Path) -> None:
    """Live valuation objects are kept between commands; a write by another service (or
    process) bumps the stored version, so the next command reloads instead of reusing."""
    first = make(kind, tmp_path)
    second = Jxc(first.storage)
    first.receive("A", "W", D(10), D(10), doc_id="r1")
    assert second.issue("A", "W", D(4), doc_id="i1").value == D("-40.00")
    assert first.issue("A", "W", D(6), doc_id="i2").value == D("-60.00")
    with pytest.raises(JxcError):  # a refused command must not leave a half-changed cache
        first.issue("A", "W", D(1), doc_id="i3")
    second.receive("A", "W", D(1), D(7), doc_id="r2")
    assert first.issue("A", "W", D(1), doc_id="i4").value == D("-7.00")
    assert_ledger_matches(first)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_organisation_scope_history_counts_its_corrections(kind: str, tmp_path: Path) -> None:
    """Costed by organisation, a back-dating correction stands under warehouse "*": the
    balance as of any moment counts it, before and after a month-end close (snapshot)."""
    from jxc_core.services import Accounting

    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp_path / "o.db"))
    j = Jxc(storage, organisation_scope=True)
    j.define_item(Item("A", "a"))
    j.define_warehouse(Warehouse("W", "w"))
    j.define_warehouse(Warehouse("V", "v"))
    j.receive("A", "W", D(5), D(10), doc_id="r1", posted_at=day(1))
    j.receive("A", "V", D(5), D(20), doc_id="r2", posted_at=day(3))
    j.issue("A", "V", D(5), doc_id="i1", posted_at=day(4))  # FIFO: r1's 5 @ 10.00
    j.issue("A", "W", D(5), doc_id="i0", posted_at=day(2))  # back-dated: takes r1 first
    assert [x.entry.warehouse for x in j.ledger("A") if x.entry.kind == "cost_backdating"] == [
        "*"]
    now = j.balance("A")
    later = j.balance("A", as_of=day(40))
    assert (now.on_hand, now.value) == (D(0), D("0.00"))
    assert (later.on_hand, later.value) == (D(0), D("0.00"))
    assert j.balance("A", as_of=day(3)).value == D("100.00")  # r1 and r2, i0 out at 50.00
    Accounting(j).close_period(2026, 1)  # the days above are in January
    after = j.balance("A", as_of=day(40))
    assert (after.on_hand, after.value) == (D(0), D("0.00"))
    assert j.balance("A", as_of=day(35)).value == D("0.00")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("order", [["r0", "s1", "s2", "r"], ["s1", "s2", "r", "r0"],
                                   ["s1", "r0", "s2", "r"], ["s2", "r", "s1", "r0"]])
def test_standard_cost_rounding_of_a_receipt_follows_the_stock_path(
        kind: str, order: list[str], tmp_path: Path) -> None:
    """At standard 33.333 a receipt that brings the stock back to exactly zero takes the
    rounding left in it (66.66 for 2 units), another enters at 66.67. A receipt of 1 dated
    first changes the path: the later receipt enters at 66.67, and the back-dated posting
    books that cent (a correction naming the receipt). The ledger sum stays the valuation
    (it was 33.33 against 33.34) and any order ends at the date-order figures."""
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp_path / "s.db"))
    j = Jxc(storage)
    j.define_item(Item("A", "a", costing_method="standard", standard_cost=D("33.333"),
                       allow_negative=True))
    j.define_warehouse(Warehouse("W", "w"))
    moves = {
        "r0": lambda: j.receive("A", "W", D(1), D("33.333"), doc_id="r0", posted_at=day(1)),
        "s1": lambda: j.issue("A", "W", D(1), doc_id="s1", posted_at=day(2)),
        "s2": lambda: j.issue("A", "W", D(1), doc_id="s2", posted_at=day(3)),
        "r": lambda: j.receive("A", "W", D(2), D("33.333"), doc_id="r", posted_at=day(4)),
    }
    for name in order:
        moves[name]()
    b = j.balance("A", "W")
    lines = j.ledger("A", "W")
    assert (b.on_hand, b.value) == (D(1), D("33.34"))
    assert sum((x.entry.value for x in lines), D(0)) == D("33.34")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_organisation_costing_refuses_a_backdated_issue_a_warehouse_could_not_give(
        kind: str, tmp_path: Path) -> None:
    """One costing scope for the organisation: a back-dated issue from a warehouse must have
    been covered there then and through every later movement (negative stock forbidden), as
    per-warehouse costing's replay already requires. W was empty on day 3: W's history went
    to -5, the issue costed at V's layer."""
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp_path / "o.db"))
    j = Jxc(storage, organisation_scope=True)
    j.define_item(Item("A", "a"))
    for code in ("W", "V"):
        j.define_warehouse(Warehouse(code, code))
    j.receive("A", "V", D(10), D(10), doc_id="rv", posted_at=day(1))
    j.receive("A", "W", D(5), D(20), doc_id="rw", posted_at=day(5))
    j.issue("A", "W", D(2), doc_id="sw", posted_at=day(6))
    with storage.unit_of_work() as uow:
        before = uow.ledger.count()
    with pytest.raises(JxcError) as e:  # nothing in W on day 3
        j.issue("A", "W", D(1), doc_id="s3", posted_at=day(3))
    assert e.value.code == "insufficient_stock"
    assert e.value.data["warehouse"] == "W"
    with pytest.raises(JxcError):  # on day 5.5 W had 5, but day 6 takes 2 of them: 3 left
        j.issue("A", "W", D(4), doc_id="s55", posted_at=day(5) + dt.timedelta(hours=12))
    with storage.unit_of_work() as uow:
        assert uow.ledger.count() == before
    p = j.issue("A", "W", D(3), doc_id="ok", posted_at=day(5) + dt.timedelta(hours=12))
    assert p.entries[0].quantity == D(-3)
    assert [x.running_quantity for x in j.ledger("A", "W")] == [D(5), D(2), D(0)]

"""Back-dated movements that change what an earlier transfer cost: the transferred units carry
the change where they arrived (a receipt cost of the transfer, dated when they arrived), so the
receiving warehouse is valued as if the movements had been posted in date order."""

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
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse

D = Decimal
T0 = dt.datetime(2026, 11, 10, 9)


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def make(kind: str, tmp: Path, method: str = "fifo") -> Jxc:
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp / "t.db"))
    j = Jxc(storage)
    j.define_item(Item("A", "a", costing_method=method))
    for code in ("W1", "W2"):
        j.define_warehouse(Warehouse(code, code))
    j.define_warehouse(Warehouse("T", "on the road", in_transit=True))
    return j


def books_agree(j: Jxc) -> None:
    """Every warehouse's ledger sums to its balance; value 0.00 at quantity 0."""
    for wh in ("W1", "W2", "T"):
        b = j.balance("A", wh)
        lines = j.ledger("A", wh)
        assert (b.on_hand, b.value) == (sum((x.entry.quantity for x in lines), D(0)),
                                        sum((x.entry.value for x in lines), D(0)))
        if b.on_hand == 0:
            assert b.value == 0


SCENARIOS = [
    # FIFO: receive 10 @ 10.00 in W1, transfer 5 to W2; a receipt of 10 @ 20.00 dated before
    # the first one: the transfer took 5 of it, 100.00 instead of 50.00. W2's 5 units carry
    # the 50.00 (they stayed at 50.00 and W1's 50.00 went nowhere)
    pytest.param("fifo", False, False, {"W1": ("15", "200.00"), "W2": ("5", "100.00"),
                                        "T": ("0", "0")}, id="fifo"),
    # the same, W2 having sold 2 of the 5: they cost 20.00 more, 3 left at 60.00
    pytest.param("fifo", True, False, {"W1": ("15", "200.00"), "W2": ("3", "60.00"),
                                       "T": ("0", "0")}, id="fifo_sold_there"),
    # through in-transit (W1 -> T -> W2): the change goes on with the second transfer
    pytest.param("fifo", False, True, {"W1": ("15", "200.00"), "W2": ("5", "100.00"),
                                       "T": ("0", "0.00")}, id="fifo_in_transit"),
    # moving average: W1's average when the transfer left is (100.00 + 200.00) / 20 = 15.00:
    # the transfer costs 75.00, W2's 5 units too; W1 keeps 15 at 225.00
    pytest.param("moving_average", False, False, {"W1": ("15", "225.00"),
                                                  "W2": ("5", "75.00"), "T": ("0", "0")},
                 id="moving_average"),
]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize(("method", "sold", "via_transit", "expected"), SCENARIOS)
def test_a_backdated_receipt_revalues_an_earlier_transfer_where_it_arrived(
        kind: str, method: str, sold: bool, via_transit: bool,
        expected: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    j = make(kind, tmp_path, method)
    j.receive("A", "W1", D(10), D("10.00"), doc_id="R1", posted_at=at(0))
    if via_transit:
        j.transfer("A", "W1", "T", D(5), doc_id="DB1", posted_at=at(2))
        j.transfer("A", "T", "W2", D(5), doc_id="DB2", posted_at=at(3))
    else:
        j.transfer("A", "W1", "W2", D(5), doc_id="DB1", posted_at=at(2))
    if sold:
        j.issue("A", "W2", D(2), doc_id="CK1", posted_at=at(4))
    if method == "fifo":
        j.receive("A", "W1", D(10), D("20.00"), doc_id="R0", posted_at=at(-1))
    else:
        j.receive("A", "W1", D(10), D("20.00"), doc_id="R0", posted_at=at(1))
    for wh, (q, v) in expected.items():
        b = j.balance("A", wh)
        assert (b.on_hand, b.value) == (D(q), D(v)), wh
    books_agree(j)
    if sold:  # the 2 units sold in W2 cost 20.00 more: a correction naming the issue
        fixes = [x.entry for x in j.ledger("A", "W2") if x.entry.kind == "cost_backdating"]
        assert [(e.doc_id, e.value) for e in fixes] == [("CK1", D("-20.00"))]


# -- property: any posting order gives the date order figures, across warehouses ---------------

move = st.tuples(
    st.sampled_from(["in1", "in2", "out1", "out2", "t12", "t21"]),
    st.integers(1, 20),  # quantity
    st.integers(100, 5000),  # cents (receipts)
    st.integers(1, 30),  # day
)


def post(j: Jxc, n: int, m: tuple[str, int, int, int]) -> None:
    kind, q, cents, day = m
    when = T0 + dt.timedelta(days=day, minutes=n)  # distinct moments: one date order
    if kind.startswith("in"):
        j.receive("A", f"W{kind[2]}", D(q), D(cents).scaleb(-2), doc_id=f"m{n}",
                  posted_at=when)
    elif kind.startswith("out"):
        j.issue("A", f"W{kind[3]}", D(q), doc_id=f"m{n}", posted_at=when)
    else:
        j.transfer("A", f"W{kind[1]}", f"W{kind[2]}", D(q), doc_id=f"m{n}", posted_at=when)


def costs(j: Jxc) -> dict[tuple[str, str], Decimal]:
    """What each movement out of each warehouse cost: its entries and the corrections naming
    it; what arrived by transfer: its entry and the receipt costs it got."""
    out: dict[tuple[str, str], Decimal] = {}
    for wh in ("W1", "W2"):
        for x in j.ledger("A", wh):
            e = x.entry
            if e.doc_id.startswith("m"):
                out[(wh, e.doc_id)] = out.get((wh, e.doc_id), D(0)) + e.value
    return out


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(moves=st.lists(move, min_size=1, max_size=20),
       method=st.sampled_from(["fifo", "moving_average", "lifo"]))
def test_any_posting_order_gives_the_date_order_figures_across_transfers(
        moves: list[tuple[str, int, int, int]], method: str) -> None:
    """Receipts, issues and transfers both ways between two warehouses, posted in the order
    drawn (most of them back-dated) and in date order: every warehouse ends at the same
    quantity and value, and every movement at the same cost. A seed stock keeps every
    warehouse above zero whatever the order (no shortage estimates)."""
    tmp = Path(tempfile.mkdtemp())
    found = []
    for order in (range(len(moves)), sorted(range(len(moves)),
                                             key=lambda n: (moves[n][3], n))):
        j = make("memory", tmp, method)
        for wh in ("W1", "W2"):
            j.receive("A", wh, D(500), D("10.00"), doc_id=f"seed{wh}", posted_at=T0)
        for n in order:
            post(j, n, moves[n])
        books_agree(j)
        found.append(({wh: (j.balance("A", wh).on_hand, j.balance("A", wh).value)
                       for wh in ("W1", "W2")}, costs(j)))
    assert found[0] == found[1]


# -- transfers sent from a shortage (negative stock allowed) -----------------------------------

def make_negative(kind: str, tmp: Path, method: str = "fifo") -> Jxc:
    storage = MemoryStorage() if kind == "memory" else SqliteStorage(str(tmp / "n.db"))
    j = Jxc(storage)
    j.define_item(Item("A", "a", costing_method=method, allow_negative=True))
    for code in ("W1", "W2"):
        j.define_warehouse(Warehouse(code, code))
    return j


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
@pytest.mark.parametrize("backdated", [False, True])
def test_a_settled_shortage_of_a_transfer_goes_on_to_where_the_units_are(
        kind: str, method: str, backdated: bool, tmp_path: Path) -> None:
    """W1 is empty: 4 units go to W2 at an estimate of 0.00. A receipt of 10 @ 10.00 settles
    the shortage: the 40.00 belongs to the 4 units in W2 (it went to cost of goods sold while
    they stayed at 0.00). A receipt of 4 @ 5.00 dated before the transfer then makes it cost
    20.00, as in date order (W2 ended at -20.00: the correction came without the settlement)."""
    j = make_negative(kind, tmp_path, method)
    j.transfer("A", "W1", "W2", D(4), doc_id="DB1", posted_at=at(2))
    j.receive("A", "W1", D(10), D("10.00"), doc_id="R1", posted_at=at(3))
    assert (j.balance("A", "W2").on_hand, j.balance("A", "W2").value) == (D(4), D("40.00"))
    assert j.balance("A", "W1").value == D("60.00")
    if backdated:
        j.receive("A", "W1", D(4), D("5.00"), doc_id="R0", posted_at=at(1))
        w1 = "100.00" if method != "moving_average" else j.balance("A", "W1").value
        assert j.balance("A", "W2").value == D("20.00")
        assert j.balance("A", "W1").value == D(w1)
    books_agree(j)
    sold = j.issue("A", "W2", D(4), doc_id="CK1", posted_at=at(5))
    assert -sold.value == (D("20.00") if backdated else D("40.00"))
    books_agree(j)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
def test_a_settlement_of_a_transfer_left_short_by_a_replay_goes_on_with_its_units(
        kind: str, method: str, tmp_path: Path) -> None:
    """A transfer posted from stock, then left short by a back-dated issue before it: the
    receipt that settles its shortage carries the settled cost to where its units are, as for
    a transfer posted short. A later back-dated transfer that reopens the shortage takes the
    settled cost back from there too. (The settlement stayed in W2's cost of goods sold, and
    its undoing went to W1: 9 units worth -21.30.)"""
    j = make_negative(kind, tmp_path, method)
    j.receive("A", "W2", D(7), D("3.86"), doc_id="R1", posted_at=at(0))
    j.transfer("A", "W2", "W1", D(2), doc_id="T1", posted_at=at(48))
    j.issue("A", "W2", D(7), doc_id="S1", posted_at=at(24))  # T1 now leaves W2 short
    j.receive("A", "W2", D(3), D("31.88"), doc_id="R2", posted_at=at(49))
    # R2 settles T1's 2 units (63.76 against 7.72 estimated): they are in W1
    assert (j.balance("A", "W1").on_hand, j.balance("A", "W1").value) == (D(2), D("63.76"))
    j.transfer("A", "W2", "W1", D(7), doc_id="T0", posted_at=at(1))
    # in date order: T0 takes R1's 7 (27.02); S1 and T1 go short at 3.86; R2 fills S1 first
    assert (j.balance("A", "W1").on_hand, j.balance("A", "W1").value) == (D(9), D("34.74"))
    assert (j.balance("A", "W2").on_hand, j.balance("A", "W2").value) == (D(-6), D("-23.16"))
    books_agree(j)


shuffled_move = st.tuples(st.sampled_from(["in1", "in2", "out1", "out2", "t12", "t21"]),
                          st.integers(1, 9), st.integers(100, 4000), st.integers(0, 30))


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(moves=st.lists(shuffled_move, min_size=1, max_size=16),
       method=st.sampled_from(["fifo", "moving_average", "lifo"]))
def test_back_dated_transfers_with_negative_stock_keep_every_warehouse_sound(
        moves: list[tuple[str, int, int, int]], method: str) -> None:
    """Receipts, issues and transfers between two warehouses with negative stock allowed,
    posted in the order drawn (most of them back-dated): after every posting each warehouse's
    ledger sums to its balance, stock on hand is worth zero or more and a shortage zero or
    less (shortage estimates are costs of zero or more)."""
    j = make_negative("memory", Path(tempfile.mkdtemp()), method)
    for n, m in enumerate(moves):
        post(j, n, m)
        books_agree(j)
        for wh in ("W1", "W2"):
            b = j.balance("A", wh)
            assert b.value >= 0 if b.on_hand > 0 else b.value <= 0, (wh, b.on_hand, b.value)

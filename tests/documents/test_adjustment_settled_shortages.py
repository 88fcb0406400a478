"""Negative stock allowed: an adjustment's line in (其他入库) or a stock count's gain whose
units settled open shortages — its own document's earlier line out, or other documents' —
cancelled newest first (DOMAIN.md §2, §5). Its cancellation opens those shortages again at
the estimates they released and takes back the settlements booked, as a purchase receipt's
does; the line out's cancellation, after it (lines are undone last first), closes its own
shortage at its estimate. Until 2026-12-21 the adjustment was refused for good ("N of its
units have left stock already") under FIFO and LIFO, by warehouse and by organisation, with
lots too; a count gain alike; and under moving average the cancellation left cost of goods
sold and the counter role apart (docs/decisions.md, 2026-12-21, "an adjustment's or a count's
line in that settled shortages")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, day, setup_master

D = Decimal
METHODS = {"NF": "fifo", "NL": "lifo", "NM": "moving_average"}
LAYERED = ["NF", "NL"]


@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *METHODS, "NFT"])


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[False, True], ids=["by_warehouse", "by_organisation"])
def org(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def _open(storage: str, tmp_path: Path, org: bool) -> Iterator[Shop]:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "adjusted.db")))
    j = Jxc(store, clock=TickingClock(dt.datetime(2026, 3, 20, 8, 0)),
            organisation_scope=org)
    setup_master(j)
    for code, method in METHODS.items():
        j.define_item(Item(code, f"{method} item", costing_method=method, allow_negative=True))
    j.define_item(Item("NFT", "fifo lots", lot_tracked=True, allow_negative=True))
    yield Shop(j, Documents(j))
    store.close()


@pytest.fixture
def shop(storage: str, tmp_path: Path, org: bool) -> Iterator[Shop]:
    yield from _open(storage, tmp_path, org)


def _adjust(shop: Shop, x: str, spec: list[tuple[int, str, str]], on: int | None = None,
            lot: tuple[str, ...] = ()) -> str:
    """An adjustment of ``x``: one line per (signed quantity, price, warehouse)."""
    lines = [Line(n, x, D(q), D(p), warehouse=wh, lot=lot[n - 1] if lot else "")
             for n, (q, p, wh) in enumerate(spec, start=1)]
    kw = {} if on is None else {"date": day(on)}
    return shop.run("adjustment", lines, **kw).doc_id


def _deliver(shop: Shop, x: str, qty: int, wh: str = "W1", on: int | None = None) -> str:
    kw = {} if on is None else {"date": day(on)}
    return shop.run("delivery", [Line(1, x, D(qty), D("20.00"), warehouse=wh)], "C1",
                    **kw).doc_id


def _receive(shop: Shop, x: str, qty: int, price: str, wh: str = "W1",
             on: int | None = None) -> str:
    kw = {} if on is None else {"date": day(on)}
    return shop.run("purchase_receipt", [Line(1, x, D(qty), D(price), warehouse=wh)], "S1",
                    **kw).doc_id


def _count(shop: Shop, x: str, counted: int, wh: str = "W1") -> str:
    """A stock count of ``x`` in ``wh`` counted at ``counted``, posted."""
    pc = shop.docs.submit(shop.make("stock_count", [Line(1, x, D(0), warehouse=wh)]).doc_id,
                          BOSS)
    shop.docs.record_count(pc.doc_id, {1: D(counted)})
    shop.docs.approve(pc.doc_id, BOSS)
    return shop.docs.post(pc.doc_id, BOSS).doc_id


def _cancel(shop: Shop, *doc_ids: str) -> None:
    """Cancel ``doc_ids`` in that order, each accepted, the books right after each."""
    for doc_id in doc_ids:
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()


def _entries(shop: Shop, x: str, doc_id: str) -> dict[int, tuple[Decimal, Decimal]]:
    """(quantity, value) of each line's stock entries of ``doc_id`` (summed per line)."""
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for found in shop.jxc.ledger(x):
        e = found.entry
        if e.doc_id == doc_id and e.quantity:
            q, v = out.get(e.line_no, (D(0), D(0)))
            out[e.line_no] = (q + e.quantity, v + e.value)
    return out


def _nets_to_zero(shop: Shop, doc_id: str) -> None:
    """The document and its cancellation net to zero on every role."""
    assert {r: v for r, v in shop.roles(doc_id).items() if v} == {}


# -- its own line out's shortage ---------------------------------------------------------------
@pytest.mark.parametrize("x", list(METHODS))
@pytest.mark.parametrize("spec", [(-2, 1), (-1, 2), (-2, 2)], ids=["-2+1", "-1+2", "-2+2"])
def test_an_adjustment_that_settled_its_own_removal_cancels(
        shop: Shop, x: str, spec: tuple[int, int]) -> None:
    """From nothing: a line removes (short, at 0.00), a later line adds at 11.00 and settles
    the removal's shortage. The adjustment cancels: its addition opens the shortage again,
    its removal then closes it; stock at 0 / 0.00 and every role at zero."""
    out, into = spec
    qt = _adjust(shop, x, [(out, "9.00", "W2"), (into, "11.00", "W2")])
    assert shop.qty(x, "W2") == out + into
    _cancel(shop, qt)
    shop.assert_all_undone(x)
    # each line undone at what it moved: the addition at 11.00 a unit, the removal at 0.00
    back = _entries(shop, x, f"{qt}-R")
    assert back[2] == (D(-into), -into * D("11.00"))
    assert back[1] == (D(-out), D("0.00"))


@pytest.mark.parametrize("x", list(METHODS))
def test_the_removal_comes_back_at_its_estimate(shop: Shop, x: str) -> None:
    """1 @ 10.00 received and delivered (the last cost is 10.00); an adjustment removes 3
    (short at an estimate of 30.00) and adds 1 @ 11.00 (it settles 1 of them: 1.00 more).
    Cancelled, the addition takes its 11.00 out and opens the unit again at 10.00; the
    removal comes back at the 30.00 it was posted at, closing its shortage: the
    adjustment's rows and its cancellation's net to zero."""
    rc = _receive(shop, x, 1, "10.00")
    dl = _deliver(shop, x, 1)
    qt = _adjust(shop, x, [(-3, "9.00", "W1"), (1, "11.00", "W1")])
    posted = _entries(shop, x, qt)
    assert posted[1] == (D(-3), D("-30.00"))
    assert (shop.qty(x), shop.value(x)) == (D(-2), D("-20.00"))
    _cancel(shop, qt)
    assert (shop.qty(x), shop.value(x)) == (D(0), D("0.00"))
    back = _entries(shop, x, f"{qt}-R")
    assert back == {1: (D(3), D("30.00")), 2: (D(-1), D("-11.00"))}
    _nets_to_zero(shop, qt)
    _cancel(shop, dl, rc)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
@pytest.mark.parametrize("third", [-2, 1], ids=["then_removes", "then_adds"])
def test_a_later_line_of_the_document_moved_the_same_stock(
        shop: Shop, x: str, third: int) -> None:
    """-1 (short), +2 @ 11.00 (settles it, 1 in its layer), then a third line: -2 (takes the
    layer's unit and goes short 1) or +1 @ 12.00 (a layer beside it). Undone last first, the
    third line is gone before the addition's cancellation opens the shortage again."""
    qt = _adjust(shop, x, [(-1, "9.00", "W1"), (2, "11.00", "W1"), (third, "12.00", "W1")])
    _cancel(shop, qt)
    shop.assert_all_undone(x)


def test_a_lot_tracked_removal_settled_by_another_lot(storage: str, tmp_path: Path,
                                                      org: bool) -> None:
    """Lots are rows of one costing scope: 1 of lot LB removed from nothing (short), 2 of lot
    LA added (one settles it). The adjustment cancels."""
    for shop in _open(storage, tmp_path, org):
        qt = _adjust(shop, "NFT", [(-1, "9.00", "W2"), (2, "11.00", "W2")], lot=("LB", "LA"))
        _cancel(shop, qt)
        shop.assert_all_undone("NFT")


@pytest.mark.parametrize("x", LAYERED)
def test_by_organisation_the_removal_in_another_warehouse(storage: str, tmp_path: Path,
                                                          x: str) -> None:
    """Costed by organisation: 1 removed from W1 (short), 2 added in W2 (one settles W1's
    shortage: one scope). The adjustment cancels."""
    for shop in _open(storage, tmp_path, True):
        qt = _adjust(shop, x, [(-1, "9.00", "W1"), (2, "11.00", "W2")])
        assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (D(-1), D(2))
        _cancel(shop, qt)
        shop.assert_all_undone(x)


# -- other documents' shortages ----------------------------------------------------------------
@pytest.mark.parametrize("x", list(METHODS))
def test_an_adjustment_that_settled_a_delivery_cancels_first(shop: Shop, x: str) -> None:
    """2 delivered from nothing (short at 0.00), 3 added @ 11.00 (2 settle the delivery):
    the adjustment cancels first, the delivery's shortage is open again at 0.00, and the
    delivery cancels. Under moving average the settlement used to stay in cost of goods
    sold (and the counter role apart from it)."""
    dl = _deliver(shop, x, 2)
    qt = _adjust(shop, x, [(3, "11.00", "W1")])
    assert (shop.qty(x), shop.value(x)) == (D(1), D("11.00"))
    _cancel(shop, qt)
    assert (shop.qty(x), shop.value(x)) == (D(-2), D("0.00"))
    assert shop.net("cogs") == D("0.00")
    _cancel(shop, dl)
    shop.assert_all_undone(x)


@pytest.mark.parametrize(("x", "received"), [
    ("NF", 0), ("NL", 0), ("NF", 1), ("NL", 1), ("NM", 1)])
def test_a_count_gain_that_settled_a_delivery_cancels_first(
        shop: Shop, x: str, received: int) -> None:
    """A count finds more than the book: its gain settles the open shortage of a delivery
    (3 delivered, 1 of them received at 10.00 before: 2 short at 10.00; or 2 delivered from
    nothing). The count cancels first, then the rest, newest first (under moving average the
    settlement of the 2 units at 10.00 is taken back with it: every role ends at zero)."""
    posted = [_receive(shop, x, 1, "10.00")] if received else []
    posted.append(_deliver(shop, x, 2 + received))
    posted.append(_count(shop, x, 1))
    assert shop.qty(x) == D(1)
    _cancel(shop, *reversed(posted))
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
def test_out_of_turn_it_waits_for_the_later_receipt(shop: Shop, x: str) -> None:
    """2 delivered short (day 5), 1 added @ 11.00 (day 6, settles 1), 2 @ 10.00 received
    (day 7, settles the other, 1 in its layer). Cancelling the adjustment while the receipt
    stands is refused (opened again in front of it, the shortage would take the unit the
    delivery's cancellation is to put back into the receipt); newest first all cancel."""
    dl = _deliver(shop, x, 2, on=5)
    qt = _adjust(shop, x, [(1, "11.00", "W1")], on=6)
    rc = _receive(shop, x, 2, "10.00", on=7)
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(qt, BOSS)
    assert err.value.code == "reversal_impossible"
    _cancel(shop, rc, qt, dl)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
def test_a_receipt_line_that_settled_beside_a_line_into_its_layer(shop: Shop, x: str) -> None:
    """1 delivered short; a receipt whose line 1 (1 @ 10.00) settles it and whose line 2
    (2 @ 12.00) is a layer in the same warehouse: the receipt cancels (its line 2 first),
    then the delivery. Line 2's layer stood beside line 1's settled unit (refused before)."""
    dl = _deliver(shop, x, 1)
    rc = shop.run("purchase_receipt", [Line(1, x, D(1), D("10.00"), warehouse="W1"),
                                       Line(2, x, D(2), D("12.00"), warehouse="W1")],
                  "S1").doc_id
    _cancel(shop, rc, dl)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
def test_a_receipt_by_organisation_that_settled_a_delivery_cancels_first(
        storage: str, tmp_path: Path, x: str) -> None:
    """Costed by organisation, a purchase receipt into W2 settles a delivery's shortage in
    W1 (one scope): the receipt cancels first, then the delivery (FIFO/LIFO refused it)."""
    for shop in _open(storage, tmp_path, True):
        dl = _deliver(shop, x, 2)
        rc = _receive(shop, x, 1, "10.00", "W2")
        _cancel(shop, rc, dl)
        shop.assert_all_undone(x)


# -- the random flows' shapes ------------------------------------------------------------------
@pytest.mark.parametrize("x", LAYERED)
def test_an_issue_of_the_same_moment_cancelled_out_of_turn(shop: Shop, x: str) -> None:
    """1 removed from W2 (QT1, short); then an adjustment adds 2 @ 9.00 (one settles QT1)
    and removes 2 (the other, and 1 short). QT1 is cancelled out of turn (its unit goes back
    into the layer that settled it, settling the removal's shortage named by that layer);
    then the second adjustment cancels."""
    qt1 = _adjust(shop, x, [(-1, "11.00", "W2")])
    qt2 = _adjust(shop, x, [(2, "9.00", "W2"), (-2, "11.00", "W2")])
    _cancel(shop, qt1, qt2)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
def test_a_delivery_settled_by_the_addition_cancelled_out_of_turn(shop: Shop, x: str) -> None:
    """2 delivered from W2 (short); an adjustment adds 2 @ 9.00 (they settle the delivery)
    and removes 2 (short). The delivery cancelled out of turn, then the adjustment."""
    dl = _deliver(shop, x, 2, "W2")
    qt = _adjust(shop, x, [(2, "9.00", "W2"), (-2, "11.00", "W2")])
    _cancel(shop, dl, qt)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
def test_a_back_dated_removal_cancelled_after_the_replays(shop: Shop, x: str) -> None:
    """2 @ 13.33 received (day 10); an adjustment removes 2 and adds 2 @ 9.00 (day 8); 1
    added @ 9.00 (day 4); 3 delivered (day 3): each back-dated posting replays the later
    ones. The delivery, the receipt, the day-8 adjustment (its removal comes back at what it
    costs as replayed at its moment: the day-4 unit and the short unit its own addition
    settled, opened again) and the day-4 adjustment cancel in that order."""
    rc = _receive(shop, x, 2, "13.33", on=10)
    qt8 = _adjust(shop, x, [(-2, "11.00", "W1"), (2, "9.00", "W1")], on=8)
    qt4 = _adjust(shop, x, [(1, "9.00", "W1")], on=4)
    dl = _deliver(shop, x, 3, on=3)
    _cancel(shop, dl, rc, qt8, qt4)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", LAYERED)
def test_a_back_dated_receipt_replays_the_adjustment_and_its_cancellation(
        shop: Shop, x: str) -> None:
    """An adjustment that removes 2 and adds 1 @ 9.00 (day 10) is cancelled; 1 @ 10.00
    received dated day 5 replays both (the cancellation opens the settled unit again as
    replayed); the receipt cancels."""
    qt = _adjust(shop, x, [(-2, "11.00", "W1"), (1, "9.00", "W1")], on=10)
    _cancel(shop, qt)
    rc = _receive(shop, x, 1, "10.00", on=5)
    _cancel(shop, rc)
    shop.assert_all_undone(x)


# -- the invariant -----------------------------------------------------------------------------
_item_st = st.sampled_from(list(METHODS))
_wh_st = st.sampled_from(["W1", "W2"])
_step_st = st.one_of(
    st.tuples(st.just("purchase_receipt"),
              st.lists(st.tuples(_item_st, _wh_st, st.integers(1, 4),
                                 st.sampled_from(["8.00", "10.00", "13.33"])),
                       min_size=1, max_size=3)),
    st.tuples(st.just("delivery"),
              st.lists(st.tuples(_item_st, _wh_st, st.integers(1, 3), st.just("20.00")),
                       min_size=1, max_size=3)),
    st.tuples(st.just("adjustment"),
              st.lists(st.tuples(_item_st, _wh_st, st.sampled_from([-2, -1, 1, 2]),
                                 st.sampled_from(["9.00", "11.00"])),
                       min_size=1, max_size=4)),
    st.tuples(st.just("stock_count"),
              st.lists(st.tuples(_item_st, _wh_st, st.sampled_from([-1, 1, 2, 3]),
                                 st.just("")),
                       min_size=1, max_size=1)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_step_st, min_size=1, max_size=7), by_org=st.booleans())
def test_newest_first_every_document_cancels(
        steps: list[tuple[str, list[tuple[str, str, int, str]]]], by_org: bool) -> None:
    """Negative stock allowed, FIFO, LIFO and moving average, per warehouse and by
    organisation: receipts, deliveries, adjustments (lines adding and removing, the same
    stock too) and counts (gains and losses) posted one after the other, whatever went short
    and whatever settled it, cancel strictly newest first — each accepted, the books right
    after each — down to 0 / 0.00 with every role at zero. Before 2026-12-21 most such
    flows left an adjustment, a count or a receipt refused for good."""
    for shop in _open("memory", Path(), by_org):
        posted: list[str] = []
        for kind, spec in steps:
            if kind == "stock_count":
                x, wh, change, _ = spec[0]
                posted.append(_count(shop, x, max(0, int(shop.qty(x, wh)) + change), wh))
                continue
            lines = [Line(n, x, D(q), D(p), warehouse=wh)
                     for n, (x, wh, q, p) in enumerate(spec, start=1)]
            party = {"purchase_receipt": "S1", "delivery": "C1"}.get(kind, "")
            posted.append(shop.run(kind, lines, party).doc_id)
        shop.check_books()
        _cancel(shop, *reversed(posted))
        for x in METHODS:
            shop.assert_all_undone(x)

"""A cancelled issue and its cancellation (红冲) net to zero, in every later replay too.

The cancellation of a delivery posts on the delivery's date. A receipt cancelled afterwards,
dated before the delivery, replays the delivery of its scope: before, the replay ran the
cancelled delivery without the receipt's units (its reversal comes after it) and refused the
receipt's cancellation (``insufficient_stock``) although its units were on hand; under moving
average a replay re-costed the cancelled delivery (a ``cost_backdating`` entry) while its
reversal kept the value it posted, so the pair no longer netted to zero. A replay now passes
over a cancelled issue and its reversal, as if neither had happened: their costs stay as
posted, and what lies between them is costed as in date order without them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop
from .support import day as _day
from .support import delivery as _delivery
from .support import receipt as _receipt
from .support import stock as _stock

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "XFIFO", "lifo": "XLIFO", "moving_average": "XAVG"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _items(shop: Shop) -> None:
    for method, code in CODES.items():
        shop.jxc.define_item(Item(code, f"{method} item", costing_method=method))


def _pair_values(shop: Shop, item: str) -> dict[str, Decimal]:
    """The value of each document in the ledger of ``item``, its cancellation (``-R``) and
    every cost entry naming either counted in."""
    out: dict[str, Decimal] = {}
    for line in shop.jxc.ledger(item):
        e = line.entry
        doc = e.doc_id[:-2] if e.doc_id.endswith("-R") else e.doc_id
        out[doc] = out.get(doc, D(0)) + e.value
    return out


@pytest.mark.parametrize("method", METHODS)
def test_a_receipt_after_its_cancelled_later_delivery(shop: Shop, method: str) -> None:
    """Receipt 1 @ 10.00 (Mar 1), delivery of 1 (Mar 21), the delivery cancelled: the unit
    is back, so the receipt can be cancelled in turn."""
    _items(shop)
    x = CODES[method]
    rk = _receipt(shop, x, 1, "10.00", 1)
    dl = _delivery(shop, x, 1, 21)
    shop.docs.cancel(dl, BOSS)
    assert _stock(shop, x) == (1, D("10.00"))
    shop.docs.cancel(rk, BOSS)
    assert _stock(shop, x) == (0, D("0.00"))
    assert shop.net("cogs") == 0
    assert _pair_values(shop, x) == {rk: 0, dl: 0}
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_a_cancelled_delivery_is_not_re_costed_apart_from_its_reversal(
        shop: Shop, method: str) -> None:
    """R1 1 @ 10.00 (Mar 1), R2 5 @ 12.34 (Mar 16), a delivery of 1 (Mar 21) cancelled, then
    R2 cancelled: R1's unit is left, 1 / 10.00, and the cancelled delivery costs nothing (under
    moving average the replay re-costed the delivery 11.95 -> 10.00 and left its reversal at
    11.95: 1 / 11.95 in stock, cost of goods sold -1.95)."""
    _items(shop)
    x = CODES[method]
    r1 = _receipt(shop, x, 1, "10.00", 1)
    r2 = _receipt(shop, x, 5, "12.34", 16)
    dl = _delivery(shop, x, 1, 21)
    shop.docs.cancel(dl, BOSS)
    shop.docs.cancel(r2, BOSS)
    assert _stock(shop, x) == (1, D("10.00"))
    assert shop.net("cogs") == 0
    assert _pair_values(shop, x) == {r1: D("10.00"), r2: 0, dl: 0}
    shop.check_books()
    shop.docs.cancel(r1, BOSS)
    assert _stock(shop, x) == (0, D("0.00"))
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_an_issue_between_a_cancelled_pair_is_cancelled_back_dated(
        shop: Shop, method: str) -> None:
    """Two deliveries the same day, the first cancelled after the second was posted, then the
    second (both cancellations back-dated: a receipt is dated after them): the two pairs
    overlap, and a replay passes over them together. Each delivery nets to zero with its
    cancellation, and every receipt can be cancelled after them."""
    _items(shop)
    x = CODES[method]
    r1 = _receipt(shop, x, 1, "10.00", 1)
    r2 = _receipt(shop, x, 1, "20.00", 2)
    d0 = _delivery(shop, x, 1, 5)
    d1 = _delivery(shop, x, 1, 5)
    r3 = _receipt(shop, x, 1, "30.00", 10)
    shop.docs.cancel(d0, BOSS)
    shop.check_books()
    shop.docs.cancel(d1, BOSS)
    assert _stock(shop, x) == (3, D("60.00"))
    assert shop.net("cogs") == 0
    assert _pair_values(shop, x) == {r1: D("10.00"), r2: D("20.00"), r3: D("30.00"),
                                     d0: 0, d1: 0}
    shop.check_books()
    for doc in (r3, r2, r1):
        shop.docs.cancel(doc, BOSS)
    assert _stock(shop, x) == (0, D("0.00"))
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_a_cancelled_delivery_with_a_cancelled_customer_return(
        shop: Shop, method: str) -> None:
    """A delivery partly returned by the customer, the return cancelled, then the delivery:
    the receipts before them can be cancelled in turn (the return is replayed as a receipt of
    its own, its cancellation taking its units back)."""
    _items(shop)
    x = CODES[method]
    r1 = _receipt(shop, x, 2, "10.00", 1)
    r2 = _receipt(shop, x, 1, "13.00", 2)
    dl = _delivery(shop, x, 3, 5)
    sr = shop.run("sales_return", [Line(1, x, D(1), D("99.00"), warehouse="W1",
                                        source=(dl, 1))], "C1", date=_day(8)).doc_id
    for doc in (sr, dl, r2, r1):
        shop.docs.cancel(doc, BOSS)
        shop.check_books()
    assert _stock(shop, x) == (0, D("0.00"))
    assert shop.net("cogs") == 0
    assert all(v == 0 for v in _pair_values(shop, x).values())


def test_a_later_replay_costs_as_the_cancellation_did(shop: Shop) -> None:
    """FIFO: R1 10 @ 10.00, R2 10 @ 20.00, D1 6 (R1's, Mar 3), D2 8 (4 of R1, 4 of R2, Mar 4).
    D1's cancellation posts on its date, before D2: D2 is replayed after it and takes 8 of R1,
    80.00 (a ``cost_backdating`` of 40.00 less). A later replay passes over D1 and its
    cancellation and costs D2 the same; D1 nets to zero with its cancellation."""
    _items(shop)
    x = CODES["fifo"]
    r1 = _receipt(shop, x, 10, "10.00", 1)
    r2 = _receipt(shop, x, 10, "20.00", 2)
    d1 = _delivery(shop, x, 6, 3)
    d2 = _delivery(shop, x, 8, 4)
    shop.docs.cancel(d1, BOSS)
    assert _stock(shop, x) == (12, D("220.00"))
    assert _pair_values(shop, x) == {r1: D("100.00"), r2: D("200.00"), d1: 0,
                                     d2: D("-80.00")}
    assert shop.net("cogs") == D("80.00")
    shop.check_books()
    # a back-dated posting replays the same figures
    _receipt(shop, x, 1, "5.00", 2)
    assert _pair_values(shop, x)[d2] == D("-80.00")
    for doc in (d2, r2, r1):
        shop.docs.cancel(doc, BOSS)
    assert _stock(shop, x) == (1, D("5.00"))
    assert shop.net("cogs") == 0
    shop.check_books()


_STEP = st.tuples(st.sampled_from(["receipt", "delivery", "delivery"]),
                  st.sampled_from(sorted(CODES.values())), st.integers(1, 6),
                  st.integers(1, 28), st.sampled_from(["10.00", "12.34", "7.01", "0.33"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STEP, min_size=1, max_size=14))
def test_undoing_random_dated_flows_newest_first(
        steps: list[tuple[str, str, int, int, str]]) -> None:
    """Random receipts and deliveries on random days of March (many back-dated) of a FIFO, a
    LIFO and a moving-average item, negative stock forbidden (a step refused is skipped);
    then every posted document is cancelled, the newest (by date, then posting) first: none
    is refused, the stock ends at 0 / 0.00, every document nets to zero in value with its
    cancellation, and the books balance."""
    from jxc_core.adapters import MemoryStorage
    from jxc_core.services import Documents, Jxc

    from .support import TickingClock, setup_master

    j = Jxc(MemoryStorage(), clock=TickingClock(dt.datetime(2026, 3, 31, 9, 0)))
    setup_master(j)
    shop = Shop(j, Documents(j))
    _items(shop)
    posted: list[tuple[dt.date, int, str]] = []
    for kind, x, q, day, price in steps:
        try:
            doc = (_receipt(shop, x, q, price, day) if kind == "receipt"
                   else _delivery(shop, x, q, day))
        except JxcError as exc:
            assert exc.code == "insufficient_stock"
            continue
        posted.append((_day(day), len(posted), doc))
    for _, _, doc in sorted(posted, reverse=True):
        shop.docs.cancel(doc, BOSS)
    for x in CODES.values():
        assert _stock(shop, x) == (0, D("0.00"))
        assert all(v == 0 for v in _pair_values(shop, x).values())
    assert shop.net("cogs") == 0
    shop.check_books()

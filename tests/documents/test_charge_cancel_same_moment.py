"""A receipt cost cancelled at its moment, with a delivery posted at that same moment.

Negative stock forbidden (the default). A clock that reads the same moment for several
postings (one that keeps whole seconds, a batch import stamping a day's documents alike): a
receipt R, then at one moment a landed cost on R and a delivery D of 1, and later a delivery
D2 of 2; cancelled newest first. A charge is cancelled at the moment it was charged, so the
cancellation's entries sort after D (same moment, later entry numbers) and before D's
reversal (dated just after D, since D2 came later). The first line's cancellation entry then
lay between D and its reversal, and the second line's was split on the stock with D's unit
out: the pair (D, its reversal) was not passed over, because the first cancellation entry lay
inside it and the second line's charge lay inside the first line's charge pair. The share of
that unit went to cost of goods sold rather than out of stock (W1 kept 0.20 too much), and
R's cancellation was then refused (`insufficient_stock`, needed 7, available 6) with all its
units on hand. A receipt cost met before the first entry of a pair that moves units lies
between the pair freely: what it splits by, the units on hand, is the same with the pair
passed over.

Shapes: R of two lines into W1 (8 @ 10.00, 7 @ 13.33) with the landed cost on both; R of 8
into W2 and 7 into W1, 1 sent from W2 to W1 before the charge (its share carried there, dated
at the charge or back-dated before it); the same with a purchase invoice at other prices (the
price difference) instead of the landed cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, setup_master

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "SMF", "lifo": "SML", "moving_average": "SMA"}


class StoppedClock:
    """A clock that reads ``at`` until the test moves it."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


@pytest.fixture(params=["memory", "sqlite"])
def stopped(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Shop, StoppedClock]]:
    """A shop over both adapters whose clock stands still; the books read the new items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "x.db")))
    clock = StoppedClock(dt.datetime(2026, 3, 5, 9, 0))
    j = Jxc(storage, clock=clock)
    setup_master(j)
    for m, code in CODES.items():
        j.define_item(Item(code, code, costing_method=m))
    yield Shop(j, Documents(j)), clock
    storage.close()


def _at(day: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, 9, 0)


def _post(shop: Shop, code: str, clock: StoppedClock, shape: str) -> list[str]:
    """The flow of the module docstring; the documents in the order posted."""
    two_warehouses = shape != "one warehouse"
    rc = shop.run("purchase_receipt", [
        Line(1, code, D(8), D("10.00"), warehouse="W2" if two_warehouses else "W1"),
        Line(2, code, D(7), D("13.33"), warehouse="W1")], "S1").doc_id
    posted = [rc]
    clock.at = _at(13)
    if two_warehouses:
        dated = dt.date(2026, 3, 9) if shape == "transfer back-dated" else None
        posted.append(shop.run("transfer", [Line(1, code, D(1), D(0), warehouse="W2",
                                                 to_warehouse="W1")], date=dated).doc_id)
    clock.at = _at(24)  # the charge and the delivery at one moment
    if shape == "invoice":
        posted.append(shop.run("purchase_invoice", [
            Line(1, code, D(8), D("10.50"), source=(rc, 1)),
            Line(2, code, D(7), D("13.50"), source=(rc, 2))], "S1").doc_id)
    else:
        posted.append(shop.run("landed_cost", [Line(1, "freight", D(1), D("3.00"))], "S1",
                               attributes={"receipts": [rc], "basis": "quantity"}).doc_id)
    posted.append(shop.run("delivery", [Line(1, code, D(1), D("20.00"), warehouse="W1")],
                           "C1").doc_id)
    clock.at = _at(28)
    posted.append(shop.run("delivery", [Line(1, code, D(2), D("20.00"), warehouse="W1")],
                           "C1").doc_id)
    return posted


def _stock(shop: Shop, code: str) -> list[tuple[Decimal, Decimal]]:
    return [(shop.jxc.balance(code, wh).on_hand, shop.jxc.balance(code, wh).value)
            for wh in ("W1", "W2")]


SHAPES = ("one warehouse", "transfer", "transfer back-dated", "invoice")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("method", METHODS)
def test_the_charge_cancels_as_it_was_split_and_the_receipt_goes(
        stopped: tuple[Shop, StoppedClock], method: str, shape: str) -> None:
    shop, clock = stopped
    code = CODES[method]
    posted = _post(shop, code, clock, shape)
    rc, charge, dl, dl2 = posted[0], posted[-3], posted[-2], posted[-1]
    for doc_id in (dl2, dl):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    shop.docs.cancel(charge, BOSS)  # each line's share out of the units it raised, whole
    shop.check_books()
    if shape == "one warehouse":
        assert _stock(shop, code) == [(D(15), D("173.31")), (D(0), D("0.00"))]
    else:  # 7 @ 13.33 and the unit sent, at 10.00, in W1; the other 7 @ 10.00 in W2
        assert _stock(shop, code) == [(D(8), D("103.31")), (D(7), D("70.00"))]
        shop.docs.cancel(posted[1], BOSS)  # the transfer
        shop.check_books()
        assert _stock(shop, code) == [(D(7), D("93.31")), (D(8), D("80.00"))]
    shop.docs.cancel(rc, BOSS)  # refused before: the stock seemed to dip below its units
    shop.check_books()
    assert _stock(shop, code) == [(D(0), D("0.00")), (D(0), D("0.00"))]
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", METHODS)
def test_the_charge_split_at_its_moment_counts_the_delivery_there(
        stopped: tuple[Shop, StoppedClock], method: str) -> None:
    """The delivery at the charge's moment, not cancelled: it came after the charge (its
    entry numbers are later), so the charge raised its unit and the delivery took the raised
    cost; cancelling the charge takes the share of the delivered unit (0.20) back from cost
    of goods sold and the rest from the 14 units on hand, as posted."""
    shop, clock = stopped
    code = CODES[method]
    rc, charge, dl, dl2 = _post(shop, code, clock, "one warehouse")
    shop.docs.cancel(dl2, BOSS)
    cogs = shop.net("cogs")
    shop.docs.cancel(charge, BOSS)
    shop.check_books()
    assert shop.net("cogs") - cogs == D("-0.20")
    on_hand, value = _stock(shop, code)[0]
    assert on_hand == D(14)
    assert value == D("173.31") - shop.net("cogs")  # what left stock is in COGS, no more
    assert shop.net("cogs", dl) > 0
    assert shop.docs.get(rc).state.value == "posted"

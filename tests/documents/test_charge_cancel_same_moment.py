"""Postings at one clock reading, and a receipt cost cancelled at the moment it was charged.

Negative stock forbidden (the default). A clock that reads the same moment for several
postings (one that keeps whole seconds, a batch import stamping documents alike) gave them one
moment, ordered by entry number only. A charge (a landed cost, a purchase invoice's price
difference) is cancelled at the moment it was charged, so its cancellation sorted after every
posting made since at that moment, and was split with their units out:

* a supplier return of the receipt posted after the invoice at that reading, the invoice
  cancelled out of turn, then the return: the return came back with the invoice's share
  (W2 ended at 70.44 for 7 @ 10.00) and the transfer of the receipt's units could never be
  cancelled (an internal ``received_below_on_hand``). Each posting made "now" now gets a
  moment of its own, 1 µs after the latest one the service gave when the clock has not moved
  on (``Jxc._own_now``), so the charge's cancellation sorts right after the charge.
* a delivery posted at the charge's moment by another service on the same store (which keeps
  its own latest moment, as another process does), cancelled after a later delivery: the
  first line's cancellation entry lay between the delivery and its reversal, and the second
  line's was split with the delivered unit out (0.20 left in W1; the receipt refused for good,
  ``insufficient_stock`` with its units on hand). A receipt cost met before the first entry
  of a cancelled pair that moves units lies between the pair freely: what it splits by, the
  units on hand, is the same with the pair passed over.

Shapes of the second: R of two lines into W1 (8 @ 10.00, 7 @ 13.33) with the landed cost on
both; R of 8 into W2 and 7 into W1, 1 sent from W2 to W1 before the charge (its share carried
there, dated at the charge's day or back-dated before it); the same with a purchase invoice at
other prices (the price difference) instead of the landed cost.
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
def stopped(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[tuple[Shop, Shop, StoppedClock]]:
    """Two services on one store (as two processes), whose clock stands still; the books read
    the new items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])
    clock = StoppedClock(dt.datetime(2026, 3, 5, 9, 0))
    memory = MemoryStorage()
    shops, stores = [], []
    for _ in range(2):
        storage = (memory if request.param == "memory"
                   else SqliteStorage(str(tmp_path / "x.db")))
        stores.append(storage)
        j = Jxc(storage, clock=clock)
        shops.append(Shop(j, Documents(j)))
    setup_master(shops[0].jxc)
    for m, code in CODES.items():
        shops[0].jxc.define_item(Item(code, code, costing_method=m))
    yield shops[0], shops[1], clock
    for storage in stores:
        storage.close()


def _at(day: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, 9, 0)


def _stock(shop: Shop, code: str) -> list[tuple[Decimal, Decimal]]:
    return [(shop.jxc.balance(code, wh).on_hand, shop.jxc.balance(code, wh).value)
            for wh in ("W1", "W2")]


def _receipt(shop: Shop, code: str, first: str) -> str:
    return shop.run("purchase_receipt", [Line(1, code, D(8), D("10.00"), warehouse=first),
                                         Line(2, code, D(7), D("13.33"), warehouse="W1")],
                    "S1").doc_id


# -- postings at one reading get moments of their own --------------------------------------


def test_postings_at_one_reading_get_moments_of_their_own(
        stopped: tuple[Shop, Shop, StoppedClock]) -> None:
    shop, _, clock = stopped
    code = CODES["fifo"]
    rc = _receipt(shop, code, "W1")
    dl = shop.run("delivery", [Line(1, code, D(1), D("20.00"), warehouse="W1")], "C1").doc_id
    shop.docs.cancel(dl, BOSS)
    moments = [(e.entry.doc_id, e.entry.line_no, e.entry.posted_at)
               for e in shop.jxc.ledger(code, "W1")]
    t = clock.at
    tick = dt.timedelta(microseconds=1)
    assert moments == [(rc, 1, t), (rc, 2, t), (dl, 1, t + tick), (f"{dl}-R", 1, t + 2 * tick)]
    clock.at = _at(6)  # the clock moved on: its reading as it is
    again = shop.run("delivery", [Line(1, code, D(1), D("20.00"), warehouse="W1")],
                     "C1").doc_id
    assert shop.jxc.ledger(code, "W1")[-1].entry.posted_at == _at(6)
    assert shop.jxc.ledger(code, "W1")[-1].entry.doc_id == again


@pytest.mark.parametrize("method", METHODS)
def test_an_invoice_cancelled_before_a_return_made_at_its_reading(
        stopped: tuple[Shop, Shop, StoppedClock], method: str) -> None:
    """Receipt of 9 @ 10.00 into W2, 2 sent to W1; at one later reading a purchase invoice of
    2 at 12.00 (a price difference of 4.00 over the receipt's 9 units: 3.11 in W2, 0.89 sent
    on to W1) and a supplier return of 1 (at 10.44); the invoice cancelled first, then the
    return, the transfer and the receipt."""
    shop, _, clock = stopped
    code = CODES[method]
    rc = shop.run("purchase_receipt", [Line(1, code, D(9), D("10.00"), warehouse="W2")],
                  "S1").doc_id
    tr = shop.run("transfer", [Line(1, code, D(2), D(0), warehouse="W2",
                                    to_warehouse="W1")]).doc_id
    clock.at = _at(22)
    pi = shop.run("purchase_invoice", [Line(1, code, D(2), D("12.00"), source=(rc, 1))],
                  "S1").doc_id
    pr = shop.run("purchase_return", [Line(1, code, D(1), D("10.00"), warehouse="W2",
                                           source=(rc, 1))], "S1").doc_id
    assert _stock(shop, code) == [(D(2), D("20.89")), (D(6), D("62.67"))]
    shop.docs.cancel(pi, BOSS)
    shop.check_books()
    assert _stock(shop, code) == [(D(2), D("20.00")), (D(6), D("60.00"))]
    shop.docs.cancel(pr, BOSS)  # back at 10.00: the invoice is gone (70.44 before)
    shop.check_books()
    assert _stock(shop, code) == [(D(2), D("20.00")), (D(7), D("70.00"))]
    shop.docs.cancel(tr, BOSS)
    shop.check_books()
    assert _stock(shop, code) == [(D(0), D("0.00")), (D(9), D("90.00"))]
    shop.docs.cancel(rc, BOSS)
    shop.check_books()
    shop.assert_all_undone(code)


# -- a delivery at the charge's very moment (another service on the store) -----------------


def _post(shop: Shop, other: Shop, code: str, clock: StoppedClock, shape: str) -> list[str]:
    """The flow of the module docstring; the documents in the order posted. The delivery at
    the charge's moment is posted by ``other``, which has given no moment yet."""
    two_warehouses = shape != "one warehouse"
    rc = _receipt(shop, code, "W2" if two_warehouses else "W1")
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
    posted.append(other.run("delivery", [Line(1, code, D(1), D("20.00"), warehouse="W1")],
                            "C1").doc_id)
    clock.at = _at(28)
    posted.append(shop.run("delivery", [Line(1, code, D(2), D("20.00"), warehouse="W1")],
                           "C1").doc_id)
    return posted


SHAPES = ("one warehouse", "transfer", "transfer back-dated", "invoice")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("method", METHODS)
def test_the_charge_cancels_as_it_was_split_and_the_receipt_goes(
        stopped: tuple[Shop, Shop, StoppedClock], method: str, shape: str) -> None:
    shop, other, clock = stopped
    code = CODES[method]
    posted = _post(shop, other, code, clock, shape)
    rc, charge, dl, dl2 = posted[0], posted[-3], posted[-2], posted[-1]
    at = {e.entry.doc_id: e.entry.posted_at for e in shop.jxc.ledger(code, "W1")}
    assert at[dl] == at[charge] == _at(24)  # one moment
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
        stopped: tuple[Shop, Shop, StoppedClock], method: str) -> None:
    """The delivery at the charge's moment, not cancelled: it came after the charge (its
    entry numbers are later), so the charge raised its unit and the delivery took the raised
    cost; cancelling the charge takes the share of the delivered unit (0.20) back from cost
    of goods sold and the rest from the 14 units on hand, as posted."""
    shop, other, clock = stopped
    code = CODES[method]
    rc, charge, dl, dl2 = _post(shop, other, code, clock, "one warehouse")
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

"""A receipt line between a cancelled issue and its reversal that settled no shortage.

Negative stock forbidden, one warehouse costed alone. A replay (and the stock check of a
back-dated posting) passes over a cancelled issue and its reversal (a void pair) only when
what lies between them could not change: a receipt line that came in between and was
cancelled after the pair lay between freely when it cannot have settled a shortage of the
pair's issue (the pair has no corrections, or the stock just before the line was not below
zero); a receipt line not cancelled kept the pair from being void. Two flows found by random
exploration ended with a receipt that could never be cancelled:

* A: a delivery (corrected by back-dated receipts) and its reversal around a transfer's
  arrival cancelled after it; the receipts before were cancelled back-dated, so the stock
  before the arrival reads -1 (the delivery's own unit) and the pair was replayed, short:
  the last receipt was refused ``insufficient_stock`` with its 7 units on hand.
* B: a supplier return and its reversal around a receipt line that stays; the return's
  receipt cancelled back-dated before it, the replay took the return's unit from another
  receipt's layer, that receipt's cancellation then one unit of the line that stays (W1 at
  7 / 73.33 for 7 units @ 10.00), and the line was refused ``reversal_impossible``.

Now a scope where no receipt line ever settled a shortage (no such record, the scope's
marker absent) has receipt lines that settled none, and a receipt line that stays lies
between a pair as one cancelled after it does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop
from .support import day as _day
from .support import delivery as _delivery
from .support import receipt as _receipt
from .support import stock as _stock

D = Decimal
CODES = {"fifo": "NFIFO", "lifo": "NLIFO", "moving_average": "NAVG"}
METHODS = tuple(CODES)


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _item(shop: Shop, method: str) -> str:
    """The three items defined (the books check them all): the code of ``method``'s."""
    for each, code in CODES.items():
        shop.jxc.define_item(Item(code, f"{each} item", costing_method=each))
    return CODES[method]


def _both(shop: Shop, x: str) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """(on hand, value) in W1 and in W2, after checking the books."""
    shop.check_books()
    return _stock(shop, x, "W1"), _stock(shop, x, "W2")


def _two_lines(shop: Shop, x: str, first: tuple[int, str, str], second: tuple[int, str, str],
               on: int) -> str:
    """A purchase receipt of two lines (quantity, price, warehouse) dated day ``on``."""
    lines = [Line(n, x, D(q), D(p), warehouse=wh) for n, (q, p, wh) in enumerate((first, second),
                                                                                   1)]
    return shop.run("purchase_receipt", lines, "S1", date=_day(on)).doc_id


def _s(q: int, v: str) -> tuple[Decimal, Decimal]:
    return D(q), D(v)


NONE = _s(0, "0.00")

#: flow A, by method: (W1, W2, cost of goods sold) after each posting
POSTED_A = {
    "lifo": [(_s(6, "79.98"), NONE, "0"), (_s(5, "66.65"), NONE, "13.33"),
             (_s(3, "39.99"), NONE, "39.99"), (NONE, NONE, "79.98"),
             (_s(7, "76.66"), NONE, "73.32"), (_s(13, "124.66"), _s(6, "60.00"), "73.32"),
             (_s(14, "137.99"), _s(5, "50.00"), "69.99")],
    "fifo": [(_s(6, "79.98"), NONE, "0"), (_s(5, "66.65"), NONE, "13.33"),
             (_s(3, "39.99"), NONE, "39.99"), (NONE, NONE, "79.98"),
             (_s(7, "70.00"), NONE, "79.98"), (_s(13, "149.98"), _s(6, "60.00"), "48.00"),
             (_s(14, "159.98"), _s(5, "50.00"), "48.00")],
    "moving_average": [(_s(6, "79.98"), NONE, "0"), (_s(5, "66.65"), NONE, "13.33"),
                       (_s(3, "39.99"), NONE, "39.99"), (NONE, NONE, "79.98"),
                       (_s(7, "75.18"), NONE, "74.80"),
                       (_s(13, "134.61"), _s(6, "60.00"), "63.37"),
                       (_s(14, "144.79"), _s(5, "50.00"), "63.19")],
}
#: flow A, by method: (W1, cost of goods sold) after each delivery's cancellation (W2 keeps
#: 5 / 50.00)
UNDONE_A = {
    "lifo": [(_s(17, "174.65"), "33.33"), (_s(19, "194.65"), "13.33"),
             (_s(20, "207.98"), "0.00")],
    "fifo": [(_s(17, "183.98"), "24.00"), (_s(19, "199.98"), "8.00"),
             (_s(20, "207.98"), "0.00")],
    "moving_average": [(_s(17, "176.54"), "31.44"), (_s(19, "197.31"), "10.67"),
                       (_s(20, "207.98"), "0.00")],
}


@pytest.mark.parametrize("method", METHODS)
def test_a_pair_around_an_arrival_after_receipts_cancelled_before_it(shop: Shop,
                                                                     method: str) -> None:
    """Flow A: 6 @ 13.33 in W1 on day 4; deliveries of 1 (day 5), 2 (day 12), 3 (day 9,
    back-dated); 7 @ 10.00 on day 11 (back-dated: the day-12 delivery re-costed); a receipt
    on day 2 of 6 @ 8.00 into W1 and 6 @ 10.00 into W2; a transfer of 1 from W2 to W1 on day
    5, after the day-5 delivery. Cancelled: the deliveries, the day-4 receipt, the transfer,
    the day-2 receipt, and last the day-11 receipt, refused before (``insufficient_stock``,
    needed 1, available 0) with its 7 units on hand."""
    x = _item(shop, method)
    posted = POSTED_A[method]
    r4 = _receipt(shop, x, 6, "13.33", 4)
    steps = [lambda: _delivery(shop, x, 1, 5), lambda: _delivery(shop, x, 2, 12),
             lambda: _delivery(shop, x, 3, 9), lambda: _receipt(shop, x, 7, "10.00", 11),
             lambda: _two_lines(shop, x, (6, "8.00", "W1"), (6, "10.00", "W2"), 2),
             lambda: shop.run("transfer", [Line(1, x, D(1), D(0), warehouse="W2",
                                                to_warehouse="W1")], date=_day(5)).doc_id]
    ids = [r4]
    assert _both(shop, x) == posted[0][:2]
    for k, step in enumerate(steps, 1):
        ids.append(step())
        w1, w2, cogs = posted[k]
        assert _both(shop, x) == (w1, w2), k
        assert shop.net("cogs") == D(cogs), k
    _, d5, d12, d9, r11, r2, t5 = ids
    for doc, (w1, cogs) in zip((d9, d12, d5), UNDONE_A[method], strict=True):
        shop.docs.cancel(doc, BOSS)
        assert _both(shop, x) == (w1, _s(5, "50.00")), doc
        assert shop.net("cogs") == D(cogs), doc
    shop.docs.cancel(r4, BOSS)
    assert _both(shop, x) == (_s(14, "128.00"), _s(5, "50.00"))
    shop.docs.cancel(t5, BOSS)
    assert _both(shop, x) == (_s(13, "118.00"), _s(6, "60.00"))
    shop.docs.cancel(r2, BOSS)
    assert _both(shop, x) == (_s(7, "70.00"), NONE)
    shop.docs.cancel(r11, BOSS)  # refused before
    assert _both(shop, x) == (NONE, NONE)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("method", METHODS)
def test_a_supplier_return_around_a_receipt_line_that_stays(shop: Shop, method: str) -> None:
    """Flow B: 5 @ 13.33 in W1 on day 5 (Ra); on day 1 8 @ 13.33 into W1 and 6 @ 10.00 into
    W2 (Rb); a delivery of 3 from W2 on day 14; 1 of Rb's W1 line returned to the supplier
    on day 5; on day 5 5 @ 10.00 into W2 and 7 @ 10.00 into W1 (Rc). Ra cancelled out of
    turn, then the return, the delivery, Rb: W1 keeps Rc's 7 units at 70.00 (73.33 before:
    Ra's cancellation replayed had taken one of Rc's units), and Rc cancels (refused before
    under FIFO and LIFO, ``reversal_impossible``; under moving average 3.33 stayed)."""
    x = _item(shop, method)
    ra = _receipt(shop, x, 5, "13.33", 5)
    assert _both(shop, x) == (_s(5, "66.65"), NONE)
    rb = _two_lines(shop, x, (8, "13.33", "W1"), (6, "10.00", "W2"), 1)
    assert _both(shop, x) == (_s(13, "173.29"), _s(6, "60.00"))
    dl = _delivery(shop, x, 3, 14, "W2")
    assert _both(shop, x) == (_s(13, "173.29"), _s(3, "30.00"))
    assert shop.net("cogs") == D("30.00")
    back = shop.run("purchase_return", [Line(1, x, D(1), D("13.33"), warehouse="W1",
                                             source=(rb, 1))], "S1", date=_day(5)).doc_id
    assert _both(shop, x) == (_s(12, "159.96"), _s(3, "30.00"))
    rc = _two_lines(shop, x, (5, "10.00", "W2"), (7, "10.00", "W1"), 5)
    assert _both(shop, x) == (_s(19, "229.96"), _s(8, "80.00"))
    shop.docs.cancel(ra, BOSS)  # out of turn
    assert _both(shop, x) == (_s(14, "163.31"), _s(8, "80.00"))
    shop.docs.cancel(back, BOSS)
    assert _both(shop, x) == (_s(15, "176.64"), _s(8, "80.00"))
    shop.docs.cancel(dl, BOSS)
    assert _both(shop, x) == (_s(15, "176.64"), _s(11, "110.00"))
    assert shop.net("cogs") == 0
    shop.docs.cancel(rb, BOSS)
    assert _both(shop, x) == (_s(7, "70.00"), _s(5, "50.00"))  # Rc's units alone
    shop.docs.cancel(rc, BOSS)  # refused before (FIFO, LIFO)
    assert _both(shop, x) == (NONE, NONE)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("method", METHODS)
def test_the_receipt_cancels_while_the_receipt_between_stays(shop: Shop, method: str) -> None:
    """R 2 @ 12.50 on day 6; a delivery D of 1 on day 7; a landed cost of 5.55 on R dated
    day 6 (D corrected back-dated); R2 2 @ 12.50 on day 7; D cancelled, then the landed cost
    (4 / 50.00). R's cancellation, dated day 6, passes over D and its reversal although R2
    came in between them and stays: R2 settled nothing (2 / 25.00 left, R2's units). It was
    refused before (``insufficient_stock``, needed 2, available 1) until R2 was cancelled."""
    x = _item(shop, method)
    r = _receipt(shop, x, 2, "12.50", 6)
    dl = _delivery(shop, x, 1, 7)
    landed = shop.run("landed_cost", [Line(1, "freight", D(1), D("5.55"))], "S1",
                      attributes={"receipts": [r], "basis": "quantity"}, date=_day(6)).doc_id
    assert _both(shop, x) == (_s(1, "15.27"), NONE)
    r2 = _receipt(shop, x, 2, "12.50", 7)
    shop.docs.cancel(dl, BOSS)
    assert _both(shop, x) == (_s(4, "55.55"), NONE)
    shop.docs.cancel(landed, BOSS)
    assert _both(shop, x) == (_s(4, "50.00"), NONE)
    shop.docs.cancel(r, BOSS)  # refused before
    assert _both(shop, x) == (_s(2, "25.00"), NONE)
    assert shop.net("cogs") == 0
    shop.docs.cancel(r2, BOSS)
    assert _both(shop, x) == (NONE, NONE)
    shop.assert_all_undone(x)

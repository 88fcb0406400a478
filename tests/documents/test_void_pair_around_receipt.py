"""A cancelled issue whose pair holds a receipt cancelled after it, the pair corrected.

Negative stock forbidden. Receipt R 2 @ 12.50 (Mar 6), delivery D of 1 (Mar 7), a landed cost
of 5.55 on R dated Mar 6 (back-dated: D is corrected by a ``cost_backdating`` of 2.78),
receipt R2 2 @ 12.50 (Mar 7), D cancelled (its reversal on Mar 7, after R2). Cancelling
newest first, R2 and the landed cost go; R's cancellation, dated Mar 6, is checked against
the later entries: D -1, R2 +2, D's reversal +1, R2's cancellation -2. D and its reversal
were not passed over (R2 came in between them and went out after them, and the pair has a
correction), so the stock dipped to -1 between them and the cancellation was refused
``insufficient_stock`` although R's 2 units were all on hand. R2 came in on a stock that was
not below zero: it settled no shortage of D, so the pair is passed over in the stock check
as the replay passes it over, and every document cancels.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

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
CODES = {"fifo": "VFIFO", "lifo": "VLIFO", "moving_average": "VAVG"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _items(shop: Shop) -> None:
    for method, code in CODES.items():
        shop.jxc.define_item(Item(code, f"{method} item", costing_method=method))


def _landed(shop: Shop, receipt: str, amount: str, day: int) -> str:
    return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                    attributes={"receipts": [receipt], "basis": "quantity"},
                    date=_day(day)).doc_id


def _flow(shop: Shop, x: str) -> tuple[str, str, str, str]:
    """R, D, the landed cost, R2; D cancelled: (R, D, landed cost, R2)."""
    r = _receipt(shop, x, 2, "12.50", 6)
    dl = _delivery(shop, x, 1, 7)
    assert _stock(shop, x) == (1, D("12.50"))
    lc = _landed(shop, r, "5.55", 6)
    assert _stock(shop, x) == (1, D("15.27"))
    assert shop.net("cogs") == D("15.28")
    r2 = _receipt(shop, x, 2, "12.50", 7)
    shop.docs.cancel(dl, BOSS)
    assert _stock(shop, x) == (4, D("55.55"))
    assert shop.net("cogs") == 0
    shop.check_books()
    return r, dl, lc, r2


def _undone(shop: Shop, x: str) -> None:
    """Nothing left in stock, every role netting to zero (D's correction of 2.78 is booked
    with the landed cost, its reversal's with D: the two net to zero together)."""
    assert _stock(shop, x) == (0, D("0.00"))
    shop.assert_all_undone(x)
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_the_receipt_cancels_after_the_receipt_between(shop: Shop, method: str) -> None:
    """Newest first: R2 (2 / 30.55 left), the landed cost (2 / 25.00: R's units), then R,
    refused before although its 2 units were on hand."""
    _items(shop)
    x = CODES[method]
    r, _, lc, r2 = _flow(shop, x)
    shop.docs.cancel(r2, BOSS)
    assert _stock(shop, x) == (2, D("30.55"))
    shop.check_books()
    shop.docs.cancel(lc, BOSS)
    assert _stock(shop, x) == (2, D("25.00"))
    assert shop.net("payable") == 0
    shop.check_books()
    shop.docs.cancel(r, BOSS)
    _undone(shop, x)


@pytest.mark.parametrize("method", METHODS)
def test_a_back_dated_receipt_before_it_cancels_too(shop: Shop, method: str) -> None:
    """R2 and the landed cost cancelled, then a receipt R0 1 @ 10.00 dated Mar 5 (before R):
    R cancels (1 / 10.00 left, R0's unit), and R0's cancellation, checked against the same
    later entries, cancels as well (refused before: the stock dipped below zero at D)."""
    _items(shop)
    x = CODES[method]
    r, _, lc, r2 = _flow(shop, x)
    shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(lc, BOSS)
    r0 = _receipt(shop, x, 1, "10.00", 5)
    assert _stock(shop, x) == (3, D("35.00"))
    shop.check_books()
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, x) == (1, D("10.00"))
    shop.check_books()
    shop.docs.cancel(r0, BOSS)
    _undone(shop, x)


#: after a delivery of 1 on Mar 8 (after D's cancellation): (stock value, cost of goods sold)
AFTER_LATER_DELIVERY = {"fifo": (D("40.27"), D("15.28")), "lifo": (D("43.05"), D("12.50")),
                        "moving_average": (D("41.66"), D("13.89"))}


@pytest.mark.parametrize("method", METHODS)
def test_with_a_later_delivery_every_document_cancels(shop: Shop, method: str) -> None:
    """A delivery of 1 on Mar 8 after the flow; newest first, each document cancels, the
    stock as after each step back."""
    _items(shop)
    x = CODES[method]
    r, _, lc, r2 = _flow(shop, x)
    d8 = _delivery(shop, x, 1, 8)
    value, cogs = AFTER_LATER_DELIVERY[method]
    assert _stock(shop, x) == (3, value)
    assert shop.net("cogs") == cogs
    shop.check_books()
    expected = [(d8, (4, D("55.55"))), (r2, (2, D("30.55"))), (lc, (2, D("25.00"))),
                (r, (0, D("0.00")))]
    for doc, stock in expected:
        shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == stock, doc
        shop.check_books()
    _undone(shop, x)


@pytest.mark.parametrize("method", METHODS)
def test_the_stock_taken_since_still_refuses(shop: Shop, method: str) -> None:
    """The pair passed over gives nothing either: R2 cancelled, then a delivery of 1 on
    Mar 8 takes one of R's units; R's cancellation is refused and leaves everything as it
    was (FIFO, LIFO: one of its units has left its layer; moving average: 2 needed on Mar 6,
    1 kept through the later entries)."""
    _items(shop)
    x = CODES[method]
    r, _, lc, r2 = _flow(shop, x)
    shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(lc, BOSS)
    _delivery(shop, x, 1, 8)
    before = shop.snapshot()
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(r, BOSS)
    assert refused.value.code == ("insufficient_stock" if method == "moving_average"
                                  else "reversal_impossible")
    assert shop.snapshot() == before

"""A line in cancelled out of turn while a customer return posted after it stands.

Negative stock forbidden, one warehouse. Receipt R 4 @ 12.50 (Mar 9), a delivery D of 1 (Mar
9, 12.50 of cost of goods sold), the customer return B of D's unit (Mar 9): 4 / 50.00 on hand.
Under moving average R's cancellation, out of turn (D and B are newer), found the 4 units it
needed in the pool and took them, the unit B brought back among them: 0 / 0.00. B's
cancellation then needed that unit (``insufficient_stock``, none on hand), and D could not be
cancelled before B (B refers to it): both stayed posted for good. FIFO and LIFO refuse R's
cancellation there (its layer is not whole: one of its units left with D).

Under moving average a line in (a receipt, a transfer's arrival, a customer return, an
adjustment in) is now cancelled only when it leaves on hand the units that the customer
returns posted after it and still standing brought back: their cancellations take them out
again. Else refused (``reversal_impossible``) until those returns are cancelled; newest first,
everything cancels.

Found in a random flow that also held a landed cost on R dated before R (refused
``backdated_posting``: it plays no part).
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
CODES = {"fifo": "OTFIFO", "lifo": "OTLIFO", "moving_average": "OTAVG"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _items(shop: Shop) -> None:
    for method, code in CODES.items():
        shop.jxc.define_item(Item(code, f"{method} item", costing_method=method))


def _customer_return(shop: Shop, item: str, delivery: str, qty: int, day: int) -> str:
    return shop.run("sales_return", [Line(1, item, D(qty), D("99.00"), warehouse="W1",
                                          source=(delivery, 1))], "C1",
                    date=_day(day)).doc_id


def _transfer(shop: Shop, item: str, qty: int, day: int) -> str:
    return shop.run("transfer", [Line(1, item, D(qty), D(0), warehouse="W2",
                                      to_warehouse="W1")], date=_day(day)).doc_id


def _refused(shop: Shop, doc_id: str) -> str:
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(doc_id, BOSS)
    assert shop.snapshot() == before
    return err.value.code


def _flow(shop: Shop, x: str) -> tuple[str, str, str]:
    """R 4 @ 12.50, D 1, B the return of D's unit, all on Mar 9: (R, D, B)."""
    r = _receipt(shop, x, 4, "12.50", 9)
    d = _delivery(shop, x, 1, 9)
    assert _stock(shop, x) == (3, D("37.50"))
    assert shop.net("cogs") == D("12.50")
    b = _customer_return(shop, x, d, 1, 9)
    assert _stock(shop, x) == (4, D("50.00"))
    assert shop.net("cogs") == 0
    shop.check_books()
    return r, d, b


@pytest.mark.parametrize("method", METHODS)
def test_the_receipt_out_of_turn_is_refused_then_all_cancel_newest_first(
        shop: Shop, method: str) -> None:
    """R's cancellation is refused while B stands (moving average: it took B's unit before,
    leaving B and D uncancellable); newest first B, D and R cancel, the stock exact after
    each, every role at zero."""
    _items(shop)
    x = CODES[method]
    r, d, b = _flow(shop, x)
    assert _refused(shop, r) == "reversal_impossible"
    shop.docs.cancel(b, BOSS)
    assert _stock(shop, x) == (3, D("37.50"))
    assert shop.net("cogs") == D("12.50")
    shop.check_books()
    assert _refused(shop, r) in ("reversal_impossible", "insufficient_stock")
    shop.docs.cancel(d, BOSS)
    assert _stock(shop, x) == (4, D("50.00"))
    assert shop.net("cogs") == 0
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, x) == (0, D("0.00"))
    shop.assert_all_undone(x)
    shop.check_books()


def test_moving_average_the_receipt_cancels_when_the_return_keeps_its_unit(
        shop: Shop) -> None:
    """With 1 @ 10.00 received before (Mar 1), B's unit is still there for B's cancellation
    once R's units are gone: R's cancellation, out of turn, is allowed and takes its own
    50.00 (the pool holds 5 / 60.00). Then B's cancellation takes the unit left at the
    stock's 10.00, D's brings its unit back at its 12.00, and the first receipt's, dated
    Mar 1, nets the 2.00 apart: every role at zero."""
    _items(shop)
    x = CODES["moving_average"]
    first = _receipt(shop, x, 1, "10.00", 1)
    r = _receipt(shop, x, 4, "12.50", 9)
    d = _delivery(shop, x, 1, 9)
    assert _stock(shop, x) == (4, D("48.00"))  # D left at the average, 12.00
    b = _customer_return(shop, x, d, 1, 9)
    assert _stock(shop, x) == (5, D("60.00"))
    assert shop.net("cogs") == 0
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, x) == (1, D("10.00"))
    assert shop.roles(r) == {"grni": 0, "inventory": 0}
    shop.check_books()
    for doc, (qty, value, cogs) in ((b, (0, "0.00", "10.00")), (d, (1, "12.00", "-2.00")),
                                    (first, (0, "0.00", "0"))):
        shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == (qty, D(value)), doc
        assert shop.net("cogs") == D(cogs), doc
        shop.check_books()
    shop.assert_all_undone(x)


def test_moving_average_a_receipt_after_the_return_does_not_release_it(shop: Shop) -> None:
    """A receipt R2 1 @ 12.50 (Mar 9) posted after B: 5 / 62.50 on hand, enough for R's 4.
    R's cancellation is refused all the same: newest first, R2's cancellation would take the
    one unit left, and B would find none. Newest first R2, B, D, R cancel."""
    _items(shop)
    x = CODES["moving_average"]
    r, d, b = _flow(shop, x)
    r2 = _receipt(shop, x, 1, "12.50", 9)
    assert _stock(shop, x) == (5, D("62.50"))
    assert _refused(shop, r) == "reversal_impossible"
    for doc, (qty, value) in ((r2, (4, "50.00")), (b, (3, "37.50")), (d, (4, "50.00")),
                              (r, (0, "0.00"))):
        shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == (qty, D(value)), doc
        shop.check_books()
    shop.assert_all_undone(x)


def test_moving_average_a_transfer_arrival_out_of_turn_is_refused_alike(shop: Shop) -> None:
    """The units in come from W2 (4 @ 12.50 received there Mar 1, sent to W1 on Mar 9): the
    transfer's cancellation takes them out of W1, B's unit among them; refused while B
    stands, then B, D, the transfer and the receipt cancel newest first."""
    _items(shop)
    x = CODES["moving_average"]
    r = _receipt(shop, x, 4, "12.50", 1, wh="W2")
    t = _transfer(shop, x, 4, 9)
    d = _delivery(shop, x, 1, 9)
    b = _customer_return(shop, x, d, 1, 9)
    assert _stock(shop, x) == (4, D("50.00"))
    assert _refused(shop, t) == "reversal_impossible"
    for doc, w1, w2 in ((b, (3, "37.50"), (0, "0.00")), (d, (4, "50.00"), (0, "0.00")),
                        (t, (0, "0.00"), (4, "50.00")), (r, (0, "0.00"), (0, "0.00"))):
        shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == (D(w1[0]), D(w1[1])), doc
        assert _stock(shop, x, "W2") == (D(w2[0]), D(w2[1])), doc
        shop.check_books()
    shop.assert_all_undone(x)


def test_moving_average_a_cancelled_return_no_longer_holds_the_receipt(
        shop: Shop) -> None:
    """A receipt R2 1 @ 12.50 (Mar 1) before R, D and B; B cancelled: it no longer stands,
    so R's cancellation, out of turn (D is newer), takes its 4 units as before (the unit
    left is R2's, for D's cancellation to come back beside); then D and R2 cancel."""
    _items(shop)
    x = CODES["moving_average"]
    r2 = _receipt(shop, x, 1, "12.50", 1)
    r = _receipt(shop, x, 4, "12.50", 9)
    d = _delivery(shop, x, 1, 9)
    b = _customer_return(shop, x, d, 1, 9)
    shop.docs.cancel(b, BOSS)
    assert _stock(shop, x) == (4, D("50.00"))
    # B no longer stands: R's cancellation, out of turn (D is newer), takes its 4 units
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, x) == (0, D("0.00"))
    for doc, (qty, value) in ((d, (1, "12.50")), (r2, (0, "0.00"))):
        shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == (qty, D(value)), doc
        shop.check_books()
    shop.assert_all_undone(x)

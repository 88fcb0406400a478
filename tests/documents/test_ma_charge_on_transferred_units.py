"""A transfer cancelled, dated before a landed cost that followed its units.

Negative stock forbidden, two warehouses. R1 3 @ 8.00 received into W1 (Mar 1), R2 2 @ 12.50
into W2 (Mar 5), the 3 units of R1 sent W1 -> W2 (Mar 5), a landed cost of 7.77 on R1 (Mar 6:
its units are in W2 by then, so the whole 7.77 follows them there, W2 5 / 56.77), then the
transfer cancelled. The cancellation is dated at the transfer (Mar 5), before the landed cost.

Under moving average the cancellation took the 3 units back out of W2 with everything the
transfer's arrival had carried since, the 7.77 dated after it included (31.77), while the
replay of W2 from Mar 5 found the landed cost after the cancellation, the units gone, and took
the 7.77 out of W2 once more (to cost of goods sold): W2 2 / 17.23 instead of 25.00, W1
3 / 31.77, the 7.77 counted twice. Once the landed cost and R2 were cancelled, R1's
cancellation was refused for good (``insufficient_stock``: the transfer pair no longer netted
in W1, 24.00 out and 31.77 back).

FIFO and LIFO take the units back at what their layer holds at the cancellation's moment
(24.00); the landed cost's share, replayed after it, goes to cost of goods sold, and the
landed cost's cancellation takes it back. Moving average now does the same.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop
from .support import delivery as _delivery
from .support import landed_cost as _landed
from .support import receipt as _receipt
from .support import transfer as _transfer

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "CTFIFO", "lifo": "CTLIFO", "moving_average": "CTAVG"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _item(shop: Shop, method: str) -> str:
    for m, code in CODES.items():  # all of them: ``Shop.check_books`` reads each
        shop.jxc.define_item(Item(code, f"{m} item", costing_method=m))
    return CODES[method]


def _stock(shop: Shop, item: str) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    one, two = shop.jxc.balance(item, "W1"), shop.jxc.balance(item, "W2")
    return (one.on_hand, one.value), (two.on_hand, two.value)


def _at(w1: tuple[int, str], w2: tuple[int, str]
        ) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    return (D(w1[0]), D(w1[1])), (D(w2[0]), D(w2[1]))


def _flow(shop: Shop, x: str, charge_day: int) -> tuple[str, str, str, str]:
    """R1, R2, the transfer T and the landed cost L (dated ``charge_day``) as above."""
    r1 = _receipt(shop, x, 3, "8.00", 1, "W1")
    r2 = _receipt(shop, x, 2, "12.50", 5, "W2")
    t = _transfer(shop, x, 3, 5)
    assert _stock(shop, x) == _at((0, "0.00"), (5, "49.00"))
    lc = _landed(shop, r1, "7.77", charge_day)
    assert _stock(shop, x) == _at((0, "0.00"), (5, "56.77"))
    assert shop.net("cogs") == 0
    shop.check_books()
    return r1, r2, t, lc


@pytest.mark.parametrize("method", METHODS)
def test_a_transfer_cancelled_before_the_charge_that_followed_its_units(
        shop: Shop, method: str) -> None:
    """The transfer's cancellation (Mar 5) brings the 3 units back to W1 at 24.00; W2 keeps
    R2 at 25.00 and the 7.77, found after the cancellation with its units gone, goes to cost
    of goods sold. Newest first, the landed cost takes it back, then R2 and R1 cancel: every
    warehouse at 0 / 0.00, every role at zero (moving average: W2 2 / 17.23 and W1
    3 / 31.77 before, R1 refused in the end)."""
    x = _item(shop, method)
    r1, r2, t, lc = _flow(shop, x, 6)
    shop.docs.cancel(t, BOSS)
    assert _stock(shop, x) == _at((3, "24.00"), (2, "25.00"))
    assert shop.net("cogs") == D("7.77")
    assert shop.net("price_difference") == 0
    shop.check_books()
    shop.docs.cancel(lc, BOSS)
    assert _stock(shop, x) == _at((3, "24.00"), (2, "25.00"))
    assert shop.net("cogs") == 0
    assert shop.net("payable") == 0
    shop.check_books()
    shop.docs.cancel(r2, BOSS)
    assert _stock(shop, x) == _at((3, "24.00"), (0, "0.00"))
    assert shop.net("price_difference") == 0
    shop.check_books()
    shop.docs.cancel(r1, BOSS)
    shop.assert_all_undone(x)
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_a_delivery_after_the_cancellation_takes_the_targets_own_cost(
        shop: Shop, method: str) -> None:
    """After the transfer's cancellation a delivery of 2 from W2 (Mar 9) takes R2's 25.00 and
    one of 1 from W1 (Mar 9) 8.00 (moving average: 17.23 and 10.59 before). Then every
    document cancels newest first, every role at zero."""
    x = _item(shop, method)
    r1, r2, t, lc = _flow(shop, x, 6)
    shop.docs.cancel(t, BOSS)
    d2 = _delivery(shop, x, 2, 9, "W2")
    assert shop.net("cogs") == D("32.77")  # 25.00 and the 7.77 of the landed cost
    d1 = _delivery(shop, x, 1, 9, "W1")
    assert shop.net("cogs") == D("40.77")
    assert _stock(shop, x) == _at((2, "16.00"), (0, "0.00"))
    shop.check_books()
    for doc in (d1, d2, lc, r2, r1):
        shop.docs.cancel(doc, BOSS)
        shop.check_books()
    shop.assert_all_undone(x)


@pytest.mark.parametrize("method", METHODS)
def test_the_charge_first_then_the_transfer_cancelled(shop: Shop, method: str) -> None:
    """The landed cost cancelled first (the 7.77 out of W2 again), then the transfer: W1
    3 / 24.00, W2 2 / 25.00, nothing in cost of goods sold; R2 and R1 cancel."""
    x = _item(shop, method)
    r1, r2, t, lc = _flow(shop, x, 6)
    shop.docs.cancel(lc, BOSS)
    assert _stock(shop, x) == _at((0, "0.00"), (5, "49.00"))
    shop.docs.cancel(t, BOSS)
    assert _stock(shop, x) == _at((3, "24.00"), (2, "25.00"))
    assert shop.net("cogs") == 0
    shop.check_books()
    shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(r1, BOSS)
    shop.assert_all_undone(x)
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_a_charge_dated_before_the_cancellation_comes_back_with_the_units(
        shop: Shop, method: str) -> None:
    """Unchanged: the landed cost dated Mar 5, after the transfer but before its
    cancellation, is carried back with the units (W1 3 / 31.77, W2 2 / 25.00, nothing in
    cost of goods sold); the landed cost's cancellation then takes it out of W1."""
    x = _item(shop, method)
    r1, r2, t, lc = _flow(shop, x, 5)
    shop.docs.cancel(t, BOSS)
    assert _stock(shop, x) == _at((3, "31.77"), (2, "25.00"))
    assert shop.net("cogs") == 0
    shop.check_books()
    shop.docs.cancel(lc, BOSS)
    assert _stock(shop, x) == _at((3, "24.00"), (2, "25.00"))
    shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(r1, BOSS)
    shop.assert_all_undone(x)
    shop.check_books()

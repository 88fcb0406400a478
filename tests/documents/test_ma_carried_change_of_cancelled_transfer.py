"""A charge's cancellation re-costs a cancelled transfer; the receipt whose rows took the change
back is cancelled; then the first charge is cancelled.

Negative stock forbidden, two warehouses. R1 2 @ 8.00 received into W1 (Mar 8), a landed cost
L1 of 3.00 on R1 (Mar 8), R2 2 @ 13.33 into W1 (Mar 2, back-dated), a second landed cost L2 of
3.00 on R1 (Mar 8), 1 unit sent W1 -> W2 (Mar 9); then every document cancelled newest first.

Under moving average the transfer's cancellation brings its unit back into R2's row (the oldest
receipt of W1). L2's cancellation replays W1 from Mar 8 and re-costs the cancelled transfer
(12.17 -> 11.42); the -0.75 goes on to W2 and comes back with the unit, a change carried back
into R2's row. R2's cancellation takes back its own 26.66 (W1 2 / 19.00). L1's cancellation
then replayed W1 from Mar 8 and took that -0.75 as a receipt cost of R2, whose units were gone:
to cost of goods sold (-0.75), the transfer's leg out and its way back no longer netting in W1
(8.00 against 8.75), W1 2 / 16.75, and R1's cancellation was refused for good
(``insufficient_stock``). The carried change is now part of the unit's way back: kept in stock
as the way back is, W1 2 / 16.00 after L1, R1 cancels.
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
from .support import stock as _stock
from .support import transfer as _transfer

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "CCFIFO", "lifo": "CCLIFO", "moving_average": "CCAVG"}
#: what the transfer's unit costs: R2's layer (FIFO), R1's with both charges (LIFO), the
#: average of W1 (moving average)
SENT = {"fifo": "13.33", "lifo": "11.00", "moving_average": "12.17"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _item(shop: Shop, method: str) -> str:
    for m, code in CODES.items():  # all of them: ``Shop.check_books`` reads each
        shop.jxc.define_item(Item(code, f"{m} item", costing_method=m))
    return CODES[method]


def _at(qty: int, value: str) -> tuple[Decimal, Decimal]:
    return D(qty), D(value)


def _flow(shop: Shop, x: str, method: str) -> tuple[str, str, str, str, str]:
    """R1, L1, R2, L2 and the transfer T as above."""
    r1 = _receipt(shop, x, 2, "8.00", 8)
    l1 = _landed(shop, r1, "3.00", 8)
    r2 = _receipt(shop, x, 2, "13.33", 2)
    l2 = _landed(shop, r1, "3.00", 8)
    assert _stock(shop, x) == _at(4, "48.66")
    t = _transfer(shop, x, 1, 9)
    sent = SENT[method]
    assert _stock(shop, x, "W2") == _at(1, sent)
    assert _stock(shop, x) == (D(3), D("48.66") - D(sent))
    shop.check_books()
    return r1, l1, r2, l2, t


@pytest.mark.parametrize("method", METHODS)
def test_every_document_cancels_newest_first(shop: Shop, method: str) -> None:
    """T, L2, R2, L1 and R1 cancel in turn: W1 4 / 48.66, 4 / 45.66, 2 / 19.00, 2 / 16.00
    and 0 / 0.00, W2 empty, nothing in cost of goods sold at any step, every role at zero
    (moving average: 2 / 16.75 after L1, cost of goods sold -0.75, R1 refused)."""
    x = _item(shop, method)
    r1, l1, r2, l2, t = _flow(shop, x, method)
    for doc, left in ((t, (4, "48.66")), (l2, (4, "45.66")), (r2, (2, "19.00")),
                      (l1, (2, "16.00"))):
        shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == _at(*left)
        assert _stock(shop, x, "W2") == _at(0, "0.00")
        assert shop.net("cogs") == 0
        shop.check_books()
    assert shop.net("payable") == 0
    shop.docs.cancel(r1, BOSS)
    shop.assert_all_undone(x)
    shop.check_books()


@pytest.mark.parametrize("method", METHODS)
def test_a_delivery_after_the_cancellations_takes_r1_at_its_own_cost(
        shop: Shop, method: str) -> None:
    """After T, L2 and R2 are cancelled a delivery of 1 from W1 (Mar 10) takes 9.50 (R1's unit
    with half of L1). L1's cancellation then takes the 1.50 it left on the delivered unit
    out of cost of goods sold (8.00 left) and W1 keeps 1 / 8.00; the delivery and R1 cancel,
    every role at zero."""
    x = _item(shop, method)
    r1, l1, r2, l2, t = _flow(shop, x, method)
    for doc in (t, l2, r2):
        shop.docs.cancel(doc, BOSS)
    d = _delivery(shop, x, 1, 10)
    assert shop.net("cogs") == D("9.50")
    assert _stock(shop, x) == _at(1, "9.50")
    shop.docs.cancel(l1, BOSS)
    assert shop.net("cogs") == D("8.00")
    assert _stock(shop, x) == _at(1, "8.00")
    shop.check_books()
    for doc in (d, r1):
        shop.docs.cancel(doc, BOSS)
        shop.check_books()
    shop.assert_all_undone(x)

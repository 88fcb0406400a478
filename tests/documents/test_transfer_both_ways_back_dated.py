"""A transfer document moving an item both ways, with a receipt cost back-dated before it.

Negative stock forbidden (the default). Receipts of 5 @ 13.33 into W1 (day 2) and into W2
(day 4); a transfer dated day 14 of 1 W2 -> W1 (line 1) and 2 W1 -> W2 (line 2); then 5 @
10.00 into W2 dated day 10, before the transfer. The day-10 receipt re-costs line 1's units
and the change goes on with their arrival in W1 (value-only ``landed_cost`` entries of line 1
there). Cancelled newest first, the day-2 receipt's cancellation is checked against W1's later
entries: line 1 in, line 2 out, line 1's carried costs, line 2 back, line 1 out again. Line
2's leg out and its way back were not passed over (line 1's carried costs lay between them),
the stock dipped to 4 and the receipt was refused (`insufficient_stock`, needed 5, available
4) with its 5 units on hand (moving average, LIFO). Line 1's units are on hand before and
after line 2's pair, so what was carried to them lies between the pair freely.

The same with a landed cost on the W1 receipt cancelled after the transfer (its share carried
with line 1's units into W2, and taken back from there).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError

from .support import BOSS, Shop
from .support import day as _day
from .support import landed_cost as _landed_cost
from .support import stock as _stock
from .test_void_pair_around_carried_cost import (
    CODES,
    _books_see_the_new_items,
    _cancel_all,
    _item,
)

D = Decimal
__all__ = ["_books_see_the_new_items"]  # the fixture (autouse) applies here too


def _receipt(shop: Shop, code: str, qty: int, price: str, on: int, wh: str) -> str:
    return shop.run("purchase_receipt", [Line(1, code, D(qty), D(price), warehouse=wh)],
                    "S1", date=_day(on)).doc_id


def _both_ways(shop: Shop, code: str, there: tuple[str, int], back: int, on: int) -> str:
    """Line 1: ``there[1]`` from ``there[0]`` to the other warehouse; line 2: ``back`` the
    other way."""
    src, other = there[0], "W2" if there[0] == "W1" else "W1"
    return shop.run("transfer", [
        Line(1, code, D(there[1]), D(0), warehouse=src, to_warehouse=other),
        Line(2, code, D(back), D(0), warehouse=other, to_warehouse=src)],
        date=_day(on)).doc_id


@pytest.mark.parametrize("method", list(CODES))
def test_a_receipt_back_dated_before_the_transfer(shop: Shop, method: str) -> None:
    code = _item(shop, method)
    posted = [_receipt(shop, code, 5, "13.33", 2, "W1"), _receipt(shop, code, 5, "13.33", 4, "W2"),
              _both_ways(shop, code, ("W2", 1), 2, 14),
              _receipt(shop, code, 5, "10.00", 10, "W2")]
    shop.check_books()
    _cancel_all(shop, posted[1:])
    # the first receipt's units, all on hand at their cost
    assert _stock(shop, code, "W1") == (D(5), D("66.65"))
    assert _stock(shop, code, "W2") == (D(0), D("0.00"))
    _cancel_all(shop, posted[:1])
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", list(CODES))
def test_a_landed_cost_before_the_transfer_cancelled_after_it(shop: Shop, method: str
                                                               ) -> None:
    code = _item(shop, method)
    first = _receipt(shop, code, 6, "13.33", 4, "W2")
    second = _receipt(shop, code, 8, "10.00", 5, "W1")
    posted = [first, second, _landed_cost(shop, second, "3.00", 6),
              _both_ways(shop, code, ("W1", 2), 3, 11)]
    shop.check_books()
    _cancel_all(shop, posted[1:])
    assert _stock(shop, code, "W2") == (D(6), D("79.98"))
    assert _stock(shop, code, "W1") == (D(0), D("0.00"))
    _cancel_all(shop, posted[:1])
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", list(CODES))
def test_the_first_receipt_is_refused_while_the_transfer_stands(shop: Shop, method: str
                                                                 ) -> None:
    """Passing over the pair is for cancelled movements only: with the transfer standing,
    W1's first receipt cannot go (2 of its units left with line 2)."""
    code = _item(shop, method)
    first = _receipt(shop, code, 5, "13.33", 2, "W1")
    _receipt(shop, code, 5, "13.33", 4, "W2")
    _both_ways(shop, code, ("W2", 1), 2, 14)
    _receipt(shop, code, 5, "10.00", 10, "W2")
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(first, BOSS)
    assert refused.value.code in ("insufficient_stock", "reversal_impossible")
    assert shop.docs.get(first).state == State.POSTED

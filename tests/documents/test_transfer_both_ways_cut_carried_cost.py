"""A cost carried to a both-ways transfer's arrival that stopped there, then the transfer
cancelled.

Negative stock forbidden (the default). Receipt R of 6 @ 13.33 into W1 (day 1), a delivery of
2 from W1 (day 11), a landed cost of 3.00 on R (day 3: 0.50 a unit), then a transfer dated day
10 of 3 W1 -> W2 (line 1) and 2 W2 -> W1 (line 2): line 1 leaves at 41.49, line 2 takes 2 of
its units back at 27.66 (the delivery takes those under LIFO). The landed cost cancelled
re-costs line 1's leg out (+1.50) and carries the change to its arrival in W2, where line 2
took 2 of its 3 units at the same moment: their share (1.00) goes to cost of goods sold and
stops there (the replay does not follow it on through line 2), so line 2's units keep 27.66.
Cancelled newest first, the transfer's line 1 came back into W1 with what left W2 (40.99)
while its leg out was worth 39.99 as corrected: W1 kept 6 / 80.98, cost of goods sold -1.00,
and R's cancellation was refused for good (`insufficient_stock`, needed 6, available 3: line
1's leg out and its way back no longer netted, so the check did not pass over them). FIFO and
moving average alike in this flow.

Now the line comes back without the share that stopped at its arrival: W1 gets 39.99, and
the 1.00 is a correction of the cancellation to cost of goods sold, where the share went.

The same with a transfer back-dated before the both-ways one (LIFO): its arrival re-costs
line 1's leg out (10.00 -> 13.33), line 2 takes the unit at the same moment, the 3.33 stops
in cost of goods sold; the back-dated transfer was refused for good after the both-ways one
was cancelled. And with a purchase invoice's price difference cancelled in place of the
landed cost (the transfer's lines the other way round).
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
from .test_transfer_both_ways_back_dated import _both_ways, _receipt
from .test_void_pair_around_carried_cost import _books_see_the_new_items, _item

D = Decimal
__all__ = ["_books_see_the_new_items"]  # the fixture (autouse) applies here too


def _cancel(shop: Shop, doc_id: str) -> None:
    shop.docs.cancel(doc_id, BOSS)
    assert shop.docs.get(doc_id).state == State.CANCELLED
    shop.check_books()


def _charged_both_ways(shop: Shop, code: str) -> tuple[str, str, str, str]:
    rc = _receipt(shop, code, 6, "13.33", 1, "W1")
    dl = shop.run("delivery", [Line(1, code, D(2), D("20.00"), warehouse="W1")], "C1",
                  date=_day(11)).doc_id
    lc = _landed_cost(shop, rc, "3.00", 3)
    tr = _both_ways(shop, code, ("W1", 3), 2, 10)
    shop.check_books()
    return rc, dl, lc, tr


#: W1 after the landed cost's cancellation, as each method has it, and cost of goods sold:
#: the 1.00 of line 2's units stopped there in every case, with the delivery's cost as
#: re-costed (LIFO: it took line 2's units, still at 27.66, W1 holding R's 3 units at 39.99;
#: FIFO: it took R's units, now 26.66, W1 holding one of R's and line 2's two at 27.66;
#: moving average: the average)
AFTER_CHARGE = {"fifo": (D("40.99"), D("25.66")), "lifo": (D("39.99"), D("26.66")),
                "moving_average": (D("40.59"), D("26.06"))}


@pytest.mark.parametrize("method", list(AFTER_CHARGE))
def test_the_transfer_brings_back_what_left_without_the_share_that_stopped(
        shop: Shop, method: str) -> None:
    code = _item(shop, method)
    rc, dl, lc, tr = _charged_both_ways(shop, code)
    assert _stock(shop, code, "W1") == (D(3), D("41.49"))
    assert _stock(shop, code, "W2") == (D(1), D("13.83"))
    _cancel(shop, lc)
    value, cogs = AFTER_CHARGE[method]
    assert _stock(shop, code, "W1") == (D(3), value)
    assert _stock(shop, code, "W2") == (D(1), D("13.33"))
    assert shop.net("cogs") == cogs
    _cancel(shop, dl)
    # line 2's two units back in W1 at 27.66: they still carry the 1.00
    assert _stock(shop, code, "W1") == (D(5), D("67.65"))
    assert shop.net("cogs") == D("-1.00")
    _cancel(shop, tr)
    # R's six units, at R's cost: the 1.00 taken back from cost of goods sold
    assert _stock(shop, code, "W1") == (D(6), D("79.98"))
    assert _stock(shop, code, "W2") == (D(0), D("0.00"))
    assert shop.roles(tr) == {"inventory": D("-1.00"), "cogs": D("1.00")}
    assert shop.net("cogs") == D("0.00")
    _cancel(shop, rc)
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", list(AFTER_CHARGE))
def test_the_receipt_is_refused_while_the_transfer_stands(shop: Shop, method: str) -> None:
    """The transfer's line 1 took 3 of R's units: R cannot go before it."""
    code = _item(shop, method)
    rc, dl, lc, _ = _charged_both_ways(shop, code)
    _cancel(shop, lc)
    _cancel(shop, dl)
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(rc, BOSS)
    assert refused.value.code in ("insufficient_stock", "reversal_impossible")
    assert shop.docs.get(rc).state == State.POSTED
    assert _stock(shop, code, "W1") == (D(5), D("67.65"))


def test_a_transfer_back_dated_before_the_both_ways_one(shop: Shop) -> None:
    """LIFO: receipts of 8 @ 13.33 into W2 (day 5) and 5 @ 10.00 into W1 (day 1), a delivery
    of 1 from W1 (day 13), a transfer dated day 7 of 1 W1 -> W2 and 1 W2 -> W1, then one
    dated day 6 of 3 W2 -> W1. Its arrival re-costs the day-7 line 1 (it now takes one of
    those units, +3.33); line 2 took that unit back at the same moment, so the 3.33 stops in
    cost of goods sold. Cancelled newest first (the W1 receipt out of turn, once the delivery
    is gone), the day-7 transfer's line 1 comes back into W1 at 13.33, the unit it took."""
    code = _item(shop, "lifo")
    r5 = _receipt(shop, code, 8, "13.33", 5, "W2")
    r1 = _receipt(shop, code, 5, "10.00", 1, "W1")
    dl = shop.run("delivery", [Line(1, code, D(1), D("20.00"), warehouse="W1")], "C1",
                  date=_day(13)).doc_id
    t7 = _both_ways(shop, code, ("W1", 1), 1, 7)
    t6 = shop.run("transfer", [Line(1, code, D(3), D(0), warehouse="W2", to_warehouse="W1")],
                  date=_day(6)).doc_id
    shop.check_books()
    assert shop.roles(t6) == {"cogs": D("3.33"), "inventory": D("-3.33")}
    assert _stock(shop, code, "W1") == (D(7), D("76.66"))
    assert _stock(shop, code, "W2") == (D(5), D("66.65"))
    _cancel(shop, dl)
    _cancel(shop, r1)
    assert _stock(shop, code, "W1") == (D(3), D("36.66"))
    _cancel(shop, t7)
    # the day-6 transfer's three units, at 13.33 each
    assert _stock(shop, code, "W1") == (D(3), D("39.99"))
    assert _stock(shop, code, "W2") == (D(5), D("66.65"))
    assert shop.roles(t7) == {"inventory": D("3.33"), "cogs": D("-3.33")}
    _cancel(shop, t6)
    assert _stock(shop, code, "W1") == (D(0), D("0.00"))
    assert _stock(shop, code, "W2") == (D(8), D("106.64"))
    _cancel(shop, r5)
    shop.assert_all_undone(code)


def test_a_purchase_invoice_cancelled_while_the_transfer_stands(shop: Shop) -> None:
    """LIFO, the lines the other way round and a purchase invoice's price difference: receipt
    R of 5 @ 10.00 into W2 (day 6), an invoice of 1 @ 9.00 on it (day 13: -1.00), a delivery
    of 2 from W2 (day 14), then a transfer dated day 13 of 3 W2 -> W1 and 3 W1 -> W2 (line 2
    takes line 1's units back at the same moment). The invoice's cancellation re-costs line
    1's leg out of W2; the 0.60 carried to its arrival in W1 stops in cost of goods sold, and
    the transfer's line 1 comes back into W2 without it (R's 5 units at 50.00)."""
    code = _item(shop, "lifo")
    rc = _receipt(shop, code, 5, "10.00", 6, "W2")
    pi = shop.run("purchase_invoice", [Line(1, code, D(1), D("9.00"), warehouse="W2",
                                            source=(rc, 1))], "S1", date=_day(13)).doc_id
    dl = shop.run("delivery", [Line(1, code, D(2), D("20.00"), warehouse="W2")], "C1",
                  date=_day(14)).doc_id
    tr = _both_ways(shop, code, ("W2", 3), 3, 13)
    shop.check_books()
    assert _stock(shop, code, "W2") == (D(3), D("29.40"))
    assert shop.net("cogs") == D("19.60")
    _cancel(shop, dl)
    assert _stock(shop, code, "W2") == (D(5), D("49.00"))
    _cancel(shop, pi)
    assert _stock(shop, code, "W2") == (D(5), D("49.40"))
    assert shop.net("cogs") == D("0.60")
    _cancel(shop, tr)
    assert _stock(shop, code, "W2") == (D(5), D("50.00"))
    assert _stock(shop, code, "W1") == (D(0), D("0.00"))
    assert shop.roles(tr) == {"inventory": D("0.60"), "cogs": D("-0.60")}
    assert shop.net("cogs") == D("0.00")
    _cancel(shop, rc)
    shop.assert_all_undone(code)

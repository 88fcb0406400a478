"""FIFO/LIFO, negative stock allowed, costed per warehouse: a delivery posted short, then a
movement dated before it (a receipt, a transfer's arrival) whose units the delivery takes in
the replay (DOMAIN.md §2, §3 back-dating, §5 cancellation at the original cost). The replay
re-costs the delivery at its moment and changes its later settlements in one back-dating
correction. Its cancellation, dated at the delivery's moment, takes back what the delivery
costs as replayed up to that moment; its units go back into the layers it took there (the
earlier movement's) and its open shortage closes at its estimate. Until 2026-12-20 the
cancellation was valued from the ledger's corrections, which counted the whole correction
and none of the later settlements: it came back at too little (2.00 for units worth 30.00,
or 0.00), the earlier movement's layer stayed empty and that document could never be
cancelled (docs/decisions.md, 2026-12-20, "a cancellation of a short delivery re-costed by
an earlier movement")."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line

from .support import BOSS
from .support import day as _day
from .support import delivery as _delivery
from .support import receipt as _receipt
from .support import stock as _stock
from .test_settled_shortage_undo import _books_see_the_items, _shop, _undo_all

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_receipt_dated_before_a_short_delivery_cancels_last(
        storage: str, x: str, tmp_path: Path) -> None:
    """3 delivered from nothing (day 5, short at 0.00); 3 @ 8.00 received (day 8: they settle
    it, 24.00); 1 @ 10.00 received dated day 3 (the delivery takes it in the replay: 10.00 at
    its moment, 2 short at 10.00, the day-8 settlement 16.00 against 20.00). The day-8
    receipt cancelled (its 3 units out at 8.00: the delivery's 2 short units open again,
    -2 / -20.00), then the delivery: its open part closes at 20.00 and its unit goes back into
    the day-3 receipt's layer at 10.00. Before, it came back at 2.00 (the correction of 2.00
    counted, the settlements left out), its unit went into a layer of its own at 0.67 and the
    day-3 receipt was refused for good (1 / 0.67 left in stock)."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, x, 3, 5)
    r8 = _receipt(shop, x, 3, "8.00", 8)
    r3 = _receipt(shop, x, 1, "10.00", 3)
    assert _stock(shop, x) == (1, D("8.00"))
    shop.docs.cancel(r8, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-2, D("-20.00"))
    shop.docs.cancel(d, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (1, D("10.00"))
    _undo_all(shop, x, [r3])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_dated_before_a_short_delivery_gets_its_unit_back(
        storage: str, x: str, tmp_path: Path) -> None:
    """4 @ 13.33 into W2 (day 8); 3 delivered from W2 (day 6: short, settled by that receipt,
    39.99); 3 @ 12.50 into W1 (day 4); 1 sent W1 -> W2 dated day 1 (W1 short until the day-4
    receipt settles it at 12.50, a cost the transfer carries to W2): the delivery takes the
    transfer's unit in the replay. The delivery cancelled: its unit goes back into the
    transfer's layer at 12.50 and its 2 open units close at their estimate; W2 holds the
    transfer's unit and the receipt's 4 (65.82). Before, it came back at 0.00 (the
    correction counted whole, held at zero), the unit went into a layer of the cancellation
    and the transfer was refused for good ("1 of its units have left stock already")."""
    shop = _shop(storage, tmp_path)
    r2 = _receipt(shop, x, 4, "13.33", 8, "W2")
    d = _delivery(shop, x, 3, 6, "W2")
    r1 = _receipt(shop, x, 3, "12.50", 4)
    t = shop.run("transfer", [Line(1, x, D(1), D(0), warehouse="W1", to_warehouse="W2")],
                 date=_day(1)).doc_id
    assert (_stock(shop, x), _stock(shop, x, "W2")) == ((2, D("25.00")), (2, D("26.66")))
    shop.docs.cancel(d, BOSS)
    shop.check_books()
    assert (_stock(shop, x), _stock(shop, x, "W2")) == ((2, D("25.00")), (5, D("65.82")))
    _undo_all(shop, x, [r2, r1, t])

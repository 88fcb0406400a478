"""FIFO/LIFO, negative stock allowed, costed per warehouse: a transfer whose units filled
shortages where they arrived, its cost raised since (a receipt dated before it that the
transfer takes in the replay, or a landed cost on a receipt whose units it took): the raise
was carried to its units in the target and, as they had filled shortages, went to cost of
goods sold. The transfer cancelled: in the target the shortages open again at what they were
settled with, and in the source its units go back into the layers it took, at what it took
from each (DOMAIN.md §2, §3 back-dating, §5 cancellation at the original cost); the cost
carried since comes back from cost of goods sold. Until 2026-12-20 the units came back at
what left the target (0.00 for units that had filled shortages there), the receipt's layer
was left without its cost, cost of goods sold kept it, and in the first case the receipt
could never be cancelled (docs/decisions.md, 2026-12-20, "a transfer's cancellation goes back
into the source's layers at what it took from them")."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line
from jxc_core.errors import JxcError

from .support import BOSS, Shop
from .support import day as _day
from .support import delivery as _delivery
from .support import receipt as _receipt
from .test_settled_shortage_undo import _books_see_the_items, _shop, _undo_all

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _transfer(shop: Shop, x: str, qty: int, day: int, source: str, target: str) -> str:
    return shop.run("transfer", [Line(1, x, D(qty), D(0), warehouse=source,
                                      to_warehouse=target)], date=_day(day)).doc_id


def _stock(shop: Shop, x: str) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    return ((shop.qty(x, "W1"), shop.value(x, "W1")),
            (shop.qty(x, "W2"), shop.value(x, "W2")))


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_transfers_both_ways_and_a_receipt_dated_before_cancel_newest_first(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 delivered from W1 (day 5, short); 1 sent W1 -> W2 (day 5: W1 short 3, W2 1 @ 0.00);
    3 sent W2 -> W1 (day 8: W2 the first transfer's unit and 2 short; in W1 the 3 units
    settle its shortages); 2 @ 13.33 into W2 dated day 5: the day-8 transfer takes them in the
    replay and carries 26.66 to W1, where its units filled shortages (cost of goods sold). The
    receipt is refused while that transfer stands. The transfer cancelled: W1 short 3 at
    0.00 again, W2 holds the first transfer's unit and the receipt's 2 at 26.66, cost of goods
    sold back to zero; then the receipt and the rest cancel newest first. Before, the units
    came back at 0.00 (the receipt's layer 2 @ 0.00, 26.66 left in cost of goods sold) and
    the receipt ended refused for good (W2 2 / 41.47)."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, x, 2, 5)
    t1 = _transfer(shop, x, 1, 5, "W1", "W2")
    t2 = _transfer(shop, x, 3, 8, "W2", "W1")
    r = _receipt(shop, x, 2, "13.33", 5, "W2")
    assert _stock(shop, x) == ((0, D("0.00")), (0, D("0.00")))
    assert shop.net("cogs") == D("26.66")
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(r, BOSS)
    assert refused.value.code == "reversal_impossible"
    shop.docs.cancel(t2, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((-3, D("0.00")), (3, D("26.66")))
    assert shop.net("cogs") == D("0.00")
    # the receipt's posting booked the 26.66 (its replay re-costed the transfer); the
    # transfer's cancellation takes it back
    assert shop.roles(t2)["cogs"] == D("-26.66")
    _undo_all(shop, x, [d, t1, r])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_into_shortages_cancelled_gives_the_earlier_receipt_its_cost_back(
        storage: str, x: str, tmp_path: Path) -> None:
    """3 delivered from W1 (day 5, short); 3 sent W2 -> W1 from nothing (day 8: they settle
    the delivery at 0.00); 3 @ 12.50 into W2 dated day 4: the transfer takes them in the
    replay (37.50, carried to W1: cost of goods sold). The transfer cancelled: the
    delivery's shortage opens again at 0.00 and the receipt's layer is whole at 37.50, which
    a delivery from W2 then takes. Before, the layer came back at 0.00 (37.50 left in cost of
    goods sold): such a delivery took the units at nothing."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, x, 3, 5)
    t = _transfer(shop, x, 3, 8, "W2", "W1")
    r = _receipt(shop, x, 3, "12.50", 4, "W2")
    assert _stock(shop, x) == ((0, D("0.00")), (0, D("0.00")))
    assert shop.net("cogs") == D("37.50")
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((-3, D("0.00")), (3, D("37.50")))
    assert shop.net("cogs") == D("0.00")
    d2 = _delivery(shop, x, 1, 9, "W2")
    shop.check_books()
    assert _stock(shop, x) == ((-3, D("0.00")), (2, D("25.00")))
    assert shop.roles(d2)["cogs"] == D("12.50")
    _undo_all(shop, x, [d, r, d2])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_landed_cost_carried_into_shortages_comes_back_with_the_transfer(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 @ 10.00 into W2 (day 2); 2 delivered from W1 (day 5, short); the 2 sent W2 -> W1
    (day 6: they settle the delivery at 20.00); a landed cost of 5.55 on the receipt dated
    day 3 (before the transfer: carried with its units to W1, where they filled the
    delivery's shortage: cost of goods sold 25.55). The transfer cancelled out of turn:
    the delivery's shortage opens again at 0.00, the receipt's layer is whole at 25.55 and
    nothing is left in cost of goods sold; the landed cost, the delivery and the receipt
    then cancel. Before, the layer came back at 20.00 and 5.55 stayed in cost of goods sold
    until the landed cost was cancelled."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 2, "10.00", 2, "W2")
    d = _delivery(shop, x, 2, 5)
    t = _transfer(shop, x, 2, 6, "W2", "W1")
    lc = shop.run("landed_cost", [Line(1, "freight", D(1), D("5.55"))], "S1",
                  attributes={"receipts": [r], "basis": "quantity"}, date=_day(3)).doc_id
    assert _stock(shop, x) == ((0, D("0.00")), (0, D("0.00")))
    assert shop.net("cogs") == D("25.55")
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((-2, D("0.00")), (2, D("25.55")))
    assert shop.net("cogs") == D("0.00")
    _undo_all(shop, x, [r, d, lc])

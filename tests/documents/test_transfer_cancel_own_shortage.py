"""FIFO/LIFO, negative stock allowed, costed per warehouse: a transfer that left partly short
(it took a receipt's layer and went below zero for the rest), cancelled (DOMAIN.md §2, §5).
Its units come back into the warehouse it left as a delivery's cancellation does: the part of
its shortage still open is closed at its estimate, the rest goes back into the layers it took
and into the receipts that settled its shortage since. Until 2026-12-19 they came back as one
new layer of the cancellation (the open shortage filled first): the receipt whose layer the
transfer had taken found its units gone and could never be cancelled
(docs/decisions.md, 2026-12-19, "a transfer cancelled where it left short")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line
from jxc_core.errors import JxcError

from .support import BOSS, Shop
from .test_settled_shortage_undo import _all_undone, _books_see_the_items, _shop, _undo_all

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


def _receipt(shop: Shop, x: str, qty: int, price: str, wh: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, x, D(qty), D(price), warehouse=wh)], "S1",
                    date=_day(day)).doc_id


def _transfer(shop: Shop, x: str, qty: int, frm: str, to: str, day: int) -> str:
    return shop.run("transfer", [Line(1, x, D(qty), D(0), warehouse=frm, to_warehouse=to)],
                    date=_day(day)).doc_id


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_partly_short_cancelled_first_gives_the_receipt_its_unit_back(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 13.33 into W2; 1 delivered from W1 (short), 2 @ 8.00 into W1 (one settles it), then
    3 sent W2 -> W1: the W2 unit and 2 short. Newest first: the transfer (W2 back at 1 @
    13.33, in the receipt's own layer), the W1 receipt, the delivery, the W2 receipt."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 1, "13.33", "W2", 1)
    d = shop.run("delivery", [Line(1, x, D(1), D("99.00"), warehouse="W1")], "C1",
                 date=_day(1)).doc_id
    r2 = _receipt(shop, x, 2, "8.00", "W1", 1)
    t = _transfer(shop, x, 3, "W2", "W1", 7)
    assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (4, -2)
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert (shop.qty(x, "W2"), shop.value(x, "W2")) == (1, D("13.33"))
    _undo_all(shop, x, [r1, d, r2])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_whose_shortage_a_receipt_settled_then_cancelled_newest_first(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 8.00 into W2 on day 1, 3 sent W2 -> W1 on day 4 (1 from the receipt, 2 short), 4 @
    12.50 into W2 on day 7 (it settles the 2). The first receipt cannot be cancelled (its unit
    left); newest first the later receipt (it opens the 2 again), the transfer, the first."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 1, "8.00", "W2", 1)
    t = _transfer(shop, x, 3, "W2", "W1", 4)
    r7 = _receipt(shop, x, 4, "12.50", "W2", 7)
    with pytest.raises(JxcError) as e:
        shop.docs.cancel(r1, BOSS)
    assert e.value.code == "reversal_impossible"
    _undo_all(shop, x, [r1, t, r7])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_cancelled_before_the_receipt_that_settled_it(
        storage: str, x: str, tmp_path: Path) -> None:
    """As above, but the transfer is cancelled first, out of turn: its 2 short units go back
    into the day-7 receipt that settled them, its other unit into the day-1 receipt's layer;
    both receipts are whole again and cancel in either order."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 1, "8.00", "W2", 1)
    t = _transfer(shop, x, 3, "W2", "W1", 4)
    r7 = _receipt(shop, x, 4, "12.50", "W2", 7)
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (0, 5)
    assert shop.value(x, "W2") == D("58.00")
    for doc_id in (r1, r7):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    _all_undone(shop, x)

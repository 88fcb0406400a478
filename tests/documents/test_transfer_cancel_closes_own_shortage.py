"""FIFO/LIFO, negative stock allowed, costed per warehouse: a transfer whose units all went
short in the warehouse it left, and are all still open there, is cancelled while an older
issue's shortage is open in front of its own (DOMAIN.md §2, §5). Its units come back as a
delivery's cancellation's do: they close the transfer's own shortage at its estimate, whatever
other shortages are open. Until 2026-12-19 they came back as a receipt, which settles the
oldest shortage first: the older delivery's shortage was settled by a cancelled transfer and
the transfer's own stayed open, for a later receipt to settle against a cancelled document
(that receipt was then refused newest first, "its units have left stock already"); and with
the transfer back-dated before a customer return of the older delivery, the return and the
delivery could never be cancelled (docs/decisions.md, 2026-12-19, "a transfer short in full,
cancelled behind an older shortage")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line

from .support import BOSS, Shop
from .test_settled_shortage_undo import _books_see_the_items, _shop, _undo_all

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


def _receipt(shop: Shop, x: str, qty: int, price: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, x, D(qty), D(price), warehouse="W1")], "S1",
                    date=_day(day)).doc_id


def _delivery(shop: Shop, x: str, qty: int, day: int) -> str:
    return shop.run("delivery", [Line(1, x, D(qty), D("99.00"), warehouse="W1")], "C1",
                    date=_day(day)).doc_id


def _transfer(shop: Shop, x: str, qty: int, day: int) -> str:
    return shop.run("transfer", [Line(1, x, D(qty), D(0), warehouse="W1", to_warehouse="W2")],
                    date=_day(day)).doc_id


def _last_cost_ten(shop: Shop, x: str) -> list[str]:
    """1 @ 10.00 into W1 and delivered on day 1: W1 at 0 / 0.00, the estimate 10.00 a unit."""
    return [_receipt(shop, x, 1, "10.00", 1), _delivery(shop, x, 1, 1)]


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_short_in_full_cancelled_behind_a_short_delivery(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 delivered from W1 on day 2 (short, 20.00 at the estimate), 2 sent W1 -> W2 on day 3
    (short too: W1 -4 / -40.00, W2 2 / 20.00). The transfer cancelled: W1 -2 / -20.00, the
    delivery's shortage still open; 2 @ 12.00 received on day 4 settle it (cost of goods sold
    10.00 + 24.00). Then everything newest first."""
    shop = _shop(storage, tmp_path)
    first = _last_cost_ten(shop, x)
    d2 = _delivery(shop, x, 2, 2)
    t = _transfer(shop, x, 2, 3)
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (-4, D("-40.00"))
    assert (shop.qty(x, "W2"), shop.value(x, "W2")) == (2, D("20.00"))
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (-2, D("-20.00"))
    assert (shop.qty(x, "W2"), shop.value(x, "W2")) == (0, D("0.00"))
    assert shop.net("cogs") == D("30.00")
    r4 = _receipt(shop, x, 2, "12.00", 4)
    shop.check_books()
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (0, D("0.00"))
    assert shop.net("cogs") == D("34.00")  # the delivery's 2 settled at 12.00 each
    _undo_all(shop, x, [*first, d2, r4])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_back_dated_transfer_cancelled_lets_the_return_before_it_cancel(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 delivered from W1 on day 6 (short), 1 of them returned by the customer on day 9 (it
    settles the delivery's shortage), then 2 sent W1 -> W2 dated day 7: back-dated, the
    transfer's shortage queues behind the delivery's. Newest first: the transfer (dated before
    the return, its cancellation replays it: it closes the transfer's own shortage, not the
    delivery's), the return (it opens the delivery's shortage again), the delivery."""
    shop = _shop(storage, tmp_path)
    first = _last_cost_ten(shop, x)
    d6 = _delivery(shop, x, 2, 6)
    back = shop.run("sales_return", [Line(1, x, D(1), D("99.00"), warehouse="W1",
                                          source=(d6, 1))], "C1", date=_day(9)).doc_id
    t = _transfer(shop, x, 2, 7)
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (-3, D("-30.00"))
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (-1, D("-10.00"))
    assert (shop.qty(x, "W2"), shop.value(x, "W2")) == (0, D("0.00"))
    _undo_all(shop, x, [*first, d6, back])


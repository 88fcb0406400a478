"""FIFO/LIFO, negative stock allowed, costed per warehouse: a customer return whose units
settled other deliveries' shortages (DOMAIN.md §2, §5), cancelled newest first.

A customer return is a receipt: its units fill the open shortages oldest first, so a return
of a later delivery settles an older delivery's shortage before its own. Until 2026-12-19
only what a return settled of its own delivery's shortage was kept with it: a return that
settled another's could never be cancelled ("1 of its units have left stock already"), nor
its delivery (the return refers to it). Now the return keeps what it settled as a purchase
receipt does (``receipt_settled_shortage``, its own delivery's part in its place in the
queue), and its cancellation, as the newest movement of its scope, opens those shortages
again at the estimates they released; a return cancelled out of turn (a later receipt
stands) stays refused, as before (docs/decisions.md, 2026-12-19, "a customer return that
settled other deliveries' shortages")."""

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


def _receipt(shop: Shop, x: str, qty: int, price: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, x, D(qty), D(price), warehouse="W1")], "S1",
                    date=_day(day)).doc_id


def _delivery(shop: Shop, x: str, day: int, *qty: int) -> str:
    lines = [Line(n, x, D(q), D("99.00"), warehouse="W1") for n, q in enumerate(qty, 1)]
    return shop.run("delivery", lines, "C1", date=_day(day)).doc_id


def _return(shop: Shop, x: str, delivery: str, qty: int, day: int, line_no: int = 1) -> str:
    line = Line(1, x, D(qty), D("99.00"), warehouse="W1", source=(delivery, line_no))
    return shop.run("sales_return", [line], "C1", date=_day(day)).doc_id


def _stock(shop: Shop, x: str) -> tuple[Decimal, Decimal]:
    return shop.qty(x, "W1"), shop.value(x, "W1")


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_return_of_the_later_delivery_settled_the_older_one(
        storage: str, x: str, tmp_path: Path) -> None:
    """From nothing: 1 delivered (a, short at 0.00), 2 delivered (b, short), 1 of b returned:
    the unit fills a's shortage, the oldest. Newest first: the return (a short again, -3),
    b, a."""
    shop = _shop(storage, tmp_path)
    a = _delivery(shop, x, 2, 1)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, b, 1, 9)
    assert _stock(shop, x) == (-2, D("0.00"))
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-3, D("0.00"))
    _undo_all(shop, x, [a, b])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_return_at_a_cost_settled_the_older_delivery_cancels_first(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received and delivered (day 1: the estimate is 13.33 a unit); 1 delivered
    (a, short, 13.33), 2 delivered (b, short, 26.66), 1 of b returned at 13.33 (it settles
    a). Its cancellation opens a's shortage again at 13.33: -3 / -39.99; then everything
    cancels newest first."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, "13.33", 1)
    d = _delivery(shop, x, 1, 1)
    a = _delivery(shop, x, 2, 1)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, b, 1, 9)
    assert _stock(shop, x) == (-2, D("-26.66"))
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-3, D("-39.99"))
    _undo_all(shop, x, [r, d, a, b])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_return_of_a_delivery_line_settled_the_line_before_it(
        storage: str, x: str, tmp_path: Path) -> None:
    """One delivery of two lines (1 and 2), both short from nothing; 1 of line 2 returned:
    it settles line 1's shortage. Newest first: the return, the delivery."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, x, 2, 1, 2)
    back = _return(shop, x, d, 1, 9, line_no=2)
    assert _stock(shop, x) == (-2, D("0.00"))
    _undo_all(shop, x, [d, back])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_return_that_settled_an_older_shortage_and_part_of_its_own(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 10.00 received and delivered; a (1, short) and b (2, short) at 10.00 a unit; 2 of
    b returned: a's unit first, then one of b's own. Its cancellation opens both again (a's
    in front, where the return found it): -3 / -30.00."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, "10.00", 1)
    d = _delivery(shop, x, 1, 1)
    a = _delivery(shop, x, 2, 1)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, b, 2, 9)
    assert _stock(shop, x) == (-1, D("-10.00"))
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-3, D("-30.00"))
    _undo_all(shop, x, [r, d, a, b])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_return_that_settled_its_own_shortage_and_a_later_one(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 10.00 received; a takes it and 1 short, b 2 short; 2 of a returned: a's own open
    unit first (the oldest), then one of b's. Newest first: the return (both open again, a's
    in front), b, a (its unit back into the receipt's layer), the receipt."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, "10.00", 1)
    a = _delivery(shop, x, 2, 2)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, a, 2, 9)
    assert _stock(shop, x) == (-1, D("-10.00"))
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-3, D("-30.00"))
    shop.docs.cancel(b, BOSS)
    shop.check_books()
    shop.docs.cancel(a, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (1, D("10.00"))  # the receipt's layer whole again
    shop.docs.cancel(r, BOSS)
    shop.check_books()
    _all_undone(shop, x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_return_that_settled_another_shortage_cancelled_out_of_turn_is_refused(
        storage: str, x: str, tmp_path: Path) -> None:
    """The first flow, then 1 @ 10.00 received on day 9 (it settles one of b's units): the
    return is not the newest movement of its scope and stays refused (the receipt was costed
    on the shortage it would open); the receipt cancelled first, it goes through."""
    shop = _shop(storage, tmp_path)
    a = _delivery(shop, x, 2, 1)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, b, 1, 9)
    r = _receipt(shop, x, 1, "10.00", 9)
    with pytest.raises(JxcError) as e:
        shop.docs.cancel(back, BOSS)
    assert e.value.code == "reversal_impossible"
    shop.check_books()
    _undo_all(shop, x, [a, b, back, r])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_back_dated_delivery_replays_what_the_return_settled(
        storage: str, x: str, tmp_path: Path) -> None:
    """The first flow, then 1 delivered back-dated to day 1 (c, short): the replay of the
    scope has the return settle c's shortage now, the oldest, and records that. The return
    (still the newest movement of its scope) cancels first and opens c's again; then c, b,
    a."""
    shop = _shop(storage, tmp_path)
    a = _delivery(shop, x, 2, 1)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, b, 1, 9)
    c = _delivery(shop, x, 1, 1)
    assert _stock(shop, x) == (-3, D("0.00"))
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-4, D("0.00"))
    _undo_all(shop, x, [a, b, c])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_back_dated_posting_replays_the_return_and_its_cancellation(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received and delivered (day 1), a (1) and b (2) short on day 2, 1 of b
    returned on day 9 (it settles a) and cancelled (a open again). Then 1 delivered
    back-dated to day 1 (c, short): the replay has the return settle c's shortage and its
    cancellation open c's again, not a's. Every role nets to zero once all is cancelled."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, "13.33", 1)
    d = _delivery(shop, x, 1, 1)
    a = _delivery(shop, x, 2, 1)
    b = _delivery(shop, x, 2, 2)
    back = _return(shop, x, b, 1, 9)
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    c = _delivery(shop, x, 1, 1)
    shop.check_books()
    assert _stock(shop, x) == (-4, D("-53.32"))
    _undo_all(shop, x, [r, d, a, b, c])

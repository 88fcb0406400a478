"""FIFO/LIFO, negative stock allowed, costed by organisation (``organisation_scope``): a
customer return whose units settled another delivery line's shortage, cancelled newest first
(DOMAIN.md §2, §5).

A return fills the open shortages oldest first, in every warehouse of the organisation: a
return of a delivery's line 2 settles line 1's shortage first. Costed per warehouse the
return keeps what it settled (``receipt_settled_shortage``) and its cancellation opens it
again; costed by organisation it kept nothing, and until 2026-12-21 it could never be
cancelled ("1 of its units have left stock already"), nor its delivery (the return refers to
it). Now it keeps the same record there, and a back-dated posting that replays it records it
again (docs/decisions.md, 2026-12-21, "a document of several lines that settled shortages,
cancelled")."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.errors import JxcError

from .support import BOSS, Shop
from .test_return_of_several_short_lines import (
    _books_see_the_items,
    _cancel,
    _delivery,
    _receipt,
    _return,
    _shop,
    _stock,
    _undo_all,
)

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _both(shop: Shop, x: str) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    return _stock(shop, x, "W1"), _stock(shop, x, "W2")


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_return_of_line_2_settled_line_1(storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received and delivered; a delivery of 2 and 1 in W1, short at 13.33 a unit
    (-3 / -39.99); 1 of line 2 returned: it settles one of line 1's. Its cancellation opens
    that again (-3 / -39.99); then everything cancels."""
    shop = _shop(storage, tmp_path, organisation=True)
    r = _receipt(shop, x, 1, (1, "13.33"))
    d0 = _delivery(shop, x, 1, (1, "W1"))
    d = _delivery(shop, x, 2, (2, "W1"), (1, "W1"))
    back = _return(shop, x, d, 3, (2, 1, "W1"))
    assert _stock(shop, x) == (-2, D("-26.66"))
    _cancel(shop, back)
    assert _stock(shop, x) == (-3, D("-39.99"))
    _undo_all(shop, x, [r, d0, d])


@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_return_in_w2_settled_a_shortage_in_w1(x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received in W1 and delivered; a delivery of 3 from W1 and 3 from W2, short at
    13.33 a unit; 1 of the W2 line returned: it settles one of the W1 line's (the oldest).
    Its cancellation opens that again: W1 -3 / -39.99, W2 -3 / -39.99."""
    shop = _shop("memory", tmp_path, organisation=True)
    r = _receipt(shop, x, 1, (1, "13.33"))
    d0 = _delivery(shop, x, 1, (1, "W1"))
    d = _delivery(shop, x, 2, (3, "W1"), (3, "W2"))
    back = _return(shop, x, d, 3, (2, 1, "W2"))
    assert _both(shop, x) == ((-3, D("-39.99")), (-2, D("-26.66")))
    _cancel(shop, back)
    assert _both(shop, x) == ((-3, D("-39.99")), (-3, D("-39.99")))
    _undo_all(shop, x, [r, d0, d])


@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_return_of_both_lines_line_2_first_across_warehouses(x: str, tmp_path: Path) -> None:
    """A delivery of 1 from W1 and 2 from W2, from nothing; a return of 1 of line 2 (W2: it
    settles line 1's shortage) and then 1 of line 1 (W1: it settles one of line 2's). Its
    cancellation opens both again; then the delivery."""
    shop = _shop("memory", tmp_path, organisation=True)
    d = _delivery(shop, x, 2, (1, "W1"), (2, "W2"))
    back = _return(shop, x, d, 3, (2, 1, "W2"), (1, 1, "W1"))
    assert _both(shop, x) == ((0, D("0.00")), (-1, D("0.00")))
    _cancel(shop, back)
    assert _both(shop, x) == ((-1, D("0.00")), (-2, D("0.00")))
    _undo_all(shop, x, [d])


@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_return_of_the_later_delivery_out_of_turn_is_refused(x: str, tmp_path: Path) -> None:
    """1 delivered (a, short), 2 delivered (b, short), 1 of b returned (it settles a), then
    1 @ 10.00 received (it settles one of b's): the return, cancelled while the receipt
    stands, stays refused. The receipt, the newest, cancels: costed by organisation it keeps
    what it settled too (docs/decisions.md, 2026-12-21, "an adjustment's or a count's line
    in that settled shortages"), and opens it again; then the return, b and a go."""
    shop = _shop("memory", tmp_path, organisation=True)
    a = _delivery(shop, x, 2, (1, "W1"))
    b = _delivery(shop, x, 2, (2, "W1"))
    back = _return(shop, x, b, 3, (1, 1, "W1"))
    r = _receipt(shop, x, 4, (1, "10.00"))
    assert _stock(shop, x) == (-1, D("0.00"))
    with pytest.raises(JxcError, match="have left stock already"):
        shop.docs.cancel(back, BOSS)
    assert {shop.docs.get(i).state.value for i in (a, b, back, r)} == {"posted"}
    _cancel(shop, r)
    assert _stock(shop, x) == (-2, D("0.00"))
    _undo_all(shop, x, [a, b, back])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_back_dated_delivery_replays_what_the_return_settled(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 delivered from W1 (a, short), 2 from W2 (b, short), 1 of b returned into W2 (it
    settles a); then 1 delivered from W2 back-dated to day 1 (c, short): the replay has the
    return settle c's shortage now, the oldest, and records that. The return cancels first
    and opens c's again; then c, b, a."""
    shop = _shop(storage, tmp_path, organisation=True)
    a = _delivery(shop, x, 2, (1, "W1"))
    b = _delivery(shop, x, 2, (2, "W2"))
    back = _return(shop, x, b, 9, (1, 1, "W2"))
    c = _delivery(shop, x, 1, (1, "W2"))
    assert _both(shop, x) == ((-1, D("0.00")), (-2, D("0.00")))
    _cancel(shop, back)
    assert _both(shop, x) == ((-1, D("0.00")), (-3, D("0.00")))
    _undo_all(shop, x, [a, b, c])


@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_back_dated_posting_replays_the_return_and_its_cancellation(
        x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received and delivered (day 1), a (1, W1) and b (2, W2) short on day 2, 1 of
    b returned on day 9 (it settles a) and cancelled (a open again). Then 1 delivered from W1
    back-dated to day 1 (c, short): the replay has the return settle c's shortage and its
    cancellation open c's again. Every role nets to zero once all is cancelled."""
    shop = _shop("memory", tmp_path, organisation=True)
    r = _receipt(shop, x, 1, (1, "13.33"))
    d = _delivery(shop, x, 1, (1, "W1"))
    a = _delivery(shop, x, 2, (1, "W1"))
    b = _delivery(shop, x, 2, (2, "W2"))
    back = _return(shop, x, b, 9, (1, 1, "W2"))
    _cancel(shop, back)
    c = _delivery(shop, x, 1, (1, "W1"))
    shop.check_books()
    assert _both(shop, x) == ((-2, D("-26.66")), (-2, D("-26.66")))
    _undo_all(shop, x, [r, d, a, b, c])

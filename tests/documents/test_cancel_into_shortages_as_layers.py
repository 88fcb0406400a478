"""FIFO/LIFO, negative stock allowed, costed per warehouse: a delivery that took a receipt's
(or a transfer's) layer is cancelled while another delivery's shortage is open in the
warehouse (DOMAIN.md §2, §5). Its units settle that shortage, oldest first, as any units
coming in do, but what they settle is named by the layer they go back to; the units left
once no shortage is open go back into that layer. So the cancellation of the delivery they
settled puts them back into the receipt's (the transfer's) layer, which is whole again, and
every document can be cancelled newest first. Until 2026-12-20 they were received as a
layer of the cancellation: the later delivery's cancellation put them back there, the
receipt's layer stayed empty and the receipt was refused for good ("its units have left
stock already") although its units were in stock (docs/decisions.md, 2026-12-20, "a
delivery's cancellation settles other deliveries' shortages as the layer's units")."""

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
def test_a_delivery_of_a_transfers_unit_cancelled_into_a_shortage(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 sent W2 -> W1 from nothing (W2 short 1 at 0.00, W1 a layer of the transfer); 1
    delivered from W1 (the transfer's unit), 2 delivered (short); the first delivery
    cancelled: its unit settles 1 of the second's shortage as the transfer's. Then newest
    first: the second delivery (the unit back into the transfer's layer), the transfer
    (before, refused: "1 of its units have left stock already", W1 holding 1)."""
    shop = _shop(storage, tmp_path)
    t = shop.run("transfer", [Line(1, x, D(1), D(0), warehouse="W2", to_warehouse="W1")],
                 date=_day(1)).doc_id
    d1 = _delivery(shop, x, 1, 5)
    d2 = _delivery(shop, x, 2, 5)
    assert (_stock(shop, x), _stock(shop, x, "W2")) == ((-2, D("0.00")), (-1, D("0.00")))
    shop.docs.cancel(d1, BOSS)
    shop.check_books()
    assert (_stock(shop, x), _stock(shop, x, "W2")) == ((-1, D("0.00")), (-1, D("0.00")))
    shop.docs.cancel(d2, BOSS)
    shop.check_books()
    assert (_stock(shop, x), _stock(shop, x, "W2")) == ((1, D("0.00")), (-1, D("0.00")))
    _undo_all(shop, x, [t])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_delivery_cancelled_into_a_shortage_gives_the_receipt_its_unit_back(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 10.00 received; 1 delivered (the receipt's unit, 10.00), 2 delivered short (their
    estimate 10.00, the last unit cost); the first delivery cancelled: its unit (10.00)
    settles 1 of the second's shortage, W1 -1 / -10.00. Newest first: the second delivery
    (1 / 10.00, the receipt's layer whole again), the receipt."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, "10.00", 1)
    d1 = _delivery(shop, x, 1, 5)
    d2 = _delivery(shop, x, 2, 5)
    assert _stock(shop, x) == (-2, D("-20.00"))
    shop.docs.cancel(d1, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-1, D("-10.00"))
    assert shop.net("cogs") == D("20.00")  # the second delivery's 2 units at 10.00
    shop.docs.cancel(d2, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (1, D("10.00"))
    assert shop.net("cogs") == D("0.00")
    _undo_all(shop, x, [r])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_delivery_of_two_layers_cancelled_into_a_shortage_at_another_cost(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 8.00 and 1 @ 12.00 received; 1 delivered (FIFO the 8.00, LIFO the 12.00); 2
    delivered (the other unit and 1 short at its cost); the first delivery cancelled: its
    unit settles the shortage at its own cost (the difference a correction of the second
    delivery's cost). Newest first: the second delivery (both receipts whole again: 2 /
    20.00), then the receipts, each accepted."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 1, "8.00", 1)
    r2 = _receipt(shop, x, 1, "12.00", 2)
    d1 = _delivery(shop, x, 1, 5)
    d2 = _delivery(shop, x, 2, 5)
    first, other = (D("8.00"), D("12.00")) if x == "NFIFO" else (D("12.00"), D("8.00"))
    assert _stock(shop, x) == (-1, -other)
    shop.docs.cancel(d1, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (0, D("0.00"))
    # the second delivery's units: the other receipt's and the first's (it settled)
    assert shop.net("cogs") == other + first
    shop.docs.cancel(d2, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (2, D("20.00"))
    _undo_all(shop, x, [r1, r2])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_the_shortage_left_by_a_later_delivery_closes_before_its_units_go_back(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 10.00 received; 1 delivered (its unit), 3 delivered short; the first delivery
    cancelled: its unit settles 1 of the 3. The second delivery's cancellation closes its
    2 still open and puts the settled unit back into the receipt's layer; the receipt
    cancels last."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, "10.00", 1)
    d1 = _delivery(shop, x, 1, 5)
    d2 = _delivery(shop, x, 3, 5)
    shop.docs.cancel(d1, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (-2, D("-20.00"))
    assert shop.net("cogs") == D("30.00")
    shop.docs.cancel(d2, BOSS)
    shop.check_books()
    assert _stock(shop, x) == (1, D("10.00"))
    _undo_all(shop, x, [r])

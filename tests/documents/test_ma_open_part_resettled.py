"""Moving average, negative stock allowed, costed per warehouse (and by organisation): a
delivery of which part is still open short at its own moment, and whose other units a
back-dated receipt settled before that moment, cancelled (DOMAIN.md §2, §5;
docs/decisions.md, 2026-12-19).

The cancellation is dated at the delivery's moment and takes back the delivery's cost as of
then: its cost less the shortage settlements dated after that moment, which the replay it
starts is to take back (the open part it closes is no longer there to settle). The replay of
the back-dated receipt that settled the other units earlier booked the change as one
back-dating correction dated at the scope's latest movement: the new settlement, less the
part of the later settlement it no longer needs. Leaving the later settlement out whole took
back too little, and the difference stayed in cost of goods sold and came back as a price
difference the other way (stock right, the books checked, the two roles apart). Now the
cancellation takes back what the delivery costs as replayed up to its moment.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line

from .support import Shop
from .test_ma_roles_after_undo import (
    X,
    _books_see_the_items,
    _cancel,
    _day,
    _delivery,
    _receipt,
    _roles,
    _shop,
)

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _transfer(shop: Shop, qty: int, day: int) -> str:
    return shop.run("transfer", [Line(1, X, D(qty), D(0), warehouse="W1", to_warehouse="W2")],
                    date=_day(day)).doc_id


def _stock(shop: Shop, wh: str = "W1") -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(X, wh)
    return b.on_hand, b.value


@pytest.mark.parametrize("org", [False, True], ids=["per_warehouse", "organisation"])
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_partly_resettled_delivery_takes_back_what_it_costs_as_replayed(
        storage: str, org: bool, tmp_path: Path) -> None:
    """3 @ 8.00 received on day 2; 3 delivered on day 1 (short, settled at 24.00 by it on
    day 2); 2 @ 13.33 received on day 1 after the delivery (back-dated: it settles 2 units
    at 26.66, the day-2 receipt only the third at 8.00, +10.66 of cost of goods sold; 2 /
    16.00 on hand). The
    back-dated receipt cancelled (its units go short again at day 1), then the delivery: its
    cancellation closes its open unit at 0.00 and brings the other two back at 26.66, what
    they cost as replayed at day 1 (it brought 10.66, the day-2 settlement of 24.00 left out
    whole): cost of goods sold and price difference back at zero (they were +16.00 /
    -16.00), only the day-2 receipt left, 3 / 24.00. The same costed by organisation."""
    shop = _shop(storage, tmp_path, org)
    r2 = _receipt(shop, 3, "8.00", 2)
    d = _delivery(shop, 3, 1)
    assert _roles(shop) == {"cogs": D("24.00"), "grni": D("-24.00")}
    r1 = _receipt(shop, 2, "13.33", 1)
    assert _roles(shop) == {"cogs": D("34.66"), "inventory": D("16.00"), "grni": D("-50.66")}
    assert _stock(shop) == (2, D("16.00"))
    _cancel(shop, r1)
    assert _stock(shop) == (0, D("0.00"))
    _cancel(shop, d)
    assert _stock(shop) == (3, D("24.00"))
    assert _roles(shop) == {"inventory": D("24.00"), "grni": D("-24.00")}
    _cancel(shop, r2)
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_partly_resettled_delivery_after_a_transfer_cancelled_nets_every_role(
        storage: str, tmp_path: Path) -> None:
    """The flow found by a random exploration: as above, with 2 transferred W1 -> W2 on day 6
    before the back-dated receipt (short when posted; the receipt's replay gives it the
    day-2 units at 16.00). Cancelled: the transfer, the back-dated receipt, the delivery
    (cost of goods sold +16.00 / price difference -16.00 stayed), the day-2 receipt."""
    shop = _shop(storage, tmp_path)
    r2 = _receipt(shop, 3, "8.00", 2)
    d = _delivery(shop, 3, 1)
    t = _transfer(shop, 2, 6)
    r1 = _receipt(shop, 2, "13.33", 1)
    assert _stock(shop, "W2") == (2, D("16.00"))
    _cancel(shop, t)
    _cancel(shop, r1)
    _cancel(shop, d)
    assert _stock(shop) == (3, D("24.00"))
    assert _roles(shop) == {"inventory": D("24.00"), "grni": D("-24.00")}
    _cancel(shop, r2)
    shop.assert_all_undone(X)

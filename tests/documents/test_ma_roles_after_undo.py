"""Moving average, negative stock allowed, costed per warehouse: a delivery whose shortage a
back-dated receipt settled before the delivery's own moment, cancelled after the receipts
(DOMAIN.md §2, §5). The cancellation is dated at the delivery's moment and takes back the
delivery's cost as of then, without the shortage settlements dated after it, which the replay
it starts is to take back. A back-dated receipt that settled the shortage earlier leaves
nothing open to take back, so those settlements stayed in cost of goods sold and came back
as a price difference the other way: stock 0 / 0.00, the books checked, but the two roles
ended apart (docs/decisions.md, 2026-12-18)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
X = "NAVG"


@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, X])


def _shop(storage: str, tmp_path: Path, org: bool = False) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "ma_roles.db")))
    j = Jxc(store, clock=TickingClock(dt.datetime(2026, 3, 20, 8, 0)), organisation_scope=org)
    setup_master(j)
    j.define_item(Item(X, "moving average item", costing_method="moving_average",
                       allow_negative=True))
    return Shop(j, Documents(j))


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


def _receipt(shop: Shop, qty: int, price: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, X, D(qty), D(price), warehouse="W1")], "S1",
                    date=_day(day)).doc_id


def _delivery(shop: Shop, qty: int, day: int) -> str:
    return shop.run("delivery", [Line(1, X, D(qty), D("99.00"), warehouse="W1")], "C1",
                    date=_day(day)).doc_id


def _roles(shop: Shop) -> dict[str, Decimal]:
    roles = {r.role for r in shop.journal()}
    return {role: shop.net(role) for role in roles if shop.net(role)}


def _cancel(shop: Shop, doc_id: str) -> None:
    shop.docs.cancel(doc_id, BOSS)
    shop.check_books()


def _all_undone(shop: Shop) -> None:
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_delivery_resettled_by_a_back_dated_receipt_takes_back_its_whole_cost(
        storage: str, tmp_path: Path) -> None:
    """1 @ 8.00 received on day 9; 1 delivered on day 2 (short, settled at 8.00 by it); 1 @
    12.50 received on day 2 after the delivery (back-dated: it settles the delivery at 12.50
    now). Undone newest first: once the delivery is cancelled, only the day-9 receipt is left
    (stock 1 / 8.00) and cost of goods sold and price difference are both at zero (they were
    +8.00 / -8.00: the day-9 settlement was left out of what the delivery took back)."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, 1, "8.00", 9)
    d = _delivery(shop, 1, 2)
    assert _roles(shop) == {"cogs": D("8.00"), "grni": D("-8.00")}
    r2 = _receipt(shop, 1, "12.50", 2)
    assert _roles(shop) == {"cogs": D("12.50"), "inventory": D("8.00"), "grni": D("-20.50")}
    _cancel(shop, r2)
    _cancel(shop, d)
    b = shop.jxc.balance(X, "W1")
    assert (b.on_hand, b.value) == (1, D("8.00"))
    assert _roles(shop) == {"inventory": D("8.00"), "grni": D("-8.00")}
    _cancel(shop, r1)
    _all_undone(shop)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_delivery_resettled_at_the_same_cost_nets_every_role(
        storage: str, tmp_path: Path) -> None:
    """1 delivered on day 3 (short); 1 @ 13.33 received on day 6 (settles it: +13.33 cost of
    goods sold); 1 @ 13.33 received on day 3 after it (back-dated: it settles the delivery
    instead, at the same cost, so nothing is booked). Undone newest first: the delivery's
    cancellation takes back its 13.33 (it took back 0.00, and cost of goods sold +13.33 /
    price difference -13.33 stayed)."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, 1, 3)
    r6 = _receipt(shop, 1, "13.33", 6)
    assert _roles(shop) == {"cogs": D("13.33"), "grni": D("-13.33")}
    r3 = _receipt(shop, 1, "13.33", 3)
    assert _roles(shop) == {"cogs": D("13.33"), "inventory": D("13.33"), "grni": D("-26.66")}
    _cancel(shop, r3)
    _cancel(shop, r6)
    _cancel(shop, d)
    _all_undone(shop)

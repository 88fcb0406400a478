"""Moving average, negative stock allowed, costed per warehouse: a purchase receipt (a
transfer's arrival) whose units settled open shortages, cancelled newest first (DOMAIN.md §2,
§5). Its cancellation opens those shortages again at the estimate they released and takes
back the settlement booked on the issues, as under FIFO/LIFO: the units leave at what they
settled with, and no price difference is left for the settlement in cost of goods sold. It
went out at the shortage estimate before (price difference -10.00 for a receipt of 1 @ 10.00
that settled a delivery's or a transfer's shortage, the +10.00 settlement never taken back;
docs/decisions.md, 2026-12-20)."""

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


def _shop(storage: str, tmp_path: Path) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "ma_settled.db")))
    j = Jxc(store, clock=TickingClock(dt.datetime(2026, 3, 20, 8, 0)))
    setup_master(j)
    j.define_item(Item(X, "moving average item", costing_method="moving_average",
                       allow_negative=True))
    return Shop(j, Documents(j))


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


def _receipt(shop: Shop, qty: int, price: str, day: int, wh: str = "W1") -> str:
    return shop.run("purchase_receipt", [Line(1, X, D(qty), D(price), warehouse=wh)], "S1",
                    date=_day(day)).doc_id


def _delivery(shop: Shop, qty: int, day: int, wh: str = "W1") -> str:
    return shop.run("delivery", [Line(1, X, D(qty), D("99.00"), warehouse=wh)], "C1",
                    date=_day(day)).doc_id


def _transfer(shop: Shop, qty: int, day: int, source: str, target: str) -> str:
    return shop.run("transfer", [Line(1, X, D(qty), D(0), warehouse=source,
                                      to_warehouse=target)], date=_day(day)).doc_id


def _stock(shop: Shop, wh: str) -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(X, wh)
    return b.on_hand, b.value


def _roles(shop: Shop) -> dict[str, Decimal]:
    roles = {r.role for r in shop.journal()}
    return {role: shop.net(role) for role in roles if shop.net(role)}


def _cancel(shop: Shop, doc_id: str) -> None:
    shop.docs.cancel(doc_id, BOSS)
    shop.check_books()


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_receipt_that_settled_a_delivery_opens_its_shortage_again(
        storage: str, tmp_path: Path) -> None:
    """1 delivered on day 5 (short, at 0.00); 1 @ 10.00 received on day 6 (settles it: cost
    of goods sold +10.00). The receipt cancelled: the delivery is short again (-1 / 0.00) and
    cost of goods sold is back at zero (it went out at 0.00 before: price difference -10.00,
    cost of goods sold +10.00)."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, 1, 5)
    r = _receipt(shop, 1, "10.00", 6)
    assert _stock(shop, "W1") == (0, D("0.00"))
    assert _roles(shop) == {"cogs": D("10.00"), "grni": D("-10.00")}
    _cancel(shop, r)
    assert _stock(shop, "W1") == (-1, D("0.00"))
    assert _roles(shop) == {}
    _cancel(shop, d)
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_receipt_that_settled_a_transfer_takes_back_the_cost_carried_on(
        storage: str, tmp_path: Path) -> None:
    """1 sent W1 -> W2 on day 5 (W1 short, at 0.00); 1 @ 10.00 into W1 on day 6 (settles the
    transfer; the 10.00 goes on with its unit: W2 1 / 10.00). The receipt cancelled: W1 is
    short again, W2's unit is back at 0.00 and no role is left (price difference -10.00
    before, W2 keeping the 10.00 until the transfer's cancellation)."""
    shop = _shop(storage, tmp_path)
    t = _transfer(shop, 1, 5, "W1", "W2")
    r = _receipt(shop, 1, "10.00", 6)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((0, D("0.00")), (1, D("10.00")))
    assert _roles(shop) == {"inventory": D("10.00"), "grni": D("-10.00")}
    _cancel(shop, r)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((-1, D("0.00")), (1, D("0.00")))
    assert _roles(shop) == {}
    _cancel(shop, t)
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_receipt_partly_used_to_settle_a_shortage_leaves_whole(
        storage: str, tmp_path: Path) -> None:
    """1 delivered on day 5 (short); 3 @ 10.00 received on day 6: 1 settles the delivery
    (cost of goods sold +10.00), 2 stay on hand (20.00). The receipt cancelled: its 2 units
    on hand leave at 20.00 and its third opens the delivery's shortage again, taking back
    the settlement (30.00 out in all; W1 -1 / 0.00, no role left)."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, 1, 5)
    r = _receipt(shop, 3, "10.00", 6)
    assert _stock(shop, "W1") == (2, D("20.00"))
    assert _roles(shop) == {"cogs": D("10.00"), "inventory": D("20.00"),
                            "grni": D("-30.00")}
    _cancel(shop, r)
    assert _stock(shop, "W1") == (-1, D("0.00"))
    assert _roles(shop) == {}
    assert shop.net("inventory", f"{r}-R") == D("-20.00")
    assert shop.net("cogs", f"{r}-R") == D("-10.00")
    _cancel(shop, d)
    shop.assert_all_undone(X)


def _both_ways(shop: Shop) -> tuple[str, str, str]:
    """2 sent W1 -> W2 on day 3 (W1 short), 3 sent W2 -> W1 on day 9 (W2 short 1; 2 of them
    settle W1's shortage), 3 @ 13.33 into W2 on day 9 (1 settles W2's short unit, whose
    13.33 goes on to W1, where 2 of the transfer's 3 units went to the first transfer's
    shortage: cost of goods sold 8.89, W1 1 / 4.44)."""
    t1 = _transfer(shop, 2, 3, "W1", "W2")
    t2 = _transfer(shop, 3, 9, "W2", "W1")
    r = _receipt(shop, 3, "13.33", 9, "W2")
    return t1, t2, r


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_transfers_both_ways_undone_newest_first_net_every_role(
        storage: str, tmp_path: Path) -> None:
    """The receipt cancelled first opens W2's shortage again, taking the 13.33 settlement
    back from both warehouses (W1 1 / 0.00, W2 -1 / 0.00, no role left); then each transfer.
    It left W2 short under its own name before: cost of goods sold 26.67 and price
    difference -26.67 once all was undone."""
    shop = _shop(storage, tmp_path)
    t1, t2, r = _both_ways(shop)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((1, D("4.44")), (2, D("26.66")))
    assert _roles(shop) == {"cogs": D("8.89"), "inventory": D("31.10"), "grni": D("-39.99")}
    _cancel(shop, r)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((1, D("0.00")), (-1, D("0.00")))
    assert _roles(shop) == {}
    _cancel(shop, t2)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((-2, D("0.00")), (2, D("0.00")))
    assert _roles(shop) == {}
    _cancel(shop, t1)
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_back_dated_receipt_cancelled_then_transfers_both_ways_undone(
        storage: str, tmp_path: Path) -> None:
    """As above, then 4 @ 8.00 into W2 dated day 3 (back-dated: W2 is never short now, the
    replays carry the new costs to W1) and cancelled at once: the scopes are as before it.
    Then everything undone newest first, every role at zero."""
    shop = _shop(storage, tmp_path)
    t1, t2, r = _both_ways(shop)
    r3 = _receipt(shop, 4, "8.00", 3, "W2")
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((1, D("5.33")), (6, D("55.99")))
    _cancel(shop, r3)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((1, D("4.44")), (2, D("26.66")))
    assert _roles(shop) == {"cogs": D("8.89"), "inventory": D("31.10"), "grni": D("-39.99")}
    _cancel(shop, r)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((1, D("0.00")), (-1, D("0.00")))
    assert _roles(shop) == {}
    _cancel(shop, t2)
    _cancel(shop, t1)
    shop.assert_all_undone(X)

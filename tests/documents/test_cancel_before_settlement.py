"""A short issue cancelled on its own day, before the later receipt that settled its
shortage (negative stock allowed; FIFO, LIFO, moving average).

The cancellation is dated at the issue's moment, when its shortage was still open: it takes
back the issue's cost as it stood then (what went short at its estimate), not with the
settlement booked since. The replay the back-dated cancellation starts finds no shortage for
the later receipt to settle, and takes the settlement back. Until 2026-12-13 the
cancellation came back with the settlement in it while the replay took the settlement back
as well: the stock was worth more than was ever bought (20 units of 300.00 bought, 350.00
in stock under FIFO and LIFO, 333.33 under moving average) and cost of goods sold was
credited the difference, though nothing was sold.

Also here: the settlement of an adjustment's shortage goes to the adjustment's own role
(its back-dating did already), so that undoing it nets by role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from . import support
from .support import BOSS, Shop
from .test_negative_stock_undo import _cancel_newest_first, _line, _shop

D = Decimal


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "NAVG", "NFIFO", "NLIFO"])


def _day(n: int) -> dt.date:
    return dt.date(2026, 2, n)


def _roles(shop: Shop) -> dict[str, Decimal]:
    return {r: shop.net(r) for r in sorted({x.role for x in shop.journal()}) if shop.net(r)}


def _short_then_settled(shop: Shop, x: str, issue: str) -> tuple[str, str, str]:
    """10 @ 10.00 received (day 3); 15 issued (day 4: 5 short at the estimate 10.00); 10 @
    20.00 received (day 6), which settles the 5 at 20.00."""
    r1 = shop.run("purchase_receipt", [_line(x, 10, "10.00")], "S1", date=_day(3)).doc_id
    if issue == "delivery":
        d1 = shop.run("delivery", [_line(x, 15, "5.00")], "C1", date=_day(4)).doc_id
    else:
        d1 = shop.run("adjustment", [_line(x, -15, "0")], date=_day(4)).doc_id
    r2 = shop.run("purchase_receipt", [_line(x, 10, "20.00")], "S1", date=_day(6)).doc_id
    return r1, d1, r2


# item, issue, the issue's value once settled, then after its cancellation: stock, value
CASES = [
    ("NFIFO", "delivery", "-200.00", 20, "300.00"),
    ("NLIFO", "delivery", "-200.00", 20, "300.00"),
    ("NAVG", "delivery", "-200.00", 20, "300.00"),
    ("NFIFO", "adjustment", "-200.00", 20, "300.00"),
    ("NLIFO", "adjustment", "-200.00", 20, "300.00"),
    ("NAVG", "adjustment", "-200.00", 20, "300.00"),
]


@pytest.mark.parametrize(("x", "issue", "issued", "on_hand", "value"), CASES)
def test_a_short_issue_cancelled_before_its_settlement_comes_back_at_its_own_cost(
        x: str, issue: str, issued: str, on_hand: int, value: str) -> None:
    """The cancellation (dated day 4) comes back at 150.00, what the issue cost on day 4;
    the receipt of day 6 settles nothing then: the stock is worth what was bought and every
    role but inventory and GR/NI nets to zero."""
    shop = _shop()
    _, d1, _ = _short_then_settled(shop, x, issue)
    settled = sum((e.entry.value for e in shop.jxc.ledger(x, "W1")
                   if e.entry.doc_id == d1), D(0))
    assert settled == D(issued)
    shop.docs.cancel(d1, BOSS)
    shop.check_books()
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (on_hand, D(value))
    back = [e.entry.value for e in shop.jxc.ledger(x, "W1") if e.entry.doc_id == f"{d1}-R"]
    assert back == [D("150.00")]
    assert _roles(shop) == {"inventory": D(value), "grni": -D(value)}


@pytest.mark.parametrize("x", ["NFIFO", "NLIFO", "NAVG"])
@pytest.mark.parametrize("issue", ["delivery", "adjustment"])
def test_a_settled_issue_undone_newest_first_nets_every_role(x: str, issue: str) -> None:
    """The same documents cancelled newest first (the receipt that settled the shortage
    first, so no back-dating): every role nets to zero. An adjustment's settlement went to
    cost of goods sold while taking it back went to the adjustment's role: they ended 50.00
    apart."""
    shop = _shop()
    docs = list(_short_then_settled(shop, x, issue))
    assert _cancel_newest_first(shop, docs) == []
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    assert _roles(shop) == {}


@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_the_settlement_of_an_adjustment_goes_to_its_role(x: str) -> None:
    """FIFO/LIFO: the 5 units an adjustment took short at 10.00 cost 20.00 once received:
    the 50.00 more is the adjustment's loss, not cost of goods sold."""
    shop = _shop()
    _short_then_settled(shop, x, "adjustment")
    assert _roles(shop) == {"adjustment": D("200.00"), "inventory": D("100.00"),
                            "grni": D("-300.00")}


def test_a_customer_return_before_the_settlement_takes_back_the_cost_of_its_day() -> None:
    """Moving average: 5 of the delivery returned on day 5, before the receipt of day 6
    settled its shortage, come back at a third of 150.00 (its cost on day 5), not of
    200.00; the replay leaves 10 units of 200.00 in stock and 100.00 cost of goods sold."""
    shop = _shop()
    _, d1, _ = _short_then_settled(shop, "NAVG", "delivery")
    rt = shop.run("sales_return", [_line("NAVG", 5, "5.00", (d1, 1))], "C1", date=_day(5))
    back = [e.entry.value for e in shop.jxc.ledger("NAVG", "W1")
            if e.entry.doc_id == rt.doc_id and e.entry.quantity]
    assert back == [D("50.00")]
    shop.check_books()
    b = shop.jxc.balance("NAVG", "W1")
    assert (b.on_hand, b.value) == (10, D("200.00"))
    assert _roles(shop)["cogs"] == D("100.00")


@pytest.mark.parametrize("x", ["NFIFO", "NLIFO", "NAVG"])
@pytest.mark.parametrize("first", ["later", "earlier"])
def test_a_receipt_whose_units_settled_a_cancelled_shortage_can_be_cancelled(
        x: str, first: str) -> None:
    """1 delivered short on day 1 and 1 on day 2, then 1 @ 0.00 received on day 2 (it
    settles the day-1 shortage); both deliveries cancelled, then the receipt. The later
    delivery's cancellation, posted after the receipt, closes its own open shortage; the
    earlier one's, back-dated, closes its own and replays the later delivery, which the
    receipt now settles: the later cancellation puts its unit back into the receipt's layer,
    as it would have gone back had it been posted then. The receipt was refused (its units
    "had left stock"), whichever delivery went first."""
    shop = _shop()
    d1 = shop.run("delivery", [_line(x, 1, "5.00")], "C1", date=_day(1)).doc_id
    d2 = shop.run("delivery", [_line(x, 1, "5.00")], "C1", date=_day(2)).doc_id
    r = shop.run("purchase_receipt", [_line(x, 1, "0.00")], "S1", date=_day(2)).doc_id
    for doc in ([d2, d1] if first == "later" else [d1, d2]) + [r]:
        shop.docs.cancel(doc, BOSS)
        shop.check_books()
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    assert _roles(shop) == {}

"""Specific identification (个别计价), negative stock forbidden: an issue of a lot cancelled out
of turn follows its issue when a replay re-costs it, and a lot's receipt cancelled before a
transfer's change reaches the lot takes no share of that change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master
from .test_specific_lot_cancel_and_replay import _books, _nets_to_zero

D = Decimal
X = "XLOT"


@pytest.fixture(autouse=True)
def _books_see_the_lot_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, X])


def _make(org: bool) -> Shop:
    j = Jxc(MemoryStorage(), clock=TickingClock(), organisation_scope=org)
    setup_master(j)
    j.define_item(Item(X, "lot item", costing_method="specific_lot", lot_tracked=True))
    return Shop(j, Documents(j))


@pytest.fixture
def shop() -> Iterator[Shop]:
    made = _make(False)
    yield made
    made.jxc.storage.close()


@pytest.fixture(params=[False, True], ids=["warehouse", "org"])
def any_shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    made = _make(request.param)
    yield made
    made.jxc.storage.close()


def _line(qty: int, price: str, wh: str = "W1", n: int = 1, **kw: object) -> Line:
    return Line(n, X, D(qty), D(price), warehouse=wh, lot="L1", **kw)  # type: ignore[arg-type]


def _feb(day: int) -> dt.date:
    return dt.date(2026, 2, day)


def _stock(shop: Shop, wh: str = "W1") -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(X, wh)
    return b.on_hand, b.value


def _corrections(shop: Shop, doc_id: str) -> Decimal:
    """The back-dating corrections the ledger holds for ``doc_id``."""
    return sum((e.entry.value for e in shop.jxc.ledger(X)
                if e.entry.kind == "cost_backdating" and e.entry.doc_id == doc_id), D(0))


def _charge(shop: Shop, receipt: str, amount: str, on: dt.date) -> str:
    return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                    attributes={"receipts": [receipt], "basis": "quantity"}, date=on).doc_id


@pytest.mark.parametrize("back_dated", [False, True], ids=["charged-first", "charge-back-dated"])
@pytest.mark.parametrize("issue", ["purchase_return", "delivery", "adjustment"])
def test_an_issue_of_a_lot_cancelled_out_of_turn_follows_its_issue_re_costed(
        any_shop: Shop, issue: str, back_dated: bool) -> None:
    """R receives 10 of L1 at 10.00 (Feb 1) and a landed cost of 5.00 on it is dated Feb 2
    (posted first, or back-dated after the issues); on Feb 3 2 units leave (a supplier return
    of R, a delivery, an adjustment) and then 3 are delivered: the lot is 10.50 a unit, the
    stock 5 / 52.50. The 2 units' issue is cancelled out of turn (its cancellation comes after
    the delivery, back at 21.00: 7 / 73.50), then the landed cost. Its replay re-costs the
    issue at 20.00 but left its cancellation at 21.00: the lot kept 1.00 too much (7 / 71.00,
    10 / 101.00 once the delivery is cancelled), the issue and its cancellation no longer
    netted to zero, so the history of R never passed over them and R's cancellation was
    refused for good ("needed 10, available 5"). The cancellation now follows its issue as
    replayed: a correction of -1.00, the lot at 7 / 70.00, and everything cancels to zero.
    Per warehouse and by organisation alike."""
    shop = any_shop
    r = shop.run("purchase_receipt", [_line(10, "10.00")], "S1", date=_feb(1)).doc_id
    charge = None if back_dated else _charge(shop, r, "5.00", _feb(2))
    if issue == "purchase_return":
        out = shop.run("purchase_return", [_line(2, "10.00", source=(r, 1))], "S1",
                       date=_feb(3)).doc_id
    elif issue == "delivery":
        out = shop.run("delivery", [_line(2, "20.00")], "C1", date=_feb(3)).doc_id
    else:
        out = shop.run("adjustment", [_line(-2, "0")], date=_feb(3)).doc_id
    delivery = shop.run("delivery", [_line(3, "20.00")], "C1", date=_feb(3)).doc_id
    if charge is None:
        charge = _charge(shop, r, "5.00", _feb(2))
    assert _stock(shop) == (5, D("52.50"))
    assert shop.net("cogs", delivery) == D("31.50") - (D("1.50") if back_dated else 0)

    shop.docs.cancel(out, BOSS)  # out of turn: the delivery is newer
    assert _stock(shop) == (7, D("73.50"))
    [back] = [e.entry for e in shop.jxc.ledger(X) if e.entry.doc_id == f"{out}-R"]
    assert (back.quantity, back.value) == (2, D("21.00"))
    _books(shop)

    shop.docs.cancel(charge, BOSS)
    assert _stock(shop) == (7, D("70.00"))
    assert _corrections(shop, out) == D("1.00") - (D("1.00") if back_dated else 0)
    assert _corrections(shop, f"{out}-R") == D("-1.00")  # the cancellation follows
    assert _corrections(shop, delivery) == D("1.50") - (D("1.50") if back_dated else 0)
    _books(shop)

    shop.docs.cancel(delivery, BOSS)
    assert _stock(shop) == (10, D("100.00"))
    shop.docs.cancel(r, BOSS)  # refused before ("needed 10, available 5")
    assert _stock(shop) == (0, D("0.00"))
    _books(shop)
    shop.assert_all_undone(X)
    _nets_to_zero(shop)


def test_a_cancelled_receipt_of_a_lot_takes_no_share_of_a_transfer_change(shop: Shop) -> None:
    """R1 receives 8 of L1 in W1 and 7 in W2 at 8.00 (Feb 1), R2 6 more in W2 at 13.33 (Feb
    2); on Feb 12 a transfer moves 2 from W2 to W1 at 20.92 (the lot's 135.98 / 13). R1 is
    cancelled out of turn: W2 replayed without its 7 units, the transfer takes 26.66 (R2's
    units), a change of 5.74 carried to the 2 units in W1. The lot in W1 still counted R1's 8
    cancelled units as received, so the change was shared over 10: 1.15 kept, 4.59 to cost of
    goods sold, and the transfer's cancellation took 22.07 back to W2 where it had left at
    26.66 — the pair no longer netted to zero and R2 (needed 6, available 4) was refused for
    good. Units a cancellation took back no longer count as received: the 2 units keep the
    whole change, and everything cancels to zero."""
    r1 = shop.run("purchase_receipt", [_line(8, "8.00"), _line(7, "8.00", "W2", n=2)], "S1",
                  date=_feb(1)).doc_id
    r2 = shop.run("purchase_receipt", [_line(6, "13.33", "W2")], "S1", date=_feb(2)).doc_id
    t = shop.run("transfer", [_line(2, "0", "W2", to_warehouse="W1")], date=_feb(12)).doc_id
    assert _stock(shop, "W1") == (10, D("84.92"))
    assert _stock(shop, "W2") == (11, D("115.06"))

    shop.docs.cancel(r1, BOSS)
    assert _stock(shop, "W1") == (2, D("26.66"))  # was 22.07
    assert _stock(shop, "W2") == (4, D("53.32"))
    assert _corrections(shop, t) == D("-5.74")
    assert shop.net("cogs") == 0  # was -4.59
    shop.check_books()

    shop.docs.cancel(t, BOSS)
    assert _stock(shop, "W1") == (0, D("0.00"))
    assert _stock(shop, "W2") == (6, D("79.98"))
    shop.docs.cancel(r2, BOSS)  # refused before ("needed 6, available 4")
    assert _stock(shop, "W2") == (0, D("0.00"))
    shop.check_books()
    shop.assert_all_undone(X)
    _nets_to_zero(shop)


def _both(shop: Shop) -> list[tuple[Decimal, Decimal]]:
    return [_stock(shop, "W1"), _stock(shop, "W2")]


def test_a_lot_s_transfer_cancelled_takes_back_the_change_carried_to_its_arrival(
        shop: Shop) -> None:
    """W1 receives 7 of L1 at 8.00 (Feb 2) and 5 at 13.33 dated Feb 1, W2 7 at 8.00 (Feb
    13); a transfer (Feb 13) takes 1 from W1 to W2 at the lot's 10.22. The Feb 1 receipt is
    cancelled out of turn: W1 replayed, the transfer costs 8.00, and the change of -2.22 is
    carried to the lot in W2 (its 8 units all there: 64.00). The transfer's cancellation took
    its unit out of W2 at 10.22, what it arrived at, without the change: W2 was left at 7 /
    53.78, W1 got 10.22 back where the transfer had taken 8.00 (7 / 58.22), and the other
    receipt of W1 was refused for good ("needed 7, available 6"). Now the unit leaves W2 with
    what was carried to it and comes back into W1 at what the transfer took there."""
    ra = shop.run("purchase_receipt", [_line(7, "8.00")], "S1", date=_feb(2)).doc_id
    rb = shop.run("purchase_receipt", [_line(5, "13.33")], "S1", date=_feb(1)).doc_id
    rc = shop.run("purchase_receipt", [_line(7, "8.00", "W2")], "S1", date=_feb(13)).doc_id
    t = shop.run("transfer", [_line(1, "0", to_warehouse="W2")], date=_feb(13)).doc_id
    assert _both(shop) == [(11, D("112.43")), (8, D("66.22"))]

    shop.docs.cancel(rb, BOSS)
    assert _both(shop) == [(6, D("48.00")), (8, D("64.00"))]
    assert _corrections(shop, t) == D("2.22")
    shop.docs.cancel(t, BOSS)
    assert _both(shop) == [(7, D("56.00")), (7, D("56.00"))]  # was 58.22 / 53.78
    assert [(e.entry.warehouse, e.entry.quantity, e.entry.value) for e in shop.jxc.ledger(X)
            if e.entry.doc_id == f"{t}-R"] == [("W2", -1, D("-8.00")), ("W1", 1, D("8.00"))]
    assert shop.net("cogs") == 0
    shop.check_books()
    shop.docs.cancel(rc, BOSS)
    shop.docs.cancel(ra, BOSS)  # refused before ("needed 7, available 6")
    assert _both(shop) == [(0, D("0.00")), (0, D("0.00"))]
    shop.check_books()
    shop.assert_all_undone(X)
    _nets_to_zero(shop)


def test_a_lot_s_transfer_cancelled_after_part_of_a_carried_change_went_to_cogs(
        shop: Shop) -> None:
    """W2 receives 5 of L1 at 13.33 and W1 5 at 10.00 (Feb 4); 1 of W1's goes back to the
    supplier (Feb 9); a transfer (Feb 14) takes 2 from W2 to W1 at 26.66. A receipt of 5 at
    10.00 into W2 dated Feb 11 makes the transfer cost 23.33: the change of -3.33 carried to
    the lot in W1 is shared over the 7 units it received, 6 on hand: -2.85 kept, -0.48 to cost
    of goods sold. The transfer cancelled out of turn: its units leave W1 at 23.81 (26.66 and
    the -2.85 kept), W1 back at 4 / 40.00, and come back into W2 at the 23.33 the transfer took
    there, the 0.48 from cost of goods sold (a correction of the cancellation). Before, they
    left W1 at 26.66 (4 / 37.15) and came back at it (W2 10 / 119.98), cost of goods sold still
    at -0.48, until later replays made up for it. Then the supplier return's cancellation,
    replaying W1 over the transfer and its cancellation, leaves W1 at 5 / 50.00."""
    r1 = shop.run("purchase_receipt", [_line(5, "13.33", "W2")], "S1", date=_feb(4)).doc_id
    r2 = shop.run("purchase_receipt", [_line(5, "10.00")], "S1", date=_feb(4)).doc_id
    ret = shop.run("purchase_return", [_line(1, "10.00", source=(r2, 1))], "S1",
                   date=_feb(9)).doc_id
    t = shop.run("transfer", [_line(2, "0", "W2", to_warehouse="W1")], date=_feb(14)).doc_id
    r3 = shop.run("purchase_receipt", [_line(5, "10.00", "W2")], "S1", date=_feb(11)).doc_id
    assert _both(shop) == [(6, D("63.81")), (8, D("93.32"))]
    assert shop.net("cogs") == D("-0.48")

    shop.docs.cancel(t, BOSS)  # out of turn: r3 is newer
    assert _both(shop) == [(4, D("40.00")), (10, D("116.65"))]
    assert _corrections(shop, f"{t}-R") == D("-0.48")
    assert shop.net("cogs") == 0
    shop.check_books()
    shop.docs.cancel(r3, BOSS)
    shop.docs.cancel(ret, BOSS)
    assert _both(shop) == [(5, D("50.00")), (5, D("66.65"))]
    assert shop.net("cogs") == 0
    shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(r1, BOSS)
    assert _both(shop) == [(0, D("0.00")), (0, D("0.00"))]
    shop.check_books()
    shop.assert_all_undone(X)
    _nets_to_zero(shop)

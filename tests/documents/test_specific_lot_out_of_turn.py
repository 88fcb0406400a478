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

D = Decimal
X = "XLOT"


@pytest.fixture(autouse=True)
def _books_see_the_lot_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, X])


@pytest.fixture
def shop() -> Iterator[Shop]:
    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    j.define_item(Item(X, "lot item", costing_method="specific_lot", lot_tracked=True))
    yield Shop(j, Documents(j))
    j.storage.close()


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


def _nets_to_zero(shop: Shop) -> None:
    roles = {r.role for r in shop.journal()}
    assert {role: shop.net(role) for role in roles if shop.net(role)} == {}


def _charge(shop: Shop, receipt: str, amount: str, on: dt.date) -> str:
    return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                    attributes={"receipts": [receipt], "basis": "quantity"}, date=on).doc_id


@pytest.mark.parametrize("back_dated", [False, True], ids=["charged-first", "charge-back-dated"])
@pytest.mark.parametrize("issue", ["purchase_return", "delivery", "adjustment"])
def test_an_issue_of_a_lot_cancelled_out_of_turn_follows_its_issue_re_costed(
        shop: Shop, issue: str, back_dated: bool) -> None:
    """R receives 10 of L1 at 10.00 (Feb 1) and a landed cost of 5.00 on it is dated Feb 2
    (posted first, or back-dated after the issues); on Feb 3 2 units leave (a supplier return
    of R, a delivery, an adjustment) and then 3 are delivered: the lot is 10.50 a unit, the
    stock 5 / 52.50. The 2 units' issue is cancelled out of turn (its cancellation comes after
    the delivery, back at 21.00: 7 / 73.50), then the landed cost. Its replay re-costs the
    issue at 20.00 but left its cancellation at 21.00: the lot kept 1.00 too much (7 / 71.00,
    10 / 101.00 once the delivery is cancelled), the issue and its cancellation no longer
    netted to zero, so the history of R never passed over them and R's cancellation was
    refused for good ("needed 10, available 5"). The cancellation now follows its issue as
    replayed: a correction of -1.00, the lot at 7 / 70.00, and everything cancels to zero."""
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
    shop.check_books()

    shop.docs.cancel(charge, BOSS)
    assert _stock(shop) == (7, D("70.00"))
    assert _corrections(shop, out) == D("1.00") - (D("1.00") if back_dated else 0)
    assert _corrections(shop, f"{out}-R") == D("-1.00")  # the cancellation follows
    assert _corrections(shop, delivery) == D("1.50") - (D("1.50") if back_dated else 0)
    shop.check_books()

    shop.docs.cancel(delivery, BOSS)
    assert _stock(shop) == (10, D("100.00"))
    shop.docs.cancel(r, BOSS)  # refused before ("needed 10, available 5")
    assert _stock(shop) == (0, D("0.00"))
    shop.check_books()
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

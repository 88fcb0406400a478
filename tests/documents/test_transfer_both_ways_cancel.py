"""FIFO/LIFO, negative stock allowed, costed per warehouse: one transfer moving the same item
both ways (a line W2 -> W1, another W1 -> W2), and a receipt into W2 dated before it but
posted after it (back-dated). The replay gives the first line the receipt's units; its units
in W1 are taken on by the second line, whose arrival in W2 settles the first line's
shortage: the receipt's cost ends in cost of goods sold and the receipt is refused while the
transfer stands (its layer is not whole). The transfer cancelled, last line first: the
second line's way out of W2 opens the first line's shortage again at what it was settled
with; the first line comes back into W2 closing that shortage at its estimate and going
back into the receipt's layer at what it took from it, the difference (the cost carried to
cost of goods sold) a correction of the cancellation (DOMAIN.md §2, §3 back-dating, §5
cancellation at the original cost). Until 2026-12-21 the shortage was closed only when the
units brought back were worth its estimate: otherwise they came back as any receipt, the
receipt's layer was not restored and the receipt could never be cancelled; or its layer
came back at 0.00 with its cost left in cost of goods sold (docs/decisions.md, 2026-12-21,
"a transfer both ways cancelled after a receipt dated before it")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from .support import BOSS, Shop, TickingClock, setup_master
from .support import day as _day
from .support import delivery as _delivery
from .support import receipt as _receipt
from .test_settled_shortage_undo import _books_see_the_items, _shop, _undo_all

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _both_ways(shop: Shop, x: str, back: int, out: int, day: int) -> str:
    """A transfer dated day ``day``: ``back`` units W2 -> W1 (line 1), then ``out`` units
    W1 -> W2 (line 2)."""
    return shop.run("transfer", [
        Line(1, x, D(back), D(0), warehouse="W2", to_warehouse="W1"),
        Line(2, x, D(out), D(0), warehouse="W1", to_warehouse="W2")],
        date=_day(day)).doc_id


def _stock(shop: Shop, x: str) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    return ((shop.qty(x, "W1"), shop.value(x, "W1")),
            (shop.qty(x, "W2"), shop.value(x, "W2")))


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_receipt_dated_before_a_transfer_both_ways_cancels_after_it(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 sent W2 -> W1 and 3 W1 -> W2 (day 4) from nothing: W1 short 1, W2 1 @ 0.00; 1 @
    13.33 into W2 dated day 2: the first line takes it, the second line's arrival settles
    the first line's other unit (13.33 to cost of goods sold). The receipt is refused; the
    transfer cancelled, W2 holds the receipt's unit at 13.33 and cost of goods sold is back
    to zero; then the receipt cancels. Before, the transfer's cancellation left W2 1 @ 0.00,
    13.33 in cost of goods sold, and the receipt refused for good."""
    shop = _shop(storage, tmp_path)
    t = _both_ways(shop, x, 2, 3, 4)
    assert _stock(shop, x) == ((-1, D("0.00")), (1, D("0.00")))
    r = _receipt(shop, x, 1, "13.33", 2, "W2")
    assert _stock(shop, x) == ((-1, D("0.00")), (2, D("0.00")))
    assert shop.net("cogs") == D("13.33")
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(r, BOSS)
    assert refused.value.code == "reversal_impossible"
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((0, D("0.00")), (1, D("13.33")))
    assert shop.net("cogs") == D("0.00")
    assert shop.net("inventory") == D("13.33")
    # the receipt's posting booked the 13.33 (its replay re-costed the transfer's first
    # line); the transfer's cancellation takes it back
    assert shop.net("cogs", r) == D("13.33")
    assert shop.roles(t) == {"cogs": D("-13.33"), "inventory": D("13.33")}
    _undo_all(shop, x, [r])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_more_short_than_the_receipt_gave(storage: str, x: str, tmp_path: Path) -> None:
    """3 sent W2 -> W1 and 4 W1 -> W2 (day 4) from nothing; 1 @ 13.33 into W2 dated day 2:
    the first line takes it and goes 2 short, the second line's arrival settles both. The
    transfer's cancellation closes the 2 at their estimate and puts 1 back into the
    receipt's layer at 13.33."""
    shop = _shop(storage, tmp_path)
    t = _both_ways(shop, x, 3, 4, 4)
    r = _receipt(shop, x, 1, "13.33", 2, "W2")
    assert _stock(shop, x) == ((-1, D("0.00")), (2, D("0.00")))
    assert shop.net("cogs") == D("13.33")
    with pytest.raises(JxcError):
        shop.docs.cancel(r, BOSS)
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((0, D("0.00")), (1, D("13.33")))
    assert shop.net("cogs") == D("0.00")
    assert shop.roles(t) == {"cogs": D("-13.33"), "inventory": D("13.33")}
    _undo_all(shop, x, [r])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize(("x", "posted"), [
    ("NFIFO", ((1, D("9.72")), (3, D("7.50")), D("19.44"))),
    ("NLIFO", ((1, D("5.00")), (3, D("3.75")), D("27.91")))])
def test_with_stock_in_the_other_warehouse(
        storage: str, x: str, posted: tuple[tuple[int, Decimal], tuple[int, Decimal], Decimal],
        tmp_path: Path) -> None:
    """2 @ 5.00 into W1 (day 1); 3 sent W2 -> W1 and 4 W1 -> W2 (day 4); 2 @ 13.33 into W2
    dated day 2 (posted last): the first line takes both and goes 1 short. The transfer
    cancelled, W1 holds 2 @ 10.00 and W2 the receipt's 2 @ 26.66, nothing in cost of goods
    sold; the receipts then cancel newest first. Before, the first line closed its shortage
    and spread what came back (0.00) over the receipt's layer: W2 2 @ 0.00, 26.66 in cost of
    goods sold until the receipt's cancellation took it out of a layer worth nothing."""
    shop = _shop(storage, tmp_path)
    r1 = _receipt(shop, x, 2, "5.00", 1, "W1")
    t = _both_ways(shop, x, 3, 4, 4)
    r2 = _receipt(shop, x, 2, "13.33", 2, "W2")
    w1, w2, cogs = posted
    assert _stock(shop, x) == (w1, w2)
    assert shop.net("cogs") == cogs
    with pytest.raises(JxcError):
        shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(t, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((2, D("10.00")), (2, D("26.66")))
    assert shop.net("cogs") == D("0.00")
    assert shop.net("inventory") == D("36.66")
    shop.docs.cancel(r2, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((2, D("10.00")), (0, D("0.00")))
    assert shop.net("cogs") == D("0.00")
    _undo_all(shop, x, [r1])


# -- refusals kept (docs/stock-ledger.md, "Known limits of cancellations under negative
# stock"): the refusal says why. Posted on 20 March, after every date of the documents


def _late_shop() -> Shop:
    j = Jxc(MemoryStorage(), clock=TickingClock(dt.datetime(2026, 3, 20, 8, 0)))
    setup_master(j)
    for code, method in (("NFIFO", "fifo"), ("NLIFO", "lifo")):
        j.define_item(Item(code, f"{method} item", costing_method=method, allow_negative=True))
    j.define_item(Item("NLOT", "lots", lot_tracked=True, allow_negative=True))
    return Shop(j, Documents(j))


@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_refused_when_its_arrival_settled_a_delivery_cancelled_since(x: str) -> None:
    """1 @ 8.00 into W2 (day 12); 1 delivered from W2 dated day 3 (short, the receipt settles
    it); 2 sent W2 -> W1 and 2 W1 -> W2 dated day 3: the second line's arrival settles the
    delivery's shortage and 1 of the first line's, the receipt the other. The transfer is
    refused while the receipt (dated after it) stands. The delivery cancelled next (posted
    after the receipt), then the receipt: the transfer stays refused (its arrival settled
    the shortage of a delivery cancelled since), and says so. The receipt cancelled before
    the delivery, the transfer and then the delivery cancel."""
    shop = _late_shop()
    r = _receipt(shop, x, 1, "8.00", 12, "W2")
    d = _delivery(shop, x, 1, 3, "W2")
    t = _both_ways(shop, x, 2, 2, 3)
    assert _stock(shop, x) == ((0, D("0.00")), (0, D("0.00")))
    assert shop.net("cogs") == D("8.00")
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(t, BOSS)
    assert str(refused.value).endswith("line 2: 2 of its units have left stock already")
    shop.docs.cancel(d, BOSS)
    assert _stock(shop, x) == ((0, D("0.00")), (1, D("8.00")))
    shop.docs.cancel(r, BOSS)
    shop.check_books()
    assert _stock(shop, x) == ((0, D("0.00")), (0, D("0.00")))
    assert shop.net("cogs") == D("0.00")
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(t, BOSS)
    assert refused.value.code == "reversal_impossible"
    assert ("line 2: 2 of its units have left stock already; they settled the shortage of "
            f"{d}, cancelled since, which cannot be opened again") in str(refused.value)
    shop.check_books()
    assert _stock(shop, x) == ((0, D("0.00")), (0, D("0.00")))
    # the receipt first: the transfer, then the delivery cancel
    shop = _late_shop()
    r = _receipt(shop, x, 1, "8.00", 12, "W2")
    d = _delivery(shop, x, 1, 3, "W2")
    t = _both_ways(shop, x, 2, 2, 3)
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, x) == ((0, D("0.00")), (-1, D("0.00")))
    assert shop.net("cogs") == D("0.00")
    _undo_all(shop, x, [d, t])


def test_refused_when_its_arrival_settled_its_own_line_beside_stock() -> None:
    """A lot-tracked FIFO item: 3 @ 8.00 and 2 @ 10.00 of lot LB into W1 (day 14); then a
    transfer dated day 1: 2 of lot LA W1 -> W2 (W1 short, the receipt settles it when
    replayed) and 1 of lot LB W2 -> W1, whose arrival settles 1 of the first line's
    shortage. The transfer is refused (that shortage cannot open again beside the receipt's
    stock), and says so. The receipt, cancelled next, opens the shortages its lines settled
    (its second line counts as undone for the first); then the transfer cancels to zero."""
    shop = _late_shop()
    r = shop.run("purchase_receipt", [
        Line(1, "NLOT", D(3), D("8.00"), warehouse="W1", lot="LB"),
        Line(2, "NLOT", D(2), D("10.00"), warehouse="W1", lot="LB")], "S1",
        date=_day(14)).doc_id
    t = shop.run("transfer", [
        Line(1, "NLOT", D(2), D(0), warehouse="W1", to_warehouse="W2", lot="LA"),
        Line(2, "NLOT", D(1), D(0), warehouse="W2", to_warehouse="W1", lot="LB")],
        date=_day(1)).doc_id
    assert _stock(shop, "NLOT") == ((4, D("36.00")), (1, D("8.00")))
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(t, BOSS)
    assert refused.value.code == "reversal_impossible"
    assert ("line 2: 1 of its units have left stock already; they settled the shortage of "
            "line 1 of this document, which cannot be opened again beside the stock on "
            "hand") in str(refused.value)
    assert _stock(shop, "NLOT") == ((4, D("36.00")), (1, D("8.00")))
    assert shop.net("inventory") == D("44.00")
    # the receipt, cancelled next (its two lines settled shortages: the second counts as
    # undone for the first), opens them again; then the transfer goes
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, "NLOT") == ((-1, D("0.00")), (1, D("4.00")))
    assert shop.net("inventory") == D("4.00")
    shop.docs.cancel(t, BOSS)
    assert _stock(shop, "NLOT") == ((0, D("0.00")), (0, D("0.00")))
    assert {r.role for r in shop.journal() if shop.net(r.role)} == set()

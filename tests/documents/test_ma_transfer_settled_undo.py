"""Moving average, negative stock allowed (per warehouse and by organisation): a customer
return of a delivery whose cancellation a replay passes over with it (a void pair), the
return's value having been corrected since it was posted (DOMAIN.md §2, §5;
docs/decisions.md, 2026-12-19, "a customer return of a void pair keeps its corrections").

A back-dated transfer into the delivery's warehouse settled the delivery's shortage before
the receipt that had settled it, at 0.00: the delivery and its return were corrected (the
return comes back at its delivery's cost, now 0.00), and the return's cancellation took back
0.00. When the transfer is cancelled at last, its replay passes over the delivery and its
cancellation (they net to zero with their corrections, their costs stay as posted) and takes
the return in as a receipt of its own. It took it in at the value it was posted with
(13.33), its correction left out: the correction was undone (+13.33 on the return), its
cancellation stayed at 0.00, and the receipt's cancellation absorbed the rest as a price
difference. Cost of goods sold ended at -13.33 and price difference at +13.33 with nothing
left in stock. Now the return is taken in at its value as the ledger has it, corrections
counted in, as the void pair keeps its own: nothing is re-valued, every role nets to zero."""

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


def _flow(shop: Shop) -> tuple[str, str, str, str]:
    d = _delivery(shop, 1, 2)  # short, at the estimate 0.00
    r = _receipt(shop, 2, "13.33", 9)  # settles the delivery: +13.33 cost of goods sold
    back = shop.run("sales_return", [Line(1, X, D(1), D("99.00"), warehouse="W1",
                                          source=(d, 1))], "C1", date=_day(9)).doc_id
    t = shop.run("transfer", [Line(1, X, D(2), D(0), warehouse="W2", to_warehouse="W1")],
                 date=_day(5)).doc_id  # back-dated: settles the delivery first, at 0.00
    return d, r, back, t


def _total(shop: Shop) -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(X)
    return b.on_hand, b.value


@pytest.mark.parametrize("org", [False, True], ids=["per_warehouse", "organisation"])
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_back_dated_transfer_cancelled_last_leaves_no_cost_behind(
        storage: str, org: bool, tmp_path: Path) -> None:
    """1 delivered from W1 on day 2 (short); 2 @ 13.33 received into W1 on day 9 (settles it:
    13.33); the delivered unit returned on day 9 (at 13.33); 2 transferred W2 -> W1 on day 5
    (back-dated: W2 goes short at 0.00, the transfer settles the delivery at 0.00, the return
    follows at 0.00). Cancelled newest first by posting: the return, the receipt, the
    delivery, the transfer: stock 0 / 0.00, every role at zero, the inventory role equal to
    the stock after every step."""
    shop = _shop(storage, tmp_path, org)
    d, r, back, t = _flow(shop)
    shop.check_books()
    assert _total(shop) == (2, D("26.66"))
    assert shop.net("cogs") == D("0.00")
    for doc_id in (back, r, d):
        _cancel(shop, doc_id)
    assert _total(shop) == (0, D("0.00"))
    _cancel(shop, t)
    assert shop.net("cogs", f"{t}-R") == D("0.00")
    assert shop.net("price_difference") == D("0.00")
    assert _roles(shop) == {}
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_the_return_of_the_void_delivery_keeps_its_corrected_value(
        storage: str, tmp_path: Path) -> None:
    """As above, per warehouse: the transfer's cancellation books no correction of the return
    (its value as the ledger has it, 0.00 with its correction, what its cancellation took
    back) nor of the receipt's cancellation; W1 and W2 end at 0 / 0.00."""
    shop = _shop(storage, tmp_path)
    d, r, back, t = _flow(shop)
    for doc_id in (back, r, d):
        _cancel(shop, doc_id)
    before = {(e.entry.doc_id, e.entry.kind, e.entry.value)
              for e in shop.jxc.ledger(X, "W1")}
    _cancel(shop, t)
    added = [(e.entry.doc_id, e.entry.kind, e.entry.quantity, e.entry.value)
             for e in shop.jxc.ledger(X, "W1")
             if (e.entry.doc_id, e.entry.kind, e.entry.value) not in before]
    assert added == [(f"{t}-R", "transfer_out", D(-2), D("0.00"))]
    for wh in ("W1", "W2"):
        b = shop.jxc.balance(X, wh)
        assert (b.on_hand, b.value) == (0, D("0.00"))
    assert sum((e.entry.value for e in shop.jxc.ledger(X, "W1")
                if e.entry.doc_id in (back, f"{back}-R")), D(0)) == D("0.00")
    assert _roles(shop) == {}

"""A cancelled delivery whose pair holds a transfer's arrival that carried a receipt cost.

Negative stock forbidden. Receipt R of 7 @ 13.33 into W1 and 7 @ 13.33 into W2 (Mar 3), a
landed cost of 3.00 on R (Mar 3: 1.50 to each line), a delivery D of 3 from W2 (Mar 9), a
transfer T of 3 from W1 to W2 (Mar 9), D cancelled out of turn. Newest first, T and the
landed cost cancel: the landed cost's cancellation takes the share T carried to W2 (a
``landed_cost`` entry of T's line in W2, between D and its reversal) and re-costs D. Then R's
cancellation, dated Mar 3, is checked against W2's later entries: D -3, T +3, the carried
share, D's reversal +3, T's cancellation -3. T's arrival came in on a stock not below zero
(it settled nothing of D) so it lies between D's pair freely, but its carried share did not:
the pair was not passed over, the stock dipped to 4 between D and its reversal, and R was
refused ``insufficient_stock`` (moving average) with its 7 units on hand in each warehouse.
The carried share now lies between a pair as the arrival it goes with does.

The same check refused a LIFO receipt for good after two transfers into W2 and two
deliveries from it, back-dated around each other (a replay re-costed a transfer, and its
arrival carried the change as such an entry).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop
from .support import day as _day
from .support import landed_cost as _landed_cost
from .support import stock as _stock

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "CFIFO", "lifo": "CLIFO", "moving_average": "CAVG"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _item(shop: Shop, method: str) -> str:
    """The three items defined (the books read them all): the code of ``method``'s."""
    for m, code in CODES.items():
        shop.jxc.define_item(Item(code, code, costing_method=m))
    return CODES[method]


def _cancel_all(shop: Shop, posted: list[str]) -> None:
    """Cancel every document still posted, newest first, pass after pass: each must go."""
    for _ in range(3):
        for doc_id in reversed(posted):
            if shop.docs.get(doc_id).state == State.POSTED:
                try:
                    shop.docs.cancel(doc_id, BOSS)
                except JxcError:  # refused now, maybe not after the next ones
                    continue
                shop.check_books()
    assert [d for d in posted if shop.docs.get(d).state == State.POSTED] == []


def _charged_transfer(shop: Shop, code: str) -> tuple[str, str, str, str]:
    rc = shop.run("purchase_receipt", [Line(1, code, D(7), D("13.33"), warehouse="W1"),
                                       Line(2, code, D(7), D("13.33"), warehouse="W2")],
                  "S1", date=_day(3)).doc_id
    lc = _landed_cost(shop, rc, "3.00", 3)
    dl = shop.run("delivery", [Line(1, code, D(3), D("20.00"), warehouse="W2")], "C1",
                  date=_day(9)).doc_id
    tr = shop.run("transfer", [Line(1, code, D(3), D(0), warehouse="W1", to_warehouse="W2")],
                  date=_day(9)).doc_id
    return rc, lc, dl, tr


@pytest.mark.parametrize("method", METHODS)
def test_the_receipt_cancels_after_the_carried_share_went_back(shop: Shop, method: str
                                                                ) -> None:
    code = _item(shop, method)
    rc, lc, dl, tr = _charged_transfer(shop, code)
    shop.docs.cancel(dl, BOSS)  # out of turn
    shop.check_books()
    shop.docs.cancel(tr, BOSS)
    shop.docs.cancel(lc, BOSS)
    shop.check_books()
    # the receipt's units are all on hand, at their own cost, in both warehouses
    assert _stock(shop, code, "W1") == (D(7), D("93.31"))
    assert _stock(shop, code, "W2") == (D(7), D("93.31"))
    back = shop.docs.cancel(rc, BOSS)
    assert back.state == State.CANCELLED
    assert shop.roles(f"{rc}-R") == {"inventory": D("-186.62"), "grni": D("186.62")}
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", METHODS)
def test_everything_cancels_newest_first(shop: Shop, method: str) -> None:
    code = _item(shop, method)
    rc, lc, dl, tr = _charged_transfer(shop, code)
    shop.docs.cancel(dl, BOSS)
    _cancel_all(shop, [rc, lc, tr])
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", METHODS)
def test_the_delivery_standing_the_receipt_is_refused_until_it_goes(shop: Shop, method: str
                                                                     ) -> None:
    """With the delivery not cancelled, R's 3 delivered units are gone: refused, whatever the
    pairs (the rule passes over cancelled pairs only); once it is cancelled, all goes."""
    code = _item(shop, method)
    rc, lc, dl, tr = _charged_transfer(shop, code)
    shop.docs.cancel(tr, BOSS)
    shop.docs.cancel(lc, BOSS)
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(rc, BOSS)
    assert refused.value.code in ("insufficient_stock", "reversal_impossible")
    assert shop.docs.get(rc).state == State.POSTED
    shop.docs.cancel(dl, BOSS)
    shop.docs.cancel(rc, BOSS)
    shop.assert_all_undone(code)


@pytest.mark.parametrize("method", METHODS)
def test_transfers_and_deliveries_back_dated_around_each_other(shop: Shop, method: str
                                                               ) -> None:
    code = _item(shop, method)
    posted = [shop.run("purchase_receipt", [
        Line(1, code, D(5), D("13.33"), warehouse="W1"),
        Line(2, code, D(8), D("10.00"), warehouse="W2"),
        Line(3, code, D(5), D("10.00"), warehouse="W1")], "S1", date=_day(3)).doc_id]
    posted.append(shop.run("delivery", [Line(1, code, D(1), D("20.00"), warehouse="W2")],
                           "C1", date=_day(15)).doc_id)
    posted.append(shop.run("transfer", [
        Line(1, code, D(2), D(0), warehouse="W1", to_warehouse="W2"),
        Line(2, code, D(1), D(0), warehouse="W1", to_warehouse="W2")], date=_day(9)).doc_id)
    posted.append(shop.run("delivery", [Line(1, code, D(2), D("20.00"), warehouse="W2")],
                           "C1", date=_day(10)).doc_id)
    posted.append(shop.run("transfer", [
        Line(1, code, D(3), D(0), warehouse="W1", to_warehouse="W2")], date=_day(10)).doc_id)
    shop.check_books()
    _cancel_all(shop, posted)
    shop.assert_all_undone(code)

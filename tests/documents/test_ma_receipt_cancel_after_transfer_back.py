"""Moving average and standard cost, negative stock forbidden: a receipt cancelled out of turn
after some of its units went to another warehouse and came back.

Receipt R of 7 @ 10.00 into W1; a transfer of 1 from W1 to W2 and one of 1 from W2 back to W1
(two documents, or two lines of one). Moving average and standard cost keep no layer, so R's
cancellation out of turn went through: W1 held 7 and R took them all. Then neither transfer
could ever be cancelled: the way back's cancellation needs 1 in W1 (none left), the way out's
needs 1 in W2 (where only the way back's cancellation would put one). Like a customer return
(`Documents._returns_kept`), a transfer's arrival after the line now keeps the line's
cancellation refused while that arrival would find no units to take back, so everything is
undone newest first instead. FIFO/LIFO refuse R already (its layer is not whole). An
adjustment's line in after R counts alike (below).
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
from .support import stock as _stock

D = Decimal
X = "TAVG"
METHODS = ("moving_average", "standard")


@pytest.fixture(autouse=True)
def _books_see_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, X])


def _define(shop: Shop, method: str) -> None:
    """The item under ``method`` (standard cost at 10.00, the receipts' price)."""
    shop.jxc.define_item(Item(X, X, costing_method=method,
                              standard_cost=D("10.00") if method == "standard" else None))


def _receipt(shop: Shop, qty: int, wh: str) -> str:
    return shop.run("purchase_receipt", [Line(1, X, D(qty), D("10.00"), warehouse=wh)], "S1",
                    date=_day(2)).doc_id


def _transfer(shop: Shop, *legs: tuple[str, str]) -> str:
    return shop.run("transfer", [Line(n, X, D(1), D(0), warehouse=a, to_warehouse=b)
                                 for n, (a, b) in enumerate(legs, start=1)],
                    date=_day(3)).doc_id

def _waits_then_undone(shop: Shop, held: str, stock: tuple[str, Decimal, Decimal],
                       newest_first: list[str], says: str = "") -> None:
    """``held`` cancelled out of turn is refused (its reason holding ``says``) and changes
    nothing (``stock``: warehouse, on hand, value); then ``newest_first`` cancel one by one,
    the books agreeing, to zero."""
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(held, BOSS)
    assert refused.value.code == "reversal_impossible"
    assert says in str(refused.value)
    assert _stock(shop, X, stock[0]) == stock[1:]
    for doc_id in newest_first:
        shop.docs.cancel(doc_id, BOSS)
        assert shop.docs.get(doc_id).state == State.CANCELLED
        shop.check_books()
    shop.assert_all_undone(X)



@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("one_document", [True, False])
def test_the_receipt_waits_for_the_transfer_back(shop: Shop, one_document: bool, method: str
                                                 ) -> None:
    _define(shop, method)
    r = _receipt(shop, 7, "W1")
    if one_document:
        moves = [_transfer(shop, ("W1", "W2"), ("W2", "W1"))]
    else:
        moves = [_transfer(shop, ("W1", "W2")), _transfer(shop, ("W2", "W1"))]
    _waits_then_undone(shop, r, ("W1", D(7), D("70.00")), [*reversed(moves), r],
                       f"the transfer {moves[-1]} posted after it would find no units")


@pytest.mark.parametrize("method", METHODS)
def test_an_arrival_of_other_units_does_not_hold_it(shop: Shop, method: str) -> None:
    """Receipts of 5 into W1 and 3 into W2, 1 sent from W2 to W1: the W1 receipt cancelled out
    of turn leaves the arrival's unit in W1, so it goes, and so does everything after it."""
    _define(shop, method)
    first = _receipt(shop, 5, "W1")
    second = _receipt(shop, 3, "W2")
    move = _transfer(shop, ("W2", "W1"))
    shop.docs.cancel(first, BOSS)
    assert _stock(shop, X, "W1") == (D(1), D("10.00"))
    for doc_id in (move, second):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    shop.assert_all_undone(X)


def test_a_receipt_of_two_lines_counts_both(shop: Shop) -> None:
    """Its cancellation takes both lines' units (7 + 7): each line alone would leave W1 7,
    enough for the way back; together they leave 0, so it waits for the transfer too."""
    _define(shop, "moving_average")
    r = shop.run("purchase_receipt", [Line(1, X, D(7), D("10.00"), warehouse="W1"),
                                      Line(2, X, D(7), D("8.00"), warehouse="W1")], "S1",
                 date=_day(2)).doc_id
    move = _transfer(shop, ("W1", "W2"), ("W2", "W1"))
    _waits_then_undone(shop, r, ("W1", D(14), D("126.00")), [move, r])


def test_a_count_gain_waits_for_the_transfer_back(shop: Shop) -> None:
    """Standard cost: a count gain of 1 in W2, the unit sent to W1 and back in one transfer;
    the count cancelled out of turn would take it, and the transfer could never go."""
    _define(shop, "standard")
    pc = shop.docs.submit(shop.make("stock_count", [Line(1, X, D(0), warehouse="W2")]).doc_id,
                          BOSS)
    shop.docs.record_count(pc.doc_id, {1: D(1)})
    shop.docs.approve(pc.doc_id, BOSS)
    count = shop.docs.post(pc.doc_id, BOSS).doc_id
    move = _transfer(shop, ("W2", "W1"), ("W1", "W2"))
    _waits_then_undone(shop, count, ("W2", D(1), D("10.00")), [move, count])


# -- an adjustment's line in after the receipt (其他出入库: out and in in one document) -------


def _adjustment(shop: Shop, *quantities: int) -> str:
    return shop.run("adjustment", [Line(n, X, D(q), D("11.00"), warehouse="W1")
                                   for n, q in enumerate(quantities, start=1)],
                    date=_day(3)).doc_id


@pytest.mark.parametrize("method", METHODS)
def test_the_receipt_waits_for_an_adjustment_out_and_in(shop: Shop, method: str) -> None:
    """R of 7, then an adjustment taking 1 out and bringing 2 in (W1 8). R cancelled out of
    turn took 7 of the 8, and the adjustment, cancelled last line first (its 2 out before its
    1 back), could never go (needed 2, available 1). R now waits for it."""
    _define(shop, method)
    r = _receipt(shop, 7, "W1")
    adj = _adjustment(shop, -1, 2)
    value = D("80.00") if method == "standard" else D("82.00")  # 6 @ 10.00 + 2 @ 11.00
    _waits_then_undone(shop, r, ("W1", D(8), value), [adj, r],
                       f"the adjustment {adj} posted after it would find no units")


@pytest.mark.parametrize("method", METHODS)
def test_an_adjustment_that_leaves_enough_does_not_hold_it(shop: Shop, method: str) -> None:
    """R of 7, an adjustment bringing 2 in: R cancelled out of turn leaves the 2, which its
    cancellation takes, so R goes, then the adjustment."""
    _define(shop, method)
    r = _receipt(shop, 7, "W1")
    adj = _adjustment(shop, 2)
    shop.docs.cancel(r, BOSS)
    assert _stock(shop, X, "W1")[0] == D(2)
    shop.docs.cancel(adj, BOSS)
    shop.check_books()
    shop.assert_all_undone(X)

"""A receipt cancelled out of turn for more than its own value, between a void pair.

Negative stock forbidden, moving average, one warehouse. Receipt R1 1 @ 10.00 (Mar 1),
receipt R9 3 @ 8.00 (Mar 9: 4 / 34.00, average 8.50), R1's unit returned to the supplier at
11.00 (Mar 9): it leaves at the average, 8.50 (price difference -1.50). R9 cancelled out of
turn (the return is newer): it empties the stock and takes the 25.50 left there, not its own
24.00 (price difference +1.50). Then newest first: the return's cancellation brings its unit
back at 8.50; R1's cancellation, dated Mar 1, is checked against the later entries: R9 +3,
the return -1, R9's reversal -3, the return's reversal +1. R9's line did not net to zero in
value (its reversal took more than its line), so it could not lie between the return and the
return's reversal, the pair was not passed over, the stock dipped to -1 after R9's reversal
and R1's cancellation was refused ``insufficient_stock`` although its unit was on hand.

R9's reversal took the line's units back: passed over, the pair leaves R9's units alone
there, and the replay takes them back at their own 24.00, a correction of +1.50 of R9's
reversal booked with R1's cancellation (as for a reversal that took less than its line).
FIFO and LIFO take a receipt's own layer back, so the same flow cancels there as before.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop
from .support import day as _day
from .support import receipt as _receipt
from .support import stock as _stock

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "RFIFO", "lifo": "RLIFO", "moving_average": "RAVG"}


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values()])


def _items(shop: Shop) -> None:
    for method, code in CODES.items():
        shop.jxc.define_item(Item(code, f"{method} item", costing_method=method))


def _return(shop: Shop, item: str, receipt: str, qty: int, price: str, day: int) -> str:
    return shop.run("purchase_return", [Line(1, item, D(qty), D(price), warehouse="W1",
                                             source=(receipt, 1))], "S1",
                    date=_day(day)).doc_id


def _booked(shop: Shop, doc_id: str) -> dict[str, Decimal]:
    """Net (debit - credit) per role of one posting (a document, or its ``-R``)."""
    out: dict[str, Decimal] = {}
    for r in shop.journal():
        if r.doc_id == doc_id:
            out[r.role] = out.get(r.role, D(0)) + r.debit - r.credit
    return {role: amount for role, amount in out.items() if amount}


#: per method: the cost of the return (R1's unit), and the stock left after it (3 units)
RETURN = {"fifo": (D("10.00"), D("24.00")), "lifo": (D("10.00"), D("24.00")),
          "moving_average": (D("8.50"), D("25.50"))}


def _flow(shop: Shop, x: str, method: str) -> tuple[str, str, str]:
    """R1, R9, the return of R1's unit; R9 cancelled out of turn: (R1, R9, the return)."""
    r1 = _receipt(shop, x, 1, "10.00", 1)
    assert _stock(shop, x) == (1, D("10.00"))
    r9 = _receipt(shop, x, 3, "8.00", 9)
    assert _stock(shop, x) == (4, D("34.00"))
    th = _return(shop, x, r1, 1, "11.00", 9)
    cost, left = RETURN[method]
    assert _stock(shop, x) == (3, left)
    # the return takes R1's 10.00 out of grni, its cost out of inventory
    assert _booked(shop, th) == {"grni": D("10.00"), "inventory": -cost,
                                 **({"price_difference": cost - D("10.00")}
                                    if cost != D("10.00") else {})}
    shop.check_books()
    shop.docs.cancel(r9, BOSS)  # out of turn: the return is newer
    assert _stock(shop, x) == (0, D("0.00"))
    # moving average: R9's reversal empties the stock and takes the 25.50 left there, not
    # its own 24.00
    assert _booked(shop, f"{r9}-R") == {"grni": D("24.00"), "inventory": -left,
                                        **({"price_difference": left - D("24.00")}
                                           if left != D("24.00") else {})}
    shop.check_books()
    return r1, r9, th


@pytest.mark.parametrize("method", METHODS)
def test_every_document_cancels_newest_first(shop: Shop, method: str) -> None:
    """The return's cancellation brings its unit back at what it left with, then R1 cancels
    (refused before under moving average although its unit was on hand): nothing left,
    every role nets to zero."""
    _items(shop)
    x = CODES[method]
    r1, _, th = _flow(shop, x, method)
    shop.docs.cancel(th, BOSS)
    cost, _ = RETURN[method]
    assert _stock(shop, x) == (1, cost)
    assert shop.net("inventory") == cost
    assert shop.net("grni") == D("-10.00")
    # moving average: R9's reversal's +1.50 stays (the return's -1.50 is taken back)
    assert shop.net("price_difference") == D("10.00") - cost
    shop.check_books()
    shop.docs.cancel(r1, BOSS)
    assert _stock(shop, x) == (0, D("0.00"))
    shop.assert_all_undone(x)
    shop.check_books()


def test_moving_average_the_reversal_between_is_taken_back_at_its_own_value(
        shop: Shop) -> None:
    """Figure by figure: R1's cancellation, dated Mar 1, passes over the return and its
    reversal; R9's reversal, replayed on R9's units alone, takes their own 24.00: a
    correction of +1.50 of R9's reversal, booked with R1's cancellation, which takes R1's
    10.00 back into grni, the 8.50 left in stock out of inventory and the 1.50 out of price
    difference. The return and its reversal net to zero; R9 and R1 together."""
    _items(shop)
    x = CODES["moving_average"]
    r1, r9, th = _flow(shop, x, "moving_average")
    shop.docs.cancel(th, BOSS)
    assert _booked(shop, f"{th}-R") == {"grni": D("-10.00"), "inventory": D("8.50"),
                                        "price_difference": D("1.50")}
    shop.docs.cancel(r1, BOSS)
    assert [(e.entry.kind, e.entry.doc_id, e.entry.quantity, e.entry.value)
            for e in shop.jxc.ledger(x, "W1") if e.entry.doc_id.endswith("-R")] == [
        ("receipt_reversal", f"{r1}-R", -1, D("-10.00")),
        ("receipt_reversal", f"{r9}-R", -3, D("-25.50")),
        ("return_reversal", f"{th}-R", 1, D("8.50")),
        ("cost_backdating", f"{r9}-R", 0, D("1.50"))]
    assert _booked(shop, f"{r1}-R") == {"grni": D("10.00"), "inventory": D("-8.50"),
                                        "price_difference": D("-1.50")}
    assert shop.roles(th) == {"grni": 0, "inventory": 0, "price_difference": 0}
    assert shop.roles(r9) == {"grni": 0, "inventory": D("-1.50"),
                              "price_difference": D("1.50")}
    assert shop.roles(r1) == {"grni": 0, "inventory": D("1.50"),
                              "price_difference": D("-1.50")}
    assert _stock(shop, x) == (0, D("0.00"))
    shop.assert_all_undone(x)
    shop.check_books()


#: per method, a receipt R5 1 @ 12.00 dated Mar 5 (back-dated, between R1 and R9) posted
#: after the flow, the return cancelled before it or not: the stock after each step, newest
#: first after R5, and the price difference then
BACK_DATED = {
    ("fifo", True): [(2, "22.00", "0"), (1, "10.00", "0"), (0, "0.00", "0")],
    ("lifo", True): [(2, "22.00", "0"), (1, "10.00", "0"), (0, "0.00", "0")],
    # R5's cancellation passes over the pair too: R9's reversal takes its own 24.00 (a
    # correction of +1.50), R1's unit left at its own 10.00 (before: 8.50, R1 refused)
    ("moving_average", True): [(2, "22.00", "0"), (1, "10.00", "0"), (0, "0.00", "0")],
    ("fifo", False): [(1, "12.00", "0"), (0, "0.00", "0"), (1, "10.00", "0"),
                      (0, "0.00", "0")],
    ("lifo", False): [(1, "12.00", "0"), (0, "0.00", "0"), (1, "10.00", "0"),
                      (0, "0.00", "0")],
    # R5 replays the return at the average with R5's unit (9.20) and R9's reversal then
    # takes its own 24.00, leaving R5's unit at 12.80 (price difference -0.80)
    ("moving_average", False): [(1, "12.80", "-0.80"), (0, "0.00", "0"), (1, "8.50", "1.50"),
                                (0, "0.00", "0")],
}


@pytest.mark.parametrize("return_cancelled", [True, False], ids=["return_cancelled", "not"])
@pytest.mark.parametrize("method", METHODS)
def test_a_back_dated_receipt_between_then_every_document_cancels(
        shop: Shop, method: str, return_cancelled: bool) -> None:
    """The flow, the return cancelled or not, then R5 1 @ 12.00 dated Mar 5: newest first R5,
    the return (when still posted), R1 all cancel (moving average: R1 refused before
    ``insufficient_stock`` either way), the stock exact after each, every role at zero."""
    _items(shop)
    x = CODES[method]
    r1, _, th = _flow(shop, x, method)
    if return_cancelled:
        shop.docs.cancel(th, BOSS)
    r5 = _receipt(shop, x, 1, "12.00", 5)
    steps = [r5, r1] if return_cancelled else [r5, th, r1]
    expected = BACK_DATED[(method, return_cancelled)]
    for doc, (qty, value, difference) in zip([None, *steps], expected, strict=True):
        if doc is not None:
            shop.docs.cancel(doc, BOSS)
        assert _stock(shop, x) == (qty, D(value)), doc
        assert shop.net("price_difference") == D(difference), doc
        shop.check_books()
    shop.assert_all_undone(x)

"""A receipt cost's share carried by a transfer whose arrival settled a shortage, cancelled
after the transfer (negative stock allowed, two warehouses).

D delivers 3 from W2 (short, estimate 0.00, day 2); R receives 4 @ 10.00 into W1 (day 4); C adds
3.00 to R (a landed cost split by quantity, or a purchase invoice at 10.75 a unit: day 5); T
sends 3 (or 2) from W1 to W2 (day 6), its arrival settling D's shortage at 10.75 a unit, so
the receipt cost's share goes with the units to cost of goods sold there. Then every document
is cancelled newest first.

T's cancellation opens D's shortage again and takes back the units at what they settled it
with (W1 4 / 43.00). C's cancellation replays W1 from its day; under moving average it re-costs
the cancelled transfer (at 10.00 a unit) and carries the difference to T's units in W2, where
they had settled D's shortage: their issued share, to cost of goods sold. T's cancellation,
replayed there, opened the shortage again taking back only the settlement as recorded, so the
difference stayed in cost of goods sold instead of coming back with the units: W1 ended at
42.25 and, once R and D were cancelled, cost of goods sold at -2.25 and price difference at
+2.25 (every warehouse 0 / 0.00). A replay that carries such a change to an arrival's units
that settled shortages now has the arrival's cancellation, opening them again, take it back
with the units (out of cost of goods sold, where it went), so the source gets it back with
them, as FIFO and LIFO end.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, day
from .support import delivery as _delivery
from .support import landed_cost as _landed
from .support import receipt as _receipt
from .support import stock as _stock
from .support import transfer as _transfer

D = Decimal
METHODS = ("fifo", "lifo", "moving_average")
CODES = {"fifo": "SAFIFO", "lifo": "SALIFO", "moving_average": "SAAVG"}
#: the second item of the two-line receipt
OTHER = "SAOTHER"

#: (W1 on hand, W1 value, W2 on hand, W2 value, every role not at zero)
Step = tuple[int, str, int, str, dict[str, str]]


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *CODES.values(), OTHER])


def _item(shop: Shop, method: str) -> str:
    for m, code in CODES.items():  # all of them: ``Shop.check_books`` reads each
        shop.jxc.define_item(Item(code, f"{m} item", costing_method=m, allow_negative=True))
    shop.jxc.define_item(Item(OTHER, "other item", costing_method=method,
                              allow_negative=True))
    return CODES[method]


def _roles(shop: Shop) -> dict[str, Decimal]:
    return {r: shop.net(r) for r in sorted({x.role for x in shop.journal()}) if shop.net(r)}


def _check(shop: Shop, x: str, step: Step) -> None:
    w1q, w1v, w2q, w2v, roles = step
    assert (_stock(shop, x), _stock(shop, x, "W2")) == ((D(w1q), D(w1v)), (D(w2q), D(w2v)))
    assert _roles(shop) == {r: D(v) for r, v in roles.items()}
    shop.check_books()


def _undo(shop: Shop, x: str, docs: list[str], steps: list[Step]) -> None:
    """Cancel ``docs`` in turn, each leaving the stock and roles of its step."""
    for doc, step in zip(docs, steps, strict=True):
        shop.docs.cancel(doc, BOSS)
        _check(shop, x, step)
    shop.assert_all_undone(x)


#: (D's units, T's units, after posting, after cancelling T, C, R and D in turn). Moving
#: average before the rule: W1 4 / 42.25 after C and cost of goods sold -2.25 from there on
#: (price difference +2.25 after R); -1.50 when T sends 2 of the 4 (W2 stays 1 short); -0.75
#: when D delivers 1 only (T's 3 units settle it with one and stay on hand with two).
SHAPES: dict[str, tuple[int, int, Step, list[Step]]] = {
    "landed cost cancelled after the transfer": (3, 3, (1, "10.75", 0, "0.00", {
        "cogs": "32.25", "grni": "-40.00", "inventory": "10.75", "payable": "-3.00"}), [
        (4, "43.00", -3, "0.00", {"grni": "-40.00", "inventory": "43.00", "payable": "-3.00"}),
        (4, "40.00", -3, "0.00", {"grni": "-40.00", "inventory": "40.00"}),
        (0, "0.00", -3, "0.00", {}),
        (0, "0.00", 0, "0.00", {})]),
    "part of the receipt transferred": (3, 2, (2, "21.50", -1, "0.00", {
        "cogs": "21.50", "grni": "-40.00", "inventory": "21.50", "payable": "-3.00"}), [
        (4, "43.00", -3, "0.00", {"grni": "-40.00", "inventory": "43.00", "payable": "-3.00"}),
        (4, "40.00", -3, "0.00", {"grni": "-40.00", "inventory": "40.00"}),
        (0, "0.00", -3, "0.00", {}),
        (0, "0.00", 0, "0.00", {})]),
    "part of the units settle the shortage": (1, 3, (1, "10.75", 2, "21.50", {
        "cogs": "10.75", "grni": "-40.00", "inventory": "32.25", "payable": "-3.00"}), [
        (4, "43.00", -1, "0.00", {"grni": "-40.00", "inventory": "43.00", "payable": "-3.00"}),
        (4, "40.00", -1, "0.00", {"grni": "-40.00", "inventory": "40.00"}),
        (0, "0.00", -1, "0.00", {}),
        (0, "0.00", 0, "0.00", {})]),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("method", METHODS)
def test_the_carried_share_goes_back_with_the_units(shop: Shop, method: str,
                                                    shape: str) -> None:
    delivered, sent, posted, steps = SHAPES[shape]
    x = _item(shop, method)
    d = _delivery(shop, x, delivered, 2, "W2")
    r = _receipt(shop, x, 4, "10.00", 4)
    c = _landed(shop, r, "3.00", 5)
    t = _transfer(shop, x, sent, 6)
    _check(shop, x, posted)
    _undo(shop, x, [t, c, r, d], steps)


@pytest.mark.parametrize("method", METHODS)
def test_landed_cost_on_a_two_line_receipt(shop: Shop, method: str) -> None:
    """R also receives 2 @ 5.00 of another item into W1: C gives 2.00 to the 4 units (10.50
    a unit) and 1.00 to the other line. T, C, R and D cancel in turn: W1 4 / 42.00, 4 / 40.00,
    0 / 0.00, the other item 2 / 11.00, 2 / 10.00, 0 / 0.00 (moving average: 4 / 41.50 after
    C, cost of goods sold -1.50)."""
    x = _item(shop, method)
    d = _delivery(shop, x, 3, 2, "W2")
    r = shop.run("purchase_receipt", [
        Line(1, x, D(4), D("10.00"), warehouse="W1"),
        Line(2, OTHER, D(2), D("5.00"), warehouse="W1")], "S1", date=day(4)).doc_id
    c = _landed(shop, r, "3.00", 5)
    t = _transfer(shop, x, 3, 6)
    _check(shop, x, (1, "10.50", 0, "0.00", {
        "cogs": "31.50", "grni": "-50.00", "inventory": "21.50", "payable": "-3.00"}))
    _undo(shop, x, [t, c, r, d], [
        (4, "42.00", -3, "0.00", {"grni": "-50.00", "inventory": "53.00", "payable": "-3.00"}),
        (4, "40.00", -3, "0.00", {"grni": "-50.00", "inventory": "50.00"}),
        (0, "0.00", -3, "0.00", {}),
        (0, "0.00", 0, "0.00", {}),
    ])
    assert _stock(shop, OTHER) == (D(0), D("0.00"))


@pytest.mark.parametrize("method", METHODS)
def test_invoice_price_difference_cancelled_after_the_transfer(shop: Shop,
                                                               method: str) -> None:
    """C is a purchase invoice of the 4 units at 10.75 (3.00 over the receipt): T, C, R and D
    cancel in turn: W1 4 / 43.00, 4 / 40.00, 0 / 0.00, nothing in cost of goods sold after T
    (moving average: 4 / 42.25 after C, cost of goods sold -2.25, price difference +2.25)."""
    x = _item(shop, method)
    d = _delivery(shop, x, 3, 2, "W2")
    r = _receipt(shop, x, 4, "10.00", 4)
    c = shop.run("purchase_invoice", [Line(1, x, D(4), D("10.75"), source=(r, 1))], "S1",
                 date=day(5)).doc_id
    t = _transfer(shop, x, 3, 6)
    _check(shop, x, (1, "10.75", 0, "0.00", {
        "cogs": "32.25", "inventory": "10.75", "payable": "-43.00"}))
    _undo(shop, x, [t, c, r, d], [
        (4, "43.00", -3, "0.00", {"inventory": "43.00", "payable": "-43.00"}),
        (4, "40.00", -3, "0.00", {"grni": "-40.00", "inventory": "40.00"}),
        (0, "0.00", -3, "0.00", {}),
        (0, "0.00", 0, "0.00", {}),
    ])

"""Back-dated documents after a receipt cost (landed cost, purchase invoice price difference).

A receipt cost is split when it is applied: the share of the receipt's units on hand raises
their layers, the share of the units already issued goes to cost of goods sold. A movement
back-dated before it changes which units were on hand then: the cost is split again on the
stock as it stood, and the change of the on-hand share is booked as a ``cost_backdating``
entry (Dr inventory / Cr COGS, or the reverse). Stock value + COGS stays equal to everything
received plus the receipt costs; the books still balance and 1405 equals the valuation.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc
from jxc_core.services import jxc as jxc_module

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal


def on(day: int) -> dt.date:
    """A February date, before the ticking clock's March: documents dated so are back-dated
    once anything later was posted."""
    return dt.date(2026, 2, day)


def receipt(shop: Shop, item: str, qty: int, price: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, item, D(qty), D(price), warehouse="W1")],
                    "S1", date=on(day)).doc_id


def issue(shop: Shop, item: str, qty: int, day: int) -> str:
    """A delivery (its cost goes to COGS)."""
    return shop.run("delivery", [Line(1, item, D(qty), D("30.00"), warehouse="W1")], "C1",
                    date=on(day)).doc_id


def landed(shop: Shop, receipt_id: str, amount: str, day: int | None = None) -> str:
    """A landed cost on one receipt, today (March) or dated ``day`` of February."""
    return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                    attributes={"receipts": [receipt_id], "basis": "quantity"},
                    date=None if day is None else on(day)).doc_id


def backdating_rows(shop: Shop, item: str) -> list[tuple[str, Decimal]]:
    return [(line.entry.doc_id, line.entry.value) for line in shop.jxc.ledger(item, "W1")
            if line.entry.kind == "cost_backdating"]


#: (case, item, steps, on hand, value, COGS, back-dating entries as (doc, value))
#: steps: ("in", qty, price, day) | ("out", qty, day) | ("landed", amount) on the first
#: receipt | ("invoice", price) for the first receipt; the last step is the back-dated one
CASES = [
    # FIFO: the back-dated issue takes R1's other 5 before the landed cost: none of R1 is on
    # hand when it arrives, so all 20.00 of it is cost of goods sold (10.00 more)
    ("fifo, issue before", "A", [("in", 10, "10.00", 20), ("in", 10, "20.00", 21),
                                 ("out", 5, 23), ("landed", "20.00"), ("out", 5, 22)],
     D(10), D("200.00"), D("120.00"), [("landed", D("-10.00"))]),
    # FIFO: a back-dated older receipt takes the issue: all of R1 is on hand when the
    # landed cost arrives (10.00 more kept), and the issue costs 30.00 less
    ("fifo, receipt before", "A", [("in", 10, "10.00", 20), ("out", 5, 23),
                                   ("landed", "20.00"), ("in", 10, "4.00", 19)],
     D(15), D("140.00"), D("20.00"), [("out", D("30.00")), ("landed", D("10.00"))]),
    # moving average: the pool is empty when the landed cost arrives after the back-dated
    # issue: all of it is cost of goods sold
    ("moving average, issue before", "B", [("in", 10, "10.00", 20), ("out", 5, 23),
                                           ("landed", "20.00"), ("out", 5, 21)],
     D(0), D("0.00"), D("120.00"), [("landed", D("-10.00"))]),
    # a purchase invoice 2.00 dearer than the receipt: the same split, the same re-split
    ("fifo, invoice difference", "C", [("in", 10, "10.00", 20), ("out", 5, 23),
                                       ("invoice", "12.00"), ("out", 5, 21)],
     D(0), D("0.00"), D("120.00"), [("invoice", D("-10.00"))]),
]


@pytest.mark.parametrize(("case", "item", "steps", "qty", "value", "cogs", "rows"), CASES,
                         ids=[c[0] for c in CASES])
def test_backdated_movement_splits_the_receipt_cost_again(
        shop: Shop, case: str, item: str, steps: list[tuple[object, ...]], qty: Decimal,
        value: Decimal, cogs: Decimal, rows: list[tuple[str, Decimal]]) -> None:
    first = ""
    names: dict[str, str] = {}
    received = D(0)
    for step in steps:
        kind = step[0]
        if kind == "in":
            _, q, price, day = step
            doc = receipt(shop, item, int(str(q)), str(price), int(str(day)))
            first = first or doc
            received += D(int(str(q))) * D(str(price))
        elif kind == "out":
            _, q, day = step
            names[issue(shop, item, int(str(q)), int(str(day)))] = "out"
        elif kind == "landed":
            names[landed(shop, first, str(step[1]))] = "landed"
            received += D(str(step[1]))
        else:  # a purchase invoice of the whole first receipt at another price
            inv = shop.run("purchase_invoice", [Line(1, item, D(10), D(str(step[1])),
                                                     source=(first, 1))], "S1")
            names[inv.doc_id] = "invoice"
            received += D(10) * D(str(step[1])) - D(100)
    assert (shop.qty(item), shop.value(item)) == (qty, value)
    assert shop.net("cogs") == cogs
    assert shop.value(item) + shop.net("cogs") == received  # nothing made or lost
    assert sorted((names[d], v) for d, v in backdating_rows(shop, item)) == sorted(rows)
    shop.check_books()


def test_a_receipt_cost_of_an_earlier_version_still_refuses_back_dating(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """A landed cost written without its recorded amount (by an earlier version) cannot be
    split again: a movement back-dated before it is refused, and writes nothing."""
    r1 = receipt(shop, "A", 10, "10.00", 20)
    issue(shop, "A", 5, 23)
    monkeypatch.setattr(jxc_module, "_RECEIPT_COST", "not_recorded")
    landed(shop, r1, "20.00")
    monkeypatch.undo()
    late = shop.approved("delivery", [Line(1, "A", D(1), D("30.00"), warehouse="W1")], "C1",
                         date=on(22))
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(late, BOSS)
    assert err.value.code == "backdated_posting"
    assert shop.snapshot() == before
    # a movement after the landed cost is fine
    shop.run("adjustment", [Line(1, "A", D(-1), warehouse="W1")])
    assert shop.qty("A") == D(4)
    shop.check_books()


steps = st.lists(st.one_of(
    st.tuples(st.just("in"), st.sampled_from(["A", "B"]), st.integers(1, 20),
              st.integers(100, 5000), st.integers(1, 27)),
    st.tuples(st.just("out"), st.sampled_from(["A", "B"]), st.integers(1, 20),
              st.integers(1, 27)),
    st.tuples(st.just("landed"), st.integers(0, 10), st.integers(1, 9000),
              st.none() | st.integers(1, 27)),
), min_size=1, max_size=14)


@settings(max_examples=int(os.environ.get("JXC_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=steps)
def test_receipt_costs_and_back_dating_keep_the_books(flow: list[tuple[Any, ...]]) -> None:
    """Receipts and deliveries dated in any order of February, landed costs on earlier
    receipts now or dated in February too: the books balance, 1405 equals the valuation, and
    stock value + COGS is everything received plus every landed cost (a refused document adds
    nothing: a delivery short of stock, a landed cost dated before its receipt)."""
    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    receipts: list[tuple[str, int]] = []  # (document, day)
    received = D(0)
    for step in flow:
        if step[0] == "in":
            _, item, q, cents, day = step
            price = D(cents).scaleb(-2)
            receipts.append((receipt(shop, item, q, str(price), day), day))
            received += q * price
        elif step[0] == "out":
            _, item, q, day = step
            try:
                issue(shop, item, q, day)
            except JxcError as err:
                assert err.code == "insufficient_stock"
        elif receipts:
            _, k, cents, day = step
            amount = D(cents).scaleb(-2)
            doc_id, rday = receipts[k % len(receipts)]
            try:
                landed(shop, doc_id, str(amount), day)
            except JxcError as err:  # only a date before the receipt itself is refused
                assert err.code == "backdated_posting"
                assert day is not None and day < rday
            else:
                assert day is None or day >= rday
                received += amount
        shop.check_books()
    assert shop.value("A") + shop.value("B") + shop.net("cogs") == received


#: (case, item, the receipt cost: "landed" or "invoice", COGS of the delivery after it)
LATE = [("fifo, landed cost", "A", "landed"), ("moving average, landed cost", "B", "landed"),
        ("fifo, invoice", "C", "invoice")]


@pytest.mark.parametrize(("case", "item", "how"), LATE, ids=[c[0] for c in LATE])
def test_a_receipt_cost_dated_before_later_issues_reaches_them(
        shop: Shop, case: str, item: str, how: str) -> None:
    """A late invoice (or landed cost) dated between the receipt and a delivery: at its date
    all 10 units were on hand, so all 20.00 is kept; the delivery of 4 that followed took
    units at 12.00, not 10.00: 8.00 more cost of goods sold (a cost_backdating entry naming
    the delivery). Cancelling it takes all of that back."""
    r1 = receipt(shop, item, 10, "10.00", 20)
    ck = issue(shop, item, 4, 25)
    if how == "landed":
        doc = landed(shop, r1, "20.00", 22)
    else:
        doc = shop.run("purchase_invoice", [Line(1, item, D(10), D("12.00"), source=(r1, 1))],
                       "S1", date=on(22)).doc_id
    assert (shop.qty(item), shop.value(item)) == (D(6), D("72.00"))
    assert shop.net("cogs") == D("48.00")
    assert backdating_rows(shop, item) == [(ck, D("-8.00"))]
    assert shop.net("cogs", doc) == D("8.00")  # booked by the receipt cost's document
    shop.check_books()
    shop.docs.cancel(doc, BOSS)
    assert (shop.qty(item), shop.value(item)) == (D(6), D("60.00"))
    assert shop.net("cogs") == D("40.00")
    shop.check_books()


def test_a_receipt_cost_dated_before_its_receipt_is_refused(shop: Shop) -> None:
    r1 = receipt(shop, "A", 10, "10.00", 20)
    issue(shop, "A", 4, 25)
    lc = shop.approved("landed_cost", [Line(1, "freight", D(1), D("20.00"))], "S1",
                       attributes={"receipts": [r1], "basis": "quantity"}, date=on(19))
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(lc, BOSS)
    assert err.value.code == "backdated_posting"
    assert shop.snapshot() == before


def test_a_back_dated_receipt_re_costing_a_supplier_return_books_its_price_difference(
        shop: Shop) -> None:
    """Moving average: a return to the supplier leaves at the average, the difference to the
    supplier's price on its price difference line (DOMAIN 2). A receipt back-dated before it
    raises the average it left at (15.00 -> 23.33): the 41.67 more it removed is price
    difference too — nothing was sold, so none of it is cost of goods sold."""
    receipt(shop, "B", 10, "10.00", 5)
    second = receipt(shop, "B", 10, "20.00", 6)
    back = shop.run("purchase_return", [Line(1, "B", D(5), D("20.00"), warehouse="W1",
                                             source=(second, 1))], "S1", date=on(8)).doc_id
    assert shop.roles(back) == {"grni": D("100.00"), "inventory": D("-75.00"),
                                "price_difference": D("-25.00")}
    late = receipt(shop, "B", 10, "40.00", 1)
    assert shop.roles(late) == {"inventory": D("400.00") - D("41.67"), "grni": D("-400.00"),
                                "price_difference": D("41.67")}
    assert (shop.net("cogs"), shop.net("price_difference")) == (D(0), D("16.67"))
    shop.check_books()


def _lot_item(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> str:
    """A specific-lot item (its receipt cost ref is the lot code), seen by ``check_books``."""
    from jxc_core.stock import Item

    from . import support
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "LOT"])
    shop.jxc.define_item(Item("LOT", "lot item", costing_method="specific_lot",
                              lot_tracked=True))
    return "LOT"


def _lot_receipt(shop: Shop, item: str, qty: int, price: str, lot: str, day: int) -> str:
    return shop.run("purchase_receipt", [Line(1, item, D(qty), D(price), warehouse="W1",
                                              lot=lot)], "S1", date=on(day)).doc_id


def test_a_lot_receipt_cost_is_not_refused_by_a_later_receipt_of_the_same_lot(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under specific identification the receipt cost names the lot: a later receipt of the
    same lot by another document does not date the cost before its own receipt. A landed
    cost dated between the two receipts posts, and its cancellation (dated at it) goes
    through and nets to zero; one dated before the lot's first receipt is still refused."""
    x = _lot_item(shop, monkeypatch)
    r1 = _lot_receipt(shop, x, 10, "10.00", "L1", 20)
    lc = landed(shop, r1, "20.00", 21)
    r2 = _lot_receipt(shop, x, 5, "12.00", "L1", 22)
    late = landed(shop, r1, "10.00", 21)  # dated before R2 received L1 again: accepted
    assert (shop.qty(x), shop.value(x)) == (D(15), D("190.00"))
    shop.check_books()
    shop.docs.cancel(late, BOSS)
    shop.docs.cancel(lc, BOSS)  # refused before: "dated before its receipt L1"
    assert (shop.qty(x), shop.value(x)) == (D(15), D("160.00"))
    for doc in (late, lc):
        assert {k: v for k, v in shop.roles(doc).items() if v} == {}
    shop.check_books()
    early = shop.approved("landed_cost", [Line(1, "freight", D(1), D("5.00"))], "S1",
                          attributes={"receipts": [r2], "basis": "quantity"}, date=on(19))
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:  # before any receipt of L1: still refused
        shop.docs.post(early, BOSS)
    assert err.value.code == "backdated_posting"
    assert shop.snapshot() == before

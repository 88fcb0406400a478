"""A receipt cost — a landed cost, a purchase invoice's price difference — posted after
transfers took some of the receipt's units to another warehouse (DOMAIN 2, "Landed costs").

The share of the units still on hand raises their value *where they are now*: a transfer's
units carry their share to the warehouse they reached (and on along a chain, through an
in-transit warehouse, or back); only the share of units issued since (from wherever they
were) goes to cost of goods sold. Every row is dated at the charge. Cancelling the charge
takes back exactly what it put where.

Every scenario: 10 units received at 10.00 into W1 (100.00), moved, then a charge of 50.00 on
them (5.00 a unit): a landed cost of 50.00, or an invoice of the 10 units at 15.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line, State
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
METHODS = {"fifo": "A", "moving_average": "B", "lifo": "L"}
WAREHOUSES = ("W1", "W2", "W3", "WT")

#: name -> (moves before the charge: (kind, quantity, from, to); stock after the charge
#: (warehouse -> units, value); cost of goods sold after it; the same two without the charge)
SCENARIOS: dict[str, tuple[list[tuple[str, int, str, str]], dict[str, tuple[int, str]], str,
                           dict[str, tuple[int, str]], str]] = {
    "all_on_hand_in_w2": (
        [("transfer", 4, "W1", "W2")],
        {"W1": (6, "90.00"), "W2": (4, "60.00")}, "0.00",
        {"W1": (6, "60.00"), "W2": (4, "40.00")}, "0.00"),
    "half_issued_from_w2": (
        [("transfer", 4, "W1", "W2"), ("delivery", 2, "W2", "")],
        {"W1": (6, "90.00"), "W2": (2, "30.00")}, "30.00",
        {"W1": (6, "60.00"), "W2": (2, "20.00")}, "20.00"),
    "transferred_back": (
        [("transfer", 4, "W1", "W2"), ("transfer", 4, "W2", "W1")],
        {"W1": (10, "150.00"), "W2": (0, "0.00")}, "0.00",
        {"W1": (10, "100.00"), "W2": (0, "0.00")}, "0.00"),
    "chain": (
        [("transfer", 4, "W1", "W2"), ("transfer", 3, "W2", "W3")],
        {"W1": (6, "90.00"), "W2": (1, "15.00"), "W3": (3, "45.00")}, "0.00",
        {"W1": (6, "60.00"), "W2": (1, "10.00"), "W3": (3, "30.00")}, "0.00"),
    "chain_issued_at_the_end": (
        [("transfer", 4, "W1", "W2"), ("transfer", 3, "W2", "W3"), ("delivery", 1, "W3", "")],
        {"W1": (6, "90.00"), "W2": (1, "15.00"), "W3": (2, "30.00")}, "15.00",
        {"W1": (6, "60.00"), "W2": (1, "10.00"), "W3": (2, "20.00")}, "10.00"),
    "through_in_transit": (
        [("transfer", 4, "W1", "WT"), ("transfer", 4, "WT", "W2")],
        {"W1": (6, "90.00"), "WT": (0, "0.00"), "W2": (4, "60.00")}, "0.00",
        {"W1": (6, "60.00"), "WT": (0, "0.00"), "W2": (4, "40.00")}, "0.00"),
    "transfer_cancelled": (  # its units came back: their share stays in W1
        [("transfer", 4, "W1", "W2"), ("delivery", 1, "W1", ""), ("cancel", 0, "", "")],
        {"W1": (9, "135.00"), "W2": (0, "0.00")}, "15.00",
        {"W1": (9, "90.00"), "W2": (0, "0.00")}, "10.00"),
}


def _setup(shop: Shop) -> None:
    shop.jxc.define_item(Item("L", "lamp", costing_method="lifo"))
    shop.jxc.define_warehouse(Warehouse("W3", "third"))
    shop.jxc.define_warehouse(Warehouse("WT", "on the road", in_transit=True))


def _charge(shop: Shop, charge: str, item: str, receipt: str) -> str:
    if charge == "landed_cost":
        return shop.run("landed_cost", [Line(1, "freight", D(1), D("50.00"))], "S1",
                        attributes={"receipts": [receipt], "basis": "quantity"}).doc_id
    return shop.run("purchase_invoice", [Line(1, item, D(10), D("15"), source=(receipt, 1))],
                    "S1").doc_id


def _moves(shop: Shop, item: str, moves: list[tuple[str, int, str, str]]) -> None:
    first = ""
    for kind, q, src, dst in moves:
        if kind == "transfer":
            doc = shop.run("transfer", [Line(1, item, D(q), D(0), warehouse=src,
                                             to_warehouse=dst)]).doc_id
            first = first or doc
        elif kind == "delivery":
            shop.run("delivery", [Line(1, item, D(q), D("30"), warehouse=src)], "C1")
        else:
            shop.docs.cancel(first, BOSS)


def _stock(shop: Shop, item: str) -> dict[str, tuple[int, str]]:
    out = {}
    for wh in WAREHOUSES:
        b = shop.jxc.balance(item, wh)
        out[wh] = (int(b.on_hand), str(b.value))
    return out


def _check_books(shop: Shop) -> None:
    """Balanced postings; 1405 equals the stock valuation (every item and warehouse, those
    of this module too); on hand equals the ledger, no value without units."""
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    assert shop.net("inventory") == sum((b.value for b in shop.jxc.stock_balances()), D(0))
    for item in METHODS.values():
        for wh in WAREHOUSES:
            b = shop.jxc.balance(item, wh)
            assert b.on_hand == sum((x.entry.quantity for x in shop.jxc.ledger(item, wh)), D(0))
            assert b.on_hand or not b.value


def _roles(shop: Shop) -> dict[str, Decimal]:
    roles: dict[str, Decimal] = {}
    for r in shop.journal():
        roles[r.role] = roles.get(r.role, D(0)) + r.debit - r.credit
    return {k: v for k, v in roles.items() if v}


@pytest.mark.parametrize("charge", ["landed_cost", "invoice"])
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_share_of_transferred_units_goes_where_they_are(
        shop: Shop, scenario: str, method: str, charge: str) -> None:
    _setup(shop)
    item = METHODS[method]
    moves, after, cogs, without, cogs_without = SCENARIOS[scenario]
    rk = shop.run("purchase_receipt", [Line(1, item, D(10), D("10"), warehouse="W1")],
                  "S1").doc_id
    _moves(shop, item, moves)
    before = _roles(shop)
    lc = _charge(shop, charge, item, rk)
    stock = _stock(shop, item)
    for wh, figures in after.items():
        assert stock[wh] == figures, (wh, stock)
    assert shop.net("cogs") == D(cogs)
    assert shop.net("inventory", lc) == D("50.00") - (D(cogs) - D(cogs_without))
    _check_books(shop)
    # cancelled: every warehouse and every role as without the charge
    assert shop.docs.cancel(lc, BOSS).state == State.CANCELLED
    stock = _stock(shop, item)
    for wh, figures in without.items():
        assert stock[wh] == figures, (wh, stock)
    assert shop.net("cogs") == D(cogs_without)
    assert _roles(shop) == before
    _check_books(shop)


def test_the_share_sent_on_is_dated_at_the_charge_not_in_a_closed_month() -> None:
    """Transfer in March, March closed, the landed cost in April: the share of the
    transferred units raises W2 by rows dated in April (nothing written into March), and
    its cancellation takes it back there, in April too."""
    clock = TickingClock(dt.datetime(2026, 3, 20, 9, 0))
    j = Jxc(MemoryStorage(), clock=clock)
    setup_master(j)
    shop = Shop(j, Documents(j))
    rk = shop.run("purchase_receipt", [Line(1, "A", D(10), D("10"), warehouse="W1")],
                  "S1").doc_id
    shop.run("transfer", [Line(1, "A", D(4), D(0), warehouse="W1", to_warehouse="W2")])
    Accounting(j).close_period(2026, 3)
    clock.at = dt.datetime(2026, 4, 3, 9, 0)
    lc = _charge(shop, "landed_cost", "A", rk)
    rows = shop.rows_of(lc)
    assert {r.date for r in rows} == {"2026-04-03"}
    assert shop.net("inventory", lc) == D("50.00")
    assert (j.balance("A", "W2").value, j.balance("A", "W1").value) == (D("60.00"), D("90.00"))
    sent = [e for e in j.ledger("A", "W2") if e.entry.kind == "landed_cost"]
    assert [(e.entry.value, e.entry.posted_at.date()) for e in sent] == [
        (D("20.00"), dt.date(2026, 4, 3))]
    shop.check_books()
    shop.docs.cancel(lc, BOSS)
    assert {r.date for r in shop.rows_of(f"{lc}-R")} == {"2026-04-03"}
    assert (j.balance("A", "W2").value, j.balance("A", "W1").value) == (D("40.00"), D("60.00"))
    assert shop.net("cogs") == 0
    shop.check_books()


#: method -> (W1, W2, COGS) after the charge, after a back-dated delivery, after the
#: cancellation (as without the charge: the same figures with nothing charged)
BACKDATED = {
    "fifo": (("190.00", "45.00", "15.00"), ("145.00", "45.00", "60.00"),
             ("130.00", "30.00", "40.00")),
    "moving_average": (("176.67", "55.00", "18.33"), ("121.67", "55.00", "73.33"),
                       ("106.67", "40.00", "53.33")),
    "lifo": (("170.00", "60.00", "20.00"), ("120.00", "45.00", "85.00"),
             ("80.00", "45.00", "75.00")),
}


@pytest.mark.parametrize("method", list(METHODS))
def test_a_back_dated_delivery_then_the_cancellation_mirrors_the_charge(
        shop: Shop, method: str) -> None:
    """10 @ 10.00 ("R") and 5 @ 20.00 into W1, 4 transferred to W2 and 1 of them delivered
    there, then a landed cost of 50.00 on R: the share of R's units in W2 goes there. A
    delivery of 3 from W1 dated before the transfer splits W1's part again (the share sent on
    stays as applied); the cancellation then takes back exactly what the charge put where,
    leaving every warehouse and role as without it."""
    _setup(shop)
    item = METHODS[method]
    day = dt.date(2026, 2, 20)
    rk = shop.run("purchase_receipt", [Line(1, item, D(10), D("10"), warehouse="W1")],
                  "S1", date=day).doc_id
    shop.run("purchase_receipt", [Line(1, item, D(5), D("20"), warehouse="W1")], "S1",
             date=day)
    later = day + dt.timedelta(days=2)
    shop.run("transfer", [Line(1, item, D(4), D(0), warehouse="W1", to_warehouse="W2")],
             date=later)
    shop.run("delivery", [Line(1, item, D(1), D("30"), warehouse="W2")], "C1", date=later)
    lc = _charge(shop, "landed_cost", item, rk)

    def figures() -> tuple[str, str, str]:
        return (str(shop.jxc.balance(item, "W1").value), str(shop.jxc.balance(item, "W2").value),
                str(shop.net("cogs")))

    after, backdated, cancelled = BACKDATED[method]
    assert figures() == after
    shop.run("delivery", [Line(1, item, D(3), D("30"), warehouse="W1")], "C1",
             date=day + dt.timedelta(days=1))
    assert figures() == backdated
    _check_books(shop)
    shop.docs.cancel(lc, BOSS)
    assert figures() == cancelled
    assert shop.net("payable") == 0
    _check_books(shop)

"""Charges (a landed cost, an invoice's price difference) sent on with transferred units
(DOMAIN 2, "Landed costs"), with transfers and the charge cancelled around them (DOMAIN 5):
every warehouse and role ends as without the charge, and the receipt can still be
cancelled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.stock import Item, Warehouse

from .support import BOSS, Shop

D = Decimal
METHODS = {"fifo": "A", "moving_average": "B", "lifo": "L"}


def _setup(shop: Shop) -> None:
    shop.jxc.define_item(Item("L", "lamp", costing_method="lifo"))
    shop.jxc.define_warehouse(Warehouse("W3", "third"))
    shop.jxc.define_warehouse(Warehouse("WT", "on the road", in_transit=True))


def _receipt(shop: Shop, item: str, qty: int, price: str, **kw: object) -> str:
    return shop.run("purchase_receipt", [Line(1, item, D(qty), D(price), warehouse="W1")],
                    "S1", **kw).doc_id


def _transfer(shop: Shop, item: str, qty: int, src: str, dst: str) -> str:
    return shop.run("transfer", [Line(1, item, D(qty), D(0), warehouse=src,
                                      to_warehouse=dst)]).doc_id


def _charge(shop: Shop, charge: str, item: str, receipt: str, amount: str, qty: int,
            price: str = "10") -> str:
    if charge == "landed_cost":
        return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                        attributes={"receipts": [receipt], "basis": "quantity"}).doc_id
    return shop.run("purchase_invoice", [Line(1, item, D(qty), D(price) + D(amount) / qty,
                                              source=(receipt, 1))],
                    "S1").doc_id


def _check_books(shop: Shop) -> None:
    """Balanced postings; the inventory role equals the stock valuation (every item, the
    lamp of this module too); no value without units."""
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    assert shop.net("inventory") == sum((b.value for b in shop.jxc.stock_balances()), D(0))
    for b in shop.jxc.stock_balances():
        assert b.on_hand or not b.value


def _figures(shop: Shop, item: str, *warehouses: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(b.on_hand), str(b.value))
                 for b in (shop.jxc.balance(item, wh) for wh in warehouses))


@pytest.mark.parametrize("charge", ["landed_cost", "invoice"])
@pytest.mark.parametrize("method", list(METHODS))
def test_a_transfer_cancelled_after_a_charge_that_followed_it_leaves_the_receipt_cancellable(
        shop: Shop, method: str, charge: str) -> None:
    """Receipt 10 @ 10.00 (back-dated), t1 1 W1->W3, a charge of 1.60, t2 1 W1->W3, cancel
    t1 (its unit comes back carrying the charge's share), the charge, t2: the receipt
    cancels as without the charge (t1 and its cancellation are a void pair)."""
    _setup(shop)
    item = METHODS[method]
    rk = _receipt(shop, item, 10, "10", date=dt.date(2026, 3, 1))
    t1 = _transfer(shop, item, 1, "W1", "W3")
    ch = _charge(shop, charge, item, rk, "1.60", 10)
    t2 = _transfer(shop, item, 1, "W1", "W3")
    for doc in (t1, ch, t2):
        assert shop.docs.cancel(doc, BOSS).state == State.CANCELLED
    assert _figures(shop, item, "W1", "W3") == ((10, "100.00"), (0, "0.00"))
    assert shop.docs.cancel(rk, BOSS).state == State.CANCELLED
    assert _figures(shop, item, "W1", "W3") == ((0, "0.00"), (0, "0.00"))
    assert shop.net("inventory") == 0
    _check_books(shop)


@pytest.mark.parametrize("method", list(METHODS))
def test_a_charge_reaching_a_warehouse_twice_for_one_ref_is_cancelled_share_by_share(
        shop: Shop, method: str) -> None:
    """Units of two arrivals in W2 (from W1, and through WT) leave in one transfer to WT, one
    of them on to W3: the landed cost's shares reach WT twice for that transfer's ref, at
    the same moment; its cancellation takes back each share from the entry it raised
    (not the first one found twice), leaving every warehouse as before."""
    _setup(shop)
    item = METHODS[method]
    rk = _receipt(shop, item, 10, "10")
    for q, src, dst in [(2, "W1", "W2"), (1, "W1", "WT"), (1, "WT", "W2"), (3, "W2", "WT"),
                        (1, "WT", "W3")]:
        _transfer(shop, item, q, src, dst)
    before = _figures(shop, item, "W1", "W2", "W3", "WT")
    lc = _charge(shop, "landed_cost", item, rk, "30.00", 10)
    assert _figures(shop, item, "W1", "W2", "W3", "WT") == (
        (7, "91.00"), (0, "0.00"), (1, "13.00"), (2, "26.00"))
    _check_books(shop)
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, item, "W1", "W2", "W3", "WT") == before
    assert shop.net("cogs") == 0
    _check_books(shop)


@pytest.mark.parametrize("charge", ["landed_cost", "invoice"])
@pytest.mark.parametrize("method", list(METHODS))
def test_a_charge_on_a_receipt_after_older_stock_sends_the_transferred_share_on(
        shop: Shop, method: str, charge: str) -> None:
    """r1 10 @ 10.00 and r2 5 @ 30.00 into W1, 12 transferred to W2, then a charge of 45.00
    on r2: every unit of r2 is on hand (in W1 or W2), so nothing goes to cost of goods sold
    (FIFO: r2's 3 units left in W1 get 27.00, its 2 in W2 18.00); the cancellation leaves
    every warehouse as before. The scope's stock before r2 counts in finding which units the
    transfer took."""
    _setup(shop)
    item = METHODS[method]
    _receipt(shop, item, 10, "10")
    r2 = _receipt(shop, item, 5, "30")
    _transfer(shop, item, 12, "W1", "W2")
    before = _figures(shop, item, "W1", "W2")
    ch = _charge(shop, charge, item, r2, "45.00", 5, "30")
    after = _figures(shop, item, "W1", "W2")
    assert shop.net("cogs") == 0
    raised = [D(a[1]) - D(b[1]) for a, b in zip(after, before, strict=True)]
    assert sum(raised, D(0)) == D("45.00")
    if method == "fifo":
        assert raised == [D("27.00"), D("18.00")]
    _check_books(shop)
    shop.docs.cancel(ch, BOSS)
    assert _figures(shop, item, "W1", "W2") == before
    assert shop.net("cogs") == 0
    _check_books(shop)


@pytest.mark.parametrize("item", sorted(METHODS.values()))
def test_moving_average_transfer_cancelled_then_the_charge(shop: Shop, item: str) -> None:
    """9 @ 10.00 into W1, three transfers of 1 to W2, a landed cost of 77.76 (8.64 a unit),
    1 delivered from W2, the second transfer cancelled (its unit back in W1 at 18.64), then
    the landed cost cancelled: every warehouse as without the charge (W1 7 / 70.00, W2
    1 / 10.00, cost of goods sold 10.00). Under moving average the transfer's cancellation
    took back its recorded worth, share included, and the charge's cancellation took that
    share from W2 again (W1 78.64, W2 1.36): the replay of W2 now takes the cancellation
    back at its worth without the share and carries the change back to W1 with the unit."""
    _setup(shop)
    rk = _receipt(shop, item, 9, "10")
    ts = [_transfer(shop, item, 1, "W1", "W2") for _ in range(3)]
    lc = _charge(shop, "landed_cost", item, rk, "77.76", 9)
    shop.run("delivery", [Line(1, item, D(1), D("30"), warehouse="W2")], "C1")
    shop.docs.cancel(ts[1], BOSS)
    assert _figures(shop, item, "W1", "W2") == ((7, "130.48"), (1, "18.64"))
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, item, "W1", "W2") == ((7, "70.00"), (1, "10.00"))
    assert shop.net("cogs") == D("10.00")
    _check_books(shop)


def test_moving_average_transfer_after_the_charge_cancelled_then_the_charge(shop: Shop) -> None:
    """Moving average: 9 @ 10.00 into W1, 1 transferred to W2, a landed cost of 77.76 (8.64 a
    unit), a second unit transferred (at 18.64), 1 delivered from W2, the second transfer
    cancelled, then the landed cost cancelled: as without the charge, W1 8 / 80.00 and cost
    of goods sold 10.00 (FIFO gets it). Before 2026-12-17 W1 ended at 75.68 and cost of
    goods sold at 14.32."""
    _setup(shop)
    rk = _receipt(shop, "B", 9, "10")
    _transfer(shop, "B", 1, "W1", "W2")
    lc = _charge(shop, "landed_cost", "B", rk, "77.76", 9)
    t2 = _transfer(shop, "B", 1, "W1", "W2")
    shop.run("delivery", [Line(1, "B", D(1), D("30"), warehouse="W2")], "C1")
    shop.docs.cancel(t2, BOSS)
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, "B", "W1", "W2")[0] == (8, "80.00")
    assert shop.net("cogs") == D("10.00")


def test_a_movement_back_dated_before_a_transfer_cancelled_around_a_charge(shop: Shop) -> None:
    """9 @ 10.00 into W1 (back-dated), 2 transferred to W2, a landed cost, the transfer
    cancelled, 4 transferred dated before it, then 5 transferred dated earlier still: W1
    holds 5 then (the cancelled transfer took nothing), as without the charge."""
    _setup(shop)
    rk = _receipt(shop, "A", 9, "10", date=dt.date(2026, 2, 20))
    t1 = _transfer(shop, "A", 2, "W1", "W2")
    _charge(shop, "landed_cost", "A", rk, "55.00", 9)
    shop.docs.cancel(t1, BOSS)
    shop.run("transfer", [Line(1, "A", D(4), D(0), warehouse="W1", to_warehouse="W2")],
             date=dt.date(2026, 2, 27))
    shop.run("transfer", [Line(1, "A", D(5), D(0), warehouse="W1", to_warehouse="W3")],
             date=dt.date(2026, 2, 22))
    assert _figures(shop, "A", "W1", "W2", "W3")[0] == (0, "0.00")


@pytest.mark.parametrize("method", list(METHODS))
def test_a_transfer_cancelled_around_a_charge_gives_its_share_back_to_the_charge(
        shop: Shop, method: str) -> None:
    """9 @ 10.00 into W1 (back-dated), 2 transferred to W2, a landed cost of 55.00 (7 units
    in W1 get 42.78, the 2 in W2 12.22), the transfer cancelled (its units back with the
    12.22): W1 9 / 145.00. Then 4 transferred to W2 dated before the transfer (they count
    as issued before the charge: their share, 24.44 of 55.00, goes to cost of goods sold):
    W1 5 / 80.56 (5 @ 10.00 and 5/9 of 55.00), W2 4 / 40.00. Then 5 to W3 dated earlier
    still: W1 0 / 0.00, W3 5 / 50.00, all of the charge in cost of goods sold. The cancelled
    transfer and its cancellation are passed over, the charge split again as if it had sent
    nothing with them. Before: W1 5 / 68.33 after the first back-dated transfer (the 12.22
    brought back went to cost of goods sold although its units were on hand), and the
    second refused (W1 seen at 3 units)."""
    _setup(shop)
    item = METHODS[method]
    rk = _receipt(shop, item, 9, "10", date=dt.date(2026, 2, 20))
    t1 = _transfer(shop, item, 2, "W1", "W2")
    _charge(shop, "landed_cost", item, rk, "55.00", 9)
    assert _figures(shop, item, "W1", "W2") == ((7, "112.78"), (2, "32.22"))
    shop.docs.cancel(t1, BOSS)
    assert _figures(shop, item, "W1", "W2") == ((9, "145.00"), (0, "0.00"))
    shop.run("transfer", [Line(1, item, D(4), D(0), warehouse="W1", to_warehouse="W2")],
             date=dt.date(2026, 2, 27))
    assert _figures(shop, item, "W1", "W2", "W3") == ((5, "80.56"), (4, "40.00"), (0, "0.00"))
    assert (shop.net("inventory"), shop.net("cogs")) == (D("120.56"), D("24.44"))
    _check_books(shop)
    shop.run("transfer", [Line(1, item, D(5), D(0), warehouse="W1", to_warehouse="W3")],
             date=dt.date(2026, 2, 22))
    assert _figures(shop, item, "W1", "W2", "W3") == ((0, "0.00"), (4, "40.00"), (5, "50.00"))
    assert (shop.net("inventory"), shop.net("cogs"), shop.net("price_difference")) == (
        D("90.00"), D("55.00"), D(0))
    assert (shop.net("grni"), shop.net("payable")) == (D("-90.00"), D("-55.00"))
    _check_books(shop)


@pytest.mark.parametrize("item", sorted(METHODS.values()))
def test_a_transfer_back_carrying_a_charge_cancelled_lies_inside_an_older_pair(
        shop: Shop, item: str) -> None:
    """The flow above, step by step: 11 @ 10.00 into W1 (back-dated), 5 to W3 (back-dated), 5
    to W2, a landed cost of 31.24 (2.84 a unit: W1 12.84, W2 and W3 64.20 each), 2 back from
    W3 (38.52 into W1), the landed cost cancelled (the 5.68 the two units carried taken from
    W1 as a receipt cost of the transfer back), then the transfers cancelled newest first and
    the receipt: every warehouse and role ends at zero. In W1 the transfer back and its
    cancellation lie between the transfer to W2 and its cancellation with the charge's
    cancellation share they carried: a receipt line cancelled inside the pair, its receipt
    cost with it, so the pair is passed over. Before 2026-12-17 the receipt's cancellation
    at the end was refused (`insufficient_stock`, 6 on hand of 11 at the receipt)."""
    _setup(shop)
    rk = _receipt(shop, item, 11, "10", date=dt.date(2026, 2, 20))
    t1 = shop.run("transfer", [Line(1, item, D(5), D(0), warehouse="W1", to_warehouse="W3")],
                  date=dt.date(2026, 2, 24)).doc_id
    t2 = _transfer(shop, item, 5, "W1", "W2")
    lc = _charge(shop, "landed_cost", item, rk, "31.24", 11)
    assert _figures(shop, item, "W1", "W2", "W3") == (
        (1, "12.84"), (5, "64.20"), (5, "64.20"))
    t3 = _transfer(shop, item, 2, "W3", "W1")
    assert _figures(shop, item, "W1", "W2", "W3") == (
        (3, "38.52"), (5, "64.20"), (3, "38.52"))
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, item, "W1", "W2", "W3") == (
        (3, "30.00"), (5, "50.00"), (3, "30.00"))
    _check_books(shop)
    steps = [((1, "10.00"), (5, "50.00"), (5, "50.00")),
             ((6, "60.00"), (0, "0.00"), (5, "50.00")),
             ((11, "110.00"), (0, "0.00"), (0, "0.00"))]
    for doc, figures in zip((t3, t2, t1), steps, strict=True):
        assert shop.docs.cancel(doc, BOSS).state == State.CANCELLED
        assert _figures(shop, item, "W1", "W2", "W3") == figures
        assert (shop.net("cogs"), shop.net("price_difference")) == (0, 0)
    assert shop.docs.cancel(rk, BOSS).state == State.CANCELLED
    assert _figures(shop, item, "W1", "W2", "W3") == ((0, "0.00"), (0, "0.00"), (0, "0.00"))
    for role in ("inventory", "cogs", "price_difference", "grni", "payable"):
        assert shop.net(role) == 0
    _check_books(shop)


@pytest.mark.parametrize("method", list(METHODS))
def test_a_charge_cancelled_after_a_transfer_on_that_carried_its_share_came_back(
        shop: Shop, method: str) -> None:
    """9 @ 10.00 into W1 (back-dated), 1 to W2 and on to W3, 1 to W3 dated before them, a
    landed cost of 77.76 (8.64 a unit: W1 7 / 130.48, both units in W3 18.64), the transfer
    W2 -> W3 cancelled (its unit back in W2 with its 8.64), then the landed cost cancelled:
    as without the charge, W1 7 / 70.00, W2 1 / 10.00, W3 1 / 10.00, nothing in cost of goods
    sold. The cancellation sends back what the charge sent (the share W2 sent on with the
    cancelled transfer included): its own replay does not pass the transfer and its
    cancellation over by that share (W2 was left at 5.68, cost of goods sold 4.32)."""
    _setup(shop)
    item = METHODS[method]
    rk = _receipt(shop, item, 9, "10", date=dt.date(2026, 2, 20))
    _transfer(shop, item, 1, "W1", "W2")
    t2 = _transfer(shop, item, 1, "W2", "W3")
    shop.run("transfer", [Line(1, item, D(1), D(0), warehouse="W1", to_warehouse="W3")],
             date=dt.date(2026, 2, 24))
    lc = _charge(shop, "landed_cost", item, rk, "77.76", 9)
    assert _figures(shop, item, "W1", "W2", "W3") == (
        (7, "130.48"), (0, "0.00"), (2, "37.28"))
    shop.docs.cancel(t2, BOSS)
    assert _figures(shop, item, "W1", "W2", "W3") == (
        (7, "130.48"), (1, "18.64"), (1, "18.64"))
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, item, "W1", "W2", "W3") == (
        (7, "70.00"), (1, "10.00"), (1, "10.00"))
    assert (shop.net("inventory"), shop.net("cogs"), shop.net("price_difference")) == (
        D("90.00"), D(0), D(0))
    _check_books(shop)



def test_moving_average_transfer_after_the_charge_and_everything_undone(shop: Shop) -> None:
    """The flow above, every role at each step, then the delivery, the first transfer and
    the receipt cancelled: every role back to zero. The charge's cancellation replays W1
    from the charge with the cancelled transfer in it: the transfer costs 10.00 there (its
    8.64 less goes on with its unit into W2, where the delivery took the average, and back
    with the unit by the transfer's cancellation)."""
    _setup(shop)
    rk = _receipt(shop, "B", 9, "10")
    t1 = _transfer(shop, "B", 1, "W1", "W2")
    lc = _charge(shop, "landed_cost", "B", rk, "77.76", 9)
    t2 = _transfer(shop, "B", 1, "W1", "W2")
    dl = shop.run("delivery", [Line(1, "B", D(1), D("30"), warehouse="W2")], "C1").doc_id
    assert _figures(shop, "B", "W1", "W2") == ((7, "130.48"), (1, "18.64"))
    assert shop.net("cogs") == D("18.64")
    shop.docs.cancel(t2, BOSS)
    assert _figures(shop, "B", "W1", "W2") == ((8, "149.12"), (0, "0.00"))
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, "B", "W1", "W2") == ((8, "80.00"), (0, "0.00"))
    assert (shop.net("inventory"), shop.net("cogs"), shop.net("price_difference")) == (
        D("80.00"), D("10.00"), D(0))
    assert shop.net("payable") == 0
    _check_books(shop)
    steps = [((8, "80.00"), (1, "10.00")), ((9, "90.00"), (0, "0.00")),
             ((0, "0.00"), (0, "0.00"))]
    for doc, figures in zip((dl, t1, rk), steps, strict=True):
        assert shop.docs.cancel(doc, BOSS).state == State.CANCELLED
        assert _figures(shop, "B", "W1", "W2") == figures
        assert (shop.net("cogs"), shop.net("price_difference")) == (0, 0)
        _check_books(shop)
    for role in ("inventory", "grni", "payable"):
        assert shop.net(role) == 0


def test_moving_average_transfers_there_and_back_around_a_charge_then_back_dated(
        shop: Shop) -> None:
    """Moving average: 9 @ 10.00 into W1 (back-dated), 3 to W3, a landed cost of 77.76 (8.64 a
    unit, 25.92 of it sent on to W3), the 3 back to W1, 1 delivered from W1 (18.64), the
    transfer back cancelled, the first transfer cancelled, then the landed cost: W1
    8 / 80.00, cost of goods sold 10.00, as without the charge (were 77.12 and 12.88). Then 4
    transferred W1 -> W3 dated before all of it: W1 and W3 4 / 40.00 each, cost of goods
    sold 10.00. The change the charge's cancellation makes to the transfer back goes back
    with its units into the rows of the first transfer in W3; the first transfer's
    cancellation takes those rows back at their worth without it (it makes up for what the
    transfer back took and brought back, which the worth leaves out too): counted there,
    the back-dated transfer's replay took them back at 4.08 (W1 14.08, W3 65.92)."""
    _setup(shop)
    rk = _receipt(shop, "B", 9, "10", date=dt.date(2026, 2, 20))
    t0 = _transfer(shop, "B", 3, "W1", "W3")
    lc = _charge(shop, "landed_cost", "B", rk, "77.76", 9)
    assert _figures(shop, "B", "W1", "W3") == ((6, "111.84"), (3, "55.92"))
    t4 = _transfer(shop, "B", 3, "W3", "W1")
    shop.run("delivery", [Line(1, "B", D(1), D("30"), warehouse="W1")], "C1")
    assert _figures(shop, "B", "W1", "W3") == ((8, "149.12"), (0, "0.00"))
    shop.docs.cancel(t4, BOSS)
    shop.docs.cancel(t0, BOSS)
    assert _figures(shop, "B", "W1", "W3") == ((8, "149.12"), (0, "0.00"))
    assert shop.net("cogs") == D("18.64")
    shop.docs.cancel(lc, BOSS)
    assert _figures(shop, "B", "W1", "W3") == ((8, "80.00"), (0, "0.00"))
    assert (shop.net("inventory"), shop.net("cogs"), shop.net("price_difference")) == (
        D("80.00"), D("10.00"), D(0))
    _check_books(shop)
    shop.run("transfer", [Line(1, "B", D(4), D(0), warehouse="W1", to_warehouse="W3")],
             date=dt.date(2026, 2, 22))
    assert _figures(shop, "B", "W1", "W3") == ((4, "40.00"), (4, "40.00"))
    assert (shop.net("inventory"), shop.net("cogs"), shop.net("price_difference")) == (
        D("80.00"), D("10.00"), D(0))
    assert shop.net("payable") == 0
    _check_books(shop)

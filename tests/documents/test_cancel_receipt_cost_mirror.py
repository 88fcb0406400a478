"""Cancelling (红冲) a receipt cost — a landed cost, a purchase invoice's price difference —
mirrors the charge, wherever the charged units went since.

The charge split its amount on the receipt's units at the moment it was posted: the share of
units on hand raised the stock, the share already issued went to cost of goods sold. Its
cancellation is posted at that same moment: the amount taken back splits exactly as it was
split, and the later movements that took the charged units (deliveries, supplier returns,
transfers) are re-valued without it. Once cancelled, the stock and every role of the books
stand as if the charge had never been posted.

Every scenario: 10 units received at 10.00 into W1 (100.00); a charge of 50.00 on them, a
landed cost of 50.00 or an invoice at 15.00 a unit (5 units at 20.00 where some units go back
to the supplier: the invoice cannot be cancelled once returns took invoiced units back).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
METHODS = {"fifo": "A", "moving_average": "B"}


def _receipt(shop: Shop, item: str) -> str:
    return shop.run("purchase_receipt", [Line(1, item, D(10), D("10"), warehouse="W1")],
                    "S1").doc_id


def _charge(shop: Shop, charge: str, item: str, receipt: str, invoiced: int = 10) -> str:
    """A charge of 50.00 on ``receipt``: a landed cost, or an invoice of ``invoiced`` units
    at 50.00 over what they were received at."""
    if charge == "landed_cost":
        return shop.run("landed_cost", [Line(1, "freight", D(1), D("50.00"))], "S1",
                        attributes={"receipts": [receipt], "basis": "quantity"}).doc_id
    price = D(10) + D(50) / invoiced
    return shop.run("purchase_invoice", [Line(1, item, D(invoiced), price,
                                              source=(receipt, 1))], "S1").doc_id


def _deliver(shop: Shop, item: str, qty: int) -> str:
    return shop.run("delivery", [Line(1, item, D(qty), D("20"), warehouse="W1")], "C1").doc_id


def _stock(shop: Shop, item: str, wh: str) -> tuple[Decimal, Decimal]:
    b = shop.jxc.balance(item, wh)
    return b.on_hand, b.value


@pytest.mark.parametrize("charge", ["landed_cost", "invoice"])
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("moved", ["cancelled_delivery", "customer_return", "transferred",
                                   "supplier_return", "delivered_after"])
def test_the_cancelled_charge_leaves_the_books_as_without_it(
        shop: Shop, method: str, charge: str, moved: str) -> None:
    item = METHODS[method]
    rk = _receipt(shop, item)
    expected: dict[str, tuple[Decimal, Decimal]] = {}
    cogs = price_difference = D("0.00")
    if moved in ("cancelled_delivery", "customer_return"):
        # delivered first: the whole charge went to cost of goods sold (the units are gone)
        ck = _deliver(shop, item, 10)
        lc = _charge(shop, charge, item, rk)
        assert shop.roles(lc).get("cogs") == D("50.00")
        if moved == "cancelled_delivery":
            shop.docs.cancel(ck, BOSS)
        else:
            shop.run("sales_return", [Line(1, item, D(10), D("20"), warehouse="W1",
                                           source=(ck, 1))], "C1")
        expected["W1"] = (D(10), D("100.00"))
    else:
        lc = _charge(shop, charge, item, rk, 5 if moved == "supplier_return" else 10)
        assert _stock(shop, item, "W1") == (D(10), D("150.00"))  # all 10 on hand: in stock
        if moved == "transferred":  # the 10 units at 15.00 carried to W2
            shop.run("transfer", [Line(1, item, D(10), D(0), warehouse="W1",
                                       to_warehouse="W2")])
            assert _stock(shop, item, "W2") == (D(10), D("150.00"))
            expected = {"W1": (D(0), D("0.00")), "W2": (D(10), D("100.00"))}
        elif moved == "supplier_return":  # 4 units of 15.00 back for 40.00: 20.00 difference
            shop.run("purchase_return", [Line(1, item, D(4), D("10"), warehouse="W1",
                                              source=(rk, 1))], "S1")
            assert shop.net("price_difference") == D("20.00")
            expected["W1"] = (D(6), D("60.00"))
        else:  # 6 units sold at 15.00 (90.00): without the charge they cost 60.00
            _deliver(shop, item, 6)
            assert shop.net("cogs") == D("90.00")
            expected["W1"] = (D(4), D("40.00"))
            cogs = D("60.00")
    shop.docs.cancel(lc, BOSS)
    assert shop.docs.get(lc).state == State.CANCELLED
    for wh, figures in expected.items():
        assert _stock(shop, item, wh) == figures
    assert shop.net("cogs") == cogs
    assert shop.net("price_difference") == price_difference
    assert shop.net("payable", lc) + shop.net("payable", f"{lc}-R") == 0
    shop.check_books()


@pytest.mark.parametrize("charge", ["landed_cost", "invoice"])
@pytest.mark.parametrize("method", list(METHODS))
def test_the_reversal_splits_as_the_charge_did(shop: Shop, method: str, charge: str) -> None:
    """6 of 10 units delivered, then the charge: 20.00 kept for the 4 on hand, 30.00 to cost
    of goods sold; 2 units come back from the customer before the cancellation. The
    reversal takes 20.00 out of the stock and 30.00 out of cost of goods sold, as the charge
    put them, not 30.00 / 20.00 on the 6 units on hand at the cancellation."""
    item = METHODS[method]
    rk = _receipt(shop, item)
    ck = _deliver(shop, item, 6)
    lc = _charge(shop, charge, item, rk)
    assert (shop.net("inventory", lc), shop.net("cogs", lc)) == (D("20.00"), D("30.00"))
    shop.run("sales_return", [Line(1, item, D(2), D("20"), warehouse="W1", source=(ck, 1))],
             "C1")
    shop.docs.cancel(lc, BOSS)
    back = f"{lc}-R"
    assert (shop.net("inventory", back), shop.net("cogs", back)) == (D("-20.00"), D("-30.00"))
    # 4 units left of the receipt and 2 returned at what the delivery took them at
    assert _stock(shop, item, "W1") == (D(6), D("60.00"))
    assert shop.net("cogs") == D("40.00")  # 6 delivered at 10.00, 2 returned
    shop.check_books()


@pytest.mark.parametrize("method", list(METHODS))
def test_a_transferred_part_takes_its_share_back_where_it_went(shop: Shop, method: str
                                                               ) -> None:
    """6 of the 10 charged units moved to W2 (at 15.00), 3 of them sold there: the
    cancellation takes 20.00 out of W1's 4 units, 15.00 out of W2's 3 units left and 15.00
    out of cost of goods sold of the sale in W2."""
    item = METHODS[method]
    rk = _receipt(shop, item)
    lc = _charge(shop, "landed_cost", item, rk)
    shop.run("transfer", [Line(1, item, D(6), D(0), warehouse="W1", to_warehouse="W2")])
    shop.run("delivery", [Line(1, item, D(3), D("20"), warehouse="W2")], "C1")
    assert shop.net("cogs") == D("45.00")
    shop.docs.cancel(lc, BOSS)
    assert _stock(shop, item, "W1") == (D(4), D("40.00"))
    assert _stock(shop, item, "W2") == (D(3), D("30.00"))
    assert shop.net("cogs") == D("30.00")
    shop.check_books()


def test_the_reversal_is_dated_when_the_charge_was() -> None:
    """Cancelled three days later, the reversal's stock entry and journal rows carry the
    charge's moment and day; a later delivery's correction is dated at the delivery."""
    clock = TickingClock()
    j = Jxc(MemoryStorage(), clock=clock)
    setup_master(j)
    shop = Shop(j, Documents(j))
    rk = _receipt(shop, "A")
    lc = _charge(shop, "landed_cost", "A", rk)
    charged_day = clock.at.date()
    charged = [x.entry for x in j.ledger("A", "W1") if x.entry.doc_id == lc]
    clock.at += dt.timedelta(days=3)
    ck = _deliver(shop, "A", 4)
    delivered_day = clock.at.date()
    clock.at += dt.timedelta(days=3)
    shop.docs.cancel(lc, BOSS)
    back = [x.entry for x in j.ledger("A", "W1") if x.entry.doc_id == f"{lc}-R"]
    assert [e.posted_at for e in back if e.kind == "landed_cost"] == [charged[0].posted_at]
    assert [(e.kind, e.doc_id, e.value) for e in back if e.kind != "landed_cost"] == []
    corrections = [x.entry for x in j.ledger("A", "W1") if x.entry.kind == "cost_backdating"]
    assert [(e.doc_id, e.value) for e in corrections] == [(ck, D("20.00"))]
    rows = {(r.date, r.role, r.debit - r.credit) for r in shop.journal(f"{lc}-R")}
    assert rows == {(charged_day.isoformat(), "inventory", D("-50.00")),
                    (charged_day.isoformat(), "payable", D("50.00")),
                    (delivered_day.isoformat(), "cogs", D("-20.00")),
                    (delivered_day.isoformat(), "inventory", D("20.00"))}
    assert _stock(shop, "A", "W1") == (D(6), D("60.00"))
    shop.check_books()


def test_a_charge_of_a_closed_period_is_not_cancelled() -> None:
    """Charged in March, March closed: the cancellation in April is refused
    (``period_closed``) and writes nothing."""
    clock = TickingClock(dt.datetime(2026, 3, 30, 9, 0))
    j = Jxc(MemoryStorage(), clock=clock)
    setup_master(j)
    shop = Shop(j, Documents(j))
    rk = _receipt(shop, "A")
    lc = _charge(shop, "landed_cost", "A", rk)
    clock.at = dt.datetime(2026, 4, 2, 9, 0)
    Accounting(j).close_period(2026, 3)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(lc, BOSS)
    assert err.value.code == "period_closed"
    assert shop.snapshot() == before


@pytest.mark.parametrize("method", list(METHODS))
def test_a_late_invoice_reaches_units_back_from_a_cancelled_transfer(method: str) -> None:
    """10 units received on March 2, moved to W2 on March 3 and the transfer cancelled; an
    invoice dated March 2 then raises them by 50.00. The units are back in W1: 150.00 there,
    nothing sold. Under moving average the carried cost went to the cancellation's own ref,
    no receipt of W1: W1 stayed at 100.00 and cost of goods sold took 50.00."""
    clock = TickingClock()
    j = Jxc(MemoryStorage(), clock=clock)
    setup_master(j)
    shop = Shop(j, Documents(j))
    item = METHODS[method]
    rk = _receipt(shop, item)
    clock.at += dt.timedelta(days=1)
    moved = shop.run("transfer", [Line(1, item, D(10), D(0), warehouse="W1",
                                       to_warehouse="W2")]).doc_id
    shop.docs.cancel(moved, BOSS)
    shop.run("purchase_invoice", [Line(1, item, D(10), D("15"), source=(rk, 1))], "S1",
             date=dt.date(2026, 3, 2))
    assert _stock(shop, item, "W1") == (D(10), D("150.00"))
    assert _stock(shop, item, "W2") == (D(0), D("0.00"))
    assert shop.net("cogs") == 0
    shop.check_books()


def test_a_transfer_re_valued_by_a_charge_cancellation_is_cancelled_at_what_it_carries(
        ) -> None:
    """Moving average: 2 @ 1.00 received, a landed cost of 10.00, 1 unit transferred to W2
    (at 6.00), the landed cost cancelled (the transfer re-valued to 1.00, the 5.00 taken out
    of W2 where the unit went), a second unit transferred (1.00), then the first transfer
    cancelled. Both warehouses end at 1 @ 1.00, as without the charge (the cancellation took
    the unit back at the 6.00 it arrived at, not at the 1.00 the transfer carries since: W1
    ended at 2.00 and W2 at 0.00)."""
    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    r = shop.run("purchase_receipt", [Line(1, "B", D(2), D("1.00"), warehouse="W1")],
                 "S1").doc_id
    lc = shop.run("landed_cost", [Line(1, "freight", D(1), D("10.00"))], "S1",
                  attributes={"receipts": [r], "basis": "quantity"}).doc_id
    moves = [Line(1, "B", D(1), D(0), warehouse="W1", to_warehouse="W2")]
    t1 = shop.run("transfer", moves).doc_id
    shop.docs.cancel(lc, BOSS)
    shop.run("transfer", moves)
    shop.docs.cancel(t1, BOSS)
    assert _stock(shop, "B", "W1") == (1, D("1.00"))
    assert _stock(shop, "B", "W2") == (1, D("1.00"))

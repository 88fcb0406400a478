"""Moving average, the paths of the receipt rows (``[number, ref, remaining]``) that the
cancellation tests do not reach yet (DOMAIN.md section 2 and 5; docs/decisions.md, "units of
a cancelled issue go back into its receipt rows"):

1. a delivery whose issue lies before the scope's last checkpoint, cancelled afterwards;
2. a back-dated receipt replayed across a customer return and its cancellation;
3. a serial stock count that both gains and loses, cancelled.

Item B is moving average; the serial test makes it serial-tracked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal


@pytest.fixture(params=["memory", "sqlite"])
def dense(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """The shop of conftest.py with a checkpoint after every movement of a scope."""
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "x.db")))
    j = Jxc(storage, clock=TickingClock(), checkpoint_every=1)
    setup_master(j)
    yield Shop(j, Documents(j))
    storage.close()


def _rows(shop: Shop, item: str = "B", wh: str = "W1") -> list[tuple[int, str, Decimal]]:
    """The stored receipt rows of ``item`` in ``wh``: (number, ref, remaining), oldest first."""
    with shop.jxc.storage.unit_of_work() as uow:
        state: Any = uow.valuations.get((item, wh))
    return [(int(n), ref, D(q)) for n, (ref, q) in state["rows"]]


def _refs(shop: Shop, item: str = "B", wh: str = "W1") -> list[tuple[str, Decimal]]:
    return [(ref, q) for _, ref, q in _rows(shop, item, wh)]


def _invoice(shop: Shop, receipt: str, qty: int, price: str) -> dict[str, Decimal]:
    doc = shop.run("purchase_invoice", [Line(1, "B", D(qty), D(price), warehouse="W1",
                                             source=(receipt, 1))], "S1")
    return shop.roles(doc.doc_id)


def _books(shop: Shop) -> None:
    """check_books(), every voucher balanced, and 1405 equal to the stock valuation."""
    shop.check_books()
    books = Accounting(shop.jxc)
    books.generate_vouchers()
    for v in books.vouchers():
        assert sum((x.debit for x in v.lines), D(0)) == sum((x.credit for x in v.lines), D(0))
    assert books.account_balance("1405") == shop.stock_value()


# -- 1. the issue lies before the scope's last checkpoint ---------------------------------------
def test_a_delivery_before_the_last_checkpoint_cancelled(dense: Shop) -> None:
    """Checkpoints after every movement. R1 10 @ 10.00, R2 10 @ 20.00: 20 @ 300.00. A delivery
    of 15 costs 15 x 300 / 20 = 225.00 and takes R1's 10 and 5 of R2: 5 @ 75.00, rows R2 5.
    R3 5 @ 30.00 (150.00): 10 @ 225.00; a delivery of 2 costs 2 x 225 / 10 = 45.00 and takes 2
    of R2: 8 @ 180.00, rows R2 3, R3 5. Both later movements left checkpoints after the first
    delivery.

    The first delivery cancelled: its 15 units come back at its 225.00 (8 + 15 = 23 @ 405.00)
    into the rows it took, found by a replay from the checkpoint before it: R1 10, R2 5 (R2 is
    3 + 5 = 8 again). Rows R1 10, R2 8, R3 5. An invoice of R1 at 11.00 (10 x 1.00 = 10.00)
    goes to inventory whole, no COGS: 23 @ 415.00."""
    rk1 = dense.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    rk2 = dense.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    dl = dense.run("delivery", [Line(1, "B", D(15), D(30), warehouse="W1")], "C1")
    assert dense.roles(dl.doc_id)["inventory"] == D("-225.00")
    rk3 = dense.receipt([Line(1, "B", D(5), D(30), warehouse="W1")])
    dense.run("delivery", [Line(1, "B", D(2), D(30), warehouse="W1")], "C1")
    assert (dense.qty("B"), dense.value("B")) == (D(8), D("180.00"))
    assert _refs(dense) == [(f"{rk2.doc_id}/1", D(3)), (f"{rk3.doc_id}/1", D(5))]
    issued = [x.entry for x in dense.jxc.ledger("B", "W1") if x.entry.doc_id == dl.doc_id]
    with dense.jxc.storage.unit_of_work() as uow:
        cp = uow.checkpoints.latest(("B", "W1"), dt.datetime(2100, 1, 1))
    assert cp is not None and cp[1] > max(e.entry_no for e in issued)  # the issue lies before

    dense.docs.cancel(dl.doc_id, BOSS)
    assert dense.roles(dl.doc_id)["inventory"] == D(0)
    assert (dense.qty("B"), dense.value("B")) == (D(23), D("405.00"))
    assert _refs(dense) == [(f"{rk1.doc_id}/1", D(10)), (f"{rk2.doc_id}/1", D(8)),
                            (f"{rk3.doc_id}/1", D(5))]
    roles = _invoice(dense, rk1.doc_id, 10, "11")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    assert (dense.qty("B"), dense.value("B")) == (D(23), D("415.00"))
    _books(dense)


# -- 2. a back-dated receipt across a customer return and its cancellation ----------------------
def test_a_back_dated_receipt_replays_a_return_and_its_cancellation(shop: Shop) -> None:
    """As posted (today): R1 10 @ 10.00, R2 10 @ 20.00 (20 @ 300.00); a delivery of 15 costs
    225.00 and takes R1's 10 and 5 of R2 (5 @ 75.00, rows R2 5); a customer return of 10 comes
    back at 10 / 15 of 225.00 = 150.00 into R1's row (15 @ 225.00, rows R1 10, R2 5); the
    return cancelled takes them out of R1's row at its 150.00: 5 @ 75.00, rows R2 5.

    Then R0, 5 @ 30.00 (150.00), dated the day before. In date order: R0 5, R1 10, R2 10 = 25
    @ 450.00; the delivery costs 15 x 450 / 25 = 270.00 (a cost adjustment of -45.00) and
    takes R0's 5 and R1's 10 (rows R2 10); the return comes back at 10 / 15 of 270.00 =
    180.00 into R0 5, R1 5 (20 @ 360.00); its cancellation takes those 10 out again at the
    return's 180.00: 10 @ 180.00, rows R2 10. The stock is the 10 units of R2, so an invoice
    of R2 at 21.00 (10.00) goes to inventory whole: 10 @ 190.00; one of R0 at 31.00 (5.00)
    goes to COGS (R0's units left). 1405 equals the stock valuation."""
    rk1 = shop.receipt([Line(1, "B", D(10), D(10), warehouse="W1")])
    rk2 = shop.receipt([Line(1, "B", D(10), D(20), warehouse="W1")])
    dl = shop.run("delivery", [Line(1, "B", D(15), D(30), warehouse="W1")], "C1")
    rt = shop.run("sales_return", [Line(1, "B", D(10), D(30), warehouse="W1",
                                        source=(dl.doc_id, 1))], "C1")
    assert shop.roles(rt.doc_id)["inventory"] == D("150.00")
    assert _refs(shop) == [(f"{rk1.doc_id}/1", D(10)), (f"{rk2.doc_id}/1", D(5))]
    shop.docs.cancel(rt.doc_id, BOSS)
    assert _refs(shop) == [(f"{rk2.doc_id}/1", D(5))]
    assert (shop.qty("B"), shop.value("B")) == (D(5), D("75.00"))

    day = shop.jxc.clock.now().date() - dt.timedelta(days=1)
    r0 = shop.make("purchase_receipt", [Line(1, "B", D(5), D(30), warehouse="W1")], "S1",
                   date=day)
    shop.docs.approve_through(r0.doc_id, [BOSS])
    assert _refs(shop) == [(f"{rk2.doc_id}/1", D(10))]
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("180.00"))
    assert shop.net("inventory") == D("180.00")
    roles = _invoice(shop, rk2.doc_id, 10, "21")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("10.00"), D(0))
    roles = _invoice(shop, r0.doc_id, 5, "31")
    assert (roles.get("inventory", D(0)), roles["cogs"]) == (D(0), D("5.00"))
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("190.00"))
    _books(shop)


def test_a_receipt_dated_between_the_delivery_and_the_return(shop: Shop) -> None:
    """R1 10 @ 10.00, R2 10 @ 20.00 and a delivery of 15 (225.00; R1's 10 and 5 of R2) two
    days back; today a return of 10 (150.00, into R1's row) and its cancellation (out of R1's
    row at 150.00): 5 @ 75.00, rows R2 5. Then R0 5 @ 30.00 dated yesterday: the delivery is
    before it (no cost adjustment); in date order R0 comes after R2 (10 @ 225.00, rows R2 5,
    R0 5), the return puts 10 back into R1 (20 @ 375.00) and its cancellation takes them out
    of R1 again: 10 @ 225.00, rows R2 5, R0 5. An invoice of R0 at 31.00 (5.00) goes to
    inventory whole: 10 @ 230.00."""
    two = shop.jxc.clock.now().date() - dt.timedelta(days=2)
    posted = []
    for doc_type, line, party in (
            ("purchase_receipt", Line(1, "B", D(10), D(10), warehouse="W1"), "S1"),
            ("purchase_receipt", Line(1, "B", D(10), D(20), warehouse="W1"), "S1"),
            ("delivery", Line(1, "B", D(15), D(30), warehouse="W1"), "C1")):
        doc = shop.make(doc_type, [line], party, date=two)
        posted.append(shop.docs.approve_through(doc.doc_id, [BOSS]).doc_id)
    rk1, rk2, dl = posted
    assert shop.roles(dl)["inventory"] == D("-225.00")
    rt = shop.run("sales_return", [Line(1, "B", D(10), D(30), warehouse="W1",
                                        source=(dl, 1))], "C1")
    shop.docs.cancel(rt.doc_id, BOSS)
    assert _refs(shop) == [(f"{rk2}/1", D(5))]
    r0 = shop.make("purchase_receipt", [Line(1, "B", D(5), D(30), warehouse="W1")], "S1",
                   date=two + dt.timedelta(days=1))
    shop.docs.approve_through(r0.doc_id, [BOSS])
    assert shop.roles(dl)["inventory"] == D("-225.00")
    assert shop.roles(rt.doc_id)["inventory"] == D(0)
    assert _refs(shop) == [(f"{rk2}/1", D(5)), (f"{r0.doc_id}/1", D(5))]
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("225.00"))
    roles = _invoice(shop, r0.doc_id, 5, "31")
    assert (roles["inventory"], roles.get("cogs", D(0))) == (D("5.00"), D(0))
    roles = _invoice(shop, rk1, 10, "11")
    assert (roles.get("inventory", D(0)), roles["cogs"]) == (D(0), D("10.00"))
    assert (shop.qty("B"), shop.value("B")) == (D(10), D("230.00"))
    _books(shop)


# -- 3. a serial count that gains and loses, cancelled ------------------------------------------
def test_a_serial_count_gaining_and_losing_cancelled(shop: Shop) -> None:
    """B (moving average, made serial-tracked here): SN1 100.00, SN2 100.00, SN3 100.01 in three
    adjustments: 3 @ 300.01. A count finds SN2, SN3, SN8, SN9: SN1 is lost, at the average
    round(300.01 / 3) = 100.00 (2 @ 200.01 left); SN8 and SN9 are gained at the average, 2 x
    100.005 = 200.01 (either order: 2 x 300.01 / 3 = 200.0067 -> 200.01): 4 @ 400.02;
    count_gain_loss Dr 100.00, Cr 200.01.

    A delivery of SN2 then costs 400.02 / 4 = 100.005 -> 100.01 (3 @ 300.01; the rows let it
    take the oldest units, not the count's). The count cancelled: SN8 and SN9 leave at what
    they came in at (200.01, both still on hand by the rows), SN1 comes back at the loss's
    100.00: 2 @ 200.00 (SN1, SN3). count_gain_loss nets to 0.00 and the books agree."""
    shop.jxc.define_item(Item("B", "bolt", costing_method="moving_average",
                              serial_tracked=True))
    for sn, cost in (("SN1", "100.00"), ("SN2", "100.00"), ("SN3", "100.01")):
        shop.run("adjustment", [Line(1, "B", D(1), D(cost), warehouse="W1", serials=(sn,))])
    assert shop.value("B") == D("300.01")
    pd = shop.docs.submit(shop.make("stock_count", [Line(1, "B", D(0), warehouse="W1")]
                                    ).doc_id, BOSS).doc_id
    shop.docs.record_count(pd, {1: D(4)}, serials={1: ["SN2", "SN3", "SN8", "SN9"]})
    shop.docs.approve(pd, BOSS)
    done = shop.docs.post(pd, BOSS)
    assert (done.counters[1]["gain_value"], done.counters[1]["loss_value"]) == (
        D("200.01"), D("100.00"))
    assert shop.net("count_gain_loss", pd) == D("-100.01")
    assert (shop.qty("B"), shop.value("B")) == (D(4), D("400.02"))
    dl = shop.run("delivery", [Line(1, "B", D(1), D(150), warehouse="W1", serials=("SN2",))],
                  "C1")
    assert shop.roles(dl.doc_id)["inventory"] == D("-100.01")
    assert (shop.qty("B"), shop.value("B")) == (D(3), D("300.01"))

    shop.docs.cancel(pd, BOSS)
    assert shop.jxc.serials_in("B", "W1") == ("SN1", "SN3")
    assert (shop.qty("B"), shop.value("B")) == (D(2), D("200.00"))
    assert shop.roles(pd) == {"inventory": D(0), "count_gain_loss": D(0)}
    assert shop.net("count_gain_loss") == D(0)
    _books(shop)

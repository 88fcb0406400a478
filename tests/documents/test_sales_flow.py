"""Sales (domain rules 4-5): orders reserve, deliveries consume their own reservations, backorders,
customer returns at the delivery's cost, invoices, cancel and close."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Document, Line, State
from jxc_core.errors import JxcError
from jxc_core.services import Documents

from .support import BOSS, Shop

D = Decimal
T13 = D("0.13")


def sales_order(shop: Shop, *lines: tuple[str, int]) -> Document:
    return shop.run("sales_order", [Line(n, item, D(q), D(20), T13, warehouse="W1")
                                    for n, (item, q) in enumerate(lines, start=1)], "C1")


def deliver(shop: Shop, so: Document | None, qty: int, line_no: int = 1,
            item: str = "A") -> Document:
    src = (so.doc_id, line_no) if so is not None else None
    return shop.run("delivery", [Line(1, item, D(qty), D(20), T13, warehouse="W1",
                                      source=src)], "C1")


def give_back(shop: Shop, dl: Document, qty: int, item: str = "A") -> Document:
    return shop.run("sales_return", [Line(1, item, D(qty), D(20), T13, warehouse="W1",
                                          source=(dl.doc_id, 1))], "C1")


def reserved(shop: Shop) -> dict[str, Decimal]:
    return {r.demand: r.quantity for r in shop.jxc.reservations()}


def test_approved_order_reserves_each_demand_line(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    shop.stock_in("C", D(10), D(5))
    so = shop.make("sales_order", [Line(1, "A", D(30), D(20), warehouse="W1"),
                                   Line(2, "C", D(4), D(20), warehouse="W1")], "C1")
    shop.docs.submit(so.doc_id, BOSS)
    assert reserved(shop) == {}
    so = shop.docs.approve(so.doc_id, BOSS)
    assert reserved(shop) == {f"{so.doc_id}/1": D(30), f"{so.doc_id}/2": D(4)}
    assert so.attributes["short"] == []
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.reserved, b.available, b.demand) == (100, 30, 70, 0)
    so = shop.docs.post(so.doc_id, BOSS)
    b = shop.jxc.balance("A", "W1")
    assert (b.demand, b.projected) == (30, 70)
    assert (so.counter(1, "ordered"), so.counter(2, "ordered")) == (30, 4)
    assert shop.journal(so.doc_id) == []


def test_partial_delivery_leaves_a_backorder(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    so = sales_order(shop, ("A", 30))
    dl = deliver(shop, so, 20)
    assert shop.counters(dl.doc_id, 1, "delivered", "cost") == {
        "delivered": D(20), "cost": D("200.00")}
    assert shop.roles(dl.doc_id) == {"cogs": D("200.00"), "inventory": D("-200.00")}
    assert reserved(shop) == {f"{so.doc_id}/1": D(10)}  # the remainder stays reserved
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.value, b.reserved, b.demand, b.projected) == (
        80, D("800.00"), 10, 10, 70)
    order = shop.docs.get(so.doc_id)
    assert order.counter(1, "ordered") - order.counter(1, "delivered") == 10  # backorder
    deliver(shop, so, 10)
    assert reserved(shop) == {}
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.demand, b.projected) == (70, 0, 70)
    with pytest.raises(JxcError) as err:
        deliver(shop, so, 1)
    assert err.value.code == "over_receipt"
    shop.check_books()


def test_other_issues_cannot_take_reserved_stock(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    so = sales_order(shop, ("A", 30))
    deliver(shop, so, 20)  # 80 on hand, 10 reserved
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.run("adjustment", [Line(1, "A", D(-71), warehouse="W1")])
    assert err.value.code == "insufficient_stock"
    assert (err.value.data["needed"], err.value.data["on_hand"]) == (71, 70)
    after = shop.snapshot()
    assert (after["ledger"], after["journal"], after["balances"], after["reservations"]) == (
        before["ledger"], before["journal"], before["balances"], before["reservations"])
    shop.run("adjustment", [Line(1, "A", D(-70), warehouse="W1")])
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.reserved, b.available) == (10, 10, 0)
    with pytest.raises(JxcError) as err2:
        deliver(shop, None, 1)  # a delivery of no order
    assert err2.value.code == "insufficient_stock"
    other = shop.run("sales_order", [Line(1, "A", D(5), D(20), warehouse="W1")], "C1")
    assert other.attributes["short"][0]["available"] == "0"
    with pytest.raises(JxcError) as err3:
        deliver(shop, other, 1)  # another order's delivery
    assert err3.value.code == "insufficient_stock"
    dl = deliver(shop, so, 10)  # the order's own delivery consumes its reservation
    assert dl.counters[1]["cost"] == D("100.00")
    assert reserved(shop) == {}
    assert shop.qty("A") == 0
    shop.check_books()


def test_order_that_cannot_be_served_reports_every_short_line(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    so = shop.make("sales_order", [Line(1, "A", D(130), D(20), warehouse="W1"),
                                   Line(2, "C", D(5), D(20), warehouse="W1"),
                                   Line(3, "A", D(1), D(20), warehouse="W2")], "C1")
    shop.docs.submit(so.doc_id, BOSS)
    so = shop.docs.approve(so.doc_id, BOSS)
    short = {(s["item"], s["warehouse"]): (s["wanted"], s["available"], s["short"])
             for s in so.attributes["short"]}
    assert short == {("A", "W1"): ("130", "100", "30"), ("C", "W1"): ("5", "0", "5"),
                     ("A", "W2"): ("1", "0", "1")}
    assert reserved(shop) == {f"{so.doc_id}/1": D(100)}  # partial reservation
    assert shop.docs.get(so.doc_id).attributes["short"] == so.attributes["short"]


def test_customer_return_comes_back_at_the_delivery_cost(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    dl = deliver(shop, None, 10)
    assert dl.counters[1]["cost"] == D("100.00")
    shop.stock_in("A", D(10), D(20))  # a later receipt at another price
    #: (returned, value of the return, stock qty, stock value)
    for qty, value, on_hand, stock in [(4, "40.00", 14, "240.00"), (6, "60.00", 20, "300.00")]:
        sr = give_back(shop, dl, qty)
        assert shop.counters(sr.doc_id, 1, "returned", "value") == {
            "returned": D(qty), "value": D(value)}
        assert shop.roles(sr.doc_id) == {"inventory": D(value), "cogs": -D(value)}
        assert (shop.qty("A"), shop.value("A")) == (on_hand, D(stock))
    assert shop.counters(dl.doc_id, 1, "delivered", "cost", "returned",
                         "returned_value") == {
        "delivered": D(10), "cost": D("100.00"), "returned": D(10),
        "returned_value": D("100.00")}
    # FIFO: the returns form layers at 10.00; issuing 10 now takes the 20.00 layer first
    out = shop.run("adjustment", [Line(1, "A", D(-10), warehouse="W1")])
    assert out.counters[1]["value"] == D("200.00")
    with pytest.raises(JxcError) as err:
        give_back(shop, dl, 1)
    assert err.value.code == "over_receipt"
    shop.check_books()


def test_returns_one_by_one_restore_exactly_the_delivery_value(shop: Shop) -> None:
    shop.stock_in("A", D(3), D("33.3333333"))  # one layer 3 @ 100.00
    dl = deliver(shop, None, 3)
    assert dl.counters[1]["cost"] == D("100.00")
    values = [give_back(shop, dl, 1).counters[1]["value"] for _ in range(3)]
    assert values == [D("33.33"), D("33.34"), D("33.33")]
    assert (shop.qty("A"), shop.value("A")) == (3, D("100.00"))
    shop.check_books()


def test_customer_return_under_moving_average(shop: Shop) -> None:
    shop.stock_in("B", D(10), D(10))
    dl = deliver(shop, None, 4, item="B")  # 40.00
    shop.stock_in("B", D(6), D(30))  # 6 @ 10 + 6 @ 30 = 240.00 for 12
    sr = give_back(shop, dl, 2, item="B")
    assert sr.counters[1]["value"] == D("20.00")  # the delivery's cost, not the average 20
    assert (shop.qty("B"), shop.value("B")) == (14, D("260.00"))
    shop.check_books()


def test_invoice_journal_receivable_revenue_output_tax(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    so = sales_order(shop, ("A", 30))
    dl = deliver(shop, so, 20)
    si = shop.run("sales_invoice", [Line(1, "A", D(15), D("20.00"), T13,
                                         source=(dl.doc_id, 1))], "C1")
    assert [(r.role, r.debit, r.credit) for r in shop.journal(si.doc_id)] == [
        ("receivable", D("339.00"), D(0)), ("revenue", D(0), D("300.00")),
        ("output_tax", D(0), D("39.00"))]
    assert all(r.party == "C1" for r in shop.journal(si.doc_id))
    si2 = shop.run("sales_invoice", [Line(1, "A", D(5), D("22.60"), T13, True,
                                          source=(dl.doc_id, 1))], "C1")
    assert shop.roles(si2.doc_id) == {"receivable": D("113.00"), "revenue": D("-100.00"),
                                      "output_tax": D("-13.00")}
    assert shop.docs.get(dl.doc_id).counter(1, "invoiced") == 20
    assert shop.docs.get(so.doc_id).counter(1, "invoiced") == 20
    assert shop.value("A") == D("800.00")  # an invoice moves no stock
    with pytest.raises(JxcError) as err:
        shop.run("sales_invoice", [Line(1, "A", D(1), D(20), source=(dl.doc_id, 1))], "C1")
    assert err.value.code == "over_receipt"
    shop.check_books()


def test_cancel_of_an_approved_order_releases_its_reservations(shop: Shop) -> None:
    shop.stock_in("A", D(50), D(10))
    so = shop.make("sales_order", [Line(1, "A", D(30), D(20), warehouse="W1")], "C1")
    shop.docs.submit(so.doc_id, BOSS)
    shop.docs.approve(so.doc_id, BOSS)
    assert shop.jxc.balance("A", "W1").available == 20
    shop.docs.cancel(so.doc_id, BOSS)
    assert reserved(shop) == {}
    assert shop.jxc.balance("A", "W1").available == 50


def test_cancel_of_a_posted_order_releases_reservations_and_demand(shop: Shop) -> None:
    shop.stock_in("A", D(50), D(10))
    so = sales_order(shop, ("A", 30))
    assert shop.jxc.balance("A", "W1").demand == 30
    shop.docs.cancel(so.doc_id, BOSS)
    b = shop.jxc.balance("A", "W1")
    assert (b.reserved, b.demand, b.available, b.projected) == (0, 0, 50, 50)


def test_cancel_after_partial_delivery_is_refused_close_releases(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    so = sales_order(shop, ("A", 30))
    deliver(shop, so, 20)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(so.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert err.value.data["doc_id"] == so.doc_id
    assert shop.snapshot() == before
    closed = shop.docs.close(so.doc_id, BOSS)
    assert closed.state == State.CLOSED
    b = shop.jxc.balance("A", "W1")
    assert (b.on_hand, b.reserved, b.demand, b.available) == (80, 0, 0, 80)


def test_cancel_of_a_delivery_puts_it_back(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    shop.stock_in("A", D(10), D(14))
    so = sales_order(shop, ("A", 15))
    dl = deliver(shop, so, 15)
    assert dl.counters[1]["cost"] == D("170.00")  # 100 + 5 x 14
    shop.docs.cancel(dl.doc_id, BOSS)
    assert (shop.qty("A"), shop.value("A")) == (20, D("240.00"))
    assert shop.docs.get(so.doc_id).counter(1, "delivered") == 0
    assert shop.jxc.balance("A", "W1").demand == 15
    assert shop.roles(dl.doc_id) == {"cogs": 0, "inventory": 0}
    shop.check_books()


def test_cancel_of_a_returned_delivery_is_refused(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    dl = deliver(shop, None, 5)
    give_back(shop, dl, 1)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.cancel(dl.doc_id, BOSS)
    assert err.value.code == "reversal_impossible"
    assert shop.snapshot() == before


def test_close_after_a_customer_return_leaves_no_negative_demand(shop: Shop) -> None:
    shop.stock_in("A", D(100), D(10))
    so = sales_order(shop, ("A", 30))
    dl = deliver(shop, so, 30)
    give_back(shop, dl, 5)
    shop.docs.close(so.doc_id, BOSS)
    b = shop.jxc.balance("A", "W1")
    assert (b.demand, b.projected) == (0, 75)


def test_cancel_of_a_sales_return_takes_the_goods_out_again(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    dl = deliver(shop, None, 5)
    sr = give_back(shop, dl, 2)
    shop.docs.cancel(sr.doc_id, BOSS)
    assert (shop.qty("A"), shop.value("A")) == (5, D("50.00"))
    assert shop.docs.get(dl.doc_id).counter(1, "returned") == 0


def test_cancel_of_a_sales_invoice_posts_a_red_entry(shop: Shop) -> None:
    shop.stock_in("A", D(10), D(10))
    dl = deliver(shop, None, 5)
    si = shop.run("sales_invoice", [Line(1, "A", D(5), D(20), T13, source=(dl.doc_id, 1))],
                  "C1")
    shop.docs.cancel(si.doc_id, BOSS)
    assert shop.roles(si.doc_id) == {"receivable": 0, "revenue": 0, "output_tax": 0}
    assert shop.docs.get(dl.doc_id).counter(1, "invoiced") == 0


def test_all_or_nothing_reserves_nothing_for_an_order_with_a_short_line(shop: Shop) -> None:
    """DOMAIN 4, reserve partially or not at all (a setting): with ``reserve_partial=False``
    an approved order with a short line reserves nothing (its stock stays free for others)
    and reports every short line; an order served in full reserves as ever."""
    docs = Documents(shop.jxc, reserve_partial=False)
    shop.stock_in("A", D(100), D(10))
    so = docs.create("sales_order", [Line(1, "A", D(30), D(20), warehouse="W1"),
                                     Line(2, "C", D(5), D(20), warehouse="W1")], party="C1")
    docs.submit(so.doc_id, BOSS)
    so = docs.approve(so.doc_id, BOSS)
    assert so.state == State.APPROVED
    assert [(s["line_no"], s["item"], s["short"]) for s in so.attributes["short"]] == [
        ("2", "C", "5")]
    assert reserved(shop) == {}
    assert shop.jxc.balance("A", "W1").available == 100
    with shop.jxc.storage.unit_of_work() as uow:
        named = [e.payload for e in uow.outbox.pending() if e.type == "reservation_short"]
    assert named[-1]["doc_id"] == so.doc_id
    assert [x["line_no"] for x in named[-1]["lines"]] == ["2"]
    full = docs.create("sales_order", [Line(1, "A", D(30), D(20), warehouse="W1")], party="C1")
    docs.submit(full.doc_id, BOSS)
    full = docs.approve(full.doc_id, BOSS)
    assert reserved(shop) == {f"{full.doc_id}/1": D(30)}
    with pytest.raises(TypeError, match="reserve_partial"):
        Documents(shop.jxc, reserve_partial="no")  # type: ignore[arg-type]

"""FIFO/LIFO, negative stock allowed: a customer return of a delivery that went short, whose
units settle that delivery's own open shortage. Undone newest first (DOMAIN.md §2, §5: a
cancellation posts the reversal at the original costs, every posted document can be cancelled
newest first, then the stock is 0 / 0.00 and every role nets to zero), the return's
cancellation opens that shortage again at the estimate its units released and takes back the
settlement it booked on the delivery; the delivery's cancellation then closes its own
shortage and puts the rest back into the receipts' layers (docs/decisions.md, 2026-12-16,
"the cancellation of a return that settled its own delivery's shortage"). Until then a known
limit (2026-12-11): the return's cancellation was refused, and it held its delivery. Moving
average alike, newest first (docs/decisions.md, 2026-12-17, "a moving-average return that
settled its own delivery's shortage"): the units go back into the receipts' rows, and the
return's cancellation was taken out at the average, cost of goods sold and price difference
ending apart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
DAY = dt.date(2026, 2, 2)

@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "NFIFO", "NLIFO", "NAVG"])


def _shop(storage: str, tmp_path: Path) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "return.db")))
    j = Jxc(store, clock=TickingClock())
    setup_master(j)
    for code, method in (("NFIFO", "fifo"), ("NLIFO", "lifo"), ("NAVG", "moving_average")):
        j.define_item(Item(code, f"{method} item", costing_method=method, allow_negative=True))
    return Shop(j, Documents(j))


def _line(x: str, qty: int, price: str, source: tuple[str, int] | None = None) -> Line:
    return Line(1, x, D(qty), D(price), warehouse="W1", source=source)


def _post(shop: Shop, x: str, steps: list[tuple[str, int, str]]) -> list[str]:
    """Post ``steps`` on one day: ("delivery", qty, ""), ("receipt", qty, price),
    ("return", qty, "") of the first delivery; returns the document ids in order."""
    posted: list[str] = []
    for kind, qty, price in steps:
        if kind == "delivery":
            doc = shop.run("delivery", [_line(x, qty, "5.00")], "C1", date=DAY)
        elif kind == "receipt":
            doc = shop.run("purchase_receipt", [_line(x, qty, price)], "S1", date=DAY)
        else:
            first = next(d for d in posted if d.startswith("XSCK"))
            doc = shop.run("sales_return", [_line(x, qty, "0.00", (first, 1))], "C1", date=DAY)
        posted.append(doc.doc_id)
        shop.check_books()
    return posted


_SCENARIOS = [
    # a delivery of 1 short (estimate 0.00), a customer return of it: the return's unit
    # closes the delivery's own shortage, the stock is 0 / 0.00 and the return's layer empty
    [("delivery", 1, ""), ("return", 1, "")],
    # a receipt of 1 @ 1.00, a delivery of 2 (one from the receipt, one short), a return of
    # 1: it settles the delivery's open unit, and holds the delivery, which holds the receipt
    [("receipt", 1, "1.00"), ("delivery", 2, ""), ("return", 1, "")],
    # a delivery of 12 short, a receipt of 10 @ 1.97 settling 10, a return of 5: two of its
    # units settle the delivery's own open shortage, three are received as a layer
    [("delivery", 12, ""), ("receipt", 10, "1.97"), ("return", 5, "")],
]


def _newest_first(posted: list[str]) -> list[str]:
    """The return, then the delivery, then the receipts, each newest first: newest first but
    for a receipt whose units settled the delivery's shortage, which waits for the delivery
    (its layer is whole again once the delivery is cancelled, docs/stock-ledger.md)."""
    return [d for prefix in ("XSTH", "XSCK", "CGRK") for d in reversed(posted)
            if d.startswith(prefix)]



def _ends_empty(shop: Shop, x: str) -> None:
    """The stock of ``x`` is 0 / 0.00 and every role of the journal nets to zero."""
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    roles = {r.role for r in shop.journal()}
    assert {role: shop.net(role) for role in roles if shop.net(role)} == {}

@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO", "NAVG"])
@pytest.mark.parametrize("steps", _SCENARIOS)
def test_a_return_that_settled_its_own_delivery_undone_newest_first(
        x: str, storage: str, steps: list[tuple[str, int, str]], tmp_path: Path) -> None:
    """Every document cancelled newest first, none refused; then 0 / 0.00 and every role
    nets to zero."""
    shop = _shop(storage, tmp_path)
    for doc_id in _newest_first(_post(shop, x, steps)):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    _ends_empty(shop, x)


def _moved(shop: Shop, doc_id: str) -> list[tuple[str, str, D, D]]:
    """The ledger entries of ``doc_id`` and those its posting wrote naming other documents
    (settlements), as (kind, document, quantity, value), in entry order."""
    entries = sorted((e for _, e in shop.ledger_all()), key=lambda e: e.entry_no)
    first = min(e.entry_no for e in entries if e.doc_id == doc_id)
    return [(e.kind, e.doc_id, e.quantity, e.value) for e in entries
            if e.entry_no >= first and (e.doc_id == doc_id or not e.quantity)
            and e.posted_at == next(x.posted_at for x in entries if x.doc_id == doc_id)]


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO", "NAVG"])
def test_worked_example_12_short_10_received_5_returned(x: str, storage: str,
                                                        tmp_path: Path) -> None:
    """A delivery of 12 short (estimate 0.00); 10 received @ 1.97 settle 10 of it (19.70 to
    cost of goods sold); 5 returned at 5/12 of 19.70 = 8.21: 2 of them settle the delivery's
    own open units (their share 3.28, a settlement), 3 are a layer of 4.93. The return's
    cancellation takes out 8.21, its 3 units from its layer and the 2 that settled the
    delivery, whose shortage opens again at 0.00 (the settlement of 3.28 taken back): the
    stock is -2 / 0.00. The delivery's cancellation (19.70) closes those 2 at 0.00 and puts
    10 back into the receipt's layer at 19.70, which the receipt's cancellation takes. Moving
    average alike (the 3 units are the return's row of the pool, the 10 go back into the
    receipt's row); until 2026-12-17 its return's cancellation left at the average, 3 units
    at 4.93 and 2 short at 3.29 (8.22), and cost of goods sold and price difference ended
    0.55 apart once everything was cancelled."""
    shop = _shop(storage, tmp_path)
    delivery, receipt, back = _post(shop, x, [("delivery", 12, ""), ("receipt", 10, "1.97"),
                                              ("return", 5, "")])
    assert _moved(shop, back) == [("sales_return", back, 5, D("8.21")),
                                  ("cost_settlement", delivery, 0, D("-3.28"))]
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (3, D("4.93"))
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    assert _moved(shop, f"{back}-R") == [("return_reversal", f"{back}-R", -5, D("-8.21")),
                                         ("cost_settlement", delivery, 0, D("3.28"))]
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (-2, D("0.00"))
    assert shop.net("cogs") == D("19.70")  # the delivery's settlement by the receipt
    shop.docs.cancel(delivery, BOSS)
    shop.check_books()
    assert _moved(shop, f"{delivery}-R") == [
        ("delivery_reversal", f"{delivery}-R", 12, D("19.70"))]
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (10, D("19.70"))
    shop.docs.cancel(receipt, BOSS)
    shop.check_books()
    _ends_empty(shop, x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_cancelled_out_of_turn_the_refusal_leaves_the_books_as_they_were(
        x: str, storage: str, tmp_path: Path) -> None:
    """A delivery of 1 short, its return, then 1 received @ 1.00. The return's cancellation
    before the receipt's is refused as ``reversal_impossible`` (a later movement stands: the
    shortage opened again would stand beside the receipt's unit), the delivery's because the
    return refers to it; nothing is half posted. Newest first (the receipt, the return, the
    delivery) they all go, and every role nets to zero."""
    shop = _shop(storage, tmp_path)
    delivery, back, receipt = _post(shop, x, [("delivery", 1, ""), ("return", 1, ""),
                                              ("receipt", 1, "1.00")])
    entries = len(shop.ledger_all())
    for doc_id in (back, delivery):
        with pytest.raises(JxcError) as refused:
            shop.docs.cancel(doc_id, BOSS)
        assert refused.value.code == "reversal_impossible"
        shop.check_books()
    assert len(shop.ledger_all()) == entries
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (1, D("1.00"))
    for doc_id in (receipt, back, delivery):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    _ends_empty(shop, x)


@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_receipt_dated_before_the_delivery_after_the_return_was_cancelled(x: str) -> None:
    """A delivery of 1 short and its return (day 2), the return cancelled (the shortage opens
    again); then 1 @ 2.00 received dated day 1. Its replay gives the receipt's unit to the
    delivery (2.00), the return then settles nothing and is a layer of 2.00, its
    cancellation takes it (the return's record follows the replay). Cancelled newest first
    (the receipt waits for the delivery, whose cancellation puts its unit back): 0 / 0.00,
    every role nets to zero."""
    shop = _shop("memory", Path())
    day1, day2 = dt.date(2026, 2, 1), dt.date(2026, 2, 2)
    delivery = shop.run("delivery", [_line(x, 1, "5.00")], "C1", date=day2).doc_id
    back = shop.run("sales_return", [_line(x, 1, "0.00", (delivery, 1))], "C1",
                    date=day2).doc_id
    shop.docs.cancel(back, BOSS)
    shop.check_books()
    receipt = shop.run("purchase_receipt", [_line(x, 1, "2.00")], "S1", date=day1).doc_id
    shop.check_books()
    with pytest.raises(JxcError) as refused:
        shop.docs.cancel(receipt, BOSS)
    assert refused.value.code == "reversal_impossible"
    for doc_id in (delivery, receipt):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    _ends_empty(shop, x)

"""FIFO/LIFO, negative stock allowed, costed per warehouse: what a purchase receipt or a
transfer's arrival settled of open shortages is recorded by back-dated postings too (DOMAIN.md
§2, §5). A receipt posted back-dated records it; a back-dated posting that replays a receipt
records again what the receipt settles as replayed (also when it settles a shortage only in
the replay, a back-dated issue now lying before it); and a replayed cancellation of such a
receipt opens the shortages again as when posted. Until 2026-12-18 the replay dropped those
records, so the receipt could not be cancelled as the newest movement of its warehouse, and
some documents could never be cancelled in any order (docs/decisions.md, 2026-12-18)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line

from .support import BOSS
from .test_settled_shortage_undo import _books_see_the_items, _shop, _undo_all

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_transfer_back_dated_before_the_one_whose_arrival_settles_it(
        storage: str, x: str, tmp_path: Path) -> None:
    """3 sent W1 -> W2 on day 4, 2 @ 8.00 received into W2 on day 8, then 3 sent W2 -> W1
    back-dated to day 2: in its replay of W2 the day-4 arrival settles the day-2 transfer's
    shortage. Newest first by date (the receipt, the day-4 transfer, the day-2 transfer), all
    cancel; the day-4 transfer's cancellation, dated before the cancelled receipt, opens that
    shortage again. Until 2026-12-18 the two transfers could never be cancelled."""
    shop = _shop(storage, tmp_path)
    t4 = shop.run("transfer", [Line(1, x, D(3), D(0), warehouse="W1", to_warehouse="W2")],
                  date=_day(4))
    r8 = shop.run("purchase_receipt", [Line(1, x, D(2), D("8.00"), warehouse="W2")], "S1",
                  date=_day(8))
    t2 = shop.run("transfer", [Line(1, x, D(3), D(0), warehouse="W2", to_warehouse="W1")],
                  date=_day(2))
    assert (shop.qty(x, "W1"), shop.qty(x, "W2")) == (0, 2)
    _undo_all(shop, x, [t2.doc_id, t4.doc_id, r8.doc_id])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_receipt_that_settles_a_back_dated_delivery_only_in_its_replay(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 @ 4.00 received on day 3 (nothing short then), then 3 delivered back-dated to day 2:
    replayed, the receipt settles 2 of the delivery's shortage. Newest first by date, the
    receipt (it opens them again), then the delivery. Until 2026-12-18 the receipt was refused
    until the delivery was cancelled."""
    shop = _shop(storage, tmp_path)
    r = shop.run("purchase_receipt", [Line(1, x, D(2), D("4.00"), warehouse="W1")], "S1",
                 date=_day(3))
    d = shop.run("delivery", [Line(1, x, D(3), D("9.00"), warehouse="W1")], "C1", date=_day(2))
    assert shop.qty(x, "W1") == -1
    _undo_all(shop, x, [d.doc_id, r.doc_id])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_back_dated_receipt_records_what_it_settled(
        storage: str, x: str, tmp_path: Path) -> None:
    """3 delivered short on day 2, 1 @ 6.00 received on day 5 (it settles 1), then 2 @ 4.00
    received back-dated to day 3: it settles 2 of the delivery's shortage and records it, and
    the day-5 receipt, replayed, records what it settles now. Newest first by date: the day-5
    receipt, the day-3 receipt (its cancellation replays the cancelled day-5 pair), the
    delivery."""
    shop = _shop(storage, tmp_path)
    d = shop.run("delivery", [Line(1, x, D(3), D("9.00"), warehouse="W1")], "C1", date=_day(2))
    r5 = shop.run("purchase_receipt", [Line(1, x, D(1), D("6.00"), warehouse="W1")], "S1",
                  date=_day(5))
    r3 = shop.run("purchase_receipt", [Line(1, x, D(2), D("4.00"), warehouse="W1")], "S1",
                  date=_day(3))
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (0, D("0.00"))
    _undo_all(shop, x, [d.doc_id, r3.doc_id, r5.doc_id])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_back_dated_receipt_of_too_few_replays_a_reopening_cancellation(
        storage: str, x: str, tmp_path: Path) -> None:
    """3 delivered short and 2 @ 4.00 received on day 3, the receipt cancelled (it opens the
    delivery's shortage again); then 1 @ 5.00 received back-dated to day 1: replayed, the
    delivery takes that unit and the day-3 receipt settles 2 of its shortage, which the
    receipt's cancellation opens again, as when posted. Newest first: the delivery, the
    back-dated receipt."""
    shop = _shop(storage, tmp_path)
    d = shop.run("delivery", [Line(1, x, D(3), D("9.00"), warehouse="W1")], "C1", date=_day(3))
    r = shop.run("purchase_receipt", [Line(1, x, D(2), D("4.00"), warehouse="W1")], "S1",
                 date=_day(3))
    shop.docs.cancel(r.doc_id, BOSS)
    shop.check_books()
    r1 = shop.run("purchase_receipt", [Line(1, x, D(1), D("5.00"), warehouse="W1")], "S1",
                  date=_day(1))
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (-2, D("-10.00"))  # at 5.00 each
    _undo_all(shop, x, [r1.doc_id, d.doc_id])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_receipt_whose_settled_delivery_is_cancelled_cancels_newest_first(
        storage: str, x: str, tmp_path: Path) -> None:
    """In W1: 3 delivered short (day 1), 2 sent to W2 short (day 4), 1 @ 8.00 received and 1
    delivered (day 5), 2 @ 12.50 received (day 8). The day-1 delivery is cancelled, then the
    day-5 one: its cancellation, dated before the day-8 receipt, comes back at what it costs
    as replayed at its moment (its unit into the day-5 receipt's layer), and the rest cancels
    strictly newest first, every role netting to zero. Until 2026-12-20 the cancellation came
    back at the ledger's cost less the later settlements (0.00): replayed, it settled the
    transfer's shortage with its units and left its own to the day-8 receipt, which had to
    wait for the transfer (the guard of 2026-12-18, ``_issue_cancelled``)."""
    shop = _shop(storage, tmp_path)
    t = shop.run("transfer", [Line(1, x, D(2), D(0), warehouse="W1", to_warehouse="W2")],
                 date=_day(4))
    d1 = shop.run("delivery", [Line(1, x, D(3), D("9.00"), warehouse="W1")], "C1", date=_day(1))
    r8 = shop.run("purchase_receipt", [Line(1, x, D(2), D("12.50"), warehouse="W1")], "S1",
                  date=_day(8))
    r5 = shop.run("purchase_receipt", [Line(1, x, D(1), D("8.00"), warehouse="W1")], "S1",
                  date=_day(5))
    d5 = shop.run("delivery", [Line(1, x, D(1), D("9.00"), warehouse="W1")], "C1", date=_day(5))
    for doc in (d1, d5):
        shop.docs.cancel(doc.doc_id, BOSS)
        shop.check_books()
    # the transfer's shortage settled by the day-5 unit and one of the day-8 receipt's
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (1, D("12.50"))
    _undo_all(shop, x, [t.doc_id, r5.doc_id, r8.doc_id])

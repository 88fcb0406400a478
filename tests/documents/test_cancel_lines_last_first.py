"""A document's cancellation undoes its lines last first, the mirror of its posting (DOMAIN.md
§2, §5). FIFO/LIFO with negative stock: a delivery of two lines of one item, the first taking
a receipt's last unit and the second going short, cancelled. Undone in line order, the first
line's unit came back while the second line's shortage was open: it filled that shortage,
the second line's unit became a layer of the cancellation, and the receipt's layer stayed
empty, so the receipt could never be cancelled, even as the last document left. Undone last
first, the second line closes its own shortage and the first line's unit goes back into the
receipt's layer (docs/decisions.md, 2026-12-19, "a cancellation undoes its lines last
first")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line

from .support import BOSS
from .test_settled_shortage_undo import _all_undone, _books_see_the_items, _shop

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_a_two_line_delivery_partly_short_cancelled_then_its_receipt(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received; a delivery of 1 and 1 (the second short at 13.33); the delivery
    cancelled (its lines last first), then the receipt."""
    shop = _shop(storage, tmp_path)
    r = shop.run("purchase_receipt", [Line(1, x, D(1), D("13.33"), warehouse="W1")], "S1",
                 date=_day(6)).doc_id
    d = shop.run("delivery", [Line(1, x, D(1), D("99.00"), warehouse="W1"),
                              Line(2, x, D(1), D("99.00"), warehouse="W1")], "C1",
                 date=_day(8)).doc_id
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (-1, D("-13.33"))
    shop.docs.cancel(d, BOSS)
    shop.check_books()
    entries = [line.entry for line in shop.jxc.ledger(x, "W1")
               if line.entry.doc_id == f"{d}-R"]
    assert [(e.line_no, e.quantity, e.value) for e in entries] == [
        (2, D(1), D("13.33")), (1, D(1), D("13.33"))]
    assert (shop.qty(x, "W1"), shop.value(x, "W1")) == (1, D("13.33"))
    shop.docs.cancel(r, BOSS)
    shop.check_books()
    _all_undone(shop, x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_three_lines_two_receipts_cancelled_newest_first(
        storage: str, x: str, tmp_path: Path) -> None:
    """2 @ 10.00 and 1 @ 12.00 received; a delivery of 2, 1 and 2 (the last line 2 short);
    newest first: the delivery, then each receipt, everything back to nothing."""
    shop = _shop(storage, tmp_path)
    r1 = shop.run("purchase_receipt", [Line(1, x, D(2), D("10.00"), warehouse="W1")], "S1",
                  date=_day(3)).doc_id
    r2 = shop.run("purchase_receipt", [Line(1, x, D(1), D("12.00"), warehouse="W1")], "S1",
                  date=_day(4)).doc_id
    d = shop.run("delivery", [Line(1, x, D(2), D("99.00"), warehouse="W1"),
                              Line(2, x, D(1), D("99.00"), warehouse="W1"),
                              Line(3, x, D(2), D("99.00"), warehouse="W1")], "C1",
                 date=_day(8)).doc_id
    assert shop.qty(x, "W1") == -2
    for doc_id in (d, r2, r1):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    _all_undone(shop, x)

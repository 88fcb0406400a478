"""Negative stock allowed (FIFO, LIFO, moving average): a customer return or a purchase receipt
of several lines whose units settled open shortages, cancelled newest first (DOMAIN.md §2, §5).

A delivery of two lines of one item, both short, then a return of both lines: each line's
units settle a shortage (its own delivery line's, or the other line's: every receipt fills the
oldest first) and keep what they settled for their cancellation. The cancellation undoes the
lines last first, but each line was checked as if the document's later lines still stood:
until 2026-12-21 the first line was refused ("1 of its units have left stock already": a later
movement of the scope, its own document's next line, was not cancelled yet), and the delivery
with it (the return refers to it). Moving average cancelled, but a two-line receipt that
settled shortages left cost of goods sold and price difference apart. Now the document's later
lines count as undone before each line (docs/decisions.md, 2026-12-21, "a document of several
lines that settled shortages, cancelled")."""

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
METHODS = {"NF": "fifo", "NL": "lifo", "NM": "moving_average"}


@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, *METHODS])


def _shop(storage: str, tmp_path: Path, organisation: bool = False) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "several.db")))
    j = Jxc(store, clock=TickingClock(), organisation_scope=organisation)
    setup_master(j)
    for code, method in METHODS.items():
        j.define_item(Item(code, f"{method} item", costing_method=method, allow_negative=True))
    return Shop(j, Documents(j))


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


def _receipt(shop: Shop, x: str, day: int, *lines: tuple[int, str], wh: str = "W1") -> str:
    """A purchase receipt of one line per (quantity, price), in ``wh``."""
    return shop.run("purchase_receipt",
                    [Line(n, x, D(q), D(p), warehouse=wh) for n, (q, p) in enumerate(lines, 1)],
                    "S1", date=_day(day)).doc_id


def _delivery(shop: Shop, x: str, day: int, *lines: tuple[int, str]) -> str:
    """A delivery of one line per (quantity, warehouse)."""
    return shop.run("delivery", [Line(n, x, D(q), D("99.00"), warehouse=wh)
                                 for n, (q, wh) in enumerate(lines, 1)],
                    "C1", date=_day(day)).doc_id


def _return(shop: Shop, x: str, delivery: str, day: int, *lines: tuple[int, int, str]) -> str:
    """A customer return of one line per (delivery line, quantity, warehouse)."""
    return shop.run("sales_return", [Line(k, x, D(q), D("99.00"), warehouse=wh,
                                          source=(delivery, n))
                                     for k, (n, q, wh) in enumerate(lines, 1)],
                    "C1", date=_day(day)).doc_id


def _stock(shop: Shop, x: str, wh: str = "W1") -> tuple[Decimal, Decimal]:
    return shop.qty(x, wh), shop.value(x, wh)


def _cancel(shop: Shop, doc_id: str) -> None:
    shop.docs.cancel(doc_id, BOSS)
    shop.check_books()
    assert {r: v for r, v in shop.roles(doc_id).items() if v} == {}


def _undo_all(shop: Shop, x: str, posted: list[str]) -> None:
    """Cancel ``posted`` strictly newest first; then every warehouse is at 0 / 0.00 and every
    role nets to zero."""
    for doc_id in reversed(posted):
        _cancel(shop, doc_id)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize(("x", "order"), [
    ("NF", (1, 2)), ("NF", (2, 1)), ("NL", (1, 2)), ("NL", (2, 1)),
    ("NM", (1, 2))])  # (moving average, line 2 first: its return keeps no record to refuse)
def test_a_return_of_both_short_lines_cancels_first(
        storage: str, x: str, order: tuple[int, int], tmp_path: Path) -> None:
    """1 @ 13.33 received and delivered; a delivery of two lines of 1, both short at 13.33
    (-2 / -26.66); both returned in one document (line 1 first, or line 2 first: the
    return's first line then settles delivery line 1's shortage, not its own). The return's
    cancellation opens both shortages again at 13.33; then everything cancels."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, (1, "13.33"))
    d0 = _delivery(shop, x, 1, (1, "W1"))
    d = _delivery(shop, x, 2, (1, "W1"), (1, "W1"))
    assert _stock(shop, x) == (-2, D("-26.66"))
    back = _return(shop, x, d, 3, *((n, 1, "W1") for n in order))
    assert _stock(shop, x) == (0, D("0.00"))
    _cancel(shop, back)
    assert _stock(shop, x) == (-2, D("-26.66"))
    _undo_all(shop, x, [r, d0, d])


@pytest.mark.parametrize("x", list(METHODS))
def test_returned_lines_in_two_warehouses_by_organisation(x: str, tmp_path: Path) -> None:
    """Costed by organisation: 1 @ 13.33 received in W1 and delivered; a delivery of 1 from W1
    and 2 from W2, short at 13.33 a unit; 1 of each line returned in one document (each
    settles its own line's shortage). Its cancellation takes them out again (W1 -1 / -13.33,
    W2 -2 / -26.66); then everything cancels."""
    shop = _shop("memory", tmp_path, organisation=True)
    r = _receipt(shop, x, 1, (1, "13.33"))
    d0 = _delivery(shop, x, 1, (1, "W1"))
    d = _delivery(shop, x, 2, (1, "W1"), (2, "W2"))
    back = _return(shop, x, d, 3, (1, 1, "W1"), (2, 1, "W2"))
    assert (_stock(shop, x, "W1"), _stock(shop, x, "W2")) == ((0, D("0.00")),
                                                              (-1, D("-13.33")))
    _cancel(shop, back)
    assert (_stock(shop, x, "W1"), _stock(shop, x, "W2")) == ((-1, D("-13.33")),
                                                              (-2, D("-26.66")))
    _undo_all(shop, x, [r, d0, d])


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_two_line_receipt_that_settled_a_short_delivery_cancels_first(
        storage: str, x: str, tmp_path: Path) -> None:
    """1 @ 13.33 received and delivered; 2 delivered short at 13.33 (-2 / -26.66); a receipt
    of two lines, 1 @ 10.00 and 1 @ 12.00: each settles one of the shortage. Its
    cancellation opens the shortage again at 13.33 a unit; then everything cancels."""
    shop = _shop(storage, tmp_path)
    r = _receipt(shop, x, 1, (1, "13.33"))
    d0 = _delivery(shop, x, 1, (1, "W1"))
    d = _delivery(shop, x, 2, (2, "W1"))
    settling = _receipt(shop, x, 3, (1, "10.00"), (1, "12.00"))
    assert _stock(shop, x) == (0, D("0.00"))
    _cancel(shop, settling)
    assert _stock(shop, x) == (-2, D("-26.66"))
    _undo_all(shop, x, [r, d0, d])


@pytest.mark.parametrize("x", list(METHODS))
def test_a_return_then_a_two_line_receipt_settling_the_rest(x: str, tmp_path: Path) -> None:
    """From nothing in W2: a delivery of 2 and 3 (short at 0.00), 1 of its line 2 returned (it
    settles line 1's shortage, the oldest), then a receipt of 1 @ 13.33 and 3 @ 13.33: it
    settles the other 4 (53.32 into cost of goods sold). Cancelled newest first: the
    receipt (-4 / 0.00), the return (-5 / 0.00), the delivery; nothing is left in any role
    (moving average left 6.66 between cost of goods sold and price difference)."""
    shop = _shop("memory", tmp_path)
    d = _delivery(shop, x, 2, (2, "W2"), (3, "W2"))
    back = _return(shop, x, d, 2, (2, 1, "W2"))
    rc = _receipt(shop, x, 2, (1, "13.33"), (3, "13.33"), wh="W2")
    assert _stock(shop, x, "W2") == (0, D("0.00"))
    assert shop.net("cogs") == D("53.32")
    _cancel(shop, rc)
    assert _stock(shop, x, "W2") == (-4, D("0.00"))
    _cancel(shop, back)
    assert _stock(shop, x, "W2") == (-5, D("0.00"))
    _cancel(shop, d)
    shop.assert_all_undone(x)


@pytest.mark.parametrize("x", ["NF", "NL"])
def test_a_return_of_both_lines_waits_for_a_later_receipt(x: str, tmp_path: Path) -> None:
    """The return of both short lines, then 1 @ 10.00 received (a layer beside nothing short):
    the return, cancelled out of turn, stays refused (the receipt stands after it); once the
    receipt is cancelled it goes through, and then the delivery."""
    shop = _shop("memory", tmp_path)
    d = _delivery(shop, x, 2, (1, "W1"), (1, "W1"))
    back = _return(shop, x, d, 3, (1, 1, "W1"), (2, 1, "W1"))
    r = _receipt(shop, x, 4, (1, "10.00"))
    with pytest.raises(JxcError, match="have left stock already"):
        shop.docs.cancel(back, BOSS)
    _cancel(shop, r)
    _cancel(shop, back)
    assert _stock(shop, x) == (-2, D("0.00"))
    _cancel(shop, d)
    shop.assert_all_undone(x)

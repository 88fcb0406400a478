"""FIFO/LIFO, negative stock allowed: a customer return of a delivery that went short, whose
units settle that delivery's own open shortage. Undoing everything newest first (DOMAIN.md
§2, §5: a cancellation posts the reversal at the original costs, every posted document can be
cancelled newest first, then the stock is 0 / 0.00 and every role nets to zero) is refused:
a known limit (docs/decisions.md, 2026-12-11, "a customer return that settled its own
delivery's shortage")."""

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

_LIMIT = ("known limit (docs/decisions.md, 2026-12-11): a FIFO/LIFO customer return whose "
          "units settled its own delivery's shortage keeps none of them in its layer, so its "
          "cancellation is refused, and it holds its delivery")


@pytest.fixture(autouse=True)
def _books_see_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "NFIFO", "NLIFO"])


def _shop(storage: str, tmp_path: Path) -> Shop:
    store = (MemoryStorage() if storage == "memory"
             else SqliteStorage(str(tmp_path / "return.db")))
    j = Jxc(store, clock=TickingClock())
    setup_master(j)
    for code, method in (("NFIFO", "fifo"), ("NLIFO", "lifo")):
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


@pytest.mark.xfail(strict=True, reason=_LIMIT)
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
@pytest.mark.parametrize("steps", _SCENARIOS)
def test_a_return_that_settled_its_own_delivery_undone_newest_first(
        x: str, storage: str, steps: list[tuple[str, int, str]], tmp_path: Path) -> None:
    """Every document cancelled newest first, none refused; then 0 / 0.00 and every role
    nets to zero."""
    shop = _shop(storage, tmp_path)
    for doc_id in reversed(_post(shop, x, steps)):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    roles = {r.role for r in shop.journal()}
    assert {role: shop.net(role) for role in roles if shop.net(role)} == {}


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("x", ["NFIFO", "NLIFO"])
def test_the_refusal_leaves_the_books_as_they_were(x: str, storage: str,
                                                   tmp_path: Path) -> None:
    """What the limit does today: the return's cancellation is refused as
    ``reversal_impossible`` (its units have left its layer), the delivery's because the return
    refers to it; nothing is half posted: the stock stays 0 / 0.00 and the books check."""
    shop = _shop(storage, tmp_path)
    delivery, back = _post(shop, x, [("delivery", 1, ""), ("return", 1, "")])
    entries = len(shop.ledger_all())
    for doc_id in (back, delivery):
        with pytest.raises(JxcError) as refused:
            shop.docs.cancel(doc_id, BOSS)
        assert refused.value.code == "reversal_impossible"
        shop.check_books()
    assert len(shop.ledger_all()) == entries
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))

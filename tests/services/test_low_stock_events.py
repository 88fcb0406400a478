"""Low-stock events (DOMAIN.md section 8): a posting that takes the on-hand quantity of an item
in a warehouse from at or above a level to below it emits ``below_safety_stock`` /
``below_reorder_point``. The levels are the item's, or the warehouse's own (``Item.levels``).
On both adapters (the ``storage`` fixture)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from jxc_core.adapters import SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc
from jxc_core.stock import Item, ReplenishmentRule, StockLevels, Warehouse
from jxc_core.testing.contract import RecordingNotifier

from .support import HandClock

D = Decimal
T0 = dt.datetime(2026, 3, 2, 9, 0)
LOW = ("below_safety_stock", "below_reorder_point")


def shop(storage: Storage, item: Item) -> tuple[Jxc, RecordingNotifier]:
    notes = RecordingNotifier()
    j = Jxc(storage, clock=HandClock(T0), notifier=notes)
    j.define_item(item)
    for wh in ("SH", "BJ"):
        j.define_warehouse(Warehouse(wh, wh))
    return j, notes


def alerts(notes: RecordingNotifier) -> list[tuple[str, str, str, str]]:
    """(type, warehouse, on_hand, level) of the low-stock events delivered so far, cleared."""
    got = [(e.type, e.payload["warehouse"], e.payload["on_hand"], e.payload["level"])
           for e in notes.delivered if e.type in LOW]
    notes.delivered.clear()
    return got


def test_the_items_levels_alert_once_when_crossed(storage: Storage) -> None:
    """Safety stock 20, reorder point 30: 40 received, 15 out leaves 25 (below the reorder
    point only), 10 more leaves 15 (below safety stock now; the reorder point was crossed
    before, so it is not reported again); a receipt back to 40 and an issue to 19 reports
    both again."""
    j, notes = shop(storage, Item("T", "tea", safety_stock=D(20), reorder_point=D(30)))
    j.receive("T", "SH", D(40), D("1.00"))
    assert alerts(notes) == []
    j.issue("T", "SH", D(15))
    assert alerts(notes) == [("below_reorder_point", "SH", "25", "30")]
    j.issue("T", "SH", D(10))
    assert alerts(notes) == [("below_safety_stock", "SH", "15", "20")]
    j.issue("T", "SH", D(1))
    assert alerts(notes) == []
    j.receive("T", "SH", D(26), D("1.00"))
    j.issue("T", "SH", D(21))
    assert alerts(notes) == [("below_safety_stock", "SH", "19", "20"),
                             ("below_reorder_point", "SH", "19", "30")]


def test_a_warehouse_has_levels_of_its_own(storage: Storage) -> None:
    """The item's levels (reorder point 30) hold in BJ; SH has its own (reorder point 5,
    safety stock 2); the same issues alert in each warehouse at its own levels."""
    item = Item("T", "tea", reorder_point=D(30),
                levels={"SH": StockLevels(safety_stock=D(2), reorder_point=D(5))})
    j, notes = shop(storage, item)
    for wh in ("SH", "BJ"):
        j.receive("T", wh, D(40), D("1.00"))
        j.issue("T", wh, D(15))
    assert alerts(notes) == [("below_reorder_point", "BJ", "25", "30")]
    j.issue("T", "SH", D(21))
    assert alerts(notes) == [("below_reorder_point", "SH", "4", "5")]
    j.issue("T", "SH", D(3))
    assert alerts(notes) == [("below_safety_stock", "SH", "1", "2")]


def test_levels_of_none_silence_a_warehouse(storage: Storage) -> None:
    """``StockLevels()`` in the transit warehouse: no alert there, while the item's own
    levels still hold in the other warehouses; a transfer alerts in its source."""
    item = Item("T", "tea", reorder_point=D(10), levels={"BJ": StockLevels()})
    j, notes = shop(storage, item)
    j.receive("T", "SH", D(12), D("1.00"))
    j.transfer("T", "SH", "BJ", D(12))
    assert alerts(notes) == [("below_reorder_point", "SH", "0", "10")]
    j.issue("T", "BJ", D(12))
    assert alerts(notes) == []


def test_a_rule_gives_its_levels_to_the_warehouse(storage: Storage) -> None:
    """``ReplenishmentRule.stock_levels()``: the stock service alerts on the figures the
    suggestions use."""
    rule = ReplenishmentRule("T", "SH", reorder_point=D(8), safety_stock=D(3), supplier="S")
    assert rule.stock_levels() == StockLevels(safety_stock=D(3), reorder_point=D(8))
    j, notes = shop(storage, Item("T", "tea", levels={rule.warehouse: rule.stock_levels()}))
    j.receive("T", "SH", D(10), D("1.00"))
    j.issue("T", "SH", D(8))
    assert alerts(notes) == [("below_safety_stock", "SH", "2", "3"),
                             ("below_reorder_point", "SH", "2", "8")]


def test_the_levels_are_stored_with_the_item(storage: Storage) -> None:
    item = Item("T", "tea", safety_stock=1, reorder_point=D("2.5"),
                levels={"SH": StockLevels(reorder_point=7), "BJ": StockLevels()})
    assert item.safety_stock == D(1) and type(item.safety_stock) is Decimal  # int as Decimal
    j, _ = shop(storage, item)
    got = j.item("T")
    assert got == item
    assert got.levels_in("SH") == StockLevels(None, D(7))
    assert got.levels_in("BJ") == StockLevels()
    assert got.levels_in("GZ") == StockLevels(D(1), D("2.5"))
    assert Item.from_data(item.to_data()) == item


def test_the_stored_form_of_an_item_without_levels_is_unchanged() -> None:
    """Items stored by earlier versions (no ``levels`` key) load; an item without levels is
    stored exactly as before."""
    old = {"code": "T", "name": "tea", "base_unit": "个", "units": {}, "quantity_digits": 0,
           "costing_method": "fifo", "allow_negative": False, "standard_cost": None,
           "lot_tracked": False, "serial_tracked": False, "category": "",
           "safety_stock": "5", "reorder_point": None}
    item = Item.from_data(old)
    assert item.levels == {} and item.safety_stock == D(5)
    assert item.to_data() == old


def test_levels_survive_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "shop.db")
    item = Item("T", "tea", levels={"SH": StockLevels(D(2), D(5))})
    j, _ = shop(SqliteStorage(path), item)
    j.storage.close()
    again = Jxc(SqliteStorage(path))
    assert again.item("T").levels == {"SH": StockLevels(D(2), D(5))}
    again.storage.close()


@pytest.mark.parametrize("make, code", [
    (lambda: Item("T", "t", safety_stock=D(-1)), "negative_amount"),
    (lambda: Item("T", "t", reorder_point=-3), "negative_amount"),
    (lambda: StockLevels(reorder_point=D(-1)), "negative_amount"),
    (lambda: Item("T", "t", levels={"": StockLevels()}), "configuration"),
])
def test_bad_levels_are_refused(make: Any, code: str) -> None:
    with pytest.raises(JxcError) as err:
        make()
    assert err.value.code == code


@pytest.mark.parametrize("make", [
    lambda: Item("T", "t", safety_stock=1.5),
    lambda: StockLevels(safety_stock="5"),
    lambda: Item("T", "t", levels={"SH": (1, 2)}),
    lambda: Item("T", "t", levels=[("SH", StockLevels())]),
])
def test_levels_of_the_wrong_type_are_type_errors(make: Any) -> None:
    with pytest.raises(TypeError):
        make()


def test_changing_the_levels_needs_no_stock_move(storage: Storage) -> None:
    """Levels are master data: defining the item again with other levels takes effect at the
    next posting."""
    j, notes = shop(storage, Item("T", "tea"))
    j.receive("T", "SH", D(10), D("1.00"))
    j.issue("T", "SH", D(5))
    assert alerts(notes) == []
    j.define_item(attrs.evolve(j.item("T"), levels={"SH": StockLevels(reorder_point=D(5))}))
    j.issue("T", "SH", D(1))
    assert alerts(notes) == [("below_reorder_point", "SH", "4", "5")]


def _transfer_shop(storage: Storage) -> tuple[Jxc, Any, RecordingNotifier]:
    from jxc_core.services import Documents
    j, notes = shop(storage, Item("A", "a", safety_stock=D(10), reorder_point=D(20)))
    for wh in ("SH", "BJ"):
        j.receive("A", wh, D(25), D("5.00"), doc_id=f"RK-{wh}")
    alerts(notes)
    return j, Documents(j), notes


def _transfer(docs: Any, *moves: tuple[str, str, int]) -> str:
    from jxc_core.documents import Line, User
    boss = User("boss", frozenset())
    doc = docs.create("transfer", [Line(n, "A", D(q), D(0), warehouse=src, to_warehouse=dst)
                                   for n, (src, dst, q) in enumerate(moves, start=1)])
    return str(docs.approve_through(doc.doc_id, [boss]).doc_id)


def test_a_transfer_document_alerts_once_for_all_its_lines(storage: Storage) -> None:
    """A transfer document posts line by line; its low-stock events are those of the whole
    document, as a delivery's: two lines of 8 out of 25 alert at 9 (not at 17 for the
    reorder point, a level never committed)."""
    _, docs, notes = _transfer_shop(storage)
    _transfer(docs, ("SH", "BJ", 8), ("SH", "BJ", 8))
    assert alerts(notes) == [("below_safety_stock", "SH", "9", "10"),
                             ("below_reorder_point", "SH", "9", "20")]


def test_a_transfer_there_and_back_alerts_for_where_it_ends(storage: Storage) -> None:
    """20 out of SH and 10 back in one document: SH ends at 15, below the reorder point
    only (line by line it went to 5 and alerted below the safety stock too)."""
    _, docs, notes = _transfer_shop(storage)
    _transfer(docs, ("SH", "BJ", 20), ("BJ", "SH", 10))
    assert alerts(notes) == [("below_reorder_point", "SH", "15", "20")]


def test_a_transfer_cancelled_alerts_once(storage: Storage) -> None:
    """The cancellation of a transfer into SH (two lines of 8) takes SH from 41 to 25 and
    alerts nothing; of one out of SH and back, once for where SH ends."""
    from jxc_core.documents import User
    boss = User("boss", frozenset())
    _, docs, notes = _transfer_shop(storage)
    into = _transfer(docs, ("BJ", "SH", 8), ("BJ", "SH", 8))
    assert alerts(notes) == [("below_safety_stock", "BJ", "9", "10"),
                             ("below_reorder_point", "BJ", "9", "20")]
    docs.cancel(into, boss)
    assert alerts(notes) == []
    back = _transfer(docs, ("BJ", "SH", 10), ("SH", "BJ", 20))
    assert alerts(notes) == [("below_reorder_point", "SH", "15", "20")]
    docs.cancel(back, boss)  # SH 15 -> 25: nothing crossed downwards
    assert alerts(notes) == []
    out = _transfer(docs, ("SH", "BJ", 2))
    assert alerts(notes) == []  # 23: not below 20
    _transfer(docs, ("BJ", "SH", 4))
    docs.cancel(_transfer(docs, ("SH", "BJ", 1)), boss)
    docs.cancel(out, boss)
    assert alerts(notes) == []

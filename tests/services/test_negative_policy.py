"""Negative stock per item or warehouse, and the default cost of a shortage's estimate
(DOMAIN 2, docs/costing.md "Negative stock"), on both adapters.

- the policy of (item, warehouse) is the warehouse's ``allow_negative`` if set, else the
  item's: a warehouse may allow what the item forbids, and forbid what the item allows;
- forbidden: ``insufficient_stock`` naming item, warehouse, needed, on hand and short, and
  nothing written;
- allowed: the shortage is valued at the last unit cost consumed, else the average, else
  ``Item.default_cost``, else 0; a later receipt settles the difference as a
  ``shortage_settlement`` cost adjustment (a ``cost_adjusted`` event);
- a change of the item's ``default_cost`` or of either policy holds for the issues after it,
  also in scopes whose valuation is stored already (a service that cached it, or a new one
  reading the store);
- costed by organisation, each warehouse is still checked by its own policy; the one
  valuation of the item allows negative stock when the item does or some warehouse is
  defined with ``allow_negative=True``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse
from jxc_core.values import MAX_MAGNITUDE

from .support import Events

D = Decimal


def shop(storage: Storage, item: Item, *warehouses: Warehouse,
         org: bool = False) -> tuple[Jxc, Events]:
    events = Events()
    j = Jxc(storage, notifier=events, organisation_scope=org)
    for wh in warehouses or (Warehouse("W", "main"),):
        j.define_warehouse(wh)
    j.define_item(item)
    return j, events


def refused(call: Any, code: str = "insufficient_stock") -> JxcError:
    with pytest.raises(JxcError) as info:
        call()
    assert info.value.code == code
    return info.value


def stored_state(storage: Storage, scope: tuple[str, str]) -> dict[str, Any]:
    with storage.unit_of_work() as uow:
        state = uow.valuations.get(scope)
    assert state is not None
    return state


# -- the worked examples of DOMAIN 2, allowed by the item or by the warehouse ------------------
#: (step, quantity, unit cost of a receipt) -> stock (quantity, value) after it, the value of
#: the step's ledger entry (+ in, - out; a receipt fills shortages at their estimates) and
#: the adjustments it settled
EXAMPLES = {
    "two layers": [
        ("in", D(10), D(10), D(10), D(100), D(100), []),
        ("in", D(10), D(20), D(20), D(300), D(200), []),
        ("out", D(30), None, D(-10), D(-200), D(-500), []),  # 100 + 200 + 10 x 20 estimated
        # the receipt fills the shortage at its estimate (200); the rest (+100) is COGS
        ("in", D(10), D(30), D(0), D(0), D(200), [D(100)]),
        ("in", D(10), D(40), D(10), D(400), D(400), []),
    ],
    "two shortages": [
        ("in", D(10), D(10), D(10), D(100), D(100), []),
        ("out", D(15), None, D(-5), D(-50), D(-150), []),
        ("out", D(5), None, D(-10), D(-100), D(-50), []),
        ("in", D(15), D(15), D(5), D(75), D(175), [D(25), D(25)]),
    ],
}


@pytest.mark.parametrize(("example", "method"), [
    ("two layers", "fifo"),  # the estimate is the last layer's cost (LIFO: 10, average: 15)
    ("two shortages", "fifo"),
    ("two shortages", "lifo"),
    ("two shortages", "moving_average"),
])
@pytest.mark.parametrize("who", ["item", "warehouse"])
def test_domain_examples(storage: Storage, example: str, method: str, who: str) -> None:
    item = Item("A", "a", costing_method=method, allow_negative=who == "item")
    house = Warehouse("W", "main", allow_negative=True if who == "warehouse" else None)
    j, events = shop(storage, item, house)
    for n, (step, qty, cost, on_hand, value, moved, settled) in enumerate(EXAMPLES[example]):
        if step == "in":
            p = j.receive("A", "W", qty, cost, doc_id=f"R{n}")
        else:
            p = j.issue("A", "W", qty, doc_id=f"I{n}")
        assert p.value == moved, (n, step)
        assert [a.amount for _, _, a in p.adjustments] == settled, (n, step)
        b = j.balance("A", "W")
        assert (b.on_hand, b.value) == (on_hand, value), (n, step)
    assert [D(e["amount"]) for e in events.of("cost_adjusted")] == [
        a for row in EXAMPLES[example] for a in row[6]]


# -- the default cost ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
@pytest.mark.parametrize(("default", "estimate", "settled"), [
    (D("7.00"), D("28.00"), D("12.00")),
    (7, D("28.00"), D("12.00")),  # an int is the Decimal it means
    (None, D("0.00"), D("40.00")),  # no default cost: the estimate is 0
])
def test_default_cost_values_a_shortage_with_no_cost_known(
        storage: Storage, method: str, default: Any, estimate: Decimal,
        settled: Decimal) -> None:
    j, events = shop(storage, Item("A", "a", costing_method=method, allow_negative=True,
                                   default_cost=default))
    if default is not None:
        assert j.item("A").default_cost == D(default)
        assert type(j.item("A").default_cost) is Decimal
    out = j.issue("A", "W", D(4), doc_id="I1")
    assert out.value == -estimate
    assert j.balance("A", "W").value == -estimate
    back = j.receive("A", "W", D(4), D("10.00"), doc_id="R1")
    [(_, _, adj)] = back.adjustments
    assert (adj.reason, adj.amount, adj.quantity) == ("shortage_settlement", settled, D(4))
    assert adj.issue_ref is not None and "I1" in adj.issue_ref
    [event] = events.of("cost_adjusted")
    assert (event["reason"], D(event["amount"]), event["issue_ref"]) == (
        "shortage_settlement", settled, adj.issue_ref)
    b = j.balance("A", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))


@pytest.mark.parametrize("method", ["fifo", "moving_average", "monthly_average"])
def test_default_cost_is_in_the_stored_state(storage: Storage, method: str) -> None:
    j, _ = shop(storage, Item("A", "a", costing_method=method, allow_negative=True,
                              default_cost=D("7.00")))
    j.issue("A", "W", D(4))
    state = stored_state(storage, ("A", "W"))
    assert (state["allow_negative"], state["default_cost"]) == (True, "7.00")


@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
@pytest.mark.parametrize("fresh", [False, True], ids=["same service", "new service"])
def test_a_new_default_cost_holds_for_later_shortages(
        storage: Storage, method: str, fresh: bool) -> None:
    j, _ = shop(storage, Item("A", "a", costing_method=method, allow_negative=True,
                              default_cost=D("7.00")))
    assert j.issue("A", "W", D(4), doc_id="I1").value == D("-28.00")
    j.define_item(Item("A", "a", costing_method=method, allow_negative=True,
                       default_cost=D("9.00")))
    if fresh:  # nothing cached: the stored state (default cost 7.00) is read
        j = Jxc(storage)
    assert j.issue("A", "W", D(2), doc_id="I2").value == D("-18.00")
    assert stored_state(storage, ("A", "W"))["default_cost"] == "9.00"
    # the first shortage keeps its estimate: a receipt of 6 @ 10 settles 40 - 28 and 20 - 18
    p = j.receive("A", "W", D(6), D("10.00"), doc_id="R1")
    assert [a.amount for _, _, a in p.adjustments] == [D("12.00"), D("2.00")]
    # and dropping the default cost: an estimate of 0 where no cost is known again
    j.define_item(Item("A", "a", costing_method=method, allow_negative=True))
    j.issue("A", "W", D(1), doc_id="I3")  # a unit cost is known now: 10.00
    assert stored_state(storage, ("A", "W"))["default_cost"] is None


def test_a_new_default_cost_under_monthly_average(storage: Storage) -> None:
    """The stored monthly scope takes the new default cost with its next movement."""
    j, _ = shop(storage, Item("A", "a", costing_method="monthly_average",
                              allow_negative=True, default_cost=D("7.00")))
    j.issue("A", "W", D(4))
    j.define_item(Item("A", "a", costing_method="monthly_average", allow_negative=True,
                       default_cost=D("9.00")))
    j.issue("A", "W", D(1))
    assert stored_state(storage, ("A", "W"))["default_cost"] == "9.00"


# -- the policy of a warehouse -------------------------------------------------------------
def test_a_warehouse_may_allow_what_the_item_forbids(storage: Storage) -> None:
    j, _ = shop(storage, Item("A", "a"),
                Warehouse("NEG", "may go negative", allow_negative=True), Warehouse("W", "main"))
    j.receive("A", "NEG", D(3), D("5.00"))
    j.receive("A", "W", D(3), D("5.00"))
    assert j.issue("A", "NEG", D(5)).value == D("-25.00")  # 3 @ 5, 2 estimated @ 5
    assert j.balance("A", "NEG").on_hand == -2
    err = refused(lambda: j.issue("A", "W", D(5)))
    assert {k: err.data[k] for k in ("item", "warehouse", "needed", "on_hand", "short")} == {
        "item": "A", "warehouse": "W", "needed": D(5), "on_hand": D(3), "short": D(2)}
    assert j.balance("A", "W").on_hand == 3


def test_a_warehouse_may_forbid_what_the_item_allows(storage: Storage) -> None:
    j, events = shop(storage, Item("A", "a", allow_negative=True),
                     Warehouse("STRICT", "never negative", allow_negative=False),
                     Warehouse("W", "main"))
    j.receive("A", "STRICT", D(4), D("2.00"), doc_id="R1")
    before = len(events.seen)
    with storage.unit_of_work() as uow:
        ledger = list(uow.ledger.entries("A"))
    err = refused(lambda: j.issue("A", "STRICT", D(10)))
    assert {k: err.data[k] for k in ("item", "warehouse", "needed", "on_hand", "short")} == {
        "item": "A", "warehouse": "STRICT", "needed": D(10), "on_hand": D(4), "short": D(6)}
    assert "STRICT" in str(err)
    # nothing written: the balance, the ledger, the valuation, the events
    b = j.balance("A", "STRICT")
    assert (b.on_hand, b.value) == (D(4), D("8.00"))
    with storage.unit_of_work() as uow:
        assert list(uow.ledger.entries("A")) == ledger
    assert len(events.seen) == before
    j.issue("A", "W", D(10))  # the item's own policy elsewhere
    assert j.balance("A", "W").on_hand == -10


@pytest.mark.parametrize("fresh", [False, True], ids=["same service", "new service"])
def test_a_changed_warehouse_policy_holds_for_a_stored_scope(storage: Storage,
                                                            fresh: bool) -> None:
    """The scope's valuation was stored forbidding negative stock: the warehouse allowing it
    now, the valuation must let the issue through too (not only the stock check)."""
    j, _ = shop(storage, Item("A", "a"))
    j.receive("A", "W", D(5), D("3.00"))
    j.issue("A", "W", D(2))
    assert stored_state(storage, ("A", "W"))["allow_negative"] is False
    j.define_warehouse(Warehouse("W", "main", allow_negative=True))
    if fresh:
        j = Jxc(storage)
    assert j.issue("A", "W", D(10)).value == D("-30.00")
    assert j.balance("A", "W").on_hand == -7
    assert stored_state(storage, ("A", "W"))["allow_negative"] is True
    j.define_warehouse(Warehouse("W", "main"))  # back to the item's policy: forbidden
    refused(lambda: j.issue("A", "W", D(1)))
    j.receive("A", "W", D(10), D("3.00"))
    assert j.balance("A", "W").on_hand == 3
    assert stored_state(storage, ("A", "W"))["allow_negative"] is False


def test_a_changed_item_policy_holds_for_a_stored_scope(storage: Storage) -> None:
    j, _ = shop(storage, Item("A", "a", costing_method="moving_average"))
    j.receive("A", "W", D(5), D("3.00"))
    j.issue("A", "W", D(1))
    j.define_item(Item("A", "a", costing_method="moving_average", allow_negative=True))
    assert j.issue("A", "W", D(10)).value == D("-30.00")
    j.define_item(Item("A", "a", costing_method="moving_average"))
    refused(lambda: j.issue("A", "W", D(1)))


def test_a_transfer_follows_the_policy_of_the_warehouse_it_leaves(storage: Storage) -> None:
    j, _ = shop(storage, Item("A", "a"),
                Warehouse("NEG", "may go negative", allow_negative=True), Warehouse("W", "main"))
    j.transfer("A", "NEG", "W", D(3))
    assert (j.balance("A", "NEG").on_hand, j.balance("A", "W").on_hand) == (D(-3), D(3))
    refused(lambda: j.transfer("A", "W", "NEG", D(4)))


def test_a_multi_row_pick_follows_the_policy_of_the_warehouse(storage: Storage) -> None:
    """Rows at two locations: the picking (``_Pick``) checks the warehouse's policy too."""
    j, _ = shop(storage, Item("A", "a"),
                Warehouse("NEG", "n", ("L1", "L2"), allow_negative=True),
                Warehouse("W", "w", ("L1", "L2")))
    for wh in ("NEG", "W"):
        j.receive("A", wh, D(2), D("1.00"), location="L1")
        j.receive("A", wh, D(2), D("1.00"), location="L2")
    j.issue("A", "NEG", D(6))
    assert j.balance("A", "NEG").on_hand == -2
    err = refused(lambda: j.issue("A", "W", D(6)))
    assert (err.data["warehouse"], err.data["needed"], err.data["short"]) == ("W", D(6), D(2))


# -- costed by organisation ----------------------------------------------------------------
def test_organisation_scope_checks_each_warehouse_by_its_policy(storage: Storage) -> None:
    j, _ = shop(storage, Item("A", "a"),
                Warehouse("NEG", "may go negative", allow_negative=True),
                Warehouse("W", "main"), org=True)
    j.receive("A", "W", D(5), D("4.00"))
    # NEG goes to -8, the organisation to -3: its one valuation must allow that
    assert j.issue("A", "NEG", D(8)).value == D("-32.00")
    assert stored_state(storage, ("A", "*"))["allow_negative"] is True
    assert j.balance("A", "NEG").on_hand == -8
    err = refused(lambda: j.issue("A", "W", D(6)))
    assert (err.data["warehouse"], err.data["on_hand"], err.data["short"]) == ("W", D(5), D(1))
    j.issue("A", "W", D(5))


def test_organisation_scope_with_a_warehouse_that_forbids(storage: Storage) -> None:
    j, _ = shop(storage, Item("A", "a", allow_negative=True),
                Warehouse("STRICT", "never negative", allow_negative=False),
                Warehouse("W", "main"), org=True)
    j.receive("A", "W", D(5), D("4.00"))
    j.receive("A", "STRICT", D(1), D("4.00"))
    err = refused(lambda: j.issue("A", "STRICT", D(2)))  # the organisation has 6
    assert (err.data["warehouse"], err.data["short"]) == ("STRICT", D(1))
    j.issue("A", "W", D(8))
    assert stored_state(storage, ("A", "*"))["quantity"] == "-2"


def test_organisation_scope_back_dated_follows_the_warehouse_policy(storage: Storage) -> None:
    """A back-dated issue (organisation scope): the history check of each warehouse follows
    its own policy — NEG may have been short then, W may not."""
    clock_at = [dt.datetime(2026, 3, 10, 9, 0)]

    class Clock:
        def now(self) -> dt.datetime:
            return clock_at[0]

    j = Jxc(storage, clock=Clock(), organisation_scope=True)
    j.define_warehouse(Warehouse("NEG", "n", allow_negative=True))
    j.define_warehouse(Warehouse("W", "w"))
    j.define_item(Item("A", "a"))
    j.receive("A", "W", D(5), D("2.00"), posted_at=dt.datetime(2026, 3, 5))
    j.receive("A", "NEG", D(5), D("2.00"), posted_at=dt.datetime(2026, 3, 5))
    j.receive("A", "W", D(5), D("2.00"), posted_at=dt.datetime(2026, 3, 8))
    j.receive("A", "NEG", D(5), D("2.00"), posted_at=dt.datetime(2026, 3, 8))
    refused(lambda: j.issue("A", "W", D(7), posted_at=dt.datetime(2026, 3, 6)))
    j.issue("A", "NEG", D(7), posted_at=dt.datetime(2026, 3, 6))
    assert j.balance("A", "NEG").on_hand == 3


def test_organisation_scope_without_an_allowing_warehouse_forbids(storage: Storage) -> None:
    j, _ = shop(storage, Item("A", "a"), Warehouse("W", "main"), org=True)
    j.receive("A", "W", D(5), D("4.00"))
    j.issue("A", "W", D(1))
    assert stored_state(storage, ("A", "*"))["allow_negative"] is False
    j.define_warehouse(Warehouse("NEG", "may go negative", allow_negative=True))
    j.issue("A", "NEG", D(6))  # the organisation goes to -2
    assert stored_state(storage, ("A", "*"))["allow_negative"] is True
    j.define_warehouse(Warehouse("NEG", "back to the item's policy"))
    refused(lambda: j.issue("A", "NEG", D(1)))
    j.receive("A", "W", D(10), D("4.00"))
    assert stored_state(storage, ("A", "*"))["allow_negative"] is False


# -- bad input: a JxcError (or TypeError) with a stable code, nothing written -----------------
@pytest.mark.parametrize(("cost", "error"), [
    (1.5, TypeError),
    ("7.00", TypeError),
    (D("-0.01"), "negative_amount"),
    (-1, "negative_amount"),
    (MAX_MAGNITUDE, "number_out_of_range"),
    (D("1E+20"), "number_out_of_range"),
])
def test_bad_default_cost_is_refused(storage: Storage, cost: Any, error: Any) -> None:
    j, _ = shop(storage, Item("A", "a", allow_negative=True, default_cost=D("7.00")))

    def define() -> None:
        j.define_item(Item("A", "a", allow_negative=True, default_cost=cost))

    if error is TypeError:
        with pytest.raises(TypeError, match="default_cost"):
            define()
    else:
        err = refused(define, error)
        assert err.data["field"] == "default_cost"
    assert j.item("A").default_cost == D("7.00")
    refused(lambda: j.define_item(Item("B", "b", default_cost=D(-1))), "negative_amount")
    refused(lambda: j.item("B"), "not_found")


@pytest.mark.parametrize("bad", ["yes", 1, 0])
def test_bad_policy_is_refused(storage: Storage, bad: Any) -> None:
    j, _ = shop(storage, Item("A", "a"))
    with pytest.raises(TypeError, match="allow_negative"):
        j.define_warehouse(Warehouse("X", "x", allow_negative=bad))
    with pytest.raises(TypeError, match="allow_negative"):
        j.define_item(Item("B", "b", allow_negative=bad))
    refused(lambda: j.item("B"), "not_found")
    with storage.unit_of_work() as uow:
        assert uow.master.get_warehouse("X") is None


# -- storage ---------------------------------------------------------------------------------
def test_items_and_warehouses_keep_their_policy(storage: Storage) -> None:
    shop(storage, Item("A", "a", allow_negative=True, default_cost=D("7.25")),
         Warehouse("Y", "y", allow_negative=True), Warehouse("N", "n", allow_negative=False),
         Warehouse("U", "u"))
    with storage.unit_of_work() as uow:
        item = uow.master.get_item("A")
        houses = [uow.master.get_warehouse(c) for c in ("Y", "N", "U")]
    assert item is not None and item.default_cost == D("7.25")
    assert [h.allow_negative for h in houses if h is not None] == [True, False, None]


def test_rows_stored_before_the_policy_load_as_none(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    storage = SqliteStorage(path)
    Jxc(storage)  # the schema
    old_item = {"code": "A", "name": "a", "base_unit": "个", "units": {},
                "quantity_digits": 0, "costing_method": "fifo", "allow_negative": False,
                "standard_cost": None, "lot_tracked": False, "serial_tracked": False,
                "category": "", "safety_stock": None, "reorder_point": None}
    old_house = {"code": "W", "name": "w", "locations": [], "in_transit": False}
    with storage.unit_of_work() as uow:
        for table, code, data in (("items", "A", old_item), ("warehouses", "W", old_house)):
            uow._con.execute(f"INSERT INTO {table} VALUES (?, ?)",  # type: ignore[attr-defined]
                             (code, json.dumps(data)))
        uow.commit()
    j = Jxc(storage)
    assert j.item("A").default_cost is None
    with storage.unit_of_work() as uow:
        house = uow.master.get_warehouse("W")
    assert house is not None and house.allow_negative is None
    j.receive("A", "W", D(2), D("1.00"))
    refused(lambda: j.issue("A", "W", D(3)))
    storage.close()


def test_stored_form_without_the_new_fields_is_unchanged() -> None:
    assert "default_cost" not in Item("A", "a").to_data()
    assert "allow_negative" not in Warehouse("W", "w").to_data()
    assert Item.from_data(Item("A", "a", default_cost=D("7.00")).to_data()).default_cost == D(
        "7.00")
    for flag in (True, False, None):
        again = Warehouse.from_data(Warehouse("W", "w", allow_negative=flag).to_data())
        assert again.allow_negative is flag


def test_memory_storage_is_the_same_service(tmp_path: Path) -> None:
    """The policy holds through a second service over the same memory store too."""
    storage = MemoryStorage()
    j, _ = shop(storage, Item("A", "a"), Warehouse("W", "w", allow_negative=True))
    j.issue("A", "W", D(1))
    assert Jxc(storage).issue("A", "W", D(1)).value == D("0.00")
    assert Jxc(storage).balance("A", "W").on_hand == -2


def test_a_back_dated_issue_replays_under_the_policy_of_now(storage: Storage) -> None:
    """The scope is rewound from a checkpoint stored while negative stock was forbidden;
    the warehouse allows it now: the replay lets the back-dated shortage through too."""
    at = [dt.datetime(2026, 3, 10, 9, 0)]

    class Clock:
        def now(self) -> dt.datetime:
            return at[0]

    j = Jxc(storage, clock=Clock(), checkpoint_every=1)
    j.define_warehouse(Warehouse("W", "w"))
    j.define_item(Item("A", "a", default_cost=D("3.00")))
    j.receive("A", "W", D(5), D("2.00"), posted_at=dt.datetime(2026, 3, 1))
    j.issue("A", "W", D(2), posted_at=dt.datetime(2026, 3, 3))
    refused(lambda: j.issue("A", "W", D(10), posted_at=dt.datetime(2026, 3, 2)))
    j.define_warehouse(Warehouse("W", "w", allow_negative=True))
    p = j.issue("A", "W", D(10), posted_at=dt.datetime(2026, 3, 2))
    assert p.value == D("-20.00")  # 5 @ 2, 5 estimated at the last cost consumed
    assert j.balance("A", "W").on_hand == -7


def test_postgres_keeps_the_policy(pg_dsn: str) -> None:
    """The same round trip on PostgreSQL (items and warehouses are stored as JSON there too),
    and a row stored before the fields existed loads as ``None``."""
    pytest.importorskip("psycopg")
    from jxc_core.adapters import PostgresStorage

    storage = PostgresStorage(pg_dsn)
    try:
        shop(storage, Item("A", "a", default_cost=D("7.25")),
             Warehouse("Y", "y", allow_negative=True), Warehouse("U", "u"))
        old = {"code": "O", "name": "old", "locations": [], "in_transit": False}
        with storage.unit_of_work() as uow:
            uow._con.execute(  # type: ignore[attr-defined]
                "INSERT INTO warehouses VALUES (%s, %s)", ("O", json.dumps(old)))
            uow.commit()
        again = PostgresStorage(pg_dsn)
        try:
            with again.unit_of_work() as uow:
                item = uow.master.get_item("A")
                houses = [uow.master.get_warehouse(c) for c in ("Y", "U", "O")]
            assert item is not None and item.default_cost == D("7.25")
            assert [h.allow_negative for h in houses if h is not None] == [True, None, None]
            assert Jxc(again).issue("A", "Y", D(2)).value == D("-14.50")
        finally:
            again.close()
    finally:
        storage.close()


@pytest.mark.parametrize("method", ["fifo", "moving_average"])
def test_a_cached_scope_follows_each_policy_change_between_postings(storage: Storage,
                                                                    method: str) -> None:
    """One service posting on (its valuations stay live between commands): a change of the
    item's default cost, of the item's policy or of the warehouse's holds from the next
    posting on, and so does a change back; the stored state follows each time."""
    j, _ = shop(storage, Item("A", "a", costing_method=method, allow_negative=True,
                              default_cost=D("2.00")))
    assert j.issue("A", "W", D(1)).value == D("-2.00")  # short, at the default cost
    j.define_item(Item("A", "a", costing_method=method, allow_negative=True,
                       default_cost=D("5.00")))
    assert j.issue("A", "W", D(1)).value == D("-5.00")
    assert stored_state(storage, ("A", "W"))["default_cost"] == "5.00"
    j.define_warehouse(Warehouse("W", "main", allow_negative=False))
    refused(lambda: j.issue("A", "W", D(1)))
    assert stored_state(storage, ("A", "W"))["allow_negative"] is True  # nothing written
    j.define_warehouse(Warehouse("W", "main"))  # the item's policy again: allowed
    assert j.issue("A", "W", D(1)).value == D("-5.00")
    assert stored_state(storage, ("A", "W"))["allow_negative"] is True
    j.define_item(Item("A", "a", costing_method=method, default_cost=D("2.00")))
    refused(lambda: j.issue("A", "W", D(1)))
    j.receive("A", "W", D(10), D("3.00"))  # fills the shortages; stored forbidding them
    assert j.balance("A", "W").on_hand == 7
    assert stored_state(storage, ("A", "W"))["allow_negative"] is False
    assert stored_state(storage, ("A", "W"))["default_cost"] == "2.00"

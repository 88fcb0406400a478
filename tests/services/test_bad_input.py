"""Refusals through the service on both adapters: each one has a stable code, a message in
English and in Chinese, and leaves nothing written (ledger, balances, reservations, outbox)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Jxc, ReserveLine, StockLine
from jxc_core.stock import Item, Warehouse

D = Decimal
NOW = dt.datetime(2026, 3, 1, 10, 0)
#: NOW with a UTC offset: the clock of these tests is naive
AWARE = NOW.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


@pytest.fixture(params=["memory", "sqlite"])
def jxc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Jxc]:
    storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "bad.db"))
    j = Jxc(storage, clock=FixedClock())  # no notifier: events stay pending in the outbox
    j.define_item(Item("A", "apple"))
    j.define_item(Item("BOX", "boxed", units={"箱": D(12), "odd": D("0.7")}, quantity_digits=0))
    j.define_item(Item("LOT", "perishable", lot_tracked=True))
    j.define_warehouse(Warehouse("W", "main"))
    j.define_warehouse(Warehouse("V", "second"))
    j.define_item(Item("PH", "phone", serial_tracked=True, units={"盒": D(2)}))
    j.define_warehouse(Warehouse("R", "racked", locations=("A1", "B1")))
    j.receive("PH", "W", D(2), D(100), serials=("S1", "S2"))
    j.receive("A", "R", D(4), D(2), location="A1")
    j.receive("A", "W", D(10), D("2.50"), idempotency_key="K")
    j.receive("LOT", "W", D(5), D(1), lot="OLD", expiry=dt.date(2026, 2, 1))
    j.receive("LOT", "W", D(5), D(1), lot="NEW", expiry=dt.date(2027, 2, 1))
    j.reserve([ReserveLine("SO-1/1", "A", "W", D(3))])
    yield j
    storage.close()


def state(j: Jxc) -> dict[str, Any]:
    with j.storage.unit_of_work() as u:
        count = u.ledger.count()
        pending = u.outbox.pending()
        racked = u.master.get_warehouse("R")
    return {"ledger_count": count, "balances": j.balances(), "reservations": j.reservations(),
            "pending": pending, "values": [j.balance(i).value for i in ("A", "BOX", "LOT")],
            "serials": j.serials_in("PH", "W"), "master": [
                *(j.item(i) for i in ("A", "PH", "LOT")), racked]}


Call = Callable[[Jxc], object]

#: (id, call, expected code)
REFUSALS: list[tuple[str, Call, str]] = [
    ("unknown_item_receive", lambda j: j.receive("NOPE", "W", D(1), D(1)), "not_found"),
    ("unknown_item_issue", lambda j: j.issue("NOPE", "W", D(1)), "not_found"),
    ("unknown_item_reserve",
     lambda j: j.reserve([ReserveLine("SO-2/1", "NOPE", "W", D(1))]), "not_found"),
    ("unknown_item_in_later_line", lambda j: j.post("receipt", "RK-X", [
        StockLine("A", "W", D(1), unit_cost=D(1)), StockLine("NOPE", "W", D(1))]), "not_found"),
    ("unknown_warehouse_receive", lambda j: j.receive("A", "NOWH", D(1), D(1)), "not_found"),
    # a line number no adapter stores (SQLite raised OverflowError from 2**63 on)
    ("line_no_negative", lambda j: j.post("receipt", "RK-L", [
        StockLine("A", "W", D(1), unit_cost=D(1), line_no=-1)]), "configuration"),
    ("line_no_beyond_int4", lambda j: j.post("receipt", "RK-L", [
        StockLine("A", "W", D(1), unit_cost=D(1)),
        StockLine("A", "W", D(1), unit_cost=D(1), line_no=2**31)]), "configuration"),
    ("line_no_beyond_int8", lambda j: j.post("receipt", "RK-L", [
        StockLine("A", "W", D(1), unit_cost=D(1), line_no=2**63)]), "configuration"),
    ("unknown_warehouse_reserve",
     lambda j: j.reserve([ReserveLine("SO-2/1", "A", "NOWH", D(1))]), "not_found"),
    ("unknown_target_warehouse", lambda j: j.transfer("A", "W", "NOWH", D(1)), "not_found"),
    ("expiry_datetime", lambda j: j.receive("LOT", "W", D(1), D(1), lot="BAD",
                                            expiry=dt.datetime(2027, 1, 1, 15, 30)),  # type: ignore[arg-type]
     "invalid_date"),
    ("expiry_str", lambda j: j.receive("LOT", "W", D(1), D(1), lot="BAD",
                                       expiry="2027-01-01"),  # type: ignore[arg-type]
     "invalid_date"),
    ("zero_quantity_receive", lambda j: j.receive("A", "W", D(0), D(1)), "invalid_quantity"),
    ("negative_quantity_issue", lambda j: j.issue("A", "W", D(-2)), "invalid_quantity"),
    ("zero_quantity_reserve",
     lambda j: j.reserve([ReserveLine("SO-2/1", "A", "W", D(0))]), "invalid_quantity"),
    ("negative_quantity_transfer", lambda j: j.transfer("A", "W", "V", D(-1)),
     "invalid_quantity"),
    ("unit_without_conversion", lambda j: j.receive("A", "W", D(1), D(1), unit="箱"),
     "unknown_unit"),
    ("inexact_conversion", lambda j: j.receive("BOX", "W", D(1), D(1), unit="odd"),
     "unit_conversion_inexact"),
    ("inexact_base_quantity", lambda j: j.receive("BOX", "W", D("0.5"), D(1)),
     "unit_conversion_inexact"),
    ("expired_lot_issue", lambda j: j.issue("LOT", "W", D(1), lot="OLD"), "lot_expired"),
    ("idempotency_conflict", lambda j: j.receive("A", "W", D(11), D("2.50"),
                                                 idempotency_key="K"), "idempotency_conflict"),
    ("empty_posting", lambda j: j.post("receipt", "EMPTY", []), "empty_posting"),
    ("same_warehouse", lambda j: j.transfer("A", "W", "W", D(1)), "same_warehouse"),
    ("insufficient_stock", lambda j: j.issue("A", "W", D(8)), "insufficient_stock"),
    ("reservation_short", lambda j: j.reserve([ReserveLine("SO-2/1", "A", "W", D(1)),
                                               ReserveLine("SO-2/2", "A", "W", D(50))],
                                              partial=False), "reservation_short"),
    # expires_at: a datetime, naive as the clock is, after now
    ("expires_at_str", lambda j: j.reserve([ReserveLine("CART-1", "A", "W", D(1))],
                                           expires_at="tomorrow"),  # type: ignore[arg-type]
     "invalid_date"),
    ("expires_at_date", lambda j: j.reserve([ReserveLine("CART-1", "A", "W", D(1))],
                                            expires_at=dt.date(2026, 3, 2)),  # type: ignore[arg-type]
     "invalid_date"),
    ("expires_at_aware", lambda j: j.reserve([ReserveLine("CART-1", "A", "W", D(1))],
                                             expires_at=AWARE + dt.timedelta(days=1)),
     "timezone_mismatch"),
    ("expires_at_now", lambda j: j.reserve([ReserveLine("CART-1", "A", "W", D(1))],
                                           expires_at=NOW), "expiry_not_in_future"),
    ("expires_at_past", lambda j: j.reserve([ReserveLine("CART-1", "A", "W", D(1))],
                                            expires_at=NOW - dt.timedelta(minutes=1)),
     "expiry_not_in_future"),
    # posted_at: a datetime, naive as the clock is, on every command that takes it
    ("posted_at_str_receive", lambda j: j.receive("A", "W", D(1), D(1),
                                                  posted_at="2026-03-01"),  # type: ignore[arg-type]
     "invalid_date"),
    ("posted_at_date_issue", lambda j: j.issue("A", "W", D(1),
                                               posted_at=dt.date(2026, 3, 1)),  # type: ignore[arg-type]
     "invalid_date"),
    ("posted_at_str_post", lambda j: j.post("receipt", "RK-X", [
        StockLine("A", "W", D(1), unit_cost=D(1))], posted_at="2026-03-01"),  # type: ignore[arg-type]
     "invalid_date"),
    ("posted_at_date_transfer", lambda j: j.transfer("A", "W", "V", D(1),
                                                     posted_at=dt.date(2026, 3, 1)),  # type: ignore[arg-type]
     "invalid_date"),
    ("posted_at_str_adjust", lambda j: j.adjust("A", "W", D(-1),
                                                posted_at="2026-03-01"),  # type: ignore[arg-type]
     "invalid_date"),
    ("posted_at_aware_receive", lambda j: j.receive("A", "W", D(1), D(1), posted_at=AWARE),
     "timezone_mismatch"),
    ("posted_at_aware_issue", lambda j: j.issue("A", "W", D(1), posted_at=AWARE),
     "timezone_mismatch"),
    ("posted_at_aware_transfer", lambda j: j.transfer("A", "W", "V", D(1), posted_at=AWARE),
     "timezone_mismatch"),
    # serial numbers: of a serial-tracked item, not blank, each once on a line (a serial
    # recorded for an item without them could never leave)
    ("serials_of_untracked_item", lambda j: j.receive("A", "W", D(1), D(1), serials=("X",)),
     "configuration"),
    ("serial_blank", lambda j: j.receive("PH", "W", D(1), D(1), serials=(" ",)),
     "configuration"),
    ("serial_twice_received", lambda j: j.receive("PH", "W", D(2), D(1),
                                                  serials=("S9", "S9")), "duplicate_serial"),
    ("serial_twice_issued", lambda j: j.issue("PH", "W", D(2), serials=("S1", "S1")),
     "duplicate_serial"),
    # what stored quantities mean is fixed once an item has stock (units may be added)
    ("unit_factor_changed", lambda j: j.define_item(Item(
        "PH", "phone", serial_tracked=True, units={"盒": D(3)})), "configuration"),
    ("unit_removed", lambda j: j.define_item(Item("PH", "phone", serial_tracked=True)),
     "configuration"),
    ("base_unit_changed", lambda j: j.define_item(Item("A", "apple", base_unit="kg")),
     "configuration"),
    ("serial_tracking_switched_on", lambda j: j.define_item(Item(
        "A", "apple", serial_tracked=True)), "configuration"),
    ("serial_tracking_switched_off", lambda j: j.define_item(Item(
        "PH", "phone", units={"盒": D(2)})), "configuration"),
    ("lot_tracking_switched_off", lambda j: j.define_item(Item("LOT", "perishable")),
     "configuration"),
    # its stock is booked on its category's accounts (1405 / 1403 with the Chinese preset)
    ("category_changed", lambda j: j.define_item(Item("A", "apple", category="material")),
     "configuration"),
    ("location_with_stock_removed", lambda j: j.define_warehouse(Warehouse(
        "R", "racked", locations=("B1",))), "configuration"),
    ("posted_at_aware_adjust", lambda j: j.adjust("A", "W", D(2), unit_cost=D(1),
                                                  posted_at=AWARE),
     "timezone_mismatch"),
]


@pytest.mark.parametrize(("call", "code"), [(c, k) for _, c, k in REFUSALS],
                         ids=[i for i, _, _ in REFUSALS])
def test_refusal_has_code_messages_and_writes_nothing(jxc: Jxc, call: Call, code: str) -> None:
    before = state(jxc)
    with pytest.raises(JxcError) as info:
        call(jxc)
    err = info.value
    assert err.code == code
    en, zh = err.message("en"), err.message("zh_CN")
    assert en and zh and en != zh
    assert "{" not in en and "{" not in zh  # every placeholder was filled
    assert state(jxc) == before


#: (id, call, exception type, text the message must contain)
TYPE_ERRORS: list[tuple[str, Call, type[Exception], str]] = [
    ("float_receive", lambda j: j.receive("A", "W", 1.5, D(1)),  # type: ignore[arg-type]
     TypeError, "quantity"),
    ("float_issue", lambda j: j.issue("A", "W", 1.0), TypeError,  # type: ignore[arg-type]
     "quantity"),
    ("float_reserve", lambda j: j.reserve([ReserveLine("SO-2/1", "A", "W",
                                                       2.0)]),  # type: ignore[arg-type]
     TypeError, "quantity"),
    ("str_receive", lambda j: j.receive("A", "W", "3", D(1)),  # type: ignore[arg-type]
     TypeError, "quantity"),
    ("nan_receive", lambda j: j.receive("A", "W", D("NaN"), D(1)), ValueError, "quantity"),
    ("nan_issue", lambda j: j.issue("A", "W", D("NaN")), ValueError, "quantity"),
    ("infinity_reserve", lambda j: j.reserve([ReserveLine("SO-2/1", "A", "W", D("Infinity"))]),
     ValueError, "quantity"),
    ("float_unit_cost_adjust", lambda j: j.adjust("A", "W", D(1),
                                                  unit_cost=0.0),  # type: ignore[arg-type]
     TypeError, "unit_cost"),
    ("float_unit_cost_adjust_out", lambda j: j.adjust("A", "W", D(-1),
                                                      unit_cost=2.5),  # type: ignore[arg-type]
     TypeError, "unit_cost"),
    ("float_quantity_adjust", lambda j: j.adjust("A", "W", -1.0),  # type: ignore[arg-type]
     TypeError, "quantity"),
    ("str_quantity_adjust", lambda j: j.adjust("A", "W", "-1"),  # type: ignore[arg-type]
     TypeError, "quantity"),
    ("str_line_no", lambda j: j.post("receipt", "RK-L", [StockLine(
        "A", "W", D(1), unit_cost=D(1), line_no="1")]),  # type: ignore[arg-type]
     TypeError, "line_no"),
    ("bool_line_no", lambda j: j.post("receipt", "RK-L", [StockLine(
        "A", "W", D(1), unit_cost=D(1), line_no=True)]),
     TypeError, "line_no"),
]


@pytest.mark.parametrize(("call", "kind", "field"), [(c, k, f) for _, c, k, f in TYPE_ERRORS],
                         ids=[i for i, _, _, _ in TYPE_ERRORS])
def test_non_decimal_quantity_refused_naming_the_field(
    jxc: Jxc, call: Call, kind: type[Exception], field: str
) -> None:
    before = state(jxc)
    with pytest.raises(kind, match=field) as info:
        call(jxc)
    assert type(info.value) is kind  # a plain TypeError/ValueError, not a domain refusal
    assert state(jxc) == before


def test_exact_conversion_is_accepted(jxc: Jxc) -> None:
    posting = jxc.receive("BOX", "W", D("0.5"), D(24), unit="箱")  # half a box of 12 pieces
    (e,) = posting.entries
    assert e.quantity == D(6)
    assert e.value == D("12.00")  # priced per box
    assert jxc.balance("BOX", "W").on_hand == D(6)


def test_usable_lot_is_still_issued(jxc: Jxc) -> None:
    posting = jxc.issue("LOT", "W", D(2))  # FEFO skips the expired lot
    assert [(e.lot, e.quantity) for e in posting.entries] == [("NEW", D(-2))]
    assert jxc.balance("LOT", "W", lot="OLD").on_hand == D(5)


@pytest.mark.parametrize("reserved", [False, True])
def test_stock_in_one_expired_lot_is_not_available(jxc: Jxc, reserved: bool) -> None:
    """The balance of (item, warehouse) is a single row, in a lot that has expired: nothing
    is available, and an issue that names no lot is refused without writing."""
    jxc.define_item(Item("ONE", "one lot"))
    jxc.receive("ONE", "W", D(4), D(1), lot="L1", expiry=dt.date(2026, 2, 1))  # before NOW
    if reserved:
        jxc.define_item(Item("TWO", "one usable lot"))
        jxc.receive("TWO", "W", D(4), D(1), lot="L2", expiry=dt.date(2027, 2, 1))
        jxc.reserve([ReserveLine("SO-9/1", "TWO", "W", D(3))])
        (line,) = jxc.availability([("TWO", "W", D(1))])
        assert line.available == D(1)  # 4 usable - 3 reserved
    (line,) = jxc.availability([("ONE", "W", D(1))])
    assert line.available == D(0)
    before = state(jxc)
    with pytest.raises(JxcError) as err:
        jxc.issue("ONE", "W", D(1))
    assert err.value.code == "insufficient_stock"
    assert state(jxc) == before


def test_adjust_takes_an_int_quantity_both_ways(jxc: Jxc) -> None:
    """DOMAIN section 1: an int is a number like a Decimal, negative ones included."""
    out = jxc.adjust("A", "W", -1, doc_id="TZ-1")
    assert [(e.quantity, e.value, e.kind) for e in out.entries] == [
        (D(-1), D("-2.50"), "adjustment_out")]
    back = jxc.adjust("A", "W", 2, unit_cost=3, doc_id="TZ-2")
    assert [(e.quantity, e.value, e.kind) for e in back.entries] == [
        (D(2), D("6.00"), "adjustment_in")]
    b = jxc.balance("A", "W")
    assert (b.on_hand, b.value) == (D(11), D("28.50"))


def test_adjust_without_unit_cost_receives_at_zero(jxc: Jxc) -> None:
    (e,) = jxc.adjust("A", "W", D(1)).entries
    assert e.value == D("0.00")


@pytest.mark.parametrize("bad", ["tomorrow", dt.date(2026, 3, 2), AWARE + dt.timedelta(days=1),
                                 NOW], ids=["str", "date", "aware", "now"])
def test_refused_expiry_leaves_later_commands_working(jxc: Jxc, bad: object) -> None:
    """A refused expires_at is not stored: the commands after it read the reservations as
    before (a stored str or aware time broke every one of them)."""
    with pytest.raises(JxcError):
        jxc.reserve([ReserveLine("CART-1", "A", "W", D(1))], expires_at=bad)  # type: ignore[arg-type]
    assert jxc.issue("A", "W", D(1)).value == D("-2.50")
    r = jxc.reserve([ReserveLine("CART-2", "A", "W", D(1))],
                    expires_at=NOW + dt.timedelta(hours=1))
    assert r.granted == (D(1),)
    assert jxc.balance("A", "W").reserved == D(4)  # SO-1/1 3 + CART-2 1


@pytest.mark.parametrize(("name", "call"), [
    ("doc_type", lambda j: j.post(None, "RK-N", [StockLine("A", "W", D(1), unit_cost=D(1))])),
    ("doc_id", lambda j: j.post("receipt", None, [StockLine("A", "W", D(1), unit_cost=D(1))])),
    ("doc_id", lambda j: j.issue("A", "W", D(1), doc_id=7)),
    ("demand", lambda j: j.reserve([ReserveLine(None, "A", "W", D(1))])),
    ("idempotency_key", lambda j: j.issue("A", "W", D(1), idempotency_key=5)),
    ("location", lambda j: j.receive("A", "W", D(1), D(1), location=None)),
    ("lot", lambda j: j.reserve([ReserveLine("SO-9/1", "A", "W", D(1), lot=None)])),
])
def test_codes_that_are_not_texts_are_refused(jxc: Jxc, name: str, call: Call) -> None:
    """A document type or number, a demand or an idempotency key that is not a ``str`` is a
    ``TypeError`` naming it, nothing written (memory kept a ``None``; SQLite called it a
    duplicate key)."""
    before = state(jxc)
    with pytest.raises(TypeError, match=name):
        call(jxc)
    assert state(jxc) == before


def test_master_data_changes_that_keep_stock_meaningful_pass(jxc: Jxc) -> None:
    """Units may be added to an item with stock, an empty location removed, and an item
    without stock changed freely (the refusals are above)."""
    jxc.define_item(Item("PH", "phone", serial_tracked=True, units={"盒": D(2), "箱": D(20)}))
    assert jxc.item("PH").units == {"盒": D(2), "箱": D(20)}
    jxc.define_warehouse(Warehouse("R", "racked", locations=("A1",)))
    jxc.define_warehouse(Warehouse("R", "racked"))  # no locations: any, A1 included
    jxc.define_item(Item("BOX", "boxed", units={"箱": D(10)}, lot_tracked=True))
    assert jxc.item("BOX").units == {"箱": D(10)}
    jxc.issue("A", "R", D(4), location="A1")  # emptied: the location may go
    jxc.define_warehouse(Warehouse("R", "racked", locations=("B1",)))
    assert jxc.receive("PH", "W", D(1), D(100), unit="盒", serials=("S3", "S4")).entries[
        0].quantity == 2


def test_post_refuses_two_lines_with_one_number_and_lines_that_are_no_stock_lines(
        jxc: Jxc) -> None:
    """Two lines of a posting with one line number (given, or a given one equal to another's
    position) would leave two ledger entries that a later ``from_ref`` cannot tell apart; a
    line that is no ``StockLine`` (a tuple, ``None``) is a TypeError naming it, not an
    AttributeError from inside. Nothing is written."""
    before = state(jxc)
    twice = [StockLine("A", "W", D(1), "in", unit_cost=D(1), line_no=1),
             StockLine("A", "W", D(2), "in", unit_cost=D(1), line_no=1)]
    mixed = [StockLine("A", "W", D(1), "in", unit_cost=D(1)),  # position 1
             StockLine("A", "W", D(2), "in", unit_cost=D(1), line_no=1)]
    for lines in (twice, mixed):
        with pytest.raises(JxcError) as err:
            jxc.post("receipt", "DUP", lines)
        assert err.value.code == "configuration"
        assert "line_no 1" in err.value.message("en")
        assert "行号 1" in err.value.message("zh_CN")
    with pytest.raises(TypeError, match=r"lines\[1\] must be a StockLine, got NoneType"):
        jxc.post("receipt", "BAD", [twice[0], None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="lines must be a list of StockLine"):
        jxc.post("receipt", "BAD", "A")  # type: ignore[arg-type]
    assert state(jxc) == before
    # numbered apart, the same lines post
    posted = jxc.post("receipt", "OK", [twice[0], StockLine("A", "W", D(2), "in",
                                                            unit_cost=D(1), line_no=2)])
    assert [e.line_no for e in posted.entries] == [1, 2]


#: (id, call, text the TypeError must match): arguments of the wrong type that leaked an
#: AttributeError, IndexError or ValueError from inside, or were silently accepted
WRONG_TYPES: list[tuple[str, Call, str]] = [
    ("define_party_none", lambda j: j.define_party(None),  # type: ignore[arg-type]
     "party must be a Party, got NoneType"),
    ("define_warehouse_none", lambda j: j.define_warehouse(None),  # type: ignore[arg-type]
     "warehouse must be a Warehouse, got NoneType"),
    ("define_item_none", lambda j: j.define_item(None),  # type: ignore[arg-type]
     "item must be an Item, got NoneType"),
    ("define_item_lot_tracked_str", lambda j: j.define_item(Item(
        "N", "new", lot_tracked="no")),  # type: ignore[arg-type]
     "lot_tracked must be a bool"),
    ("define_item_serial_tracked_int", lambda j: j.define_item(Item(
        "N", "new", serial_tracked=1)),  # type: ignore[arg-type]
     "serial_tracked must be a bool"),
    ("reserve_tuple_lines", lambda j: j.reserve([("SO-2/1", "A", "W", D(1))]),  # type: ignore[list-item]
     r"lines\[0\] must be a ReserveLine, got tuple"),
    ("reserve_lines_none", lambda j: j.reserve(None),  # type: ignore[arg-type]
     "lines must be a list of ReserveLine, got NoneType"),
    ("reserve_partial_str", lambda j: j.reserve([ReserveLine("SO-2/1", "A", "W", D(1))],
                                                partial="no"),  # type: ignore[arg-type]
     "partial must be a bool, got str"),
    ("reserve_partial_int", lambda j: j.reserve([ReserveLine("SO-2/1", "A", "W", D(1))],
                                                partial=0),  # type: ignore[arg-type]
     "partial must be a bool, got int"),
    ("release_int", lambda j: j.release(5),  # type: ignore[arg-type]
     "demand must be a str, got int"),
    ("issue_demand_int", lambda j: j.issue("A", "W", D(1), demand=3),  # type: ignore[arg-type]
     "demand must be a str, got int"),
    ("issue_from_ref_list", lambda j: j.issue("A", "W", D(1),
                                              from_ref=["RK-1/1"]),  # type: ignore[arg-type]
     "from_ref must be a str, got list"),
    ("post_line_demand_int", lambda j: j.post("issue", "CK-N", [StockLine(
        "A", "W", D(1), "out", demand=3)]),  # type: ignore[arg-type]
     r"lines\[0\]\.demand must be a str, got int"),
    ("post_line_serials_str", lambda j: j.post("receipt", "RK-N", [StockLine(
        "PH", "W", D(1), unit_cost=D(1), serials="S9")]),  # type: ignore[arg-type]
     r"lines\[0\]\.serials must be a tuple of str, got str"),
    ("post_line_item_list", lambda j: j.post("receipt", "RK-N", [StockLine(
        ["A"], "W", D(1), unit_cost=D(1))]),  # type: ignore[arg-type]
     "item must be a str, got list"),
    ("receive_unit_cost_none", lambda j: j.receive("A", "W", D(1), None),  # type: ignore[arg-type]
     "unit_cost must be a Decimal or an int, got NoneType"),
    ("receive_serials_str", lambda j: j.receive("PH", "W", D(1), D(1),
                                                serials="S9"),  # type: ignore[arg-type]
     "serials must be a list of str, got str"),
    ("receive_unit_int", lambda j: j.receive("A", "W", D(1), D(1), unit=12),  # type: ignore[arg-type]
     "unit must be a str or None, got int"),
    ("transfer_serials_none", lambda j: j.transfer("PH", "W", "V", D(1),
                                                   serials=None),  # type: ignore[arg-type]
     "serials must be a list of str, got NoneType"),
    ("transfer_serials_str", lambda j: j.transfer("PH", "W", "V", D(1),
                                                  serials="S1"),  # type: ignore[arg-type]
     "serials must be a list of str, got str"),
    ("transfer_serials_int", lambda j: j.transfer("PH", "W", "V", D(1),
                                                  serials=5),  # type: ignore[arg-type]
     "serials must be a list of str, got int"),
    ("transfer_serial_not_str", lambda j: j.transfer("PH", "W", "V", D(1),
                                                     serials=[1]),  # type: ignore[list-item]
     r"serials\[0\] must be a str, got int"),
    ("transfer_to_warehouse_none", lambda j: j.transfer("A", "W", None, D(1)),  # type: ignore[arg-type]
     "to_warehouse must be a str, got NoneType"),
    ("transfer_demand_int", lambda j: j.transfer("A", "W", "V", D(1), demand=3),  # type: ignore[arg-type]
     "demand must be a str, got int"),
    ("availability_none", lambda j: j.availability(None),  # type: ignore[arg-type]
     r"lines must be a list of \(item, warehouse, wanted\), got NoneType"),
    ("availability_str", lambda j: j.availability("AW1"),  # type: ignore[arg-type]
     r"lines must be a list of \(item, warehouse, wanted\), got str"),
    ("availability_pair", lambda j: j.availability([("A", "W")]),  # type: ignore[list-item]
     r"lines\[0\] must be an \(item, warehouse, wanted\) tuple, got tuple"),
    ("availability_str_line", lambda j: j.availability(["AWx"]),  # type: ignore[list-item]
     r"lines\[0\] must be an \(item, warehouse, wanted\) tuple, got str"),
    ("availability_float_wanted", lambda j: j.availability([("A", "W", 1.5)]),  # type: ignore[list-item]
     r"lines\[0\] wanted must be a Decimal or an int, got float"),
    ("balance_warehouse_int", lambda j: j.balance("A", 5),  # type: ignore[arg-type]
     "warehouse must be a str, got int"),
    ("reservations_demand_int", lambda j: j.reservations(5),  # type: ignore[arg-type]
     "demand must be a str, got int"),
    ("ledger_item_none", lambda j: j.ledger(None),  # type: ignore[arg-type]
     "item must be a str, got NoneType"),
    ("item_code_none", lambda j: j.item(None),  # type: ignore[arg-type]
     "code must be a str, got NoneType"),
    ("digits_of_list", lambda j: j.digits_of(["USD"]),  # type: ignore[arg-type]
     "currency must be a str, got list"),
    ("deliver_events_str", lambda j: j.deliver_events("10"),  # type: ignore[arg-type]
     "limit must be an int, got str"),
]


@pytest.mark.parametrize(("call", "text"), [(c, t) for _, c, t in WRONG_TYPES],
                         ids=[i for i, _, _ in WRONG_TYPES])
def test_a_wrong_type_is_a_type_error_naming_it(jxc: Jxc, call: Call, text: str) -> None:
    """Not an AttributeError, IndexError or ValueError from inside, not a silent success
    (``release(5)`` released nothing and answered 0; ``reserve(partial="no")`` reserved what
    it could; ``issue(demand=3)`` issued the stock reserved for others); nothing written. The
    sweep over every public method is tests/services/test_wrong_types.py."""
    before = state(jxc)
    with pytest.raises(TypeError, match=text) as info:
        call(jxc)
    assert type(info.value) is TypeError
    assert state(jxc) == before


@pytest.mark.parametrize(("call", "code"), [
    (lambda j: j.set_standard_cost("A", D(1),
                                   posted_at="2026-03-01"),  # type: ignore[arg-type]
     "invalid_date"),
    (lambda j: j.availability([("A", "NOWH", D(1))]), "not_found"),  # was 0 available
    (lambda j: j.deliver_events(0), "configuration"),
], ids=["set_standard_cost_posted_at_str", "availability_unknown_warehouse",
        "deliver_events_zero"])
def test_a_value_that_means_nothing_is_coded(jxc: Jxc, call: Call, code: str) -> None:
    before = state(jxc)
    with pytest.raises(JxcError) as info:
        call(jxc)
    assert info.value.code == code
    assert state(jxc) == before

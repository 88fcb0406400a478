"""``Jxc.post_many``: several stock postings in one unit of work (批量过账), all or none.

A batch posts exactly what the same postings, one ``post`` each, would post (the property at
the end splits random postings into random batches and compares every entry, balance and
valuation state); a refusal anywhere in the batch leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, Posting, StockLine, StockPosting
from jxc_core.stock import Item, Warehouse

from .support import Events, HandClock

D = Decimal
T0 = dt.datetime(2026, 3, 2, 9, 0)
ITEMS = (("F", "fifo"), ("L", "lifo"), ("M", "moving_average"))
WAREHOUSES = ("W1", "W2")


def shop(storage: Storage, events: Events | None = None) -> Jxc:
    j = Jxc(storage, clock=HandClock(T0), notifier=events)
    for code, method in ITEMS:
        j.define_item(Item(code, code, costing_method=method))
    for wh in WAREHOUSES:
        j.define_warehouse(Warehouse(wh, wh))
    return j


def receipt(doc_id: str, *lines: tuple[str, str, str, str],
            at: dt.datetime | None = None) -> StockPosting:
    return StockPosting("receipt", doc_id, [
        StockLine(i, w, D(q), "in", unit_cost=D(c)) for i, w, q, c in lines], at)


def issue(doc_id: str, *lines: tuple[str, str, str], at: dt.datetime | None = None
          ) -> StockPosting:
    return StockPosting("issue", doc_id, [StockLine(i, w, D(q), "out") for i, w, q in lines],
                        at)


def state(j: Jxc, storage: Storage) -> dict[str, Any]:
    """Every entry, balance and stored valuation state of the shop."""
    with storage.unit_of_work() as u:
        valuations = {(i, w): u.valuations.get((i, w)) for i, _ in ITEMS for w in WAREHOUSES}
        count = u.ledger.count()
    return {
        "count": count,
        "ledger": [(line.entry, line.running_quantity, line.running_value)
                   for i, _ in ITEMS for w in WAREHOUSES for line in j.ledger(i, w)],
        "balances": [j.balance(i, w) for i, _ in ITEMS for w in WAREHOUSES],
        "valuations": valuations,
    }


def test_a_batch_posts_in_order_and_returns_each_posting(storage: Storage) -> None:
    events = Events()
    j = shop(storage, events)
    done = j.post_many([
        receipt("RK1", ("F", "W1", "10", "2.00"), ("M", "W2", "4", "1.50")),
        issue("CK1", ("F", "W1", "7")),  # needs the receipt before it, in the same batch
        receipt("RK2", ("F", "W1", "5", "3.00")),
        issue("CK2", ("F", "W1", "6")),  # 3 @ 2.00 then 3 @ 3.00
    ])
    assert [p.doc_id for p in done] == ["RK1", "CK1", "RK2", "CK2"]
    assert all(isinstance(p, Posting) for p in done)
    assert [p.value for p in done] == [D("26.00"), D("-14.00"), D("15.00"), D("-15.00")]
    assert j.balance("F", "W1").on_hand == D(2)
    assert j.balance("F", "W1").value == D("6.00")
    assert j.balance("M", "W2").value == D("6.00")
    # the events of every posting, delivered after the one commit
    assert [e["doc_id"] for e in events.of("stock_changed")] == ["RK1", "CK1", "RK2", "CK2"]


def test_a_refusal_anywhere_refuses_the_batch_and_writes_nothing(storage: Storage) -> None:
    events = Events()
    j = shop(storage, events)
    j.post("receipt", "RK0", [StockLine("F", "W1", D(3), unit_cost=D(1))])
    seen = len(events.seen)
    before = state(j, storage)
    batch = [receipt("RK1", ("F", "W1", "2", "5.00")),
             issue("CK1", ("F", "W1", "4")),
             issue("CK2", ("F", "W1", "2"))]  # 5 on hand after CK1: 1 left, 2 wanted
    with pytest.raises(JxcError) as e:
        j.post_many(batch)
    assert e.value.code == "insufficient_stock"
    assert e.value.data["batch_doc_id"] == "CK2"
    assert e.value.data["available"] == D(1)
    assert state(j, storage) == before
    assert len(events.seen) == seen
    # the same batch without the refused posting goes through whole
    j.post_many(batch[:2])
    assert j.balance("F", "W1").on_hand == D(1)
    assert j.balance("F", "W1").value == D("5.00")  # FIFO: the 1.00 units left first


@pytest.mark.parametrize("doc_ids", [["RK1", "RK1"], ["RK0", "RK2"]],
                         ids=["twice-in-the-batch", "already-in-the-ledger"])
def test_a_document_number_is_posted_once(storage: Storage, doc_ids: list[str]) -> None:
    j = shop(storage)
    j.post("receipt", "RK0", [StockLine("F", "W1", D(1), unit_cost=D(1))])
    before = state(j, storage)
    with pytest.raises(JxcError) as e:
        j.post_many([receipt(doc_ids[0], ("F", "W1", "1", "1")),
                     receipt(doc_ids[1], ("F", "W1", "1", "1"))])
    assert e.value.code == "duplicate_key"
    assert e.value.data["batch_doc_id"] == doc_ids[1] if doc_ids[0] == doc_ids[1] else "RK0"
    assert state(j, storage) == before


def test_the_same_batch_under_the_same_key_posts_once(storage: Storage) -> None:
    j = shop(storage)
    batch = [receipt("RK1", ("L", "W1", "4", "2.50")), issue("CK1", ("L", "W1", "1"))]
    first = j.post_many(batch, idempotency_key="K1")
    after = state(j, storage)
    again = j.post_many(list(batch), idempotency_key="K1")
    assert again == first
    assert state(j, storage) == after
    with pytest.raises(JxcError) as e:
        j.post_many(batch[:1], idempotency_key="K1")
    assert e.value.code == "idempotency_conflict"
    assert state(j, storage) == after


def test_back_dated_postings_in_a_batch_revalue_as_posted_one_by_one(tmp_path: Path) -> None:
    def run(storage: Storage, batched: bool) -> dict[str, Any]:
        j = shop(storage)
        j.post("receipt", "RK0", [StockLine("M", "W1", D(10), unit_cost=D(1))],
               posted_at=T0 - dt.timedelta(days=5))
        j.post("issue", "CK0", [StockLine("M", "W1", D(4), "out")],
               posted_at=T0 - dt.timedelta(days=1))
        postings = [receipt("RK1", ("M", "W1", "10", "4.00"), at=T0 - dt.timedelta(days=3)),
                    issue("CK1", ("M", "W1", "2"), at=T0 - dt.timedelta(days=2))]
        if batched:
            j.post_many(postings)
        else:
            for p in postings:
                j.post(p.doc_type, p.doc_id, p.lines, posted_at=p.posted_at)
        return state(j, storage)

    one_by_one = run(MemoryStorage(), False)
    assert run(MemoryStorage(), True) == one_by_one
    sqlite = SqliteStorage(str(tmp_path / "b.db"))
    try:
        assert run(sqlite, True) == one_by_one
    finally:
        sqlite.close()


@pytest.mark.parametrize("postings, kind", [
    ("RK1", TypeError),
    (None, TypeError),
    ([("receipt", "RK1", [])], TypeError),
    ([StockPosting("receipt", 5, [])], TypeError),  # type: ignore[arg-type]
    ([StockPosting("receipt", "RK1", "lines")], TypeError),  # type: ignore[arg-type]
    ([StockPosting("receipt", "RK1", [StockLine("F", "W1", D(1))], "2026-03-01")],
     JxcError),  # type: ignore[arg-type]
])
def test_wrong_input_is_refused_before_anything_is_written(
        storage: Storage, postings: Any, kind: type[Exception]) -> None:
    j = shop(storage)
    before = state(j, storage)
    with pytest.raises(kind):
        j.post_many(postings)
    assert state(j, storage) == before


def test_an_empty_batch_is_refused(storage: Storage) -> None:
    j = shop(storage)
    with pytest.raises(JxcError) as e:
        j.post_many([])
    assert e.value.code == "empty_batch"
    assert "批量过账" in e.value.message_zh


# -- property: batches post what the same postings post one by one -------------------------------
_QTY = st.integers(1, 9).map(D)
_COST = st.integers(0, 999).map(lambda c: D(c).scaleb(-2))
_LINE = st.tuples(st.sampled_from([c for c, _ in ITEMS]), st.sampled_from(WAREHOUSES), _QTY,
                  _COST, st.booleans())


@st.composite
def _postings(draw: st.DrawFn) -> tuple[list[StockPosting], list[int]]:
    """Receipts and issues (an issue never beyond what the postings before it received, so
    every posting goes through), split into batches of random sizes."""
    stock: dict[tuple[str, str], Decimal] = {}
    out: list[StockPosting] = []
    for n in range(draw(st.integers(1, 12))):
        lines = []
        free = dict(stock)  # an out line takes from what the postings before brought
        for item, wh, qty, cost, is_in in draw(st.lists(_LINE, min_size=1, max_size=4)):
            key = (item, wh)
            if is_in or free.get(key, D(0)) < qty:
                stock[key] = stock.get(key, D(0)) + qty
                lines.append(StockLine(item, wh, qty, "in", unit_cost=cost))
            else:
                free[key] -= qty
                stock[key] -= qty
                lines.append(StockLine(item, wh, qty, "out"))
        out.append(StockPosting("move", f"D{n}", lines))
    cuts = draw(st.lists(st.integers(1, 5), min_size=1, max_size=len(out)))
    return out, cuts


def _batches(postings: list[StockPosting], cuts: list[int]) -> list[list[StockPosting]]:
    out, i = [], 0
    for size in cuts * len(postings):
        if i >= len(postings):
            break
        out.append(postings[i:i + size])
        i += size
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_postings())
def test_batches_post_exactly_what_the_postings_post_one_by_one(
        case: tuple[list[StockPosting], list[int]]) -> None:
    postings, cuts = case
    single, batched = MemoryStorage(), MemoryStorage()
    one = shop(single)
    for p in postings:
        one.post(p.doc_type, p.doc_id, p.lines)
    many = shop(batched)
    results = [r for batch in _batches(postings, cuts) for r in many.post_many(batch)]
    assert [r.doc_id for r in results] == [p.doc_id for p in postings]
    assert state(many, batched) == state(one, single)

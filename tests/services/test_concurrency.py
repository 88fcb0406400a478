"""Several OS processes reserve, issue, release and receive on one store at once: a SQLite
file, and a PostgreSQL database.

Afterwards the books must add up: on hand equals the ledger and what the workers did, the
reservations never exceed on hand, and no "database is locked" reached a worker.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import PostgresStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Jxc, ReserveLine
from jxc_core.stock import Item, Warehouse

D = Decimal
ITEMS = ("A", "B")
WAREHOUSE = "W"
OPENING = {"A": D(30), "B": D(20)}
WORKERS = 4
ITERATIONS = 40
EXPECTED_REFUSALS = {"insufficient_stock", "reservation_short"}


def open_store(kind: str, where: str) -> Storage:
    """A SQLite file (``where`` is its path) or a PostgreSQL database (``where``: the DSN)."""
    return SqliteStorage(where) if kind == "sqlite" else PostgresStorage(where)


def worker(kind: str, path: str, wid: int, iterations: int, start: Any, results: Any) -> None:
    """One process: reserve (partially), then issue what was granted or release it; sometimes
    receive more. Reports what it did; every exception is reported, none escapes."""
    out: dict[str, Any] = {
        "wid": wid, "received": {i: "0" for i in ITEMS}, "issued": {i: "0" for i in ITEMS},
        "reserved_left": {i: "0" for i in ITEMS}, "refusals": [], "unexpected": [],
        "operations": 0, "began": 0.0, "ended": 0.0,
    }
    try:
        rng = random.Random(wid * 7919)
        jxc = Jxc(open_store(kind, path))
        received = dict.fromkeys(ITEMS, D(0))
        issued = dict.fromkeys(ITEMS, D(0))
        left = dict.fromkeys(ITEMS, D(0))
        start.wait(60)  # a barrier: every worker starts at the same moment
        out["began"] = time.monotonic()
        for i in range(iterations):
            item = rng.choice(ITEMS)
            demand = f"P{wid}-{i}"
            try:
                if rng.random() < 0.2:
                    q = D(rng.randint(2, 12))
                    jxc.receive(item, WAREHOUSE, q, D("3.10"))
                    received[item] += q
                    out["operations"] += 1
                    continue
                result = jxc.reserve(
                    [ReserveLine(demand, item, WAREHOUSE, D(rng.randint(1, 9)))], partial=True)
                out["operations"] += 1
                granted = result.granted[0]
                if granted <= 0:
                    continue
                if rng.random() < 0.75:
                    try:
                        jxc.issue(item, WAREHOUSE, granted, demand=demand)
                    except JxcError:
                        left[item] += granted  # the reservation stays
                        raise
                    issued[item] += granted
                else:
                    released = jxc.release(demand)
                    if released != granted:
                        out["unexpected"].append(f"released {released} of {granted}")
                out["operations"] += 1
            except JxcError as exc:
                bucket = "refusals" if exc.code in EXPECTED_REFUSALS else "unexpected"
                out[bucket].append(f"{exc.code}: {exc}")
            except Exception as exc:
                out["unexpected"].append(f"{type(exc).__name__}: {exc}")
        out["ended"] = time.monotonic()
        out["received"] = {k: str(v) for k, v in received.items()}
        out["issued"] = {k: str(v) for k, v in issued.items()}
        out["reserved_left"] = {k: str(v) for k, v in left.items()}
        jxc.storage.close()
    except BaseException:
        out["unexpected"].append(traceback.format_exc())
    results.put(out)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_processes_hammering_one_file_keep_the_books(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = (str(tmp_path / "shared.db") if kind == "sqlite"
            else request.getfixturevalue("pg_dsn"))
    setup = Jxc(open_store(kind, path))
    setup.define_warehouse(Warehouse(WAREHOUSE, "main"))
    for item in ITEMS:
        setup.define_item(Item(item, f"item {item}"))
        setup.receive(item, WAREHOUSE, OPENING[item], D("2.75"))
    setup.storage.close()

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = ctx.Barrier(WORKERS)
    procs = [ctx.Process(target=worker, args=(kind, path, wid, ITERATIONS, start, results))
             for wid in range(WORKERS)]
    began = time.monotonic()
    for p in procs:
        p.start()
    reports: list[dict[str, Any]] = []
    try:
        for _ in procs:
            reports.append(results.get(timeout=60))
    except queue.Empty:
        pass
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    elapsed = time.monotonic() - began
    assert len(reports) == WORKERS, "a worker died without reporting"
    assert all(p.exitcode == 0 for p in procs)

    unexpected = [u for r in reports for u in r["unexpected"]]
    assert unexpected == []  # nothing but insufficient_stock / reservation_short escaped
    assert not any("locked" in x for r in reports for x in r["refusals"])
    assert sum(r["operations"] for r in reports) >= WORKERS * ITERATIONS
    # the workers ran at the same time (CLOCK_MONOTONIC is shared by the processes)
    assert max(r["began"] for r in reports) < min(r["ended"] for r in reports)

    jxc = Jxc(open_store(kind, path))
    try:
        active = jxc.reservations()
        for item in ITEMS:
            received = sum((D(r["received"][item]) for r in reports), D(0))
            issued = sum((D(r["issued"][item]) for r in reports), D(0))
            left = sum((D(r["reserved_left"][item]) for r in reports), D(0))
            balance = jxc.balance(item, WAREHOUSE)
            ledger = sum((x.entry.quantity for x in jxc.ledger(item, WAREHOUSE)), D(0))
            assert balance.on_hand == ledger == OPENING[item] + received - issued
            assert balance.on_hand >= 0
            reserved = sum((r.quantity for r in active if r.item == item), D(0))
            assert reserved <= balance.on_hand
            assert reserved == left  # every grant was issued or released, unless refused
            assert balance.reserved == reserved
            assert issued > 0  # the workers really competed for the stock
    finally:
        jxc.storage.close()
    assert elapsed < 60, f"took {elapsed:.1f}s"

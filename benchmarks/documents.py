"""Throughput of documents (单据) through the Documents service: documents posted per second.

Run: ``.venv/bin/python benchmarks/documents.py [--repeat N] [--quick] [--profile]``.

Workloads, each on ``MemoryStorage`` and on ``SqliteStorage`` (a file in a temp directory),
every document with 10 lines (10 items: 5 FIFO and 5 moving average, over 2 warehouses):

* ``receipt``: purchase receipts against nothing (free lines);
* ``receipt/PO``: purchase receipts against a posted purchase order (one order line per
  receipt line; the order is large enough for every receipt of the run);
* ``delivery``: deliveries (free lines) from a seed stock received before timing.

SQLite runs use the adapter's default (WAL checkpoints on its background thread); the post
step is also shown with ``checkpoints="inline"`` (SQLite's own, in the committing thread).

Two figures per workload:

* ``cycle``: create + submit + approve + post of each document (``create`` then
  ``approve_through`` with one user: 4 units of work per document);
* ``post``: the post step alone, on documents created and approved before timing.

And, apart from the target (which is about one document per unit of work): ``batch``, the
same post step through ``Documents.post_many`` in batches of ``BATCH`` documents (批量过账:
one unit of work, one commit per batch).

Each run uses a fresh store; master data, seed stock and orders are made before timing; only
the loop of service calls is timed (``time.perf_counter``). After every run (untimed) the
on-hand quantities are checked against what the run posted. Every figure is the median
(min/max) of ``--repeat`` runs. ``--profile`` adds a cProfile of the SQLite post step of
receipts against an order and of deliveries: the top functions of ``src/jxc_core`` by own time
and by cumulative time. ``--sql`` prints, instead of the figures, where the SQLite post step's
time goes: per document, the
time inside ``sqlite3`` calls by statement (``COMMIT`` is the write of the WAL frames), and the
rest (Python: the service, the costing, the adapter's own code), beside the same post step on
memory (median of ``--repeat`` runs; the timing wrapper costs a little), and the statements
and WAL frames (pages written to the log) per document.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.ports import Storage
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

TARGET_SQLITE = 2_000  # ten-line documents per second on SQLite

LINES = 10
ITEMS = [Item(f"F{i}", f"fifo item {i}") for i in range(5)] + [
    Item(f"M{i}", f"average item {i}", costing_method="moving_average") for i in range(5)]
WAREHOUSES = ("W1", "W2")
USER = User("bench", frozenset({"all"}))
SEED = Decimal(10_000_000)
KINDS = ("receipt", "receipt/PO", "delivery")
STEPS = ("cycle", "post")
#: documents per ``Documents.post_many`` call in the batch figures
BATCH = 50


@dataclass
class Shop:
    jxc: Jxc
    docs: Documents
    storage: Storage


@contextmanager
def shop(adapter: str) -> Iterator[Shop]:
    tmp = tempfile.mkdtemp(prefix="jxc-bench-docs-")
    # "sqlite": the default (WAL checkpoints on the adapter's background thread);
    # "sqlite-inline": SQLite's own checkpoints in the committing thread
    storage: Storage = (MemoryStorage() if adapter == "memory"
                        else SqliteStorage(os.path.join(tmp, "bench.db"), checkpoints=(
                            "inline" if adapter == "sqlite-inline" else "background")))
    try:
        j = Jxc(storage)
        for item in ITEMS:
            j.define_item(item)
        for wh in WAREHOUSES:
            j.define_warehouse(Warehouse(wh, wh))
        j.define_party(Party("S1", "supplier", "supplier"))
        j.define_party(Party("C1", "customer", "customer"))
        yield Shop(j, Documents(j), storage)
    finally:
        storage.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _line(n: int, qty: Decimal, price: str, source: tuple[str, int] | None = None) -> Line:
    item = ITEMS[n - 1]
    return Line(n, item.code, qty, Decimal(price), Decimal("0.13"),
                warehouse=WAREHOUSES[n % 2], source=source)


def _lines(k: int, source: str | None = None) -> list[Line]:
    """The 10 lines of document ``k`` (quantities 1-9, prices varying)."""
    return [_line(n, Decimal(1 + (k + n) % 9), f"{10 + (k * 7 + n) % 50}.{(k + n) % 100:02d}",
                  (source, n) if source else None) for n in range(1, LINES + 1)]


def prepare(s: Shop, kind: str, n_docs: int) -> tuple[str, str | None]:
    """Untimed set-up of a workload: the document type and the order its lines name."""
    if kind == "delivery":  # seed stock: one big receipt
        seed = s.docs.create("purchase_receipt", [_line(n, SEED, "5.00")
                                                  for n in range(1, LINES + 1)], party="S1")
        s.docs.approve_through(seed.doc_id, [USER])
        return "delivery", None
    if kind == "receipt/PO":
        po = s.docs.create("purchase_order", [_line(n, Decimal(10 * n_docs + 10), "20.00")
                                              for n in range(1, LINES + 1)], party="S1")
        s.docs.approve_through(po.doc_id, [USER])
        return "purchase_receipt", po.doc_id
    return "purchase_receipt", None


def expected_on_hand(kind: str, n_docs: int) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {}
    for k in range(n_docs):
        for line in _lines(k):
            key = (line.item, line.warehouse)
            sign = -1 if kind == "delivery" else 1
            out[key] = out.get(key, SEED if kind == "delivery" else Decimal(0)) + sign * (
                line.quantity)
    return out


def run_once(adapter: str, kind: str, step: str, n_docs: int,
             profiler: cProfile.Profile | None = None) -> float:
    """Documents per second of one run on a fresh store."""
    with shop(adapter) as s:
        doc_type, source = prepare(s, kind, n_docs)
        party = "C1" if doc_type == "delivery" else "S1"
        bodies = [_lines(k, source) for k in range(n_docs)]
        docs, user = s.docs, [USER]
        if step == "cycle":
            t0 = time.perf_counter()
            for lines in bodies:
                doc = docs.create(doc_type, lines, party=party)
                docs.approve_through(doc.doc_id, user)
            elapsed = time.perf_counter() - t0
        else:
            ids = []
            for lines in bodies:
                doc = docs.create(doc_type, lines, party=party)
                docs.submit(doc.doc_id, USER)
                ids.append(docs.approve(doc.doc_id, USER).doc_id)
            if profiler is not None:
                profiler.enable()
            t0 = time.perf_counter()
            if step == "batch":
                for start in range(0, len(ids), BATCH):
                    docs.post_many(ids[start:start + BATCH], USER)
            else:
                for doc_id in ids:
                    docs.post(doc_id, USER)
            elapsed = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
        # untimed check: every document went through
        for (item, wh), qty in expected_on_hand(kind, n_docs).items():
            got = s.jxc.balance(item, wh).on_hand
            if got != qty:
                raise AssertionError(f"{adapter} {kind}: {item}@{wh} on hand {got} != {qty}")
    return n_docs / elapsed


def measure(adapter: str, kind: str, step: str, n_docs: int, repeat: int
            ) -> tuple[float, float, float]:
    rates = [run_once(adapter, kind, step, n_docs) for _ in range(repeat)]
    return statistics.median(rates), min(rates), max(rates)


def profile(n_docs: int, out: Callable[[str], None]) -> None:
    """cProfile of the SQLite post step: everything by own time (SQLite, json and Decimal
    included), then the functions of ``src/jxc_core`` by cumulative time."""
    for kind in KINDS:
        prof = cProfile.Profile()
        run_once("sqlite", kind, "post", n_docs, prof)
        stats = pstats.Stats(prof)
        statements = sum(row[1] for (_, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
                         if name.startswith("<method 'execute"))
        for order, restriction in (("tottime", ()), ("cumulative", (r"jxc_core",))):
            buf = io.StringIO()
            stats.stream = buf  # type: ignore[attr-defined]
            stats.sort_stats(order).print_stats(*restriction, 14)
            body = buf.getvalue()
            start = body.find("   ncalls")
            where = "src only" if restriction else "all functions"
            out(f"\n-- cProfile, SQLite post of {n_docs} ten-line {kind} documents, {where}, "
                f"by {order} ({statements / n_docs:.0f} SQL statements per document) --")
            out(body[start:].rstrip() if start >= 0 else body.rstrip())


class _TimedConnection:
    """A ``sqlite3.Connection`` that adds the time of each ``execute``/``executemany`` to
    ``spent`` under the statement's first words (everything else passes through)."""

    def __init__(self, con: sqlite3.Connection, spent: collections.Counter[str],
                 calls: collections.Counter[str]) -> None:
        self._con = con
        self._spent = spent
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def _timed(self, label: str, call: Callable[[], Any]) -> Any:
        self._calls[label] += 1
        t0 = time.perf_counter()
        try:
            return call()
        finally:
            self._spent[label] += time.perf_counter() - t0

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(" ".join(sql.split()[:3]), lambda: self._con.execute(sql, *args))

    def executemany(self, sql: str, rows: Any) -> Any:
        return self._timed("many: " + " ".join(sql.split()[:3]),
                           lambda: self._con.executemany(sql, rows))


def sql_breakdown(kind: str, n_docs: int) -> tuple[float, float, dict[str, float],
                                                   float, float]:
    """One SQLite post-step run of ``kind`` with every statement timed: (µs per document in
    all, µs inside sqlite3 calls, µs per statement label, statements per document, WAL
    frames per document). The frames are counted with no checkpoint during the posts (the
    background thread stopped, SQLite's own turned off), from an empty log: the pages the
    commits wrote, a page written by two commits twice."""
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    with shop("sqlite") as s:
        doc_type, source = prepare(s, kind, n_docs)
        party = "C1" if doc_type == "delivery" else "S1"
        ids = []
        for k in range(n_docs):
            doc = s.docs.create(doc_type, _lines(k, source), party=party)
            s.docs.submit(doc.doc_id, USER)
            ids.append(s.docs.approve(doc.doc_id, USER).doc_id)
        storage = s.storage
        assert isinstance(storage, SqliteStorage)
        con = storage._connection()  # this thread's connection, which the posts use
        if storage._checkpointer is not None:
            storage._checkpointer.stop()
            storage._checkpointer = None
        con.execute("PRAGMA wal_autocheckpoint = 0")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        storage._local.con = _TimedConnection(con, spent, calls)
        try:
            t0 = time.perf_counter()
            for doc_id in ids:
                s.docs.post(doc_id, USER)
            elapsed = time.perf_counter() - t0
        finally:
            storage._local.con = con
        frames = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    per = 1e6 / n_docs
    return (elapsed * per, sum(spent.values()) * per, {k: v * per for k, v in spent.items()},
            sum(calls.values()) / n_docs, frames / n_docs)


def print_sql(n_docs: int, repeat: int, out: Callable[[str], None]) -> None:
    out(f"\n-- where the SQLite post step goes, µs per ten-line document (median of {repeat}; "
        "statements above 5 µs) --")
    for kind in KINDS:
        runs = [sql_breakdown(kind, n_docs) for _ in range(repeat)]
        total = statistics.median(r[0] for r in runs)
        in_sql = statistics.median(r[1] for r in runs)
        memory = 1e6 / measure("memory", kind, "post", n_docs, repeat)[0]
        statements = statistics.median(r[3] for r in runs)
        frames = statistics.median(r[4] for r in runs)
        out(f"{kind}: {total:,.0f} in all = {in_sql:,.0f} in sqlite3 calls + "
            f"{total - in_sql:,.0f} in Python (memory, same step: {memory:,.0f}); "
            f"{statements:.1f} statements (an executemany counts once) and {frames:.1f} WAL "
            "frames per document")
        labels = sorted({k for r in runs for k in r[2]},
                        key=lambda k: -statistics.median(r[2].get(k, 0.0) for r in runs))
        for label in labels:
            us = statistics.median(r[2].get(label, 0.0) for r in runs)
            if us >= 5:
                out(f"  {us:>7,.0f}  {label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="fewer documents per run")
    parser.add_argument("--docs", type=int, default=None, help="documents per run")
    parser.add_argument("--profile", action="store_true", help="cProfile the SQLite post path")
    parser.add_argument("--sql", action="store_true",
                        help="only: where the SQLite post step's time goes, by statement")
    args = parser.parse_args(argv)
    n_docs = args.docs or (40 if args.quick else 300)
    repeat = max(1, args.repeat)
    if args.sql:
        print_sql(n_docs, repeat, print)
        return 0
    print(f"Documents service: {LINES}-line documents per second, {n_docs} documents per run, "
          f"median (min-max) of {repeat} run(s); Python {sys.version.split()[0]}")
    print(f"{'adapter':<8} {'workload':<11} {'step':<6} {'docs/s':>9} {'min':>9} {'max':>9} "
          f"{'lines/s':>9}")
    sqlite_post: list[float] = []
    sqlite_cycle: list[float] = []
    for adapter in ("memory", "sqlite"):
        for kind in KINDS:
            for step in STEPS:
                med, lo, hi = measure(adapter, kind, step, n_docs, repeat)
                print(f"{adapter:<8} {kind:<11} {step:<6} {med:>9,.0f} {lo:>9,.0f} "
                      f"{hi:>9,.0f} {med * LINES:>9,.0f}", flush=True)
                if adapter == "sqlite":
                    (sqlite_post if step == "post" else sqlite_cycle).append(med)
    for adapter in ("memory", "sqlite"):  # batch posting: not the target's figure
        for kind in KINDS:
            med, lo, hi = measure(adapter, kind, "batch", n_docs, repeat)
            print(f"{adapter:<8} {kind:<11} {'batch':<6} {med:>9,.0f} {lo:>9,.0f} "
                  f"{hi:>9,.0f} {med * LINES:>9,.0f}", flush=True)
    for kind in KINDS:  # for comparison: the post step with checkpoints in the committer
        med, lo, hi = measure("sqlite-inline", kind, "post", n_docs, repeat)
        print(f"{'sqlite, inline checkpoints':<26} {kind:<11} post {med:>9,.0f} {lo:>9,.0f} "
              f"{hi:>9,.0f} {med * LINES:>9,.0f}", flush=True)
    worst_post, worst_cycle = min(sqlite_post), min(sqlite_cycle)
    print(f"target: >= {TARGET_SQLITE:,} ten-line documents/s on SQLite -> "
          f"post step: slowest workload {worst_post:,.0f}/s "
          f"({'met' if worst_post >= TARGET_SQLITE else 'NOT met'}); "
          f"full cycle: slowest {worst_cycle:,.0f}/s "
          f"({'met' if worst_cycle >= TARGET_SQLITE else 'NOT met'})")
    if args.profile:
        profile(min(n_docs, 200), print)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

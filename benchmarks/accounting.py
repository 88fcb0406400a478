"""The books side: voucher generation and the month-end close (月结) at size.

Run: ``.venv/bin/python benchmarks/accounting.py [--repeat N] [--quick] [--seed S]
[--profile] [--only vouchers|close]``.

1. Vouchers per second. A journal is built by posting documents through ``Documents``
   (cycles of purchase receipt (2 lines) -> delivery (2 lines) -> purchase invoice at another
   price -> sales invoice, VAT 13%/9%/0%, 6 items, 2 warehouses, dated through one month in
   order), 2,000 documents
   (``--quick``: 400) on ``MemoryStorage`` and on ``SqliteStorage``. Only
   ``Accounting.generate_vouchers()`` is timed, on a store that has vouchered nothing yet.
   Also timed: the incremental call after one more posting (what a UI pays per document).
   The SQLite store is built once and copied for every run; the memory store is rebuilt.
2. Month-end close. A SQLite store of 10,000 items and 1,000,000 ledger entries posted inside
   2026-11 (``--quick``: 1,000 / 100,000) is written directly with SQL into the adapter's own
   tables (items, warehouses, ledger, balances, valuations, the ledger sequence): items.data is
   ``Item.to_data()`` JSON, valuations.state the ``to_state()`` JSON of the real costing engine
   run over the same movements (half FIFO, half moving average; every 5th item is a
   ``material``). Each run copies that file and runs, in a fresh child process,
   ``Accounting.close_period(2026, 11)``: the close time, the peak RSS of the child
   (``VmHWM``, else ``ru_maxrss``; before and after the close), then historic
   ``Jxc.balance(as_of=...)`` reads (mid-month and month end) after the close.
   Target: close under 60 s.

``--profile`` adds a cProfile of one SQLite ``generate_vouchers`` and of one close (the top
functions of jxc_core by own time and by cumulative time).

The machine may be shared and noisy: every figure is the median (min/max) of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from jxc_core.adapters.memory import MemoryStorage
from jxc_core.adapters.sqlite import SqliteStorage
from jxc_core.costing import FifoValuation, MovingAverageValuation
from jxc_core.documents import Line, User
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
USER = User("bench", frozenset({"all"}))
YEAR, MONTH = 2026, 11
MONTH_START = dt.datetime(YEAR, MONTH, 1, 8, 0)
MONTH_END = dt.datetime(YEAR, MONTH, 30, 23, 59, 59, 999999)
TARGET_CLOSE_S = 60.0
TAXES = (D("0.13"), D("0.09"), D(0))
PLACEHOLDER = "@@"


class FixedClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def median_row(label: str, values: list[float], unit: str, fmt: str = ",.0f") -> str:
    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"  {label:<44} {med:>12{fmt}} {lo:>12{fmt}} {hi:>12{fmt}}  {unit}"


def header() -> str:
    return f"  {'':<44} {'median':>12} {'min':>12} {'max':>12}"


# -- 1. vouchers per second --------------------------------------------------------------------
VOUCHER_ITEMS = [Item("F1", "fifo 1"), Item("F2", "fifo 2"), Item("F3", "fifo 3"),
                 Item("A1", "average 1", costing_method="moving_average"),
                 Item("A2", "average 2", costing_method="moving_average"),
                 Item("M1", "material", category="material")]


def journal_world(storage: Storage) -> tuple[Jxc, Documents, Accounting]:
    j = Jxc(storage, clock=FixedClock(dt.datetime(YEAR, MONTH, 29, 18)))
    for item in VOUCHER_ITEMS:
        j.define_item(item)
    for wh in ("W1", "W2"):
        j.define_warehouse(Warehouse(wh, wh))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    return j, Documents(j), Accounting(j)


def _price(rng: random.Random) -> Decimal:
    return D(rng.randint(100, 99_999)).scaleb(-2)


def post_documents(docs: Documents, n_docs: int, seed: int, last_day_only: bool = False) -> int:
    """Post ``n_docs`` documents in cycles of 4 (receipt, delivery, invoices), dated through
    the month in order (none back-dated: back-dating is measured in benchmarks/posting.py);
    ``last_day_only``: all on the month's 28th. Returns how many were posted."""
    rng = random.Random(seed)
    posted = 0
    cycles = max(1, (n_docs + 3) // 4)

    def post(kind: str, lines: list[Line], party: str, day: dt.date) -> str:
        nonlocal posted
        doc = docs.create(kind, lines, party=party, date=day)
        docs.approve_through(doc.doc_id, [USER])
        posted += 1
        return doc.doc_id

    k = 0
    while posted < n_docs:
        day = dt.date(YEAR, MONTH, 28 if last_day_only else 1 + (k * 28) // cycles)
        k += 1
        picks = rng.sample(VOUCHER_ITEMS, 2)
        wh = rng.choice(("W1", "W2"))
        qty = [D(rng.randint(20, 60)) for _ in picks]
        rc = post("purchase_receipt", [
            Line(n, it.code, q, _price(rng), rng.choice(TAXES), rng.random() < 0.5,
                 warehouse=wh) for n, (it, q) in enumerate(zip(picks, qty, strict=True), 1)],
            "S", day)
        if posted >= n_docs:
            break
        dl = post("delivery", [
            Line(n, it.code, q // 2, _price(rng), rng.choice(TAXES), warehouse=wh)
            for n, (it, q) in enumerate(zip(picks, qty, strict=True), 1)], "C", day)
        if posted >= n_docs:
            break
        post("purchase_invoice", [Line(1, picks[0].code, qty[0], _price(rng),
                                       rng.choice(TAXES), source=(rc, 1))], "S", day)
        if posted >= n_docs:
            break
        post("sales_invoice", [Line(1, picks[0].code, qty[0] // 2, _price(rng),
                                    rng.choice(TAXES), rng.random() < 0.5, source=(dl, 1))],
             "C", day)
    return posted


def profile_text(prof: cProfile.Profile, limit: int = 12) -> str:
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text)
    stats.sort_stats("tottime").print_stats("jxc_core", limit)
    stats.sort_stats("cumulative").print_stats("jxc_core", limit)
    return text.getvalue()


def time_vouchers(storage: Storage, docs: Documents, acc: Accounting,
                  seed: int) -> tuple[float, float, int, float]:
    """(vouchers/s, journal rows/s, vouchers, seconds of one incremental call)."""
    with storage.unit_of_work() as uow:
        rows = len(uow.journal.all())
    t0 = time.perf_counter()
    made = acc.generate_vouchers()
    elapsed = time.perf_counter() - t0
    if any(v.debit != v.credit for v in made):
        raise AssertionError("a voucher does not balance")
    post_documents(docs, 1, seed + 1, last_day_only=True)
    t1 = time.perf_counter()
    more = acc.generate_vouchers()
    incremental = time.perf_counter() - t1
    if len(more) != 1:
        raise AssertionError(f"incremental call made {len(more)} vouchers")
    return len(made) / elapsed, rows / elapsed, len(made), incremental


def bench_vouchers(n_docs: int, repeat: int, seed: int, tmp: str, profile: bool) -> None:
    print(f"\n1. Accounting.generate_vouchers() over a journal of {n_docs:,} documents")
    template = os.path.join(tmp, "journal-template.db")
    t0 = time.perf_counter()
    storage = SqliteStorage(template)
    _, docs, _ = journal_world(storage)
    post_documents(docs, n_docs, seed)
    storage.close()
    build = time.perf_counter() - t0
    print(f"  (SQLite journal built through Documents in {build:.1f} s, copied per run)")
    results: dict[str, list[tuple[float, float, int, float]]] = {"memory": [], "sqlite": []}
    for r in range(repeat):
        mem = MemoryStorage()
        _, docs, acc = journal_world(mem)
        post_documents(docs, n_docs, seed)
        results["memory"].append(time_vouchers(mem, docs, acc, seed + r))
        path = os.path.join(tmp, f"journal-{r}.db")
        shutil.copyfile(template, path)
        sql = SqliteStorage(path)
        j = Jxc(sql, clock=FixedClock(dt.datetime(YEAR, MONTH, 29, 18)))
        results["sqlite"].append(time_vouchers(sql, Documents(j), Accounting(j), seed + r))
        sql.close()
        os.remove(path)
    print(header())
    for kind, runs in results.items():
        print(median_row(f"{kind}: vouchers/s ({runs[0][2]:,} vouchers)",
                         [x[0] for x in runs], "vouchers/s"))
        print(median_row(f"{kind}: journal rows/s", [x[1] for x in runs], "rows/s"))
        print(median_row(f"{kind}: one more voucher (incremental call)",
                         [x[3] * 1000 for x in runs], "ms", ",.1f"))
    if profile:
        path = os.path.join(tmp, "journal-profile.db")
        shutil.copyfile(template, path)
        sql = SqliteStorage(path)
        acc = Accounting(Jxc(sql, clock=FixedClock(dt.datetime(YEAR, MONTH, 29, 18))))
        prof = cProfile.Profile()
        prof.enable()
        acc.generate_vouchers()
        prof.disable()
        sql.close()
        print("\n  cProfile of one SQLite generate_vouchers(), jxc_core functions:")
        print(profile_text(prof))


# -- 2. month-end close --------------------------------------------------------------------------
def template_scope(method: str, per: int, rng: random.Random
                   ) -> tuple[list[tuple[str, str, int]], str, str]:
    """Movements of one scope through the real costing engine: ([(quantity, value, k)],
    on hand, state JSON) with ``@@`` where the item code goes in references."""
    v = FifoValuation() if method == "fifo" else MovingAverageValuation()
    base = rng.randint(100, 9_999)
    moves: list[tuple[str, str, int]] = []
    for k in range(per):
        if k % 2 == 0 or v.quantity <= 0:
            q = D(rng.randint(5, 40))
            cost = D(base + rng.randint(-50, 50)).scaleb(-2)
            value = v.receive(q, cost, f"RK-{PLACEHOLDER}-{k}/1")
            moves.append((str(q), str(value), k))
        else:
            q = D(rng.randint(1, int(v.quantity)))
            value = v.issue(q, None, ref=f"delivery\x1fCK-{PLACEHOLDER}-{k}\x1f1")
            moves.append((str(-q), str(-value), k))
    state = v.to_state()
    state["moves"] = per
    return moves, str(v.quantity), json.dumps(state, separators=(",", ":"))


def build_close_store(path: str, n_items: int, n_entries: int, seed: int) -> dict[str, Any]:
    """Write the store with SQL (see the module docstring); returns facts for checking."""
    SqliteStorage(path).close()  # the schema, by the adapter's own migrations
    per = n_entries // n_items
    rng = random.Random(seed)
    templates = [template_scope(m, per, rng) for m in ("fifo", "moving_average") * 8]
    step = (MONTH_END - MONTH_START) / (per + 1)
    times = [(MONTH_START + step * k).isoformat() for k in range(per)]
    warehouses = [f"W{n}" for n in range(1, 5)]
    items = []
    for i in range(n_items):
        t = i % len(templates)
        method = "fifo" if t % 2 == 0 else "moving_average"
        items.append((Item(f"I{i:06d}", f"item {i}", costing_method=method,
                           category="material" if i % 5 == 0 else ""), warehouses[i % 4], t))
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("BEGIN")
    con.executemany("INSERT INTO warehouses VALUES (?, ?)", [
        (w, json.dumps(Warehouse(w, w).to_data(), ensure_ascii=False)) for w in warehouses])
    con.executemany("INSERT INTO items VALUES (?, ?)", [
        (it.code, json.dumps(it.to_data(), ensure_ascii=False)) for it, _, _ in items])

    def ledger() -> Iterator[tuple[Any, ...]]:
        no = 0
        for k in range(per):  # time order: entry numbers grow with the posting time
            for it, wh, t in items:
                no += 1
                q, value, _ = templates[t][0][k]
                if q[0] == "-":
                    yield (no, it.code, wh, "", "", q, value, times[k], "delivery", "delivery",
                           f"CK-{it.code}-{k}", 1, "")
                else:
                    yield (no, it.code, wh, "", "", q, value, times[k], "purchase_receipt",
                           "purchase_receipt", f"RK-{it.code}-{k}", 1, "")

    con.executemany("INSERT INTO ledger VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", ledger())
    con.executemany("INSERT INTO balances VALUES (?,?,?,?,?,?,?,?)", [
        (it.code, wh, "", "", templates[t][1], "0", "0", "0") for it, wh, t in items])

    def valuations() -> Iterator[tuple[str, str, str]]:
        for it, wh, t in items:
            state = json.loads(templates[t][2].replace(PLACEHOLDER, it.code))
            state["posted_until"] = times[-1]
            yield (it.code, wh, json.dumps(state, separators=(",", ":")))

    columns = [r[1] for r in con.execute("PRAGMA table_info(valuations)")]
    version = ", version) VALUES (?, ?, ?, 1)" if "version" in columns else ") VALUES (?, ?, ?)"
    con.executemany("INSERT INTO valuations (item, scope, state" + version, valuations())
    con.execute("INSERT INTO sequences VALUES ('ledger', ?)", (per * n_items,))
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return {"entries": per * n_items, "items": n_items,
            "sample": [(it.code, wh) for it, wh, _ in items[:: max(1, n_items // 20)]]}


def check_close_store(path: str, facts: dict[str, Any]) -> None:
    """Untimed: the SQL-built store reads back through the service consistently."""
    storage = SqliteStorage(path)
    j = Jxc(storage, clock=FixedClock(dt.datetime(YEAR, 12, 1, 9)))
    with storage.unit_of_work() as uow:
        n = uow.ledger.count()
    if n != facts["entries"]:
        raise AssertionError(f"{n} ledger entries, expected {facts['entries']}")
    for code, wh in facts["sample"]:
        now, then = j.balance(code, wh), j.balance(code, wh, as_of=MONTH_END)
        if (now.on_hand, now.value) != (then.on_hand, then.value):
            raise AssertionError(f"{code}/{wh}: valuation {now} != ledger {then}")
    storage.close()


def peak_rss_kb() -> int:
    """Peak resident memory of this process in KiB: ``VmHWM`` on Linux (``ru_maxrss`` keeps
    the parent's peak across fork/exec, so it would report the builder's memory), else
    ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_close(path: str, sample: list[list[str]], profile: bool) -> dict[str, Any]:
    """Runs in a fresh process: close the month, then historic balances."""
    rss_before = peak_rss_kb()
    storage = SqliteStorage(path)
    j = Jxc(storage, clock=FixedClock(dt.datetime(YEAR, 12, 1, 9)))
    acc = Accounting(j)
    out: dict[str, Any] = {}
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    result = acc.close_period(YEAR, MONTH, user="bench")
    if prof is not None:
        prof.disable()
    out["close_s"] = time.perf_counter() - t0
    out["rss_before_kb"] = rss_before
    out["rss_after_kb"] = peak_rss_kb()
    out["snapshot_rows"] = result.snapshot_rows
    for label, at in (("mid", dt.datetime(YEAR, MONTH, 15, 12)), ("end", MONTH_END)):
        t1 = time.perf_counter()
        for code, wh in sample:
            j.balance(code, wh, as_of=at)
        out[f"balance_{label}_ms"] = (time.perf_counter() - t1) * 1000 / len(sample)
    storage.close()
    if prof is not None:
        out["profile"] = profile_text(prof)
    return out


def run_child(path: str, facts: dict[str, Any], profile: bool) -> dict[str, Any]:
    args = [sys.executable, os.path.abspath(__file__), "--child-close", path,
            "--child-sample", json.dumps(facts["sample"])]
    if profile:
        args.append("--profile")
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"close child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def bench_close(n_items: int, n_entries: int, repeat: int, seed: int, tmp: str,
                profile: bool) -> None:
    print(f"\n2. Accounting.close_period({YEAR}, {MONTH}) on SQLite: {n_items:,} items, "
          f"{n_entries:,} ledger entries")
    template = os.path.join(tmp, "close-template.db")
    t0 = time.perf_counter()
    facts = build_close_store(template, n_items, n_entries, seed)
    build = time.perf_counter() - t0
    check_close_store(template, facts)
    size = os.path.getsize(template) / 2**20
    print(f"  (store written with SQL in {build:.1f} s, {size:,.0f} MiB, copied per run)")
    runs = []
    for r in range(repeat):
        path = os.path.join(tmp, f"close-{r}.db")
        shutil.copyfile(template, path)
        runs.append(run_child(path, facts, False))
        if runs[-1]["snapshot_rows"] != n_items:
            raise AssertionError(f"snapshot rows {runs[-1]['snapshot_rows']} != {n_items}")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    print(header())
    closes = [x["close_s"] for x in runs]
    print(median_row("close_period", closes, "s", ",.2f"))
    print(median_row("close_period entries/s", [n_entries / c for c in closes], "entries/s"))
    print(median_row("peak RSS of the child before the close",
                     [x["rss_before_kb"] / 1024 for x in runs], "MiB", ",.1f"))
    print(median_row("peak RSS of the child after the close",
                     [x["rss_after_kb"] / 1024 for x in runs], "MiB", ",.1f"))
    print(median_row("Jxc.balance(as_of=mid-month) after the close",
                     [x["balance_mid_ms"] for x in runs], "ms/call", ",.2f"))
    print(median_row("Jxc.balance(as_of=month end) after the close",
                     [x["balance_end_ms"] for x in runs], "ms/call", ",.2f"))
    med = statistics.median(closes)
    print(f"  target: close under {TARGET_CLOSE_S:.0f} s -> "
          f"{'met' if med < TARGET_CLOSE_S else 'MISSED'} ({med:.1f} s)")
    if profile:
        path = os.path.join(tmp, "close-profile.db")
        shutil.copyfile(template, path)
        prof = run_child(path, facts, True)
        print(f"\n  cProfile of one close ({prof['close_s']:.1f} s under the profiler), "
              "jxc_core functions:")
        print(prof["profile"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--profile", action="store_true",
                   help="cProfile one generate_vouchers and one close")
    p.add_argument("--only", choices=("vouchers", "close"))
    p.add_argument("--child-close", help=argparse.SUPPRESS)
    p.add_argument("--child-sample", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child_close:
        print(json.dumps(child_close(a.child_close, json.loads(a.child_sample), a.profile)))
        return 0
    if a.repeat < 1:
        p.error("--repeat must be at least 1")
    n_docs, n_items, n_entries = (400, 1_000, 100_000) if a.quick else (
        2_000, 10_000, 1_000_000)
    print(f"jxc_core accounting benchmark ({'quick' if a.quick else 'full'}), "
          f"repeat {a.repeat}, seed {a.seed}, Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}")
    tmp = tempfile.mkdtemp(prefix="jxc-bench-acc-")
    try:
        if a.only in (None, "vouchers"):
            bench_vouchers(n_docs, a.repeat, a.seed, tmp, a.profile)
        if a.only in (None, "close"):
            bench_close(n_items, n_entries, a.repeat, a.seed, tmp, a.profile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

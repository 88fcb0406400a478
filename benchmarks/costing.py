"""Throughput of the perpetual costing engines (FIFO and moving average).

Run: ``.venv/bin/python benchmarks/costing.py [--repeat N] [--quick] [--seed S] [--no-gc]``.

Workloads (all quantities and costs are ``decimal.Decimal``, built before timing):

(a) mixed: a seeded stream of receipts (1-100 units at 1.00-99.99) and issues (1-120 units,
    clipped to the stock on hand; an issue drawn at zero stock becomes a receipt).
(b) deep queue: N single-unit receipts at varying costs, then N single-unit issues; the receipt
    half and the issue half are also timed on their own.

Only the loop of ``receive``/``issue`` calls is timed (``time.perf_counter``). Each workload runs
``--repeat`` times on a fresh valuation; the median and the min/max are printed. After every run
(untimed) the final quantity must equal receipts minus issues and the value must be 0 when the
quantity is 0; once per method and workload an extra untimed pass checks that the value equals
the receipt values minus the issue costs.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from jxc_core.costing import FifoValuation, MovingAverageValuation

Valuation = FifoValuation | MovingAverageValuation
#: one operation: (quantity, unit cost) for a receipt, (quantity, None) for an issue
Op = tuple[Decimal, Decimal | None]

TARGET_MIXED = 1_200_000  # ops/s, workload (a)
TARGET_RATIO = 1.5  # per-op time of (b) / per-op time of (a)

METHODS: dict[str, Callable[[], Valuation]] = {
    "fifo": FifoValuation,
    "moving_average": MovingAverageValuation,
}


# -- workloads -------------------------------------------------------------------------------
def _cost(rng: random.Random) -> Decimal:
    cents = rng.randint(100, 9999)
    return Decimal(f"{cents // 100}.{cents % 100:02d}")


def mixed_ops(n: int, seed: int) -> tuple[list[Op], Decimal]:
    """Workload (a): ``n`` operations; returns them and the expected final quantity."""
    rng = random.Random(seed)
    qty_cache = {i: Decimal(i) for i in range(1, 121)}
    ops: list[Op] = []
    stock = 0
    for _ in range(n):
        if rng.random() < 0.5 or stock == 0:
            q = rng.randint(1, 100)
            ops.append((qty_cache[q], _cost(rng)))
            stock += q
        else:
            q = min(rng.randint(1, 120), stock)
            ops.append((qty_cache[q], None))
            stock -= q
    return ops, Decimal(stock)


def deep_ops(n: int, seed: int) -> tuple[list[Decimal], list[Decimal]]:
    """Workload (b): ``n`` single-unit receipt costs, then ``n`` single-unit issues."""
    rng = random.Random(seed + 1)
    costs = [_cost(rng) for _ in range(n)]
    ones = [Decimal(1)] * n
    return costs, ones


# -- timed loops -----------------------------------------------------------------------------
def run_mixed(v: Valuation, ops: Sequence[Op]) -> float:
    receive = v.receive
    issue = v.issue
    t0 = time.perf_counter()
    for q, c in ops:
        if c is None:
            issue(q)
        else:
            receive(q, c)
    return time.perf_counter() - t0


def run_deep(
    v: Valuation, costs: Sequence[Decimal], ones: Sequence[Decimal]
) -> tuple[float, float]:
    """Returns (receipt half seconds, issue half seconds)."""
    receive = v.receive
    issue = v.issue
    one = ones[0]
    t0 = time.perf_counter()
    for c in costs:
        receive(one, c)
    t1 = time.perf_counter()
    for q in ones:
        issue(q)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


# -- checks (untimed) ------------------------------------------------------------------------
def check_final(v: Valuation, expected_qty: Decimal, label: str) -> None:
    if v.quantity != expected_qty:
        raise AssertionError(f"{label}: quantity {v.quantity} != expected {expected_qty}")
    if v.quantity == 0 and v.value != 0:
        raise AssertionError(f"{label}: value {v.value} left at zero quantity")
    if v.value < 0:
        raise AssertionError(f"{label}: negative value {v.value}")


def check_conservation(v: Valuation, ops: Sequence[Op], label: str) -> None:
    """Value in stock == receipt values - issue costs, exactly (an untimed replay)."""
    total = Decimal(0)
    for q, c in ops:
        total += v.issue(q) if c is None else -v.receive(q, c)
    if v.value != -total:
        raise AssertionError(f"{label}: value {v.value} != receipts - issues {-total}")


# -- reporting -------------------------------------------------------------------------------
@dataclass
class Stat:
    ops: int
    seconds: list[float]

    def rates(self) -> list[float]:
        return [self.ops / s for s in self.seconds]

    @property
    def median(self) -> float:
        return statistics.median(self.rates())

    @property
    def low(self) -> float:
        return min(self.rates())

    @property
    def high(self) -> float:
        return max(self.rates())


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="runs per workload (default 5)")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed")
    parser.add_argument("--no-gc", action="store_true", help="disable the cyclic GC while timing")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    n_mixed = 20_000 if args.quick else 200_000
    n_deep = 10_000 if args.quick else 100_000
    ops, mixed_final = mixed_ops(n_mixed, args.seed)
    costs, ones = deep_ops(n_deep, args.seed)
    n_receipts = sum(1 for _, c in ops if c is not None)

    print(
        f"Python {sys.version.split()[0]}; repeat={args.repeat}; seed={args.seed}; "
        f"gc={'off' if args.no_gc else 'on'} while timing"
    )
    print(
        f"(a) mixed: {n_mixed:,} ops ({n_receipts:,} receipts, {n_mixed - n_receipts:,} issues, "
        f"final qty {mixed_final})"
    )
    print(f"(b) deep:  {n_deep:,} single-unit receipts then {n_deep:,} single-unit issues")
    print()

    results: dict[str, dict[str, Stat]] = {}
    for name, factory in METHODS.items():
        mixed = Stat(n_mixed, [])
        deep = Stat(2 * n_deep, [])
        deep_rec = Stat(n_deep, [])
        deep_iss = Stat(n_deep, [])
        for _ in range(args.repeat):
            v = factory()
            gc.collect()
            if args.no_gc:
                gc.disable()
            try:
                mixed.seconds.append(run_mixed(v, ops))
            finally:
                gc.enable()
            check_final(v, mixed_final, f"{name} (a)")

            v = factory()
            gc.collect()
            if args.no_gc:
                gc.disable()
            try:
                rec_s, iss_s = run_deep(v, costs, ones)
            finally:
                gc.enable()
            check_final(v, Decimal(0), f"{name} (b)")
            deep_rec.seconds.append(rec_s)
            deep_iss.seconds.append(iss_s)
            deep.seconds.append(rec_s + iss_s)
        check_conservation(factory(), ops, f"{name} (a)")
        deep_ops_list: list[Op] = [(ones[0], c) for c in costs] + [(q, None) for q in ones]
        check_conservation(factory(), deep_ops_list, f"{name} (b)")
        results[name] = {
            "(a) mixed": mixed,
            "(b) deep, total": deep,
            "(b) receipt half": deep_rec,
            "(b) issue half": deep_iss,
        }

    header = (
        f"{'method':<15} {'workload':<18} {'ops':>9} {'median ops/s':>14} "
        f"{'min ops/s':>12} {'max ops/s':>12}  target"
    )
    print(header)
    print("-" * len(header))
    for name, stats in results.items():
        for workload, st in stats.items():
            target = ""
            if workload.startswith("(a)"):
                ok = st.median >= TARGET_MIXED
                target = f">= {fmt_rate(TARGET_MIXED)} {'met' if ok else 'MISSED'}"
            line = (
                f"{name:<15} {workload:<18} {st.ops:>9,} {fmt_rate(st.median):>14} "
                f"{fmt_rate(st.low):>12} {fmt_rate(st.high):>12}  {target}"
            )
            print(line.rstrip())
    print()
    print("per-op time (b) / per-op time (a), from medians:")
    for name, stats in results.items():
        ratio = stats["(a) mixed"].median / stats["(b) deep, total"].median
        ok = ratio <= TARGET_RATIO
        print(f"  {name:<15} {ratio:5.2f}   target <= {TARGET_RATIO} {'met' if ok else 'MISSED'}")
    print()
    print("checks: final quantity, zero value at zero quantity, value conservation: OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

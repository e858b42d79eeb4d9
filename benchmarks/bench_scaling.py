"""Scaling benchmark: the normalize and lookup kernels on 1 thread and on 2.

Both kernels split their rows over `optin_gate._runtime.threads()` threads, which
`OPTIN_GATE_THREADS` sets here. Timed in this one process, each after a warm-up run:

* normalize: the compiled fast path (`numbers.batch.fast_batch`) over messy phone cells
  from `benchmarks/generate.py`, as a call list writes them;
* lookup: `engine.lookup.decide_by_lookup` (build the evidence hash table, probe it once
  per row) on the filter benchmark's store and list (`bench_filter.py`), with the inputs
  the held filter hands it.

Each figure is the median of `--repeat` runs, alternating 1 and 2 threads so that load
from other work falls on both alike; the ratio is 1-thread time over 2-thread time (target
>= 1.7x). It is only meaningful on a machine with two idle cores.

    python benchmarks/bench_scaling.py                 # 2M list rows, 5M strings
    python benchmarks/bench_scaling.py --rows 200000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks import bench_filter
from benchmarks._harness import header, scratch

THREADS_ENV = "OPTIN_GATE_THREADS"


def timed(fn: Callable[[], object], repeat: int) -> dict[int, float]:
    """Median seconds of `fn` per thread count, 1 and 2 alternating, after a warm-up."""
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for count in (1, 2):
        os.environ[THREADS_ENV] = str(count)
        fn()
    for _ in range(repeat):
        for count in (1, 2):
            os.environ[THREADS_ENV] = str(count)
            t0 = time.perf_counter()
            fn()
            seconds[count].append(time.perf_counter() - t0)
    os.environ.pop(THREADS_ENV, None)
    return {count: statistics.median(runs) for count, runs in seconds.items()}


def normalize_job(strings: int) -> Callable[[], object]:
    """The compiled fast path over `strings` messy phone cells."""
    from benchmarks.generate import messy_phone_numbers
    from optin_gate.numbers.batch import fast_batch
    from optin_gate.numbers.spec import region_spec

    cells = messy_phone_numbers(strings, seed=3)
    spec = region_spec("CZ")
    return lambda: fast_batch(cells, spec)


def lookup_job(rows: int, seed: int) -> Callable[[], object]:
    """`decide_by_lookup` with the inputs the held filter gives it for the benchmark list."""
    import optin_gate as og
    from optin_gate._time import to_utc
    from optin_gate.engine import held, lookup
    from optin_gate.engine.inputs import find_phone_column, phone_text
    from optin_gate.engine.query import Plan
    from optin_gate.io import open_source

    work = scratch("filter")
    name = f"campaign-{rows}-{seed}.csv"
    campaign = bench_filter._generate("campaign", work / name, rows, 0)
    store = bench_filter.build_store(str(work), rows, seed)
    gate = og.Gate(og.EvidenceStore(store))
    with open_source(campaign) as src:
        phone = find_phone_column(src.columns, None, file=name)
        phones = phone_text(src.to_arrow().column(phone), file=name, name=phone)
    captured: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    real = lookup.decide_by_lookup

    def capture(*args: Any, **kwargs: Any) -> Any:
        captured.append((args, kwargs))
        return real(*args, **kwargs)

    held.decide_by_lookup = capture  # type: ignore[attr-defined]
    try:
        with gate.store.connect(read_only=True) as con:
            at = to_utc(bench_filter.AS_OF, name="as_of")
            plan = Plan(con, gate.policy, at=at, controller=gate.controller, call_type="live")
            held.decide_rows(plan, phones)
    finally:
        held.decide_by_lookup = real  # type: ignore[attr-defined]
    args, kwargs = captured[0]
    return lambda: real(*args, **kwargs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the filter's list")
    ap.add_argument("--strings", type=int, default=5_000_000, help="cells to normalize")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    header(f"scaling: normalize {args.strings:,} cells, look up {args.rows:,} rows, 1 vs 2 threads")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        print("note: fewer than two usable cores; the 2-thread figure cannot scale here.")
    for label, job in (
        ("normalize", normalize_job(args.strings)),
        ("lookup", lookup_job(args.rows, args.seed)),
    ):
        seconds = timed(job, args.repeat)
        ratio = seconds[1] / seconds[2]
        print(
            f"{label}: 1 thread {seconds[1]:.3f} s, 2 threads {seconds[2]:.3f} s, "
            f"{ratio:.2f}x (target >= 1.7x)"
        )


if __name__ == "__main__":
    main()

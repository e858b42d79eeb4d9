"""Where the time goes: the 10M filter and the 10M audit, stage by stage.

Each job runs once in a fresh process, exactly as its own benchmark runs it (`bench_filter`'s
held-out list against its store; `bench_audit`'s two-year log against its store, writing the
violations, the JSON and the HTML), with the engine's own progress labels timestamped: wall
and CPU seconds (all threads of the process) from one label to the next. The first row is the
start-up: imports, opening the store and sniffing the input, up to the first label. A CPU
figure above the wall figure is work done on both cores.

    python benchmarks/bench_stages.py                     # both, 10M rows each
    python benchmarks/bench_stages.py --only audit --rows 2000000

The data is the other benchmarks' cache (bench-out/filter/, bench-out/audit/); a size not
cached there is generated first by running that benchmark.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import header, run_measured, scratch

Stages = list[tuple[str, float, float]]  # (label, wall s, CPU s) of each stage


class _Clock:
    """Timestamps each label the engine reports; the stage before it ends there."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = [
            ("start-up", time.perf_counter(), time.process_time())
        ]

    def step(self, label: str, *_: Any) -> None:
        if label != self.marks[-1][0]:
            self.marks.append((label, time.perf_counter(), time.process_time()))

    def stages(self) -> Stages:
        ends = [*self.marks[1:], ("end", time.perf_counter(), time.process_time())]
        return [(m[0], e[1] - m[1], e[2] - m[2]) for m, e in zip(self.marks, ends, strict=True)]


def filter_stages(store: str, campaign: str, out: str) -> Stages:
    """`bench_filter.gate_filter`'s job with its progress labels timed."""
    clock = _Clock()
    import optin_gate as og
    from benchmarks.bench_filter import AS_OF
    from optin_gate.engine import filter_file

    gate = og.Gate(og.EvidenceStore(store))
    filter_file(gate.context, campaign, as_of=AS_OF, out=out, progress=clock.step)
    return clock.stages()


def audit_stages(store: str, calls: str, out: str) -> Stages:
    """`bench_audit.audit`'s job with its steps timed."""
    clock = _Clock()
    import optin_gate as og
    from optin_gate.audit.stream import audit_file

    gate = og.Gate(og.EvidenceStore(store), controller="default")
    audit_file(
        gate.context,
        calls,
        violations=f"{out}/violations.csv",
        json_path=f"{out}/audit.json",
        html_path=f"{out}/audit.html",
        on_step=clock.step,
    )
    return clock.stages()


def _print(title: str, stages: Stages, peak_mb: float) -> None:
    wall = sum(s[1] for s in stages)
    cpu = sum(s[2] for s in stages)
    print(f"\n{title}: {wall:.2f} s wall, {cpu:.2f} s CPU, peak {peak_mb:,.0f} MB")
    print(f"  {'stage':<52} {'wall s':>7} {'CPU s':>7} {'share':>6}")
    for label, w, c in stages:
        print(f"  {label[:52]:<52} {w:7.2f} {c:7.2f} {100 * w / wall:5.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the list and the log")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=("filter", "audit"), help="profile one job")
    args = ap.parse_args()
    header(f"stages: the {args.rows:,}-row filter and audit, one run each")
    if args.only in (None, "filter"):
        folder = scratch("filter")
        store = folder / f"store-{args.rows}-{args.seed}.duckdb"
        campaign = folder / f"campaign-{args.rows}-{args.seed}.csv"
        _need(store, campaign, "bench_filter.py")
        run = run_measured(filter_stages, str(store), str(campaign), str(folder / "stages.csv"))
        _print("filter", run.value, run.peak_mb)
    if args.only in (None, "audit"):
        folder = scratch("audit")
        store = folder / f"store-{args.rows}-{args.seed}.duckdb"
        calls = folder / f"calls-{args.rows}-{args.seed}.csv"
        _need(store, calls, "bench_audit.py")
        out = scratch("audit/stages")
        run = run_measured(audit_stages, str(store), str(calls), str(out))
        _print("audit", run.value, run.peak_mb)


def _need(*paths_and_script: Path | str) -> None:
    *paths, script = paths_and_script
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise SystemExit(f"{missing[0]} is not cached: run benchmarks/{script} with these --rows")


if __name__ == "__main__":
    main()

"""Audit benchmark: a two-year call log across the 2022-07-01 regime change, judged call by call.

The job timed is `optin-gate audit`'s: read the call log CSV, decide every call as of its own
time against a store with monthly directory snapshots and consent histories, and write the
violations CSV, the JSON and the HTML report. The floor, timed in the same run and
interleaved with the audit runs (load from other work falls on both alike), is DuckDB copying
the same CSV to a new CSV. Each step runs in a fresh process (`run_measured`), so its peak
memory is its own.

    python benchmarks/bench_audit.py              # 10M calls (targets: <= 2x floor, < 2 GB)
    python benchmarks/bench_audit.py --rows 200000

Generated files and the store are cached in bench-out/audit/ (keyed by their sizes and seed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from benchmarks._harness import header, rate, run_measured, scratch

START, END = date(2021, 7, 1), date(2023, 7, 1)  # calls: two years across 2022-07-01
FIRST_SNAPSHOT, LAST_SNAPSHOT = date(2021, 6, 1), date(2023, 5, 1)  # then stale for 2 months


def _generate(kind: str, out: Path, rows: int, seed: int, *extra: str) -> Path:
    if not out.exists():
        cmd = [sys.executable, "benchmarks/generate.py", kind, "--rows", str(rows)]
        subprocess.run([*cmd, "--out", str(out), "--seed", str(seed), *extra], check=True)
    return out


def _months() -> list[date]:
    days, day = [], FIRST_SNAPSHOT
    while day <= LAST_SNAPSHOT:
        days.append(day)
        day = (day.replace(day=28) + timedelta(days=5)).replace(day=1)
    return days


def build_store(folder: str, rows: int, seed: int) -> str:
    """A store with consents, contracts, objections and monthly directory snapshots."""
    import optin_gate as og

    work = Path(folder)
    path = work / f"store-{rows}-{seed}.duckdb"
    if path.exists():
        return str(path)
    population = max(rows // 2, 1000)
    people = ["--population", str(population)]
    evidence = {
        "consents": (rows // 10, ["--start", "2019-01-01", "--end", "2023-07-01"]),
        "contracts": (rows // 13, ["--start", "2015-01-01", "--end", "2023-07-01"]),
        "objections": (rows // 100, ["--start", "2020-01-01", "--end", "2023-07-01"]),
    }
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    store = og.EvidenceStore(str(tmp))
    for kind, (n, span) in evidence.items():
        src = _generate(kind, work / f"{kind}-{n}-{seed}.csv", n, seed, *people, *span)
        store.load(kind, str(src))
    snapshot_rows = max(rows // 5, 1000)
    base = None
    for i, day in enumerate(_months()):
        out = work / f"directory-{snapshot_rows}-{seed}-{day}.csv"
        if base is None:
            _generate("directory", out, snapshot_rows, seed, *people, "--snapshot-date", str(day))
        else:
            _generate(
                "directory_next", out, 0, seed + i, "--base", str(base),
                "--snapshot-date", str(day), "--change-rate", "0.01",
            )  # fmt: skip
        store.load("directory", str(out))
        base = out
    tmp.rename(path)
    return str(path)


def floor(calls: str, out: str) -> None:
    """DuckDB copying the call log CSV to a new CSV: the least any CSV-to-CSV job costs."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"COPY (SELECT * FROM read_csv('{calls}')) TO '{out}' (HEADER)")


def audit(store_path: str, calls: str, out: str) -> dict[str, int]:
    """What `optin-gate audit CALLS --violations --json --html` does."""
    import optin_gate as og
    from optin_gate.audit.stream import audit_file

    gate = og.Gate(og.EvidenceStore(store_path), controller="default")
    report = audit_file(
        gate.context,
        calls,
        violations=f"{out}/violations.csv",
        json_path=f"{out}/audit.json",
        html_path=f"{out}/audit.html",
    )
    s = report.summary
    return {k: s[k] for k in ("calls", "violations", "unusable_rows")} | {
        "repeat_objection": s["repeat_objection"]["calls"],
        "stale": next((r["calls"] for r in s["by_reason"] if r["reason"] == "STALE_DIRECTORY"), 0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=10_000_000, help="calls in the log")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=0, help="timed runs (default 3; 1 for >= 5M)")
    args = ap.parse_args()
    repeat = args.repeat or (1 if args.rows >= 5_000_000 else 3)
    work = scratch("audit")
    header(f"audit: {args.rows:,} calls, {START} to {END}, monthly directory snapshots")
    calls = _generate(
        "calls", work / f"calls-{args.rows}-{args.seed}.csv", args.rows, args.seed,
        "--population", str(max(args.rows // 2, 1000)), "--start", str(START), "--end", str(END),
    )  # fmt: skip
    built = run_measured(build_store, str(work), args.rows, args.seed)
    store = built.value
    size = Path(store).stat().st_size / 2**20
    print(f"store: {store} ({size:,.0f} MB), {len(_months())} directory snapshots")
    out = scratch("audit/out")
    # Interleaved, so that load from other work on a shared machine falls on both alike.
    floors, audits = [], []
    for _ in range(repeat):
        floors.append(run_measured(floor, str(calls), str(work / "copy.csv")))
        audits.append(run_measured(audit, store, str(calls), str(out)))
    t_floor = statistics.median(m.seconds for m in floors)
    t_audit = statistics.median(m.seconds for m in audits)
    peak = max(m.peak_mb for m in audits)
    figures = audits[0].value
    print(
        f"calls {figures['calls']:,}; violations {figures['violations']:,}; "
        f"after an objection {figures['repeat_objection']:,}; stale directory "
        f"{figures['stale']:,}; unusable rows {figures['unusable_rows']:,}"
    )
    runs = ", ".join(f"{m.seconds:.2f}" for m in floors)
    print(f"floor (DuckDB CSV -> CSV copy): {t_floor:.2f} s, median of {repeat} ({runs})")
    runs = ", ".join(f"{m.seconds:.2f}" for m in audits)
    print(
        f"audit (decide, violations CSV, JSON, HTML): {t_audit:.2f} s, median of {repeat} "
        f"({runs}), {rate(args.rows, t_audit)}"
    )
    print(f"audit / floor: {t_audit / t_floor:.2f}x (target <= 2x)")
    print(f"audit peak memory: {peak:,.0f} MB (target < 2,048 MB)")


if __name__ == "__main__":
    main()

"""Store benchmark: loading 10M directory rows, 5M consents, 2.5M contracts, 100k objections.

Each load (`EvidenceStore.load` of a CSV made by `benchmarks/generate.py`, one after another
into one store file, as a company's first nightly run would) is timed against DuckDB's own
`CREATE TABLE t AS SELECT * FROM read_csv(file)` of the same file into a fresh DuckDB file,
in the same run. The load does more (hashing, normalizing every number, parsing every date,
checking, versioning, one transaction), so the target is a ratio, at most 3x per load, and
peak memory under 4 GB. Then a second directory snapshot, 14 days later and differing in 1 %
of rows, is loaded: the store file must not double (both sizes are printed).

Each step runs in a fresh process (`run_measured`), so its peak memory is its own.

    python benchmarks/bench_store.py               # full size (targets: <= 3x, < 4 GB)
    python benchmarks/bench_store.py --scale 0.02  # 200k directory rows etc., quick

Generated files are cached in bench-out/store/ (keyed by size and seed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._harness import header, run_measured, scratch

SNAPSHOT = "2025-12-01"
NEXT_SNAPSHOT = "2025-12-15"
FULL = {"directory": 10_000_000, "consents": 5_000_000, "contracts": 2_500_000,
        "objections": 100_000}  # fmt: skip


def _generate(kind: str, out: Path, rows: int, seed: int, *extra: str) -> Path:
    if not out.exists():
        cmd = [sys.executable, "benchmarks/generate.py", kind, "--rows", str(rows)]
        subprocess.run([*cmd, "--out", str(out), "--seed", str(seed), *extra], check=True)
    return out


def ctas(csv: str, db: str) -> int:
    """DuckDB's own load of the file: CREATE TABLE AS read_csv, into a new database file."""
    import duckdb

    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')")
    rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
    Path(db).unlink(missing_ok=True)
    return int(rows)


def load(store: str, kind: str, csv: str) -> dict[str, object]:
    """`EvidenceStore.load` of one file into the store file; the report's counts."""
    import optin_gate as og

    report = og.EvidenceStore(store).load(kind, csv)
    return {
        "read": report.rows_read,
        "loaded": report.rows_loaded,
        "rejected": report.rows_rejected,
        "changed": report.rows_changed,
        "unchanged": report.unchanged,
    }


def normalize_only(csv: str) -> float:
    """Seconds `og.normalize` takes on the file's distinct phone texts (a part of the load)."""
    import time

    import duckdb

    import optin_gate as og

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    phones = con.sql(
        f"SELECT DISTINCT phone FROM read_csv('{csv}', all_varchar=true) WHERE phone IS NOT NULL"
    ).to_arrow_table()
    t0 = time.perf_counter()
    og.normalize(phones.column(0), region="CZ")
    return time.perf_counter() - t0


def directory_rows(store: str) -> int:
    """Rows of the directory table (validity intervals)."""
    import optin_gate as og

    with og.EvidenceStore(store).connect() as con:
        return int(con.execute("SELECT count(*) FROM directory").fetchall()[0][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1, help="runs per step (median)")
    args = ap.parse_args()
    sizes = {k: max(int(v * args.scale), 100) for k, v in FULL.items()}
    work = scratch("store")
    header(f"store loads, scale {args.scale:g}")

    files = {}
    for kind, n in sizes.items():
        extra = ["--snapshot-date", SNAPSHOT] if kind == "directory" else []
        files[kind] = _generate(kind, work / f"{kind}-{n}-{args.seed}.csv", n, args.seed, *extra)
    base = files["directory"]
    nxt = work / f"directory-next-{sizes['directory']}-{args.seed}.csv"
    _generate("directory-next", nxt, 0, args.seed, "--base", str(base),
              "--snapshot-date", NEXT_SNAPSHOT, "--change-rate", "0.01")  # fmt: skip

    worst_ratio, worst_peak = 0.0, 0.0
    for run in range(args.repeat):
        store = work / f"store-{run}.duckdb"
        for leftover in work.glob(f"store-{run}.duckdb*"):
            leftover.unlink()
        timings: dict[str, tuple[float, float, float, dict[str, object], float]] = {}
        for kind, path in files.items():
            peer = run_measured(ctas, str(path), str(work / "ctas.duckdb"))
            ours = run_measured(load, str(store), kind, str(path))
            part = run_measured(normalize_only, str(path)).value
            timings[kind] = (ours.seconds, peer.seconds, ours.peak_mb, ours.value, part)
        size_one = store.stat().st_size
        rows_one = run_measured(directory_rows, str(store)).value
        peer = run_measured(ctas, str(nxt), str(work / "ctas.duckdb"))
        ours = run_measured(load, str(store), "directory", str(nxt))
        part = run_measured(normalize_only, str(nxt)).value
        timings["directory 2nd"] = (ours.seconds, peer.seconds, ours.peak_mb, ours.value, part)
        size_two = store.stat().st_size
        rows_two = run_measured(directory_rows, str(store)).value
        if run == 0:
            results = {k: [v] for k, v in timings.items()}
        else:
            for k, v in timings.items():
                results[k].append(v)

    print(
        f"{'load':<14}{'rows':>12}{'load s':>9}{'CTAS s':>9}{'ratio':>8}{'peak MB':>10}"
        f"{'normalize s':>13}  report"
    )
    for kind, runs in results.items():
        ours_s = statistics.median(r[0] for r in runs)
        peer_s = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        counts = runs[0][3]
        norm_s = statistics.median(r[4] for r in runs)
        ratio = ours_s / peer_s
        worst_ratio, worst_peak = max(worst_ratio, ratio), max(worst_peak, peak)
        print(
            f"{kind:<14}{counts['read']:>12,}{ours_s:>9.2f}{peer_s:>9.2f}{ratio:>7.2f}x"
            f"{peak:>10,.0f}{norm_s:>13.2f}  loaded {counts['loaded']:,}, "
            f"rejected {counts['rejected']:,}, "
            f"records added/changed {counts['changed']:,}"
        )
    print(f"worst load/CTAS ratio: {worst_ratio:.2f}x (target <= 3x)")
    print("normalize s: og.normalize alone on the file's distinct numbers, part of 'load s'")
    print(f"worst peak memory: {worst_peak:,.0f} MB (target < 4,096 MB)")
    print(
        f"store file after 1st directory snapshot and the other loads: {size_one / 2**20:,.1f} "
        f"MB ({rows_one:,} directory rows); after the 2nd snapshot (1 % changed): "
        f"{size_two / 2**20:,.1f} MB ({rows_two:,} directory rows, "
        f"+{(rows_two - rows_one) / max(rows_one, 1):.2%}); growth {size_two / size_one:.2f}x "
        "(target < 2x)"
    )


if __name__ == "__main__":
    main()

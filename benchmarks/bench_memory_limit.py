"""Memory-limit benchmark: the three big jobs inside a memory cgroup give the unlimited answers.

A container's memory limit is a cgroup's, not the host's RAM. Each job runs twice, in a
fresh process: once without a limit, once as the only process of a new memory cgroup whose
limit is `--limit-mb`. The jobs are the CLI's:

* `optin-gate filter` of the filter benchmark's campaign list (`bench_filter.py`), writing
  the permitted rows;
* `optin-gate audit` of the audit benchmark's call log (`bench_audit.py`), writing the
  violations CSV, the JSON and the HTML report;
* `optin-gate load directory` of the store benchmark's directory CSV (`bench_store.py`)
  into a new store.

For each it prints the time and the peak (the process's resident peak; in the cgroup also
the group's own peak, page cache included) and checks that the limited run wrote what the
unlimited one did: the same output files byte for byte (the JSON without the time it ran), the
same store contents. A run killed for memory is reported as such and fails the check.

Making a cgroup needs root and a writable cgroup file system (v1 `memory` controller or
v2's `memory.max`); where there is none, the script says so and exits 0.

    python benchmarks/bench_memory_limit.py                    # 10M rows in 1 GB
    python benchmarks/bench_memory_limit.py --rows 2000000 --limit-mb 512

Inputs are the other benchmarks' cached files under bench-out/ (made on first use).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import bench_audit, bench_filter, bench_store
from benchmarks._harness import REPO, header, scratch

V1 = Path("/sys/fs/cgroup/memory")
V2 = Path("/sys/fs/cgroup")
# The job is the CLI, from this checkout: `optin-gate` as installed may be another copy.
CLI = [sys.executable, "-c", "from optin_gate.cli import main; main()"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@dataclass(frozen=True)
class Ran:
    """One run of a job: wall seconds, peak resident MB, the group's peak MB, how it ended."""

    seconds: float
    peak_mb: float
    group_peak_mb: float | None
    exit_code: int
    stderr: str

    @property
    def ended(self) -> str:
        """'ok', 'killed (out of memory)' or the exit code."""
        if self.exit_code == 0:
            return "ok"
        return "killed (out of memory)" if self.exit_code == -9 else f"exit {self.exit_code}"


class Group:
    """A fresh memory cgroup with a limit, removed when its one job is done."""

    def __init__(self, limit: int) -> None:
        name = f"optin-gate-bench-{os.getpid()}-{time.monotonic_ns()}"
        if (V1 / "memory.limit_in_bytes").exists():
            self.path, self.v1 = V1 / name, True
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
            # No swap: the limit is the memory the job gets.
            memsw = self.path / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                memsw.write_text(str(limit))
        elif "memory" in (V2 / "cgroup.controllers").read_text().split():
            self.path, self.v1 = V2 / name, False
            self.path.mkdir()
            (self.path / "memory.max").write_text(str(limit))
            (self.path / "memory.swap.max").write_text("0")
        else:
            raise OSError("no memory controller in /sys/fs/cgroup")

    def enter(self) -> None:
        """Put the calling process in the group (run in the child before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def peak_mb(self) -> float | None:
        """The group's peak usage, page cache included (v2 kernels before 5.19: none)."""
        peak = self.path / ("memory.max_usage_in_bytes" if self.v1 else "memory.peak")
        return int(peak.read_text()) / 2**20 if peak.exists() else None

    def remove(self) -> None:
        """Remove the group (its job has exited)."""
        self.path.rmdir()


def can_limit() -> str | None:
    """None if a memory cgroup can be made here, else why not."""
    try:
        Group(1 << 30).remove()
    except OSError as exc:
        return str(exc)
    return None


def run(cmd: Sequence[str], limit: int | None) -> Ran:
    """Run `cmd` in a fresh process, inside a new group limited to `limit` bytes if given."""
    group = Group(limit) if limit else None
    err_path = scratch(f"memory-limit/{os.getpid()}") / "stderr.txt"
    try:
        with err_path.open("w") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                list(cmd),
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=ENV,
                cwd=REPO,
                preexec_fn=group.enter if group else None,  # noqa: PLW1509 - no threads here
            )
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        group_peak = group.peak_mb() if group else None
    finally:
        if group:
            group.remove()
    return Ran(seconds, usage.ru_maxrss / 1024, group_peak, code, err_path.read_text()[-1500:])


def digest(*paths: Path) -> str:
    """One hash over the files' bytes, in order."""
    h = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def audit_digest(out: Path) -> str:
    """The violations CSV and the JSON report, without the time the audit ran."""
    report = json.loads((out / "audit.json").read_text())
    report["summary"]["method"].pop("audit_ran_at", None)
    text = json.dumps(report, sort_keys=True).encode()
    return digest(out / "violations.csv") + hashlib.sha256(text).hexdigest()[:16]


def store_digest(store: Path) -> str:
    """Row counts and an order-free hash of the store's evidence tables."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    parts = []
    for table in ("directory", "directory_snapshots", "consents", "contracts", "objections"):
        ((count, total),) = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table} t"
        ).fetchall()
        parts.append(f"{table}={count}:{total}")
    con.close()
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=10_000_000, help="list rows, calls, directory")
    ap.add_argument("--limit-mb", type=int, default=1024, help="the cgroup's memory limit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=("filter", "audit", "load"), action="append")
    args = ap.parse_args()
    header(f"memory limit: {args.rows:,} rows in a {args.limit_mb:,} MB memory cgroup")
    why = can_limit()
    if why is not None:
        print(f"note: cannot make a memory cgroup here ({why}); run as root on Linux. Skipped.")
        return
    jobs = args.only or ["filter", "audit", "load"]
    out = scratch(f"memory-limit/{os.getpid()}")  # this run's outputs, removed at the end
    failed = False
    for job in jobs:
        cmd, check = _job(job, args.rows, args.seed, out)
        answers, runs = [], []
        for limit in (None, args.limit_mb * 2**20):
            ran = run(cmd, limit)
            runs.append(ran)
            answers.append(check() if ran.exit_code == 0 else None)
            peak = f"peak {ran.peak_mb:,.0f} MB"
            if ran.group_peak_mb is not None:
                peak += f" (group {ran.group_peak_mb:,.0f} MB)"
            where = "unlimited" if limit is None else f"in {args.limit_mb:,} MB"
            print(f"{job} {where}: {ran.seconds:.1f} s, {peak}, {ran.ended}")
            if ran.exit_code not in (0, -9):
                print(ran.stderr)
        same = answers[0] is not None and answers[0] == answers[1]
        failed |= not same
        print(f"{job}: results {'the same' if same else 'DIFFER'} ({answers[0]} / {answers[1]})")
    shutil.rmtree(out)
    sys.exit(1 if failed else 0)


def _job(job: str, rows: int, seed: int, out: Path) -> tuple[list[str], Callable[[], str]]:
    """The CLI command of a job and a function giving its result's digest."""
    if job == "filter":
        work = scratch("filter")
        name = f"campaign-{rows}-{seed}.csv"
        campaign = bench_filter._generate("campaign", work / name, rows, 0)
        store = bench_filter.build_store(str(work), rows, seed)
        permitted = out / "permitted.csv"
        cmd = [*CLI, "filter", str(campaign), "--store", store, "--as-of", bench_filter.AS_OF]
        return [*cmd, "--out", str(permitted), "--quiet"], lambda: digest(permitted)
    if job == "audit":
        work = scratch("audit")
        calls = bench_audit._generate(
            "calls", work / f"calls-{rows}-{seed}.csv", rows, seed,
            "--population", str(max(rows // 2, 1000)),
            "--start", str(bench_audit.START), "--end", str(bench_audit.END),
        )  # fmt: skip
        store = bench_audit.build_store(str(work), rows, seed)
        reports = out / "audit"
        reports.mkdir(exist_ok=True)
        cmd = [*CLI, "audit", str(calls), "--store", store, "--controller", "default"]
        cmd += ["--violations", str(reports / "violations.csv")]
        cmd += ["--json", str(reports / "audit.json"), "--html", str(reports / "audit.html")]
        return [*cmd, "--quiet"], lambda: audit_digest(reports)
    work = scratch("store")
    snapshot = ["--snapshot-date", bench_store.SNAPSHOT]
    csv = bench_store._generate("directory", work / f"directory-{rows}-7.csv", rows, 7, *snapshot)
    target = out / "loaded.duckdb"

    def fresh() -> None:
        """An empty store to load into (the CLI loads only into existing stores)."""
        _clear(target)
        subprocess.run([*CLI, "init", "--store", str(target)], check=True, cwd=REPO, env=ENV)

    def fresh_then_digest() -> str:
        answer = store_digest(target)
        fresh()
        return answer

    fresh()
    cmd = [*CLI, "load", "directory", str(csv), "--store", str(target), *snapshot, "--quiet"]
    return cmd, fresh_then_digest


def _clear(store: Path) -> None:
    """Remove a store file and what DuckDB keeps beside it."""
    for path in store.parent.glob(store.name + "*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()


if __name__ == "__main__":
    main()

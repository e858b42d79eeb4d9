"""SIGKILL real runs at random points: the store and the outputs stay whole (issue #13).

Each test starts the real command line in a child process, kills it after a random delay
drawn from a seeded generator (so a failure names its seed), and checks what a user finds
afterwards. Every run is bounded: a child that outlives its deadline fails the test.
"""

from __future__ import annotations

import csv
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optin_gate.io.scratch import scratch_folder
from optin_gate.io.write import recover_commits
from optin_gate.store import EvidenceStore
from tests.store._helpers import rows, write_csv

SEEDS = range(4)
CLI = "from optin_gate.cli import main; main()"
# What `optin-gate filter` runs; a DuckDB memory_limit of 16MB sends the list the way for
# lists larger than memory (held by DuckDB) instead of holding it in Arrow.
FILTER = """
import sys, optin_gate as og
from optin_gate.engine import filter_file
store, source, out, decisions, as_of, limit = sys.argv[1:]
settings = {"memory_limit": limit} if limit != "-" else None
gate = og.Gate(og.EvidenceStore(store), "acme")
filter_file(gate.context, source, as_of=as_of, out=out, decisions=decisions, settings=settings)
"""
LIST_ROWS = 60_000


def _phone(i: int) -> str:
    return f"601{i % 1_000_000:06d}"


def start(*args: str) -> subprocess.Popen[bytes]:
    """`optin-gate ARGS` in a child process."""
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def kill_after(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL `proc` after `seconds` unless it ended; True when it was killed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def finish(proc: subprocess.Popen[bytes], timeout: float = 300) -> float:
    """Wait for a run that must succeed; returns how long it took from here."""
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()
    return time.monotonic() - t0


def somewhere_in(seconds: float, seed: int) -> float:
    """A random point of a run that takes `seconds` on this machine now, start to end."""
    return random.Random(seed).uniform(0.05, 1.1) * seconds


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with evidence for a list, the list and a consents file to load."""
    folder = tmp_path_factory.mktemp("world")
    store = folder / "store.duckdb"
    ev = EvidenceStore(store)
    n = LIST_ROWS
    ev.load(
        "directory",
        write_csv(
            folder / "d.csv",
            ["phone", "marketing"],
            [[_phone(i), ("opt_in", "opt_out", "unmarked")[i % 3]] for i in range(0, n, 2)],
        ),
        snapshot_date="2026-01-01",
    )
    ev.load(
        "consents",
        write_csv(
            folder / "c0.csv",
            ["consent_id", "phone", "granted_at", "controller"],
            [[f"A{i}", _phone(i), "2025-06-01", "acme"] for i in range(0, n, 5)],
        ),
    )
    write_csv(
        folder / "list.csv",
        ["jmeno", "telefon", "poznamka"],
        [[f"Osoba {i}", _phone(i), "=SUM(A1)" if i % 7 == 0 else ""] for i in range(n)],
        encoding="cp1250",
    )
    write_csv(
        folder / "calls.csv",
        ["phone", "called_at", "controller"],
        [[_phone(i), f"2026-01-{1 + i % 28:02d} 10:00", "acme"] for i in range(n)],
    )
    write_csv(
        folder / "c1.csv",
        ["consent_id", "phone", "granted_at", "controller"],
        [[f"B{i}", _phone(i), "2025-07-01", "acme"] for i in range(1, 4 * n, 3)],
    )
    return folder


def _store_state(path: Path) -> tuple[int, int, int]:
    store = EvidenceStore(path)
    (loads, consents, objections), *_ = rows(
        store,
        "SELECT (SELECT count(*) FROM loads), (SELECT count(*) FROM consents), "
        "(SELECT count(*) FROM objections)",
    )
    return int(loads), int(consents), int(objections)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_load_leaves_the_store_unchanged_or_fully_applied(
    world: Path, tmp_path: Path, seed: int
) -> None:
    store, timing = tmp_path / "store.duckdb", tmp_path / "timing.duckdb"
    load = ["load", "consents", str(world / "c1.csv"), "-q", "--store"]
    shutil.copy(world / "store.duckdb", timing)
    seconds = finish(start(*load, str(timing)))
    shutil.copy(world / "store.duckdb", store)
    before = _store_state(store)
    added = len(_read(world / "c1.csv"))
    proc = start(*load, str(store))
    killed = kill_after(proc, somewhere_in(seconds, seed))
    after = _store_state(store)
    applied = (before[0] + 1, before[1] + added, before[2])
    assert after in (before, applied), f"seed {seed}: half a load ({before} -> {after})"
    if not killed:
        assert after == applied


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_every_acknowledged_objection_survives_a_kill(tmp_path: Path, seed: int) -> None:
    store = tmp_path / "store.duckdb"
    EvidenceStore(store)
    code = (
        "import sys, optin_gate as og\n"
        "store = og.EvidenceStore(sys.argv[1])\n"
        "print(-1, flush=True)\n"
        "for i in range(100000):\n"
        "    store.record_objection(f'+4207{i:08d}', controller='acme')\n"
        "    print(i, flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"-1"  # ready: the kill lands in the loop
    kill_after(proc, random.Random(seed).uniform(0.05, 1.5))
    out, _ = proc.communicate(timeout=30)
    acknowledged = {int(line) for line in out.decode().split()}
    assert acknowledged, "no objection was recorded before the kill"
    held = EvidenceStore(store)
    for i in acknowledged:
        subject = held.subject(f"+4207{i:08d}")
        assert subject["objections"], f"seed {seed}: acknowledged objection {i} lost"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _outputs_in_step(permitted: Path, decisions: Path, expected_rows: int) -> str | None:
    """None when both outputs are whole and of one run; else what is wrong."""
    if not permitted.exists() and not decisions.exists():
        return None
    if not (permitted.exists() and decisions.exists()):
        return "one output without the other"
    every = _read(decisions)
    if len(every) != expected_rows:
        return f"decisions has {len(every)} of {expected_rows} rows"
    allowed = [r for r in every if r["allowed"] == "true"]
    if _read(permitted) != allowed:
        return "permitted rows are not the allowed rows of decisions"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("way", ["held", "spilled"])
@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_filter_leaves_whole_outputs_in_step(
    world: Path, tmp_path: Path, seed: int, way: str
) -> None:
    permitted, decisions = tmp_path / "permitted.csv", tmp_path / "decisions.csv"
    files = [str(world / "store.duckdb"), str(world / "list.csv"), str(permitted), str(decisions)]
    limit = "16MB" if way == "spilled" else "-"

    def run_filter(as_of: str) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-c", FILTER, *files, as_of, limit]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    seconds = finish(run_filter("2026-01-10"))  # an earlier run's outputs to overwrite
    proc = run_filter("2026-03-10")  # a later run, with other decisions
    kill_after(proc, somewhere_in(seconds, seed))
    recover_commits(tmp_path)  # what the next run writing there does first
    problem = _outputs_in_step(permitted, decisions, LIST_ROWS)
    assert problem is None, f"seed {seed}: {problem}"
    finish(run_filter("2026-03-10"))  # the next run
    left = [p for p in scratch_folder().iterdir() if p.name.startswith(f"{proc.pid}-")]
    assert not left, "the killed run's copy of the list outlived the next run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.csv", "permitted.csv"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_audit_leaves_no_half_written_report(
    world: Path, tmp_path: Path, seed: int
) -> None:
    violations, report = tmp_path / "violations.csv", tmp_path / "report.json"
    args = ["audit", str(world / "calls.csv"), "--store", str(world / "store.duckdb"), "-q"]
    args += ["--controller", "acme", "--violations", str(violations), "--json", str(report)]
    seconds = finish(start(*args, "--html", str(tmp_path / "first.html")))
    (tmp_path / "first.html").unlink()
    violations.unlink()
    report.unlink()
    proc = start(*args)
    killed = kill_after(proc, somewhere_in(seconds, seed))
    recover_commits(tmp_path)  # what the next run writing there does first
    if violations.exists() or report.exists():
        assert violations.exists(), f"seed {seed}: a report without its violations"
        assert report.exists(), f"seed {seed}: violations without their report"
        import json

        figures = json.loads(report.read_text(encoding="utf-8"))
        assert len(_read(violations)) == figures["summary"]["violations"]
    if not killed:
        assert violations.exists()
    finish(start(*args))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "violations.csv"]

"""Shared by the objection tests: a store with one consented number, other processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from optin_gate import EvidenceStore

NUMBER = "+420601000001"
KEY = 420601000001
NOW = datetime.now(UTC)

_HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
    if sys.argv[2] == "write":  # a load under way: the store has changed and is held
        con.execute("INSERT INTO meta VALUES ('held', 'yes') ON CONFLICT DO NOTHING")
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
    """
)

_RECORD = textwrap.dedent(
    """
    import sys, time
    from optin_gate import EvidenceStore
    started = time.time()
    store = EvidenceStore(sys.argv[1], timeout=60)
    store.record_objection(sys.argv[2], controller="acme")
    print(started, time.time(), flush=True)
    """
)


def consented_store(folder: Path, name: str | None = "ev.duckdb") -> EvidenceStore:
    """A store where acme holds a valid consent for NUMBER (in memory when `name` is None)."""
    csv = folder / "consents.csv"
    granted = (NOW - timedelta(days=1)).isoformat()
    csv.write_text(f"consent_id,phone,granted_at\nC-1,{NUMBER},{granted}\n")
    store = EvidenceStore(None if name is None else folder / name)
    store.load("consents", csv, controller="acme")
    return store


def hold(path: Path, mode: str, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the store file: "ro", "rw", or "write" (rw after a change)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    return proc


def record_elsewhere(path: Path, number: str = NUMBER) -> tuple[float, float]:
    """Record an objection in a fresh process: (wall time it started, acknowledged)."""
    done = subprocess.run(
        [sys.executable, "-c", _RECORD, str(path), number],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    started, acked = done.stdout.split()
    return float(started), float(acked)


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> float | None:
    """Seconds until `condition` held (polled), or None if it never did."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    return None

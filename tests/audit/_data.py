"""Evidence and call logs for the audit tests, written straight into store tables.

`OracleStore` stands in for `EvidenceStore` where a test needs many random evidence sets fast:
it writes `tests.oracle.Evidence` into an in-memory DuckDB with the store's schema (the
loaders have their own tests) and offers the same `connect(read_only=True)` context manager.
`campaign_history` builds a realistic two-year call log across the 2022-07-01 regime change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, cast

import duckdb
import numpy as np
import pyarrow as pa

from tests.oracle import Consent, Contract, Evidence, Objection, write_evidence

if TYPE_CHECKING:
    from pathlib import Path

    from optin_gate import EvidenceStore


class OracleStore:
    """A store holding `Evidence`, with one recorded load per evidence kind."""

    path = None

    def __init__(self, ev: Evidence) -> None:
        self.evidence = ev
        self._con = duckdb.connect()
        write_evidence(self._con, ev)
        loaded = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)
        for i, (kind, rows) in enumerate(
            (
                ("consents", len(ev.consents)),
                ("contracts", len(ev.contracts)),
                ("objections", len(ev.objections)),
                *(("directory", len(s)) for s in ev.snapshots.values()),
            ),
            start=1,
        ):
            self._con.execute(
                "INSERT INTO loads (load_id, kind, file_name, sha256, rows_read, rows_loaded, "
                "rows_rejected, loaded_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                [i, kind, f"{kind}-{i}.csv", f"{i:064x}", rows, rows, loaded],
            )

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def cursor(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        return con.cursor()  # nothing journaled here: a bare cursor sees everything

    def files(self) -> dict[str, Path]:
        """No files: the evidence lives in memory, so no output can name it."""
        return {}


def oracle_store(ev: Evidence) -> EvidenceStore:
    """An `OracleStore` holding `ev`, typed as the store a `Gate` takes.

    It offers what the audit reads of a store (`connect`, `cursor`, `path`, `files`); the
    dial checker's parts (`subscribe`, `change_token`) it lacks, and the audit never asks for
    them.
    """
    return cast("EvidenceStore", OracleStore(ev))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# Rows that span several file lines (quoted newlines): B starts on line 4, D on line 8.
MULTILINE_LOG = (
    "call_id,phone,called_at,campaign\n"
    'A,601000001,2023-05-01 10:00,"two\nlines"\n'
    "B,12345,2023-05-01 10:00,x\n"
    'C,601000002,2023-05-01 10:00,"three\nlines\nhere"\n'
    "D,bad,2023-05-01 10:00,x\n"
)

CAMPAIGNS = ("energie-jaro", "energie-podzim", "telco-retence", "telco-upsell", "pojisteni")


def campaign_history(
    seed: int = 7, numbers: int = 600, calls: int = 6000
) -> tuple[Evidence, pa.Table]:
    """Two years of calls (2021-07 to 2023-06) and the evidence they are judged against.

    Directory snapshots every 4 weeks until 2023-03-01, so the last months come out
    STALE_DIRECTORY where the directory decides; some invalid numbers, automated calls, calls
    after objections, and a few unusable rows (empty phone, unreadable time).
    """
    rng = np.random.default_rng(seed)
    phones = 420601000000 + np.arange(numbers)
    start = date(2021, 6, 1)

    def day(lo: int, hi: int) -> date:
        return start + timedelta(days=int(rng.integers(lo, hi)))

    ev = Evidence()
    for i, p in enumerate(phones[: numbers // 5]):
        granted = day(0, 600)
        withdrawn = at(granted + timedelta(days=int(rng.integers(30, 400)))) if i % 3 == 0 else None
        ev.consents.append(Consent(f"C-{i}", int(p), "acme", at(granted), withdrawn_at=withdrawn))
    for i, p in enumerate(phones[numbers // 5 : numbers // 5 + numbers // 7]):
        begin = day(0, 500)
        end = begin + timedelta(days=int(rng.integers(60, 400))) if i % 2 else None
        ev.contracts.append(Contract(f"K-{i}", int(p), "acme", begin, end))
    for i, p in enumerate(rng.choice(phones, numbers // 12, replace=False)):
        ev.objections.append(Objection(f"O-{i}", int(p), None, at(day(30, 700), 15)))
    snap = date(2021, 6, 1)
    while snap <= date(2023, 3, 1):
        marks = rng.choice(["opt_in", "opt_out", "unmarked"], numbers, p=[0.3, 0.3, 0.4])
        listed = rng.random(numbers) < 0.7
        rows = zip(phones, marks, listed, strict=True)
        ev.snapshots[snap] = {int(p): str(m) for p, m, ok in rows if ok}
        snap += timedelta(days=28)

    t0 = int(datetime(2021, 7, 1, tzinfo=UTC).timestamp())
    t1 = int(datetime(2023, 7, 1, tzinfo=UTC).timestamp())
    times = np.sort(rng.integers(t0, t1, calls))
    who = rng.choice(phones, calls)
    phone = [f"+{p}" if i % 3 else f"{p % 10**9:09d}" for i, p in enumerate(who)]
    for i in rng.choice(calls, calls // 100, replace=False):
        phone[i] = "12345"  # not a valid number: an INVALID_NUMBER violation
    called = [
        datetime.fromtimestamp(int(t), UTC).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
        for t in times
    ]
    called[5], phone[9] = "31.02.2022 10:00", ""  # unusable: no such day; no number
    return ev, pa.table(
        {
            "call_id": [f"H{i:06d}" for i in range(calls)],
            "phone": phone,
            "called_at": called,
            "campaign": rng.choice(CAMPAIGNS, calls, p=[0.3, 0.25, 0.2, 0.15, 0.1]).tolist(),
            "agent": [f"agent{a:02d}" for a in rng.integers(1, 21, calls)],
            "call_type": rng.choice(["live", "automated"], calls, p=[0.9, 0.1]).tolist(),
        }
    )

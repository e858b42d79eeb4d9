"""Issue #13, the journal side: objections durable and visible whatever holds the store."""

from __future__ import annotations

import fcntl
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from optin_gate import EvidenceStore, Gate, Reason
from optin_gate.errors import StoreError
from optin_gate.store.journal import Journal
from tests.objections._helpers import (
    KEY,
    NOW,
    NUMBER,
    consented_store,
    hold,
    record_elsewhere,
)


def test_case3_torn_last_journal_line_does_not_swallow_the_next_objection(
    tmp_path: Path,
) -> None:
    store = consented_store(tmp_path)
    journal = tmp_path / "ev.duckdb.objections.jsonl"
    journal.write_bytes(b'{"objection_id": "torn", "phone": 4206010')  # a cut append
    store.record_objection(NUMBER)
    again = EvidenceStore(tmp_path / "ev.duckdb")
    assert Gate(again, "acme", refresh_interval=None).check(NUMBER).reason == Reason.OBJECTION
    with again.connect() as con:
        assert con.execute("SELECT phone FROM objections").fetchall() == [(KEY,)]
    assert journal.read_bytes().endswith(b"\n")


def test_case3_reading_skips_only_a_torn_tail(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append({"objection_id": "O-1", "phone": KEY})
    with journal.path.open("ab") as fh:
        fh.write(b'{"objection_id": "O-2", "ph')
    assert [e["objection_id"] for e in journal.read()] == ["O-1"]


def test_case4_audit_and_subject_see_journaled_objections_while_the_store_is_held(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ev.duckdb"
    consented_store(tmp_path)
    store = EvidenceStore(path, timeout=5)
    gate = Gate(store, "acme", refresh_interval=None)
    called = NOW - timedelta(minutes=30)
    holder = hold(path, "ro", 6)  # e.g. a long filter in another process
    try:
        store.record_objection(NUMBER, at=NOW - timedelta(hours=1))
        assert (tmp_path / "ev.duckdb.objections.jsonl").stat().st_size > 0
        assert gate.check(NUMBER).reason == Reason.OBJECTION
        calls = pa.table({"phone": [NUMBER], "called_at": [called.isoformat()]})
        report = gate.audit(calls)
        assert report.summary["violations"] == 1  # the call check would have blocked
        assert len(store.subject(NUMBER)["objections"]) == 1
    finally:
        holder.wait()


def test_case12_record_objection_does_not_wait_for_a_held_store(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    consented_store(tmp_path)
    holder = hold(path, "rw", 15)  # a long load in another process
    try:
        started, acked = record_elsewhere(path)
        assert acked - started < 5  # a fresh process: mostly its imports
        assert b'"phone": 420601000001' in (tmp_path / "ev.duckdb.objections.jsonl").read_bytes()
    finally:
        holder.kill()
        holder.wait()


def test_case12_journal_lock_times_out_with_a_hint(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl", lock_timeout=0.3)
    journal.append({"objection_id": "O-1", "phone": KEY})
    with journal.path.open("a") as other:  # another writer, stuck
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(StoreError, match="journal stayed locked") as caught:
            journal.append({"objection_id": "O-2", "phone": KEY})
        assert time.monotonic() - started < 2
    assert caught.value.hint

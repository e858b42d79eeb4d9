"""record_objection: durable at once, seen by listeners at once, never lost to a lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from optin_gate.errors import InputError
from optin_gate.store import EvidenceStore, Objection
from optin_gate.store.kinds import generated_objection_id
from tests.objections._helpers import hold
from tests.store._helpers import rows

P = 420601234567


def test_recorded_objection_is_in_the_file_for_a_new_store_object(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    EvidenceStore(path).record_objection("601 234 567", at="2026-03-01 10:00", source="call")
    again = EvidenceStore(path)
    assert rows(again, "SELECT phone, controller, objected_at, source FROM objections") == [
        (P, None, datetime(2026, 3, 1, 9, tzinfo=UTC), "call")
    ]
    kinds = rows(again, "SELECT kind, file_name, rows_loaded FROM loads")
    assert kinds == [("objection", "<record_objection>", 1)]
    # Merged, and kept in the journal a while for the checkers of other processes.
    assert '"phone": 420601234567' in (tmp_path / "ev.duckdb.objections.jsonl").read_text()


def test_listeners_hear_each_objection_and_can_leave() -> None:
    store = EvidenceStore()
    heard: list[Objection] = []
    stop = store.subscribe(heard.append)
    store.subscribe(lambda o: 1 / 0)  # a failing listener stops nobody
    store.record_objection("+420601234567", controller="acme", at=datetime(2026, 3, 1, tzinfo=UTC))
    stop()
    store.record_objection("+420601234568")
    assert len(heard) == 1
    got = heard[0]
    assert (got.phone, got.controller, got.objected_at) == (
        P,
        "acme",
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert got.objection_id == generated_objection_id(P, "acme", got.objected_at)
    assert rows(store, "SELECT count(*) FROM objections") == [(2,)]


def test_generated_ids_agree_between_python_and_sql(tmp_path: Path) -> None:
    store = EvidenceStore()
    at = datetime(2026, 3, 1, 9, 15, 30, 123456, tzinfo=UTC)
    store.record_objection("601234567", controller="acme", at=at)
    import pyarrow as pa

    table = pa.table(
        {"phone": ["601234567"], "objected_at": [at.isoformat()], "controller": ["acme"]}
    )
    report = store.load("objections", table)
    assert report.rows_changed == 0  # the same objection: already held under the same id
    assert rows(store, "SELECT objection_id FROM objections") == [
        (generated_objection_id(P, "acme", at),)
    ]


def test_invalid_number_is_refused_without_echo() -> None:
    with pytest.raises(InputError) as info:
        EvidenceStore().record_objection("+420 12")
    assert str(info.value) == (
        "phone is not a valid phone number. Hint: pass the number as dialled, e.g. +420 601 234 567"
    )


def test_objection_survives_another_process_holding_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store = EvidenceStore(path, timeout=0.2)
    heard: list[Objection] = []
    store.subscribe(heard.append)
    holder = hold(path, "rw", 3)  # a long load in another process
    try:
        started = time.monotonic()
        store.record_objection("601234567", at="2026-03-01 10:00")
        assert time.monotonic() - started < 2  # does not wait for the load
        assert len(heard) == 1  # the dial checker in this process knows already
        journal = (tmp_path / "ev.duckdb.objections.jsonl").read_text()
        assert '"phone": 420601234567' in journal
    finally:
        holder.wait()
    fresh = EvidenceStore(path)  # e.g. after a crash and restart
    assert rows(fresh, "SELECT phone FROM objections") == [(P,)]
    assert rows(fresh, "SELECT count(*) FROM loads WHERE kind = 'objection'") == [(1,)]


def test_readers_see_pending_objections_while_the_file_cannot_be_written(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store = EvidenceStore(path, timeout=0.2)
    holder = hold(path, "ro", 3)  # e.g. a long filter in another process: read-only
    try:
        store.record_objection("601234567", at="2026-03-01 10:00")
        assert (tmp_path / "ev.duckdb.objections.jsonl").stat().st_size > 0  # not merged
        with store.connect() as con:  # read-only, shared with the other reader
            got = con.execute("SELECT phone, load_id FROM objections").fetchall()
        assert got == [(P, None)]
    finally:
        holder.wait()
    assert rows(store, "SELECT phone, load_id IS NOT NULL FROM objections") == [(P, True)]


def test_change_token_moves_with_evidence(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    first = store.change_token()
    assert store.change_token() == first  # nothing happened
    store.record_objection("601234567")
    second = store.change_token()
    assert second != first
    memory = EvidenceStore()
    before = memory.change_token()
    memory.record_objection("601234567")
    assert memory.change_token() != before


def test_loading_and_recording_objections_never_import_pandas(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("consent_id,phone,granted_at\nC1,601234567,2026-01-01\nC1,601234567,x\n")
    code = textwrap.dedent(
        f"""
        import sys, optin_gate as og
        store = og.EvidenceStore({str(tmp_path / "ev.duckdb")!r})
        store.load("consents", {str(csv)!r})
        store.record_objection("601234567")
        with store.connect() as con:
            con.execute("SELECT count(*) FROM objections").fetchall()
        store.subject("601234567")
        print("pandas" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

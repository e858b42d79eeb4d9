"""The store file: its schema version, what it refuses to open, and how connections behave."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from optin_gate.errors import StoreError, StoreVersionError
from optin_gate.store import EvidenceStore
from optin_gate.store.schema import SCHEMA_VERSION
from tests.store._helpers import rows


def test_new_store_records_its_schema_version(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    assert rows(store, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert rows(EvidenceStore(), "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    EvidenceStore(path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreVersionError) as info:
        EvidenceStore(path)
    assert str(info.value) == (
        f"{path}: the store was written by a newer optin_gate (store schema version 99; this "
        f"one reads up to {SCHEMA_VERSION}). Hint: upgrade optin_gate (pip install -U "
        "optin-gate), or use another store"
    )


def test_other_files_are_not_taken_for_a_store(tmp_path: Path) -> None:
    foreign = tmp_path / "other.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="is not an optin_gate store"):
        EvidenceStore(foreign)
    text = tmp_path / "notes.duckdb"
    text.write_text("hello, this is not a database\n" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        EvidenceStore(text)


def test_the_file_is_not_held_open_between_operations(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store = EvidenceStore(path)
    store.load("directory", pa.table({"phone": ["601234567"], "marketing": ["opt_in"]}),
               snapshot_date="2026-01-01")  # fmt: skip
    # Another process (here: a plain connection with no optin_gate) can write right away.
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM directory").fetchall() == [(1,)]
    con.close()


def test_read_only_connections_cannot_write(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    with store.connect() as con, pytest.raises(duckdb.Error):
        con.execute("DELETE FROM loads")
    with store.connect(read_only=False) as con:
        con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")  # allowed, and private


def test_threads_read_while_another_thread_loads(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    big = pa.table(
        {
            "phone": [f"+420601{i:06d}" for i in range(20_000)],
            "marketing": ["opt_in"] * 20_000,
        }
    )
    errors: list[BaseException] = []
    counts: list[int] = []

    def reader() -> None:
        try:
            for _ in range(20):
                with store.connect() as con:
                    counts.append(con.execute("SELECT count(*) FROM directory").fetchall()[0][0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    store.load("directory", big, snapshot_date="2026-01-01")
    for t in threads:
        t.join()
    assert not errors
    assert set(counts) <= {0, 20_000}  # never half a load
    assert rows(store, "SELECT count(*) FROM directory") == [(20_000,)]


def test_an_early_version_1_store_gains_the_newer_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR); "
        "INSERT INTO meta VALUES ('schema_version', '1'); "
        "CREATE TABLE loads (load_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, "
        "file_name VARCHAR, sha256 VARCHAR, rows_read BIGINT, rows_loaded BIGINT, "
        "rows_rejected BIGINT, loaded_at TIMESTAMPTZ NOT NULL, controller VARCHAR, "
        "snapshot_date DATE)"
    )
    con.close()
    from optin_gate.store.schema import DDL

    con = duckdb.connect(str(path))
    con.execute(
        DDL.replace("CREATE TABLE IF NOT EXISTS load_rejects", "CREATE TABLE IF NOT EXISTS unused")
    )
    con.close()
    store = EvidenceStore(path)
    snap = pa.table({"phone": ["601234567"], "marketing": ["opt_in"], "zdroj": ["CETIN"]})
    store.load("directory", snap, snapshot_date="2026-01-01")
    assert rows(store, "SELECT kind, source FROM loads") == [("directory", "CETIN")]

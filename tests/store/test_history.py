"""History, not overwrite: idempotent reloads, versions, one transaction per load."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from optin_gate.policy import Policy
from optin_gate.store import EvidenceStore
from optin_gate.store.asof import FACTS_COLUMNS, facts_sql
from tests.store._helpers import contents, rows, write_csv

CONSENT_HEADER = ["consent_id", "phone", "granted_at", "withdrawn_at", "controller"]
P = 420601234567


def consents_file(tmp_path: Path, name: str, withdrawn: str | None = None) -> Path:
    return write_csv(
        tmp_path / name,
        CONSENT_HEADER,
        [
            ["C1", "+420 601 234 567", "2026-01-05 10:00", withdrawn, "acme"],
            ["C2", "601234568", "2026-01-06 10:00", None, "acme"],
        ],
    )


def test_the_same_bytes_twice_change_nothing_and_say_so(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    path = consents_file(tmp_path, "c.csv")
    first = store.load("consents", path)
    before = contents(store)
    again = store.load("consents", path)
    assert again.unchanged
    assert not first.unchanged
    assert again.load_id == first.load_id
    assert (again.rows_read, again.rows_loaded) == (first.rows_read, first.rows_loaded)
    assert contents(store) == before
    # the same bytes for another controller mean other records: not the same load
    other = store.load("consents", path, controller="beta")
    assert not other.unchanged
    assert other.load_id == first.load_id + 1


def test_same_bytes_are_recognised_even_without_the_size_shortcut(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    path = consents_file(tmp_path, "c.csv")
    first = store.load("consents", path)
    with store.connect(read_only=False) as con:  # as in a store from before file sizes
        con.execute("UPDATE loads SET file_size = NULL")
    before = contents(store)
    again = store.load("consents", path)
    assert again.unchanged
    assert again.load_id == first.load_id
    assert contents(store) == before


def test_a_reexport_with_equal_content_adds_no_versions(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    store.load("consents", consents_file(tmp_path, "a.csv"))
    path = tmp_path / "b.csv"
    path.write_text((tmp_path / "a.csv").read_text().replace("\r\n", "\n"))  # other bytes
    report = store.load("consents", path)
    assert not report.unchanged
    assert report.rows_changed == 0
    assert rows(store, "SELECT count(*) FROM consents") == [(2,)]


def test_withdrawal_is_a_new_version_and_the_history_stays(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    first = store.load("consents", consents_file(tmp_path, "jan.csv"))
    second = store.load("consents", consents_file(tmp_path, "feb.csv", "2026-02-01 09:00"))
    assert second.rows_changed == 1
    versions = rows(
        store,
        "SELECT withdrawn_at, load_id, superseded_by FROM consents "
        "WHERE consent_id = 'C1' ORDER BY load_id",
    )
    assert versions == [
        (None, first.load_id, second.load_id),
        (datetime(2026, 2, 1, 8, tzinfo=UTC), second.load_id, None),
    ]
    current = rows(store, "SELECT consent_id, withdrawn_at FROM consents_current ORDER BY 1")
    assert current == [("C1", datetime(2026, 2, 1, 8, tzinfo=UTC)), ("C2", None)]
    # A later export that lost the withdrawal does not bring the consent back.
    third = store.load("consents", consents_file(tmp_path, "mar.csv"))
    assert third.rows_changed == 0
    assert rows(store, "SELECT withdrawn_at FROM consents_current WHERE consent_id = 'C1'") == [
        (datetime(2026, 2, 1, 8, tzinfo=UTC),)
    ]


def test_contract_end_is_a_new_version(tmp_path: Path) -> None:
    store = EvidenceStore()
    header = ["contract_id", "phone", "start_date", "end_date"]
    store.load(
        "contracts", write_csv(tmp_path / "a.csv", header, [["K1", "601234567", "1.1.2025", ""]])
    )
    store.load(
        "contracts",
        write_csv(tmp_path / "b.csv", header, [["K1", "601234567", "1.1.2025", "31.3.2026"]]),
    )
    assert rows(
        store, "SELECT end_date, superseded_by IS NULL FROM contracts ORDER BY load_id"
    ) == [
        (None, False),
        (date(2026, 3, 31), True),
    ]
    assert rows(store, "SELECT controller FROM contracts_current") == [("default",)]


def test_the_files_last_word_on_a_record_wins(tmp_path: Path) -> None:
    store = EvidenceStore()
    path = write_csv(
        tmp_path / "dup.csv",
        CONSENT_HEADER,
        [
            ["C1", "601234567", "2026-01-05", None, "acme"],  # overruled below
            ["C1", "601234567", "2026-01-05", "2026-01-09", "acme"],
            ["C1", "601234567", "2026-01-05", "2026-01-09", "acme"],  # the same again: fine
            ["C1", "601234567", "2026-01-05", None, "beta"],  # another controller's record
        ],
    )
    report = store.load("consents", path)
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    assert report.rejects.to_pylist()[0]["line"] == 2
    assert report.rejects.to_pylist()[0]["reason"] == (
        "a later row of the file has the same consent_id and is loaded instead"
    )
    got = rows(store, "SELECT controller, withdrawn_at IS NOT NULL FROM consents ORDER BY 1")
    assert got == [("acme", True), ("beta", False)]


def test_objections_get_stable_ids_and_are_never_changed(tmp_path: Path) -> None:
    store = EvidenceStore()
    header = ["phone", "objected_at", "objection_id", "controller"]
    a = write_csv(tmp_path / "a.csv", header, [["601234567", "2026-01-05 10:00", "", ""]])
    b = write_csv(
        tmp_path / "b.csv",
        header,
        b_rows := [
            ["601234567", "5.1.2026 10:00", "", ""],  # the same objection, written otherwise
            ["601234568", "2026-01-06", "N-1", "acme"],
        ],
    )
    assert store.load("objections", a).rows_changed == 1
    assert store.load("objections", b).rows_changed == 1
    ids = rows(store, "SELECT objection_id, controller FROM objections ORDER BY objected_at")
    assert ids[0][0].startswith("gen-")
    assert ids[0][1] is None  # no controller: every controller
    assert ids[1] == ("N-1", "acme")
    again = store.load("objections", write_csv(tmp_path / "b2.csv", header, [b_rows[1]]))
    assert (again.rows_loaded, again.rows_changed) == (1, 0)  # held already: nothing new
    assert rows(store, "SELECT count(*) FROM objections") == [(2,)]


@pytest.mark.parametrize("where", ["merge_versioned", "merge_directory", "_record"])
def test_an_error_mid_load_leaves_the_store_exactly_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    store.load("consents", consents_file(tmp_path, "jan.csv"))
    store.load("directory", pa.table({"phone": ["601234567"], "marketing": ["opt_in"]}),
               snapshot_date="2026-01-01")  # fmt: skip
    before = contents(store)
    size = (tmp_path / "ev.duckdb").stat().st_size

    from optin_gate.store import loader

    real = getattr(loader, where)

    def half_then_crash(con: duckdb.DuckDBPyConnection, *args: object, **kw: object) -> object:
        real(con, *args, **kw)  # the step's writes happen...
        raise RuntimeError("power cut")  # ...and then the load dies

    monkeypatch.setattr(loader, where, half_then_crash)
    if where == "merge_directory":
        snap = pa.table({"phone": ["601234568"], "marketing": ["opt_out"]})
        with pytest.raises(RuntimeError, match="power cut"):
            store.load("directory", snap, snapshot_date="2026-02-01")
    else:
        feb = consents_file(tmp_path, "feb.csv", "2026-02-01")
        with pytest.raises(RuntimeError, match="power cut"):
            store.load("consents", feb)
    assert contents(store) == before
    assert (tmp_path / "ev.duckdb").stat().st_size == size
    monkeypatch.undo()
    assert store.load("consents", consents_file(tmp_path, "feb.csv", "2026-02-01")).rows_changed


def test_loaded_evidence_answers_as_of_any_time(tmp_path: Path) -> None:
    """End to end: files in, the as-of facts out, at several moments."""
    store = EvidenceStore(tmp_path / "ev.duckdb")
    store.load("consents", consents_file(tmp_path, "jan.csv"))
    store.load("consents", consents_file(tmp_path, "feb.csv", "2026-02-01 09:00"))
    header = ["phone", "objected_at"]
    store.load("objections", write_csv(tmp_path / "o.csv", header, [["601234568", "1.3.2026"]]))
    snap = pa.table({"phone": ["601234567", "601234568"], "marketing": ["opt_in", "opt_out"]})
    store.load("directory", snap, snapshot_date="2026-01-15")
    times = [datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC),
             datetime(2026, 3, 10, tzinfo=UTC)]  # fmt: skip
    requests = pa.table(
        {
            "rid": pa.array(range(6), pa.int64()),
            "phone": pa.array([P, P + 1] * 3, pa.int64()),
            "controller": ["acme"] * 6,
            "t": pa.array([t for t in times for _ in range(2)], pa.timestamp("us", tz="UTC")),
        }
    )
    with store.connect() as con:
        con.register("req", requests)
        got = con.execute(f"SELECT * FROM ({facts_sql('req', Policy())}) ORDER BY rid").fetchall()
    facts = [dict(zip(FACTS_COLUMNS, r, strict=True)) for r in got]
    assert [f["consent_id"] for f in facts] == ["C1", "C2", None, "C2", None, "C2"]
    # The objection of 1 March binds the number whose consent is older than it.
    assert [f["objection_id"] is not None for f in facts] == [False] * 5 + [True]
    marks = [f["directory_marketing"] for f in facts]
    assert marks == [None, None, "opt_in", "opt_out", "opt_in", "opt_out"]

"""Loads that would let a forbidden call through (issue #13 cases 5 to 8)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import optin_gate as og
from optin_gate.store import EvidenceStore, StrictLoadError
from tests.store._helpers import contents, rows, write_csv

CONSENTS = ["consent_id", "phone", "granted_at", "withdrawn_at", "controller"]
OBJECTIONS = ["objection_id", "phone", "objected_at", "controller"]
AT = "2026-03-01 12:00"


def test_case_05_a_withdrawal_in_one_file_sticks(tmp_path: Path) -> None:
    store = EvidenceStore()
    path = write_csv(
        tmp_path / "c.csv",
        CONSENTS,
        [
            ["C1", "601234567", "2026-01-05", "2026-02-01", "acme"],
            ["C1", "601234567", "2026-01-05", None, "acme"],  # a later export forgot it
        ],
    )
    report = store.load("consents", path)
    assert report.rows_rejected == 0
    assert rows(store, "SELECT withdrawn_at IS NOT NULL FROM consents_current") == [(True,)]
    assert og.Gate(store, "acme").check("601234567", at=AT).reason is og.Reason.STALE_DIRECTORY
    # And across loads: a reload without the withdrawal keeps it too.
    again = [["C1", "601234567", "2026-01-05", None, "acme"]]
    store.load("consents", write_csv(tmp_path / "d.csv", CONSENTS, again))
    assert og.Gate(store, "acme").check("601234567", at=AT).reason is og.Reason.STALE_DIRECTORY


def test_case_06_controller_names_ignore_case_and_spaces(tmp_path: Path) -> None:
    store = EvidenceStore()
    store.load(
        "consents",
        write_csv(tmp_path / "c.csv", CONSENTS, [["C1", "601234567", "2026-01-05", None, "acme"]]),
    )
    store.load(
        "objections",
        write_csv(tmp_path / "o.csv", OBJECTIONS, [["N1", "601234567", "2026-02-01", " ACME "]]),
    )
    for name in ("acme", "Acme", " ACME"):
        decision = og.Gate(store, name).check("601234567", at=AT)
        assert decision.reason is og.Reason.OBJECTION, name
    store.record_objection("601234568", controller="Beta ", at="2026-02-01")
    store.load(
        "consents",
        write_csv(tmp_path / "c2.csv", CONSENTS, [["C2", "601234568", "2026-01-05", None, "BETA"]]),
    )
    assert og.Gate(store, "beta").check("601234568", at=AT).reason is og.Reason.OBJECTION
    assert og.Gate(store, "BETA").filter(pa.table({"phone": ["601234568"]}), as_of=AT).summary == {
        og.Reason.OBJECTION: 1
    }


def test_case_06_names_in_a_store_from_before_are_folded(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    store = EvidenceStore(path)
    store.load(
        "consents",
        write_csv(tmp_path / "c.csv", CONSENTS, [["C1", "601234567", "2026-01-05", None, "acme"]]),
    )
    with store.connect(read_only=False) as con:  # as an earlier version stored them
        con.execute("UPDATE consents SET controller = 'ACME'")
        con.execute("DELETE FROM meta WHERE key = 'controllers_folded'")
    reopened = EvidenceStore(path)
    assert rows(reopened, "SELECT controller FROM consents") == [("acme",)]
    assert og.Gate(reopened, "Acme").check("601234567", at=AT).reason is og.Reason.CONSENT


def test_case_07_two_objection_files_numbering_from_1_keep_both(tmp_path: Path) -> None:
    store = EvidenceStore()
    crm = write_csv(tmp_path / "crm.csv", OBJECTIONS, [["1", "601234567", "2026-02-01", ""]])
    web = write_csv(tmp_path / "web.csv", OBJECTIONS, [["1", "601234568", "2026-02-02", ""]])
    assert store.load("objections", crm).rows_loaded == 1
    report = store.load("objections", web)
    assert (report.rows_loaded, report.rows_rejected, report.rows_changed) == (1, 0, 1)
    gate = og.Gate(store, "acme")
    for phone in ("601234567", "601234568"):
        decision = gate.check(phone, at=AT)
        assert (decision.reason, decision.evidence) == (og.Reason.OBJECTION, "objection:1")
    # One file holding both is kept whole as well.
    both = write_csv(
        tmp_path / "both.csv",
        OBJECTIONS,
        [["7", "601234569", "2026-02-01", ""], ["7", "601234570", "2026-02-01", "acme"]],
    )
    assert store.load("objections", both).rows_loaded == 2
    assert rows(store, "SELECT count(*) FROM objections") == [(4,)]


@pytest.mark.parametrize("kind", ["directory", "consents", "objections"])
def test_case_08_a_load_whose_every_row_is_rejected_changes_nothing(
    tmp_path: Path, kind: str
) -> None:
    store = EvidenceStore(tmp_path / "s.duckdb")
    header = {
        "directory": ["phone", "marketing"],
        "consents": ["consent_id", "phone", "granted_at"],
        "objections": ["phone", "objected_at"],
    }[kind]
    bad = write_csv(tmp_path / "bad.csv", header, [["X", "12", "not a date"][: len(header)]] * 3)
    before = contents(store)
    date = {"snapshot_date": "2026-02-01"} if kind == "directory" else {}
    with pytest.raises(StrictLoadError) as info:
        store.load(kind, bad, **date)  # type: ignore[arg-type]
    assert "all 3 row(s) were rejected, so nothing was loaded" in str(info.value)
    assert info.value.line == 2
    assert info.value.rejects.num_rows == 3
    assert contents(store) == before
    if kind == "directory":  # the right file for that date is still taken
        good = write_csv(tmp_path / "good.csv", header, [["601234567", "opt_in"]])
        assert store.load(kind, good, snapshot_date="2026-02-01").rows_loaded == 1


def test_case_08_an_empty_directory_snapshot_is_refused(tmp_path: Path) -> None:
    store = EvidenceStore()
    empty = write_csv(tmp_path / "d.csv", ["phone", "marketing"], [])
    with pytest.raises(StrictLoadError, match="an empty snapshot would mark every number"):
        store.load("directory", empty, snapshot_date="2026-02-01")
    assert rows(store, "SELECT count(*) FROM directory_snapshots") == [(0,)]


def test_a_file_changed_during_its_load_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded hash must describe the bytes staged, or a later load is wrongly skipped."""
    from optin_gate.store import loader

    store = EvidenceStore()
    path = write_csv(tmp_path / "c.csv", CONSENTS, [["C1", "601234567", "2026-01-05", None, ""]])
    real_stage = loader.stage  # type: ignore[attr-defined]

    def stage_then_edit(*args: object, **kwargs: object) -> object:
        staged = real_stage(*args, **kwargs)  # type: ignore[arg-type]
        write_csv(path, CONSENTS, [["C1", "601234567", "2026-01-05", "2026-01-06", ""]])
        return staged

    monkeypatch.setattr(loader, "stage", stage_then_edit)
    with pytest.raises(og.InputError, match="the file changed while it was being loaded"):
        store.load("consents", path)
    monkeypatch.undo()
    assert store.load("consents", path).rows_changed == 1
    assert rows(store, "SELECT withdrawn_at IS NOT NULL FROM consents_current") == [(True,)]

"""Bad input gets one clear answer and loses nothing (issue 3, item 3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from optin_gate.errors import InputError
from optin_gate.store import EvidenceStore, StrictLoadError
from tests.store._helpers import contents, rows, write_csv

HEADER = ["consent_id", "phone", "granted_at", "note"]


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "ev.duckdb")


def test_bad_rows_are_rejected_with_file_line_and_column(
    tmp_path: Path, store: EvidenceStore
) -> None:
    path = write_csv(
        tmp_path / "consents.csv",
        HEADER,
        [
            ["C1", "601 234 567", "2026-01-05 10:00", "ok"],
            ["C2", "12", "2026-01-05", "a note\nover two lines"],  # lines 3-4
            ["C3", "", "2026-01-05", "no phone"],  # line 5
            ["C4", "601234568", "5th of May", '"quoted"\nand\nmore'],  # lines 6-8
            ["", "601234569", "2026-01-05", "no id"],  # line 9
            ["C6", "601234570", "", "no date"],  # line 10
            ["C7", "+420 601 234 571", "28. 11. 2026 14:30", "Czech date"],  # line 11
        ],
    )
    report = store.load("consents", path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (7, 2, 5)
    got = [(r["line"], r["column"], r["reason"]) for r in report.rejects.to_pylist()]
    assert got == [
        (3, "phone", "not a valid phone number"),
        (5, "phone", "required field is empty"),
        (6, "granted_at", "not a date and time (write 2026-11-28 14:30 or 28.11.2026 14:30)"),
        (9, "consent_id", "required field is empty"),
        (10, "granted_at", "required field is empty"),
    ]
    assert report.rejects.column("consent_id")[1].as_py() == "C3"  # the row's fields come along
    assert rows(store, "SELECT consent_id FROM consents ORDER BY 1") == [("C1",), ("C7",)]
    stored = rows(store, "SELECT line, column_name, reason FROM load_rejects ORDER BY line")
    assert stored == got


def test_strict_load_writes_nothing_and_carries_the_rejects(
    tmp_path: Path, store: EvidenceStore
) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        HEADER,
        [["C1", "601234567", "2026-01-05", ""], ["C2", "601234568", "yesterday", ""]],
    )
    before = contents(store)
    with pytest.raises(StrictLoadError) as info:
        store.load("consents", path, strict=True)
    assert str(info.value) == (
        f"{path}, line 3, column 'granted_at': 1 row(s) rejected, so the strict load wrote "
        "nothing; the first: not a date and time (write 2026-11-28 14:30 or 28.11.2026 14:30). "
        "Hint: fix those rows, or load without --strict to load the rest and list the rejects"
    )
    assert info.value.rejects.num_rows == 1
    assert contents(store) == before
    assert store.load("consents", path).rows_loaded == 1  # without strict the rest loads


def test_missing_column_names_found_columns_and_the_map(
    tmp_path: Path, store: EvidenceStore
) -> None:
    path = write_csv(tmp_path / "s.csv", ["souhlas_id", "kontakt", "udeleno"], [["C1", "6", "x"]])
    with pytest.raises(InputError) as info:
        store.load("consents", path)
    assert str(info.value) == (
        f"{path}, column 'phone': required column 'phone' not found for consents; the file has "
        "columns 'souhlas_id', 'kontakt', 'udeleno'. Hint: name the column(s) with "
        "--map kontakt=phone (Python: columns={'kontakt': 'phone'})"
    )
    with pytest.raises(StrictLoadError) as rejected:
        store.load("consents", path, columns={"kontakt": "phone"})
    assert rejected.value.rejects.column("reason").to_pylist() == ["not a valid phone number"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "the workbook cannot be read: it is damaged or not a"),
        (b"\x00\x01\x02\x03binary", "not a CSV or Parquet file (binary data)"),
    ],
)
def test_unreadable_files_stop_with_one_message(
    tmp_path: Path, store: EvidenceStore, data: bytes, message: str
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    before = contents(store)
    with pytest.raises(InputError) as info:
        store.load("consents", path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert contents(store) == before


def test_unknown_kind_and_bad_arguments(tmp_path: Path, store: EvidenceStore) -> None:
    path = write_csv(tmp_path / "c.csv", HEADER, [["C1", "601234567", "2026-01-05", ""]])
    with pytest.raises(InputError) as info:
        store.load("consent", path)
    assert str(info.value) == (
        "unknown evidence kind 'consent'. Hint: did you mean 'consents'? use one of consents, "
        "contracts, directory, objections, sk_register"
    )
    with pytest.raises(InputError, match="snapshot_date applies to directory loads"):
        store.load("consents", path, snapshot_date="2026-01-01")
    with pytest.raises(InputError, match="controller='' is not a controller name"):
        store.load("consents", path, controller="")
    with pytest.raises(InputError, match=r"missing\.csv: file not found"):
        store.load("consents", tmp_path / "missing.csv")


def test_directory_snapshot_date_must_be_known_and_single(
    tmp_path: Path, store: EvidenceStore
) -> None:
    plain = write_csv(tmp_path / "d.csv", ["phone", "marketing"], [["601234567", "opt_in"]])
    with pytest.raises(InputError, match="a directory snapshot needs its date"):
        store.load("directory", plain)
    two = write_csv(
        tmp_path / "d2.csv",
        ["phone", "marketing", "snapshot_date"],
        [["601234567", "opt_in", "2026-01-01"], ["601234568", "opt_out", "2026-02-01"]],
    )
    with pytest.raises(InputError, match=r"several snapshot dates \(2026-01-01, 2026-02-01\)"):
        store.load("directory", two)
    with pytest.raises(InputError, match="snapshot_date=2026-03-01 was given but the file says"):
        store.load("directory", two, snapshot_date="2026-03-01")
    report = store.load("directory", plain, snapshot_date="1. 3. 2026")
    assert report.snapshot_date == date(2026, 3, 1)


def test_enum_values_are_read_leniently_and_checked(tmp_path: Path, store: EvidenceStore) -> None:
    path = write_csv(
        tmp_path / "d.csv",
        ["telefon", "marketing"],
        [["601234567", "Opt-In"], ["601234568", "OPT OUT"], ["601234569", "maybe"]],
    )
    report = store.load("directory", path, snapshot_date=date(2026, 1, 1))
    assert report.rejects.to_pylist()[0] | {"telefon": None} == {
        "line": 4,
        "column": "marketing",
        "reason": "must be one of opt_in, opt_out, unmarked",
        "telefon": None,
        "marketing": "maybe",
    }
    marks = rows(store, "SELECT phone, marketing FROM directory ORDER BY phone")
    assert marks == [(420601234567, "opt_in"), (420601234568, "opt_out")]

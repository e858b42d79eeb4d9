"""`optin-gate audit` end to end: a real store loaded from Czech office files, a Czech call log,
the printed summary, the three output files, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pyarrow.csv as pcsv
import pytest
from click.testing import CliRunner

from optin_gate import EvidenceStore
from optin_gate._resources import data_dir
from optin_gate.cli import main

CONSENTS = """consent_id;telefon;udeleno;odvolano
C-1;+420 601 000 001;1. 1. 2023 10:00;1. 3. 2023 13:00
"""
OBJECTIONS = """telefon;datum_namitky
601000003;15.02.2023 10:00
"""
DIRECTORY = """telefon;marketing
601000003;opt_in
601000005;opt_out
"""
# A dialler's export: Czech headers, `;`, Windows-1250 (the campaign name has diacritics).
CALLS = """id_hovoru;telefon;cas_hovoru;kampan;operator
H1;601000001;2023-02-01 10:00;Jarní nabídka;a1
H2;601000001;2023-03-01 13:00;Jarní nabídka;a1
H3;601000003;2023-02-15 09:59;Jarní nabídka;a2
H4;601000003;2023-02-16 10:00;Podzim;a2
H5;601000003;2023-02-17 10:00;Podzim;a2
H6;601000005;2022-06-30 10:00;Podzim;a3
H7;601000005;2022-07-01 10:00;Podzim;a3
H8;601000004;včera;Podzim;a3
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "souhlasy.csv").write_text(CONSENTS, encoding="utf-8")
    (folder / "namitky.csv").write_text(OBJECTIONS, encoding="utf-8")
    (folder / "seznam.csv").write_text(DIRECTORY, encoding="utf-8")
    (folder / "hovory.csv").write_bytes(CALLS.encode("cp1250"))
    store = EvidenceStore(folder / "evidence.duckdb")
    store.load("consents", folder / "souhlasy.csv", controller="acme")
    store.load("objections", folder / "namitky.csv")
    for day in ("2022-06-01", "2022-06-29", "2023-01-20", "2023-02-10"):
        store.load("directory", folder / "seznam.csv", snapshot_date=day)
    return folder


def run(files: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["audit", str(files / "hovory.csv"), "--store", str(files / "evidence.duckdb"), *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_audit_prints_a_summary_and_writes_the_reports(files: Path, tmp_path: Path) -> None:
    code, out, err = run(
        files,
        "--controller", "acme",
        "--html", str(tmp_path / "audit.html"),
        "--json", str(tmp_path / "audit.json"),
        "--violations", str(tmp_path / "violations.csv"),
        "--turnover", "2000000000",
    )  # fmt: skip
    assert code == 0, err
    assert "Calls judged" in out
    assert "not audited: line 9, column 'cas_hovoru'" in out
    doc = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    schema = json.loads((data_dir() / "schemas" / "audit_report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    s = doc["summary"]
    assert (s["rows_read"], s["calls"], s["unusable_rows"]) == (8, 7, 1)
    reasons = {r["reason"]: r["calls"] for r in s["by_reason"]}
    # H1 consent; H2 at the withdrawal; H3 opt-in before the objection; H4, H5 after it;
    # H6 opt-out mark in the old regime; H7 the same mark after 2022-07-01, but the snapshot
    # of 2022-06-29 is two days old: no opt-in, no legal basis.
    assert reasons == {
        "CONSENT": 1, "NO_LEGAL_BASIS": 2, "DIRECTORY_OPT_IN": 1, "OBJECTION": 2,
        "DIRECTORY_OPT_OUT": 1,
    }  # fmt: skip
    assert s["repeat_objection"]["numbers_called_more_than_once"] == 1
    assert s["exposure"]["statutory_maximum_czk"] == 200_000_000
    loads = s["method"]["evidence"]["loads"]
    assert [ld["file_name"] for ld in loads][:2] == ["souhlasy.csv", "namitky.csv"]
    assert all(len(ld["sha256"]) == 64 for ld in loads)
    assert s["method"]["call_log"]["columns"]["called_at"] == "cas_hovoru"
    violations = pcsv.read_csv(tmp_path / "violations.csv")
    assert violations.num_rows == s["violations"] == 5
    assert violations.column("id_hovoru").to_pylist() == ["H2", "H4", "H5", "H6", "H7"]
    assert "Jarní nabídka" in violations.column("kampan").to_pylist()
    page = (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert "Jarní nabídka" in page
    assert "601 *** 003" in page


def test_missing_store_is_one_line_and_exit_2(files: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["audit", str(files / "hovory.csv"), "--store", str(tmp_path / "none.duckdb")]
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "no evidence store" in result.stderr
    assert not (tmp_path / "none.duckdb").exists()  # not created by a typo


def test_missing_time_column_names_the_file_and_the_fix(files: Path, tmp_path: Path) -> None:
    bad = tmp_path / "calls.csv"
    bad.write_text("telefon;kdy\n601000001;2023-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["audit", str(bad), "--store", str(files / "evidence.duckdb")]
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "calls.csv" in result.stderr
    assert "called_at" in result.stderr
    assert "--map" in result.stderr or "--time-column" in result.stderr


def test_bad_output_path_fails_before_any_output_is_written(files: Path, tmp_path: Path) -> None:
    code, _, err = run(
        files,
        "--json", str(tmp_path / "audit.json"),
        "--html", str(tmp_path / "missing" / "audit.html"),
    )  # fmt: skip
    assert code == 2
    assert "does not exist" in err
    assert not (tmp_path / "audit.json").exists()


def test_violations_file_needs_a_known_extension(files: Path, tmp_path: Path) -> None:
    code, _, err = run(files, "--violations", str(tmp_path / "violations.xlsx"))
    assert code == 2
    assert ".csv or .parquet" in err

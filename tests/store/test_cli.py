"""`optin-gate load` and `optin-gate subject`: one-screen reports, exit codes, JSON export."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from optin_gate.cli import main
from optin_gate.store import EvidenceStore
from tests.store._helpers import rows, write_csv

HEADER = ["souhlas_id", "telefon", "udeleno"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_load_prints_the_report_and_writes_rejects(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "souhlasy.csv",
        HEADER,
        [["S1", "601 234 567", "28. 11. 2025 14:30"], ["S2", "12", "1.12.2025"]],
        delimiter=";",
        encoding="cp1250",
    )
    store = str(tmp_path / "ev.duckdb")
    rejects = tmp_path / "rejects.parquet"
    code, out, err = run(
        "load", "consents", str(path), "--store", store, "--create", "--rejects", str(rejects)
    )
    assert code == 0, err
    assert "rows read" in out
    assert "rows loaded" in out
    assert "line" in out
    assert "not a valid phone number" in out
    assert pq.read_table(rejects).to_pylist() == [
        {"line": 3, "column": "telefon", "reason": "not a valid phone number",
         "souhlas_id": "S2", "telefon": "12", "udeleno": "1.12.2025"}
    ]  # fmt: skip
    code, out, _ = run("load", "consents", str(path), "--store", store)
    assert code == 0
    assert "Unchanged: " in out
    assert "nothing was written" in out


def test_input_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["id", "kontakt", "datum"], [["S1", "601234567", "x"]])
    store = str(tmp_path / "ev.duckdb")
    code, out, err = run("load", "consents", str(path), "--store", store, "--create")
    assert code == 2
    assert out == ""
    assert err == (
        f"optin-gate: error: {path}, column 'phone': required column 'phone' not found for "
        "consents; the file has columns 'id', 'kontakt', 'datum'. Hint: name the column(s) "
        "with --map kontakt=phone (Python: columns={'kontakt': 'phone'})\n"
    )
    code, _, err = run("load", "consent", str(path), "--store", store)
    assert code == 2
    assert "unknown evidence kind 'consent'" in err
    code, _, err = run("load", "consents", str(path), "--store", store, "--map", "kontakt")
    assert code == 2
    assert "is not SRC=DST" in err


def test_map_and_strict(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        ["id", "kontakt", "datum"],
        [["S1", "601234567", "1.1.2026"], ["S2", "601234568", "later"]],
    )
    store = str(tmp_path / "ev.duckdb")
    rejects = tmp_path / "rejects.csv"
    code, _, err = run(
        "load", "consents", str(path), "--store", store, "--map", "kontakt=phone", "--create",
        "--strict", "--rejects", str(rejects),
    )  # fmt: skip
    assert code == 2
    assert "line 3, column 'datum'" in err
    assert "strict load wrote nothing" in err
    assert rejects.read_text().splitlines()[1].startswith('3,"datum"')
    code, out, _ = run(
        "load", "consents", str(path), "--store", store, "--map", "kontakt=phone", "-q"
    )
    assert code == 0
    assert [line.split() for line in out.splitlines() if "rows" in line][:3] == [
        ["rows", "read", "2"],
        ["rows", "loaded", "1"],
        ["rows", "rejected", "1"],
    ]
    assert rows(EvidenceStore(store), "SELECT consent_id FROM consents") == [("S1",)]


def test_subject_prints_everything_as_json(tmp_path: Path) -> None:
    store = str(tmp_path / "ev.duckdb")
    consents = write_csv(tmp_path / "c.csv", HEADER, [["S1", "601234567", "2025-11-28"]])
    run("init", "--store", store)
    run("load", "consents", str(consents), "--store", store, "--controller", "acme")
    directory = write_csv(tmp_path / "d.csv", ["phone", "marketing"], [["601234567", "opt_in"]])
    run("load", "directory", str(directory), "--store", store, "--snapshot-date", "1.12.2025")
    code, out, err = run("subject", "+420 601 234 567", "--store", store)
    assert code == 0, err
    export = json.loads(out)
    assert export["phone"] == "+420601234567"
    assert [c["consent_id"] for c in export["consents"]] == ["S1"]
    assert export["consents"][0]["controller"] == "acme"
    assert export["directory"][0]["marketing"] == "opt_in"
    assert export["directory"][0]["snapshots"] == ["2025-12-01"]
    assert {ld["file_name"] for ld in export["loads"]} == {"c.csv", "d.csv"}
    code, _, err = run("subject", "601234567", "--store", str(tmp_path / "none.duckdb"))
    assert code == 2
    assert "no evidence store here" in err

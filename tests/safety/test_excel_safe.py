"""--excel-safe: cells a spreadsheet would run as formulas are written as text (issue #13)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from optin_gate.cli import main
from tests.store._helpers import write_csv

ROWS = [
    ['=HYPERLINK("http://x")', "+420 601 234 567", "@SUM(A1)", "plain"],
    ["-2+3", "601234568", "\tTAB", "=1"],
]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def store(tmp_path: Path) -> str:
    path = str(tmp_path / "ev.duckdb")
    assert run("init", "--store", path)[0] == 0
    return path


@pytest.mark.parametrize("way", ["held", "spilled"])
def test_filter_outputs_neutralize_formulas_but_not_phones(
    tmp_path: Path, store: str, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from optin_gate.engine import held

    monkeypatch.setattr(held, "fits", lambda con, src: way == "held")
    calls = write_csv(tmp_path / "list.csv", ["jmeno", "telefon", "pozn", "x"], ROWS)
    out = tmp_path / "all.csv"
    code, err = run("filter", str(calls), "--store", store, "--decisions", str(out), "--excel-safe")
    assert code == 0, err
    got = read(out)
    assert [r["jmeno"] for r in got] == ['\'=HYPERLINK("http://x")', "'-2+3"]
    assert [r["pozn"] for r in got] == ["'@SUM(A1)", "'\tTAB"]
    assert [r["x"] for r in got] == ["plain", "'=1"]
    assert [r["telefon"] for r in got] == ["+420 601 234 567", "601234568"]  # as written
    assert [r["e164"] for r in got] == ["+420601234567", "+420601234568"]
    code, err = run("filter", str(calls), "--store", store, "--decisions", str(out))
    assert code == 0, err
    assert read(out)[0]["jmeno"] == '=HYPERLINK("http://x")'  # off: the list as it was


def test_audit_violations_neutralize_formulas(tmp_path: Path, store: str) -> None:
    log = write_csv(
        tmp_path / "calls.csv",
        ["phone", "called_at", "agent"],
        [["+420601234567", "2026-01-05 10:00", "=cmd|' /C calc'!A0"]],
    )
    out = tmp_path / "violations.csv"
    code, err = run("audit", str(log), "--store", store, "--violations", str(out), "--excel-safe")
    assert code == 0, err
    (row,) = read(out)
    assert row["agent"] == "'=cmd|' /C calc'!A0"
    assert row["phone"] == "+420601234567"
    assert row["e164"] == "+420601234567"

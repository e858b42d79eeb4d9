"""The streaming audit behind `optin-gate audit` gives the same report as `gate.audit`, writes
the violations in file order with their file lines, and keeps no calls in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from optin_gate import Gate, OptinGateError
from optin_gate.audit import run_audit
from optin_gate.audit.stream import audit_file
from tests.audit._data import MULTILINE_LOG, campaign_history, oracle_store


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Gate, Path]:
    ev, calls = campaign_history(numbers=200, calls=1500)
    path = tmp_path_factory.mktemp("log") / "calls.csv"
    pcsv.write_csv(calls, path)
    return Gate(oracle_store(ev), controller="acme"), path


def _without_run_time(doc: dict[str, Any]) -> dict[str, Any]:
    doc["summary"]["method"].pop("audit_ran_at")
    return doc


def test_stream_and_memory_audits_agree(history: tuple[Gate, Path], tmp_path: Path) -> None:
    gate, path = history
    streamed = audit_file(gate.context, path, violations=tmp_path / "v.parquet")
    kept = run_audit(gate.context, path)
    assert _without_run_time(streamed.document()) == _without_run_time(kept.document())
    written = pq.read_table(tmp_path / "v.parquet")
    assert written.equals(kept.violations.cast(written.schema))
    with pytest.raises(OptinGateError, match="files instead of keeping them in memory"):
        streamed.calls  # noqa: B018


def test_violations_keep_file_order_and_lines_across_multiline_fields(
    history: tuple[Gate, Path], tmp_path: Path
) -> None:
    gate, _ = history
    log = tmp_path / "calls.csv"
    log.write_text(MULTILINE_LOG, encoding="utf-8")
    report = audit_file(gate.context, log, violations=tmp_path / "v.csv")
    table = pcsv.read_csv(
        tmp_path / "v.csv", convert_options=pcsv.ConvertOptions(column_types={"line": pa.int64()})
    )
    by_id = dict(zip(table["call_id"].to_pylist(), table["line"].to_pylist(), strict=True))
    assert by_id["B"] == 4
    assert by_id["D"] == 8
    assert table["call_id"].to_pylist() == sorted(by_id)  # file order
    assert report.summary["calls"] == 4
    assert not list(tmp_path.glob(".*.tmp"))


def test_nothing_is_written_when_the_log_is_bad(history: tuple[Gate, Path], tmp_path: Path) -> None:
    gate, _ = history
    log = tmp_path / "calls.csv"
    log.write_text("telefon,kdy\n601000001,2023-01-01\n", encoding="utf-8")
    with pytest.raises(OptinGateError, match="called_at"):
        audit_file(gate.context, log, violations=tmp_path / "v.csv", json_path=tmp_path / "a.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv"]


def test_the_files_of_a_failed_run_appear_not_at_all(
    history: tuple[Gate, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The violations and the JSON are complete when the HTML fails: none of the three may
    # replace yesterday's files, and no temp file may stay behind.
    gate, log = history
    (tmp_path / "v.csv").write_text("yesterday\n")

    def broken(report: object) -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr("optin_gate.audit.stream.html_text", broken)
    with pytest.raises(RuntimeError, match="render failed"):
        audit_file(
            gate.context,
            log,
            violations=tmp_path / "v.csv",
            json_path=tmp_path / "a.json",
            html_path=tmp_path / "a.html",
        )
    assert (tmp_path / "v.csv").read_text() == "yesterday\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.csv"]

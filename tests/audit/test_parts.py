"""A log too big for memory is audited in parts, and writes what a whole audit writes.

The parts are made small here (`part_rows`), so that a log of a few thousand calls is cut
into many: the violations file byte for byte, every figure of the report, the first
violations listed and the unusable rows with their file lines come out as from one part.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from optin_gate import Gate
from optin_gate.audit import parts, run
from optin_gate.audit.stream import audit_file
from tests.audit._data import MULTILINE_LOG, campaign_history, oracle_store


@pytest.fixture(scope="module")
def shuffled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Gate, Path]:
    """A log whose calls are not in time order: the earliest violations lie in every part."""
    ev, calls = campaign_history(numbers=200, calls=1500)
    order = np.random.default_rng(3).permutation(calls.num_rows)
    path = tmp_path_factory.mktemp("log") / "calls.csv"
    pcsv.write_csv(calls.take(order), path)
    return Gate(oracle_store(ev), controller="acme"), path


def _audit(gate: Gate, log: Path, out: Path, suffix: str, labels: list[str]) -> dict[str, Any]:
    out.mkdir()
    report = audit_file(
        gate.context,
        log,
        violations=out / f"v.{suffix}",
        json_path=out / "a.json",
        on_step=labels.append,
    )
    doc: dict[str, Any] = json.loads((out / "a.json").read_text())
    doc["summary"]["method"].pop("audit_ran_at")
    assert doc["summary"]["calls"] == report.summary["calls"]
    return doc


def _in_parts(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    monkeypatch.setattr(run, "part_rows", lambda: rows)


@pytest.mark.parametrize(("rows", "suffix"), [(250, "csv"), (750, "parquet"), (1499, "csv")])
def test_a_log_in_parts_writes_what_one_part_writes(
    shuffled: tuple[Gate, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
    suffix: str,
) -> None:
    gate, log = shuffled
    whole = _audit(gate, log, tmp_path / "whole", suffix, [])
    _in_parts(monkeypatch, rows)
    labels: list[str] = []
    cut = _audit(gate, log, tmp_path / "cut", suffix, labels)
    assert any(label.startswith("reading the call log from row") for label in labels)
    assert cut == whole
    assert whole["summary"]["repeat_objection"]["calls"] > 0
    assert whole["summary"]["unusable_rows"] == 2
    if suffix == "csv":
        assert (tmp_path / "cut/v.csv").read_bytes() == (tmp_path / "whole/v.csv").read_bytes()
    else:
        assert pq.read_table(tmp_path / "cut/v.parquet").equals(
            pq.read_table(tmp_path / "whole/v.parquet")
        )
    assert not list(tmp_path.glob("*/.*.tmp"))


def test_parts_give_the_file_lines_of_rows_that_span_several(
    shuffled: tuple[Gate, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, _ = shuffled
    log = tmp_path / "calls.csv"
    log.write_text(MULTILINE_LOG + "E,,2023-05-01 10:00,x\n", encoding="utf-8")
    _in_parts(monkeypatch, 2)
    audit_file(gate.context, log, violations=tmp_path / "v.csv", json_path=tmp_path / "a.json")
    table = pcsv.read_csv(
        tmp_path / "v.csv", convert_options=pcsv.ConvertOptions(column_types={"line": pa.int64()})
    )
    lines = dict(zip(table["call_id"].to_pylist(), table["line"].to_pylist(), strict=True))
    assert lines == {"B": 4, "D": 8}
    report = json.loads((tmp_path / "a.json").read_text())
    assert [row["line"] for row in report["unusable"]["rows"]] == [9]


def test_parts_grow_with_the_memory_and_never_shrink_to_nothing() -> None:
    assert parts.part_rows(256 << 20) == parts.MIN_PART_ROWS > 0
    small, large = parts.part_rows(1 << 30), parts.part_rows(16 << 30)
    assert parts.MIN_PART_ROWS <= small < large
    assert large * parts.ROW_BYTES <= 16 << 30

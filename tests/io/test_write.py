"""Output files are written whole or not at all, in the format the extension names."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from optin_gate.errors import InputError
from optin_gate.io import read_table, write_table

TABLE = pa.table({"phone": ["+420601234567", None], "reason": ["CONSENT", "OBJECTION"]})


def test_csv_and_parquet_by_extension(tmp_path: Path) -> None:
    write_table(TABLE, tmp_path / "out.csv")
    assert read_table(tmp_path / "out.csv").to_pylist() == TABLE.to_pylist()
    write_table(TABLE, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").equals(TABLE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.parquet"]


def test_unknown_extension_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot tell the output format from the extension"):
        write_table(TABLE, tmp_path / "out.xlsx")
    with pytest.raises(InputError, match="the folder does not exist"):
        write_table(TABLE, tmp_path / "no" / "out.csv")


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "permitted.csv"
    target.write_text("old\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("pyarrow.csv.write_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_table(TABLE, target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["permitted.csv"]

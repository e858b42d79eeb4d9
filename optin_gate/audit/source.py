"""The call log as the audit sees it: an Arrow table, its columns, line numbers, fingerprint.

Reading files (encodings, delimiters, header aliases) is `optin_gate.io`'s job; this module
asks it for the table and the line each row starts on, finds the call-log columns by the
`calls` schema, and fingerprints the log (SHA-256 of the file's bytes, or of the Arrow IPC of a
frame) so the report says exactly which log it judged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate.audit.method import sha256_arrow, sha256_file
from optin_gate.errors import InputError
from optin_gate.io.columns import resolve_columns
from optin_gate.io.schemas import load_schema

__all__ = ["LINE", "RID", "CallLog", "read_calls"]

RID, LINE = "__og_rid", "__og_line"


@dataclasses.dataclass(frozen=True)
class CallLog:
    """A call log read for the audit.

    Attributes:
        table: The log's own columns, then `RID` (0-based row) and `LINE` (the file line the
            row starts on; for a frame, the 1-based row number).
        name: The file's base name, or `<DataFrame>` / `<Table>`.
        columns: Canonical call-log column -> the log's own header, for those present.
        user_columns: The log's own headers, in order.
        sha256: SHA-256 of the file's bytes, or of the Arrow IPC stream of a frame.
        sha256_of: What was hashed: "file bytes" or "Arrow IPC stream".
    """

    table: pa.Table
    name: str
    columns: dict[str, str]
    user_columns: tuple[str, ...]
    sha256: str
    sha256_of: str

    def describe(self) -> dict[str, Any]:
        """The call log's entry in the method section."""
        return {
            "source": self.name,
            "sha256": self.sha256,
            "sha256_of": self.sha256_of,
            "rows_read": self.table.num_rows,
            "columns": {name: self.columns.get(name) for name in load_schema("calls").names},
        }


def _read_file(path: Path) -> tuple[pa.Table, np.ndarray[Any, Any]]:
    """Table and first line of each row."""
    if not path.is_file():
        raise InputError(
            f"no call log at {path}", file=str(path), hint="check the path and the file name"
        )
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return table, np.arange(1, table.num_rows + 1)
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(
            column_types={}, strings_can_be_null=False, auto_dict_encode=False
        ),
        read_options=pcsv.ReadOptions(),
    )
    table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    return table, np.arange(2, table.num_rows + 2)


def read_calls(
    source: Any, *, phone_column: str | None = None, time_column: str = "called_at"
) -> CallLog:
    """Read a call log from a CSV/Parquet path, a DataFrame or an Arrow table.

    Raises:
        InputError: Unreadable source, or no phone / call time column.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        table, lines = _read_file(path)
        name, digest, of = path.name, sha256_file(path), "file bytes"
    else:
        if isinstance(source, pa.Table):
            table, name = source, "<Table>"
        elif type(source).__name__ == "DataFrame" and hasattr(source, "columns"):
            table, name = pa.Table.from_pandas(source, preserve_index=False), "<DataFrame>"
        else:
            raise InputError(
                f"cannot audit a {type(source).__name__}",
                hint="pass a CSV or Parquet path, a pandas DataFrame or a pyarrow Table",
            )
        lines = np.arange(1, table.num_rows + 1)
        digest, of = sha256_arrow(table), "Arrow IPC stream"
    headers = tuple(table.column_names)
    mapping: dict[str, str] = {}
    if phone_column is not None:
        mapping[phone_column] = "phone"
    if time_column != "called_at" or "called_at" in headers:
        mapping[time_column] = "called_at"
    columns = resolve_columns(headers, load_schema("calls"), columns=mapping, file=name)
    table = table.append_column(RID, pa.array(np.arange(table.num_rows), pa.int64()))
    table = table.append_column(LINE, pa.array(np.asarray(lines, dtype=np.int64)))
    return CallLog(table, name, columns, headers, digest, of)

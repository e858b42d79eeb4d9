"""The call log as the audit sees it: an Arrow table, its columns, line numbers, fingerprint.

Reading files (encodings, delimiters, header aliases) is `optin_gate.io`'s job; this module
asks it for the table and the line each row starts on, finds the call-log columns by the
`calls` schema, and fingerprints the log (SHA-256 of the file's bytes, or of the Arrow IPC of a
frame) so the report says exactly which log it judged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate.io import Source, load_schema, open_source, resolve_columns

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


def _lines(src: Source, rows: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The file line each row starts on, without a per-row pass when the file allows it.

    If the first row is on line 2 and the last on line `rows + 1`, every row is exactly one
    line (lines only grow, and each row takes at least one), so line = index + 2.
    """
    if rows == 0:
        return np.zeros(0, dtype=np.int64)
    if src.kind != "csv":
        return np.arange(1, rows + 1, dtype=np.int64)
    if src.line_numbers([0, rows - 1], row_count=rows) == [2, rows + 1]:
        return np.arange(2, rows + 2, dtype=np.int64)
    return np.asarray(src.line_numbers(range(rows), row_count=rows), dtype=np.int64)


def read_calls(
    source: Any, *, phone_column: str | None = None, time_column: str = "called_at"
) -> CallLog:
    """Read a call log from a CSV/Parquet path, a DataFrame or an Arrow table.

    Raises:
        InputError: Unreadable source, or no phone / call time column.
    """
    with open_source(source, hash_bytes=True) as src:
        headers = src.columns
        mapping: dict[str, str] = {}
        if phone_column is not None:
            mapping[phone_column] = "phone"
        if time_column != "called_at" or "called_at" in headers:
            mapping[time_column] = "called_at"
        columns = resolve_columns(headers, load_schema("calls"), columns=mapping, file=src.name)
        table = src.to_arrow()
        lines = _lines(src, table.num_rows)
        digest = src.sha256()
        of = "Arrow IPC stream" if src.kind == "arrow" else "file bytes"
        name = src.name if src.path is None else src.path.name
    table = table.append_column(RID, pa.array(np.arange(table.num_rows), pa.int64()))
    table = table.append_column(LINE, pa.array(lines, pa.int64()))
    return CallLog(table, name, columns, tuple(headers), digest, of)

"""The call log as the audit sees it: a `optin_gate.io.Source`, its columns, its file lines.

Reading files (encodings, delimiters, header aliases) is `optin_gate.io`'s job; this module
finds the call-log columns by the `calls` schema, describes the log for the method section
(name, SHA-256 of the file's bytes or of the Arrow IPC of a frame) and says on which file line
each row starts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.io import Source, load_schema, open_source, resolve_columns

__all__ = ["LINES_TABLE", "RID", "CallLog", "LineSql", "open_calls"]

RID = "__og_rid"  # 0-based position of a row in the log, added to the log's relation
LINES_TABLE = "og_audit_lines"  # (rid, line) when lines are not simply rid + 2


@dataclasses.dataclass(frozen=True)
class LineSql:
    """SQL for a row's file line: `rid + offset`, or (offset None) a join on `LINES_TABLE`."""

    offset: int | None

    def select(self, rid: str) -> str:
        """The line of the row whose position is the SQL expression `rid`."""
        return f"({rid} + {self.offset})" if self.offset is not None else "og_lines.line"

    def join(self, rid: str) -> str:
        """The join clause `select` needs (empty when the line is arithmetic)."""
        if self.offset is not None:
            return ""
        return f"LEFT JOIN {LINES_TABLE} og_lines ON og_lines.rid = {rid}"


@dataclasses.dataclass(frozen=True)
class CallLog:
    """A call log opened for the audit (close `source` when done).

    Attributes:
        source: The opened file or frame.
        name: The file's base name, or `<DataFrame>` / `<Table>`.
        columns: Canonical call-log column -> the log's own header, for those present.
        user_columns: The log's own headers, in order.
    """

    source: Source
    name: str
    columns: dict[str, str]
    user_columns: tuple[str, ...]

    def describe(self, rows: int) -> dict[str, Any]:
        """The call log's entry in the method section."""
        return {
            "source": self.name,
            "sha256": self.source.sha256(),
            "sha256_of": "Arrow IPC stream" if self.source.kind == "arrow" else "file bytes",
            "rows_read": rows,
            "columns": {name: self.columns.get(name) for name in load_schema("calls").names},
        }

    def lines(self, con: duckdb.DuckDBPyConnection, rows: int) -> LineSql:
        """How to get the file line of a row from its position `rid`, as SQL.

        If the first row starts on line 2 and the last on line `rows + 1`, every row is one
        line (lines only grow and each row takes at least one), so the line is `rid + 2`: no
        pass over the file. Otherwise (quoted fields with newlines, blank lines) the lines
        come from `Source.line_numbers` as a table joined on `rid`.
        """
        if self.source.kind != "csv":
            return LineSql(1)
        if rows == 0 or self.source.line_numbers([0, rows - 1], row_count=rows) == [2, rows + 1]:
            return LineSql(2)
        lines = np.asarray(self.source.line_numbers(range(rows), row_count=rows), np.int64)
        table = pa.table({"rid": np.arange(rows, dtype=np.int64), "line": lines})
        con.register(LINES_TABLE, table)
        return LineSql(None)


def open_calls(
    source: Any, *, phone_column: str | None = None, time_column: str = "called_at"
) -> CallLog:
    """Open a call log (CSV/Parquet path, DataFrame, Arrow table) and find its columns.

    Raises:
        InputError: Unreadable source, or no phone / call time column (the message names
            the columns found and the mapping that would fix it).
    """
    src = open_source(source, hash_bytes=True)
    try:
        headers = src.columns
        mapping: dict[str, str] = {}
        if phone_column is not None:
            mapping[phone_column] = "phone"
        if time_column != "called_at" or "called_at" in headers:
            mapping[time_column] = "called_at"
        columns = resolve_columns(headers, load_schema("calls"), columns=mapping, file=src.name)
    except BaseException:
        src.close()
        raise
    name = src.name if src.path is None else src.path.name
    return CallLog(src, name, columns, tuple(headers))

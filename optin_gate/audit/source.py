"""The call log as the audit sees it: a `optin_gate.io.Source`, its columns, its file lines.

Reading files (encodings, delimiters, header aliases) is `optin_gate.io`'s job; this module
finds the call-log columns by the `calls` schema, describes the log for the method section
(name, SHA-256 of the file's bytes or of the Arrow IPC of a frame) and says on which file line
each row starts.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate.io import Source, load_schema, open_source, resolve_columns
from optin_gate.io.lines import csv_lines
from optin_gate.io.transcode import scan_file

__all__ = ["CallLog", "open_calls"]


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
    scan: Future[tuple[str, int | None]]

    def describe(self, rows: int) -> dict[str, Any]:
        """The call log's entry in the method section (a workbook's also names its sheet)."""
        sheet = {"sheet": self.source.sheet.name} if self.source.sheet is not None else {}
        return {
            "source": self.name,
            **sheet,
            "sha256": self.scan.result()[0],
            "sha256_of": "Arrow IPC stream" if self.source.kind == "arrow" else "file bytes",
            "rows_read": rows,
            "columns": {name: self.columns.get(name) for name in load_schema("calls").names},
        }

    def one_line_each(self, rows: int) -> bool:
        """Whether each of the log's `rows` rows is one file line (its line: position + 2).

        So if the file has one more line than rows (lines only grow and each row takes at
        least one): no pass over the file. A frame's rows are no lines (False).
        """
        if self.source.kind != "csv" or self.source.csv is None:
            return False
        physical = self.scan.result()[1]
        if physical is not None:
            return physical == rows + 1 or rows == 0
        ends = self.source.line_numbers([0, rows - 1], row_count=rows) if rows else []
        return ends in ([], [2, rows + 1])

    def lines(self, rows: int, start: int = 0, *, one_line_each: bool | None = None) -> pa.Array:
        """The file line each of `rows` rows from `start` on starts on (int64, by position).

        A frame's line is its 1-based row, a workbook's the sheet's Excel row. Otherwise the
        lines are counted (quoted fields with newlines, blank lines), unless each row is one
        line.

        Args:
            rows: How many rows.
            start: The position of the first.
            one_line_each: Whether each row of the log is one line, if known; by default
                these rows are the log's last (`one_line_each`).
        """
        if self.source.sheet is not None:
            return self.source.sheet.rows.slice(start, rows)
        positions = np.arange(start, start + rows, dtype=np.int64)
        if self.source.kind != "csv" or self.source.csv is None:
            return pa.array(positions + 1)
        if one_line_each is None:
            one_line_each = self.one_line_each(start + rows)
        if one_line_each:
            return pa.array(positions + 2)
        wanted = range(start, start + rows)
        if self.scan.result()[1] is None:
            lines = self.source.line_numbers(wanted)
        else:
            assert self.source.path is not None
            found = csv_lines(self.source.path, self.source.csv.delimiter, wanted)
            lines = [found.get(i, i + 2) for i in wanted]
        return pa.array(np.asarray(lines, np.int64))


def _fingerprint(src: Source) -> tuple[str, int | None]:
    """(SHA-256 of the log, its physical line count when this pass counted it)."""
    if src.kind == "csv" and not src.utf8_verified and src.path is not None:
        # Opened unchecked (DuckDB checks UTF-8 as it reads): one pass hashes and counts.
        scan = scan_file(src.path, check_utf8=False)
        return scan.sha256, scan.newlines + (0 if scan.ends_with_newline else 1)
    return src.sha256(), None


def open_calls(
    source: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    verify_utf8: bool = False,
    sheet: str | int | None = None,
) -> CallLog:
    """Open a call log (CSV/Parquet/workbook path, DataFrame, Arrow table), find its columns.

    The log is fingerprinted (SHA-256, line count) on a thread of its own while it is read.
    Unless `verify_utf8`, a CSV that looks like UTF-8 is not checked byte by byte up front:
    DuckDB checks as it reads, and `Source.is_encoding_error` says when to open it again with
    `verify_utf8=True`.

    Raises:
        InputError: Unreadable source, or no phone / call time column (the message names
            the columns found and the mapping that would fix it).
    """
    src = open_source(source, verify_utf8=verify_utf8, sheet=sheet)
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
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optin-gate-scan")
    scan = pool.submit(_fingerprint, src)
    pool.shutdown(wait=False)  # the scan runs on while the log is read
    return CallLog(src, name, columns, tuple(headers), scan)

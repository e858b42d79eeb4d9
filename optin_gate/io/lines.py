"""File line numbers of CSV rows, computed only for the rows that need one (rejects, errors).

A row's line is its index + 2 (after the header line) unless the file has quoted fields with
newlines, a multi-line header or blank lines (which DuckDB skips). If the file's line count
says each row is one line, that shortcut is exact; otherwise a `csv` pass tracks
`reader.line_num` up to the last row asked for.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["csv_lines"]


def csv_lines(
    path: Path,
    delimiter: str,
    rows: Iterable[int],
    *,
    row_count: int | None = None,
    physical_lines: int | None = None,
) -> dict[int, int]:
    """Map 0-based data-row indices to the 1-based line on which each row starts.

    Args:
        path: A UTF-8 CSV file (the transcoded copy for other encodings: same lines).
        delimiter: Its delimiter.
        rows: The row indices wanted.
        row_count: How many data rows the file has, if known.
        physical_lines: How many lines the file has, if known.

    Returns:
        index -> line, for every wanted index that exists in the file.
    """
    wanted = sorted(set(rows))
    if not wanted:
        return {}
    if row_count is not None and physical_lines is not None and physical_lines == row_count + 1:
        return {i: i + 2 for i in wanted if i < row_count}
    csv.field_size_limit(sys.maxsize)
    found: dict[int, int] = {}
    targets = iter(wanted)
    target = next(targets)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True)
        if next(reader, None) is None:
            return {}
        index = 0
        while True:
            start = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                break
            if not record:
                continue  # a blank line: DuckDB skips it, so it is no row
            if index == target:
                found[index] = start
                target = next(targets, -1)
                if target == -1:
                    return found
            index += 1
    return found

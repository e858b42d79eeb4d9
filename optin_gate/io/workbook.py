"""Workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods): one sheet read straight into Arrow.

fastexcel parses the sheet in Rust (calamine) and hands back Arrow columns, so a list of a
million rows never becomes Python objects. Every cell is read as text, the way Excel holds its
value: a phone stored as a number gives its digits (`601234567`, never `601234567.0` or
`6.01E+08`), a date cell its ISO date and time; a date column typed as plain numbers holds
Excel serials, which `io.dates` reads for workbooks. Rows keep their Excel numbers (1-based),
so a reject names `Seznam!12` as Excel shows it. Empty rows are left out, and title rows
above the header (a single cell, often merged across the columns) are skipped.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optin_gate.errors import InputError
from optin_gate.io.dates import EXCEL_EPOCH
from optin_gate.io.sniff import WORKBOOK_EXTENSIONS, header_names

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Sheet", "header_index", "read_sheet"]

_SCAN = 50  # the non-empty rows at the top that may hold titles and the header
_FIX = "open it in Excel and save it again as .xlsx, or export the sheet as CSV"


@dataclasses.dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook, read.

    Attributes:
        name: The sheet's name as the workbook spells it.
        table: The rows below the header, empty rows left out; every column is text.
        rows: Each row's 1-based Excel row number (int64), in table order.
        header_row: The header's Excel row number.
        epoch: The day a date serial 0 stands for (ISO): 1904-01-01 in a workbook saved with
            the 1904 date system (old Mac Excel), else 1899-12-30.
    """

    name: str
    table: pa.Table
    rows: pa.Array
    header_row: int
    epoch: str = EXCEL_EPOCH


def header_index(rows: Sequence[Sequence[str | None]]) -> int:
    """Which of a sheet's first non-empty rows is its header.

    The first row with two or more filled cells: rows above it with a single cell are titles
    (often merged across the columns). A row followed by a fuller row of names (every cell
    holds a letter, so no phone or date) holds group labels, each merged over the names below
    it, and the names are the header. When no row has two, the list has one column: its
    header is the last of the rows above the first number (titles, then the name).
    """
    filled = [[cell for cell in row if cell is not None and cell.strip()] for row in rows]
    first = next((i for i, cells in enumerate(filled) if len(cells) >= 2), None)
    if first is None:
        data = next((i for i, cells in enumerate(filled) if not _names(cells)), 0)
        return max(data - 1, 0)
    while first + 1 < len(filled) and _names_below(filled[first], filled[first + 1]):
        first += 1
    return first


def _names(cells: Sequence[str]) -> bool:
    """Every cell holds a letter: names or titles, no phone number or date."""
    return all(any(c.isalpha() for c in cell) for cell in cells)


def _names_below(labels: Sequence[str], below: Sequence[str]) -> bool:
    return len(below) > len(labels) and _names(below)


def read_sheet(path: Path, *, name: str, sheet: str | int | None = None) -> Sheet:
    """Read one sheet: the one named or numbered (from 1), else the first shown that has data.

    Args:
        path: The workbook.
        name: How messages name the file.
        sheet: A sheet name, or its number counted from 1 as the tabs are; a text of digits
            that is no sheet's name is a number.

    Raises:
        InputError: Encrypted, damaged or not a workbook; no such sheet; the sheet is empty.
    """
    import fastexcel

    try:
        # calamine picks the format by the name's extension; a workbook with another name
        # is handed over as bytes, and the format is told by content.
        data: str | bytes = str(path)
        if path.suffix.lower() not in WORKBOOK_EXTENSIONS:
            data = path.read_bytes()
        reader = fastexcel.read_excel(data)
        names = list(reader.sheet_names)
        if sheet is not None:
            index = _sheet_index(names, sheet, name)
            batch, columns, _, errors = _load(reader, index)
            found = _found(batch)
            if found is None:
                raise InputError(
                    "the sheet is empty",
                    file=name,
                    sheet=names[index],
                    hint=f"pick the sheet that holds the list with --sheet ({_listing(names)})",
                )
            batch = _with_errors(batch, errors)
            return _sheet(batch, columns, names[index], found, name, epoch=_epoch(data))
        for index, title in enumerate(names):
            batch, columns, visible, errors = _load(reader, index)
            # A hidden sheet (a lookup table, an old copy) is not the list the operator sees.
            found = _found(batch) if visible else None
            if found is not None:
                batch = _with_errors(batch, errors)
                return _sheet(batch, columns, title, found, name, epoch=_epoch(data))
    except fastexcel.FastExcelError as exc:
        raise _unreadable(exc, name) from None
    raise InputError(
        "the workbook has no sheet with data",
        file=name,
        hint="put the list on a sheet (a header row, then one row per number); hidden sheets "
        f"are read only when named with --sheet ({_listing(names)})",
    )


def _listing(names: Sequence[str]) -> str:
    return "its sheets: " + ", ".join(f"{i} {n!r}" for i, n in enumerate(names, start=1))


def _sheet_index(names: list[str], sheet: str | int, file: str) -> int:
    if isinstance(sheet, str) and sheet in names:
        return names.index(sheet)
    text = str(sheet).strip()
    if text.isdigit() and 1 <= int(text) <= len(names):
        return int(text) - 1
    raise InputError(
        f"the workbook has no sheet {sheet!r}",
        file=file,
        hint="pass --sheet (Python: sheet=) a name as spelled or a number from 1 "
        f"({_listing(names)})",
    )


def _load(reader: Any, index: int) -> tuple[pa.RecordBatch, list[int], bool, Any]:
    """The sheet from its row 1 on (row i is Excel row i + 1), every cell as text.

    Also whether the sheet is visible, and its error cells (`#N/A`), empty in the batch.
    """
    loaded = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string")
    columns = [c.absolute_index for c in loaded.available_columns()]
    batch, errors = loaded.to_arrow_with_errors()
    return batch, columns, loaded.visible == "visible", errors


# calamine's names for Excel's error values, as Excel shows them
_ERROR_TEXT = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
    "GettingData": "#GETTING_DATA",
}
_ERROR = re.compile(r"\bError\((\w+)\)")


def _with_errors(batch: pa.RecordBatch, errors: Any) -> pa.RecordBatch:
    """The batch with each error cell holding its text, as a CSV export of the sheet does.

    Empty, `#REF!` in a withdrawal or an end date would read as "never withdrawn"; as text it
    is a reject, like any value that is no date. A row of errors alone (formulas filled down
    past the list) was found empty before this and stays left out.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells: dict[int, dict[int, str]] = {}
    for error in errors.errors if errors is not None else ():
        kind = _ERROR.search(error.detail)
        if kind is not None:
            row, column = error.position
            cells.setdefault(column, {})[row] = _ERROR_TEXT.get(kind.group(1), "#ERROR")
    if not cells:
        return batch
    arrays = list(batch.columns)
    for column, texts in cells.items():
        mask = np.zeros(batch.num_rows, dtype=bool)
        mask[list(texts)] = True
        values = pa.array([texts[row] for row in sorted(texts)], type=arrays[column].type)
        arrays[column] = pc.replace_with_mask(arrays[column], pa.array(mask), values)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _filled(batch: pa.RecordBatch) -> np.ndarray:
    """Per row: some cell holds more than whitespace."""
    import pyarrow.compute as pc

    filled = np.zeros(batch.num_rows, dtype=bool)
    for column in batch.columns:
        if column.null_count == len(column):
            continue
        blank = pc.or_(pc.equal(pc.binary_length(column), 0), pc.utf8_is_space(column))
        filled |= pc.fill_null(pc.invert(blank), False).to_numpy(zero_copy_only=False)
    return filled


@dataclasses.dataclass(frozen=True)
class _Found:
    filled: np.ndarray  # 0-based positions of the non-empty rows
    header: int  # the header's position


def _found(batch: pa.RecordBatch) -> _Found | None:
    """Where the header and the filled rows are; None for an empty sheet."""
    filled = np.flatnonzero(_filled(batch))
    if not len(filled):
        return None
    top = batch.take(filled[:_SCAN]).to_pylist()
    first = header_index([list(row.values()) for row in top])
    return _Found(filled, int(filled[first]))


def _sheet(
    batch: pa.RecordBatch, columns: list[int], title: str, found: _Found, file: str, *, epoch: str
) -> Sheet:
    import pyarrow as pa

    data = found.filled[found.filled > found.header]
    if len(data) == batch.num_rows - found.header - 1:  # no empty row: a view, no copy
        body = batch.slice(found.header + 1)
    else:
        body = batch.take(pa.array(data))
    cells = {
        columns[j] + 1: batch.column(j)[found.header].as_py() for j in range(batch.num_columns)
    }
    keep = [
        j
        for j, cell in enumerate(cells.values())
        if (cell is not None and cell.strip()) or body.column(j).null_count < body.num_rows
    ]
    header = header_names(
        {c: v for j, (c, v) in enumerate(cells.items()) if j in keep},
        file=file,
        line=found.header + 1,
        sheet=title,
    )
    table = pa.Table.from_batches([body.select(keep)]).rename_columns(list(header))
    rows = pa.array(data + 1, type=pa.int64())
    return Sheet(title, table, rows, found.header + 1, epoch)


# The date system is a workbook setting fastexcel applies to date cells but does not expose;
# a plain number in a date column needs it too. .xlsx/.xlsm keep it in the workbook part,
# .ods in its calculation settings (before the tables, so the head of content.xml).
_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904=\"(?:1|true)\"")
_NULL_DATE = re.compile(rb"<table:null-date\b[^>]*\btable:date-value=\"(\d{4}-\d\d-\d\d)")


def _epoch(data: str | bytes) -> str:
    """The day the workbook's date serial 0 stands for (ISO)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as book:
            parts = set(book.namelist())
            if "xl/workbook.xml" in parts:
                found = _DATE1904.search(book.read("xl/workbook.xml"))
                return "1904-01-01" if found else EXCEL_EPOCH
            if "content.xml" in parts:
                with book.open("content.xml") as content:
                    null = _NULL_DATE.search(content.read(1 << 20))
                return null.group(1).decode() if null else EXCEL_EPOCH
    except zipfile.BadZipFile:  # an .xls: an OLE file
        pass
    return EXCEL_EPOCH


def _unreadable(exc: Exception, file: str) -> InputError:
    """The reader's complaint as one line; its text names no cell, so no phone leaks."""
    text = str(exc)
    lowered = text.lower()
    if "password" in lowered or "encrypt" in lowered:
        return InputError(
            "the workbook is protected by a password",
            file=file,
            hint="save a copy without the password (File > Info > Protect Workbook)",
        )
    if "sheet" in lowered and "not found" in lowered:
        return InputError("the sheet cannot be found", file=file, hint=_FIX)
    first = text.splitlines()[0] if text else type(exc).__name__
    reason = first.split(":", 1)[-1].strip()
    return InputError(
        f"the workbook cannot be read: it is damaged or not a workbook ({reason})",
        file=file,
        hint=_FIX,
    )

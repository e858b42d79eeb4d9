"""Workbooks the tests write themselves: .xlsx/.xlsm (openpyxl), .xls (xlwt), .ods (odfpy).

No Python library writes .xlsb; the reader (calamine) shares its sheet-to-Arrow path with the
other formats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FORMATS = (".xlsx", ".xlsm", ".xls", ".ods")

Rows = Sequence[Any]  # rows of cells: text, numbers, dates, None


def write_book(path: Path, sheets: Mapping[str, Rows], *, merged_title: bool = False) -> Path:
    """Write `sheets` (name -> rows from row 1; None is an empty cell) in the path's format.

    Args:
        path: Ends in .xlsx, .xlsm, .xls or .ods.
        sheets: In tab order. Numbers are stored as numbers, datetimes and dates as date
            cells (formatted as dates), text as text.
        merged_title: Merge each sheet's first row across the widest row, as a title is.
    """
    writer = {".xlsx": _openpyxl, ".xlsm": _openpyxl, ".xls": _xlwt, ".ods": _odf}[path.suffix]
    writer(path, sheets, merged_title)
    return path


def _width(rows: Rows) -> int:
    return max((len(r) for r in rows), default=1)


def _openpyxl(path: Path, sheets: Mapping[str, Rows], merged: bool) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(r, c, value)
        if merged and rows:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=_width(rows))
    book.save(path)


def _xlwt(path: Path, sheets: Mapping[str, Rows], merged: bool) -> None:
    import xlwt

    book = xlwt.Workbook()
    when = xlwt.easyxf(num_format_str="DD.MM.YYYY HH:MM")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            if merged and r == 0:
                sheet.write_merge(0, 0, 0, _width(rows) - 1, row[0])
                continue
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write(r, c, value, when)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))


def _odf(path: Path, sheets: Mapping[str, Rows], merged: bool) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for r, row in enumerate(rows):
            line = TableRow()
            span = _width(rows) if merged and r == 0 else 1
            for c, value in enumerate(row):
                line.addElement(_odf_cell(TableCell, P, value, span if c == 0 else 1))
            for _ in range(span - 1):
                line.addElement(CoveredTableCell())
            table.addElement(line)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


def _odf_cell(cell: Any, para: Any, value: Any, span: int) -> Any:
    more = {"numbercolumnsspanned": span} if span > 1 else {}
    if value is None:
        return cell(**more)
    if isinstance(value, dt.date):
        made = cell(valuetype="date", datevalue=value.isoformat(), **more)
    elif isinstance(value, int | float):
        made = cell(valuetype="float", value=value, **more)
    else:
        made = cell(valuetype="string", **more)
    made.addElement(para(text=str(value)))
    return made

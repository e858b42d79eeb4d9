"""`filter_file`: a call list file to output files (`optin-gate filter`).

Two ways through, by the list's size against DuckDB's memory_limit (`held.fits`):

* `engine.held`: a list that fits in memory with room to spare is parsed once into Arrow,
  decided beside it and its outputs cut from it: no join with its rows, no sort, one read.
* `engine.spilled`: a larger list is held by DuckDB, whose tables and joins spill to its
  temp directory, so lists larger than memory still complete.

Both give the same files. Each output goes to a temporary file in its folder and is renamed
only when every output is complete (`engine.outputs`), so a dialler never picks up half a
list.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from optin_gate._sql import sql_literal
from optin_gate._time import TimeLike, to_utc
from optin_gate.engine import held, spilled
from optin_gate.engine.beside import Beside
from optin_gate.engine.filter import tune
from optin_gate.engine.inputs import NotUtf8, check_output_names, find_phone_column
from optin_gate.engine.outputs import Run, Targets, targets
from optin_gate.engine.progress import ProgressHook, Reporter
from optin_gate.engine.result import summarize
from optin_gate.errors import InputError
from optin_gate.io import file_kind, open_source
from optin_gate.io.paths import check_outputs
from optin_gate.rules import Reason

if TYPE_CHECKING:
    from optin_gate.context import Context

__all__ = ["FileSummary", "ProgressHook", "Way", "filter_file"]

Way = Literal["held", "spilled"]


@dataclasses.dataclass(frozen=True)
class FileSummary:
    """What `filter_file` did: counts per reason and the files written.

    Attributes:
        source: The list as named in messages.
        phone_column: The column the numbers were read from.
        as_of: The decision instant (UTC).
        controller: The company the decisions are for.
        call_type: "live" or "automated".
        rows: Rows in the list.
        permitted: Rows that may be called.
        summary: Rows per reason, in the decision order.
        outputs: "permitted" and/or "decisions" -> the file written.
    """

    source: str
    phone_column: str
    as_of: datetime
    controller: str
    call_type: str
    rows: int
    permitted: int
    summary: dict[Reason, int]
    outputs: dict[str, Path]

    @property
    def denied(self) -> int:
        """Rows that may not be called."""
        return self.rows - self.permitted


def filter_file(
    context: Context,
    source: Any,
    *,
    as_of: TimeLike = None,
    phone_column: str | None = None,
    out: str | os.PathLike[str] | None = None,
    decisions: str | os.PathLike[str] | None = None,
    progress: ProgressHook | None = None,
    settings: Mapping[str, str] | None = None,
    way: Way | None = None,
    excel_safe: bool = False,
    sheet: str | int | None = None,
) -> FileSummary:
    """Filter a call list to files: the permitted rows (`out`) and/or every row (`decisions`).

    Both outputs have the list's columns, untouched, then `e164, allowed, reason, evidence,
    rule_set`, rows in the list's order; CSV (UTF-8, comma) or Parquet by the extension.

    Args:
        context: Supplies the store, controller, policy and call type.
        source: A CSV, Parquet or workbook path (a DataFrame or Arrow table works too).
        as_of: Decision time (default now; no zone means Prague time).
        phone_column: The header of the phone column; found by name when None.
        out: Where to write the permitted rows, or None.
        decisions: Where to write every row with its decision, or None.
        progress: Told what runs and how far it got (for a progress bar).
        settings: DuckDB settings for this run, e.g. {"memory_limit": "1GB",
            "temp_directory": "/big/disk/tmp"}. A list estimated to take more than a
            quarter of memory_limit is held by DuckDB, which spills, instead of in memory.
        way: "held" (in Arrow) or "spilled" (by DuckDB) to choose the way through
            whatever the list's size; None chooses by size. Both write the same files.
        excel_safe: In CSV outputs, make text cells that a spreadsheet would run as formulas
            (starting with =, +, -, @) plain text; the phone and decision columns stay as
            they are.
        sheet: A workbook's sheet, by name or number from 1 (default: the first sheet that
            has data).

    Raises:
        InputError: Unreadable list, no phone column, a taken output column name, a bad
            `as_of` or output name; no output file is written then.
    """
    at = to_utc(as_of, name="as_of")
    outputs = targets(out, decisions)
    check_outputs(
        {"--out": out, "--decisions": decisions}, {"the call list": source, **context.store.files()}
    )
    if way not in (None, "held", "spilled"):
        raise InputError(
            f"unknown way {way!r}", hint="pass 'held', 'spilled' or None (chosen by size)"
        )
    options = _Options(at, phone_column, progress, dict(settings or {}), way, excel_safe, sheet)
    try:
        # DuckDB checks UTF-8 as it reads; the io stage's own pass over every byte is only
        # needed when it complains (a Windows-1250 file whose first megabyte looks like UTF-8).
        return _filter_once(context, source, options, outputs, verify_utf8=False)
    except NotUtf8:
        return _filter_once(context, source, options, outputs, verify_utf8=True)


@dataclasses.dataclass(frozen=True)
class _Options:
    at: datetime
    phone_column: str | None
    progress: ProgressHook | None
    settings: dict[str, str]
    way: Way | None
    excel_safe: bool
    sheet: str | int | None


def _is_workbook(source: Any) -> bool:
    """A path to a workbook (an unreadable path is left to `open_source` to explain)."""
    if not isinstance(source, str | os.PathLike):
        return False
    try:
        return file_kind(source) == "workbook"
    except InputError:
        return False


def _filter_once(
    context: Context,
    source: Any,
    options: _Options,
    outputs: Targets,
    *,
    verify_utf8: bool,
) -> FileSummary:
    with context.store.connect(read_only=True) as con:
        tune(con)
        for key, value in options.settings.items():
            con.execute(f"SET {key} = {sql_literal(str(value))}")
        report = Reporter(con, options.progress)
        # A workbook is parsed whole, on one core, before anything about it is known: the
        # evidence is fetched meanwhile. A CSV or Parquet file opens at once.
        beside = Beside(con, context, options.at, report) if _is_workbook(source) else None
        try:
            with open_source(source, verify_utf8=verify_utf8, sheet=options.sheet) as src:
                if beside is not None:
                    beside.wait()  # the connection is the worker's until then
                phone = find_phone_column(src.columns, options.phone_column, file=src.name)
                check_output_names(src.columns, file=src.name)
                hold = held.fits(con, src) if options.way is None else options.way == "held"
                way = held.filter_held if hold else spilled.filter_spilled
                run = Run(
                    context,
                    src,
                    phone,
                    options.at,
                    outputs,
                    report,
                    options.excel_safe,
                    beside if hold else None,
                )
                counts, written = way(con, run)
        finally:
            if beside is not None:
                beside.close()
    summary = summarize(counts)
    return FileSummary(
        src.name,
        phone,
        options.at,
        context.controller,
        context.call_type,
        sum(summary.values()),
        sum(n for r, n in summary.items() if r.allowed),
        summary,
        written,
    )

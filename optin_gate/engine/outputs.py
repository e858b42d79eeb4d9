"""A filter's output files: where they go, and written so that none is ever seen half done.

Each output is a `COPY` to a temp file beside its target (`optin_gate.io.staged_files`). The
files are renamed into place only when every output is complete and holds the rows the
decisions count, so a dialler never picks up half a list and a failed run leaves yesterday's
files.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from optin_gate.engine.inputs import read_list
from optin_gate.engine.progress import Reporter
from optin_gate.engine.rows import run_in_memory
from optin_gate.errors import InputError
from optin_gate.io import Source, check_target, output_format, staged_files
from optin_gate.io.copy import copy_sql
from optin_gate.rules import DECISION_COLUMNS

if TYPE_CHECKING:
    from optin_gate.context import Context
    from optin_gate.engine.beside import Beside

__all__ = ["Run", "Targets", "targets", "write_outputs"]

# "permitted" and/or "decisions" -> (the file, its format: csv, tsv or parquet).
Targets = dict[str, tuple[Path, str]]


@dataclasses.dataclass(frozen=True)
class Run:
    """One file filter run, as both ways through take it (`engine.held`, `engine.spilled`).

    Attributes:
        context: Supplies the controller, the policy and the call type.
        src: The list.
        phone: Its phone column.
        at: The decision instant (UTC).
        targets: The outputs to write.
        report: Told what runs.
        excel_safe: Make text cells that a spreadsheet would run as formulas plain text in
            CSV outputs, all but the phone and decision columns (`optin_gate.io.copy`).
        beside: The plan and evidence made while a slow list was read (held way only).
    """

    context: Context
    src: Source
    phone: str
    at: datetime
    targets: Targets
    report: Reporter
    excel_safe: bool = False
    beside: Beside | None = None

    def kept_as_written(self) -> tuple[str, ...] | None:
        """The columns `excel_safe` leaves alone; None when it is off."""
        return (self.phone, *DECISION_COLUMNS) if self.excel_safe else None


def _target(path: str | os.PathLike[str]) -> tuple[Path, str]:
    fmt = output_format(path)
    return check_target(path), fmt


def targets(
    out: str | os.PathLike[str] | None, decisions: str | os.PathLike[str] | None
) -> Targets:
    """The outputs asked for, checked before anything is read.

    Raises:
        InputError: A folder that does not exist, an unknown extension, or one file for both.
    """
    found = {
        key: _target(path)
        for key, path in (("permitted", out), ("decisions", decisions))
        if path is not None
    }
    if len({p.resolve() for p, _ in found.values()}) < len(found):
        raise InputError(
            "the permitted rows and the decisions would go to the same file",
            file=str(out),
            hint="give --out and --decisions different names",
        )
    return found


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    queries: Mapping[str, str],
    *,
    targets: Targets,
    report: Reporter,
    expected: Mapping[str, int],
    excel_safe: Collection[str] | None = None,
) -> dict[str, Path]:
    """COPY each output's query to a temp file beside it; rename them all once all are done.

    Args:
        con: The connection the queries run on.
        src: The list (its read errors are told as on its lines).
        queries: Per output in `targets`: the query giving its rows, in order.
        targets: The outputs.
        report: Told which output is written.
        expected: Per output: the rows it must hold (the decisions' counts). A list that
            grew or shrank between two reads fails the run, and nothing is renamed.
        excel_safe: None, or the columns a CSV output keeps as they are while other text
            cells that start like a formula are made text (`optin_gate.io.copy`).

    Returns:
        Per output: the file written.
    """
    with staged_files() as files:
        for key, (target, fmt) in targets.items():
            tmp = str(files.temp(target))
            sql = copy_sql(con, queries[key], tmp, fmt, excel_safe=excel_safe)
            report.step(f"writing the {key} rows to {target.name}")
            with report.watching():
                ((rows,),) = read_list(src, functools.partial(run_in_memory, con, sql))
            if rows != expected[key]:
                raise InputError(
                    f"the list changed while it was read ({rows:,} rows for "
                    f"{expected[key]:,} decisions)",
                    file=src.name,
                    hint="filter a copy that nothing else writes to",
                )
    return {key: target for key, (target, _) in targets.items()}

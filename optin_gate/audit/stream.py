"""`audit_file`: a call log judged straight to report files (`optin-gate audit`).

The `Audit` pipeline (`run.judge`) reads the log once into Arrow (its own columns, plus what
the decisions need), a part at a time if it does not fit in memory, and decides every call;
the decisions sit beside the log's columns by position in one Arrow table, and `COPY` writes
the violating rows from it on every core, in file order (DuckDB preserves insertion order),
with their file lines. DuckDB's memory limit is
lowered for the run (`MEMORY_LIMIT`), so its joins spill to disk instead of filling memory.
The report keeps the figures, not the calls. Output paths are checked before any work; the
files are written to temp files beside them and renamed into place together once all are
complete (`optin_gate.io.staged_files`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from optin_gate._runtime import duckdb_config
from optin_gate._sql import sql_literal
from optin_gate.audit.exposure import check_turnover
from optin_gate.audit.parts import duckdb_share
from optin_gate.audit.pipeline import Audit, P
from optin_gate.audit.read import ADDED_COLUMNS
from optin_gate.audit.report import AuditReport, html_text, json_text
from optin_gate.audit.run import Judged, judge, with_log
from optin_gate.audit.source import CallLog
from optin_gate.io import Staged, check_target, output_format, staged_files
from optin_gate.io.copy import copy_sql
from optin_gate.io.paths import check_outputs

if TYPE_CHECKING:
    from optin_gate.context import Context

__all__ = ["MEMORY_LIMIT", "audit_file"]

# DuckDB's memory limit while a file audit runs: beyond it, temp tables spill to disk.
MEMORY_LIMIT = "1.5GB"

Step = Callable[[str], None]


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _bytes(setting: str) -> float | None:
    """'18.8 GiB' -> bytes (None if unreadable)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", setting)
    if not match or match.group(2).upper() not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).upper()]


@contextlib.contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """Lower DuckDB's memory limit for the block (never raise it), then restore it."""
    before = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    current, wanted = _bytes(before), _bytes(limit)
    if current is not None and wanted is not None and current <= wanted:
        yield
        return
    con.execute(f"SET memory_limit = {sql_literal(limit)}")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = {sql_literal(before)}")


def audit_file(
    context: Context,
    calls: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    turnover: float | None = None,
    violations: str | os.PathLike[str] | None = None,
    json_path: str | os.PathLike[str] | None = None,
    html_path: str | os.PathLike[str] | None = None,
    on_step: Step | None = None,
    excel_safe: bool = False,
    sheet: str | int | None = None,
) -> AuditReport:
    """Audit a call log and write the requested files; the report keeps no calls in memory.

    Args:
        context: Supplies the store, the policy and the controller for calls whose log names none.
        calls: A CSV, Parquet or workbook path (or a DataFrame / Arrow table).
        phone_column: The phone column's name when it is not recognised by name.
        time_column: The call time column's name.
        turnover: Net turnover in CZK for the statutory exposure.
        violations: Where to write every violating call (.csv or .parquet), if anywhere.
        json_path: Where to write the JSON report, if anywhere.
        html_path: Where to write the HTML report, if anywhere.
        on_step: Called with a short label as each phase starts (progress displays).
        excel_safe: In a CSV of violations, make text cells that a spreadsheet would run as
            formulas plain text (`optin_gate.io.copy`); the phone and decision columns stay.
        sheet: A workbook's sheet, by name or number from 1 (default: the first sheet that
            has data).

    Returns:
        The report: figures, unusable rows and the first violations (`calls` is not kept).

    Raises:
        InputError: Unreadable log, missing columns, or an output path that cannot be written.
    """
    step = on_step or (lambda label: None)
    turnover = check_turnover(turnover)
    for path in (violations, json_path, html_path):
        if path is not None:
            check_target(path)
    check_outputs(
        {"--violations": violations, "--json": json_path, "--html": html_path},
        {"the call log": calls, **context.store.files()},
    )
    fmt = output_format(violations) if violations is not None else ""
    with staged_files() as files:
        written = None
        if violations is not None:
            written = _Violations(files, Path(violations), fmt, excel_safe=excel_safe)

        def write(audit: Audit, first: bool) -> None:
            assert written is not None
            step(f"writing {written.target.name}")
            written.add(audit, first)

        def run(log: CallLog) -> Judged:
            limit = functools.partial(_memory_limit, limit=_duckdb_limit())
            return judge(
                context,
                log,
                turnover=turnover,
                write=write if written is not None else None,
                limit=limit,
                step=step,
            )

        try:
            report = with_log(
                calls, run, phone_column=phone_column, time_column=time_column, sheet=sheet
            ).report()
            if written is not None:
                written.done()
        finally:
            if written is not None:
                written.discard()
        if json_path is not None:
            files.temp(json_path).write_text(json_text(report), encoding="utf-8")
        if html_path is not None:
            step(f"writing {Path(html_path).name}")
            files.temp(html_path).write_text(html_text(report), encoding="utf-8")
    return report


def _duckdb_limit() -> str:
    """DuckDB's memory limit for the run: `MEMORY_LIMIT`, or less if the parts need room."""
    share = f"{duckdb_share() >> 20}MiB"
    return share if (_bytes(share) or 0) < (_bytes(MEMORY_LIMIT) or 0) else MEMORY_LIMIT


class _Violations:
    """The violations file, written part by part (`run.judge`) to its staged temp file.

    A later part's CSV rows (no header) are appended to it; a later part's Parquet is a file
    of its own, and `done` puts them together in the log's order.
    """

    def __init__(self, files: Staged, target: Path, fmt: str, *, excel_safe: bool) -> None:
        self.files, self.target, self.fmt, self.excel_safe = files, target, fmt, excel_safe
        self.path: Path | None = None  # the staged temp file (renamed over the target)
        self.parts = Staged()  # the later parts' own temp files, never renamed
        self.later: list[Path] = []

    def add(self, audit: Audit, first: bool) -> None:
        """COPY the part's violating calls (the log's columns, then the audit's).

        The log's columns and the decisions are one Arrow table in the log's order: DuckDB
        scans it on every core and keeps the order (insertion order is preserved).

        Args:
            audit: The decided part.
            first: The log's first part (written afresh: the log may be read again).
        """
        query = (
            f"SELECT {audit.own_sql()}, {audit.added_sql()} FROM {audit.out} a "
            f"WHERE NOT a.{P}allowed"
        )
        phone = audit.log.columns.get("phone", "")
        keep = (*ADDED_COLUMNS, phone) if self.excel_safe else None
        if first or self.path is None:
            self.discard()
            if self.path is None:
                self.path = self.files.temp(self.target)
            self.path.unlink(missing_ok=True)
            audit.con.execute(copy_sql(audit.con, query, str(self.path), self.fmt, excel_safe=keep))
            return
        part = self.parts.temp(self.target)
        parquet = self.fmt == "parquet"
        sql = copy_sql(audit.con, query, str(part), self.fmt, excel_safe=keep, header=parquet)
        audit.con.execute(sql)
        if parquet:
            self.later.append(part)
            return
        with self.path.open("ab") as out, part.open("rb") as rows:
            shutil.copyfileobj(rows, out, 1 << 20)
        part.unlink()

    def done(self) -> None:
        """Put the Parquet parts together in the staged temp file."""
        if not self.later:
            return
        assert self.path is not None
        whole = self.parts.temp(self.target)
        files = ", ".join(sql_literal(str(f)) for f in [self.path, *self.later])
        with duckdb.connect(config=duckdb_config()) as con:
            query = f"SELECT * FROM read_parquet([{files}])"
            con.execute(copy_sql(con, query, str(whole), "parquet"))
        os.replace(whole, self.path)

    def discard(self) -> None:
        """Remove the later parts' files."""
        self.parts.discard()
        self.later = []

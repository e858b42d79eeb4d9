"""`audit_file`: a call log judged straight to report files (`optin-gate audit`).

The `Audit` pipeline (`run.judge`) reads the log once into Arrow (its own columns, plus what
the decisions need) and decides every call; the decisions sit beside the log's columns by
position in one Arrow table, and `COPY` writes the violating rows from it on every core, in
file order (DuckDB preserves insertion order), with their file lines. DuckDB's memory limit is
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optin_gate._sql import sql_literal
from optin_gate.audit.exposure import check_turnover
from optin_gate.audit.pipeline import Audit, P
from optin_gate.audit.read import ADDED_COLUMNS
from optin_gate.audit.report import AuditReport, html_text, json_text
from optin_gate.audit.run import Judged, judge, with_log
from optin_gate.audit.source import CallLog
from optin_gate.io import Staged, check_target, output_format, staged_files
from optin_gate.io.copy import copy_sql
from optin_gate.io.paths import check_outputs

if TYPE_CHECKING:
    import duckdb

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
) -> AuditReport:
    """Audit a call log and write the requested files; the report keeps no calls in memory.

    Args:
        context: Supplies the store, the policy and the controller for calls whose log names none.
        calls: A CSV or Parquet path (or a DataFrame / Arrow table).
        phone_column: The phone column's name when it is not recognised by name.
        time_column: The call time column's name.
        turnover: Net turnover in CZK for the statutory exposure.
        violations: Where to write every violating call (.csv or .parquet), if anywhere.
        json_path: Where to write the JSON report, if anywhere.
        html_path: Where to write the HTML report, if anywhere.
        on_step: Called with a short label as each phase starts (progress displays).
        excel_safe: In a CSV of violations, make text cells that a spreadsheet would run as
            formulas plain text (`optin_gate.io.copy`); the phone and decision columns stay.

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

        def write(audit: Audit) -> None:
            if violations is not None:
                step(f"writing {Path(violations).name}")
                _copy_violations(audit, files, Path(violations), fmt, excel_safe=excel_safe)

        def run(log: CallLog) -> Judged:
            limit = functools.partial(_memory_limit, limit=MEMORY_LIMIT)
            return judge(context, log, turnover=turnover, write=write, limit=limit, step=step)

        report = with_log(calls, run, phone_column=phone_column, time_column=time_column).report()
        if json_path is not None:
            files.temp(json_path).write_text(json_text(report), encoding="utf-8")
        if html_path is not None:
            step(f"writing {Path(html_path).name}")
            files.temp(html_path).write_text(html_text(report), encoding="utf-8")
    return report


def _copy_violations(
    audit: Audit, files: Staged, target: Path, fmt: str, *, excel_safe: bool
) -> None:
    """COPY the violating calls (the log's columns, then the audit's) to a temp beside `target`.

    The log's columns and the decisions are one Arrow table in the log's order: DuckDB scans
    it on every core and keeps the order (insertion order is preserved), no join, no sort.
    """
    tmp = str(files.temp(target))
    query = (
        f"SELECT {audit.own_sql()}, {audit.added_sql()} FROM {audit.out} a WHERE NOT a.{P}allowed"
    )
    keep = None if not excel_safe else (*ADDED_COLUMNS, audit.log.columns.get("phone", ""))
    audit.con.execute(copy_sql(audit.con, query, tmp, fmt, excel_safe=keep))

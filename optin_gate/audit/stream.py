"""`audit_file`: a call log judged straight to report files (`optin-gate audit`).

The log is read once into Arrow and audited like `run_audit`, but only the violating calls
come back from DuckDB (in file order, with their file lines) and go to the violations file;
the report keeps the figures, not the calls. Output paths are checked before any work; each
file is written to a temp file beside it and renamed when complete, never half written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optin_gate.audit._files import check_target
from optin_gate.audit.exposure import check_turnover
from optin_gate.audit.report import AuditReport
from optin_gate.audit.run import judge
from optin_gate.audit.source import open_calls
from optin_gate.io import output_format, write_table

if TYPE_CHECKING:
    from optin_gate.gate import Gate

__all__ = ["audit_file"]

Step = Callable[[str], None]


def audit_file(
    gate: Gate,
    calls: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    turnover: float | None = None,
    violations: str | os.PathLike[str] | None = None,
    json_path: str | os.PathLike[str] | None = None,
    html_path: str | os.PathLike[str] | None = None,
    on_step: Step | None = None,
) -> AuditReport:
    """Audit a call log and write the requested files; the report keeps no calls in memory.

    Args:
        gate: Supplies the store, the policy and the controller for calls whose log names none.
        calls: A CSV or Parquet path (or a DataFrame / Arrow table).
        phone_column: The phone column's name when it is not recognised by name.
        time_column: The call time column's name.
        turnover: Net turnover in CZK for the statutory exposure.
        violations: Where to write every violating call (.csv or .parquet), if anywhere.
        json_path: Where to write the JSON report, if anywhere.
        html_path: Where to write the HTML report, if anywhere.
        on_step: Called with a short label as each phase starts (progress displays).

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
    if violations is not None:
        output_format(violations)
    log = open_calls(calls, phone_column=phone_column, time_column=time_column)
    with log.source:
        judged = judge(
            gate,
            log,
            turnover=turnover,
            rows="violations" if violations is not None else None,
            step=step,
        )
    report = judged.report(keep_calls=False)
    if violations is not None and judged.rows is not None:
        step(f"writing {Path(violations).name}")
        write_table(judged.rows, violations)
    if json_path is not None:
        report.to_json(json_path)
    if html_path is not None:
        step(f"writing {Path(html_path).name}")
        report.to_html(html_path)
    return report

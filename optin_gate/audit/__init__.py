"""The compliance audit: every past call judged as of the moment it was made (issue 6).

`Gate.audit(calls)` and `optin-gate audit` call `run_audit`; the result is an `AuditReport`
with the decided calls, the unusable rows, the figures, and JSON, HTML and violations files.
Importing this package stays light: the pipeline (DuckDB, the engine) loads on first audit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optin_gate.audit.report import AuditReport

if TYPE_CHECKING:
    from optin_gate.context import Context

__all__ = ["AuditReport", "run_audit"]


def run_audit(
    context: Context,
    calls: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    turnover: float | None = None,
    sheet: str | int | None = None,
) -> AuditReport:
    """Judge every call of a call log as of its own time (see `optin_gate.audit.run`)."""
    from optin_gate.audit.run import run_audit as run

    return run(
        context,
        calls,
        phone_column=phone_column,
        time_column=time_column,
        turnover=turnover,
        sheet=sheet,
    )

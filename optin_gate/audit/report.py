"""`AuditReport`: what an audit found, and the files it writes.

A plain value: Arrow tables for the calls and the unusable rows, a JSON-ready summary dict, and
the first violations already picked out for the reports. It holds no connection, so it can be
kept, pickled or written long after the store is closed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.audit.exposure import exposure
from optin_gate.errors import OptinGateError
from optin_gate.io import write_table, write_text

__all__ = ["JSON_VIOLATIONS", "SCHEMA_ID", "AuditReport", "html_text", "json_text"]

SCHEMA_ID = "https://optin-gate.example/schemas/audit_report.schema.json"
JSON_VIOLATIONS = 1000  # violations listed in the JSON report (all are in the violations file)


class AuditReport:
    """Every call of a call log judged as of its own time, with the figures a manager needs.

    Attributes:
        calls: Every call that could be judged, in the log's order: the log's own columns,
            then `e164, allowed, reason, evidence, rule_set` and `line` (the line of the
            call log file the row starts on; for a frame, the 1-based row number).
        unusable: The rows that could not be judged: `line`, `column`, `problem`. Listed,
            never silently skipped.
        summary: The figures (see `data/schemas/audit_report.schema.json`, `summary`):
            counts, breakdowns by reason, campaign, agent, controller and ISO week, calls to
            numbers that had objected, the statutory exposure and the method section.
    """

    def __init__(
        self,
        *,
        calls: pa.Table | None,
        unusable: pa.Table,
        summary: dict[str, Any],
        violation_rows: list[dict[str, Any]],
        unusable_rows: list[dict[str, Any]],
    ) -> None:
        self._calls = calls
        self.unusable = unusable
        self.summary = summary
        self._violation_rows = violation_rows
        self._unusable_rows = unusable_rows

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"AuditReport(calls={s['calls']:,}, violations={s['violations']:,}, "
            f"unusable_rows={s['unusable_rows']:,})"
        )

    @property
    def calls(self) -> pa.Table:
        """Every judged call, in the log's order (see the class docstring).

        Raises:
            OptinGateError: The audit streamed its calls to files (`optin-gate audit`,
                `stream.audit_file`) instead of keeping them in memory.
        """
        if self._calls is None:
            raise OptinGateError(
                "this audit wrote its calls to files instead of keeping them in memory",
                hint="use gate.audit(calls) for the calls as a table, or read --violations",
            )
        return self._calls

    @property
    def violations(self) -> pa.Table:
        """The calls without a legal basis at the moment they were made (`allowed` false)."""
        calls = self.calls
        return calls.filter(pc.invert(calls.column("allowed")))

    def with_turnover(self, turnover: float | None) -> AuditReport:
        """This report with the statutory exposure for a net turnover in CZK (None: not given).

        The turnover caps the fine at 10 % of it where that is above CZK 50,000,000.
        """
        summary = {**self.summary, "exposure": exposure(self.summary["violations"], turnover)}
        return AuditReport(
            calls=self._calls,
            unusable=self.unusable,
            summary=summary,
            violation_rows=self._violation_rows,
            unusable_rows=self._unusable_rows,
        )

    def document(self, *, violations: int = JSON_VIOLATIONS) -> dict[str, Any]:
        """The JSON report as a dict: summary, the first `violations` violations, unusable rows.

        Args:
            violations: How many violating calls to list (earliest first); all of them are
                in `write_violations`' file.
        """
        listed = self._violation_rows[:violations]
        unusable = self._unusable_rows[:violations]
        return {
            "$schema": SCHEMA_ID,
            "report": "optin-gate audit",
            "schema_version": 1,
            "summary": self.summary,
            "violations": {
                "total": self.summary["violations"],
                "listed": len(listed),
                "rows": listed,
            },
            "unusable": {
                "total": self.summary["unusable_rows"],
                "listed": len(unusable),
                "rows": unusable,
            },
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON report (valid against the bundled schema) atomically."""
        return write_text(path, json_text(self))

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the self-contained HTML report (opens offline, charts inline) atomically."""
        return write_text(path, html_text(self))

    def write_violations(self, path: str | os.PathLike[str]) -> Path:
        """Write every violating call, with reason and evidence, as CSV or Parquet (atomic)."""
        return write_table(self.violations, path)


def json_text(report: AuditReport) -> str:
    """The JSON report's text (`AuditReport.to_json` writes it)."""
    return json.dumps(report.document(), ensure_ascii=False, indent=1) + "\n"


def html_text(report: AuditReport) -> str:
    """The HTML report's text (`AuditReport.to_html` writes it)."""
    from optin_gate.audit.html import render_html

    return render_html(report.document())

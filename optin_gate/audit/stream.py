"""`audit_file`: a call log file judged to report files, streamed by DuckDB (`optin-gate audit`).

Rows never pass through Python: DuckDB reads the log (`optin_gate.io`'s `read_csv` /
`read_parquet`), the `Audit` pipeline decides every call, and `COPY` writes the violating
calls, joined back to the log's own columns in file order. The JSON and HTML reports are built
from the figures. Output paths are checked before any work; each file is written to a temp
file beside it and renamed when complete, so nothing is ever half written.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optin_gate._time import now_utc
from optin_gate.audit._files import check_target
from optin_gate.audit.exposure import check_turnover
from optin_gate.audit.report import JSON_VIOLATIONS, AuditReport
from optin_gate.audit.run import ADDED_COLUMNS, Audit, check_names
from optin_gate.audit.source import RID, open_calls
from optin_gate.io import output_format, sql_literal

if TYPE_CHECKING:
    from optin_gate.gate import Gate

__all__ = ["audit_file"]

Step = Callable[[str], None]


def _copy_options(fmt: str) -> str:
    if fmt == "parquet":
        return "FORMAT parquet"
    return "FORMAT csv, HEADER" + (", DELIMITER '\t'" if fmt == "tsv" else "")


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
    from optin_gate.engine.filter import tune

    step = on_step or (lambda label: None)
    turnover = check_turnover(turnover)
    for path in (violations, json_path, html_path):
        if path is not None:
            check_target(path)
    fmt = output_format(violations) if violations is not None else ""
    ran_at = now_utc()
    log = open_calls(calls, phone_column=phone_column, time_column=time_column)
    tmp: str | None = None
    try:
        with log.source, gate.store.connect(read_only=True) as con:
            check_names(log)
            tune(con)
            rows = log.source.relation(con, alias="og_audit_log")
            relation = f"(SELECT row_number() OVER () - 1 AS {RID}, * FROM {rows})"
            audit = Audit(con, gate, log, relation)
            try:
                step("reading the call log")
                unusable = audit.prepare()
                audit.decide(step)
                step("counting")
                summary = audit.summary(unusable, turnover, ran_at)
                listed = audit.violation_rows()
                if violations is not None:
                    step(f"writing the violations to {Path(violations).name}")
                    tmp = _write_violations(con, relation, audit.table, Path(violations), fmt)
            finally:
                audit.drop()
        report = AuditReport(
            calls=None,
            unusable=unusable,
            summary=summary,
            violation_rows=listed,
            unusable_rows=unusable.slice(0, JSON_VIOLATIONS).to_pylist(),
        )
        if json_path is not None:
            report.to_json(json_path)
        if html_path is not None:
            report.to_html(html_path)
        if tmp is not None and violations is not None:
            os.replace(tmp, violations)
            tmp = None
        return report
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _write_violations(con: Any, relation: str, table: str, target: Path, fmt: str) -> str:
    """COPY the violating calls (log columns, then the audit's) to a temp file beside `target`."""
    # Not pre-created: DuckDB creates it, so it gets the usual permissions (umask).
    tmp = str(target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"))
    try:
        added = ", ".join(f"a.{c}" for c in ADDED_COLUMNS)
        query = (
            f"SELECT r.* EXCLUDE ({RID}), {added} FROM {relation} r "
            f"JOIN {table} a ON a.rid = r.{RID} WHERE NOT a.allowed ORDER BY r.{RID}"
        )
        con.execute(f"COPY ({query}) TO {sql_literal(tmp)} ({_copy_options(fmt)})")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp

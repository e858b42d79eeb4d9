"""The audit run: a call log opened, judged on the store, and its report.

`judge` opens a store connection, reads the log with an `pipeline.Audit` while the evidence
timelines are built beside it, decides every call, counts the figures, and hands the audit to
a writer (`stream`) before the connection closes. `with_log` opens the log (again, checked, if
it turns out not to be UTF-8). `run_audit` keeps the calls in memory; `stream` writes them to
files.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from optin_gate._time import now_utc
from optin_gate.audit.exposure import check_turnover
from optin_gate.audit.pipeline import Audit, P
from optin_gate.audit.query import prepare_evidence
from optin_gate.audit.read import ADDED_COLUMNS, NotUtf8, check_names
from optin_gate.audit.report import JSON_VIOLATIONS, AuditReport
from optin_gate.audit.settings import purging
from optin_gate.audit.source import CallLog, open_calls

if TYPE_CHECKING:
    import duckdb

    from optin_gate.context import Context

__all__ = ["ADDED_COLUMNS", "Audit", "Judged", "P", "judge", "run_audit", "with_log"]

Step = Callable[[str], None]
T = TypeVar("T")


def _read_beside_evidence(audit: Audit, own: pa.Table | None, step: Step | None) -> pa.Table:
    """`Audit.read`, while the evidence timelines are built on a cursor of their own.

    The timeline query keeps about one core busy for a few seconds; the read leaves room.
    """
    cursor = audit.context.store.cursor(audit.con)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optin-gate-evidence")
    try:
        built = pool.submit(prepare_evidence, cursor, audit.context.policy)
        try:
            unusable = audit.read(own, step)
        except BaseException:
            concurrent.futures.wait([built])
            raise
        audit.evidence = built.result()
        audit.evidence.register(audit.con)
        return unusable
    finally:
        pool.shutdown(wait=True)
        cursor.close()


@dataclasses.dataclass(frozen=True)
class Judged:
    """What `judge` found: the figures, the listings and the calls asked for."""

    summary: dict[str, Any]
    violation_rows: list[dict[str, Any]]
    unusable: pa.Table
    calls: pa.Table | None  # the log's own columns, then ADDED_COLUMNS, in the log's order

    def report(self) -> AuditReport:
        """The `AuditReport` (with the calls if they were kept)."""
        return AuditReport(
            calls=self.calls,
            unusable=self.unusable,
            summary=self.summary,
            violation_rows=self.violation_rows,
            unusable_rows=self.unusable.slice(0, JSON_VIOLATIONS).to_pylist(),
        )


Limit = Callable[["duckdb.DuckDBPyConnection"], contextlib.AbstractContextManager[Any]]


def judge(
    context: Context,
    log: CallLog,
    *,
    turnover: float | None,
    keep_calls: bool = False,
    write: Callable[[Audit], None] | None = None,
    limit: Limit | None = None,
    step: Step | None = None,
) -> Judged:
    """Audit the log on the store: the figures, the listings, and the calls or a file.

    Args:
        context: Supplies the store, the policy and the default controller.
        log: The opened call log (kept open by the caller: its lines may be read).
        turnover: Net turnover in CZK, checked.
        keep_calls: Return every decided call with the log's columns.
        write: Called with the decided audit before the connection closes.
        limit: Settings for the connection while the audit runs (a context manager).
        step: Progress labels.

    Raises:
        NotUtf8: The file turned out not to be UTF-8 (open it again, checked).
    """
    from optin_gate.engine import tune

    ran_at = now_utc()
    check_names(log)
    own = None if log.source.kind == "csv" else log.source.to_arrow()
    with (
        context.store.connect(read_only=True) as con,
        (limit or (lambda c: contextlib.nullcontext()))(con),
        purging(con),
    ):
        tune(con)
        audit = Audit(con, context, log)
        try:
            unusable = _read_beside_evidence(audit, own, step)
            audit.decide(step)
            (step or (lambda label: None))("counting")
            summary = audit.summary(unusable, turnover, ran_at)
            listed = audit.violation_rows()
            calls = audit.calls() if keep_calls else None
            audit.counted()
            if write is not None:
                write(audit)
        finally:
            audit.drop()
    return Judged(summary, listed, unusable, calls)


def with_log(
    calls: Any, audit: Callable[[CallLog], T], *, phone_column: str | None, time_column: str
) -> T:
    """Open the call log and run `audit` on it.

    A CSV that looks like UTF-8 is not checked byte by byte first; if DuckDB finds it is not
    as it reads (`read.NotUtf8`), it is opened again, checked (a Windows-1250 file is read
    from a UTF-8 copy), and audited again.
    """
    for verify in (False, True):
        log = open_calls(
            calls, phone_column=phone_column, time_column=time_column, verify_utf8=verify
        )
        with log.source:
            try:
                return audit(log)
            except NotUtf8:
                if verify:
                    raise
    raise AssertionError("unreachable")


def run_audit(
    context: Context,
    calls: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    turnover: float | None = None,
) -> AuditReport:
    """Judge every call of a call log as of the moment it was made; keep the calls in memory.

    Args:
        context: Supplies the store, the policy and the controller for calls whose log names none.
        calls: A CSV or Parquet path, a pandas DataFrame or a pyarrow Table with the columns
            of docs/design.md (phone, called_at; call_id, controller, campaign, agent, call_type).
        phone_column: The phone column's name when it is not recognised by name.
        time_column: The call time column's name.
        turnover: Net turnover in CZK for the statutory exposure (None: the fixed cap only).

    Raises:
        InputError: The log cannot be read or lacks a phone or time column.
    """
    turnover = check_turnover(turnover)
    judged = with_log(
        calls,
        lambda log: judge(context, log, turnover=turnover, keep_calls=True),
        phone_column=phone_column,
        time_column=time_column,
    )
    return judged.report()

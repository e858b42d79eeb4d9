"""The audit run: a call log opened, judged on the store, and its report.

`judge` opens a store connection, reads the log while the evidence indexes are built beside
it, and, part by part (`parts`; one part if the log fits in memory), decides every call with
a `pipeline.Audit`, folds the figures and hands the part to a writer (`stream`). `with_log`
opens the log (again, checked, if it turns out not to be UTF-8). `run_audit` keeps the calls
in memory; `stream` writes them to files.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from optin_gate._time import now_utc
from optin_gate.audit.exposure import check_turnover
from optin_gate.audit.lookup import Evidence, prepare_evidence
from optin_gate.audit.parts import (
    Counted,
    first_violations,
    part_rows,
    report_summary,
    roomy,
    unusable_rows,
)
from optin_gate.audit.pipeline import Audit, P
from optin_gate.audit.quality import consent_quality
from optin_gate.audit.read import ADDED_COLUMNS, NotUtf8, Part, check_names, read_parts
from optin_gate.audit.report import JSON_VIOLATIONS, AuditReport
from optin_gate.audit.settings import SMALL_STREAM_BUFFER, STREAM_BUFFER, purging
from optin_gate.audit.source import CallLog, open_calls
from optin_gate.store.database import configure

if TYPE_CHECKING:
    import duckdb

    from optin_gate.context import Context

__all__ = ["ADDED_COLUMNS", "Audit", "Judged", "P", "judge", "run_audit", "with_log"]

Step = Callable[[str], None]
T = TypeVar("T")


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
# Called with each decided part of the log, and whether it is the first (start afresh).
Write = Callable[[Audit, bool], None]


class _Relined(Exception):  # noqa: N818 - a signal to audit the log again, never shown
    """A row of the log, read in parts, spans several file lines: the lines were wrong."""


def judge(
    context: Context,
    log: CallLog,
    *,
    turnover: float | None,
    keep_calls: bool = False,
    write: Write | None = None,
    limit: Limit | None = None,
    step: Step | None = None,
) -> Judged:
    """Audit the log on the store: the figures, the listings, and the calls or a file.

    A log read from a file is decided in parts (`parts.part_rows`) if it is too big to hold
    whole with its decisions.

    Args:
        context: Supplies the store, the policy and the default controller.
        log: The opened call log (kept open by the caller: its lines may be read).
        turnover: Net turnover in CZK, checked.
        keep_calls: Return every decided call with the log's columns (one part).
        write: Called with each decided part before the next is read.
        limit: Settings for the connection while the audit runs (a context manager).
        step: Progress labels.

    Raises:
        NotUtf8: The file turned out not to be UTF-8 (open it again, checked).
    """
    from optin_gate.engine import tune

    ran_at = now_utc()
    check_names(log)
    own = None if log.source.kind == "csv" else log.source.to_arrow()
    # A log in memory already, or asked for whole, is one part.
    rows = None if keep_calls or own is not None else part_rows()
    with (
        context.store.connect(read_only=True) as con,
        (limit or (lambda c: contextlib.nullcontext()))(con),
        purging(con),
    ):
        tune(con)
        audit = functools.partial(
            _judge,
            con,
            context=context,
            log=log,
            own=own,
            rows=rows,
            keep_calls=keep_calls,
            write=write,
            step=step,
        )
        try:
            parts, calls = audit(one_line_each=True)
        except _Relined:
            parts, calls = audit(one_line_each=False)
        summary = report_summary(con, context, log, parts, turnover=turnover, ran_at=ran_at)
    return Judged(summary, first_violations(parts), unusable_rows(parts), calls)


def _judge(
    con: duckdb.DuckDBPyConnection,
    *,
    context: Context,
    log: CallLog,
    own: pa.Table | None,
    rows: int | None,
    keep_calls: bool,
    write: Write | None,
    step: Step | None,
    one_line_each: bool,
) -> tuple[list[Counted], pa.Table | None]:
    """Read, decide, count and write the log part by part; the parts, and the calls if kept.

    The read streams on a cursor of its own, paused between the parts.

    Args:
        con: The store connection the parts are decided on.
        context: As `judge`'s.
        log: As `judge`'s.
        own: The log's own columns when they are in memory (a frame, Parquet).
        rows: Rows per part (None: one part).
        keep_calls: As `judge`'s.
        write: As `judge`'s.
        step: As `judge`'s.
        one_line_each: What to take for the file lines of a part that is not the last, whose
            lines depend on the rows after it (`CallLog.lines`).

    Raises:
        _Relined: `one_line_each` was wrong.
    """
    say = step or (lambda label: None)
    reader = configure(con.cursor())  # the session settings, not the temp tables
    counted: list[Counted] = []
    calls, assumed = None, False
    evidence: Evidence | None = None
    try:
        if own is None:
            relation = log.source.relation_sql()
        else:
            relation = "og_audit_log"
            reader.register(relation, own)
        buffer = STREAM_BUFFER if roomy() else SMALL_STREAM_BUFFER
        parts = read_parts(
            reader, log, relation, context, keep=own is None, rows=rows, buffer=buffer
        )
        say("reading the call log")
        first, evidence = _beside_evidence(con, context, parts)
        for part in itertools.chain([first], parts):
            if part.start:
                say(f"reading the call log from row {part.start + 1:,}")
            last = rows is None or part.requests.table.num_rows < rows
            assumed |= not last
            audit = Audit(con, context, log, evidence)
            try:
                unusable = audit.take(part, own, one_line_each=None if last else one_line_each)
                del part
                audit.decide(step)
                say("counting")
                folded, rule_sets = audit.fold(), frozenset(audit.rule_sets())
                listed = audit.violation_rows()
                quality = consent_quality(audit)
                counted.append(Counted(folded, rule_sets, audit.rows, unusable, listed, quality))
                calls = audit.calls() if keep_calls else None
                if last:  # their memory is the writer's now
                    audit.evidence = evidence = None
                audit.counted()
                if write is not None:
                    write(audit, len(counted) == 1)
            finally:
                audit.drop()
    finally:
        reader.close()
    if assumed and one_line_each != log.one_line_each(sum(c.rows for c in counted)):
        raise _Relined
    return counted, calls


def _beside_evidence(
    con: duckdb.DuckDBPyConnection, context: Context, parts: Iterator[Part]
) -> tuple[Part, Evidence]:
    """The first part of the log and the evidence indexes (`lookup.prepare_evidence`).

    Where there is room (`parts.roomy`), the part is read while the indexes are built on a
    cursor: the build keeps about one core busy for a second or two, and the read leaves
    room. Otherwise one after the other: together they would need more memory than DuckDB
    has.
    """
    cursor = context.store.cursor(con)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optin-gate-evidence")
    try:
        built = pool.submit(prepare_evidence, cursor, context.policy)
        try:
            if not roomy():
                concurrent.futures.wait([built])
            first = next(parts)
        except BaseException:
            concurrent.futures.wait([built])
            raise
        return first, built.result()
    finally:
        pool.shutdown(wait=True)
        cursor.close()


def with_log(
    calls: Any,
    audit: Callable[[CallLog], T],
    *,
    phone_column: str | None,
    time_column: str,
    sheet: str | int | None = None,
) -> T:
    """Open the call log and run `audit` on it.

    A CSV that looks like UTF-8 is not checked byte by byte first; if DuckDB finds it is not
    as it reads (`read.NotUtf8`), it is opened again, checked (a Windows-1250 file is read
    from a UTF-8 copy), and audited again.
    """
    for verify in (False, True):
        log = open_calls(
            calls,
            phone_column=phone_column,
            time_column=time_column,
            verify_utf8=verify,
            sheet=sheet,
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
    sheet: str | int | None = None,
) -> AuditReport:
    """Judge every call of a call log as of the moment it was made; keep the calls in memory.

    Args:
        context: Supplies the store, the policy and the controller for calls whose log names none.
        calls: A CSV, Parquet or workbook path, a DataFrame or a pyarrow Table with the columns
            of docs/design.md (phone, called_at; call_id, controller, campaign, agent, call_type).
        phone_column: The phone column's name when it is not recognised by name.
        time_column: The call time column's name.
        turnover: Net turnover in CZK for the statutory exposure (None: the fixed cap only).
        sheet: A workbook's sheet, by name or number from 1 (default: the first sheet that
            has data).

    Raises:
        InputError: The log cannot be read or lacks a phone or time column.
    """
    turnover = check_turnover(turnover)
    judged = with_log(
        calls,
        lambda log: judge(context, log, turnover=turnover, keep_calls=True),
        phone_column=phone_column,
        time_column=time_column,
        sheet=sheet,
    )
    return judged.report()

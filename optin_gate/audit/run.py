"""The audit pipeline: every call of a log judged as of its own time, in set-based DuckDB passes.

`Audit` works on the log's relation on the store's connection: it parses the call times in
SQL (`optin_gate.io.dates`), reads each row once into compact requests (`requests`: numbers
normalized, texts coded), sets unusable rows aside with their file lines, and decides every
call as of its own time (`query.decide_calls`: the store's as-of facts and the same rule set
as `filter`). The figures are GROUP BYs over the decided calls (`summary`). `run_audit` keeps
the calls in memory as Arrow; `stream` writes them to files without passing rows through
Python.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from optin_gate._time import now_utc
from optin_gate.audit.exposure import check_turnover, exposure
from optin_gate.audit.method import evidence_loads, json_value, method_section
from optin_gate.audit.query import (
    Evidence,
    decide_calls,
    e164_sql,
    evidence_sql,
    prepare_evidence,
)
from optin_gate.audit.report import JSON_VIOLATIONS, AuditReport
from optin_gate.audit.requests import CODED, Requests, read_requests
from optin_gate.audit.source import LINES_TABLE, RID, CallLog, LineSql, open_calls
from optin_gate.audit.summary import summarize
from optin_gate.engine.query import DECISION_COLUMNS, quote
from optin_gate.errors import InputError
from optin_gate.io import Parse, parse_query, text_sql

if TYPE_CHECKING:
    import duckdb

    from optin_gate.gate import Gate

__all__ = ["ADDED_COLUMNS", "Audit", "run_audit"]

_names = itertools.count()

# Columns the audit adds after the log's own; a log that already has one is refused.
ADDED_COLUMNS = (*DECISION_COLUMNS, "line")
CALL_TYPES = ("live", "automated")
_BATCH = 1_000_000  # rows of the log normalized at a time
Step = Callable[[str], None]


class _Cols:
    """SQL over the log's relation: each call-log column as trimmed text (NULL when empty)."""

    def __init__(self, log: CallLog, types: dict[str, str], alias: str = "") -> None:
        self.log, self.types, self.alias = log, types, alias

    def on(self, alias: str) -> _Cols:
        """The same columns, qualified by a table alias."""
        return _Cols(self.log, self.types, alias)

    def __contains__(self, name: str) -> bool:
        return name in self.log.columns

    def text(self, name: str) -> str:
        col = self.log.columns[name]
        ref = f"{self.alias}.{quote(col)}" if self.alias else quote(col)
        return text_sql(ref, self.types[col])

    def optional(self, name: str) -> str:
        value = self.text(name) if name in self else "CAST(NULL AS VARCHAR)"
        return f"{value} AS {name}"

    def call_type(self) -> str:
        """SQL: "live" or "automated" (empty is live; `_problem_sql` sets others aside)."""
        if "call_type" not in self:
            return "'live'"
        return f"coalesce(lower({self.text('call_type')}), 'live')"


def _problem_sql(c: _Cols, t: str) -> str:
    """SQL naming why a row cannot be judged (NULL when it can), as `column: problem`."""
    when = [
        f"WHEN {c.text('phone')} IS NULL "
        "THEN 'phone: empty, so the call cannot be matched to any evidence'",
        f"WHEN {c.text('called_at')} IS NULL "
        "THEN 'called_at: empty, so the call cannot be judged at its time'",
        f"WHEN {t} IS NULL THEN 'called_at: not a date and time this tool reads "
        "(write 2022-07-01 09:30, 2022-07-01T09:30:00+02:00 or 1.7.2022 9:30)'",
    ]
    if "call_type" in c:
        when.append(
            f"WHEN lower({c.text('call_type')}) NOT IN {CALL_TYPES!r} "
            "THEN 'call_type: neither live nor automated'"
        )
    return "CASE " + " ".join(when) + " END"


def check_names(log: CallLog) -> None:
    """Refuse a log that already has a column the audit adds (it would be ambiguous)."""
    taken = [c for c in log.user_columns if c in ADDED_COLUMNS]
    if taken:
        raise InputError(
            f"the call log already has a column {taken[0]!r}, which the audit adds",
            file=log.name,
            column=taken[0],
            hint="rename that column in the call log",
        )


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or ()]
    return [{k: json_value(v) for k, v in zip(names, row, strict=True)} for row in cur.fetchall()]


@dataclasses.dataclass
class Audit:
    """One audit of a log's relation on a store connection (temp tables live on `con`).

    Attributes:
        con: The store connection.
        gate: Supplies the policy and the controller for calls whose log names none.
        log: The call log.
        relation: SQL for the log's rows with their 0-based position as `RID`.
        rows: How many rows the log has (set by `prepare`).
        table: The decided rows (`query.DECIDED_COLUMNS`, registered Arrow in the log's
            order), set by `decide`.
        evidence: The store's evidence timelines (`query.prepare_evidence`); built by
            `decide` unless given.
    """

    con: duckdb.DuckDBPyConnection
    gate: Gate
    log: CallLog
    relation: str
    rows: int = 0
    table: str = ""
    _n: int = dataclasses.field(default_factory=lambda: next(_names))
    _registered: list[str] = dataclasses.field(default_factory=list)
    _requests: Requests | None = None
    evidence: Evidence | None = None
    _line: LineSql = dataclasses.field(default_factory=lambda: LineSql(1))
    _cols: _Cols = dataclasses.field(init=False)

    def _register(self, name: str, table: pa.Table) -> str:
        self.con.register(name, table)
        self._registered.append(name)
        return name

    def _read_sql(self) -> str:
        """SQL: per row, in order, its position, problem, time and the texts it is judged by."""
        con, log = self.con, self.log
        types = {
            str(r[0]): str(r[1])
            for r in con.execute(f"DESCRIBE SELECT * FROM {self.relation}").fetchall()
        }
        c = self._cols = _Cols(log, types)
        time_col = log.columns["called_at"]
        parsed = parse_query(
            self.relation, [Parse(time_col, types[time_col], "datetime", "__og_t")]
        )
        return (
            f"SELECT {RID} AS rid, {_problem_sql(c, '__og_t')} AS problem, __og_t AS t, "
            f"{c.call_type()} IS DISTINCT FROM 'live' AS automated, "
            f"{self._controller(c)} AS controller, {c.optional('campaign')}, "
            f"{c.optional('agent')}, {c.text('phone')} AS phone FROM ({parsed})"
        )

    def prepare(self, step: Step | None = None) -> pa.Table:
        """Read every row once into `Requests`; returns the unusable rows (line, problem).

        The log's own text stays where it is: the decisions line up with it by position.
        """
        con, say = self.con, step or (lambda label: None)
        sql = self._read_sql()
        say("normalizing the phone numbers")
        reader = con.sql(sql).to_arrow_reader(batch_size=_BATCH)
        requests = self._requests = read_requests(reader, region=self.gate.policy.default_region)
        self.rows = requests.table.num_rows
        for name in CODED:
            self._register(self._texts[name], requests.dictionaries[name])
        self._line = line = self.log.lines(con, self.rows)
        problems = self._register(f"og_audit_problems_{self._n}", requests.problems)
        unusable = con.sql(
            f"SELECT {line.select('i.rid')} AS line, split_part(i.problem, ': ', 1) AS column, "
            f"substr(i.problem, strpos(i.problem, ': ') + 2) AS problem "
            f"FROM {problems} i {line.join('i.rid')} ORDER BY i.rid"
        ).to_arrow_table()
        user = [self.log.columns.get(col, col) for col in unusable.column("column").to_pylist()]
        return unusable.set_column(1, "column", pa.array(user, pa.string()))

    def _controller(self, c: _Cols) -> str:
        default = "'" + self.gate.controller.replace("'", "''") + "'"
        return f"coalesce({c.text('controller')}, {default})" if "controller" in c else default

    @property
    def _texts(self) -> dict[str, str]:
        """The registered code -> text tables of the coded log columns."""
        return {name: f"og_audit_{name}_{self._n}" for name in CODED}

    def decide(self, step: Step | None = None) -> None:
        """Decide every call (`query.decide_calls`); fill `table`."""
        assert self._requests is not None, "prepare first"
        requests, self._requests = self._requests, None
        if self.evidence is None:
            self.evidence = prepare_evidence(self.con, self.gate.policy)
        self.table = decide_calls(
            self.con,
            requests,
            self.evidence,
            policy=self.gate.policy,
            name=f"og_audit_decided_{self._n}",
            step=step,
        )
        self._registered += [self.table, f"{self.table}_shapes"]

    def summary(self, unusable: pa.Table, turnover: float | None, ran_at: Any) -> dict[str, Any]:
        """The report's figures, exposure and method section."""
        con = self.con
        summary = summarize(con, self.table, f"{self.table}_shapes", self._texts)
        rule_sets = con.execute(
            f"SELECT DISTINCT CAST(rule_set AS VARCHAR) FROM {self.table} "
            f"WHERE rule_set IS NOT NULL ORDER BY 1"
        ).fetchall()
        summary["unusable_rows"] = unusable.num_rows
        summary["rows_read"] = self.rows
        summary["exposure"] = exposure(summary["violations"], turnover)
        summary["method"] = method_section(
            policy=self.gate.policy,
            controller=self.gate.controller,
            rule_sets=[r[0] for r in rule_sets],
            evidence=evidence_loads(con),
            store=_store_name(self.gate),
            call_log=self.log.describe(self.rows),
            ran_at=ran_at,
        )
        return summary

    def added_sql(self, alias: str = "a") -> str:
        """SQL: `ADDED_COLUMNS` of a row of the decided table `alias`, as documented."""
        a = alias
        return (
            f"{e164_sql(f'{a}.phone')} AS e164, {a}.allowed, "
            f"CAST({a}.reason AS VARCHAR) AS reason, {evidence_sql(a)} AS evidence, "
            f"CAST({a}.rule_set AS VARCHAR) AS rule_set, "
            f"{self._line.select(f'{a}.rid')} AS line"
        )

    def line_join(self, rid: str) -> str:
        """The join clause `added_sql` needs for the line (empty when it is arithmetic)."""
        return self._line.join(rid)

    def decisions_sql(self, *, violations_only: bool) -> str:
        """SQL: `rid` and `ADDED_COLUMNS` of the decided calls (or only the violations)."""
        where = "NOT a.allowed" if violations_only else "a.reason IS NOT NULL"
        return (
            f"SELECT a.rid, {self.added_sql('a')} FROM {self.table} a "
            f"{self._line.join('a.rid')} WHERE {where}"
        )

    def decisions(self, *, violations_only: bool) -> pa.Table:
        """`decisions_sql` as Arrow, in the log's order."""
        query = self.decisions_sql(violations_only=violations_only)
        return self.con.sql(f"SELECT * FROM ({query}) ORDER BY rid").to_arrow_table()

    def judge(
        self, step: Step | None, turnover: float | None, ran_at: Any
    ) -> tuple[pa.Table, dict[str, Any], list[dict[str, Any]]]:
        """Decide every call and count: (unusable rows, summary, listed violations)."""
        unusable = self.prepare(step)
        self.decide(step)
        if step is not None:
            step("counting")
        return unusable, self.summary(unusable, turnover, ran_at), self.violation_rows()

    def violation_rows(self) -> list[dict[str, Any]]:
        """The first violations, earliest first, for the JSON and HTML reports.

        Their call id, number as written and call type come from the log's relation: the
        decided calls keep only what the figures need.
        """
        line, c = self._line, self._cols.on("l")
        first = (
            f"SELECT * FROM {self.table} WHERE NOT allowed ORDER BY t, rid LIMIT {JSON_VIOLATIONS}"
        )
        call_id = c.text("call_id") if "call_id" in c else "CAST(NULL AS VARCHAR)"
        return _rows(
            self.con,
            f"SELECT {line.select('v.rid')} AS line, {call_id} AS call_id, v.t AS called_at, "
            f"{c.text('phone')} AS phone, {e164_sql('v.phone')} AS e164, "
            f"{self._controller(c)} AS controller, {c.optional('campaign')}, "
            f"{c.optional('agent')}, {c.call_type()} AS call_type, "
            f"CAST(v.reason AS VARCHAR) AS reason, {evidence_sql('v')} AS evidence, "
            f"CAST(v.rule_set AS VARCHAR) AS rule_set "
            f"FROM ({first}) v JOIN {self.relation} l ON l.{RID} = v.rid "
            f"{line.join('v.rid')} ORDER BY v.t, v.rid",
        )

    def drop(self) -> None:
        """Drop the temp tables (the connection outlives the audit)."""
        if self.evidence is not None:
            self.evidence.drop(self.con)
        for name in self._registered:
            with contextlib.suppress(Exception):
                self.con.unregister(name)
        if self._line.offset is None:
            self.con.unregister(LINES_TABLE)


def _store_name(gate: Gate) -> str:
    path = getattr(gate.store, "path", None)
    return str(path) if path else ":memory:"


@dataclasses.dataclass(frozen=True)
class Judged:
    """What `judge` found: the figures, the listings, and the decided rows asked for."""

    summary: dict[str, Any]
    violation_rows: list[dict[str, Any]]
    unusable: pa.Table
    rows: pa.Table | None  # the log's own columns, then ADDED_COLUMNS, in the log's order

    def report(self, *, keep_calls: bool) -> AuditReport:
        """The `AuditReport`, with or without the calls."""
        return AuditReport(
            calls=self.rows if keep_calls else None,
            unusable=self.unusable,
            summary=self.summary,
            violation_rows=self.violation_rows,
            unusable_rows=self.unusable.slice(0, JSON_VIOLATIONS).to_pylist(),
        )


def judge(
    gate: Gate,
    log: CallLog,
    *,
    turnover: float | None,
    rows: str | None,
    step: Step | None = None,
) -> Judged:
    """Read the log into Arrow once, audit it on the store, return the figures and `rows`.

    Args:
        gate: Supplies the store, the policy and the default controller.
        log: The opened call log (kept open by the caller: its lines may be read).
        turnover: Net turnover in CZK, checked.
        rows: Which decided rows to return with the log's columns: "all", "violations" or
            None (none).
        step: Progress labels.
    """
    from optin_gate.engine.filter import tune

    say = step or (lambda label: None)
    ran_at = now_utc()
    check_names(log)
    say("reading the call log")
    table = log.source.to_arrow()
    rids = pa.array(np.arange(table.num_rows, dtype=np.int64))
    arrow = f"og_audit_log_{next(_names)}"
    with gate.store.connect(read_only=True) as con:
        tune(con)
        audit = Audit(con, gate, log, arrow, evidence=prepare_evidence(con, gate.policy))
        try:
            con.register(arrow, table.append_column(RID, rids))
            unusable, summary, listed = audit.judge(step, turnover, ran_at)
            decisions = None
            if rows is not None:
                decisions = audit.decisions(violations_only=rows == "violations")
        finally:
            audit.drop()
            con.unregister(arrow)
    decided = None
    if decisions is not None:
        decided = table.take(decisions.column("rid"))
        for name in ADDED_COLUMNS:
            decided = decided.append_column(name, decisions.column(name))
    return Judged(summary, listed, unusable, decided)


def run_audit(
    gate: Gate,
    calls: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    turnover: float | None = None,
) -> AuditReport:
    """Judge every call of a call log as of the moment it was made; keep the calls in memory.

    Args:
        gate: Supplies the store, the policy and the controller for calls whose log names none.
        calls: A CSV or Parquet path, a pandas DataFrame or a pyarrow Table with the columns
            of DESIGN.md (phone, called_at; call_id, controller, campaign, agent, call_type).
        phone_column: The phone column's name when it is not recognised by name.
        time_column: The call time column's name.
        turnover: Net turnover in CZK for the statutory exposure (None: the fixed cap only).

    Raises:
        InputError: The log cannot be read or lacks a phone or time column.
    """
    turnover = check_turnover(turnover)
    log = open_calls(calls, phone_column=phone_column, time_column=time_column)
    with log.source:
        return judge(gate, log, turnover=turnover, rows="all").report(keep_calls=True)

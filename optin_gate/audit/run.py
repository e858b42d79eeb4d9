"""`run_audit`: read a call log, judge every call as of its own time, build the report.

One set-based pass in DuckDB: the call log (Arrow) is registered on the store's connection,
its times parsed in SQL (`optin_gate.io.dates`), unusable rows set aside with their line
numbers, and the rest decided by the engine's decision query (`prepare_decisions`) with a
time, controller and call type per call: the same facts query and rule set as `filter`. The
figures are GROUP BYs over the decided calls (`summary`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from optin_gate._time import now_utc
from optin_gate.audit.exposure import check_turnover, exposure
from optin_gate.audit.method import evidence_loads, json_value, method_section
from optin_gate.audit.report import JSON_VIOLATIONS, AuditReport
from optin_gate.audit.source import LINE, RID, CallLog, read_calls
from optin_gate.audit.summary import summarize
from optin_gate.engine.query import DECISION_COLUMNS, Column, prepare_decisions, quote
from optin_gate.errors import InputError
from optin_gate.io.dates import Parse, parse_query, text_sql

if TYPE_CHECKING:
    import duckdb

    from optin_gate.gate import Gate

__all__ = ["run_audit"]

_names = itertools.count()

# Columns the report adds after the log's own; a log that already has one is refused.
ADDED_COLUMNS = (*DECISION_COLUMNS, "line")

CALL_TYPES = ("live", "automated")


class _Cols:
    """SQL over the registered log: each call-log column as trimmed text (NULL when empty)."""

    def __init__(self, log: CallLog, types: dict[str, str]) -> None:
        self.log, self.types = log, types

    def __contains__(self, name: str) -> bool:
        return name in self.log.columns

    def text(self, name: str) -> str:
        col = self.log.columns[name]
        return text_sql(quote(col), self.types[col])

    def optional(self, name: str) -> str:
        value = self.text(name) if name in self else "CAST(NULL AS VARCHAR)"
        return f"{value} AS {name}"


def _problem_sql(c: _Cols, t: str) -> str:
    """SQL naming why a row cannot be judged (NULL when it can), in the order a user fixes."""
    when = [
        f"WHEN {c.text('phone')} IS NULL "
        "THEN 'phone: empty, so the call cannot be matched to any evidence'",
        f"WHEN {c.text('called_at')} IS NULL "
        "THEN 'called_at: empty, so the call cannot be judged at its time'",
        f"WHEN {t} IS NULL THEN 'called_at: not a date and time this tool reads "
        "(write 2022-07-01 09:30, 2022-07-01T09:30:00+02:00 or 1.7.2022 9:30)'",
    ]
    if "call_type" in c:
        call_type = f"lower({c.text('call_type')})"
        when.append(
            f"WHEN {call_type} NOT IN {CALL_TYPES!r} THEN 'call_type: neither live nor automated'"
        )
    return "CASE " + " ".join(when) + " END"


def _prepare_calls(con: duckdb.DuckDBPyConnection, log: CallLog, controller: str) -> str:
    """A temp table of every row: rid, line, problem, t, controller, call_type, ... ."""
    n = next(_names)
    arrow, table = f"og_audit_log_{n}", f"og_audit_in_{n}"
    con.register(arrow, log.table)
    types = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {arrow}").fetchall()}
    c = _Cols(log, types)
    time_col = log.columns["called_at"]
    parsed = parse_query(arrow, [Parse(time_col, types[time_col], "datetime", "__og_t")])
    default = "'" + controller.replace("'", "''") + "'"
    ctrl = f"coalesce({c.text('controller')}, {default})" if "controller" in c else default
    kind = f"coalesce(lower({c.text('call_type')}), 'live')" if "call_type" in c else "'live'"
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT "
        f"{RID} AS rid, {LINE} AS line, {_problem_sql(c, '__og_t')} AS problem, "
        f"__og_t AS t, {ctrl} AS controller, {kind} AS call_type, "
        f"{c.optional('campaign')}, {c.optional('agent')}, {c.optional('call_id')}, "
        f"{c.text('phone')} AS phone FROM ({parsed})"
    )
    con.unregister(arrow)
    return table


def _check_names(log: CallLog) -> None:
    taken = [c for c in log.user_columns if c in ADDED_COLUMNS]
    if taken:
        raise InputError(
            f"the call log already has column {taken[0]!r}, which the audit adds",
            file=log.name,
            column=taken[0],
            hint="rename that column in the call log",
        )


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _iso_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in r.items()} for r in rows]


def run_audit(
    gate: Gate,
    calls: Any,
    *,
    phone_column: str | None = None,
    time_column: str = "called_at",
    turnover: float | None = None,
) -> AuditReport:
    """Judge every call of a call log as of the moment it was made.

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
    ran_at = now_utc()
    log = read_calls(calls, phone_column=phone_column, time_column=time_column)
    _check_names(log)
    with gate.store.connect(read_only=True) as con:
        table = _prepare_calls(con, log, gate.controller)
        usable = f"(SELECT * FROM {table} WHERE problem IS NULL)"
        decided = prepare_decisions(
            con,
            usable,
            phone="phone",
            at=Column("t"),
            controller=Column("controller"),
            call_type=Column("call_type"),
            policy=gate.policy,
        )
        audit = f"og_audit_{next(_names)}"
        con.execute(
            f"CREATE TEMP TABLE {audit} AS SELECT rid, line, t, controller, call_type, campaign, "
            f"agent, call_id, phone, e164, allowed, reason, evidence, rule_set "
            f"FROM ({decided.rows_sql})"
        )
        decided.drop(con)
        summary = summarize(con, audit)
        violation_rows = _iso_rows(
            _rows(
                con,
                f"SELECT line, call_id, t AS called_at, phone, e164, controller, campaign, "
                f"agent, call_type, reason, evidence, rule_set FROM {audit} "
                f"WHERE NOT allowed ORDER BY t, rid LIMIT {JSON_VIOLATIONS}",
            )
        )
        unusable = con.sql(
            f"SELECT line, split_part(problem, ': ', 1) AS column, "
            f"substr(problem, strpos(problem, ': ') + 2) AS problem "
            f"FROM {table} WHERE problem IS NOT NULL ORDER BY rid"
        ).to_arrow_table()
        decisions = con.sql(
            f"SELECT rid, {', '.join(DECISION_COLUMNS)}, line FROM {audit} ORDER BY rid"
        ).to_arrow_table()
        rule_sets = [r[0] for r in con.execute(f"SELECT DISTINCT rule_set FROM {audit}").fetchall()]
        evidence = evidence_loads(con)
        con.execute(f"DROP TABLE {audit}")
        con.execute(f"DROP TABLE {table}")
    calls_table = _calls_table(log, decisions)
    unusable = _with_column_names(unusable, log)
    summary["unusable_rows"] = len(unusable)
    summary["rows_read"] = log.table.num_rows
    summary["exposure"] = exposure(summary["violations"], turnover)
    summary["method"] = method_section(
        policy=gate.policy,
        controller=gate.controller,
        rule_sets=rule_sets,
        evidence=evidence,
        store=_store_name(gate),
        call_log=log.describe(),
        ran_at=ran_at,
    )
    return AuditReport(
        calls=calls_table,
        unusable=unusable,
        summary=summary,
        violation_rows=violation_rows,
        unusable_rows=unusable.slice(0, JSON_VIOLATIONS).to_pylist(),
    )


def _with_column_names(unusable: pa.Table, log: CallLog) -> pa.Table:
    """Name the user's own column in each problem (called_at may be `Datum hovoru`)."""
    canon = unusable.column("column").to_pylist()
    user = [log.columns.get(c, c) for c in canon]
    return unusable.set_column(1, "column", pa.array(user, pa.string()))


def _calls_table(log: CallLog, decisions: pa.Table) -> pa.Table:
    """The log's own columns for the judged rows, then the decision columns and `line`."""
    rids = decisions.column("rid").to_numpy()
    own = log.table.select(log.user_columns).take(pa.array(rids.astype(np.int64)))
    for name in (*DECISION_COLUMNS, "line"):
        own = own.append_column(name, decisions.column(name))
    return own


def _store_name(gate: Gate) -> str:
    path = getattr(gate.store, "path", None)
    return str(path) if path else ":memory:"

"""The audit's figures: set-based SQL over the tables of decided calls.

A table (`audit.query.DECIDED_COLUMNS`) has one row per log row with its decision (NULL
for the rows that could not be judged) and its texts as codes. `fold` scans it into small
tables (`Folded`: per outcome and campaign/agent/controller, per hour, per number called
after an objection, the distinct numbers), the codes read as text only there; 10 million
calls cost a few scans, not a Python loop. A log audited in parts (`audit.parts`) is folded
part by part, and `summarize` adds the folds up: every figure is a GROUP BY over them. The
result is plain JSON types (str, int, float, bool, None, lists, dicts), ready for the JSON.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.audit.query import evidence_sql
from optin_gate.rules import Reason
from optin_gate.store.asof import hour_sql

__all__ = ["REPEAT_LISTED", "Folded", "fold", "summarize"]

# How many of the numbers called again after an objection the summary names (worst first).
REPEAT_LISTED = 50

_GROUPS = ("campaign", "agent", "controller")
_HOUR_US = 3_600_000_000
_names = itertools.count()


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _sorted_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst first: most violations, then most calls, then by name (None last)."""
    return sorted(
        rows,
        key=lambda r: (-int(r["violations"]), -int(r["calls"]), r["name"] is None, r["name"] or ""),
    )


@dataclasses.dataclass(frozen=True)
class Folded:
    """One table of decided calls folded into what the figures add up from.

    Attributes:
        combos: Per (reason, allowed, controller, campaign, agent): calls, first and last.
        hours: Per UTC hour: calls and violations.
        objected: Per number called after its objection: calls, first and last call, the
            latest call's evidence (`objection`) and the campaigns.
        numbers: The distinct number keys of the decided calls, sorted.
    """

    combos: pa.Table
    hours: pa.Table
    objected: pa.Table
    numbers: np.ndarray


def fold(
    con: duckdb.DuckDBPyConnection,
    table: str,
    shapes: str,
    texts: dict[str, str],
    *,
    numbers: pa.ChunkedArray,
) -> Folded:
    """Scan the decided calls into small tables (`Folded`).

    Weeks come from the hours: Prague's offset is a whole number of hours, so each UTC hour
    lies in one Prague week.

    Args:
        con: The connection `table` is visible on.
        table: The decided rows (`DECIDED_COLUMNS`).
        shapes: The decided shapes they refer to (`shape`, `outcome`, `reason`, `allowed`).
        texts: For "controller", "campaign" and "agent", a relation (`code`, `text`) that
            reads the table's codes.
        numbers: The number keys of the decided calls with a valid number.
    """
    coded = ", ".join(texts)
    joins = " ".join(
        f"LEFT JOIN {rel} {name} ON {name}.code = c.{name}" for name, rel in texts.items()
    )
    names = ", ".join(f"{name}.text AS {name}" for name in texts)
    combos = con.sql(
        f"SELECT CAST(s.reason AS VARCHAR) AS reason, s.allowed, "
        f"{names}, c.calls, c.first_call, c.last_call FROM (SELECT outcome, {coded}, "
        f"count(*) AS calls, min(t) AS first_call, max(t) AS last_call FROM {table} "
        f"WHERE shape IS NOT NULL GROUP BY outcome, {coded}) c "
        f"JOIN (SELECT DISTINCT outcome, reason, allowed FROM {shapes}) s "
        f"ON s.outcome = c.outcome {joins}"
    ).to_arrow_table()
    hours = con.sql(
        f"SELECT make_timestamptz(h * {_HOUR_US}) AS hour, "
        f"calls, violations FROM (SELECT {hour_sql('t')} AS h, count(*) AS calls, "
        f"count(*) FILTER (WHERE NOT allowed) AS violations FROM {table} "
        f"WHERE shape IS NOT NULL GROUP BY ALL)"
    ).to_arrow_table()
    objected = con.sql(
        f"""SELECT d.phone, count(*) AS calls, min(d.t) AS first_call, max(d.t) AS last_call,
               arg_max({evidence_sql("d")}, d.t) AS objection,
               list(DISTINCT ca.text ORDER BY ca.text) FILTER (WHERE ca.text IS NOT NULL)
                   AS campaigns
        FROM {table} d LEFT JOIN {texts["campaign"]} ca ON ca.code = d.campaign
        WHERE d.shape IN (SELECT shape FROM {shapes} WHERE reason = '{Reason.OBJECTION.value}')
        GROUP BY d.phone"""
    ).to_arrow_table()
    return Folded(combos, hours, objected, _distinct(numbers))


def _distinct(keys: pa.ChunkedArray | np.ndarray) -> np.ndarray:
    """The distinct values of (int64, NULL-free) keys, sorted.

    numpy's SIMD sort and one pass over neighbours: a hash (DuckDB's count(DISTINCT),
    Arrow's count_distinct) took several times the CPU.
    """
    values = keys if isinstance(keys, np.ndarray) else np.asarray(keys.to_numpy())
    values = np.sort(values, kind="quicksort")
    if len(values) < 2:
        return values
    keep = np.empty(len(values), bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _grouped(con: duckdb.DuckDBPyConnection, combos: str, keys: str) -> list[dict[str, Any]]:
    cur = con.execute(
        f"SELECT {keys}, coalesce(sum(calls), 0)::BIGINT AS calls, "
        f"coalesce(sum(calls) FILTER (WHERE NOT allowed), 0)::BIGINT AS violations, "
        f"min(first_call) AS first_call, max(last_call) AS last_call "
        f"FROM {combos} GROUP BY ALL"
    )
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def summarize(con: duckdb.DuckDBPyConnection, parts: Sequence[Folded]) -> dict[str, Any]:
    """Every figure of the audit, added up from the folds of its parts (`fold`).

    Args:
        con: A connection to add them up on (the folds are registered there for the call).
        parts: The folds, one per part of the log (at least one).

    Returns:
        calls, permitted, violations, violation_rate, distinct_numbers, first_call,
        last_call, by_reason, violations_by_reason, by_campaign, by_agent, by_controller,
        by_week and repeat_objection (see the JSON schema for their shapes).
    """
    n = next(_names)
    combos, hours = f"og_audit_combos_{n}", f"og_audit_hours_{n}"
    con.register(combos, pa.concat_tables([p.combos for p in parts]))
    con.register(hours, pa.concat_tables([p.hours for p in parts]))
    try:
        total = _grouped(con, combos, "TRUE AS all_calls")
        by_reason = [
            {
                "reason": Reason(r["reason"]).value,
                "allowed": bool(r["allowed"]),
                "calls": int(r["calls"]),
                "explanation": Reason(r["reason"]).explanation,
            }
            for r in _grouped(con, combos, "reason, allowed")
        ]
        groups = {
            g: _sorted_groups(
                [
                    {"name": r[g], "calls": int(r["calls"]), "violations": int(r["violations"])}
                    for r in _grouped(con, combos, g)
                ]
            )
            for g in _GROUPS
        }
        week = "date_trunc('week', CAST(timezone('Europe/Prague', hour) AS DATE))"
        weeks = con.execute(
            f"SELECT CAST({week} AS DATE) AS week, sum(calls)::BIGINT, sum(violations)::BIGINT "
            f"FROM {hours} GROUP BY ALL ORDER BY week"
        ).fetchall()
        repeat_objection = _repeat_objection(con, [p.objected for p in parts])
    finally:
        con.unregister(combos)
        con.unregister(hours)
    by_week = []
    for start, calls_in_week, violations_in_week in weeks:
        year, number, _ = start.isocalendar()
        by_week.append(
            {
                "week": f"{year}-W{number:02d}",
                "week_start": start.isoformat(),
                "calls": int(calls_in_week),
                "violations": int(violations_in_week),
            }
        )
    by_reason.sort(key=lambda r: (-int(r["calls"]), str(r["reason"])))
    first = total[0] if total else {"calls": 0, "violations": 0}
    calls, violations = int(first["calls"]), int(first["violations"])
    numbers = parts[0].numbers
    if len(parts) > 1:
        numbers = _distinct(np.concatenate([p.numbers for p in parts]))

    return {
        "calls": calls,
        "permitted": calls - violations,
        "violations": violations,
        "violation_rate": violations / calls if calls else 0.0,
        "distinct_numbers": len(numbers),
        "first_call": _iso(first.get("first_call")),
        "last_call": _iso(first.get("last_call")),
        "by_reason": by_reason,
        "violations_by_reason": [
            {"reason": r["reason"], "violations": r["calls"], "explanation": r["explanation"]}
            for r in by_reason
            if not r["allowed"]
        ],
        "by_campaign": groups["campaign"],
        "by_agent": groups["agent"],
        "by_controller": groups["controller"],
        "by_week": by_week,
        "repeat_objection": repeat_objection,
    }


def _repeat_objection(con: duckdb.DuckDBPyConnection, parts: list[pa.Table]) -> dict[str, Any]:
    """Calls to numbers that had objected: the worst kind, as each one ignored a "no"."""
    per_number = f"og_audit_objected_{next(_names)}"
    con.register(per_number, pa.concat_tables(parts))
    try:
        if len(parts) == 1:
            return _objected(con, per_number)
        # A number called in several parts: its rows added up as one.
        merged = con.sql(
            f"SELECT phone, sum(calls) AS calls, min(first_call) AS first_call, "
            f"max(last_call) AS last_call, arg_max(objection, last_call) AS objection, "
            f"list_sort(list_distinct(flatten(list(campaigns)))) AS campaigns "
            f"FROM {per_number} GROUP BY phone"
        ).to_arrow_table()
    finally:
        con.unregister(per_number)
    con.register(per_number, merged)
    try:
        return _objected(con, per_number)
    finally:
        con.unregister(per_number)


def _objected(con: duckdb.DuckDBPyConnection, per_number: str) -> dict[str, Any]:
    head = con.execute(
        f"SELECT coalesce(sum(calls), 0), count(*), count(*) FILTER (WHERE calls > 1) "
        f"FROM {per_number}"
    ).fetchall()[0]
    calls, numbers, repeated = (int(v) for v in head)
    worst = con.execute(
        f"SELECT '+' || CAST(phone AS VARCHAR) AS e164, * EXCLUDE (phone) FROM {per_number} "
        f"ORDER BY calls DESC, last_call DESC, e164 "
        f"LIMIT {REPEAT_LISTED}"
    ).fetchall()
    return {
        "calls": calls,
        "numbers": numbers,
        "numbers_called_more_than_once": repeated,
        "worst": [
            {
                "e164": e164,
                "calls": int(n),
                "first_call": _iso(first),
                "last_call": _iso(last),
                "objection": objection,
                "campaigns": list(campaigns or []),
            }
            for e164, n, first, last, objection, campaigns in worst
        ],
    }

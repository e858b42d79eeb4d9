"""The audit's figures: set-based SQL over the table of decided calls.

The table (`audit.query.DECIDED_COLUMNS`) has one row per log row with its decision (NULL
for the rows that could not be judged) and its texts as codes. Two scans fold it into small
tables (per decided shape and campaign/agent/controller code, and per hour), the codes are
read as text only there, and every figure is a GROUP BY over those; 10 million calls cost a
few scans, not a Python loop. The result is plain JSON types (str, int, float, bool, None,
lists, dicts), ready for the JSON.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.audit.query import evidence_sql
from optin_gate.rules import Reason
from optin_gate.store.asof import hour_sql

__all__ = ["REPEAT_LISTED", "distinct_keys", "summarize"]

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


def _fold(
    con: duckdb.DuckDBPyConnection, table: str, shapes: str, texts: dict[str, str]
) -> tuple[str, str]:
    """Scan the calls once into two small temp tables: per combination, and per UTC hour.

    Every figure is then a GROUP BY over a few thousand rows. Weeks come from the hours:
    Prague's offset is a whole number of hours, so each UTC hour lies in one Prague week.
    """
    n = next(_names)
    combos, hours = f"og_audit_combos_{n}", f"og_audit_hours_{n}"
    coded = ", ".join(texts)
    joins = " ".join(
        f"LEFT JOIN {rel} {name} ON {name}.code = c.{name}" for name, rel in texts.items()
    )
    names = ", ".join(f"{name}.text AS {name}" for name in texts)
    con.execute(
        f"CREATE TEMP TABLE {combos} AS SELECT CAST(s.reason AS VARCHAR) AS reason, s.allowed, "
        f"{names}, c.calls, c.first_call, c.last_call FROM (SELECT outcome, {coded}, "
        f"count(*) AS calls, min(t) AS first_call, max(t) AS last_call FROM {table} "
        f"WHERE shape IS NOT NULL GROUP BY outcome, {coded}) c "
        f"JOIN (SELECT DISTINCT outcome, reason, allowed FROM {shapes}) s "
        f"ON s.outcome = c.outcome {joins}"
    )
    con.execute(
        f"CREATE TEMP TABLE {hours} AS SELECT make_timestamptz(h * {_HOUR_US}) AS hour, "
        f"calls, violations FROM (SELECT {hour_sql('t')} AS h, count(*) AS calls, "
        f"count(*) FILTER (WHERE NOT allowed) AS violations FROM {table} "
        f"WHERE shape IS NOT NULL GROUP BY ALL)"
    )
    return combos, hours


def _grouped(con: duckdb.DuckDBPyConnection, combos: str, keys: str) -> list[dict[str, Any]]:
    cur = con.execute(
        f"SELECT {keys}, coalesce(sum(calls), 0)::BIGINT AS calls, "
        f"coalesce(sum(calls) FILTER (WHERE NOT allowed), 0)::BIGINT AS violations, "
        f"min(first_call) AS first_call, max(last_call) AS last_call "
        f"FROM {combos} GROUP BY ALL"
    )
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def distinct_keys(keys: pa.ChunkedArray) -> int:
    """How many distinct values the (int64, NULL-free) keys hold.

    numpy's SIMD sort and one pass over neighbours cost several times less CPU than a hash
    (DuckDB's count(DISTINCT), Arrow's count_distinct).
    """
    values = np.sort(np.asarray(keys.to_numpy()), kind="quicksort")
    return int(np.count_nonzero(np.diff(values))) + 1 if len(values) else 0


def summarize(
    con: duckdb.DuckDBPyConnection,
    table: str,
    shapes: str,
    texts: dict[str, str],
    *,
    numbers: pa.ChunkedArray,
) -> dict[str, Any]:
    """Every figure of the audit over `table` (a relation with `DECIDED_COLUMNS`).

    Args:
        con: The connection `table` is visible on.
        table: The decided rows.
        shapes: The decided shapes they refer to (`shape`, `outcome`, `reason`, `allowed`).
        texts: For "controller", "campaign" and "agent", a relation (`code`, `text`) that
            reads the table's codes.
        numbers: The number keys of the decided calls with a valid number (for the count of
            distinct numbers called).

    Returns:
        calls, permitted, violations, violation_rate, distinct_numbers, first_call,
        last_call, by_reason, violations_by_reason, by_campaign, by_agent, by_controller,
        by_week and repeat_objection (see the JSON schema for their shapes).
    """
    combos, hours = _fold(con, table, shapes, texts)
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
    finally:
        con.execute(f"DROP TABLE IF EXISTS {combos}")
        con.execute(f"DROP TABLE IF EXISTS {hours}")
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

    return {
        "calls": calls,
        "permitted": calls - violations,
        "violations": violations,
        "violation_rate": violations / calls if calls else 0.0,
        "distinct_numbers": distinct_keys(numbers),
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
        "repeat_objection": _repeat_objection(con, table, shapes, texts["campaign"]),
    }


def _repeat_objection(
    con: duckdb.DuckDBPyConnection, table: str, shapes: str, campaigns: str
) -> dict[str, Any]:
    """Calls to numbers that had objected: the worst kind, as each one ignored a "no"."""
    per_number = f"og_audit_objected_{next(_names)}"
    con.execute(
        f"""CREATE TEMP TABLE {per_number} AS
        SELECT d.phone, count(*) AS calls, min(d.t) AS first_call, max(d.t) AS last_call,
               arg_max({evidence_sql("d")}, d.t) AS objection,
               list(DISTINCT ca.text ORDER BY ca.text) FILTER (WHERE ca.text IS NOT NULL)
                   AS campaigns
        FROM {table} d LEFT JOIN {campaigns} ca ON ca.code = d.campaign
        WHERE d.shape IN (SELECT shape FROM {shapes} WHERE reason = '{Reason.OBJECTION.value}')
        GROUP BY d.phone"""
    )
    try:
        return _objected(con, per_number)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {per_number}")


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

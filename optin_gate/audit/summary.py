"""The audit's figures: set-based SQL over the table of decided calls.

The table (`AUDIT_COLUMNS`) has one row per usable call with its decision. Every figure here is
a GROUP BY over it, most of them in one scan (GROUPING SETS), so 10 million calls cost a few
scans, not a Python loop. The result is plain JSON types (str, int, float, bool, None, lists,
dicts) so it goes into the JSON report as is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from optin_gate.rules import Reason

__all__ = ["AUDIT_COLUMNS", "REPEAT_LISTED", "summarize"]

# What the table of decided calls holds (SQL types); `summarize` needs exactly these.
AUDIT_COLUMNS: dict[str, str] = {
    "rid": "BIGINT",  # 0-based position of the call among the rows read
    "line": "BIGINT",  # 1-based line in the call log file (NULL for frames)
    "t": "TIMESTAMPTZ",  # when the call was made
    "controller": "VARCHAR",  # the calling company this call was judged for
    "call_type": "VARCHAR",  # live | automated
    "campaign": "VARCHAR",
    "agent": "VARCHAR",
    "call_id": "VARCHAR",
    "phone": "VARCHAR",  # the number as written in the log
    "e164": "VARCHAR",
    "allowed": "BOOLEAN",
    "reason": "VARCHAR",
    "evidence": "VARCHAR",
    "rule_set": "VARCHAR",
}

# How many of the numbers called again after an objection the summary names (worst first).
REPEAT_LISTED = 50

_GROUPS = ("campaign", "agent", "controller")


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
        rows, key=lambda r: (-r["violations"], -r["calls"], r["name"] is None, r["name"] or "")
    )


def summarize(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """Every figure of the audit over `table` (a relation with `AUDIT_COLUMNS`).

    Returns:
        calls, permitted, violations, violation_rate, distinct_numbers, first_call,
        last_call, by_reason, violations_by_reason, by_campaign, by_agent, by_controller,
        by_week and repeat_objection (see the JSON schema for their shapes).
    """
    week = "date_trunc('week', CAST(timezone('Europe/Prague', t) AS DATE))"
    rows = con.execute(
        f"""
        SELECT grouping(reason, allowed) AS g_reason, grouping(campaign) AS g_campaign,
               grouping(agent) AS g_agent, grouping(controller) AS g_controller,
               grouping(week) AS g_week,
               reason, allowed, campaign, agent, controller, week,
               count(*) AS calls, count(*) FILTER (WHERE NOT allowed) AS violations,
               min(t) AS first_call, max(t) AS last_call
        FROM (SELECT *, CAST({week} AS DATE) AS week FROM {table})
        GROUP BY GROUPING SETS ((reason, allowed), (campaign), (agent), (controller), (week), ())
        """
    ).fetchall()
    names = [d[0] for d in con.description or ()]
    total: dict[str, Any] = {"calls": 0, "violations": 0, "first_call": None, "last_call": None}
    by_reason: list[dict[str, Any]] = []
    groups: dict[str, list[dict[str, Any]]] = {g: [] for g in _GROUPS}
    by_week: list[dict[str, Any]] = []
    for values in rows:
        r = dict(zip(names, values, strict=True))
        counts = {"calls": int(r["calls"]), "violations": int(r["violations"])}
        if r["g_reason"] == 0:
            reason = Reason(r["reason"])
            by_reason.append(
                {
                    "reason": reason.value,
                    "allowed": bool(r["allowed"]),
                    "calls": counts["calls"],
                    "explanation": reason.explanation,
                }
            )
        elif r["g_week"] == 0:
            start: date = r["week"]
            year, number, _ = start.isocalendar()
            by_week.append(
                {"week": f"{year}-W{number:02d}", "week_start": start.isoformat(), **counts}
            )
        elif r["g_reason"] == 3 and all(r[f"g_{g}"] == 1 for g in (*_GROUPS, "week")):
            total = {**counts, "first_call": r["first_call"], "last_call": r["last_call"]}
        else:
            for g in _GROUPS:
                if r[f"g_{g}"] == 0:
                    groups[g].append({"name": r[g], **counts})
    by_reason.sort(key=lambda r: (-r["calls"], r["reason"]))
    by_week.sort(key=lambda w: w["week_start"])
    calls, violations = total["calls"], total["violations"]
    distinct = con.execute(f"SELECT count(DISTINCT e164) FROM {table}").fetchall()[0]
    return {
        "calls": calls,
        "permitted": calls - violations,
        "violations": violations,
        "violation_rate": violations / calls if calls else 0.0,
        "distinct_numbers": int(distinct[0]),
        "first_call": _iso(total["first_call"]),
        "last_call": _iso(total["last_call"]),
        "by_reason": by_reason,
        "violations_by_reason": [
            {"reason": r["reason"], "violations": r["calls"], "explanation": r["explanation"]}
            for r in by_reason
            if not r["allowed"]
        ],
        "by_campaign": _sorted_groups(groups["campaign"]),
        "by_agent": _sorted_groups(groups["agent"]),
        "by_controller": _sorted_groups(groups["controller"]),
        "by_week": by_week,
        "repeat_objection": _repeat_objection(con, table),
    }


def _repeat_objection(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """Calls to numbers that had objected: the worst kind, as each one ignored a "no"."""
    per_number = f"""
        SELECT e164, count(*) AS calls, min(t) AS first_call, max(t) AS last_call,
               arg_max(evidence, t) AS objection,
               list(DISTINCT campaign ORDER BY campaign) FILTER (WHERE campaign IS NOT NULL)
                   AS campaigns
        FROM {table} WHERE reason = '{Reason.OBJECTION.value}'
        GROUP BY e164
    """
    head = con.execute(
        f"SELECT coalesce(sum(calls), 0), count(*), count(*) FILTER (WHERE calls > 1) "
        f"FROM ({per_number})"
    ).fetchall()[0]
    calls, numbers, repeated = (int(v) for v in head)
    worst = con.execute(
        f"SELECT * FROM ({per_number}) ORDER BY calls DESC, last_call DESC, e164 "
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

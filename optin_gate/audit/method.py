"""The method section: everything needed to reproduce an audit years later.

Which rules and policy decided, which evidence loads (file names, SHA-256, dates) the decisions
rest on, the SHA-256 of the call log itself, the optin_gate version and when the audit ran.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from optin_gate.policy import Policy
from optin_gate.rules import PRELUDE, RULE_SETS

__all__ = [
    "decision_order",
    "evidence_loads",
    "json_rows",
    "json_value",
    "method_section",
    "policy_dict",
]

_LOAD_COLUMNS = (
    "load_id",
    "kind",
    "file_name",
    "sha256",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "loaded_at",
    "controller",
    "snapshot_date",
)


def json_value(value: object) -> object:
    """A date, datetime (as UTC) or tuple as its JSON form; anything else as is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def json_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The rows of a query as dicts of JSON values (`json_value`)."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or ()]
    return [{k: json_value(v) for k, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def policy_dict(policy: Policy) -> dict[str, Any]:
    """Every policy setting, as JSON values."""
    return {f.name: json_value(getattr(policy, f.name)) for f in dataclasses.fields(policy)}


def decision_order() -> list[dict[str, Any]]:
    """The decision table in order (docs/rules.md § 1.4), with where each rule comes from."""
    rows: list[dict[str, Any]] = []
    for rule_set, rules in (("all", PRELUDE), *((rs.name, rs.rules) for rs in RULE_SETS)):
        for rule in rules:
            rows.append(
                {
                    "rule_set": rule_set,
                    "reason": rule.reason.value,
                    "allowed": rule.reason.allowed,
                    "note": rule.note,
                }
            )
    return rows


def evidence_loads(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The store's load history and directory snapshot range, read on `con`."""
    cols = ", ".join(_LOAD_COLUMNS)
    rows = con.execute(f"SELECT {cols} FROM loads ORDER BY load_id").fetchall()
    loads = [{k: json_value(v) for k, v in zip(_LOAD_COLUMNS, row, strict=True)} for row in rows]
    snap = con.execute(
        "SELECT count(*), min(snapshot_date), max(snapshot_date) FROM directory_snapshots"
    ).fetchall()
    count, first, last = snap[0] if snap else (0, None, None)
    return {
        "loads": loads,
        "directory_snapshots": {
            "count": int(count),
            "first": json_value(first),
            "last": json_value(last),
        },
    }


def method_section(
    *,
    policy: Policy,
    controller: str,
    rule_sets: list[str],
    evidence: dict[str, Any],
    store: str,
    call_log: dict[str, Any],
    ran_at: datetime,
) -> dict[str, Any]:
    """The method section of the report (see the JSON schema's `method`)."""
    from optin_gate import __version__

    return {
        "optin_gate_version": __version__,
        "audit_ran_at": json_value(ran_at),
        "controller": controller,
        "time_zone": "Europe/Prague",
        "rule_sets_applied": sorted(rule_sets),
        "decision_order": decision_order(),
        "policy": policy_dict(policy),
        "call_log": call_log,
        "evidence": {"store": store, **evidence},
    }

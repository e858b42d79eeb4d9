"""The decided table's compact rows: which rule decided, and on what evidence; text on output.

`prepare_decisions` writes one row per key for millions of keys. Spelling out the reason, the
evidence ("consent:" and the id) and the rule set as text there, only to cast it back to small
types, cost more than the joins around it. So a row keeps the number of the first matching
row of the decision table (`compile_rules(policy).rule_number_sql`, the same conditions the
rules compile to everywhere), the bare evidence value and the rule set as a one-byte enum;
`decision_columns_sql` spells them out as documented when the rows are read. The numbering of
the decision table does not depend on the policy (it only binds conditions), so a reader needs
no policy.
"""

from __future__ import annotations

import functools

from optin_gate.policy import Policy
from optin_gate.rules import (
    NO_RULE_SET,
    PRELUDE,
    RULE_SETS,
    Reason,
    compile_rules,
    label_sql,
    rule_set_for,
)
from optin_gate.rules.base import EVIDENCE_FIELDS
from optin_gate.rules.expr import sql_literal

__all__ = ["allowed_sql", "decision_columns_sql", "reason_of", "stored_columns_sql"]


def _enum(values: list[str]) -> str:
    return "ENUM(" + ", ".join(sql_literal(v) for v in dict.fromkeys(values)) + ")"


_RULE_SET_TYPE = _enum(
    [NO_RULE_SET]
    + [rs.label() for rs in RULE_SETS]
    + [label for rs in RULE_SETS for _, label in rs.labels]
)


@functools.cache
def _table() -> tuple[tuple[Reason, str | None], ...]:
    """Per rule number: its reason and the fact naming its evidence (as numbered for any policy)."""
    rows = compile_rules(Policy()).rows
    return tuple((r.reason, r.evidence.name if r.evidence else None) for r in rows)


def reason_of(rule: int) -> Reason:
    """The reason of a rule number stored in a decided table."""
    return _table()[rule][0]


def _numbers(when: str | None = None, *, allowing: bool = False) -> str:
    """Comma-separated rule numbers whose evidence fact is `when` (or which allow the call)."""
    picked = [
        str(i)
        for i, (reason, field) in enumerate(_table())
        if (reason.allowed if allowing else field == when)
    ]
    return ", ".join(picked) or "NULL"


def stored_columns_sql(relation: str, keys: tuple[str, ...], policy: Policy) -> str:
    """A query deciding every row of `relation` (the `Facts` columns, `phone`, keys and `n`).

    Returns:
        SQL giving the keys, `n`, `phone`, `allowed`, `rule` (UTINYINT), `evidence` (the id
        behind a consent, contract or objection), `evidence_date` (the directory snapshot
        behind a directory decision) and `rule_set` (enum).
    """
    compiled = compile_rules(policy)
    if tuple((r.reason, r.evidence.name if r.evidence else None) for r in compiled.rows) != (
        _table()
    ):  # pragma: no cover - a policy changing the table's shape would need its own reader
        raise AssertionError("the decision table's numbering depends on the policy")
    ids = " ".join(
        f"WHEN rule IN ({_numbers(field)}) THEN CAST({field} AS VARCHAR)"
        for field in EVIDENCE_FIELDS
        if field != "directory_date"
    )
    default = rule_set_for(policy.default_region)
    labels = [f"WHEN rule < {len(PRELUDE)} THEN {label_sql(default, policy)}"]
    start = len(PRELUDE)
    for rs in RULE_SETS:
        labels.append(f"WHEN rule < {start + len(rs.rules)} THEN {label_sql(rs, policy)}")
        start += len(rs.rules)
    columns = ", ".join(
        (
            *keys,
            "CAST(n AS INTEGER) AS n",
            "phone",
            f"rule IN ({_numbers(allowing=True)}) AS allowed",
            "CAST(rule AS UTINYINT) AS rule",
            f"CASE {ids} END AS evidence",
            f"CASE WHEN rule IN ({_numbers('directory_date')}) THEN directory_date "
            f"END AS evidence_date",
            f"CAST(CASE {' '.join(labels)} ELSE '{NO_RULE_SET}' END AS {_RULE_SET_TYPE}) "
            f"AS rule_set",
        )
    )
    return f"SELECT {columns} FROM (SELECT *, {compiled.rule_number_sql} AS rule FROM {relation})"


def allowed_sql(alias: str = "d") -> str:
    """SQL: the decided row `alias` allows the call."""
    return f"{alias}.allowed"


def decision_columns_sql(alias: str = "d") -> str:
    """SQL for `DECISION_COLUMNS` (text and boolean, as documented) from a decided row."""
    d = alias
    reasons = " ".join(f"WHEN {i} THEN '{reason.value}'" for i, (reason, _) in enumerate(_table()))
    evidence = " ".join(
        f"WHEN {i} THEN "
        + (
            f"'directory:' || CAST({d}.evidence_date AS VARCHAR)"
            if field == "directory_date"
            else f"'{EVIDENCE_FIELDS[field]}:' || {d}.evidence"
        )
        for i, (_, field) in enumerate(_table())
        if field is not None
    )
    return (
        f"'+' || CAST({d}.phone AS VARCHAR) AS e164, "
        f"coalesce({d}.allowed, FALSE) AS allowed, "
        f"CASE {d}.rule {reasons} END AS reason, "
        f"CASE {d}.rule {evidence} END AS evidence, "
        f"CAST({d}.rule_set AS VARCHAR) AS rule_set"
    )

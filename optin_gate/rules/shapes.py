"""The rules applied once per distinct shape of facts, not once per row.

A decision reads a row's `Facts`; of the record ids it only asks whether there is one (the
rules name them only under `IsNull` / `NotNull`: `decide_facts` checks), and names the one
it rests on as the evidence. So the reason, the rule set and the evidence text around the id
depend only on the row's *shape*: the facts with each id reduced to present or missing. A list
of ten million numbers has a few thousand shapes.

`decide_facts` runs the rule set's own SQL (`compile_rules(policy).decision_sql`) over a
table of shapes with a marker standing in for each present id, and reads back from each
evidence text which id it names and the text around it. A row's evidence is that text with
the row's own id put back in place of the marker. The batch engine and the audit both decide
this way; each packs its shapes its own way.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import duckdb
import pyarrow as pa

from optin_gate.numbers._arrow import fixed_array, string_array
from optin_gate.policy import Policy
from optin_gate.rules import RULE_SETS, compile_rules
from optin_gate.rules.expr import Expr, Field, IsNull, NotNull

__all__ = ["ID_FIELDS", "decide_facts", "marker", "template"]

# The ids a decision may name as its evidence, in the order of `ev_field` (1, 2, 3).
ID_FIELDS = ("objection_id", "consent_id", "contract_id")

_names = itertools.count()


def marker(field: str) -> str:
    """The text standing in for a present id of `field` in a shape's facts."""
    return f"\x1f{field}\x1f"


def template(evidence: str | None) -> tuple[int, str | None, str | None]:
    """(which id the evidence names, text before it, text after it); 0 when it names none."""
    if evidence is None:
        return 0, None, None
    for i, field in enumerate(ID_FIELDS, start=1):
        mark = marker(field)
        if mark in evidence:
            before, after = evidence.split(mark, 1)
            if any(marker(f) in before + after for f in ID_FIELDS):
                raise AssertionError("a decision's evidence names two records")
            return i, before, after
    return 0, evidence, None


def _ids_only_tested_for_presence(node: object, *, under_null_test: bool = False) -> bool:
    """True when every id field in `node` sits directly under `IsNull` / `NotNull`."""
    if isinstance(node, Field):
        return under_null_test or node.name not in ID_FIELDS
    if isinstance(node, IsNull | NotNull):
        return _ids_only_tested_for_presence(node.field, under_null_test=True)
    if isinstance(node, tuple):
        return all(_ids_only_tested_for_presence(child) for child in node)
    if isinstance(node, Expr) and dataclasses.is_dataclass(node):
        return all(
            _ids_only_tested_for_presence(getattr(node, f.name)) for f in dataclasses.fields(node)
        )
    return True  # a literal


@functools.lru_cache(maxsize=32)
def _check_rules(policy: Policy) -> None:
    """Shapes decide like rows only if no rule (or regime label) looks at an id's value."""
    nodes: list[object] = [row.condition for row in compile_rules(policy).rows]
    nodes += [cond for rs in RULE_SETS for cond, _ in rs.bound_labels(policy)]
    if not all(_ids_only_tested_for_presence(node) for node in nodes):
        raise AssertionError(
            "a rule compares a record id's value: deciding once per shape would be wrong"
        )


def decide_facts(con: duckdb.DuckDBPyConnection, facts: pa.Table, policy: Policy) -> pa.Table:
    """Decide each row of `facts` (one shape per row) with the policy's rule set.

    Args:
        con: Any DuckDB connection (only the table passed in is read).
        facts: A `code` column identifying the shape and the `Facts` columns, each id column
            holding `marker(field)` when the shape has one, else null.
        policy: The policy the rules are bound to.

    Returns:
        One row per row of `facts`, in no set order: `code`, `allowed`, `reason`, `rule_set`,
        `ev_field` (0: the evidence is `ev_before` as it stands, or none; i: it is
        `ev_before`, the row's `ID_FIELDS[i - 1]`, then `ev_after`), `ev_before`, `ev_after`.
    """
    _check_rules(policy)
    name = f"og_shapes_in_{next(_names)}"
    con.register(name, facts)
    try:
        decided = con.sql(
            f"SELECT code, allowed, reason, rule_set, evidence "
            f"FROM ({compile_rules(policy).decision_sql(name)})"
        ).to_arrow_table()
    finally:
        con.unregister(name)
    parts = [template(e) for e in decided.column("evidence").to_pylist()]
    kept = decided.select(["code", "allowed", "reason", "rule_set"])
    # Built through buffers: pyarrow would import pandas to convert Python lists.
    return (
        kept.append_column("ev_field", fixed_array([p[0] for p in parts], pa.int8()))
        .append_column("ev_before", string_array([p[1] for p in parts]))
        .append_column("ev_after", string_array([p[2] for p in parts]))
    )

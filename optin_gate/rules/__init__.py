"""The law as data: ordered rules, compiled once per policy to SQL and to Python.

`RULE_SETS` is the registry of countries; `PRELUDE` holds docs/rules.md § 1.4 rows 1 and 2, which
come before any country's rules. `compile_rules(policy)` binds the policy and produces both
forms from the same rule objects: `decision_sql()` for the batch engine and `decide()` for the
dial checker, so the two cannot drift. Adding a country is one module and one entry below.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date

from optin_gate._sql import sql_literal
from optin_gate.policy import Policy
from optin_gate.rules.base import EVIDENCE_FIELDS, Rule, RuleSet
from optin_gate.rules.cz import CZ
from optin_gate.rules.decision import DECISION_COLUMNS, DECISION_SCHEMA, NOTE_FIELD, Decision
from optin_gate.rules.expr import Expr, Field, In, IsTrue, Not, py_ref
from optin_gate.rules.facts import FACT_COLUMNS, Facts
from optin_gate.rules.reasons import Reason
from optin_gate.rules.sk import SK

__all__ = [
    "DECISION_COLUMNS",
    "DECISION_SCHEMA",
    "FACT_COLUMNS",
    "NOTE_FIELD",
    "PRELUDE",
    "RULE_SETS",
    "CompiledRules",
    "Decision",
    "Facts",
    "Reason",
    "Rule",
    "RuleSet",
    "compile_rules",
    "label_sql",
    "rule_set_for",
]

# Every country's rule set. Order does not matter: regions may not overlap.
RULE_SETS: tuple[RuleSet, ...] = (CZ, SK)

NO_RULE_SET = "none"


def _supported_regions() -> tuple[str, ...]:
    return tuple(sorted(r for rs in RULE_SETS for r in rs.regions))


PRELUDE: tuple[Rule, ...] = (
    Rule(Reason.INVALID_NUMBER, Not(IsTrue(Field("valid"))), note="never dial an invalid number"),
    Rule(
        Reason.UNSUPPORTED_REGION,
        Not(In(Field("country"), _supported_regions())),
        note="no rule set for the number's country: fail closed",
    ),
)


def rule_set_for(region: str | None) -> RuleSet | None:
    """The rule set deciding numbers of `region`, or None."""
    for rs in RULE_SETS:
        if region in rs.regions:
            return rs
    return None


@dataclasses.dataclass(frozen=True)
class _Row:
    """One rule bound to a policy, with its place in the flattened decision table."""

    number: int
    reason: Reason
    condition: Expr
    evidence: Field | None
    rule_set: RuleSet | None


def _evidence_sql(field: Field | None) -> str:
    if field is None:
        return "NULL"
    prefix = EVIDENCE_FIELDS[field.name]
    value = f"CAST({field.name} AS VARCHAR)"
    return f"('{prefix}:' || {value})"


def _evidence_py(field: Field | None, var: str) -> str:
    if field is None:
        return "None"
    prefix = EVIDENCE_FIELDS[field.name]
    value = py_ref(var, field.name)
    text = f"{value}.isoformat()" if FACT_COLUMNS[field.name] == "DATE" else f"str({value})"
    return f"(None if {value} is None else {prefix + ':'!r} + {text})"


def label_sql(rs: RuleSet | None, policy: Policy) -> str:
    """SQL naming the rule set and its regime for a row of facts (`rule_set` in outputs)."""
    if rs is None:
        return sql_literal(NO_RULE_SET)
    whens = "".join(
        f" WHEN {cond.sql()} THEN {sql_literal(label)}" for cond, label in rs.bound_labels(policy)
    )
    default = sql_literal(rs.label())
    return f"(CASE{whens} ELSE {default} END)" if whens else default


def _label_py(rs: RuleSet | None, policy: Policy, var: str) -> str:
    if rs is None:
        return repr(NO_RULE_SET)
    text = repr(rs.label())
    for cond, label in reversed(rs.bound_labels(policy)):
        text = f"({label!r} if {cond.py(var)} else {text})"
    return text


@dataclasses.dataclass(frozen=True)
class CompiledRules:
    """The decision table for one policy, as SQL and as a Python function.

    Attributes:
        policy: The policy the conditions were bound to.
        rows: The flattened decision table: prelude, then each rule set's rules.
    """

    policy: Policy
    rows: tuple[_Row, ...]

    @functools.cached_property
    def rule_number_sql(self) -> str:
        """SQL: the number of the first matching row (over columns named as `Facts` fields)."""
        whens = []
        for row in self.rows:
            cond = row.condition.sql()
            if row.rule_set is not None:
                regions = In(Field("country"), tuple(sorted(row.rule_set.regions))).sql()
                cond = f"{regions} AND {cond}"
            whens.append(f"WHEN {cond} THEN {row.number}")
        return "CASE " + " ".join(whens) + " END"

    def decision_sql(self, relation: str) -> str:
        """A query adding `reason, allowed, evidence, rule_set` to every row of `relation`.

        Args:
            relation: A table, view or parenthesised subquery with the `Facts` columns.
        """
        reason = " ".join(f"WHEN {r.number} THEN {sql_literal(r.reason.value)}" for r in self.rows)
        allowing = ", ".join(str(r.number) for r in self.rows if r.reason.allowed)
        evidence = " ".join(f"WHEN {r.number} THEN {_evidence_sql(r.evidence)}" for r in self.rows)
        default_rs = rule_set_for(self.policy.default_region)
        labels = " ".join(
            f"WHEN {In(Field('country'), tuple(sorted(rs.regions))).sql()} "
            f"THEN {label_sql(rs, self.policy)}"
            for rs in RULE_SETS
        )
        return (
            f"SELECT * EXCLUDE (__rule), "
            f"CASE __rule {reason} END AS reason, "
            f"coalesce(__rule IN ({allowing}), FALSE) AS allowed, "
            f"CASE __rule {evidence} END AS evidence, "
            f"CASE WHEN __rule < {len(PRELUDE)} THEN {label_sql(default_rs, self.policy)} "
            f"{labels} ELSE '{NO_RULE_SET}' END AS rule_set "
            f"FROM (SELECT *, {self.rule_number_sql} AS __rule FROM {relation})"
        )

    @functools.cached_property
    def python_source(self) -> str:
        """The generated Python source of `decide` (for readers and debugging)."""
        return self._source("f")

    def _source(self, v: str) -> str:
        """`decide(f)` over a `Facts` named `v`, or `decide(valid, country, ...)` when `v` is ''."""
        default_rs = rule_set_for(self.policy.default_region)
        lines = [f"def decide({v or ', '.join(FACT_COLUMNS)}):"]
        for row in self.rows[: len(PRELUDE)]:
            lines.append(f"    if {row.condition.py(v)}:")
            lines.append(
                f"        return (_R[{row.number}], {_evidence_py(row.evidence, v)}, "
                f"{_label_py(default_rs, self.policy, v)})"
            )
        country = py_ref(v, "country")
        for rs in RULE_SETS:
            lines.append(f"    if {country} in {tuple(sorted(rs.regions))!r}:")
            lines.append(f"        label = {_label_py(rs, self.policy, v)}")
            for row in self.rows:
                if row.rule_set is rs:
                    lines.append(f"        if {row.condition.py(v)}:")
                    ev = _evidence_py(row.evidence, v)
                    lines.append(f"            return (_R[{row.number}], {ev}, label)")
        facts = v or f"({', '.join(FACT_COLUMNS)})"
        lines.append(f"    raise AssertionError('no rule matched: ' + repr({facts}))")
        return "\n".join(lines) + "\n"

    def _compiled(self, source: str) -> Callable[..., tuple[Reason, str | None, str]]:
        from optin_gate.store.semantics import release_due  # loads numba: not at import

        namespace: dict[str, object] = {
            "_R": [r.reason for r in self.rows],
            "_date": date,
            "_due": release_due,
        }
        exec(compile(source, "<optin_gate.rules>", "exec"), namespace)
        return namespace["decide"]  # type: ignore[return-value]

    @functools.cached_property
    def decide(self) -> Callable[[Facts], tuple[Reason, str | None, str]]:
        """Decide one `Facts`: (reason, evidence, rule_set). Generated code: no tree walk."""
        return self._compiled(self.python_source)

    @functools.cached_property
    def decide_values(self) -> Callable[..., tuple[Reason, str | None, str]]:
        """`decide` taking the `Facts` fields as positional arguments, in field order.

        The dial path's form: building a frozen `Facts` costs three times the decision.
        """
        return self._compiled(self._source(""))

    def decision(self, facts: Facts, e164: str | None) -> Decision:
        """The `Decision` for one `Facts`."""
        reason, evidence, rule_set = self.decide(facts)
        return Decision(reason.allowed, reason, e164, evidence, rule_set)


@functools.lru_cache(maxsize=32)
def compile_rules(policy: Policy) -> CompiledRules:
    """Bind every rule to `policy` and number the rows of the decision table."""
    rows: list[_Row] = []
    for rule in PRELUDE:
        rows.append(_Row(len(rows), rule.reason, rule.condition(policy), rule.evidence, None))
    for rs in RULE_SETS:
        last = rs.rules[-1].condition(policy)
        if last.sql() != "TRUE":
            raise ValueError(f"rule set {rs.name}: the last rule must always hold")
        for rule in rs.rules:
            rows.append(_Row(len(rows), rule.reason, rule.condition(policy), rule.evidence, rs))
    return CompiledRules(policy, tuple(rows))

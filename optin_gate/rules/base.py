"""`Rule` and `RuleSet`: a country's law as an ordered tuple of (condition, reason).

Like sqlglot's optimizer rules, the tuple's order is the precedence: the first rule whose
condition holds decides. Conditions may depend on the `Policy`, so a rule holds a function
from policy to condition; `optin_gate.rules.compile` binds them once per policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from optin_gate.policy import Policy
from optin_gate.rules.expr import Expr, Field
from optin_gate.rules.reasons import Reason

__all__ = ["EVIDENCE_FIELDS", "Condition", "Rule", "RuleSet"]

Condition = Expr | Callable[[Policy], Expr]

# Which facts can name the evidence of a decision, and the prefix that says what kind of record.
EVIDENCE_FIELDS: dict[str, str] = {
    "objection_id": "objection",
    "consent_id": "consent",
    "contract_id": "contract",
    "directory_date": "directory",
    "register_date": "register",
}


def _bind(condition: Condition, policy: Policy) -> Expr:
    return condition if isinstance(condition, Expr) else condition(policy)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One row of a decision table: when `when` holds, the decision is `reason`.

    Attributes:
        reason: The decision's reason; whether it allows the call follows from it.
        when: The condition, or a function building it from the policy.
        evidence: The fact whose value names the record behind the decision, if any.
        note: Where the rule comes from (statute or docs/rules.md section), for readers.
    """

    reason: Reason
    when: Condition
    evidence: Field | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.evidence is not None and self.evidence.name not in EVIDENCE_FIELDS:
            raise ValueError(f"{self.evidence.name!r} cannot name evidence")

    def condition(self, policy: Policy) -> Expr:
        """The condition with the policy's settings filled in."""
        return _bind(self.when, policy)


@dataclasses.dataclass(frozen=True)
class RuleSet:
    """A country's rules, applied to numbers of its regions.

    Attributes:
        name: Short name, e.g. "CZ".
        regions: ISO region codes whose numbers this rule set decides.
        rules: The ordered rules; the last must always hold so that every number is decided.
        labels: (condition, label) pairs naming the regime in force, first match wins;
            e.g. the CZ set says `CZ-opt-out` before `opt_in_from`.
        default_label: The label when no pair matches.
    """

    name: str
    regions: frozenset[str]
    rules: tuple[Rule, ...]
    labels: tuple[tuple[Condition, str], ...] = ()
    default_label: str = ""

    def bound_labels(self, policy: Policy) -> tuple[tuple[Expr, str], ...]:
        """The regime labels with the policy's settings filled in."""
        return tuple((_bind(cond, policy), label) for cond, label in self.labels)

    def label(self) -> str:
        """The label used when no regime condition matches."""
        return self.default_label or self.name

"""`Decision`: the answer for one number, one time, one call type."""

from __future__ import annotations

import dataclasses

import pyarrow as pa

from optin_gate.rules.reasons import Reason

__all__ = ["DECISION_COLUMNS", "DECISION_SCHEMA", "NOTE_FIELD", "Decision"]

# A `Decision` as Arrow columns: what filter, check_many and the audit add to every row.
DECISION_SCHEMA = pa.schema(
    [
        pa.field("e164", pa.string()),
        pa.field("allowed", pa.bool_(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("evidence", pa.string()),
        pa.field("rule_set", pa.string(), nullable=False),
    ]
)
# The columns a decision adds after a list's or a log's own, in this order.
DECISION_COLUMNS: tuple[str, ...] = tuple(DECISION_SCHEMA.names)
# The nullable column after them (filter, check_many, the audit's calls): `Decision.note`.
NOTE_FIELD = pa.field("note", pa.string())


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """Whether a number may be called, why, and on what evidence.

    Attributes:
        allowed: True only when a ground in docs/rules.md permits the call.
        reason: The first rule of the decision order that matched.
        e164: The number in E.164 form, or None when it is not a valid number.
        evidence: The record the decision rests on, e.g. `consent:C-1001`,
            `contract:K-7`, `objection:O-3` or `directory:2026-11-01`; None when no record
            applies (an invalid number, or no legal basis found).
        rule_set: The rule set and regime applied, e.g. `CZ-2022-opt-in`.
        note: Why a consent held for the number did not count, when none did, e.g.
            `consent:C-9 held, not counted: obtained from a third party`; else None.
    """

    allowed: bool
    reason: Reason
    e164: str | None
    evidence: str | None
    rule_set: str
    note: str | None = None

    def __bool__(self) -> bool:
        """A decision is truthy exactly when the call is allowed."""
        return self.allowed

"""The compliance audit: every past call judged as of its own time (issue 6).

PLACEHOLDER until issue 6 lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optin_gate.errors import OptinGateError

if TYPE_CHECKING:
    from optin_gate.gate import Gate

__all__ = ["AuditReport", "run_audit"]


class AuditReport:
    """The audit's result (issue 6)."""


def run_audit(gate: Gate, calls: Any, **kwargs: Any) -> AuditReport:
    """Audit a call log (issue 6)."""
    raise OptinGateError("the audit is not built yet", hint="see issue 6")

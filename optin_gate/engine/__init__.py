"""The batch engine: one DuckDB query over Arrow decides a whole call list (issue 4).

PLACEHOLDER until issue 4 lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optin_gate.errors import OptinGateError

if TYPE_CHECKING:
    from optin_gate.gate import Gate

__all__ = ["FilterResult", "run_filter"]


class FilterResult:
    """Every input row with its decision (issue 4)."""


def run_filter(gate: Gate, source: Any, **kwargs: Any) -> FilterResult:
    """Decide every row of a call list (issue 4)."""
    raise OptinGateError("the batch filter is not built yet", hint="see issue 4")

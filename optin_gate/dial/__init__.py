"""The dial checker: an in-memory index answering `Gate.check` in microseconds (issue 5).

PLACEHOLDER until issue 5 lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optin_gate.errors import OptinGateError
from optin_gate.rules import Decision

if TYPE_CHECKING:
    from optin_gate.gate import Gate

__all__ = ["Checker"]


class Checker:
    """The dial-time checker (issue 5)."""

    def __init__(self, gate: Gate) -> None:
        raise OptinGateError("the dial checker is not built yet", hint="see issue 5")

    def check(self, phone: str, **kwargs: Any) -> Decision:  # noqa: D102
        raise NotImplementedError

    def check_many(self, phones: Any, **kwargs: Any) -> Any:  # noqa: D102
        raise NotImplementedError

    def refresh(self) -> None:  # noqa: D102
        raise NotImplementedError

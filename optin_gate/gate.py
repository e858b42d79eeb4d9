"""`Gate`: the one object users hold. It answers for one controller under one policy.

It holds no logic of its own: `filter` runs the batch engine, `check` the dial index,
`audit` the audit. Each is imported when first used, so `import optin_gate` stays light.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

from optin_gate._time import TimeLike
from optin_gate.errors import InputError
from optin_gate.policy import Policy

if TYPE_CHECKING:
    import pyarrow as pa

    from optin_gate.audit import AuditReport
    from optin_gate.dial import Checker
    from optin_gate.engine import FilterResult
    from optin_gate.rules import Decision
    from optin_gate.store import EvidenceStore

__all__ = ["CALL_TYPES", "CallType", "Gate", "check_call_type"]

CallType = Literal["live", "automated"]
CALL_TYPES: tuple[str, ...] = ("live", "automated")


def check_call_type(call_type: str) -> CallType:
    """Validate a call type argument."""
    if call_type not in CALL_TYPES:
        raise InputError(
            f"call_type={call_type!r} is not a call type",
            hint='use "live" (a person speaks) or "automated" (a machine plays the message)',
        )
    return call_type  # type: ignore[return-value]


class Gate:
    """Decides which numbers one controller may call, and why.

    Args:
        store: The evidence the decisions rest on.
        controller: The company (GDPR controller) calling; consents and contracts of other
            controllers do not count for it, objections to all controllers do.
        policy: How to read the law where it leaves room; defaults follow RULES.md.
    """

    def __init__(
        self,
        store: EvidenceStore,
        controller: str = "default",
        policy: Policy | None = None,
    ) -> None:
        if not isinstance(controller, str) or not controller.strip():
            raise InputError(
                f"controller={controller!r} is not a controller name",
                hint='pass the calling company\'s name, e.g. controller="acme"',
            )
        self.store = store
        self.controller = controller
        self.policy = policy if policy is not None else Policy()
        self._checker: Checker | None = None
        self._checker_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Gate(controller={self.controller!r}, policy={self.policy!r})"

    def filter(
        self,
        source: Any,
        *,
        as_of: TimeLike = None,
        phone_column: str | None = None,
        call_type: str = "live",
    ) -> FilterResult:
        """Decide every row of a call list (CSV/Parquet path, DataFrame or Arrow table)."""
        from optin_gate.engine import run_filter

        return run_filter(
            self,
            source,
            as_of=as_of,
            phone_column=phone_column,
            call_type=check_call_type(call_type),
        )

    def _dial(self) -> Checker:
        checker = self._checker
        if checker is None:
            with self._checker_lock:
                if self._checker is None:
                    from optin_gate.dial import Checker

                    self._checker = Checker(self)
                checker = self._checker
        return checker

    def check(self, phone: str, *, at: TimeLike = None, call_type: str = "live") -> Decision:
        """May this number be dialled now? Microseconds; sees objections at once."""
        return self._dial().check(phone, at=at, call_type=call_type)

    def check_many(self, phones: Any, *, at: TimeLike = None, call_type: str = "live") -> pa.Table:
        """`check` for many numbers at one time, as a table."""
        return self._dial().check_many(phones, at=at, call_type=call_type)

    def refresh(self) -> None:
        """Pick up evidence loaded by other processes into the dial index now."""
        self._dial().refresh()

    def audit(
        self, calls: Any, *, phone_column: str | None = None, time_column: str = "called_at"
    ) -> AuditReport:
        """Judge every past call as of the moment it was made."""
        from optin_gate.audit import run_audit

        return run_audit(self, calls, phone_column=phone_column, time_column=time_column)

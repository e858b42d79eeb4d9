"""`Gate`: the one object users hold. It answers for one controller under one policy.

It holds no logic of its own: `filter` runs the batch engine, `check` the dial index,
`audit` the audit. Each is imported when first used, so `import optin_gate` stays light.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

from optin_gate._time import TimeLike
from optin_gate.context import (
    CALL_TYPES,
    DEFAULT_MAX_INDEX_AGE,
    DEFAULT_REFRESH_INTERVAL,
    CallType,
    Context,
    check_call_type,
)
from optin_gate.policy import Policy

if TYPE_CHECKING:
    import pyarrow as pa

    from optin_gate.audit import AuditReport
    from optin_gate.dial import Checker
    from optin_gate.engine import FilterResult
    from optin_gate.rules import Decision
    from optin_gate.store import EvidenceStore

# CALL_TYPES, CallType and check_call_type live in `optin_gate.context`; kept here for callers
# that imported them from this module.
__all__ = ["CALL_TYPES", "CallType", "Gate", "check_call_type"]


class Gate:
    """Decides which numbers one controller may call, and why.

    Args:
        store: The evidence the decisions rest on.
        controller: The company (GDPR controller) calling; consents and contracts of other
            controllers do not count for it, objections to all controllers do.
        policy: How to read the law where it leaves room; defaults follow docs/rules.md.
        refresh_interval: Seconds between the dial index's background checks for evidence
            loaded by other processes (`check`); None turns the automatic refresh off
            (call `refresh()` yourself).
        max_index_age: Seconds the dial index may go without a successful refresh (e.g. while
            a load in another process holds the store) before `check` fails closed with
            `StoreError`; None for no bound.

    Attributes:
        context: These settings as the frozen value the engine, the dial and the audit take.
    """

    def __init__(
        self,
        store: EvidenceStore,
        controller: str = "default",
        policy: Policy | None = None,
        *,
        refresh_interval: float | None = DEFAULT_REFRESH_INTERVAL,
        max_index_age: float | None = DEFAULT_MAX_INDEX_AGE,
    ) -> None:
        self.context = Context(
            store,
            controller,
            policy if policy is not None else Policy(),
            refresh_interval=refresh_interval,
            max_index_age=max_index_age,
        )
        self._checker: Checker | None = None
        self._checker_lock = threading.Lock()

    @property
    def store(self) -> EvidenceStore:
        """The evidence the decisions rest on."""
        return self.context.store

    @property
    def controller(self) -> str:
        """The company calling."""
        return self.context.controller

    @property
    def policy(self) -> Policy:
        """How the law is read where it leaves room."""
        return self.context.policy

    @property
    def refresh_interval(self) -> float | None:
        """Seconds between the dial index's background refreshes; None for none."""
        return self.context.refresh_interval

    @property
    def max_index_age(self) -> float | None:
        """Seconds the dial index may go without a refresh before checks fail closed."""
        return self.context.max_index_age

    def __repr__(self) -> str:
        return f"Gate(controller={self.controller!r}, policy={self.policy!r})"

    def filter(
        self,
        source: Any,
        *,
        as_of: TimeLike = None,
        phone_column: str | None = None,
        call_type: str = "live",
        sheet: str | int | None = None,
        sector: str | None = None,
        caller_id: str | None = None,
        purpose: str | None = None,
    ) -> FilterResult:
        """Decide every row of a call list (CSV/Parquet/workbook path, DataFrame or table).

        `sheet` picks a workbook's sheet by name or number from 1 (default: the first
        sheet that has data). `sector` (the campaign's marketing sector) and `caller_id`
        (the calling line) decide Slovak numbers (docs/rules.md § 4.3); Czech numbers do
        not depend on them.
        `purpose` is the campaign's marketing purpose: consents given for other purposes
        do not count.
        """
        from optin_gate.engine import run_filter

        context = dataclasses.replace(
            self.context,
            call_type=check_call_type(call_type),
            sector=sector,
            caller_id=caller_id,
            purpose=purpose,
        )
        return run_filter(context, source, as_of=as_of, phone_column=phone_column, sheet=sheet)

    def _dial(self) -> Checker:
        checker = self._checker
        if checker is None:
            with self._checker_lock:
                if self._checker is None:
                    from optin_gate.dial import Checker

                    self._checker = Checker(self.context)
                    # From now on `gate.check` is the checker's own method, the same signature
                    # and answers: the dialler's call skips this class's frame (a fifteenth of
                    # a check). The class attribute still documents it.
                    vars(self)["check"] = self._checker.check
                checker = self._checker
        return checker

    def check(
        self,
        phone: str,
        *,
        at: TimeLike = None,
        call_type: str = "live",
        sector: str | None = None,
        caller_id: str | None = None,
        purpose: str | None = None,
    ) -> Decision:
        """May this number be dialled now? Microseconds; sees objections at once.

        The first call builds the dial index from the store (seconds for millions of
        records); later calls answer from memory. Objections recorded through this gate's
        store object block the very next check. `sector` and `caller_id` as in `filter`.
        """
        checker = self._checker
        if checker is None:
            checker = self._dial()
        return checker.check(
            phone, at=at, call_type=call_type, sector=sector, caller_id=caller_id, purpose=purpose
        )

    def check_many(
        self,
        phones: Any,
        *,
        at: TimeLike = None,
        call_type: str = "live",
        sector: str | None = None,
        caller_id: str | None = None,
        purpose: str | None = None,
    ) -> pa.Table:
        """`check` for many numbers at one time: e164, allowed, reason, evidence, rule_set, note."""
        return self._dial().check_many(
            phones, at=at, call_type=call_type, sector=sector, caller_id=caller_id, purpose=purpose
        )

    def refresh(self) -> None:
        """Pick up evidence loaded by other processes into the dial index now.

        Raises:
            StoreError: The store cannot be read right now (e.g. a load in another process
                holds it); checks keep answering from the current index.
        """
        checker = self._checker
        if checker is None:
            self._dial()  # building the first index reads everything there is
        else:
            checker.refresh()

    def close(self) -> None:
        """Stop the dial index's background refresh (checks still work, refresh by hand).

        Objections recorded through the store still block the next check.
        """
        with self._checker_lock:
            if self._checker is not None:
                self._checker.close()

    def audit(
        self,
        calls: Any,
        *,
        phone_column: str | None = None,
        time_column: str = "called_at",
        turnover: float | None = None,
        sheet: str | int | None = None,
        sector: str | None = None,
        caller_id: str | None = None,
        purpose: str | None = None,
    ) -> AuditReport:
        """Judge every past call as of the moment it was made.

        Args:
            calls: The call log (CSV/Parquet/workbook path, DataFrame or Arrow table).
            phone_column: The phone column, when its name is not recognised.
            time_column: The column holding each call's time.
            turnover: Net turnover in CZK, for the statutory exposure (10 % of it).
            sheet: A workbook's sheet, by name or number from 1 (default: the first sheet
                that has data).
            sector: The campaign's marketing sector for calls whose log names none (the
                log's `sector` column wins).
            caller_id: The calling line for calls whose log names none (the log's
                `caller_id` column wins).
            purpose: The purpose of calls whose log line names none (the log's `purpose`
                column wins where it has a value).
        """
        from optin_gate.audit import run_audit

        context = dataclasses.replace(
            self.context, sector=sector, caller_id=caller_id, purpose=purpose
        )
        return run_audit(
            context,
            calls,
            phone_column=phone_column,
            time_column=time_column,
            turnover=turnover,
            sheet=sheet,
        )

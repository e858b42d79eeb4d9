"""`Checkers`: the dial checkers of one server, one per controller, built before it is ready.

Every answer comes from the same `optin_gate.dial.Checker` that `Gate.check` runs, so the
service and the library cannot disagree. The checkers share one directory index
(`optin_gate.dial.SharedDirectory`): each further controller costs only its own evidence.
Checkers for the controllers the server knows at start (the store's and the tokens') are
built before `/healthz` says ok; a controller named later gets its checker on first use.
Each checker refreshes itself in the background and swaps a new index in whole, so answers
never pause for a rebuild.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from optin_gate.context import DEFAULT_REFRESH_INTERVAL, Context
from optin_gate.dial import Checker, SharedDirectory
from optin_gate.errors import RequestError
from optin_gate.store.controllers import controller_key

if TYPE_CHECKING:
    from optin_gate.policy import Policy
    from optin_gate.store import EvidenceStore

__all__ = ["MAX_CONTROLLERS", "Checkers"]

# A typo in a dialler's URL must not make the server build index after index.
MAX_CONTROLLERS = 64
_WARM_UP = "+420601234567"


class Checkers:
    """The checkers of one server, by controller key (thread-safe).

    Args:
        store: The evidence store the server owns.
        policy: How the law is read; one for the whole server.
        max_index_age: Seconds an index may go without a refresh before checks fail closed
            and `/healthz` says 503.
        refresh_interval: Seconds between the background checks for new evidence.
    """

    def __init__(
        self,
        store: EvidenceStore,
        policy: Policy,
        *,
        max_index_age: float,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
    ) -> None:
        self.store = store
        self.policy = policy
        self.max_index_age = max_index_age
        self.refresh_interval = refresh_interval
        self._checkers: dict[str, Checker] = {}
        # Every controller's index reads this one directory index: one copy, not one each.
        self._directory = SharedDirectory()
        self._lock = threading.Lock()
        self._closed = False

    def build(self, controllers: Iterable[str]) -> None:
        """Build the checkers of `controllers` (the store's are added): before serving."""
        for name in sorted({*map(controller_key, controllers), *self.store_controllers()}):
            self.get(name)

    def store_controllers(self) -> set[str]:
        """The controllers the store holds consents or contracts of."""
        with self.store.connect(read_only=True) as con:
            rows = con.sql(
                "SELECT controller FROM consents_current UNION "
                "SELECT controller FROM contracts_current"
            ).fetchall()
        return {str(name) for (name,) in rows if name is not None}

    def get(self, controller: str) -> Checker:
        """The checker of `controller` (a key), built on first use.

        Raises:
            RequestError: Too many controllers already, or the server is shutting down (503:
                a new one is not built).
            StoreError: The store cannot be read to build the index.
        """
        checker = self._checkers.get(controller)
        if checker is not None:
            return checker
        with self._lock:
            checker = self._checkers.get(controller)
            if checker is None:
                if self._closed:
                    # A checker built now would refresh in the background after close().
                    raise RequestError(
                        503, "the server is shutting down", hint="retry on another server"
                    )
                if len(self._checkers) >= MAX_CONTROLLERS:
                    raise RequestError(
                        503,
                        f"this server already answers for {MAX_CONTROLLERS} controllers",
                        hint="check the controller name; run another server for more",
                    )
                context = Context(
                    self.store,
                    controller,
                    self.policy,
                    refresh_interval=self.refresh_interval,
                    max_index_age=self.max_index_age,
                )
                checker = Checker(context, directory=self._directory)
                # The first check loads the compiled lookup: before answering, not during.
                checker.check(_WARM_UP)
                self._checkers = {**self._checkers, controller: checker}
        return checker

    def ready(self, controller: str) -> Checker | None:
        """The checker of `controller` if it is built already, else None (never builds)."""
        return self._checkers.get(controller)

    @property
    def controllers(self) -> tuple[str, ...]:
        """The controllers with a checker, sorted."""
        return tuple(sorted(self._checkers))

    def ages(self) -> dict[str, float]:
        """Seconds since each controller's index last matched the store."""
        now = time.time()
        return {name: max(0.0, now - c.fresh_since) for name, c in self._checkers.items()}

    def close(self) -> None:
        """Stop every background refresh (the server is shutting down)."""
        with self._lock:
            self._closed = True
            for checker in self._checkers.values():
                checker.close()


def unreadable() -> RequestError:
    """An index that cannot answer (too old, store unreadable) as a 503 to retry."""
    return RequestError(
        503,
        "the evidence cannot be read or the index is too old, so no answer can be given",
        hint="do not dial; retry shortly, /healthz says when the server answers again",
    )

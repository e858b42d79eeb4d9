"""`Watch`: what keeps a dial checker honest between index rebuilds, across processes.

* **Objections from other processes.** They reach the store's journal before the store file
  (which a load may hold for minutes); the checker polls the journal's new lines at most every
  `POLL_SECONDS` from its check path (one `stat` when nothing changed), so a running checker
  sees an objection well within 2 seconds of its acknowledgement.
* **A gap in polling.** A merged objection leaves the journal `KEEP_SECONDS` after it was
  recorded; a checker that has not polled for half that long may have missed one, and must
  rebuild its index (which reads the table) before answering again.
* **A bound on staleness.** When the index could not be refreshed for longer than
  `max_index_age`, checks fail closed instead of answering from old evidence.
"""

from __future__ import annotations

import logging
import threading
import time

from optin_gate.store.feed import JournalFeed
from optin_gate.store.journal import KEEP_SECONDS
from optin_gate.store.objections import Objection

__all__ = ["POLL_US", "Watch", "now_us"]

log = logging.getLogger("optin_gate.dial")

POLL_SECONDS = 0.25
POLL_US = int(POLL_SECONDS * 1_000_000)
_GAP_US = int(KEEP_SECONDS / 2 * 1_000_000)
_WARN_EVERY_US = 60_000_000


def now_us() -> int:
    """Wall-clock microseconds."""
    return time.time_ns() // 1000


class Watch:
    """The journal feed and the index's age of one checker (thread-safe).

    Args:
        feed: The store's journal feed (None for an in-memory store: nothing to follow).
        max_age: Seconds the index may go without a successful refresh; None for no bound.
    """

    def __init__(self, feed: JournalFeed | None, max_age: float | None) -> None:
        self._feed = feed
        self._max_age_us = None if max_age is None else int(max_age * 1_000_000)
        self._lock = threading.Lock()
        start = now_us()
        self.fresh_us = start  # the last time the index was known to match the store
        self._polled_us = start
        self._failing_since: int | None = None
        self._warned_us = 0

    def poll(self, now: int) -> tuple[list[Objection], bool]:
        """The objections new in the journal, and whether polling lapsed (index must rebuild)."""
        with self._lock:
            lapsed = self._feed is not None and now - self._polled_us > _GAP_US
            self._polled_us = max(self._polled_us, now)
            return (self._feed.poll() if self._feed is not None else []), lapsed

    def refreshed(self, now: int) -> None:
        """The index matches the store as of `now`."""
        self.fresh_us = max(self.fresh_us, now)
        self._failing_since = None

    def stale(self, now: int) -> bool:
        """Whether the index is older than the bound."""
        return self._max_age_us is not None and now - self.fresh_us > self._max_age_us

    def failed(self, now: int, error: BaseException) -> None:
        """An automatic refresh failed: a warning when it keeps failing (at most once a minute)."""
        if self._failing_since is None:
            self._failing_since = now
            log.debug("dial index refresh failed, keeping the current index: %s", error)
            return
        if now - self._warned_us >= _WARN_EVERY_US:
            self._warned_us = now
            log.warning(
                "dial index refresh keeps failing (index %.0f s old, failing for %.0f s), "
                "answering from the current index: %s",
                (now - self.fresh_us) / 1e6,
                (now - self._failing_since) / 1e6,
                error,
            )

"""The background refresh: one daemon thread per checker, waking every refresh interval.

The thread holds the checker only weakly, so a checker (and its gate) can be collected while
the thread sleeps; it then ends at its next wake-up. At interpreter exit every thread is woken
and awaited briefly, so none is torn down in the middle of a DuckDB scan.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Protocol

__all__ = ["Refreshing", "start_worker", "stop"]

log = logging.getLogger("optin_gate.dial")

# How much lower than the process the refresh thread runs (nice steps; 10 = ~1/10 the CPU share).
NICE = 10


class Refreshing(Protocol):
    """What the thread needs of a checker."""

    _interval: float | None
    _closed: bool

    def _auto_refresh(self) -> float:
        """Refresh once; the seconds to wait before the next time."""


def start_worker(checker: Refreshing, wake: threading.Event) -> threading.Thread:
    """Start the refresh thread of `checker`; `wake` makes it refresh (or notice a close) now."""
    thread = threading.Thread(
        target=_loop, args=(weakref.ref(checker), wake), name="optin-gate-refresh", daemon=True
    )
    _WORKERS[thread] = wake
    thread.start()
    return thread


def _lower_priority() -> None:
    """Give this thread (and the DuckDB threads it starts) less CPU than the checks get.

    A rebuild may take seconds of both cores; the checks answering meanwhile must not wait
    for it. Linux applies a nice value to the calling thread alone.
    """
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
    except (AttributeError, OSError):  # not Linux, or not allowed: the default priority
        log.debug("could not lower the refresh thread's priority", exc_info=True)


def _loop(ref: weakref.ref[Refreshing], wake: threading.Event) -> None:
    _lower_priority()
    checker = ref()
    delay = checker._interval if checker is not None and checker._interval else 0.0
    del checker
    while True:
        wake.wait(delay)
        wake.clear()
        checker = ref()
        if checker is None or checker._closed or _EXITING.is_set():
            return
        delay = checker._auto_refresh()
        del checker


# Running refresh threads and their wake-up events. At exit they are stopped and awaited
# briefly, so none is torn down by the interpreter in the middle of a DuckDB scan.
_Workers = weakref.WeakKeyDictionary[threading.Thread, threading.Event]
_WORKERS: _Workers = weakref.WeakKeyDictionary()
_EXITING = threading.Event()


@atexit.register
def _stop_workers() -> None:
    _EXITING.set()
    for thread, wake in list(_WORKERS.items()):
        wake.set()
        thread.join(timeout=5.0)


def stop(unsubscribe: Callable[[], None], wake: threading.Event) -> None:
    """End a checker's subscription and wake its thread so that it ends (runs at most once)."""
    wake.set()
    try:
        unsubscribe()
    except Exception:  # the store may already be gone at interpreter exit
        log.debug("unsubscribing the dial checker failed", exc_info=True)

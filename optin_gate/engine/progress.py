"""Progress of a file filter: which step runs, and how far DuckDB got on it (polled)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import duckdb

__all__ = ["ProgressHook", "Reporter"]

# Called with (step label, fraction done in [0, 1] or None when unknown).
ProgressHook = Callable[[str, float | None], None]


class Reporter:
    """Tells a `ProgressHook` which step runs, and DuckDB's progress on it (polled)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, hook: ProgressHook | None) -> None:
        self.con = con
        self.hook = hook
        self.label = ""
        if hook is not None:
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = false")

    def step(self, label: str) -> None:
        """A new step starts."""
        self.label = label
        if self.hook is not None:
            self.hook(label, None)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Poll DuckDB's progress on the queries run inside the block."""
        hook = self.hook
        if hook is None:
            yield
            return
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.2):
                with contextlib.suppress(Exception):
                    done = self.con.query_progress()
                    if done >= 0:
                        hook(self.label, min(done, 100.0) / 100.0)

        thread = threading.Thread(target=poll, name="optin-gate-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

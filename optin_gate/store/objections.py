"""Objections recorded one at a time (`record_objection`): journal, merge, overlay, listeners.

An agent hears "do not call me again": the objection is appended to the journal (durable),
in-process listeners hear of it at once (a dial checker blocks the number on its next check),
and it is merged into the `objections` table when the store can be written, as one `loads`
row of kind `objection` per merged batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

import duckdb

from optin_gate._sql import sql_name
from optin_gate._time import now_utc
from optin_gate.store.database import first

__all__ = [
    "Listeners",
    "MemoryJournal",
    "Objection",
    "entry_objection",
    "merge_journal",
    "objection_entry",
    "overlay_journal",
]

log = logging.getLogger("optin_gate.store")


@dataclasses.dataclass(frozen=True, slots=True)
class Objection:
    """One recorded objection, as listeners receive it.

    Attributes:
        phone: The number's key: E.164 digits as an integer (`+420601234567` -> 420601234567).
        controller: The controller objected to, or None for every controller.
        objected_at: When, as an aware UTC datetime.
        objection_id: Its id (generated from phone, controller and time).
        source: Where it came from (free text), if given.
        recorded_at: When the store heard of it; it blocks from the earlier of this and
            `objected_at` (None: from `objected_at`).
    """

    phone: int
    controller: str | None
    objected_at: datetime
    objection_id: str
    source: str | None = None
    recorded_at: datetime | None = None

    @property
    def blocks_from(self) -> datetime:
        """The instant from which it blocks calls: stated time, or earlier if recorded earlier."""
        if self.recorded_at is None:
            return self.objected_at
        return min(self.objected_at, self.recorded_at)


class JournalLike(Protocol):
    """What the file journal and the in-memory one both offer."""

    def size(self) -> int:
        """Bytes (or entries) pending."""

    def identity(self) -> tuple[int, int, int]:
        """Changes whenever the entries may have changed; (x, 0, y) when there are none."""

    def append(self, entry: dict[str, Any]) -> None:
        """Add one entry durably."""

    def read(self) -> list[dict[str, Any]]:
        """The pending entries."""

    def draining(self) -> contextlib.AbstractContextManager[list[dict[str, Any]]]:
        """The pending entries, removed if the block succeeds."""


class MemoryJournal:
    """The journal of an in-memory store: a list (there is nothing to survive there)."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._appends = 0
        self._lock = threading.Lock()

    def size(self) -> int:
        """Pending entries."""
        return len(self._entries)

    def identity(self) -> tuple[int, int, int]:
        """(0, pending entries, appends so far)."""
        return (0, len(self._entries), self._appends)

    def append(self, entry: dict[str, Any]) -> None:
        """Add one entry."""
        with self._lock:
            self._entries.append(entry)
            self._appends += 1

    def read(self) -> list[dict[str, Any]]:
        """The pending entries."""
        with self._lock:
            return list(self._entries)

    @contextlib.contextmanager
    def draining(self) -> Iterator[list[dict[str, Any]]]:
        """The pending entries, removed if the block succeeds."""
        with self._lock:
            entries = list(self._entries)
            yield entries
            del self._entries[: len(entries)]


def objection_entry(objection: Objection) -> dict[str, Any]:
    """The journal's JSON form of an objection."""
    return {
        "objection_id": objection.objection_id,
        "phone": objection.phone,
        "controller": objection.controller,
        "objected_at": objection.objected_at.isoformat(),
        "source": objection.source,
        "recorded_at": None if objection.recorded_at is None else objection.recorded_at.isoformat(),
    }


def entry_objection(entry: dict[str, Any]) -> Objection:
    """The `Objection` of a journal entry (the inverse of `objection_entry`)."""
    recorded = entry.get("recorded_at")
    return Objection(
        phone=int(entry["phone"]),
        controller=entry.get("controller"),
        objected_at=datetime.fromisoformat(entry["objected_at"]),
        objection_id=str(entry["objection_id"]),
        source=entry.get("source"),
        recorded_at=datetime.fromisoformat(recorded) if recorded else None,
    )


def _journal_table(con: duckdb.DuckDBPyConnection, entries: list[dict[str, Any]]) -> None:
    """Temp table og_journal with the entries (plain parameters: no pandas, no Arrow)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE og_journal (objection_id VARCHAR, phone BIGINT, "
        "controller VARCHAR, objected_at TIMESTAMPTZ, source VARCHAR, recorded_at TIMESTAMPTZ)"
    )
    objections = [entry_objection(e) for e in entries]
    con.executemany(
        "INSERT INTO og_journal VALUES (?, ?, ?, ?, ?, ?)",
        [
            (o.objection_id, o.phone, o.controller, o.objected_at, o.source, o.recorded_at)
            for o in objections
        ],
    )


def merge_journal(con: duckdb.DuckDBPyConnection, journal: JournalLike) -> int:
    """Move pending objections into the table (own transaction); returns how many were new."""
    with journal.draining() as entries:
        if not entries:
            return 0
        con.execute("BEGIN TRANSACTION")
        try:
            _journal_table(con, entries)
            con.execute(
                "CREATE TEMP TABLE og_new_objections AS SELECT DISTINCT ON (objection_id) * "
                "FROM og_journal j WHERE NOT EXISTS "
                "(SELECT 1 FROM objections o WHERE o.objection_id = j.objection_id)"
            )
            row = first(con, "SELECT count(*) FROM og_new_objections")
            count = int(row[0]) if row else 0
            if count:
                row = first(con, "SELECT coalesce(max(load_id), 0) + 1 FROM loads")
                load_id = int(row[0]) if row else 1
                con.execute(
                    "INSERT INTO objections BY NAME SELECT *, ? AS load_id FROM og_new_objections",
                    [load_id],
                )
                con.execute(
                    "INSERT INTO loads BY NAME SELECT ? AS load_id, 'objection' AS kind, "
                    "'<record_objection>' AS file_name, ? AS rows_read, ? AS rows_loaded, "
                    "0 AS rows_rejected, ? AS loaded_at, ? AS rows_changed",
                    [load_id, count, count, now_utc(), count],
                )
            con.execute("DROP TABLE og_new_objections")
            con.execute("DROP TABLE og_journal")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return count


def overlay_journal(con: duckdb.DuckDBPyConnection, entries: list[dict[str, Any]]) -> None:
    """Make `objections` on this (read-only) connection include the pending objections.

    A temporary table of the same name shadows the stored one for this connection only.
    """
    if not entries:
        return
    row = first(con, "SELECT current_database()")
    catalog = sql_name(str(row[0] if row else "memory"))
    _journal_table(con, entries)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE objections AS SELECT * FROM {catalog}.main.objections "
        "UNION ALL BY NAME SELECT j.*, CAST(NULL AS INTEGER) AS load_id FROM "
        "(SELECT DISTINCT ON (objection_id) * FROM og_journal) j WHERE NOT EXISTS "
        f"(SELECT 1 FROM {catalog}.main.objections o WHERE o.objection_id = j.objection_id)"
    )
    con.execute("DROP TABLE og_journal")


class Listeners:
    """Callbacks told of each recorded objection, in this process."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Objection], object]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Objection], object]) -> Callable[[], None]:
        """Register `callback`; returns a function that unregisters it."""
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unsubscribe

    def notify(self, objection: Objection) -> None:
        """Call every callback; one that raises is logged and does not stop the others."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(objection)
            except Exception:
                log.exception("an objection listener failed (the objection is recorded)")

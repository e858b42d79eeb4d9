"""DuckDB connections to a store, opened per operation and closed right after.

DuckDB lets one process hold a database file read-write, or several hold it read-only. A
dialler and a nightly `optin-gate load` in another process must take turns, so no store keeps
its file open between operations. Inside one process, threads share one open database
(cursors of one connection): a read while this process writes uses the writer's database, a
write waits for this process's readers to finish (and new readers wait behind a waiting
writer). A file locked by another process is retried until the timeout, then `StoreBusyError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from optin_gate._runtime import duckdb_config
from optin_gate.errors import StoreError

__all__ = [
    "Database",
    "FileDatabase",
    "MemoryDatabase",
    "StoreBusyError",
    "configure",
    "first",
]


class StoreBusyError(StoreError):
    """The store file is held by another process (or this one) for longer than the timeout."""


def first(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, with the result read to the end (the connection is free)."""
    rows = con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()
    return tuple(rows[0]) if rows else None


def configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Session settings every store connection has: UTC session time, no progress bar."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


class Database:
    """Hands out DuckDB connections to one store."""

    path: Path | None = None

    def connect(
        self, *, read_only: bool = True, timeout: float | None = None
    ) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A connection for one operation (closed when the block ends)."""
        raise NotImplementedError

    def write_lock(self, timeout: float | None) -> contextlib.AbstractContextManager[bool]:
        """Serialize this process's writers; yields False when `timeout` ran out."""
        raise NotImplementedError


@contextlib.contextmanager
def _locked(lock: threading.Lock, timeout: float | None) -> Iterator[bool]:
    got = lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0))
    try:
        yield got
    finally:
        if got:
            lock.release()


class MemoryDatabase(Database):
    """An in-memory store: one DuckDB database, a cursor per operation."""

    def __init__(self) -> None:
        self._base = duckdb.connect(":memory:", config=duckdb_config())
        self._writer = threading.Lock()
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def connect(
        self, *, read_only: bool = True, timeout: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the one in-memory database."""
        with self._guard:
            cursor = configure(self._base.cursor())
        try:
            yield cursor
        finally:
            cursor.close()

    def write_lock(self, timeout: float | None) -> contextlib.AbstractContextManager[bool]:
        """The in-process writer lock."""
        return _locked(self._writer, timeout)


@dataclasses.dataclass
class _Open:
    con: duckdb.DuckDBPyConnection
    read_only: bool
    users: int = 0


_COND = threading.Condition()
_OPEN: dict[str, _Open] = {}
_WAITING_WRITERS: dict[str, int] = {}
_WRITERS: dict[str, threading.Lock] = {}


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


class FileDatabase(Database):
    """A store file, shared by the threads of this process and taken in turns with others.

    Args:
        path: The DuckDB file.
        timeout: Default seconds to wait for a lock held elsewhere.
    """

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._key = str(path.resolve())
        with _COND:
            _WRITERS.setdefault(self._key, threading.Lock())

    def write_lock(self, timeout: float | None) -> contextlib.AbstractContextManager[bool]:
        """This process's writer lock for the file."""
        return _locked(_WRITERS[self._key], self.timeout if timeout is None else timeout)

    def _busy(self) -> StoreBusyError:
        return StoreBusyError(
            "the store is in use by another process (a load or a long query)",
            file=str(self.path),
            hint="try again when it has finished; recorded objections wait in the journal",
        )

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection | None:
        try:
            return duckdb.connect(str(self.path), read_only=read_only, config=duckdb_config())
        except duckdb.IOException as exc:
            if _is_lock_conflict(exc):
                return None
            raise StoreError(
                f"cannot open the store: {str(exc).splitlines()[0]}",
                file=str(self.path),
                hint="check the path and that it is an optin_gate store (a DuckDB file)",
            ) from None
        except duckdb.ConnectionException as exc:
            raise StoreError(
                f"the store is already open in this process outside optin_gate: {exc}",
                file=str(self.path),
                hint="open it only through EvidenceStore.connect()",
            ) from None

    def _acquire(self, read_only: bool, deadline: float) -> _Open:
        key = self._key
        with _COND:
            if not read_only:
                _WAITING_WRITERS[key] = _WAITING_WRITERS.get(key, 0) + 1
            try:
                while True:
                    entry = _OPEN.get(key)
                    if entry is not None:
                        writer_waits = _WAITING_WRITERS.get(key, 0) > 0
                        shares = (read_only and not (entry.read_only and writer_waits)) or (
                            not read_only and not entry.read_only
                        )
                        if shares:
                            entry.users += 1
                            return entry
                    else:
                        con = self._open(read_only)
                        if con is not None:
                            entry = _Open(configure(con), read_only, users=1)
                            _OPEN[key] = entry
                            return entry
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise self._busy()
                    _COND.wait(min(remaining, 0.05))
            finally:
                if not read_only:
                    _WAITING_WRITERS[key] -= 1

    def _release(self, entry: _Open) -> None:
        with _COND:
            entry.users -= 1
            if entry.users == 0:
                _OPEN.pop(self._key, None)
                entry.con.close()
                _COND.notify_all()

    @contextlib.contextmanager
    def connect(
        self, *, read_only: bool = True, timeout: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the file, open only for the `with` block.

        Args:
            read_only: Whether the operation only reads.
            timeout: Seconds to wait for a lock (default: the database's); 0 tries once.

        Raises:
            StoreBusyError: The file stayed locked for the whole timeout.
        """
        wait = self.timeout if timeout is None else timeout
        entry = self._acquire(read_only, time.monotonic() + wait)
        try:
            cursor = configure(entry.con.cursor())
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            self._release(entry)

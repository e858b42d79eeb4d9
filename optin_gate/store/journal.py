"""The objection journal: a small append-only file next to the store file.

`record_objection` must be durable before it returns, even while another process holds the
store file for a long load. So every recorded objection is first appended here (one JSON line,
fsync'd), then merged into the `objections` table as soon as the store can be opened for
writing. Reads that cannot merge see the journal's objections anyway (`EvidenceStore.connect`
overlays them), and running dial checkers in every process follow the journal's new lines
(`JournalFeed`), so an objection reaches them without waiting for the store file.

A merged entry stays in the journal for `KEEP_SECONDS` after it was recorded: a checker that
polls less often than that still reads it here before the merge drops it. Dropping rewrites
the journal into a new file renamed over the old one, so a reader never sees half a rewrite.
Merging is idempotent by `objection_id`, so a crash between the table's commit and the
rewrite loses and duplicates nothing. Appends coordinate with an advisory file lock
(`fcntl.flock`, taken with a timeout; where it is missing, only threads of one process are
coordinated). An append cut short by a crash or a full disk leaves a torn last line: the next
append removes it first (it was never acknowledged), and readers skip it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from optin_gate.errors import StoreError
from optin_gate.io import sync_folder, write_text

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["KEEP_SECONDS", "LOCK_TIMEOUT", "Journal", "parse_lines"]

log = logging.getLogger("optin_gate.store")

KEEP_SECONDS = 600.0
LOCK_TIMEOUT = 10.0
_POLL = 0.005


class Journal:
    """Append-only JSON-lines file of recently recorded objections.

    Args:
        path: The journal file (created on first append).
        lock_timeout: Seconds to wait for another writer of the journal.
    """

    def __init__(self, path: Path, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self._lock = threading.Lock()

    def size(self) -> int:
        """Bytes in the journal (0 when there is none); cheap, no lock."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def identity(self) -> tuple[int, int, int]:
        """(inode, size, mtime ns) of the journal, zeros when there is none; one `stat`."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _busy(self) -> StoreError:
        return StoreError(
            f"the objection journal stayed locked for {self.lock_timeout:g} s",
            file=str(self.path),
            hint="another process is writing it; retry, and if this persists look for a "
            "process stuck while recording objections",
        )

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[int]:
        """An fd of the current journal file, locked against every other writer."""
        deadline = time.monotonic() + self.lock_timeout
        if not self._lock.acquire(timeout=self.lock_timeout):
            raise self._busy()
        try:
            while True:
                existed = self.path.exists()
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
                try:
                    if not existed:
                        sync_folder(self.path.parent)
                    _flock(fd, deadline, self._busy)
                    # A rewrite may have renamed a new file over the one we opened: use that.
                    if _same_file(fd, self.path):
                        yield fd
                        return
                finally:
                    os.close(fd)
        finally:
            self._lock.release()

    def append(self, entry: dict[str, Any]) -> None:
        """Add one objection and fsync before returning.

        Raises:
            StoreError: Another writer held the journal for longer than the lock timeout.
        """
        line = (json.dumps(entry, ensure_ascii=False, default=_json_default) + "\n").encode()
        with self._exclusive() as fd:
            _repair_tail(fd, self.path)
            os.write(fd, line)
            os.fsync(fd)

    def read(self) -> list[dict[str, Any]]:
        """Every complete entry; no lock (a rewrite is a rename, an append one write)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return parse_lines(data, self.path)[0]

    @contextlib.contextmanager
    def draining(self) -> Iterator[list[dict[str, Any]]]:
        """Yield the entries under the lock; if the block succeeds, drop those kept long enough."""
        if not self.size():
            yield []
            return
        with self._exclusive() as fd:
            size = os.fstat(fd).st_size
            entries = parse_lines(os.pread(fd, size, 0), self.path)[0]
            yield entries
            cutoff = time.time() - KEEP_SECONDS
            kept = [e for e in entries if _recorded(e) > cutoff]
            if len(kept) < len(entries):
                self._rewrite(kept)

    def _rewrite(self, entries: list[dict[str, Any]]) -> None:
        write_text(self.path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))


def parse_lines(data: bytes, path: Path | None = None) -> tuple[list[dict[str, Any]], int]:
    """The entries of complete lines in `data`, and how many bytes they span.

    A last line without its newline is an append still running or cut short: not read. A
    complete line that is not JSON cannot come from an append; it is logged and skipped.
    """
    end = data.rfind(b"\n") + 1
    entries = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("objection journal %s: line %d is damaged and was skipped", path, number)
    return entries, end


def _recorded(entry: dict[str, Any]) -> float:
    text = entry.get("recorded_at")
    if not text:
        return 0.0  # written before entries carried it: merged, so nothing needs it here
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return 0.0


def _flock(fd: int, deadline: float, busy: Any) -> None:
    if fcntl is None:  # pragma: no cover - not on POSIX
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise busy() from None
            time.sleep(_POLL)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _repair_tail(fd: int, path: Path) -> None:
    """Cut a torn last line (an append that never returned) so the next starts on its own."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    keep = os.pread(fd, size, 0).rfind(b"\n") + 1
    os.ftruncate(fd, keep)
    log.warning("objection journal %s: removed a partial last line left by a cut append", path)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)

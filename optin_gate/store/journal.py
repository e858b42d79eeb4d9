"""The objection journal: a small append-only file next to the store file.

`record_objection` must be durable before it returns, even while another process holds the
store file for a long load. So every recorded objection is first appended here (one JSON line,
fsync'd), then merged into the `objections` table as soon as the store can be opened for
writing: right away when it is free, else at the next write or read open. Reads that cannot
merge see the journal's objections anyway (`EvidenceStore.connect` overlays them). Merging is
idempotent by `objection_id`, so a crash between the table's commit and the journal's
truncation loses and duplicates nothing. Processes coordinate with an advisory file lock
(`fcntl.flock`; where that is missing, only threads of one process are coordinated).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["Journal"]


class Journal:
    """Append-only JSON-lines file of objections not yet merged into the store.

    Args:
        path: The journal file (created on first append).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def size(self) -> int:
        """Bytes in the journal (0 when there is none); cheap, no lock."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    @contextlib.contextmanager
    def _flock(self, exclusive: bool) -> Iterator[Any]:
        with self._lock:
            created = not self.path.exists()
            fh = self.path.open("a+", encoding="utf-8")
            try:
                if created:
                    _fsync_dir(self.path.parent)
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                yield fh
            finally:
                fh.close()

    def append(self, entry: dict[str, Any]) -> None:
        """Add one objection and fsync before returning."""
        line = json.dumps(entry, ensure_ascii=False, default=_json_default) + "\n"
        with self._flock(exclusive=True) as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> list[dict[str, Any]]:
        """Every complete entry (a torn last line, from a crash mid-write, is skipped)."""
        if not self.size():
            return []
        with self._flock(exclusive=False) as fh:
            fh.seek(0)
            return _parse(fh.read())

    @contextlib.contextmanager
    def draining(self) -> Iterator[list[dict[str, Any]]]:
        """Yield the entries under an exclusive lock; empty the journal if the block succeeds."""
        if not self.size():
            yield []
            return
        with self._flock(exclusive=True) as fh:
            fh.seek(0)
            entries = _parse(fh.read())
            yield entries
            fh.truncate(0)
            fh.flush()
            os.fsync(fh.fileno())


def _parse(text: str) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""`JournalFeed`: the objections other processes record, as they reach the journal.

A dial checker in one process hears of objections recorded through its own store object at
once (listeners); those recorded by other processes reach the journal file first. The feed
follows that file: one `stat` tells whether it changed, and only its new lines are read. No
lock is taken: an append is one write of a whole line, and a rewrite (after a merge) renames a
new file over the old, which the feed notices by its inode and reads whole.
"""

from __future__ import annotations

import os
from pathlib import Path

from optin_gate.store.journal import Journal, parse_lines
from optin_gate.store.objections import Objection, entry_objection

__all__ = ["JournalFeed"]


class JournalFeed:
    """Reads the journal's lines written since the last `poll`.

    Args:
        journal: The store's journal.
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._seen = (0, 0, 0)  # (inode, size, mtime) at the last read
        self._offset = 0  # bytes of complete lines read from that inode

    @property
    def path(self) -> Path:
        """The journal file followed."""
        return self._journal.path

    def poll(self) -> list[Objection]:
        """The objections written since the last poll (all of them on the first)."""
        seen = self._journal.identity()
        if seen == self._seen:
            return []
        inode, size, _ = seen
        start = self._offset if inode == self._seen[0] and size >= self._offset else 0
        try:
            with open(self._journal.path, "rb") as fh:
                if os.fstat(fh.fileno()).st_ino != inode:
                    return []  # replaced between the stat and the open: read it next poll
                fh.seek(start)
                data = fh.read()
        except FileNotFoundError:
            self._seen, self._offset = seen, 0
            return []
        entries, used = parse_lines(data, self._journal.path)
        # A torn or still growing last line is read again once it is whole.
        self._seen = (inode, start + used, 0) if used < len(data) else seen
        self._offset = start + used
        return [entry_objection(e) for e in entries]

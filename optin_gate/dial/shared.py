"""`SharedDirectory`: one directory index for all the controllers of one process.

The directory is the same for every controller and is most of an index (every listed number
of the country), while consents, contracts and objections are each controller's own. A
server answering for several controllers builds the directory once, here, and each
controller's index holds only its own evidence and points at this one (`DialIndex.shared`;
the compiled lookup reads the mark there). Three controllers then cost little more memory
than one.

A controller's rebuild asks for the directory as of the store's change token it read: the
first to see a new token scans the directory again, the others reuse that scan. Rebuilds of
the controllers sharing a directory run one after another (`building`).
"""

from __future__ import annotations

import dataclasses
import threading

import duckdb

from optin_gate.dial.build import build_index, scan
from optin_gate.dial.index import KINDS, DialIndex
from optin_gate.policy import Policy

__all__ = ["OWN_KINDS", "SharedDirectory", "attach"]

# What each controller's own index holds when the directory is shared.
OWN_KINDS = tuple(kind for kind in KINDS if kind != "directory")
_ANY = "*"


class SharedDirectory:
    """The current directory index of a store, rebuilt when the store's token moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: DialIndex | None = None
        # Held by each controller's whole rebuild: one at a time, so rebuilds take one core
        # and the GIL in turn instead of all at once from the threads answering checks.
        self.building = threading.Lock()

    def current(self, con: duckdb.DuckDBPyConnection, token: object, policy: Policy) -> DialIndex:
        """The directory index as of `token` (scanned over `con` unless already built)."""
        with self._lock:
            index = self._index
            if index is None or token is None or index.token != token:
                raw = scan(con, _ANY, policy=policy, kinds=("directory",))
                index = self._index = build_index(raw, _ANY, policy, token=token)
            return index


def attach(index: DialIndex, shared: DialIndex) -> DialIndex:
    """A controller's own index (its directory not scanned) reading `shared`'s directory."""
    return dataclasses.replace(
        index,
        snap_days=shared.snap_days,
        marks=shared.marks,
        packing=shared.packing,
        shared=shared,
    )

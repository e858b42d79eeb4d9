"""The dial index: one gate's evidence as compact sorted arrays (built by `dial.build`).

Never changed once built (a refresh builds a new one and swaps it in whole). Layout, N =
phone keys with any evidence for the gate:

* `keys` (`KeyTable`) int64[N]: every such key (E.164 digits), sorted and unique.
* `offsets` int32[N+1, 4]: the CSR offsets of the four kinds (in `KINDS` order), interleaved
  so that one key's ranges in every kind share a cache line: a check reads one line to learn
  which kinds a number has and where their rows are.
* One CSR block per evidence kind: `off` (a column of `offsets`), the rows of `keys[i]` being
  `[off[i], off[i+1])`, plus columnar payloads. Within a key the rows are oldest first
  (`optin_gate.store.semantics.NEWEST`), so "the last row that holds at T" is the newest:

  - consents (every one of the controller's): `granted` and `until` in microseconds since
    the epoch, `until` being the first instant the consent no longer holds (`Semantics`;
    `granted` for one that may never count), and for the decision's note on a consent
    that does not count: `standing` (`Semantics.consent_standing_sql`) and `withdrawn`;
    its purposes are `DialIndex.purposes`;
  - contracts (the controller's): `start` and `last` day numbers, `last` being the last day
    the contract counts (`Semantics`; open-ended contracts get INT32_MAX);
    (each pair interleaved in one buffer, so a row costs one memory access, not two)
  - objections (for the controller or for all): `at`, the instant one counts from, and
    `stated`, its stated time, in microseconds (ordered by `stated`);
  - directory intervals: `first` and `stop` as snapshot positions (listed in snapshots
    `first <= s < stop`) and `mark`, a code into `marks`, packed into one integer per
    interval (`Packing`): one memory access per interval instead of three.

* `snap_days`: the sorted snapshot dates as day numbers (days since 1970-01-01).

Nothing here depends on the decision time: the checker evaluates every time-dependent fact at
the moment of each check, so an index stays right as days pass.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate.dial.keys import KeyTable
from optin_gate.dial.register import Register
from optin_gate.policy import Policy

__all__ = ["KINDS", "DialIndex", "Ids", "Kind", "Packing"]

# The evidence kinds, in the order of `DialIndex.offsets`' columns.
KINDS = ("consents", "contracts", "objections", "directory")

INT64_MAX = np.iinfo(np.int64).max
INT32_MAX = np.iinfo(np.int32).max
EPOCH_DAY = date(1970, 1, 1)

Array = np.ndarray[Any, np.dtype[Any]]


class Ids:
    """A column of record ids: an Arrow string array read without Arrow on the scalar path."""

    __slots__ = ("_data", "_off", "array")

    def __init__(self, array: pa.Array) -> None:
        if array.type != pa.string():
            array = array.cast(pa.string())
        self.array = array
        _, offsets, data = array.buffers()
        start = array.offset
        off = np.frombuffer(offsets, dtype=np.int32)[start : start + len(array) + 1]
        self._off = off.data
        self._data = memoryview(data) if data is not None else memoryview(b"")

    def __getitem__(self, row: int) -> str:
        return str(self._data[self._off[row] : self._off[row + 1]], "utf-8")

    def __len__(self) -> int:
        return len(self.array)

    @property
    def nbytes(self) -> int:
        """Bytes of the offsets and the text."""
        return int(self.array.nbytes)


@dataclasses.dataclass(frozen=True, eq=False)
class Kind:
    """One evidence kind: CSR offsets per key plus payload columns and ids, row-aligned."""

    off: Array
    cols: dict[str, Array]
    ids: Ids | None = None

    def __post_init__(self) -> None:
        for arr in (self.off, *self.cols.values()):
            arr.flags.writeable = False

    @property
    def id_column(self) -> Ids:
        """The record ids (every kind but the directory has them)."""
        if self.ids is None:
            raise TypeError("this kind has no record ids")
        return self.ids

    @property
    def rows(self) -> int:
        """Number of records of this kind in the index."""
        return int(self.off[-1])

    @property
    def nbytes(self) -> int:
        """Bytes of the offsets, payloads and ids."""
        ids = self.ids.nbytes if self.ids is not None else 0
        return int(self.off.nbytes + sum(a.nbytes for a in self.cols.values()) + ids)


@dataclasses.dataclass(frozen=True)
class Packing:
    """A directory interval (first, stop, mark) as one unsigned integer.

    first | stop << bits | mark << 2 * bits; 12-bit positions in a uint32 while there are
    fewer than 4095 snapshots and 256 marks (always, in practice), else 24 bits in a uint64.
    """

    bits: int

    @classmethod
    def fitting(cls, snapshots: int, marks: int) -> Packing:
        """The smallest packing for this many snapshots and distinct marks."""
        return cls(12) if snapshots < 2**12 - 1 and marks <= 2**8 else cls(24)

    @property
    def dtype(self) -> type[np.unsignedinteger[Any]]:
        """The numpy type of a packed interval."""
        return np.uint32 if self.bits == 12 else np.uint64

    def pack(self, first: Array, stop: Array, mark: Array) -> Array:
        """Pack columns of positions and mark codes."""
        b = self.bits
        parts = (first.astype(np.uint64), stop.astype(np.uint64) << b, mark.astype(np.uint64))
        return (parts[0] | parts[1] | (parts[2] << 2 * b)).astype(self.dtype)

    def unpack(self, packed: Array) -> tuple[Array, Array, Array]:
        """(first, stop, mark) as int64 columns."""
        b, values = self.bits, packed.astype(np.int64)
        mask = (1 << b) - 1
        return values & mask, (values >> b) & mask, values >> 2 * b


@dataclasses.dataclass(frozen=True, eq=False)
class DialIndex:
    """Everything one gate (controller + policy) needs to decide a number, in memory.

    Attributes:
        controller: The controller the consents and contracts belong to.
        policy: The policy whose semantics the payloads were scanned under.
        keys: The sorted unique phone keys with any evidence.
        offsets: The kinds' CSR offsets, interleaved (each kind's `off` is a column of it).
        consents, contracts, objections, directory: the CSR blocks described above.
        snap_days: Snapshot dates as day numbers, sorted.
        marks: Directory mark texts; a packed interval's mark is a position into it.
        packing: How `directory.cols["interval"]` packs each interval.
        purposes: Each consent row's purposes as stored (NULL: any marketing); None when no
            consent names any.
        token: The store's change token read before the build (None if not known).
        shared: The index holding the directory this one reads, when several controllers
            share one (`optin_gate.dial.shared`); then this index's own directory is empty
            and its `snap_days`, `marks` and `packing` are the shared index's.
        build_seconds: Wall time of the whole build, scans included.
        scan_seconds: The part of it the store was open (other processes' loads wait).
        register: The Slovak list, per Slovak number (`dial.register`).
    """

    controller: str
    policy: Policy
    keys: KeyTable
    offsets: Array
    consents: Kind
    contracts: Kind
    objections: Kind
    directory: Kind
    snap_days: Array
    marks: tuple[str, ...]
    packing: Packing = Packing(12)
    purposes: pa.Array | None = None
    token: object = None
    build_seconds: float = 0.0
    scan_seconds: float = 0.0
    shared: DialIndex | None = None
    register: Register = dataclasses.field(default_factory=Register)

    def __post_init__(self) -> None:
        self.offsets.flags.writeable = False
        self.snap_days.flags.writeable = False

    @property
    def snap_dates(self) -> tuple[date, ...]:
        """The snapshot dates as dates, in order."""
        return tuple(EPOCH_DAY + timedelta(days=int(d)) for d in self.snap_days)

    @property
    def numbers(self) -> int:
        """Distinct phone numbers with any evidence for this gate."""
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Bytes of every array of the index (what it costs in memory, Python objects aside).

        A shared directory index (`shared`) is not counted: it is not this index's alone.
        """
        kinds = (self.consents, self.contracts, self.objections, self.directory)
        payloads = sum(k.nbytes - k.off.nbytes for k in kinds)  # `off` is part of `offsets`
        payloads += self.purposes.nbytes if self.purposes is not None else 0
        return int(self.keys.nbytes + self.offsets.nbytes + self.snap_days.nbytes + payloads)

    def bytes_per_number(self) -> float:
        """`nbytes` per distinct evidence number (the issue's compactness figure)."""
        return self.nbytes / max(1, self.numbers)

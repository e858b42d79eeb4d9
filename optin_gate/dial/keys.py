"""`KeyTable`: the sorted phone keys of an index, found with one or two cache misses.

A plain binary search over 13 million keys costs ~24 dependent cache misses. A bucket table
over the key range (about one bucket per key) narrows the search to a key or two first: key
-> bucket by subtraction and shift, then a search between the bucket's bounds, which mostly
lie in one cache line. Keys of one country spread evenly enough; the table spans the central
99.8 % of the keys so a few far-away foreign numbers do not stretch it (keys outside it fall
in the first or last bucket, which is an ordinary binary search).

Both arrays are plain numpy arrays, which numpy backs with transparent huge pages where the
kernel allows: a lookup then rarely misses the TLB as well as the cache. The compiled lookup
(`optin_gate.dial.compiled`) reads them by address; `find` is the same search in Python.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

import numpy as np

__all__ = ["KeyTable"]

# Buckets per key: each costs 4 bytes per evidence number; 1 keeps a bucket to ~1 key.
_BUCKETS_PER_KEY = 1


class KeyTable:
    """Sorted unique int64 keys with a bucket table in front.

    Attributes:
        keys: The keys, read-only.
        starts: int32; starts[b] = the position of the first key >= base + (b << shift).
        base: The smallest key the buckets cover.
        shift: Bucket width is 2**shift.
        buckets: Number of buckets (len(starts) - 1).
    """

    __slots__ = ("base", "buckets", "keys", "shift", "starts")

    def __init__(self, keys: np.ndarray[Any, Any]) -> None:
        self.keys = np.array(keys, dtype=np.int64)  # own copy, so nobody else can change it
        self.keys.flags.writeable = False
        n = len(self.keys)
        if n == 0:
            self.base, self.shift, self.buckets = 0, 0, 0
            self.starts = np.zeros(1, dtype=np.int32)
            return
        trim = n // 1000
        base, top = int(self.keys[trim]), int(self.keys[n - 1 - trim])
        bits = max(1, (n * _BUCKETS_PER_KEY).bit_length())
        self.shift = max(0, (top - base).bit_length() - bits)
        self.base = base
        self.buckets = ((top - base) >> self.shift) + 1
        edges = base + (np.arange(self.buckets + 1, dtype=np.int64) << self.shift)
        # int32 halves the table's cache share; the dial index holds < 2**31 keys (build).
        self.starts = np.searchsorted(self.keys, edges).astype(np.int32)
        self.starts.flags.writeable = False

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Bytes of the keys and the bucket table."""
        return int(self.keys.nbytes + self.starts.nbytes)

    def find(self, key: int) -> int:
        """The position of `key`, or -1 (the compiled lookup does the same)."""
        b = (key - self.base) >> self.shift
        if b < 0:
            lo, hi = 0, int(self.starts[0])
        elif b >= self.buckets:
            lo, hi = int(self.starts[self.buckets]), len(self.keys)
        else:
            lo, hi = int(self.starts[b]), int(self.starts[b + 1])
        keys = self.keys.data
        i = bisect_left(keys, key, lo, hi)
        return i if i < hi and keys[i] == key else -1

"""The dial index looked up for many calls, each at its own instant (a call log).

`rows_many` answers many numbers at one instant, as a list is checked now; a log of past
calls asks each number at the time it was called. The same compiled lookup
(`optin_gate.dial.compiled.rows`, the rules of `optin_gate.store.semantics`) runs here for
every call in one loop in machine code, on slices of the calls on several threads (it holds
no GIL). A call's Prague day and directory snapshot are those of its hour (Prague's offset
is a whole number of hours), so they come as small per-hour tables, not per call.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from optin_gate._jit import njit
from optin_gate.dial.compiled import NONE, rows

__all__ = ["HOUR_US", "Calls", "rows_each"]

HOUR_US = 3_600_000_000  # microseconds in an hour: a call's hour is t_us // HOUR_US
_SLICE = 1 << 18  # calls per task: small enough to share the work, big enough to pay


@njit(cache=True, nogil=True)
def _rows_each(tables, bases, marks, which, keys, t_us, hours, place, out):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """`rows` of each call j, and its day, into `out[:, place[j]]` (int32); see `rows_each`."""
    first = hours[0, 0]
    for j in range(len(keys)):
        g, p = which[j], place[j]
        h = t_us[j] // HOUR_US - first
        day = hours[1, h] if g >= 0 else 0
        out[4, p] = day
        if g < 0 or keys[j] < 0:
            out[0, p], out[1, p], out[2, p], out[3, p] = NONE, NONE, NONE, 0
            continue
        o, c, k, m = rows(tables[g], keys[j], t_us[j], day, hours[2, h])
        out[0, p] = o + bases[g, 0] if o >= 0 else o
        out[1, p] = c + bases[g, 1] if c >= 0 else c
        out[2, p] = k + bases[g, 2] if k >= 0 else k
        out[3, p] = marks[m] if m >= 0 else 0


class Calls:
    """The calls to look up, as `rows_each` reads them.

    Attributes:
        which: Per call, its row of the address tables (int32); -1 for a call that cannot
            be judged (nothing to look up, no day).
        keys: Per call, its phone key; -1 for an invalid number (nothing to look up).
        t_us: Per call, its instant in microseconds UTC.
        hours: int64 [3, hours]: the first hour in [0, 0], then per hour from it its Prague
            day number ([1]) and its directory snapshot's position ([2], -1: none yet).
        place: Per call, where its answers go in the output (int64): calls looked up in
            the order of their numbers read the index from front to back, and their
            answers still come out in the log's order.
    """

    __slots__ = ("hours", "keys", "place", "t_us", "which")

    def __init__(self, which: Any, keys: Any, t_us: Any, hours: Any, place: Any) -> None:
        self.which = np.ascontiguousarray(which, dtype=np.int32)
        self.keys = np.ascontiguousarray(keys, dtype=np.int64)
        self.t_us = np.ascontiguousarray(t_us, dtype=np.int64)
        self.hours = np.ascontiguousarray(hours, dtype=np.int64)
        self.place = np.ascontiguousarray(place, dtype=np.int64)


def rows_each(
    tables: Any, bases: Any, marks: Any, calls: Calls, *, workers: int = 1
) -> np.ndarray[Any, np.dtype[np.int32]]:
    """(objection, consent, contract, mark code, day) of each call at its time, int32 [5, n].

    Column `place[j]` of the output answers call j.

    Args:
        tables: int64 [tables, slots]: the lookups' address tables (`compiled.Lookup.table`,
            or one for a purpose, `compiled.with_consents`).
        bases: int32 [tables, 3]: added to the objection, consent and contract rows a
            table answers (so that several indexes' rows can share one id column).
        marks: int32: the code of each directory mark of the indexes (no mark: 0).
        calls: The calls.
        workers: Threads to share the calls among.

    Returns:
        Per call, as `compiled.rows` with `bases` added: -1 for none, a consent below -1
        when the number has consents of which none holds; the mark as its code; the day
        number (0 for a call that cannot be judged).
    """
    n = len(calls.keys)
    out = np.empty((5, n), dtype=np.int32)
    tables = np.ascontiguousarray(tables, dtype=np.int64)
    bases = np.ascontiguousarray(bases, dtype=np.int32)
    marks = np.ascontiguousarray(marks, dtype=np.int32)

    def run(lo: int) -> None:
        part = slice(lo, min(lo + _SLICE, n))
        given = (calls.which[part], calls.keys[part], calls.t_us[part], calls.hours)
        _rows_each(tables, bases, marks, *given, calls.place[part], out)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="optin-gate-each") as pool:
        list(pool.map(run, range(0, n, _SLICE)))
    return out

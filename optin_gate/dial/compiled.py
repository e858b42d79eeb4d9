"""The dial index lookup in machine code: one number's rows at one instant, for `Checker.check`.

A check spends most of its time in the interpreter, not in the index: finding a key and
scanning a few rows per kind is a hundred bytecodes over memoryviews. Here the same steps are
compiled once by numba (cached on disk, `optin_gate._jit`, so later processes load it
instead of compiling). The index's arrays reach the compiled code as one table of addresses
(`Lookup.table`): every array argument adds to the cost of a numba call, and a dozen arrays
would cost more than the lookup.

What it returns is the row of each record that holds at T, by the rules of
`optin_gate.store.semantics`: rows within a key are oldest first (`NEWEST`), so the last row
that holds is the newest, and an objection the consent outweighs is dropped. The caller reads
the ids and folds in objections recorded since the build (`optin_gate.dial.probe`). A key
with consents none of which holds answers below -1 for its consent (`held_key` gives the
key's position back), so a decision's note costs nothing until then.

The Slovak list is the fifth kind, with keys of its own (`optin_gate.dial.register`): a
Slovak number is often on the list and nowhere else. `home_rows_sk` answers its part of the
shape (`register_part`) beside the rows, for the compact Slovak lane.

A call's purpose never reaches the compiled code: a lookup for a purpose is the same table
with another consent block, in which a consent that does not cover the purpose never holds
(`with_consents`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.numpy_support import carray

from optin_gate._jit import njit
from optin_gate.dial import register as reg
from optin_gate.dial.index import KINDS, DialIndex, Kind
from optin_gate.numbers.spec import MAX_DIGITS, MIN_DIGITS, CountrySpec
from optin_gate.store.semantics import (
    NO_CONSENT,
    consent_before_jit,
    consent_holds_jit,
    contract_holds_jit,
    objection_in_force_jit,
    objection_made_jit,
    registration_blocks_jit,
)

__all__ = [
    "NONE",
    "NOT_VALID",
    "OUTSIDE",
    "Lookup",
    "held_key",
    "home_rows",
    "home_rows_sk",
    "register_part",
    "register_table",
    "rows",
    "rows_many",
    "with_consents",
]

NONE = -1  # no row
_HELD = -2  # a consent answer <= this: none holds; the key's position is _HELD - it
NOT_VALID = -1  # home_rows: the number is not valid (phonenumbers' answer too)
OUTSIDE = -2  # home_rows: not a compact number of the home country; normalize it in Python
# Slots of the address table (`Lookup.table`).
_KEYS, _N, _STARTS, _BASE, _SHIFT, _BUCKETS, _OFFSETS = range(7)
_C_ROWS, _C_LEN, _K_ROWS, _K_LEN, _O_AT, _O_LEN, _D_INTERVAL, _D_LEN, _BITS = range(7, 16)
# The home country's plan (`home_rows`): calling code, its digits, DFA [states, 10] int32,
# types [states, width] int8.
_CC, _CC_DIGITS, _DFA, _DFA_STATES, _TYPES, _TYPES_WIDTH = range(16, 22)
_O_STATED = 22  # the objections' stated times, beside `_O_AT` (counting from)
# The address table of the index whose directory this one reads (`DialIndex.shared`), or 0.
_SHARED = 23
# The plan's national prefix, a single digit (-1: none): a national number starting with it
# leaves the lane, since phonenumbers may strip it (`numbers.scalar._finish`).
_NPP = 24
# The Slovak list (`Register`): its keys, their count, row starts, entries, sector ids.
_R_KEYS, _R_N, _R_STARTS, _R_ENTRIES, _R_ROWS, _R_SECTORS, _SLOTS = range(25, 32)
# Columns of `DialIndex.offsets`.
_C, _K, _O, _D = (KINDS.index(k) for k in ("consents", "contracts", "objections", "directory"))


def _pointer_of(typingctx: Any, address: Any) -> Any:
    """An int64 address as a void pointer (numba's documented way to view foreign memory)."""
    sig = types.voidptr(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


_pointer: Any = intrinsic(_pointer_of)


@njit(inline="always")
def _last_consent(pairs, first, stop, t_us):  # type: ignore[no-untyped-def]
    """The last consent row in [first, stop) holding at T, or -1 (rows: granted, until).

    Rows are oldest first (`semantics.NEWEST`), so the last that holds is the newest.
    """
    r = stop - 1
    while r >= first:
        if consent_holds_jit(pairs[2 * r], pairs[2 * r + 1], t_us):
            return r
        r -= 1
    return NONE


@njit(inline="always")
def _last_contract(pairs, first, stop, day):  # type: ignore[no-untyped-def]
    """The last contract row in [first, stop) counting on `day`, or -1 (rows: start, last)."""
    r = stop - 1
    while r >= first:
        if contract_holds_jit(pairs[2 * r], pairs[2 * r + 1], day):
            return r
        r -= 1
    return NONE


@njit(inline="always")
def _objection(at, stated, first, stop, t_us, granted):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """The newest objection row in [first, stop) counting at T unless outweighed, or -1.

    Rows are oldest first by stated time (`semantics.NEWEST`); `at` is when each counts from.
    """
    r = stop - 1
    while r >= first:
        if objection_made_jit(at[r], t_us):
            return r if objection_in_force_jit(stated[r], granted) else NONE
        r -= 1
    return NONE


@njit(inline="always")
def _mark_within(packed, first, stop, snap, bits):  # type: ignore[no-untyped-def]
    """The mark code of the interval in [first, stop) listing snapshot `snap`, or -1.

    An interval is first | stop << bits | mark << 2 * bits (`optin_gate.dial.index.Packing`).
    """
    mask = (1 << bits) - 1
    for r in range(first, stop):
        p = np.int64(packed[r])
        if p & mask <= snap < (p >> bits) & mask:
            return p >> (2 * bits)
    return NONE


@njit(inline="always")
def _search(keys, n, lo, hi, key):  # type: ignore[no-untyped-def]
    """The position of `key` among the sorted `keys[lo:hi]` (of `n`), or -1."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo == n or keys[lo] != key:
        return NONE
    return lo


@njit(inline="always")
def _find(t, key):  # type: ignore[no-untyped-def]
    """The position of `key` among the table's keys, or -1."""
    n = t[_N]
    keys = carray(_pointer(t[_KEYS]), n, np.int64)
    starts = carray(_pointer(t[_STARTS]), t[_BUCKETS] + 1, np.int32)
    # The bucket's bounds, then a binary search inside them.
    b = (key - t[_BASE]) >> t[_SHIFT]
    if b < 0:
        lo, hi = 0, starts[0]
    elif b >= t[_BUCKETS]:
        lo, hi = starts[t[_BUCKETS]], n
    else:
        lo, hi = starts[b], starts[b + 1]
    return _search(keys, n, lo, hi, key)


@njit(inline="always")
def _mark(t, here, there, snap):  # type: ignore[no-untyped-def]
    """The mark in snapshot `snap` of the key whose offsets start at `here`, or -1."""
    off = carray(_pointer(t[_OFFSETS]), 4 * (t[_N] + 1), np.int32)
    if snap < 0 or off[there + _D] <= off[here + _D]:
        return NONE
    first, stop = off[here + _D], off[there + _D]
    if t[_BITS] == 12:
        packed32 = carray(_pointer(t[_D_INTERVAL]), t[_D_LEN], np.uint32)
        return _mark_within(packed32, first, stop, snap, t[_BITS])
    packed64 = carray(_pointer(t[_D_INTERVAL]), t[_D_LEN], np.uint64)
    return _mark_within(packed64, first, stop, snap, t[_BITS])


@njit(inline="always")
def _release(t, key, day):  # type: ignore[no-untyped-def]
    """The offset in the list entries of `key`'s release in force on `day`, or -1."""
    n = t[_R_N]
    if n == 0:
        return NONE
    keys = carray(_pointer(t[_R_KEYS]), n, np.int64)
    if key < keys[0] or key > keys[n - 1]:  # a Czech number stops here
        return NONE
    at = _search(keys, n, 0, n, key)
    if at == NONE:
        return NONE
    starts = carray(_pointer(t[_R_STARTS]), n + 1, np.int32)
    entries = carray(_pointer(t[_R_ENTRIES]), reg.COLUMNS * t[_R_ROWS], np.int64)
    # The newest release on or before the day: usually the newest of all.
    first, r = starts[at], starts[at + 1] - 1
    while r >= first and entries[reg.COLUMNS * r + reg.DAY] > day:
        r -= 1
    return reg.COLUMNS * r if r >= first else NONE


@njit(inline="always")
def _listed(t, key, day, granted, sector, meaning):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """`rules.shapes.register_part` of `key` on day number `day` (`Register.part`)."""
    e = _release(t, key, day)
    if e == NONE:
        return 0
    entries = carray(_pointer(t[_R_ENTRIES]), reg.COLUMNS * t[_R_ROWS], np.int64)
    covers = False
    if sector >= 0:
        ids = carray(_pointer(t[_R_SECTORS]), entries[e + reg.SECTORS_STOP], np.int32)
        for s in range(entries[e + reg.SECTORS_FIRST], entries[e + reg.SECTORS_STOP]):
            if ids[s] == sector:
                covers = True
    part = entries[e + reg.PART]
    if not registration_blocks_jit(
        entries[e + reg.REGISTERED] != 0,
        entries[e + reg.EVERY] != 0,
        covers,
        sector != reg.NO_SECTOR,
        (meaning & reg.UNKNOWN_BLOCKS) != 0,
    ):
        return part
    if consent_before_jit(granted, entries[e + reg.EFFECTIVE], (meaning & reg.CONSENT_ALWAYS) != 0):
        return part + 3  # blocks, and bars the consent
    return part + 2  # blocks


@njit(cache=True, nogil=True)
def register_part(t, key, day, granted, sector, meaning):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """`Register.part` over the table's list arrays: the list part of `key`'s shape.

    Args:
        t: The address table.
        key: The phone key.
        day: The check's day number.
        granted: The counting consent's grant instant, `NO_CONSENT` for none.
        sector: The campaign's sector id (`Register.sector_id`).
        meaning: `dial.register.meaning_bits` of the policy.
    """
    return _listed(t, key, day, granted, sector, meaning)


@njit(cache=True, nogil=True)
def _rows(t, key, t_us, day, snap):  # type: ignore[no-untyped-def]
    """(objection row, consent row, contract row, directory mark code) of `key` at T.

    The objection is the newest made by T unless the consent outweighs it; -1 means none.
    """
    mark = NONE
    if t[_SHARED] != 0 and snap >= 0:  # the directory lives in a shared index
        shared = carray(_pointer(t[_SHARED]), _SLOTS, np.int64)
        pos = _find(shared, key)
        if pos != NONE:
            mark = _mark(shared, 4 * pos, 4 * pos + 4, snap)
    lo = _find(t, key)
    if lo == NONE:
        return NONE, NONE, NONE, mark
    # This key's row ranges in every kind: two adjacent rows of the offsets table.
    off = carray(_pointer(t[_OFFSETS]), 4 * (t[_N] + 1), np.int32)
    here, there = 4 * lo, 4 * lo + 4
    # The consent holding at T (rows: granted, until interleaved).
    consent = NONE
    granted = NO_CONSENT
    if off[there + _C] > off[here + _C]:
        rows = carray(_pointer(t[_C_ROWS]), 2 * t[_C_LEN], np.int64)
        consent = _last_consent(rows, off[here + _C], off[there + _C], t_us)
        if consent != NONE:
            granted = rows[2 * consent]
        else:
            consent = _HELD - lo
    # The newest objection counting at T, if that consent does not outweigh it.
    objection = NONE
    if off[there + _O] > off[here + _O]:
        at = carray(_pointer(t[_O_AT]), t[_O_LEN], np.int64)
        stated = carray(_pointer(t[_O_STATED]), t[_O_LEN], np.int64)
        objection = _objection(at, stated, off[here + _O], off[there + _O], t_us, granted)
    # The contract counting on T's day (interleaved int32 pairs: start, last).
    contract = NONE
    if off[there + _K] > off[here + _K]:
        days = carray(_pointer(t[_K_ROWS]), 2 * t[_K_LEN], np.int32)
        contract = _last_contract(days, off[here + _K], off[there + _K], day)
    # The mark in the newest snapshot on or before T's day: first <= snap < stop.
    if t[_SHARED] == 0:
        mark = _mark(t, here, there, snap)
    return objection, consent, contract, mark


@njit(cache=True, nogil=True)
def rows_many(t, keys, t_us, day, snap):  # type: ignore[no-untyped-def]
    """`rows` for every key of an int64 array: four int64 arrays (objection, consent, ...)."""
    n = len(keys)
    out = np.empty((4, n), dtype=np.int64)
    for j in range(n):
        o, c, k, m = _rows(t, keys[j], t_us, day, snap)
        out[0, j], out[1, j], out[2, j], out[3, j] = o, c, k, m
    return out


@njit(cache=True, nogil=True)
def _home_type(t, key, digits):  # type: ignore[no-untyped-def]
    """The type code of "+<digits>" read as `key`, `NOT_VALID`, or `OUTSIDE` the lane.

    `optin_gate.numbers.scalar.fast_one`'s flat lane for compact E.164, for one country:
    calling code, length bounds, one DFA walk over the national number, the type table at its
    length. A plan with a one-digit national prefix takes only national numbers that do not
    start with it (`fast_one` may strip it from the rest).
    """
    cc_digits = t[_CC_DIGITS]
    if cc_digits == 0 or digits < MIN_DIGITS or digits > MAX_DIGITS or digits - cc_digits < 2:
        return OUTSIDE
    national_digits = digits - cc_digits
    scale = 1
    for _ in range(national_digits):
        scale *= 10
    if key // scale != t[_CC]:
        return OUTSIDE
    national = key - t[_CC] * scale
    if t[_NPP] >= 0 and national // (scale // 10) == t[_NPP]:
        return OUTSIDE
    dfa = carray(_pointer(t[_DFA]), 10 * t[_DFA_STATES], np.int32)
    state = 1
    while scale > 1:
        scale //= 10
        state = dfa[10 * state + (national // scale) % 10]
    code = carray(_pointer(t[_TYPES]), t[_DFA_STATES] * t[_TYPES_WIDTH], np.int8)[
        state * t[_TYPES_WIDTH] + national_digits
    ]
    return NOT_VALID if code < 0 else np.int64(code)


@njit(cache=True, nogil=True)
def home_rows(t, key, digits, t_us, day, snap):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """(type code, then `_rows`) for "+<digits>" read as `key`; see `_home_type`."""
    code = _home_type(t, key, digits)
    if code < 0:
        return code, NONE, NONE, NONE, NONE
    objection, consent, contract, mark = _rows(t, key, t_us, day, snap)
    return code, objection, consent, contract, mark


@njit(cache=True, nogil=True)
def home_rows_sk(t, key, digits, t_us, day, snap, sector, meaning):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """`home_rows`, then `register_part` of the key (0 when not a number of the plan)."""
    code = _home_type(t, key, digits)
    if code < 0:
        return code, NONE, NONE, NONE, NONE, 0
    objection, consent, contract, mark = _rows(t, key, t_us, day, snap)
    granted = NO_CONSENT
    if consent >= 0:
        granted = carray(_pointer(t[_C_ROWS]), 2 * t[_C_LEN], np.int64)[2 * consent]
    listed = _listed(t, key, day, granted, sector, meaning)
    return code, objection, consent, contract, mark, listed


def held_key(consent: int) -> int:
    """The position of a key whose consents none holds, from its consent answer (< -1)."""
    return _HELD - consent


def with_consents(table: Any, pairs: Any) -> Any:
    """A copy of a lookup's address table reading its consents from `pairs` instead.

    `pairs`: the (granted, until) rows interleaved in one C-ordered int64 block, row for
    row the index's consents; the caller keeps it alive as long as the table.
    """
    if pairs.dtype != np.int64 or not pairs.flags.c_contiguous:
        raise AssertionError("consent pairs must be one C-ordered int64 block")
    out = table.copy()
    out[_C_ROWS] = _address(pairs)
    out.flags.writeable = False
    return out


def register_table(register: reg.Register) -> Any:
    """An address table holding only `register` (what `register_part` reads).

    The caller keeps `register` alive as long as the table.
    """
    t = np.zeros(_SLOTS, dtype=np.int64)
    _put_register(t, register)
    t.flags.writeable = False
    return t


def _put_register(t: Any, r: reg.Register) -> None:
    if r.entries.shape[1] != reg.COLUMNS or not r.entries.flags.c_contiguous:
        raise AssertionError("the list entries must be one C-ordered int64 block")
    t[_R_KEYS], t[_R_N], t[_R_STARTS] = _address(r.keys), len(r.keys), _address(r.starts)
    t[_R_ENTRIES], t[_R_ROWS] = _address(r.entries), len(r.entries)
    t[_R_SECTORS] = _address(r.sector_ids)


def _address(array: Any) -> int:
    return int(array.ctypes.data) if array.size else 0


def _pair(kind: Kind, first: str, second: str) -> int:
    """The address of a kind's two interleaved columns (checked: the compiled code relies on it)."""
    a, b = kind.cols[first], kind.cols[second]
    step = a.itemsize
    if kind.rows and (a.strides != (2 * step,) or _address(b) != _address(a) + step):
        raise AssertionError(f"{first} and {second} are not interleaved")
    return _address(a)


class Lookup:
    """The compiled lookup over one index: `rows(key, t_us, day, snap)`.

    Holds the index (and the home plan's tables), so the memory behind the addresses lives as
    long as they are used. `home` is the default region's plan, for `home_rows`.
    """

    __slots__ = ("_plans", "_shared", "home", "index", "table")

    table: np.ndarray[Any, np.dtype[np.int64]]

    def __init__(self, index: DialIndex, home: CountrySpec | None = None) -> None:
        self.index = index
        self.home = home
        ks = index.keys
        starts = ks.starts
        if starts.dtype != np.int32 or index.offsets.dtype != np.int32:
            raise AssertionError("the compiled lookup reads int32 bucket starts and offsets")
        offsets = np.ascontiguousarray(index.offsets)
        if offsets.ctypes.data != index.offsets.ctypes.data:
            raise AssertionError("the offsets table must be one C-ordered block")
        c, k, o, d = index.consents, index.contracts, index.objections, index.directory
        t = np.zeros(_SLOTS, dtype=np.int64)
        t[_KEYS], t[_N], t[_STARTS] = _address(ks.keys), len(ks), _address(starts)
        t[_BASE], t[_SHIFT], t[_BUCKETS] = ks.base, ks.shift, ks.buckets
        t[_OFFSETS] = _address(offsets)
        t[_C_ROWS], t[_C_LEN] = _pair(c, "granted", "until"), c.rows
        t[_K_ROWS], t[_K_LEN] = _pair(k, "start", "last"), k.rows
        t[_O_AT], t[_O_LEN] = _address(o.cols["at"]), o.rows
        t[_O_STATED] = _address(o.cols["stated"])
        t[_D_INTERVAL], t[_D_LEN] = _address(d.cols["interval"]), d.rows
        t[_BITS] = index.packing.bits
        # The shared directory's own lookup, kept alive: the table holds its address.
        self._shared = None if index.shared is None else Lookup(index.shared)
        t[_SHARED] = 0 if self._shared is None else _address(self._shared.table)
        _put_register(t, index.register)
        t[_NPP] = -1
        if home is not None and len(home.npp) <= 1:  # no national prefix, or one digit
            dfa = np.ascontiguousarray(home.dfa.table[:, :10], dtype=np.int32)
            types = np.ascontiguousarray(home.types, dtype=np.int8)
            self._plans = (dfa, types)  # kept alive: the table holds their addresses
            t[_NPP] = int(home.npp) if home.npp else -1
            t[_CC], t[_CC_DIGITS] = home.cc, len(home.cc_digits)
            t[_DFA], t[_DFA_STATES] = _address(dfa), len(dfa)
            t[_TYPES], t[_TYPES_WIDTH] = _address(types), types.shape[1]
        t.flags.writeable = False
        self.table = t

    def rows(self, key: int, t_us: int, day: int, snap: int) -> tuple[int, int, int, int]:
        """(objection, consent, contract, mark code) rows of `key` at T; -1 for none.

        The objection is the one in force, the consent weighed against it. The checker calls
        the compiled function itself, with `table`, to save a frame.
        """
        return rows(self.table, key, t_us, day, snap)  # type: ignore[no-any-return]


rows = _rows

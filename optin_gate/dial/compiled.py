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
Slovak number is often on the list and nowhere else. `lane_check` answers its part of the
shape (`register_part`) beside the rows, for the compact Slovak lane.

`lane_check` is the dial check of a compact number in one call: it reads the text itself,
validates it for the home country (or Slovakia), looks it up and packs the shape of its
facts, so the checker only fetches the shape's decision and spells the evidence. It is called
through its entry point (`lane_entry`), which skips numba's type dispatch: every argument is
an int but the number's text, and the constants of the check's day sit in a lane table
(`lane_table`) beside the lookup's addresses.

A call's purpose never reaches the compiled code: a lookup for a purpose is the same table
with another consent block, in which a consent that does not cover the purpose never holds
(`with_consents`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import types
from numba.core import cgutils
from numba.cpython.unicode import _get_code_point
from numba.extending import intrinsic
from numba.np.numpy_support import carray

from optin_gate._jit import njit
from optin_gate.dial import register as reg
from optin_gate.dial.index import KINDS, DialIndex, Kind
from optin_gate.numbers.spec import MAX_DIGITS, MIN_DIGITS, CountrySpec
from optin_gate.rules.shapes import FLAGS
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
    "OVERLAID",
    "Lookup",
    "consents_of",
    "held_key",
    "lane_entry",
    "lane_table",
    "register_part",
    "register_table",
    "rows",
    "rows_many",
    "with_consents",
]

NONE = -1  # no row
_HELD = -2  # a consent answer <= this: none holds; the key's position is _HELD - it
NOT_VALID = -1  # lane_check: the number is not valid (phonenumbers' answer too)
OUTSIDE = -2  # lane_check: not a compact number of a lane's country; normalize it in Python
OVERLAID = -3  # lane_check: an objection was recorded for the number since the build
# Slots of the address table (`Lookup.table`).
_KEYS, _N, _STARTS, _BASE, _SHIFT, _BUCKETS, _OFFSETS = range(7)
_C_ROWS, _C_LEN, _K_ROWS, _K_LEN, _O_AT, _O_LEN, _D_INTERVAL, _D_LEN, _BITS = range(7, 16)
# The home country's plan (`lane_check`): calling code, its digits, DFA [states, 10] int32,
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
# A lane table (`lane_table`): the lookup's slots, then the day's constants and the lanes'
# number codes, the Slovak lane's table (0: none), the policy's meaning bits and the keys
# with objections recorded since the build (sorted; their count).
_L_DAY, _L_SNAP, _L_MARK_RADIX, _L_SK_RADIX, _L_HOME_NUMBER, _L_HOME_LISTED, _L_SK_TABLE = range(
    _SLOTS, _SLOTS + 7
)
_L_SK_NUMBER, _L_MEANING, _L_RECORDED, _L_RECORDED_N, _LANE_SLOTS = range(_SLOTS + 7, _SLOTS + 12)
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
    # A bucket mostly holds the key or nothing: reading the first key's row of offsets now
    # fetches it from memory while the keys are searched, instead of after.
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
    return _rows_over(t, key, t_us, day, snap, t[_C_ROWS])


@njit(inline="always")
def _rows_over(t, key, t_us, day, snap, consents):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """`_rows`, reading the consents' (granted, until) pairs at address `consents`."""
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
        rows = carray(_pointer(consents), 2 * t[_C_LEN], np.int64)
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


@njit(inline="always")
def _compact_key(phone):  # type: ignore[no-untyped-def]
    """The digits of "+<digits>" as an int64, or -1 for any other text (ASCII digits only)."""
    n = len(phone)
    if n < 2 or n > MAX_DIGITS + 1:
        return NONE
    # numba's own read of one code point: indexing a str would build a string per character.
    if _get_code_point(phone, 0) != 43:  # type: ignore[no-untyped-call]  # "+"
        return NONE
    key = 0
    for i in range(1, n):
        digit = _get_code_point(phone, i) - 48  # type: ignore[no-untyped-call]
        if digit < 0 or digit > 9:
            return NONE
        key = key * 10 + digit
    return key


@njit(inline="always")
def _recorded(t, key):  # type: ignore[no-untyped-def]
    """Whether an objection was recorded for `key` since the index was built."""
    n = t[_L_RECORDED_N]
    if n == 0:
        return False
    keys = carray(_pointer(t[_L_RECORDED]), n, np.int64)
    return _search(keys, n, 0, n, key) != NONE


# The GIL stays held: releasing and taking it back would cost more than the call.
@njit(cache=True)
def lane_check(lane, phone, t_us, sector, consents):  # type: ignore[no-untyped-def]
    """(type code, shape, objection row, consent row, contract row) of a compact number at T.

    The type code is `NOT_VALID` (shape 0, no rows), `OUTSIDE` the lanes or `OVERLAID` (the
    caller takes its long way), else the number's in its lane. The shape is packed as
    `ShapeCodec.pack` packs a live call from a line that is not +421 888 on the lane table's
    day; the objection is the index's, weighed against the consent (`_rows`).

    Args:
        lane: The lane table's address (`lane_table`).
        phone: The number as given.
        t_us: The check's instant, within the lane table's day.
        sector: The campaign's sector id (`Register.sector_id`).
        consents: The address of the consent pairs to read (`consents_of`): those covering
            a call's purpose.
    """
    t = carray(_pointer(lane), _LANE_SLOTS, np.int64)
    key = _compact_key(phone)
    if key == NONE:
        return OUTSIDE, 0, NONE, NONE, NONE
    digits = len(phone) - 1
    number, listed = t[_L_HOME_NUMBER], t[_L_HOME_LISTED]
    code = _home_type(t, key, digits)
    if code == OUTSIDE and t[_L_SK_TABLE] != 0:
        code = _home_type(carray(_pointer(t[_L_SK_TABLE]), _SLOTS, np.int64), key, digits)
        number, listed = t[_L_SK_NUMBER], 1
    if code < 0:
        return code, 0, NONE, NONE, NONE
    if _recorded(t, key):
        return OVERLAID, 0, NONE, NONE, NONE
    day = t[_L_DAY]
    objection, consent, contract, mark = _rows_over(t, key, t_us, day, t[_L_SNAP], consents)
    sk = 0
    if listed:
        granted = NO_CONSENT
        if consent >= 0:
            granted = carray(_pointer(consents), 2 * t[_C_LEN], np.int64)[2 * consent]
        sk = 2 * _listed(t, key, day, granted, sector, t[_L_MEANING])
    flags = (objection >= 0) | (consent >= 0) << 1 | (contract >= 0) << 2
    shape = ((number + code) * FLAGS + flags) * t[_L_MARK_RADIX] + mark + 1
    return code, shape * t[_L_SK_RADIX] + sk, objection, consent, contract


_LANE_SIGNATURE = (types.int64, types.unicode_type, types.int64, types.int64, types.int64)


def lane_entry() -> Any:
    """`lane_check`'s compiled entry point: called with exactly its types, no dispatch.

    Every argument but the text is a Python int (which the entry point converts and checks);
    the text must be a `str` (the caller checks).
    """
    return lane_check.compile(_LANE_SIGNATURE)


def lane_table(
    home: Lookup,
    slovak: Lookup | None,
    *,
    day: int,
    snap: int,
    radixes: tuple[int, int],
    numbers: tuple[int, bool, int],
    meaning: int,
    recorded: Any,
) -> Any:
    """The lane table of one index on one day, for `lane_check`.

    Args:
        home: The home country's lookup (its plan and the index's arrays).
        slovak: The Slovak lane's lookup over the same index, or None.
        day: The day number of the checks.
        snap: The newest snapshot on or before it: position in the index, or -1.
        radixes: The shape codec's mark and Slovak radixes.
        numbers: The home lane's number code of type code 0, whether the home country's
            numbers have a Slovak list part, the Slovak lane's number code of type code 0.
        meaning: `dial.register.meaning_bits` of the policy.
        recorded: The sorted int64 keys with objections recorded since the build; the
            caller keeps them, `home` and `slovak` alive as long as the table.
    """
    if recorded.dtype != np.int64 or not recorded.flags.c_contiguous:
        raise AssertionError("the recorded keys must be one C-ordered int64 block")
    t = np.zeros(_LANE_SLOTS, dtype=np.int64)
    t[:_SLOTS] = home.table
    t[_L_DAY], t[_L_SNAP] = day, snap
    t[_L_MARK_RADIX], t[_L_SK_RADIX] = radixes
    t[_L_HOME_NUMBER], t[_L_HOME_LISTED], t[_L_SK_NUMBER] = numbers
    t[_L_SK_TABLE] = 0 if slovak is None else _address(slovak.table)
    t[_L_MEANING] = meaning
    t[_L_RECORDED], t[_L_RECORDED_N] = _address(recorded), len(recorded)
    t.flags.writeable = False
    return t


def consents_of(table: Any) -> int:
    """The address of the consent pairs an address table reads (`lane_check`'s `consents`)."""
    return int(table[_C_ROWS])


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
    long as they are used. `home` is the default region's plan, for `lane_check`.
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

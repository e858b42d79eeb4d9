"""The batch fast path: distinct strings in, phonenumbers' answers out, in numpy over Arrow.

It reads the UTF-8 bytes of an Arrow string array directly, classifies every byte with a lookup
table, keeps the strings in the safe subset (`optin_gate.numbers.spec`) and turns their digits
into a matrix. The routing of phonenumbers.parse (plus sign, international prefix, the default
country's code written without a plus, national prefix) then runs as array operations on that
matrix, and each country's patterns run as one DFA walk over all its numbers at once. It mirrors
`optin_gate.numbers.scalar` line by line; the tests hold both to phonenumbers.

Strings outside the subset are left undecided for the caller's phonenumbers fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from optin_gate.numbers._arrow import string_array, validity
from optin_gate.numbers._dfa import PAD
from optin_gate.numbers.spec import (
    CC_BY_PREFIX,
    CC_LEN_BY_PREFIX,
    MAX_DIGITS,
    MAX_INPUT_LENGTH,
    MIN_DIGITS,
    SEPARATORS,
    CountrySpec,
    RegionSpec,
    country_spec,
)

__all__ = ["REGION_NAMES", "FastResult", "fast_batch"]

Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]
Matrix = np.ndarray[Any, np.dtype[np.uint8]]

CHUNK = 1 << 16  # strings per pass: keeps the byte-level temporaries small and cache-warm
WIDTH = MAX_DIGITS + 1  # digit matrix width; the last column is always PAD
SEP, PLUS, LEAD_C2, TAIL_A0, OTHER = 11, 12, 13, 14, 15
_BYTE_CLASS = np.full(256, OTHER, dtype=np.uint8)
_BYTE_CLASS[48:58] = np.arange(10)
for _char in SEPARATORS.replace("\u00a0", ""):
    _BYTE_CLASS[ord(_char)] = SEP
_BYTE_CLASS[ord("+")] = PLUS
_BYTE_CLASS[0xC2], _BYTE_CLASS[0xA0] = LEAD_C2, TAIL_A0  # U+00A0 is C2 A0 in UTF-8
_WEIGHT = np.zeros(16, dtype=np.int64)  # per byte class: digit 1, plus 1 << 8, unsafe 1 << 16
_WEIGHT[:10], _WEIGHT[PLUS] = 1, 1 << 8
_WEIGHT[[LEAD_C2, TAIL_A0, OTHER]] = 1 << 16
_OUT_BYTE = np.frombuffer(b"0123456789\x00+", dtype=np.uint8)  # code -> byte (PAD unused)
_PLUS_CODE = 11

# Every region a number can belong to ("001" for non-geographic codes), for compact codes.
REGION_NAMES: tuple[str, ...] = tuple(
    sorted({region for regions in COUNTRY_CODE_TO_REGION_CODE.values() for region in regions})
)
_REGION_INDEX = {name: i for i, name in enumerate(REGION_NAMES)}


@dataclass
class FastResult:
    """What the fast path decided for n strings; rows not `decided` need phonenumbers.

    Attributes:
        decided: The fast path's answer is phonenumbers' answer.
        valid: Valid number (decided rows only).
        type_code: Index into spec.TYPE_CODES, -1 when not valid.
        region: Index into REGION_NAMES, -1 when not valid.
        e164_rows: Ascending row numbers of the valid rows.
        e164: Their E.164 strings, in that order.
    """

    decided: Bools
    valid: Bools
    type_code: np.ndarray[Any, np.dtype[np.int8]]
    region: np.ndarray[Any, np.dtype[np.int16]]
    e164_rows: Ints
    e164: pa.Array


def fast_batch(strings: pa.Array, spec: RegionSpec) -> FastResult:
    """Decide every string in the safe subset. `strings`: string or large_string."""
    n = len(strings)
    out = FastResult(
        decided=np.zeros(n, dtype=np.bool_),
        valid=np.zeros(n, dtype=np.bool_),
        type_code=np.full(n, -1, dtype=np.int8),
        region=np.full(n, -1, dtype=np.int16),
        e164_rows=np.zeros(0, dtype=np.int64),
        e164=string_array([]),
    )
    rows_parts: list[Ints] = []
    text_parts: list[pa.Array] = []
    for start in range(0, n, CHUNK):
        chunk = strings.slice(start, CHUNK)
        safe_rows, digits, count, plus = _scan(chunk)
        if len(safe_rows) == 0:
            continue
        status, cc, offset = _route(digits, count, plus, spec)
        valid_rows, text = _finish(digits, count, status, cc, offset, out, start + safe_rows)
        out.decided[start + safe_rows[status != 0]] = True
        rows_parts.append(start + safe_rows[valid_rows])
        text_parts.append(text)
    if rows_parts:
        out.e164_rows = np.concatenate(rows_parts)
        out.e164 = pa.concat_arrays(text_parts)
    return out


def _scan(chunk: pa.Array) -> tuple[Ints, Matrix, Ints, Bools]:
    """Rows in the safe shape, their digits ([WIDTH, rows], PAD after the end), count, plus."""
    n = len(chunk)
    buffers = chunk.buffers()
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    raw = np.frombuffer(buffers[1], dtype=offset_type)[chunk.offset : chunk.offset + n + 1]
    offsets: Ints = raw.astype(np.int64)
    data = np.frombuffer(buffers[2] or b"", dtype=np.uint8)
    classes = _BYTE_CLASS.take(data[offsets[0] : offsets[-1]])
    offsets = offsets - offsets[0]
    # One running sum counts three things per string: digits (bits 0-7), plus signs (8-15) and
    # unsafe bytes (16+). Strings over MAX_INPUT_LENGTH bytes fall back, so the 8-bit fields of
    # every string that can pass cannot overflow.
    weights = _WEIGHT.take(classes)
    # A no-break space is a C2 byte directly followed by an A0 byte inside the same string.
    pair = np.flatnonzero((classes[:-1] == LEAD_C2) & (classes[1:] == TAIL_A0))
    string_start = np.zeros(len(classes) + 1, dtype=np.bool_)
    string_start[offsets] = True
    pair = pair[~string_start[pair + 1]]
    weights[pair] = 0
    weights[pair + 1] = 0
    running = np.zeros(len(weights) + 1, dtype=np.int64)
    np.cumsum(weights, out=running[1:])
    totals = running[offsets[1:]] - running[offsets[:-1]]
    count = totals & 0xFF
    pluses = (totals >> 8) & 0xFF
    lengths = offsets[1:] - offsets[:-1]
    safe = (
        (totals >> 16 == 0)
        & (pluses <= 1)
        & (count >= MIN_DIGITS)
        & (count <= MAX_DIGITS)
        & (lengths <= MAX_INPUT_LENGTH)
    )
    if chunk.null_count:
        safe &= validity(chunk)
    plus_at = np.flatnonzero(classes == PLUS)
    owner = np.searchsorted(offsets, plus_at, side="right") - 1
    digits_before = (running[plus_at] - running[offsets[owner]]) & 0xFF
    safe[owner[digits_before > 0]] = False  # a digit before the plus
    rows = np.flatnonzero(safe)
    count = count[rows]
    positions = np.flatnonzero((classes < 10) & np.repeat(safe, lengths))
    column = np.arange(len(positions)) - np.repeat(np.cumsum(count) - count, count)
    matrix = np.full((WIDTH, len(rows)), PAD, dtype=np.uint8)
    matrix[column, np.repeat(np.arange(len(rows)), count)] = classes[positions]
    return rows, matrix, count, pluses[rows] == 1


def _states(spec: CountrySpec, digits: Matrix, offset: Ints, count: Ints) -> Any:
    """DFA state after each row's digits from offset on: earlier digits are read as PAD."""
    table = spec.dfa.table.ravel()
    state: Any = np.ones(len(count), dtype=np.int32)
    skip = offset.any()
    for j in range(int(count.max(initial=0))):
        symbol = np.where(offset <= j, digits[j], PAD) if skip else digits[j]
        state = table[state * 11 + symbol]
    return state


def _digit_at(digits: Matrix, at: Ints) -> Matrix:
    """Row i's digit at column at[i] (PAD beyond the matrix)."""
    inside = at < WIDTH
    return np.where(inside, digits[np.minimum(at, WIDTH - 1), np.arange(len(at))], PAD)


def _starts_with(digits: Matrix, offset: Ints, prefix: str) -> Bools:
    """Row i's digits from offset[i] start with `prefix` (PAD never equals a digit)."""
    result = np.ones(len(offset), dtype=np.bool_)
    for j, char in enumerate(prefix):
        result &= _digit_at(digits, offset + j) == int(char)
    return result


def _strip(spec: CountrySpec, digits: Matrix, offset: Ints, count: Ints) -> Ints:
    """CountrySpec.strip_national_prefix on each row's suffix; returns the new offsets."""
    if not spec.npp:
        return offset
    after = np.minimum(offset + len(spec.npp), count)
    starts = _starts_with(digits, offset, spec.npp)
    keep = spec.general[_states(spec, digits, offset, count)]
    keep &= ~spec.general[_states(spec, digits, after, count)]
    return np.where(starts & ~keep, after, offset)


def _calling_code(digits: Matrix, at: int) -> tuple[Ints, Ints]:
    """_extract_country_code on the digits from column `at` (>= 3 digits there)."""
    start = digits[at].astype(np.int64) * 100 + digits[at + 1] * 10 + digits[at + 2]
    start = np.where(start < 1000, start, 0)
    return CC_BY_PREFIX[start].astype(np.int64), CC_LEN_BY_PREFIX[start].astype(np.int64)


def _route(digits: Matrix, count: Ints, plus: Bools, spec: RegionSpec) -> tuple[Any, Ints, Ints]:
    """Calling code and national-number offset per row; status 0 fall back, 1 routed, 2 invalid."""
    m = len(count)
    status = np.zeros(m, dtype=np.int8)
    cc, size = _calling_code(digits, 0)
    cc = np.where(plus, cc, 0)  # a leading 0 gives no code: parse retries without +; fall back
    offset = np.where(plus, size, 0)
    status[plus & (cc > 0)] = 1
    home = spec.home
    if not spec.national_ok or home is None:
        return status, cc, offset
    national = ~plus
    zero = np.zeros(m, dtype=np.int64)
    if spec.idd:
        # _parse_prefix_as_idd: the prefix is stripped unless a 0 follows it.
        size_idd = len(spec.idd)
        next_digit = digits[min(size_idd, WIDTH - 1)]
        stripped = national & _starts_with(digits, zero, spec.idd) & (next_digit != 0)
        rest = count - size_idd
        status[stripped & (rest <= 2)] = 2  # TOO_SHORT_AFTER_IDD
        later = np.flatnonzero(stripped & (rest > 2))
        if len(later):
            code, code_size = _calling_code(digits[:, later], size_idd)
            status[later] = np.where(code > 0, 1, 2)  # unknown code, no plus to retry: invalid
            cc[later], offset[later] = code, size_idd + code_size
        national &= ~stripped
    status[national] = 1
    cc[national] = home.cc
    # _maybe_extract_country_code: the default country's code written without a plus is taken
    # off when that makes a better national number.
    size_cc = len(home.cc_digits)
    own = np.flatnonzero(national & (count >= size_cc) & _starts_with(digits, zero, home.cc_digits))
    if len(own):
        sub, sub_count, none = digits[:, own], count[own], zero[own]
        potential = _strip(home, sub, np.full(len(own), size_cc, dtype=np.int64), sub_count)
        whole = home.general[_states(home, sub, none, sub_count)]
        after = home.general[_states(home, sub, potential, sub_count)]
        take = (~whole & after) | home.too_long[sub_count]
        offset[own] = np.where(take, potential, 0)
    return status, cc, offset


def _finish(  # noqa: PLR0917 - the routed chunk, spelled out
    digits: Matrix, count: Ints, status: Any, cc: Ints, offset: Ints, out: FastResult, rows: Ints
) -> tuple[Ints, pa.Array]:
    """National prefix, lengths, validity and type per calling code; fills `out` at `rows`."""
    good = np.zeros(len(count), dtype=np.bool_)
    for code in np.unique(cc[status == 1]).tolist():
        spec = country_spec(code)
        group = np.flatnonzero((status == 1) & (cc == code))
        if spec is None:
            status[group] = 0
            continue
        if len(group) == len(count):  # one country: skip the copies
            sub, sub_count, start = digits, count, offset
        else:
            sub, sub_count, start = digits[:, group], count[group], offset[group]
        ok = (sub_count - start) >= 2  # TOO_SHORT_NSN
        if spec.npp:
            potential = _strip(spec, sub, start, sub_count)
            start = np.where(ok & spec.strip_ok[sub_count - potential], potential, start)
        length = sub_count - start
        ok &= (length >= 2) & (length <= MAX_DIGITS)
        kind = spec.types[_states(spec, sub, start, sub_count), np.minimum(length, MAX_DIGITS)]
        hit = ok & (kind >= 0)
        status[group[~hit]] = 2
        good[group[hit]] = True
        offset[group] = start
        out.type_code[rows[group[hit]]] = kind[hit]
        out.region[rows[group[hit]]] = _REGION_INDEX[spec.region]
    hits = np.flatnonzero(good)
    out.valid[rows[hits]] = True
    return hits, _e164(digits[:, hits], offset[hits], cc[hits])


def _e164(digits: Matrix, offset: Ints, cc: Ints) -> pa.Array:
    """Plus sign, calling code and each row's national number from offset on, as strings."""
    codes = np.empty((4 + WIDTH, len(cc)), dtype=np.uint8)
    codes[0] = _PLUS_CODE
    codes[1] = np.where(cc >= 100, cc // 100, PAD)
    codes[2] = np.where(cc >= 10, cc // 10 % 10, PAD)
    codes[3] = cc % 10
    codes[4:] = np.where(np.arange(WIDTH)[:, None] >= offset[None, :], digits, PAD)
    matrix = np.ascontiguousarray(codes.T)
    keep = matrix != PAD
    offsets = np.zeros(len(cc) + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    data = _OUT_BYTE.take(matrix[keep])
    return pa.StringArray.from_buffers(len(cc), pa.py_buffer(offsets), pa.py_buffer(data))

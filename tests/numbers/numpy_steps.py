"""The batch fast path as numpy steps over digit matrices: the oracle for the compiled kernel.

It reads the UTF-8 bytes of an Arrow string array directly, weighs every byte with a lookup
table, keeps the strings in the safe subset (`optin_gate.numbers.spec`) and lays their digits
out as a byte matrix. The routing of phonenumbers.parse (plus sign, international prefix, the
default country's code written without a plus, national prefix) then runs as array operations
on that matrix, and each country's patterns run as one DFA walk over all its numbers at once.
It mirrors `optin_gate.numbers.scalar` step by step, as the kernel does, but shares no code
with the kernel: `numpy_steps()` runs `normalize` and friends through it instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from optin_gate.numbers import table
from optin_gate.numbers._arrow import int_values, string_array, validity
from optin_gate.numbers.batch import REGION_NAMES, FastResult
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

Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]
Matrix = np.ndarray[Any, np.dtype[np.uint8]]

CHUNK = 1 << 14  # strings per pass: the byte-level temporaries stay in the CPU cache
WIDTH = MAX_DIGITS + 1  # digit matrix height; the last row is always PAD
PAD = 0  # the byte after a number's last digit; every DFA state keeps itself on it
ZERO = ord("0")
# Per byte: digit 1, plus sign 1 << 8, unsafe 1 << 16 (separators 0). A no-break space is C2 A0
# in UTF-8: both bytes start unsafe and are cleared where they pair up.
_WEIGHT = np.full(256, 1 << 16, dtype=np.int32)
_WEIGHT[ZERO : ZERO + 10] = 1
_WEIGHT[ord("+")] = 1 << 8
for _char in SEPARATORS.replace("\u00a0", ""):
    _WEIGHT[ord(_char)] = 0
_REGION_INDEX = {name: i for i, name in enumerate(REGION_NAMES)}


@contextmanager
def numpy_steps() -> Iterator[None]:
    """Run the numbers stage's batch path through these numpy steps instead of the kernel."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table, "fast_batch", fast_batch_numpy)
        yield


def fast_batch_numpy(strings: pa.Array, spec: RegionSpec) -> FastResult:
    """`optin_gate.numbers.batch.fast_batch`'s answers, from numpy steps over chunks."""
    n = len(strings)
    out = FastResult(
        decided=np.zeros(n, dtype=np.bool_),
        valid=np.zeros(n, dtype=np.bool_),
        type_code=np.full(n, -1, dtype=np.int8),
        region=np.full(n, -1, dtype=np.int16),
        key=np.zeros(n, dtype=np.int64),
    )

    def run(start: int) -> pa.Array:
        """One chunk; writes its own rows of `out` (chunks never share rows)."""
        chunk = strings.slice(start, CHUNK)
        safe_rows, digits, count, plus = _scan(chunk)
        if len(safe_rows) == 0:
            return _spread(len(chunk), safe_rows, string_array([]))
        rows = start + safe_rows
        status, cc, offset = _route(digits, count, plus, spec)
        valid_rows, text = _finish(digits, count, status, cc, offset, out, rows)
        out.decided[rows[status != 0]] = True
        return _spread(len(chunk), safe_rows[valid_rows], text)

    chunks = [run(start) for start in range(0, n, CHUNK)]
    texts = pa.chunked_array(chunks, type=pa.string())
    digits = pc.cast(pc.utf8_slice_codeunits(texts, 1), pa.int64()).combine_chunks()
    out.key[:] = np.where(out.valid, np.nan_to_num(int_values(digits)), 0)
    return out


def _spread(n: int, rows: Ints, text: pa.Array) -> pa.Array:
    """A chunk of `n` strings: `text` in order at `rows` (ascending), null elsewhere; no copy."""
    lengths = np.zeros(n, dtype=np.int32)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[: len(text) + 1]
    lengths[rows] = np.diff(offsets)
    spread = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=spread[1:])
    spread += offsets[0]
    present = np.zeros(n, dtype=np.bool_)
    present[rows] = True
    mask = pa.py_buffer(np.packbits(present, bitorder="little"))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(spread), text.buffers()[2] or pa.py_buffer(b""), mask
    )


def _scan(chunk: pa.Array) -> tuple[Ints, Matrix, Ints, Bools]:
    """Safe rows; their digits as [WIDTH, rows] ASCII (PAD after the end); digit count; plus."""
    n = len(chunk)
    buffers = chunk.buffers()
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    raw = np.frombuffer(buffers[1], dtype=offset_type)[chunk.offset : chunk.offset + n + 1]
    offsets: Ints = raw.astype(np.int64)
    data = np.frombuffer(buffers[2] or b"", dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    # One running sum counts three things per string: digits (bits 0-7), plus signs (8-15) and
    # unsafe bytes (16+). Strings over MAX_INPUT_LENGTH characters fall back, so the 8-bit
    # fields of every string that can pass cannot overflow; the int32 running sum may wrap
    # around, but a difference of two wrapped sums is still exact for such strings.
    weights = _WEIGHT.take(data)
    chars = offsets[1:] - offsets[:-1]  # bytes; minus one per no-break space below
    pair = np.flatnonzero((data[:-1] == 0xC2) & (data[1:] == 0xA0))
    if len(pair):  # a no-break space, unless the two bytes belong to different strings
        string_start = np.zeros(len(data) + 1, dtype=np.bool_)
        string_start[offsets] = True
        pair = pair[~string_start[pair + 1]]
        weights[pair] = 0
        weights[pair + 1] = 0
        chars -= np.bincount(np.searchsorted(offsets, pair, side="right") - 1, minlength=n)
    running = np.zeros(len(weights) + 1, dtype=np.int32)
    np.cumsum(weights, out=running[1:])
    totals = (running[offsets[1:]] - running[offsets[:-1]]).astype(np.int64)
    count = totals & 0xFF
    pluses = (totals >> 8) & 0xFF
    safe = (
        (totals >> 16 == 0)
        & (pluses <= 1)
        & (count >= MIN_DIGITS)
        & (count <= MAX_DIGITS)
        & (chars <= MAX_INPUT_LENGTH)
    )
    if chunk.null_count:
        safe &= validity(chunk)
    plus_at = np.flatnonzero(data == ord("+"))
    if len(plus_at):
        owner = np.searchsorted(offsets, plus_at, side="right") - 1
        digits_before = (running[plus_at] - running[offsets[owner]]) & 0xFF
        safe[owner[digits_before > 0]] = False  # a digit before the plus
    rows = np.flatnonzero(safe)
    # All digit bytes of the chunk in order; a row's digits start after those of the bytes
    # before it (counted exactly: the packed counts above are only exact for short strings).
    digit_at = np.flatnonzero(weights == 1)
    digit_bytes = data[digit_at]
    start = np.searchsorted(digit_at, offsets[rows])
    count = count[rows]
    matrix = np.zeros((WIDTH, len(rows)), dtype=np.uint8)
    last = len(digit_bytes) - 1
    for j in range(int(count.max(initial=0))):
        matrix[j] = np.where(j < count, digit_bytes[np.minimum(start + j, last)], PAD)
    return rows, matrix, count, pluses[rows] == 1


def _states(spec: CountrySpec, digits: Matrix, offset: Ints, count: Ints) -> Any:
    """DFA state after each row's digits from offset on: earlier digits are read as PAD."""
    table = spec.dfa.wide.ravel()
    state: Any = np.ones(len(count), dtype=np.int32)
    skip = offset.any()
    for j in range(int(count.max(initial=0))):
        symbol = np.where(offset <= j, digits[j], PAD) if skip else digits[j]
        state = table[(state << 8) | symbol]
    return state


def _digit_at(digits: Matrix, at: Ints | int) -> Matrix:
    """Row i's digit byte at position at[i], or at `at` for all rows (PAD beyond the matrix)."""
    if isinstance(at, int):
        return digits[at] if at < WIDTH else np.full(digits.shape[1], PAD, dtype=np.uint8)
    inside = at < WIDTH
    return np.where(inside, digits[np.minimum(at, WIDTH - 1), np.arange(len(at))], PAD)


def _starts_with(digits: Matrix, offset: Ints | int, prefix: str) -> Bools:
    """Each row's digits from its offset start with `prefix` (PAD never equals a digit)."""
    result = np.ones(digits.shape[1], dtype=np.bool_)
    for j, char in enumerate(prefix):
        result &= _digit_at(digits, offset + j) == ord(char)
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
    """_extract_country_code on the digits from row `at` (>= 3 digits there)."""
    start = (
        (digits[at].astype(np.int64) - ZERO) * 100
        + (digits[at + 1].astype(np.int64) - ZERO) * 10
        + (digits[at + 2].astype(np.int64) - ZERO)
    )
    start = np.where((start >= 0) & (start < 1000), start, 0)
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
        stripped = national & _starts_with(digits, 0, spec.idd) & (next_digit != ZERO)
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
    own = np.flatnonzero(national & (count >= size_cc) & _starts_with(digits, 0, home.cc_digits))
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
    groups = []
    for code in np.unique(cc[status == 1]).tolist():
        spec = country_spec(code)
        group = np.flatnonzero((status == 1) & (cc == code))
        if spec is None:
            status[group] = 0
            continue
        sub_count, start = count[group], offset[group]
        ok = (sub_count - start) >= 2  # TOO_SHORT_NSN
        if spec.npp:
            potential = _strip(spec, digits[:, group], start, sub_count)
            start = np.where(ok & spec.strip_ok[sub_count - potential], potential, start)
            offset[group] = start
        length = sub_count - start
        groups.append((spec, group, ok & (length >= 2) & (length <= MAX_DIGITS)))
    # Each row's national significant number, its earlier digits blanked out (PAD).
    national = np.where(np.arange(WIDTH)[:, None] >= offset[None, :], digits, PAD)
    good = np.zeros(len(count), dtype=np.bool_)
    for spec, group, ok in groups:
        whole = len(group) == len(count)  # one country: skip the copies
        sub = national if whole else national[:, group]
        length = np.minimum(count[group] - offset[group], MAX_DIGITS)
        kind = spec.types[_walk(spec, sub, int(count[group].max(initial=0))), length]
        hit = ok & (kind >= 0)
        status[group[~hit]] = 2
        good[group[hit]] = True
        out.type_code[rows[group[hit]]] = kind[hit]
        out.region[rows[group[hit]]] = _REGION_INDEX[spec.region]
    hits = np.flatnonzero(good)
    out.valid[rows[hits]] = True
    return hits, _e164(national[:, hits], count[hits], cc[hits])


def _walk(spec: CountrySpec, digits: Matrix, width: int) -> Any:
    """DFA state after each row's digits (PAD keeps the state), reading the first `width`."""
    table = spec.dfa.wide.ravel()
    state: Any = np.ones(digits.shape[1], dtype=np.int32)
    for j in range(width):
        state = table[(state << 8) | digits[j]]
    return state


def _e164(national: Matrix, count: Ints, cc: Ints) -> pa.Array:
    """Plus sign, calling code and each row's national number (PAD-blanked), as strings."""
    height = 4 + int(count.max(initial=0))
    codes = np.zeros((height, len(cc)), dtype=np.uint8)
    codes[0] = ord("+")
    codes[1] = np.where(cc >= 100, cc // 100 + ZERO, PAD)
    codes[2] = np.where(cc >= 10, cc // 10 % 10 + ZERO, PAD)
    codes[3] = cc % 10 + ZERO
    codes[4:] = national[: height - 4]
    matrix = np.ascontiguousarray(codes.T)
    keep = matrix != PAD
    offsets = np.zeros(len(cc) + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    return pa.StringArray.from_buffers(len(cc), pa.py_buffer(offsets), pa.py_buffer(matrix[keep]))

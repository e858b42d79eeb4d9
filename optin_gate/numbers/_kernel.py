"""The batch fast path compiled: one pass per string in machine code (numba), same answers.

`optin_gate.numbers.batch` lays digits out as matrices and runs each step of phonenumbers'
parse as a numpy operation over a chunk, most of its CPU spent moving temporaries. This
module runs the very same steps (`optin_gate.numbers.scalar.fast_one`, line by line: safe
shape, plus or international prefix or the default country's code, national prefix, lengths,
one DFA walk) as a loop over the string's bytes, compiled once by numba and cached
(`optin_gate._jit`): several times less CPU per string, on every usable core
(`optin_gate._runtime`; the loop releases the GIL).
It reads the same `CountrySpec` / `RegionSpec` tables, flattened into arrays; the tests hold
it to the numpy path and to phonenumbers on every value.

Numbers of a calling code whose plan is not loaded yet come back as `NEED_SPEC`; the caller
loads those plans (`country_spec`) and runs the kernel again on those rows only.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from optin_gate._jit import njit
from optin_gate._runtime import threads
from optin_gate.numbers.spec import (
    CC_BY_PREFIX,
    CC_LEN_BY_PREFIX,
    MAX_DIGITS,
    MAX_INPUT_LENGTH,
    MIN_DIGITS,
    CountrySpec,
    RegionSpec,
    country_spec,
)

__all__ = ["FALLBACK", "INVALID", "NEED_SPEC", "VALID", "Plans", "e164_strings", "run_kernel"]

FALLBACK, VALID, INVALID, NEED_SPEC = 0, 1, 2, 3  # status per string
# Per byte: 0-9 a digit's value, _PLUS, _SEPARATOR (spec.SEPARATORS' ASCII ones), _NBSP_LEAD
# (the first byte of a no-break space, C2 A0) or _UNSAFE.
_PLUS, _SEPARATOR, _NBSP_LEAD, _UNSAFE = 10, 11, 12, 13
_CLASS = np.full(256, _UNSAFE, dtype=np.uint8)
_CLASS[ord("0") : ord("9") + 1] = np.arange(10)
_CLASS[ord("+")] = _PLUS
for _char in " -./()":
    _CLASS[ord(_char)] = _SEPARATOR
_CLASS[0xC2] = _NBSP_LEAD
_UNKNOWN, _NO_PLAN = -1, -2  # cc_slot values: plan not loaded yet / no fast plan exists
_KEY_DIGITS = 18  # calling code + national number as one int64: at most 18 digits
_MIN_SPLIT = 1 << 16  # fewer strings than this run on one thread


@dataclass(frozen=True)
class Plans:
    """The loaded `CountrySpec`s flattened into arrays the kernel indexes.

    Attributes:
        codes: The calling codes loaded, in slot order.
        cc_slot: Per calling code (0-999): its slot, `_UNKNOWN` or `_NO_PLAN`.
        state_at: Per slot: the row of its first state in `dfa`, `general` and `types`.
        dfa: [all states, 10]: next state per digit, each plan's states numbered from 0
            (the kernel reads it flat: row * 10 + digit).
        general: Per state: the general pattern fully matches.
        types: [all states, MAX_DIGITS + 1]: type code per final state and length, or -1.
        strip_ok: [slots, MAX_DIGITS + 1]: the national prefix may be stripped at that length.
        too_long: [slots, MAX_DIGITS + 1]: _test_number_length says TOO_LONG.
        npp: [slots, 8]: the national prefix's digits (0-9); `npp_len` how many.
        npp_len: Per slot.
        region: Per slot: index into `optin_gate.numbers.batch.REGION_NAMES`.
    """

    codes: tuple[int, ...]
    cc_slot: np.ndarray[Any, Any]
    state_at: np.ndarray[Any, Any]
    dfa: np.ndarray[Any, Any]
    general: np.ndarray[Any, Any]
    types: np.ndarray[Any, Any]
    strip_ok: np.ndarray[Any, Any]
    too_long: np.ndarray[Any, Any]
    npp: np.ndarray[Any, Any]
    npp_len: np.ndarray[Any, Any]
    region: np.ndarray[Any, Any]


@functools.cache
def plans_for(codes: tuple[int, ...], region_names: tuple[str, ...]) -> Plans:
    """Flatten the plans of `codes` (sorted calling codes; those without a plan are marked)."""
    cc_slot = np.full(1000, _UNKNOWN, dtype=np.int32)
    specs: list[CountrySpec] = []
    for code in codes:
        spec = country_spec(code)
        if spec is None:
            cc_slot[code] = _NO_PLAN
        else:
            cc_slot[code] = len(specs)
            specs.append(spec)
    sizes = [len(s.dfa.table) for s in specs]
    state_at = np.zeros(len(specs), dtype=np.int64)
    if specs:
        state_at[1:] = np.cumsum(sizes)[:-1]
    npp = np.zeros((len(specs), 8), dtype=np.int8)
    for slot, spec in enumerate(specs):
        npp[slot, : len(spec.npp)] = [int(c) for c in spec.npp]
    width = MAX_DIGITS + 1

    def stack(arrays: list[Any], shape: tuple[int, ...], dtype: Any) -> Any:
        return np.concatenate(arrays) if arrays else np.zeros(shape, dtype=dtype)

    index = {name: i for i, name in enumerate(region_names)}
    return Plans(
        codes=codes,
        cc_slot=cc_slot,
        state_at=state_at,
        dfa=stack([s.dfa.table for s in specs], (0, 10), np.int32),
        general=stack([s.general for s in specs], (0,), np.bool_),
        types=stack([s.types for s in specs], (0, width), np.int8),
        strip_ok=stack([s.strip_ok[None, :] for s in specs], (0, width), np.bool_),
        too_long=stack([s.too_long[None, :] for s in specs], (0, width), np.bool_),
        npp=npp,
        npp_len=np.array([len(s.npp) for s in specs], dtype=np.int64),
        region=np.array([index[s.region] for s in specs], dtype=np.int16),
    )


@dataclass
class Outputs:
    """Per string: status, and for VALID ones the type, region and E.164 digits as an int.

    For NEED_SPEC, `key` holds the calling code whose plan is missing.
    """

    status: np.ndarray[Any, np.dtype[np.int8]]
    type_code: np.ndarray[Any, np.dtype[np.int8]]
    region: np.ndarray[Any, np.dtype[np.int16]]
    key: np.ndarray[Any, np.dtype[np.int64]]


def run_kernel(
    offsets: np.ndarray[Any, Any],
    data: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    spec: RegionSpec,
    region_names: tuple[str, ...],
) -> Outputs:
    """Decide every present string in the safe subset (the rest: FALLBACK).

    Args:
        offsets: int64 byte offsets, n + 1 of them, into `data`.
        data: The UTF-8 bytes.
        present: Per string: not null.
        spec: The default region.
        region_names: Region names by index, for `Outputs.region`.
    """
    n = len(offsets) - 1
    out = Outputs(
        np.zeros(n, dtype=np.int8),
        np.full(n, -1, dtype=np.int8),
        np.full(n, -1, dtype=np.int16),
        np.zeros(n, dtype=np.int64),
    )
    home = spec.home
    codes = {home.cc} if home is not None and spec.national_ok else set()
    rows = np.arange(n, dtype=np.int64)
    for _ in range(2):  # the second round only for codes met in the first
        plans = plans_for(tuple(sorted(codes)), region_names)
        _run_threads(offsets, data, present, rows, spec, plans, out)
        rows = rows[out.status[rows] == NEED_SPEC]
        if len(rows) == 0:
            break
        codes |= {int(c) for c in np.unique(out.key[rows])}
    out.status[out.status == NEED_SPEC] = FALLBACK  # pragma: no cover - loaded above
    return out


def _run_threads(  # noqa: PLR0917 - the kernel's inputs
    offsets: Any, data: Any, present: Any, rows: Any, spec: RegionSpec, plans: Plans, out: Outputs
) -> None:
    home = spec.home
    idd = np.array([int(c) for c in spec.idd], dtype=np.int8)
    home_cc = home.cc if home is not None and spec.national_ok else 0
    home_slot = int(plans.cc_slot[home_cc]) if home_cc else -1
    args = (
        offsets, data, present, CC_BY_PREFIX, CC_LEN_BY_PREFIX, idd, home_cc, home_slot,
        plans.cc_slot, plans.state_at, plans.dfa.ravel(), plans.general, plans.types,
        plans.strip_ok, plans.too_long, plans.npp, plans.npp_len, plans.region,
        out.status, out.type_code, out.region, out.key, _CLASS,
        np.array([int(c) for c in str(home_cc)] if home_cc else [], dtype=np.int64),
    )  # fmt: skip
    workers = threads() if len(rows) >= _MIN_SPLIT else 1
    if workers < 2:
        _kernel(rows, *args)
        return
    parts = np.array_split(rows, workers)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda part: _kernel(part, *args), parts))


@njit(cache=True, nogil=True)
def _general(  # noqa: PLR0917 - flat arrays for the compiled code
    dfa: Any, general: Any, base: int, digits: Any, start: int, end: int
) -> bool:
    """`matches_general` on digits[start:end]."""
    state = 1
    for j in range(start, end):
        state = dfa[(base + state) * 10 + digits[j]]
    return bool(general[base + state])


@njit(cache=True, nogil=True)
def _strip(  # noqa: PLR0917 - flat arrays for the compiled code
    dfa: Any, general: Any, npp: Any, npp_len: Any, base: int, slot: int, digits: Any,
    start: int, end: int,
) -> int:  # fmt: skip
    """`strip_national_prefix` on digits[start:end]: the new start."""
    size: int = npp_len[slot]
    if size == 0 or end - start < size:
        return start
    for j in range(size):
        if digits[start + j] != npp[slot, j]:
            return start
    after = start + size
    if _general(dfa, general, base, digits, start, end) and not _general(
        dfa, general, base, digits, after, end
    ):
        return start
    return after


@njit(cache=True, nogil=True)
def _kernel(  # noqa: PLR0912, PLR0915, PLR0917 - one compiled loop
    rows: Any, offsets: Any, data: Any, present: Any, cc_by_prefix: Any, cc_len: Any,
    idd: Any, home_cc: int, home_slot: int, cc_slot: Any, state_at: Any, dfa: Any,
    general: Any, types: Any, strip_ok: Any, too_long: Any, npp: Any, npp_len: Any,
    region: Any, status: Any, type_code: Any, region_out: Any, key: Any, byte_class: Any,
    home_digits: Any,
) -> None:  # fmt: skip
    digits = np.zeros(MAX_DIGITS + 1, dtype=np.int64)
    idd_len = len(idd)
    for row in rows:
        status[row] = FALLBACK
        if not present[row]:
            continue
        # The safe shape (spec.SAFE_SHAPE) and its digits, in one pass over the bytes.
        count = 0
        pluses = 0
        chars = 0
        safe = True
        j = offsets[row]
        end = offsets[row + 1]
        while j < end:
            kind = byte_class[data[j]]
            if kind < 10:
                if count <= MAX_DIGITS:
                    digits[count] = kind
                count += 1
            elif kind == _SEPARATOR:
                pass
            elif kind == _PLUS:
                pluses += 1
                if count > 0:  # a digit before the plus
                    safe = False
            elif kind == _NBSP_LEAD and j + 1 < end and data[j + 1] == 0xA0:  # no-break space
                j += 1
            else:
                safe = False
                break
            chars += 1
            j += 1
        if (
            not safe
            or pluses > 1
            or count < MIN_DIGITS
            or count > MAX_DIGITS
            or chars > MAX_INPUT_LENGTH
        ):
            continue
        # Routing: the calling code and where the national number starts.
        if pluses == 1:
            if digits[0] == 0:
                continue  # parse retries without the plus: fall back
            start3 = digits[0] * 100 + digits[1] * 10 + digits[2]
            cc = cc_by_prefix[start3]
            if cc == 0:
                continue
            offset = cc_len[start3]
        else:
            if home_slot < 0:
                continue  # the default region's numbers need phonenumbers
            by_idd = idd_len > 0 and count >= idd_len
            if by_idd:
                for k in range(idd_len):
                    if digits[k] != idd[k]:
                        by_idd = False
                        break
            if by_idd and (count == idd_len or digits[idd_len] != 0):
                if count - idd_len <= 2:
                    status[row] = INVALID  # TOO_SHORT_AFTER_IDD
                    continue
                start3 = digits[idd_len] * 100 + digits[idd_len + 1] * 10 + digits[idd_len + 2]
                cc = cc_by_prefix[start3]
                if cc == 0:
                    status[row] = INVALID  # unknown code and no plus to retry without
                    continue
                offset = idd_len + cc_len[start3]
            else:
                cc = home_cc
                offset = 0
                size = len(home_digits)
                own = count >= size
                if own:
                    for k in range(size):
                        if digits[k] != home_digits[k]:
                            own = False
                            break
                if own:
                    base = state_at[home_slot]
                    potential = _strip(
                        dfa, general, npp, npp_len, base, home_slot, digits, size, count
                    )
                    whole = _general(dfa, general, base, digits, 0, count)
                    after = _general(dfa, general, base, digits, potential, count)
                    if (not whole and after) or too_long[home_slot, count]:
                        offset = potential
        # The country's plan: national prefix, lengths, validity and type.
        slot = cc_slot[cc]
        if slot == -1:
            status[row] = NEED_SPEC
            key[row] = cc
            continue
        if slot < 0:
            continue  # no fast plan for this code: phonenumbers decides
        if count - offset < 2:
            status[row] = INVALID  # TOO_SHORT_NSN
            continue
        base = state_at[slot]
        if npp_len[slot] > 0:
            potential = _strip(dfa, general, npp, npp_len, base, slot, digits, offset, count)
            if strip_ok[slot, count - potential]:
                offset = potential
        length = count - offset
        if length < 2 or length > MAX_DIGITS:
            status[row] = INVALID
            continue
        state = 1
        for k in range(offset, count):
            state = dfa[(base + state) * 10 + digits[k]]
        code = types[base + state, length]
        if code < 0:
            status[row] = INVALID
            continue
        cc_size = 1 if cc < 10 else (2 if cc < 100 else 3)
        if cc_size + length > _KEY_DIGITS:
            continue  # too long for an int64 key: phonenumbers answers
        number = np.int64(cc)
        for k in range(offset, count):
            number = number * 10 + digits[k]
        status[row] = VALID
        type_code[row] = code
        region_out[row] = region[slot]
        key[row] = number


def e164_strings(valid: np.ndarray[Any, Any], key: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    """Arrow string buffers ("+" and the key's digits where valid, empty elsewhere).

    Returns:
        (int32 offsets, uint8 data).
    """
    n = len(key)
    offsets = np.zeros(n + 1, dtype=np.int32)
    _lengths(valid, key, offsets)
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    _write_digits(valid, key, offsets, data)
    return offsets, data


@njit(cache=True, nogil=True)
def _lengths(valid: Any, key: Any, offsets: Any) -> None:
    total = 0
    for i in range(len(key)):
        if valid[i]:
            size = 2  # the plus and the last digit
            rest = key[i] // 10
            while rest > 0:
                size += 1
                rest //= 10
            total += size
        offsets[i + 1] = total


@njit(cache=True, nogil=True)
def _write_digits(valid: Any, key: Any, offsets: Any, data: Any) -> None:
    for i in range(len(key)):
        if valid[i]:
            start = offsets[i]
            data[start] = 43  # +
            rest = key[i]
            for j in range(offsets[i + 1] - 1, start, -1):
                data[j] = 48 + rest % 10
                rest //= 10

"""normalize's table: which values to work out, phonenumbers for the rest, rows back in order.

Distinct values, where that pays. phonenumbers runs once per distinct value it is asked about:
the values the fast path cannot decide are always deduplicated first. The fast path itself
costs little more per value than hashing the value to find its duplicates, so hashing the whole
input only pays when many values repeat. A sample decides: when fewer than `DEDUP_BELOW` of
`SAMPLE` randomly drawn values are distinct (or the input is small, or already
dictionary-encoded), the fast path works on the distinct values and the rows are taken back;
otherwise it works row by row (a sample of 131,072 notices lists with fewer than about 650,000
distinct values). Either way each row gets exactly phonenumbers' answer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.errors import InputError
from optin_gate.numbers._arrow import (
    bool_array,
    bool_values,
    int_array,
    int_values,
    string_array,
    validity,
)
from optin_gate.numbers._inputs import as_text_array
from optin_gate.numbers.batch import REGION_NAMES, FastResult, fast_batch
from optin_gate.numbers.reference import NOT_VALID, Normalized, reference_one
from optin_gate.numbers.spec import TYPE_CODES, RegionSpec, region_spec

__all__ = [
    "NORMALIZED_SCHEMA",
    "KeyCodes",
    "dedupe_pays",
    "key_codes",
    "normalize_codes",
    "normalize_keys",
    "normalized_keys",
    "normalized_table",
]

Bools = np.ndarray[Any, np.dtype[np.bool_]]

NORMALIZED_SCHEMA = pa.schema(
    [
        pa.field("e164", pa.string()),
        pa.field("valid", pa.bool_(), nullable=False),
        pa.field("number_type", pa.string()),
        pa.field("country", pa.string()),
    ]
)
SAMPLE = 1 << 17
DEDUP_BELOW = 0.9
_TYPE_ARRAY = string_array(TYPE_CODES)
_REGION_ARRAY = string_array(REGION_NAMES)
_REGION_INDEX = {name: i for i, name in enumerate(REGION_NAMES)}
_TYPE_INDEX = {name: i for i, name in enumerate(TYPE_CODES)}


def normalized_table(array: pa.Array, spec: RegionSpec, region: str) -> tuple[pa.Table, Bools]:
    """The NORMALIZED_SCHEMA table for a text array, and per row: decided without phonenumbers.

    Args:
        array: string, large_string or dictionary-of-string values.
        spec: The fast-path spec of `region`.
        region: The default region (for the phonenumbers fallback).
    """
    from optin_gate.numbers._kernel import e164_strings  # numba, loaded when batching

    work, indices, fast, decided = _answers(array, spec, region)
    offsets, text = e164_strings(fast.valid, fast.key)  # the digits spelled out once
    mask = pa.py_buffer(np.packbits(fast.valid, bitorder="little"))
    e164: pa.Array = pa.StringArray.from_buffers(
        len(work), pa.py_buffer(offsets), pa.py_buffer(text), mask
    )
    valid, type_code, region_code = fast.valid, fast.type_code, fast.region
    if indices is not None:  # back from distinct values to rows; entry n is a null row
        row = _rows(indices, len(work))
        e164 = e164.take(int_array(row, row == len(work)))
        valid, type_code, region_code = _take(row, valid, type_code, region_code)
    table = pa.Table.from_arrays(
        [
            e164,
            bool_array(valid),
            _TYPE_ARRAY.take(int_array(type_code, type_code < 0)),
            _REGION_ARRAY.take(int_array(region_code, region_code < 0)),
        ],
        schema=NORMALIZED_SCHEMA,
    )
    return table, decided


@dataclasses.dataclass(frozen=True)
class KeyCodes:
    """`normalized_keys`' answers as numpy arrays, one entry per value.

    Attributes:
        key: The E.164 digits after the "+" as an int64; 0 unless valid.
        valid: The value is a valid number.
        type_code: Index into `spec.TYPE_CODES`; -1 unless valid.
        region: Index into `batch.REGION_NAMES`; -1 unless valid.
    """

    key: np.ndarray[Any, np.dtype[np.int64]]
    valid: Bools
    type_code: np.ndarray[Any, np.dtype[np.int8]]
    region: np.ndarray[Any, np.dtype[np.int16]]


def key_codes(
    array: pa.Array, spec: RegionSpec, region: str, *, dedupe: bool | None = None
) -> KeyCodes:
    """`normalized_table`'s answers as `KeyCodes`: no strings and no Arrow arrays built.

    `dedupe`: work on the distinct values (True) or row by row (False); None: as a sample
    of `array` says (`dedupe_pays`). The answers are the same either way.
    """
    work, indices, fast, _ = _answers(array, spec, region, dedupe)
    key, valid, type_code, region_code = fast.key, fast.valid, fast.type_code, fast.region
    if indices is not None:
        row = _rows(indices, len(work))
        valid, type_code, region_code, key = _take(row, valid, type_code, region_code, key)
    return KeyCodes(key, valid, type_code, region_code)


def normalized_keys(array: pa.Array, spec: RegionSpec, region: str) -> pa.Table:
    """`normalized_table` in the batch engine's form: the same answers, no strings built.

    Columns: `phone` (int64: the E.164 digits after the "+", null unless valid), `valid`,
    `number_type` and `country` (dictionary-encoded text, null unless valid).
    """
    codes = key_codes(array, spec, region)
    type_code, region_code = codes.type_code, codes.region
    return pa.Table.from_arrays(
        [
            int_array(codes.key, ~codes.valid),
            bool_array(codes.valid),
            pa.DictionaryArray.from_arrays(int_array(type_code, type_code < 0), _TYPE_ARRAY),
            pa.DictionaryArray.from_arrays(int_array(region_code, region_code < 0), _REGION_ARRAY),
        ],
        names=["phone", "valid", "number_type", "country"],
    )


def normalize_keys(values: Any, region: str = "CZ") -> pa.Table:
    """`optin_gate.numbers.normalize` for the batch engine: `normalized_keys`' columns.

    Raises:
        InputError: a value is neither text nor missing, or the region is unknown.
    """
    return normalized_keys(as_text_array(values), _region_spec(region), region)


def normalize_codes(values: Any, region: str = "CZ", *, dedupe: bool | None = None) -> KeyCodes:
    """`normalize_keys`' answers as numpy codes (`KeyCodes`), for callers that count them.

    `dedupe` as for `key_codes`: a caller normalizing one list in batches decides it once.

    Raises:
        InputError: a value is neither text nor missing, or the region is unknown.
    """
    return key_codes(as_text_array(values), _region_spec(region), region, dedupe=dedupe)


def _region_spec(region: str) -> RegionSpec:
    if not isinstance(region, str) or region not in phonenumbers.SUPPORTED_REGIONS:
        raise InputError(
            f"region {region!r} is not a region phonenumbers knows",
            hint="pass an upper-case ISO 3166 code such as 'CZ' or 'SK'",
        )
    return region_spec(region)


def _answers(
    array: pa.Array, spec: RegionSpec, region: str, dedupe: bool | None = None
) -> tuple[pa.Array, pa.Array | None, FastResult, Bools]:
    """Fast path, then phonenumbers for the rest: (values worked, indices, answers, decided)."""
    work, indices = _work_values(array, dedupe)
    present = validity(work)
    fast = fast_batch(work, spec)
    _fallback(work, np.flatnonzero(~fast.decided & present), region, fast)
    decided = fast.decided | ~present
    if indices is not None:
        decided = np.append(decided, True)[_rows(indices, len(work))]
    return work, indices, fast, decided


def _rows(indices: pa.Array, n: int) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Per row, its distinct value's index; n for a null row."""
    return np.where(validity(indices), int_values(indices), n).astype(np.intp)


def _take(row: np.ndarray[Any, Any], *columns: np.ndarray[Any, Any]) -> list[Any]:
    """Each per-value column taken back to rows (a null row: not valid, codes -1, key 0)."""
    fill = {np.dtype(np.bool_): False, np.dtype(np.int64): 0}
    return [np.append(c, fill.get(c.dtype, -1)).astype(c.dtype)[row] for c in columns]


def dedupe_pays(values: Any) -> bool:
    """Whether working out each distinct value once pays: few distinct ones, or few values.

    A sample of `SAMPLE` values decides (see the module's docstring).
    """
    return _dedupe_pays(as_text_array(values))


def _dedupe_pays(array: pa.Array) -> bool:
    if pa.types.is_dictionary(array.type):
        return True
    n = len(array)
    if n <= SAMPLE:
        return True
    picks = np.sort(np.random.default_rng(n).choice(n, SAMPLE, replace=False))
    return len(pc.unique(array.take(int_array(picks)))) < DEDUP_BELOW * SAMPLE


def _work_values(array: pa.Array, dedupe: bool | None = None) -> tuple[pa.Array, pa.Array | None]:
    """The values to work out, and the indices taking them back to rows (None: row by row)."""
    if pa.types.is_dictionary(array.type):
        return array.dictionary, array.indices
    if not (_dedupe_pays(array) if dedupe is None else dedupe):
        return array, None
    encoded = pc.dictionary_encode(array)
    return encoded.dictionary, encoded.indices


# Text that phonenumbers.parse rejects before it looks at any number plan, told by its shape,
# so that a list's fillers ("n/a", "neuvedeno", "-") and Excel's scientific notation
# ("4.20606E+11") do not cost a parse each. Both are ASCII (no Unicode digit, no full-width
# plus):
# * no digit and no "+": _extract_possible_number finds no start character, and text without
#   digits is never viable (NOT_A_NUMBER), phone-context or not;
# * digits, a fraction, then "E+" and digits: the number starts at the first digit and keeps
#   the "+", which _VALID_PHONE_NUMBER allows only before the digits (NOT_A_NUMBER).
_NO_START = r"^[^0-9+]*$"
_SCIENTIFIC = r"^[0-9]+(\.[0-9]+)?[eE]\+[0-9]+$"


def _never_a_number(values: pa.Array) -> Bools:
    """Per value: phonenumbers would reject it as not a number (see above); False for null."""
    shaped = pc.or_(
        pc.match_substring_regex(values, _NO_START),
        pc.match_substring_regex(values, _SCIENTIFIC),
    )
    return bool_values(pc.and_(pc.string_is_ascii(values), shaped))


def _fallback(work: pa.Array, pending: np.ndarray[Any, Any], region: str, fast: FastResult) -> None:
    """Ask phonenumbers once per distinct pending value; write its answers into `fast`."""
    if len(pending) == 0:
        return
    encoded = pc.dictionary_encode(work.take(int_array(pending)))
    distinct = encoded.dictionary
    asked = np.flatnonzero(~_never_a_number(distinct))
    answers: list[Normalized] = [NOT_VALID] * len(distinct)
    values = distinct.take(int_array(asked)).to_pylist()
    for index, value in zip(asked.tolist(), values, strict=True):
        answers[index] = reference_one(value, region)
    which = int_values(encoded.indices).astype(np.intp)
    valid = np.array([a.valid for a in answers], dtype=np.bool_)
    # A valid answer always carries a type and a region (phonenumbers derives validity from
    # them); invalid ones map to -1.
    kinds = np.array([_TYPE_INDEX.get(a.number_type or "", -1) for a in answers], np.int8)
    places = np.array([_REGION_INDEX.get(a.country or "", -1) for a in answers], np.int16)
    fast.valid[pending] = valid[which]
    fast.type_code[pending] = kinds[which]
    fast.region[pending] = places[which]
    hits, hit_answer = pending[valid[which]], which[valid[which]]
    digits = np.array([int(a.e164[1:]) if a.e164 else 0 for a in answers], dtype=np.int64)
    fast.key[hits] = digits[hit_answer]

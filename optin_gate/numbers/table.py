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

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.numbers._arrow import bool_array, int_array, int_values, string_array, validity
from optin_gate.numbers.batch import REGION_NAMES, FastResult, fast_batch
from optin_gate.numbers.reference import reference_one
from optin_gate.numbers.spec import TYPE_CODES, RegionSpec

__all__ = ["NORMALIZED_SCHEMA", "normalized_table"]

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
    work, indices = _work_values(array)
    present = validity(work)
    fast = fast_batch(work, spec)
    _fallback(work, np.flatnonzero(~fast.decided & present), region, fast)
    e164: pa.ChunkedArray = pa.chunked_array(fast.e164, type=pa.string())
    decided = fast.decided | ~present
    valid, type_code, region_code = fast.valid, fast.type_code, fast.region
    if indices is not None:  # back from distinct values to rows; entry n is a null row
        n = len(work)
        row = np.where(validity(indices), int_values(indices), n).astype(np.intp)
        e164 = e164.take(int_array(row, row == n))
        valid = np.append(valid, False)[row]
        type_code = np.append(type_code, -1)[row]
        region_code = np.append(region_code, -1)[row]
        decided = np.append(decided, True)[row]
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


def _work_values(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """The values to work out, and the indices taking them back to rows (None: row by row)."""
    if pa.types.is_dictionary(array.type):
        return array.dictionary, array.indices
    n = len(array)
    if n > SAMPLE:
        picks = np.sort(np.random.default_rng(n).choice(n, SAMPLE, replace=False))
        if len(pc.unique(array.take(int_array(picks)))) >= DEDUP_BELOW * SAMPLE:
            return array, None
    encoded = pc.dictionary_encode(array)
    return encoded.dictionary, encoded.indices


def _fallback(work: pa.Array, pending: np.ndarray[Any, Any], region: str, fast: FastResult) -> None:
    """Ask phonenumbers once per distinct pending value; write its answers into `fast`."""
    if len(pending) == 0:
        return
    encoded = pc.dictionary_encode(work.take(int_array(pending)))
    answers = [reference_one(value, region) for value in encoded.dictionary.to_pylist()]
    which = int_values(encoded.indices).astype(np.intp)
    valid = np.array([a.valid for a in answers], dtype=np.bool_)
    # A valid answer always carries a type and a region (phonenumbers derives validity from
    # them); invalid ones map to -1.
    kinds = np.array([_TYPE_INDEX.get(a.number_type or "", -1) for a in answers], np.int8)
    places = np.array([_REGION_INDEX.get(a.country or "", -1) for a in answers], np.int16)
    fast.valid[pending] = valid[which]
    fast.type_code[pending] = kinds[which]
    fast.region[pending] = places[which]
    # Patch the valid answers into the chunks of E.164 strings that hold their rows.
    texts = string_array([a.e164 for a in answers])
    hits, hit_answer = pending[valid[which]], which[valid[which]]
    bounds = np.cumsum([0] + [len(chunk) for chunk in fast.e164])
    for number in np.unique(np.searchsorted(bounds, hits, side="right") - 1).tolist():
        inside = (hits >= bounds[number]) & (hits < bounds[number + 1])
        chunk = fast.e164[number]
        pick = np.arange(len(chunk))
        pick[hits[inside] - bounds[number]] = len(chunk) + hit_answer[inside]
        fast.e164[number] = pa.concat_arrays([chunk, texts]).take(int_array(pick))

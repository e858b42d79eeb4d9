"""The evidence in force joined to a held list's numbers in compiled code, rows in order.

`engine.held`'s decision step. The evidence in force at the run's time is narrowed by
DuckDB as for every other path (`engine.facts.narrowed_sql`: at most one consent, contract,
objection and directory entry per number), then fetched as arrays. One open-addressing hash
table over their numbers holds, per number, the index of each kind's record and the
directory mark. Each row of the list probes it once (numba, both cores, no GIL), forms its
shape code exactly as `shapes.code_sql` does and reads its outcome and named id from the
decided shapes (`shapes.decide_shapes`, the rules' own SQL). The result is in the list's row
order: no join of millions of rows, no fetch of them, no scatter. `engine.spilled` and
`Gate.filter` decide through `facts.facts_at_sql` instead; tests hold the two equal.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from numba import njit

from optin_gate.engine.rows import twice_answered, values
from optin_gate.engine.shapes import Outcomes
from optin_gate.numbers._arrow import int_array, validity
from optin_gate.rules.shapes import ID_FIELDS

__all__ = ["Evidence", "RowDecisions", "decide_by_lookup", "fetch_evidence"]

_KINDS = len(ID_FIELDS)  # values 0.._KINDS-1: a record index per id field; then the mark
_COLUMNS = 1 + (_KINDS + 2) // 2  # the number, then two 32-bit values per int64
_PARTS = 2  # the hash table's parts, built side by side; chosen by the hash's top bit
_PART_SHIFT = 31  # a 32-bit hash's top bit picks the part
_SLOT_BITS = (1 << _PART_SHIFT) - 1  # the rest picks the slot: (bits * size) >> 31
_BLOCK = 64  # rows whose first slots are read together
_TWICE = 1 << 31  # in a stored value: the number has two records of that kind
_THREADS = min(2, os.cpu_count() or 1)
_MIN_SPLIT = 1 << 16  # fewer rows than this are probed on one thread
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing's multiplier


@dataclasses.dataclass(frozen=True)
class Evidence:
    """The evidence in force, one record per number and kind, as arrays.

    Attributes:
        phones: Per id field (`ID_FIELDS` order): the numbers that have such a record.
        ids: Per id field: the records' ids, aligned with `phones`.
        listed: The numbers the directory in force lists with a decisive mark.
        marks: Their mark numbers (`shapes.mark_sql`: 1, 2, ...).
    """

    phones: tuple[np.ndarray[Any, np.dtype[np.int64]], ...]
    ids: tuple[pa.Array, ...]
    listed: np.ndarray[Any, np.dtype[np.int64]]
    marks: np.ndarray[Any, np.dtype[np.int32]]


def fetch_evidence(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> Evidence:
    """Fetch the narrowed evidence: `relations` maps each id field and "listed" to a relation.

    Each id field's relation has `phone` and the id column; "listed" has `phone` and `mark`.
    """
    phones, ids = [], []
    for field in ID_FIELDS:
        table = con.sql(f"SELECT phone, {field} FROM {relations[field]}").to_arrow_table()
        phones.append(_int64(table.column("phone")))
        ids.append(table.column(field).combine_chunks().cast(pa.string()))
    listed = con.sql(f"SELECT phone, mark FROM {relations['listed']}").to_arrow_table()
    mark = listed.column("mark").combine_chunks()
    marks = np.where(validity(mark), values(mark.cast(pa.int32())), 0).astype(np.int32)
    return Evidence(tuple(phones), tuple(ids), _int64(listed.column("phone")), marks)


def _int64(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    array = column.combine_chunks().cast(pa.int64())
    if array.null_count:  # the store's phone columns are NOT NULL
        raise AssertionError("an evidence record without a number")
    return np.ascontiguousarray(values(array), dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class RowDecisions:
    """Each row's decision, in the list's order, compact (spell it out with `outcomes`).

    Attributes:
        outcomes: The run's outcomes; `columns_sql` spells out `phone, outcome, evidence`.
        phone: The E.164 digits (int64, null unless valid).
        outcome: Per row, its outcome number.
        evidence_at: Per row, the index in `ids` of the id its evidence names, -1 for none.
        ids: Every id the evidence may name.
    """

    outcomes: Outcomes
    phone: pa.Array
    outcome: np.ndarray[Any, Any]
    evidence_at: np.ndarray[Any, np.dtype[np.int64]]
    ids: pa.Array

    def counts(self) -> dict[str, int]:
        """Rows per reason value."""
        found: dict[str, int] = {}
        per_outcome = np.bincount(self.outcome, minlength=len(self.outcomes.rows))
        for number, n in enumerate(per_outcome.tolist()):
            if n:
                reason = self.outcomes.reason(number).value
                found[reason] = found.get(reason, 0) + n
        return found

    def allowed(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per row: the call is allowed."""
        allowed: np.ndarray[Any, np.dtype[np.bool_]] = self.outcomes.allowed()[self.outcome]
        return allowed

    def columns(self, rows: np.ndarray[Any, Any] | None = None) -> list[pa.Array]:
        """`phone`, `outcome` and `evidence` (the bare id) of the given rows (None: all)."""
        at, outcome, phone = self.evidence_at, self.outcome, self.phone
        if rows is not None:
            at, outcome, phone = at[rows], outcome[rows], phone.take(int_array(rows))
        kind = pa.uint8() if outcome.dtype == np.uint8 else pa.uint16()
        coded = pa.Array.from_buffers(kind, len(outcome), [None, pa.py_buffer(outcome)])
        return [phone, coded, self.ids.take(int_array(np.maximum(at, 0), at < 0))]


def decide_by_lookup(
    phone: pa.Array,
    num: np.ndarray[Any, Any],
    *,
    evidence: Evidence,
    outcomes: Outcomes,
    shapes: pa.Table,
    marks: int,
) -> RowDecisions:
    """Each row's outcome and named id, from its number and the evidence held by number.

    Args:
        phone: The rows' E.164 digits (int64, null unless valid), in the list's order.
        num: The rows' number codes (`shapes.NumberCodes`).
        evidence: The evidence in force (`fetch_evidence`).
        outcomes: The run's outcomes.
        shapes: The decided shapes (`code`, `outcome`, `ev_field`), every code the run's
            number codes can form.
        marks: How many marks the directory mark numbers tell apart.

    Raises:
        StoreError: The evidence has two records of one kind for a number.
    """
    keys = np.where(validity(phone), values(phone), 0).astype(np.int64)
    slots = _hash_table(evidence)
    code = values(shapes.column("code").combine_chunks().cast(pa.int64()))
    size = int(code.max(initial=-1)) + 1
    outcome_type = np.uint8 if len(outcomes.rows) < 256 else np.uint16
    by_code = np.zeros(size, dtype=outcome_type)
    by_code[code] = values(shapes.column("outcome").combine_chunks()).astype(outcome_type)
    field_by_code = np.zeros(size, dtype=np.int8)
    field_by_code[code] = values(shapes.column("ev_field").combine_chunks().cast(pa.int8()))
    sizes = np.array([len(p) for p in evidence.phones], dtype=np.int64)
    bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    outcome = np.empty(len(keys), dtype=outcome_type)
    at = np.empty(len(keys), dtype=np.int64)
    args = (
        keys, np.ascontiguousarray(num, dtype=np.int64), slots, marks + 1, by_code,
        field_by_code, bases, outcome, at,
    )  # fmt: skip
    bounds = [0, len(keys)]
    if _THREADS > 1 and len(keys) >= _MIN_SPLIT:
        bounds = [len(keys) * i // _THREADS for i in range(_THREADS + 1)]
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        spans = range(len(bounds) - 1)
        if sum(pool.map(lambda i: _probe(bounds[i], bounds[i + 1], *args), spans)):
            raise twice_answered()  # as the joins would answer: only for numbers asked about
    ids = pa.concat_arrays(list(evidence.ids)) if evidence.ids else pa.array([], pa.string())
    return RowDecisions(outcomes, phone, outcome, at, ids)


def _hash_table(evidence: Evidence) -> np.ndarray[Any, Any]:
    """Every evidence number once, with its records and directory mark.

    `slots[part, slot]` is one number's entry, 24 bytes, read with one cache miss: the number
    (0: empty; no E.164 number is 0), then per id field its record's index + 1 (0: none) and
    the mark (0: none), two 32-bit values to an int64; a value's top bit (`_TWICE`) says the
    number has two records of that kind. The table is in `_PARTS` parts, chosen by the hash's
    top bit and each built by its own thread; at most half full.
    """
    kinds = (*evidence.phones, evidence.listed)
    total = sum(len(p) for p in kinds)
    size = max(16, total // _PARTS * 2)
    slots = np.zeros((_PARTS, size, _COLUMNS), dtype=np.int64)
    indexed = np.zeros(0, dtype=np.int32)  # id kinds store their record index + 1

    def build(part: int) -> None:
        for column, phones in enumerate(kinds):
            payload = evidence.marks if column == _KINDS else indexed
            _insert(slots[part], phones, payload, column, part)

    with ThreadPoolExecutor(_PARTS) as pool:
        list(pool.map(build, range(_PARTS)))
    return slots


@njit(cache=True, nogil=True)
def _hash(key: int) -> Any:
    """32 bits of the key times the golden ratio (Fibonacci hashing), as a signed int.

    Signed: numba turns unsigned and signed integers mixed into floats.
    """
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(32))


@njit(cache=True, nogil=True)
def _insert(table: Any, phones: Any, payload: Any, value: int, part: int) -> None:
    """Store value `value` (an id field's or the mark) of the phones in this part's table.

    A phone that has it already is marked `_TWICE` in that value.
    """
    size = len(table)
    column = 1 + value // 2
    shift = 32 * (value % 2)
    low = np.int64(0xFFFFFFFF)
    for i in range(len(phones)):
        key = phones[i]
        hashed = _hash(key)
        if hashed >> _PART_SHIFT != part:
            continue
        slot = ((hashed & _SLOT_BITS) * size) >> _PART_SHIFT
        while table[slot, 0] != 0 and table[slot, 0] != key:
            slot += 1
            if slot == size:
                slot = 0
        table[slot, 0] = key
        stored = np.int64(payload[i]) if len(payload) else np.int64(i + 1)
        before = (table[slot, column] >> shift) & low
        if before != 0:
            stored = before | _TWICE
        table[slot, column] = (table[slot, column] & ~(low << shift)) | (stored << shift)


@njit(cache=True, nogil=True)
def _probe(  # noqa: PLR0917 - flat arrays for the compiled code
    start: int, stop: int, keys: Any, num: Any, slots: Any, marks: int, by_code: Any,
    field_by_code: Any, bases: Any, outcome: Any, at: Any,
) -> int:  # fmt: skip
    """Rows start..stop: the shape code as `shapes.code_sql` forms it, its outcome and id.

    code = (num * 2**len(ID_FIELDS) + flags) * marks + mark, where bit i of flags says the
    row has a record of ID_FIELDS[i] and mark is 0 for no (decisive) directory entry.

    Returns:
        How many rows found a number with two records of one kind (then nothing holds).
    """
    size = slots.shape[1]
    value_bits = np.int64(_TWICE - 1)
    twice = 0
    parts = np.zeros(_BLOCK, dtype=np.int64)
    places = np.full(_BLOCK, -1, dtype=np.int64)
    for block in range(start, stop, _BLOCK):
        end = min(block + _BLOCK, stop)
        # First each row's slot, read at once: the misses of a block overlap in the memory
        # system instead of waiting one after the other.
        for row in range(block, end):
            key = keys[row]
            places[row - block] = -1
            if key != 0:
                hashed = _hash(key)
                part = hashed >> _PART_SHIFT
                slot = ((hashed & _SLOT_BITS) * size) >> _PART_SHIFT
                parts[row - block] = part
                places[row - block] = slot if slots[part, slot, 0] != 0 else -1
        for row in range(block, end):
            part = parts[row - block]
            found = _find(slots[part], places[row - block], keys[row])
            flags = 0
            mark = 0
            if found >= 0:
                for value in range(_KINDS):
                    stored = _value(slots[part], found, value)
                    twice += stored >> 31
                    flags |= (stored != 0) << value
                stored = _value(slots[part], found, _KINDS)
                twice += stored >> 31
                mark = stored & value_bits
            code = (num[row] * (1 << _KINDS) + flags) * marks + mark
            outcome[row] = by_code[code]
            field = field_by_code[code]
            at[row] = -1
            if field != 0:
                stored = _value(slots[part], found, field - 1) & value_bits
                at[row] = bases[field - 1] + stored - 1
    return twice


@njit(cache=True, nogil=True, inline="always")
def _find(table: Any, slot: int, key: int) -> int:
    """The slot of `key` in a part's table, from its first slot (-1: empty); -1 if absent."""
    size = len(table)
    while slot >= 0 and table[slot, 0] != 0:
        if table[slot, 0] == key:
            return slot
        slot += 1
        if slot == size:
            slot = 0
    return -1


@njit(cache=True, nogil=True, inline="always")
def _value(table: Any, slot: int, value: int) -> Any:
    """Stored value `value` (an id field's index + 1, or the mark) of an entry, 32 bits."""
    return (table[slot, 1 + value // 2] >> (32 * (value % 2))) & np.int64(0xFFFFFFFF)

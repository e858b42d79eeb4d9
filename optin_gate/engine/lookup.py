"""The evidence in force joined to a held list's numbers in compiled code, rows in order.

`engine.held`'s decision step. DuckDB filters the evidence in force at the run's time as for
every other path (`engine.facts.narrowed_sql`), but leaves picking the newest record per
number (by time, then id) to the build here, which does it in one pass instead of a window
sort; the rows come as arrays. One open-addressing hash table over their numbers holds, per
number, the index of its newest consent, contract and objection and its directory mark; an
objection a newer valid consent outweighs is dropped (`store.semantics` defines both steps).
Each row of the list probes it once (numba, both cores, no GIL), packs its shape code as
`rules.shapes.ShapeCodec.pack` does and reads its outcome and named id from the decided
shapes (`outcomes.decide_shapes`). The result is in the list's row order: no join of
millions of rows, no fetch of them, no scatter. `engine.spilled` and `Gate.filter` decide
through `facts.facts_at_sql` instead; tests hold the ways equal.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate._jit import njit
from optin_gate._runtime import threads
from optin_gate.engine.outcomes import Outcomes
from optin_gate.engine.rows import twice_answered
from optin_gate.errors import StoreError
from optin_gate.numbers._arrow import int_array, int_values, validity, whole
from optin_gate.rules.shapes import ID_FIELDS
from optin_gate.store.semantics import NEWEST, NO_CONSENT, newer, objection_in_force_jit

__all__ = ["Evidence", "RowDecisions", "decide_by_lookup", "evidence_slots", "fetch_evidence"]

_KINDS = len(ID_FIELDS)  # values 0.._KINDS-1: a record index per id field; then the mark
_COLUMNS = 1 + (_KINDS + 2) // 2  # the number, then two 32-bit values per int64
_PARTS = 2  # the hash table's parts, built side by side; chosen by the hash's top bit
_PART_SHIFT = 31  # a 32-bit hash's top bit picks the part
_SLOT_BITS = (1 << _PART_SHIFT) - 1  # the rest picks the slot: (bits * size) >> 31
_BLOCK = 64  # rows whose first slots are read together
_TWICE = 1 << 31  # in a stored value: the number has two records of that kind
_MIN_SPLIT = 1 << 16  # fewer rows than this are probed on one thread
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing's multiplier
_MARK_SHIFT = 8  # in the last stored value: the mark below, the Slovak list part above
_MARK_BITS = 1 << _MARK_SHIFT


# Per id field: the column that orders its records (`semantics.NEWEST`; the id breaks ties).
_TIMES = {field: NEWEST[field].time for field in ID_FIELDS}


@dataclasses.dataclass(frozen=True)
class Evidence:
    """The candidate evidence in force, as arrays: any number of records per number and kind.

    Attributes:
        phones: Per id field (`ID_FIELDS` order): the numbers of its records.
        ids: Per id field: the records' ids, aligned with `phones`.
        times: Per id field: the records' `_TIMES` column as int64 (microseconds or days).
        listed: The numbers the directory in force lists with a decisive mark.
        marks: Their mark numbers (`rules.shapes.mark_sql`: 1, 2, ...).
        registered: The Slovak numbers with a list release in force.
        registers: Their list parts (`rules.shapes.register_part`).
    """

    phones: tuple[np.ndarray[Any, np.dtype[np.int64]], ...]
    ids: tuple[pa.Array, ...]
    times: tuple[np.ndarray[Any, np.dtype[np.int64]], ...]
    listed: np.ndarray[Any, np.dtype[np.int64]]
    marks: np.ndarray[Any, np.dtype[np.int32]]
    registered: np.ndarray[Any, np.dtype[np.int64]] = dataclasses.field(
        default_factory=lambda: np.zeros(0, np.int64)
    )
    registers: np.ndarray[Any, np.dtype[np.int32]] = dataclasses.field(
        default_factory=lambda: np.zeros(0, np.int32)
    )


def fetch_evidence(con: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> Evidence:
    """Fetch the candidate evidence: `queries` maps each id field, "listed" and "register".

    Each id field's query yields `phone`, the id and its `_TIMES` column (any number of rows
    per phone: the build keeps the newest); "listed" yields `phone` and `mark`, "register"
    `phone` and `register`.
    """
    phones, ids, times = [], [], []
    for field in ID_FIELDS:
        time = _TIMES[field]
        sql = f"SELECT phone, {field}, {time} FROM ({queries[field]})"
        table = con.sql(sql).to_arrow_table()
        phones.append(_int64(table.column("phone")))
        ids.append(whole(table.column(field)).cast(pa.string()))
        times.append(_int64(table.column(time)))
    listed = con.sql(f"SELECT phone, mark FROM ({queries['listed']})").to_arrow_table()
    mark = whole(listed.column("mark"))
    marks = np.where(validity(mark), int_values(mark.cast(pa.int32())), 0).astype(np.int32)
    register = con.sql(f"SELECT phone, register FROM ({queries['register']})").to_arrow_table()
    registers = int_values(whole(register.column("register")).cast(pa.int32()))
    return Evidence(
        tuple(phones),
        tuple(ids),
        tuple(times),
        _int64(listed.column("phone")),
        marks,
        _int64(register.column("phone")),
        np.ascontiguousarray(registers, dtype=np.int32),
    )


def _int64(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Numbers, instants (microseconds) or days as int64; the store's columns are NOT NULL."""
    array = whole(column)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        array = array.view(pa.int64() if array.type.bit_width == 64 else pa.int32())
    if array.null_count:
        raise AssertionError("an evidence record without a number or time")
    return np.ascontiguousarray(int_values(array), dtype=np.int64)


def _text_buffers(ids: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A string array's offsets (int64) and bytes, for comparing ids in compiled code."""
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[
        ids.offset : ids.offset + len(ids) + 1
    ]
    data = ids.buffers()[2]
    text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets.astype(np.int64), text


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
    mark_count: int,
    slots: np.ndarray[Any, Any] | None = None,
) -> RowDecisions:
    """Each row's outcome and named id, from its number and the evidence held by number.

    Args:
        phone: The rows' E.164 digits (int64, null unless valid), in the list's order.
        num: The rows' number codes (`outcomes.NumberCodes`).
        evidence: The evidence in force (`fetch_evidence`).
        outcomes: The run's outcomes.
        shapes: The decided shapes (`code`, `outcome`, `ev_field`), every code the run's
            number codes can form.
        mark_count: How many marks the directory mark numbers tell apart (1, 2, ...).
        slots: The evidence's hash table, when built ahead (`evidence_slots`).

    Raises:
        StoreError: The evidence has two records of one kind for a number.
    """
    if max((len(p) for p in evidence.phones), default=0) >= _TWICE - 1:
        raise StoreError(
            "more than 2,147,483,646 records of one kind are in force for one controller",
            hint="filter the list with a smaller evidence store, or report it",
        )
    keys = np.where(validity(phone), int_values(phone), 0).astype(np.int64)
    if slots is None:
        slots = _hash_table(evidence)
    code = int_values(whole(shapes.column("code")).cast(pa.int64()))
    size = int(code.max(initial=-1)) + 1
    outcome_type = np.uint8 if len(outcomes.rows) < 256 else np.uint16
    by_code = np.zeros(size, dtype=outcome_type)
    by_code[code] = int_values(whole(shapes.column("outcome"))).astype(outcome_type)
    field_by_code = np.zeros(size, dtype=np.int8)
    field_by_code[code] = int_values(whole(shapes.column("ev_field")).cast(pa.int8()))
    sizes = np.array([len(p) for p in evidence.phones], dtype=np.int64)
    bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    outcome = np.empty(len(keys), dtype=outcome_type)
    at = np.empty(len(keys), dtype=np.int64)
    if mark_count + 1 > _MARK_BITS:
        raise AssertionError("more directory marks than a stored value holds")
    sk = (outcomes.codec.sk_radix, int(outcomes.caller))
    args = (
        keys, np.ascontiguousarray(num, dtype=np.int64), outcomes.prefix, slots, mark_count + 1,
        *sk, by_code, field_by_code, bases, outcome, at,
    )  # fmt: skip
    workers = threads() if len(keys) >= _MIN_SPLIT else 1
    bounds = [len(keys) * i // workers for i in range(workers + 1)]
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        spans = range(len(bounds) - 1)
        if sum(pool.map(lambda i: _probe(bounds[i], bounds[i + 1], *args), spans)):
            raise twice_answered()  # as the joins would answer: only for numbers asked about
    wide = [ids.cast(pa.large_string()) for ids in evidence.ids]  # over 2 GiB of ids fits too
    ids = whole(pa.chunked_array(wide, pa.large_string()))
    return RowDecisions(outcomes, phone, outcome, at, ids)


def evidence_slots(evidence: Evidence) -> np.ndarray[Any, Any]:
    """The hash table `decide_by_lookup` probes, built ahead while other work runs."""
    return _hash_table(evidence)


def _hash_table(evidence: Evidence) -> np.ndarray[Any, Any]:
    """Every evidence number once, with its newest records and its directory mark.

    `slots[part, slot]` is one number's entry, 24 bytes, read with one cache miss: the number
    (0: empty; no E.164 number is 0), then per id field its newest record's index + 1 (0:
    none) and the mark (0: none) with the Slovak list part above its low `_MARK_BITS`
    bits, two 32-bit values to an int64; the last value's top bit (`_TWICE`) says the
    directory or the list holds the number twice. The table is in `_PARTS` parts,
    chosen by the hash's top bit and each built by its own thread.
    """
    per_part = np.zeros(_PARTS, dtype=np.int64)
    for phones in (*evidence.phones, evidence.listed, evidence.registered):
        _count_parts(phones, per_part)
    # Each part has more slots than records that hash to it (at most 5/7 full, mostly far
    # less: a number with several records takes one slot), so a probe always ends.
    size = max(16, int(per_part.max()) * 7 // 5 + 1)
    slots = np.zeros((_PARTS, size, _COLUMNS), dtype=np.int64)
    texts = [_text_buffers(ids) for ids in evidence.ids]
    consent, objection = ID_FIELDS.index("consent_id"), ID_FIELDS.index("objection_id")

    def build(part: int) -> None:
        table = slots[part]
        for value, phones in enumerate(evidence.phones):
            offsets, text = texts[value]
            _insert_newest(table, part, value, phones, evidence.times[value], offsets, text)
        _insert_marks(table, part, _KINDS, evidence.listed, evidence.marks)
        _insert_registers(table, part, _KINDS, evidence.registered, evidence.registers)
        times, objected = evidence.times, evidence.phones[objection]
        _settle(table, part, objected, consent, objection, times[consent], times[objection])

    with ThreadPoolExecutor(min(_PARTS, threads())) as pool:
        list(pool.map(build, range(_PARTS)))
    return slots


@njit(cache=True, nogil=True)
def _count_parts(phones: Any, per_part: Any) -> None:
    """Add to `per_part` how many of the phones hash to each part."""
    for i in range(len(phones)):
        per_part[_hash(phones[i]) >> _PART_SHIFT] += 1


@njit(cache=True, nogil=True)
def _hash(key: int) -> Any:
    """32 bits of the key times the golden ratio (Fibonacci hashing), as a signed int.

    Signed: numba turns unsigned and signed integers mixed into floats.
    """
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(32))


@njit(cache=True, nogil=True, inline="always")
def _claim(table: Any, part: int, key: int) -> Any:
    """The slot of `key` in this part's table, taken if new; -1 if the key is another part's."""
    hashed = _hash(key)
    if hashed >> _PART_SHIFT != part:
        return -1
    size = len(table)
    slot = ((hashed & _SLOT_BITS) * size) >> _PART_SHIFT
    for _ in range(size):  # the table has room (`_hash_table`): this ends well before
        if table[slot, 0] == 0 or table[slot, 0] == key:
            table[slot, 0] = key
            return slot
        slot += 1
        if slot == size:
            slot = 0
    raise AssertionError("the evidence hash table is full (a bug)")


@njit(cache=True, nogil=True, inline="always")
def _store(table: Any, slot: int, value: int, stored: int) -> None:
    """Set stored value `value` (32 bits) of an entry."""
    shift = 32 * (value % 2)
    column = 1 + value // 2
    kept = table[slot, column] & ~(np.int64(0xFFFFFFFF) << shift)
    table[slot, column] = kept | (np.int64(stored) << shift)


@njit(cache=True, nogil=True)
def _insert_newest(  # noqa: PLR0917 - flat arrays for the compiled code
    table: Any, part: int, value: int, phones: Any, times: Any, offsets: Any, text: Any
) -> None:
    """Store the newest record (index + 1) of each of this part's phones as value `value`."""
    for i in range(len(phones)):
        slot = _claim(table, part, phones[i])
        if slot < 0:
            continue
        before = _value(table, slot, value)
        if before == 0 or newer(times, offsets, text, i, before - 1):
            _store(table, slot, value, i + 1)


@njit(cache=True, nogil=True)
def _insert_marks(table: Any, part: int, value: int, phones: Any, marks: Any) -> None:
    """Store each of this part's phones' directory mark; one listed twice is marked `_TWICE`."""
    for i in range(len(phones)):
        slot = _claim(table, part, phones[i])
        if slot < 0:
            continue
        before = _value(table, slot, value)
        _store(table, slot, value, marks[i] if before == 0 else before | _TWICE)


@njit(cache=True, nogil=True)
def _insert_registers(table: Any, part: int, value: int, phones: Any, registers: Any) -> None:
    """Store each of this part's phones' list part above the mark; one held twice: `_TWICE`."""
    for i in range(len(phones)):
        slot = _claim(table, part, phones[i])
        if slot < 0:
            continue
        before = _value(table, slot, value)
        if (before & (_TWICE - 1)) >> _MARK_SHIFT == 0:
            _store(table, slot, value, before | (np.int64(registers[i]) << _MARK_SHIFT))
        else:
            _store(table, slot, value, before | _TWICE)


@njit(cache=True, nogil=True)
def _settle(  # noqa: PLR0917 - flat arrays for the compiled code
    table: Any, part: int, phones: Any, consent: int, objection: int, granted: Any, objected: Any
) -> None:
    """Drop each newest objection (of these phones) the newest valid consent outweighs.

    The rule is `semantics.objection_in_force`, as `facts.objections_in_force_sql` renders it.
    """
    for i in range(len(phones)):
        slot = _claim(table, part, phones[i])  # present already: found, not added
        if slot < 0:
            continue
        made = _value(table, slot, objection)
        given = _value(table, slot, consent)
        if made == 0:
            continue
        consent_at = granted[given - 1] if given != 0 else NO_CONSENT
        if not objection_in_force_jit(objected[made - 1], consent_at):
            _store(table, slot, objection, 0)


@njit(cache=True, nogil=True)
def _probe(  # noqa: PLR0917 - flat arrays for the compiled code
    start: int, stop: int, keys: Any, num: Any, prefix: int, slots: Any, marks: int,
    sk_radix: int, caller: int, by_code: Any, field_by_code: Any, bases: Any, outcome: Any,
    at: Any,
) -> int:  # fmt: skip
    """Rows start..stop: the shape code as `ShapeCodec.pack` forms it, its outcome and id.

    code = (((prefix + num) * 2**len(ID_FIELDS) + flags) * marks + mark) * sk_radix + caller
    + 2 * register, where prefix holds the run's day and call type, bit i of flags says the
    row has a record of ID_FIELDS[i], mark is 0 for no (decisive) directory entry and
    register 0 for no Slovak list release in force (`rules.shapes.sk_part`).

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
            parts[row - block] = 0
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
            register = 0
            if found >= 0:
                for value in range(_KINDS):
                    stored = _value(slots[part], found, value)
                    twice += stored >> 31
                    flags |= (stored != 0) << value
                stored = _value(slots[part], found, _KINDS)
                twice += stored >> 31
                mark = stored & (_MARK_BITS - 1)
                register = (stored & value_bits) >> _MARK_SHIFT
            code = ((prefix + num[row]) * (1 << _KINDS) + flags) * marks + mark
            code = code * sk_radix + caller + 2 * register
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
    for _ in range(size if slot >= 0 else 0):  # bounded, though a free slot always ends it
        if table[slot, 0] == 0:
            return -1
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

"""Rows between DuckDB and Arrow for the decision query: read, numbered, reordered, counted.

* `read_numbers`: the phone column read in batches, in the relation's order, each batch
  normalized on a worker thread while DuckDB reads the next (`numbered`: the batches' places
  become the `row` key 1, 2, 3, ...).
* `normalize_column`: the same for a phone column already in memory (Arrow).
* `in_row_order`: decided rows put back in row order by a scatter on their numbers (DuckDB's
  joins reorder rows), so a reader can join them to the list by position.
* `run_in_memory` / `fetch_in_memory`: a statement that runs again on one thread when DuckDB's
  memory_limit is hit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.engine.outcomes import NumberCodes
from optin_gate.errors import StoreError
from optin_gate.io.pipeline import Pipeline
from optin_gate.numbers._arrow import int_array, int_values, whole
from optin_gate.numbers.table import dedupe_pays, normalize_codes

__all__ = [
    "fetch_in_memory",
    "in_row_order",
    "normalize_column",
    "read_numbers",
    "run_in_memory",
    "twice_answered",
    "with_numbers",
]

BATCH_ROWS = 1 << 20  # rows read and normalized at a time
# DuckDB's read errors by the words they start with, as the Arrow stream passes them on.
_READ_ERRORS: dict[str, type[duckdb.Error]] = {
    "Invalid Input Error": duckdb.InvalidInputException,
    "Conversion Error": duckdb.ConversionException,
    "IO Error": duckdb.IOException,
}


def twice_answered() -> StoreError:
    """The error for decided keys that do not match the keys asked about."""
    return StoreError(
        "the evidence store answers twice for one number (a directory snapshot lists a "
        "number twice?)",
        hint="reload the directory snapshot; if it persists, report it as a bug",
    )


def run_in_memory(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """Run `sql`; if DuckDB runs out of its memory_limit, run it again on one thread.

    Each thread holds its own part of the hash tables; with a small memory_limit one thread
    spills where two cannot (DuckDB's own advice). The failed attempt leaves nothing behind.

    Returns:
        The statement's result rows (a COPY: the number of rows written).
    """
    result: list[list[Any]] = []
    _retry_on_one_thread(con, lambda: result.append(con.execute(sql).fetchall()))
    return result[-1]


def fetch_in_memory(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """`run_in_memory` for a query whose result comes back as Arrow."""
    result: list[pa.Table] = []
    _retry_on_one_thread(con, lambda: result.append(con.sql(sql).to_arrow_table()))
    return result[-1]


def _retry_on_one_thread(con: duckdb.DuckDBPyConnection, action: Callable[[], object]) -> None:
    try:
        action()
    except duckdb.OutOfMemoryException:
        ((threads,),) = con.execute("SELECT current_setting('threads')").fetchall()
        if int(threads) <= 1:
            raise
        con.execute("SET threads = 1")
        try:
            action()
        finally:
            con.execute(f"SET threads = {int(threads)}")


def with_numbers(
    part: pa.Table,
    region: str,
    numbers: NumberCodes,
    *,
    keep_raw: bool,
    dedupe: bool | None = None,
) -> pa.Table:
    """`part` with the normalized numbers of its `raw` column appended: `phone` and `num`.

    E.164 as its digits (`phone`, an int64 key: E.164 is "+" || phone); validity, country and
    type as one small code (`num`, see `NumberCodes`): no strings are built for the millions
    of numbers.
    """
    codes = normalize_codes(part.column("raw"), region=region, dedupe=dedupe)
    if not keep_raw:
        part = part.drop_columns(["raw"])
    phone = int_array(codes.key, ~codes.valid)
    return part.append_column("phone", phone).append_column("num", numbers.encode(codes))


def read_numbers(
    con: duckdb.DuckDBPyConnection,
    query: str,
    region: str,
    numbers: NumberCodes,
    *,
    numbered: bool,
    beside: Callable[[], object] | None = None,
    text: Callable[[pa.ChunkedArray], pa.ChunkedArray] | None = None,
) -> pa.Table:
    """The rows of `query` (a `raw` column and keys) with their numbers, `raw` dropped.

    Reading the list (DuckDB) and normalizing (the numbers kernel) each leave a core idle
    part of the time; side by side they fill both. The batches come in the relation's order
    (kept so for this read), which `numbered` turns into the `row` key: 1, 2, 3, ...
    `beside` runs on `con` once the read is done, while the last batches are normalized
    (DuckDB work that needs no number, on the core the Python between kernel runs leaves).
    `text` turns each batch's `raw` column into text first (`inputs.phone_text`).
    """
    ((keep,),) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    with _normalizing(region, numbers) as line:
        con.execute("SET preserve_insertion_order = true")  # the rows' order is their key
        try:
            reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
            batches = _grouped(reader)
            if text is not None:
                batches = (_as_text(batch, text) for batch in batches)
            line.feed(_prepared(batches, numbered=numbered))
        finally:
            con.execute(f"SET preserve_insertion_order = {bool(keep)}")
        tables = _gathered(line, beside)
    if not tables:  # an empty list
        empty = pa.Table.from_batches([], schema=reader.schema)
        empty = _as_text(empty, text) if text is not None else empty
        empty = _numbered(empty, 0) if numbered else empty
        return with_numbers(empty, region, numbers, keep_raw=False)
    return pa.concat_tables(tables)


def normalize_column(
    phones: pa.ChunkedArray,
    region: str,
    numbers: NumberCodes,
    *,
    beside: Callable[[], object] | None = None,
) -> pa.Table:
    """`read_numbers` for a phone column already in memory: `row` (1, 2, ...), `phone`, `num`.

    The column is normalized in slices on a worker thread while `beside` runs.
    """
    slices = (
        pa.table({"raw": phones.slice(start, BATCH_ROWS)})
        for start in range(0, len(phones), BATCH_ROWS)
    )
    # One list: whether its repeats are worth hashing is asked once, of its first slice.
    dedupe = dedupe_pays(phones.slice(0, BATCH_ROWS))
    with _normalizing(region, numbers, dedupe=dedupe) as line:
        line.feed(_prepared(slices, numbered=True))
        tables = _gathered(line, beside)
    if not tables:
        empty = _numbered(pa.table({"raw": pa.nulls(0, pa.string())}), 0)
        return with_numbers(empty, region, numbers, keep_raw=False)
    return pa.concat_tables(tables)


def _as_text(table: pa.Table, text: Callable[[pa.ChunkedArray], pa.ChunkedArray]) -> pa.Table:
    at = table.schema.get_field_index("raw")
    return table.set_column(at, "raw", text(table.column(at)))


def _normalizing(
    region: str, numbers: NumberCodes, *, dedupe: bool | None = None
) -> Pipeline[pa.Table, pa.Table]:
    """Batches normalized (`with_numbers`) on a worker thread while the next one is read."""
    work = functools.partial(
        with_numbers, region=region, numbers=numbers, keep_raw=False, dedupe=dedupe
    )
    return Pipeline(work, name="optin-gate-normalize")


def _gathered(
    line: Pipeline[pa.Table, pa.Table], beside: Callable[[], object] | None
) -> list[pa.Table]:
    """Run `beside` while the last batches are normalized; then every table, in order."""
    if beside is not None:
        beside()
    return line.results()


def _grouped(reader: pa.RecordBatchReader) -> Iterator[pa.Table]:
    """DuckDB's vector-sized batches gathered into tables of about `BATCH_ROWS` rows.

    normalize works best on large batches (below its sample size it hashes every value to
    find repeats).
    """
    group: list[pa.RecordBatch] = []
    try:
        for batch in reader:
            group.append(batch)
            if sum(b.num_rows for b in group) >= BATCH_ROWS:
                yield pa.Table.from_batches(group)
                group = []
    except OSError as exc:  # the Arrow stream hands DuckDB's read error on as text
        for prefix, kind in _READ_ERRORS.items():
            if str(exc).startswith(prefix):
                raise kind(str(exc)) from None
        raise
    if group:
        yield pa.Table.from_batches(group)


def _prepared(batches: Iterable[pa.Table], *, numbered: bool) -> Iterator[pa.Table]:
    """Each batch in one chunk, with its rows' `row` numbers in the whole list if `numbered`."""
    done = 0
    for batch in batches:
        table = batch.combine_chunks()
        if numbered:
            table = _numbered(table, done)
        done += table.num_rows
        yield table


def _numbered(table: pa.Table, before: int) -> pa.Table:
    """`table` with its rows' numbers in the whole list (1-based) as the `row` column."""
    rows = np.arange(before + 1, before + 1 + table.num_rows, dtype=np.int64)
    column = pa.Array.from_buffers(pa.int64(), len(rows), [None, pa.py_buffer(rows)])
    return table.add_column(0, "row", column)


def in_row_order(table: pa.Table, expected: int) -> pa.Table:
    """Decided rows numbered 1..expected, each put in its own place (a scatter, no sort).

    Raises:
        StoreError: The numbers are not exactly 1..expected (a key decided twice).
    """
    rows = whole(table.column("row"))
    place = np.full(expected, -1, dtype=np.int64)
    if table.num_rows == expected and rows.null_count == 0:
        numbers = int_values(rows)
        inside = (numbers >= 1) & (numbers <= expected)
        place[numbers[inside] - 1] = np.flatnonzero(inside)
    if table.num_rows != expected or (place < 0).any():
        raise twice_answered()
    return table.take(pa.Array.from_buffers(pa.int64(), expected, [None, pa.py_buffer(place)]))

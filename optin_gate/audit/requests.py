"""The calls as the decision query reads them: one compact Arrow table, numbers normalized.

The log's rows arrive from DuckDB in batches, in the log's order (their position is their
place in the stream): the log's own columns, then the problem that keeps a row from being
judged, the time and the texts. Each batch is normalized
(`optin_gate.numbers.table.normalize_keys`) and its texts replaced by small integer codes into
one dictionary per column, so that neither the decision query nor the decided table carries
millions of strings. A text read from the log's own column is coded on that column's
dictionary (a few distinct values, trimmed once each), and the column is kept
dictionary-encoded: memory holds a code per row, not a string.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._isotime import parse_times
from optin_gate._runtime import threads
from optin_gate.io.dates import EXCEL_EPOCH
from optin_gate.io.pipeline import Pipeline
from optin_gate.numbers.table import normalize_keys

__all__ = [
    "CALL_TYPES",
    "CALL_TYPE_UNKNOWN",
    "CODED",
    "NUMBER_CODED",
    "PHONE_EMPTY",
    "SK_TEXTS",
    "TIME_EMPTY",
    "TIME_UNREADABLE",
    "Layout",
    "Requests",
    "read_requests",
]

# The text columns replaced by codes (int32 into `Requests.dictionaries[name]`): the log's,
# then the number's.
CODED = ("controller", "campaign", "agent")
NUMBER_CODED = ("country", "number_type")
CALL_TYPES = ("live", "automated")
# The Slovak call parameters (docs/rules.md § 4.3), the log's or the run's, kept as
# dictionary-encoded text: a log has a handful of sectors and calling lines.
SK_TEXTS = ("sector", "caller_id")
# Why a row cannot be judged, as `column: problem` (the column's canonical name).
PHONE_EMPTY = "phone: empty, so the call cannot be matched to any evidence"
TIME_EMPTY = "called_at: empty, so the call cannot be judged at its time"
TIME_UNREADABLE = (
    "called_at: not a date and time this tool reads "
    "(write 2022-07-01 09:30, 2022-07-01T09:30:00+02:00 or 1.7.2022 9:30)"
)
CALL_TYPE_UNKNOWN = "call_type: neither live nor automated"
_NO_TEXT = pa.scalar(None, pa.string())
_MAX_WORKERS = 4  # batches in flight beyond these only hold memory


@dataclasses.dataclass
class Requests:
    """The calls ready for the decision query.

    Attributes:
        table: One row per log row, in order: `rid`, `ok` (the row can be judged), `t`,
            `automated`, the `CODED` columns and `purpose` (its key; NULL: none named) as
            int32 codes (NULL for an empty text), the `SK_TEXTS` as dictionary-encoded text,
            and
            `phone` (BIGINT key, NULL unless valid), `valid`, and the `NUMBER_CODED` columns
            `country` and `number_type` as codes too (NULL unless valid).
        dictionaries: Per coded column, a table (`code` int32, `text`) of its values.
        problems: The rows that cannot be judged: `rid`, `problem` ("column: why").
    """

    table: pa.Table
    dictionaries: dict[str, pa.Table]
    problems: pa.Table

    def release(self) -> None:
        """Let go of the (large) table once it has been decided."""
        self.table = self.table.schema.empty_table()


def _normalized(phones: pa.Array, region: str) -> dict[str, pa.Array]:
    # The batch engine's form: E.164 digits as an int64 key, types and countries as
    # dictionaries; no strings built for millions of numbers.
    numbers = normalize_keys(phones, region=region).combine_chunks()
    return {name: numbers.column(name).chunk(0) for name in ("phone", "valid", *NUMBER_CODED)}


def _copy(array: pa.Array) -> pa.Array:
    return pa.concat_arrays([array, array.slice(0, 0)])


@dataclasses.dataclass(frozen=True)
class Layout:
    """How the batches of the read are laid out.

    Attributes:
        own: How many leading columns are the log's own (kept, not requests).
        from_own: Text column ("controller", "campaign", "agent", "call_type") -> the index
            of the log's own text column it is read from: coded here on that column's
            dictionary (trimmed, empty = NULL, as `optin_gate.io.text_sql`), and the column
            kept dictionary-encoded. With "phone" and "called_at", the number is trimmed and
            the empty or unreadable rows found here too, and the time is parsed here
            (`optin_gate._isotime`: the ISO forms in compiled code, the rest by the query's
            own SQL). The others come from the query, prefixed `__og_`.
        controller: The controller of calls whose log names none.
        serials: Plain numbers in the time column are Excel serials (a workbook).
        epoch: The day serial 0 stands for.
    """

    own: int = 0
    from_own: Mapping[str, int] = dataclasses.field(default_factory=dict)
    controller: str = "default"
    serials: bool = False
    epoch: str = EXCEL_EPOCH


def _times(batch: pa.RecordBatch, own: list[pa.Array], layout: Layout) -> pa.Array:
    """The call times: parsed here from the log's own column, else as the query parsed them."""
    if "called_at" not in layout.from_own:
        return batch.column(batch.schema.names.index("__og_t"))
    written = _plain(own[layout.from_own["called_at"]])
    return parse_times(written, serials=layout.serials, epoch=layout.epoch)


def _plain(values: pa.Array) -> pa.Array:
    """A text column as plain string offsets and bytes, which the time kernel reads."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return values.cast(pa.string())


def _trimmed(values: pa.Array) -> pa.Array:
    """`text_sql` on a dictionary's values: spaces trimmed, empty as NULL."""
    trimmed = pc.utf8_trim(values, characters=" ")
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _recoded(
    encoded: pa.DictionaryArray, values: pa.Array, missing: str | None = None
) -> pa.DictionaryArray:
    """The rows of `encoded`, their dictionary entries replaced by `values` (deduplicated).

    A missing row (NULL, not in the dictionary) gets `missing`.
    """
    rows = encoded.indices
    if missing is not None:
        values = pa.concat_arrays([values, pa.array([missing], pa.string())])
        rows = pc.fill_null(rows, len(values) - 1)
    inner = pc.dictionary_encode(values)
    return pa.DictionaryArray.from_arrays(pc.take(inner.indices, rows), inner.dictionary)


def _call_types(encoded: pa.DictionaryArray, problem: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(automated, problem) of each row from its call type, read on the dictionary."""
    lowered = pc.utf8_lower(_trimmed(encoded.dictionary))
    automated = pc.not_equal(pc.fill_null(lowered, "live"), "live")
    known = pc.is_in(lowered, value_set=pa.array(CALL_TYPES))
    bad = pc.and_(pc.is_valid(lowered), pc.invert(known))
    row_bad = pc.fill_null(pc.take(bad, encoded.indices), False)
    problem = pc.if_else(
        pc.and_(pc.is_null(problem), row_bad), pa.scalar(CALL_TYPE_UNKNOWN), problem
    )
    return pc.fill_null(pc.take(automated, encoded.indices), False), problem


def _checked(own: list[pa.Array], layout: Layout, t: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(the number as text, the problem of each row) from the log's own phone and time.

    As the query would find them: the number trimmed of spaces (empty: no number), and a
    missing time told apart from one that is written but cannot be read.
    """
    raw = own[layout.from_own["phone"]]
    spaced = pc.fill_null(pc.or_(pc.starts_with(raw, " "), pc.ends_with(raw, " ")), False)
    phone = pc.if_else(spaced, pc.utf8_trim(raw, " "), raw) if pc.any(spaced).as_py() else raw
    empty = pc.fill_null(pc.equal(phone, ""), True)
    problem = pc.if_else(empty, pa.scalar(PHONE_EMPTY), _NO_TEXT)
    if t.null_count:
        written = _trimmed(own[layout.from_own["called_at"]])
        why = pc.if_else(pc.is_null(written), pa.scalar(TIME_EMPTY), pa.scalar(TIME_UNREADABLE))
        problem = pc.coalesce(problem, pc.if_else(pc.is_null(t), why, _NO_TEXT))
    return phone, problem


def _coded(
    batch: pa.RecordBatch,
    start: int,
    layout: Layout,
    region: str,
    problems: list[pa.RecordBatch],
) -> tuple[pa.RecordBatch, pa.RecordBatch | None]:
    """One batch of the log as requests and its own columns; problem rows go to `problems`.

    The batch holds the log's own columns (`layout`), then `t` and what is not read from the
    log's own columns (`problem`, `phone`, texts), prefixed `__og_`; its rows are the log's
    from `start` on.
    """
    names = batch.schema.names
    own = list(batch.columns[: layout.own])
    texts: dict[str, pa.Array] = {}
    t = _times(batch, own, layout)
    problem = pa.nulls(batch.num_rows, pa.string())
    if "phone" in layout.from_own:
        phone, problem = _checked(own, layout, t)
    else:
        phone = batch.column(names.index("__og_phone"))
    if "__og_problem" in names:  # what the query found (after the phone and time, if here)
        problem = pc.coalesce(problem, batch.column(names.index("__og_problem")))
    automated = None
    for name in (*CODED, "call_type"):
        if name not in layout.from_own:
            computed = "automated" if name == "call_type" else name
            texts[name] = batch.column(names.index(f"__og_{computed}"))
            continue
        i = layout.from_own[name]
        encoded = own[i] = pc.dictionary_encode(own[i])
        if name == "call_type":
            automated, problem = _call_types(encoded, problem)
            continue
        values = _trimmed(encoded.dictionary)
        if name != "controller":
            texts[name] = _recoded(encoded, values)
            continue
        default = layout.controller
        texts[name] = _recoded(encoded, pc.fill_null(values, default), missing=default)
    rid = pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64))
    if problem.null_count < len(problem):
        bad = pc.is_valid(problem)
        problems.append(
            pa.record_batch([rid.filter(bad), problem.filter(bad)], names=["rid", "problem"])
        )
    texts["purpose"] = batch.column(names.index("__og_purpose"))
    columns = {  # copies: a column read from DuckDB would keep its whole batch alive
        "rid": rid,
        "ok": pc.is_null(problem),
        "t": _copy(t),
        "automated": _copy(automated if automated is not None else texts.pop("call_type")),
    }
    for name in (*CODED, "purpose"):
        text = texts[name]
        columns[name] = text if pa.types.is_dictionary(text.type) else pc.dictionary_encode(text)
    for name in SK_TEXTS:
        columns[name] = pc.dictionary_encode(batch.column(names.index(f"__og_{name}")))
    columns |= _normalized(phone, region)
    kept = None
    if layout.own:
        schema = pa.schema([pa.field(n, c.type) for n, c in zip(names, own, strict=False)])
        kept = pa.record_batch([_copy(c) for c in own], schema=schema)
    return pa.record_batch(list(columns.values()), names=list(columns)), kept


def _placed(reader: pa.RecordBatchReader) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Each batch with the number of rows before it."""
    start = 0
    for batch in reader:
        yield batch, start
        start += batch.num_rows


def read_requests(
    reader: pa.RecordBatchReader, *, region: str, layout: Layout
) -> tuple[Requests, pa.Table | None]:
    """Build `Requests` from the log's rows, read in batches; keep the log's own columns.

    Args:
        reader: Batches of the log's rows in order: the log's own columns (`layout`), then
            `t` and what is not read from the log's own columns (`problem` as far as the
            query finds it, `phone`, the texts, `automated` unless the call type is read
            here), prefixed `__og_`, texts trimmed and NULL when empty.
        region: The default region for numbers written without a country code.
        layout: Which columns are the log's own, and which texts are read from them.

    Returns:
        The requests, and the log's own columns (None when it has none), the texts read
        from them dictionary-encoded.
    """
    problems: list[pa.RecordBatch] = []

    def code(placed: tuple[pa.RecordBatch, int]) -> tuple[pa.RecordBatch, pa.RecordBatch | None]:
        return _coded(*placed, layout, region, problems)

    # Batches are normalized on worker threads while DuckDB reads the next ones (both let go
    # of the GIL for most of their work); a few in flight at most, to bound memory.
    workers = min(_MAX_WORKERS, threads())
    with Pipeline(code, name="optin-gate-requests", workers=workers, ahead=workers) as line:
        line.feed(_placed(reader))
        done = line.results()
    if not done:
        done.append(
            _coded(pa.RecordBatch.from_pylist([], schema=reader.schema), 0, layout, region, [])
        )
    batches = [coded for coded, _ in done]
    kept = [own_batch for _, own_batch in done if own_batch is not None]
    del done
    table = pa.Table.from_batches(batches).unify_dictionaries()
    del batches
    dictionaries = {}
    for name in (*CODED, "purpose", *NUMBER_CODED):
        chunks = table.column(name).chunks
        codes = pa.chunked_array([c.indices.cast(pa.int32()) for c in chunks], type=pa.int32())
        table = table.set_column(table.schema.get_field_index(name), name, codes)
        values = chunks[0].dictionary if chunks else pa.array([], pa.string())
        dictionaries[name] = pa.table(
            {"code": pa.array(range(len(values)), pa.int32()), "text": values}
        )
    schema = pa.schema([("rid", pa.int64()), ("problem", pa.string())])
    requests = Requests(table, dictionaries, pa.Table.from_batches(problems, schema=schema))
    return requests, pa.Table.from_batches(kept) if layout.own else None

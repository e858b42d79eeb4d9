"""The calls as the decision query reads them: one compact Arrow table, numbers normalized.

The log's rows arrive from DuckDB in batches, in the log's order (position `rid`, the problem
that keeps a row from being judged, the time, and the texts: controller, campaign, agent,
phone). Each batch is normalized (`optin_gate.numbers.table.normalize_keys`) and its texts
replaced by small integer codes into one dictionary per column, so that neither the decision
query nor the decided table carries millions of strings. Memory stays at a batch of strings at
a time.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.numbers.table import normalize_keys

__all__ = ["CODED", "NUMBER_CODED", "Requests", "read_requests"]

# The text columns replaced by codes (int32 into `Requests.dictionaries[name]`): the log's,
# then the number's.
CODED = ("controller", "campaign", "agent")
NUMBER_CODED = ("country", "number_type")
_WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclasses.dataclass
class Requests:
    """The calls ready for the decision query.

    Attributes:
        table: One row per log row, in order: `rid`, `ok` (the row can be judged), `t`,
            `automated`, the `CODED` columns as int32 codes (NULL for an empty text), and
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


def _coded(batch: pa.RecordBatch, region: str, problems: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch of the log as requests; its problem rows appended to `problems`."""
    problem = batch.column("problem")
    if problem.null_count < len(problem):
        bad = pc.is_valid(problem)
        problems.append(
            pa.record_batch(
                [batch.column("rid").filter(bad), problem.filter(bad)], names=["rid", "problem"]
            )
        )
    columns = {  # copies: a column read from DuckDB would keep its whole batch alive
        "rid": _copy(batch.column("rid")),
        "ok": pc.is_null(problem),
        "t": _copy(batch.column("t")),
        "automated": _copy(batch.column("automated")),
    }
    for name in CODED:
        columns[name] = pc.dictionary_encode(batch.column(name))
    columns |= _normalized(batch.column("phone"), region)
    return pa.record_batch(list(columns.values()), names=list(columns))


def read_requests(reader: pa.RecordBatchReader, *, region: str) -> Requests:
    """Build `Requests` from the log's rows, read in batches.

    Args:
        reader: Batches with `rid, problem, t, automated, controller, campaign, agent, phone`
            (the texts trimmed, NULL when empty), in the log's order.
        region: The default region for numbers written without a country code.
    """
    problems: list[pa.RecordBatch] = []
    batches: list[pa.RecordBatch] = []
    # Batches are normalized on worker threads while DuckDB reads the next ones (both let go
    # of the GIL for most of their work); a few in flight at most, to bound memory.
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        pending: deque[Future[pa.RecordBatch]] = deque()
        for batch in reader:
            pending.append(pool.submit(_coded, batch, region, problems))
            if len(pending) > _WORKERS:
                batches.append(pending.popleft().result())
        batches.extend(f.result() for f in pending)
    if not batches:
        batches = [_coded(pa.RecordBatch.from_pylist([], schema=reader.schema), region, [])]
    table = pa.Table.from_batches(batches).unify_dictionaries()
    del batches
    dictionaries = {}
    for name in (*CODED, *NUMBER_CODED):
        chunks = table.column(name).chunks
        codes = pa.chunked_array([c.indices.cast(pa.int32()) for c in chunks], type=pa.int32())
        table = table.set_column(table.schema.get_field_index(name), name, codes)
        values = chunks[0].dictionary if chunks else pa.array([], pa.string())
        dictionaries[name] = pa.table(
            {"code": pa.array(range(len(values)), pa.int32()), "text": values}
        )
    schema = pa.schema([("rid", pa.int64()), ("problem", pa.string())])
    return Requests(table, dictionaries, pa.Table.from_batches(problems, schema=schema))

"""The audit's decision query: every call decided as of its own time, one row per call.

A call log is the case the filter's decision query is not shaped for: nearly every call has its
own (number, time, controller), so deciding "once per distinct key" and joining the decisions
back on four keys costs more than deciding each call where it stands. Here every call keeps its
row, keyed by its position `rid`:

1. the calls arrive as one compact Arrow table (`audit.requests`: numbers normalized, texts
   as small codes);
2. the evidence is cut into per-(phone, controller) segments of constant facts (Arrow, built
   while the log is read) and the call hours are settled once each (`optin_gate.store.asof`:
   `timeline_sql`, `hours_sql`, the snapshot found with an ASOF join);
3. one streamed query looks up the as-of facts of every call (`with_facts_sql`: three hash
   joins, nothing aggregated per call, only directory rows whose mark can change a decision);
   the rows are put back in the log's order and each call's facts packed into a shape code
   (`optin_gate.rules.shapes.ShapeCodec`, numpy);
4. the shape codec decides each distinct shape once with the rules `filter` applies, and
   every call takes its shape's decision.

The decided table keeps unusable rows too (their decision NULL), so that it lines up row for
row with the log: the log's own columns and the decisions are put side by side as one Arrow
table (no join), and the violations file is a filtered scan of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._sql import sql_literal
from optin_gate.audit.purposes import call_notes, with_purposes
from optin_gate.audit.requests import CODED, Requests
from optin_gate.audit.settings import streaming
from optin_gate.context import caller_line_0888
from optin_gate.engine import decisive_marks
from optin_gate.errors import StoreError
from optin_gate.numbers.batch import REGION_NAMES
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.policy import Policy
from optin_gate.rules.shapes import ID_FIELDS, ShapeCodec, mark_sql, number_code, register_sql
from optin_gate.store.asof import hours_sql, timeline_sql, with_facts_sql
from optin_gate.store.semantics import Semantics, register_effective_sql, sector_key

__all__ = [
    "DECIDED_COLUMNS",
    "Evidence",
    "decide_calls",
    "e164_sql",
    "evidence_sql",
    "prepare_evidence",
]

Step = Callable[[str], None]
_names = itertools.count()
_BATCH = 1_000_000


# The decided table: one row per row of the log, in the log's order (`rid` = position).
# The decision columns are NULL for an unusable row.
DECIDED_COLUMNS: dict[str, str] = {
    "rid": "BIGINT",
    "t": "TIMESTAMPTZ",  # when the call was made
    "controller": "INTEGER",  # code into `Requests.dictionaries["controller"]`
    "campaign": "INTEGER",  # code, likewise (NULL when the log names none)
    "agent": "INTEGER",  # code, likewise
    "phone": "BIGINT",  # the number's key: E.164 without "+"; NULL unless valid
    "shape": "INTEGER",  # which decided shape (`decide_calls`' shapes) the call has
    "outcome": "INTEGER",  # which (reason, allowed) pair: few values, for grouping
    "allowed": "BOOLEAN",
    "reason": "VARCHAR",
    "rule_set": "VARCHAR",
    "ev_field": "TINYINT",  # 0: the evidence is ev_before; i: ev_before, ID_FIELDS[i-1], ev_after
    "ev_before": "VARCHAR",
    "ev_after": "VARCHAR",
    "objection_id": "VARCHAR",  # the ids in force (the evidence names at most one)
    "consent_id": "VARCHAR",
    "contract_id": "VARCHAR",
    "note": "VARCHAR",  # why a consent held did not count (`purposes.call_notes`)
}


def e164_sql(key: str) -> str:
    """SQL: the E.164 text of a phone key column (NULL stays NULL)."""
    return f"('+' || CAST({key} AS VARCHAR))"


def evidence_sql(d: str, prefix: str = "") -> str:
    """SQL: the evidence text of the decided row `d` (its columns named `prefix` + name)."""
    p = f"{d}.{prefix}"
    ids = " ".join(
        f"WHEN {i} THEN {p}ev_before || {p}{f} || {p}ev_after"
        for i, f in enumerate(ID_FIELDS, start=1)
    )
    return f"(CASE {p}ev_field {ids} ELSE {p}ev_before END)"


@contextlib.contextmanager
def _probing_with_calls(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep the calls on the probe side of every join of the block.

    DuckDB's estimates may have it build its hash tables on the millions of calls instead of
    the evidence; with the join order as written, the evidence (timeline, directory, hours)
    is built and the calls stream through.
    """
    ((before,),) = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()
    off = ",".join(filter(None, [str(before), "build_side_probe_side"]))
    con.execute(f"SET disabled_optimizers = {sql_literal(off)}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {sql_literal(str(before))}")


def _temp(con: duckdb.DuckDBPyConnection, name: str, sql: str, temps: list[str]) -> str:
    con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
    temps.append(name)
    return name


def _marks(con: duckdb.DuckDBPyConnection, policy: Policy) -> tuple[str, ...]:
    """The directory marks that can change a decision.

    The rest decide as no entry (`engine.facts.decisive_marks`).
    """
    marks = decisive_marks(policy)
    if marks is None:
        rows = con.execute("SELECT DISTINCT marketing FROM directory ORDER BY 1").fetchall()
        marks = tuple(str(m[0]) for m in rows)
    return marks


def _directory_sql(marks: tuple[str, ...]) -> str:
    """SQL: the directory rows with a decisive mark, the mark as its code (`mark_sql`)."""
    if not marks:
        return (
            "(SELECT phone, valid_from, valid_to, NULL::TINYINT AS marketing "
            "FROM directory WHERE FALSE)"
        )
    listed = ", ".join(sql_literal(m) for m in marks)
    return (
        f"(SELECT phone, valid_from, valid_to, {mark_sql('marketing', marks)} AS marketing "
        f"FROM directory WHERE marketing IN ({listed}))"
    )


def _indices(texts: pa.Table, names: tuple[str, ...]) -> np.ndarray:
    """Per dictionary code: the index of its text in `names` (-1 past the end, for none)."""
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[t] for t in texts.column("text").to_pylist()] + [-1], np.int16)


def _packed(codec: ShapeCodec, requests: Requests, placed: pa.Table, sk: np.ndarray) -> pa.Array:
    """Each call's packed shape (NULL for a row that cannot be judged), in the log's order.

    The call's own facts come from the requests, the looked-up ones from `placed`, the
    Slovak part (`shapes.sk_part`) from `sk`.
    """
    calls = requests.table

    def values(column: pa.ChunkedArray, fill: object) -> np.ndarray:
        return np.asarray(pc.fill_null(column, fill).to_numpy())

    flags = np.zeros(calls.num_rows, np.int8)
    for i, field in enumerate(ID_FIELDS):
        flags |= values(pc.is_valid(placed.column(field)), False).astype(np.int8) << i
    regions = _indices(requests.dictionaries["country"], REGION_NAMES)
    kinds = _indices(requests.dictionaries["number_type"], TYPE_CODES)
    number = number_code(
        values(calls.column("valid"), False),
        regions[values(calls.column("country"), -1)],
        kinds[values(calls.column("number_type"), -1)],
    )
    day = values(placed.column("t_day").cast(pa.int32()), 0).astype(np.int64)
    automated = values(calls.column("automated"), True)
    mark = values(placed.column("mark"), 0)
    ok = values(calls.column("ok"), False)
    # A row that cannot be judged packs as the first day: its code is masked anyway.
    day = np.where(ok, day, codec.day_of(codec.first_day))
    code = codec.pack(day, automated, number, flags, mark, sk)
    return pa.array(code, pa.int64(), mask=~ok)


def _per_text(column: pa.ChunkedArray, of: Callable[[str], object], kind: pa.DataType) -> pa.Array:
    """`of` of each row's text (a dictionary-encoded column: once per distinct text)."""
    chunks = []
    for chunk in column.chunks:
        values = pa.array([of(v) for v in chunk.dictionary.to_pylist()], kind)
        chunks.append(pc.take(values, chunk.indices))
    return pa.chunked_array(chunks, kind).combine_chunks() if chunks else pa.array([], kind)


def _sk_parts(
    con: duckdb.DuckDBPyConnection,
    codec: ShapeCodec,
    requests: Requests,
    placed: pa.Table,
    policy: Policy,
) -> np.ndarray:
    """Per call, its Slovak part (`shapes.sk_part`): the calling line and the list.

    Only Slovak numbers' calls look the list up: the release in force on the call's day
    (an ASOF join), whether it blocks the call's sector, and whether the consent in force
    was granted after the registration took effect (`store.semantics`).
    """
    calls = requests.table
    caller = _per_text(calls.column("caller_id"), caller_line_0888, pa.bool_())
    sk = np.asarray(pc.fill_null(caller, False).to_numpy(zero_copy_only=False), np.int64)
    countries = requests.dictionaries["country"].column("text").to_pylist()
    if "SK" not in countries or not codec.releases:
        return sk
    slovak = pc.and_(
        pc.fill_null(pc.equal(calls.column("country"), countries.index("SK")), False),
        pc.fill_null(calls.column("ok"), False),
    )
    rows = np.flatnonzero(np.asarray(slovak.to_numpy(zero_copy_only=False)))
    if not len(rows):
        return sk
    taken = pa.array(rows)
    names = requests.dictionaries["controller"].column("text")
    controller = pc.take(names, pc.take(calls.column("controller"), taken))
    sector = _per_text(calls.column("sector"), sector_key, pa.string())
    table = pa.table(
        {
            "i": taken,
            "phone": pc.take(calls.column("phone"), taken),
            "t_day": pc.take(placed.column("t_day"), taken),
            "controller": controller,
            "consent_id": pc.take(placed.column("consent_id"), taken),
            "sector": pc.take(sector, taken),
        }
    )
    meaning = Semantics.of(policy)
    blocks = meaning.register_blocks_sql("r.registered", "r.sectors", "c.sector")
    view = f"og_audit_sk_{next(_names)}"
    con.register(view, table)
    try:
        found = con.sql(
            f"""
            SELECT i, {register_sql("register_date", "blocks", "before", codec.releases)} AS part
            FROM (
                SELECT c.i, r.release_date AS register_date, {blocks} AS blocks,
                       {meaning.consent_before_sql(blocks, "g.granted_at", "r.effective")} AS before
                FROM {view} c
                ASOF LEFT JOIN ({register_effective_sql()}) r
                    ON c.phone = r.phone AND c.t_day >= r.release_date
                LEFT JOIN consents_current g
                    ON g.consent_id = c.consent_id AND g.controller = c.controller
            )
            """
        ).fetchnumpy()
    finally:
        con.unregister(view)
    sk[np.asarray(found["i"], np.int64)] += 2 * np.asarray(found["part"], np.int64)
    return sk


def _positions(rows: int) -> pa.Array:
    return pa.array(np.arange(rows, dtype=np.int32))


def _in_log_order(batches: list[pa.RecordBatch], schema: pa.Schema, rows: int) -> pa.Table:
    """The decided batches (in no set order) as one table in the log's order, by `rid`.

    Returns the columns other than `rid`. When the rows come in order already, as is; else
    column by column, each source column let go once placed: memory holds one extra column,
    not a second table. Empties `batches`.
    """
    table = pa.Table.from_batches(batches, schema=schema)
    batches.clear()
    if table.num_rows != rows:
        raise StoreError(
            "the evidence store answers twice for one call (a directory snapshot lists a "
            "number twice?)",
            hint="reload the directory snapshot; if it persists, report it as a bug",
        )
    rid = table.column("rid").to_numpy()
    table = table.drop_columns(["rid"])
    if rows < 2 or bool(np.all(rid[1:] > rid[:-1])):  # DuckDB kept the order (it mostly does)
        return table
    order = np.empty(rows, np.int64)
    order[rid] = np.arange(rows, dtype=np.int64)
    del rid
    placed = {}
    for name in table.column_names:
        placed[name] = table.column(name).take(order)
        table = table.drop_columns([name])
    pa.default_memory_pool().release_unused()
    return pa.table(placed)


@dataclasses.dataclass
class Evidence:
    """The store's evidence cut into timelines (`store.asof.timeline_sql`), as Arrow.

    Built for every controller the store names; calls of any other controller use key 0
    (objections for all controllers). Arrow rather than a temp table, so that it can be built
    on a cursor of its own while the log is read, and registered on the audit's connection.

    Attributes:
        table: The timelines.
        keys: Controller name -> its key in `table`.
        timeline: The name `table` is registered under (`register`).
    """

    table: pa.Table
    keys: dict[str, int]
    timeline: str = ""

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Register the timelines on `con` as `timeline`."""
        self.timeline = f"og_audit_tl_{next(_names)}"
        con.register(self.timeline, self.table)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Unregister the timelines."""
        if self.timeline:
            con.unregister(self.timeline)


def prepare_evidence(con: duckdb.DuckDBPyConnection, policy: Policy) -> Evidence:
    """Cut the store's evidence into timelines (see `Evidence`); `con` may be a cursor."""
    names = con.execute(
        "SELECT DISTINCT controller FROM (SELECT controller FROM consents_current "
        "UNION ALL SELECT controller FROM contracts_current "
        "UNION ALL SELECT controller FROM objections) WHERE controller IS NOT NULL ORDER BY 1"
    ).fetchall()
    keys = {str(name): i for i, (name,) in enumerate(names, start=1)}
    controllers = f"og_audit_keys_{next(_names)}"
    con.register(
        controllers,
        pa.table({"controller": list(keys), "ckey": pa.array(keys.values(), pa.int32())}),
    )
    try:
        sql = timeline_sql(controllers, policy, key="ckey", others="0")
        table = con.sql(sql).to_arrow_table()
    finally:
        con.unregister(controllers)
    return Evidence(table, keys)


def decide_calls(
    con: duckdb.DuckDBPyConnection,
    requests: Requests,
    evidence: Evidence,
    *,
    policy: Policy,
    step: Step | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Decide every call: the decided rows (`DECIDED_COLUMNS`, in the log's order) and shapes.

    The shapes are `ShapeCodec.decide_table`'s table with `outcome` and `shape`, the number
    the decided rows refer to them by.

    Args:
        con: A store connection (the evidence tables visible), writable temp schema.
        requests: The calls (registered here only while they are decided).
        evidence: The store's timelines.
        policy: The policy the facts and the rules are bound to.
        step: Called with a short label as each phase starts.

    Raises:
        StoreError: The store answered twice for one call (a number listed twice in one
            directory snapshot): the decisions would not be one per call.
    """
    say = step or (lambda label: None)
    n, rows = next(_names), requests.table.num_rows
    req = f"og_audit_req_{n}"
    temps: list[str] = []
    names = requests.dictionaries["controller"].column("text").to_pylist()
    tl_key, timeline = _timelines(con, requests, evidence, names, policy=policy)
    keyed = requests.table.append_column("tl_key", tl_key)
    con.register(req, keyed)
    del keyed, tl_key
    try:
        say("looking up the evidence")
        usable = f"(SELECT t FROM {req} WHERE ok)"
        hours = _temp(con, f"og_audit_hours_{n}", hours_sql(usable), temps)
        say("deciding every call")
        marks = _marks(con, policy)
        days = con.execute(f"SELECT DISTINCT t_day, directory_date FROM {hours}").fetchall()
        releases = con.execute("SELECT DISTINCT release_date FROM sk_register").fetchall()
        codec = ShapeCodec.for_days(marks, dict(days), [d for (d,) in releases])
        calls = f"(SELECT rid, t, tl_key AS controller, phone FROM {req})"
        facts = with_facts_sql(
            calls, hours=hours, timeline=timeline, directory=_directory_sql(marks)
        )
        ids = ", ".join(ID_FIELDS)
        with _probing_with_calls(con), streaming(con):
            reader = con.sql(
                f"SELECT rid, t_day, directory_marketing AS mark, {ids} FROM ({facts})"
            ).to_arrow_reader(batch_size=_BATCH)
            # kept as DuckDB hands them over: every column is placed (or kept) whole
            batches, schema = list(reader), reader.schema
            del reader
    finally:
        con.unregister(req)
        if timeline != evidence.timeline:
            con.unregister(timeline)
        for temp in temps:
            with contextlib.suppress(Exception):
                con.execute(f"DROP TABLE IF EXISTS {temp}")
    placed = _in_log_order(batches, schema, rows)
    placed = placed.append_column("note", _notes(con, requests, placed, names, policy=policy))
    packed = _packed(codec, requests, placed, _sk_parts(con, codec, requests, placed, policy))
    distinct = pc.unique(packed).drop_null().to_numpy(zero_copy_only=False)
    shapes = codec.decide_table(np.sort(distinct).astype(np.int64), policy)
    # each row's index into `shapes` by its code (NULL stays NULL)
    index = pa.chunked_array(
        [pc.index_in(packed, value_set=shapes.column("code").combine_chunks())]
    )
    del packed
    # The calls' own columns are already in the log's order: kept as they are.
    table = requests.table.select(["rid", "t", *CODED, "phone"])
    requests.release()
    # The (reason, allowed) outcome as a small number too: the figures group by it.
    outcomes = pc.dictionary_encode(
        pc.binary_join_element_wise(
            shapes.column("reason"), pc.cast(shapes.column("allowed"), pa.string()), "|"
        )
    ).combine_chunks()
    shapes = shapes.append_column("outcome", outcomes.indices)
    per_shape = {
        "shape": index,
        "outcome": pc.take(shapes.column("outcome"), index),
        "allowed": pc.take(shapes.column("allowed"), index),
    }
    for column in ("reason", "rule_set", "ev_before", "ev_after"):  # no copies: codes
        values = shapes.column(column).combine_chunks()
        per_shape[column] = pa.chunked_array(
            [pa.DictionaryArray.from_arrays(chunk, values) for chunk in index.chunks],
            pa.dictionary(pa.int32(), values.type),
        )
    per_shape["ev_field"] = pc.take(shapes.column("ev_field"), index)
    for column, values in per_shape.items():
        table = table.append_column(column, values)
    for column in (*ID_FIELDS, "note"):
        table = table.append_column(column, placed.column(column))
    return table, shapes.append_column("shape", _positions(shapes.num_rows))


def _purposes(requests: Requests) -> pa.Array:
    """The purpose keys the calls' `purpose` codes stand for."""
    return requests.dictionaries["purpose"].column("text").combine_chunks()


def _timelines(
    con: duckdb.DuckDBPyConnection,
    requests: Requests,
    evidence: Evidence,
    names: list[str],
    *,
    policy: Policy,
) -> tuple[pa.Array, str]:
    """Each call's timeline key, and the registered timelines to look it up in.

    The controllers' timelines (`evidence`), with those of the (controller, purpose) pairs
    the calls name beside them when any call names a purpose (`purposes.with_purposes`).
    """
    to_key = pa.array([evidence.keys.get(name, 0) for name in names], pa.int32())
    tl_key, pairs = with_purposes(
        con,
        keys=evidence.keys,
        tl_key=pc.take(to_key, requests.table["controller"]).combine_chunks(),
        purposes=requests.table["purpose"],
        purpose_texts=_purposes(requests),
        policy=policy,
    )
    if pairs is None:
        return tl_key, evidence.timeline
    timeline = f"og_audit_pair_tl_{next(_names)}"
    con.register(timeline, pa.concat_tables([evidence.table, pairs.cast(evidence.table.schema)]))
    return tl_key, timeline


def _notes(
    con: duckdb.DuckDBPyConnection,
    requests: Requests,
    placed: pa.Table,
    names: list[str],
    *,
    policy: Policy,
) -> pa.Array:
    """Each call's note (`purposes.call_notes`), for the calls no consent counted for."""
    calls = requests.table
    open_ = pc.and_(
        pc.and_(calls["ok"], pc.is_valid(calls["phone"])), pc.is_null(placed["consent_id"])
    )
    asked = calls.select(["rid", "t", "phone", "controller", "purpose"]).filter(open_)
    return call_notes(
        con,
        asked,
        controllers=pa.array(names, pa.string()),
        purposes=_purposes(requests),
        policy=policy,
        rows=calls.num_rows,
    )

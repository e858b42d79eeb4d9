"""The audit's decisions: every call decided as of its own time, one row per call.

A call log is the case the filter's decision query is not shaped for: nearly every call has its
own (number, time, controller), so deciding "once per distinct key" and joining the decisions
back on four keys costs more than deciding each call where it stands. Here every call keeps its
row, keyed by its position `rid`:

1. the calls arrive as one compact Arrow table (`audit.requests`: numbers normalized, texts
   as small codes);
2. the call hours are settled once each (`optin_gate.store.asof.hours_sql`: the Prague day
   and the directory snapshot in force);
3. each call finds the records in force at its own time in the dial indexes built while the
   log was read (`audit.lookup`, compiled), and its facts are packed into a shape code
   (`optin_gate.rules.shapes.ShapeCodec`, numpy);
4. the shape codec decides each distinct shape once with the rules `filter` applies, and
   every call takes its shape's decision.

The decided table keeps unusable rows too (their decision NULL), so that it lines up row for
row with the log: the log's own columns and the decisions are put side by side as one Arrow
table (no join), and the violations file is a filtered scan of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.audit.lookup import Evidence, look_up
from optin_gate.audit.purposes import call_notes
from optin_gate.audit.requests import CODED, Requests
from optin_gate.context import caller_line_0888
from optin_gate.engine import decisive_marks
from optin_gate.numbers.batch import REGION_NAMES
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.policy import Policy
from optin_gate.rules.shapes import ID_FIELDS, ShapeCodec, number_code, register_sql
from optin_gate.store.asof import hours_sql
from optin_gate.store.semantics import Semantics, register_effective_sql, sector_key

__all__ = ["DECIDED_COLUMNS", "decide_calls", "e164_sql", "evidence_sql"]

Step = Callable[[str], None]
_names = itertools.count()


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


def _marks(con: duckdb.DuckDBPyConnection, policy: Policy) -> tuple[str, ...]:
    """The directory marks that can change a decision.

    The rest decide as no entry (`engine.facts.decisive_marks`).
    """
    marks = decisive_marks(policy)
    if marks is None:
        rows = con.execute("SELECT DISTINCT marketing FROM directory ORDER BY 1").fetchall()
        marks = tuple(str(m[0]) for m in rows)
    return marks


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
        requests: The calls.
        evidence: The store's evidence as dial indexes (`lookup.prepare_evidence`).
        policy: The policy the facts and the rules are bound to.
        step: Called with a short label as each phase starts.
    """
    say = step or (lambda label: None)
    say("looking up the evidence")
    req = f"og_audit_req_{next(_names)}"
    con.register(req, requests.table.select(["ok", "t"]))
    try:
        hours = con.sql(hours_sql(f"(SELECT t FROM {req} WHERE ok)")).to_arrow_table()
    finally:
        con.unregister(req)
    marks = _marks(con, policy)
    days = set(zip(hours["t_day"].to_pylist(), hours["directory_date"].to_pylist(), strict=True))
    releases = con.execute("SELECT DISTINCT release_date FROM sk_register").fetchall()
    codec = ShapeCodec.for_days(marks, dict(days), [d for (d,) in releases])
    found = look_up(con, requests, evidence, hours=hours, marks=codec.marks)
    say("deciding every call")
    placed = found.facts
    names = requests.dictionaries["controller"].column("text").to_pylist()
    note = _notes(con, requests, found.held, names, policy=policy)
    placed = placed.append_column("note", note)
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


def _notes(
    con: duckdb.DuckDBPyConnection,
    requests: Requests,
    held: np.ndarray,
    names: list[str],
    *,
    policy: Policy,
) -> pa.Array:
    """Each call's note (`purposes.call_notes`); only a call `held` can have one.

    `held`: the call's number has consents of its controller, none holding at its time.
    """
    calls = requests.table
    asked = calls.select(["rid", "t", "phone", "controller", "purpose"]).filter(pa.array(held))
    return call_notes(
        con,
        asked,
        controllers=pa.array(names, pa.string()),
        purposes=_purposes(requests),
        policy=policy,
        rows=calls.num_rows,
    )

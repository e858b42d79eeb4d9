"""The filter's outcomes: every shape a run can form decided once, rows only look theirs up.

The filter decides a whole list at one time, for one controller and one call type, so of a
row's facts only these vary: the number's (valid, country, number_type), which ids are present
and the directory mark. `NumberCodes` turns the first three into the shape codec's number code
as the numbers are normalized (arithmetic per batch, no strings) and notes which occur. Every
shape those numbers can form is packed and decided up front by the shape codec
(`optin_gate.rules.shapes.ShapeCodec`); a row's shape is then its packed code
(`ShapeCodec.pack_sql`, or the same arithmetic in `engine.lookup`) and one join with that
small table.

Shapes with the same decision share an *outcome*: the decided table stores a row's outcome
(a byte) and the id its evidence names; `Outcomes` spells them out as text only when rows are
written, so millions of rows never carry reason, evidence or rule-set text through the joins.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate._sql import sql_literal
from optin_gate.numbers._arrow import fixed_array
from optin_gate.numbers.table import KeyCodes
from optin_gate.policy import Policy
from optin_gate.rules import Reason
from optin_gate.rules.shapes import (
    FLAGS,
    ID_FIELDS,
    SK_NUMBERS,
    ShapeCodec,
    number_code,
    sk_part,
)

__all__ = ["NumberCodes", "Outcomes", "decide_shapes", "decided_sql"]


class NumberCodes:
    """The number codes (`rules.shapes.number_code`) of normalized numbers, and which occur.

    Shared by the batches of one run (they may be encoded on a worker thread).
    """

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    @property
    def numbers(self) -> list[int]:
        """The number codes the encoded batches hold, ascending."""
        with self._lock:
            return sorted(self._seen)

    def encode(self, codes: KeyCodes) -> pa.Array:
        """Each row's number code (int16), from the numbers' codes of one batch."""
        coded = number_code(
            codes.valid, codes.region.astype(np.int16), codes.type_code.astype(np.int16)
        ).astype(np.int16)
        seen = np.flatnonzero(np.bincount(coded, minlength=1)).tolist()
        with self._lock:
            self._seen.update(seen)
        return pa.Array.from_buffers(pa.int16(), len(coded), [None, pa.py_buffer(coded)])


def decided_sql(relation: str, keys: tuple[str, ...], outcomes: Outcomes) -> str:
    """SQL: each row of `relation` with its shape's outcome and the id its evidence names.

    Args:
        relation: A parenthesised query with the keys, `n`, `phone`, `num` (`NumberCodes`),
            the three ids, `directory_mark` (`rules.shapes.mark_sql` over the codec's
            marks) and `register` (`rules.shapes.register_part`).
        keys: The key columns to keep.
        outcomes: The run's outcomes (`decide_shapes`); `Outcomes.shapes` is joined.

    Returns:
        SQL giving the keys, `n` (INTEGER), `phone`, `outcome` and `evidence` (the bare id).
    """
    named = " ".join(f"WHEN {i} THEN f.{f}" for i, f in enumerate(ID_FIELDS, start=1))
    codec = outcomes.codec
    day = str(codec.day_of(codec.first_day))
    automated = "TRUE" if outcomes.automated else "FALSE"
    sk = f"({int(outcomes.caller)} + 2 * coalesce(register, 0))"
    code = codec.pack_sql(day, automated, "num", ID_FIELDS, "directory_mark", sk)
    return (
        f"SELECT {''.join(f'f.{k}, ' for k in keys)}CAST(f.n AS INTEGER) AS n, f.phone, "
        f"s.outcome, CASE s.ev_field {named} END AS evidence "
        f"FROM (SELECT *, {code} AS code FROM {relation}) f "
        f"JOIN {outcomes.shapes} s ON s.code = f.code"
    )


_names = itertools.count()


@dataclasses.dataclass(frozen=True)
class Outcomes:
    """The distinct decisions of one run, numbered; how to spell a decided row out.

    Attributes:
        rows: Per outcome: (reason, rule_set, ev_field, ev_before, ev_after), see
            `optin_gate.rules.shapes.Decided`.
        shapes: A temp table on the connection: `code`, `outcome`, `ev_field` per shape.
        table: The same shapes as Arrow.
        codec: How the run's shapes are packed (one day: the run's).
        automated: The run's call type is not "live".
        caller: The run's calling line is a +421 888 number.
    """

    rows: tuple[tuple[Reason, str, int, str | None, str | None], ...]
    shapes: str
    table: pa.Table
    codec: ShapeCodec
    automated: bool
    caller: bool = False

    @property
    def prefix(self) -> int:
        """The part of every row's code that the run fixes, added to its number code."""
        codec = self.codec
        return int(codec.prefix(codec.day_of(codec.first_day), self.automated))

    def reason(self, outcome: int) -> Reason:
        """The reason of an outcome number."""
        return self.rows[outcome][0]

    def allowed(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per outcome number: it allows the call."""
        return np.array([row[0].allowed for row in self.rows], dtype=np.bool_)

    def allowed_sql(self, alias: str = "d", prefix: str = "") -> str:
        """SQL: the decided row `alias` allows the call (never NULL)."""
        allowing = [str(i) for i, row in enumerate(self.rows) if row[0].allowed]
        if not allowing:
            return "FALSE"
        return f"coalesce({alias}.{prefix}outcome IN ({', '.join(allowing)}), FALSE)"

    def columns_sql(self, alias: str = "d", prefix: str = "") -> str:
        """SQL for `e164, allowed, reason, evidence, rule_set` from a decided row `alias`.

        `prefix` starts the names of the decided columns (`phone`, `outcome`, `evidence`)
        where they sit beside a list's own columns.
        """
        d = f"{alias}.{prefix}"
        reasons, evidence, labels = [], [], []
        for i, (reason, rule_set, ev_field, before, after) in enumerate(self.rows):
            reasons.append(f"WHEN {i} THEN {sql_literal(reason.value)}")
            labels.append(f"WHEN {i} THEN {sql_literal(rule_set)}")
            if ev_field:
                evidence.append(
                    f"WHEN {i} THEN {sql_literal(before or '')} || {d}evidence"
                    f" || {sql_literal(after or '')}"
                )
            elif before is not None:
                evidence.append(f"WHEN {i} THEN {sql_literal(before)}")

        def case(whens: list[str]) -> str:
            return f"CASE {d}outcome {' '.join(whens)} END" if whens else "CAST(NULL AS VARCHAR)"

        return (
            f"'+' || CAST({d}phone AS VARCHAR) AS e164, "
            f"{self.allowed_sql(alias, prefix)} AS allowed, "
            f"{case(reasons)} AS reason, "
            f"{case(evidence)} AS evidence, "
            f"{case(labels)} AS rule_set"
        )


def decide_shapes(
    con: duckdb.DuckDBPyConnection,
    numbers: NumberCodes,
    codec: ShapeCodec,
    *,
    automated: bool,
    policy: Policy,
    caller: bool = False,
) -> Outcomes:
    """Decide every shape the run's numbers can form; store them as a temp table.

    Args:
        con: The run's connection.
        numbers: The number codes the run's rows hold.
        codec: The run's codec: its first day is the run's day.
        automated: The run's call type is not "live".
        policy: The policy the rules are bound to.
        caller: The run's calling line is a +421 888 number.

    Returns:
        The run's `Outcomes`; `Outcomes.shapes` names the temp table (the caller drops it).
    """
    flags = np.arange(FLAGS, dtype=np.int64)[:, None, None]
    mark = np.arange(codec.mark_radix, dtype=np.int64)[:, None]
    day = codec.day_of(codec.first_day)
    # Only Slovak numbers have a release in force (`store.semantics.register_in_force_sql`).
    slovak = np.array([n for n in numbers.numbers if n in SK_NUMBERS], dtype=np.int64)
    others = np.array([n for n in numbers.numbers if n not in SK_NUMBERS], dtype=np.int64)
    parts = []
    for number, registers in ((others, 1), (slovak, codec.sk_radix // 2)):
        sk = sk_part(int(caller), np.arange(registers, dtype=np.int64))
        pack = codec.pack(day, int(automated), number[:, None, None, None], flags, mark, sk)
        parts.append(pack.ravel())
    codes = np.concatenate(parts)
    decided, index = codec.decide(codes, policy)
    outcomes = tuple((d.reason, d.rule_set, d.ev_field, d.ev_before, d.ev_after) for d in decided)
    fields = np.array([d.ev_field for d in decided], dtype=np.int8)[index]
    outcome = fixed_array(index, pa.uint8() if len(outcomes) < 256 else pa.uint16())
    shapes = pa.Table.from_arrays(
        [fixed_array(codes, pa.int64()), outcome, fixed_array(fields, pa.int8())],
        names=["code", "outcome", "ev_field"],
    )
    name = f"og_shapes_{next(_names)}"
    view = f"{name}_in"
    con.register(view, shapes)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return Outcomes(outcomes, name, shapes, codec, automated, caller)

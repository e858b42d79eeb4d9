"""The filter's shapes: the rules decide each possible shape once, rows only look theirs up.

The filter decides a whole list at one time, for one controller and one call type, so of a
row's facts only these vary: the number's (valid, country, number_type), which ids are present
and the directory mark. `NumberCodes` turns the first three into a small code as the numbers
are normalized (a lookup per batch, no strings). Every shape those codes can form is decided
up front with the rules' own SQL (`optin_gate.rules.shapes.decide_facts`); a row's shape is
then plain integer arithmetic (`code_sql`) and one join with that small table.

Shapes with the same decision share an *outcome*: the decided table stores a row's outcome
(a byte) and the id its evidence names; `Outcomes` spells them out as text only when rows are
written, so millions of rows never carry reason, evidence or rule-set text through the joins.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.numbers._arrow import bool_array, fixed_array, string_array
from optin_gate.numbers.batch import REGION_NAMES
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.numbers.table import KeyCodes
from optin_gate.policy import Policy
from optin_gate.rules import Reason
from optin_gate.rules.expr import sql_literal
from optin_gate.rules.shapes import ID_FIELDS, decide_facts, marker

__all__ = [
    "Context",
    "NumberCodes",
    "Outcomes",
    "code_sql",
    "decide_shapes",
    "decided_sql",
    "mark_sql",
]

_FLAGS = 1 << len(ID_FIELDS)  # present / missing, per id


@dataclasses.dataclass(frozen=True)
class Context:
    """The facts every row of one filter run shares.

    Attributes:
        t_day: The Prague day of the decision time.
        automated: The call type is not "live".
        directory_date: The newest directory snapshot on or before `t_day`, or None.
        marks: The directory marks told apart (`mark_sql` numbers them from 1); any other
            mark decides as no entry, which `engine.facts.decisive_marks` makes safe.
    """

    t_day: date
    automated: bool
    directory_date: date | None
    marks: tuple[str, ...]


class NumberCodes:
    """(valid, country, number_type) of normalized numbers as small dense codes, 0, 1, 2, ...

    Shared by the batches of one run (they may be encoded on a worker thread).
    """

    def __init__(self) -> None:
        self._codes: dict[tuple[bool, str | None, str | None], int] = {}
        self._lock = threading.Lock()

    @property
    def numbers(self) -> list[tuple[bool, str | None, str | None]]:
        """The (valid, country, number_type) of code 0, 1, 2, ..."""
        return list(self._codes)

    def _code(self, key: tuple[bool, str | None, str | None]) -> int:
        with self._lock:
            return self._codes.setdefault(key, len(self._codes))

    def encode(self, codes: KeyCodes) -> pa.Array:
        """Each row's code (int16), from the numbers' codes of one batch (`normalize_codes`).

        The work per row is integer arithmetic on the type and region indices; only the
        combinations present are looked up by name.
        """
        nt = len(TYPE_CODES) + 1
        region = codes.region.astype(np.int32) + 1
        key = np.where(codes.valid, region * nt + codes.type_code + 2, 0)  # 0: not valid
        lookup = np.zeros(int(key.max(initial=0)) + 1, dtype=np.int16)
        for k in np.flatnonzero(np.bincount(key, minlength=len(lookup))).tolist():
            if k == 0:
                lookup[0] = self._code((False, None, None))
                continue
            c, t = divmod(k - 1, nt)
            lookup[k] = self._code(
                (True, REGION_NAMES[c - 1] if c else None, TYPE_CODES[t - 1] if t else None)
            )
        coded = lookup[key]
        return pa.Array.from_buffers(pa.int16(), len(coded), [None, pa.py_buffer(coded)])


def mark_sql(column: str, marks: tuple[str, ...]) -> str:
    """SQL: the directory mark's number in `marks` (1, 2, ...), NULL for any other."""
    if not marks:
        return "CAST(NULL AS UTINYINT)"
    whens = " ".join(f"WHEN {sql_literal(m)} THEN {i}" for i, m in enumerate(marks, start=1))
    return f"CAST(CASE {column} {whens} END AS UTINYINT)"


def code_sql(marks: tuple[str, ...], *, number: str = "num", mark: str = "mark") -> str:
    """SQL: a row's shape code from its number code, its three ids and its mark number."""
    flags = " + ".join(
        f"CAST({f} IS NOT NULL AS INTEGER) * {1 << i}" for i, f in enumerate(ID_FIELDS)
    )
    packed = f"(CAST({number} AS INTEGER) * {_FLAGS} + {flags})"
    return f"({packed} * {len(marks) + 1} + coalesce({mark}, 0))"


def decided_sql(relation: str, keys: tuple[str, ...], shapes: str, marks: tuple[str, ...]) -> str:
    """SQL: each row of `relation` with its shape's outcome and the id its evidence names.

    Args:
        relation: A parenthesised query with the keys, `n`, `phone`, `num` (`NumberCodes`),
            the three ids and `directory_mark` (`mark_sql`).
        keys: The key columns to keep.
        shapes: The table `decide_shapes` made (`Outcomes.shapes`).
        marks: The marks `directory_mark` numbers.

    Returns:
        SQL giving the keys, `n` (INTEGER), `phone`, `outcome` and `evidence` (the bare id).
    """
    named = " ".join(f"WHEN {i} THEN f.{f}" for i, f in enumerate(ID_FIELDS, start=1))
    code = code_sql(marks, number="num", mark="directory_mark")
    return (
        f"SELECT {''.join(f'f.{k}, ' for k in keys)}CAST(f.n AS INTEGER) AS n, f.phone, "
        f"s.outcome, CASE s.ev_field {named} END AS evidence "
        f"FROM (SELECT *, {code} AS code FROM {relation}) f "
        f"JOIN {shapes} s ON s.code = f.code"
    )


_names = itertools.count()


@dataclasses.dataclass(frozen=True)
class Outcomes:
    """The distinct decisions of one run, numbered; how to spell a decided row out.

    Attributes:
        rows: Per outcome: (reason, rule_set, ev_field, ev_before, ev_after), see
            `optin_gate.rules.shapes.decide_facts`.
        shapes: A temp table on the connection: `code`, `outcome`, `ev_field` per shape.
    """

    rows: tuple[tuple[Reason, str, int, str | None, str | None], ...]
    shapes: str

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
    con: duckdb.DuckDBPyConnection, numbers: NumberCodes, context: Context, policy: Policy
) -> Outcomes:
    """Decide every shape the run's number codes can form; store them as a temp table.

    Returns:
        The run's `Outcomes`; `Outcomes.shapes` names the temp table (the caller drops it).
    """
    n_marks = len(context.marks) + 1
    facts: dict[str, list[Any]] = {name: [] for name in ("code", "valid", "country")}
    facts.update({name: [] for name in ("number_type", "automated", "t_day", *ID_FIELDS)})
    facts.update(directory_date=[], directory_marketing=[])
    for number, (valid, country, number_type) in enumerate(numbers.numbers):
        for flags in range(_FLAGS):
            for mark in range(n_marks):
                facts["code"].append((number * _FLAGS + flags) * n_marks + mark)
                facts["valid"].append(valid)
                facts["country"].append(country)
                facts["number_type"].append(number_type)
                facts["automated"].append(context.automated)
                facts["t_day"].append(context.t_day)
                for i, field in enumerate(ID_FIELDS):
                    facts[field].append(marker(field) if flags >> i & 1 else None)
                facts["directory_date"].append(context.directory_date)
                facts["directory_marketing"].append(context.marks[mark - 1] if mark else None)
    # Built through buffers: pyarrow would import pandas to convert Python lists.
    columns = {k: string_array(v) for k, v in facts.items() if k in _TEXT}
    columns["code"] = fixed_array(facts["code"], pa.int32())
    for flag in ("valid", "automated"):
        columns[flag] = bool_array(np.array(facts[flag], dtype=np.bool_))
    for day in ("t_day", "directory_date"):
        null = np.array([d is None for d in facts[day]], dtype=np.bool_)
        epoch = [0 if d is None else (d - _EPOCH).days for d in facts[day]]
        columns[day] = fixed_array(epoch, pa.date32(), null)
    table = pa.Table.from_arrays(list(columns.values()), names=list(columns))
    decided = decide_facts(con, table, policy)
    outcomes: dict[tuple[Reason, str, int, str | None, str | None], int] = {}
    numbered = []
    for row in decided.to_pylist():
        key = (
            Reason(row["reason"]),
            row["rule_set"],
            row["ev_field"],
            row["ev_before"],
            row["ev_after"],
        )
        numbered.append(outcomes.setdefault(key, len(outcomes)))
    outcome = fixed_array(numbered, pa.uint8() if len(outcomes) < 256 else pa.uint16())
    shapes = pa.Table.from_arrays(
        [decided.column("code"), outcome, decided.column("ev_field")],
        names=["code", "outcome", "ev_field"],
    )
    name = f"og_shapes_{next(_names)}"
    view = f"{name}_in"
    con.register(view, shapes)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return Outcomes(tuple(outcomes), name)


_EPOCH = date(1970, 1, 1)
_TEXT = {"country", "number_type", "directory_marketing", *ID_FIELDS}

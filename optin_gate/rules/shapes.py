"""The shape codec: the rules decide each shape of facts once, not once per call.

A decision reads a call's `Facts`; of the record ids it only asks whether there is one (the
rules name them only under `IsNull` / `NotNull`: `decide` checks), and names the one it rests
on as the evidence. So the reason, the rule set and the evidence text around the id depend
only on the call's *shape*: validity, country, number type, call type, day (and with it the
directory snapshot), directory mark, and which ids are present. Ten million calls have a few
thousand shapes.

`ShapeCodec` packs a shape into one integer (`pack`, the same arithmetic in numpy, in Python,
and in SQL through `pack_sql`), unpacks it back into facts with a marker standing in for each
present id, and `decide`s codes with the rules' generated Python
(`compile_rules(policy).decide_values`): no database is needed, and the dial check decides a
single shape the same way the filter and the audit decide thousands. A call's evidence is its
shape's text with the call's own id put back in place of the marker.

The layout, most significant first: day (from the codec's `first_day`), automated, number
(`number_code`: validity, country, type), id flags (bit i: an id of `ID_FIELDS[i]`), mark
(0: none; i: `marks[i - 1]`), then the Slovak part (`sk_part`): whether the calling line is
a +421 888 number, and the Slovak list release in force (its index in the codec's
`releases`), whether it blocks the campaign and whether it bars the counting consent
(`register_part`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from optin_gate._sql import sql_literal
from optin_gate.numbers._arrow import bool_array, fixed_array, string_array
from optin_gate.numbers.batch import REGION_NAMES
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.policy import Policy
from optin_gate.rules import RULE_SETS, Reason, compile_rules
from optin_gate.rules.expr import Expr, Field, IsNull, NotNull

__all__ = [
    "FLAGS",
    "ID_FIELDS",
    "NUMBERS",
    "SK_NUMBERS",
    "Decided",
    "ShapeCodec",
    "mark_sql",
    "marker",
    "number_code",
    "number_of",
    "register_part",
    "register_sql",
    "sk_part",
    "template",
]

# The ids a decision may name as its evidence: bit i of a shape's flags, `ev_field` i + 1.
ID_FIELDS = ("objection_id", "consent_id", "contract_id")
FLAGS = 1 << len(ID_FIELDS)

_TYPES = len(TYPE_CODES) + 1  # a number type's index + 1; 0: none
# Number codes: 0 not valid; else 1 + (region index + 1) * _TYPES + type index + 1.
NUMBERS = 1 + (len(REGION_NAMES) + 1) * _TYPES
_REGION_INDEX = {name: i for i, name in enumerate(REGION_NAMES)}
_TYPE_INDEX = {name: i for i, name in enumerate(TYPE_CODES)}
_EPOCH = date(1970, 1, 1)  # day numbers count from here, as Arrow's date32 does


def number_code(valid: Any, region: Any, type_code: Any) -> Any:
    """The number part of a shape, from region and type indices (-1: none); numpy or ints.

    Args:
        valid: The number is valid (a not valid number's region and type are ignored).
        region: Index into `numbers.batch.REGION_NAMES`, -1 for none.
        type_code: Index into `numbers.spec.TYPE_CODES`, -1 for none.
    """
    code = 1 + (region + 1) * _TYPES + type_code + 1
    if isinstance(code, np.ndarray):
        return np.where(valid, code, 0)
    return code if valid else 0


def number_of(valid: bool, country: str | None, number_type: str | None) -> int:
    """`number_code` of a number given by its texts (as `normalize` names them)."""
    if not valid:
        return 0
    region = -1 if country is None else _REGION_INDEX[country]
    kind = -1 if number_type is None else _TYPE_INDEX[number_type]
    return int(number_code(True, region, kind))


@functools.cache
def _number_facts(number: int) -> tuple[bool, str | None, str | None]:
    """(valid, country, number_type) of a number code."""
    if number == 0:
        return False, None, None
    region, kind = divmod(number - 1, _TYPES)
    return (
        True,
        REGION_NAMES[region - 1] if region else None,
        TYPE_CODES[kind - 1] if kind else None,
    )


# The number codes of Slovak numbers: the only ones with a Slovak list part.
SK_NUMBERS = frozenset(
    int(number_code(True, _REGION_INDEX["SK"], kind)) for kind in range(-1, len(TYPE_CODES))
)


def marker(field: str) -> str:
    """The text standing in for a present id of `field` in a shape's facts."""
    return f"\x1f{field}\x1f"


_MARKERS = tuple(marker(field) for field in ID_FIELDS)
# Per id flags: the ids of a shape's facts, a marker for each present one.
_IDS = tuple(
    tuple(m if flags >> i & 1 else None for i, m in enumerate(_MARKERS)) for flags in range(FLAGS)
)


def template(evidence: str | None) -> tuple[int, str | None, str | None]:
    """(which id the evidence names, text before it, text after it); 0 when it names none."""
    if evidence is None:
        return 0, None, None
    for i, mark in enumerate(_MARKERS, start=1):
        if mark in evidence:
            before, after = evidence.split(mark, 1)
            if any(m in before + after for m in _MARKERS):
                raise AssertionError("a decision's evidence names two records")
            return i, before, after
    return 0, evidence, None


def mark_sql(column: str, marks: Sequence[str]) -> str:
    """SQL: a directory mark's code (1 + its index in `marks`), NULL for any other mark."""
    if not marks:
        return "CAST(NULL AS UTINYINT)"
    whens = " ".join(f"WHEN {sql_literal(m)} THEN {i}" for i, m in enumerate(marks, start=1))
    return f"CAST(CASE {column} {whens} END AS UTINYINT)"


def register_part(index: Any, blocks: Any, before: Any) -> Any:
    """The list part of a shape: 0 without a release in force (`index` -1), numpy or ints.

    Args:
        index: The release in force's index in the codec's `releases`, -1 for none.
        blocks: The release lists the number as registered for the campaign.
        before: The counting consent does not outweigh that registration.
    """
    code = 1 + (index * 2 + blocks) * 2 + before
    if isinstance(code, np.ndarray):
        return np.where(index >= 0, code, 0)
    return code if index >= 0 else 0


def sk_part(caller: Any, register: Any) -> Any:
    """The Slovak part of a shape: the caller-ID bit and `register_part`; numpy or ints."""
    return caller + 2 * register


def register_sql(release: str, blocks: str, before: str, releases: Sequence[date]) -> str:
    """SQL: `register_part` over a release date column (NULL: none) and two boolean columns."""
    if not releases:
        return "0"
    whens = " ".join(f"WHEN {sql_literal(d)} THEN {i}" for i, d in enumerate(releases))
    index = f"(CASE {release} {whens} END)"
    flags = [f"CAST(coalesce({b}, FALSE) AS BIGINT)" for b in (blocks, before)]
    return f"coalesce(1 + {index} * 4 + {flags[0]} * 2 + {flags[1]}, 0)"


class Decided(NamedTuple):
    """A shape's decision; `ev_field` i names the call's `ID_FIELDS[i - 1]` (0: none)."""

    allowed: bool
    reason: Reason
    rule_set: str
    ev_field: int
    ev_before: str | None
    ev_after: str | None


@dataclasses.dataclass(frozen=True)
class ShapeCodec:
    """How shapes are packed into integers, for one set of days and directory marks.

    Attributes:
        marks: The directory marks told apart (mark code i is `marks[i - 1]`); any other
            decides as no entry, which `engine.facts.decisive_marks` makes safe.
        first_day: The day of day code 0.
        directories: Per day code: the newest directory snapshot on or before that day.
        releases: The Slovak list releases a shape may name as the one in force, ascending.
    """

    marks: tuple[str, ...]
    first_day: date
    directories: tuple[date | None, ...]
    releases: tuple[date, ...] = ()

    @classmethod
    def for_days(
        cls, marks: Sequence[str], days: dict[date, date | None], releases: Sequence[date] = ()
    ) -> ShapeCodec:
        """A codec spanning `days` (day -> its directory snapshot date, or None)."""
        held = tuple(sorted(releases))
        if not days:
            return cls(tuple(marks), _EPOCH, (), held)
        first = min(days)
        span = (max(days) - first).days + 1
        directories = tuple(days.get(first + timedelta(days=i)) for i in range(span))
        return cls(tuple(marks), first, directories, held)

    @property
    def sk_radix(self) -> int:
        """How many Slovak parts there are (`sk_part`)."""
        return 2 * (1 + 4 * len(self.releases))

    @property
    def mark_radix(self) -> int:
        """How many mark codes there are: no mark, then each of `marks`."""
        return len(self.marks) + 1

    def day_of(self, day: date) -> int:
        """The day number (days since 1970-01-01, as date32) of a day."""
        return (day - _EPOCH).days

    def prefix(self, day: Any, automated: Any) -> Any:
        """The day and call type part of a code, to which a number code is added."""
        return ((day - self.day_of(self.first_day)) * 2 + automated) * NUMBERS

    def pack(  # noqa: PLR0917 - a shape's parts, in layout order
        self, day: Any, automated: Any, number: Any, flags: Any, mark: Any, sk: Any = 0
    ) -> Any:
        """Shapes as codes; numpy arrays (int64 out) or Python ints alike.

        Args:
            day: The day number of the call's Prague day (date32 value).
            automated: The call type is not "live".
            number: `number_code`.
            flags: Bit i set when there is an id of `ID_FIELDS[i]`.
            mark: The directory mark's code (`mark_sql`; 0 for none).
            sk: The Slovak part (`sk_part`).
        """
        code = ((self.prefix(day, automated) + number) * FLAGS + flags) * self.mark_radix + mark
        return code * self.sk_radix + sk

    def pack_sql(  # noqa: PLR0917 - a shape's parts, in layout order
        self, day: str, automated: str, number: str, ids: Sequence[str], mark: str, sk: str = "0"
    ) -> str:
        """SQL: `pack` over columns; `ids` are the id columns in `ID_FIELDS` order."""
        flags = " + ".join(f"CAST({f} IS NOT NULL AS BIGINT) * {1 << i}" for i, f in enumerate(ids))
        first = self.day_of(self.first_day)
        prefix = f"((CAST({day} AS BIGINT) - {first}) * 2 + CAST({automated} AS BIGINT))"
        number = f"({prefix} * {NUMBERS} + CAST({number} AS BIGINT))"
        code = f"(({number} * {FLAGS} + {flags}) * {self.mark_radix} + coalesce({mark}, 0))"
        return f"({code} * {self.sk_radix} + {sk})"

    def _parts(self, codes: Sequence[int] | np.ndarray[Any, Any]) -> Any:
        """Per shape: (number, automated, day, flags, mark, sk), as Python ints."""
        rest, sk = np.divmod(np.asarray(codes, dtype=np.int64), self.sk_radix)
        rest, mark = np.divmod(rest, self.mark_radix)
        rest, flags = np.divmod(rest, FLAGS)
        day, rest = np.divmod(rest, 2 * NUMBERS)
        automated, number = np.divmod(rest, NUMBERS)
        parts = (number, automated, day, flags, mark, sk)
        return zip(*(part.tolist() for part in parts), strict=True)

    def _sk_facts(self, sk: int) -> tuple[bool, date | None, bool, bool]:
        """(caller_id_0888, register_date, register_blocks, consent_before_register)."""
        register, caller = divmod(sk, 2)
        if register == 0:
            return caller == 1, None, False, False
        rest, before = divmod(register - 1, 2)
        index, blocks = divmod(rest, 2)
        return caller == 1, self.releases[index], blocks == 1, before == 1

    def _days(self) -> tuple[list[date], list[date | None]]:
        """Per day code: the day and its directory snapshot."""
        first, directories = self.first_day, list(self.directories) or [None]
        return [first + timedelta(days=d) for d in range(len(directories))], directories

    def unpack(self, codes: Sequence[int] | np.ndarray[Any, Any]) -> list[tuple[Any, ...]]:
        """The facts of each shape, in `FACT_COLUMNS` order, a marker for each present id."""
        t_days, directories = self._days()
        marks = (None, *self.marks)
        return [
            (
                *_number_facts(n), a == 1, t_days[d], *_IDS[f], directories[d], marks[m],
                *self._sk_facts(k),
            )
            for n, a, d, f, m, k in self._parts(codes)
        ]  # fmt: skip

    def decide(
        self, codes: Sequence[int] | np.ndarray[Any, Any], policy: Policy
    ) -> tuple[list[Decided], np.ndarray[Any, np.dtype[np.int32]]]:
        """Decide each shape with the policy's rule set.

        Returns:
            The distinct decisions, and per code (in order) the index of its decision.
        """
        _check_rules(policy)
        decide = compile_rules(policy).decide_values
        t_days, directories = self._days()
        marks = (None, *self.marks)
        found: dict[tuple[Reason, str | None, str], int] = {}
        index = []
        # One flat loop: an audit decides tens of thousands of shapes.
        sk_facts = functools.cache(self._sk_facts)
        for n, a, d, f, m, k in self._parts(codes):
            decided = decide(
                *_number_facts(n), a == 1, t_days[d], *_IDS[f], directories[d], marks[m],
                *sk_facts(k),
            )  # fmt: skip
            at = found.get(decided)
            if at is None:
                at = found[decided] = len(found)
            index.append(at)
        distinct = [
            Decided(reason.allowed, reason, rule_set, *template(evidence))
            for reason, evidence, rule_set in found
        ]
        return distinct, np.array(index, dtype=np.int32)

    def decide_table(self, codes: np.ndarray[Any, Any], policy: Policy) -> pa.Table:
        """`decide` as a table: `code` and the `Decided` fields (reason as its value)."""
        rows, index = self.decide(codes, policy)
        taken = fixed_array(index, pa.int32())
        # Built through buffers: pyarrow would import pandas to convert Python lists.
        columns = [
            bool_array(np.array([r.allowed for r in rows], dtype=np.bool_)),
            string_array([r.reason.value for r in rows]),
            string_array([r.rule_set for r in rows]),
            fixed_array([r.ev_field for r in rows], pa.int8()),
            string_array([r.ev_before for r in rows]),
            string_array([r.ev_after for r in rows]),
        ]
        return pa.Table.from_arrays(
            [fixed_array(codes, pa.int64()), *(column.take(taken) for column in columns)],
            names=["code", "allowed", "reason", "rule_set", "ev_field", "ev_before", "ev_after"],
        )


def _ids_only_tested_for_presence(node: object, *, under_null_test: bool = False) -> bool:
    """True when every id field in `node` sits directly under `IsNull` / `NotNull`."""
    if isinstance(node, Field):
        return under_null_test or node.name not in ID_FIELDS
    if isinstance(node, IsNull | NotNull):
        return _ids_only_tested_for_presence(node.field, under_null_test=True)
    if isinstance(node, tuple):
        return all(_ids_only_tested_for_presence(child) for child in node)
    if isinstance(node, Expr) and dataclasses.is_dataclass(node):
        return all(
            _ids_only_tested_for_presence(getattr(node, f.name)) for f in dataclasses.fields(node)
        )
    return True  # a literal


@functools.lru_cache(maxsize=32)
def _check_rules(policy: Policy) -> None:
    """Shapes decide like calls only if no rule (or regime label) looks at an id's value."""
    nodes: list[object] = [row.condition for row in compile_rules(policy).rows]
    nodes += [cond for rs in RULE_SETS for cond, _ in rs.bound_labels(policy)]
    if not all(_ids_only_tested_for_presence(node) for node in nodes):
        raise AssertionError(
            "a rule compares a record id's value: deciding once per shape would be wrong"
        )

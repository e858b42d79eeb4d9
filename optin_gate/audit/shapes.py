"""The rules applied once per distinct shape of facts, not once per call.

A decision reads the facts (`optin_gate.rules.Facts`) of a call; of the record ids it only
asks whether there is one, and names the one it rests on as the evidence. So the reason, the
rule set and the evidence text around the id depend only on the call's *shape*: validity,
country, number type, call type, day, directory snapshot and mark, and which of the three ids
are present. Ten million calls have a few thousand shapes.

`ShapeCode` packs a shape into one int64 (numpy arithmetic over the calls' columns);
`decide_shapes` unpacks the distinct codes, runs the rule set's own SQL
(`compile_rules(policy).decision_sql`) over them with a marker standing in for each present
id, and reads back from each evidence text which id it names and the text around it. A call's
evidence is that text with the call's own id put back in place of the marker.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.policy import Policy
from optin_gate.rules.shapes import ID_FIELDS, decide_facts
from optin_gate.rules.shapes import marker as _marker

__all__ = ["ID_FIELDS", "ShapeCode", "decide_shapes"]

_EPOCH = date(1899, 12, 31)  # day numbers count from here (every parsed time is after 1900)


@dataclasses.dataclass(frozen=True)
class ShapeCode:
    """How a shape is packed into one BIGINT.

    Attributes:
        countries: The country codes' texts (code i is countries[i]).
        number_types: The number type codes' texts.
        marks: The directory marks the store holds.
    """

    countries: list[str]
    number_types: list[str]
    marks: list[str]

    @property
    def _radix(self) -> tuple[int, int, int]:
        return len(self.countries) + 1, len(self.number_types) + 1, len(self.marks) + 1

    def pack(self, day: np.ndarray, facts: dict[str, np.ndarray]) -> np.ndarray:
        """The packed shapes of rows, as `sql` packs them, in numpy.

        Args:
            day: Each row's day as days since 1970-01-01 (date32).
            facts: Per row: `country` and `number_type` codes (-1: none), `valid` and
                `automated` (bool), `flags` (objection 4 + consent 2 + contract 1 for the ids
                present), `mark` (1 + the index into `marks`; 0: no mark).
        """
        nc, nt, nm = self._radix
        code = day.astype(np.int64) + (date(1970, 1, 1) - _EPOCH).days
        for value, radix, none in (
            (facts["country"], nc, nc - 1),
            (facts["number_type"], nt, nt - 1),
        ):
            code *= radix
            code += np.where(value < 0, none, value)
        for value, radix in ((facts["valid"], 2), (facts["automated"], 2), (facts["flags"], 8)):
            code *= radix
            code += value
        code *= nm
        code += facts["mark"]
        return code

    def unpack(self, codes: np.ndarray, snapshots: dict[date, date | None]) -> pa.Table:
        """The facts of each packed shape, ids as markers.

        Args:
            codes: Packed shapes.
            snapshots: The directory snapshot date of each day.
        """
        nc, nt, nm = self._radix
        rest, mark = np.divmod(codes, nm)
        rest, flags = np.divmod(rest, 8)
        rest, automated = np.divmod(rest, 2)
        rest, valid = np.divmod(rest, 2)
        rest, number_type = np.divmod(rest, nt)
        day, country = np.divmod(rest, nc)
        days = [_EPOCH + timedelta(days=int(d)) for d in day]
        columns: dict[str, pa.Array] = {
            "code": pa.array(codes, pa.int64()),
            "valid": pa.array(valid.astype(bool)),
            "country": pa.array(
                [self.countries[c] if c < nc - 1 else None for c in country], pa.string()
            ),
            "number_type": pa.array(
                [self.number_types[t] if t < nt - 1 else None for t in number_type], pa.string()
            ),
            "automated": pa.array(automated.astype(bool)),
            "t_day": pa.array(days, pa.date32()),
        }
        for i, field in enumerate(ID_FIELDS):
            present = (flags >> (2 - i)) & 1
            columns[field] = pa.array([_marker(field) if p else None for p in present])
        columns["directory_date"] = pa.array([snapshots.get(d) for d in days], pa.date32())
        columns["directory_marketing"] = pa.array(
            [self.marks[m - 1] if m else None for m in mark], pa.string()
        )
        return pa.table(columns)


def decide_shapes(
    con: duckdb.DuckDBPyConnection,
    codes: pa.Array,
    code: ShapeCode,
    snapshots: dict[date, date | None],
    policy: Policy,
) -> pa.Table:
    """Decide each distinct shape with the policy's rule set.

    Returns:
        One row per code: `code`, `allowed`, `reason`, `rule_set`, `ev_field` (0: the
        evidence is `ev_before` as it stands, or none; i: it is `ev_before`, the call's
        `ID_FIELDS[i - 1]`, then `ev_after`).
    """
    facts = code.unpack(np.asarray(codes.to_numpy(zero_copy_only=False), np.int64), snapshots)
    return decide_facts(con, facts, policy).sort_by("code")


def dense(codes: pa.ChunkedArray, shapes: pa.Table) -> pa.ChunkedArray:
    """Each row's index into `shapes` (by its code); NULL stays NULL."""
    return pc.index_in(codes, value_set=shapes.column("code").combine_chunks())

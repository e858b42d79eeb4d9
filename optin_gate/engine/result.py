"""`FilterResult`: every row of a call list with its decision, and the counts an operator reads."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.rules import Reason

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FilterResult", "summarize"]


def summarize(counts: Mapping[str, int]) -> dict[Reason, int]:
    """Counts per reason in the decision order (docs/rules.md § 1.4); reasons with none left out."""
    return {r: int(counts[r.value]) for r in Reason if counts.get(r.value)}


@dataclasses.dataclass(frozen=True, eq=False)
class FilterResult:
    """Every input row, in input order, input columns first, then the decision columns.

    Attributes:
        table: The rows: the input's columns untouched, then `e164, allowed, reason,
            evidence, rule_set` and `note` (`Decision.note`: why a consent held for the
            number did not count; NULL otherwise).
        source: How the input is named in messages (its path, `<DataFrame>` or `<Table>`).
        phone_column: The input column the numbers were read from.
        as_of: The decision instant (UTC).
        controller: The company the decisions are for.
        call_type: "live" or "automated".
    """

    table: pa.Table
    source: str
    phone_column: str
    as_of: datetime
    controller: str
    call_type: str

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __repr__(self) -> str:
        allowed = self.permitted_count
        return (
            f"FilterResult(rows={len(self)}, permitted={allowed}, "
            f"denied={len(self) - allowed}, source={self.source!r})"
        )

    @property
    def permitted_count(self) -> int:
        """How many rows may be called."""
        total = pc.sum(self.table.column("allowed")).as_py()
        return int(total or 0)

    @property
    def permitted(self) -> pa.Table:
        """The rows that may be called, in input order."""
        return self.table.filter(self.table.column("allowed"))

    @property
    def denied(self) -> pa.Table:
        """The rows that may not be called, in input order."""
        return self.table.filter(pc.invert(self.table.column("allowed")))

    @property
    def summary(self) -> dict[Reason, int]:
        """Rows per reason, in the decision order (`Reason` keys compare equal to their names)."""
        counts = pc.value_counts(self.table.column("reason"))
        pairs = {v["values"].as_py(): v["counts"].as_py() for v in counts}
        return summarize(pairs)

    def to_pandas(self, **kwargs: Any) -> pd.DataFrame:
        """The table as a pandas DataFrame (imports pandas only now)."""
        frame: pd.DataFrame = self.table.to_pandas(**kwargs)
        return frame

    def write(self, path: str | os.PathLike[str], *, permitted_only: bool = False) -> Path:
        """Write the rows (or only the permitted ones) as CSV or Parquet, by the extension.

        Atomic: a temporary file in the same folder is renamed into place when complete, so
        a dialler never sees half a list.

        Raises:
            InputError: The extension is not .csv/.tsv/.txt/.parquet, or the folder is missing.
        """
        from optin_gate.io import write_table

        return write_table(self.permitted if permitted_only else self.table, path)

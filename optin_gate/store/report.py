"""`LoadReport`: what one load did, and the error a strict load raises."""

from __future__ import annotations

import dataclasses
from datetime import date

import pyarrow as pa

from optin_gate.errors import InputError

__all__ = ["REJECT_COLUMNS", "LoadReport", "StrictLoadError", "empty_rejects"]

REJECT_COLUMNS = ("line", "column", "reason")


def empty_rejects() -> pa.Table:
    """A rejects table with no rows."""
    schema = pa.schema([("line", pa.int64()), ("column", pa.string()), ("reason", pa.string())])
    return pa.Table.from_batches([], schema)


@dataclasses.dataclass(frozen=True, eq=False)
class LoadReport:
    """What one `EvidenceStore.load` did.

    `rows_read == rows_loaded + rows_rejected` always holds.

    Attributes:
        kind: The evidence kind loaded.
        file: The source's name (path as given, `<DataFrame>`, `<Table>`).
        load_id: The load's id in `loads` (for an unchanged reload: the earlier load's).
        rows_read: Data rows in the source.
        rows_loaded: Rows accepted (a row repeating another identically counts as loaded).
        rows_rejected: Rows rejected; each is in `rejects`.
        rejects: One row per rejected row: `line` (1-based line in the file; row number for
            tables), `column` (the file's header at fault), `reason`, then the fields the load
            reads, as text under the file's headers (a header clashing with the first three
            gets an `input_` prefix). From a workbook, a `sheet` column comes first and
            `line` is the sheet's Excel row, so `sheet!line` is the place Excel shows.
            For an unchanged reload: the earlier load's line, column and reason.
        unchanged: The same bytes were already loaded as the same kind with the same
            arguments (load `load_id`); nothing was written.
        rows_changed: Records this load added or changed: new consent or contract versions,
            new objections, directory intervals opened, closed or extended.
        snapshot_date: The directory snapshot's date (directory loads).
        controller: The `controller=` argument.
    """

    kind: str
    file: str
    load_id: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejects: pa.Table
    unchanged: bool = False
    rows_changed: int = 0
    snapshot_date: date | None = None
    controller: str | None = None

    def __repr__(self) -> str:
        state = ", unchanged" if self.unchanged else ""
        return (
            f"LoadReport(kind={self.kind!r}, load_id={self.load_id}, rows_read={self.rows_read}, "
            f"rows_loaded={self.rows_loaded}, rows_rejected={self.rows_rejected}, "
            f"rows_changed={self.rows_changed}{state})"
        )


class StrictLoadError(InputError):
    """A strict load found rejects; nothing was written.

    Attributes:
        rejects: Every rejected row, as in `LoadReport.rejects`.
    """

    def __init__(self, message: str, *, rejects: pa.Table, **where: object) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.rejects = rejects

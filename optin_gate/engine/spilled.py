"""The list held by DuckDB, for lists too large to hold in memory (`held.fits` says no).

The list's rows never pass through Python. The phone column is read in file order, in
batches numbered by their place and normalized on a worker thread while DuckDB reads on
(`prepare_decisions(number_rows=True)`), then decided row by row. Two ways to the outputs:

* only the permitted rows (`--out`): the list is parsed once, in parallel, into a temp table
  whose rowid is the file's order; the decisions go to a temp table and `COPY` joins the
  allowing ones to the list's table and sorts the joined rows by rowid, every step on every
  core.
* every row too (`--decisions`): the decisions are put back in row order (Arrow, a scatter by
  row number) and `COPY` reads the list again beside them, joined by position; the outputs
  must hold the rows the decisions count, so a list that changed between the reads fails.

With DuckDB's `memory_limit` set low, the held list and the joins spill to its temp
directory: lists larger than memory still complete.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from optin_gate._sql import sql_name
from optin_gate.engine.inputs import phone_text, read_list, whole_sql
from optin_gate.engine.outputs import Run, Targets, write_outputs
from optin_gate.engine.query import Decided, prepare_decisions, run_in_memory
from optin_gate.rules import Reason

if TYPE_CHECKING:
    pass

__all__ = ["filter_spilled"]

_HELD = "og_held_list"  # the list parsed once, when only the permitted rows are written


def filter_spilled(
    con: duckdb.DuckDBPyConnection, run: Run
) -> tuple[dict[str, int], dict[str, Path]]:
    """Decide the list through DuckDB and write `targets`.

    Returns:
        (rows per reason value, the files written per output).
    """
    src, context, phone, targets, report = run.src, run.context, run.phone, run.targets, run.report
    source = src.relation(con, alias="og_list")
    permitted_only = "decisions" not in targets
    try:
        if permitted_only:
            # Parsed once, in parallel, into a table whose rowid is the file's order: the
            # permitted rows are then joined and sorted on it in parallel (a positional
            # join, the other way to keep the order, runs on one thread).
            report.step("reading the list")
            create = f"CREATE TEMP TABLE {_HELD} AS SELECT * FROM {source}"
            with report.watching():
                read_list(src, functools.partial(run_in_memory, con, create))
            source = _HELD
        # The rows are numbered in file order by their place as the first read yields
        # them; the outputs read the list again in the same order, beside the decisions.
        with report.watching():
            decided = read_list(
                src,
                functools.partial(
                    prepare_decisions,
                    con,
                    source,
                    phone=phone,
                    at=run.at,
                    context=context,
                    on_step=report.step,
                    number_rows=True,
                    allowed_only=permitted_only,
                    phone_text=read_list(src, lambda: _phone_text(con, source, run)),
                ),
            )
        counts: dict[str, int] = {}
        for outcome, n in con.execute(
            f"SELECT outcome, sum(n)::BIGINT FROM {decided.decided} GROUP BY outcome"
        ).fetchall():
            reason = decided.outcomes.reason(outcome).value
            counts[reason] = counts.get(reason, 0) + n
        rows = sum(counts.values())
        permitted = sum(n for r, n in counts.items() if Reason(r).allowed)
        queries = _queries(con, source, decided, targets)
        with _build_side_as_written(con, not decided.in_row_order):
            written = write_outputs(
                con,
                src,
                queries,
                targets=targets,
                report=report,
                expected={"permitted": permitted, "decisions": rows},
                excel_safe=run.kept_as_written(),
            )
        decided.drop(con)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_HELD}")
        con.execute(f"DROP TABLE IF EXISTS {_HELD}_by_row")
    return counts, written


def _phone_text(
    con: duckdb.DuckDBPyConnection, source: str, run: Run
) -> Callable[[pa.ChunkedArray], pa.ChunkedArray]:
    """The held way's reading of the phone column (`inputs.phone_text`), batch by batch.

    A float column is read as whole numbers only if every value of it is one: asked once.
    """
    column = sql_name(run.phone)
    whole = None
    if str(con.sql(f"SELECT {column} FROM {source}").types[0]) in {"FLOAT", "DOUBLE"}:
        ((whole,),) = con.execute(whole_sql(source, column)).fetchall()
    return functools.partial(phone_text, file=run.src.name, name=run.phone, whole=whole)


def _queries(
    con: duckdb.DuckDBPyConnection, source: str, decided: Decided, targets: Targets
) -> dict[str, str]:
    """Per output, the query giving its rows in the list's order."""
    ordered = decided.decided
    if "decisions" in targets and not decided.in_row_order:  # pragma: no cover
        ordered = f"{_HELD}_by_row"
        run_in_memory(
            con,
            f"CREATE OR REPLACE TEMP TABLE {ordered} AS "
            f"SELECT * FROM {decided.decided} ORDER BY row",
        )
    return {
        key: _rows_sql(source, ordered, decided, permitted_only=key == "permitted")
        if decided.in_row_order
        else _permitted_sql(source, decided)
        for key in targets
    }


def _rows_sql(source: str, ordered: str, decided: Decided, *, permitted_only: bool) -> str:
    """The list's rows in file order, each beside its decision: joined by position.

    `ordered` holds the decisions in row order, so the list is read once more, in order, with
    no row numbering, no hash table of its rows and no sort. The decisions are counted against
    the rows: a list that changed between the reads fails the run instead of mislabelling rows.
    """
    allowed = f" AND {decided.allowed_sql('d')}" if permitted_only else ""
    return (
        f"SELECT r.*, {decided.columns_sql('d')} "
        f"FROM {source} r POSITIONAL JOIN {ordered} d "
        f"WHERE (d.row IS NOT NULL OR error('optin-gate: a row lost its decision (a bug)'))"
        f"{allowed}"
    )


def _permitted_sql(held: str, decided: Decided) -> str:
    """The permitted rows of the held list in its order: a join on the few allowed decisions.

    The decisions number rows from 1, the table's rowid from 0; only the joined rows are
    sorted.
    """
    return (
        f"SELECT r.*, {decided.columns_sql('d')} FROM {held} r "
        f"JOIN (SELECT * FROM {decided.decided} d WHERE {decided.allowed_sql('d')}) d "
        f"ON d.row = r.rowid + 1 "
        f"ORDER BY r.rowid"
    )


@contextlib.contextmanager
def _build_side_as_written(con: duckdb.DuckDBPyConnection, on: bool) -> Iterator[None]:
    """Build the join's hash table on the right side (the decisions), as the query says.

    DuckDB may misjudge the sides and hash the whole list instead: a gigabyte for ten
    million rows where the allowed decisions take a hundred megabytes.
    """
    if not on:
        yield
        return
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")

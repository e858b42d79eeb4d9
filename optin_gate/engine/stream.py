"""`filter_file`: a call list file to output files, streamed by DuckDB (`optin-gate filter`).

The list's rows never pass through Python. The phone column is read in file order, in
batches numbered by their place and normalized on a worker thread while DuckDB reads on
(`prepare_decisions(number_rows=True)`), then decided row by row. Two ways to the outputs:

* only the permitted rows (`--out`): the list is parsed once, in parallel, into a temp table
  whose rowid is the file's order; the decisions go to a temp table and `COPY` joins the
  allowing ones to the list's table and sorts the joined rows by rowid, every step on every
  core.
* every row too (`--decisions`): the decisions are put back in row order (Arrow, a scatter by
  row number) and `COPY` reads the list again beside them, joined by position.

Each output goes to a temporary file in its folder and is renamed only when every output is
complete and holds the rows the decisions count, so a dialler never picks up half a list.
With DuckDB's `memory_limit` set low, the held list and the joins spill to its temp
directory: lists larger than memory still complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from optin_gate._time import TimeLike, to_utc
from optin_gate.engine.filter import tune
from optin_gate.engine.inputs import check_output_names, find_phone_column
from optin_gate.engine.query import Decided, prepare_decisions, run_in_memory
from optin_gate.engine.result import summarize
from optin_gate.errors import InputError
from optin_gate.io import open_source, output_format, sql_literal
from optin_gate.rules import Reason

if TYPE_CHECKING:
    from optin_gate.gate import Gate
    from optin_gate.io import Source

__all__ = ["FileSummary", "ProgressHook", "filter_file"]

_HELD = "og_held_list"  # the list parsed once, when only the permitted rows are written

# Called with (step label, fraction done in [0, 1] or None when unknown).
ProgressHook = Callable[[str, float | None], None]


@dataclasses.dataclass(frozen=True)
class FileSummary:
    """What `filter_file` did: counts per reason and the files written.

    Attributes:
        source: The list as named in messages.
        phone_column: The column the numbers were read from.
        as_of: The decision instant (UTC).
        controller: The company the decisions are for.
        call_type: "live" or "automated".
        rows: Rows in the list.
        permitted: Rows that may be called.
        summary: Rows per reason, in the decision order.
        outputs: "permitted" and/or "decisions" -> the file written.
    """

    source: str
    phone_column: str
    as_of: datetime
    controller: str
    call_type: str
    rows: int
    permitted: int
    summary: dict[Reason, int]
    outputs: dict[str, Path]

    @property
    def denied(self) -> int:
        """Rows that may not be called."""
        return self.rows - self.permitted


def _copy_options(fmt: str) -> str:
    if fmt == "parquet":
        return "FORMAT parquet"
    delimiter = "\t" if fmt == "tsv" else ","
    return f"FORMAT csv, HEADER true, DELIMITER {sql_literal(delimiter)}"


def _target(path: str | os.PathLike[str]) -> tuple[Path, str]:
    target = Path(path)
    fmt = output_format(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("the folder does not exist", file=str(path), hint="create it first")
    return target, fmt


class _Reporter:
    """Tells a `ProgressHook` which step runs, and DuckDB's progress on it (polled)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, hook: ProgressHook | None) -> None:
        self.con = con
        self.hook = hook
        self.label = ""
        if hook is not None:
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = false")

    def step(self, label: str) -> None:
        """A new step starts."""
        self.label = label
        if self.hook is not None:
            self.hook(label, None)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Poll DuckDB's progress on the queries run inside the block."""
        hook = self.hook
        if hook is None:
            yield
            return
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.2):
                with contextlib.suppress(Exception):
                    done = self.con.query_progress()
                    if done >= 0:
                        hook(self.label, min(done, 100.0) / 100.0)

        thread = threading.Thread(target=poll, name="optin-gate-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class _NotUtf8(Exception):  # noqa: N818 - an internal signal, never raised to users
    """DuckDB met bytes that are not UTF-8 in a list that was not checked up front."""


def _read(src: Source, action: Callable[[], Any]) -> Any:
    """Run a query that reads the list; a malformed file becomes an InputError on its line."""
    try:
        return action()
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
        if src.is_encoding_error(exc):
            raise _NotUtf8 from None
        raise src.read_error(exc) from None


def filter_file(
    gate: Gate,
    source: Any,
    *,
    as_of: TimeLike = None,
    phone_column: str | None = None,
    call_type: str = "live",
    out: str | os.PathLike[str] | None = None,
    decisions: str | os.PathLike[str] | None = None,
    progress: ProgressHook | None = None,
    settings: Mapping[str, str] | None = None,
) -> FileSummary:
    """Filter a call list to files: the permitted rows (`out`) and/or every row (`decisions`).

    Both outputs have the list's columns, untouched, then `e164, allowed, reason, evidence,
    rule_set`, rows in the list's order; CSV (UTF-8, comma) or Parquet by the extension.

    Args:
        gate: Supplies the store, controller and policy.
        source: A CSV or Parquet path (a DataFrame or Arrow table works too).
        as_of: Decision time (default now; no zone means Prague time).
        phone_column: The header of the phone column; found by name when None.
        call_type: "live" or "automated".
        out: Where to write the permitted rows, or None.
        decisions: Where to write every row with its decision, or None.
        progress: Told what runs and how far it got (for a progress bar).
        settings: DuckDB settings for this run, e.g. {"memory_limit": "1GB",
            "temp_directory": "/big/disk/tmp"}.

    Raises:
        InputError: Unreadable list, no phone column, a taken output column name, a bad
            `as_of` or output name; no output file is written then.
    """
    at = to_utc(as_of, name="as_of")
    targets = _targets(out, decisions)
    options = _Options(at, phone_column, call_type, progress, dict(settings or {}))
    try:
        # DuckDB checks UTF-8 as it reads; the io stage's own pass over every byte is only
        # needed when it complains (a Windows-1250 file whose first megabyte looks like UTF-8).
        return _filter_once(gate, source, options, targets, verify_utf8=False)
    except _NotUtf8:
        return _filter_once(gate, source, options, targets, verify_utf8=True)


@dataclasses.dataclass(frozen=True)
class _Options:
    at: datetime
    phone_column: str | None
    call_type: str
    progress: ProgressHook | None
    settings: dict[str, str]


def _targets(
    out: str | os.PathLike[str] | None, decisions: str | os.PathLike[str] | None
) -> dict[str, tuple[Path, str]]:
    targets = {
        key: _target(path)
        for key, path in (("permitted", out), ("decisions", decisions))
        if path is not None
    }
    if len({p.resolve() for p, _ in targets.values()}) < len(targets):
        raise InputError(
            "the permitted rows and the decisions would go to the same file",
            file=str(out),
            hint="give --out and --decisions different names",
        )
    return targets


def _filter_once(
    gate: Gate,
    source: Any,
    options: _Options,
    targets: dict[str, tuple[Path, str]],
    *,
    verify_utf8: bool,
) -> FileSummary:
    at, call_type, progress = options.at, options.call_type, options.progress
    with open_source(source, verify_utf8=verify_utf8) as src:
        phone = find_phone_column(src.columns, options.phone_column, file=src.name)
        check_output_names(src.columns, file=src.name)
        with gate.store.connect(read_only=True) as con:
            tune(con)
            for key, value in options.settings.items():
                con.execute(f"SET {key} = {sql_literal(str(value))}")
            report = _Reporter(con, progress)
            source = src.relation(con, alias="og_list")
            permitted_only = "decisions" not in targets
            if permitted_only:
                # Parsed once, in parallel, into a table whose rowid is the file's order: the
                # permitted rows are then joined and sorted on it in parallel (a positional
                # join, the other way to keep the order, runs on one thread).
                _read(
                    src,
                    functools.partial(
                        run_in_memory, con, f"CREATE TEMP TABLE {_HELD} AS SELECT * FROM {source}"
                    ),
                )
                source = _HELD
            # The rows are numbered in file order by their place as the first read yields
            # them; the outputs read the list again in the same order, beside the decisions.
            with report.watching():
                decided = _read(
                    src,
                    functools.partial(
                        prepare_decisions,
                        con,
                        source,
                        phone=phone,
                        at=at,
                        controller=gate.controller,
                        call_type=call_type,
                        policy=gate.policy,
                        on_step=report.step,
                        number_rows=True,
                        allowed_only=permitted_only,
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
            written = _write_outputs(
                con,
                src,
                source=source,
                decided=decided,
                targets=targets,
                report=report,
                expected={"permitted": permitted, "decisions": rows},
            )
            decided.drop(con)
            con.execute(f"DROP TABLE IF EXISTS {_HELD}")
    summary = summarize(counts)
    permitted = sum(n for r, n in summary.items() if r.allowed)
    return FileSummary(
        src.name,
        phone,
        at,
        gate.controller,
        call_type,
        sum(summary.values()),
        permitted,
        summary,
        written,
    )


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    *,
    source: str,
    decided: Decided,
    targets: dict[str, tuple[Path, str]],
    report: _Reporter,
    expected: Mapping[str, int],
) -> dict[str, Path]:
    """COPY each output to a temp file beside it; rename them all once every one is done.

    Each output must hold the rows `expected` says (the decisions' counts): a list that grew
    or shrank between the reads fails the run, and nothing is renamed into place.
    """
    temps: dict[str, str] = {}
    ordered = decided.decided
    try:
        if "decisions" in targets and not decided.in_row_order:  # pragma: no cover
            ordered = f"{decided.decided}_by_row"
            run_in_memory(
                con,
                f"CREATE OR REPLACE TEMP TABLE {ordered} AS "
                f"SELECT * FROM {decided.decided} ORDER BY row",
            )
        for key, (target, fmt) in targets.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            temps[key] = tmp
            if decided.in_row_order:
                query = _rows_sql(source, ordered, decided, permitted_only=key == "permitted")
            else:
                query = _permitted_sql(source, decided)
            sql = f"COPY ({query}) TO {sql_literal(tmp)} ({_copy_options(fmt)})"
            report.step(f"writing the {key} rows to {target.name}")
            with report.watching(), _build_side_as_written(con, not decided.in_row_order):
                ((rows,),) = _read(src, functools.partial(run_in_memory, con, sql))
            if rows != expected[key]:
                raise InputError(
                    f"the list changed while it was read ({rows:,} rows for "
                    f"{expected[key]:,} decisions)",
                    file=src.name,
                    hint="filter a copy that nothing else writes to",
                )
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        for key, (target, _) in targets.items():
            os.replace(temps.pop(key), target)
    finally:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
        con.execute(f"DROP TABLE IF EXISTS {decided.decided}_by_row")
    return {key: target for key, (target, _) in targets.items()}


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

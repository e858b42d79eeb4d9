"""The call log read once: DuckDB parses it and the call times in one pass, straight to Arrow.

One query over the log's relation (`read_csv(...)` for a CSV, the registered table otherwise)
yields, per row and in the log's order, the log's own columns (for a file: they are written
back untouched beside the violations) and what the decisions need: the parsed time, why the row
cannot be judged, the call type and the trimmed texts. `requests.read_requests` turns the
batches into compact requests on worker threads while DuckDB reads on. No temp table holds the
log: the decisions line up with the kept columns by position. A log too big to hold is read in
parts (`read_parts`): the query streams on, paused between them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from optin_gate._sql import sql_literal, sql_name
from optin_gate.audit.requests import (
    CALL_TYPE_UNKNOWN,
    CALL_TYPES,
    CODED,
    PHONE_EMPTY,
    SK_TEXTS,
    TIME_EMPTY,
    TIME_UNREADABLE,
    Layout,
    Requests,
    read_requests,
)
from optin_gate.audit.settings import STREAM_BUFFER, streaming
from optin_gate.audit.source import CallLog
from optin_gate.errors import InputError
from optin_gate.io import Parse, parse_query, text_sql
from optin_gate.rules import DECISION_COLUMNS
from optin_gate.store.controllers import controller_key_sql
from optin_gate.store.purposes import purpose_key_sql

if TYPE_CHECKING:
    from optin_gate.context import Context

__all__ = ["ADDED_COLUMNS", "Cols", "NotUtf8", "Part", "check_names", "read_parts"]

# Columns the audit adds after the log's own; a log that already has one is refused.
ADDED_COLUMNS = (*DECISION_COLUMNS, "line", "note")
BATCH = 1_000_000  # rows of the log normalized at a time
_DUCKDB_READ = re.compile(r"(Invalid Input|Conversion|IO) Error: ")


class NotUtf8(Exception):  # noqa: N818 - a signal to open the file again, never shown
    """DuckDB met bytes that are not UTF-8 in a log that was not checked up front."""


class Cols:
    """SQL over the log's columns: each call-log column as trimmed text (NULL when empty)."""

    def __init__(
        self,
        log: CallLog,
        types: dict[str, str],
        default: str,
        alias: str = "",
        *,
        given: Mapping[str, str | None] | None = None,
        purpose: str | None = None,
    ) -> None:
        self.log, self.types, self.default, self.alias = log, types, default, alias
        # The run's sector and caller_id, for calls whose log names none.
        self.given: Mapping[str, str | None] = given or {}
        self.default_purpose = purpose

    def on(self, alias: str) -> Cols:
        """The same columns, qualified by a table alias."""
        return Cols(
            self.log,
            self.types,
            self.default,
            alias,
            given=self.given,
            purpose=self.default_purpose,
        )

    def __contains__(self, name: str) -> bool:
        return name in self.log.columns

    def text(self, name: str) -> str:
        """SQL: the call-log column `name` as trimmed text, NULL when empty."""
        col = self.log.columns[name]
        ref = f"{self.alias}.{sql_name(col)}" if self.alias else sql_name(col)
        return text_sql(ref, self.types[col])

    def maybe(self, name: str) -> str:
        """SQL: `text(name)`, NULL when the log has no such column."""
        return self.text(name) if name in self else "CAST(NULL AS VARCHAR)"

    def call_type(self) -> str:
        """SQL: "live" or "automated" (empty is live; `_problem_sql` sets others aside)."""
        if "call_type" not in self:
            return "'live'"
        return f"coalesce(lower({self.text('call_type')}), 'live')"

    def controller(self) -> str:
        """SQL: the call's controller, the run's when the log names none."""
        default = sql_literal(self.default)
        if "controller" not in self:
            return default
        return f"coalesce({controller_key_sql(self.text('controller'))}, {default})"

    def purpose(self) -> str:
        """SQL: the call's purpose key, the run's when the log names none (NULL: none)."""
        given = self.default_purpose
        default = "CAST(NULL AS VARCHAR)" if given is None else sql_literal(given)
        if "purpose" not in self:
            return default
        return f"coalesce({purpose_key_sql(self.text('purpose'))}, {default})"


def _problem_sql(c: Cols, t: str, layout: Layout) -> str | None:
    """SQL naming why a row cannot be judged (NULL when it can), as `column: problem`.

    Only what `requests` does not find on the log's own columns (`layout`); None if nothing.
    """
    when = []
    if "phone" not in layout.from_own:
        when += [
            f"WHEN {c.text('phone')} IS NULL THEN {sql_literal(PHONE_EMPTY)}",
            f"WHEN {c.text('called_at')} IS NULL THEN {sql_literal(TIME_EMPTY)}",
            f"WHEN {t} IS NULL THEN {sql_literal(TIME_UNREADABLE)}",
        ]
    if "call_type" in c and "call_type" not in layout.from_own:
        when.append(
            f"WHEN lower({c.text('call_type')}) NOT IN {CALL_TYPES!r} "
            f"THEN {sql_literal(CALL_TYPE_UNKNOWN)}"
        )
    return "CASE " + " ".join(when) + " END" if when else None


def check_names(log: CallLog) -> None:
    """Refuse a log that already has a column the audit adds (it would be ambiguous)."""
    taken = [c for c in log.user_columns if c in ADDED_COLUMNS]
    if taken:
        raise InputError(
            f"the call log already has a column {taken[0]!r}, which the audit adds",
            file=log.name,
            column=taken[0],
            hint="rename that column in the call log",
        )


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """The DuckDB type of each column of `relation`."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _layout(c: Cols, *, keep: bool) -> Layout:
    """Which texts to code from the log's own columns (kept, plain text) and which in SQL."""
    if not keep:
        return Layout(controller=c.default)
    own = c.log.user_columns
    from_own = {
        name: own.index(c.log.columns[name])
        for name in (*CODED, "call_type", "phone", "called_at")
        if name in c and c.types[c.log.columns[name]].upper() == "VARCHAR"
    }
    if "phone" not in from_own or "called_at" not in from_own:  # both here, or both in SQL
        from_own.pop("phone", None)
        from_own.pop("called_at", None)
    serials = c.log.source.kind == "workbook"
    return Layout(len(own), from_own, c.default, serials, c.log.source.serial_epoch)


def _read_sql(relation: str, c: Cols, layout: Layout) -> str:
    """SQL: per row, in order, the log's own columns (`layout`), then the computed ones."""
    time_col = c.log.columns["called_at"]
    serials = c.log.source.kind == "workbook"
    epoch = c.log.source.serial_epoch
    parse = Parse(time_col, c.types[time_col], "datetime", "__og_t", serials=serials, epoch=epoch)
    here = "called_at" in layout.from_own  # parsed on the worker threads (`requests`)
    parsed = f"SELECT * FROM {relation}" if here else parse_query(relation, [parse])
    own = [sql_name(col) for col in c.log.user_columns[: layout.own]]
    computed = {} if here else {"t": "__og_t"}
    problem = _problem_sql(c, "__og_t", layout)
    if problem is not None:
        computed["problem"] = problem
    if "phone" not in layout.from_own:
        computed["phone"] = c.text("phone")
    if "call_type" not in layout.from_own:
        computed["automated"] = f"{c.call_type()} IS DISTINCT FROM 'live'"
    for name in CODED:
        if name not in layout.from_own:
            computed[name] = c.controller() if name == "controller" else c.maybe(name)
    for name in SK_TEXTS:  # the run's value where the log names none
        given = c.given.get(name)
        default = "CAST(NULL AS VARCHAR)" if given is None else sql_literal(given)
        computed[name] = f"coalesce({c.maybe(name)}, {default})"
    computed["purpose"] = c.purpose()
    named = [f"{sql} AS __og_{name}" for name, sql in computed.items()]
    return f"SELECT {', '.join([*own, *named])} FROM ({parsed})"


@dataclasses.dataclass(frozen=True)
class Part:
    """Rows of the log read in one go (`read_parts`).

    Attributes:
        cols: SQL over the log's columns.
        requests: The rows' requests; `rid` counts from 0 in each part.
        kept: The rows' own columns (with `keep`), in order.
        start: The position in the log of the part's first row.
    """

    cols: Cols
    requests: Requests
    kept: pa.Table | None
    start: int


def read_parts(
    con: duckdb.DuckDBPyConnection,
    log: CallLog,
    relation: str,
    context: Context,
    *,
    keep: bool,
    rows: int | None = None,
    buffer: str = STREAM_BUFFER,
) -> Iterator[Part]:
    """Read the log once, in parts of `rows` rows, in the log's order.

    The read runs on `con` between the parts: run other queries on another connection.

    Args:
        con: A DuckDB connection on which `relation` can be read.
        log: The opened call log.
        relation: SQL naming the log's rows (a table function or a registered table).
        context: Supplies the default region and controller.
        keep: Also return the log's own columns as read (for a file: all VARCHAR).
        rows: Rows per part; None reads the whole log as one part.
        buffer: How far DuckDB may read ahead (`settings.streaming`).

    Raises:
        InputError: The file cannot be read (the message names its line).
        NotUtf8: The file is not UTF-8 after all (`Source.is_encoding_error`): the caller
            opens it again, checked.
    """
    given = {"sector": context.sector, "caller_id": context.caller_id}
    c = Cols(
        log, column_types(con, relation), context.controller, given=given, purpose=context.purpose
    )
    layout = _layout(c, keep=keep)
    region = context.policy.default_region
    with streaming(con, buffer):
        with _reading(log):
            sql = _read_sql(relation, c, layout)
            reader = con.sql(sql).to_arrow_reader(batch_size=_batch_rows(rows))
        batches, start = _Batches(reader), 0
        while True:
            part = pa.RecordBatchReader.from_batches(reader.schema, batches.take(rows))
            with _reading(log):
                requests, kept = read_requests(part, region=region, layout=layout)
            count = requests.table.num_rows
            if count or not start:
                yield Part(c, requests, kept, start)
            start += count
            if rows is None or count < rows:
                return


def _batch_rows(part: int | None) -> int:
    """Rows normalized at a time: a few batches are in flight, so a part holds several."""
    return BATCH if part is None else max(1, min(BATCH, part // 4))


class _Batches:
    """The read's batches, handed on so many rows at a time."""

    def __init__(self, reader: pa.RecordBatchReader) -> None:
        self.batches = iter(reader)
        self.left: pa.RecordBatch | None = None  # the rest of a batch cut at a part's end

    def take(self, rows: int | None) -> Iterator[pa.RecordBatch]:
        """The next `rows` rows (all with None), as batches."""
        taken = 0
        while rows is None or taken < rows:
            batch = self.left if self.left is not None else next(self.batches, None)
            self.left = None
            if batch is None:
                return
            if rows is not None and taken + batch.num_rows > rows:
                batch, self.left = batch.slice(0, rows - taken), batch.slice(rows - taken)
            taken += batch.num_rows
            yield batch


@contextlib.contextmanager
def _reading(log: CallLog) -> Iterator[None]:
    """Raise what DuckDB met reading the log as the log's error (or `NotUtf8`)."""
    try:
        yield
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        if not _reading_error(exc):
            raise
        if log.source.is_encoding_error(exc):
            raise NotUtf8 from None
        raise log.source.read_error(exc) from None


def _reading_error(exc: BaseException) -> bool:
    """DuckDB could not read the log (raised as is, or through the Arrow stream)."""
    if isinstance(exc, duckdb.InvalidInputException | duckdb.ConversionException):
        return True
    if isinstance(exc, duckdb.IOException):
        return True
    return not isinstance(exc, duckdb.Error) and _DUCKDB_READ.match(str(exc)) is not None

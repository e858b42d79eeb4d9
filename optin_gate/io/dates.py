"""Dates and times as users write them, parsed in DuckDB SQL (vectorized, never per row in Python).

Accepted: ISO 8601 (`2026-11-28`, `2026-11-28T14:30`, `2026-11-28 14:30:15.5`, with or without
a zone such as `Z`, `+01:00` or `UTC`) and Czech (`28.11.2026`, `28. 11. 2026`,
`28.11.2026 14:30`, `28. 11. 2026 14:30:15`); from a workbook also Excel serials (`46000.5`,
days since 1899-12-30, or since 1904-01-01 in a workbook saved with the 1904 date system: a
date cell typed as a plain number). A time without a zone is
Europe/Prague local time, read exactly as `optin_gate._time.to_utc` reads it: a time in the
spring-forward gap counts as winter time, the repeated autumn hour as summer time (Python's
fold=0). Instants
come out as TIMESTAMPTZ (UTC); dates as DATE. Anything else gives NULL, which the caller turns
into a reject; `blank_sql` tells an empty field from an unparseable one.

Prague's offsets for 1970-2099 come from a table built from `zoneinfo` once, so converting a
local time is arithmetic rather than a time-zone library call per value; other years fall back
to DuckDB's ICU time zones.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from optin_gate._sql import sql_literal, sql_name
from optin_gate._time import PRAGUE
from optin_gate.errors import InputError

__all__ = [
    "EXCEL_EPOCH",
    "Parse",
    "blank_sql",
    "parse_date",
    "parse_dates",
    "parse_query",
    "parse_timestamps",
    "prague_sql",
    "text_sql",
]

_FIRST_YEAR, _LAST_YEAR = 1970, 2099
_MIN_DAY, _MAX_DAY = "1900-01-01", "2200-01-01"  # values outside are typos, not evidence
EXCEL_EPOCH = "1899-12-30"  # serial 0, unless a workbook keeps the 1904 date system


def text_sql(expr: str, sql_type: str = "VARCHAR") -> str:
    """SQL: the value as trimmed text, NULL when empty."""
    if sql_type.upper() not in ("VARCHAR", "TEXT", "STRING"):
        expr = f"CAST({expr} AS VARCHAR)"
    # trim only what needs it: most values have no surrounding spaces, and trim is not free
    return (
        f"(CASE WHEN {expr} LIKE ' %' OR {expr} LIKE '% ' THEN NULLIF(trim({expr}), '') "
        f"ELSE NULLIF({expr}, '') END)"
    )


def blank_sql(expr: str, sql_type: str = "VARCHAR") -> str:
    """SQL: true when the field is NULL or only whitespace."""
    return f"({text_sql(expr, sql_type)} IS NULL)"


def _offset(instant: datetime) -> timedelta:
    offset = instant.astimezone(PRAGUE).utcoffset()
    assert offset is not None
    return offset


def _change(start: datetime, end: datetime) -> datetime | None:
    """The first whole hour in (start, end] at which Prague's UTC offset differs from start's."""
    if _offset(start) == _offset(end):
        return None
    low, high = start, end
    while high - low > timedelta(hours=1):
        middle = low + (high - low) / 2
        middle = middle.replace(minute=0, second=0, microsecond=0)
        if middle <= low:
            middle = low + timedelta(hours=1)
        if _offset(middle) == _offset(start):
            low = middle
        else:
            high = middle
    return high


@functools.cache
def _summer_time() -> tuple[list[str], list[str]]:
    """Per year 1970-2099, the Prague wall-clock interval [start, end) of summer time.

    Read from zoneinfo: for fold=0, local times from the spring change + 1 h onwards and
    before the autumn change + 1 h are summer time (UTC+2); the rest is UTC+1. A year
    without summer time gets an empty interval. Each half year has at most one change in
    these years (checked), so two binary searches per year find them.
    """
    starts, ends = [], []
    summer = timedelta(hours=2)
    for year in range(_FIRST_YEAR, _LAST_YEAR + 1):
        jan, jul = datetime(year, 1, 1, tzinfo=UTC), datetime(year, 7, 1, tzinfo=UTC)
        nxt = datetime(year + 1, 1, 1, tzinfo=UTC)
        spring, autumn = _change(jan, jul), _change(jul, nxt)
        if _offset(jan) != timedelta(hours=1) or (spring is None) != (autumn is None):
            raise AssertionError(f"Prague {year}: unexpected offsets; extend the fallback")
        if spring is None or autumn is None:
            starts.append(f"{year}-01-01 00:00:00")
            ends.append(f"{year}-01-01 00:00:00")
            continue
        starts.append(f"{(spring + summer).replace(tzinfo=None)}")
        ends.append(f"{(autumn + summer).replace(tzinfo=None)}")
    return starts, ends


def _icu_prague(ts: str) -> str:
    """Local -> instant through ICU, with the repeated autumn hour read as summer time."""
    utc = f"timezone('Europe/Prague', {ts})"
    earlier = f"({utc} - INTERVAL 1 HOUR)"
    return (
        f"(CASE WHEN hour({ts}) = 2 AND timezone('Europe/Prague', {earlier}) = {ts} "
        f"THEN {earlier} ELSE {utc} END)"
    )


def prague_sql(ts: str) -> str:
    """SQL: a naive TIMESTAMP read as Prague wall-clock time, as a TIMESTAMPTZ instant.

    `ts` is repeated in the result: pass a column reference, not a computation.
    """
    starts, ends = _summer_time()
    start_list = "[" + ", ".join(f"TIMESTAMP '{s}'" for s in starts) + "]"
    end_list = "[" + ", ".join(f"TIMESTAMP '{e}'" for e in ends) + "]"
    index = f"(year({ts}) - {_FIRST_YEAR - 1})"
    summer = f"({ts} >= {start_list}[{index}] AND {ts} < {end_list}[{index}])"
    shift = f"CASE WHEN {summer} THEN 7200000000 ELSE 3600000000 END"
    return (
        f"(CASE WHEN year({ts}) BETWEEN {_FIRST_YEAR} AND {_LAST_YEAR} "
        f"THEN make_timestamptz(epoch_us({ts}) - {shift}) ELSE {_icu_prague(ts)} END)"
    )


def _type_family(sql_type: str) -> str:
    t = sql_type.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "tz"
    if t.startswith("TIMESTAMP"):
        return "naive"
    if t == "DATE":
        return "date"
    return "text"


@dataclasses.dataclass(frozen=True, slots=True)
class Parse:
    """One column to parse.

    Attributes:
        column: The source column's name (as in the relation).
        sql_type: Its DuckDB type (`DESCRIBE` gives it): text is parsed, a naive TIMESTAMP is
            Prague time, a TIMESTAMPTZ is kept, a DATE is that day (midnight in Prague).
        kind: "datetime" (result TIMESTAMPTZ) or "date" (result DATE).
        out: The result column's name.
        serials: Plain numbers are Excel serials (a workbook's column); elsewhere a bare
            number is no date, and rejecting it beats guessing.
        epoch: The day serial 0 stands for (ISO): the workbook's date system.
    """

    column: str
    sql_type: str
    kind: str
    out: str
    serials: bool = False
    epoch: str = EXCEL_EPOCH


def parse_query(relation: str, parses: Sequence[Parse]) -> str:
    """SQL: every column of `relation`, plus each parsed column, NULL when blank or unparseable.

    Built in layers so that each value is trimmed, classified and parsed once.

    Args:
        relation: A table, view or parenthesised query.
        parses: The columns to parse; their `out` names must not clash with the relation's.
    """
    layers: list[list[str]] = [[], [], [], [], []]
    scratch: list[str] = []
    for i, p in enumerate(parses):
        col = sql_name(p.column)
        family = _type_family(p.sql_type)
        s, c, e, n, z, x = (f"__og_{k}{i}" for k in "scenzx")
        scratch.append(x)
        if family == "tz":
            value = (
                f"CAST({col} AS TIMESTAMPTZ)"
                if p.kind == "datetime"
                else f"CAST(timezone('Europe/Prague', {col}) AS DATE)"
            )
        elif family in ("naive", "date"):
            layers[0].append(f"CAST({col} AS TIMESTAMP) AS {n}")
            scratch.append(n)
            value = prague_sql(n) if p.kind == "datetime" else f"CAST({n} AS DATE)"
        else:
            scratch += [s, c, e, n, z]
            layers[0].append(f"{text_sql(col, p.sql_type)} AS {s}")
            layers[1].append(f"{_classify(s)} AS {c}")
            layers[2].append(f"CASE WHEN {c} = 3 THEN {_czech_text(s)} END AS {e}")
            layers[2].append(f"CASE WHEN {c} = 2 THEN TRY_CAST({s} AS TIMESTAMPTZ) END AS {z}")
            czech = _czech_sql(e)
            if p.serials:
                czech = f"coalesce({czech}, {_serial_sql(s, p.epoch)})"
            layers[3].append(
                f"CASE {c} WHEN 1 THEN TRY_CAST({s} AS TIMESTAMP) WHEN 3 THEN {czech} END AS {n}"
            )
            if p.kind == "datetime":
                value = f"coalesce({z}, {prague_sql(n)})"
            else:
                value = f"coalesce(CAST(timezone('Europe/Prague', {z}) AS DATE), CAST({n} AS DATE))"
        layers[4].append(f"{value} AS {x}")
    query = relation
    for layer in layers:
        if layer:
            query = f"(SELECT *, {', '.join(layer)} FROM {query})"
    if not parses:
        return f"SELECT * FROM {query}"
    checks = ", ".join(
        f"{_bounded(f'__og_x{i}', p.kind)} AS {sql_name(p.out)}" for i, p in enumerate(parses)
    )
    excluded = ", ".join(scratch)
    return f"SELECT * EXCLUDE ({excluded}) FROM (SELECT *, {checks} FROM {query})"


def _bounded(expr: str, kind: str) -> str:
    if kind == "datetime":
        low, high = f"TIMESTAMPTZ '{_MIN_DAY} 00:00:00+00'", f"TIMESTAMPTZ '{_MAX_DAY} 00:00:00+00'"
    else:
        low, high = f"DATE '{_MIN_DAY}'", f"DATE '{_MAX_DAY}'"
    return f"(CASE WHEN {expr} >= {low} AND {expr} < {high} THEN {expr} END)"


def _czech_text(s: str) -> str:
    """SQL: a Czech date text with the spaces after its dots removed (`28. 11. 2026`)."""
    return f"replace(replace(replace({s}, '.  ', '.'), '. ', '.'), '. ', '.')"


def _czech_sql(e: str) -> str:
    """SQL: a Czech `d.m.yyyy[ h:mm[:ss[.f]]]` text as a naive TIMESTAMP; NULL if not one."""
    colons = f"(length({e}) - length(replace({e}, ':', '')))"
    return (
        f"(CASE {colons} WHEN 0 THEN try_strptime({e}, '%d.%m.%Y') "
        f"WHEN 1 THEN try_strptime({e}, '%d.%m.%Y %H:%M') "
        f"WHEN 2 THEN try_strptime({e}, ['%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M:%S.%f']) END)"
    )


def _serial_sql(s: str, epoch: str) -> str:
    """SQL: an Excel serial (`46000.5`: days and a fraction since `epoch`) as a TIMESTAMP.

    Rounded to the millisecond, since a time of day is stored as a binary fraction. At most
    six digits of days: larger numbers are no dates, and the bounds check drops them anyway.
    """
    return (
        f"(CASE WHEN regexp_full_match({s}, '[0-9]{{1,6}}(\\.[0-9]+)?') "
        f"THEN CAST({sql_literal(epoch)} AS TIMESTAMP) + to_milliseconds("
        f"CAST(round(CAST({s} AS DOUBLE) * 86400000) AS BIGINT)) END)"
    )


def _classify(s: str) -> str:
    """SQL: 1 local ISO, 2 ISO with a zone, 3 maybe Czech, for a trimmed text `s`.

    DuckDB's TIMESTAMP cast drops a zone and a trailing word after a space without a word, so
    a text is local ISO only without a zone mark and without a space after its date's
    separator; a zone is an offset, `Z`, ` UTC` or ` GMT`. Anything else fails to parse and
    becomes a reject, never a guess. Cheap tests only: this runs on every value.
    """
    zone = (
        f"strpos({s}, '+') > 0 OR strpos(substr({s}, 11), '-') > 0 OR {s} LIKE '%Z' "
        f"OR {s} LIKE '%z' OR {s} LIKE '% UTC' OR {s} LIKE '% GMT'"
    )
    return (
        f"CASE WHEN substr({s}, 5, 1) <> '-' THEN 3 WHEN {zone} THEN 2 "
        f"WHEN strpos(substr({s}, 12), ' ') = 0 THEN 1 END"
    )


_LOCAL = threading.local()


def _connection() -> Any:
    """A per-thread in-memory DuckDB connection for the small helpers below."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        _LOCAL.con = con
    return con


def _run(values: Any, kind: str, *, serials: bool = False, epoch: str = EXCEL_EPOCH) -> Any:
    import pyarrow as pa

    array = values if isinstance(values, pa.ChunkedArray | pa.Array) else pa.array(values)
    if array.type == pa.null():
        array = array.cast(pa.string())
    con = _connection()
    con.register("og_values", pa.table({"x": array}))
    try:
        sql_type = str(con.execute("DESCRIBE SELECT x FROM og_values").fetchall()[0][1])
        query = parse_query("og_values", [Parse("x", sql_type, kind, "y", serials, epoch)])
        return con.sql(f"SELECT y FROM ({query})").to_arrow_table().column("y")
    finally:
        con.unregister("og_values")


def parse_timestamps(values: Any, *, serials: bool = False, epoch: str = EXCEL_EPOCH) -> Any:
    """Parse user times (list, Arrow array) to an Arrow timestamp[us, UTC] column; NULL if not.

    `serials` and `epoch` read plain numbers as a workbook's date cells (`Parse`).
    """
    return _run(values, "datetime", serials=serials, epoch=epoch)


def parse_dates(values: Any) -> Any:
    """Parse user dates (list, Arrow array) to an Arrow date32 column; NULL if not."""
    return _run(values, "date")


def parse_date(value: date | datetime | str, *, name: str = "date") -> date:
    """One user date (an argument such as --snapshot-date): ISO or Czech.

    Raises:
        InputError: Not a date.
    """
    if isinstance(value, datetime):
        return value.astimezone(PRAGUE).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    parsed = parse_dates([str(value)])[0].as_py() if isinstance(value, str) else None
    if parsed is None:
        raise InputError(
            f"{name}={value!r} is not a date",
            hint="write 2026-11-28 or 28.11.2026",
        )
    return parsed  # type: ignore[no-any-return]

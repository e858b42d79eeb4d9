"""Staging a load: a user's file to typed, checked, de-duplicated rows plus rejects.

Runs in a private in-memory DuckDB, before the store is opened: a 10M-row file is parsed,
normalized and checked without holding the store's lock. Set-based throughout: DuckDB reads
the file, the phone column goes through the numbers stage in batches straight to keys and the
keys are joined back by position, dates are parsed in SQL (`optin_gate.io.parse_query`),
duplicate records are ruled out by sorting key hashes.

A row is rejected, with its file line, column and reason, when a required field is empty, the
phone is not a valid number, a date does not parse or a value is not one the schema allows,
or when a later row of the file says something else about the same record.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate._runtime import duckdb_config
from optin_gate._sql import sql_literal, sql_name
from optin_gate.errors import InputError
from optin_gate.io import (
    EXCEL_EPOCH,
    FieldSpec,
    Parse,
    Source,
    fold,
    parse_date,
    parse_query,
    resolve_columns,
    text_sql,
)
from optin_gate.numbers._arrow import int_array
from optin_gate.numbers.table import dedupe_pays, normalize_codes
from optin_gate.store.database import configure, first
from optin_gate.store.kinds import Kind

__all__ = ["DATED", "Staged", "check_release_date", "coerce_snapshot_date", "stage"]

_BATCH = 1 << 20  # phones read and normalized at a time

_SQL_TYPES = {"string": "VARCHAR", "datetime": "TIMESTAMPTZ", "date": "DATE", "boolean": "BOOLEAN"}
_TIME_HINT = {
    "datetime": "not a date and time (write 2026-11-28 14:30 or 28.11.2026 14:30)",
    "date": "not a date (write 2026-11-28 or 28.11.2026)",
}


@dataclasses.dataclass
class Staged:
    """A staged load.

    Attributes:
        rows: Accepted rows, one per record: `__row` (0-based) and `kind.store_columns`
            (a directory's only phone and marketing: its date is `snapshot_date`).
        rejects: `__row`, `column` (the file's header), `reason`, then the row's mapped fields
            as text under the file's headers.
        rows_read: Data rows in the source.
        snapshot_date: The directory snapshot's date (directory loads only).
        mapping: canonical column -> the file's header.
        source: A directory snapshot's publisher(s) as the file names them (the directory
            table has no column for it; `loads.source` keeps it).
    """

    rows: pa.Table
    rejects: pa.Table
    rows_read: int
    snapshot_date: date | None = None
    mapping: dict[str, str] = dataclasses.field(default_factory=dict)
    source: str | None = None


def _enum_sql(col: str, spec: FieldSpec) -> str:
    """SQL: the value as one of the schema's enum values (NULL if none), folded like headers."""
    assert spec.enum is not None
    exact = ", ".join(sql_literal(v) for v in spec.enum)
    folded = f"regexp_replace(strip_accents(lower({col})), '[\\s_\\-.]+', '', 'g')"
    cases = " ".join(f"WHEN {sql_literal(fold(v))} THEN {sql_literal(v)}" for v in spec.enum)
    return f"(CASE WHEN {col} IN ({exact}) THEN {col} ELSE (CASE {folded} {cases} END) END)"


def _blank(text: str, sql_type: str) -> str:
    if sql_type.upper() != "VARCHAR":
        return f"({text} IS NULL)"
    return f"({text} IS NULL OR trim({text}) = '')"


def _field_sql(spec: FieldSpec, header: str, sql_type: str) -> tuple[str, list[tuple[str, str]]]:
    """(typed value, [(condition, reason)] that reject the row) for one mapped field.

    Over the relation `p`: string fields already trimmed, phone and time fields raw, the
    parsed time in `og_v_<name>` and the phone's key in `og_key`.
    """
    col = f"p.{sql_name(spec.name)}"
    checks: list[tuple[str, str]] = []
    if spec.name == "phone":
        value = "p.og_key"
        if spec.required:
            checks.append(
                (f"{value} IS NULL AND {_blank(col, sql_type)}", "required field is empty")
            )
        checks.append((f"{value} IS NULL", "not a valid phone number"))
    elif spec.type in _TIME_HINT:
        value = f"p.og_v_{spec.name}"
        if spec.required:
            checks.append(
                (f"{value} IS NULL AND {_blank(col, sql_type)}", "required field is empty")
            )
        checks.append((f"{value} IS NULL AND NOT {_blank(col, sql_type)}", _TIME_HINT[spec.type]))
    else:
        value = _enum_sql(col, spec) if spec.enum is not None else col
        if spec.required:
            checks.append((f"{col} IS NULL", "required field is empty"))
        if spec.enum is not None:
            allowed = ", ".join(spec.enum)
            checks.append((f"{col} IS NOT NULL AND {value} IS NULL", f"must be one of {allowed}"))
    return value, [(cond, f"{header}\x1f{reason}") for cond, reason in checks]


def _phone_keys(con: duckdb.DuckDBPyConnection, region: str) -> None:
    """og_keys: each row's phone key (NULL unless a valid number), in og_raw's row order.

    The phones are read and normalized `_BATCH` rows at a time, straight to int64 keys:
    only the keys of the whole file are held, so a large file loads within a container's
    memory. Whether de-duplicating pays is decided once, on the first batch. The keys line
    up with og_raw by position (POSITIONAL JOIN): no string join back.
    """
    count = first(con, "SELECT count(*) FROM og_raw")
    keys, dedupe = [], None
    for start in range(0, int(count[0]) if count else 0, _BATCH):
        rows = f"rowid >= {start} AND rowid < {start + _BATCH}"  # og_raw's rowid is its row
        phones = con.sql(f"SELECT phone FROM og_raw WHERE {rows}").to_arrow_table()["phone"]
        if dedupe is None:
            dedupe = dedupe_pays(phones)
        codes = normalize_codes(phones, region, dedupe=dedupe)
        keys.append(int_array(codes.key, ~codes.valid))
    con.register("og_keys", pa.table({"og_key": pa.chunked_array(keys, pa.int64())}))


def _load_raw(
    con: duckdb.DuckDBPyConnection, src: Source, mapping: dict[str, str]
) -> tuple[int, dict[str, str]]:
    """og_raw: the mapped columns under their canonical names, in file order (rowid = row)."""
    relation = src.relation(con, "og_input")
    select = ", ".join(
        f"CAST({sql_name(header)} AS VARCHAR) AS phone"
        if name == "phone"
        else f"{sql_name(header)} AS {sql_name(name)}"
        for name, header in mapping.items()
    )
    try:
        con.execute(f"CREATE TEMP TABLE og_raw AS SELECT {select} FROM {relation}")
    except duckdb.Error as exc:
        raise src.read_error(exc) from None
    count = first(con, "SELECT count(*) FROM og_raw")
    types = {r[0]: str(r[1]) for r in con.execute("DESCRIBE og_raw").fetchall()}
    return (int(count[0]) if count else 0), types


def _typed(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    mapping: dict[str, str],
    types: dict[str, str],
    controller: str | None,
    *,
    serials: bool = False,
    epoch: str = EXCEL_EPOCH,
) -> None:
    """og_typed: the store's columns with defaults applied, and each row's first error.

    `serials`: the source is a workbook, whose plain numbers in a date column are serials
    counted from the day `epoch`.
    """
    cols = ["rowid AS __row"]
    parses: list[Parse] = []
    small: list[Parse] = []
    for name in mapping:
        spec = kind.schema.field(name)
        if name == "phone" or spec.type in _TIME_HINT:
            cols.append(sql_name(name))
        else:
            cols.append(f"{text_sql(sql_name(name), types[name])} AS {sql_name(name)}")
        if spec.type in _TIME_HINT:
            parse = Parse(
                name, types[name], spec.type, f"og_v_{name}", serials=serials, epoch=epoch
            )
            (small if name in kind.few_values else parses).append(parse)
    relation = f"(SELECT * FROM (SELECT {', '.join(cols)} FROM og_raw) POSITIONAL JOIN og_keys)"
    lookups = {}
    for parse in small:
        lookup = _few_values(con, parse)
        if lookup is None:
            parses.append(parse)
        else:
            lookups[parse.column] = lookup
    values, checks = {}, []
    for name in kind.schema.names:
        if name not in mapping:
            values[name] = f"CAST(NULL AS {_SQL_TYPES[kind.schema.field(name).type]})"
            continue
        spec = kind.schema.field(name)
        sql_type = "VARCHAR" if name == "phone" else types[name]
        value, more = _field_sql(spec, mapping[name], sql_type)
        if name in lookups:
            more = [(c.replace(value, lookups[name]), r) for c, r in more]
            value = lookups[name]
        values[name] = value
        checks += more
    for name, condition, reason in kind.checks:
        if name in mapping:
            checks.append((condition.format(f"p.{sql_name(name)}"), f"{mapping[name]}\x1f{reason}"))
    error = " ".join(f"WHEN {cond} THEN {sql_literal(reason)}" for cond, reason in checks)
    finished = kind.finish(values, controller)
    select = ", ".join(f"{expr} AS {sql_name(name)}" for name, expr in finished.items())
    con.execute(
        f"CREATE TEMP TABLE og_typed AS SELECT p.__row, {select}, "
        f"CASE {error} END AS og_error FROM ({parse_query(relation, parses)}) p"
    )


def _few_values(con: duckdb.DuckDBPyConnection, parse: Parse, limit: int = 64) -> str | None:
    """SQL mapping each distinct value of a column to its parsed value, if there are few.

    A directory file repeats one snapshot date on 10M rows: parse it once and map the text
    with a CASE (no join). None when the column has more than `limit` distinct values.
    """
    col = sql_name(parse.column)
    distinct = f"(SELECT DISTINCT {col} FROM og_raw LIMIT {limit + 1})"
    found = con.execute(f"SELECT {col}, {parse.out} FROM ({parse_query(distinct, [parse])})")
    pairs = found.fetchall()
    if len(pairs) > limit:
        return None
    kind = "TIMESTAMPTZ" if parse.kind == "datetime" else "DATE"
    whens = " ".join(
        f"WHEN {sql_literal(str(raw))} THEN {kind} '{value.isoformat()}'"
        for raw, value in pairs
        if raw is not None and value is not None
    )
    source = f"CAST(p.{col} AS VARCHAR)"
    return f"(CASE {source} {whens} END)" if whens else f"CAST(NULL AS {kind})"


# Per kind dated as a whole: the column holding its date, and what the date is called.
DATED = {
    "directory": ("snapshot_date", "snapshot", "a directory load is one full snapshot"),
    "sk_register": ("release_date", "release", "a Slovak list load is one release"),
}


def check_release_date(day: date, *, file: str | None = None, column: str | None = None) -> date:
    """A Slovak list release date: the list is released on the 1st and 16th only.

    Raises:
        InputError: Any other day of the month.
    """
    if day.day not in (1, 16):
        due = day.replace(day=16 if day.day >= 16 else 1)
        raise InputError(
            f"{day.isoformat()} is not a release date of the Slovak list",
            file=file,
            column=column,
            hint=f"releases come out on the 1st and 16th: did you mean {due.isoformat()}?",
        )
    return day


def _snapshot(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    given: date | None,
    mapping: dict[str, str],
    kind: Kind,
) -> date:
    column, what, one = DATED[kind.name]
    found = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT {column} FROM og_typed "
            f"WHERE og_error IS NULL AND {column} IS NOT NULL ORDER BY 1 LIMIT 3"
        ).fetchall()
    ]
    header = mapping.get(column)
    if kind.name == "sk_register":
        for day in found:
            check_release_date(day, file=src.name, column=header)
    if given is not None:
        if found and found != [given]:
            other = next(d for d in found if d != given)
            raise InputError(
                f"snapshot_date={given.isoformat()} was given but the file says "
                f"{other.isoformat()}",
                file=src.name,
                column=header,
                hint=f"drop the argument, or fix the file's {column} column",
            )
        return given
    if not found:
        raise InputError(
            f"a {'directory snapshot' if what == 'snapshot' else 'Slovak list release'} "
            "needs its date",
            file=src.name,
            hint="pass --snapshot-date 2026-11-01 (Python: snapshot_date=...) or add a "
            f"{column} column",
        )
    if len(found) > 1:
        raise InputError(
            f"the file holds several {what} dates ({', '.join(d.isoformat() for d in found)})",
            file=src.name,
            column=header,
            hint=f"{one}: split the file by date",
        )
    return found[0]  # type: ignore[no-any-return]


def _may_repeat(con: duckdb.DuckDBPyConnection, kind: Kind) -> bool:
    """Whether two accepted rows may share a record key (False: they surely do not).

    Sorting the keys' 64-bit hashes in numpy takes a fraction of a second for 10M rows, far
    less than a GROUP BY; equal hashes (a repeat, or a rare collision) send the load down the
    exact path.
    """
    key = kind.key[0] if kind.key == ("phone",) else f"hash({', '.join(kind.key)})"
    hashes = con.sql(f"SELECT {key} AS k FROM og_fin").fetchnumpy()["k"]
    if len(hashes) < 2:
        return False
    values = np.sort(np.asarray(hashes))
    return bool((values[1:] == values[:-1]).any())


def _dedupe(con: duckdb.DuckDBPyConnection, kind: Kind, mapping: dict[str, str]) -> None:
    """og_rows: one row per record; conflicting extra rows go to og_dup_rejects."""
    key = ", ".join(kind.key)
    content = [c for c in kind.store_columns if c not in ("snapshot_date", "release_date")]
    header = mapping.get(kind.key[-1], kind.key[-1])
    if kind.name == "directory":
        reason = "the number is listed again with another mark; the most restrictive is kept"
    elif kind.name == "sk_register":
        reason = "the number is listed again with another entry; the registration is kept"
    else:
        reason = f"a later row of the file has the same {kind.key[-1]} and is loaded instead"
    con.execute('CREATE TEMP TABLE og_dup_rejects (__row BIGINT, "column" VARCHAR, reason VARCHAR)')
    if not _may_repeat(con, kind):
        con.execute("CREATE TEMP VIEW og_rows AS SELECT * FROM og_fin")
        return
    # The kept row takes each sticky column's earliest value over the record's rows.
    sticky = "".join(f", min({c}) OVER (PARTITION BY {key}) AS og_sticky_{c}" for c in kind.sticky)
    kept = ", ".join(f"og_sticky_{c} AS {c}" for c in kind.sticky)
    kept = f" REPLACE ({kept})" if kept else ""
    dropped = "".join(f", og_sticky_{c}" for c in kind.sticky)
    con.execute(
        f"CREATE TEMP TABLE og_ranked AS SELECT *{sticky}, "
        f"row_number() OVER (PARTITION BY {key} ORDER BY {kind.priority_sql()}) AS og_rank "
        f"FROM og_fin WHERE ({key}) IN (SELECT ({key}) FROM og_fin GROUP BY {key} "
        f"HAVING count(*) > 1)"
    )
    on = " AND ".join(f"w.{k} IS NOT DISTINCT FROM l.{k}" for k in kind.key)
    winner = ", ".join(f"w.og_sticky_{c}" if c in kind.sticky else f"w.{c}" for c in content)
    loser = ", ".join(f"l.{c}" for c in content)
    same = f"({winner}) IS NOT DISTINCT FROM ({loser})"
    con.execute(
        f"INSERT INTO og_dup_rejects SELECT l.__row, {sql_literal(header)}, {sql_literal(reason)} "
        f"FROM og_ranked l JOIN og_ranked w ON {on} AND w.og_rank = 1 "
        f"WHERE l.og_rank > 1 AND NOT {same}"
    )
    con.execute(
        f"CREATE TEMP VIEW og_rows AS SELECT * EXCLUDE (og_rank{dropped}){kept} "
        "FROM og_ranked WHERE og_rank = 1 "
        f"UNION ALL BY NAME SELECT * FROM og_fin WHERE ({key}) NOT IN "
        f"(SELECT ({key}) FROM og_ranked)"
    )


def _rejects(con: duckdb.DuckDBPyConnection, mapping: dict[str, str]) -> pa.Table:
    fields = ", ".join(
        f"CAST(r.{sql_name(name)} AS VARCHAR) AS {sql_name(header)}"
        for name, header in mapping.items()
    )
    sql = (
        'WITH e AS (SELECT __row, split_part(og_error, chr(31), 1) AS "column", '
        "split_part(og_error, chr(31), 2) AS reason FROM og_typed WHERE og_error IS NOT NULL "
        "UNION ALL SELECT * FROM og_dup_rejects) "
        f'SELECT e.__row, e."column", e.reason, {fields} FROM e '
        "JOIN (SELECT rowid AS __row, * FROM og_raw) r USING (__row) ORDER BY e.__row"
    )
    return con.sql(sql).to_arrow_table()


def stage(
    kind: Kind,
    src: Source,
    *,
    controller: str | None,
    snapshot_date: date | None,
    columns: dict[str, str] | None,
    region: str,
) -> Staged:
    """Read, type, check and de-duplicate one source for `kind`.

    Raises:
        InputError: A required column is missing, the file cannot be read, or (directory) the
            snapshot date is missing, ambiguous or contradicts `snapshot_date`.
    """
    required = None
    dated = DATED.get(kind.name)
    if dated is not None:
        required = [n for n in kind.schema.required if n != dated[0]]
    mapping = resolve_columns(
        src.columns, kind.schema, columns=columns, file=src.name, require=required
    )
    # The accepted rows leave as an Arrow table while DuckDB still holds the staging tables.
    beside = (src.size or 0) // 2
    con = configure(duckdb.connect(config=duckdb_config(beside)))
    try:
        rows_read, types = _load_raw(con, src, mapping)
        _phone_keys(con, region)
        workbook = src.kind == "workbook"
        _typed(con, kind, mapping, types, controller, serials=workbook, epoch=src.serial_epoch)
        snapshot = None
        if dated is not None:
            snapshot = _snapshot(con, src, snapshot_date, mapping, kind)
        con.execute("CREATE TEMP VIEW og_fin AS SELECT * FROM og_typed WHERE og_error IS NULL")
        _dedupe(con, kind, mapping)
        wanted = kind.store_columns
        if dated is not None:
            wanted = tuple(c for c in kind.store_columns if c not in (dated[0], "source"))
        rows = con.sql(f"SELECT __row, {', '.join(wanted)} FROM og_rows").to_arrow_table()
        rejects = _rejects(con, mapping)
        source = None
        if kind.name == "directory" and "source" in mapping:
            found = con.execute(
                "SELECT DISTINCT source FROM og_fin WHERE source IS NOT NULL ORDER BY 1 LIMIT 4"
            ).fetchall()
            source = ", ".join(str(r[0]) for r in found[:3]) + (", ..." if len(found) > 3 else "")
        return Staged(rows, rejects, rows_read, snapshot, mapping, source or None)
    finally:
        con.close()


def coerce_snapshot_date(value: Any) -> date | None:
    """The `snapshot_date=` argument as a date (None stays None)."""
    return None if value is None else parse_date(value, name="snapshot_date")

"""Directory snapshots as validity intervals, in any date order.

A row (phone, marketing, valid_from, valid_to) says the number was listed with that mark on
every snapshot date in [valid_from, valid_to). Adding a snapshot S between its neighbours P
(newest before S) and N (oldest after S) touches only what S changes:

* an interval spanning S whose mark S does not repeat is cut at S, and continues from N if it
  reached past N;
* a mark S lists that no interval spanning S carries starts a new interval [S, N), or, when
  an interval with that mark starts at N, that interval is extended back to S.

So the usual case, a newer snapshot differing in 1 % of numbers, adds about 1 % rows, and
"the directory as of day D" stays one range scan. A second, different file for a date already
loaded is refused: history must show what was known, so a snapshot is never replaced.
"""

from __future__ import annotations

from datetime import date

import duckdb

from optin_gate._sql import sql_literal
from optin_gate.errors import InputError
from optin_gate.store.database import first

__all__ = ["merge_directory"]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = first(con, sql)
    return row[0] if row else None


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = first(con, sql)
    return int(row[0]) if row else 0


def _same_as_held(con: duckdb.DuckDBPyConnection, day: str) -> bool:
    held = (
        f"SELECT phone, marketing FROM directory WHERE valid_from <= {day} "
        f"AND (valid_to IS NULL OR valid_to > {day})"
    )
    diff = _one(
        con,
        f"SELECT count(*) FROM ((SELECT phone, marketing FROM og_incoming EXCEPT {held}) "
        f"UNION ALL ({held} EXCEPT SELECT phone, marketing FROM og_incoming))",
    )
    return diff == 0


def merge_directory(
    con: duckdb.DuckDBPyConnection, load_id: int, snapshot: date, *, file: str
) -> int:
    """Add one full snapshot; returns the number of interval rows added or changed.

    Raises:
        InputError: A different snapshot with this date is already held.
    """
    day = sql_literal(snapshot)
    held = _one(con, f"SELECT load_id FROM directory_snapshots WHERE snapshot_date = {day}")
    if held is not None:
        if _same_as_held(con, day):
            return 0
        raise InputError(
            f"a different directory snapshot dated {snapshot.isoformat()} is already loaded "
            f"(load {held})",
            file=file,
            hint="a snapshot is never replaced, so history shows what was known; load the "
            "file under the date it was published (--snapshot-date)",
        )
    if _one(con, "SELECT count(*) FROM directory_snapshots") == 0:  # the first snapshot
        con.execute(f"INSERT INTO directory SELECT phone, marketing, {day}, NULL FROM og_incoming")
        rows = _count(con, "SELECT count(*) FROM og_incoming")
        con.execute(f"INSERT INTO directory_snapshots VALUES ({day}, {load_id}, {rows})")
        return rows
    following = _one(
        con, f"SELECT min(snapshot_date) FROM directory_snapshots WHERE snapshot_date > {day}"
    )
    nxt = sql_literal(following) if isinstance(following, date) else "NULL"
    spans = f"d.valid_from < {day} AND (d.valid_to IS NULL OR d.valid_to > {day})"
    con.execute(
        "CREATE TEMP TABLE og_cut AS SELECT d.phone, d.marketing, d.valid_from, d.valid_to "
        f"FROM directory d WHERE {spans} AND NOT EXISTS (SELECT 1 FROM og_incoming n "
        "WHERE n.phone = d.phone AND n.marketing = d.marketing)"
    )
    con.execute(
        "CREATE TEMP TABLE og_extend AS SELECT d.phone, d.marketing FROM directory d "
        f"JOIN og_incoming n ON n.phone = d.phone AND n.marketing = d.marketing "
        f"WHERE d.valid_from = {nxt}"
    )
    con.execute(
        "CREATE TEMP TABLE og_start AS SELECT n.phone, n.marketing FROM og_incoming n "
        "WHERE NOT EXISTS (SELECT 1 FROM directory d WHERE d.phone = n.phone "
        f"AND d.marketing = n.marketing AND {spans}) "
        "AND NOT EXISTS (SELECT 1 FROM og_extend e WHERE e.phone = n.phone "
        "AND e.marketing = n.marketing)"
    )
    con.execute(f"INSERT INTO directory SELECT phone, marketing, {day}, {nxt} FROM og_start")
    if following is not None:
        con.execute(
            f"UPDATE directory SET valid_from = {day} FROM og_extend e "
            "WHERE directory.phone = e.phone AND directory.marketing = e.marketing "
            f"AND directory.valid_from = {nxt}"
        )
        con.execute(
            f"INSERT INTO directory SELECT phone, marketing, {nxt}, valid_to FROM og_cut "
            f"WHERE valid_to IS NULL OR valid_to > {nxt}"
        )
    con.execute(
        f"UPDATE directory SET valid_to = {day} FROM og_cut c "
        "WHERE directory.phone = c.phone AND directory.valid_from = c.valid_from"
    )
    listed = _count(con, "SELECT count(*) FROM og_incoming")
    con.execute(f"INSERT INTO directory_snapshots VALUES ({day}, {load_id}, {listed})")
    changed = 0
    for table in ("og_cut", "og_extend", "og_start"):
        changed += _count(con, f"SELECT count(*) FROM {table}")
        con.execute(f"DROP TABLE {table}")
    return changed

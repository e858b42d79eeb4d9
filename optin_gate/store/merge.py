"""Merging staged consents, contracts and objections into the store: history, not overwrite.

Runs inside the load's transaction, on the store connection, with the staged rows registered
as `og_incoming`. A consent or contract whose fields differ from its current version becomes
a new version; the old one gets `superseded_by` = this load. A row equal to the current
version changes nothing. A reload never forgets a withdrawal (`Kind.sticky`). Objections are
append-only and never rejected.
"""

from __future__ import annotations

import duckdb

from optin_gate.store.database import first
from optin_gate.store.kinds import Kind

__all__ = ["merge_objections", "merge_versioned"]


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = first(con, sql)
    return int(row[0]) if row else 0


def merge_versioned(con: duckdb.DuckDBPyConnection, kind: Kind, load_id: int) -> int:
    """Add new versions of consents or contracts; returns how many records changed."""
    table = kind.name
    key = kind.key
    cols = list(kind.store_columns)
    values = {c: f"i.{c}" for c in cols}
    for c in kind.sticky:
        values[c] = f"least(i.{c}, c.{c})"  # DuckDB's least skips NULLs
    if first(con, f"SELECT 1 FROM {table} LIMIT 1") is None:  # a first load: all new
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT {', '.join(cols)}, {load_id} AS load_id, "
            "CAST(NULL AS INTEGER) AS superseded_by FROM og_incoming"
        )
        return _count(con, "SELECT count(*) FROM og_incoming")
    on = " AND ".join(f"c.{k} = i.{k}" for k in key)
    content = [c for c in cols if c not in key]
    new_row = ", ".join(values[c] for c in content)
    old_row = ", ".join(f"c.{c}" for c in content)
    select = ", ".join(f"{values[c]} AS {c}" for c in cols)
    con.execute(
        f"CREATE TEMP TABLE og_changed AS SELECT {select} FROM og_incoming i "
        f"LEFT JOIN {table}_current c ON {on} "
        f"WHERE c.{key[-1]} IS NULL OR ({new_row}) IS DISTINCT FROM ({old_row})"
    )
    changed = _count(con, "SELECT count(*) FROM og_changed")
    if changed:
        match = " AND ".join(f"{table}.{k} = ch.{k}" for k in key)
        con.execute(
            f"UPDATE {table} SET superseded_by = {load_id} FROM og_changed ch "
            f"WHERE {match} AND {table}.superseded_by IS NULL"
        )
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT *, {load_id} AS load_id, "
            f"CAST(NULL AS INTEGER) AS superseded_by FROM og_changed"
        )
    con.execute("DROP TABLE og_changed")
    return changed


def merge_objections(con: duckdb.DuckDBPyConnection, kind: Kind, load_id: int) -> int:
    """Append the objections the store does not hold yet; returns how many.

    An objection is never changed and never lost: one equal in every part of its identity
    (`kind.key`) is already there; any other is added, even under an id the store holds for
    another number, controller or time (two systems that both number from 1).
    """
    same = " AND ".join(f"o.{k} IS NOT DISTINCT FROM i.{k}" for k in kind.key)
    new = f"FROM og_incoming i WHERE NOT EXISTS (SELECT 1 FROM objections o WHERE {same})"
    added = _count(con, f"SELECT count(*) {new}")
    con.execute(
        "INSERT INTO objections BY NAME SELECT objection_id, phone, controller, objected_at, "
        f"source, {load_id} AS load_id, current_timestamp AS recorded_at {new}"
    )
    return added

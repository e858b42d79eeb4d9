"""Merging staged consents, contracts and objections into the store: history, not overwrite.

Runs inside the load's transaction, on the store connection, with the staged rows registered
as `og_incoming`. A consent or contract whose fields differ from its current version becomes
a new version; the old one gets `superseded_by` = this load. A row equal to the current
version changes nothing. A reload never forgets a withdrawal: if the stored version was
withdrawn, the new version keeps the earlier of the two withdrawal times (a consent, once
withdrawn, needs a new grant with its own id). Objections are append-only by id.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from optin_gate.io import sql_literal
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
    if table == "consents":
        values["withdrawn_at"] = (
            "CASE WHEN c.withdrawn_at IS NULL THEN i.withdrawn_at "
            "WHEN i.withdrawn_at IS NULL THEN c.withdrawn_at "
            "ELSE least(i.withdrawn_at, c.withdrawn_at) END"
        )
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


def merge_objections(
    con: duckdb.DuckDBPyConnection, load_id: int, id_header: str
) -> tuple[int, pa.Table]:
    """Append new objections.

    Returns:
        (objections added, rejects as a table of __row, column, reason): a row whose id the
        store already holds with other details is rejected, never overwritten.
    """
    same = (
        "(i.phone, i.controller, i.objected_at) IS NOT DISTINCT FROM "
        "(o.phone, o.controller, o.objected_at)"
    )
    reason = (
        "the store already holds this objection_id with other details; objections are never "
        "changed, give the new one its own id"
    )
    rejects = con.sql(
        f'SELECT i.__row, {sql_literal(id_header)} AS "column", {sql_literal(reason)} AS reason '
        "FROM og_incoming i "
        "WHERE EXISTS (SELECT 1 FROM objections o WHERE o.objection_id = i.objection_id) "
        f"AND NOT EXISTS (SELECT 1 FROM objections o WHERE o.objection_id = i.objection_id "
        f"AND {same}) ORDER BY 1"
    ).to_arrow_table()
    added = _count(
        con,
        "SELECT count(*) FROM og_incoming i WHERE NOT EXISTS "
        "(SELECT 1 FROM objections o WHERE o.objection_id = i.objection_id)",
    )
    con.execute(
        f"INSERT INTO objections BY NAME SELECT objection_id, phone, controller, objected_at, "
        f"source, {load_id} AS load_id FROM og_incoming i WHERE NOT EXISTS "
        "(SELECT 1 FROM objections o WHERE o.objection_id = i.objection_id)"
    )
    return added, rejects

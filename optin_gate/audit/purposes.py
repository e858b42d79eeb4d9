"""The consent notes of the audit's calls, beside the decisions.

`call_notes` gives each call whose number has consents held but none counting at its time
the note `store.semantics.consent_note_sql` spells, the newest such consent's. Only consents
that may ever not count are read: one granted directly, for the phone, for any purpose and
without end counts whenever it was granted, so it never makes a note. A call made for a
purpose counts only the consents that cover it, so its note may be that one does not.
"""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.policy import Policy
from optin_gate.store.semantics import NEWEST, Semantics, same_controller_sql

__all__ = ["call_notes"]

_names = itertools.count()


def call_notes(
    con: duckdb.DuckDBPyConnection,
    calls: pa.Table,
    *,
    controllers: pa.Array,
    purposes: pa.Array,
    policy: Policy,
    rows: int,
) -> pa.Array:
    """Each call's note (NULL: none), in the order of `calls`' `rid` 0, 1, ... rows - 1.

    Only the calls whose number has a consent that may not count are looked at: their
    texts are spelled and joined, the others (most calls) have no note.

    Args:
        con: A store connection.
        calls: `rid`, `t`, `phone` (key), `controller` and `purpose` (codes into
            `controllers` and `purposes`; purpose NULL: none named) of the calls that can
            be judged.
        controllers: The controller keys the codes stand for.
        purposes: The purpose keys the codes stand for.
        policy: Sets what the evidence means.
        rows: How many calls the log has.
    """
    meaning = Semantics.of(policy)
    ever = (
        f"NOT ({meaning.consent_counts_sql('c.')}) OR c.purposes IS NOT NULL "
        f"OR {meaning.consent_until_sql('c.')} IS NOT NULL"
    )
    held = f"(SELECT * FROM consents_current c WHERE {ever})"
    phones = con.sql(f"SELECT DISTINCT phone FROM {held}").to_arrow_table().column(0)
    calls = calls.filter(pc.is_in(calls["phone"], value_set=phones.combine_chunks()))
    asked = pa.table(
        {
            "rid": calls["rid"],
            "t": calls["t"],
            "phone": calls["phone"],
            "controller": pc.take(controllers, calls["controller"]),
            "purpose": pc.take(purposes, calls["purpose"]),
        }
    )
    found = _noted(con, asked, held, meaning)
    place = np.full(rows, -1, dtype=np.int64)
    place[found.column("rid").to_numpy()] = np.arange(found.num_rows, dtype=np.int64)
    return found.column("note").combine_chunks().take(pa.array(place, mask=place < 0))


def _noted(
    con: duckdb.DuckDBPyConnection, asked: pa.Table, held: str, meaning: Semantics
) -> pa.Table:
    """(rid, note) of the `asked` calls that have a note, from the consents `held` (SQL)."""
    note = meaning.consent_note_sql("r.t", "c.", "r.purpose")
    name = f"og_audit_asked_{next(_names)}"
    con.register(name, asked)
    try:
        return con.sql(
            f"""
SELECT rid, arg_max(note, {NEWEST["consent_id"].key_sql()}) FILTER (WHERE note IS NOT NULL)
       AS note
FROM (
    SELECT r.rid, c.granted_at, c.consent_id, {note} AS note
    FROM {name} r JOIN {held} c
      ON c.phone = r.phone AND {same_controller_sql("c.controller", "r.controller")}
     AND c.granted_at <= r.t
)
GROUP BY rid
HAVING count(*) FILTER (WHERE note IS NULL) = 0
"""
        ).to_arrow_table()
    finally:
        con.unregister(name)

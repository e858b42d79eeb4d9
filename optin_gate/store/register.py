"""Slovak list releases (kind `sk_register`): kept as history, one release at a time.

A release is the regulator's answer for the numbers a caller checked on that date, so two
loads of one release may hold different numbers: both are kept. A number the store already
holds for that release with another entry is refused: history must show what was known,
so an entry is never replaced. The as-of reading (which release is in force, when a
registration took effect) is `optin_gate.store.semantics`'.
"""

from __future__ import annotations

from datetime import date

import duckdb

from optin_gate._sql import sql_literal
from optin_gate.errors import InputError
from optin_gate.store.database import first

__all__ = ["merge_register"]


def merge_register(
    con: duckdb.DuckDBPyConnection, load_id: int, release: date, *, file: str
) -> int:
    """Add one release's rows (`og_incoming`); returns how many entries were new.

    Raises:
        InputError: A number the store holds for this release with another entry.
    """
    day = sql_literal(release)
    held = f"(SELECT * FROM sk_register WHERE release_date = {day})"
    clash = first(
        con,
        f"SELECT count(*) FROM og_incoming i JOIN {held} h USING (phone) "
        "WHERE (i.registered, i.sectors, i.registered_since) IS DISTINCT FROM "
        "(h.registered, h.sectors, h.registered_since)",
    )
    if clash and clash[0]:
        raise InputError(
            f"{clash[0]:,} number(s) of the {release.isoformat()} release are held already "
            "with another entry; nothing was loaded",
            file=file,
            hint="a release is never replaced: check the --snapshot-date, or load only the "
            "numbers this release adds",
        )
    new = f"FROM og_incoming i WHERE i.phone NOT IN (SELECT phone FROM {held})"
    row = first(con, f"SELECT count(*) {new}")
    added = int(row[0]) if row else 0
    con.execute(
        "INSERT INTO sk_register BY NAME SELECT phone, registered, sectors, registered_since, "
        f"{day} AS release_date, {load_id} AS load_id {new}"
    )
    con.execute("INSERT INTO sk_register_releases VALUES (?, ?, ?)", [release, load_id, added])
    return added

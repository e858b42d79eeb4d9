"""The Slovak list in the dial index: per Slovak number, its releases, read at check time.

Only Slovak numbers have list rows, and a release is a per-number result, so the index keeps
a plain mapping from phone key to that number's releases, oldest first, each with the day
its registration took effect (`store.semantics.register_effective_sql`). A check finds the
release in force by bisection, and the campaign's sector and the counting consent's grant
time decide the rest as the evidence semantics say (`store.semantics`).
"""

from __future__ import annotations

import bisect
import dataclasses
from datetime import date

import duckdb

from optin_gate.rules.shapes import register_part
from optin_gate.store.semantics import (
    ALL_SECTORS,
    Semantics,
    register_effective_sql,
    sk_phone_sql,
)

__all__ = ["Entry", "Register", "register_sql", "scan_register"]

_EPOCH = date(1970, 1, 1)


def register_sql(only: str = "") -> str:
    """The scan: each Slovak number's list rows, with when a registration took effect."""
    start = "epoch_us(timezone('Europe/Bratislava', CAST(effective AS TIMESTAMP)))"
    return (
        f"SELECT phone, release_date - DATE '1970-01-01' AS day, registered, sectors, "
        f"{start} AS effective_us FROM ({register_effective_sql()}) "
        f"WHERE {sk_phone_sql('phone')}{only}"
    )


# One release's entry for a number: (its day number, `register_part` without the two flags,
# registered, sectors (None: all), the instant (us) its registration took effect or None).
Entry = tuple[int, int, bool, frozenset[str] | None, int | None]


@dataclasses.dataclass(frozen=True)
class Register:
    """The Slovak list as the dial reads it.

    Attributes:
        releases: Every release date held, ascending (`rules.shapes.ShapeCodec.releases`).
        numbers: Per phone key: its `Entry`s, oldest release first.
    """

    releases: tuple[date, ...] = ()
    numbers: dict[int, tuple[Entry, ...]] = dataclasses.field(default_factory=dict)

    def part(
        self, key: int, day: int, sector: str | None, granted: int | None, meaning: Semantics
    ) -> int:
        """`rules.shapes.register_part` of a number on day number `day`.

        On the dial path: `Semantics.register_blocks` and `register_part` written out, and
        the newest release (the usual one in force) tried first.

        Args:
            key: The phone key.
            day: The check's day number (days since 1970-01-01).
            sector: The campaign's sector key (None: unknown).
            granted: The grant instant (us) of the consent that counts, None for none.
            meaning: The policy's evidence semantics.
        """
        entries = self.numbers.get(key)
        if entries is None:
            return 0
        entry = entries[-1]
        if entry[0] > day:
            at = bisect.bisect_right(entries, (day, _AFTER)) - 1
            if at < 0:
                return 0
            entry = entries[at]
        _, part, registered, sectors, effective = entry
        blocks = registered and (
            sectors is None
            or (meaning.sk_unknown_sector_blocks if sector is None else sector in sectors)
        )
        if not blocks:
            return part
        if (
            granted is not None
            and effective is not None
            and granted <= effective
            and not meaning.sk_consent_always
        ):
            return part + 3  # blocks, and bars the consent
        return part + 2  # blocks


# Sorts after every entry of the same day (`bisect` compares entries as tuples).
_AFTER = 1 << 62


def scan_register(cur: duckdb.DuckDBPyConnection, only: str, params: dict[str, object]) -> Register:
    """Read the Slovak list rows (of `only`'s phones, when given) into a `Register`."""
    found = cur.execute("SELECT DISTINCT release_date FROM sk_register ORDER BY 1").fetchall()
    releases = tuple(d for (d,) in found)
    position = {(d - _EPOCH).days: i for i, d in enumerate(releases)}
    rows = cur.execute(register_sql(only) + " ORDER BY phone, day", params).fetchall()
    entries: dict[int, list[Entry]] = {}
    for phone, day, registered, sectors, effective in rows:
        codes = None if sectors == ALL_SECTORS else frozenset(str(sectors).split(";"))
        part = int(register_part(position[int(day)], 0, 0))
        entries.setdefault(phone, []).append((int(day), part, bool(registered), codes, effective))
    return Register(releases, {k: tuple(v) for k, v in entries.items()})

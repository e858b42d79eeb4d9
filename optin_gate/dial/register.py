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
from optin_gate.store.semantics import Semantics, register_effective_sql, sk_phone_sql

__all__ = ["Register", "register_sql", "scan_register"]

_EPOCH = date(1970, 1, 1)


def register_sql(only: str = "") -> str:
    """The scan: each Slovak number's list rows, with when a registration took effect."""
    start = "epoch_us(timezone('Europe/Bratislava', CAST(effective AS TIMESTAMP)))"
    return (
        f"SELECT phone, release_date - DATE '1970-01-01' AS day, registered, sectors, "
        f"{start} AS effective_us FROM ({register_effective_sql()}) "
        f"WHERE {sk_phone_sql('phone')}{only}"
    )


@dataclasses.dataclass(frozen=True)
class Register:
    """The Slovak list as the dial reads it.

    Attributes:
        releases: Every release date held, ascending (`rules.shapes.ShapeCodec.releases`).
        days: Per phone key: its releases' day numbers, ascending.
        rows: Per phone key, aligned with `days`: (release index, registered, sectors,
            the instant (us) its registration took effect, or None).
    """

    releases: tuple[date, ...] = ()
    days: dict[int, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    rows: dict[int, tuple[tuple[int, bool, str, int | None], ...]] = dataclasses.field(
        default_factory=dict
    )

    def part(
        self, key: int, day: int, sector: str | None, granted: int | None, meaning: Semantics
    ) -> int:
        """`register_part` of a number on day number `day`.

        Args:
            key: The phone key.
            day: The check's day number (days since 1970-01-01).
            sector: The campaign's sector key (None: unknown).
            granted: The grant instant (us) of the consent that counts, None for none.
            meaning: The policy's evidence semantics.
        """
        days = self.days.get(key)
        if days is None:
            return 0
        at = bisect.bisect_right(days, day) - 1
        if at < 0:
            return 0
        index, registered, sectors, effective = self.rows[key][at]
        blocks = meaning.register_blocks(registered, sectors, sector)
        before = (
            blocks
            and not meaning.sk_consent_always
            and granted is not None
            and effective is not None
            and granted <= effective
        )
        return int(register_part(index, int(blocks), int(before)))


def scan_register(cur: duckdb.DuckDBPyConnection, only: str, params: dict[str, object]) -> Register:
    """Read the Slovak list rows (of `only`'s phones, when given) into a `Register`."""
    found = cur.execute("SELECT DISTINCT release_date FROM sk_register ORDER BY 1").fetchall()
    releases = tuple(d for (d,) in found)
    position = {(d - _EPOCH).days: i for i, d in enumerate(releases)}
    rows = cur.execute(register_sql(only) + " ORDER BY phone, day", params).fetchall()
    days: dict[int, list[int]] = {}
    entries: dict[int, list[tuple[int, bool, str, int | None]]] = {}
    for phone, day, registered, sectors, effective in rows:
        days.setdefault(phone, []).append(int(day))
        entries.setdefault(phone, []).append(
            (position[int(day)], bool(registered), str(sectors), effective)
        )
    return Register(
        releases,
        {k: tuple(v) for k, v in days.items()},
        {k: tuple(v) for k, v in entries.items()},
    )

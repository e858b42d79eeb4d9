"""The Slovak list in the dial index: per Slovak number, its releases, read at check time.

Only Slovak numbers have list rows, and a release is a per-number result, so the index keeps
each Slovak number's releases, oldest first, each with the day its registration took effect
(`store.semantics.register_effective_sql`). A check finds the release in force, and the
campaign's sector and the counting consent's grant time decide the rest as the evidence
semantics say (`store.semantics`). The same entries are kept twice: as a mapping for the
batch of `check_many` (`Register.part`) and as flat arrays the compiled lookup reads by
address (`Register.keys` .. `Register.sector_ids`, `optin_gate.dial.compiled`), so a single
check of a Slovak number does no Python-level lookup.
"""

from __future__ import annotations

import bisect
import dataclasses
from datetime import date
from typing import Any

import duckdb
import numpy as np

from optin_gate.rules.shapes import register_part
from optin_gate.store.semantics import (
    ALL_SECTORS,
    NO_CONSENT,
    Semantics,
    consent_before,
    register_effective_sql,
    registration_blocks,
    sk_phone_sql,
)

__all__ = [
    "COLUMNS",
    "NO_SECTOR",
    "UNLISTED_SECTOR",
    "Entry",
    "Register",
    "meaning_bits",
    "register_sql",
    "scan_register",
]

# Columns of `Register.entries`, one row per release of a number: its day number, the part
# (`register_part` without the two flags), registered (0/1), registered for every sector
# (0/1), the instant its registration took effect (`NO_CONSENT`: none), and its sector codes
# as a range of `Register.sector_ids`.
DAY, PART, REGISTERED, EVERY, EFFECTIVE, SECTORS_FIRST, SECTORS_STOP = range(7)
COLUMNS = 7
NO_SECTOR = -1  # a campaign's sector id when it names none
UNLISTED_SECTOR = -2  # ... when it names one no release lists
# `meaning_bits`: the policy's two readings of the list, as the compiled lookup takes them.
UNKNOWN_BLOCKS, CONSENT_ALWAYS = 1, 2

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


def meaning_bits(meaning: Semantics) -> int:
    """The policy's readings of the list as bits (`UNKNOWN_BLOCKS`, `CONSENT_ALWAYS`)."""
    return (UNKNOWN_BLOCKS if meaning.sk_unknown_sector_blocks else 0) | (
        CONSENT_ALWAYS if meaning.sk_consent_always else 0
    )


def _empty(dtype: Any, *shape: int) -> np.ndarray[Any, Any]:
    out = np.zeros(shape, dtype=dtype)
    out.flags.writeable = False
    return out


@dataclasses.dataclass(frozen=True)
class Register:
    """The Slovak list as the dial reads it.

    Attributes:
        releases: Every release date held, ascending (`rules.shapes.ShapeCodec.releases`).
        numbers: Per phone key: its `Entry`s, oldest release first.
        keys: The phone keys with entries, ascending (int64).
        starts: Key i's rows of `entries` are starts[i]:starts[i + 1] (int32).
        entries: One int64 row of `COLUMNS` per entry, in `numbers`' order.
        sector_ids: The sector codes of the entries, as positions in `sectors`.
        sectors: Per sector key named by any entry: its code.
    """

    releases: tuple[date, ...] = ()
    numbers: dict[int, tuple[Entry, ...]] = dataclasses.field(default_factory=dict)
    keys: np.ndarray[Any, Any] = dataclasses.field(default_factory=lambda: _empty(np.int64, 0))
    starts: np.ndarray[Any, Any] = dataclasses.field(default_factory=lambda: _empty(np.int32, 1))
    entries: np.ndarray[Any, Any] = dataclasses.field(
        default_factory=lambda: _empty(np.int64, 0, COLUMNS)
    )
    sector_ids: np.ndarray[Any, Any] = dataclasses.field(
        default_factory=lambda: _empty(np.int32, 0)
    )
    sectors: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, releases: tuple[date, ...], numbers: dict[int, tuple[Entry, ...]]) -> Register:
        """A `Register` of `numbers` (each key's entries oldest first), its arrays made."""
        return cls(releases, numbers, *_arrays(numbers))

    def sector_id(self, sector: str | None) -> int:
        """A campaign's sector key (`context.check_sector`) as the compiled lookup takes it."""
        return NO_SECTOR if sector is None else self.sectors.get(sector, UNLISTED_SECTOR)

    def part(
        self, key: int, day: int, sector: str | None, granted: int | None, meaning: Semantics
    ) -> int:
        """`rules.shapes.register_part` of a number on day number `day`.

        The newest release (the usual one in force) is tried first; `compiled.register_part`
        is the same over the arrays.

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
        covers = sectors is not None and sector is not None and sector in sectors
        if not registration_blocks(
            registered,
            sectors is None,
            covers,
            sector is not None,
            meaning.sk_unknown_sector_blocks,
        ):
            return part
        if consent_before(
            NO_CONSENT if granted is None else granted,
            NO_CONSENT if effective is None else effective,
            meaning.sk_consent_always,
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
    numbers = {k: tuple(v) for k, v in entries.items()}
    return Register.of(releases, numbers)


def _arrays(numbers: dict[int, tuple[Entry, ...]]) -> tuple[Any, ...]:
    """`Register`'s flat arrays (keys .. sector_ids, sectors) of its entries by number."""
    keys = np.fromiter(sorted(numbers), dtype=np.int64, count=len(numbers))
    starts = np.zeros(len(keys) + 1, dtype=np.int32)
    table: list[tuple[int, ...]] = []
    ids: list[int] = []
    sectors: dict[str, int] = {}
    for i, key in enumerate(keys.tolist()):
        for day, part, registered, codes, effective in numbers[key]:
            first = len(ids)
            ids += [sectors.setdefault(code, len(sectors)) for code in sorted(codes or ())]
            since = NO_CONSENT if effective is None else int(effective)
            table.append((day, part, registered, codes is None, since, first, len(ids)))
        starts[i + 1] = len(table)
    entries = np.array(table, dtype=np.int64).reshape(len(table), COLUMNS)
    out = (keys, starts, entries, np.array(ids, dtype=np.int32))
    for array in out:
        array.flags.writeable = False
    return (*out, sectors)

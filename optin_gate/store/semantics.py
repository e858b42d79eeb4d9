"""The evidence semantics: which records count at an instant, and which of them wins.

Every way of deciding reads the evidence through this module, so a change to what the
evidence means is made here once: the batch SQL (`store.asof`, `engine.facts`) and the dial
build's scans (`dial.build`) render their conditions from `Semantics`, and the compiled
lookups (`engine.lookup`, `dial.compiled`) and the dial's Python and numpy steps
(`dial.probe`, `dial.vector`) call the rules below. docs/rules.md gives the law behind them.

The pieces, for a request (phone, controller C, instant T; day D = T's Prague day):

* A consent counts if it is C's, its channel is one of `CONSENT_CHANNELS`, and it holds at
  T: granted_at <= T < until, until being the earliest of withdrawn_at, expires_at and
  granted_at + `Policy.consent_max_age_days` (`Semantics.consent_ends_sql`).
* A contract counts if it is C's and D lies in start_date <= D <= end_date +
  `Policy.customer_grace_days` (`Semantics.contract_last_day_sql`); for a Slovak number
  (+421) the window is `Policy.sk_customer_window_days` instead (docs/rules.md § 4.3 row 5).
* Slovak list (docs/rules.md § 4.4): the release due at D is the newest 1st or 16th on or
  before D - `sk_register_grace_days` (`release_due`); the release in force for a number is
  the newest release on or before D that holds it; a registration took effect on its row's
  `registered_since`, else on the oldest release of the unbroken run of releases listing
  the number as registered (`register_effective_sql`), at 00:00 Bratislava time; it blocks
  a campaign whose sector its sectors name, all sectors ("*"), or any sector when the
  campaign names none and `sk_unknown_sector_blocks` (`Semantics.register_blocks_sql`);
  a consent outweighs it only when granted strictly after it took effect
  (`sk_consent_beats_register="newer"`), or always ("always").
* An objection counts from the earlier of its stated time (objected_at) and the moment it
  was recorded (`objection_since_sql`: a clock ahead of the store's cannot delay it), for C
  or for every controller.
* Of the records of a kind that count, the newest wins: the greatest time, then the
  greatest id in byte order (`NEWEST`, `newer`); DuckDB orders text by its bytes too.
* The newest objection (by its stated time) is outweighed by a counting consent granted
  strictly after its stated time (`objection_in_force`). As the rule only compares the
  two times, and the stated time also orders the objections, dropping each outweighed
  objection before picking the newest gives the same answer, which lets the dial fold in
  objections recorded since its build one by one.

Controller names are keys by the time they are stored or asked about
(`optin_gate.store.controllers`), so equal keys name one controller (`same_controller_sql`,
`objection_applies`). Purposes are keys too (`optin_gate.store.purposes`).

Whose consents and which purposes count (`Semantics.consent_counts_sql`, `consent_standing`):
a consent obtained from a third party counts only under `Policy.third_party_consents`; when
the call names a purpose, a consent counts only if its purposes include it or it names none
(any marketing). A consent held for the number that does not count at T (third party, other
purpose, other channel, withdrawn, expired) is reported, never used: `consent_note` and
`Semantics.consent_note_sql` give the decision's note, the newest such consent's
(`NEWEST`), and only when no consent counts at T.

The compiled helpers are inlined into their callers, whose numba caches know only their own
file: after changing one, clear the caches (`find optin_gate -name '*.nb[ic]' -delete`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._jit import njit
from optin_gate._sql import sql_literal
from optin_gate.numbers._arrow import int_values
from optin_gate.policy import Policy
from optin_gate.store.purposes import SEPARATOR

__all__ = [
    "ALL_SECTORS",
    "CALLER_ID_0888",
    "CONSENT_CHANNELS",
    "NEWEST",
    "NOT_COUNTED",
    "NO_CONSENT",
    "SK_PREFIX",
    "Newest",
    "Semantics",
    "caller_id_0888",
    "consent_before",
    "consent_before_jit",
    "consent_covers",
    "consent_holds",
    "consent_holds_jit",
    "consent_note",
    "contract_holds",
    "contract_holds_jit",
    "for_every_controller_sql",
    "is_newer",
    "is_sk_key",
    "newer",
    "newest_last",
    "objection_applies",
    "objection_for_sql",
    "objection_in_force",
    "objection_in_force_jit",
    "objection_in_force_sql",
    "objection_made",
    "objection_made_jit",
    "objection_made_sql",
    "objection_since_sql",
    "register_effective_sql",
    "registration_blocks",
    "registration_blocks_jit",
    "release_due",
    "release_due_sql",
    "same_controller_sql",
    "sector_key",
    "sectors_block",
    "sk_phone_sql",
]

# The E.164 digits every Slovak number starts with (calling codes are prefix-free).
SK_PREFIX = "421"
# A Slovak list row registered for every sector.
ALL_SECTORS = "*"
# The E.164 prefix of the lines Slovak marketing calls must come from (§ 116(12)).
CALLER_ID_0888 = "+421888"

# The consent channels that cover a marketing phone call.
CONSENT_CHANNELS = ("phone", "any")

# `objection_in_force`'s grant time when no consent counts: earlier than every objection.
NO_CONSENT = int(np.iinfo(np.int64).min)

# Why a held consent does not count, by standing code (`Semantics.consent_standing_sql`;
# 0 counts), then the time-dependent reasons; the first that applies is the one told.
COUNTS, THIRD_PARTY, OTHER_CHANNEL = 0, 1, 2
NOT_COUNTED = {
    THIRD_PARTY: "obtained from a third party",
    OTHER_CHANNEL: "given for another channel",
    "purpose": "given for other purposes",
    "withdrawn": "withdrawn",
    "expired": "expired",
}
_NOTE_PREFIX = "consent:"
_NOTE_MIDDLE = " held, not counted: "


@dataclasses.dataclass(frozen=True)
class Newest:
    """How the records of one kind are ordered: by `time`, then by `ident` (its bytes).

    Attributes:
        time: The column whose greatest value is the newest record.
        ident: The id column that breaks ties, the greatest winning.
    """

    time: str
    ident: str

    def first_sql(self, alias: str = "") -> str:
        """SQL ORDER BY items putting the newest record first."""
        return f"{alias}{self.time} DESC, {alias}{self.ident} DESC"

    def key_sql(self, alias: str = "") -> str:
        """SQL for the order's key, a struct whose `arg_max` is the newest record."""
        return f"({alias}{self.time}, {alias}{self.ident})"


# Per id field, the order that picks its newest record.
NEWEST: Mapping[str, Newest] = {
    "objection_id": Newest("objected_at", "objection_id"),
    "consent_id": Newest("granted_at", "consent_id"),
    "contract_id": Newest("start_date", "contract_id"),
}


@dataclasses.dataclass(frozen=True)
class Semantics:
    """What the evidence means under one policy, with its SQL renderers.

    `alias` arguments prefix column names (e.g. "c."); instants and days are SQL
    expressions of type TIMESTAMPTZ and DATE.

    Attributes:
        consent_max_age_days: A consent stops holding this many days after its grant.
        customer_grace_days: A contract still counts this many days after its end date.
        consent_channels: The channels a consent must name (`CONSENT_CHANNELS`).
    """

    consent_max_age_days: int | None = None
    customer_grace_days: int = 0
    consent_channels: tuple[str, ...] = CONSENT_CHANNELS
    sk_customer_window_days: int = 365
    sk_unknown_sector_blocks: bool = True
    sk_consent_always: bool = False
    third_party_consents: bool = False
    purpose: str | None = None

    @classmethod
    def of(cls, policy: Policy, purpose: str | None = None) -> Semantics:
        """The semantics `policy` sets, for calls made for `purpose` (a key; None: any)."""
        age = policy.consent_max_age_days
        return cls(
            consent_max_age_days=None if age is None else int(age),
            customer_grace_days=int(policy.customer_grace_days),
            sk_customer_window_days=int(policy.sk_customer_window_days),
            sk_unknown_sector_blocks=bool(policy.sk_unknown_sector_blocks),
            sk_consent_always=policy.sk_consent_beats_register == "always",
            third_party_consents=bool(policy.third_party_consents),
            purpose=purpose,
        )

    def contract_window(self, phone: int) -> int:
        """Days a contract of `phone` (a key) still counts after its end."""
        return self.sk_customer_window_days if is_sk_key(phone) else self.customer_grace_days

    def register_blocks_sql(self, registered: str, sectors: str, sector: str) -> str:
        """SQL: a list row (`registered`, `sectors`) blocks a campaign of `sector`.

        `sectors` holds `sector_key`s joined by ";" (or "*"), never NULL; `sector` is SQL for
        the campaign's sector key, NULL when unknown.
        """
        unknown = "TRUE" if self.sk_unknown_sector_blocks else "FALSE"
        covers = (
            f"CASE WHEN {sectors} = '{ALL_SECTORS}' THEN TRUE WHEN ({sector}) IS NULL THEN "
            f"{unknown} ELSE list_contains(string_split({sectors}, ';'), {sector}) END"
        )
        return f"coalesce({registered} AND {covers}, FALSE)"

    def register_blocks(self, registered: bool, sectors: str, sector: str | None) -> bool:
        """`register_blocks_sql` in Python."""
        return registered and sectors_block(sectors, sector, self.sk_unknown_sector_blocks)

    def register_in_force_sql(self, day: str, sector: str | None) -> str:
        """SQL: per Slovak number, the list release in force on `day` (a DATE expression).

        Columns `phone`, `register_date`, `register_blocks` (`register_blocks_sql`) and
        `effective` (`register_effective_sql`), one row per phone held in a release dated
        on or before `day`.
        """
        key = "CAST(NULL AS VARCHAR)" if sector is None else sql_literal(sector_key(sector))
        blocks = self.register_blocks_sql("registered", "sectors", key)
        return f"""
    SELECT phone, release_date AS register_date, {blocks} AS register_blocks, effective
    FROM ({register_effective_sql()})
    WHERE release_date <= {day} AND {sk_phone_sql("phone")}
    QUALIFY row_number() OVER (PARTITION BY phone ORDER BY release_date DESC) = 1
"""

    def consent_before_sql(self, blocks: str, granted: str, effective: str) -> str:
        """SQL: the consent granted at `granted` does not outweigh a blocking registration.

        The registration took effect on day `effective` (00:00 Bratislava time); `granted`
        is NULL when no consent counts.
        """
        if self.sk_consent_always:
            return "FALSE"
        start = f"timezone('Europe/Bratislava', CAST({effective} AS TIMESTAMP))"
        return f"coalesce({blocks} AND {granted} IS NOT NULL AND {granted} <= {start}, FALSE)"

    def consent_standing_sql(self, alias: str = "") -> str:
        """SQL: whether a consent row may count at all, as a standing code (0: it may).

        What the policy alone settles, whatever the call's purpose and time: its channel and
        (unless `third_party_consents`) whether it was obtained from a third party.
        """
        channels = ", ".join(map(sql_literal, self.consent_channels))
        third = "FALSE" if self.third_party_consents else f"{alias}obtained = 'third_party'"
        return (
            f"(CASE WHEN {third} THEN {THIRD_PARTY} WHEN {alias}channel NOT IN ({channels}) "
            f"THEN {OTHER_CHANNEL} ELSE {COUNTS} END)"
        )

    def consent_covers_sql(self, alias: str = "", purpose: str | None = None) -> str:
        """SQL: a consent row covers the call's purpose (`consent_covers`).

        Args:
            alias: Prefix of the consent's columns.
            purpose: SQL for the purpose key (NULL: none given); default `self.purpose`.
        """
        if purpose is None:
            if self.purpose is None:
                return "TRUE"
            purpose = sql_literal(self.purpose)
            given = ""
        else:
            given = f"{purpose} IS NULL OR "
        listed = (
            f"list_contains(string_split({alias}purposes, {sql_literal(SEPARATOR)}), {purpose})"
        )
        return f"({given}{alias}purposes IS NULL OR {listed})"

    def consent_counts_sql(self, alias: str = "", purpose: str | None = None) -> str:
        """SQL: a consent row covers this marketing call, whenever it holds.

        Its channel covers a call, it was obtained directly (unless the policy takes third
        parties' consents) and it covers the call's purpose (`purpose`: as
        `consent_covers_sql`).
        """
        standing = f"{self.consent_standing_sql(alias)} = {COUNTS}"
        covers = self.consent_covers_sql(alias, purpose)
        return standing if covers == "TRUE" else f"{standing} AND {covers}"

    def consent_note_sql(self, t: str, alias: str = "", purpose: str | None = None) -> str:
        """SQL: the note of a consent row granted at or before `t` that does not count at `t`.

        NULL when it counts (`consent_note` is the Python form; the same texts).
        """
        held = self.consent_valid_sql(t, alias, purpose)
        ident = f"CAST({alias}consent_id AS VARCHAR)"
        why = self.consent_why_sql(t, alias, purpose)
        return (
            f"CASE WHEN {alias}granted_at <= {t} AND NOT ({held}) THEN "
            f"{sql_literal(_NOTE_PREFIX)} || {ident} || {sql_literal(_NOTE_MIDDLE)} || {why} END"
        )

    def consent_why_sql(self, t: str, alias: str = "", purpose: str | None = None) -> str:
        """SQL: why a consent row granted by `t` does not count at `t`, if it does not.

        `NOT_COUNTED`'s texts, the first that applies; meaningless for one that counts.
        """
        whys = [
            (f"{self.consent_standing_sql(alias)} = {THIRD_PARTY}", NOT_COUNTED[THIRD_PARTY]),
            (f"{self.consent_standing_sql(alias)} = {OTHER_CHANNEL}", NOT_COUNTED[OTHER_CHANNEL]),
            (f"NOT {self.consent_covers_sql(alias, purpose)}", NOT_COUNTED["purpose"]),
            (f"{alias}withdrawn_at <= {t}", NOT_COUNTED["withdrawn"]),
        ]
        cases = " ".join(f"WHEN {cond} THEN {sql_literal(why)}" for cond, why in whys)
        return f"CASE {cases} ELSE {sql_literal(NOT_COUNTED['expired'])} END"

    def consent_ends_sql(self, alias: str = "") -> tuple[tuple[str, bool], ...]:
        """Each instant that ends a consent, as (SQL, may be NULL); it ends at the earliest."""
        ends = [(f"{alias}withdrawn_at", True), (f"{alias}expires_at", True)]
        if self.consent_max_age_days is not None:
            age = f"{alias}granted_at + INTERVAL {self.consent_max_age_days} DAY"
            ends.append((age, False))
        return tuple(ends)

    def consent_until_sql(self, alias: str = "") -> str:
        """SQL: the first instant a consent no longer holds; NULL if it never ends."""
        return "least(" + ", ".join(end for end, _ in self.consent_ends_sql(alias)) + ")"

    def consent_valid_sql(self, t: str, alias: str = "", purpose: str | None = None) -> str:
        """SQL: a consent row counts and holds at instant `t` (granted_at <= t < until)."""
        held = [f"{alias}granted_at <= {t}"]
        for end, nullable in self.consent_ends_sql(alias):
            held.append(f"({end} IS NULL OR {end} > {t})" if nullable else f"{end} > {t}")
        return " AND ".join([*held, self.consent_counts_sql(alias, purpose)])

    def contract_last_day_sql(self, alias: str = "") -> str:
        """SQL: the last day a contract counts (its end date plus the grace); NULL if open.

        The grace is the Slovak customer window for a Slovak number (`{alias}phone`).
        """
        if self.sk_customer_window_days == self.customer_grace_days:
            return f"{alias}end_date + {self.customer_grace_days}"
        window = (
            f"CASE WHEN {sk_phone_sql(f'{alias}phone')} THEN {self.sk_customer_window_days} "
            f"ELSE {self.customer_grace_days} END"
        )
        return f"{alias}end_date + {window}"

    def contract_active_sql(self, day: str, alias: str = "") -> str:
        """SQL: a contract row counts on `day` (start_date <= day <= its last day)."""
        last = self.contract_last_day_sql(alias)
        return f"{alias}start_date <= {day} AND ({alias}end_date IS NULL OR {day} <= {last})"


def sk_phone_sql(phone: str) -> str:
    """SQL: the phone key column `phone` is a Slovak number."""
    return f"starts_with(CAST({phone} AS VARCHAR), '{SK_PREFIX}')"


def is_sk_key(phone: int) -> bool:
    """The phone key is a Slovak number."""
    return str(phone).startswith(SK_PREFIX)


def caller_id_0888(caller_id: str | None) -> bool:
    """The calling line (E.164, as `optin_gate.numbers` writes it) is a +421 888 number."""
    return caller_id is not None and caller_id.startswith(CALLER_ID_0888)


def sector_key(sector: str) -> str:
    """A sector code as compared: no case, no surrounding spaces."""
    return sector.strip().casefold()


def sectors_block(sectors: str, sector: str | None, unknown_blocks: bool) -> bool:
    """A registration for `sectors` ("*" or codes joined by ";") covers a campaign's sector."""
    if sectors == ALL_SECTORS:
        return True
    if sector is None:
        return unknown_blocks
    return sector_key(sector) in sectors.split(";")


def registration_blocks(
    registered: bool, every_sector: bool, covers: bool, named: bool, unknown_blocks: bool
) -> bool:
    """A list row blocks a campaign (`Semantics.register_blocks`, in flags).

    Args:
        registered: The row lists the number as registered.
        every_sector: It is registered for every sector (`ALL_SECTORS`).
        covers: Its sectors include the campaign's.
        named: The campaign names a sector.
        unknown_blocks: `Semantics.sk_unknown_sector_blocks`.
    """
    return registered and (every_sector or (covers if named else unknown_blocks))


def consent_before(granted: int, effective: int, always: bool) -> bool:
    """The counting consent does not outweigh a registration (`Semantics.consent_before_sql`).

    `granted` is the consent's grant instant, `effective` the registration's first instant;
    `NO_CONSENT` for either when there is none (no instant is at or before it but itself).
    `always`: `Semantics.sk_consent_always`.
    """
    return not always and granted != NO_CONSENT and granted <= effective


def release_due(day: date, grace: int) -> date:
    """The Slovak list release due on `day`: the newest 1st or 16th on or before day - grace."""
    d = day - timedelta(days=grace)
    return d.replace(day=16 if d.day >= 16 else 1)


def release_due_sql(day: str, grace: int) -> str:
    """SQL form of `release_due` over a DATE expression."""
    d = f"(CAST({day} AS DATE) - {int(grace)})"
    back = f"CAST(dayofmonth({d}) - CASE WHEN dayofmonth({d}) >= 16 THEN 16 ELSE 1 END AS INTEGER)"
    return f"({d} - {back})"


def register_effective_sql(table: str = "sk_register") -> str:
    """SQL: every list row with `effective`, the day its registration took effect.

    NULL for a row that does not list the number as registered. A registration takes effect
    on the row's `registered_since`, else on the oldest release of the unbroken run of
    releases, among those holding the number, that list it as registered (docs/rules.md
    § 4.4): rows are grouped by how many unregistered rows come before them.
    """
    run = (
        "sum(CASE WHEN registered THEN 0 ELSE 1 END) OVER "
        "(PARTITION BY phone ORDER BY release_date ROWS UNBOUNDED PRECEDING)"
    )
    return f"""
    SELECT phone, release_date, registered, sectors,
           CASE WHEN registered THEN coalesce(registered_since,
                min(CASE WHEN registered THEN release_date END)
                    OVER (PARTITION BY phone, og_run)) END AS effective
    FROM (SELECT *, {run} AS og_run FROM {table})
"""


def same_controller_sql(a: str, b: str) -> str:
    """SQL: two controller keys (`store.controllers.controller_key`) name one controller."""
    return f"{a} = {b}"


def for_every_controller_sql(column: str) -> str:
    """SQL: an objection whose controller is `column` applies to every controller."""
    return f"{column} IS NULL"


def objection_for_sql(column: str, controller: str) -> str:
    """SQL: an objection whose controller is `column` applies to `controller`."""
    return f"({for_every_controller_sql(column)} OR {same_controller_sql(column, controller)})"


def objection_applies(objector: str | None, controller: str) -> bool:
    """An objection for `objector` (None: every controller) applies to `controller`."""
    return objector is None or objector == controller


def objection_since_sql(alias: str = "") -> str:
    """SQL: the instant an objection row counts from (its stated or its recorded time)."""
    return f"least({alias}objected_at, coalesce({alias}recorded_at, {alias}objected_at))"


def objection_made_sql(t: str, alias: str = "") -> str:
    """SQL: an objection row counts at instant `t`."""
    return f"{objection_since_sql(alias)} <= {t}"


def objection_in_force_sql(objected: str, granted: str) -> str:
    """SQL form of `objection_in_force`; `granted` NULL when no consent counts."""
    return f"({granted} IS NULL OR {granted} <= {objected})"


def objection_in_force(objected: Any, granted: Any) -> Any:
    """An objection stated at `objected` stays in force against the newest counting consent.

    A consent granted strictly after the objection is a newer statement of will and
    outweighs it; `granted` is `NO_CONSENT` when no consent counts. Plain comparisons, so
    it takes Python ints and numpy arrays alike; `objection_in_force_jit` is its compiled
    form.
    """
    return granted <= objected


def consent_covers(purposes: str | None, purpose: str | None) -> bool:
    """A consent given for `purposes` (stored form; None: any marketing) covers `purpose`.

    `purpose` is a key (`store.purposes.purpose_key`); None when the call names none.
    """
    return purpose is None or not purposes or purpose in purposes.split(SEPARATOR)


def consent_note(
    consent_id: str,
    standing: int,
    covers: bool,
    withdrawn: bool,
) -> str:
    """The note of a held consent that does not count at T (`Semantics.consent_note_sql`).

    Args:
        consent_id: Its id.
        standing: Its standing code (`Semantics.consent_standing_sql`).
        covers: Whether it covers the call's purpose (`consent_covers`).
        withdrawn: Whether it was withdrawn at or before T (else it expired).
    """
    if standing != COUNTS:
        why = NOT_COUNTED[standing]
    elif not covers:
        why = NOT_COUNTED["purpose"]
    else:
        why = NOT_COUNTED["withdrawn" if withdrawn else "expired"]
    return f"{_NOTE_PREFIX}{consent_id}{_NOTE_MIDDLE}{why}"


def consent_holds(granted: int, until: int, t: int) -> bool:
    """A consent granted at `granted` and ending at `until` holds at instant `t`."""
    return granted <= t < until


def contract_holds(start: int, last: int, day: int) -> bool:
    """A contract from day `start` whose last counting day is `last` counts on `day`."""
    return start <= day <= last


def objection_made(since: int, t: int) -> bool:
    """An objection counting from `since` (`objection_since_sql`) counts at instant `t`."""
    return since <= t


def is_newer(time: Any, ident: str, than_time: Any, than_ident: str) -> bool:
    """Record (time, ident) is newer than (than_time, than_ident) (`NEWEST`).

    Python compares text by code points, which orders UTF-8 text as its bytes do.
    """
    return (time, ident) > (than_time, than_ident)


def newest_last(times: np.ndarray[Any, Any], ids: pa.Array | None) -> list[Any]:
    """`np.lexsort` keys (the last the primary) putting records oldest first (`NEWEST`).

    Arrow ranks text by its UTF-8 bytes, as DuckDB orders it.
    """
    keys: list[Any] = [times]
    if ids is not None:
        rank = pc.rank(ids, sort_keys="ascending", tiebreaker="min")
        keys.insert(0, int_values(rank).astype(np.int64))
    return keys


# The compiled forms, inlined into the compiled lookups.
objection_in_force_jit = njit(inline="always")(objection_in_force)
consent_holds_jit = njit(inline="always")(consent_holds)
contract_holds_jit = njit(inline="always")(contract_holds)
objection_made_jit = njit(inline="always")(objection_made)
registration_blocks_jit = njit(inline="always")(registration_blocks)
consent_before_jit = njit(inline="always")(consent_before)


@njit(inline="always")
def newer(times: Any, offsets: Any, text: Any, a: int, b: int) -> bool:
    """Record `a` is newer than record `b` (`NEWEST`): a later time, then a greater id.

    Ids are UTF-8 text (`offsets` into `text`, Arrow's layout) compared byte by byte, a
    prefix before what extends it, as DuckDB and Python compare them.
    """
    if times[a] != times[b]:
        return bool(times[a] > times[b])
    start_a, start_b = offsets[a], offsets[b]
    size_a, size_b = offsets[a + 1] - start_a, offsets[b + 1] - start_b
    for k in range(min(size_a, size_b)):
        if text[start_a + k] != text[start_b + k]:
            return bool(text[start_a + k] > text[start_b + k])
    return bool(size_a > size_b)

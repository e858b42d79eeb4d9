"""Worlds for the parity matrix: evidence whose times sit on the decision times.

A world is an anchor instant T, evidence placed at T and one second (or, for day-granular
facts, one day; sometimes a microsecond) either side of it and of the policy's windows, and
requests asked at T, one second either side, or where the world's evidence changes and a
microsecond either side (tests/strategies.py `instants_where_evidence_changes`). Anchors
are the 2022-07-01 regime change, the Slovak regimes' first days, Slovak list release days,
Prague's clock changes and midnights, and ordinary instants. Slovak numbers get list
releases around the release due at T, and requests carry a campaign sector and a calling
line. Each world gets a fresh in-memory store.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

import optin_gate as og
from tests.oracle import (
    PRAGUE,
    Consent,
    Contract,
    Evidence,
    Listed,
    Objection,
    prague_day,
    write_evidence,
)
from tests.strategies import MICROSECOND, instants_where_evidence_changes

SECOND, DAY = timedelta(seconds=1), timedelta(days=1)
CONTROLLERS = ("acme", "beta")
# Numbers that carry evidence: six mobiles and a toll-free line (a blocked type). Consents
# go to the first five, contracts to the last five: each kind has numbers of its own, where
# no other kind masks its edges, and shares three with the other.
KEYS = (420601000001, 420601000002, 420601000003, 420800123456, 420601000004, 420601000005,
        420601000006, 421905000001, 421905000002, 421905000003)  # fmt: skip
# The Slovak ones, which also appear on the Slovak list.
SK_KEYS = tuple(k for k in KEYS if str(k).startswith("421"))
SECTORS = (None, "telekom", "Energie ")
CALLER_IDS = (None, "+421 888 123 456", "0888123457", "+421905999999")
# Numbers asked about beside them: one with no evidence, a premium-rate, a Slovak and a
# German number, and text that is no valid number.
OTHERS = ("+420 601 000 009", "900 123 456", "+421 901 234 567", "+49 151 12345678")
INVALID = ("12345", "n/a", "+420 123")
# A consent's purposes (keys; empty: any marketing), and a campaign's as it may write them.
PURPOSE_SETS = st.sampled_from([(), (), ("energy",), ("energy", "insurance"), ("insurance",)])
CAMPAIGN_PURPOSES = st.sampled_from([None, None, "energy", " Insurance", "travel"])

# Instants where the law or the clock turns (UTC): the opt-in regime's first instant, the
# Prague clock changes of 2022 and 2023, and Prague midnights beside them.
TURNS = (
    datetime(2022, 6, 30, 22, 0, tzinfo=UTC),
    datetime(2022, 3, 27, 1, 0, tzinfo=UTC),
    datetime(2022, 10, 30, 1, 0, tzinfo=UTC),
    datetime(2023, 3, 26, 1, 0, tzinfo=UTC),
    datetime(2022, 10, 29, 22, 0, tzinfo=UTC),
    datetime(2022, 10, 30, 23, 0, tzinfo=UTC),
    datetime(2023, 3, 25, 23, 0, tzinfo=UTC),
    datetime(2023, 3, 26, 22, 0, tzinfo=UTC),
    # Slovak: the act, the 0888 range, the list, the amendment, a release day (midnights)
    datetime(2022, 1, 31, 23, 0, tzinfo=UTC),
    datetime(2022, 8, 18, 22, 0, tzinfo=UTC),
    datetime(2022, 10, 31, 23, 0, tzinfo=UTC),
    datetime(2025, 11, 11, 23, 0, tzinfo=UTC),
    datetime(2024, 3, 15, 23, 0, tzinfo=UTC),
)


@dataclasses.dataclass(frozen=True)
class Ask:
    """One request: a number as written, for a controller, at an instant, of a call type."""

    text: str | None
    controller: str
    t: datetime
    call_type: str
    sector: str | None = None
    caller_id: str | None = None
    purpose: str | None = None  # as a campaign writes it


@dataclasses.dataclass(frozen=True)
class World:
    """Evidence, the policy read with it, and the requests every way answers."""

    evidence: Evidence
    policy: og.Policy
    asks: tuple[Ask, ...]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PRAGUE).astimezone(UTC)


anchors = st.one_of(
    st.sampled_from(TURNS),
    st.dates(date(2021, 6, 1), date(2025, 12, 31)).map(_midnight),
    st.datetimes(datetime(2021, 6, 1), datetime(2025, 12, 31)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)
    ),
)
# How far from an edge a time is put: on it, a second either side, or further off.
nudges = st.sampled_from([SECOND * 0] * 3 + [-SECOND, SECOND, -DAY, DAY, -DAY * 40, MICROSECOND])
tight_nudges = st.sampled_from([SECOND * 0, SECOND * 0, -SECOND, SECOND, DAY, -MICROSECOND])
seconds = st.sampled_from([SECOND * 0, SECOND * 0, -SECOND, SECOND])
day_nudges = st.sampled_from([0, 0, 0, -1, 1, -30])


@st.composite
def policies(draw: st.DrawFn, day: date) -> og.Policy:
    """Windows short enough to put evidence on their edges; the regime may turn at `day`."""
    return og.Policy(
        opt_in_from=draw(st.sampled_from([date(2022, 7, 1), day, day + DAY])),
        consent_max_age_days=draw(st.sampled_from([None, 1, 30])),
        customer_grace_days=draw(st.sampled_from([0, 1, 3])),
        directory_max_age_days=draw(st.sampled_from([0, 1, 31])),
        blocked_number_types=draw(st.sampled_from([og.Policy().blocked_number_types, ()])),
        sk_rules_from=draw(st.sampled_from([date(2022, 2, 1), day, day + DAY])),
        sk_caller_id_from=draw(st.sampled_from([date(2022, 8, 19), day, day + DAY])),
        sk_register_from=draw(st.sampled_from([date(2022, 11, 1), day, day + DAY])),
        sk_register_grace_days=draw(st.sampled_from([0, 0, 1])),
        sk_customer_window_days=draw(st.sampled_from([365, 0, 1])),
        sk_consent_beats_register=draw(st.sampled_from(["newer", "newer", "always"])),
        sk_unknown_sector_blocks=draw(st.sampled_from([True, True, False])),
        third_party_consents=draw(st.booleans()),
    )


def _unique_ids(draw: st.DrawFn, prefix: str, n: int) -> list[str]:
    """`n` distinct ids whose order is not the order they were drawn in (ties break by id)."""
    letters = draw(st.permutations("ABCDEFGH"))
    return [prefix + letter for letter in letters[:n]]


@st.composite
def evidence(draw: st.DrawFn, t: datetime, policy: og.Policy) -> Evidence:
    """Records whose times sit on `t`, on the policy's window edges around it, or near them.

    Records often share a number and controller with an earlier one (so the newer, or at a
    tie the greater id, must win), and objections often sit on a consent's grant.
    """
    day = prague_day(t)
    keys = st.sampled_from(KEYS)
    controllers = st.sampled_from(CONTROLLERS)
    sometimes = st.sampled_from([False, False, True])

    def instant(*edges: datetime) -> datetime:
        return draw(st.sampled_from(edges)) + draw(nudges)

    def close(edge: datetime) -> datetime:
        return edge + draw(tight_nudges)

    def maybe(edge: datetime) -> datetime | None:
        return close(edge) if draw(sometimes) else None

    def near(*edges: date) -> date:
        return draw(st.sampled_from(edges)) + DAY * draw(day_nudges)

    def beside(earlier: list[Any]) -> Any | None:
        """An earlier record to share a number, controller and time with, or None."""
        if not earlier or not draw(st.booleans()):
            return None
        return draw(st.sampled_from(earlier))

    aged = t - DAY * (policy.consent_max_age_days or 0)
    # Slovak registrations take effect at a release's midnight: grants on and beside it.
    took_effect = (_midnight(_release(day)),)
    consents: list[Consent] = []
    for cid in _unique_ids(draw, "C", draw(st.integers(1, 6))):
        twin = beside(consents)
        consents.append(
            Consent(
                consent_id=cid,
                phone=twin.phone if twin else draw(st.sampled_from(KEYS[:5] + SK_KEYS)),
                controller=twin.controller if twin else draw(controllers),
                granted_at=twin.granted_at if twin else instant(t, aged, *took_effect),
                withdrawn_at=maybe(t),
                expires_at=maybe(t),
                channel=draw(st.sampled_from(["phone", "phone", "any", "email"])),
                purposes=draw(PURPOSE_SETS),
                obtained=draw(st.sampled_from(["direct", "direct", "third_party"])),
            )
        )
    objections: list[Objection] = []
    for oid in _unique_ids(draw, "O", draw(st.integers(0, 3))):
        # mostly on (or a second beside) a consent's grant, else at T or tied with another
        on = draw(st.sampled_from(consents)) if draw(st.sampled_from([1, 1, 0])) else None
        tie = beside(objections)
        objections.append(
            Objection(
                objection_id=oid,
                phone=on.phone if on else tie.phone if tie else draw(keys),
                controller=draw(st.sampled_from([None, on.controller if on else "acme", "beta"])),
                objected_at=instant(on.granted_at)
                if on
                else tie.objected_at
                if tie
                else instant(t),
            )
        )
    grace_end = day - DAY * policy.customer_grace_days  # the last end date still in grace
    sk_end = day - DAY * policy.sk_customer_window_days
    last_days = (day, grace_end, grace_end - DAY, sk_end, sk_end - DAY)
    contracts: list[Contract] = []
    for kid in _unique_ids(draw, "K", draw(st.integers(1, 3))):
        twin = beside(contracts)
        contracts.append(
            Contract(
                contract_id=kid,
                phone=twin.phone if twin else draw(st.sampled_from(KEYS[2:])),
                controller=twin.controller if twin else draw(controllers),
                start_date=twin.start_date if twin else near(day),
                end_date=near(*last_days) if draw(st.booleans()) else None,
            )
        )
    stale = day - DAY * policy.directory_max_age_days
    snapshot_days = {near(day, stale, day + DAY) for _ in range(draw(st.integers(0, 3)))}
    marks = st.sampled_from(["opt_in", "opt_out", "unmarked"])
    snapshots = {d: draw(st.dictionaries(keys, marks)) for d in snapshot_days}
    return Evidence(consents, objections, contracts, snapshots, draw(register(t, policy)))


def _release(day: date) -> date:
    """The Slovak list release on or before `day` (the 1st or 16th)."""
    return day.replace(day=16 if day.day >= 16 else 1)


@st.composite
def register(draw: st.DrawFn, t: datetime, policy: og.Policy) -> list[Listed]:
    """Slovak list releases around the one due at `t`: before it, on it, after it.

    Entries register a number for all sectors, one or two, or not at all; some name the
    day the registration took effect, some leave it to the releases.
    """
    day = prague_day(t)
    due = _release(day - DAY * policy.sk_register_grace_days)
    earlier = _release(due - DAY)
    nearby = (_release(day), _release(day + DAY * 16), _release(day - DAY))
    candidates = sorted({earlier, due, *nearby})
    chosen = draw(st.lists(st.sampled_from(candidates), max_size=3, unique=True))
    sectors = st.sampled_from(["*", "telekom", "energie;telekom", "energie"])
    rows = []
    for release in chosen:
        for phone in draw(st.lists(st.sampled_from(SK_KEYS), max_size=3, unique=True)):
            registered = draw(st.booleans())
            since = draw(st.sampled_from([None, None, release, release - DAY * 20, day]))
            rows.append(
                Listed(
                    phone,
                    release,
                    registered,
                    draw(sectors) if registered else "",
                    since if registered and (since is None or since <= release) else None,
                )
            )
    return rows


@st.composite
def worlds(draw: st.DrawFn, moments: int = 2, at_changes: bool = False) -> World:
    """A world around one anchor, asked at `moments` moments about every kind of number.

    A moment is the anchor, a second either side of it, or where the world's evidence
    changes (`instants_where_evidence_changes`); with `at_changes`, only the last.
    """
    t = draw(anchors)
    policy = draw(policies(prague_day(t)))
    ev = draw(evidence(t, policy))
    texts = [draw(st.sampled_from(written(key))) for key in KEYS]
    texts += [*OTHERS, draw(st.sampled_from(INVALID))]
    changes = instants_where_evidence_changes(ev, policy)
    times = changes if at_changes else st.sampled_from([t, t, t - SECOND, t + SECOND]) | changes
    # Each moment is asked for every controller: most evidence belongs to one of them.
    chosen = draw(
        st.lists(
            st.tuples(
                times,
                st.sampled_from(["live", "live", "automated"]),
                st.sampled_from(SECTORS),
                st.sampled_from(CALLER_IDS),
                CAMPAIGN_PURPOSES,
            ),
            min_size=moments,
            max_size=moments,
            unique=True,
        )
    )
    asks = tuple(
        Ask(text, controller, at, call, sector, caller, purpose)
        for at, call, sector, caller, purpose in chosen
        for controller in CONTROLLERS
        for text in texts
    )
    return World(ev, policy, asks)


def written(key: int) -> list[str]:
    """Ways a list writes a Czech number (a Slovak one always with its country code)."""
    n, code = str(key)[3:], str(key)[:3]
    if code != "420":
        return [f"+{key}", f"00{key}", f"+{code} {n[:3]} {n[3:6]} {n[6:]}"]
    return [f"+{key}", n, f"00{key}", f"{n[:3]} {n[3:6]} {n[6:]}", f"+420 {n[:3]}-{n[3:6]}-{n[6:]}"]


def as_written(t: datetime, form: int) -> str:
    """`t` as a call log or a query string may write it, by `form` (any int): in UTC, in
    Prague time with its offset, or as Prague wall-clock time without a zone where that
    names `t` (docs/rules.md § 3; the repeated autumn hour read so is its first pass)."""
    local = t.astimezone(PRAGUE)
    wall = local.replace(tzinfo=None, fold=0)  # text carries no fold
    if form % 3 == 0:
        return t.isoformat()
    if form % 3 == 2 and wall.replace(tzinfo=PRAGUE).astimezone(UTC) == t:
        return wall.isoformat()
    return local.isoformat()


def load(ev: Evidence) -> og.EvidenceStore:
    """A fresh in-memory store holding exactly `ev`.

    Its tables are written directly: the loaders, which read users' files, have their own
    tests, and the law table (test_law_table.py) loads its world through them.
    """
    store = og.EvidenceStore()
    with store.connect(read_only=False) as con:
        write_evidence(con, ev)
    return store

"""A brute-force, obviously-correct reading of the evidence, straight from docs/rules.md.

Slow on purpose: loops over every record. `decide` is the whole decision order
(docs/rules.md § 1.4, the evidence read as § 3 says; § 4.3 for Slovak numbers) in plain
Python: it shares no code with
the library's rules, SQL or compiled lookups, so every way of deciding (tests/ways) is held
to it. Evidence here is plain Python records, written into a store's tables by
`write_evidence` (bypassing the loaders, which have their own tests).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import phonenumbers

from optin_gate.policy import Policy
from optin_gate.store.schema import DDL


@dataclasses.dataclass(frozen=True)
class Consent:
    consent_id: str
    phone: int
    controller: str
    granted_at: datetime
    withdrawn_at: datetime | None = None
    expires_at: datetime | None = None
    channel: str = "phone"
    purposes: tuple[str, ...] = ()  # keys; empty: any marketing
    obtained: str = "direct"  # or "third_party"


@dataclasses.dataclass(frozen=True)
class Objection:
    objection_id: str
    phone: int
    controller: str | None
    objected_at: datetime


@dataclasses.dataclass(frozen=True)
class Contract:
    contract_id: str
    phone: int
    controller: str
    start_date: date
    end_date: date | None = None


@dataclasses.dataclass(frozen=True)
class Listed:
    """One Slovak list release's entry for a number (docs/rules.md § 4.4)."""

    phone: int
    release_date: date
    registered: bool
    sectors: str = ""  # "*", or lower-case codes joined by ";" in order; "" if not registered
    registered_since: date | None = None


@dataclasses.dataclass
class Evidence:
    consents: list[Consent] = dataclasses.field(default_factory=list)
    objections: list[Objection] = dataclasses.field(default_factory=list)
    contracts: list[Contract] = dataclasses.field(default_factory=list)
    # snapshot date -> {phone: marketing}
    snapshots: dict[date, dict[int, str]] = dataclasses.field(default_factory=dict)
    register: list[Listed] = dataclasses.field(default_factory=list)


PRAGUE = ZoneInfo("Europe/Prague")
BRATISLAVA = ZoneInfo("Europe/Bratislava")
ALLOWING = frozenset({"CONSENT", "EXISTING_CUSTOMER", "DIRECTORY_OPT_IN", "NO_OPT_OUT"})
OPT_IN, OPT_OUT = "CZ-2022-opt-in", "CZ-opt-out"


def prague_day(instant: datetime) -> date:
    """The calendar day in Prague of an aware instant."""
    return instant.astimezone(PRAGUE).date()


def _not_counting(c: Consent, t: datetime, policy: Policy, purpose: str | None) -> str | None:
    """Why a consent granted by `t` does not count at `t` (None: it counts), in the order
    docs/rules.md gives: third party, other channel, other purposes, withdrawn, expired."""
    if c.obtained == "third_party" and not policy.third_party_consents:
        return "obtained from a third party"
    if c.channel not in ("phone", "any"):
        return "given for another channel"
    if purpose is not None and c.purposes and purpose not in c.purposes:
        return "given for other purposes"
    if c.withdrawn_at is not None and c.withdrawn_at <= t:
        return "withdrawn"
    ends = [c.expires_at]
    if policy.consent_max_age_days is not None:
        ends.append(c.granted_at + timedelta(days=policy.consent_max_age_days))
    if any(end is not None and end <= t for end in ends):
        return "expired"
    return None


def oracle_facts(
    ev: Evidence,
    phone: int | None,
    controller: str,
    t: datetime,
    policy: Policy,
    *,
    grace_days: int | None = None,
    purpose: str | None = None,
) -> dict[str, object]:
    """The time-dependent facts for one request, by looping over everything.

    `grace_days` is how long a contract counts after its end (default: the Czech grace).

    `note`: when no consent counts, the newest consent held (granted by `t`) and why it
    does not count.
    """
    day = prague_day(t)
    out: dict[str, object] = {
        "t_day": day,
        "objection_id": None,
        "consent_id": None,
        "contract_id": None,
        "directory_date": None,
        "directory_marketing": None,
        "note": None,
    }
    past = [d for d in ev.snapshots if d <= day]
    if past:
        snap = max(past)
        out["directory_date"] = snap
        out["directory_marketing"] = ev.snapshots[snap].get(phone) if phone is not None else None
    if phone is None:
        return out
    held = [
        c
        for c in ev.consents
        if c.phone == phone and c.controller == controller and c.granted_at <= t
    ]
    consents = [c for c in held if _not_counting(c, t, policy, purpose) is None]
    consent = max(consents, key=lambda c: (c.granted_at, c.consent_id), default=None)
    if consent is None and held:
        newest = max(held, key=lambda c: (c.granted_at, c.consent_id))
        why = _not_counting(newest, t, policy, purpose)
        out["note"] = f"consent:{newest.consent_id} held, not counted: {why}"
    objections = [
        o
        for o in ev.objections
        if o.phone == phone and o.controller in (None, controller) and o.objected_at <= t
    ]
    objection = max(objections, key=lambda o: (o.objected_at, o.objection_id), default=None)
    if consent is not None:
        out["consent_id"] = consent.consent_id
    if objection is not None and (consent is None or consent.granted_at <= objection.objected_at):
        out["objection_id"] = objection.objection_id
    grace = timedelta(days=policy.customer_grace_days if grace_days is None else grace_days)
    contracts = [
        k
        for k in ev.contracts
        if k.phone == phone
        and k.controller == controller
        and k.start_date <= day
        and (k.end_date is None or day <= k.end_date + grace)
    ]
    contract = max(contracts, key=lambda k: (k.start_date, k.contract_id), default=None)
    if contract is not None:
        out["contract_id"] = contract.contract_id
    return out


@dataclasses.dataclass(frozen=True)
class Decided:
    """What every way of deciding must answer for one number, controller, time and call type."""

    e164: str | None
    allowed: bool
    reason: str
    evidence: str | None
    rule_set: str
    note: str | None = None


def _number(text: str | None, region: str) -> tuple[str | None, str | None, str | None]:
    """(e164, country, number type) as phonenumbers reads `text`; all None unless valid."""
    if text is None:
        return None, None, None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, None, None
    if not phonenumbers.is_valid_number(parsed):
        return None, None, None
    kind = phonenumbers.number_type(parsed)
    names = {v: k.lower() for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()}
    return (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_number(parsed),
        names[kind],
    )


def decide(  # noqa: PLR0911 - one return per row of the decision order
    ev: Evidence,
    text: str | None,
    *,
    controller: str,
    t: datetime,
    call_type: str,
    policy: Policy,
    sector: str | None = None,
    caller_id: str | None = None,
    purpose: str | None = None,
) -> Decided:
    """The decision of docs/rules.md § 1.4 (evidence read as § 3 says), first row deciding.

    `purpose`: the campaign's purpose as written (None: none named); the note rides along
    with every decision on a valid number.
    """
    e164, country, number_type = _number(text, policy.default_region)
    day = prague_day(t)
    rule_set = OPT_IN if day >= policy.opt_in_from else OPT_OUT
    wanted = None if purpose is None else purpose.strip().lower()
    facts = oracle_facts(
        ev, None if e164 is None else int(e164[1:]), controller, t, policy, purpose=wanted
    )

    def answer(reason: str, evidence: str | None = None) -> Decided:
        note = facts["note"]
        assert note is None or isinstance(note, str)
        return Decided(e164, reason in ALLOWING, reason, evidence, rule_set, note)

    if e164 is None:
        return answer("INVALID_NUMBER")
    if country == "SK":
        return decide_sk(
            ev,
            e164,
            number_type,
            controller=controller,
            t=t,
            call_type=call_type,
            policy=policy,
            sector=sector,
            caller_id=caller_id,
            purpose=wanted,
        )
    if country != "CZ":
        return answer("UNSUPPORTED_REGION")
    if number_type in policy.blocked_number_types:
        return answer("BLOCKED_NUMBER_TYPE")
    if facts["objection_id"] is not None:
        return answer("OBJECTION", f"objection:{facts['objection_id']}")
    if facts["consent_id"] is not None:
        return answer("CONSENT", f"consent:{facts['consent_id']}")
    if call_type == "automated":
        return answer("AUTOMATED_NEEDS_CONSENT")
    if facts["contract_id"] is not None:
        return answer("EXISTING_CUSTOMER", f"contract:{facts['contract_id']}")
    snapshot = facts["directory_date"]
    if not isinstance(snapshot, date):
        return answer("STALE_DIRECTORY")
    directory = f"directory:{snapshot.isoformat()}"
    if (day - snapshot).days > policy.directory_max_age_days:
        return answer("STALE_DIRECTORY", directory)
    mark = facts["directory_marketing"]
    if rule_set == OPT_OUT:
        return answer("DIRECTORY_OPT_OUT" if mark == "opt_out" else "NO_OPT_OUT", directory)
    if mark == "opt_in":
        return answer("DIRECTORY_OPT_IN", directory)
    return answer("NO_LEGAL_BASIS", directory)


def sk_label(day: date, policy: Policy) -> str:
    """The Slovak regime on `day` (docs/rules.md § 4)."""
    if day < policy.sk_rules_from:
        return "SK-2011-consent"
    if day < policy.sk_caller_id_from:
        return "SK-2022"
    if day < policy.sk_register_from:
        return "SK-2022-0888"
    return "SK-2022-list" if day < date(2025, 11, 12) else "SK-2025-list"


def _from_0888(caller_id: str | None) -> bool:
    if caller_id is None:
        return False
    try:
        parsed = phonenumbers.parse(caller_id, "SK")
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(parsed) and e164.startswith("+421888")


def _covers(entry: Listed, sector: str | None, policy: Policy) -> bool:
    """The entry registers the number against a campaign of `sector` (§ 4.3 row 12)."""
    if not entry.registered:
        return False
    if entry.sectors in ("*", ""):
        return True
    if sector is None:
        return policy.sk_unknown_sector_blocks
    return sector.strip().lower() in entry.sectors.split(";")


def _took_effect(ev: Evidence, entry: Listed) -> date:
    """When the registration in `entry` took effect (docs/rules.md § 4.4)."""
    if entry.registered_since is not None:
        return entry.registered_since
    held = sorted(
        (e for e in ev.register if e.phone == entry.phone and e.release_date <= entry.release_date),
        key=lambda e: e.release_date,
        reverse=True,
    )
    start = entry.release_date
    for e in held:
        if not e.registered:
            break
        start = e.release_date
    return start


def decide_sk(  # noqa: PLR0911 - one return per row of the decision order
    ev: Evidence,
    e164: str,
    number_type: str | None,
    *,
    controller: str,
    t: datetime,
    call_type: str,
    policy: Policy,
    sector: str | None,
    caller_id: str | None,
    purpose: str | None = None,
) -> Decided:
    """The Slovak decision order, docs/rules.md § 4.3, first row deciding.

    `purpose` is the campaign's purpose key; the note rides along as in `decide`.
    """
    day = t.astimezone(BRATISLAVA).date()
    rule_set = sk_label(day, policy)
    phone = int(e164[1:])
    facts = oracle_facts(
        ev, phone, controller, t, policy, grace_days=policy.sk_customer_window_days, purpose=purpose
    )

    def answer(reason: str, evidence: str | None = None) -> Decided:
        note = facts["note"]
        assert note is None or isinstance(note, str)
        return Decided(e164, reason in ALLOWING, reason, evidence, rule_set, note)

    if number_type in policy.blocked_number_types:
        return answer("BLOCKED_NUMBER_TYPE")
    if facts["objection_id"] is not None:
        return answer("OBJECTION", f"objection:{facts['objection_id']}")
    live = call_type == "live"
    if live and day >= policy.sk_rules_from and facts["contract_id"] is not None:
        return answer("EXISTING_CUSTOMER", f"contract:{facts['contract_id']}")
    if day >= policy.sk_caller_id_from and not _from_0888(caller_id):
        return answer("CALLER_ID_NOT_0888")
    entries = [e for e in ev.register if e.phone == phone and e.release_date <= day]
    entry = max(entries, key=lambda e: e.release_date, default=None)
    blocking = entry is not None and _covers(entry, sector, policy)
    granted = next(
        (c.granted_at for c in ev.consents
         if c.consent_id == facts["consent_id"] and c.controller == controller),
        None,
    )  # fmt: skip
    if granted is not None:
        counts = True
        if blocking and policy.sk_consent_beats_register == "newer":
            assert entry is not None
            since = datetime.combine(_took_effect(ev, entry), datetime.min.time(), BRATISLAVA)
            counts = granted > since
        if counts:
            return answer("CONSENT", f"consent:{facts['consent_id']}")
    if not live:
        return answer("AUTOMATED_NEEDS_CONSENT")
    if day < policy.sk_rules_from:
        return answer("NO_LEGAL_BASIS")
    if day < policy.sk_register_from:
        return answer("NO_OPT_OUT")
    lagged = day - timedelta(days=policy.sk_register_grace_days)
    due = lagged.replace(day=16 if lagged.day >= 16 else 1)
    listed = None if entry is None else f"register:{entry.release_date.isoformat()}"
    if entry is None or entry.release_date < due:
        return answer("STALE_REGISTER", listed)
    if blocking:
        return answer("REGISTER_OPT_OUT", listed)
    return answer("NO_OPT_OUT", listed)


def directory_intervals(
    snapshots: dict[date, dict[int, str]],
) -> list[tuple[int, str, date, date | None]]:
    """Full snapshots as validity intervals (phone, marketing, valid_from, valid_to)."""
    dates = sorted(snapshots)
    rows: list[tuple[int, str, date, date | None]] = []
    open_: dict[int, tuple[str, date]] = {}
    for d in dates:
        snap = snapshots[d]
        for phone, (mark, since) in list(open_.items()):
            if snap.get(phone) != mark:
                rows.append((phone, mark, since, d))
                del open_[phone]
        for phone, mark in snap.items():
            if phone not in open_:
                open_[phone] = (mark, d)
    rows.extend((phone, mark, since, None) for phone, (mark, since) in open_.items())
    return rows


def write_evidence(con: duckdb.DuckDBPyConnection, ev: Evidence) -> None:
    """Create the store tables on `con` and fill them with `ev` (load_id 1, all current)."""
    con.execute(DDL)
    _insert(
        con,
        "INSERT INTO consents VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 1, NULL, ?, NULL, NULL, ?, NULL)",
        [
            (
                c.consent_id,
                c.phone,
                c.controller,
                c.granted_at,
                c.withdrawn_at,
                c.expires_at,
                c.channel,
                ";".join(sorted(c.purposes)) or None,
                c.obtained,
            )
            for c in ev.consents
        ],
    )
    _insert(
        con,
        "INSERT INTO objections VALUES (?, ?, ?, ?, NULL, 1, NULL)",
        [(o.objection_id, o.phone, o.controller, o.objected_at) for o in ev.objections],
    )
    _insert(
        con,
        "INSERT INTO contracts VALUES (?, ?, ?, ?, ?, NULL, 1, NULL)",
        [(k.contract_id, k.phone, k.controller, k.start_date, k.end_date) for k in ev.contracts],
    )
    _insert(con, "INSERT INTO directory VALUES (?, ?, ?, ?)", directory_intervals(ev.snapshots))
    _insert(
        con,
        "INSERT INTO directory_snapshots VALUES (?, 1, ?)",
        [(d, len(s)) for d, s in ev.snapshots.items()],
    )
    _insert(
        con,
        "INSERT INTO sk_register VALUES (?, ?, ?, ?, ?, 1)",
        [
            (e.phone, e.release_date, e.registered, e.sectors, e.registered_since)
            for e in ev.register
        ],
    )
    releases = sorted({e.release_date for e in ev.register})
    _insert(con, "INSERT INTO sk_register_releases VALUES (?, 1, 0)", [(d,) for d in releases])


def _insert(con: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
    if rows:
        con.executemany(sql, rows)

"""A brute-force, obviously-correct reading of the evidence, straight from docs/rules.md.

Slow on purpose: loops over every record. `decide` is the whole decision order
(docs/rules.md § 1.4, the evidence read as § 3 says) in plain Python: it shares no code with
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


@dataclasses.dataclass
class Evidence:
    consents: list[Consent] = dataclasses.field(default_factory=list)
    objections: list[Objection] = dataclasses.field(default_factory=list)
    contracts: list[Contract] = dataclasses.field(default_factory=list)
    # snapshot date -> {phone: marketing}
    snapshots: dict[date, dict[int, str]] = dataclasses.field(default_factory=dict)


PRAGUE = ZoneInfo("Europe/Prague")
ALLOWING = frozenset({"CONSENT", "EXISTING_CUSTOMER", "DIRECTORY_OPT_IN", "NO_OPT_OUT"})
OPT_IN, OPT_OUT = "CZ-2022-opt-in", "CZ-opt-out"


def prague_day(instant: datetime) -> date:
    """The calendar day in Prague of an aware instant."""
    return instant.astimezone(PRAGUE).date()


def oracle_facts(
    ev: Evidence, phone: int | None, controller: str, t: datetime, policy: Policy
) -> dict[str, object]:
    """The time-dependent facts for one request, by looping over everything."""
    day = prague_day(t)
    out: dict[str, object] = {
        "t_day": day,
        "objection_id": None,
        "consent_id": None,
        "contract_id": None,
        "directory_date": None,
        "directory_marketing": None,
    }
    past = [d for d in ev.snapshots if d <= day]
    if past:
        snap = max(past)
        out["directory_date"] = snap
        out["directory_marketing"] = ev.snapshots[snap].get(phone) if phone is not None else None
    if phone is None:
        return out
    consents = [
        c
        for c in ev.consents
        if c.phone == phone
        and c.controller == controller
        and c.channel in ("phone", "any")
        and c.granted_at <= t
        and (c.withdrawn_at is None or c.withdrawn_at > t)
        and (c.expires_at is None or c.expires_at > t)
        and (
            policy.consent_max_age_days is None
            or c.granted_at + timedelta(days=policy.consent_max_age_days) > t
        )
    ]
    consent = max(consents, key=lambda c: (c.granted_at, c.consent_id), default=None)
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
    grace = timedelta(days=policy.customer_grace_days)
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
) -> Decided:
    """The decision of docs/rules.md § 1.4 (evidence read as § 3 says), first row deciding."""
    e164, country, number_type = _number(text, policy.default_region)
    day = prague_day(t)
    rule_set = OPT_IN if day >= policy.opt_in_from else OPT_OUT

    def answer(reason: str, evidence: str | None = None) -> Decided:
        return Decided(e164, reason in ALLOWING, reason, evidence, rule_set)

    if e164 is None:
        return answer("INVALID_NUMBER")
    if country != "CZ":
        return answer("UNSUPPORTED_REGION")
    if number_type in policy.blocked_number_types:
        return answer("BLOCKED_NUMBER_TYPE")
    facts = oracle_facts(ev, int(e164[1:]), controller, t, policy)
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
        "INSERT INTO consents VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 1, NULL)",
        [
            (
                c.consent_id,
                c.phone,
                c.controller,
                c.granted_at,
                c.withdrawn_at,
                c.expires_at,
                c.channel,
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


def _insert(con: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
    if rows:
        con.executemany(sql, rows)

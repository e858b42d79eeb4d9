"""Shared hypothesis strategies: every test that needs random facts, numbers or evidence draws
them from here, so one improvement reaches every property."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from optin_gate.policy import KNOWN_NUMBER_TYPES, Policy
from optin_gate.rules import Facts

REGIME_DAY = date(2022, 7, 1)

# Days clustered around the interesting boundaries: the regime change and a 31-day window.
days = st.one_of(
    st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(-40, 40).map(lambda d: REGIME_DAY + timedelta(days=d)),
)

ids = st.none() | st.text(alphabet="ABC-0123456789", min_size=1, max_size=6)

marketing = st.sampled_from([None, "opt_in", "opt_out", "unmarked"])

number_types = st.sampled_from(sorted(KNOWN_NUMBER_TYPES))

# Slovak list releases a shape may name (`ShapeCodec.releases`), around the regime change.
RELEASES = (date(2022, 6, 16), date(2022, 7, 1), date(2022, 7, 16))


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    """Any combination of facts the store and numbers stages can produce."""
    valid = draw(st.booleans())
    t_day = draw(days)
    directory_date = draw(st.none() | st.integers(0, 60).map(lambda d: t_day - timedelta(days=d)))
    country = draw(st.sampled_from(["CZ", "SK", "DE", "001"])) if valid else None
    # Only a Slovak number has a list release in force, and a registration only with one.
    register_date = draw(st.none() | st.sampled_from(RELEASES)) if country == "SK" else None
    listed = register_date is not None
    return Facts(
        valid=valid,
        country=country,
        number_type=draw(number_types) if valid else None,
        automated=draw(st.booleans()),
        t_day=t_day,
        objection_id=draw(ids),
        consent_id=draw(ids),
        contract_id=draw(ids),
        directory_date=directory_date,
        directory_marketing=draw(marketing) if directory_date is not None else None,
        caller_id_0888=draw(st.booleans()),
        register_date=register_date,
        register_blocks=listed and draw(st.booleans()),
        consent_before_register=listed and draw(st.booleans()),
    )


policies = st.builds(
    Policy,
    opt_in_from=st.sampled_from([REGIME_DAY, date(2022, 1, 1)]),
    directory_max_age_days=st.sampled_from([0, 7, 31]),
    blocked_number_types=st.sampled_from([Policy().blocked_number_types, (), ("mobile", "voip")]),
    sk_register_from=st.sampled_from([date(2022, 11, 1), REGIME_DAY]),
    sk_register_grace_days=st.sampled_from([0, 1]),
)


# --- evidence (see tests/oracle.py) -----------------------------------------------------------
# A small universe so that draws collide: the interesting cases are overlaps.
from datetime import UTC, datetime, time  # noqa: E402

from tests.oracle import PRAGUE, Consent, Contract, Evidence, Objection  # noqa: E402

PHONES = (420601000001, 420601000002, 420601000003)
CONTROLLERS = ("acme", "beta")
EPOCH = datetime(2022, 6, 20, tzinfo=UTC)

instants = st.integers(0, 30 * 24).map(lambda h: EPOCH + timedelta(hours=h))
opt_instants = st.none() | instants
short_ids = st.text(alphabet="XYZ0123", min_size=1, max_size=3)
# A consent's purposes (keys; empty: any marketing) and how it was obtained.
consent_purposes = st.sampled_from([(), (), ("energy",), ("energy", "insurance")])
obtained = st.sampled_from(["direct", "direct", "third_party"])


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    """Random evidence over PHONES and CONTROLLERS within ~30 days of the regime change."""
    phones = st.sampled_from(PHONES)
    consents = draw(
        st.lists(
            st.builds(
                Consent,
                consent_id=short_ids.map(lambda s: "C" + s),
                phone=phones,
                controller=st.sampled_from(CONTROLLERS),
                granted_at=instants,
                withdrawn_at=opt_instants,
                expires_at=opt_instants,
                channel=st.sampled_from(["phone", "any", "email"]),
                purposes=consent_purposes,
                obtained=obtained,
            ),
            max_size=6,
            unique_by=lambda c: (c.controller, c.consent_id),
        )
    )
    objections = draw(
        st.lists(
            st.builds(
                Objection,
                objection_id=short_ids.map(lambda s: "O" + s),
                phone=phones,
                controller=st.none() | st.sampled_from(CONTROLLERS),
                objected_at=instants,
            ),
            max_size=4,
            unique_by=lambda o: o.objection_id,
        )
    )
    contracts = draw(
        st.lists(
            st.builds(
                Contract,
                contract_id=short_ids.map(lambda s: "K" + s),
                phone=phones,
                controller=st.sampled_from(CONTROLLERS),
                start_date=instants.map(lambda i: i.date()),
                end_date=st.none() | instants.map(lambda i: i.date()),
            ),
            max_size=4,
            unique_by=lambda k: (k.controller, k.contract_id),
        )
    )
    snap_days = draw(st.lists(instants.map(lambda i: i.date()), max_size=3, unique=True))
    snapshots = {
        d: draw(st.dictionaries(phones, st.sampled_from(["opt_in", "opt_out", "unmarked"])))
        for d in snap_days
    }
    return Evidence(consents, objections, contracts, snapshots)


# --- phone strings (see tests/numbers) ------------------------------------------------------
# Realistic numbers of many countries written the ways users write them, then decorated the
# ways files mangle them. Built from phonenumbers' own example numbers with random tails, so a
# good share is valid and the rest is near-valid: the cases where a fast path could go wrong.

import phonenumbers  # noqa: E402

PHONE_REGIONS = ("CZ", "SK", "DE", "AT", "PL", "US", "GB")
# Beyond PHONE_REGIONS: shared calling codes (IT/VA, RU/KZ, AU, GB/GG, US/CA), national
# prefixes with carrier codes or transform rules (AR, BR, MX), Italian leading zeros, and
# plans with local-only lengths.
PHONE_COUNTRIES = (
    *PHONE_REGIONS,
    *("FR", "IT", "HU", "UA", "CH", "RU", "KZ", "AR", "BR", "MX", "AU", "IN", "CN"),
    *("JP", "IE", "NL", "BE", "GG", "CA", "VA", "FI"),
)
_SEPARATORS = (" ", " ", "-", ".", "/", "\u00a0", "", " - ", "\u2013", "\u2212", "\u3000")
_EXTENSIONS = (" ext. 12", " x 5", ";ext=123", " #12", ",,44", " ext 9876543210")
_DIGIT_SETS = ("０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९")
_FORMS = (
    *("+cc", "+cc", "(+cc)", "00cc", "011cc", "cc", "national", "national", "bare"),
    *("+cc0", "+ cc", "++cc", "0cc", "(0)"),
)


def _example_numbers(region: str) -> tuple[str, ...]:
    found = set()
    for kind in phonenumbers.supported_types_for_region(region):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            found.add(phonenumbers.national_significant_number(example))
    return tuple(sorted(found)) or ("123456789",)


_EXAMPLES = {region: _example_numbers(region) for region in PHONE_COUNTRIES}


@st.composite
def national_numbers(draw: st.DrawFn, region: str) -> str:
    """An example number of `region` with a random tail, sometimes a digit short or long."""
    base = draw(st.sampled_from(_EXAMPLES[region]))
    keep = draw(st.integers(max(0, len(base) - 6), len(base)) | st.integers(0, len(base)))
    size = max(0, len(base) - keep + draw(st.sampled_from([0, 0, 0, 0, -1, 1, -2, 2])))
    return base[:keep] + draw(st.text("0123456789", min_size=size, max_size=size))


def _grouped(draw: st.DrawFn, digits: str, separator: str) -> str:
    """Digits split into groups of 1-4 joined by `separator` (sometimes a random one)."""
    parts, rest = [], digits
    while rest:
        size = draw(st.integers(1, 4))
        parts.append(rest[:size])
        rest = rest[size:]
    joined = parts[0] if parts else ""
    for part in parts[1:]:
        mixed = draw(st.sampled_from([separator] * 5 + list(_SEPARATORS)))
        joined += mixed + part
    return joined


@st.composite
def phone_strings(draw: st.DrawFn, countries: tuple[str, ...] = PHONE_COUNTRIES) -> str:
    """A number as a user's file may hold it: any country, any common shape, sometimes mangled."""
    region = draw(st.sampled_from(countries))
    cc = str(phonenumbers.country_code_for_region(region))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = (metadata.national_prefix or "") if metadata is not None else ""
    nsn = draw(national_numbers(region))
    separator = draw(st.sampled_from(_SEPARATORS))
    body = _grouped(draw, nsn, separator)
    form = draw(st.sampled_from(_FORMS))
    text = {
        "+cc": f"+{cc}{separator}{body}",
        "(+cc)": f"(+{cc}){separator}{body}",
        "00cc": f"00{cc}{separator}{body}",
        "011cc": f"011{cc}{separator}{body}",
        "cc": f"{cc}{separator}{body}",
        "national": f"{prefix}{separator if draw(st.booleans()) else ''}{body}",
        "bare": body,
        "+cc0": f"+{cc} ({prefix or '0'}) {body}",
        "+ cc": f"+ {cc}{body}",
        "++cc": f"++{cc}{body}",
        "0cc": f"0{cc}{body}",
        "(0)": f"({prefix or '0'}{body[:3]}) {body[3:]}",
    }[form]
    return draw(_mangled(text))


@st.composite
def _mangled(draw: st.DrawFn, text: str) -> str:  # noqa: PLR0911 - one return per mangling
    """Whitespace, and sometimes what spreadsheets, CRMs and people do to a number."""
    text = draw(st.sampled_from(["", "", "", " ", "  ", "\u00a0", "\t"])) + text
    text += draw(st.sampled_from(["", "", "", " ", "\u00a0", "\n", ")"]))
    how = draw(st.integers(0, 19))
    digits = "".join(c for c in text if c.isascii() and c.isdigit())
    if how == 0:
        return "tel:" + text.strip().replace(" ", "-")
    if how == 1:
        return text + draw(st.sampled_from(_EXTENSIONS))
    if how == 2:
        table = str.maketrans("0123456789", draw(st.sampled_from(_DIGIT_SETS)))
        return text.translate(table)
    if how == 3 and digits:
        return draw(st.sampled_from(["{:.5E}", "{:.0f}", "{}", "{:.1f}"])).format(float(digits))
    if how == 4:
        return draw(st.sampled_from(["Tel: ", "mob. ", "T: ", "tel. č. ", "GSM "])) + text
    if how == 5:
        spot = draw(st.integers(0, len(text)))
        return text[:spot] + draw(st.text(min_size=1, max_size=3)) + text[spot:]
    if how == 6:
        return text * draw(st.integers(2, 30))
    if how == 7:
        return text + " / " + text
    return text


# Everything a phone column can hold: realistic numbers, number-like noise and any text.
phone_texts = st.one_of(
    phone_strings(),
    phone_strings(),
    phone_strings(),
    st.text(alphabet="0123456789+-(). /\u00a0x#*;,", max_size=30),
    st.text(max_size=40),
    st.sampled_from(["", " ", "+", "00", "420", "n/a", "neuvedeno", "-", "0"]),
)


# ---- io: user-written times ----------------------------------------------------------------
_DST_EDGES = (
    datetime(2026, 3, 29, 1, 30),
    datetime(2026, 3, 29, 2, 30),
    datetime(2026, 10, 25, 2, 30),
    datetime(2025, 10, 26, 2, 0),
    datetime(1995, 9, 24, 2, 30),
    datetime(1940, 4, 1, 2, 30),
)

# Naive wall-clock times as users write them: any second from 1900 to 2199, and the hours
# around Prague's clock changes (the spring gap, the repeated autumn hour).
local_times = st.one_of(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.sampled_from(_DST_EDGES).flatmap(
        lambda d: st.integers(-90, 90).map(lambda m: d + timedelta(minutes=m))
    ),
)


def iso_text(d: datetime, sep: str = " ", seconds: bool = True) -> str:
    """ISO 8601 without a zone, as Excel or Python would write it."""
    return d.strftime(f"%Y-%m-%d{sep}%H:%M" + (":%S" if seconds else ""))


def czech_text(d: datetime, spaced: bool = False, seconds: bool = True) -> str:
    """Czech `28.11.2026 14:30:15` (or `28. 11. 2026 ...`), day and month not zero-padded."""
    dot = ". " if spaced else "."
    time = f"{d.hour}:{d.minute:02d}" + (f":{d.second:02d}" if seconds else "")
    return f"{d.day}{dot}{d.month}{dot}{d.year} {time}"


# --- call lists for the filter (tests/engine) ---------------------------------------------
# How a list might write the numbers of PHONES, and numbers that are not in the evidence.
def _written_forms(key: int) -> list[str]:
    n = str(key)[3:]
    return [f"+{key}", n, f"00{key}", f"{n[:3]} {n[3:6]} {n[6:]}", f"+420 {n[:3]}-{n[3:6]}-{n[6:]}"]


list_phones = st.one_of(
    st.sampled_from(PHONES).flatmap(lambda k: st.sampled_from(_written_forms(k))),
    st.sampled_from(
        [
            "601 000 009",  # Czech mobile with no evidence
            "800 123 456",  # toll-free
            "900 123 456",  # premium rate
            "+421 901 234 567",  # Slovak
            "+49 151 12345678",  # German
            "",
            "n/a",
            "12345",
            "+420 123",
        ]
    ),
    st.none(),
    st.text(max_size=6),
)

# Policies whose settings change the facts, not just the rules.
fact_policies = st.builds(
    Policy,
    opt_in_from=st.sampled_from([REGIME_DAY, date(2022, 6, 25)]),
    directory_max_age_days=st.sampled_from([0, 7, 31]),
    customer_grace_days=st.sampled_from([0, 3]),
    consent_max_age_days=st.sampled_from([None, 5]),
    blocked_number_types=st.sampled_from([Policy().blocked_number_types, ()]),
    third_party_consents=st.booleans(),
)


def evidence_moments(ev: Evidence) -> list[datetime]:
    """Every instant where a fact of `ev` can change: grants, withdrawals, expiries,
    objections, and contract and snapshot days (with the days after a contract's end)."""
    times = [c.granted_at for c in ev.consents]
    times += [x for c in ev.consents for x in (c.withdrawn_at, c.expires_at) if x is not None]
    times += [o.objected_at for o in ev.objections]
    days = [k.start_date for k in ev.contracts] + list(ev.snapshots)
    ends = [k.end_date for k in ev.contracts if k.end_date is not None]
    days += ends + [d + timedelta(days=n) for d in ends for n in (1, 3, 4)]
    return times + [datetime.combine(d, time(10), tzinfo=UTC) for d in days]


@st.composite
def evidence_and_time(draw: st.DrawFn) -> tuple[Evidence, datetime]:
    """Random evidence and a decision time, often exactly on one of its edges."""
    ev = draw(evidence())
    edges = evidence_moments(ev)
    return ev, draw(st.sampled_from(edges) | instants if edges else instants)


# --- call instants where evidence changes (tests/ways) ------------------------------------
# A decision can only change where a fact does: a call asked exactly there and a microsecond
# either side finds an off-by-one in any way of deciding (`<` for `<=`, a day cut at the
# wrong midnight, a time rounded to the second).
MICROSECOND = timedelta(microseconds=1)
# The opt-in regime's first day (docs/rules.md § 1.1) and the Slovak 2025 amendment's.
LAW_DAYS = (REGIME_DAY, date(2025, 11, 12))


def prague_midnight(day: date) -> datetime:
    """The first instant of `day` in Prague (and Bratislava), in UTC."""
    return datetime.combine(day, time(0), tzinfo=PRAGUE).astimezone(UTC)


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def clock_changes(year: int) -> tuple[datetime, ...]:
    """Where Prague's clock turns in `year` (UTC): the edges of the skipped and repeated hour.

    Spring: 02:00 local becomes 03:00 at 01:00 UTC, so 02:xx does not exist. Autumn: 03:00
    local becomes 02:00 at 01:00 UTC, so 02:xx happens twice, from 00:00 to 02:00 UTC. Also
    the midnights that end the 23- and 25-hour days.
    """
    spring, autumn = _last_sunday(year, 3), _last_sunday(year, 10)
    turn = time(1, 0, tzinfo=UTC)
    edges = [datetime.combine(d, turn) for d in (spring, autumn)]
    edges += [datetime.combine(autumn, time(h, 0, tzinfo=UTC)) for h in (0, 2)]
    edges += [prague_midnight(d + timedelta(days=1)) for d in (spring, autumn)]
    return tuple(edges)


def _contract_window(phone: int, policy: Policy) -> int:
    """Days a contract still counts after its end (docs/rules.md § 3.4, § 4.3 row 5)."""
    slovak = str(phone).startswith("421")
    return policy.sk_customer_window_days if slovak else policy.customer_grace_days


def _register_days(ev: Evidence, policy: Policy) -> list[date]:
    """Slovak list releases, the days they fall due, and the days registrations took effect."""
    grace = timedelta(days=policy.sk_register_grace_days)
    days = [e.release_date for e in ev.register]
    days += [e.release_date + grace for e in ev.register]
    return days + [e.registered_since for e in ev.register if e.registered_since is not None]


def change_instants(ev: Evidence, policy: Policy) -> list[datetime]:
    """Every instant at which a decision on `ev` under `policy` can change, sorted.

    A consent's grant, withdrawal, expiry and `consent_max_age_days`; an objection; a
    contract's first day, last day and the day after its last counting one; a directory
    snapshot's date and the first day it is stale; Slovak list releases; the policy's regime
    days; 2022-07-01; and Prague's clock changes in the years the evidence spans.
    """
    age = policy.consent_max_age_days
    times = [c.granted_at for c in ev.consents]
    times += [x for c in ev.consents for x in (c.withdrawn_at, c.expires_at) if x is not None]
    times += [c.granted_at + timedelta(days=age) for c in ev.consents if age is not None]
    times += [o.objected_at for o in ev.objections]
    days = [k.start_date for k in ev.contracts]
    for k in ev.contracts:
        if k.end_date is not None:
            after = k.end_date + timedelta(days=_contract_window(k.phone, policy) + 1)
            days += [k.end_date, after]
    stale = timedelta(days=policy.directory_max_age_days + 1)
    days += [d + s for d in ev.snapshots for s in (timedelta(0), stale)]
    days += _register_days(ev, policy)
    days += [policy.opt_in_from, policy.sk_rules_from, policy.sk_caller_id_from]
    days += [policy.sk_register_from, *LAW_DAYS]
    times += [prague_midnight(d) for d in days]
    years = {x.year for x in times}
    times += [edge for year in sorted(years) for edge in clock_changes(year)]
    return sorted(set(times))


@st.composite
def instants_where_evidence_changes(draw: st.DrawFn, ev: Evidence, policy: Policy) -> datetime:
    """A call instant on one of `change_instants`, or a microsecond before or after it."""
    edge = draw(st.sampled_from(change_instants(ev, policy)))
    return edge + draw(st.sampled_from([timedelta(0), -MICROSECOND, MICROSECOND]))


# --- io: ISO call times for the compiled parser (`optin_gate._isotime`) ---------------------
# Fields drawn as numbers, so that impossible ones (month 13, 24:00, 31 April, offset +25:00)
# appear as often as the instants around Prague's clock changes and the ends of months and
# years; then near-misses of each part of the text.
from optin_gate.io.dates import _summer_time  # noqa: E402

_TIME_YEARS = st.one_of(st.integers(1968, 2101), st.sampled_from([1900, 1969, 1970, 2099, 2100]))


@st.composite
def _iso_fields(draw: st.DrawFn) -> tuple[int, int, int, int, int, int]:
    """Year, month, day, hour, minute, second: real instants near edges, or impossible ones."""
    kind = draw(st.integers(0, 3))
    if kind == 0:  # around a summer-time edge in Prague wall-clock time (`io.dates`' table)
        starts, ends = _summer_time()
        year = draw(st.integers(1979, 2099))
        bound = datetime.fromisoformat(draw(st.sampled_from((starts, ends)))[year - 1970])
        edge = bound - timedelta(hours=draw(st.integers(0, 1)))  # either end of the hour
        near = st.sampled_from([-3601, -3600, -3599, -1, 0, 1, 3599, 3600, 3601])
        d = edge + timedelta(seconds=draw(near | st.integers(-7500, 7500)))
    elif kind == 1:  # the last seconds of a month or a year
        year, month = draw(_TIME_YEARS), draw(st.integers(1, 12))
        end = date(year + month // 12, month % 12 + 1, 1)
        d = datetime.combine(end, time(0)) - timedelta(seconds=draw(st.integers(-3, 3)))
    elif kind == 2:
        d = draw(st.datetimes(min_value=datetime(1965, 1, 1), max_value=datetime(2105, 1, 1)))
    else:
        return (
            draw(_TIME_YEARS),
            draw(st.integers(0, 13)),
            draw(st.integers(0, 32)),
            draw(st.integers(0, 25)),
            draw(st.integers(0, 61)),
            draw(st.integers(0, 61)),
        )
    return d.year, d.month, d.day, d.hour, d.minute, d.second


_ZONES = st.one_of(
    st.sampled_from(["Z", "z", " UTC", " GMT", "+00:00", "+01:00", "+02:00"]),
    st.tuples(
        st.sampled_from("+-"),
        st.integers(0, 26),
        st.integers(0, 61),
        st.sampled_from([":", "", "::", " "]),
    ).map(lambda z: f"{z[0]}{z[1]:02d}{z[3]}{z[2]:02d}"),
    st.tuples(st.sampled_from("+-"), st.integers(0, 24)).map(lambda z: f"{z[0]}{z[1]:02d}"),
)
_NEAR_CHARS = "0123456789 -:.,+TZtz/\t"


@st.composite
def iso_time_texts(draw: st.DrawFn) -> str:
    """A time as a call log might write it, or a near-miss of one, or garbage."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=32) | st.text(alphabet=_NEAR_CHARS, max_size=32))
    year, month, day, hour, minute, second = draw(_iso_fields())
    text = f"{year:04d}-{month:02d}-{day:02d}{draw(st.sampled_from(' T'))}{hour:02d}:{minute:02d}"
    if draw(st.booleans()):
        text += f":{second:02d}"
        digits = draw(st.integers(0, 8))
        if digits:
            fraction = draw(st.text(alphabet="0123456789", min_size=digits, max_size=digits))
            text += draw(st.sampled_from(".,")) + fraction
    text += draw(st.just("") | _ZONES)  # naive, Prague time, as often as all zones
    for _ in range(draw(st.integers(0, 2)) if draw(st.booleans()) else 0):
        at = draw(st.integers(0, len(text)))
        change = draw(st.integers(0, 2))
        char = draw(st.sampled_from(_NEAR_CHARS))
        if change == 0:  # insert
            text = text[:at] + char + text[at:]
        elif change == 1:  # replace
            text = text[:at] + char + text[at + 1 :]
        else:  # drop
            text = text[:at] + text[at + 1 :]
    return text

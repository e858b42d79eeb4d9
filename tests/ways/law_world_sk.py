"""A small, hand-written Slovak world for the law table (docs/rules.md § 4), loaded publicly.

Every scenario gets its own Slovak number (`phone(n)`); the list releases are loaded one at
a time through `EvidenceStore.load("sk_register", ..., snapshot_date=...)`. The same evidence
as oracle records (`oracle_evidence`) holds the oracle to the hand-written answers.

Times are Bratislava (= Prague) wall-clock strings, as a user would write them in a file.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

import pyarrow as pa

import optin_gate as og
from tests.oracle import PRAGUE, Consent, Contract, Evidence, Listed, Objection

# The releases of spring 2026, and the list's first release.
R_FEB16, R_MAR1, R_MAR16, R_FIRST = (
    date(2026, 2, 16),
    date(2026, 3, 1),
    date(2026, 3, 16),
    date(2022, 11, 1),
)
T_RELEASE = "2026-03-16T12:00"  # on a release day
T_EVE = "2026-03-15T12:00"  # the day before it
PREMIUM = 90
SPECIAL = {PREMIUM: "+421 900 123 456"}


def phone(n: int) -> str:
    """The n-th scenario's Slovak number, as a list writes it."""
    return SPECIAL.get(n, f"+421 905 000 {n:03d}")


# (consent_id, phone#, granted_at)  -- all for controller acme, channel phone
CONSENTS = [
    ("C-AFTER-REG", 6, "2026-03-10T09:00"),  # after the 1 March registration took effect
    ("C-BEFORE-REG", 7, "2026-02-20T09:00"),  # before it
    ("C-BROKEN-RUN", 8, "2026-03-10T09:00"),  # before the run that starts on 16 March
    ("C-SINCE", 9, "2026-02-01T09:00"),  # after registered_since 10 Jan
    ("C-SAME-DAY", 10, "2026-03-16T00:30"),  # later on the day the registration took effect
    ("C-EVE", 11, "2026-03-15T23:30"),  # the evening before
    ("C-OLD-15", 15, "2026-02-01T09:00"),  # after the objection, before the registration
    ("C-AUTO", 16, "2025-06-01T09:00"),
    ("C-2021", 18, "2021-06-01T09:00"),
    ("C-PREMIUM", PREMIUM, "2025-06-01T09:00"),
]
# (contract_id, phone#, start_date, end_date)
CONTRACTS = [
    ("K-LAST-DAY", 12, "2024-01-01", "2025-03-16"),  # T_RELEASE's day - 365
    ("K-DAY-TOO-LATE", 13, "2024-01-01", "2025-03-15"),
    ("K-2021", 19, "2021-01-01", None),
]
# (objection_id, phone#, objected_at)  -- for every controller
OBJECTIONS = [
    ("O-14", 14, "2026-01-01T09:00"),
    ("O-15", 15, "2026-01-01T09:00"),
]
# release -> {phone#: (registered, sectors, registered_since)}
RELEASES: dict[date, dict[int, tuple[bool, str, str | None]]] = {
    R_FIRST: {20: (True, "*", None)},
    R_FEB16: {8: (True, "*", None)},
    R_MAR1: {
        3: (False, "", None),
        4: (False, "", None),
        6: (True, "*", None),
        7: (True, "*", None),
        8: (False, "", None),
        9: (True, "*", "2026-01-10"),
        15: (True, "*", None),
    },
    R_MAR16: {
        2: (False, "", None),
        4: (True, "*", None),
        5: (True, "telekom", None),
        6: (True, "*", None),
        7: (True, "*", None),
        8: (True, "*", None),
        9: (True, "*", None),
        10: (True, "*", None),
        11: (True, "*", None),
        13: (False, "", None),
        15: (True, "*", None),
        16: (False, "", None),
        17: (False, "", None),
    },
}


def load_world(store: og.EvidenceStore) -> og.EvidenceStore:
    """Load the evidence above into `store` through `EvidenceStore.load`."""
    c = list(zip(*CONSENTS, strict=True))
    store.load(
        "consents",
        pa.table(
            {
                "consent_id": list(c[0]),
                "phone": [phone(n) for n in c[1]],
                "controller": ["acme"] * len(CONSENTS),
                "granted_at": list(c[2]),
            }
        ),
        strict=True,
    )
    k = list(zip(*CONTRACTS, strict=True))
    store.load(
        "contracts",
        pa.table(
            {
                "contract_id": list(k[0]),
                "phone": [phone(n) for n in k[1]],
                "controller": ["acme"] * len(CONTRACTS),
                "start_date": list(k[2]),
                "end_date": pa.array(list(k[3]), pa.string()),
            }
        ),
        strict=True,
    )
    o = list(zip(*OBJECTIONS, strict=True))
    store.load(
        "objections",
        pa.table({"objection_id": list(o[0]), "phone": [phone(n) for n in o[1]],
                  "objected_at": list(o[2])}),
        strict=True,
    )  # fmt: skip
    for release, rows in sorted(RELEASES.items()):
        entries = list(rows.items())
        store.load(
            "sk_register",
            pa.table(
                {
                    "phone": [phone(n) for n, _ in entries],
                    "registered": ["ano" if e[0] else "nie" for _, e in entries],
                    "sectors": [e[1] for _, e in entries],
                    "registered_since": pa.array([e[2] for _, e in entries], pa.string()),
                }
            ),
            snapshot_date=release.isoformat(),
            strict=True,
        )
    return store


@functools.cache
def world() -> og.EvidenceStore:
    """The store with the Slovak world loaded (one per process)."""
    return load_world(og.EvidenceStore())


def _key(n: int) -> int:
    return int(phone(n).replace(" ", "")[1:])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PRAGUE)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@functools.cache
def oracle_evidence() -> Evidence:
    """The same world as oracle records."""
    return Evidence(
        consents=[Consent(cid, _key(n), "acme", _at(at)) for cid, n, at in CONSENTS],
        objections=[Objection(oid, _key(n), None, _at(at)) for oid, n, at in OBJECTIONS],
        contracts=[
            Contract(kid, _key(n), "acme", date.fromisoformat(start), _day(end))
            for kid, n, start, end in CONTRACTS
        ],
        register=[
            Listed(_key(n), release, registered, sectors, _day(since))
            for release, rows in RELEASES.items()
            for n, (registered, sectors, since) in rows.items()
        ],
    )

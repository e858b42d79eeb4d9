"""A small, hand-written world of evidence for the law table, loaded through the public API.

Every scenario gets its own phone number, so one store holds them all; each way decides every
case of one policy in one call (`decisions`, cached), so a hundred table rows cost a handful
of runs per way. The same evidence as oracle records (`oracle_evidence`) holds the oracle to
the hand-written answers.

Times are Prague wall-clock strings, as a user would write them in a file (one with its offset,
where the wall clock alone cannot name the instant).
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

import pyarrow as pa

import optin_gate as og
from tests.oracle import PRAGUE, Consent, Contract, Evidence, Objection

# Decision times: one in each regime, and the directory snapshots before them.
T_IN = "2026-03-10T12:00"  # opt-in regime (policy default opt_in_from = 2022-07-01)
T_OUT = "2022-03-10T12:00"  # opt-out regime
DAY_IN, DAY_OUT = date(2026, 3, 10), date(2022, 3, 10)
SNAP_IN, SNAP_OUT = date(2026, 3, 1), date(2022, 3, 1)
SNAP_BOUNDARY = date(2022, 6, 15)  # fresh on both sides of 2022-07-01
SNAP_AUTUMN = date(2025, 10, 1)  # fresh on the autumn clock change of 2025


TOLL_FREE = 90  # the scenario number that is a toll-free line (with a consent)
SPECIAL = {TOLL_FREE: "800 123 456"}


def phone(n: int) -> str:
    """The n-th scenario's number, written the way a campaign list might write it."""
    return SPECIAL.get(n, f"601 000 {n:03d}")


# ---- the evidence ------------------------------------------------------------------------
# (consent_id, phone#, controller, granted_at, withdrawn_at, expires_at, channel)
CONSENTS = [
    ("C-VALID", 1, "acme", "2025-01-01T09:00", None, None, "phone"),
    ("C-WITHDRAWN", 2, "acme", "2025-01-01T09:00", "2026-03-10T11:59", None, "phone"),
    ("C-WITHDRAWN-LATER", 3, "acme", "2025-01-01T09:00", "2026-03-10T12:01", None, "phone"),
    ("C-EXPIRED", 4, "acme", "2025-01-01T09:00", None, "2026-03-10T12:00", "phone"),
    ("C-NOT-YET-EXPIRED", 5, "acme", "2025-01-01T09:00", None, "2026-03-10T12:01", "phone"),
    ("C-FUTURE", 6, "acme", "2026-03-10T12:01", None, None, "phone"),
    ("C-AT-T", 7, "acme", "2026-03-10T12:00", None, None, "phone"),
    ("C-BETA", 8, "beta", "2025-01-01T09:00", None, None, "phone"),
    ("C-EMAIL", 9, "acme", "2025-01-01T09:00", None, None, "email"),
    ("C-ANY", 10, "acme", "2025-01-01T09:00", None, None, "any"),
    # objections and consents, see OBJECTIONS
    ("C-BEFORE-OBJ", 20, "acme", "2025-01-01T09:00", None, None, "phone"),
    ("C-AFTER-OBJ", 21, "acme", "2026-02-01T09:00", None, None, "phone"),
    ("C-AFTER-OBJ-WITHDRAWN", 22, "acme", "2026-02-01T09:00", "2026-03-01T09:00", None, "phone"),
    ("C-SAME-INSTANT", 23, "acme", "2026-01-15T09:00", None, None, "phone"),
    ("C-ACME-24", 24, "acme", "2025-01-01T09:00", None, None, "phone"),
    ("C-BETA-24", 24, "beta", "2025-01-01T09:00", None, None, "phone"),
    ("C-ACME-25", 25, "acme", "2025-01-01T09:00", None, None, "phone"),
    ("C-BETA-25", 25, "beta", "2025-01-01T09:00", None, None, "phone"),
    ("C-BEFORE-LATE-OBJ", 26, "acme", "2025-01-01T09:00", None, None, "phone"),
    # automated calls
    ("C-AUTO", 40, "acme", "2025-01-01T09:00", None, None, "phone"),
    # opt-out regime
    ("C-2021", 60, "acme", "2021-06-01T09:00", None, None, "phone"),
    # several controllers
    ("C-SHARED-ACME", 80, "acme", "2025-01-01T09:00", None, None, "phone"),
    # blocked number types
    ("C-TOLLFREE", 90, "acme", "2025-01-01T09:00", None, None, "phone"),
    # old consent, for consent_max_age_days
    ("C-OLD", 11, "acme", "2023-03-01T09:00", None, None, "phone"),
    # Prague's clock changes: withdrawn in the repeated autumn hour (read as its first pass),
    # expiring in the skipped spring hour (read as winter time: 03:30 summer time)
    ("C-DST-WITHDRAWN", 100, "acme", "2025-01-01T09:00", "2025-10-26T02:30", None, "phone"),
    ("C-DST-EXPIRES", 101, "acme", "2025-01-01T09:00", None, "2026-03-29T02:30", "phone"),
    ("C-DST-OBJECTED", 104, "acme", "2025-01-01T09:00", None, None, "phone"),
]
# Consents of docs/rules.md § 3.1's provenance rules, loaded apart (their own columns):
# (consent_id, phone#, controller, granted_at, purposes, obtained)
PROVENANCE = [
    ("C-3RD-PARTY", 12, "acme", "2021-06-01T09:00", None, "third_party"),
    ("C-ENERGY", 13, "acme", "2021-06-01T09:00", "energie", "direct"),
    ("C-ANY-PURPOSE", 14, "acme", "2021-06-01T09:00", None, "direct"),
    ("C-TWO-PURPOSES", 15, "acme", "2021-06-01T09:00", "Energie; pojištění", None),
]
# (contract_id, phone#, controller, start_date, end_date)
CONTRACTS = [
    ("K-OPEN", 30, "acme", "2024-01-01", None),
    ("K-ENDED-DAY-BEFORE", 31, "acme", "2024-01-01", "2026-03-09"),
    ("K-ENDS-ON-T", 32, "acme", "2024-01-01", "2026-03-10"),
    ("K-ENDS-DAY-AFTER", 33, "acme", "2024-01-01", "2026-03-11"),
    ("K-STARTS-DAY-AFTER", 34, "acme", "2026-03-11", None),
    ("K-STARTS-ON-T", 35, "acme", "2026-03-10", None),
    ("K-ENDED-2-DAYS-BEFORE", 36, "acme", "2024-01-01", "2026-03-08"),
    ("K-BETA", 37, "beta", "2024-01-01", None),
    ("K-AUTO", 41, "acme", "2024-01-01", None),
    ("K-OBJ", 27, "acme", "2024-01-01", None),
    ("K-2021", 61, "acme", "2021-01-01", None),
    ("K-SHARED-BETA", 80, "beta", "2024-01-01", None),
    # the days of Prague's clock changes: 23 hours in spring, 25 in autumn
    ("K-DST-SPRING", 102, "acme", "2024-01-01", "2026-03-29"),
    ("K-DST-AUTUMN", 103, "acme", "2025-10-26", "2025-10-26"),
]
# (objection_id, phone#, controller (None = all), objected_at)
OBJECTIONS = [
    ("O-ALL", 20, None, "2026-01-15T09:00"),
    ("O-BEFORE-NEW-CONSENT", 21, None, "2026-01-15T09:00"),
    ("O-BEFORE-WITHDRAWN", 22, None, "2026-01-15T09:00"),
    ("O-SAME-INSTANT", 23, None, "2026-01-15T09:00"),
    ("O-BETA-ONLY", 24, "beta", "2026-01-15T09:00"),
    ("O-ALL-25", 25, None, "2026-01-15T09:00"),
    ("O-AFTER-T", 26, None, "2026-03-10T12:01"),
    ("O-CONTRACT", 27, None, "2026-01-15T09:00"),
    ("O-OPTIN", 28, None, "2026-01-15T09:00"),
    ("O-AT-T", 29, None, "2026-03-10T12:00"),
    ("O-AUTO", 42, "acme", "2026-01-15T09:00"),
    ("O-2021", 62, None, "2021-12-01T09:00"),
    # the second pass of the repeated autumn hour, an hour after its first
    ("O-DST-SECOND-PASS", 104, None, "2025-10-26T02:30+01:00"),
]
# snapshot date -> {phone#: marketing}; absent numbers are unlisted on that date
DIRECTORY = {
    SNAP_OUT: {63: "opt_out", 64: "unmarked", 66: "opt_in", 62: "unmarked", 60: "opt_out"},
    date(2021, 12, 20): {73: "unmarked", 74: "opt_in"},
    SNAP_BOUNDARY: {70: "unmarked", 71: "opt_out", 72: "opt_in"},
    SNAP_AUTUMN: {100: "unmarked"},
    date(2026, 2, 1): {50: "opt_in", 53: "opt_in"},
    SNAP_IN: {
        28: "opt_in",
        31: "opt_out",
        43: "opt_in",
        50: "opt_in",
        51: "opt_out",
        52: "unmarked",
        54: "opt_in",
        81: "opt_in",
    },
}


def _times(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


def load_world(store: og.EvidenceStore, directory: bool = True) -> og.EvidenceStore:
    """Load the evidence above into `store` through `EvidenceStore.load` (frames in memory)."""
    c = list(zip(*CONSENTS, strict=True))
    store.load(
        "consents",
        pa.table(
            {
                "consent_id": list(c[0]),
                "phone": [phone(n) for n in c[1]],
                "controller": list(c[2]),
                "granted_at": _times(list(c[3])),
                "withdrawn_at": _times(list(c[4])),
                "expires_at": _times(list(c[5])),
                "channel": list(c[6]),
            }
        ),
        strict=True,
    )
    v = list(zip(*PROVENANCE, strict=True))
    store.load(
        "consents",
        pa.table(
            {
                "souhlas_id": list(v[0]),
                "telefon": [phone(n) for n in v[1]],
                "spravce": list(v[2]),
                "udeleno": list(v[3]),
                "ucel": pa.array(list(v[4]), pa.string()),
                "ziskano": pa.array(list(v[5]), pa.string()),
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
                "controller": list(k[2]),
                "start_date": list(k[3]),
                "end_date": pa.array(list(k[4]), pa.string()),
            }
        ),
        strict=True,
    )
    o = list(zip(*OBJECTIONS, strict=True))
    store.load(
        "objections",
        pa.table(
            {
                "objection_id": list(o[0]),
                "phone": [phone(n) for n in o[1]],
                "controller": pa.array(list(o[2]), pa.string()),
                "objected_at": list(o[3]),
            }
        ),
        strict=True,
    )
    if directory:
        for day, marks in sorted(DIRECTORY.items()):
            store.load(
                "directory",
                pa.table(
                    {
                        "phone": [phone(n) for n in marks],
                        "marketing": list(marks.values()),
                    }
                ),
                snapshot_date=day.isoformat(),
                strict=True,
            )
    return store


@functools.cache
def world(directory: bool = True) -> og.EvidenceStore:
    """The store with the world loaded (one per process; `directory=False`: no snapshots)."""
    return load_world(og.EvidenceStore(), directory=directory)


def _key(n: int) -> int:
    return int("420" + phone(n).replace(" ", ""))


def _at(text: str) -> datetime:
    written = datetime.fromisoformat(text)
    return written if written.tzinfo else written.replace(tzinfo=PRAGUE)


def _maybe(text: str | None) -> datetime | None:
    return None if text is None else _at(text)


@functools.cache
def oracle_evidence(directory: bool = True) -> Evidence:
    """The evidence above as the oracle's records."""
    return Evidence(
        consents=[
            Consent(c[0], _key(c[1]), c[2], _at(c[3]), _maybe(c[4]), _maybe(c[5]), c[6])
            for c in CONSENTS
        ]
        + [
            Consent(
                v[0],
                _key(v[1]),
                v[2],
                _at(v[3]),
                purposes=tuple(p.strip().lower() for p in (v[4] or "").split(";") if p.strip()),
                obtained=v[5] or "direct",
            )
            for v in PROVENANCE
        ],
        objections=[Objection(o[0], _key(o[1]), o[2], _at(o[3])) for o in OBJECTIONS],
        contracts=[
            Contract(k[0], _key(k[1]), k[2], date.fromisoformat(k[3]), _day(k[4]))
            for k in CONTRACTS
        ],
        snapshots={
            day: {_key(n): mark for n, mark in marks.items()} for day, marks in DIRECTORY.items()
        }
        if directory
        else {},
    )


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def day_plus(day: date, days: int) -> str:
    """Noon in Prague, `days` after `day`."""
    return f"{(day + timedelta(days=days)).isoformat()}T12:00"

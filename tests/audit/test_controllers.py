"""Calls made for a controller the store never names still meet the objections made for all
controllers, and each call's evidence names its own record, not one of a look-alike call."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from optin_gate import Gate
from optin_gate.audit import run_audit
from tests.audit._data import oracle_store
from tests.oracle import Consent, Contract, Evidence, Objection

P1, P2, P3 = 420601000001, 420601000002, 420601000003
SNAPSHOT = date(2023, 3, 1)


def _evidence() -> Evidence:
    return Evidence(
        consents=[
            Consent("C-1", P1, "acme", datetime(2023, 1, 1, tzinfo=UTC)),
            Consent("C-2", P2, "acme", datetime(2023, 1, 1, tzinfo=UTC)),
        ],
        contracts=[Contract("K-3", P3, "acme", date(2023, 1, 1))],
        objections=[
            Objection("O-all", P1, None, datetime(2023, 3, 10, tzinfo=UTC)),
            Objection("O-acme", P2, "acme", datetime(2023, 3, 10, tzinfo=UTC)),
        ],
        snapshots={SNAPSHOT: {P1: "opt_in", P2: "opt_in", P3: "opt_in"}},
    )


def _audit(rows: list[tuple[int, str, str]]) -> list[tuple[str, str | None]]:
    calls = pa.table(
        {
            "phone": [f"+{p}" for p, _, _ in rows],
            "called_at": [t for _, t, _ in rows],
            "controller": [c for _, _, c in rows],
        }
    )
    report = run_audit(Gate(oracle_store(_evidence()), controller="acme").context, calls)
    table = report.calls
    assert table is not None
    return list(zip(table["reason"].to_pylist(), table["evidence"].to_pylist(), strict=True))


def test_an_objection_for_all_controllers_binds_a_controller_the_store_never_names() -> None:
    got = _audit(
        [
            (P1, "2023-03-05 10:00", "newco"),  # before the objection: the directory
            (P1, "2023-03-12 10:00", "newco"),  # after it: blocked, though newco has no records
            (P2, "2023-03-12 10:00", "newco"),  # acme's own objection does not bind newco
        ]
    )
    assert got == [
        ("DIRECTORY_OPT_IN", "directory:2023-03-01"),
        ("OBJECTION", "objection:O-all"),
        ("DIRECTORY_OPT_IN", "directory:2023-03-01"),
    ]


def test_calls_of_the_same_shape_name_their_own_records() -> None:
    got = _audit(
        [
            (P1, "2023-03-05 10:00", "acme"),
            (P2, "2023-03-05 11:00", "acme"),  # same day, same facts but the consent's id
            (P3, "2023-03-05 12:00", "acme"),
            (P1, "2023-03-12 10:00", "acme"),
            (P2, "2023-03-12 10:00", "acme"),
        ]
    )
    assert got == [
        ("CONSENT", "consent:C-1"),
        ("CONSENT", "consent:C-2"),
        ("EXISTING_CUSTOMER", "contract:K-3"),
        ("OBJECTION", "objection:O-all"),
        ("OBJECTION", "objection:O-acme"),
    ]

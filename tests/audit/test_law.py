"""Each call is judged as of the moment it was made (docs/rules.md § 1), either side of each edge.

Times in the call log below are Prague wall-clock time unless they carry a zone, exactly as a
dialler writes them; the evidence is in UTC. Summer time: Prague = UTC + 2; winter: UTC + 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from optin_gate import Gate
from optin_gate.audit import AuditReport, run_audit
from tests.audit._data import oracle_store
from tests.oracle import Consent, Contract, Evidence, Objection

CONSENTED, CUSTOMER, OBJECTOR, UNLISTED, OPTED_OUT, BETA_FAN, OPTED_IN = (
    420601000000 + i for i in range(1, 8)
)


def utc(year: int, month: int, day: int, *clock: int) -> datetime:
    """A UTC instant; `clock` is hour, minute, second, as many as given."""
    hour, minute, second = (*clock, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def evidence() -> Evidence:
    snapshots: dict[date, dict[int, str]] = {}
    day = date(2022, 5, 1)
    while day <= date(2023, 6, 1):  # every 14 days: ..., 2022-06-26, 2022-07-10, ..., 2023-05-28
        snapshots[day] = {
            OBJECTOR: "opt_in",
            OPTED_IN: "opt_in",
            OPTED_OUT: "opt_out",
            CUSTOMER: "unmarked",
        }
        day += timedelta(days=14)
    return Evidence(
        consents=[
            Consent(
                "C-1", CONSENTED, "acme", utc(2023, 1, 10, 10), withdrawn_at=utc(2023, 3, 1, 12)
            ),
            Consent("C-2", BETA_FAN, "beta", utc(2022, 1, 1)),
        ],
        contracts=[Contract("K-1", CUSTOMER, "acme", date(2023, 1, 1), date(2023, 2, 28))],
        objections=[Objection("O-1", OBJECTOR, None, utc(2023, 2, 15, 9))],
        snapshots=snapshots,
    )


# (what, phone as written, called_at as written, controller, call_type, reason, evidence)
CASES = [
    # consent withdrawn at 2023-03-01 12:00 UTC = 13:00 in Prague (winter time)
    (
        "consent: a minute before withdrawal",
        "+420601000001",
        "2023-03-01 12:59",
        None,
        None,
        "CONSENT",
        "consent:C-1",
    ),
    (
        "consent: at the withdrawal",
        "601 000 001",
        "1. 3. 2023 13:00",
        None,
        None,
        "NO_LEGAL_BASIS",
        "directory:2023-02-19",
    ),
    (
        "consent: given to another controller",
        "601000006",
        "2023-03-01T12:00:00Z",
        None,
        None,
        "NO_LEGAL_BASIS",
        "directory:2023-02-19",
    ),
    (
        "consent: the call's own controller",
        "601000006",
        "2023-03-01T12:00:00Z",
        "beta",
        None,
        "CONSENT",
        "consent:C-2",
    ),
    (
        "consent: automated call with consent",
        "+420601000001",
        "2023-02-01 10:00",
        None,
        "automated",
        "CONSENT",
        "consent:C-1",
    ),
    # contract 2023-01-01 .. 2023-02-28, both days included, in Prague days
    (
        "contract: last day",
        "+420601000002",
        "2023-02-28 23:59",
        None,
        "live",
        "EXISTING_CUSTOMER",
        "contract:K-1",
    ),
    (
        "contract: the day after",
        "+420601000002",
        "2023-03-01 00:00",
        None,
        "live",
        "NO_LEGAL_BASIS",
        "directory:2023-02-19",
    ),
    (
        "contract: automated call to a customer",
        "+420601000002",
        "2023-02-01 10:00",
        None,
        "Automated",
        "AUTOMATED_NEEDS_CONSENT",
        None,
    ),
    # objection at 2023-02-15 09:00 UTC = 10:00 in Prague; the number is opted in
    (
        "objection: just before",
        "+420601000003",
        "2023-02-15 09:59",
        None,
        None,
        "DIRECTORY_OPT_IN",
        "directory:2023-02-05",
    ),
    (
        "objection: at it",
        "+420601000003",
        "15.02.2023 10:00",
        None,
        None,
        "OBJECTION",
        "objection:O-1",
    ),
    (
        "objection: months later, another controller",
        "+420601000003",
        "2023-05-01 10:00",
        "beta",
        None,
        "OBJECTION",
        "objection:O-1",
    ),
    # the regime changes at midnight 2022-07-01 in Prague
    (
        "regime: unlisted, last opt-out day",
        "+420601000004",
        "2022-06-30 23:59",
        None,
        None,
        "NO_OPT_OUT",
        "directory:2022-06-26",
    ),
    (
        "regime: unlisted, first opt-in day",
        "+420601000004",
        "2022-07-01 00:00",
        None,
        None,
        "NO_LEGAL_BASIS",
        "directory:2022-06-26",
    ),
    (
        "regime: opted out, last opt-out day",
        "+420601000005",
        "2022-06-30 22:00",
        None,
        None,
        "DIRECTORY_OPT_OUT",
        "directory:2022-06-26",
    ),
    (
        "regime: opted out, first opt-in day",
        "+420601000005",
        "2022-06-30T22:00:00Z",
        None,
        None,
        "NO_LEGAL_BASIS",
        "directory:2022-06-26",
    ),
    (
        "regime: opted in, first opt-in day",
        "+420601000003",
        "2022-07-01 08:00",
        None,
        None,
        "DIRECTORY_OPT_IN",
        "directory:2022-06-26",
    ),
    # directory copies: first 2022-05-01, last 2023-05-28, policy max age 31 days
    (
        "stale: before the oldest snapshot",
        "+420601000004",
        "2022-04-30 12:00",
        None,
        None,
        "STALE_DIRECTORY",
        None,
    ),
    (
        "stale: 31 days after the newest snapshot",
        "+420601000007",
        "2023-06-28 12:00",
        None,
        None,
        "DIRECTORY_OPT_IN",
        "directory:2023-05-28",
    ),
    (
        "stale: 32 days after the newest snapshot",
        "+420601000007",
        "2023-06-29 12:00",
        None,
        None,
        "STALE_DIRECTORY",
        "directory:2023-05-28",
    ),
    (
        "stale: a consent needs no directory",
        "601000006",
        "2023-09-01 12:00",
        "beta",
        None,
        "CONSENT",
        "consent:C-2",
    ),
    ("invalid number", "12345", "2023-02-01 10:00", None, None, "INVALID_NUMBER", None),
]


@pytest.fixture(scope="module")
def report() -> AuditReport:
    columns = list(zip(*CASES, strict=True))
    calls = pa.table(
        {
            "call_id": [c[0] for c in CASES],
            "phone": list(columns[1]),
            "called_at": list(columns[2]),
            "controller": list(columns[3]),
            "call_type": list(columns[4]),
        }
    )
    return run_audit(Gate(oracle_store(evidence()), controller="acme").context, calls)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_call_is_judged_as_of_its_own_time(report: AuditReport, case: tuple[Any, ...]) -> None:
    what, _, _, _, _, reason, evidence_ = case
    rows = [r for r in report.calls.to_pylist() if r["call_id"] == what]
    assert len(rows) == 1
    row = rows[0]
    assert (row["reason"], row["evidence"]) == (reason, evidence_)
    assert row["allowed"] is (
        reason in {"CONSENT", "EXISTING_CUSTOMER", "DIRECTORY_OPT_IN", "NO_OPT_OUT"}
    )


def test_rule_set_names_the_regime_of_the_call_day(report: AuditReport) -> None:
    by_id = {r["call_id"]: r for r in report.calls.to_pylist()}
    assert by_id["regime: unlisted, last opt-out day"]["rule_set"] == "CZ-opt-out"
    assert by_id["regime: unlisted, first opt-in day"]["rule_set"] == "CZ-2022-opt-in"
    assert report.summary["method"]["rule_sets_applied"] == ["CZ-2022-opt-in", "CZ-opt-out"]


def test_calls_keep_the_log_order_and_columns(report: AuditReport) -> None:
    assert report.calls.column("call_id").to_pylist() == [c[0] for c in CASES]
    assert report.calls.column_names == [
        "call_id", "phone", "called_at", "controller", "call_type",
        "e164", "allowed", "reason", "evidence", "rule_set", "line", "note",
    ]  # fmt: skip
    assert report.calls.column("line").to_pylist() == list(range(1, len(CASES) + 1))
    assert report.violations.column("allowed").to_pylist() == [False] * report.summary["violations"]


def test_the_objection_call_counts_as_the_worst_kind(report: AuditReport) -> None:
    rep = report.summary["repeat_objection"]
    assert (rep["calls"], rep["numbers"], rep["numbers_called_more_than_once"]) == (2, 1, 1)
    assert rep["worst"][0]["e164"] == "+420601000003"
    assert rep["worst"][0]["objection"] == "objection:O-1"

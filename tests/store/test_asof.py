"""The as-of facts query says what the evidence said at each moment, per docs/rules.md § 1.2-1.3."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.policy import Policy
from optin_gate.store.asof import FACTS_COLUMNS, facts_sql
from tests.oracle import Consent, Contract, Evidence, Objection, oracle_facts, write_evidence
from tests.strategies import CONTROLLERS, PHONES, evidence, instants

P = 420601000001
ACME = "acme"


def _facts(
    ev: Evidence, requests: Sequence[tuple[int | None, str, datetime]], policy: Policy
) -> list[dict[str, object]]:
    con = duckdb.connect()
    write_evidence(con, ev)
    con.register(
        "requests_arrow",
        pa.table(
            {
                "rid": pa.array(range(len(requests)), pa.int64()),
                "phone": pa.array([r[0] for r in requests], pa.int64()),
                "controller": pa.array([r[1] for r in requests], pa.string()),
                "t": pa.array([r[2] for r in requests], pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    rows = con.execute(f"SELECT * FROM ({facts_sql('requests_arrow', policy)}) ORDER BY rid")
    return [dict(zip(FACTS_COLUMNS, row, strict=True)) for row in rows.fetchall()]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def one(
    ev: Evidence,
    t: datetime,
    *,
    phone: int | None = P,
    controller: str = ACME,
    policy: Policy | None = None,
) -> dict[str, object]:
    return _facts(ev, [(phone, controller, t)], policy or Policy())[0]


def test_consent_is_valid_from_grant_until_withdrawal() -> None:
    ev = Evidence(consents=[Consent("C1", P, ACME, at(2), withdrawn_at=at(10))])
    assert one(ev, at(1))["consent_id"] is None
    assert one(ev, at(2))["consent_id"] == "C1"  # granted at T counts
    assert one(ev, at(9))["consent_id"] == "C1"
    assert one(ev, at(10))["consent_id"] is None  # withdrawn at T no longer counts


def test_consent_expiry_channel_and_age_limit() -> None:
    ev = Evidence(
        consents=[
            Consent("C1", P, ACME, at(2), expires_at=at(5)),
            Consent("C2", P, ACME, at(3), channel="email"),
        ]
    )
    assert one(ev, at(4))["consent_id"] == "C1"
    assert one(ev, at(5))["consent_id"] is None  # expired; the e-mail consent does not count
    aged = Policy(consent_max_age_days=2)
    assert one(ev, at(3), policy=aged)["consent_id"] == "C1"
    assert one(ev, at(4, 13), policy=aged)["consent_id"] is None


def test_consent_belongs_to_its_controller_only() -> None:
    ev = Evidence(consents=[Consent("C1", P, "beta", at(2))])
    assert one(ev, at(3))["consent_id"] is None
    assert one(ev, at(3), controller="beta")["consent_id"] == "C1"


def test_objection_beats_older_consent_and_yields_to_newer_one() -> None:
    ev = Evidence(
        consents=[Consent("C1", P, ACME, at(1)), Consent("C2", P, ACME, at(20))],
        objections=[Objection("O1", P, None, at(10))],
    )
    assert one(ev, at(9))["objection_id"] is None
    before_new_consent = one(ev, at(15))
    assert before_new_consent["objection_id"] == "O1"
    after_new_consent = one(ev, at(21))
    assert after_new_consent["objection_id"] is None
    assert after_new_consent["consent_id"] == "C2"


def test_objection_for_one_controller_does_not_bind_another() -> None:
    ev = Evidence(objections=[Objection("O1", P, "beta", at(1))])
    assert one(ev, at(2))["objection_id"] is None
    assert one(ev, at(2), controller="beta")["objection_id"] == "O1"


def test_contract_days_are_inclusive_and_grace_extends_them() -> None:
    ev = Evidence(contracts=[Contract("K1", P, ACME, date(2026, 3, 5), date(2026, 3, 10))])
    assert one(ev, at(4, 22))["contract_id"] is None  # 23:00 Prague is still the 4th
    assert one(ev, at(5, 0))["contract_id"] == "K1"  # 01:00 Prague on the 5th
    assert one(ev, at(10, 22))["contract_id"] == "K1"
    assert one(ev, at(11))["contract_id"] is None
    grace = Policy(customer_grace_days=1)
    assert one(ev, at(11), policy=grace)["contract_id"] == "K1"
    assert one(ev, at(12), policy=grace)["contract_id"] is None


def test_directory_uses_newest_snapshot_on_or_before_the_day() -> None:
    ev = Evidence(
        snapshots={
            date(2026, 3, 1): {P: "opt_in"},
            date(2026, 3, 8): {P: "opt_out"},
            date(2026, 3, 15): {},
        }
    )
    assert one(ev, at(1))["directory_date"] == date(2026, 3, 1)
    assert one(ev, at(7))["directory_marketing"] == "opt_in"
    assert one(ev, at(8))["directory_marketing"] == "opt_out"
    later = one(ev, at(20))
    assert later["directory_date"] == date(2026, 3, 15)
    assert later["directory_marketing"] is None  # absent from the newest snapshot: unlisted
    assert one(ev, datetime(2026, 2, 28, tzinfo=UTC))["directory_date"] is None


def test_invalid_number_gets_no_evidence_but_one_row() -> None:
    ev = Evidence(consents=[Consent("C1", P, ACME, at(1))], snapshots={date(2026, 3, 1): {}})
    facts = one(ev, at(2), phone=None)
    assert facts["consent_id"] is None
    assert facts["directory_date"] == date(2026, 3, 1)


@settings(max_examples=150, deadline=None)
@given(
    ev=evidence(),
    requests=st.lists(
        st.tuples(st.sampled_from((*PHONES, None)), st.sampled_from(CONTROLLERS), instants),
        min_size=1,
        max_size=12,
    ),
    max_age=st.sampled_from([None, 1, 5]),
    grace=st.sampled_from([0, 2]),
    third_party=st.booleans(),
)
def test_sql_agrees_with_the_brute_force_oracle(
    ev: Evidence,
    requests: list[tuple[int | None, str, datetime]],
    max_age: int | None,
    grace: int,
    third_party: bool,
) -> None:
    policy = Policy(
        consent_max_age_days=max_age, customer_grace_days=grace, third_party_consents=third_party
    )
    got = _facts(ev, requests, policy)
    assert len(got) == len(requests)  # exactly one row per request
    for row, (phone, controller, t) in zip(got, requests, strict=True):
        expected = oracle_facts(ev, phone, controller, t, policy)
        del expected["note"]  # the decision's note, not a fact the rules read
        assert {k: row[k] for k in expected} == expected


def test_many_requests_at_one_instant_each_get_one_row() -> None:
    ev = Evidence(
        consents=[Consent(f"C{i}", P, ACME, at(1) + timedelta(minutes=i)) for i in range(5)]
    )
    got = _facts(ev, [(P, ACME, at(2))] * 7, Policy())
    assert [r["consent_id"] for r in got] == ["C4"] * 7  # newest grant names the evidence

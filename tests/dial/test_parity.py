"""check() decides exactly as the rules decide the oracle's facts, and as gate.filter() does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate import Decision, EvidenceStore, Gate, Policy
from optin_gate.numbers import normalize_one
from optin_gate.rules import Facts, compile_rules
from optin_gate.store import key_e164
from tests.dial._helpers import refill, store_with
from tests.oracle import Evidence, oracle_facts
from tests.strategies import CONTROLLERS, PHONES, evidence, instants

# Numbers as a dialler hands them over: the evidence numbers in several spellings, a number
# without evidence, a premium-rate and a foreign number, and text that is no number at all.
OTHER_NUMBERS = ("+420 601 000 009", "900 123 456", "+421 901 234 567", "n/a", "")
written = st.one_of(
    st.sampled_from(PHONES).map(key_e164),
    st.sampled_from(PHONES).map(lambda k: str(k)[3:6] + " " + str(k)[6:9] + " " + str(k)[9:]),
    st.sampled_from(OTHER_NUMBERS),
)
times = st.one_of(instants, instants.map(lambda t: t + timedelta(minutes=59, seconds=59)))
policies = st.builds(
    Policy,
    consent_max_age_days=st.sampled_from([None, 1, 5]),
    customer_grace_days=st.sampled_from([0, 2]),
    directory_max_age_days=st.sampled_from([0, 7, 31]),
)


def expected(ev: Evidence, request: tuple[str, str, datetime, str], policy: Policy) -> Decision:
    """The decision straight from the oracle's facts and the compiled rules."""
    phone, controller, t, call_type = request
    number = normalize_one(phone, policy.default_region)
    key = None if number.e164 is None else int(number.e164[1:])
    facts = Facts(
        valid=number.valid,
        country=number.country,
        number_type=number.number_type,
        automated=call_type == "automated",
        **oracle_facts(ev, key, controller, t, policy),  # type: ignore[arg-type]
    )
    return compile_rules(policy).decision(facts, number.e164)


# One in-memory store for all examples, refilled for each: a new store costs more than a test.
STORE = EvidenceStore()


def row(decision: Decision) -> dict[str, object]:
    return {
        "e164": decision.e164,
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "evidence": decision.evidence,
        "rule_set": decision.rule_set,
    }


@settings(max_examples=70, deadline=None)
@given(
    ev=evidence(),
    requests=st.lists(
        st.tuples(
            written, st.sampled_from(CONTROLLERS), times, st.sampled_from(["live", "automated"])
        ),
        min_size=1,
        max_size=8,
    ),
    policy=policies,
)
def test_check_decides_the_oracles_facts_by_the_compiled_rules(
    ev: Evidence, requests: list[tuple[str, str, datetime, str]], policy: Policy
) -> None:
    store = refill(STORE, ev)
    gates = {c: Gate(store, c, policy, refresh_interval=None) for c in CONTROLLERS}
    for request in requests:
        phone, controller, t, call_type = request
        want = expected(ev, request, policy)
        assert gates[controller].check(phone, at=t, call_type=call_type) == want


@settings(max_examples=25, deadline=None)
@given(
    ev=evidence(),
    phones=st.lists(written, min_size=1, max_size=12),
    t=times,
    call_type=st.sampled_from(["live", "automated"]),
    gate_args=st.tuples(st.sampled_from(CONTROLLERS), policies),
)
def test_check_many_and_filter_give_check_row_by_row(
    ev: Evidence, phones: list[str], t: datetime, call_type: str, gate_args: tuple[str, Policy]
) -> None:
    controller, policy = gate_args
    gate = Gate(refill(STORE, ev), controller, policy, refresh_interval=None)
    singles = [row(gate.check(p, at=t, call_type=call_type)) for p in phones]
    assert gate.check_many(phones, at=t, call_type=call_type).to_pylist() == singles
    filtered = gate.filter(pa.table({"phone": phones}), as_of=t, call_type=call_type).table
    assert filtered.select(list(singles[0])).to_pylist() == singles


def test_check_many_keeps_order_and_length_on_many_rows() -> None:
    p1, p2, _ = PHONES
    t = datetime(2022, 7, 10, tzinfo=UTC)
    ev = Evidence(snapshots={t.date(): {p1: "opt_in", p2: "opt_out"}})
    gate = Gate(store_with(ev), "acme", refresh_interval=None)
    phones = [key_e164(p1), key_e164(p2), None, "garbage"] * 5000
    table = gate.check_many(phones, at=t)
    assert table.num_rows == len(phones)
    reasons = table.column("reason").to_pylist()
    assert reasons[:4] == ["DIRECTORY_OPT_IN", "NO_LEGAL_BASIS", "INVALID_NUMBER", "INVALID_NUMBER"]
    assert reasons == reasons[:4] * 5000

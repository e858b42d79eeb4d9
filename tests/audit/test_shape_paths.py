"""The filter, the dial check and the audit pack and decide the same shapes alike.

Each packs a call's shape its own way (SQL or compiled code in the filter, Python in the
check, numpy in the audit) through one codec (`optin_gate.rules.shapes`); the same calls at
the same instant must come out with the same decision, evidence and rule set on every path.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate import EvidenceStore, Gate, Policy
from optin_gate.audit import run_audit
from optin_gate.store import key_e164
from tests.dial._helpers import refill
from tests.oracle import Evidence
from tests.strategies import CONTROLLERS, PHONES, evidence, instants

# Evidence numbers as written, a number without evidence, a premium-rate, a foreign and a
# fixed-line number, and text that is no number at all.
written = st.one_of(
    st.sampled_from(PHONES).map(key_e164),
    st.sampled_from(PHONES).map(lambda k: f"{k % 10**9:09d}"),
    st.sampled_from(["+420 601 000 009", "900 123 456", "+421 901 234 567", "224 000 000", "n/a"]),
)
policies = st.builds(
    Policy,
    consent_max_age_days=st.sampled_from([None, 5]),
    directory_max_age_days=st.sampled_from([0, 31]),
    blocked_number_types=st.sampled_from([Policy().blocked_number_types, ("mobile",)]),
)
STORE = EvidenceStore()
FIELDS = ("allowed", "reason", "evidence", "rule_set")


@settings(max_examples=30, deadline=None)
@given(
    ev=evidence(),
    phones=st.lists(written, min_size=1, max_size=10),
    t=st.one_of(instants, instants.map(lambda t: t + timedelta(minutes=59, seconds=59))),
    call_type=st.sampled_from(["live", "automated"]),
    gate_args=st.tuples(st.sampled_from(CONTROLLERS), policies),
)
def test_the_filter_the_check_and_the_audit_decide_calls_alike(
    ev: Evidence, phones: list[str], t: datetime, call_type: str, gate_args: tuple[str, Policy]
) -> None:
    controller, policy = gate_args
    gate = Gate(refill(STORE, ev), controller, policy, refresh_interval=None)
    checked = []
    for phone in phones:
        decision = gate.check(phone, at=t, call_type=call_type)
        row = {field: getattr(decision, field) for field in FIELDS}
        checked.append({**row, "reason": decision.reason.value})
    filtered = gate.filter(pa.table({"phone": phones}), as_of=t, call_type=call_type).table
    assert filtered.select(list(FIELDS)).to_pylist() == checked
    log = pa.table(
        {
            "call_id": [f"H{i}" for i in range(len(phones))],
            "phone": phones,
            "called_at": [t.strftime("%Y-%m-%dT%H:%M:%SZ")] * len(phones),
            "call_type": [call_type] * len(phones),
        }
    )
    audited = run_audit(gate.context, log).calls.sort_by("line")
    assert audited.select(list(FIELDS)).to_pylist() == checked

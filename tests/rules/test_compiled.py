"""The compiled rules: which reasons allow a call, and which regime labels a day.

That their SQL and Python forms decide alike is held by the parity matrix (tests/ways).
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given

from optin_gate.policy import Policy
from optin_gate.rules import Facts, Reason, compile_rules
from tests.strategies import facts, policies


@given(f=facts(), policy=policies)
def test_allowed_exactly_for_allowing_reasons(f: Facts, policy: Policy) -> None:
    decision = compile_rules(policy).decision(f, "+420601234567")
    assert decision.allowed == (
        decision.reason
        in {Reason.CONSENT, Reason.EXISTING_CUSTOMER, Reason.DIRECTORY_OPT_IN, Reason.NO_OPT_OUT}
    )


@pytest.mark.parametrize(
    ("t_day", "label"),
    [(date(2022, 6, 30), "CZ-opt-out"), (date(2022, 7, 1), "CZ-2022-opt-in")],
)
def test_rule_set_names_the_regime_of_the_day(t_day: date, label: str) -> None:
    f = Facts(valid=True, country="CZ", number_type="mobile", automated=False, t_day=t_day)
    assert compile_rules(Policy()).decide(f)[2] == label

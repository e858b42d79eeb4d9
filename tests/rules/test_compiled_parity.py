"""One source of truth: the rules' SQL form and Python form decide every `Facts` alike."""

from __future__ import annotations

import dataclasses
from datetime import date

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.policy import Policy
from optin_gate.rules import FACT_COLUMNS, Facts, Reason, compile_rules
from tests.strategies import facts, policies

_ARROW = {"BOOLEAN": pa.bool_(), "VARCHAR": pa.string(), "DATE": pa.date32()}
SCHEMA = pa.schema([(name, _ARROW[sql]) for name, sql in FACT_COLUMNS.items()])


def _sql_decisions(rows: list[Facts], policy: Policy) -> list[tuple[str, bool, str | None, str]]:
    table = pa.Table.from_pylist([dataclasses.asdict(f) for f in rows], schema=SCHEMA)
    con = duckdb.connect()
    con.register("facts", table)
    query = compile_rules(policy).decision_sql("facts")
    return con.execute(f"SELECT reason, allowed, evidence, rule_set FROM ({query})").fetchall()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(facts(), min_size=1, max_size=40), policy=policies)
def test_sql_and_both_python_forms_agree_on_every_fact(rows: list[Facts], policy: Policy) -> None:
    compiled = compile_rules(policy)
    expected = []
    for f in rows:
        reason, evidence, rule_set = compiled.decide(f)
        expected.append((reason.value, reason.allowed, evidence, rule_set))
        # The dial path's positional form is the same function.
        assert compiled.decide_values(*dataclasses.astuple(f)) == (reason, evidence, rule_set)
    assert _sql_decisions(rows, policy) == expected


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

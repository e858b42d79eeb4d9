"""The decided table's compact rows read back as the rules' own decisions, for every fact.

The batch engine stores a rule number, the bare evidence and a rule-set enum per key
(`engine.decided`) and joins only the directory rows whose mark the rules name
(`engine.facts.decisive_marks`); both must give exactly what the rules decide.
"""

from __future__ import annotations

import dataclasses

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.engine.decided import decision_columns_sql, reason_of, stored_columns_sql
from optin_gate.engine.facts import _compared, decisive_marks
from optin_gate.policy import Policy
from optin_gate.rules import FACT_COLUMNS, Facts, compile_rules
from optin_gate.rules.expr import And, Eq, Field, IsNull, Not
from tests.strategies import facts, policies

_ARROW = {"BOOLEAN": pa.bool_(), "VARCHAR": pa.string(), "DATE": pa.date32()}
SCHEMA = pa.schema([(name, _ARROW[sql]) for name, sql in FACT_COLUMNS.items()])


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(facts(), min_size=1, max_size=40), policy=policies)
def test_stored_rows_read_back_as_the_rules_decide(rows: list[Facts], policy: Policy) -> None:
    table = pa.Table.from_pylist([dataclasses.asdict(f) for f in rows], schema=SCHEMA)
    n = len(rows)
    table = table.append_column("key", pa.array(range(n), pa.int64()))
    table = table.append_column("n", pa.array([1] * n, pa.int64()))
    table = table.append_column("phone", pa.array([420601000000 + i for i in range(n)]))
    con = duckdb.connect()
    con.register("facts", table)
    con.execute(f"CREATE TABLE d AS {stored_columns_sql('facts', ('key',), policy)}")
    got = con.execute(f"SELECT {decision_columns_sql('d')}, rule FROM d ORDER BY key").fetchall()
    compiled = compile_rules(policy)
    for i, (f, row) in enumerate(zip(rows, got, strict=True)):
        reason, evidence, rule_set = compiled.decide(f)
        e164 = f"+{420601000000 + i}"
        assert row[:5] == (e164, reason.allowed, reason.value, evidence, rule_set)
        assert reason_of(row[5]) is reason


@settings(max_examples=300, deadline=None)
@given(f=facts(), policy=policies, mark=st.sampled_from(["opt_in", "opt_out", "unmarked", "x"]))
def test_marks_the_rules_never_name_decide_as_no_entry(f: Facts, policy: Policy, mark: str) -> None:
    marks = decisive_marks(policy)
    assert marks is not None
    assert set(marks) <= {"opt_in", "opt_out"}
    if mark not in marks:
        decide = compile_rules(policy).decide
        with_mark = dataclasses.replace(f, directory_marketing=mark)
        without = dataclasses.replace(f, directory_marketing=None)
        assert decide(with_mark) == decide(without)


def test_any_other_use_of_the_mark_keeps_every_directory_row() -> None:
    mark = Field("directory_marketing")
    assert _compared(And(Eq(mark, "opt_in"), Not(Eq(Field("country"), "CZ")))) == {"opt_in"}
    assert _compared(Not(IsNull(mark))) is None  # "listed at all" needs the unmarked rows

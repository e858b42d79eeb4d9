"""The filter's outcomes decide every row exactly as the rules decide its facts.

The engine decides each possible shape once (`engine.outcomes`) and stores per row only an
outcome and the id its evidence names; read back, each row must say what
`compile_rules(policy).decide` says of its own facts. Directory rows whose mark the rules
never name are not joined (`engine.facts.decisive_marks`): they must decide as no entry.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.engine.facts import _compared, decisive_marks
from optin_gate.engine.outcomes import NumberCodes, decide_shapes, decided_sql
from optin_gate.numbers.batch import REGION_NAMES
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.numbers.table import KeyCodes
from optin_gate.policy import Policy
from optin_gate.rules import Facts, Reason, compile_rules
from optin_gate.rules.expr import And, Eq, Field, IsNull, Not
from optin_gate.rules.shapes import ShapeCodec, mark_sql, number_of, register_part
from tests.strategies import RELEASES, facts, policies


@st.composite
def one_run(draw: st.DrawFn) -> tuple[Facts, list[Facts]]:
    """Facts of many numbers sharing what one filter run fixes: day, call type, snapshot."""
    base = draw(facts())
    rows = draw(st.lists(facts(), min_size=1, max_size=40))
    rows = [
        dataclasses.replace(
            f,
            t_day=base.t_day,
            automated=base.automated,
            caller_id_0888=base.caller_id_0888,
            directory_date=base.directory_date,
            directory_marketing=f.directory_marketing if base.directory_date else None,
            # The numbers stage gives a valid number one of TYPE_CODES, never "unknown".
            number_type=None if f.number_type == "unknown" else f.number_type,
        )
        for f in rows
    ]
    return base, rows


Decided = list[tuple[object, ...]]


def _index(names: tuple[str, ...], name: str | None) -> int:
    return -1 if name is None else names.index(name)


def _decide(
    con: duckdb.DuckDBPyConnection, base: Facts, rows: list[Facts], policy: Policy
) -> tuple[Decided, dict[Reason, int]]:
    """The rows through the engine's shape path: (e164, allowed, reason, evidence, rule_set)."""
    marks = decisive_marks(policy)
    assert marks is not None
    codec = ShapeCodec(marks, base.t_day, (base.directory_date,), RELEASES)
    numbers = NumberCodes()
    num = numbers.encode(_codes([(f.valid, f.country, f.number_type) for f in rows]))
    n = len(rows)
    table = pa.table(
        {
            "key": pa.array(range(n), pa.int64()),
            "n": pa.array([1] * n, pa.int64()),
            "phone": pa.array([420601000000 + i if f.valid else None for i, f in enumerate(rows)]),
            "num": num,
            **{
                field: pa.array([getattr(f, field) for f in rows], pa.string())
                for field in ("objection_id", "consent_id", "contract_id", "directory_marketing")
            },
            "register": pa.array([_register(f) for f in rows], pa.int64()),
        }
    )
    con.register("facts", table)
    outcomes = decide_shapes(
        con, numbers, codec, automated=base.automated, policy=policy, caller=base.caller_id_0888
    )
    relation = f"(SELECT *, {mark_sql('directory_marketing', marks)} AS directory_mark FROM facts)"
    con.execute(f"CREATE TABLE d AS {decided_sql(relation, ('key',), outcomes)}")
    got = con.execute(f"SELECT {outcomes.columns_sql('d')} FROM d ORDER BY key").fetchall()
    counts = dict(con.execute("SELECT outcome, count(*) FROM d GROUP BY ALL").fetchall())
    by_reason: dict[Reason, int] = {}
    for o, c in counts.items():  # one reason may be two outcomes: a Czech and a Slovak one
        by_reason[outcomes.reason(o)] = by_reason.get(outcomes.reason(o), 0) + c
    return got, by_reason


@settings(max_examples=80, deadline=None)
@given(run=one_run(), policy=policies)
def test_every_row_reads_back_as_the_rules_decide_its_facts(
    run: tuple[Facts, list[Facts]], policy: Policy
) -> None:
    base, rows = run
    got, counts = _decide(duckdb.connect(), base, rows, policy)
    compiled = compile_rules(policy)
    expected: dict[Reason, int] = {}
    assert len(got) == len(rows)  # every row once: no shape missing, none twice
    for i, (f, row) in enumerate(zip(rows, got, strict=True)):
        reason, evidence, rule_set = compiled.decide(f)
        e164 = f"+{420601000000 + i}" if f.valid else None
        assert row == (e164, reason.allowed, reason.value, evidence, rule_set)
        expected[reason] = expected.get(reason, 0) + 1
    assert counts == expected  # the summary counts outcomes by their reason


def _register(f: Facts) -> int:
    """The row's Slovak list part, as `engine.facts` computes it."""
    index = -1 if f.register_date is None else RELEASES.index(f.register_date)
    return int(register_part(index, int(f.register_blocks), int(f.consent_before_register)))


def _codes(rows: list[tuple[bool, str | None, str | None]]) -> KeyCodes:
    return KeyCodes(
        np.zeros(len(rows), np.int64),
        np.array([valid for valid, _, _ in rows], np.bool_),
        np.array([_index(TYPE_CODES, kind) for _, _, kind in rows], np.int8),
        np.array([_index(REGION_NAMES, country) for _, country, _ in rows], np.int16),
    )


def test_numbers_of_one_kind_share_a_code_across_batches() -> None:
    numbers = NumberCodes()
    first = numbers.encode(
        _codes([(True, "CZ", "mobile"), (False, None, None), (True, "SK", "fixed_line")])
    )
    second = numbers.encode(  # other batches, same numbers; not valid whatever else it says
        _codes([(True, "SK", "fixed_line"), (True, "CZ", "mobile"), (False, "CZ", "mobile")])
    )
    kinds = [(True, "CZ", "mobile"), (False, None, None), (True, "SK", "fixed_line")]
    codes = [number_of(*kind) for kind in kinds]
    assert first.to_pylist() == codes
    assert second.to_pylist() == [codes[2], codes[0], codes[1]]
    assert numbers.numbers == sorted(codes)  # not valid: one code, whatever else the row says


def test_a_run_with_no_numbers_decides_nothing() -> None:
    con = duckdb.connect()
    codec = ShapeCodec(("opt_in",), date(2026, 1, 15), (None,))
    outcomes = decide_shapes(con, NumberCodes(), codec, automated=False, policy=Policy())
    assert outcomes.rows == ()
    assert con.execute(f"SELECT count(*) FROM {outcomes.shapes}").fetchall() == [(0,)]


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

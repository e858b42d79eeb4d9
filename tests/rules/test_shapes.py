"""The shape codec: a shape packs and unpacks to the same facts, whichever form packs it, and
deciding a shape is deciding any call of that shape (sound only while rules test ids for
presence)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.numbers.batch import REGION_NAMES
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.policy import Policy
from optin_gate.rules import Facts, compile_rules
from optin_gate.rules.expr import And, Eq, Field, In, Not, NotNull
from optin_gate.rules.shapes import (
    ID_FIELDS,
    ShapeCodec,
    _ids_only_tested_for_presence,
    marker,
    number_of,
    register_part,
    sk_part,
    template,
)
from tests.strategies import RELEASES, days, facts, policies

MARKS = ("opt_in", "opt_out", "unmarked")


@st.composite
def codecs(draw: st.DrawFn) -> ShapeCodec:
    """A codec over a few days, some without a directory snapshot, and some marks."""
    first = draw(days)
    span = draw(st.integers(1, 40))
    back = [draw(st.none() | st.integers(0, 60)) for _ in range(span)]
    directories = tuple(
        None if d is None else first + timedelta(days=i - d) for i, d in enumerate(back)
    )
    marks = tuple(draw(st.lists(st.sampled_from(MARKS), unique=True, max_size=3)))
    releases = tuple(sorted(draw(st.lists(st.sampled_from(RELEASES), unique=True))))
    return ShapeCodec(marks, first, directories, releases)


@st.composite
def shapes(draw: st.DrawFn, codec: ShapeCodec) -> Facts:
    """The facts of any shape the codec can hold: ids as markers, the day's snapshot."""
    valid = draw(st.booleans())
    day = draw(st.integers(0, len(codec.directories) - 1))
    register_date = draw(st.none() | st.sampled_from(codec.releases)) if codec.releases else None
    listed = register_date is not None
    return Facts(
        valid=valid,
        country=draw(st.none() | st.sampled_from(REGION_NAMES)) if valid else None,
        number_type=draw(st.none() | st.sampled_from(TYPE_CODES)) if valid else None,
        automated=draw(st.booleans()),
        t_day=codec.first_day + timedelta(days=day),
        objection_id=draw(st.sampled_from([None, marker("objection_id")])),
        consent_id=draw(st.sampled_from([None, marker("consent_id")])),
        contract_id=draw(st.sampled_from([None, marker("contract_id")])),
        directory_date=codec.directories[day],
        directory_marketing=draw(st.none() | st.sampled_from(codec.marks)) if codec.marks else None,
        caller_id_0888=draw(st.booleans()),
        register_date=register_date,
        register_blocks=listed and draw(st.booleans()),
        consent_before_register=listed and draw(st.booleans()),
    )


def _parts(codec: ShapeCodec, f: Facts) -> tuple[int, bool, int, int, int, int]:
    """(day, automated, number, flags, mark, sk) of a shape, as the packing functions take them."""
    flags = sum(1 << i for i, field in enumerate(ID_FIELDS) if getattr(f, field) is not None)
    mark = 0 if f.directory_marketing is None else codec.marks.index(f.directory_marketing) + 1
    number = number_of(f.valid, f.country, f.number_type)
    index = -1 if f.register_date is None else codec.releases.index(f.register_date)
    register = register_part(index, int(f.register_blocks), int(f.consent_before_register))
    sk = sk_part(int(f.caller_id_0888), register)
    return codec.day_of(f.t_day), f.automated, number, flags, mark, sk


@settings(max_examples=200, deadline=None)
@given(data=st.data(), codec=codecs())
def test_a_shape_unpacks_to_the_facts_it_was_packed_from(
    data: st.DataObject, codec: ShapeCodec
) -> None:
    shape = data.draw(shapes(codec))
    code = codec.pack(*_parts(codec, shape))
    assert isinstance(code, int)
    assert code >= 0
    assert codec.unpack([code]) == [dataclasses.astuple(shape)]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), codec=codecs())
def test_numpy_python_and_sql_pack_alike(data: st.DataObject, codec: ShapeCodec) -> None:
    rows = [_parts(codec, data.draw(shapes(codec))) for _ in range(data.draw(st.integers(1, 20)))]
    by_python = [codec.pack(*row) for row in rows]
    columns = [np.array(column) for column in zip(*rows, strict=True)]
    assert codec.pack(*columns).tolist() == by_python
    ids = [pa.array([None if r[3] >> i & 1 == 0 else "x" for r in rows]) for i in range(3)]
    table = pa.table(
        {
            "day": pa.array([r[0] for r in rows], pa.int32()).cast(pa.date32()),
            "automated": [r[1] for r in rows],
            "number": pa.array([r[2] for r in rows], pa.int16()),
            **dict(zip(ID_FIELDS, ids, strict=True)),
            "mark": pa.array([r[4] or None for r in rows], pa.uint8()),
            "sk": pa.array([r[5] for r in rows], pa.int64()),
        }
    )
    day = "CAST(day AS DATE) - DATE '1970-01-01'"
    sql = codec.pack_sql(day, "automated", "number", ID_FIELDS, "mark", "sk")
    con = duckdb.connect()
    con.register("t", table)
    assert [c for (c,) in con.execute(f"SELECT {sql} FROM t").fetchall()] == by_python


@settings(max_examples=300, deadline=None)
@given(f=facts(), policy=policies, automated=st.booleans())
def test_deciding_a_shape_decides_every_call_of_that_shape(
    f: Facts, policy: Policy, automated: bool
) -> None:
    f = dataclasses.replace(
        f,
        number_type=None if f.number_type == "unknown" else f.number_type,  # never normalized
        automated=automated,
    )
    codec = ShapeCodec(MARKS, f.t_day, (f.directory_date,), RELEASES)
    ((decided,), index) = codec.decide([codec.pack(*_parts(codec, f))], policy)
    assert index.tolist() == [0]
    reason, evidence, rule_set = compile_rules(policy).decide(f)
    assert (decided.reason, decided.allowed, decided.rule_set) == (reason, reason.allowed, rule_set)
    text = decided.ev_before
    if decided.ev_field:  # the call's own id put back in place of the marker
        named = getattr(f, ID_FIELDS[decided.ev_field - 1])
        text = f"{decided.ev_before}{named}{decided.ev_after}"
    assert text == evidence


def test_a_table_of_decided_shapes_lines_up_with_its_codes() -> None:
    codec = ShapeCodec(("opt_in",), date(2026, 1, 15), (date(2026, 1, 1),))
    day = codec.day_of(codec.first_day)
    cz = number_of(True, "CZ", "mobile")
    codes = np.array([codec.pack(day, 0, cz, 2, 0), codec.pack(day, 0, 0, 0, 0)], np.int64)
    table = codec.decide_table(codes, Policy())
    assert table.column("code").to_pylist() == codes.tolist()
    assert table.column("reason").to_pylist() == ["CONSENT", "INVALID_NUMBER"]
    assert table.column("ev_field").to_pylist() == [ID_FIELDS.index("consent_id") + 1, 0]
    assert table.column("ev_before").to_pylist() == ["consent:", None]


def test_a_rule_reading_an_id_value_is_caught() -> None:
    consent = Field("consent_id")
    assert _ids_only_tested_for_presence(And(NotNull(consent), Not(Eq(Field("country"), "SK"))))
    assert not _ids_only_tested_for_presence(Eq(consent, "C-1"))
    assert not _ids_only_tested_for_presence(Not(In(Field("contract_id"), ("K1", "K2"))))


def test_evidence_templates_name_the_record_and_keep_the_text_around_it() -> None:
    assert template(None) == (0, None, None)
    assert template("directory:2026-01-01") == (0, "directory:2026-01-01", None)
    for i, field in enumerate(ID_FIELDS, start=1):
        assert template(f"consent:{marker(field)}") == (i, "consent:", "")

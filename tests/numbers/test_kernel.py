"""The compiled kernel and the engine's key form give the numpy steps' and phonenumbers' answers.

`normalize` runs the numba kernel; the numpy steps it replaced (tests/numbers/numpy_steps.py)
stay as the second implementation the kernel is held to, value by value, on the same inputs.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.errors import InputError
from optin_gate.numbers import _kernel, fast_path_mask, normalize, table
from optin_gate.numbers.reference import reference_one
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.numbers.table import normalize_keys
from tests.numbers._policy import work_policy
from tests.numbers.numpy_steps import numpy_steps
from tests.strategies import PHONE_REGIONS, phone_strings, phone_texts

regions = st.sampled_from((*PHONE_REGIONS, "FR", "IT", "RU", "AR", "HU", "CH"))


def _keys_as_rows(keys: pa.Table) -> list[tuple[object, ...]]:
    return [
        (
            None if r["phone"] is None else f"+{r['phone']}",
            r["valid"],
            r["number_type"],
            r["country"],
        )
        for r in keys.to_pylist()
    ]


@settings(max_examples=150, deadline=None)
@given(values=st.lists(phone_texts, max_size=40), region=regions, by_row=st.booleans())
def test_kernel_and_numpy_steps_agree(values: list[str], region: str, by_row: bool) -> None:
    with work_policy(by_row):
        compiled = normalize(values, region)
        mask = fast_path_mask(values, region)
        with numpy_steps():
            assert normalize(values, region).equals(compiled)
            assert fast_path_mask(values, region).tolist() == mask.tolist()


@settings(max_examples=150, deadline=None)
@given(values=st.lists(phone_texts | st.none(), max_size=40), region=regions, by_row=st.booleans())
def test_keys_are_the_e164_digits(values: list[str | None], region: str, by_row: bool) -> None:
    # The engine's form: the same answers as normalize, E.164 as its digits, from either path.
    with work_policy(by_row):
        want = [tuple(r.values()) for r in normalize(values, region).to_pylist()]
        assert _keys_as_rows(normalize_keys(values, region)) == want
        with numpy_steps():
            assert _keys_as_rows(normalize_keys(values, region)) == want


@settings(max_examples=100, deadline=None)
@given(values=st.lists(phone_texts | st.none(), max_size=40), region=regions)
def test_codes_are_the_same_row_by_row_or_over_distinct_values(
    values: list[str | None], region: str
) -> None:
    # A caller normalizing one list in batches decides once whether to hash its repeats
    # (`dedupe`); the answers must not depend on it.
    keys = normalize_keys(values, region)
    for dedupe in (True, False, None):
        codes = table.normalize_codes(values, region, dedupe=dedupe)
        assert codes.valid.tolist() == keys.column("valid").to_pylist()
        assert [int(k) if v else None for k, v in zip(codes.key, codes.valid, strict=True)] == (
            keys.column("phone").to_pylist()
        )
        assert [TYPE_CODES[t] if t >= 0 else None for t in codes.type_code] == (
            keys.column("number_type").to_pylist()
        )


def test_both_threads_and_a_second_round_for_plans_met_late() -> None:
    # Enough rows for two threads; foreign calling codes, whose plans the kernel's first round
    # (the default region's plan only) sends to a second round.
    distinct = [
        "+420 601 234 567", "+49 30 1234567", "+33 1 23 45 67 89", "+358 40 1234567",
        "+372 5123 4567", "00 371 2123 4567", "601 234 567", "n/a", "4.20601E+11", "",
    ]  # fmt: skip
    values = distinct * 7000
    assert len(values) > _kernel._MIN_SPLIT
    want = [tuple(reference_one(v, "CZ")) for v in distinct] * 7000
    with work_policy(True):
        got = [tuple(r.values()) for r in normalize(values, "CZ").to_pylist()]
    assert got == want
    assert sum(r[1] for r in got) == 7 * 7000


fillers = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="0123456789+"), max_size=20
)
scientific = st.builds(
    lambda whole, frac, e, exp: f"{whole}{'.' + frac if frac else ''}{e}+{exp}",
    st.text("0123456789", min_size=1, max_size=3),
    st.text("0123456789", max_size=8),
    st.sampled_from("eE"),
    st.text("0123456789", min_size=1, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(value=fillers | scientific)
def test_fillers_and_scientific_notation_are_never_numbers(value: str) -> None:
    # Told by shape, without a parse: they must be what phonenumbers says of them.
    assert table._never_a_number(pa.array([value])).tolist() == [True]
    assert reference_one(value, "CZ").valid is False
    assert normalize([value]).column("valid").to_pylist() == [False]


@given(value=phone_strings())
@settings(max_examples=100, deadline=None)
def test_numbers_are_not_taken_for_fillers(value: str) -> None:
    has_digit = any(c.isascii() and c.isdigit() for c in value)
    if has_digit and "E+" not in value.upper():
        assert table._never_a_number(pa.array([value])).tolist() == [False]


def test_unknown_region_is_an_input_error() -> None:
    with pytest.raises(InputError, match="region 'XX'"):
        normalize_keys(["601234567"], "XX")

"""normalize and normalize_one give exactly phonenumbers' answer, for anything a file can hold."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.numbers import fast_path_mask, normalize, normalize_one, normalize_one_fast
from optin_gate.numbers.reference import reference_one
from tests.numbers._policy import work_policy
from tests.strategies import (
    PHONE_COUNTRIES,
    PHONE_REGIONS,
    national_numbers,
    phone_strings,
    phone_texts,
)

# Default regions: the required seven plus plans whose own numbers stay on the fallback
# (shared calling codes, carrier codes, leading zeros) to prove the routing around them.
default_regions = st.sampled_from((*PHONE_REGIONS, "FR", "IT", "RU", "AR", "HU", "CH"))


@settings(max_examples=250, deadline=None)
@given(values=st.lists(phone_texts, max_size=30), region=default_regions, row_by_row=st.booleans())
def test_normalize_is_phonenumbers(values: list[str], region: str, row_by_row: bool) -> None:
    expected = [reference_one(v, region)._asdict() for v in values]
    with work_policy(row_by_row):
        assert normalize(values, region).to_pylist() == expected


@settings(max_examples=700, deadline=None)
@given(value=phone_texts, region=default_regions)
def test_normalize_one_is_phonenumbers(value: str, region: str) -> None:
    assert normalize_one(value, region) == reference_one(value, region)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(phone_strings(), min_size=1, max_size=30), region=default_regions)
def test_batch_and_scalar_fast_paths_take_the_same_values(values: list[str], region: str) -> None:
    # One spec drives both: a value the scalar path decides, the batch path decides, and both
    # answers are phonenumbers' own.
    scalar = [normalize_one_fast(v, region) for v in values]
    assert fast_path_mask(values, region).tolist() == [s is not None for s in scalar]
    for value, answer in zip(values, scalar, strict=True):
        if answer is not None:
            assert answer == reference_one(value, region)


@settings(max_examples=120, deadline=None)
@given(
    values=st.lists(phone_strings(("CZ", "SK")), min_size=1, max_size=20),
    region=st.sampled_from(["CZ", "SK"]),
    row_by_row=st.booleans(),
)
def test_duplicates_and_order_do_not_change_answers(
    values: list[str], region: str, row_by_row: bool
) -> None:
    doubled = values + values[::-1]
    with work_policy(row_by_row):
        rows = normalize(doubled, region).to_pylist()
    assert rows[: len(values)] == rows[len(values) :][::-1]
    assert rows[: len(values)] == [reference_one(v, region)._asdict() for v in values]


# Compact E.164 ("+" and digits) is what diallers hand to `check`: the scalar path takes it in
# a flat lane of its own, so it is held to phonenumbers over every calling code and length, and
# over the numbering plans of the countries we see most.
calling_codes = st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


@st.composite
def compact_e164(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        code = draw(calling_codes)
        return f"+{code}" + draw(st.text("0123456789", max_size=16))
    region = draw(st.sampled_from(PHONE_COUNTRIES))
    code = phonenumbers.country_code_for_region(region)
    return f"+{code}{draw(national_numbers(region))}"


@settings(max_examples=1000, deadline=None)
@given(value=compact_e164(), region=default_regions)
def test_compact_e164_is_phonenumbers(value: str, region: str) -> None:
    assert normalize_one(value, region) == reference_one(value, region)

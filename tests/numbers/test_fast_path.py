"""The fast paths carry realistic shapes, step aside for the rest, and read the metadata right."""

from __future__ import annotations

import functools
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.numbers import fast_path_mask, normalize, normalize_one_fast
from optin_gate.numbers._dfa import Dfa, UnsupportedPattern, compile_patterns
from optin_gate.numbers.reference import reference_one
from optin_gate.numbers.spec import country_spec, region_spec

NBSP = "\u00a0"
REALISTIC = {
    "CZ": [
        "+420 601 234 567",
        "+420601234567",
        "00420601234567",
        "420601234567",
        "601234567",
        "601 234 567",
        "601-234-567",
        "601.234.567",
        "(+420) 601 234 567",
        f"+420{NBSP}601{NBSP}234{NBSP}567",
        "  601 234 567  ",
        "+420 212 345 678",
        "800 123 456",
        "+420 909 123 456",
        "601/234 567",
        "+421 905 123 456",
        "+49 30 123456",
        "601 23",  # too short: decided invalid without phonenumbers
    ],
    "SK": [
        "+421 905 123 456",
        "+421905123456",
        "00421905123456",
        "421905123456",
        "0905 123 456",
        "0905123456",
        "905 123 456",
        "0905-123-456",
        "(+421) 905 123 456",
        f"+421{NBSP}905{NBSP}123{NBSP}456",
        " 02/123 456 78 ",
        "+421 (0) 905 123 456",
        "+420 601 234 567",
    ],
}


@pytest.mark.parametrize("region", sorted(REALISTIC))
def test_realistic_shapes_take_both_fast_paths(region: str) -> None:
    values = REALISTIC[region]
    assert fast_path_mask(values, region).all()
    for value in values:
        assert normalize_one_fast(value, region) == reference_one(value, region), value
    assert normalize(values, region).to_pylist() == [
        reference_one(v, region)._asdict() for v in values
    ]
    assert sum(reference_one(v, region).valid for v in values) >= len(values) - 1


def test_a_generated_campaign_list_is_almost_all_fast_path() -> None:
    from benchmarks.generate import messy_phone_numbers

    values = messy_phone_numbers(20_000, seed=11, distinct=True)
    assert fast_path_mask(values, "CZ").mean() > 0.99


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("tel:+420-601-234-567", "CZ"),
        ("+420 601 234 567 ext. 5", "CZ"),
        ("６０１２３４５６７", "CZ"),
        ("4.20601E+11", "CZ"),
        ("601 234 567 a", "CZ"),
        ("+1 212 555 0100", "CZ"),  # NANPA: one calling code, 25 regions
        ("+44 20 7946 0958", "CZ"),  # GB shares 44 with GG, IM, JE
        ("+800 1234 5678", "CZ"),  # non-geographic
        ("+54 9 11 1234 5678", "CZ"),  # Argentina's national prefix has carrier rules
        ("212 555 0100", "US"),  # US as default region: national numbers fall back
        ("601 234 567 / 602 345 678", "CZ"),
        ("6" * 18, "CZ"),
        ("00", "CZ"),
        ("", "CZ"),
    ],
)
def test_values_outside_the_subset_go_to_phonenumbers(value: str, region: str) -> None:
    assert normalize_one_fast(value, region) is None
    assert not fast_path_mask([value], region).any()
    assert normalize([value], region).to_pylist() == [reference_one(value, region)._asdict()]


def test_calling_codes_shared_or_non_geographic_have_no_fast_plan() -> None:
    assert country_spec(420) is not None
    assert country_spec(421) is not None
    for shared in (1, 7, 39, 44, 800, 882):
        assert country_spec(shared) is None
    assert region_spec("CZ").national_ok
    home = region_spec("SK").home
    assert home is not None
    assert home.npp == "0"
    assert not region_spec("US").national_ok
    assert not region_spec("GB").national_ok


def test_nearly_every_single_region_plan_compiles() -> None:
    # A phonenumbers upgrade bringing a regex construct the compiler does not model would
    # silently move those countries to the slow path; this notices.
    single = [
        cc
        for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        if len(regions) == 1 and regions[0] != "001"
    ]
    built = [cc for cc in single if country_spec(cc) is not None]
    assert len(built) >= 0.9 * len(single)


DESCS = (
    "general_desc",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
PLAN_REGIONS = (
    *("CZ", "SK", "DE", "AT", "PL", "FR", "HU", "UA", "CH", "CN", "IN", "BR", "MX"),
    *("AR", "IT", "US", "GB", "RU", "JP", "AU", "BD", "MM"),
)


@functools.cache
def plan(region: str) -> tuple[list[str | None], Dfa]:
    """A region's patterns (in the spec's bit order) and their automaton."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    patterns = [getattr(getattr(metadata, name), "national_number_pattern", None) for name in DESCS]
    return patterns, compile_patterns(patterns)


@st.composite
def plan_digits(draw: st.DrawFn) -> tuple[str, str]:
    """A region and a digit string near its plan: an example's prefix plus a random tail."""
    region = draw(st.sampled_from(PLAN_REGIONS))
    examples = [
        phonenumbers.national_significant_number(e)
        for kind in phonenumbers.supported_types_for_region(region)
        if (e := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    start = draw(st.sampled_from(examples))
    head = start[: draw(st.integers(0, len(start)))]
    return region, head + draw(st.text("0123456789", max_size=17 - len(head)))


@settings(max_examples=600, deadline=None)
@given(case=plan_digits())
def test_the_automaton_answers_fullmatch_for_every_pattern(case: tuple[str, str]) -> None:
    region, digits = case
    patterns, dfa = plan(region)
    accepts = int(dfa.accepts[dfa.walk(digits)])
    for bit, pattern in enumerate(patterns):
        expected = re.fullmatch(pattern, digits) is not None if pattern else False
        assert bool(accepts >> bit & 1) == expected, (region, DESCS[bit], digits)


@pytest.mark.parametrize("pattern", [r"(?=1)\d+", r"(\d)\1", r"^12", r"12$", r"\d++", r"(?>1)"])
def test_constructs_outside_the_model_are_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        compile_patterns([pattern])


@pytest.mark.parametrize("pad", [" ", NBSP])
def test_the_250_character_limit_is_phonenumbers_own(pad: str) -> None:
    # phonenumbers refuses input over 250 characters; no-break spaces are 2 bytes in UTF-8,
    # so a byte count would put the batch path's limit elsewhere than the scalar path's.
    fits, too_long = pad * 241 + "601234567", pad * 242 + "601234567"
    assert reference_one(fits, "CZ").valid
    assert not reference_one(too_long, "CZ").valid
    assert fast_path_mask([fits, too_long], "CZ").tolist() == [True, False]
    assert normalize_one_fast(fits, "CZ") == reference_one(fits, "CZ")
    assert normalize_one_fast(too_long, "CZ") is None
    rows = normalize([fits, too_long], "CZ").to_pylist()
    assert rows == [reference_one(v, "CZ")._asdict() for v in (fits, too_long)]

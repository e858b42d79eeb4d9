"""A large seeded corpus per default region, normalized in one call, equals phonenumbers."""

from __future__ import annotations

import random

import phonenumbers
import pyarrow as pa
import pytest

from optin_gate.numbers import fast_path_mask, normalize, normalize_one, table
from optin_gate.numbers.reference import reference_one
from tests.strategies import PHONE_COUNTRIES

SEPARATORS = (" ", " ", " ", "-", ".", "/", "\u00a0", "", "", " - ")
FORMS = ("+cc", "+cc", "+cc", "(+cc)", "00cc", "cc", "national", "national", "national", "+cc0")
SIZES = {"CZ": 25_000, "SK": 15_000, "DE": 6_000, "AT": 6_000, "PL": 6_000}


def _examples(region: str) -> list[str]:
    found = {
        phonenumbers.national_significant_number(example)
        for kind in phonenumbers.supported_types_for_region(region)
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    }
    return sorted(found) or ["123456789"]


EXAMPLES = {region: _examples(region) for region in PHONE_COUNTRIES}


def corpus(n: int, seed: int, home: str) -> list[str | None]:
    """n strings: mostly `home` numbers, the rest foreign; realistic shapes, 15 % mangled."""
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        region = home if rng.random() < 0.6 else rng.choice(PHONE_COUNTRIES)
        cc = str(phonenumbers.country_code_for_region(region))
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = (metadata.national_prefix or "") if metadata is not None else ""
        base = rng.choice(EXAMPLES[region])
        keep = rng.randint(max(0, len(base) - 7), len(base))
        size = max(0, len(base) - keep + rng.choice((0, 0, 0, 0, 0, 1, -1)))
        nsn = base[:keep] + "".join(rng.choice("0123456789") for _ in range(size))
        sep = rng.choice(SEPARATORS)
        groups = [nsn[i : i + 3] for i in range(0, len(nsn), 3)]
        body = sep.join(groups)
        text = {
            "+cc": f"+{cc}{sep}{body}",
            "(+cc)": f"(+{cc}) {body}",
            "00cc": f"00{cc}{sep}{body}",
            "cc": f"{cc}{body}",
            "national": f"{prefix}{body}",
            "+cc0": f"+{cc} {prefix or '0'}{body}",
        }[rng.choice(FORMS)]
        text = rng.choice(("", "", "", " ", "\u00a0")) + text + rng.choice(("", "", "", " "))
        mangle = rng.random()
        if mangle < 0.03:
            text = f"{float(nsn or '0'):.5E}"
        elif mangle < 0.06:
            text += rng.choice((" ext. 12", " x5", ";ext=3"))
        elif mangle < 0.09:
            text = "tel:" + text.strip().replace(" ", "-")
        elif mangle < 0.11:
            text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif mangle < 0.13:
            text = rng.choice(("", "n/a", "neuvedeno", "-", "x" * 300, text * 40))
        elif mangle < 0.15:
            out.append(None)  # an empty cell
            continue
        out.append(text)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("region", ["CZ", "SK", "DE", "AT", "PL", "US", "GB"])
def test_corpus_equals_phonenumbers(region: str) -> None:
    values = corpus(SIZES.get(region, 5_000), seed=sum(map(ord, region)), home=region)
    if region == "CZ":
        from benchmarks.generate import messy_phone_numbers

        values += messy_phone_numbers(15_000, seed=3, distinct=False).to_pylist()
    expected = [reference_one(v, region) for v in values]
    got = normalize(values, region)
    # Small inputs are worked as distinct values; big ones (like this, scaled up) row by row.
    saved = table.SAMPLE
    table.SAMPLE = 1_000
    try:
        assert table._work_values(pa.array(values))[1] is None  # row by row indeed
        by_row = normalize(values, region)
    finally:
        table.SAMPLE = saved
    assert by_row.equals(got)
    assert got.num_rows == len(values)
    for column in ("e164", "valid", "number_type", "country"):
        want = [getattr(e, column) for e in expected]
        assert got.column(column).to_pylist() == want, column
    assert [normalize_one(v, region) for v in values] == expected
    share = fast_path_mask(values, region).mean()
    # Home numbers of single-region plans with plain prefixes are the fast path's job; the
    # US and GB share calling codes with other regions, so their own numbers fall back.
    assert share > (0.75 if region in SIZES else 0.05), share

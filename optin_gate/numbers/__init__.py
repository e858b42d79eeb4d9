"""Phone numbers to E.164, with validity, number type and country, exactly as phonenumbers says.

`normalize` (batch) and `normalize_one` (dial path) give, for every value `v`, exactly
`reference_one(v, region)`: phonenumbers.parse, is_valid_number, format E164, number_type and
region_code_for_number. They are fast because values in the safe subset (documented in
`optin_gate.numbers.spec`) are decided by tables built from phonenumbers' own metadata at run
time; everything else is handed to phonenumbers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import phonenumbers
import pyarrow as pa

from optin_gate.errors import InputError
from optin_gate.numbers._inputs import as_text_array
from optin_gate.numbers.reference import NOT_VALID, Normalized, reference_one
from optin_gate.numbers.scalar import fast_one
from optin_gate.numbers.spec import CountrySpec, RegionSpec, region_spec
from optin_gate.numbers.table import NORMALIZED_SCHEMA, normalized_table

__all__ = [
    "NORMALIZED_SCHEMA",
    "Normalized",
    "fast_path_mask",
    "home_plan",
    "normalize",
    "normalize_one",
    "normalize_one_fast",
    "scalar_normalizer",
]

_SPECS: dict[str, RegionSpec] = {}


def _spec(region: Any) -> RegionSpec:
    """The cached spec of a default region; InputError for a region phonenumbers lacks."""
    try:
        return _SPECS[region]
    except (KeyError, TypeError):
        pass
    if not isinstance(region, str) or region not in phonenumbers.SUPPORTED_REGIONS:
        raise InputError(
            f"region {region!r} is not a region phonenumbers knows",
            hint="pass an upper-case ISO 3166 code such as 'CZ' or 'SK'",
        )
    spec = _SPECS[region] = region_spec(region)
    return spec


def normalize_one(value: str | None, region: str = "CZ") -> Normalized:
    """Normalize one value for the dial path; never imports pandas or duckdb.

    Args:
        value: The number as the user wrote it; None gives the not-valid answer.
        region: Default region for numbers written without a country code.

    Returns:
        Normalized(e164, valid, number_type, country), equal to `reference_one(value, region)`.

    Raises:
        InputError: `value` is not a str or None, or `region` is unknown.
    """
    spec = _spec(region)
    if value is None:
        return NOT_VALID
    if not isinstance(value, str):
        raise InputError(
            f"normalize_one takes text, got a {type(value).__name__}",
            hint="pass the number as a str, e.g. '+420 601 234 567'",
        )
    return fast_one(value, spec) or reference_one(value, region)


def scalar_normalizer(region: str = "CZ") -> Callable[[str], Normalized]:
    """`normalize_one` for text in one region, with the region's tables bound once.

    The dial checker's form: the region lookup and argument checks cost a tenth of a check.

    Raises:
        InputError: `region` is unknown.
    """
    spec = _spec(region)

    def normalize_text(value: str) -> Normalized:
        return fast_one(value, spec) or reference_one(value, region)

    return normalize_text


def home_plan(region: str = "CZ") -> CountrySpec | None:
    """The plan of `region`'s own calling code, or None when its numbers must fall back.

    For compiled lanes of one country (the dial check's compact E.164 numbers), which must
    give `fast_one`'s answers and are tested to.
    """
    return _spec(region).home


def normalize_one_fast(value: str, region: str = "CZ") -> Normalized | None:
    """The scalar fast path alone: its answer, or None where it defers to phonenumbers."""
    return fast_one(value, _spec(region))


def normalize(values: Any, region: str = "CZ") -> pa.Table:
    """Normalize many values: one row per input value, in input order.

    Values in the safe subset are decided in numpy from tables built out of phonenumbers'
    metadata; the rest go to phonenumbers, once per distinct value (see
    `optin_gate.numbers.table` for when the fast path, too, works on distinct values only).

    Args:
        values: list/tuple of str or None, pyarrow Array/ChunkedArray, pandas Series, or numpy
            array. Non-text Arrow or pandas columns are cast to text by Arrow first (see
            `optin_gate.numbers._inputs`).
        region: Default region for numbers written without a country code.

    Returns:
        A table with NORMALIZED_SCHEMA: e164, valid, number_type, country.

    Raises:
        InputError: a value is neither text nor missing (named by position), or the region is
            unknown.
    """
    return _normalize(values, region)[0]


def fast_path_mask(values: Any, region: str = "CZ") -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per input row: True when its answer came without calling phonenumbers (nulls included).

    For tests and benchmarks: proves the fast path carries the realistic shapes.
    """
    return _normalize(values, region)[1]


def _normalize(values: Any, region: str) -> tuple[pa.Table, np.ndarray[Any, np.dtype[np.bool_]]]:
    spec = _spec(region)
    return normalized_table(as_text_array(values), spec, region)

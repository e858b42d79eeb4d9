"""The number plans the fast paths use, read from the installed phonenumbers at run time.

One `RegionSpec` per default region and one `CountrySpec` per calling code drive both fast
paths (the numpy batch path and the scalar dial path), so the two cannot drift apart. Nothing
here is copied from phonenumbers' data by hand: every pattern, prefix and length comes from
`PhoneMetadata`, and the number-length verdicts come from phonenumbers' own
`_test_number_length`.

The safe subset. A value takes a fast path only when all of this holds; everything else goes to
`reference_one`, phonenumbers itself:

* Shape (`SAFE_SHAPE`): only ASCII digits, at most one `+` with no digit before it, and the
  separators space, no-break space, `-`, `.`, `/`, `(`, `)`; 3 to 17 digits; at most 250
  characters.
  For such a string phonenumbers' extraction keeps everything from the first `+` or digit to the
  last digit, finds no extension, no `tel:` syntax, no letters, and `_normalize` leaves exactly
  its digits. So the parse only depends on (digits, has plus).
* Number plan (`CountrySpec`): the calling code belongs to exactly one region, not the
  non-geographic "001"; the national prefix for parsing is absent or a plain digit string and
  there is no national prefix transform rule; all its patterns compile to a `Dfa`.
* Default region (`RegionSpec.national_ok`): a number without `+` is fast only when the
  region's international prefix is absent or a plain digit string and the region's own plan is a
  `CountrySpec` as above. Numbers with `+` never depend on the default region.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    PhoneMetadata,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.phonenumberutil import _test_number_length

from optin_gate.numbers._dfa import Dfa, UnsupportedPattern, compile_patterns
from optin_gate.numbers.reference import TYPE_NAMES

__all__ = [
    "CC_BY_PREFIX",
    "CC_LEN_BY_PREFIX",
    "MAX_DIGITS",
    "MAX_INPUT_LENGTH",
    "MIN_DIGITS",
    "SAFE_SHAPE",
    "TYPE_CODES",
    "CountrySpec",
    "RegionSpec",
    "country_spec",
    "region_spec",
]

MIN_DIGITS = 3  # fewer digits: phonenumbers' viability rules get special cases; fall back
MAX_DIGITS = 17  # phonenumbers' longest national number; longer strings fall back
MAX_INPUT_LENGTH = 250  # phonenumbers rejects longer input outright; fall back to it
SEPARATORS = " \u00a0-./()"
SAFE_SHAPE = re.compile(r"[ \u00a0\-./()]*\+?[0-9 \u00a0\-./()]*")

# Descriptions in the order _number_type_helper tests them; bit i of a DFA accept mask is
# pattern i. General first, fixed line and mobile last (they need extra logic).
_DESCS: tuple[tuple[str, int], ...] = (
    ("general_desc", PhoneNumberType.UNKNOWN),
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
    ("fixed_line", PhoneNumberType.FIXED_LINE),
    ("mobile", PhoneNumberType.MOBILE),
)
_FIXED, _MOBILE = 9, 10
# Type codes index TYPE_CODES; -1 means UNKNOWN (not valid).
TYPE_CODES: tuple[str, ...] = tuple(TYPE_NAMES[t] for t in sorted(TYPE_NAMES) if t != 99)
_CODE_OF = {t: TYPE_CODES.index(TYPE_NAMES[t]) for t in TYPE_NAMES if t != 99}
_DIGIT_STRING = re.compile(r"[0-9]+")


def _calling_code_tables() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Calling code and its length for every 3-digit start, as _extract_country_code finds it."""
    codes = np.zeros(1000, dtype=np.int32)
    lengths = np.zeros(1000, dtype=np.int8)
    for start in range(100, 1000):  # a leading 0 never starts a calling code
        text = str(start)
        for size in (1, 2, 3):
            if int(text[:size]) in COUNTRY_CODE_TO_REGION_CODE:
                codes[start], lengths[start] = int(text[:size]), size
                break
    return codes, lengths


CC_BY_PREFIX, CC_LEN_BY_PREFIX = _calling_code_tables()


@dataclass(frozen=True)
class CountrySpec:
    """The plan of one single-region calling code, as tables the fast paths index.

    Attributes:
        cc: The calling code, e.g. 420.
        cc_digits: The same as text, e.g. "420".
        region: Its one region, e.g. "CZ".
        npp: National prefix for parsing (plain digits), or "" when the plan has none.
        dfa: All patterns of the plan in one automaton (bit order of _DESCS).
        general: Per DFA state: the general pattern fully matches (pattern only, no lengths).
        types: [states, MAX_DIGITS + 1]: type code for a national number of that length ending
            in that state, -1 when _number_type_helper would say UNKNOWN.
        strip_ok: Per length: the national prefix may be stripped (parse's length test).
        too_long: Per length: _test_number_length says TOO_LONG.
    """

    cc: int
    cc_digits: str
    region: str
    npp: str
    dfa: Dfa
    general: np.ndarray[Any, np.dtype[np.bool_]]
    types: np.ndarray[Any, np.dtype[np.int8]]
    strip_ok: np.ndarray[Any, np.dtype[np.bool_]]
    too_long: np.ndarray[Any, np.dtype[np.bool_]]
    # The same tables as Python tuples: indexing numpy from scalar code is slow.
    general_py: tuple[bool, ...]
    types_py: tuple[tuple[int, ...], ...]
    strip_ok_py: tuple[bool, ...]
    too_long_py: tuple[bool, ...]

    def matches_general(self, digits: str) -> bool:
        """`_match_national_number(digits, general_desc, False)` for ASCII digits."""
        return self.general_py[self.dfa.walk(digits)]

    def strip_national_prefix(self, number: str) -> str:
        """`_maybe_strip_national_prefix_carrier_code` for a plain-digit prefix, no transform."""
        npp = self.npp
        if not number or not npp or not number.startswith(npp):
            return number
        stripped = number[len(npp) :]
        if self.matches_general(number) and not self.matches_general(stripped):
            return number
        return stripped


@dataclass(frozen=True)
class RegionSpec:
    """What the fast paths need of the default region.

    Attributes:
        region: The default region, e.g. "CZ".
        national_ok: Numbers without `+` may take the fast path (see the module docstring).
        idd: The international prefix as plain digits ("" when the region has none).
        home: The region's own plan (None when numbers without `+` must fall back).
    """

    region: str
    national_ok: bool
    idd: str
    home: CountrySpec | None


def _type_code(metadata: Any, bits: int, length: int) -> int:
    """_number_type_helper, given which patterns match and the national number's length."""

    def matching(index: int) -> bool:
        desc = getattr(metadata, _DESCS[index][0])
        if desc is None or not desc.national_number_pattern:
            return False
        lengths = desc.possible_length
        if len(lengths) > 0 and length not in lengths:
            return False
        return bool(bits >> index & 1)

    if not matching(0):
        return -1
    for index in range(1, _FIXED):
        if matching(index):
            return _CODE_OF[_DESCS[index][1]]
    same = metadata.same_mobile_and_fixed_line_pattern
    if matching(_FIXED):
        if same or matching(_MOBILE):
            return _CODE_OF[PhoneNumberType.FIXED_LINE_OR_MOBILE]
        return _CODE_OF[PhoneNumberType.FIXED_LINE]
    if not same and matching(_MOBILE):
        return _CODE_OF[PhoneNumberType.MOBILE]
    return -1


@functools.cache
def country_spec(cc: int) -> CountrySpec | None:
    """The fast-path plan for a calling code, or None when it must fall back."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(cc, ())
    if len(regions) != 1 or regions[0] == REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    region = regions[0]
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.country_code != cc:
        return None
    npp = metadata.national_prefix_for_parsing or ""
    if (npp and not _DIGIT_STRING.fullmatch(npp)) or metadata.national_prefix_transform_rule:
        return None
    general = metadata.general_desc
    if general is None or not general.national_number_pattern or not general.possible_length:
        return None
    patterns = [
        getattr(getattr(metadata, name), "national_number_pattern", None) for name, _ in _DESCS
    ]
    try:
        dfa = compile_patterns(patterns)
        verdicts = [_test_number_length("0" * n, metadata) for n in range(MAX_DIGITS + 1)]
    except (UnsupportedPattern, AttributeError, IndexError, TypeError):
        return None
    accepts = [int(bits) for bits in dfa.accepts]
    types = [[_type_code(metadata, bits, n) for n in range(MAX_DIGITS + 1)] for bits in accepts]
    bad = (
        ValidationResult.TOO_SHORT,
        ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        ValidationResult.INVALID_LENGTH,
    )
    strip_ok = tuple(v not in bad for v in verdicts)
    too_long = tuple(v == ValidationResult.TOO_LONG for v in verdicts)
    general_py = tuple(bool(bits & 1) for bits in accepts)
    return CountrySpec(
        cc=cc,
        cc_digits=str(cc),
        region=region,
        npp=npp,
        dfa=dfa,
        general=np.array(general_py, dtype=np.bool_),
        types=np.array(types, dtype=np.int8),
        strip_ok=np.array(strip_ok, dtype=np.bool_),
        too_long=np.array(too_long, dtype=np.bool_),
        general_py=general_py,
        types_py=tuple(tuple(row) for row in types),
        strip_ok_py=strip_ok,
        too_long_py=too_long,
    )


@functools.cache
def region_spec(region: str) -> RegionSpec:
    """The fast-path view of a default region (a code in phonenumbers.SUPPORTED_REGIONS)."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    home = country_spec(metadata.country_code) if metadata is not None else None
    if home is not None and home.region != region:
        home = None
    idd = (metadata.international_prefix or "") if metadata is not None else ""
    idd_ok = idd == "" or _DIGIT_STRING.fullmatch(idd) is not None
    national_ok = home is not None and idd_ok and region in phonenumbers.SUPPORTED_REGIONS
    return RegionSpec(region=region, national_ok=national_ok, idd=idd if idd_ok else "", home=home)

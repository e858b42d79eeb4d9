"""The scalar fast path: one value in plain Python, for the dial check.

It mirrors, step by step, what phonenumbers.parse + is_valid_number do for a value in the safe
subset (see `optin_gate.numbers.spec`), using the same `RegionSpec` / `CountrySpec` tables as the
batch path. The comments name the phonenumbers function each step stands for. Anything outside
the subset returns None and the caller asks phonenumbers.
"""

from __future__ import annotations

from optin_gate.numbers.reference import NOT_VALID, Normalized
from optin_gate.numbers.spec import (
    CC_BY_PREFIX,
    CC_LEN_BY_PREFIX,
    MAX_DIGITS,
    MAX_INPUT_LENGTH,
    MIN_DIGITS,
    SAFE_SHAPE,
    SEPARATORS,
    TYPE_CODES,
    CountrySpec,
    RegionSpec,
    country_spec,
)

__all__ = ["fast_one"]

# In a SAFE_SHAPE string the only non-ASCII character is the no-break space (UTF-8 C2 A0), so
# deleting those two bytes and the ASCII separators from the UTF-8 leaves exactly the digits.
_DROP = (SEPARATORS + "+").encode()
# _extract_country_code by table: first three digits (not starting with 0) -> (code, length).
_CALLING_CODE = {
    str(start): (int(CC_BY_PREFIX[start]), int(CC_LEN_BY_PREFIX[start]))
    for start in range(100, 1000)
}
_FALLBACK = None
# First three digits after a plus -> (spec, code length) for codes the flat lane takes (a spec
# without a national prefix), () for the rest; filled on first use.
_LANE: dict[str, tuple[CountrySpec, int] | tuple[()]] = {}


def _lane(start: str) -> tuple[CountrySpec, int] | tuple[()]:
    found = _CALLING_CODE.get(start)
    lane: tuple[CountrySpec, int] | tuple[()] = ()
    if found is not None and found[0]:
        cc = country_spec(found[0])
        if cc is not None and not cc.npp:
            lane = (cc, found[1])
    if found is not None:  # at most 900 keys
        _LANE[start] = lane
    return lane


# A NamedTuple's generated __new__ is slow; tuple.__new__ builds the same object.
_new = tuple.__new__


def fast_one(value: str, spec: RegionSpec) -> Normalized | None:  # noqa: PLR0911, PLR0912
    """Phonenumbers' answer for a value in the safe subset; None when outside it."""
    if value[:1] == "+":
        # The dial path's usual input, compact E.164, in one flat lane: the same steps as
        # below (_with_calling_code, _finish) without their calls, for codes with no national
        # prefix to strip.
        digits = value[1:]
        lane = _LANE.get(digits[:3])
        if lane is None:
            lane = _lane(digits[:3])
        if lane and value.isascii() and digits.isdigit():
            cc, size = lane
            number = digits[size:]
            if MIN_DIGITS <= len(digits) <= MAX_DIGITS and len(number) >= 2:
                rows = cc.dfa.rows
                state = 1
                for char in number:
                    state = rows[state][char]
                code = cc.types_py[state][len(number)]
                if code < 0:
                    return NOT_VALID
                return _new(Normalized, (value, True, TYPE_CODES[code], cc.region))
    plus = value[:1] == "+"
    if value.isascii() and (value[plus:].isdigit()):  # the common compact forms, no regex
        digits = value[plus:]
    elif len(value) <= MAX_INPUT_LENGTH and SAFE_SHAPE.fullmatch(value) is not None:
        digits = value.encode().translate(None, _DROP).decode()
        plus = "+" in value
    else:
        return _FALLBACK
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return _FALLBACK
    if plus:
        # _maybe_strip_i18n_prefix_and_normalize: a plus; then _extract_country_code. An unknown
        # code makes parse retry without the plus: that case falls back.
        return _finish(*_with_calling_code(digits)) if digits[0] != "0" else _FALLBACK
    if not spec.national_ok:
        return _FALLBACK
    idd = spec.idd
    if idd and digits.startswith(idd) and (len(digits) == len(idd) or digits[len(idd)] != "0"):
        # _parse_prefix_as_idd stripped the international prefix (not followed by a 0).
        rest = digits[len(idd) :]
        if len(rest) <= 2:
            return NOT_VALID  # TOO_SHORT_AFTER_IDD
        if not _CALLING_CODE[rest[:3]][0]:
            return NOT_VALID  # INVALID_COUNTRY_CODE, and there is no plus to retry without
        return _finish(*_with_calling_code(rest))
    home = spec.home
    assert home is not None  # national_ok implies it
    number = digits
    if digits.startswith(home.cc_digits):
        # _maybe_extract_country_code: the default country's code written without a plus.
        potential = home.strip_national_prefix(digits[len(home.cc_digits) :])
        if (
            not home.matches_general(digits) and home.matches_general(potential)
        ) or home.too_long_py[len(digits)]:
            number = potential
    return _finish(home, number)


def _with_calling_code(digits: str) -> tuple[CountrySpec | None, str]:
    """_extract_country_code on at least 3 digits not starting with 0 (0 code: fall back)."""
    cc, size = _CALLING_CODE[digits[:3]]
    return (country_spec(cc) if cc else None), digits[size:]


def _finish(spec: CountrySpec | None, number: str) -> Normalized | None:
    """The rest of parse (national prefix, lengths), then is_valid_number and number_type."""
    if spec is None:
        return _FALLBACK
    if len(number) < 2:
        return NOT_VALID  # TOO_SHORT_NSN
    if spec.npp:
        potential = spec.strip_national_prefix(number)
        if spec.strip_ok_py[len(potential)]:
            number = potential
    if not 2 <= len(number) <= MAX_DIGITS:
        return NOT_VALID
    rows = spec.dfa.rows
    state = 1
    for char in number:  # Dfa.walk, inlined: this is the dial path's hot loop
        state = rows[state][char]
    code = spec.types_py[state][len(number)]
    if code < 0:
        return NOT_VALID
    return _new(Normalized, ("+" + spec.cc_digits + number, True, TYPE_CODES[code], spec.region))

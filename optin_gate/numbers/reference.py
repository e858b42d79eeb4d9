"""phonenumbers itself, one value at a time: the oracle and the fallback of the fast paths.

Everything the fast paths cannot decide with certainty comes here; the tests compare the fast
paths against this module, which is nothing but phonenumbers' own answer.
"""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers

__all__ = ["NOT_VALID", "TYPE_NAMES", "Normalized", "reference_one"]

# PhoneNumberType value -> its name in lower case ("mobile", "fixed_line", ...).
TYPE_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(phonenumbers.PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


class Normalized(NamedTuple):
    """The four facts `normalize` gives for one value."""

    e164: str | None
    valid: bool
    number_type: str | None
    country: str | None


NOT_VALID = Normalized(None, False, None, None)


def reference_one(value: str | None, region: str = "CZ") -> Normalized:
    """Normalize one value exactly as phonenumbers does: parse, is_valid_number, format."""
    if value is None:
        return NOT_VALID
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return NOT_VALID
    if not phonenumbers.is_valid_number(parsed):
        return NOT_VALID
    return Normalized(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        True,
        TYPE_NAMES[phonenumbers.number_type(parsed)],
        phonenumbers.region_code_for_number(parsed),
    )

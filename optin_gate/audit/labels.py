"""Words for people: short reason labels for charts, masked phone numbers, figures.

The HTML report goes to managers, so phone numbers in it are partly masked
(`+420 601 *** 567`): enough to tell calls apart and to find them in the violations file, where
they are in full. `Reason.explanation` gives the long form of each label.
"""

from __future__ import annotations

from datetime import datetime

from optin_gate._time import PRAGUE
from optin_gate.rules import Reason

__all__ = [
    "REASON_LABELS",
    "czk",
    "mask_e164",
    "mask_raw",
    "percent",
    "prague_time",
    "reason_label",
]

REASON_LABELS: dict[Reason, str] = {
    Reason.INVALID_NUMBER: "Not a valid phone number",
    Reason.UNSUPPORTED_REGION: "Foreign number (no rules for its country)",
    Reason.BLOCKED_NUMBER_TYPE: "Premium, toll-free or service number",
    Reason.OBJECTION: "Person had objected to marketing",
    Reason.CONSENT: "Direct consent",
    Reason.AUTOMATED_NEEDS_CONSENT: "Automated call without consent",
    Reason.EXISTING_CUSTOMER: "Existing customer",
    Reason.STALE_DIRECTORY: "No current directory copy",
    Reason.DIRECTORY_OPT_IN: "Opted in in the directory",
    Reason.DIRECTORY_OPT_OUT: "Directory says no marketing (old regime)",
    Reason.NO_OPT_OUT: "No opt-out mark (old CZ regime, or SK list)",
    Reason.NO_LEGAL_BASIS: "No consent, contract or opt-in",
    Reason.CALLER_ID_NOT_0888: "Slovak call not from a +421 888 line",
    Reason.STALE_REGISTER: "No current Slovak list release",
    Reason.REGISTER_OPT_OUT: "On the Slovak do-not-call list",
}
assert set(REASON_LABELS) == set(Reason)


def reason_label(reason: str) -> str:
    """The short plain-words label of a reason name."""
    return REASON_LABELS[Reason(reason)]


def mask_e164(e164: str) -> str:
    """`+420601234567` -> `+420 601 *** 567`: country code, first and last three digits."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(e164, None)
        cc, national = str(parsed.country_code), phonenumbers.national_significant_number(parsed)
    except phonenumbers.NumberParseException:
        cc, national = "", e164.lstrip("+")
    if len(national) <= 6:
        return f"+{cc} " + "*" * max(0, len(national) - 2) + national[-2:]
    middle = "*" * (len(national) - 6)
    return f"+{cc} {national[:3]} {middle} {national[-3:]}".replace("+ ", "+")


def mask_raw(text: str | None) -> str:
    """An unparseable phone cell with every digit but the last two masked."""
    if not text:
        return "(empty)"
    digits = sum(ch.isdigit() for ch in text)
    seen, out = 0, []
    for ch in text[:40]:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else "*")
        else:
            out.append(ch)
    return "".join(out)


def czk(amount: float) -> str:
    """`CZK 50,000,000`."""
    return f"CZK {amount:,.0f}"


def percent(part: int, whole: int) -> str:
    """`12.5 %` (one decimal below 10 %, else whole percent)."""
    if not whole:
        return "0 %"
    share = 100 * part / whole
    return f"{share:.1f} %" if share < 10 else f"{share:.0f} %"


def prague_time(iso: str | None, *, seconds: bool = False) -> str:
    """An ISO instant as Prague wall-clock time, `2022-07-01 09:30`."""
    if not iso:
        return ""
    local = datetime.fromisoformat(iso).astimezone(PRAGUE)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

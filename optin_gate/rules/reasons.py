"""`Reason`: why a number may be called or not, per row of docs/rules.md § 1.4 and § 4.3."""

from __future__ import annotations

import enum

__all__ = ["Reason"]


class Reason(enum.StrEnum):
    """The reason behind a decision; the value is the name, so `Reason.CONSENT == "CONSENT"`."""

    INVALID_NUMBER = "INVALID_NUMBER"
    UNSUPPORTED_REGION = "UNSUPPORTED_REGION"
    BLOCKED_NUMBER_TYPE = "BLOCKED_NUMBER_TYPE"
    OBJECTION = "OBJECTION"
    CONSENT = "CONSENT"
    AUTOMATED_NEEDS_CONSENT = "AUTOMATED_NEEDS_CONSENT"
    EXISTING_CUSTOMER = "EXISTING_CUSTOMER"
    STALE_DIRECTORY = "STALE_DIRECTORY"
    DIRECTORY_OPT_IN = "DIRECTORY_OPT_IN"
    DIRECTORY_OPT_OUT = "DIRECTORY_OPT_OUT"
    NO_OPT_OUT = "NO_OPT_OUT"
    NO_LEGAL_BASIS = "NO_LEGAL_BASIS"
    CALLER_ID_NOT_0888 = "CALLER_ID_NOT_0888"
    STALE_REGISTER = "STALE_REGISTER"
    REGISTER_OPT_OUT = "REGISTER_OPT_OUT"

    @property
    def allowed(self) -> bool:
        """Whether this reason permits the call."""
        return self in _ALLOWING

    @property
    def explanation(self) -> str:
        """The reason in plain words, for reports and the CLI."""
        return _EXPLANATIONS[self]


_ALLOWING = frozenset(
    {Reason.CONSENT, Reason.EXISTING_CUSTOMER, Reason.DIRECTORY_OPT_IN, Reason.NO_OPT_OUT}
)

_EXPLANATIONS = {
    Reason.INVALID_NUMBER: "Not a valid phone number; it is never dialled.",
    Reason.UNSUPPORTED_REGION: "The number's country has no rule set here, so the gate cannot "
    "say it is legal to call.",
    Reason.BLOCKED_NUMBER_TYPE: "Premium-rate, toll-free, shared-cost, UAN, voicemail or pager "
    "numbers are not people to call for marketing (policy).",
    Reason.OBJECTION: "The person objected to direct marketing (GDPR Art. 21) and has not given "
    "a new consent since; this beats every other ground.",
    Reason.CONSENT: "The person gave this company direct consent to marketing calls, valid at "
    "the time of the call.",
    Reason.AUTOMATED_NEEDS_CONSENT: "Automated (machine-played) calls need prior direct consent; "
    "customer status and the directory are not enough.",
    Reason.EXISTING_CUSTOMER: "The number belongs to this company's customer with a contract "
    "active at the time of the call.",
    Reason.STALE_DIRECTORY: "The decision needed the public directory, but no snapshot was "
    "loaded for that day or the newest is too old (policy directory_max_age_days).",
    Reason.DIRECTORY_OPT_IN: "The subscriber marked in the public directory that they wish to "
    "receive marketing calls (opt-in regime).",
    Reason.DIRECTORY_OPT_OUT: "Before 1 July 2022: the subscriber marked in the directory that "
    "they do not wish marketing calls.",
    Reason.NO_OPT_OUT: "Before 1 July 2022 (opt-out regime): no objection and no directory "
    "opt-out, so the call was permitted. For a Slovak number: not on the regulator's list "
    "for the campaign's sector.",
    Reason.NO_LEGAL_BASIS: "No consent, no active contract and no directory opt-in: since "
    "1 July 2022 silence means no.",
    Reason.CALLER_ID_NOT_0888: "Slovak marketing calls must come from a +421 888 line "
    "(since 19 August 2022); the calling line was another number or not given (--caller-id).",
    Reason.STALE_REGISTER: "The decision needed the Slovak regulator's list, but the store holds "
    "no release in force for the number (releases are due on the 1st and 16th).",
    Reason.REGISTER_OPT_OUT: "The Slovak subscriber put the number on the regulator's list for "
    "the campaign's sector (or all sectors): no marketing calls.",
}

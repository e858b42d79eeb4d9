"""`Policy`: the settings where docs/rules.md records an interpretation rather than statute text.

A plain value shared by every stage (the store uses the grace and age settings for its as-of
answers, the rules use the rest), so it lives below them all and imports nothing of ours but
the errors.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from optin_gate.errors import PolicyError

__all__ = ["DEFAULT_BLOCKED_NUMBER_TYPES", "SK_CONSENT_READINGS", "Policy"]

DEFAULT_BLOCKED_NUMBER_TYPES: tuple[str, ...] = (
    "premium_rate",
    "shared_cost",
    "toll_free",
    "uan",
    "voicemail",
    "pager",
)

# How a consent weighs against a registration on the Slovak list (docs/rules.md § 4.2).
SK_CONSENT_READINGS: tuple[str, ...] = ("newer", "always")

# phonenumbers' PhoneNumberType names in lower case: the only values number_type can take.
KNOWN_NUMBER_TYPES: frozenset[str] = frozenset(
    {
        "fixed_line",
        "mobile",
        "fixed_line_or_mobile",
        "toll_free",
        "premium_rate",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
        "unknown",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """How the gate reads the law where the law leaves room (docs/rules.md § 1).

    Attributes:
        opt_in_from: First day of the opt-in regime; decisions before it use opt-out rules.
        directory_max_age_days: A directory snapshot older than this (in days, at the decision
            time) is too old to base a decision on, and the call is refused (fail closed).
        customer_grace_days: Days after a contract's end during which the customer still counts
            as an existing customer. Czech law names no window, hence 0.
        consent_max_age_days: A consent older than this is treated as expired. None: no limit.
        default_region: Region used to read numbers written without a country code.
        blocked_number_types: Number types never called for marketing.
        sk_rules_from: First day of Act 452/2021 Z.z.; before it every Slovak call needed
            consent (docs/rules.md § 4).
        sk_register_from: First day the regulator's list binds.
        sk_register_grace_days: Days a list release may lag behind the release due.
        sk_caller_id_from: First day a Slovak marketing call must come from a +421 888 line.
        sk_customer_window_days: Days after a contract's end (or a purchase) that a Slovak
            customer may still be called.
        sk_consent_beats_register: "newer": a consent counts against a registration only if
            granted after it took effect; "always": any valid consent counts.
        sk_unknown_sector_blocks: A campaign without a sector is blocked by a registration
            for any sector (True), or only by one for all sectors (False).
        third_party_consents: Whether a consent obtained from a third party (bought or shared
            with a list) counts. ÚOOÚ holds that such a consent is not one given to the
            caller, hence False.
    """

    opt_in_from: date = date(2022, 7, 1)
    directory_max_age_days: int = 31
    customer_grace_days: int = 0
    consent_max_age_days: int | None = None
    default_region: str = "CZ"
    blocked_number_types: tuple[str, ...] = DEFAULT_BLOCKED_NUMBER_TYPES
    sk_rules_from: date = date(2022, 2, 1)
    sk_register_from: date = date(2022, 11, 1)
    sk_register_grace_days: int = 0
    sk_caller_id_from: date = date(2022, 8, 19)
    sk_customer_window_days: int = 365
    sk_consent_beats_register: str = "newer"
    sk_unknown_sector_blocks: bool = True
    third_party_consents: bool = False

    def __post_init__(self) -> None:
        for name, example in _DAYS.items():
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise PolicyError(
                    f"{name} must be a date, got {type(value).__name__}",
                    hint=f"pass datetime.date({example}) or another day",
                )
        for name in (
            "directory_max_age_days",
            "customer_grace_days",
            "sk_register_grace_days",
            "sk_customer_window_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PolicyError(
                    f"{name} must be a whole number of days >= 0, got {value!r}",
                    hint=f"pass {name}=0 or more",
                )
        max_age = self.consent_max_age_days
        if max_age is not None and (
            not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 1
        ):
            raise PolicyError(
                f"consent_max_age_days must be None or a whole number >= 1, got {max_age!r}",
                hint="pass None for no limit, or a number of days such as 730",
            )
        if not (isinstance(self.default_region, str) and len(self.default_region) == 2):
            raise PolicyError(
                f"default_region must be a two-letter ISO region code, got {self.default_region!r}",
                hint='pass default_region="CZ"',
            )
        object.__setattr__(self, "default_region", self.default_region.upper())
        types = tuple(str(t).lower() for t in self.blocked_number_types)
        unknown = sorted(set(types) - KNOWN_NUMBER_TYPES)
        if unknown:
            raise PolicyError(
                f"blocked_number_types has unknown types {unknown}",
                hint=f"use names from {sorted(KNOWN_NUMBER_TYPES)}",
            )
        object.__setattr__(self, "blocked_number_types", types)
        if self.sk_consent_beats_register not in SK_CONSENT_READINGS:
            raise PolicyError(
                "sk_consent_beats_register must be one of "
                f"{', '.join(SK_CONSENT_READINGS)}, got {self.sk_consent_beats_register!r}",
                hint='pass "newer" (a consent must postdate the registration) or "always"',
            )
        if not isinstance(self.sk_unknown_sector_blocks, bool):
            raise PolicyError(
                f"sk_unknown_sector_blocks must be True or False, got "
                f"{self.sk_unknown_sector_blocks!r}",
                hint="pass True (fail closed) or False",
            )
        if not isinstance(self.third_party_consents, bool):
            raise PolicyError(
                f"third_party_consents must be True or False, got {self.third_party_consents!r}",
                hint="pass third_party_consents=True to count consents bought with a list",
            )


# The date settings, with the default each hint shows.
_DAYS = {
    "opt_in_from": "2022, 7, 1",
    "sk_rules_from": "2022, 2, 1",
    "sk_register_from": "2022, 11, 1",
    "sk_caller_id_from": "2022, 8, 19",
}

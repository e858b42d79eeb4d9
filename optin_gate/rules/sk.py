"""The Slovak rule set: Act 452/2021 Z.z. § 116 with GDPR Art. 21 (docs/rules.md § 4.3).

Rows 1 to 3 (invalid number, unsupported region, blocked number type) are as for Czech
numbers. The regime is chosen per decision day: consent only before `sk_rules_from`; live
calls opt-out from it; the 0888 caller-ID rule from `sk_caller_id_from`; the regulator's
list from `sk_register_from`; the amendment of 12 Nov 2025 (Act 297/2025 Z.z.) names the
last regime. What a registration, a customer window and a counting consent mean is the
evidence semantics' (`optin_gate.store.semantics`); the rows below only read the facts.
"""

from __future__ import annotations

from datetime import date

from optin_gate.policy import Policy
from optin_gate.rules.base import Rule, RuleSet
from optin_gate.rules.cz import BLOCKED_TYPE, OBJECTION
from optin_gate.rules.expr import (
    And,
    Const,
    Expr,
    Field,
    IsTrue,
    Not,
    NotNull,
    OnOrAfter,
    ReleaseFresh,
)
from optin_gate.rules.reasons import Reason

__all__ = ["AMENDED_FROM", "SK"]

# Act 297/2025 Z.z. in force: the one-year customer window becomes statute text.
AMENDED_FROM = date(2025, 11, 12)

T_DAY = Field("t_day")
REGISTER_DATE = Field("register_date")


def _before(day: date) -> Expr:
    return Not(OnOrAfter(T_DAY, day))


def _before_rules(policy: Policy) -> Expr:
    return _before(policy.sk_rules_from)


def _before_caller_id(policy: Policy) -> Expr:
    return _before(policy.sk_caller_id_from)


def _before_register(policy: Policy) -> Expr:
    return _before(policy.sk_register_from)


def _customer(policy: Policy) -> Expr:
    return And(
        Not(IsTrue(Field("automated"))),
        OnOrAfter(T_DAY, policy.sk_rules_from),
        NotNull(Field("contract_id")),
    )


def _caller_id(policy: Policy) -> Expr:
    return And(OnOrAfter(T_DAY, policy.sk_caller_id_from), Not(IsTrue(Field("caller_id_0888"))))


def _consent(policy: Policy) -> Expr:
    return And(NotNull(Field("consent_id")), Not(IsTrue(Field("consent_before_register"))))


def _stale(policy: Policy) -> Expr:
    return Not(ReleaseFresh(REGISTER_DATE, T_DAY, policy.sk_register_grace_days))


SK = RuleSet(
    name="SK",
    regions=frozenset({"SK"}),
    rules=(
        BLOCKED_TYPE,
        OBJECTION,
        Rule(
            Reason.EXISTING_CUSTOMER,
            _customer,
            evidence=Field("contract_id"),
            note="§ 116 as amended by 297/2025 Z.z.: customers within the window, live calls",
        ),
        Rule(
            Reason.CALLER_ID_NOT_0888,
            _caller_id,
            note="§ 116(12): marketing calls from the 0888 range only",
        ),
        Rule(
            Reason.CONSENT,
            _consent,
            evidence=Field("consent_id"),
            note="§ 116(3)-(4) prior consent; outweighs a registration only if newer (policy)",
        ),
        Rule(
            Reason.AUTOMATED_NEEDS_CONSENT,
            IsTrue(Field("automated")),
            note="§ 116(3): automated calls need prior consent",
        ),
        Rule(
            Reason.NO_LEGAL_BASIS,
            _before_rules,
            note="Act 351/2011 Z.z. § 62(2) before 1 Feb 2022: consent for every call",
        ),
        Rule(
            Reason.NO_OPT_OUT,
            _before_register,
            note="§ 116 before the regulator's list opened: opt-out by objection only",
        ),
        Rule(
            Reason.STALE_REGISTER,
            _stale,
            evidence=REGISTER_DATE,
            note="§ 116(8): work from the release in force (1st and 16th)",
        ),
        Rule(
            Reason.REGISTER_OPT_OUT,
            IsTrue(Field("register_blocks")),
            evidence=REGISTER_DATE,
            note="§ 116(8): the number is on the list for the campaign's sector",
        ),
        Rule(
            Reason.NO_OPT_OUT,
            Const(True),
            evidence=REGISTER_DATE,
            note="§ 116(8): live calls are opt-out against the list",
        ),
    ),
    labels=(
        (_before_rules, "SK-2011-consent"),
        (_before_caller_id, "SK-2022"),
        (_before_register, "SK-2022-0888"),
        (_before(AMENDED_FROM), "SK-2022-list"),
    ),
    default_label="SK-2025-list",
)

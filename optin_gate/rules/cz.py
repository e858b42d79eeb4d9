"""The Czech rule set: Act 127/2005 Sb. § 96 with GDPR Art. 21 (docs/rules.md § 1.4, rows 3 to 10).

Rows 1 and 2 (invalid number, unsupported region) are shared by every country and live in
`optin_gate.rules.PRELUDE`. The regime is chosen per decision day: opt-out before
`policy.opt_in_from`, opt-in from it.
"""

from __future__ import annotations

from optin_gate.policy import Policy
from optin_gate.rules.base import Rule, RuleSet
from optin_gate.rules.expr import (
    And,
    Const,
    Eq,
    Expr,
    Field,
    In,
    IsNull,
    IsTrue,
    Not,
    NotNull,
    OlderThan,
    OnOrAfter,
    Or,
)
from optin_gate.rules.reasons import Reason

__all__ = ["BLOCKED_TYPE", "CZ", "OBJECTION"]

T_DAY = Field("t_day")
DIRECTORY_DATE = Field("directory_date")
MARKETING = Field("directory_marketing")


def opt_out_regime(policy: Policy) -> Expr:
    """Before the opt-in date the old opt-out rules apply (docs/rules.md § 1.1)."""
    return Not(OnOrAfter(T_DAY, policy.opt_in_from))


def _blocked_type(policy: Policy) -> Expr:
    return In(Field("number_type"), policy.blocked_number_types)


# Rows every country shares after the prelude (docs/rules.md § 1.4 rows 3-4, § 4.3 rows 3-4).
BLOCKED_TYPE = Rule(Reason.BLOCKED_NUMBER_TYPE, _blocked_type, note="§ 1.6 number types (policy)")
OBJECTION = Rule(
    Reason.OBJECTION,
    NotNull(Field("objection_id")),
    evidence=Field("objection_id"),
    note="GDPR Art. 21(2)-(3): beats every ground below",
)


def _stale_directory(policy: Policy) -> Expr:
    return Or(
        IsNull(DIRECTORY_DATE), OlderThan(DIRECTORY_DATE, T_DAY, policy.directory_max_age_days)
    )


def _directory_opt_in(policy: Policy) -> Expr:
    return And(Not(opt_out_regime(policy)), Eq(MARKETING, "opt_in"))


def _directory_opt_out(policy: Policy) -> Expr:
    return And(opt_out_regime(policy), Eq(MARKETING, "opt_out"))


CZ = RuleSet(
    name="CZ",
    regions=frozenset({"CZ"}),
    rules=(
        BLOCKED_TYPE,
        OBJECTION,
        Rule(
            Reason.CONSENT,
            NotNull(Field("consent_id")),
            evidence=Field("consent_id"),
            note="§ 96(1) direct consent; GDPR Art. 7",
        ),
        Rule(
            Reason.AUTOMATED_NEEDS_CONSENT,
            IsTrue(Field("automated")),
            note="ePrivacy Art. 13(1): automated calls need prior consent",
        ),
        Rule(
            Reason.EXISTING_CUSTOMER,
            NotNull(Field("contract_id")),
            evidence=Field("contract_id"),
            note="joint statement MPO/ČTÚ/ÚOOÚ 2022; GDPR Art. 6(1)(f)",
        ),
        Rule(
            Reason.STALE_DIRECTORY,
            _stale_directory,
            evidence=DIRECTORY_DATE,
            note="§ 1.6 fresh directory data (policy directory_max_age_days)",
        ),
        Rule(
            Reason.DIRECTORY_OPT_IN,
            _directory_opt_in,
            evidence=DIRECTORY_DATE,
            note="§ 96(1) as amended by 374/2021 Sb.: opt-in in the directory",
        ),
        Rule(
            Reason.DIRECTORY_OPT_OUT,
            _directory_opt_out,
            evidence=DIRECTORY_DATE,
            note="§ 96 before 1 July 2022: directory opt-out mark",
        ),
        Rule(
            Reason.NO_OPT_OUT,
            opt_out_regime,
            evidence=DIRECTORY_DATE,
            note="§ 96 before 1 July 2022: anything not marked may be called",
        ),
        Rule(
            Reason.NO_LEGAL_BASIS,
            Const(True),
            evidence=DIRECTORY_DATE,
            note="§ 96(1) since 1 July 2022: silence means no",
        ),
    ),
    labels=((opt_out_regime, "CZ-opt-out"),),
    default_label="CZ-2022-opt-in",
)

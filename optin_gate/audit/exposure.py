"""The statutory exposure: the most ČTÚ may fine under § 96 ZEK (docs/rules.md § 1.5).

This is the ceiling the law sets, never a forecast: ČTÚ sets each fine case by case, and its
first one (December 2022) was CZK 420,000 for 21 calls.
"""

from __future__ import annotations

import math
from typing import Any

from optin_gate.errors import InputError

__all__ = ["FIXED_CAP_CZK", "TURNOVER_SHARE", "check_turnover", "exposure"]

FIXED_CAP_CZK = 50_000_000
TURNOVER_SHARE = 0.10  # of net turnover for the last completed accounting period

BASIS = (
    "Act No. 127/2005 Sb. (ZEK) § 96, enforced by ČTÚ: a fine of up to CZK 50,000,000 or up to "
    "10 % of the offender's net turnover for the last completed accounting period"
)
NOTE = (
    "The statutory maximum of one fine, not a prediction: ČTÚ sets each fine case by case "
    "(its first telemarketing fine, December 2022, was CZK 420,000 for 21 calls). Where the "
    "turnover is given, the higher of the two caps is shown."
)


def check_turnover(turnover: float | None) -> float | None:
    """Validate a net turnover in CZK (None: not given)."""
    if turnover is None:
        return None
    if isinstance(turnover, bool) or not isinstance(turnover, int | float):
        raise InputError(
            f"turnover must be a number of CZK, got {type(turnover).__name__}",
            hint="pass the net turnover of the last completed accounting period, e.g. 1.2e9",
        )
    if not math.isfinite(turnover) or turnover < 0:
        raise InputError(
            f"turnover must be a finite amount of CZK >= 0, got {turnover!r}",
            hint="pass the net turnover of the last completed accounting period, e.g. 1.2e9",
        )
    return float(turnover)


def exposure(violations: int, turnover: float | None = None) -> dict[str, Any]:
    """The statutory maximum fine for a call log with `violations` unlawful calls.

    Args:
        violations: Calls without a legal basis; with none there is no exposure.
        turnover: Net turnover in CZK for the last completed accounting period, if known.
    """
    turnover = check_turnover(turnover)
    turnover_cap = None if turnover is None else round(turnover * TURNOVER_SHARE)
    cap = max(FIXED_CAP_CZK, turnover_cap or 0)
    return {
        "currency": "CZK",
        "applies": violations > 0,
        "fixed_cap_czk": FIXED_CAP_CZK,
        "turnover_czk": None if turnover is None else round(turnover),
        "turnover_cap_czk": turnover_cap,
        "statutory_maximum_czk": cap if violations > 0 else 0,
        "basis": BASIS,
        "note": NOTE,
    }

"""optin_gate: call only the numbers a Czech company may legally call for marketing.

The public surface is `__all__`; everything else is internal and may change.
"""

from __future__ import annotations

from optin_gate.audit import AuditReport
from optin_gate.engine import FilterResult
from optin_gate.errors import (
    InputError,
    OptinGateError,
    PolicyError,
    StoreError,
    StoreVersionError,
)
from optin_gate.gate import Gate
from optin_gate.numbers import normalize, normalize_one
from optin_gate.policy import Policy
from optin_gate.rules import Decision, Reason
from optin_gate.store import EvidenceStore, LoadReport

__version__ = "0.1.0"

__all__ = [
    "AuditReport",
    "Decision",
    "EvidenceStore",
    "FilterResult",
    "Gate",
    "InputError",
    "LoadReport",
    "OptinGateError",
    "Policy",
    "PolicyError",
    "Reason",
    "StoreError",
    "StoreVersionError",
    "__version__",
    "normalize",
    "normalize_one",
]

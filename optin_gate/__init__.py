"""optin_gate: call only the numbers a Czech company may legally call for marketing.

The public surface is `__all__`; everything else is internal and may change.

The names are imported when first used (PEP 562): `import optin_gate` alone loads neither
DuckDB nor the compiler, so the command line can start reading a slow input (a workbook's
sheet is parsed outside the GIL) while they load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each exported name -> the module that defines it.
_HOMES = {
    "AuditReport": "optin_gate.audit",
    "Decision": "optin_gate.rules",
    "EvidenceStore": "optin_gate.store",
    "FilterResult": "optin_gate.engine",
    "Gate": "optin_gate.gate",
    "InputError": "optin_gate.errors",
    "LoadReport": "optin_gate.store",
    "OptinGateError": "optin_gate.errors",
    "Policy": "optin_gate.policy",
    "PolicyError": "optin_gate.errors",
    "Reason": "optin_gate.rules",
    "StoreError": "optin_gate.errors",
    "StoreVersionError": "optin_gate.errors",
    "normalize": "optin_gate.numbers",
    "normalize_one": "optin_gate.numbers",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'optin_gate' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once: later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

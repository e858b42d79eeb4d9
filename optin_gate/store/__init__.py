"""The evidence store: consents, contracts, directory snapshots and objections, as of any time.

`EvidenceStore` is the public face; `LoadReport` what a load returns. Tables and views are in
`optin_gate.store.schema`; the as-of facts query in `optin_gate.store.asof`.
"""

from __future__ import annotations

from optin_gate.store.database import StoreBusyError
from optin_gate.store.evidence import EvidenceStore
from optin_gate.store.objections import Objection
from optin_gate.store.report import LoadReport, StrictLoadError
from optin_gate.store.schema import key_e164, phone_key

__all__ = [
    "EvidenceStore",
    "LoadReport",
    "Objection",
    "StoreBusyError",
    "StrictLoadError",
    "key_e164",
    "phone_key",
]

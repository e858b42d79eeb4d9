"""The evidence store: consents, contracts, directory snapshots and objections, as of any time.

PLACEHOLDER until issue 3 lands: the public names exist so the package imports.
"""

from __future__ import annotations

from optin_gate.store.schema import key_e164, phone_key

__all__ = ["EvidenceStore", "LoadReport", "key_e164", "phone_key"]


class LoadReport:
    """What one load did (issue 3)."""


class EvidenceStore:
    """The evidence store (issue 3)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path

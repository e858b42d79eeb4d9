"""Shared by the dial tests: stores filled straight from oracle evidence."""

from __future__ import annotations

from pathlib import Path

from optin_gate import EvidenceStore, Gate, Policy
from tests.oracle import Evidence, write_evidence

_TABLES = ("consents", "contracts", "objections", "directory", "directory_snapshots")


def store_with(ev: Evidence, path: Path | None = None) -> EvidenceStore:
    """An evidence store (in memory, or a file) holding exactly `ev`."""
    store = EvidenceStore(path)
    refill(store, ev)
    return store


def refill(store: EvidenceStore, ev: Evidence) -> EvidenceStore:
    """Replace everything `store` holds by `ev` (cheaper than a new store per example)."""
    with store.connect(read_only=False) as con:
        for table in _TABLES:
            con.execute(f"DELETE FROM {table}")
        write_evidence(con, ev)
    return store


def gate_for(
    ev: Evidence,
    controller: str = "acme",
    policy: Policy | None = None,
    *,
    refresh_interval: float | None = None,
) -> Gate:
    """A gate over a fresh in-memory store holding `ev`; no background refresh by default."""
    return Gate(store_with(ev), controller, policy, refresh_interval=refresh_interval)

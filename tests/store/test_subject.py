"""subject(): everything held about one number, for a GDPR Art. 15 access request."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from optin_gate.errors import InputError
from optin_gate.store import EvidenceStore


def test_subject_holds_every_version_objection_interval_and_load(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.duckdb")
    consents = {"consent_id": ["C1"], "phone": ["601234567"], "granted_at": ["2025-01-01"]}
    store.load("consents", pa.table(consents), controller="acme")
    store.load("consents", pa.table(consents | {"withdrawn_at": ["2025-06-01"]}), controller="acme")
    store.load("contracts", pa.table({"contract_id": ["K1"], "phone": ["+420601234567"],
                                      "start_date": ["1.1.2024"]}))  # fmt: skip
    for day, mark in (
        ("2025-01-01", "opt_in"),
        ("2025-02-01", "opt_in"),
        ("2025-03-01", "opt_out"),
    ):
        store.load("directory", pa.table({"phone": ["601234567"], "marketing": [mark]}),
                   snapshot_date=day)  # fmt: skip
    store.record_objection("00420 601 234 567", at="2025-07-01 12:00", source="call")
    other = {"consent_id": ["C9"], "phone": ["601234568"], "granted_at": ["2025-01-01"]}
    store.load("consents", pa.table(other), controller="beta")

    export = store.subject("601 234 567")
    assert json.loads(json.dumps(export)) == export  # plain JSON types only
    assert export["phone"] == "+420601234567"
    versions = [(c["consent_id"], c["withdrawn_at"], c["current"]) for c in export["consents"]]
    assert versions == [("C1", None, False), ("C1", "2025-05-31T22:00:00+00:00", True)]
    assert [k["contract_id"] for k in export["contracts"]] == ["K1"]
    assert [(o["objected_at"], o["source"], o["controller"]) for o in export["objections"]] == [
        ("2025-07-01T10:00:00+00:00", "call", None)
    ]
    assert [(d["marketing"], d["listed_from"], d["listed_until"], d["snapshots"])
            for d in export["directory"]] == [
        ("opt_in", "2025-01-01", "2025-03-01", ["2025-01-01", "2025-02-01"]),
        ("opt_out", "2025-03-01", None, ["2025-03-01"]),
    ]  # fmt: skip
    kinds = sorted(ld["kind"] for ld in export["loads"])
    assert kinds == ["consents", "consents", "contracts", "directory", "directory", "directory",
                     "objection"]  # fmt: skip
    assert "C9" not in json.dumps(export)  # nothing about anyone else


def test_subject_of_an_unknown_number_is_empty_and_of_garbage_an_error() -> None:
    store = EvidenceStore()
    export = store.subject("+420 601 000 000")
    assert [export[k] for k in ("consents", "contracts", "objections", "directory", "loads")] == [
        [],
        [],
        [],
        [],
        [],
    ]
    with pytest.raises(InputError, match="not a valid phone number"):
        store.subject("hello")

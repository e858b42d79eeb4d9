"""Purposes, third parties and notes as users meet them: arguments, check_many, subject, report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest

import optin_gate as og
from optin_gate._resources import data_dir

AT = "2025-06-01T12:00"
THIRD = "consent:C-3RD held, not counted: obtained from a third party"
OTHER = "consent:C-ENERGY held, not counted: given for other purposes"


@pytest.fixture(scope="module")
def store() -> og.EvidenceStore:
    store = og.EvidenceStore()
    store.load(
        "consents",
        pa.table(
            {
                "consent_id": ["C-3RD", "C-ENERGY", "C-PROVEN"],
                "phone": ["601000001", "601000002", "601000003"],
                "granted_at": ["2025-01-01"] * 3,
                "purposes": [None, "energie", None],
                "obtained": ["third_party", "direct", "direct"],
                "wording": [None, "v1", "v2"],
                "proof": [None, None, "formular-3"],
                "captured_via": ["other", "web_form", "web_form"],
            }
        ),
        controller="acme",
        strict=True,
    )
    return store


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_third_party_consents_must_be_a_bool(bad: object) -> None:
    with pytest.raises(og.OptinGateError, match="third_party_consents must be True or False"):
        og.Policy(third_party_consents=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "  ", "energie;pojištění", 7])
def test_a_purpose_must_be_one_name(store: og.EvidenceStore, bad: object) -> None:
    gate = og.Gate(store, "acme", refresh_interval=None)
    with pytest.raises(og.OptinGateError, match="is not a purpose name"):
        gate.check("601000002", at=AT, purpose=bad)  # type: ignore[arg-type]
    with pytest.raises(og.OptinGateError, match="is not a purpose name"):
        gate.filter(pa.table({"phone": ["601000002"]}), as_of=AT, purpose=bad)  # type: ignore[arg-type]


def test_check_many_takes_a_purpose_and_gives_the_notes(store: og.EvidenceStore) -> None:
    gate = og.Gate(store, "acme", refresh_interval=None)
    phones = ["601000001", "601000002", "601000003", "601000009", "junk"]
    table = gate.check_many(phones, at=AT, purpose="Pojištění")
    assert table.column_names == ["e164", "allowed", "reason", "evidence", "rule_set", "note"]
    assert table.column("note").to_pylist() == [THIRD, OTHER, None, None, None]
    assert table.column("evidence").to_pylist()[2] == "consent:C-PROVEN"
    energy = gate.check_many(phones, at=AT, purpose="energie")
    assert energy.column("evidence").to_pylist()[:2] == [None, "consent:C-ENERGY"]
    # the same answers one by one, and a check without purpose as before
    assert gate.check("601000002", at=AT, purpose="pojištění").note == OTHER
    assert gate.check("601000002", at=AT).evidence == "consent:C-ENERGY"


def test_a_list_with_its_own_note_column_is_refused(store: og.EvidenceStore) -> None:
    gate = og.Gate(store, "acme", refresh_interval=None)
    with pytest.raises(og.OptinGateError, match="already has a column named 'Note'"):
        gate.filter(pa.table({"phone": ["601000001"], "Note": ["x"]}), as_of=AT)


def test_subject_shows_provenance_and_why_a_consent_does_not_count(
    store: og.EvidenceStore,
) -> None:
    export = store.subject("601 000 001")
    [consent] = export["consents"]
    assert {k: consent[k] for k in ("obtained", "captured_via", "purposes", "not_counted")} == {
        "obtained": "third_party",
        "captured_via": "other",
        "purposes": [],
        "not_counted": "obtained from a third party",
    }
    [energy] = store.subject("601 000 002")["consents"]
    assert (energy["purposes"], energy["wording"], energy["not_counted"]) == (
        ["energie"],
        "v1",
        None,  # it counts for a call that names no purpose
    )


def test_the_report_tells_proven_consents_from_the_rest(
    store: og.EvidenceStore, tmp_path: Path
) -> None:
    gate = og.Gate(store, "acme", refresh_interval=None)
    log = pa.table(
        {
            "phone": ["601000001", "601000002", "601000002", "601000003", "601000003"],
            "called_at": [AT] * 5,
            "purpose": ["", "energie", "pojištění", "", "Energie"],
        }
    )
    report = gate.audit(log)
    assert report.calls.column("note").to_pylist() == [THIRD, None, OTHER, None, None]
    quality = report.summary["consent_quality"]
    assert (quality["consent_calls"], quality["proven_calls"], quality["unproven_calls"]) == (
        3,
        2,
        1,
    )
    assert [(c["consent_id"], c["wording"], c["proof"]) for c in quality["unproven"]] == [
        ("C-ENERGY", True, False)
    ]
    assert quality["not_counted"] == {
        "obtained from a third party": 1,
        "given for other purposes": 1,
    }
    assert [(n["line"], n["note"]) for n in quality["noted"]] == [(1, THIRD), (3, OTHER)]
    report.to_json(tmp_path / "a.json")
    schema = json.loads((data_dir() / "schemas" / "audit_report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads((tmp_path / "a.json").read_text()))
    page = report.to_html(tmp_path / "a.html").read_text(encoding="utf-8")
    assert "Consent quality" in page
    assert "C-ENERGY" in page
    assert "+420601000001" not in page  # numbers stay masked on the page

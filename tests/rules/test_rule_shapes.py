"""Deciding once per shape (`rules.shapes`) is sound only while rules test ids for presence."""

from __future__ import annotations

from optin_gate.rules.expr import And, Eq, Field, In, Not, NotNull
from optin_gate.rules.shapes import (
    ID_FIELDS,
    _ids_only_tested_for_presence,
    marker,
    template,
)


def test_a_rule_reading_an_id_value_is_caught() -> None:
    consent = Field("consent_id")
    assert _ids_only_tested_for_presence(And(NotNull(consent), Not(Eq(Field("country"), "SK"))))
    assert not _ids_only_tested_for_presence(Eq(consent, "C-1"))
    assert not _ids_only_tested_for_presence(Not(In(Field("contract_id"), ("K1", "K2"))))


def test_evidence_templates_name_the_record_and_keep_the_text_around_it() -> None:
    assert template(None) == (0, None, None)
    assert template("directory:2026-01-01") == (0, "directory:2026-01-01", None)
    for i, field in enumerate(ID_FIELDS, start=1):
        assert template(f"consent:{marker(field)}") == (i, "consent:", "")

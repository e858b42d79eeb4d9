"""Finding columns by canonical name, --map, or English and Czech header aliases; the schemas."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optin_gate._resources import data_dir
from optin_gate.errors import InputError
from optin_gate.io import ALIASES, SCHEMA_NAMES, fold, load_schema, resolve_columns
from optin_gate.rules import Reason

CONSENTS = load_schema("consents")


@pytest.mark.parametrize(
    "header",
    ["phone", "Telefon", "TELEFONNÍ ČÍSLO", "telefonni_cislo", "Tel.", "tel. číslo", "Mobil",
     "mobile", "MSISDN", "Číslo", "phone-number"],
)  # fmt: skip
def test_phone_column_found_by_common_names(header: str) -> None:
    found = resolve_columns(["ID", header, "Uděleno"], CONSENTS, file="a.csv")
    assert found == {"consent_id": "ID", "phone": header, "granted_at": "Uděleno"}


def test_czech_office_headers_map_every_column() -> None:
    headers = ["Souhlas ID", "Telefon", "Uděleno", "Odvoláno", "Platnost do", "Správce", "Zdroj"]
    assert resolve_columns(headers, CONSENTS) == {
        "consent_id": "Souhlas ID",
        "phone": "Telefon",
        "granted_at": "Uděleno",
        "withdrawn_at": "Odvoláno",
        "expires_at": "Platnost do",
        "controller": "Správce",
        "source": "Zdroj",
    }
    contracts = ["Smlouva", "tel", "Začátek", "Konec", "Zákazník"]
    assert resolve_columns(contracts, load_schema("contracts")) == {
        "contract_id": "Smlouva",
        "phone": "tel",
        "start_date": "Začátek",
        "end_date": "Konec",
        "customer_id": "Zákazník",
    }
    objections = ["Námitka", "mobil", "Datum"]
    assert resolve_columns(objections, load_schema("objections")) == {
        "objection_id": "Námitka",
        "phone": "mobil",
        "objected_at": "Datum",
    }


def test_exact_name_beats_alias_and_map_beats_both() -> None:
    headers = ["consent_id", "phone", "mobil", "granted_at"]
    assert resolve_columns(headers, CONSENTS)["phone"] == "phone"
    assert resolve_columns(headers, CONSENTS, columns={"mobil": "phone"})["phone"] == "mobil"


def test_missing_column_lists_found_columns_and_the_fix() -> None:
    with pytest.raises(InputError) as info:
        resolve_columns(["id", "kontakt tel", "datum"], CONSENTS, file="souhlasy.csv")
    assert str(info.value) == (
        "souhlasy.csv, column 'phone': required column 'phone' not found for consents; the "
        "file has columns 'id', 'kontakt tel', 'datum'. Hint: name the column(s) with "
        "--map 'kontakt tel=phone' (Python: columns={'kontakt tel': 'phone'})"
    )


def test_missing_column_without_a_close_header_gets_a_placeholder() -> None:
    with pytest.raises(InputError, match=r"--map COLUMN=phone") as info:
        resolve_columns(["consent_id", "granted_at", "zzz"], CONSENTS, file="a.csv")
    assert "the file has columns 'consent_id', 'granted_at', 'zzz'" in str(info.value)


def test_two_columns_answering_to_one_name_is_an_error() -> None:
    with pytest.raises(InputError, match=r"columns 'tel', 'mobil' all look like 'phone'") as info:
        resolve_columns(["id", "tel", "mobil", "datum"], CONSENTS, file="a.csv")
    assert "--map tel=phone" in str(info.value)


def test_bad_maps() -> None:
    with pytest.raises(InputError, match=r"the file has no column 'Tel'.*did you mean 'tel'"):
        resolve_columns(["id", "tel", "datum"], CONSENTS, columns={"Tel": "phone"}, file="a")
    with pytest.raises(InputError, match=r"'telephone' is not a column of consents"):
        resolve_columns(["id", "tel", "datum"], CONSENTS, columns={"tel": "telephone"})
    with pytest.raises(InputError, match=r"maps both 'tel' and 'mobil' onto 'phone'"):
        resolve_columns(["tel", "mobil"], CONSENTS, columns={"tel": "phone", "mobil": "phone"})


@given(
    st.sampled_from(sorted({a for names in ALIASES.values() for a in names})),
    st.lists(st.sampled_from(["upper", "title", "space", "dash", "dot", "accent"]), max_size=3),
)
def test_folding_ignores_case_separators_and_diacritics(alias: str, changes: list[str]) -> None:
    text = alias
    for change in changes:
        text = {
            "upper": text.upper(),
            "title": text.title(),
            "space": text.replace("_", " "),
            "dash": text.replace("_", "-"),
            "dot": text.replace("_", ". "),
            "accent": text.replace("a", "á").replace("e", "é").replace("c", "č"),
        }[change]
    assert fold(text) == fold(alias)


def test_schema_files_are_frictionless_and_complete() -> None:
    for name in SCHEMA_NAMES:
        doc = json.loads((data_dir() / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
        assert doc["fields"], name
        for field in doc["fields"]:
            assert field["type"] in {"string", "datetime", "date", "boolean"}
            assert field["description"]
    assert load_schema("consents").required == ("consent_id", "phone", "granted_at")
    assert load_schema("contracts").required == ("contract_id", "phone", "start_date")
    assert load_schema("directory").required == ("phone", "marketing")
    assert load_schema("objections").required == ("phone", "objected_at")
    assert load_schema("calls").required == ("phone", "called_at")
    decisions = load_schema("decisions")
    assert decisions.names == ("e164", "allowed", "reason", "evidence", "rule_set")
    assert set(decisions.field("reason").enum or ()) == {r.value for r in Reason}


def test_every_alias_names_a_schema_column() -> None:
    columns = {n for s in SCHEMA_NAMES for n in load_schema(s).names}
    assert set(ALIASES) <= columns

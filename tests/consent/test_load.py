"""Consent provenance at load: Czech headers, bad values with their line, named controllers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

from optin_gate import EvidenceStore, InputError
from optin_gate.cli import main
from optin_gate.store.schema import SCHEMA_VERSION
from tests.store._helpers import rows, write_csv

HEADER = [
    "ID souhlasu",
    "Telefon",
    "Uděleno",
    "Účel",
    "Získáno",
    "Znění",
    "Doklad",
    "Forma udělení",
]


def test_czech_headers_load_every_provenance_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "souhlasy.csv",
        HEADER,
        [
            [
                "S1",
                "601 234 567",
                "1.12.2025 10:00",
                " Energie ; pojištění;energie",
                "direct",
                "v2",
                "formular-1",
                "web_form",
            ],
            ["S2", "601 234 568", "1.12.2025", "", "third party", "", "", "paper"],
        ],
        delimiter=";",
    )
    store = EvidenceStore()
    report = store.load("consents", path, controller="acme", strict=True)
    assert report.rows_loaded == 2
    assert rows(
        store,
        "SELECT consent_id, purposes, obtained, wording, proof, captured_via FROM consents "
        "ORDER BY 1",
    ) == [
        ("S1", "energie;pojištění", "direct", "v2", "formular-1", "web_form"),
        ("S2", None, "third_party", None, None, "paper"),
    ]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("obtained", "koupeno", "must be one of direct, third_party"),
        ("captured_via", "fax", "must be one of web_form, paper, inbound_call"),
        ("purposes", "energie, pojištění", "separate purposes with ';', not ','"),
    ],
)
def test_a_bad_value_is_rejected_with_its_line(column: str, value: str, reason: str) -> None:
    store = EvidenceStore()
    table = pa.table(
        {
            "consent_id": ["C1", "C2"],
            "phone": ["601234567", "601234568"],
            "granted_at": ["2025-01-01", "2025-01-01"],
            column: [None, value],
        }
    )
    report = store.load("consents", table, controller="acme")
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    [reject] = report.rejects.select(["line", "column", "reason"]).to_pylist()
    assert reject["line"] == 2
    assert reject["column"] == column
    assert reject["reason"].startswith(reason)


def _two_controllers(store: EvidenceStore) -> None:
    for controller in ("acme", "beta"):
        store.load(
            "consents",
            pa.table({"consent_id": ["C1"], "phone": ["601234567"], "granted_at": ["2025-01-01"]}),
            controller=controller,
        )


@pytest.mark.parametrize("kind", ["consents", "contracts"])
def test_a_load_naming_no_controller_is_refused_in_a_shared_store(kind: str) -> None:
    store = EvidenceStore()
    _two_controllers(store)
    date_column = "granted_at" if kind == "consents" else "start_date"
    table = pa.table(
        {f"{kind[:-1]}_id": ["X1"], "phone": ["601234569"], date_column: ["2025-01-01"]}
    )
    with pytest.raises(InputError, match=r"holds 2 controllers .* name none") as raised:
        store.load(kind, table)
    assert "--controller" in str(raised.value)  # the hint
    assert rows(store, f"SELECT count(*) FROM {kind} WHERE phone = 420601234569") == [(0,)]
    store.load(kind, table, controller="acme")  # named: loaded
    named = table.append_column("controller", pa.array(["beta"]))
    store.load(kind, named.set_column(0, f"{kind[:-1]}_id", pa.array(["X2"])))
    assert rows(store, f"SELECT count(*) FROM {kind} WHERE phone = 420601234569") == [(2,)]


def test_a_store_of_one_controller_still_takes_an_unnamed_load() -> None:
    store = EvidenceStore()
    table = pa.table({"consent_id": ["C1"], "phone": ["601234567"], "granted_at": ["2025-01-01"]})
    store.load("consents", table)
    store.load("consents", table.set_column(0, "consent_id", pa.array(["C2"])))
    assert rows(store, "SELECT DISTINCT controller FROM consents") == [("default",)]


def test_the_cli_refuses_an_unnamed_load_with_exit_2(tmp_path: Path) -> None:
    store_path = tmp_path / "ev.duckdb"
    _two_controllers(EvidenceStore(store_path))
    path = write_csv(tmp_path / "c.csv", ["contract_id", "phone", "start_date"],
                     [["K1", "601234567", "2025-01-01"]])  # fmt: skip
    result = CliRunner().invoke(main, ["load", "contracts", str(path), "--store", str(store_path)])
    assert result.exit_code == 2
    assert "name none" in result.stderr
    assert "Hint: pass --controller" in result.stderr


def test_a_version_2_store_gains_the_consent_columns(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    store = EvidenceStore(path)
    table = pa.table({"consent_id": ["C1"], "phone": ["601234567"], "granted_at": ["2025-01-01"]})
    store.load("consents", table, controller="acme")
    con = duckdb.connect(str(path))  # as a version 2 store left it
    con.execute("DROP VIEW consents_current")
    for column in ("purposes", "wording", "proof", "obtained", "captured_via"):
        con.execute(f"ALTER TABLE consents DROP COLUMN {column}")
    con.execute(
        "CREATE VIEW consents_current AS SELECT * FROM consents WHERE superseded_by IS NULL"
    )
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    upgraded = EvidenceStore(path)
    assert rows(upgraded, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert rows(upgraded, "SELECT consent_id, obtained FROM consents_current") == [("C1", None)]
    from optin_gate import Gate

    gate = Gate(upgraded, "acme", refresh_interval=None)
    assert gate.check("601234567", at="2025-06-01").evidence == "consent:C1"  # NULL is direct

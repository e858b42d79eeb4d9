"""Real files from Czech offices, and frames, tables and Parquet, load the same evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from optin_gate.store import EvidenceStore
from tests.store._helpers import rows, write_csv

# What Excel on a Czech Windows saves as "CSV (oddělený středníkem)".
OFFICE = (
    "Číslo souhlasu;Telefonní číslo;Uděleno;Odvoláno;Platnost do;Správce;Poznámka\r\n"
    'S-001;+420 601 234 567;28. 11. 2025 14:30;;28.11.2027;Energie Plus;"Souhlas při '
    'podpisu;\r\nzákazník si přál volat odpoledne"\r\n'
    "S-002;601 234 568;1.12.2025 9:05;15. 1. 2026 8:00;;;Webový formulář\r\n"
    "S-003;00420 601 234 569;2.12.2025;;;Energie Plus;Šťastný zákazník\r\n"
)
EXPECTED = [  # controller names are stored folded (case and spaces ignored)
    ("S-001", 420601234567, "energie plus", datetime(2025, 11, 28, 13, 30, tzinfo=UTC), None,
     datetime(2027, 11, 27, 23, tzinfo=UTC)),
    ("S-002", 420601234568, "default", datetime(2025, 12, 1, 8, 5, tzinfo=UTC),
     datetime(2026, 1, 15, 7, tzinfo=UTC), None),
    ("S-003", 420601234569, "energie plus", datetime(2025, 12, 1, 23, tzinfo=UTC), None, None),
]  # fmt: skip
QUERY = (
    "SELECT consent_id, phone, controller, granted_at, withdrawn_at, expires_at "
    "FROM consents ORDER BY 1"
)


def test_czech_office_csv_in_windows_1250(tmp_path: Path) -> None:
    path = tmp_path / "souhlasy.csv"
    path.write_bytes(OFFICE.encode("cp1250"))
    store = EvidenceStore(tmp_path / "ev.duckdb")
    report = store.load("consents", path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 3, 0)
    assert rows(store, QUERY) == EXPECTED


def test_the_same_file_in_utf8_with_bom_or_tabs(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(OFFICE.encode("utf-8-sig"))
    tabs = tmp_path / "tabs.tsv"
    tabs.write_bytes(OFFICE.replace(";", "\t").encode("utf-8"))
    for path in (bom, tabs):
        store = EvidenceStore()
        assert store.load("consents", path).rows_loaded == 3
        assert rows(store, QUERY) == EXPECTED


def test_dataframe_arrow_and_parquet_with_typed_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "consent_id": ["S-001", "S-002"],
            "tel": [420601234567, 601234568],  # numbers, as Excel leaves them
            "granted_at": pd.to_datetime(["2025-11-28 14:30", "2025-12-01 09:05"]),  # naive
            "withdrawn_at": [None, datetime(2026, 1, 15, 7, tzinfo=UTC)],
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, tmp_path / "c.parquet")
    expected = [
        ("S-001", 420601234567, datetime(2025, 11, 28, 13, 30, tzinfo=UTC), None),
        ("S-002", 420601234568, datetime(2025, 12, 1, 8, 5, tzinfo=UTC),
         datetime(2026, 1, 15, 7, tzinfo=UTC)),
    ]  # fmt: skip
    for source in (frame, table, tmp_path / "c.parquet"):
        store = EvidenceStore()
        report = store.load("consents", source)
        assert report.rows_rejected == 0, report.rejects.to_pylist()
        got = rows(
            store, "SELECT consent_id, phone, granted_at, withdrawn_at FROM consents ORDER BY 1"
        )
        assert got == expected


def test_contracts_and_directory_with_czech_headers(tmp_path: Path) -> None:
    store = EvidenceStore()
    contracts = write_csv(
        tmp_path / "smlouvy.csv",
        ["Smlouva", "Mobil", "Začátek", "Konec", "Zákazník"],
        [["K-1", "601234567", "1. 1. 2025", "31. 12. 2026", "Z-9"]],
        delimiter=";",
        encoding="cp1250",
    )
    store.load("contracts", contracts, controller="telco-cz")
    assert rows(store, "SELECT contract_id, controller, start_date, end_date, customer_id "
                       "FROM contracts") == [
        ("K-1", "telco-cz", date(2025, 1, 1), date(2026, 12, 31), "Z-9")
    ]  # fmt: skip
    directory = write_csv(
        tmp_path / "seznam.csv",
        ["tel_cislo", "priznak", "stav_k"],
        [["601234567", "opt-in", "1.11.2025"], ["601234568", "unmarked", "1.11.2025"]],
        delimiter=";",
    )
    report = store.load("directory", directory)
    assert report.snapshot_date == date(2025, 11, 1)
    assert rows(store, "SELECT snapshot_date, rows FROM directory_snapshots") == [
        (date(2025, 11, 1), 2)
    ]

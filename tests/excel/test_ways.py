"""A workbook works wherever a CSV does: `load`, `filter`, `audit` and the Python API decide
alike from either; rejects name `Sheet!row`; a bad workbook exits 2 and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import optin_gate as og
from optin_gate.cli import main
from optin_gate.store import StrictLoadError
from tests.excel.books import write_book
from tests.store._helpers import contents, rows, write_csv

AS_OF = "2026-12-01T10:00"
GRANTED = dt.datetime(2026, 1, 5, 10, 0)
CONSENT_ROWS = [
    ["Registr souhlasů"],
    ["ID souhlasu", "Telefon", "Uděleno"],
    ["C-1", 601234567, GRANTED],
    [],
    ["C-2", 731234567, (GRANTED - dt.datetime(1899, 12, 30)).total_seconds() / 86400],
    ["C-3", "+420 602 234 567", "5.1.2026 10:00"],
    ["C-4", "nevím", "5.1.2026"],
]


def _cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    og.EvidenceStore(path)
    return path


def _consents(tmp_path: Path) -> Path:
    return write_book(tmp_path / "souhlasy.xlsx", {"Souhlasy": CONSENT_ROWS}, merged_title=True)


def test_load_reads_every_date_form_and_names_rejects_by_sheet_and_row(
    tmp_path: Path, store_path: Path
) -> None:
    book = _consents(tmp_path)
    code, out, err = _cli("load", "consents", book, "--store", store_path)
    assert code == 0, err
    assert "Souhlasy!7" in out  # the reject, as Excel shows the row
    granted = rows(og.EvidenceStore(store_path), "SELECT DISTINCT granted_at FROM consents")
    assert granted == [(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),)]  # 10:00 in Prague
    report = og.EvidenceStore(store_path).load("consents", book)
    assert report.unchanged


def test_strict_load_names_the_place_and_loads_nothing(tmp_path: Path, store_path: Path) -> None:
    store = og.EvidenceStore(store_path)
    before = contents(store)
    with pytest.raises(StrictLoadError) as info:
        store.load("consents", _consents(tmp_path), strict=True)
    assert "souhlasy.xlsx, Souhlasy!7, column 'Telefon'" in str(info.value)
    rejects = info.value.rejects
    assert rejects.column_names[:4] == ["sheet", "line", "column", "reason"]
    assert rejects.slice(0, 1).to_pylist()[0] | {"reason": ""} == {
        "sheet": "Souhlasy",
        "line": 7,
        "column": "Telefon",
        "reason": "",
        "ID souhlasu": "C-4",
        "Telefon": "nevím",
        "Uděleno": "5.1.2026",
    }
    assert contents(store) == before


def test_another_sheet_of_the_same_file_is_another_load(tmp_path: Path, store_path: Path) -> None:
    first = [["consent_id", "phone", "granted_at"], ["A-1", 601234567, GRANTED]]
    second = [["consent_id", "phone", "granted_at"], ["B-1", 731234567, GRANTED]]
    book = write_book(tmp_path / "two.xlsx", {"Jaro": first, "Podzim": second})
    store = og.EvidenceStore(store_path)
    assert store.load("consents", book, sheet="Jaro").rows_loaded == 1
    again = store.load("consents", book, sheet=2)
    assert not again.unchanged
    ids = rows(store, "SELECT consent_id FROM consents ORDER BY 1")
    assert ids == [("A-1",), ("B-1",)]


def _world(store_path: Path, tmp_path: Path) -> None:
    code, _, err = _cli("load", "consents", _consents(tmp_path), "--store", store_path)
    assert code == 0, err


def test_a_100000_row_workbook_filters_as_the_same_list_in_csv(
    tmp_path: Path, store_path: Path
) -> None:
    _world(store_path, tmp_path)
    rnd = random.Random(17)
    choices: list[object] = [601234567, 731234567, "+420 602 234 567", 777123456, "", "n/a"]
    phones = [rnd.choice(choices) for _ in range(100_000)]
    header = ["Pořadí", "Telefon"]
    body = [[i, p if p != "" else None] for i, p in enumerate(phones)]
    book = write_book(tmp_path / "kampan.xlsx", {"Kampaň": [["Kampaň prosinec"], header, *body]})
    csv = write_csv(tmp_path / "kampan.csv", header, body)
    outputs = {}
    for listing in (book, csv):
        out = tmp_path / f"all-{listing.suffix[1:]}.parquet"
        code, _, err = _cli(
            "filter", listing, "--store", store_path, "--as-of", AS_OF, "--decisions", out
        )
        assert code == 0, err
        outputs[listing.suffix] = duckdb.execute(f"SELECT * FROM '{out}'").fetchall()
    assert len(outputs[".xlsx"]) == 100_000
    assert outputs[".xlsx"] == outputs[".csv"]  # same rows, same order, same decisions
    permitted = sum(1 for row in outputs[".xlsx"] if row[3])
    assert 0 < permitted < 100_000
    gate = og.Gate(og.EvidenceStore(store_path))
    assert gate.filter(book, as_of=AS_OF).summary == gate.filter(csv, as_of=AS_OF).summary


def test_audit_judges_a_workbook_log_and_names_bad_rows_by_sheet(
    tmp_path: Path, store_path: Path
) -> None:
    _world(store_path, tmp_path)
    calls = [
        ["telefon", "called_at"],
        [601234567, dt.datetime(2026, 2, 1, 10, 0)],
        [777123456, (dt.datetime(2026, 2, 1, 10) - dt.datetime(1899, 12, 30)).days + 10 / 24],
        [],
        [777123456, "včera"],
    ]
    book = write_book(tmp_path / "hovory.ods", {"Hovory": calls})
    report_path = tmp_path / "audit.json"
    code, out, err = _cli("audit", book, "--store", store_path, "--json", report_path)
    assert code == 0, err
    assert "not audited: Hovory!5, column 'called_at'" in out
    report = json.loads(report_path.read_text())
    assert report["summary"]["method"]["call_log"]["sheet"] == "Hovory"
    assert report["summary"]["calls"] == 2
    assert report["summary"]["violations"] == 1
    assert [v["line"] for v in report["violations"]["rows"]] == [3]
    judged = og.Gate(og.EvidenceStore(store_path)).audit(book)
    assert judged.calls.column("line").to_pylist() == [2, 3]
    assert judged.unusable.column("line").to_pylist() == [5]


def test_bad_workbooks_exit_2_and_write_nothing(tmp_path: Path, store_path: Path) -> None:
    _world(store_path, tmp_path)
    book = write_book(tmp_path / "l.xlsx", {"Seznam": [["telefon"], [601234567]], "Prázdný": []})
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(book.read_bytes()[:1500])
    out = tmp_path / "permitted.csv"
    store = og.EvidenceStore(store_path)
    before = contents(store)
    cases: list[tuple[list[str | Path], str]] = [
        (["filter", book, "--sheet", "Kampaň", "--out", out], "has no sheet 'Kampaň'"),
        (["filter", book, "--sheet", "Prázdný", "--out", out], "l.xlsx, sheet Prázdný: "),
        (["filter", damaged, "--out", out], "damaged.xlsx: the workbook cannot be read"),
        (["load", "objections", book, "--sheet", "9"], "has no sheet '9'"),
        (["load", "objections", damaged], "damaged.xlsx: the workbook cannot be read"),
        (["audit", damaged, "--json", out], "damaged.xlsx: the workbook cannot be read"),
    ]
    for args, message in cases:
        code, _, err = _cli(*args, "--store", store_path)
        assert code == 2, args
        assert message in err
        assert "Hint:" in err
        assert len(err.strip().splitlines()) == 1
        assert not out.exists()
    assert contents(store) == before


def test_both_ways_through_the_filter_agree_on_a_workbook(tmp_path: Path, store_path: Path) -> None:
    from optin_gate.engine import filter_file
    from optin_gate.engine.stream import Way

    _world(store_path, tmp_path)
    rows_in = [["Telefon", "Pořadí"], *([p, i] for i, p in enumerate([601234567, 777123456] * 50))]
    book = write_book(tmp_path / "l.xlsx", {"L": rows_in})
    gate = og.Gate(og.EvidenceStore(store_path))
    written = {}
    ways: tuple[Way, ...] = ("held", "spilled")
    for way in ways:
        out = tmp_path / f"{way}.parquet"
        filter_file(gate.context, book, as_of=AS_OF, decisions=out, way=way)
        written[way] = duckdb.execute(f"SELECT * FROM '{out}'").fetchall()
    assert written["held"] == written["spilled"]
    assert [row[3] for row in written["held"][:2]] == [True, False]


def _book_1904(path: Path, rows: list[list[object]]) -> Path:
    """A workbook that counts its dates from 1904-01-01, as old Mac Excel saves them."""
    if path.suffix == ".ods":
        from odf.opendocument import OpenDocumentSpreadsheet
        from odf.table import CalculationSettings, NullDate

        doc = OpenDocumentSpreadsheet()
        settings = CalculationSettings()
        settings.addElement(NullDate(datevalue="1904-01-01"))
        doc.spreadsheet.addElement(settings)
        plain = write_book(path.with_name("plain.ods"), {"Souhlasy": rows})
        from odf.opendocument import load
        from odf.table import Table

        for table in load(str(plain)).spreadsheet.getElementsByType(Table):
            doc.spreadsheet.addElement(table)
        doc.save(str(path))
        return path
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.title = "Souhlasy"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_serials_of_a_1904_workbook_count_from_1904(
    tmp_path: Path, store_path: Path, suffix: str
) -> None:
    serial = (GRANTED - dt.datetime(1904, 1, 1)).total_seconds() / 86400
    cells: list[list[object]] = [["ID souhlasu", "Telefon", "Uděleno"], ["C-1", 601234567, GRANTED]]
    cells.append(["C-2", 731234567, serial])
    book = _book_1904(tmp_path / f"mac{suffix}", cells)
    og.EvidenceStore(store_path).load("consents", book)
    granted = rows(og.EvidenceStore(store_path), "SELECT DISTINCT granted_at FROM consents")
    assert granted == [(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),)]  # 10:00 in Prague


def test_error_cells_are_rejected_not_read_as_empty(tmp_path: Path, store_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Souhlasy"
    sheet.append(["ID souhlasu", "Telefon", "Uděleno", "Odvoláno"])
    sheet.append(["C-1", 601234567, GRANTED, "#REF!"])  # an error cell: no evidence of anything
    sheet.append(["C-2", "#N/A", GRANTED, None])
    sheet.append(["C-3", 731234567, GRANTED, None])
    sheet.append([None, "#N/A", "#N/A", "#N/A"])  # formulas filled down past the list
    path = tmp_path / "chyby.xlsx"
    book.save(path)
    report = og.EvidenceStore(store_path).load("consents", path)
    assert (report.rows_read, report.rows_loaded) == (3, 1)
    loaded = rows(og.EvidenceStore(store_path), "SELECT consent_id FROM consents")
    assert loaded == [("C-3",)]  # never C-1 as a consent that was not withdrawn

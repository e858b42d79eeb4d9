"""Reading a workbook's sheet: header found below titles, cells as Excel stores them, rows
numbered as Excel shows them, the sheet picked by name or number, and bad files refused."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optin_gate.errors import InputError, sheet_place
from optin_gate.io import Parse, open_source, parse_query, parse_timestamps, read_table
from tests.excel.books import FORMATS, write_book

TITLED = [
    ["Kampaň listopad 2026"],
    [],
    ["Jméno", "Telefon", "Uděleno", "Poznámka"],
    ["Jana", 601234567, dt.datetime(2026, 11, 28, 14, 30), None],
    [],
    [None, None, None, None],
    ["Petr", 420731234567, 46000.5, "volat ráno"],
    ["Eva", "+420 602 234 567", "28.11.2026 14:30", None],
]


@pytest.mark.parametrize("suffix", FORMATS)
def test_titles_and_empty_rows_are_skipped_and_rows_keep_excel_numbers(
    tmp_path: Path, suffix: str
) -> None:
    book = write_book(tmp_path / f"kampan{suffix}", {"Seznam": TITLED}, merged_title=True)
    with open_source(book) as src:
        assert src.kind == "workbook"
        assert src.columns == ("Jméno", "Telefon", "Uděleno", "Poznámka")
        table = src.to_arrow()
        assert table.column("Jméno").to_pylist() == ["Jana", "Petr", "Eva"]
        # numbers stored as numbers come back as their digits, never 601234567.0 / 6.01E+08
        assert table.column("Telefon").to_pylist() == [
            "601234567",
            "420731234567",
            "+420 602 234 567",
        ]
        assert src.line_numbers([0, 1, 2]) == [4, 7, 8]  # as Excel numbers the rows
        assert src.sheet is not None
        assert (src.sheet.name, src.sheet.header_row) == ("Seznam", 3)


@pytest.mark.parametrize("suffix", FORMATS)
def test_date_cells_serials_and_czech_text_are_the_same_instant(
    tmp_path: Path, suffix: str
) -> None:
    when = dt.datetime(2026, 11, 28, 14, 30)
    serial = (when - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    rows = [["Telefon", "Uděleno"], [601234567, when], [601234568, serial],
            [601234569, "28.11.2026 14:30"], [601234570, "2026-11-28 14:30"]]  # fmt: skip
    table = read_table(write_book(tmp_path / f"d{suffix}", {"List": rows}))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", table)
    query = parse_query("t", [Parse("Uděleno", "VARCHAR", "datetime", "y", serials=True)])
    instants = [r[0] for r in con.execute(f"SELECT y FROM ({query})").fetchall()]
    assert len(set(instants)) == 1
    assert instants[0] == dt.datetime(2026, 11, 28, 13, 30, tzinfo=dt.UTC)  # Prague winter


def test_serials_count_only_for_workbooks() -> None:
    assert parse_timestamps(["46000.5"]).to_pylist() == [None]  # a bare number in a CSV


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(100_000_000, 999_999_999_999), min_size=1, max_size=20))
def test_any_phone_stored_as_a_number_reads_as_its_digits(
    tmp_path: Path, numbers: list[int]
) -> None:
    book = write_book(tmp_path / "p.xlsx", {"List": [["telefon"], *([n] for n in numbers)]})
    assert read_table(book).column("telefon").to_pylist() == [str(n) for n in numbers]


def test_the_first_sheet_with_data_is_the_default_and_names_win_over_numbers(
    tmp_path: Path,
) -> None:
    sheets = {
        "Prázdný": [],
        "Seznam": [["Telefon", "Jméno"], [601234567, "a"]],
        "2": [["Telefon", "Jméno"], [602234567, "b"]],
    }
    book = write_book(tmp_path / "s.xlsx", sheets)
    assert read_table(book).column("Jméno").to_pylist() == ["a"]
    assert read_table(book, sheet="Seznam").column("Jméno").to_pylist() == ["a"]
    assert read_table(book, sheet="2").column("Jméno").to_pylist() == ["b"]  # the name "2"
    assert read_table(book, sheet=3).column("Jméno").to_pylist() == ["b"]  # the third tab
    assert read_table(book, sheet="3").column("Jméno").to_pylist() == ["b"]


def test_unknown_and_empty_sheets_name_the_file_and_the_sheets(tmp_path: Path) -> None:
    book = write_book(tmp_path / "s.xlsx", {"Seznam": [["Telefon"], [1]], "Nic": []})
    with pytest.raises(InputError) as unknown:
        read_table(book, sheet="Kampaň")
    text = str(unknown.value)
    assert text.startswith(f"{book}: the workbook has no sheet 'Kampaň'")
    assert "1 'Seznam', 2 'Nic'" in text
    with pytest.raises(InputError) as empty:
        read_table(book, sheet="Nic")
    assert str(empty.value).startswith(f"{book}, sheet Nic: the sheet is empty. Hint:")
    with pytest.raises(InputError, match="has no sheet with data"):
        read_table(write_book(tmp_path / "e.xlsx", {"A": [], "B": [[None]]}))


def test_header_names_follow_the_csv_rules(tmp_path: Path) -> None:
    rows = [["Telefon", None, "Jméno"], [601234567, "x", "a"], [601234568, None, None]]
    assert read_table(write_book(tmp_path / "h.xlsx", {"L": rows})).column_names == [
        "Telefon",
        "column2",
        "Jméno",
    ]
    twice = [["Kampaň"], ["Telefon", "Telefon"], [1, 2]]
    with pytest.raises(InputError) as info:
        read_table(write_book(tmp_path / "t.xlsx", {"Call list": twice}))
    assert "t.xlsx, 'Call list'!2: the header names the column 'Telefon' twice" in str(info.value)


def test_a_one_column_list_has_its_first_row_as_header(tmp_path: Path) -> None:
    book = write_book(tmp_path / "one.ods", {"L": [[], ["telefon"], [601234567], [None], [7]]})
    with open_source(book) as src:
        assert src.to_arrow().to_pydict() == {"telefon": ["601234567", "7"]}
        assert src.line_numbers([0, 1]) == [3, 5]


def _encrypted(tmp_path: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_book(tmp_path / "plain.xlsx", {"L": [["telefon"], [601234567]]})
    path = tmp_path / "locked.xlsx"
    with plain.open("rb") as fh, path.open("wb") as out:
        OOXMLFile(fh).encrypt("heslo", out)
    return path


def _truncated(tmp_path: Path) -> Path:
    plain = write_book(tmp_path / "whole.xlsx", {"L": [["telefon"], [601234567]]})
    path = tmp_path / "cut.xlsx"
    path.write_bytes(plain.read_bytes()[:2000])
    return path


def _zip(tmp_path: Path) -> Path:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return path


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "export.xls"
    path.write_text("<html><table><tr><td>telefon</td></tr></table></html>")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_encrypted, "the workbook is protected by a password"),
        (_truncated, "the workbook cannot be read: it is damaged or not a workbook"),
        (_zip, "the workbook cannot be read: it is damaged or not a workbook"),
        (_text, r"is named like a workbook \(.xls\) but is not one"),
    ],
)
def test_bad_workbooks_get_one_clear_error(tmp_path: Path, make: object, message: str) -> None:
    assert callable(make)
    path = make(tmp_path)
    with pytest.raises(InputError, match=message) as info:
        read_table(path)
    assert str(info.value).startswith(str(path))
    assert "Hint:" in str(info.value)


def test_a_sheet_for_a_csv_or_a_table_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "l.csv"
    csv.write_text("telefon\n601234567\n")
    for source in (csv, pa.table({"telefon": ["601234567"]})):
        with pytest.raises(InputError, match="not a workbook"):
            read_table(source, sheet="List")


@pytest.mark.parametrize(
    ("sheet", "row", "shown"),
    [
        ("Seznam", 12, "Seznam!12"),
        ("Kampaň", 3, "Kampaň!3"),
        ("Call list", 12, "'Call list'!12"),
        ("O'Brien", 1, "'O''Brien'!1"),
        ("2026", 5, "'2026'!5"),
        ("A1", 2, "'A1'!2"),
    ],
)
def test_places_are_written_as_excel_writes_references(sheet: str, row: int, shown: str) -> None:
    assert sheet_place(sheet, row) == shown


def test_the_default_sheet_is_one_the_operator_sees(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    lookup = book.active
    lookup.title = "Číselník"
    lookup.append(["kód", "význam"])
    lookup.append([1, "nevolat"])
    lookup.sheet_state = "hidden"
    shown = book.create_sheet("Seznam")
    shown.append(["Telefon", "Jméno"])
    shown.append([601234567, "Jana"])
    path = tmp_path / "skryty.xlsx"
    book.save(path)
    assert read_table(path).column("Jméno").to_pylist() == ["Jana"]
    assert read_table(path, sheet="Číselník").column("význam").to_pylist() == ["nevolat"]
    shown.sheet_state = "hidden"
    book.create_sheet("Prázdný")  # a workbook shows at least one sheet
    book.save(path)
    with pytest.raises(InputError, match="hidden sheets are read only when named") as info:
        read_table(path)
    assert "1 'Číselník', 2 'Seznam', 3 'Prázdný'" in str(info.value)


@pytest.mark.parametrize("suffix", FORMATS)
def test_group_labels_merged_above_the_header_are_not_the_header(
    tmp_path: Path, suffix: str
) -> None:
    rows = [
        ["Kampaň prosinec 2026"],
        [None, "Kontakt", None, "Souhlas", None],  # each label merged over the two names below
        ["Jméno", "Telefon", "E-mail", "Od", "Do"],
        ["Jana", 601234567, "jana@example.cz", "1.12.2026", None],
    ]
    with open_source(write_book(tmp_path / f"g{suffix}", {"Seznam": rows})) as src:
        assert src.columns == ("Jméno", "Telefon", "E-mail", "Od", "Do")
        assert src.to_arrow().column("Telefon").to_pylist() == ["601234567"]
        assert src.line_numbers([0]) == [4]


def test_a_header_over_unnamed_data_columns_stays_the_header(tmp_path: Path) -> None:
    rows = [["Telefon", "Jméno"], [601234567, "Jana", "volat ráno"], ["+420 602 234 567", "Petr"]]
    table = read_table(write_book(tmp_path / "u.xlsx", {"L": rows}))
    assert table.column_names == ["Telefon", "Jméno", "column3"]
    assert table.column("Jméno").to_pylist() == ["Jana", "Petr"]


def test_a_title_above_a_one_column_list_is_not_its_header(tmp_path: Path) -> None:
    rows = [["Kampaň prosinec 2026"], [], ["Telefon"], [601234567], ["+420 731 234 567"]]
    with open_source(write_book(tmp_path / "one.xlsx", {"L": rows})) as src:
        assert src.to_arrow().to_pydict() == {"Telefon": ["601234567", "+420 731 234 567"]}
        assert src.line_numbers([0, 1]) == [4, 5]
    bare = [[601234567], [731234567]]  # no header at all: the first row stays the header
    assert read_table(write_book(tmp_path / "bare.xlsx", {"L": bare})).column_names == ["601234567"]


def test_a_sheet_read_ahead_is_the_sheet_open_source_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command line starts the parse before the store is opened; the run must get the
    # same rows, parsed once, on the worker.
    import threading

    from optin_gate.io import prefetch, workbook

    readers: list[str] = []
    real = workbook.read_sheet

    def counted(*args: Any, **kwargs: Any) -> Any:
        readers.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(workbook, "read_sheet", counted)
    book = write_book(tmp_path / "kampan.xlsx", {"Seznam": TITLED}, merged_title=True)
    prefetch(str(book))
    with open_source(str(book)) as src:
        assert src.to_arrow().column("Telefon").to_pylist() == [
            "601234567",
            "420731234567",
            "+420 602 234 567",
        ]
        assert src.line_numbers([0, 1, 2]) == [4, 7, 8]
    assert len(readers) == 1
    assert readers[0].startswith("optin-gate-sheet")


def test_a_read_ahead_error_is_the_error_of_the_run(tmp_path: Path) -> None:
    from optin_gate.io import prefetch

    book = write_book(tmp_path / "kampan.xlsx", {"Seznam": TITLED})
    prefetch(str(book), sheet="Jiný")
    with pytest.raises(InputError, match="no sheet 'Jiný'") as caught:
        open_source(str(book), sheet="Jiný")
    assert "kampan.xlsx" in str(caught.value)


def test_a_workbook_changed_after_its_read_ahead_is_refused(tmp_path: Path) -> None:
    from optin_gate.io import prefetch

    book = write_book(tmp_path / "kampan.xlsx", {"Seznam": TITLED})
    prefetch(str(book))
    write_book(tmp_path / "other.xlsx", {"Seznam": TITLED[:4]}).replace(book)
    with pytest.raises(InputError, match="changed while it was being read"):
        open_source(str(book))


def test_read_ahead_leaves_other_inputs_to_open_source(tmp_path: Path) -> None:
    from optin_gate.io import prefetch

    listing = tmp_path / "kampan.csv"
    listing.write_text("telefon\n601234567\n", encoding="utf-8")
    prefetch(str(listing))
    prefetch(str(tmp_path / "missing.xlsx"))
    with open_source(str(listing)) as src:
        assert src.kind == "csv"
    with pytest.raises(InputError):
        open_source(str(tmp_path / "missing.xlsx"))

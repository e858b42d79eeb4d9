"""Reading users' files: encodings, delimiters, multi-line fields, line numbers, bad files."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.errors import InputError
from optin_gate.io import csv_format, open_source, read_table, relation_sql

CZECH = "Jméno;Telefonní číslo;Uděleno\r\nŽaneta Šťastná;601 234 567;28. 11. 2026 14:30\r\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_windows_1250_semicolon_file_reads_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "souhlasy.csv", CZECH.encode("cp1250"))
    fmt = csv_format(path)
    assert (fmt.delimiter, fmt.encoding, fmt.bom) == (";", "cp1250", False)
    assert fmt.header == ("Jméno", "Telefonní číslo", "Uděleno")
    assert read_table(path).to_pylist() == [
        {
            "Jméno": "Žaneta Šťastná",
            "Telefonní číslo": "601 234 567",
            "Uděleno": "28. 11. 2026 14:30",
        }
    ]


def test_transcoded_copy_is_deleted_on_close(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", CZECH.encode("cp1250"))
    src = open_source(path)
    copy = Path(src.relation_sql().split("'")[1])
    assert copy.exists()
    assert copy != path
    src.close()
    assert not copy.exists()


def test_late_windows_1250_bytes_after_an_ascii_megabyte(tmp_path: Path) -> None:
    # The sniffed sample is plain ASCII; the full-file check still finds the cp1250 bytes.
    rows = "".join(f"{i};60{i:07d};2026-01-01\n" for i in range(80_000))
    data = ("id;tel;datum\n" + rows + "x;601000000;Říjen\n").encode("cp1250")
    assert len(data) > (1 << 20)
    table = read_table(write(tmp_path, "late.csv", data))
    assert table.num_rows == 80_001
    assert table.column("datum")[-1].as_py() == "Říjen"


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        (b"\xef\xbb\xbfphone,name\n601234567,Eva\n", ","),
        (b"phone\tname\n601234567\tEva\n", "\t"),
        ("phone;name\n601234567;Eva\n".encode("utf-16"), ";"),
        (b"phone;amount\n601234567;12,5\n601234568;3,75\n", ";"),  # decimal commas
    ],
)
def test_delimiters_bom_and_utf16(tmp_path: Path, data: bytes, delimiter: str) -> None:
    path = write(tmp_path, "list.csv", data)
    assert csv_format(path).delimiter == delimiter
    table = read_table(path)
    assert table.column_names[0] == "phone"  # no BOM left in the first header
    assert table.column("phone")[0].as_py() == "601234567"


def test_quoted_multiline_fields_keep_their_file_lines(tmp_path: Path) -> None:
    data = b'id;note;phone\n1;"two\nlines";601\n\n2;"three\r\nline\nnote";602\n3;plain;603\n'
    path = write(tmp_path, "notes.csv", data)
    with open_source(path) as src:
        table = src.to_arrow()
        assert table.column("id").to_pylist() == ["1", "2", "3"]
        assert table.column("note")[0].as_py() == "two\nlines"
        assert src.line_numbers([2, 0, 1], row_count=3) == [8, 2, 5]


def test_simple_files_take_the_line_shortcut(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", b"a\n1\n2\n3")  # no newline at the end
    with open_source(path) as src:
        assert src.line_numbers([0, 2], row_count=3) == [2, 4]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.text("ab\n;", max_size=6), st.booleans()), min_size=1, max_size=12))
def test_line_numbers_match_a_line_by_line_count(cells: list[tuple[str, bool]]) -> None:
    import tempfile

    lines, expected = ["v;w"], []
    for text, blank_before in cells:
        if blank_before:
            lines.append("")
        expected.append(len("\n".join(lines).split("\n")) + 1)
        lines.append('"' + text.replace('"', '""') + '";x')
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with open_source(path) as src:
            assert src.to_arrow().column("v").to_pylist() == [t or None for t, _ in cells]
            got = src.line_numbers(range(len(cells)), row_count=len(cells))
    assert got == expected


def test_frames_tables_and_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"tel": ["601234567"], "n": [1]})
    assert read_table(frame).column_names == ["tel", "n"]
    table = pa.table({"tel": ["601234567"]})
    assert read_table(table) is table
    pq.write_table(table, tmp_path / "t.parquet")
    named_csv = tmp_path / "really-parquet.csv"
    os.replace(tmp_path / "t.parquet", named_csv)  # judged by content, not extension
    with open_source(named_csv) as src:
        assert src.kind == "parquet"
        assert src.to_arrow().to_pylist() == [{"tel": "601234567"}]
        assert src.relation_sql().startswith("read_parquet(")
        assert src.line_numbers([0, 4]) == [1, 5]


def test_sha256_is_of_the_bytes_and_stable_for_tables(tmp_path: Path) -> None:
    import hashlib

    path = write(tmp_path, "a.csv", b"phone\n601234567\n")
    with open_source(path, hash_bytes=True) as src:
        assert src.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()
    one = open_source(pa.table({"a": [1, 2]})).sha256()
    assert one == open_source(pa.table({"a": [1, 2]})).sha256()
    assert one != open_source(pa.table({"a": [1, 3]})).sha256()


def test_relation_sql_lets_duckdb_read_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "l.csv", b"phone;n\n601234567;007\n")
    sql = relation_sql(path)
    assert "delim=';'" in sql
    assert "header=true" in sql
    rows = duckdb.execute(f"SELECT * FROM {sql}").fetchall()
    assert rows == [("601234567", "007")]  # all VARCHAR: leading zeros survive
    cp = write(tmp_path, "cp.csv", CZECH.encode("cp1250"))
    with pytest.raises(InputError, match="cp1250, which DuckDB cannot read directly"):
        relation_sql(cp)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf\r\n", "the file is empty"),
        (b"PK\x03\x04rest-of-zip", "the workbook cannot be read: it is damaged or not a workbook"),
        (b"\xd0\xcf\x11\xe0xls", "the workbook cannot be read: it is damaged or not a workbook"),
        (b"abc\x00\x01\x02", r"not a CSV or Parquet file \(binary data\)"),
        (b"PAR1truncated", "looks like Parquet but is truncated"),
        (b"a;a\n1;2\n", "the header names the column 'a' twice"),
        (b"id;x\n1;\x81\x90\n", "neither UTF-8 nor Windows-1250"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path: Path, data: bytes, message: str) -> None:
    path = write(tmp_path, "bad.csv", data)
    with pytest.raises(InputError, match=message) as info:
        read_table(path)
    assert str(path) in str(info.value)
    assert "Hint:" in str(info.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder, not a file"):
        read_table(tmp_path)
    with pytest.raises(InputError, match="cannot read a int"):
        read_table(42)


def test_a_broken_row_names_its_line_without_echoing_it(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.csv", b"id;phone\n1;601234567\n2;601234568;extra\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    text = str(info.value)
    assert "line 3" in text
    assert "the row has 3 fields but the header has 2" in text
    assert "601234568" not in text

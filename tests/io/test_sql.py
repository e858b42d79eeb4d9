"""Names and texts from users' files reach DuckDB intact, whatever quotes they hold."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from optin_gate._sql import sql_literal, sql_name


@pytest.mark.parametrize("name", ['tel "mobil"', "it's", "select", "číslo; DROP TABLE x"])
def test_a_quoted_name_reads_back_as_that_column(name: str) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({sql_name(name)} VARCHAR)")
    assert [row[0] for row in con.execute("DESCRIBE t").fetchall()] == [name]


@pytest.mark.parametrize("value", ["it's", "''", 'a "b"', "", 7, True, False, date(2024, 2, 29)])
def test_a_literal_reads_back_as_its_value(value: str | int | date) -> None:
    ((back,),) = duckdb.connect().execute(f"SELECT {sql_literal(value)}").fetchall()
    assert back == value
    assert type(back) is type(value)

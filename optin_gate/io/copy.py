"""The COPY statement every table output is written with, and spreadsheet safety.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) is run as a
formula when a CSV file is opened in a spreadsheet: a call list can carry such a cell from
whoever filled a web form (CSV injection). With `excel_safe`, text cells that start so get a
leading apostrophe, which spreadsheets show as text. Columns the caller keeps (the phone
numbers, which start with "+", and the decision columns) are written as they are.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from optin_gate._sql import sql_literal, sql_name

__all__ = ["FORMULA_STARTS", "copy_sql"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _options(fmt: str, *, header: bool) -> str:
    if fmt == "parquet":
        return "FORMAT parquet"
    return f"FORMAT csv, HEADER {str(header).lower()}" + (
        ", DELIMITER '\t'" if fmt == "tsv" else ""
    )


def _neutralized(con: duckdb.DuckDBPyConnection, query: str, keep: Collection[str]) -> str:
    """`query` with every text cell outside `keep` that starts like a formula made text."""
    kept = {name.lower() for name in keep}
    described = con.execute(f"DESCRIBE {query}").fetchall()
    starts = ", ".join(sql_literal(c) for c in FORMULA_STARTS)
    replaced = [
        f"CASE WHEN left({sql_name(name)}, 1) IN ({starts}) THEN '''' || {sql_name(name)} "
        f"ELSE {sql_name(name)} END AS {sql_name(name)}"
        for name, sql_type, *_ in described
        if sql_type == "VARCHAR" and name.lower() not in kept
    ]
    if not replaced:
        return query
    return f"SELECT * REPLACE ({', '.join(replaced)}) FROM ({query})"


def copy_sql(
    con: duckdb.DuckDBPyConnection,
    query: str,
    path: str,
    fmt: str,
    *,
    excel_safe: Collection[str] | None = None,
    header: bool = True,
) -> str:
    """The statement writing `query`'s rows to `path` as `fmt` ("csv", "tsv" or "parquet").

    Args:
        con: Where the query will run (asked for its column types with `excel_safe`).
        query: A SELECT.
        path: The file to write.
        fmt: The output format (`output_format`).
        excel_safe: None, or the columns to leave as they are while every other text cell
            that starts like a formula is made text (CSV and TSV only; Parquet is not opened
            as cells by a spreadsheet's formula parser).
        header: Write the CSV header line (not for rows appended to a file that has one).
    """
    if excel_safe is not None and fmt != "parquet":
        query = _neutralized(con, query, excel_safe)
    return f"COPY ({query}) TO {sql_literal(path)} ({_options(fmt, header=header)})"

"""SQL quoting for names and values built into DuckDB statements: the one place it is done.

Column names and file paths come from users' files and command lines, so every name and text
that reaches a statement goes through these two functions rather than being pasted in.
"""

from __future__ import annotations

from datetime import date

__all__ = ["SqlValue", "sql_literal", "sql_name"]

SqlValue = str | int | date


def sql_name(name: str) -> str:
    """A SQL identifier, double-quoted, so any column name (spaces, quotes, keywords) works."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: SqlValue) -> str:
    """A value as a DuckDB SQL literal: text single-quoted, booleans, integers and dates typed."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + value.replace("'", "''") + "'"

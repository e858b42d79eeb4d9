"""What a call list must offer before anything is decided: a phone column, free output names.

Both filter paths (in memory and file to file) check a list here first, so an input error
stops the run before any output file is started. `read_list` runs a query that reads the list
and tells its read errors as one `InputError` on the file's line.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import duckdb

from optin_gate.engine.query import DECISION_COLUMNS
from optin_gate.errors import InputError
from optin_gate.io import ALIASES, fold, load_schema, resolve_columns

if TYPE_CHECKING:
    import pyarrow as pa

    from optin_gate.io import Source

__all__ = [
    "NotUtf8",
    "check_output_names",
    "find_phone_column",
    "phone_text",
    "read_list",
    "whole_sql",
]

_T = TypeVar("_T")


class NotUtf8(Exception):  # noqa: N818 - an internal signal, never raised to users
    """DuckDB met bytes that are not UTF-8 in a list that was not checked up front."""


def read_list(src: Source, action: Callable[[], _T]) -> _T:
    """Run a query that reads the list; a malformed file becomes an InputError on its line.

    Raises:
        NotUtf8: The list was opened unchecked and is not UTF-8: open it checked, read again.
        InputError: Any other read error, naming the file and line.
    """
    try:
        return action()
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
        if src.is_encoding_error(exc):
            raise NotUtf8 from None
        raise src.read_error(exc) from None


def _listing(found: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in found) if found else "(none)"


def find_phone_column(found: Sequence[str], phone_column: str | None, *, file: str) -> str:
    """The header holding the phone numbers: the one given, else found by English/Czech name.

    Raises:
        InputError: The given column is missing, no header looks like a phone column, or
            several do; the hint names the `--phone-column` that fixes it.
    """
    if phone_column is not None:
        if phone_column in found:
            return phone_column
        close = difflib.get_close_matches(phone_column, list(found), n=1)
        guess = f"did you mean --phone-column {close[0]!r}? " if close else ""
        raise InputError(
            f"the list has no column {phone_column!r} (its columns: {_listing(found)})",
            file=file,
            column=phone_column,
            hint=f"{guess}spell the header exactly as the file does",
        )
    schema = load_schema("campaign_list")
    try:
        return resolve_columns(found, schema, file=file, require=("phone",))["phone"]
    except InputError:
        pass
    names = {fold("phone"), *(fold(a) for a in ALIASES["phone"])}
    candidates = [c for c in found if fold(c) in names]
    if len(candidates) > 1:
        message = f"several columns look like phone numbers: {_listing(candidates)}"
        hint = f"say which one with --phone-column {candidates[0]!r}"
    else:
        message = f"no column looks like phone numbers (the columns: {_listing(found)})"
        hint = "name it with --phone-column COLUMN"
    raise InputError(message, file=file, hint=f"{hint} (Python: phone_column=...)")


def check_output_names(
    found: Sequence[str], *, file: str, added: Sequence[str] = DECISION_COLUMNS
) -> None:
    """The decision columns must not overwrite input columns, whatever the case.

    DuckDB and Parquet readers match column names regardless of case: a list's `Reason`
    would push the filter's `reason` to another name.

    Args:
        found: The list's columns.
        file: How the list is named in messages.
        added: The columns the filter adds (`Gate.filter` adds the note too).

    Raises:
        InputError: The list already has a column named like one the filter adds.
    """
    taken = [c for c in found if c.lower() in added]
    if taken:
        raise InputError(
            f"the list already has a column named {taken[0]!r}, which the filter adds "
            f"(it adds {', '.join(added)})",
            file=file,
            column=taken[0],
            hint=f"rename or drop the column {taken[0]!r} before filtering "
            "(e.g. a decisions file from an earlier run: filter the original list instead)",
        )


def phone_text(
    column: pa.ChunkedArray, *, file: str, name: str, whole: bool | None = None
) -> pa.ChunkedArray:
    """The phone column as text: integers stay digits, a float column of whole numbers too.

    Both ways of filtering a file and `Gate.filter` read the phone column through this, so a
    list gets the same decisions whichever way it goes.

    Args:
        column: The phone column (or one batch of it).
        file: The list, for messages.
        name: The column, for messages.
        whole: For a float column read in batches: whether every value of the whole column
            is a whole number (`whole_sql`); None: decided from `column` itself.

    Raises:
        InputError: A column type that cannot hold phone numbers (e.g. dates), or bytes that
            are not UTF-8 text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return column.cast(pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:  # Parquet writers that leave out the UTF-8 annotation store text as bytes
            return column.cast(pa.string())
        except pa.ArrowInvalid:
            raise InputError(
                "the phone column holds bytes that are not UTF-8 text",
                file=file,
                column=name,
                hint="write the numbers as text (UTF-8)",
            ) from None
    if pa.types.is_floating(kind):
        # pandas turns an integer column with gaps into floats: 601234567.0 means 601234567.
        if whole is None:
            exact = pc.and_(pc.is_finite(column), pc.equal(pc.floor(column), column))
            whole = pc.all(pc.or_kleene(exact, pc.is_null(column))).as_py() is not False
        if whole:
            return pc.cast(pc.cast(column, pa.int64()), pa.string())
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_null(kind):
        return pa.chunked_array([pa.nulls(len(column), pa.string())])
    raise InputError(
        f"the phone column holds {kind} values, not phone numbers",
        file=file,
        column=name,
        hint="point --phone-column at the column with the numbers",
    )


def whole_sql(relation: str, column: str) -> str:
    """SQL: every value of a float column is a finite whole number (NULLs aside).

    What `phone_text` decides from a column it sees whole, for one read in batches.
    """
    return (
        f"SELECT coalesce(bool_and(isfinite({column}) AND {column} = floor({column})), TRUE) "
        f"FROM {relation}"
    )

"""The errors optin_gate raises on purpose.

One root, `OptinGateError`, and one subclass per stage that also inherits the matching built-in,
so callers can catch either ours or Python's. Every message ends in a hint saying what to do.
Messages name the file, line and column at fault, never more of a phone number than needed.
"""

from __future__ import annotations

import re

__all__ = [
    "InputError",
    "OptinGateError",
    "PolicyError",
    "RequestError",
    "StoreError",
    "StoreVersionError",
    "sheet_place",
]


class OptinGateError(Exception):
    """Root of every error the library raises on purpose.

    Args:
        message: What is wrong, in one sentence.
        hint: What the user can do about it.
        file: The file at fault, if any.
        line: The 1-based line in that file, if known.
        column: The column (header name) at fault, if any.
        sheet: The workbook sheet at fault, if any; with `line`, the place reads `Sheet!12`
            as Excel shows it (`line` is then the sheet's 1-based row).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.column = column
        self.sheet = sheet
        super().__init__(self.__str__())

    @property
    def location(self) -> str:
        """`file, line N, column 'c'` (`file, Sheet!N, ...` in a workbook); '' if none known."""
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.sheet is not None:
            parts.append(sheet_place(self.sheet, self.line))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.message}. Hint: {self.hint}"


def sheet_place(sheet: str, row: int | None = None) -> str:
    """A sheet, or a row of it, as Excel writes a reference: `Seznam!12`, `'Call list'!12`.

    Excel quotes a sheet name that is not one word or could be read as a cell or a number.
    """
    plain = re.fullmatch(r"[^\W\d]\w*", sheet) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", sheet)
    name = sheet if plain else "'" + sheet.replace("'", "''") + "'"
    return f"{name}!{row}" if row is not None else f"sheet {name}"


class InputError(OptinGateError, ValueError):
    """The user's input (a file, a column, a value, an argument) cannot be used."""


class RequestError(InputError):
    """A request to the gate service cannot be answered; `status` is its HTTP status code."""

    def __init__(self, status: int, message: str, *, hint: str) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class PolicyError(OptinGateError, ValueError):
    """A `Policy` setting is out of range."""


class StoreError(OptinGateError, RuntimeError):
    """The evidence store cannot do what was asked (locked, corrupt, wrong state)."""


class StoreVersionError(StoreError):
    """The store file was written by a newer optin_gate than this one."""

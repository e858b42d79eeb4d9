"""What a user's file is: Parquet or CSV, and for CSV its encoding, delimiter and header.

Czech office files come as UTF-8 (with or without BOM), Windows-1250 (Excel's "CSV" on a Czech
Windows) or UTF-16 (Excel's "Unicode text"), separated by `;` (Excel with a Czech locale), `,`
or tabs. The decision is made on a sample from the start of the file; a file whose later bytes
contradict the sample is caught when it is read (`Source` re-checks the whole file).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import os
from pathlib import Path

from optin_gate.errors import InputError

__all__ = [
    "DELIMITERS",
    "WORKBOOK_EXTENSIONS",
    "CsvFormat",
    "csv_format",
    "file_kind",
    "header_names",
    "sniff_csv",
]

DELIMITERS = (";", ",", "\t")
SAMPLE_BYTES = 1 << 20
_FIX_EXPORT = "export it again as CSV (UTF-8) or Parquet"
# .xlsx, .xlsm, .xlsb and .ods are ZIP archives; .xls (and a password-protected .xlsx) is
# an OLE compound file.
WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
WORKBOOK_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
_SIGNATURES = (
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3", "a SQLite database"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class CsvFormat:
    """How to read one CSV file.

    Attributes:
        delimiter: `;`, `,` or a tab.
        encoding: "utf-8", "cp1250" or "utf-16" (the file's own encoding).
        bom: The file starts with a byte-order mark.
        header: The column names as the file spells them (BOM removed; an empty name becomes
            `column<N>`, N counted from 1).
    """

    delimiter: str
    encoding: str
    bom: bool
    header: tuple[str, ...]

    @property
    def duckdb_readable(self) -> bool:
        """DuckDB's read_csv reads it as is (UTF-8); others need transcoding first."""
        return self.encoding == "utf-8"


def _missing(path: Path) -> InputError:
    return InputError(
        "file not found", file=str(path), hint="check the path and the current directory"
    )


def file_kind(path: str | os.PathLike[str]) -> str:
    """Tell "csv", "parquet" and "workbook" apart by content (not by extension).

    A file named like a workbook must hold one: an "Excel" export that is really text or
    HTML would otherwise be read as a CSV of nonsense.

    Raises:
        InputError: The file is missing, a folder, empty, or some other format.
    """
    p = Path(path)
    if not p.exists():
        raise _missing(p)
    if p.is_dir():
        raise InputError("is a folder, not a file", file=str(p), hint="pass the file's path")
    with p.open("rb") as fh:
        head = fh.read(4096)
        if head[:4] == b"PAR1":
            fh.seek(-4, os.SEEK_END)
            if fh.read(4) == b"PAR1":
                return "parquet"
            raise InputError(
                "looks like Parquet but is truncated or damaged",
                file=str(p),
                hint="copy or export the file again",
            )
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise InputError(
            "the file is empty",
            file=str(p),
            hint="it has neither a header nor rows; " + _FIX_EXPORT,
        )
    if head.startswith(WORKBOOK_SIGNATURES):
        return "workbook"
    if p.suffix.lower() in WORKBOOK_EXTENSIONS:
        raise InputError(
            f"is named like a workbook ({p.suffix}) but is not one",
            file=str(p),
            hint="open it in Excel and save it as .xlsx; if it is a CSV, name it .csv",
        )
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise InputError(
                f"not a CSV or Parquet file (it looks like {what})", file=str(p), hint=_FIX_EXPORT
            )
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not utf16:
        raise InputError("not a CSV or Parquet file (binary data)", file=str(p), hint=_FIX_EXPORT)
    return "csv"


def _encoding(sample: bytes, complete: bool) -> tuple[str, bool]:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return "cp1250", False
    return "utf-8", False


def _decode(sample: bytes, encoding: str, file: str) -> str:
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        return codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the text is neither UTF-8 nor Windows-1250 (byte {exc.start} cannot be read)",
            file=file,
            hint="save the file as CSV UTF-8",
        ) from None


def _score(text: str, delimiter: str) -> tuple[int, float, int]:
    rows = [
        r for r in itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 60) if r
    ]
    if not rows:
        return (0, 0.0, 0)
    width = len(rows[0])
    body = rows[1:]
    same = sum(1 for r in body if len(r) == width) / len(body) if body else 1.0
    return (int(width > 1), same, width)


def sniff_csv(
    sample: bytes, *, complete: bool, file: str, encoding: str | None = None
) -> CsvFormat:
    """The format of a CSV from its first bytes.

    Args:
        sample: The file's first bytes (all of them when `complete`).
        complete: The sample is the whole file.
        file: The file's name, for messages.
        encoding: The encoding, when already known (else detected).
    """
    detected, bom = _encoding(sample, complete)
    encoding = encoding or detected
    text = _decode(sample, encoding, file).lstrip("\ufeff")
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop a cut-off last line
    cut = text.rfind("\n", 0, 1 << 16)
    if len(text) > 1 << 16 and cut > 0:
        text = text[: cut + 1]  # enough lines to judge the delimiter
    delimiter = max(DELIMITERS, key=lambda d: _score(text, d))
    if _score(text, delimiter)[0] == 0:
        delimiter = next((d for d in DELIMITERS if d in text.split("\n", 1)[0]), ",")
    first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    header = header_names(dict(enumerate(first, start=1)), file=file, line=1)
    if not header:
        raise InputError("the file has no header line", file=file, hint=_FIX_EXPORT)
    return CsvFormat(delimiter=delimiter, encoding=encoding, bom=bom, header=header)


def header_names(
    cells: dict[int, str | None], *, file: str, line: int, sheet: str | None = None
) -> tuple[str, ...]:
    """A header's column names, the one rule for CSV files and workbook sheets.

    A name is kept as spelled; an empty cell becomes `column<N>` (N its column's 1-based
    position in the file or sheet), and a name used twice is an error, since the columns
    are found by name.

    Args:
        cells: Column position (1-based) -> the header cell's text, in order.
        file: The file's name, for messages.
        line: The header's line (the sheet's row in a workbook).
        sheet: The workbook sheet, if it is one.
    """
    names = tuple(
        name if name is not None and name.strip() else f"column{i}" for i, name in cells.items()
    )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            where = "the header row" if sheet is not None else "the first line"
            raise InputError(
                f"the header names the column {name!r} twice",
                file=file,
                line=line,
                sheet=sheet,
                hint=f"give every column its own name in {where}",
            )
        seen.add(name)
    return names


def csv_format(
    path: str | os.PathLike[str], *, encoding: str | None = None, name: str | None = None
) -> CsvFormat:
    """Sniff a CSV file's encoding, delimiter and header from its first megabyte.

    Args:
        path: The file.
        encoding: The encoding, when known (a full-file check found the sample misleading).
        name: The file's name for messages (default: the path).

    Raises:
        InputError: The file is missing, empty, not CSV, or has a broken header.
    """
    p = Path(path)
    label = name or str(p)
    kind = file_kind(p)
    if kind != "csv":
        raise InputError(f"is a {kind} file, not CSV", file=label, hint=f"read it as a {kind}")
    with p.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES + 1)
    complete = len(sample) <= SAMPLE_BYTES
    return sniff_csv(sample[:SAMPLE_BYTES], complete=complete, file=label, encoding=encoding)

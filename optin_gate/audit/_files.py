"""Atomic output files: a temp file in the target's folder, then `os.replace`.

A crash or an error part-way leaves either the old file or none, never half a report or half a
violations list.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from optin_gate.errors import InputError

__all__ = ["atomic_write", "table_format", "write_table", "write_text"]

TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _target(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(
            f"cannot write {target}: the folder {target.parent} does not exist",
            file=str(target),
            hint="create the folder first or choose another path",
        )
    if target.is_dir():
        raise InputError(
            f"cannot write {target}: it is a folder",
            file=str(target),
            hint="give a file name, e.g. report.html",
        )
    return target


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temp file beside `path`, then move it in place."""
    target = _target(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Created like any new file (mode 0o666 less the umask), exclusively, in the same folder.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(path, write)


def table_format(path: str | os.PathLike[str]) -> str:
    """`csv` or `parquet` from the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError(
            f"cannot tell the format of {Path(path).name} from its extension",
            file=str(path),
            hint="name the file .csv or .parquet",
        )
    return TABLE_FORMATS[suffix]


def write_table(path: str | os.PathLike[str], table: pa.Table) -> Path:
    """Write a table as CSV (UTF-8, header) or Parquet by extension, atomically."""
    fmt = table_format(path)

    def write(tmp: Path) -> None:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            import pyarrow.csv as pcsv

            pcsv.write_csv(table, tmp)

    return atomic_write(path, write)

"""Writing tables to files atomically: a temporary file in the same folder, then a rename.

A crash or an error never leaves half a file where a dialler or a colleague could pick it up.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from optin_gate.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["output_format", "write_table"]

_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: str | os.PathLike[str]) -> str:
    """Tell "csv", "tsv" or "parquet" from the file's extension.

    Raises:
        InputError: Another extension.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise InputError(
            f"cannot tell the output format from the extension {suffix or '(none)'!r}",
            file=str(path),
            hint="name the file .csv or .parquet",
        )
    return _FORMATS[suffix]


def write_table(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write `table` to `path` as CSV (UTF-8, header, comma) or Parquet, by extension; atomic.

    Returns:
        The path written.

    Raises:
        InputError: Unknown extension, or the folder does not exist.
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    target = Path(path)
    fmt = output_format(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("the folder does not exist", file=str(path), hint="create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        if fmt == "parquet":
            pq.write_table(table, tmp)
        else:
            options = pcsv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
            pcsv.write_csv(table, tmp, write_options=options)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

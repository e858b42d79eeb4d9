"""`Source`: a user's table (CSV/Parquet/workbook path, DataFrame, Arrow table), ready to read.

The batch engine and the loaders let DuckDB read CSV and Parquet files themselves
(`relation_sql`: parallel, no Python per row); a workbook's sheet is read into Arrow when it is
opened (`io.workbook`), and callers use it as they use an Arrow table (`relation`,
`to_arrow`). Either way the column names are the file's own and CSV and workbook values are
strings. Rows are numbered from 0 in file order; `line_numbers` turns indices into the file's
1-based lines (a sheet's Excel rows) for messages and rejects.
"""

from __future__ import annotations

import hashlib
import os
import re
import weakref
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optin_gate._runtime import duckdb_config
from optin_gate._sql import sql_literal, sql_name
from optin_gate.errors import InputError
from optin_gate.io.dates import EXCEL_EPOCH
from optin_gate.io.lines import csv_lines
from optin_gate.io.scratch import sweep
from optin_gate.io.sniff import CsvFormat, csv_format, file_kind
from optin_gate.io.transcode import Scan, scan_file, transcode

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from optin_gate.io.workbook import Sheet

__all__ = ["Source", "open_source", "prefetch", "read_table", "relation_sql"]


def _is_dataframe(obj: object) -> bool:
    return type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "columns")


class _HashSink:
    """A write-only file object that only hashes what it is given."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        return view.nbytes

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        self.closed = True


class Source:
    """One table a user handed in. Use `open_source`; close it (or use `with`) when done.

    Attributes:
        name: How messages name it: the path as given, `<DataFrame>` or `<Table>`.
        kind: "csv", "parquet", "workbook" or "arrow".
        path: The user's file (None for in-memory tables).
        csv: The CSV's format (None unless kind is "csv").
        sheet: The workbook's sheet as read (None unless kind is "workbook"); its table is
            the source's table, its Excel row numbers the lines.
        utf8_verified: Every byte was checked to be UTF-8 (or the file was transcoded).
            False for a CSV opened with `verify_utf8=False`: DuckDB checks as it reads,
            and `is_encoding_error` tells its complaint apart.
    """

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        path: Path | None = None,
        csv: CsvFormat | None = None,
        table: pa.Table | None = None,
        read_path: Path | None = None,
        scan: Scan | None = None,
        temporary: Path | None = None,
        utf8_verified: bool = True,
        sheet: Sheet | None = None,
    ) -> None:
        self.name = name
        self.sheet = sheet
        self.utf8_verified = utf8_verified
        self.kind = kind
        self.path = path
        self.csv = csv
        self._table = sheet.table if sheet is not None else table
        self._read_path = read_path or path
        self._scan = scan
        self._temporary = temporary
        self._sha: str | None = scan.sha256 if scan is not None and scan.sha256 else None
        self._finalizer = (
            weakref.finalize(self, temporary.unlink, missing_ok=True) if temporary else None
        )

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the temporary UTF-8 copy, if one was made."""
        if self._finalizer is not None:
            self._finalizer()

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, as the user spelled them, in order."""
        if self.csv is not None:
            return self.csv.header
        if self._table is not None:
            return tuple(self._table.column_names)
        import pyarrow.parquet as pq

        assert self.path is not None
        return tuple(pq.read_schema(self.path).names)

    @property
    def serial_epoch(self) -> str:
        """The day a workbook's date serial 0 stands for (ISO); serials are read only there."""
        return self.sheet.epoch if self.sheet is not None else EXCEL_EPOCH

    @property
    def held(self) -> bool:
        """The table is in memory already (a frame, an Arrow table or a workbook's sheet)."""
        return self._table is not None

    def sha256(self) -> str:
        """SHA-256 of the file's bytes, or of the Arrow IPC stream of an in-memory table."""
        if self._sha is None:
            if self.path is None:
                assert self._table is not None
                import pyarrow as pa

                sink = _HashSink()
                with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), self._table.schema) as w:
                    w.write_table(self._table)
                self._sha = sink.digest.hexdigest()
            else:
                self._sha = scan_file(self.path, check_utf8=False).sha256
        return self._sha

    def fingerprint(self) -> tuple[int, int, int] | None:
        """(inode, size, modification time) of the file; None for an in-memory table.

        Equal before and after a read means the bytes read are the bytes hashed.
        """
        return None if self.path is None else _stat(self.path)

    @property
    def size(self) -> int | None:
        """The file's size in bytes (None for in-memory tables)."""
        return self.path.stat().st_size if self.path is not None else None

    def relation_sql(self) -> str:
        """A DuckDB table function reading the file: `read_csv(...)` or `read_parquet(...)`.

        CSV columns are all VARCHAR; header, delimiter and quoting are explicit.

        Raises:
            InputError: The source is an in-memory table (use `relation`).
        """
        if self.kind == "parquet":
            assert self.path is not None
            return f"read_parquet({sql_literal(str(self.path))})"
        if self.kind != "csv" or self.csv is None or self._read_path is None:
            raise InputError(
                f"{self.name} is held in memory (a table or a workbook's sheet), not a file "
                "DuckDB reads",
                hint="call Source.relation(con) to register it with a DuckDB connection",
            )
        columns = ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in self.csv.header)
        # DuckDB sizes its read buffers at 16 longest lines (256 MB each with 16 MB lines, one
        # per reading thread); its buffer for ordinary lines is enough and leaves a
        # container's memory to the rest of the job.
        return (
            f"read_csv({sql_literal(str(self._read_path))}, "
            f"delim={sql_literal(self.csv.delimiter)}, quote='\"', escape='\"', header=true, "
            f"auto_detect=false, columns={{{columns}}}, strict_mode=true, null_padding=false, "
            f"max_line_size=16777216, buffer_size=33554432)"
        )

    def relation(self, con: duckdb.DuckDBPyConnection, alias: str = "og_source") -> str:
        """SQL naming this source on `con`: the file function, or a registered Arrow view."""
        if self._table is not None:
            con.register(alias, self._table)
            return sql_name(alias)
        return self.relation_sql()

    def to_arrow(self) -> pa.Table:
        """The whole table as Arrow: original column names, CSV values as strings."""
        if self._table is not None:
            return self._table
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            assert self.path is not None
            try:
                return pq.read_table(self.path)
            except Exception as exc:
                raise InputError(
                    f"the Parquet file cannot be read ({type(exc).__name__})",
                    file=self.name,
                    hint="export it again",
                ) from None
        import duckdb

        con = duckdb.connect(config=duckdb_config())
        try:
            con.execute("SET enable_progress_bar = false")
            return con.sql(f"SELECT * FROM {self.relation_sql()}").to_arrow_table()
        except duckdb.Error as exc:
            raise self.read_error(exc) from None
        finally:
            con.close()

    def line_numbers(self, rows: Iterable[int], *, row_count: int | None = None) -> list[int]:
        """The 1-based file line of each 0-based row index (for tables: the row's position).

        Args:
            rows: Row indices, in any order; the result follows this order.
            row_count: The number of data rows, when known: lets a file without multi-line
                fields skip the line-by-line pass.
        """
        wanted = list(rows)
        if self.sheet is not None:
            import numpy as np

            excel = self.sheet.rows.to_numpy()
            return [int(r) for r in excel[np.asarray(wanted, dtype=np.int64)]]
        if self.kind != "csv" or self.csv is None or self._read_path is None:
            return [i + 1 for i in wanted]
        physical = None
        if self._scan is not None:
            physical = self._scan.newlines + (0 if self._scan.ends_with_newline else 1)
        mapping = csv_lines(
            self._read_path,
            self.csv.delimiter,
            wanted,
            row_count=row_count,
            physical_lines=physical,
        )
        return [mapping.get(i, i + 2) for i in wanted]

    def is_encoding_error(self, exc: Exception) -> bool:
        """DuckDB found bytes that are not UTF-8 in a CSV that was not checked up front.

        The caller should open the source again with `verify_utf8=True` (which detects a
        Windows-1250 file and reads a UTF-8 copy) and read it again.
        """
        return not self.utf8_verified and "Invalid unicode" in str(exc)

    def read_error(self, exc: Exception) -> InputError:
        """Turn DuckDB's error reading this source into one line naming the file and line.

        The row's text is left out: it may hold a phone number.
        """
        text = str(exc)
        match = re.search(r"CSV Error on Line: (\d+)", text)
        line = int(match.group(1)) if match else None
        columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        if columns:
            message = f"the row has {columns.group(2)} fields but the header has {columns.group(1)}"
            hint = "check the delimiters on that line, and quote fields that contain them"
        elif "unterminated quote" in text:
            message = "a quoted field is never closed"
            hint = 'close the quote, or write a literal quote as two quotes ("")'
        elif "Invalid unicode" in text:
            message = "the text is not valid UTF-8"
            hint = "save the whole file in one encoding, UTF-8 or Windows-1250"
        else:
            first = text.splitlines()[0] if text else type(exc).__name__
            message = f"cannot be read: {first.split(':', 1)[-1].strip()}"
            hint = "export the file again as CSV (UTF-8) or Parquet"
        return InputError(message, file=self.name, line=line, hint=hint)


def _from_path(
    path: Path, name: str, *, hash_bytes: bool, verify_utf8: bool, sheet: str | int | None
) -> Source:
    kind = file_kind(path)
    if kind == "workbook":
        from optin_gate.io.workbook import read_sheet

        pending = _prefetched.pop((path.resolve(), name, sheet), None)
        # the hash and the rows must come from the same bytes
        before = _stat(path) if pending is None else pending[0]
        scan = scan_file(path, check_utf8=False) if hash_bytes else None
        read = pending[1].result() if pending else read_sheet(path, name=name, sheet=sheet)
        if _stat(path) != before:
            raise InputError(
                "the workbook changed while it was being read",
                file=name,
                hint="read it again once whatever writes it has finished",
            )
        return Source(name=name, kind="workbook", path=path, sheet=read, scan=scan)
    if sheet is not None:
        raise _not_a_workbook(name, sheet)
    if kind == "parquet":
        scan = scan_file(path, check_utf8=False) if hash_bytes else None
        src = Source(name=name, kind="parquet", path=path, scan=scan)
        try:
            src.columns  # noqa: B018  (reads the footer: fails early on a broken file)
        except Exception as exc:
            raise InputError(
                f"the Parquet file cannot be read ({type(exc).__name__})",
                file=name,
                hint="export it again",
            ) from None
        return src
    fmt = csv_format(path, name=name)
    if fmt.encoding == "utf-8" and not (verify_utf8 or hash_bytes):
        return Source(name=name, kind="csv", path=path, csv=fmt, utf8_verified=False)
    if fmt.encoding == "utf-8":
        scan = scan_file(path, digest=hash_bytes)
        if scan.utf8:
            return Source(name=name, kind="csv", path=path, csv=fmt, scan=scan)
        fmt = csv_format(path, encoding="cp1250", name=name)
    temp, scan = transcode(path, fmt.encoding, name=name)
    return Source(
        name=name, kind="csv", path=path, csv=fmt, read_path=temp, scan=scan, temporary=temp
    )


# (resolved path, name, sheet) -> the file's identity before the read, and the read
_prefetched: dict[tuple[Path, str, str | int | None], tuple[Any, Future[Sheet]]] = {}


def prefetch(source: str | os.PathLike[str], *, sheet: str | int | None = None) -> None:
    """Start parsing a workbook's sheet on a worker thread; `open_source` takes the result.

    calamine parses outside the GIL, so the caller's imports and store work run beside it.
    Anything but a readable workbook is left alone: `open_source` will say what is wrong.
    `open_source` must be given the same path, as text, and the same sheet.
    """
    path = Path(source)
    try:
        if file_kind(path) != "workbook":
            return
        before = _stat(path)
    except (InputError, OSError):
        return
    name = str(source)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optin-gate-sheet")
    read = pool.submit(_read_sheet, path, name=name, sheet=sheet)
    pool.shutdown(wait=False)
    _prefetched[(path.resolve(), name, sheet)] = (before, read)


def _read_sheet(path: Path, *, name: str, sheet: str | int | None) -> Sheet:
    # imported here, on the worker: the reader's own imports overlap the caller's too
    from optin_gate.io.workbook import read_sheet

    return read_sheet(path, name=name, sheet=sheet)


def _stat(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def _not_a_workbook(name: str, sheet: str | int) -> InputError:
    return InputError(
        f"a sheet ({sheet!r}) was named, but this is not a workbook",
        file=name,
        hint="leave out --sheet (sheet=) for CSV, Parquet and tables",
    )


def open_source(
    source: Any,
    *,
    name: str | None = None,
    hash_bytes: bool = False,
    verify_utf8: bool = True,
    sheet: str | int | None = None,
) -> Source:
    """Open a CSV/Parquet/workbook path, pandas DataFrame or pyarrow Table for reading.

    A CSV's encoding, delimiter and header are detected; a non-UTF-8 file gets a temporary
    UTF-8 copy (deleted by `Source.close()`). A workbook's sheet (.xlsx, .xlsm, .xlsb, .xls,
    .ods) is read into Arrow here, so a bad file stops before anything is loaded or written.

    Args:
        source: A path (str or PathLike), a pandas DataFrame or a pyarrow Table.
        name: How messages name it (default: the path as given).
        hash_bytes: Compute the file's SHA-256 in the same pass that checks its encoding
            (else `Source.sha256()` reads the file again when asked).
        verify_utf8: Read every byte of a CSV whose sample looks like UTF-8 to be sure it is
            (a Windows-1250 file can look like UTF-8 for its first megabyte). False skips
            that pass for a caller that lets DuckDB check while reading and opens the file
            again when `Source.is_encoding_error` says so.
        sheet: For a workbook, the sheet's name or number (from 1); default the first sheet
            that has data. An error for anything else.

    Raises:
        InputError: Missing, empty, not CSV/Parquet/workbook, unreadable, no such sheet, or
            not a table at all.
    """
    import pyarrow as pa

    if isinstance(source, str | os.PathLike):
        sweep()  # copies a killed run left behind
        path = Path(source)
        return _from_path(
            path, name or str(source), hash_bytes=hash_bytes, verify_utf8=verify_utf8, sheet=sheet
        )
    if isinstance(source, pa.Table):
        table = source
        label = name or "<Table>"
    elif isinstance(source, pa.RecordBatch):
        table = pa.Table.from_batches([source])
        label = name or "<Table>"
    elif _is_dataframe(source):
        try:
            table = pa.Table.from_pandas(source, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(
                f"the DataFrame cannot be converted to Arrow: {exc}",
                file=name or "<DataFrame>",
                hint="give every column one type (e.g. df[col].astype(str))",
            ) from None
        label = name or "<DataFrame>"
    else:
        raise InputError(
            f"cannot read a {type(source).__name__}",
            hint="pass a CSV or Parquet path, a pandas DataFrame or a pyarrow Table",
        )
    if sheet is not None:
        raise _not_a_workbook(label, sheet)
    names = table.column_names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(
            f"the table has the column {duplicated[0]!r} twice",
            file=label,
            hint="give every column its own name",
        )
    return Source(name=label, kind="arrow", table=table)


def read_table(source: Any, *, name: str | None = None, sheet: str | int | None = None) -> pa.Table:
    """Read a source whole into Arrow (original column names; CSV and sheet values as strings)."""
    with open_source(source, name=name, sheet=sheet) as src:
        return src.to_arrow()


def relation_sql(source: str | os.PathLike[str] | Source) -> str:
    """The DuckDB `read_csv(...)` / `read_parquet(...)` call that reads a UTF-8 CSV or Parquet.

    For a Windows-1250 or UTF-16 file use `open_source` and keep the `Source` open while the
    SQL runs: it reads a temporary UTF-8 copy.

    Raises:
        InputError: The file is not UTF-8 (with the hint above), or not CSV/Parquet.
    """
    if isinstance(source, Source):
        return source.relation_sql()
    path = Path(source)
    kind = file_kind(path)
    if kind == "parquet":
        return f"read_parquet({sql_literal(str(path))})"
    if kind == "workbook":
        raise InputError(
            "a workbook is read into memory, not by a DuckDB table function",
            file=str(source),
            hint="use optin_gate.io.open_source(path) and its relation(con) while it is open",
        )
    fmt = csv_format(path)
    if not fmt.duckdb_readable:
        raise InputError(
            f"the file is {fmt.encoding}, which DuckDB cannot read directly",
            file=str(source),
            hint="use optin_gate.io.open_source(path) and its relation_sql() while it is open",
        )
    return Source(name=str(source), kind="csv", path=path, csv=fmt).relation_sql()

"""One load, start to finish: stage off-lock, then merge in a single store transaction.

1. Open the source (encoding, delimiter, header).
2. If the same bytes were loaded as the same kind with the same arguments, say so: nothing
   is written. (The bytes are hashed up front only when an earlier load of that kind has the
   same size; otherwise in a thread beside step 3.)
3. Stage the rows in a private DuckDB (no store lock held): typed, checked, de-duplicated.
4. With the store open for writing: BEGIN, check step 2 again, merge, record the load and
   its rejects in `loads` / `load_rejects`, COMMIT. Any error rolls the whole load back.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from optin_gate.errors import InputError
from optin_gate.io import open_source
from optin_gate.io.source import Source
from optin_gate.store.controllers import controller_key
from optin_gate.store.database import first
from optin_gate.store.directory import merge_directory
from optin_gate.store.kinds import Kind, get_kind
from optin_gate.store.merge import merge_objections, merge_versioned
from optin_gate.store.register import merge_register
from optin_gate.store.report import LoadReport, StrictLoadError, empty_rejects
from optin_gate.store.stage import DATED, Staged, check_release_date, coerce_snapshot_date, stage

__all__ = ["LoadArgs", "check_columns", "check_controller", "run_load"]

Connect = Callable[[], Any]  # a context manager yielding a writable store connection


def check_controller(controller: object) -> str | None:
    """A `controller=` argument: None or a non-empty name, as its key (`controller_key`)."""
    if controller is None:
        return None
    if not isinstance(controller, str) or not controller.strip():
        raise InputError(
            f"controller={controller!r} is not a controller name",
            hint='pass the company\'s name, e.g. controller="acme", or leave it out',
        )
    return controller_key(controller)


def check_columns(columns: object) -> dict[str, str] | None:
    """A `columns=` argument: a mapping of the file's header -> canonical name."""
    if columns is None:
        return None
    if not isinstance(columns, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise InputError(
            "columns= must map the file's headers to canonical names",
            hint="pass e.g. columns={'Telefon': 'phone'}",
        )
    return dict(columns)


class LoadArgs:
    """The checked arguments of one load."""

    def __init__(
        self,
        kind: object,
        *,
        controller: object,
        snapshot_date: object,
        columns: object,
        strict: bool,
        region: str,
        sheet: str | int | None = None,
    ) -> None:
        self.kind: Kind = get_kind(kind)
        self.controller = check_controller(controller)
        self.snapshot_date: date | None = coerce_snapshot_date(snapshot_date)
        if self.snapshot_date is not None and self.kind.name not in DATED:
            raise InputError(
                f"snapshot_date applies to directory loads and sk_register releases, "
                f"not {self.kind.name}",
                hint="leave snapshot_date out",
            )
        if self.snapshot_date is not None and self.kind.name == "sk_register":
            check_release_date(self.snapshot_date)
        self.columns = check_columns(columns)
        self.strict = bool(strict)
        self.region = region
        self.sheet = sheet

    def options(self, sheet: str | None = None) -> str:
        """The arguments that change what a file means, as canonical JSON.

        `sheet`: the workbook sheet read (by name): another sheet of the same file is other
        rows. Absent for other sources, so their earlier loads still match.
        """
        options: dict[str, Any] = {
            "controller": self.controller,
            "snapshot_date": self.snapshot_date.isoformat() if self.snapshot_date else None,
            "columns": self.columns or {},
            "region": self.region,
        }
        if sheet is not None:
            options["sheet"] = sheet
        return json.dumps(options, sort_keys=True)


def _rejects_table(src: Source, staged: Staged) -> pa.Table:
    table = staged.rejects
    rows = table.column("__row").to_pylist()
    lines = src.line_numbers(rows, row_count=staged.rows_read)
    out: dict[str, Any] = {}
    if src.sheet is not None:
        out["sheet"] = pa.repeat(pa.scalar(src.sheet.name), len(lines))
    out |= {
        "line": _int64(lines),
        "column": table.column(1),
        "reason": table.column(2),
    }
    for i in range(3, table.num_columns):
        name = table.column_names[i]
        out[f"input_{name}" if name in out else name] = table.column(i)
    return pa.table(out)


def _int64(values: list[int]) -> pa.Array:
    """An Arrow int64 array from Python ints, straight from a buffer.

    (`pa.array(list)` makes pyarrow import pandas, a heavy import the load does not need.)
    """
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(array("q", values))])


def _prior(con: duckdb.DuckDBPyConnection, kind: str, sha: str, options: str) -> Any:
    return first(
        con,
        "SELECT load_id, rows_read, rows_loaded, rows_rejected FROM loads "
        "WHERE kind = ? AND sha256 = ? AND options = ? ORDER BY load_id LIMIT 1",
        [kind, sha, options],
    )


def _unchanged(
    con: duckdb.DuckDBPyConnection, prior: Any, args: LoadArgs, src: Source
) -> LoadReport:
    rejects = con.sql(
        'SELECT line, column_name AS "column", reason FROM load_rejects '
        f"WHERE load_id = {int(prior[0])} ORDER BY line"
    ).to_arrow_table()
    return LoadReport(
        kind=args.kind.name,
        file=src.name,
        load_id=int(prior[0]),
        rows_read=int(prior[1]),
        rows_loaded=int(prior[2]),
        rows_rejected=int(prior[3]),
        rejects=rejects if rejects.num_rows else empty_rejects(),
        unchanged=True,
        snapshot_date=args.snapshot_date,
        controller=args.controller,
    )


def _rejected(src: Source, rejects: pa.Table, what: str, hint: str) -> StrictLoadError:
    """A load refused for its rejects, located at the first of them."""
    top = rejects.slice(0, 1).to_pylist()[0]
    return StrictLoadError(
        f"{what}; the first: {top['reason']}",
        rejects=rejects,
        file=src.name,
        line=top["line"],
        column=top["column"],
        sheet=top.get("sheet"),
        hint=hint,
    )


def _strict_error(src: Source, rejects: pa.Table) -> StrictLoadError:
    return _rejected(
        src,
        rejects,
        f"{rejects.num_rows} row(s) rejected, so the strict load wrote nothing",
        "fix those rows, or load without --strict to load the rest and list the rejects",
    )


def _nothing_loadable(src: Source, args: LoadArgs, staged: Staged, rejects: pa.Table) -> None:
    """Refuse a load that would keep no row: it is a wrong file, not an empty truth.

    A directory snapshot with no rows would say that nobody is listed, which under the
    opt-out regime permits every call; any other kind would record a load that did nothing
    while its rejects hide why.

    Raises:
        StrictLoadError: Every row was rejected (or a directory file has none); nothing written.
    """
    if staged.rows_read and rejects.num_rows >= staged.rows_read:
        raise _rejected(
            src,
            rejects,
            f"all {staged.rows_read:,} row(s) were rejected, so nothing was loaded",
            "check that this is the right file and its columns (--map), fix the rows, "
            "and load it again",
        )
    if not staged.rows_read and args.kind.name in DATED:
        raise StrictLoadError(
            "the directory file has no rows; an empty snapshot would mark every number unlisted"
            if args.kind.name == "directory"
            else "the Slovak list file has no rows; an empty release says nothing of any number",
            rejects=rejects,
            file=src.name,
            hint="load the full export for that date",
        )


def _check_named(
    con: duckdb.DuckDBPyConnection, args: LoadArgs, staged: Staged, src: Source
) -> None:
    """Refuse a consents or contracts load naming no controller into a shared store.

    With more than one company in the store, "default" would be a company nobody named:
    the rows would count for whichever gate happens to call itself "default".

    Raises:
        InputError: The store holds several controllers and the load names none.
    """
    if args.kind.name not in {"consents", "contracts"} or args.controller is not None:
        return
    if "controller" in staged.mapping:
        return
    found = first(
        con,
        "SELECT count(DISTINCT controller) FROM (SELECT controller FROM consents_current "
        "UNION ALL SELECT controller FROM contracts_current)",
    )
    if found and found[0] > 1:
        raise InputError(
            f"the store holds {found[0]} controllers and these {args.kind.name} name none, "
            "so nothing was loaded",
            file=src.name,
            hint="pass --controller NAME (Python: controller=...) or add a controller column",
        )


def _merge(
    con: duckdb.DuckDBPyConnection, args: LoadArgs, staged: Staged, load_id: int, file: str
) -> int:
    con.register("og_incoming", staged.rows)
    try:
        if args.kind.name == "directory":
            assert staged.snapshot_date is not None
            return merge_directory(con, load_id, staged.snapshot_date, file=file)
        if args.kind.name == "sk_register":
            assert staged.snapshot_date is not None
            return merge_register(con, load_id, staged.snapshot_date, file=file)
        if args.kind.name == "objections":
            return merge_objections(con, args.kind, load_id)
        return merge_versioned(con, args.kind, load_id)
    finally:
        con.unregister("og_incoming")


def _early_check(
    src: Source, args: LoadArgs, options: str, read: Connect
) -> tuple[LoadReport | None, Callable[[], str]]:
    """The unchanged report if these bytes were loaded alike; else how to get their hash.

    Hashing a large file takes a while. Unless the store holds a load of the same kind,
    arguments and file size, the hash is computed in a thread while the staging runs (the
    check that counts is repeated inside the load's transaction).
    """
    size = src.size
    if size is not None:
        with read() as con:
            same = first(
                con,
                "SELECT count(*) FROM loads WHERE kind = ? AND options = ? AND file_size = ?",
                [args.kind.name, options, size],
            )
        if not same or not same[0]:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optin-gate-hash")
            future = pool.submit(src.sha256)
            pool.shutdown(wait=False)
            return None, future.result
    sha = src.sha256()
    with read() as con:
        prior = _prior(con, args.kind.name, sha, options)
        if prior is not None:
            return _unchanged(con, prior, args, src), lambda: sha
    return None, lambda: sha


def run_load(source: Any, args: LoadArgs, connect: Connect, read: Connect) -> LoadReport:
    """Load one source as `args` says; see the module docstring for the steps."""
    with open_source(source, sheet=args.sheet) as src:
        before = src.fingerprint()
        options = args.options(src.sheet.name if src.sheet is not None else None)
        unchanged, digest = _early_check(src, args, options, read)
        if unchanged is not None:
            return unchanged
        staged = stage(
            args.kind,
            src,
            controller=args.controller,
            snapshot_date=args.snapshot_date,
            columns=args.columns,
            region=args.region,
        )
        rejects = _rejects_table(src, staged)
        if args.strict and rejects.num_rows:
            raise _strict_error(src, rejects)
        _nothing_loadable(src, args, staged, rejects)
        sha = digest()
        if src.fingerprint() != before:
            raise InputError(
                "the file changed while it was being loaded; nothing was written",
                file=src.name,
                hint="load it again once whatever writes it has finished",
            )
        with connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                prior = _prior(con, args.kind.name, sha, options)
                if prior is not None:
                    con.execute("ROLLBACK")
                    return _unchanged(con, prior, args, src)
                _check_named(con, args, staged, src)
                row = first(con, "SELECT coalesce(max(load_id), 0) + 1 FROM loads")
                load_id = int(row[0]) if row else 1
                changed = _merge(con, args, staged, load_id, src.name)
                rejected = rejects.num_rows
                report = LoadReport(
                    kind=args.kind.name,
                    file=src.name,
                    load_id=load_id,
                    rows_read=staged.rows_read,
                    rows_loaded=staged.rows_read - rejected,
                    rows_rejected=rejected,
                    rejects=rejects,
                    rows_changed=changed,
                    snapshot_date=staged.snapshot_date,
                    controller=args.controller,
                )
                _record(con, report, sha=sha, options=options, source=staged.source, size=src.size)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return report


def _record(
    con: duckdb.DuckDBPyConnection,
    report: LoadReport,
    *,
    sha: str,
    options: str,
    source: str | None,
    size: int | None,
) -> None:
    con.execute(
        "INSERT INTO loads BY NAME SELECT ? AS load_id, ? AS kind, ? AS file_name, ? AS sha256, "
        "? AS rows_read, ? AS rows_loaded, ? AS rows_rejected, ? AS loaded_at, ? AS controller, "
        "? AS snapshot_date, ? AS rows_changed, ? AS options, ? AS source, ? AS file_size",
        [
            report.load_id,
            report.kind,
            _file_name(report.file),
            sha,
            report.rows_read,
            report.rows_loaded,
            report.rows_rejected,
            datetime.now(UTC),
            report.controller,
            report.snapshot_date,
            report.rows_changed,
            options,
            source,
            size,
        ],
    )
    if report.rows_rejected:
        con.register("og_rejects", report.rejects.select(["line", "column", "reason"]))
        con.execute(
            f'INSERT INTO load_rejects SELECT {report.load_id}, line, "column", reason '
            "FROM og_rejects"
        )
        con.unregister("og_rejects")


def _file_name(name: str) -> str:
    if name.startswith("<"):
        return name
    return name.replace("\\", "/").rsplit("/", 1)[-1]

"""`EvidenceStore`: consents, contracts, directory snapshots and objections, versioned.

A file store is a DuckDB file opened per operation and closed right after, so a dialler and a
nightly load in another process take turns instead of locking each other out (see
`optin_gate.store.database`). `EvidenceStore()` without a path keeps everything in memory.
Tables and views: `optin_gate.store.schema`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from optin_gate import __name__ as _package
from optin_gate._time import TimeLike, now_utc, to_utc
from optin_gate.errors import InputError, StoreError, StoreVersionError
from optin_gate.numbers import normalize_one
from optin_gate.store.controllers import FOLDED_FLAG, fold_stored_sql
from optin_gate.store.database import (
    Database,
    FileDatabase,
    MemoryDatabase,
    StoreBusyError,
    configure,
    first,
)
from optin_gate.store.feed import JournalFeed
from optin_gate.store.journal import Journal
from optin_gate.store.kinds import generated_objection_id
from optin_gate.store.loader import LoadArgs, check_controller, run_load
from optin_gate.store.objections import (
    JournalLike,
    Listeners,
    MemoryJournal,
    Objection,
    merge_journal,
    objection_entry,
    overlay_journal,
)
from optin_gate.store.report import LoadReport
from optin_gate.store.schema import DDL, SCHEMA_VERSION, UPGRADE
from optin_gate.store.subject import subject_export

__all__ = ["EvidenceStore"]

_SET_FOLDED = f"INSERT INTO meta VALUES ('{FOLDED_FLAG}', '1') ON CONFLICT DO NOTHING"


def _version(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        row = first(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    except duckdb.CatalogException:
        return None
    return int(row[0]) if row else None


class EvidenceStore:
    """The evidence the gate decides on.

    Args:
        path: The store file (created if missing), or None for an in-memory store.
        region: Region for numbers written without a country code (`Policy.default_region`).
        timeout: Seconds to wait when another process holds the file.

    Raises:
        StoreVersionError: The file was written by a newer optin_gate.
        StoreError: The file is not an optin_gate store.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        region: str = "CZ",
        timeout: float = 30.0,
    ) -> None:
        self.region = region
        self._db: Database
        self._journal: JournalLike
        if path is None:
            self._db = MemoryDatabase()
            self._journal = MemoryJournal()
        else:
            file = Path(path)
            self._db = FileDatabase(file, timeout=timeout)
            self._journal = Journal(file.with_name(file.name + ".objections.jsonl"))
        self._listeners = Listeners()
        self._counter = itertools.count(1)
        self._changes = 0
        self._merged: object = None  # the journal's identity when this object last merged it
        self._prepared = False
        self._prepare_lock = threading.Lock()
        try:
            self._prepare(0.0)
        except StoreBusyError:
            # Another process holds the file (a load): recording objections needs only the
            # journal, so the schema is checked at this object's first open instead.
            if self._db.path is None or not self._db.path.exists():
                raise

    def _ensure_prepared(self, timeout: float | None) -> None:
        if not self._prepared:
            with self._prepare_lock:
                if not self._prepared:
                    self._prepare(timeout)

    @property
    def path(self) -> Path | None:
        """The store file, or None for an in-memory store."""
        return self._db.path

    def __repr__(self) -> str:
        return f"EvidenceStore({str(self.path) if self.path else None!r})"

    def files(self) -> dict[str, Path]:
        """The files this store keeps, by what they are (none for an in-memory store).

        Outputs must never name one of them (`optin_gate.io.paths.check_outputs`).
        """
        if self.path is None:
            return {}
        journal = self._journal
        assert isinstance(journal, Journal)
        return {"the evidence store": self.path, "the store's objection journal": journal.path}

    # ---- schema --------------------------------------------------------------------------
    def _prepare(self, timeout: float | None) -> None:
        file = self._db.path
        if file is not None and file.exists() and file.stat().st_size > 0:
            with self._db.connect(read_only=True, timeout=timeout) as con:
                version = _version(con)
                tables = first(con, "SELECT count(*) FROM duckdb_tables()")
                current = first(
                    con,
                    "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'objections' "
                    "AND column_name = 'recorded_at'",
                )
                folded = version is not None and first(
                    con, f"SELECT 1 FROM meta WHERE key = '{FOLDED_FLAG}'"
                )
            if version is not None:
                self._check_version(version)
                if version < SCHEMA_VERSION or (current and not current[0]):
                    with self._db.write_lock(None), self._db.connect(read_only=False) as con:
                        con.execute(UPGRADE)
                if not folded:  # names stored before they were folded to keys
                    with self._db.write_lock(None), self._db.connect(read_only=False) as con:
                        con.execute("BEGIN TRANSACTION")
                        con.execute(fold_stored_sql())
                        con.execute(_SET_FOLDED)
                        con.execute("COMMIT")
                self._prepared = True
                return
            if tables and tables[0]:
                raise StoreError(
                    "this DuckDB file is not an optin_gate store (it has no meta table)",
                    file=str(file),
                    hint="pass another --store path; a new one is created if it does not exist",
                )
        with self._db.write_lock(None), self._db.connect(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute(DDL)
            con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('created_at', ?), "
                "('created_by', ?) ON CONFLICT DO NOTHING",
                [str(SCHEMA_VERSION), now_utc().isoformat(), _package],
            )
            con.execute(_SET_FOLDED)
            con.execute("COMMIT")
            self._check_version(_version(con) or SCHEMA_VERSION)
        self._prepared = True

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store was written by a newer optin_gate (store schema version {version}; "
                f"this one reads up to {SCHEMA_VERSION})",
                file=str(self.path) if self.path else None,
                hint="upgrade optin_gate (pip install -U optin-gate), or use another store",
            )

    # ---- connections ---------------------------------------------------------------------
    def _merge(self, con: duckdb.DuckDBPyConnection) -> None:
        """Merge the journal on a write connection, unless it is as this object last merged it."""
        seen = self._journal.identity()
        if seen[1] and seen != self._merged:
            merge_journal(con, self._journal)
            self._merged = self._journal.identity()

    def _merge_pending(self) -> None:
        """Move journaled objections into the table if the store can be written right now."""
        seen = self._journal.identity()
        if not seen[1] or seen == self._merged:
            return
        with contextlib.suppress(StoreBusyError):
            self._ensure_prepared(0.0)
            with self._db.write_lock(0.0) as got:
                if got:
                    with self._db.connect(read_only=False, timeout=0.0) as con:
                        self._merge(con)

    @contextlib.contextmanager
    def _open(self, read_only: bool, timeout: float | None) -> Iterator[duckdb.DuckDBPyConnection]:
        self._ensure_prepared(timeout)
        if read_only:
            self._merge_pending()
        with self._db.connect(read_only=read_only, timeout=timeout) as con:
            if read_only:
                overlay_journal(con, self._journal.read())
            else:
                self._merge(con)
            yield con

    def cursor(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """A second cursor on a connection from `connect`, seeing the same objections.

        DuckDB's cursors do not share temporary tables, and the objections not yet merged are
        one (`connect`); a query on a bare cursor would miss them.
        """
        cursor = con.cursor()
        configure(cursor)
        overlay_journal(cursor, self._journal.read())
        return cursor

    @contextlib.contextmanager
    def connect(
        self, read_only: bool = True, *, timeout: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection to the store for one operation; closed when the block ends.

        Objections recorded but not yet merged are visible in `objections` here too. The
        session time zone is UTC. Keep the block short: a file store is locked for others
        while it is open (read-only: against writers; read-write: against everyone).

        Args:
            read_only: Only read (the default). A write connection also holds this process's
                writer lock.
            timeout: Seconds to wait for a lock held elsewhere (default: the store's).

        Raises:
            StoreError: The file stayed locked for the whole timeout (`StoreBusyError`).
        """
        if read_only:
            with self._open(True, timeout) as con:
                yield con
            return
        with self._db.write_lock(timeout) as got:
            if not got:
                raise StoreBusyError(
                    "another thread of this process is writing to the store",
                    file=str(self.path) if self.path else None,
                    hint="try again when it has finished",
                )
            with self._open(False, timeout) as con:
                yield con
            self._changes += 1

    # ---- loading -------------------------------------------------------------------------
    def load(
        self,
        kind: str,
        source: Any,
        *,
        controller: str | None = None,
        snapshot_date: Any = None,
        columns: dict[str, str] | None = None,
        strict: bool = False,
        sheet: str | int | None = None,
    ) -> LoadReport:
        """Load consents, contracts, a directory snapshot, objections or a Slovak list release.

        Args:
            kind: "consents", "contracts", "directory", "objections" or "sk_register".
            source: A CSV, Parquet or workbook (.xlsx, .xlsm, .xlsb, .xls, .ods) path, a
                pandas DataFrame or a pyarrow Table.
            controller: The company the rows belong to where they name none (consents and
                contracts default to "default"; objections to every controller).
            snapshot_date: The directory snapshot's date (date or "2026-11-01" /
                "1.11.2026"), when the file has no snapshot_date column; for
                "sk_register", the release's date (a 1st or 16th), when it has no
                release_date column.
            columns: The file's headers -> canonical names, e.g. {"Telefon": "phone"}.
            strict: Any rejected row aborts the load (`StrictLoadError`); nothing is written.
            sheet: A workbook's sheet, by name or number from 1 (default: the first sheet
                that has data).

        Returns:
            What the load did; `unchanged` when these bytes were already loaded alike.

        Raises:
            InputError: Unknown kind, unreadable file, missing column, bad argument.
        """
        args = LoadArgs(
            kind,
            controller=controller,
            snapshot_date=snapshot_date,
            columns=columns,
            strict=strict,
            region=self.region,
            sheet=sheet,
        )
        report = run_load(
            source,
            args,
            connect=lambda: self.connect(read_only=False),
            read=lambda: self.connect(read_only=True),
        )
        self._changes += 1
        return report

    # ---- objections ----------------------------------------------------------------------
    def _key(self, phone: object, what: str = "phone") -> int:
        value = normalize_one(str(phone) if phone is not None else None, self.region)
        if not value.valid or value.e164 is None:
            raise InputError(
                f"{what} is not a valid phone number",
                hint="pass the number as dialled, e.g. +420 601 234 567",
            )
        return int(value.e164[1:])

    def record_objection(
        self,
        phone: str,
        *,
        controller: str | None = None,
        at: TimeLike = None,
        source: str | None = None,
        objection_id: str | None = None,
    ) -> None:
        """Record "do not call me again", durable before this returns.

        The objection goes to the journal next to the store file (fsync'd) and is merged into
        the store now, or, if another process holds the file, at the next open. Listeners
        (`subscribe`) hear of it before this returns.

        Args:
            phone: The number, in any usual form.
            controller: The company objected to; None means every controller.
            at: When the person objected (default now; naive = Prague time).
            source: Free text, e.g. "call 2026-11-28 agent 17".
            objection_id: The caller's own id for it (e.g. a CRM ticket); by default one is
                derived from the number, controller and time, so a repeat is one objection.

        It never waits for the store file: only for the journal's lock, which other writers
        hold for one append.

        Raises:
            InputError: Not a valid number, or a bad argument.
            StoreError: The journal could not be written (locked for longer than its timeout,
                or a disk error); the objection is not recorded.
        """
        key = self._key(phone)
        controller = check_controller(controller)
        objected_at = to_utc(at, name="at")
        objection = Objection(
            phone=key,
            controller=controller,
            objected_at=objected_at,
            objection_id=objection_id
            if objection_id
            else generated_objection_id(key, controller, objected_at),
            source=None if source is None else str(source),
            recorded_at=now_utc(),
        )
        self._journal.append(objection_entry(objection))
        self._changes += 1
        self._listeners.notify(objection)
        with contextlib.suppress(StoreError):
            self._merge_pending()

    def subscribe(self, callback: Callable[[Objection], object]) -> Callable[[], None]:
        """Call `callback(objection)` for every objection recorded through this store object.

        The callback gets an `Objection` (phone key, controller or None, objected_at in UTC,
        objection_id) after the objection is durable. Returns a function that unsubscribes.
        """
        return self._listeners.subscribe(callback)

    def objection_feed(self) -> JournalFeed | None:
        """A reader of the objections other processes record (None for an in-memory store)."""
        return JournalFeed(self._journal) if isinstance(self._journal, Journal) else None

    def change_token(self) -> tuple[int, ...]:
        """A cheap value that changes whenever the evidence may have changed.

        For a file store: the file's and its WAL's size and modification time, the journal's
        size and this object's own write counter (no lock, no open). Equal tokens mean no
        change; a new token means "refresh" (it may occasionally change without new evidence,
        e.g. when DuckDB checkpoints).
        """
        parts: list[int] = [self._changes, self._journal.size()]
        file = self._db.path
        if file is not None:
            for candidate in (file, file.with_name(file.name + ".wal")):
                try:
                    st = candidate.stat()
                    parts += [st.st_mtime_ns, st.st_size]
                except FileNotFoundError:
                    parts += [0, 0]
        return tuple(parts)

    # ---- reading -------------------------------------------------------------------------
    def subject(self, phone: str) -> dict[str, Any]:
        """Everything held about one number (GDPR Art. 15), JSON-serializable.

        Raises:
            InputError: Not a valid phone number.
        """
        key = self._key(phone)
        with self.connect() as con:
            return subject_export(con, key)

    def loads(self) -> pa.Table:
        """The load history, one row per load, oldest first."""
        with self.connect() as con:
            return con.sql("SELECT * FROM loads ORDER BY load_id").to_arrow_table()

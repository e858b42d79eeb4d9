"""Writing output files atomically: one file, or the several files of one run together.

Each file is written to a temp file beside its target (the same folder, so that the rename is
atomic), synced to disk and renamed over the target; then the folder is synced, so that the
rename survives a crash too. A dialler or a colleague never picks up half a file, and a run
that fails leaves the previous files in place.

Temp files are named `TEMP_PREFIX` + the target's name + ".<pid>.<random>.tmp". Only a crash
leaves one behind (holding part of a list): the next run that writes into that folder removes
the temp files of processes that no longer run (`sweep_temps`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from optin_gate.errors import InputError
from optin_gate.io.scratch import alive

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COMMIT_PREFIX",
    "TEMP_PREFIX",
    "Staged",
    "check_target",
    "output_format",
    "recover_commits",
    "staged_files",
    "sweep_temps",
    "sync_folder",
    "write_table",
    "write_text",
]

TEMP_PREFIX = ".optin-gate."
COMMIT_PREFIX = ".optin-gate.commit."
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


def check_target(path: str | os.PathLike[str]) -> Path:
    """The path, if a file can be written there; checked before any work is done.

    Raises:
        InputError: Its folder does not exist, or it is a folder itself.
    """
    target = Path(path)
    if not _folder(target).is_dir():
        raise InputError(
            "the folder does not exist",
            file=str(target),
            hint="create the folder first or choose another path",
        )
    if target.is_dir():
        raise InputError(
            "this is a folder, not a file", file=str(target), hint="give a file name too"
        )
    return target


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def sync_folder(folder: Path) -> None:
    """Make a file created or renamed in `folder` survive a crash (where the OS allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sweep_temps(folder: Path) -> int:
    """Remove the temp files that processes no longer running left in `folder`; how many.

    Processes are looked up on this machine: a folder shared with another machine could lose
    a temp file of a run there, which then fails at its rename and leaves the old file.
    """
    recover_commits(folder)
    removed = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            owner = _temp_owner(entry.name)
            if owner is not None and owner != os.getpid() and not alive(owner):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _write_intent(pending: list[tuple[Path, Path]]) -> Path:
    """Record, synced, the renames about to be made, in the first target's folder."""
    folder = _folder(pending[0][1])
    record = folder / f"{COMMIT_PREFIX}{os.getpid()}.{secrets.token_hex(4)}.json"
    pairs = [[str(tmp.resolve()), str(target.resolve())] for tmp, target in pending]
    with record.open("w", encoding="utf-8") as fh:
        json.dump(pairs, fh)
        fh.flush()
        os.fsync(fh.fileno())
    sync_folder(folder)
    return record


def recover_commits(folder: Path) -> int:
    """Finish the renames of runs that died while making their files visible; how many.

    A record is written only once every temp file it names is whole and synced, so its
    renames can be made by anyone: the run's files then appear together.
    """
    finished = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        records = [Path(e.path) for e in entries if e.name.startswith(COMMIT_PREFIX)]
    for record in records:
        owner = record.name[len(COMMIT_PREFIX) :].split(".", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid() or alive(int(owner)):
            continue
        try:
            pairs = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pairs = []  # torn before it was synced: no rename had started
        for tmp, target in pairs:
            if Path(tmp).exists():
                os.replace(tmp, target)
                sync_folder(_folder(Path(target)))
        record.unlink(missing_ok=True)
        finished += 1
    return finished


def _temp_owner(name: str) -> int | None:
    """The process id in a temp file's name; None for any other file."""
    if not (name.startswith(TEMP_PREFIX) and name.endswith(".tmp")):
        return None
    parts = name.rsplit(".", 3)  # [prefix + target, pid, random, "tmp"]
    return int(parts[1]) if parts[1].isdigit() else None


class Staged:
    """The files of one run: written to temp files beside their targets, then renamed.

    Use it through `staged_files()`. An error before `commit` leaves every target as it was
    and removes every temp file. `commit` syncs every temp file first; for several files it
    then writes an intent record (`.optin-gate.commit.<pid>.<random>.json`, synced) naming
    every (temp, target) pair, renames them one after another, syncs their folders and
    removes the record. POSIX renames several files in no single step, so a crash (power cut,
    kill -9) between the first rename and the last leaves some targets new and the others
    old, with the record beside them: the next run that writes into that folder finishes the
    renames before anything else (`recover_commits`), so the run's files end up together.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temp file, target), in commit order
        self._swept: set[Path] = set()

    def temp(self, target: str | os.PathLike[str]) -> Path:
        """A new temp file's name beside `target`, for a writer to create and fill.

        Not created here: a writer that finds the file there may stage its own copy first
        (DuckDB's COPY writes `tmp_<name>` and renames it), which a kill would leave behind.
        The writer's new file gets the usual permissions (0o666 less the umask). A crashed
        run's temp files in the folder are removed first (`sweep_temps`).
        """
        target = Path(target)
        if _folder(target) not in self._swept:
            self._swept.add(_folder(target))
            sweep_temps(_folder(target))
        name = f"{TEMP_PREFIX}{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        tmp = target.with_name(name)
        self._pending.append((tmp, target))
        return tmp

    def commit(self) -> None:
        """Sync every temp file, rename each over its target, then sync the folders."""
        for tmp, _ in self._pending:
            fd = os.open(tmp, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        record = _write_intent(self._pending) if len(self._pending) > 1 else None
        folders: dict[Path, None] = {}
        while self._pending:
            tmp, target = self._pending[0]
            os.replace(tmp, target)
            del self._pending[0]
            folders[_folder(target)] = None
        for folder in folders:
            sync_folder(folder)
        if record is not None:
            record.unlink()
            sync_folder(record.parent)

    def discard(self) -> None:
        """Remove the temp files not renamed yet."""
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending.clear()


@contextlib.contextmanager
def staged_files() -> Iterator[Staged]:
    """Files written in the block become visible when it ends without an error (`Staged`)."""
    staged = Staged()
    try:
        yield staged
        staged.commit()
    finally:
        staged.discard()


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically.

    Raises:
        InputError: The folder does not exist, or the path is a folder.
    """
    target = check_target(path)
    with staged_files() as files:
        files.temp(target).write_text(text, encoding="utf-8")
    return target


def write_table(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write `table` to `path` as CSV (UTF-8, header, comma) or Parquet, by extension; atomic.

    Returns:
        The path written.

    Raises:
        InputError: Unknown extension, or the folder does not exist.
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    fmt = output_format(path)
    target = check_target(path)
    with staged_files() as files:
        tmp = str(files.temp(target))
        if fmt == "parquet":
            pq.write_table(table, tmp)
        else:
            options = pcsv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
            pcsv.write_csv(table, tmp, write_options=options)
    return target

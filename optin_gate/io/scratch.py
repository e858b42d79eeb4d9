"""Private scratch files: copies of users' data that must not outlive a crash for long.

A transcoded call list is personal data. Scratch files live in one folder per user (mode
0700) and carry the writing process's id in their name, so every later run removes the ones
whose process is gone: a killed run's copy lasts until the next run starts, no longer.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["alive", "scratch_file", "scratch_folder", "sweep"]


def scratch_folder() -> Path:
    """The current user's scratch folder (created, private)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"optin-gate-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def sweep(folder: Path | None = None) -> int:
    """Remove scratch files left by processes that no longer run; returns how many.

    A temp folder that cannot be written holds no copies to remove: nothing to do then, and
    the run goes on (only a run that must write a copy fails, where it writes it).
    """
    removed = 0
    try:
        folder = folder if folder is not None else scratch_folder()
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        owner = entry.name.split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not alive(int(owner)):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


def scratch_file(suffix: str) -> tuple[int, Path]:
    """A new private scratch file, open for writing: (descriptor, path). The caller deletes it."""
    folder = scratch_folder()
    sweep(folder)
    fd, name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=suffix, dir=folder)
    return fd, Path(name)

"""Atomic text files for the HTML and JSON reports: a temp file beside the target, renamed.

Tables go through `optin_gate.io.write_table`, which works the same way. A crash or an error
part-way leaves either the old file or none, never half a report.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from optin_gate.errors import InputError

__all__ = ["check_target", "write_text"]


def check_target(path: str | os.PathLike[str]) -> Path:
    """The path, if a file can be written there (its folder exists and it is no folder).

    Raises:
        InputError: It cannot; checked before any work so that no output is half done.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(
            f"the folder {folder} does not exist",
            file=str(target),
            hint="create the folder first or choose another path",
        )
    if target.is_dir():
        raise InputError(
            "this is a folder, not a file", file=str(target), hint="give a file name too"
        )
    return target


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically; the file gets the usual permissions (0o666 less umask)."""
    target = check_target(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target

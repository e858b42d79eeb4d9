"""Output paths that must not name an input: a filter writing over its own list loses it.

Checked before any work starts, so a refused run writes nothing. Paths are compared after
resolving links and `..`, and by inode where both exist (a hard link is the same file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from optin_gate.errors import InputError

__all__ = ["check_outputs"]

PathLike = str | os.PathLike[str]


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist yet
        return False


def check_outputs(
    outputs: Mapping[str, PathLike | None], inputs: Mapping[str, object | None]
) -> None:
    """Refuse an output that names an input, or another output.

    Args:
        outputs: Option name -> output path (None: not asked for).
        inputs: What the run reads, name -> path; values that are not paths (a DataFrame,
            an in-memory store) are skipped.

    Raises:
        InputError: Naming the option and the file it would overwrite.
    """
    seen: list[tuple[str, Path]] = [
        (name, Path(os.fspath(value)))
        for name, value in inputs.items()
        if isinstance(value, str | os.PathLike)
    ]
    for name, value in outputs.items():
        if value is None:
            continue
        path = Path(os.fspath(value))
        for other, taken in seen:
            if _same(path, taken):
                raise InputError(
                    f"{name} {path} names the same file as {other}",
                    file=str(path),
                    hint=f"write {name} to a new file; {other} must stay as it is",
                )
        seen.append((name, path))

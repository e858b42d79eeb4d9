"""numba's `njit`, with a compile cache that works wherever the package is installed.

numba caches compiled code in `__pycache__` beside the source, or else in the user's cache
folder; on a read-only install run by a user without a writable home (a service account,
a read-only container) it finds neither and raises at import. Then the cache goes to the
private scratch folder, and where even that cannot be written, caching is off (the
kernels compile once per process instead).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
from numba.misc.appdirs import user_cache_dir

from optin_gate.io.scratch import scratch_folder

__all__ = ["CACHING", "njit"]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _choose_cache() -> bool:
    """Point numba at a cache folder it can write; False when there is none."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return True
    if _writable(Path(__file__).parent / "__pycache__"):
        return True
    if _writable(Path(user_cache_dir(appname="numba", appauthor=False))):  # type: ignore[no-untyped-call]
        return True
    try:
        private = scratch_folder() / "numba"
    except OSError:
        return False
    if not _writable(private):
        return False
    numba.config.CACHE_DIR = str(private)  # type: ignore[attr-defined]
    return True


CACHING = _choose_cache()


def njit(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """`numba.njit`, caching only where a cache folder can be written."""
    if not CACHING:
        kwargs["cache"] = False
    return numba.njit(*args, **kwargs)  # type: ignore[no-any-return]

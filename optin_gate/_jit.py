"""numba's `njit`, with a compile cache that is never stale and works wherever installed.

numba keys a cached function by its own file's time stamp, but the kernels inline rules from
other modules (`store.semantics`): an edited rule would run as the old machine code. So the
cache lives in a folder named after a digest of the package's sources, in the user's cache
folder, else in the private scratch folder (a read-only install run by a user without a
writable home, such as a service account); where nothing can be written, caching is off and
the kernels compile once per process.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
from numba.misc.appdirs import user_cache_dir

from optin_gate.io.scratch import scratch_folder

__all__ = ["CACHING", "njit", "sources_digest"]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def sources_digest(package: Path = Path(__file__).parent) -> str:
    """A digest of every module of the package: any edit gives a new cache folder."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _choose_cache() -> bool:
    """Point numba at a cache folder it can write; False when there is none."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return True
    name = f"optin-gate-{sources_digest()}"
    user = Path(user_cache_dir(appname="numba", appauthor=False))  # type: ignore[no-untyped-call]
    places: tuple[Callable[[], Path], ...] = (
        lambda: user / name,
        lambda: scratch_folder() / "numba" / name,
    )
    for place in places:
        try:
            chosen = place()
        except OSError:
            continue
        if _writable(chosen):
            numba.config.CACHE_DIR = str(chosen)  # type: ignore[attr-defined]
            return True
    return False


CACHING = _choose_cache()


def njit(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """`numba.njit`, caching only where a cache folder can be written."""
    if not CACHING:
        kwargs["cache"] = False
    return numba.njit(*args, **kwargs)  # type: ignore[no-any-return]

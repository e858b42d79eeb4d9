"""The compile cache: never stale, and working on a read-only install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import pytest

import optin_gate
from optin_gate._jit import sources_digest
from optin_gate._resources import data_dir

SCRIPT = """
import optin_gate as og, pyarrow as pa
gate = og.Gate(og.EvidenceStore())
print(gate.check("+420601234567", at="2026-01-05").reason.value)
print(gate.filter(pa.table({"phone": ["601234567"]}), as_of="2026-01-05").summary)
"""


def _mount_read_only(source: Path, target: Path) -> bool:
    target.mkdir()
    bind = subprocess.run(
        ["mount", "--bind", str(source), str(target)], capture_output=True, check=False
    )
    if bind.returncode != 0:
        return False
    ro = subprocess.run(
        ["mount", "-o", "remount,ro,bind", str(target)], capture_output=True, check=False
    )
    return ro.returncode == 0


@pytest.mark.slow
def test_checks_work_from_a_read_only_install_without_a_writable_home(tmp_path: Path) -> None:
    """numba's cache would otherwise raise 'no locator available' at the first check."""
    src = tmp_path / "src"
    shutil.copytree(
        Path(optin_gate.__file__).parent,
        src / "optin_gate",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(data_dir(), src / "optin_gate" / "_data")  # as a wheel holds it
    ro = tmp_path / "ro"
    if not _mount_read_only(src, ro):
        pytest.skip("cannot make a read-only mount here (needs root and mount)")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env.update(HOME=str(ro), PYTHONPATH=str(ro), TMPDIR=str(tmp_path / "tmp"))
        (tmp_path / "tmp").mkdir()
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.splitlines()[0] == "STALE_DIRECTORY"
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def test_an_edited_rule_gets_a_new_compile_cache(tmp_path: Path) -> None:
    """The kernels inline `store.semantics`; numba alone would keep the old machine code."""
    copy = tmp_path / "optin_gate"
    shutil.copytree(
        Path(optin_gate.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    before = sources_digest(copy)
    assert sources_digest(copy) == before
    rules = copy / "store" / "semantics.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert sources_digest(copy) != before
    assert numba.config.CACHE_DIR.endswith(f"optin-gate-{sources_digest()}")  # type: ignore[attr-defined]

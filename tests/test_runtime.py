"""Execution settings follow the share of the machine the process may use, not the host's.

The thread count follows the CPU affinity and the cgroup's CPU quota, unless
OPTIN_GATE_THREADS says otherwise; the memory is the smaller of the RAM and the cgroup's
limit, on cgroup v1 and v2 alike (faked here as files, as the kernel shows them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import optin_gate as og
from optin_gate import _runtime
from optin_gate.errors import InputError

GB = 1 << 30


def _fake_v1(tmp: Path, *, memory: dict[str, str], cpu: dict[str, str]) -> Path:
    """A /proc/self and a v1 hierarchy: the process in /box/job, limits per folder."""
    proc = tmp / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text("5:memory:/box/job\n3:cpu,cpuacct:/box/job\n0::/\n")
    mounts = []
    for n, (name, files) in enumerate((("memory", memory), ("cpu,cpuacct", cpu))):
        mount = tmp / "sys" / name
        mounts.append(f"{30 + n} 20 0:{30 + n} / {mount} rw - cgroup cgroup rw,{name}")
        for rel, text in files.items():
            path = mount / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
    (proc / "mountinfo").write_text("\n".join(mounts) + "\n")
    return proc


def _fake_v2(tmp: Path, files: dict[str, str], *, root: str = "/") -> Path:
    """A /proc/self and a v2 hierarchy mounted with `root` as its top folder."""
    proc = tmp / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text("0::/box/job\n")
    mount = tmp / "sys"
    (proc / "mountinfo").write_text(f"40 20 0:40 {root} {mount} rw - cgroup2 cgroup2 rw\n")
    for rel, text in files.items():
        path = mount / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return proc


def test_v1_limits_are_the_tightest_along_the_cgroups_ancestors(tmp_path: Path) -> None:
    proc = _fake_v1(
        tmp_path,
        memory={
            "memory.limit_in_bytes": "9223372036854771712",  # v1's "no limit"
            "box/memory.limit_in_bytes": str(GB),
            "box/job/memory.limit_in_bytes": str(2 * GB),
        },
        cpu={
            "box/cpu.cfs_quota_us": "-1",
            "box/cpu.cfs_period_us": "100000",
            "box/job/cpu.cfs_quota_us": "150000",
            "box/job/cpu.cfs_period_us": "100000",
        },
    )
    assert _runtime.cgroup_memory_limit(proc) == GB
    assert _runtime.cgroup_cpu_limit(proc) == 1.5


def test_v2_limits_are_read_from_memory_max_and_cpu_max(tmp_path: Path) -> None:
    proc = _fake_v2(
        tmp_path,
        {
            "box/memory.max": str(3 * GB),
            "box/job/memory.max": "max",
            "box/job/cpu.max": "200000 100000",
            "box/cpu.max": "max 100000",
        },
    )
    assert _runtime.cgroup_memory_limit(proc) == 3 * GB
    assert _runtime.cgroup_cpu_limit(proc) == 2.0


def test_a_container_that_sees_its_own_cgroup_as_the_root(tmp_path: Path) -> None:
    # The mount shows /box/job as its top folder: the limit is in the mount's own files.
    proc = _fake_v2(tmp_path, {"memory.max": str(GB)}, root="/box/job")
    assert _runtime.cgroup_memory_limit(proc) == GB


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    assert _runtime.cgroup_memory_limit(proc) is None
    assert _runtime.cgroup_cpu_limit(proc) is None


def test_memory_and_threads_follow_the_cgroup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = _fake_v2(tmp_path, {"box/job/memory.max": str(GB), "box/job/cpu.max": "100000 100000"})
    monkeypatch.setattr(_runtime, "PROC", proc)
    monkeypatch.delenv(_runtime.THREADS_ENV, raising=False)
    assert _runtime.memory_bytes() == min(GB, _runtime.physical_memory())
    assert _runtime.threads() == 1  # one core's quota, however many cores the affinity has
    # DuckDB is left room for the interpreter and the buffers outside it.
    assert _runtime.duckdb_memory_limit() == GB // 2
    assert _runtime.duckdb_config() == {"threads": "1", "memory_limit": "512MiB"}
    # Less for a caller that holds Arrow beside DuckDB, but never under a quarter.
    assert _runtime.duckdb_memory_limit(beside=100 << 20) == GB // 2 - (100 << 20)
    assert _runtime.duckdb_memory_limit(beside=GB) == GB // 4


def test_the_environment_setting_overrides_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_runtime.THREADS_ENV, "3")
    assert _runtime.threads() == 3
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv(_runtime.THREADS_ENV, bad)
        with pytest.raises(InputError, match=_runtime.THREADS_ENV):
            _runtime.threads()


def test_a_store_connection_takes_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_runtime.THREADS_ENV, "1")
    for store in (og.EvidenceStore(), og.EvidenceStore(tmp_path / "s.duckdb")):
        with store.connect() as con:
            ((threads, limit),) = con.execute(
                "SELECT current_setting('threads'), current_setting('memory_limit')"
            ).fetchall()
        assert int(threads) == 1
        assert limit.endswith("iB")  # set, in DuckDB's own spelling


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs CPU affinity and two cores",
)
def test_the_thread_count_follows_an_affinity_changed_at_run_time() -> None:
    code = (
        "import os\n"
        "from optin_gate import _runtime\n"
        "cores = sorted(os.sched_getaffinity(0))\n"
        "before = _runtime.threads()\n"
        "os.sched_setaffinity(0, cores[:1])\n"
        "one = _runtime.threads()\n"
        "os.sched_setaffinity(0, cores[:2])\n"
        "print(before, one, _runtime.threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != _runtime.THREADS_ENV}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    before, one, two = map(int, out.stdout.split())
    assert one == 1
    assert two == min(2, before)

"""Execution settings: how many threads and how much memory this process may use.

The one place that sizes work by the machine. A container's share of it is not the host's:
the usable cores are the CPU affinity capped by the cgroup's CPU quota, and the memory is the
smaller of the physical RAM and the cgroup's memory limit (cgroup v1 and v2, read along the
process's own cgroup and its ancestors). `OPTIN_GATE_THREADS` overrides the thread count.

Everything is read when asked, not at import, so a changed affinity or limit takes effect at
the next batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

from optin_gate.errors import InputError

__all__ = [
    "THREADS_ENV",
    "cgroup_cpu_limit",
    "cgroup_memory_limit",
    "duckdb_config",
    "duckdb_memory_limit",
    "memory_bytes",
    "physical_memory",
    "threads",
    "usable_cores",
]

THREADS_ENV = "OPTIN_GATE_THREADS"
PROC = Path("/proc/self")  # names this process's cgroups (tests point it elsewhere)
# DuckDB's own default share of memory; the rest is the interpreter's, Arrow's and the
# compiled kernels' buffers. Under a tight limit DuckDB gets what is left after `_RESERVE`
# (at least a quarter): the interpreter, its libraries and the compiled kernels' buffers do
# not shrink with the limit.
_DUCKDB_SHARE = 0.8
_RESERVE = 512 << 20


def threads() -> int:
    """Threads for the compiled kernels and DuckDB: `OPTIN_GATE_THREADS`, else usable cores.

    Raises:
        InputError: `OPTIN_GATE_THREADS` is set but not a whole number of at least 1.
    """
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return usable_cores()
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise InputError(
            f"{THREADS_ENV} must be a whole number of threads, at least 1, not {text!r}",
            hint="set it to e.g. 2, or unset it to use every usable core",
        )
    return count


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by its CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(cores, 1)


def physical_memory() -> int:
    """The machine's RAM in bytes."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 62


def memory_bytes() -> int:
    """The memory this process may use: the smaller of the RAM and its cgroup's limit."""
    limit = cgroup_memory_limit()
    ram = physical_memory()
    return ram if limit is None else min(ram, limit)


def duckdb_memory_limit(beside: int = 0) -> int:
    """Bytes DuckDB may hold: its own default share of `memory_bytes`, less under a limit.

    Args:
        beside: Bytes the caller holds outside DuckDB while it works (Arrow tables).
    """
    memory = memory_bytes()
    return int(max(memory // 4, min(memory * _DUCKDB_SHARE, memory - _RESERVE - beside)))


def duckdb_config(beside: int = 0) -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB settings that size it by this process's share of the machine (see `beside`)."""
    limit = duckdb_memory_limit(beside) >> 20
    return {"threads": str(threads()), "memory_limit": f"{limit}MiB"}


def cgroup_memory_limit(proc: Path | None = None) -> int | None:
    """The tightest memory limit on this process's cgroup and its ancestors, in bytes."""
    limits = []
    for folder, v2 in _cgroup_folders("memory", proc):
        text = _read(folder / ("memory.max" if v2 else "memory.limit_in_bytes"))
        if text and text != "max" and text.isdigit():
            limits.append(int(text))
    # cgroup v1 spells "no limit" as a huge page-rounded number.
    found = [limit for limit in limits if limit < 1 << 60]
    return min(found) if found else None


def cgroup_cpu_limit(proc: Path | None = None) -> float | None:
    """The tightest CPU quota on this process's cgroup and its ancestors, in cores."""
    quotas = []
    for folder, v2 in _cgroup_folders("cpu", proc):
        if v2:
            quota, _, period = (_read(folder / "cpu.max") or "max").partition(" ")
        else:
            quota = _read(folder / "cpu.cfs_quota_us") or "-1"
            period = _read(folder / "cpu.cfs_period_us") or "0"
        if quota.isdigit() and period.isdigit() and int(quota) > 0 and int(period) > 0:
            quotas.append(int(quota) / int(period))
    return min(quotas) if quotas else None


def _cgroup_folders(controller: str, proc: Path | None) -> Iterator[tuple[Path, bool]]:
    """The folders of this process's cgroup for `controller` and their ancestors, v2 or not.

    /proc/self/cgroup names the process's cgroup per hierarchy; /proc/self/mountinfo says
    where each hierarchy is mounted and which of its folders the mount shows (a container
    often sees its own cgroup as the root).
    """
    proc = proc or PROC
    groups: dict[str, str] = {}  # hierarchy ("" for v2) -> the process's cgroup in it
    for line in (_read(proc / "cgroup") or "").splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or controllers == "":
            groups["" if controllers == "" else controller] = path
    for line in (_read(proc / "mountinfo") or "").splitlines():
        fields, _, tail = line.partition(" - ")
        parts, kind = fields.split(), tail.split()
        if len(parts) < 5 or len(kind) < 3:
            continue
        v2 = kind[0] == "cgroup2"
        if not v2 and not (kind[0] == "cgroup" and controller in kind[2].split(",")):
            continue
        group = groups.get("" if v2 else controller)
        if group is None:
            continue
        root, mount = parts[3], Path(parts[4])
        inside = group[len(root) :] if group.startswith(root) else group
        folder = mount / inside.strip("/")
        while True:
            yield folder, v2
            if folder == mount or mount not in folder.parents:
                break
            folder = folder.parent


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None

"""What every benchmark script shares: timing, honest peak memory, ratios, a machine header.

A benchmark prints `header` first, times its step and a peer in the same run with
`median_seconds`, prints `ratio` lines, and measures peak memory with `run_measured`: the
step runs in a fresh process, so the figure is that step's own, not whatever an earlier step
in the same interpreter left behind. Scratch files go under `scratch()` (./bench-out/,
git-ignored). Benchmark scripts must keep their work under ``if __name__ == "__main__":``
because `run_measured` imports them in the child.
"""

from __future__ import annotations

import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_OUT",
    "Measured",
    "header",
    "median_seconds",
    "rate",
    "ratio",
    "run_measured",
    "scratch",
]

REPO = Path(__file__).resolve().parent.parent
BENCH_OUT = REPO / "bench-out"


def median_seconds(fn: Callable[[], object], repeat: int = 3, warmup: int = 0) -> float:
    """Median wall-clock seconds of ``repeat`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@dataclass(frozen=True)
class Measured:
    """One run in a fresh process.

    Attributes:
        seconds: The call's own time (a callable) or the process's wall time (a command).
        peak_mb: Peak resident memory of that process, interpreter and imports included.
        value: The callable's return value, or the command's stdout.
    """

    seconds: float
    peak_mb: float
    value: Any


def run_measured(target: Sequence[str] | Callable[..., Any], *args: Any) -> Measured:
    """Run a command, or a module-level function with picklable ``args``, in a fresh process.

    A forked child's peak RSS counts the parent's pages it started with (Linux keeps the
    high-water mark across exec), so a big benchmark process would inflate every figure. So
    a small launcher runs the step: a function's peak is its own process's ``VmHWM``
    (high-water mark since exec); a command's is ``os.wait4``'s ``ru_maxrss`` of that one
    child, which includes at most the launcher's own ~15 MB.

    Raises:
        RuntimeError: The step failed; the end of its stderr is in the message.
    """
    if callable(target):
        job: tuple[Any, ...] = ("call", *_importable_name(target), args)
    else:
        job = ("cmd", list(target))
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        files = [Path(tmp) / name for name in ("job", "result", "out", "err")]
        files[0].write_bytes(pickle.dumps(job))
        paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        launcher = [sys.executable, "-m", "benchmarks._harness", str(files[0]), str(files[1])]
        with files[2].open("w") as out, files[3].open("w") as err:
            done = subprocess.run(launcher, stdout=out, stderr=err, env=env, cwd=REPO, check=False)
        if done.returncode != 0:
            tail = files[3].read_text(errors="replace")[-2000:]
            raise RuntimeError(f"benchmark step {job[:3]} exited {done.returncode}: {tail}")
        seconds, peak_mb, value = pickle.loads(files[1].read_bytes())
        return Measured(seconds, peak_mb, files[2].read_text() if job[0] == "cmd" else value)


def _importable_name(fn: Callable[..., Any]) -> tuple[str, str]:
    """(module, qualname) a child can import; a script's ``__main__`` becomes its module path."""
    module = fn.__module__
    if module == "__main__":
        path = Path(sys.modules["__main__"].__file__ or "").resolve()
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return module, fn.__qualname__


def _own_peak_mb() -> float:
    try:  # Linux: peak RSS of this process since exec
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # macOS: bytes


def _launch(job_file: str, result_file: str) -> None:
    """The launcher's side of `run_measured`: run the step, pickle (seconds, peak MB, value)."""
    job = pickle.loads(Path(job_file).read_bytes())
    t0 = time.perf_counter()
    if job[0] == "cmd":
        proc = subprocess.Popen(job[1])
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(proc.returncode)
        scale = 2**20 if sys.platform == "darwin" else 2**10  # ru_maxrss: bytes / KiB
        result: tuple[float, float, Any] = (seconds, usage.ru_maxrss / scale, None)
    else:
        _, module, qualname, args = job
        fn: Any = import_module(module)
        for part in qualname.split("."):
            fn = getattr(fn, part)
        t0 = time.perf_counter()
        value = fn(*args)
        result = (time.perf_counter() - t0, _own_peak_mb(), value)
    Path(result_file).write_bytes(pickle.dumps(result))


def ratio(label: str, ours: float, peer: float, *, peer_name: str = "peer") -> float:
    """Print and return how many times faster ours is than the peer (seconds each)."""
    times = peer / ours if ours > 0 else float("inf")
    print(f"{label}: {times:,.1f}x vs {peer_name} (ours {ours:.3f} s, {peer_name} {peer:.3f} s)")
    return times


def rate(count: int, seconds: float) -> str:
    """``count`` per second, human-sized: '1.23 M/s'."""
    per = count / seconds if seconds > 0 else float("inf")
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per >= size:
            return f"{per / size:.2f} {unit}/s"
    return f"{per:.1f} /s"


def header(title: str) -> None:
    """Print the title and the machine the figures come from."""
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for pkg in ("duckdb", "pyarrow", "numpy", "phonenumbers"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} -")
    print(f"== {title} ==")
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"{ram_gb:.1f} GB RAM; python {platform.python_version()}; {', '.join(versions)}"
    )


def scratch(name: str = "") -> Path:
    """A folder under ./bench-out/ for a benchmark's files (created)."""
    path = BENCH_OUT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    _launch(sys.argv[1], sys.argv[2])

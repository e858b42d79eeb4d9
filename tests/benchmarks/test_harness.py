"""The benchmark harness: its timing and memory figures are the ones benchmarks print."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from benchmarks import _harness as h


def allocate(mb: int) -> int:
    """Touch ``mb`` MB (run in the child by run_measured)."""
    return int(np.ones(mb * 2**20 // 8).sum())


def test_peak_memory_is_the_steps_own_not_the_parents() -> None:
    ballast = np.ones(300 * 2**20 // 8)  # the benchmark process is already big
    small = h.run_measured(allocate, 1)
    big = h.run_measured(allocate, 200)
    assert big.value == 200 * 2**20 // 8
    assert big.peak_mb > 200
    assert small.peak_mb < 150
    assert big.peak_mb - small.peak_mb == pytest.approx(200, abs=20)
    cmd = h.run_measured([sys.executable, "-c", "print('hi')"])
    assert cmd.value == "hi\n"
    assert cmd.peak_mb < 60  # a bare interpreter, not the 300 MB parent
    assert ballast.size


def test_failed_step_raises() -> None:
    with pytest.raises(RuntimeError, match="exited 3"):
        h.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_median_seconds_runs_warmup_then_repeat() -> None:
    calls: list[int] = []
    seconds = h.median_seconds(lambda: calls.append(1), repeat=5, warmup=2)
    assert len(calls) == 7
    assert 0 <= seconds < 0.1


def test_ratio_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    assert h.ratio("normalize", 0.5, 20.0, peer_name="phonenumbers") == 40.0
    assert "normalize: 40.0x vs phonenumbers" in capsys.readouterr().out
    assert h.rate(2_500_000, 2.0) == "1.25 M/s"
    h.header("demo")
    out = capsys.readouterr().out
    assert out.startswith("== demo ==")
    assert "cores" in out
    assert "duckdb" in out

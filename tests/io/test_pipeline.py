"""Batches read on one thread and worked on others: in order, and errors cross both ways."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from optin_gate.io.pipeline import Pipeline

NAME = "optin-gate-test"


def _alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(NAME)]


@pytest.mark.parametrize(("workers", "ahead"), [(1, None), (3, 3), (4, 1)])
def test_results_come_in_the_order_read(workers: int, ahead: int | None) -> None:
    def work(i: int) -> int:
        time.sleep(random.random() / 1000)  # finish out of order
        return i * i

    with Pipeline(work, name=NAME, workers=workers, ahead=ahead) as line:
        line.feed(range(50))
        assert line.results() == [i * i for i in range(50)]
    assert _alive() == []


def test_a_reading_error_reaches_the_caller_and_the_worker_stops() -> None:
    started: list[int] = []
    release = threading.Event()

    def work(i: int) -> int:
        started.append(i)
        release.wait(5)
        return i

    def batches() -> Iterator[int]:
        yield from range(5)
        raise OSError("the file went away")

    threading.Timer(0.2, release.set).start()  # the batch running when the error comes ends
    with pytest.raises(OSError, match="went away"), Pipeline(work, name=NAME) as line:
        line.feed(batches())
    assert len(started) <= 1  # the batches no worker had started are cancelled
    assert _alive() == []


def test_a_workers_error_stops_the_reading() -> None:
    read: list[int] = []

    def work(i: int) -> int:
        raise ValueError(f"batch {i} is bad")

    def batches() -> Iterator[int]:
        for i in range(10_000):
            read.append(i)
            yield i
            time.sleep(0.01)

    with pytest.raises(ValueError, match="batch 0 is bad"), Pipeline(work, name=NAME) as line:
        line.feed(batches())
    assert len(read) < 10_000
    assert _alive() == []

"""Batches read on the calling thread and worked on worker threads, side by side.

Reading a file (DuckDB) and working on what was read (the numbers kernel, the audit's coding)
each leave a core idle part of the time; overlapped, they fill both. The filter and the audit
both read this way, through `Pipeline`. Reading stays on the calling thread, which owns the
DuckDB connection; only the work goes to the workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, Self, TypeVar

__all__ = ["Pipeline"]

T = TypeVar("T")
R = TypeVar("R")


class Pipeline(Generic[T, R]):
    """Each batch fed is handed to a worker as soon as it is read; the results come in order.

    Use it as a context manager::

        with Pipeline(work, name="optin-gate-normalize") as line:
            line.feed(batches)  # reads every batch
            ...  # other work on the reading thread while the last batches are worked on
            results = line.results()

    Errors cross in both directions. A worker's error is raised from `feed` (at the next batch
    after it, so reading stops early) or from `results`. An error on the reading side (the
    reader, the block) cancels the batches no worker has started, waits for the running ones
    and goes on up: the workers stop, and no thread outlives the block.
    """

    def __init__(
        self, work: Callable[[T], R], *, name: str, workers: int = 1, ahead: int | None = None
    ) -> None:
        """Start the workers.

        Args:
            work: Run on a worker thread for each batch.
            name: The worker threads' name prefix (seen in profilers and thread dumps).
            workers: Worker threads.
            ahead: At most this many batches read and not yet worked (reading waits for the
                oldest beyond it), to bound memory; None when every batch may be held.
        """
        self._work = work
        self._ahead = ahead
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._pending: deque[Future[R]] = deque()
        self._done: list[R] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            for part in self._pending:
                part.cancel()
        self._pool.shutdown(wait=True)

    def feed(self, batches: Iterable[T]) -> None:
        """Read every batch, handing each to a worker as it comes.

        Raises:
            BaseException: A worker's error, or the reader's.
        """
        for batch in batches:
            self._pending.append(self._pool.submit(self._work, batch))
            self._collect(self._ahead)

    def results(self) -> list[R]:
        """Every batch's result, in the order read, once all are worked.

        The pipeline keeps no reference to them: the caller alone decides when they are freed.
        """
        self._collect(0)
        done, self._done = self._done, []
        return done

    def _collect(self, ahead: int | None) -> None:
        """Take the finished results off the front; wait while more than `ahead` are pending."""
        pending = self._pending
        while pending and (pending[0].done() or (ahead is not None and len(pending) > ahead)):
            self._done.append(pending.popleft().result())

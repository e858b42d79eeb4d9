"""How `normalize` works through a batch, forced for tests: row by row or on distinct values."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from optin_gate.numbers import table


@contextmanager
def work_policy(row_by_row: bool) -> Iterator[None]:
    """Force normalize to work row by row, or on distinct values (it picks by sample size)."""
    saved = table.SAMPLE, table.DEDUP_BELOW
    table.SAMPLE, table.DEDUP_BELOW = 1, (0.0 if row_by_row else 2.0)
    try:
        yield
    finally:
        table.SAMPLE, table.DEDUP_BELOW = saved

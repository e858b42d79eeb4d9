"""DuckDB settings the audit changes for a block of work, and puts back afterwards.

The store's connection outlives an audit, so each change is scoped: `setting` restores the
value it found.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from optin_gate._sql import sql_literal

__all__ = ["SMALL_STREAM_BUFFER", "STREAM_BUFFER", "purging", "setting", "streaming"]

STREAM_BUFFER = "128MB"  # how far a streamed result may run ahead of its reader
SMALL_STREAM_BUFFER = "16MB"  # the same where memory is tight


@contextlib.contextmanager
def setting(con: duckdb.DuckDBPyConnection, name: str, value: str) -> Iterator[None]:
    """Set a DuckDB setting for the block, then put the old value back."""
    ((before,),) = con.execute(f"SELECT current_setting({sql_literal(name)})").fetchall()
    con.execute(f"SET {name} = {sql_literal(value)}")
    try:
        yield
    finally:
        con.execute(f"SET {name} = {sql_literal(str(before))}")


def streaming(
    con: duckdb.DuckDBPyConnection, size: str = STREAM_BUFFER
) -> contextlib.AbstractContextManager[None]:
    """Let a streamed result run ahead of its reader (by `size`) on every core, for the block.

    DuckDB buffers under 1 MB of a streamed result by default, so its threads wait for
    Python to take each batch: a read of the log ran on one core.
    """
    return setting(con, "streaming_buffer_size", size)


def purging(con: duckdb.DuckDBPyConnection) -> contextlib.AbstractContextManager[None]:
    """Have DuckDB's allocator hand freed memory back to the system as the audit runs.

    Without its background threads it keeps the pages of finished queries: building the
    evidence left hundreds of MB more resident, under the Arrow tables the audit holds.
    """
    return setting(con, "allocator_background_threads", "true")

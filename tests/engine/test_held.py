"""Which way a list goes: held in Arrow when it fits well within DuckDB's memory_limit,
else held by DuckDB, which spills (a list larger than memory still completes)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from optin_gate.engine import held
from optin_gate.io import open_source


def test_memory_limit_reads_duckdb_setting_in_bytes() -> None:
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")  # DuckDB shows it as "953.6 MiB"
    assert held.memory_limit(con) == pytest.approx(10**9, rel=1e-3)
    con.execute("SET memory_limit = '-1'")  # no limit: the machine's memory bounds it
    assert 0 < held.memory_limit(con) < 2**50


def test_memory_limit_is_at_most_what_the_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In a container the cgroup's limit, not the host's RAM, bounds what may be held.
    monkeypatch.setattr(held, "memory_bytes", lambda: 64 << 20)
    con = duckdb.connect()
    con.execute("SET memory_limit = '-1'")
    assert held.memory_limit(con) == 64 << 20
    con.execute("SET memory_limit = '16MB'")
    assert held.memory_limit(con) == pytest.approx(16 * 10**6, rel=1e-2)  # shown as 15.2 MiB


def test_a_list_is_held_only_when_it_takes_a_small_share_of_the_limit(tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("tel\n" + "601000001\n" * 100_000)  # 1 MB, 100,001 lines
    con = duckdb.connect()
    with open_source(listing) as src:
        # the text as Arrow (1.5 MB) and 64 bytes a row beside it (6.4 MB)
        assert held.estimated_bytes(src) == pytest.approx(1_500_000 + 100_001 * 64, rel=0.01)
        assert held.fits(con, src)
        con.execute("SET memory_limit = '30MB'")  # a quarter: 7.2 MB, less than 7.9 MB
        assert not held.fits(con, src)
        con.execute("SET memory_limit = '40MB'")
        assert held.fits(con, src)
    frame = pd.DataFrame({"tel": ["601000001"]})
    with open_source(frame) as src:  # already in memory: nothing more to hold
        assert held.estimated_bytes(src) == 0
        assert held.fits(con, src)


def test_a_parquet_list_is_sized_by_its_uncompressed_data(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    listing = tmp_path / "list.parquet"
    pq.write_table(pa.table({"tel": ["601000001"] * 100_000}), listing, compression="zstd")
    with open_source(listing) as src:
        assert held.estimated_bytes(src) > listing.stat().st_size  # compressed on disk

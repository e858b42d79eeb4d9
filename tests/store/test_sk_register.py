"""Slovak list releases as evidence: dated on a 1st or 16th, kept as history, never replaced."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

from optin_gate.cli import main
from optin_gate.errors import InputError
from optin_gate.store import EvidenceStore
from optin_gate.store.schema import SCHEMA_VERSION


def _rows(store: EvidenceStore) -> list[tuple[object, ...]]:
    with store.connect() as con:
        return con.execute(
            "SELECT phone, release_date, registered, sectors, registered_since FROM sk_register "
            "ORDER BY release_date, phone"
        ).fetchall()


def _release(**columns: list[str | None]) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def test_a_release_is_read_with_slovak_words_and_sectors_folded() -> None:
    store = EvidenceStore()
    report = store.load(
        "sk_register",
        _release(
            telefon=["+421 905 000 001", "00421905000002", "+421905000003", "+421905000004"],
            registrovane=["ano", "nie", "TRUE", "1"],
            sektory=[" Telekom ;energie", None, None, "energie;*"],
            registrovane_od=["1.11.2022", None, None, None],
        ),
        snapshot_date="2026-03-16",
        strict=True,
    )
    assert (report.rows_loaded, report.rows_rejected) == (4, 0)
    day = date(2026, 3, 16)
    assert _rows(store) == [
        (421905000001, day, True, "energie;telekom", date(2022, 11, 1)),
        (421905000002, day, False, "", None),
        (421905000003, day, True, "*", None),  # registered, no sector named: all (fail closed)
        (421905000004, day, True, "*", None),
    ]


@pytest.mark.parametrize("day", ["2026-03-15", "2026-03-02", "31.3.2026"])
def test_a_date_that_is_no_release_day_is_refused_with_the_release_due(day: str) -> None:
    store = EvidenceStore()
    with pytest.raises(InputError, match="not a release date of the Slovak list") as info:
        store.load("sk_register", _release(phone=["+421905000001"], registered=["nie"]),
                   snapshot_date=day)  # fmt: skip
    assert "1st and 16th" in str(info.value)
    assert _rows(store) == []


def test_a_release_date_column_is_checked_too() -> None:
    store = EvidenceStore()
    table = _release(phone=["+421905000001"], registered=["nie"], release_date=["2026-03-17"])
    with pytest.raises(InputError, match="did you mean 2026-03-16"):
        store.load("sk_register", table)


def test_releases_are_kept_as_history_and_never_replaced() -> None:
    store = EvidenceStore()
    first = _release(phone=["+421905000001"], registered=["ano"], sectors=["*"])
    store.load("sk_register", first, snapshot_date="2026-03-01")
    later = _release(phone=["+421905000001", "+421905000002"], registered=["nie", "nie"])
    store.load("sk_register", later, snapshot_date="2026-03-16")
    # another batch of the same release: more numbers checked, the first kept
    more = _release(phone=["+421905000003"], registered=["ano"], sectors=["energie"])
    store.load("sk_register", more, snapshot_date="2026-03-16")
    assert len(_rows(store)) == 4
    other = _release(phone=["+421905000002"], registered=["ano"], sectors=["*"])
    with pytest.raises(InputError, match="held already with another entry"):
        store.load("sk_register", other, snapshot_date="2026-03-16")
    assert len(_rows(store)) == 4  # nothing half-written
    with store.connect() as con:
        releases = con.execute("SELECT release_date FROM sk_register_releases").fetchall()
    assert sorted(releases) == [(date(2026, 3, 1),), (date(2026, 3, 16),), (date(2026, 3, 16),)]


def test_an_empty_release_is_refused() -> None:
    with pytest.raises(InputError, match="empty release"):
        EvidenceStore().load("sk_register", _release(phone=[], registered=[]),
                             snapshot_date="2026-03-16")  # fmt: skip


def test_the_command_line_loads_a_release(tmp_path: Path) -> None:
    store_path = tmp_path / "s.duckdb"
    listing = tmp_path / "zoznam.csv"
    listing.write_text("telefon;registrovane;sektory\n+421905000001;ano;*\n", encoding="utf-8")
    runner = CliRunner()
    args = ["load", "sk_register", str(listing), "--store", str(store_path), "--create"]
    wrong = runner.invoke(main, [*args, "--snapshot-date", "2026-03-17"])
    assert wrong.exit_code == 2
    assert "1st and 16th" in wrong.output
    done = runner.invoke(main, [*args, "--snapshot-date", "16.3.2026"])
    assert done.exit_code == 0, done.output
    assert _rows(EvidenceStore(store_path)) == [(421905000001, date(2026, 3, 16), True, "*", None)]


def test_a_version_2_store_gains_the_list_tables(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    EvidenceStore(path)  # a current store; then made to look like version 2
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE sk_register; DROP TABLE sk_register_releases")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    store = EvidenceStore(path)
    release = _release(phone=["+421905000001"], registered=["nie"])
    store.load("sk_register", release, snapshot_date="2026-03-16")
    assert len(_rows(store)) == 1
    with store.connect() as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    assert version == [(str(SCHEMA_VERSION),)]

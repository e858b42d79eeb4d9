"""Directory snapshots as validity intervals: any load order, small growth, no replacement."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.errors import InputError
from optin_gate.store import EvidenceStore
from tests.oracle import directory_intervals
from tests.store._helpers import rows

PHONES = [420601000000 + i for i in range(12)]
MARKS = ("opt_in", "opt_out", "unmarked")


def snapshot_table(snap: dict[int, str]) -> pa.Table:
    return pa.table(
        {
            "phone": pa.array([f"+{p}" for p in snap], pa.string()),
            "marketing": pa.array(list(snap.values()), pa.string()),
        }
    )


def intervals(store: EvidenceStore) -> list[tuple[object, ...]]:
    return sorted(rows(store, "SELECT phone, marketing, valid_from, valid_to FROM directory"))


snapshots = st.dictionaries(
    st.integers(0, 20).map(lambda i: date(2026, 1, 1) + timedelta(days=7 * i)),
    st.dictionaries(
        st.sampled_from(PHONES), st.sampled_from(MARKS), min_size=1, max_size=len(PHONES)
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(snapshots, st.randoms(use_true_random=False))
def test_any_load_order_gives_the_intervals_of_the_snapshots(
    snaps: dict[date, dict[int, str]], rnd: random.Random
) -> None:
    order = list(snaps)
    rnd.shuffle(order)
    store = EvidenceStore()
    for day in order:
        report = store.load("directory", snapshot_table(snaps[day]), snapshot_date=day)
        assert report.rows_read == report.rows_loaded == len(snaps[day])
    assert intervals(store) == sorted(directory_intervals(snaps))
    dates = rows(store, "SELECT snapshot_date, rows FROM directory_snapshots ORDER BY 1")
    assert dates == sorted((d, len(s)) for d, s in snaps.items())


def test_as_of_a_day_is_one_snapshot() -> None:
    store = EvidenceStore()
    store.load("directory", snapshot_table({PHONES[0]: "opt_in", PHONES[1]: "unmarked"}),
               snapshot_date="2026-03-01")  # fmt: skip
    store.load("directory", snapshot_table({PHONES[0]: "opt_out"}), snapshot_date="2026-03-15")
    store.load(
        "directory",
        snapshot_table({PHONES[0]: "opt_in", PHONES[1]: "unmarked"}),
        snapshot_date="2026-03-08",
    )  # fmt: skip, loaded late

    def as_of(day: str) -> list[tuple[object, ...]]:
        return rows(
            store,
            f"WITH s AS (SELECT max(snapshot_date) d FROM directory_snapshots "
            f"WHERE snapshot_date <= DATE '{day}') SELECT phone, marketing FROM directory, s "
            f"WHERE valid_from <= s.d AND (valid_to IS NULL OR valid_to > s.d) ORDER BY 1",
        )

    assert as_of("2026-03-10") == [(PHONES[0], "opt_in"), (PHONES[1], "unmarked")]
    assert as_of("2026-03-20") == [(PHONES[0], "opt_out")]
    assert len(intervals(store)) == 3  # the late snapshot extended, not duplicated


def test_a_snapshot_differing_in_one_percent_adds_about_one_percent() -> None:
    store = EvidenceStore()
    base = {420601000000 + i: MARKS[i % 3] for i in range(20_000)}
    store.load("directory", snapshot_table(base), snapshot_date="2026-01-01")
    nxt = dict(base)
    for i in range(0, 20_000, 200):  # 100 numbers change their mark...
        nxt[420601000000 + i] = MARKS[(i + 1) % 3]
    for i in range(1, 20_000, 400):  # ...50 leave the directory...
        del nxt[420601000000 + i]
    for i in range(50):  # ...and 50 join it.
        nxt[420602000000 + i] = "opt_in"
    report = store.load("directory", snapshot_table(nxt), snapshot_date="2026-02-01")
    assert report.rows_changed == 100 + 100 + 50 + 50  # closed + opened, closed, opened
    assert rows(store, "SELECT count(*) FROM directory") == [(20_000 + 150,)]


def test_a_snapshot_date_is_never_replaced() -> None:
    store = EvidenceStore()
    snap = {PHONES[0]: "opt_in", PHONES[1]: "opt_out"}
    first = store.load("directory", snapshot_table(snap), snapshot_date="2026-01-01")
    reordered = snapshot_table(dict(reversed(list(snap.items()))))  # other bytes, same content
    same = store.load("directory", reordered, snapshot_date="2026-01-01")
    assert not same.unchanged
    assert same.rows_changed == 0
    with pytest.raises(InputError) as info:
        store.load("directory", snapshot_table({PHONES[0]: "opt_out"}), snapshot_date="2026-01-01")
    assert str(info.value) == (
        "<Table>: a different directory snapshot dated 2026-01-01 is already loaded "
        f"(load {first.load_id}). Hint: a snapshot is never replaced, so history shows what was "
        "known; load the file under the date it was published (--snapshot-date)"
    )


def test_conflicting_marks_in_one_snapshot_keep_the_most_restrictive() -> None:
    store = EvidenceStore()
    table = pa.table(
        {
            "phone": ["+420601000001", "601 000 001", "601000002", "601000002"],
            "marketing": ["opt_in", "opt_out", "unmarked", "unmarked"],
        }
    )
    report = store.load("directory", table, snapshot_date="2026-01-01")
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    assert report.rejects.to_pylist()[0]["line"] == 1
    assert rows(store, "SELECT phone, marketing FROM directory ORDER BY 1") == [
        (420601000001, "opt_out"),
        (420601000002, "unmarked"),
    ]

"""The compiled parser of ISO call times reads every text exactly as the SQL does."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate._isotime import iso_times, parse_times
from optin_gate.io import parse_timestamps
from tests.strategies import iso_time_texts

# The forms call logs write, which the kernel must settle itself (else the SQL does the work).
SETTLED = [
    "2021-07-01 08:00:34",
    "2021-07-01T08:03:21+02:00",
    "2021-07-01T08:03:21Z",
    "2021-07-01 08:03",
    "2021-07-01T08:03:21.5",
    "2021-07-01 08:03:21.123456-05:30",
    "2021-07-01T08:03:21+0100",
    "2026-03-29 02:30:00",  # the skipped spring hour
    "2026-10-25 02:30:00",  # the repeated autumn hour
    "2026-03-29 01:59:59.999999",  # the edges of summer time, to the microsecond
    "2026-03-29 02:00:00",
    "2026-03-29 03:00:00",
    "2026-10-25 01:59:59.999999",
    "2026-10-25 02:59:59.999999",
    "2026-10-25 03:00:00",
    "1995-09-24 02:59:59.999999",
    "1995-09-24 03:00",
    "2099-12-31 23:59:59.999999",
    "1970-01-01 00:00:00",
]

# Texts the kernel must leave to SQL: other forms, odd spacing, values out of its range.
LEFT = [
    " 2021-07-01 08:00:34",
    "2021-07-01 08:00:34 ",
    "2021-07-01  08:00:34",
    "2021-07-01 08:00:34 UTC",
    "2021-07-01 08:00:34.1234567",
    "2021-07-01 24:00:00",
    "2021-07-01 8:00:34",
    "2021-07-01t08:00:34",
    "2021-07-01T08:00:34z",
    "2021-07-01T08:00:34+02",
    "2021-07-01T08:00:34+16:00",
    "2021-02-29 08:00",
    "2100-01-01 00:00",
    "1969-12-31 23:59",
    "1.7.2021 08:00",
    "2021-07-01",
    "46000.5",
    "",
    None,
]


def _same(texts: Sequence[str | None]) -> None:
    array = pa.array(texts, pa.string())
    assert parse_times(array).to_pylist() == parse_timestamps(array).to_pylist()
    done, micros = iso_times(array)
    oracle = parse_timestamps(array).cast(pa.int64()).to_pylist()
    for text, settled, value, expected in zip(texts, done, micros, oracle, strict=True):
        if settled:
            assert int(value) == expected, text


def test_the_logs_forms_are_settled_in_compiled_code() -> None:
    done, _ = iso_times(pa.array(SETTLED))
    assert done.all()
    _same(SETTLED)


def test_other_forms_are_left_to_sql() -> None:
    done, _ = iso_times(pa.array(LEFT, pa.string()))
    assert not done.any()
    _same(LEFT)


@pytest.mark.parametrize("serials", [False, True])
def test_a_workbooks_serials_still_go_through_sql(serials: bool) -> None:
    array = pa.array(["46000.5", "2021-07-01 08:00"])
    expected = parse_timestamps(array, serials=serials).to_pylist()
    assert parse_times(array, serials=serials).to_pylist() == expected
    assert (expected[0] is not None) == serials


def test_slices_and_large_strings_are_read_where_they_start() -> None:
    array = pa.array(["x", *SETTLED, None, *LEFT], pa.large_string()).slice(1)
    assert parse_times(array).to_pylist() == parse_timestamps(array).to_pylist()


def test_long_columns_are_split_across_threads() -> None:
    texts = [*SETTLED, *LEFT] * 4000
    _same(texts)


@settings(max_examples=400, deadline=None)
@given(st.lists(iso_time_texts(), min_size=10, max_size=60))
def test_every_text_is_read_exactly_as_sql_reads_it(texts: list[str]) -> None:
    _same(texts)

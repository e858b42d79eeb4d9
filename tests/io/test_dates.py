"""User-written dates and times: ISO 8601 and Czech, Prague local time unless a zone is given."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings

from optin_gate._time import to_utc
from optin_gate.errors import InputError
from optin_gate.io import parse_date, parse_dates, parse_timestamps
from tests.strategies import czech_text, iso_text, local_times


def utc(year: int, month: int, day: int, *clock: int) -> datetime:
    """A UTC instant; `clock` is hour, minute, second, microsecond, as many as given."""
    hour, minute, second, micro = (*clock, 0, 0, 0, 0)[:4]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28", utc(2026, 11, 27, 23)),  # a bare date is midnight in Prague
        ("2026-11-28T14:30", utc(2026, 11, 28, 13, 30)),
        ("2026-11-28 14:30:15", utc(2026, 11, 28, 13, 30, 15)),
        ("2026-11-28 14:30:15.25", utc(2026, 11, 28, 13, 30, 15, 250000)),
        ("2026-07-01 08:00", utc(2026, 7, 1, 6)),  # summer time: UTC+2
        ("2026-11-28T14:30:00Z", utc(2026, 11, 28, 14, 30)),
        ("2026-11-28T14:30:00+05:00", utc(2026, 11, 28, 9, 30)),
        ("2026-11-28T14:30-0300", utc(2026, 11, 28, 17, 30)),
        ("2026-11-28 14:30 UTC", utc(2026, 11, 28, 14, 30)),
        ("28.11.2026", utc(2026, 11, 27, 23)),
        ("28. 11. 2026", utc(2026, 11, 27, 23)),
        ("28.11.2026 14:30", utc(2026, 11, 28, 13, 30)),
        ("28. 11. 2026 14:30:15", utc(2026, 11, 28, 13, 30, 15)),
        ("5.3.2026 9:05", utc(2026, 3, 5, 8, 5)),
        ("  2026-11-28  ", utc(2026, 11, 27, 23)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_timestamps([text]).to_pylist() == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "not a date",
        "2026-11-28 14:30:00 garbage",  # DuckDB's own cast would drop the suffix silently
        "2026-11-28 14:30 5",
        "2026-02-30",
        "31.2.2026",
        "28.11.26",  # a two-digit year is a typo, not the year 26
        "2026-11-28 25:00",
        "99999-01-01",
        "28.11.2026x",
        "20261128",
    ],
)
def test_unparseable_values_are_null_not_guesses(text: str) -> None:
    assert parse_timestamps([text]).to_pylist() == [None]


def test_empty_and_missing_values_are_null() -> None:
    assert parse_timestamps(["", "   ", None]).to_pylist() == [None, None, None]


def test_daylight_saving_edges_read_like_python() -> None:
    # The repeated autumn hour is summer time, a time in the spring gap is winter time:
    # exactly what optin_gate._time.to_utc (zoneinfo, fold=0) does for `at=` arguments.
    gap, repeated = "2026-03-29 02:30", "2026-10-25 02:30"
    got = parse_timestamps([gap, repeated]).to_pylist()
    assert got == [to_utc(gap), to_utc(repeated)]
    assert got == [utc(2026, 3, 29, 1, 30), utc(2026, 10, 25, 0, 30)]


def test_dates_take_the_calendar_day() -> None:
    got = parse_dates(["2026-11-28", "28. 11. 2026", "2026-11-28T23:30:00Z", "x", ""])
    assert got.to_pylist() == [date(2026, 11, 28)] * 2 + [date(2026, 11, 29), None, None]


def test_typed_arrow_columns_keep_their_meaning() -> None:
    naive = pa.array([datetime(2026, 7, 1, 8, 0)], pa.timestamp("us"))
    aware = pa.array([utc(2026, 7, 1, 8, 0)], pa.timestamp("us", tz="UTC"))
    days = pa.array([date(2026, 7, 1)], pa.date32())
    assert parse_timestamps(naive).to_pylist() == [utc(2026, 7, 1, 6)]  # Prague wall clock
    assert parse_timestamps(aware).to_pylist() == [utc(2026, 7, 1, 8)]
    assert parse_timestamps(days).to_pylist() == [utc(2026, 6, 30, 22)]


def test_parse_date_argument() -> None:
    assert parse_date("1.11.2026") == date(2026, 11, 1)
    assert parse_date("2026-11-01") == date(2026, 11, 1)
    with pytest.raises(InputError, match=r"snapshot_date='November' is not a date"):
        parse_date("November", name="snapshot_date")


@settings(max_examples=120, deadline=None)
@given(local_times)
def test_every_form_of_a_local_time_means_the_same_instant(moment: datetime) -> None:
    expected = to_utc(moment)
    texts = [
        iso_text(moment, " "),
        iso_text(moment, "T"),
        czech_text(moment),
        czech_text(moment, spaced=True),
        moment.isoformat(),
    ]
    assert parse_timestamps(texts).to_pylist() == [expected] * len(texts)


@settings(max_examples=60, deadline=None)
@given(local_times)
def test_zoned_text_round_trips(moment: datetime) -> None:
    instant = to_utc(moment)
    assert parse_timestamps([instant.isoformat()]).to_pylist() == [instant]
    assert parse_dates([czech_text(moment, seconds=False)]).to_pylist() == [moment.date()]

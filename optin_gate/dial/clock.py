"""Decision instants as integer microseconds, and their Prague calendar day, cheaply.

The dial path compares integers only: an instant is microseconds since 1970-01-01 UTC (what
DuckDB's `epoch_us` gives for the store's TIMESTAMPTZ columns), a day is a day number (days
since 1970-01-01). `DayWindow` remembers the Prague day around the last instant asked about,
so the common case (many checks on the same day) costs two comparisons.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from optin_gate._time import PRAGUE, TimeLike, to_utc

__all__ = ["DayWindow", "day_window", "instant_us", "us_of"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_US = timedelta(microseconds=1)


def us_of(instant: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float)."""
    return (instant - _EPOCH) // _US


def instant_us(at: TimeLike, *, name: str = "at") -> int:
    """A decision time (datetime, date, ISO text or None for now) in microseconds UTC."""
    return us_of(to_utc(at, name=name))


class DayWindow(NamedTuple):
    """The Prague calendar day containing an instant, with the instants it spans.

    Attributes:
        start: First microsecond of the day (UTC microseconds).
        stop: First microsecond of the next day.
        day: The day number (days since 1970-01-01).
        date: The day as a date.
    """

    start: int
    stop: int
    day: int
    date: date


def day_window(t_us: int) -> DayWindow:
    """The Prague day around an instant (days start at local midnight, 23-25 hours long)."""
    local_day = (_EPOCH + timedelta(microseconds=t_us)).astimezone(PRAGUE).date()
    start = us_of(datetime.combine(local_day, time(0), tzinfo=PRAGUE))
    stop = us_of(datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=PRAGUE))
    return DayWindow(start, stop, (local_day - _EPOCH_DAY).days, local_day)

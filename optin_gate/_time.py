"""Decision times: what `as_of=` / `at=` accept, and the Czech calendar day of an instant.

Every instant inside the library is an aware datetime in UTC. Input without a zone is Czech
local time (docs/rules.md § 2). A bare date means the start of that day in Prague.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from optin_gate.errors import InputError

__all__ = ["PRAGUE", "TimeLike", "now_utc", "prague_day", "to_utc"]

PRAGUE = ZoneInfo("Europe/Prague")

TimeLike = datetime | date | str | None

# The years a decision can be made in: it reads the Prague day around its instant, and the
# calendar's first and last days have no day before or after them.
_FIRST_YEAR, _LAST_YEAR = 2, 9998


def now_utc() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: TimeLike, *, name: str = "at") -> datetime:
    """Read a decision time as an aware UTC datetime.

    Args:
        value: A datetime (naive means Prague local time), a date (start of that day in
            Prague), an ISO 8601 string of either, or None for now.
        name: The argument's name, for the error message.

    Raises:
        InputError: The value is not a time, or one too near the calendar's ends to decide at.
    """
    if value is None:
        return now_utc()
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"{name}={value!r} is not an ISO 8601 date or time",
                hint="write 2026-11-28 or 2026-11-28T14:30 (Prague time) or add +01:00",
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=PRAGUE)
    elif isinstance(value, date):
        value = datetime.combine(value, time(0, 0), tzinfo=PRAGUE)
    else:
        raise InputError(
            f"{name} must be a datetime, date or ISO string, got {type(value).__name__}",
            hint="pass datetime.now() or '2026-11-28T14:30'",
        )
    if not _FIRST_YEAR <= value.year <= _LAST_YEAR:
        raise InputError(
            f"{name} is too far in the past or the future to decide at",
            hint="write a time such as 2026-11-28T14:30 (Prague time)",
        )
    return value.astimezone(UTC)


def prague_day(instant: datetime) -> date:
    """The calendar day in Prague on which an aware instant falls."""
    return instant.astimezone(PRAGUE).date()

"""ISO call times parsed in compiled code, the rest in SQL (`io.dates.parse_query`).

A call log writes its times in a few ISO forms (`2021-07-01 08:00:34`, naive Prague time, or
`2021-07-01T08:03:21+02:00`), and the audit parses them on the threads that code its rows
rather than in the read's SQL. The kernel reads exactly the forms it settles with certainty:
an ISO date and time with ' ' or 'T', optional seconds and a fraction of up to six digits,
then nothing, `Z`, `+HH:MM` or `+HHMM`, in 1970-2099. A naive time is read as Prague
wall-clock time through `io.dates`' own table of summer-time intervals. Every other text is
handed to SQL unchanged, so `parse_query` stays the one definition of what a time means; a
property test holds the two to each other.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate._jit import njit
from optin_gate._runtime import threads
from optin_gate.io.dates import (
    _FIRST_YEAR,
    _LAST_YEAR,
    EXCEL_EPOCH,
    _summer_time,
    parse_timestamps,
)
from optin_gate.numbers._arrow import int_values, validity, whole

__all__ = ["iso_times", "parse_times"]

_MIN_SPLIT = 1 << 16  # fewer strings than this run on one thread
_MAX_OFFSET_HOURS = 15  # zone offsets beyond any real one are left to SQL
_HOUR = 3_600_000_000
_DAY = 24 * _HOUR


@functools.cache
def _summer_bounds() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """`_summer_time()` as local microseconds since 1970 (a naive time read as if UTC)."""
    epoch = datetime(1970, 1, 1)
    starts, ends = _summer_time()

    def micros(texts: list[str]) -> np.ndarray[Any, Any]:
        us = timedelta(microseconds=1)
        return np.array([(datetime.fromisoformat(t) - epoch) // us for t in texts], np.int64)

    return micros(starts), micros(ends)


@njit(cache=True, nogil=True)
def _days(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True, nogil=True)
def _month_days(year: int, month: int) -> int:
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return 29 if leap else 28
    if month in (4, 6, 9, 11):
        return 30
    return 31


@njit(cache=True, nogil=True)
def _digits(data: Any, at: int, count: int) -> int:
    """The number the `count` ASCII digits at `at` spell; -1 if one is no digit."""
    value = 0
    for j in range(at, at + count):
        d = data[j] - 48
        if d < 0 or d > 9:
            return -1
        value = value * 10 + d
    return value


@njit(cache=True, nogil=True)
def _one(data: Any, start: int, end: int, starts: Any, ends: Any) -> tuple[bool, int]:  # noqa: PLR0911, PLR0912 - one return per refusal
    """One text: (recognised, UTC microseconds)."""
    if end - start < 16:
        return False, 0
    year = _digits(data, start, 4)
    month = _digits(data, start + 5, 2)
    day = _digits(data, start + 8, 2)
    hour = _digits(data, start + 11, 2)
    minute = _digits(data, start + 14, 2)
    sep = data[start + 10]
    if data[start + 4] != 45 or data[start + 7] != 45 or data[start + 13] != 58:
        return False, 0
    if sep not in (32, 84):  # ' ' or 'T'
        return False, 0
    if year < _FIRST_YEAR or year > _LAST_YEAR or month < 1 or month > 12 or day < 1:
        return False, 0
    if day > _month_days(year, month) or hour < 0 or hour > 23 or minute < 0 or minute > 59:
        return False, 0
    at = start + 16
    second = 0
    micro = 0
    if at < end and data[at] == 58:  # ':' seconds
        second = _digits(data, at + 1, 2) if at + 3 <= end else -1
        if second < 0 or second > 59:
            return False, 0
        at += 3
        if at < end and data[at] == 46:  # '.' fraction
            at += 1
            scale = 100000
            first = at
            while at < end and 48 <= data[at] <= 57:
                micro += (data[at] - 48) * scale
                scale //= 10
                at += 1
            if at == first or at - first > 6:
                return False, 0
    local = (
        _days(year, month, day) * _DAY
        + hour * _HOUR
        + minute * 60_000_000
        + second * 1_000_000
        + micro
    )
    if at == end:  # naive: Prague wall-clock time
        i = year - _FIRST_YEAR
        summer = starts[i] <= local < ends[i]
        return True, local - (2 if summer else 1) * _HOUR
    mark = data[at]
    if mark == 90:  # 'Z'
        return (True, local) if at + 1 == end else (False, 0)
    sign = -1 if mark == 43 else 1  # '+': the instant is earlier than the local time
    if mark != 45 and sign == 1:  # neither '+' nor '-'
        return False, 0
    if end - at == 6 and data[at + 3] == 58:
        off_h, off_m = _digits(data, at + 1, 2), _digits(data, at + 4, 2)
    elif end - at == 5:
        off_h, off_m = _digits(data, at + 1, 2), _digits(data, at + 3, 2)
    else:
        return False, 0
    if off_h < 0 or off_h > _MAX_OFFSET_HOURS or off_m < 0 or off_m > 59:
        return False, 0
    offset = off_h * _HOUR + off_m * 60_000_000
    return True, local + sign * offset


@njit(cache=True, nogil=True)
def _kernel(  # noqa: PLR0917 - flat arrays for the compiled code
    lo: int, hi: int, offsets: Any, data: Any, present: Any, starts: Any, ends: Any,
    done: Any, micros: Any,
) -> None:  # fmt: skip
    for i in range(lo, hi):
        if present[i]:
            ok, value = _one(data, offsets[i], offsets[i + 1], starts, ends)
            done[i] = ok
            micros[i] = value


def iso_times(strings: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The times the kernel settles: (done per value, UTC microseconds where done).

    Args:
        strings: An Arrow string or large_string array (a slice is fine).
    """
    n = len(strings)
    done = np.zeros(n, dtype=np.bool_)
    micros = np.zeros(n, dtype=np.int64)
    if n == 0:
        return done, micros
    buffers = strings.buffers()
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[strings.offset : strings.offset + n + 1]
    data = np.frombuffer(buffers[2] or b"", dtype=np.uint8)
    present = validity(strings)
    starts, ends = _summer_bounds()
    workers = threads() if n >= _MIN_SPLIT else 1
    cuts = np.linspace(0, n, workers + 1).astype(np.int64)

    def run(part: int) -> None:
        _kernel(int(cuts[part]), int(cuts[part + 1]), offsets, data, present, starts, ends,
                done, micros)  # fmt: skip

    if workers < 2:
        run(0)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(workers)))
    return done, micros


def parse_times(strings: pa.Array, *, serials: bool = False, epoch: str = EXCEL_EPOCH) -> pa.Array:
    """Text times as timestamp[us, UTC], exactly as `parse_query` reads them (NULL if not).

    The kernel settles what it recognises; the rest goes through `parse_query` in one query.

    Args:
        strings: An Arrow string or large_string array.
        serials: Plain numbers are a workbook's Excel serials (`io.dates.Parse`).
        epoch: The day serial 0 stands for.
    """
    done, micros = iso_times(strings)
    valid = done.copy()
    rest = np.flatnonzero(~done & validity(strings))
    if len(rest):
        index = pa.Array.from_buffers(pa.int64(), len(rest), [None, pa.py_buffer(rest)])
        taken = strings.take(index)
        parsed = whole(parse_timestamps(taken, serials=serials, epoch=epoch))
        known = validity(parsed)
        values = int_values(parsed)
        micros[rest[known]] = values[known]
        valid[rest[known]] = True
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.timestamp("us", tz="UTC"), len(strings), [bitmap, pa.py_buffer(micros)]
    )

"""numpy <-> Arrow through buffers only, so the dial path never makes pyarrow import pandas.

pyarrow imports pandas the first time `pa.array`, `pa.scalar` or `Array.to_numpy` meets a
Python or numpy object; `optin_gate.numbers._arrow` explains and holds the basic helpers. This
adds what the dial index needs on top: whole columns as numpy with nulls filled, and constant
columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate.numbers._arrow import (
    bool_array,
    int_array,
    int_values,
    string_array,
    validity,
    whole,
)

__all__ = [
    "bool_array",
    "const_bool",
    "const_date",
    "int_array",
    "numpy_of",
    "string_array",
    "whole",
]


def numpy_of(column: pa.Array | pa.ChunkedArray, dtype: Any, fill: int = 0) -> np.ndarray[Any, Any]:
    """An integer or DATE column as numpy `dtype` (days for dates), nulls set to `fill`."""
    array = whole(column)
    if pa.types.is_date32(array.type):
        array = array.cast(pa.int32())
    if not len(array):
        return np.zeros(0, dtype=dtype)
    values = int_values(array).astype(dtype, copy=False)  # zero-copy when the type matches
    if array.null_count:
        values = np.where(validity(array), values, np.asarray(fill, dtype=dtype))
    return values


def const_bool(value: bool, n: int) -> pa.Array:
    """`n` times the same boolean."""
    return bool_array(np.full(n, value, dtype=np.bool_))


def const_date(day: int | None, n: int) -> pa.Array:
    """`n` times the same day number as DATE, or `n` nulls."""
    if day is None:
        return pa.nulls(n, pa.date32())
    days = np.full(n, day, dtype=np.int32)
    return pa.Array.from_buffers(pa.date32(), n, [None, pa.py_buffer(days)])

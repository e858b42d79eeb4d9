"""Moving data between numpy and Arrow through buffers, without pyarrow importing pandas.

pyarrow imports pandas (when installed) the first time `pa.array`, `pa.scalar` or
`Array.to_numpy` meets a Python or numpy object, to check for pandas types. That costs the dial
process a second and breaks the rule that only DataFrame users load pandas. The batch path
therefore builds and reads arrays through their buffers only; these helpers are the whole of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from optin_gate.errors import InputError

__all__ = [
    "bool_array",
    "bool_values",
    "fixed_array",
    "int_array",
    "int_values",
    "string_array",
    "validity",
    "whole",
]

TEXT_HINT = "pass phone numbers as text (str), with None for a missing value"


def validity(array: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per element: not null."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=np.bool_)
    first, skip = divmod(array.offset, 8)  # unpack only this slice's bytes of the bitmap
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    bits = bits[first : first + (skip + len(array) + 7) // 8]
    unpacked = np.unpackbits(bits, bitorder="little")
    return unpacked[skip : skip + len(array)].astype(np.bool_)


def whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (combining no chunks at all would make pyarrow import pandas)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    if column.num_chunks == 0:
        return pa.nulls(0, column.type)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def bool_values(array: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """The values of a bool array as numpy; null counts as False."""
    first, skip = divmod(array.offset, 8)
    size = (skip + len(array) + 7) // 8
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)[first : first + size]
    values = np.unpackbits(bits, bitorder="little")[skip : skip + len(array)].astype(np.bool_)
    return values & validity(array)


def int_values(array: pa.Array) -> np.ndarray[Any, Any]:
    """The values of an integer array as numpy (null slots hold arbitrary values)."""
    kind = array.type
    dtype = np.dtype(
        ("u" if pa.types.is_unsigned_integer(kind) else "i") + str(kind.bit_width // 8)
    )
    raw = np.frombuffer(array.buffers()[1], dtype=dtype)
    return raw[array.offset : array.offset + len(array)]


def int_array(values: np.ndarray[Any, Any], null: np.ndarray[Any, Any] | None = None) -> pa.Array:
    """An int64 Arrow array from numpy; `null` marks null slots."""
    return fixed_array(values, pa.int64(), null)


_FIXED = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.date32(): np.int32,  # days since 1970-01-01
}


def fixed_array(
    values: Any, kind: pa.DataType, null: np.ndarray[Any, Any] | None = None
) -> pa.Array:
    """An Arrow array of a fixed-width `kind` (an integer type or date32) from numbers.

    Args:
        values: A numpy array or a sequence of ints.
        kind: The Arrow type; its values are laid out as `_FIXED` says.
        null: Marks null slots (their values are ignored).
    """
    data = np.ascontiguousarray(values, dtype=_FIXED[kind])
    mask = None
    if null is not None and null.any():
        mask = pa.py_buffer(np.packbits(~null, bitorder="little"))
    return pa.Array.from_buffers(kind, len(data), [mask, pa.py_buffer(data)])


def bool_array(values: np.ndarray[Any, np.dtype[np.bool_]]) -> pa.Array:
    """A bool Arrow array (no nulls) from numpy."""
    bits = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, bits])


def string_array(items: Sequence[Any]) -> pa.Array:
    """An Arrow string array from str / None items.

    Raises:
        InputError: an item is neither str nor None, or is not encodable text; the message
            names its position.
    """
    encoded: list[bytes] = []
    null = np.zeros(len(items), dtype=np.bool_)
    for position, item in enumerate(items):
        if item is None:
            null[position] = True
            encoded.append(b"")
            continue
        try:
            encoded.append(item.encode("utf-8"))
        except AttributeError:
            raise InputError(
                f"value at position {position} is a {type(item).__name__}, not text",
                hint=f"{TEXT_HINT}; a number read as float loses leading zeros and digits",
            ) from None
        except UnicodeError:
            raise InputError(
                f"value at position {position} is not valid Unicode text", hint=TEXT_HINT
            ) from None
        if not isinstance(item, str):
            raise InputError(
                f"value at position {position} is a {type(item).__name__}, not text",
                hint=TEXT_HINT,
            )
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    kind = pa.string() if offsets[-1] < 2**31 else pa.large_string()
    offset_buffer = pa.py_buffer(offsets.astype(np.int32) if kind == pa.string() else offsets)
    mask = pa.py_buffer(np.packbits(~null, bitorder="little")) if null.any() else None
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(kind, len(items), [mask, offset_buffer, data])

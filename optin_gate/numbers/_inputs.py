"""Turn what a user hands `normalize` into one Arrow array of text, or say which value is wrong.

Accepted: list or tuple (or numpy array) of str / None; pyarrow Array or ChunkedArray (string,
large_string, string_view, dictionary of those; any other type is cast to text by Arrow, so an
int64 column reads as its digits while a float64 column reads as e.g. "4.20601234567e+11",
which is not a valid number: store phone numbers as text); pandas Series (recognised without
importing pandas; NaN / None / pd.NA are missing, a numeric Series is cast like Arrow). A value
that is neither text nor missing in a list, tuple or numpy array, or among text in an object
Series, is an InputError naming its position: guessing text from a float would silently lose digits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.errors import InputError
from optin_gate.numbers._arrow import TEXT_HINT, string_array

__all__ = ["as_text_array"]

_HINT = TEXT_HINT


def as_text_array(values: Any) -> pa.Array:
    """One Arrow array of string, large_string or dictionary-of-string type."""
    if isinstance(values, str | bytes):
        raise InputError(
            "normalize takes a collection of values, not a single string",
            hint="wrap it in a list, or call normalize_one for one value",
        )
    if isinstance(values, pa.ChunkedArray):
        array = _combine(values)
    elif isinstance(values, pa.Array):
        array = values
    elif isinstance(values, list | tuple):
        array = string_array(values)
    elif type(values).__module__.partition(".")[0] == "pandas" and hasattr(values, "dtype"):
        array = _from_pandas(values)
    elif isinstance(values, np.ndarray) and values.ndim == 1:
        array = string_array(values.tolist())
    else:
        raise InputError(
            f"normalize cannot read a {type(values).__name__}",
            hint="pass a list of str, a pyarrow Array or ChunkedArray, or a pandas Series",
        )
    return _to_text(array)


def _combine(values: pa.ChunkedArray) -> pa.Array:
    if values.num_chunks == 1:
        return values.chunk(0)
    try:
        return values.combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowCapacityError):  # more than 2 GiB of text
        return values.cast(pa.large_string()).combine_chunks()


def _to_text(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_dictionary(kind):
        dictionary = _to_text(array.dictionary)
        if pa.types.is_dictionary(dictionary.type):  # pragma: no cover - nested dictionaries
            dictionary = dictionary.dictionary_decode()
        return pa.DictionaryArray.from_arrays(array.indices, dictionary)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array
    target = pa.large_string() if pa.types.is_string_view(kind) else pa.string()
    try:
        return pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InputError(
            f"normalize cannot read values of type {kind} as text",
            hint=_HINT,
        ) from exc


def _from_pandas(series: Any) -> pa.Array:
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError) as exc:
        raise _bad_value(series.tolist(), nan_is_missing=True) from exc
    return _combine(array) if isinstance(array, pa.ChunkedArray) else array


def _bad_value(items: list[Any] | tuple[Any, ...], *, nan_is_missing: bool = False) -> InputError:
    """The InputError for the first value that is neither text nor missing."""
    for position, item in enumerate(items):
        if item is None or (nan_is_missing and _is_missing(item)):
            continue
        if not isinstance(item, str):
            return InputError(
                f"value at position {position} is a {type(item).__name__}, not text",
                hint=f"{_HINT}; a number read as float loses leading zeros and digits",
            )
        try:
            item.encode("utf-8")
        except UnicodeError:
            return InputError(f"value at position {position} is not valid Unicode text", hint=_HINT)
    return InputError("the values cannot be read as text", hint=_HINT)  # pragma: no cover


def _is_missing(item: Any) -> bool:
    """NaN, pd.NA and NaT: pandas' missing markers, recognised without importing pandas."""
    if isinstance(item, float):
        return math.isnan(item)
    return type(item).__name__ in {"NAType", "NaTType"}

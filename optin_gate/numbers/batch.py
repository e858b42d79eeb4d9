"""The batch fast path: distinct strings in, phonenumbers' answers out, compiled.

It reads the UTF-8 bytes of an Arrow string array directly and runs the compiled kernel
(`optin_gate.numbers._kernel`) over them: the strings in the safe subset
(`optin_gate.numbers.spec`) get phonenumbers' answer as E.164 digits, a type and a region.
It mirrors `optin_gate.numbers.scalar` step by step; the tests hold it to phonenumbers and to
a second, numpy implementation of the same steps (tests/numbers/numpy_steps.py).

Strings outside the subset are left undecided for the caller's phonenumbers fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from optin_gate.numbers._arrow import validity
from optin_gate.numbers.spec import RegionSpec

__all__ = ["REGION_NAMES", "FastResult", "fast_batch"]

Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]

# Every region a number can belong to ("001" for non-geographic codes), for compact codes.
REGION_NAMES: tuple[str, ...] = tuple(
    sorted({region for regions in COUNTRY_CODE_TO_REGION_CODE.values() for region in regions})
)


@dataclass(frozen=True)
class FastResult:
    """What the fast path decided for n strings; rows not `decided` need phonenumbers.

    The arrays are the caller's to fill in: the phonenumbers fallback writes its answers
    into the undecided rows.

    Attributes:
        decided: The fast path's answer is phonenumbers' answer.
        valid: Valid number (decided rows only).
        type_code: Index into spec.TYPE_CODES, -1 when not valid.
        region: Index into REGION_NAMES, -1 when not valid.
        key: The E.164 digits as an int64 where `valid`.
    """

    decided: Bools
    valid: Bools
    type_code: np.ndarray[Any, np.dtype[np.int8]]
    region: np.ndarray[Any, np.dtype[np.int16]]
    key: Ints


def fast_batch(strings: pa.Array, spec: RegionSpec) -> FastResult:
    """Decide every string in the safe subset. `strings`: string or large_string."""
    from optin_gate.numbers import _kernel  # numba: imported only when numbers are batched

    n = len(strings)
    buffers = strings.buffers()
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[strings.offset : strings.offset + n + 1]
    data = np.frombuffer(buffers[2] or b"", dtype=np.uint8)
    out = _kernel.run_kernel(offsets.astype(np.int64), data, validity(strings), spec, REGION_NAMES)
    valid = out.status == _kernel.VALID
    decided = valid | (out.status == _kernel.INVALID)
    return FastResult(decided, valid, out.type_code, out.region, out.key)

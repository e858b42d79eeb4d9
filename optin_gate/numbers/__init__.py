"""Phone numbers to E.164, with validity, number type and country, exactly as phonenumbers says.

PLACEHOLDER until the fast path lands (issue 2): correct, but one phonenumbers call per value.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from optin_gate.numbers.reference import Normalized, reference_one

__all__ = ["Normalized", "normalize", "normalize_one"]

NORMALIZED_SCHEMA = pa.schema(
    [
        pa.field("e164", pa.string()),
        pa.field("valid", pa.bool_(), nullable=False),
        pa.field("number_type", pa.string()),
        pa.field("country", pa.string()),
    ]
)


def normalize_one(value: str | None, region: str = "CZ") -> Normalized:
    """Normalize one value (the dial path); never imports pandas."""
    return reference_one(value, region)


def normalize(values: Any, region: str = "CZ") -> pa.Table:
    """Normalize many values: one row per input value, in order."""
    if hasattr(values, "to_pylist"):
        items = values.to_pylist()
    elif hasattr(values, "tolist"):
        items = values.tolist()
    else:
        items = list(values)
    rows = [reference_one(v, region) for v in items]
    return pa.Table.from_pylist([r._asdict() for r in rows], schema=NORMALIZED_SCHEMA)

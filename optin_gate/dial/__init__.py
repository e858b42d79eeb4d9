"""The dial checker: an in-memory index answering `Gate.check` in microseconds (issue 5).

`Checker` is what `Gate.check`, `Gate.check_many` and `Gate.refresh` run; `DialIndex` is the
compact array form of one gate's evidence (`optin_gate.dial.index`), `make_probe` the scalar
lookup over it and `evidence_many` the vectorized one.
"""

from __future__ import annotations

from optin_gate.context import DEFAULT_MAX_INDEX_AGE, DEFAULT_REFRESH_INTERVAL
from optin_gate.dial.build import build_index, scan
from optin_gate.dial.checker import Checker
from optin_gate.dial.index import DialIndex
from optin_gate.dial.probe import make_probe
from optin_gate.dial.shared import SharedDirectory
from optin_gate.dial.vector import evidence_many

__all__ = [
    "DEFAULT_MAX_INDEX_AGE",
    "DEFAULT_REFRESH_INTERVAL",
    "Checker",
    "DialIndex",
    "SharedDirectory",
    "build_index",
    "evidence_many",
    "make_probe",
    "scan",
]

"""The `way` fixture: every test in this folder runs once per way of deciding."""

from __future__ import annotations

import pytest

from tests.ways.ways import WAYS, Way


@pytest.fixture(scope="session", params=WAYS, ids=lambda way: way.name)
def way(request: pytest.FixtureRequest) -> Way:
    """One way of deciding (tests/ways/ways.py)."""
    return request.param  # type: ignore[no-any-return]

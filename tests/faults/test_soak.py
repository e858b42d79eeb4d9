"""The concurrency soak's short form (the long one: `make soak`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.soak import BOUND, RECORDERS, SHORT, run


@pytest.mark.slow
def test_no_check_allows_a_number_2_s_after_its_objection_under_load(tmp_path: Path) -> None:
    outcome = run(tmp_path, short=True, limit=300)
    print(outcome.summary())
    assert not outcome.errors  # no process failed, except by failing closed
    assert outcome.objections == RECORDERS * SHORT.objections
    assert outcome.largest_delay <= BOUND
    assert outcome.late == 0
    assert outcome.checks > 0
    assert outcome.loads > 0

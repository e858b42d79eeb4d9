"""Issue #13, the checker side: every running gate blocks an objection, in any process."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from optin_gate import EvidenceStore, Gate, Reason
from optin_gate.errors import StoreError
from tests.objections._helpers import (
    NUMBER,
    consented_store,
    hold,
    record_elsewhere,
    wait_for,
)


def test_case1_objection_after_close_blocks_the_next_check(tmp_path: Path) -> None:
    store = consented_store(tmp_path, None)
    gate = Gate(store, "acme", refresh_interval=0.5)
    assert gate.check(NUMBER).reason == Reason.CONSENT
    gate.close()  # stops the background refresh only
    store.record_objection(NUMBER)
    assert gate.check(NUMBER).reason == Reason.OBJECTION


def test_case2_objection_recorded_while_the_first_index_is_built_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = consented_store(tmp_path, None)
    from optin_gate.dial.build import scan

    def scan_then_object(*args: object, **kwargs: object) -> object:
        raw = scan(*args, **kwargs)  # type: ignore[arg-type]
        store.record_objection(NUMBER)  # an agent hears "do not call" mid-build
        return raw

    monkeypatch.setattr("optin_gate.dial.checker.scan", scan_then_object)
    gate = Gate(store, "acme", refresh_interval=None)
    assert gate.check(NUMBER).reason == Reason.OBJECTION
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_case12_running_gate_sees_another_process_objection_within_2_s(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    consented_store(tmp_path)
    gate = Gate(EvidenceStore(path), "acme", refresh_interval=60)
    assert gate.check(NUMBER).reason == Reason.CONSENT
    holder = hold(path, "rw", 20)
    try:
        _, acked = record_elsewhere(path)
        assert wait_for(lambda: gate.check(NUMBER).reason == Reason.OBJECTION, 5) is not None
        assert time.time() - acked < 2.0
    finally:
        holder.kill()
        holder.wait()
        gate.close()


def test_case12_index_older_than_max_index_age_fails_closed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="optin_gate.dial")
    path = tmp_path / "ev.duckdb"
    consented_store(tmp_path)
    gate = Gate(EvidenceStore(path, timeout=0.2), "acme", refresh_interval=0.2, max_index_age=1)
    assert gate.check(NUMBER).allowed
    holder = hold(path, "write", 4)  # the store changed and cannot be read
    try:
        assert wait_for(lambda: _fails_closed(gate), 5) is not None
        warned = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any("max_index_age" in r.getMessage() for r in warned)
        assert any("keeps failing" in r.getMessage() for r in warned)
        assert not any("601000001" in r.getMessage() for r in caplog.records)
    finally:
        holder.wait()
    assert wait_for(lambda: not _fails_closed(gate), 10) is not None
    gate.close()


def _fails_closed(gate: Gate) -> bool:
    try:
        gate.check(NUMBER)
    except StoreError:
        return True
    return False

"""The checker is always current: objections at once, other processes' loads by refresh."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from optin_gate import EvidenceStore, Gate, Reason
from optin_gate.errors import StoreError
from tests.dial._helpers import gate_for, store_with
from tests.oracle import Consent, Evidence

P1, P2 = 420601000001, 420601000002
N1, N2 = "+420601000001", "+420601000002"
NOW = datetime.now(UTC)
TODAY = NOW.date()


def listed(*phones: int) -> Evidence:
    """Both numbers opted in to marketing in today's directory snapshot."""
    return Evidence(snapshots={TODAY: dict.fromkeys(phones, "opt_in")})


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_recorded_objection_blocks_the_very_next_check() -> None:
    gate = gate_for(listed(P1, P2))
    assert gate.check(N1).reason == Reason.DIRECTORY_OPT_IN
    gate.store.record_objection("601 000 001", source="call, agent 7")
    decision = gate.check(N1)
    assert decision.reason == Reason.OBJECTION
    assert decision.evidence is not None
    assert decision.evidence.startswith("objection:")
    assert gate.check(N2).allowed  # only that number
    many = gate.check_many([N1, N2]).column("reason").to_pylist()
    assert many == ["OBJECTION", "DIRECTORY_OPT_IN"]
    # An earlier moment is judged by what was known then: the objection came later.
    assert gate.check(N1, at=NOW - timedelta(hours=1)).allowed


def test_objection_to_one_controller_blocks_only_that_one() -> None:
    store = store_with(listed(P1))
    acme = Gate(store, "acme", refresh_interval=None)
    beta = Gate(store, "beta", refresh_interval=None)
    assert acme.check(N1).allowed
    assert beta.check(N1).allowed
    store.record_objection(N1, controller="beta")
    assert acme.check(N1).allowed
    assert beta.check(N1).reason == Reason.OBJECTION
    store.record_objection(N1)  # to every controller
    assert acme.check(N1).reason == Reason.OBJECTION


def test_objection_stays_in_force_after_refresh_swaps_the_index() -> None:
    gate = gate_for(listed(P1))
    assert gate.check(N1).allowed
    before = gate._checker.index if gate._checker else None
    gate.store.record_objection(N1)
    gate.refresh()
    assert gate._checker is not None
    assert gate._checker.index is not before  # rebuilt from the store...
    assert gate._checker.index.objections.rows == 1  # ...which now holds the objection
    assert gate.check(N1).reason == Reason.OBJECTION


def test_refresh_without_changes_keeps_the_index() -> None:
    gate = gate_for(listed(P1))
    gate.check(N1)
    assert gate._checker is not None
    index = gate._checker.index
    gate.refresh()
    assert gate._checker.index is index


LOAD = textwrap.dedent(
    """
    import sys
    from optin_gate import EvidenceStore
    store = EvidenceStore(sys.argv[1], timeout=float(sys.argv[3]))
    store.load("consents", sys.argv[2], controller="acme")
    """
)


def load_in_other_process(store: Path, csv: Path, timeout: float = 30.0) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(store), str(csv), str(timeout)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def consent_file(tmp_path: Path) -> Path:
    path = tmp_path / "consents.csv"
    granted = (NOW - timedelta(days=1)).isoformat()
    path.write_text(f"consent_id,phone,granted_at\nC-77,{N2},{granted}\n")
    return path


def test_load_by_another_process_is_picked_up_by_refresh(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store_with(Evidence(), path)
    gate = Gate(EvidenceStore(path), "acme", refresh_interval=None)
    assert gate.check(N2).reason == Reason.STALE_DIRECTORY  # no evidence at all yet
    load_in_other_process(path, consent_file(tmp_path))
    assert gate.check(N2).reason == Reason.STALE_DIRECTORY  # not before a refresh
    gate.refresh()
    decision = gate.check(N2)
    assert (decision.reason, decision.evidence) == (Reason.CONSENT, "consent:C-77")


def test_automatic_refresh_picks_up_a_load_while_diallers_keep_checking(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store_with(Evidence(), path)
    gate = Gate(EvidenceStore(path), "acme", refresh_interval=0.2)
    try:
        assert not gate.check(N2).allowed
        # The dialler checks and refreshes all the time, yet never holds the file: a load in
        # another process that waits at most one second for it still gets in.
        load_in_other_process(path, consent_file(tmp_path), timeout=1.0)
        assert wait_for(lambda: gate.check(N2).reason == Reason.CONSENT)
    finally:
        gate.close()


HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute(
        "INSERT INTO consents BY NAME SELECT 'C-9' AS consent_id, 420601000002 AS phone, "
        "'acme' AS controller, now() - INTERVAL 1 DAY AS granted_at, 'phone' AS channel, "
        "1 AS load_id"
    )
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def test_refresh_during_another_process_load_keeps_the_old_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="optin_gate.dial")
    path = tmp_path / "ev.duckdb"
    store_with(listed(P1), path)
    gate = Gate(EvidenceStore(path, timeout=0.2), "acme", refresh_interval=0.2)
    try:
        assert gate.check(N1).allowed
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path), "2"], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        try:
            with pytest.raises(StoreError):  # asked explicitly: told it cannot read now
                gate.refresh()
            started = time.monotonic()
            for _ in range(100):  # meanwhile checks answer from the index they have
                assert gate.check(N1).allowed
                assert gate.check(N2).reason == Reason.NO_LEGAL_BASIS
            assert time.monotonic() - started < 1.0
        finally:
            holder.wait()
        # The automatic refresh failed quietly while the file was held, and retries.
        assert wait_for(lambda: gate.check(N2).reason == Reason.CONSENT)
    finally:
        gate.close()
    failed = [r.getMessage() for r in caplog.records if "refresh failed" in r.getMessage()]
    assert failed, "the automatic refresh never ran into the held file"
    assert not any("601000" in text for text in caplog.messages)  # no phone numbers in logs


def test_time_passing_changes_answers_without_a_rebuild() -> None:
    day = date(2026, 3, 2)
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    ev = Evidence(snapshots={day: {P1: "opt_in"}})
    gate = gate_for(ev)
    assert gate.check(N1, at=at).reason == Reason.DIRECTORY_OPT_IN
    assert gate._checker is not None
    index = gate._checker.index
    # 31 days later the snapshot is too old to call on: stale, fail closed.
    assert gate.check(N1, at=at + timedelta(days=31)).reason == Reason.DIRECTORY_OPT_IN
    assert gate.check(N1, at=at + timedelta(days=32)).reason == Reason.STALE_DIRECTORY
    assert gate._checker.index is index


def test_consent_expiry_contract_end_and_regime_date_are_evaluated_at_each_check() -> None:
    from tests.oracle import Consent, Contract

    t0 = datetime(2022, 6, 20, 10, tzinfo=UTC)
    ev = Evidence(
        consents=[Consent("C1", P1, "acme", t0, expires_at=t0 + timedelta(days=3))],
        contracts=[Contract("K1", P2, "acme", date(2022, 6, 1), date(2022, 7, 5))],
    )
    gate = gate_for(ev)
    assert gate.check(N1, at=t0 + timedelta(days=2)).reason == Reason.CONSENT
    # Expired: no other ground and no directory loaded at all, so it fails closed.
    assert gate.check(N1, at=t0 + timedelta(days=3)).reason == Reason.STALE_DIRECTORY
    assert gate.check(N2, at="2022-07-05T23:59").reason == Reason.EXISTING_CUSTOMER
    assert gate.check(N2, at="2022-07-06T00:00").reason == Reason.STALE_DIRECTORY
    assert gate.check(N2, at="2022-06-30").rule_set == "CZ-opt-out"
    assert gate.check(N2, at="2022-07-01").rule_set == "CZ-2022-opt-in"


def test_a_long_running_checkers_now_moves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.oracle import Consent

    start = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 23:30 in Prague, before DST begins
    ev = Evidence(
        consents=[Consent("C1", P1, "acme", start - timedelta(days=9), expires_at=start)],
        snapshots={date(2026, 3, 1): {P2: "opt_in"}},
    )
    gate = gate_for(ev)
    clock = {"now": start - timedelta(minutes=1)}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(
        time, "time_ns", lambda: (clock["now"] - epoch) // timedelta(0, 0, 1) * 1000
    )
    assert gate.check(N1).reason == Reason.CONSENT  # no `at`: the clock's now
    assert gate.check(N2).reason == Reason.DIRECTORY_OPT_IN  # snapshot 27 days old
    clock["now"] = start  # the consent expires this very microsecond
    assert gate.check(N1).reason == Reason.NO_LEGAL_BASIS
    clock["now"] = start + timedelta(days=3, hours=2)  # 1 April in Prague: 31 days old
    assert gate.check(N2).reason == Reason.DIRECTORY_OPT_IN
    clock["now"] = start + timedelta(days=4, hours=2)
    assert gate.check(N2).reason == Reason.STALE_DIRECTORY


def test_a_consent_granted_after_a_recorded_objection_outweighs_it() -> None:
    later = NOW + timedelta(hours=1)
    consent = Consent("C-1", P1, "acme", granted_at=later)
    gate = gate_for(Evidence(consents=[consent], snapshots=listed(P1, P2).snapshots))
    gate.store.record_objection(N1)
    gate.store.record_objection(N2)
    assert gate.check(N1).reason == Reason.OBJECTION  # the consent is not granted yet
    after = later + timedelta(microseconds=1)
    assert gate.check(N1, at=after).reason == Reason.CONSENT
    assert gate.check(N2, at=after).reason == Reason.OBJECTION  # no consent for that one
    many = gate.check_many([N1, N2], at=after).column("reason").to_pylist()
    assert many == ["CONSENT", "OBJECTION"]

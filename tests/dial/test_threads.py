"""Several dialler threads on one gate agree with a single thread, even while it refreshes."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from optin_gate import Gate, Reason
from optin_gate.store import key_e164
from tests.dial._helpers import store_with
from tests.oracle import Consent, Contract, Evidence, Objection

T = datetime(2026, 3, 10, 12, tzinfo=UTC)
BASE = 420_601_100_000


def world(n: int) -> Evidence:
    """n numbers with every kind of evidence mixed in, some decisions changing near T."""
    phones = [BASE + i for i in range(n)]
    marks = ("opt_in", "opt_out", "unmarked")
    return Evidence(
        consents=[
            Consent(
                f"C{i}",
                p,
                "acme",
                T - timedelta(days=i % 5),
                expires_at=T + timedelta(days=i % 4 - 1),
            )
            for i, p in enumerate(phones)
            if i % 3 == 0
        ],
        contracts=[
            Contract(f"K{i}", p, "acme", date(2026, 1, 1))
            for i, p in enumerate(phones)
            if i % 7 == 0
        ],
        objections=[
            Objection(f"O{i}", p, None, T - timedelta(days=1))
            for i, p in enumerate(phones)
            if i % 11 == 0
        ],
        snapshots={date(2026, 3, 1): {p: marks[i % 3] for i, p in enumerate(phones) if i % 2 == 0}},
    )


def test_concurrent_checks_while_the_index_is_swapped_agree_with_one_thread() -> None:
    store = store_with(world(600))
    gate = Gate(store, "acme", refresh_interval=None)
    numbers = [key_e164(BASE + i) for i in range(600)] + ["+420601999999", "nonsense"]
    expected = [gate.check(n, at=T) for n in numbers]
    assert {d.reason for d in expected} >= {
        Reason.CONSENT,
        Reason.OBJECTION,
        Reason.EXISTING_CUSTOMER,
        Reason.DIRECTORY_OPT_IN,
        Reason.NO_LEGAL_BASIS,
        Reason.INVALID_NUMBER,
    }
    stop = threading.Event()
    mismatches: list[tuple[str, object, object]] = []
    rounds = [0] * 4

    def dialler(k: int) -> None:
        while not stop.is_set():
            for number, want in zip(numbers, expected, strict=True):
                got = gate.check(number, at=T)
                if got != want:
                    mismatches.append((number, got, want))
            rounds[k] += 1

    threads = [threading.Thread(target=dialler, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    swaps = 0
    try:
        while swaps < 15 or min(rounds) < 3:
            with store.connect(read_only=False):  # a write: the change token moves
                pass
            assert gate._checker is not None
            swaps += gate._checker.refresh()  # same evidence, new index swapped in
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert swaps >= 15
    assert mismatches == []


def test_an_objection_recorded_by_one_thread_blocks_the_next_check_in_every_other() -> None:
    store = store_with(Evidence(snapshots={date(2026, 3, 1): {BASE: "opt_in"}}))
    gate = Gate(store, "acme", refresh_interval=None)
    number = key_e164(BASE)
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert gate.check(number, at=at).allowed
    recorded = threading.Event()
    late: list[Reason] = []

    def dialler() -> None:
        while True:
            seen = recorded.is_set()
            decision = gate.check(number, at=at)
            if seen:
                if decision.reason != Reason.OBJECTION:
                    late.append(decision.reason)
                return

    threads = [threading.Thread(target=dialler) for _ in range(4)]
    for thread in threads:
        thread.start()
    store.record_objection(number, at=at - timedelta(minutes=1))
    recorded.set()
    for thread in threads:
        thread.join()
    assert late == []

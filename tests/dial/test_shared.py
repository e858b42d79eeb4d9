"""A shared directory: several controllers' checkers read one directory index, same answers."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate import Policy
from optin_gate.context import Context
from optin_gate.dial import Checker, SharedDirectory
from tests.dial._helpers import refill, store_with
from tests.oracle import Evidence
from tests.strategies import CONTROLLERS, PHONES, evidence, instants

STORE = store_with(Evidence())


@settings(max_examples=30, deadline=None)
@given(ev=evidence(), when=st.lists(instants, min_size=1, max_size=4))
def test_checkers_sharing_a_directory_answer_as_their_own_indexes(
    ev: Evidence, when: list[datetime]
) -> None:
    refill(STORE, ev)
    directory = SharedDirectory()
    for controller in CONTROLLERS:
        context = Context(STORE, controller, Policy(), refresh_interval=None)
        alone, shared = Checker(context), Checker(context, directory=directory)
        for t in when:
            for phone in PHONES:
                number = f"+{phone}"
                assert shared.check(number, at=t) == alone.check(number, at=t)
            assert shared.check_many([f"+{p}" for p in PHONES], at=t).equals(
                alone.check_many([f"+{p}" for p in PHONES], at=t)
            )


def test_the_directory_is_built_once_and_rebuilt_when_the_store_changes() -> None:
    store = store_with(Evidence(snapshots={datetime(2026, 1, 1).date(): {420601000001: "opt_in"}}))
    directory = SharedDirectory()
    a, b = (
        Checker(Context(store, name, Policy(), refresh_interval=None), directory=directory)
        for name in ("acme", "beta")
    )
    assert a.index.shared is b.index.shared is not None
    assert a.index.directory.rows == 0  # the controller's own index holds no directory
    store.load(
        "directory",
        pa.table({"phone": ["+420601000001"], "marketing": ["opt_out"]}),
        snapshot_date="2026-02-01",
    )
    before = b.check("+420601000001", at="2026-01-02")
    assert a.refresh()
    assert b.refresh()
    assert a.index.shared is b.index.shared
    assert len(a.index.snap_days) == 2
    after = b.check("+420601000001", at="2026-02-02")
    assert before.allowed
    assert before.evidence == "directory:2026-01-01"
    assert not after.allowed
    alone = Checker(Context(store, "beta", Policy(), refresh_interval=None))
    assert after == alone.check("+420601000001", at="2026-02-02")


def test_a_build_that_waited_for_anothers_reuses_the_directory_it_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = store_with(Evidence(snapshots={datetime(2026, 1, 1).date(): {420601000001: "opt_in"}}))
    directory = SharedDirectory()
    a, b = (
        Checker(Context(store, name, Policy(), refresh_interval=None), directory=directory)
        for name in ("acme", "beta")
    )
    store.record_objection("+420601000002", controller="acme")
    read_before = store.change_token()  # what acme's refresh read, then waited for beta's
    store.record_objection("+420601000003", controller="beta")
    assert b.refresh()
    real = store.change_token
    stale = [read_before]

    def first_stale() -> tuple[int, ...]:
        return stale.pop() if stale else real()

    monkeypatch.setattr(store, "change_token", first_stale)
    assert a.refresh()
    assert a.index.shared is b.index.shared  # one directory in memory, not two
    assert a.check("+420601000003") == Checker(Context(store, "acme", Policy())).check(
        "+420601000003"
    )

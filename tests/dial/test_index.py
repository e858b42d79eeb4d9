"""The index's parts: key lookup over any spread of countries, sort order, time windows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate import Decision, EvidenceStore, Gate, Policy, Reason
from optin_gate.dial.build import build_index, key_order, scan
from optin_gate.dial.checker import _new_decision
from optin_gate.dial.clock import day_window, us_of
from optin_gate.dial.index import Kind, Packing
from optin_gate.dial.keys import KeyTable
from optin_gate.dial.probe import make_probe
from optin_gate.errors import InputError
from tests.dial._helpers import gate_for, refill, store_with
from tests.oracle import Evidence, oracle_facts
from tests.strategies import CONTROLLERS, PHONES, evidence, instants

# Keys from three countries: +1, +420, +49; far apart, so the bucket table must cope.
WIDE = (12_025_550_123, 420_601_000_002, 4_915_112_345_678)
keys_lists = st.lists(
    st.one_of(
        st.sampled_from(WIDE),
        st.integers(420_600_000_000, 420_799_999_999),
        st.integers(10**9, 10**15 - 1),
    ),
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(keys=keys_lists, probes=st.lists(st.integers(0, 10**15), max_size=40))
def test_key_table_finds_exactly_the_keys_it_holds(keys: list[int], probes: list[int]) -> None:
    sorted_keys = np.unique(np.asarray(keys, dtype=np.int64))
    table = KeyTable(sorted_keys)
    assert list(table.keys) == sorted_keys.tolist()
    for i, key in enumerate(sorted_keys.tolist()):
        assert table.find(key) == i
    for key in probes:
        expected = int(np.searchsorted(sorted_keys, key))
        if expected < len(sorted_keys) and sorted_keys[expected] == key:
            assert table.find(key) == expected
        else:
            assert table.find(key) == -1


@given(keys=keys_lists)
def test_fast_argsort_sorts_narrow_and_wide_key_ranges(keys: list[int]) -> None:
    values = np.asarray(keys, dtype=np.int64)
    order, ordered = key_order(values)
    assert sorted(order.tolist()) == list(range(len(values)))
    assert values[order].tolist() == sorted(keys)
    assert ordered.tolist() == sorted(keys)


STORE = EvidenceStore()


def _spread(ev: Evidence) -> Evidence:
    """The same evidence on numbers of three countries instead of three Czech ones."""
    to_wide = dict(zip(PHONES, WIDE, strict=True))
    return Evidence(
        consents=[dataclasses.replace(c, phone=to_wide[c.phone]) for c in ev.consents],
        objections=[dataclasses.replace(o, phone=to_wide[o.phone]) for o in ev.objections],
        contracts=[dataclasses.replace(k, phone=to_wide[k.phone]) for k in ev.contracts],
        snapshots={d: {to_wide[p]: m for p, m in s.items()} for d, s in ev.snapshots.items()},
    )


@settings(max_examples=60, deadline=None)
@given(
    ev=evidence().map(_spread),
    requests=st.lists(
        st.tuples(st.sampled_from(WIDE), st.sampled_from(CONTROLLERS), instants), max_size=10
    ),
    grace=st.sampled_from([0, 2]),
    max_age=st.sampled_from([None, 1]),
    third_party=st.booleans(),
)
def test_probe_gives_the_oracles_evidence_on_any_key_spread(
    ev: Evidence,
    requests: list[tuple[int, str, datetime]],
    grace: int,
    max_age: int | None,
    third_party: bool,
) -> None:
    policy = Policy(
        customer_grace_days=grace, consent_max_age_days=max_age, third_party_consents=third_party
    )
    store = refill(STORE, ev)
    probes = {}
    for controller in CONTROLLERS:
        with store.connect() as con:
            index = build_index(scan(con, controller, policy=policy), controller, policy)
        probes[controller] = (index, make_probe(index))
    for phone, controller, t in requests:
        index, probe = probes[controller]
        window = day_window(us_of(t))
        snap = int(np.searchsorted(index.snap_days, window.day, side="right")) - 1
        want = oracle_facts(ev, phone, controller, t, policy)
        got = probe(phone, us_of(t), window.day, snap, None)
        names = ("objection_id", "consent_id", "contract_id", "directory_marketing")
        assert dict(zip(names, got, strict=True)) == {k: want[k] for k in names}


def test_directory_history_answers_for_any_past_snapshot() -> None:
    p1, p2, _ = PHONES
    days = [date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1)]
    ev = Evidence(
        snapshots={
            days[0]: {p1: "opt_in", p2: "opt_out"},
            days[1]: {p1: "opt_out"},
            days[2]: {p1: "opt_in", p2: "opt_in"},
        }
    )
    gate = gate_for(ev)
    n1, n2 = f"+{p1}", f"+{p2}"
    assert gate.check(n1, at="2026-01-10").reason == Reason.DIRECTORY_OPT_IN
    assert gate.check(n1, at="2026-01-20").reason == Reason.NO_LEGAL_BASIS
    assert gate.check(n2, at="2026-01-20").reason == Reason.NO_LEGAL_BASIS  # unlisted then
    assert gate.check(n2, at="2026-02-01").evidence == "directory:2026-02-01"
    assert gate.check(n2, at="2025-12-31").reason == Reason.STALE_DIRECTORY  # before any


def test_index_is_arrays_only_and_counts_its_bytes() -> None:
    p1, p2, p3 = PHONES
    t = datetime(2026, 3, 1, tzinfo=UTC)
    from tests.oracle import Consent, Contract, Objection

    ev = Evidence(
        consents=[Consent("C1", p1, "acme", t), Consent("C2", p1, "beta", t)],
        contracts=[Contract("K1", p2, "acme", date(2026, 1, 1))],
        objections=[Objection("O1", p3, "beta", t)],
        snapshots={date(2026, 3, 1): {p1: "opt_in", p3: "unmarked"}},
    )
    with store_with(ev).connect() as con:
        index = build_index(scan(con, "acme", policy=Policy()), "acme", Policy())
    assert index.keys.keys.tolist() == [p1, p2, p3]
    assert index.consents.rows == 1  # only the gate's controller's consent
    assert index.objections.rows == 0  # an objection to another controller is left out
    has = index.offsets[1:] > index.offsets[:-1]  # per key: consents, contracts, objections, dir
    assert has.tolist() == [
        [True, False, False, True],
        [False, True, False, False],
        [False] * 3 + [True],
    ]
    arrays = [index.keys.keys, index.offsets, index.snap_days]
    for kind in (index.consents, index.contracts, index.objections, index.directory):
        assert np.shares_memory(kind.off, index.offsets)  # a column of the one offsets table
        arrays += kind.cols.values()
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays)
    assert index.nbytes >= sum(a.nbytes for a in arrays)
    assert index.bytes_per_number() == index.nbytes / 3


def test_decisions_are_built_faithfully() -> None:
    args = (True, Reason.CONSENT, "+420601000001", "consent:C1", "CZ-2022-opt-in")
    fast = _new_decision(*args)
    assert fast == Decision(*args)
    assert hash(fast) == hash(Decision(*args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.allowed = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)]
)
def test_prague_days_are_23_to_25_hours_long(day: date, hours: int) -> None:
    noon = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    window = day_window(us_of(noon))
    assert window.date == day
    assert window.stop - window.start == hours * 3600 * 10**6
    assert day_window(window.start).date == day
    assert day_window(window.start - 1).date == day - timedelta(days=1)
    assert day_window(window.stop).date == day + timedelta(days=1)


def test_bad_arguments_raise_input_errors() -> None:
    gate = gate_for(Evidence())
    with pytest.raises(InputError, match="call_type='robot'"):
        gate.check("+420601000001", call_type="robot")
    with pytest.raises(InputError, match="is not an ISO 8601"):
        gate.check("+420601000001", at="next tuesday")
    with pytest.raises(InputError, match="takes text"):
        gate.check(420601000001)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="refresh_interval"):
        Gate(gate.store, refresh_interval=0)
    assert gate.check(None).reason == Reason.INVALID_NUMBER  # type: ignore[arg-type]


def test_wide_packing_finds_the_same_marks() -> None:
    """More than 4,094 snapshots or 256 marks switch to 24-bit positions: same answers."""
    p1, p2, p3 = PHONES
    days = [date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1)]
    ev = Evidence(
        snapshots={
            days[0]: {p1: "opt_in", p2: "opt_out"},
            days[1]: {p1: "opt_out", p3: "unmarked"},
            days[2]: {p1: "opt_in", p2: "opt_in"},
        }
    )
    with store_with(ev).connect() as con:
        narrow = build_index(scan(con, "acme", policy=Policy()), "acme", Policy())
    assert narrow.packing == Packing(12)
    d = narrow.directory
    intervals = Packing(24).pack(*narrow.packing.unpack(d.cols["interval"]))
    wide = dataclasses.replace(
        narrow, packing=Packing(24), directory=Kind(d.off, {"interval": intervals})
    )
    probes = make_probe(narrow), make_probe(wide)
    for phone in PHONES:
        for snap in (-1, 0, 1, 2):
            answers = [probe(phone, 0, 0, snap, None) for probe in probes]
            assert answers[0] == answers[1]
    assert probes[1](p3, 0, 0, 1, None)[3] == "unmarked"
    assert probes[1](p2, 0, 0, 1, None)[3] is None  # not listed in the second snapshot

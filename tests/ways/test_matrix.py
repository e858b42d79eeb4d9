"""Every way of deciding gives, for every request, the decision of the plain-Python oracle.

The worlds (tests/ways/worlds.py) put evidence exactly on the decision times and a second
(or a day) either side, and ask also where the evidence changes and a microsecond either
side; the oracle (tests/oracle.py `decide`) reads docs/rules.md § 1.4 and § 3 without the
library's rules, SQL or compiled lookups.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
from hypothesis import HealthCheck, given, settings

import optin_gate as og
from tests.oracle import Decided, decide
from tests.ways.ways import Way
from tests.ways.worlds import Ask, World, load, worlds


def test_every_way_decides_as_the_law(way: Way) -> None:
    # Worlds per way: a way that answers in microseconds can afford more of them.
    @_settings(way.examples)
    @given(world=worlds())
    def agrees(world: World) -> None:
        _agrees(way, world)

    agrees()


def test_every_way_decides_as_the_law_where_evidence_changes(way: Way) -> None:
    # Every moment on an instant where a fact changes (a grant, withdrawal or expiry, a
    # contract's first or last day, a snapshot's date or staleness, a list release, a regime
    # day, Prague's clock changes) or a microsecond either side of it.
    @_settings(way.examples // 4)
    @given(world=worlds(moments=way.moments, at_changes=True))
    def agrees(world: World) -> None:
        _agrees(way, world)

    agrees()


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _agrees(way: Way, world: World) -> None:
    got = way.decide(load(world.evidence), world.policy, world.asks)
    wrong = [
        f"{ask}\n  got  {g}\n  want {w}"
        for ask, g in zip(world.asks, got, strict=True)
        if g != (w := way.seen(_oracle(world, ask)))
    ]
    assert not wrong, "\n".join(wrong)


def _oracle(world: World, ask: Ask) -> Decided:
    return decide(
        world.evidence,
        ask.text,
        controller=ask.controller,
        t=ask.t,
        call_type=ask.call_type,
        policy=world.policy,
        sector=ask.sector,
        caller_id=ask.caller_id,
        purpose=ask.purpose,
    )


def test_controller_names_ignore_case_and_surrounding_spaces(way: Way) -> None:
    # docs/design.md: one rule for every way; the store folds names as it loads them.
    store = og.EvidenceStore()
    store.load(
        "consents",
        pa.table(
            {
                "consent_id": ["C1"],
                "phone": ["+420601000001"],
                "controller": ["acme"],
                "granted_at": ["2023-01-01T09:00"],
            }
        ),
        strict=True,
    )
    store.load(
        "contracts",
        pa.table(
            {
                "contract_id": ["K1"],
                "phone": ["+420601000002"],
                "controller": [" Beta"],
                "start_date": ["2023-01-01"],
            }
        ),
        strict=True,
    )
    t = datetime(2023, 2, 1, 12, tzinfo=UTC)
    asks = [Ask("601000001", " ACME ", t, "live"), Ask("601000002", "beta", t, "live")]
    got = way.decide(store, og.Policy(), asks)
    assert [g.evidence for g in got] == ["consent:C1", "contract:K1"]

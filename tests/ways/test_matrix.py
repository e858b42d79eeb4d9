"""Every way of deciding gives, for every request, the decision of the plain-Python oracle.

The worlds (tests/ways/worlds.py) put evidence exactly on the decision times and a second
(or a day) either side; the oracle (tests/oracle.py `decide`) reads docs/rules.md § 3 without
the library's rules, SQL or compiled lookups.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.oracle import decide
from tests.ways.ways import Way
from tests.ways.worlds import World, load, worlds


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds())
def test_every_way_decides_as_the_law(way: Way, world: World) -> None:
    got = way.decide(load(world.evidence), world.policy, world.asks)
    want = [
        decide(
            world.evidence,
            ask.text,
            controller=ask.controller,
            t=ask.t,
            call_type=ask.call_type,
            policy=world.policy,
        )
        for ask in world.asks
    ]
    wrong = [
        f"{ask}\n  got  {g}\n  want {w}"
        for ask, g, w in zip(world.asks, got, want, strict=True)
        if g != w
    ]
    assert not wrong, "\n".join(wrong)

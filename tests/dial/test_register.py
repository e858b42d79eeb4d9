"""The Slovak list in a single check answers as in the batch (`Register.part`)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.dial.compiled import register_part, register_table
from optin_gate.dial.register import Entry, Register, meaning_bits
from optin_gate.policy import Policy
from optin_gate.rules.shapes import register_part as shape_part
from optin_gate.store.semantics import NO_CONSENT, Semantics

_FIRST = date(2025, 1, 1)
_DAY0 = (_FIRST - date(1970, 1, 1)).days
_KEYS = (421_901_000_001, 421_901_000_002, 421_902_000_003)
_SECTORS = st.one_of(st.none(), st.frozensets(st.sampled_from(["telekom", "energy", "bank"])))
_INSTANT = st.integers(0, 40).map(lambda d: (_DAY0 + d) * 86_400_000_000)


@st.composite
def registers(draw: st.DrawFn) -> Register:
    """A list of up to three numbers, each with a few releases, oldest first."""
    releases = sorted(draw(st.sets(st.integers(0, 30), min_size=1, max_size=4)))
    numbers: dict[int, tuple[Entry, ...]] = {}
    for key in draw(st.lists(st.sampled_from(_KEYS), unique=True, max_size=3)):
        held = sorted(draw(st.sets(st.sampled_from(releases), min_size=1)))
        numbers[key] = tuple(
            (
                _DAY0 + day,
                int(shape_part(releases.index(day), 0, 0)),
                draw(st.booleans()),
                draw(_SECTORS),
                draw(st.one_of(st.none(), _INSTANT)),
            )
            for day in held
        )
    return Register.of(tuple(_FIRST + timedelta(days=d) for d in releases), numbers)


@settings(max_examples=500, deadline=None)  # the first example compiles the lookup
@given(
    register=registers(),
    key=st.sampled_from((*_KEYS, 421_903_000_004, 420_601_000_001)),
    day=st.integers(-1, 32),
    sector=st.sampled_from([None, "telekom", "bank", "travel"]),
    granted=st.one_of(st.none(), _INSTANT),
    unknown_blocks=st.booleans(),
    consent_always=st.booleans(),
)
def test_compiled_list_answers_as_the_batch(  # noqa: PLR0917
    register: Register,
    key: int,
    day: int,
    sector: str | None,
    granted: int | None,
    unknown_blocks: bool,
    consent_always: bool,
) -> None:
    meaning = dataclasses.replace(
        Semantics.of(Policy()),
        sk_unknown_sector_blocks=unknown_blocks,
        sk_consent_always=consent_always,
    )
    expected = register.part(key, _DAY0 + day, sector, granted, meaning)
    table = register_table(register)
    got = register_part(
        table,
        key,
        _DAY0 + day,
        NO_CONSENT if granted is None else granted,
        register.sector_id(sector),
        meaning_bits(meaning),
    )
    assert got == expected

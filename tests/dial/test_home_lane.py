"""The compiled lanes: "+420..." (the home country) and "+421..." (Slovakia, whose plan has a
national prefix) checked in machine code give phonenumbers' answer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from optin_gate import Policy, Reason
from optin_gate.dial.build import build_index, scan
from optin_gate.dial.compiled import (
    NOT_VALID,
    OUTSIDE,
    Lookup,
    consents_of,
    lane_entry,
    lane_table,
)
from optin_gate.dial.probe import make_probe
from optin_gate.dial.register import NO_SECTOR
from optin_gate.numbers import home_plan, normalize_one
from optin_gate.numbers.spec import TYPE_CODES
from tests.dial._helpers import gate_for, store_with
from tests.oracle import Consent, Evidence

with store_with(Evidence()).connect() as _con:
    _RAW = scan(_con, "acme", policy=Policy())
    _INDEX = build_index(_RAW, "acme", Policy())
    _PROBE = make_probe(_INDEX, home_plan("CZ"))
    _SLOVAK = Lookup(_INDEX, home_plan("SK"))
_NOTHING_RECORDED = np.empty(0, dtype=np.int64)
_LANES = {
    slovak: lane_table(
        _PROBE,
        _SLOVAK if slovak else None,
        day=0,
        snap=-1,
        radixes=(1, 2),
        numbers=(0, False, 0),
        meaning=0,
        recorded=_NOTHING_RECORDED,
    )
    for slovak in (False, True)
}


def lane_code(value: str, *, slovak: bool) -> int:
    """The type code the compiled lane gives `value`, or NOT_VALID or OUTSIDE."""
    table = _LANES[slovak]
    address = int(table.ctypes.data)
    return int(lane_entry()(address, value, 0, NO_SECTOR, consents_of(table))[0])


# "+" then digits: mostly Czech-looking (every length around the national nine), some others.
compact = st.one_of(
    st.builds(lambda d: "+420" + d, st.text("0123456789", min_size=0, max_size=15)),
    st.builds(lambda d: "+" + d, st.text("0123456789", min_size=1, max_size=17)),
)


@settings(max_examples=3000, deadline=None)
@given(value=compact)
@example("+420601234567")  # mobile
@example("+420212345678")  # fixed line
@example("+420800123456")  # toll free
@example("+420101234567")  # no such range
@example("+42060123456")  # a digit short
@example("+04206012345678")  # a leading zero is not the calling code
def test_home_lane_agrees_with_phonenumbers(value: str) -> None:
    code = lane_code(value, slovak=False)
    want = normalize_one(value, "CZ")
    if code >= 0:
        assert want == (value, True, TYPE_CODES[code], "CZ")
    elif code == NOT_VALID:
        assert want.e164 is None
        assert not want.valid
    else:
        assert code == OUTSIDE
        digits = value[1:]
        assert not digits.startswith("420") or not 5 <= len(digits) <= 17


slovak = st.builds(lambda d: "+421" + d, st.text("0123456789", min_size=0, max_size=15))


@settings(max_examples=3000, deadline=None)
@given(value=slovak)
@example("+421905123456")  # mobile
@example("+421212345678")  # Bratislava
@example("+4210905123456")  # the national prefix written too: phonenumbers strips it
@example("+421090512345")
@example("+421888123456")  # the marketing range
def test_slovak_lane_agrees_with_phonenumbers(value: str) -> None:
    code = lane_code(value, slovak=True)
    want = normalize_one(value, "CZ")
    if code >= 0:
        assert want == (value, True, TYPE_CODES[code], "SK")
    elif code == NOT_VALID:
        assert want.e164 is None
        assert not want.valid
    else:
        assert code == OUTSIDE
        national = value[4:]
        assert national.startswith("0") or not 2 <= len(national) <= 14


def test_the_lane_decides_like_the_normalizing_path() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    ev = Evidence(
        consents=[Consent("C1", 420601000001, "acme", t)],
        snapshots={date(2026, 3, 1): {420601000002: "opt_in"}},
    )
    gate = gate_for(ev)
    at = "2026-03-02"
    for compact_form, written in [
        ("+420601000001", "601 000 001"),
        ("+420601000002", "+420 601 000 002"),
        ("+420601000003", "00420601000003"),
        ("+420101234567", "101 234 567"),
        ("+421905000001", "+421 905 000 001"),
        ("+4210905000001", "00421 0905 000 001"),
    ]:
        fast, slow = gate.check(compact_form, at=at), gate.check(written, at=at)
        assert fast == slow
    assert gate.check("+420601000001", at=at).evidence == "consent:C1"
    assert gate.check("+420101234567", at=at).reason == Reason.INVALID_NUMBER


@pytest.mark.parametrize(
    "value", ["+420 601000001", "+420601000001\n", "+420_601_000_001", "+420601000001\u0660"]
)
def test_what_int_would_forgive_is_normalized_the_long_way(value: str) -> None:
    gate = gate_for(Evidence(snapshots={date(2026, 3, 1): {420601000001: "opt_in"}}))
    at = "2026-03-02"
    got, number = gate.check(value, at=at), normalize_one(value, "CZ")
    assert got.e164 == number.e164
    if number.e164 is None:
        assert got.reason == Reason.INVALID_NUMBER
    else:
        assert got == gate.check(number.e164, at=at)


def test_a_number_objecting_since_the_build_leaves_the_lane_and_is_blocked() -> None:
    gate = gate_for(
        Evidence(
            consents=[Consent("C1", 420601000001, "acme", datetime(2026, 1, 1, tzinfo=UTC))],
            snapshots={date(2026, 3, 1): {420601000002: "opt_in"}},
        )
    )
    assert gate.check("+420601000001").allowed  # the lane answers, index built
    gate.store.record_objection("+420601000001", objection_id="O-1")
    for number in ("+420601000001", "601 000 001"):
        got = gate.check(number)
        assert (got.reason, got.evidence) == (Reason.OBJECTION, "objection:O-1")
        assert got.e164 == "+420601000001"
    # Its neighbour, without an objection, still takes the lane.
    assert gate.check("+420601000002", at="2026-03-02").reason == Reason.DIRECTORY_OPT_IN
    assert gate.check("+420601000001", purpose="marketing").reason == Reason.OBJECTION

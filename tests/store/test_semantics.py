"""Every rendering of the evidence semantics says the same, at the very edges.

`store.semantics` is rendered as SQL (the filter's predicates, the audit's and the dial's
interval ends), as Python and as compiled code. Each test puts the forms side by side on
instants exactly at a record's edges and one microsecond either side, and holds them to the
rule as the law states it.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.store.semantics import (
    NEWEST,
    NO_CONSENT,
    Semantics,
    consent_covers,
    consent_holds,
    consent_note,
    contract_holds,
    is_newer,
    newer,
    newest_last,
    objection_in_force,
    objection_in_force_jit,
    objection_in_force_sql,
)

_DAY_US = 86_400_000_000
_NEVER = int(np.iinfo(np.int64).max)
_OPEN = int(np.iinfo(np.int32).max)


@pytest.fixture(scope="module")
def con() -> Any:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def _near(edges: list[int]) -> st.SearchStrategy[int]:
    """An edge, or one unit either side of it."""
    return st.sampled_from(edges).flatmap(lambda e: st.sampled_from([e - 1, e, e + 1]))


@st.composite
def consents(draw: st.DrawFn) -> tuple[int, int | None, int | None, int | None, int]:
    """(granted, withdrawn, expires, max age in days, T): T on or beside an edge."""
    granted = draw(st.integers(0, 10)) * _DAY_US
    withdrawn = draw(st.none() | st.integers(0, 10).map(lambda d: d * _DAY_US))
    expires = draw(st.none() | st.integers(0, 10).map(lambda d: d * _DAY_US))
    age = draw(st.none() | st.integers(1, 5))
    edges = [granted] + [e for e in (withdrawn, expires) if e is not None]
    if age is not None:
        edges.append(granted + age * _DAY_US)
    return granted, withdrawn, expires, age, draw(_near(edges))


@settings(max_examples=60, deadline=None)
@given(consent=consents(), channel=st.sampled_from(["phone", "any", "sms", "email"]))
def test_a_consent_holds_from_its_grant_until_its_first_end(
    con: Any, consent: tuple[int, int | None, int | None, int | None, int], channel: str
) -> None:
    granted, withdrawn, expires, age, t = consent
    meaning = Semantics(consent_max_age_days=age)
    ends = [e for e in (withdrawn, expires) if e is not None]
    ends += [] if age is None else [granted + age * _DAY_US]
    law = granted <= t < min(ends, default=_NEVER) and channel in ("phone", "any")
    row = con.execute(
        f"""
        SELECT {meaning.consent_valid_sql("make_timestamptz($t)")},
               coalesce(epoch_us({meaning.consent_until_sql()}), {_NEVER})
        FROM (SELECT make_timestamptz($g) AS granted_at, make_timestamptz($w) AS withdrawn_at,
                     make_timestamptz($e) AS expires_at, $c AS channel,
                     'direct' AS obtained, NULL AS purposes)
        """,
        {"t": t, "g": granted, "w": withdrawn, "e": expires, "c": channel},
    ).fetchall()
    [(valid, until)] = row
    assert valid == law  # the filter's predicate
    counts = channel in meaning.consent_channels
    assert (counts and consent_holds(granted, until, t)) == law  # the interval form


@settings(max_examples=80, deadline=None)
@given(
    purposes=st.sampled_from([None, "energy", "energy;insurance", "insurance"]),
    purpose=st.sampled_from([None, "energy", "insurance", "travel"]),
    obtained=st.sampled_from([None, "direct", "third_party"]),
    channel=st.sampled_from(["phone", "any", "email"]),
    third_party=st.booleans(),
    withdrawn=st.booleans(),
)
def test_whose_consent_and_which_purpose_count_and_why_not(  # noqa: PLR0917
    con: Any,
    purposes: str | None,
    purpose: str | None,
    obtained: str | None,
    channel: str,
    third_party: bool,
    withdrawn: bool,
) -> None:
    # A consent from a third party counts only when the policy says so; one for named
    # purposes only for those; the note names the first reason, in SQL and Python alike.
    meaning = Semantics(third_party_consents=third_party, purpose=purpose)
    row = con.execute(
        f"""
        SELECT {meaning.consent_counts_sql()}, {meaning.consent_standing_sql()},
               {meaning.consent_note_sql("make_timestamptz(5)")}
        FROM (SELECT 'C-9' AS consent_id, make_timestamptz(1) AS granted_at,
                     CASE WHEN $w THEN make_timestamptz(3) END AS withdrawn_at,
                     CAST(NULL AS TIMESTAMPTZ) AS expires_at, $c AS channel,
                     $o AS obtained, $p AS purposes)
        """,
        {"w": withdrawn, "c": channel, "o": obtained, "p": purposes},
    ).fetchall()
    [(counts, standing, note)] = row
    by_law = (
        (obtained != "third_party" or third_party)
        and channel in ("phone", "any")
        and (purpose is None or purposes is None or purpose in purposes.split(";"))
    )
    assert counts == by_law
    assert consent_covers(purposes, purpose) == (
        purpose is None or purposes is None or purpose in purposes.split(";")
    )
    if by_law and not withdrawn:
        assert note is None
    else:
        assert note == consent_note("C-9", standing, consent_covers(purposes, purpose), withdrawn)
        assert note.startswith("consent:C-9 held, not counted: ")
    if obtained == "third_party" and not third_party:
        assert note == "consent:C-9 held, not counted: obtained from a third party"


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 5),
    length=st.none() | st.integers(0, 5),
    grace=st.integers(0, 3),
    window=st.integers(0, 3),
    phone=st.sampled_from([420601234567, 421905123456]),
    data=st.data(),
)
def test_a_contract_counts_from_its_first_day_to_its_end_plus_the_grace(  # noqa: PLR0917
    con: Any,
    start: int,
    length: int | None,
    grace: int,
    window: int,
    phone: int,
    data: st.DataObject,
) -> None:
    """A Slovak number's contract counts for the Slovak customer window instead."""
    end = None if length is None else start + length
    meaning = Semantics(customer_grace_days=grace, sk_customer_window_days=window)
    grace = meaning.contract_window(phone)
    assert grace == (window if str(phone).startswith("421") else grace)
    day = data.draw(_near([start] + ([] if end is None else [end + grace])))
    law = start <= day and (end is None or day <= end + grace)
    row = con.execute(
        f"""
        SELECT {meaning.contract_active_sql("(DATE '1970-01-01' + $d)")},
               ({meaning.contract_last_day_sql()}) - DATE '1970-01-01'
        FROM (SELECT DATE '1970-01-01' + $s AS start_date,
                     DATE '1970-01-01' + $e AS end_date, $p AS phone)
        """,
        {"d": day, "s": start, "e": end, "p": phone},
    ).fetchall()
    [(active, last)] = row
    assert active == law
    assert contract_holds(start, _OPEN if last is None else last, day) == law


@pytest.mark.parametrize(
    ("objected", "granted", "in_force"),
    [(100, NO_CONSENT, True), (100, 99, True), (100, 100, True), (100, 101, False)],
)
def test_an_objection_yields_only_to_a_consent_granted_strictly_after_it(
    con: Any, objected: int, granted: int, in_force: bool
) -> None:
    sql_granted = None if granted == NO_CONSENT else granted
    row = con.execute(
        f"SELECT {objection_in_force_sql('$o', '$g::BIGINT')}", {"o": objected, "g": sql_granted}
    ).fetchall()
    assert row == [(in_force,)]
    assert objection_in_force(objected, granted) == in_force
    assert objection_in_force_jit(objected, granted) == in_force
    as_arrays = objection_in_force(np.array([objected]), np.array([granted]))
    assert as_arrays.tolist() == [in_force]


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(["a", "ab", "b", "B", "é", "z9", "Z"])),
        min_size=1,
        max_size=8,
        unique=True,
    )
)
def test_every_form_picks_the_same_newest_record(con: Any, records: list[tuple[int, str]]) -> None:
    order = NEWEST["consent_id"]
    rows = pa.table({order.time: [t for t, _ in records], order.ident: [i for _, i in records]})
    con.register("og_records", rows)
    [first] = con.sql(f"SELECT * FROM og_records ORDER BY {order.first_sql()} LIMIT 1").fetchall()
    [arg_max] = con.sql(
        f"SELECT arg_max({order.ident}, {order.key_sql()}) FROM og_records"
    ).fetchall()
    python = records[0]
    for record in records[1:]:
        python = record if is_newer(*record, *python) else python
    ids = pa.array([i for _, i in records], pa.string())
    offsets = np.frombuffer(ids.buffers()[1], np.int32).astype(np.int64)
    text = np.frombuffer(ids.buffers()[2], np.uint8)
    times = np.array([t for t, _ in records], np.int64)
    best = 0
    for i in range(1, len(records)):
        best = i if newer(times, offsets, text, i, best) else best
    last = int(np.lexsort(newest_last(times, ids))[-1])
    assert first == python == records[best] == records[last]
    assert arg_max == (python[1],)

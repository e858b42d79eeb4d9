"""Objections recorded since the index was built are weighed as if they were in it.

The compiled lookup drops the index's newest objection when the consent outweighs it, and
`probe.weigh_recorded` then weighs each recorded one on its own. The law weighs only the
newest (by stated time) of those counting at T, each counting from the earlier of its stated
and recorded times; the two must agree for any split of the objections.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.dial.probe import weigh_recorded
from optin_gate.store.semantics import NO_CONSENT

# (stated time, id, how far the stated time lies ahead of the recorded one)
objections = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(["a", "ab", "b", "Z"]), st.integers(0, 2)),
    max_size=6,
    unique_by=lambda o: o[:2],
)


@settings(max_examples=200, deadline=None)
@given(
    indexed=objections,
    recorded=objections,
    granted=st.sampled_from([NO_CONSENT, 0, 1, 2, 3, 4, 5]),
    t=st.integers(0, 5),
)
def test_the_newest_objection_counting_at_t_holds_unless_a_later_consent_outweighs_it(
    indexed: list[tuple[int, str, int]],
    recorded: list[tuple[int, str, int]],
    granted: int,
    t: int,
) -> None:
    made = [o[:2] for o in indexed + recorded if o[0] - o[2] <= t]
    newest = max(made, default=None)
    law = newest[1] if newest is not None and granted <= newest[0] else None
    in_index = max((o[:2] for o in indexed if o[0] - o[2] <= t), default=None)
    if in_index is not None and granted > in_index[0]:
        in_index = None  # as the compiled lookup leaves it
    extra = tuple(
        (stated - ahead, oid, seq, stated) for seq, (stated, oid, ahead) in enumerate(recorded)
    )
    found = weigh_recorded(in_index, extra, granted, t)
    assert (None if found is None else found[1]) == law

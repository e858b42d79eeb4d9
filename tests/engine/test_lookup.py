"""The compiled evidence lookup keeps, per number, the record SQL's window keeps.

`engine.lookup` picks the newest consent, contract and objection per number itself (by time,
then id as DuckDB orders text) and drops an objection a later valid consent outweighs. DuckDB
is the oracle: the same records through `ORDER BY time DESC, id DESC` and
`facts.objections_in_force_sql`. Times and ids are drawn from tiny sets so that ties, ids
that are prefixes of others and ids that sort differently as text and as numbers are common.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate.engine import lookup
from optin_gate.engine.facts import objections_in_force_sql
from optin_gate.rules.shapes import ID_FIELDS

PHONES = [420601000001, 420601000002, 420601000003, 421901000004]
records = st.lists(
    st.tuples(
        st.sampled_from(PHONES),
        st.sampled_from(["C1", "C10", "C9", "C1a", "D", "c"]),
        st.integers(1, 3),
    ),
    max_size=12,
)


def _oracle(kinds: dict[str, list[tuple[int, str, int]]]) -> dict[int, dict[str, str | None]]:
    con = duckdb.connect()
    for field, rows in kinds.items():
        table = pa.table(
            {
                "phone": pa.array([r[0] for r in rows], pa.int64()),
                "id": pa.array([r[1] for r in rows], pa.string()),
                "t": pa.array([r[2] for r in rows], pa.int64()),
            }
        )
        con.register(f"raw_{field}", table)
        con.execute(
            f"CREATE TABLE {field} AS SELECT * FROM raw_{field} "
            "QUALIFY row_number() OVER (PARTITION BY phone ORDER BY t DESC, id DESC) = 1"
        )
    con.execute(
        "CREATE VIEW lo AS SELECT phone, id AS objection_id, t AS objected_at FROM objection_id"
    )
    con.execute("CREATE VIEW vc AS SELECT phone, t AS granted_at FROM consent_id")
    in_force = objections_in_force_sql("lo", "vc")
    found: dict[int, dict[str, str | None]] = {p: dict.fromkeys(ID_FIELDS) for p in PHONES}
    for phone, ident in con.execute(in_force).fetchall():
        found[phone]["objection_id"] = ident
    for field in ("consent_id", "contract_id"):
        for phone, ident in con.execute(f"SELECT phone, id FROM {field}").fetchall():
            found[phone][field] = ident
    return found


def _held(evidence: lookup.Evidence) -> dict[int, dict[str, str | None]]:
    slots = lookup._hash_table(evidence)
    size = slots.shape[1]
    found: dict[int, dict[str, str | None]] = {}
    for phone in PHONES:
        hashed = int(lookup._hash(phone))
        part = hashed >> lookup._PART_SHIFT
        first = ((hashed & lookup._SLOT_BITS) * size) >> lookup._PART_SHIFT
        slot = int(lookup._find(slots[part], first if slots[part, first, 0] else -1, phone))
        entry: dict[str, str | None] = dict.fromkeys(ID_FIELDS)
        for value, field in enumerate(ID_FIELDS):
            stored = int(lookup._value(slots[part], slot, value)) if slot >= 0 else 0
            entry[field] = evidence.ids[value][stored - 1].as_py() if stored else None
        found[phone] = entry
    return found


def _evidence(kinds: dict[str, list[tuple[int, str, int]]]) -> lookup.Evidence:
    def column(rows: list[tuple[int, str, int]], i: int) -> Any:
        return np.array([r[i] for r in rows], dtype=np.int64)

    return lookup.Evidence(
        phones=tuple(column(kinds[f], 0) for f in ID_FIELDS),
        ids=tuple(pa.array([r[1] for r in kinds[f]], pa.string()) for f in ID_FIELDS),
        times=tuple(column(kinds[f], 2) for f in ID_FIELDS),
        listed=np.zeros(0, dtype=np.int64),
        marks=np.zeros(0, dtype=np.int32),
    )


@settings(max_examples=300, deadline=None)
@given(objections=records, consents=records, contracts=records)
def test_the_newest_records_and_the_objections_in_force_are_the_sql_ones(
    objections: list[tuple[int, str, int]],
    consents: list[tuple[int, str, int]],
    contracts: list[tuple[int, str, int]],
) -> None:
    kinds = {"objection_id": objections, "consent_id": consents, "contract_id": contracts}
    assert _held(_evidence(kinds)) == _oracle(kinds)


def test_an_objection_and_a_consent_of_the_same_instant_leave_the_objection_in_force() -> None:
    kinds = {
        "objection_id": [(PHONES[0], "O1", 2), (PHONES[1], "O2", 2)],
        "consent_id": [(PHONES[0], "C1", 2), (PHONES[1], "C2", 3)],
        "contract_id": [],
    }
    held = _held(_evidence(kinds))
    assert held[PHONES[0]]["objection_id"] == "O1"  # granted at the same instant: in force
    assert held[PHONES[1]]["objection_id"] is None  # granted later: outweighed
    assert held == _oracle(kinds)


@settings(max_examples=200, deadline=None)
@given(
    phones=st.sets(st.integers(420_600_000_000, 420_799_999_999), min_size=1, max_size=60),
    absent=st.lists(st.integers(420_600_000_000, 420_799_999_999), max_size=20),
)
def test_any_small_store_fits_its_table_and_every_lookup_ends(
    phones: set[int], absent: list[int]
) -> None:
    # Which half of the table a number lands in depends on its hash: with a few dozen
    # numbers one half may get far more than its share; it must still have room, and a
    # number that is not there must come back absent, not loop.
    kinds = {
        "objection_id": [],
        "consent_id": [(p, f"C{p}", 1) for p in sorted(phones)],
        "contract_id": [],
    }
    evidence = _evidence(kinds)
    slots = lookup._hash_table(evidence)
    size = slots.shape[1]
    for phone in [*phones, *absent]:
        hashed = int(lookup._hash(phone))
        part = hashed >> lookup._PART_SHIFT
        first = ((hashed & lookup._SLOT_BITS) * size) >> lookup._PART_SHIFT
        slot = int(lookup._find(slots[part], first if slots[part, first, 0] else -1, phone))
        assert (slot >= 0) is (phone in phones)


def test_a_half_that_gets_most_of_a_small_store_still_has_room() -> None:
    # 24 numbers of which 17 hash to one half: sized by the whole store, that half would
    # have had 16 slots, and building it spun for ever.
    rng = np.random.default_rng(0)
    while True:
        keys = [int(k) for k in 420601000000 + rng.choice(10**6, 24, replace=False)]
        upper = sum(int(lookup._hash(k)) >> lookup._PART_SHIFT for k in keys)
        if max(upper, 24 - upper) >= 17:
            break
    kinds = {"objection_id": [], "consent_id": [(k, f"C{k}", 1) for k in keys], "contract_id": []}
    slots = lookup._hash_table(_evidence(kinds))
    assert slots.shape[1] > max(upper, 24 - upper)
    assert int((slots[:, :, 0] != 0).sum()) == 24

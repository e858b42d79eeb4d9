"""For any evidence and any call list, the filter returns every row once, in order, untouched,
and its permitted, denied and summary views agree with its rows.

Whether each decision is the law's is the parity matrix's job (tests/ways). The evidence goes
straight into the store's tables (`tests.oracle.write_evidence`); the loaders have their own
tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import optin_gate as og
from tests.oracle import Evidence, write_evidence
from tests.strategies import CONTROLLERS, evidence_and_time, fact_policies, list_phones

ALLOWING = {"CONSENT", "EXISTING_CUSTOMER", "DIRECTORY_OPT_IN", "NO_OPT_OUT"}


class TableStore:
    """The part of `EvidenceStore` the engine uses: read-only connections to the tables."""

    def __init__(self, ev: Evidence) -> None:
        self._con = duckdb.connect()
        write_evidence(self._con, ev)

    @contextlib.contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


# One filter run: (evidence, time), the list's phones, controller, call type, policy.
Run = tuple[tuple[Evidence, datetime], list[str | None], str, str, og.Policy]
runs = st.tuples(
    evidence_and_time(),
    st.lists(list_phones, min_size=1, max_size=25),
    st.sampled_from(CONTROLLERS),
    st.sampled_from(["live", "automated"]),
    fact_policies,
)


@settings(max_examples=20, deadline=None)
@given(run=runs)
def test_filter_keeps_every_row_and_agrees_with_itself(run: Run) -> None:
    (ev, t), phones, controller, call_type, policy = run
    gate = og.Gate(TableStore(ev), controller=controller, policy=policy)  # type: ignore[arg-type]
    listing = pa.table(
        {
            "id": pa.array(range(len(phones)), pa.int64()),
            "telefon": pa.array(phones, pa.string()),
            "poznámka": pa.array([f"řádek {i}" for i in range(len(phones))]),
        }
    )
    result = gate.filter(listing, as_of=t, call_type=call_type)
    table = result.table

    # every row once, in input order, input columns first and untouched
    assert table.num_rows == listing.num_rows
    assert table.column_names == [*listing.column_names, *og.engine.query.DECISION_COLUMNS, "note"]
    assert table.select(listing.column_names).equals(listing)

    # allowed is true exactly for the allowing reasons
    for row in table.to_pylist():
        assert row["allowed"] is (row["reason"] in ALLOWING)

    # the same list filtered twice gives the same result
    assert gate.filter(listing, as_of=t, call_type=call_type).table.equals(table)

    # permitted and denied split the rows, in order; the summary counts them
    assert result.permitted.column("id").to_pylist() == [
        r["id"] for r in table.to_pylist() if r["allowed"]
    ]
    assert result.permitted.num_rows + result.denied.num_rows == table.num_rows
    assert sum(result.summary.values()) == table.num_rows

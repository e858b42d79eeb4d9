"""For any evidence and any call list, the filter returns every row once, in order, untouched,
and each decision is the one a brute-force reading of RULES.md gives (tests/oracle.py).

DuckDB is the engine, the oracle is the judge. The evidence goes straight into the store's
tables (`tests.oracle.write_evidence`), so hypothesis can try hundreds of worlds quickly; the
loaders have their own tests.
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
from optin_gate.numbers.reference import reference_one
from optin_gate.rules import Facts, compile_rules
from tests.oracle import Evidence, oracle_facts, write_evidence
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


def oracle_row(
    ev: Evidence,
    text: str | None,
    *,
    controller: str,
    t: datetime,
    call_type: str,
    policy: og.Policy,
) -> tuple[str | None, bool, str, str | None, str]:
    n = reference_one(text, policy.default_region)
    key = int(n.e164[1:]) if n.e164 else None
    facts = Facts(
        valid=n.valid,
        country=n.country,
        number_type=n.number_type,
        automated=call_type == "automated",
        **oracle_facts(ev, key, controller, t, policy),  # type: ignore[arg-type]
    )
    reason, evidence_id, rule_set = compile_rules(policy).decide(facts)
    return (n.e164, reason.allowed, reason.value, evidence_id, rule_set)


# One filter run: (evidence, time), the list's phones, controller, call type, policy.
Run = tuple[tuple[Evidence, datetime], list[str | None], str, str, og.Policy]
runs = st.tuples(
    evidence_and_time(),
    st.lists(list_phones, min_size=1, max_size=25),
    st.sampled_from(CONTROLLERS),
    st.sampled_from(["live", "automated"]),
    fact_policies,
)


@settings(max_examples=40, deadline=None)
@given(run=runs)
def test_filter_matches_the_oracle_row_by_row(run: Run) -> None:
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
    assert table.column_names == [*listing.column_names, *og.engine.query.DECISION_COLUMNS]
    assert table.select(listing.column_names).equals(listing)

    # allowed is true exactly for the allowing reasons
    for row in table.to_pylist():
        assert row["allowed"] is (row["reason"] in ALLOWING)

    # each row's decision is the oracle's
    got = [
        tuple(r[c] for c in ("e164", "allowed", "reason", "evidence", "rule_set"))
        for r in table.to_pylist()
    ]
    want = [
        oracle_row(ev, p, controller=controller, t=t, call_type=call_type, policy=policy)
        for p in phones
    ]
    assert got == want

    # the same list filtered twice gives the same result
    assert gate.filter(listing, as_of=t, call_type=call_type).table.equals(table)

    # permitted and denied split the rows, in order; the summary counts them
    assert result.permitted.column("id").to_pylist() == [
        r["id"] for r in table.to_pylist() if r["allowed"]
    ]
    assert result.permitted.num_rows + result.denied.num_rows == table.num_rows
    assert sum(result.summary.values()) == table.num_rows


@settings(max_examples=25, deadline=None)
@given(run=runs)
def test_both_ways_of_filtering_a_file_match_the_oracle_row_by_row(run: Run) -> None:
    # A file goes one of two ways: held in Arrow, its evidence looked up by number in
    # compiled code (`engine.lookup`), or held by DuckDB and joined (`engine.spilled`).
    # Both must write what the oracle decides, row for row, in order.
    import tempfile
    from pathlib import Path

    import pyarrow.parquet as pq

    from optin_gate.engine import filter_file

    (ev, t), phones, controller, call_type, policy = run
    gate = og.Gate(TableStore(ev), controller=controller, policy=policy)  # type: ignore[arg-type]
    want = [
        oracle_row(ev, p, controller=controller, t=t, call_type=call_type, policy=policy)
        for p in phones
    ]
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "list.parquet"
        pq.write_table(pa.table({"telefon": pa.array(phones, pa.string())}), listing)
        for way in ("held", "spilled"):
            out = Path(tmp) / f"all-{way}.parquet"
            summary = filter_file(
                gate, listing, as_of=t, call_type=call_type, decisions=out, way=way
            )
            columns = ("e164", "allowed", "reason", "evidence", "rule_set")
            got = [tuple(r[c] for c in columns) for r in pq.read_table(out).to_pylist()]
            assert got == want, way
            assert summary.permitted == sum(row[1] for row in want)

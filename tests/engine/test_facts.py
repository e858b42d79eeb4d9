"""The filter's one-time facts query (engine.facts) says what the store's per-request definition
(store.asof.facts_sql) says, for any evidence, time, controller and policy."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import optin_gate as og
from optin_gate.engine.facts import facts_at_sql
from optin_gate.store.asof import FACTS_COLUMNS, facts_sql
from tests.oracle import Evidence, write_evidence
from tests.strategies import (
    CONTROLLERS,
    PHONES,
    evidence,
    evidence_moments,
    fact_policies,
    instants,
)

KEYS = [*PHONES, 420601000009, None]  # plus a number with no evidence, and an invalid one


def _literal_t(t: datetime) -> str:
    return f"CAST('{t.isoformat()}' AS TIMESTAMPTZ)"


@settings(max_examples=80, deadline=None)
@given(
    ev=evidence(),
    data=st.data(),
    controller=st.sampled_from(CONTROLLERS),
    policy=fact_policies,
)
def test_one_time_facts_equal_the_per_request_facts(
    ev: Evidence, data: st.DataObject, controller: str, policy: og.Policy
) -> None:
    edges = evidence_moments(ev)
    t = data.draw(st.sampled_from(edges) | instants if edges else instants)
    con = duckdb.connect()
    write_evidence(con, ev)
    con.register(
        "req",
        pa.table(
            {
                "rid": pa.array(range(len(KEYS)), pa.int64()),
                "phone": pa.array(KEYS, pa.int64()),
                "t": pa.array([t] * len(KEYS), pa.timestamp("us", tz="UTC")),
                "controller": [controller] * len(KEYS),
            }
        ),
    )
    facts = ", ".join(FACTS_COLUMNS)
    per_request = con.execute(f"SELECT {facts} FROM ({facts_sql('req', policy)}) ORDER BY rid")
    want = per_request.fetchall()
    one_time = facts_at_sql(
        "(SELECT rid, phone FROM req)", t=_literal_t(t), controller=f"'{controller}'", policy=policy
    )
    got = con.execute(f"SELECT {facts} FROM ({one_time}) ORDER BY rid").fetchall()
    assert got == want

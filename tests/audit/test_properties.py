"""For any evidence and any call log, its times and numbers written the ways logs write them:
every row comes back once, each call is decided as the oracle (tests/oracle.py) decides it at
that call's own time, and the figures add up. The parity matrix (tests/ways) holds the
audit's decisions on edge-placed worlds; this holds its reading of a log."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate import Gate
from optin_gate._time import PRAGUE
from optin_gate.audit import AuditReport, run_audit
from optin_gate.policy import Policy
from tests.audit._data import oracle_store
from tests.oracle import Evidence, decide
from tests.strategies import CONTROLLERS, PHONES, evidence, instants

GATE_CONTROLLER = CONTROLLERS[0]


def _phone_text(draw: st.DrawFn) -> str:
    phone = draw(st.sampled_from(PHONES))
    return draw(
        st.sampled_from([f"+{phone}", f"{phone % 10**9:09d}", f"00{phone}", "12345", "", "  "])
    )


def _time_text(draw: st.DrawFn, t: datetime) -> str:
    local = t.astimezone(PRAGUE)
    return draw(
        st.sampled_from(
            [
                t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                local.strftime("%Y-%m-%d %H:%M:%S"),
                f"{local.day}. {local.month}. {local.year} {local.hour}:{local:%M}",
                local.isoformat(),
                "not a time",
            ]
        )
    )


@st.composite
def call_logs(draw: st.DrawFn) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(draw(st.integers(0, 14))):
        t = draw(instants)
        rows.append(
            {
                "call_id": f"H{i}",
                "phone": _phone_text(draw),
                "called_at": _time_text(draw, t),
                "controller": draw(st.sampled_from([None, "", *CONTROLLERS])),
                "campaign": draw(st.sampled_from([None, "jaro", "podzim"])),
                "agent": draw(st.sampled_from(["a1", "a2", "a3"])),
                "call_type": draw(st.sampled_from([None, "live", "automated", "robot"])),
                "_t": t,
            }
        )
    return rows


def _expected(ev: Evidence, row: dict[str, object], policy: Policy) -> tuple[str, str | None, str]:
    t = row["_t"]
    assert isinstance(t, datetime)
    d = decide(
        ev,
        str(row["phone"]),
        controller=str(row["controller"] or GATE_CONTROLLER),
        t=t,
        call_type="automated" if row["call_type"] == "automated" else "live",
        policy=policy,
    )
    return d.reason, d.evidence, d.rule_set


def _usable(row: dict[str, object]) -> bool:
    return (
        str(row["phone"]).strip() != ""
        and row["called_at"] != "not a time"
        and row["call_type"] != "robot"
    )


def _check_summary(report: AuditReport) -> None:
    s, calls = report.summary, report.calls.to_pylist()
    allowed = [r["allowed"] for r in calls]
    assert s["calls"] == len(calls)
    assert s["violations"] == allowed.count(False) == report.violations.num_rows
    assert s["permitted"] == allowed.count(True)
    assert s["rows_read"] == s["calls"] + s["unusable_rows"]
    by_reason = Counter(r["reason"] for r in calls)
    assert {r["reason"]: r["calls"] for r in s["by_reason"]} == by_reason
    assert sum(r["violations"] for r in s["violations_by_reason"]) == s["violations"]
    for key in ("by_campaign", "by_agent", "by_controller", "by_week"):
        assert sum(g["calls"] for g in s[key]) == s["calls"], key
        assert sum(g["violations"] for g in s[key]) == s["violations"], key
    objected = [r for r in calls if r["reason"] == "OBJECTION"]
    per_number = Counter(r["e164"] for r in objected)
    rep = s["repeat_objection"]
    assert rep["calls"] == len(objected)
    assert rep["numbers"] == len(per_number)
    assert rep["numbers_called_more_than_once"] == sum(1 for n in per_number.values() if n > 1)
    assert s["distinct_numbers"] == len({r["e164"] for r in calls if r["e164"]})


@settings(max_examples=40, deadline=None)
@given(
    ev=evidence(), log=call_logs(), dropped=st.sets(st.sampled_from(["controller", "call_type"]))
)
def test_every_call_is_decided_as_the_oracle_decides_at_its_time(
    ev: Evidence, log: list[dict[str, object]], dropped: set[str]
) -> None:
    policy = Policy()
    for row in log:  # a log without the column: the gate's controller, live calls
        for name in dropped:
            row[name] = None
    table = pa.Table.from_pylist(
        [{k: v for k, v in r.items() if k != "_t" and k not in dropped} for r in log]
    )
    if not log:
        table = pa.table(
            {"phone": pa.array([], pa.string()), "called_at": pa.array([], pa.string())}
        )
    report = run_audit(
        Gate(oracle_store(ev), controller=GATE_CONTROLLER, policy=policy).context, table
    )

    usable = [r for r in log if _usable(r)]
    assert report.calls.num_rows == len(usable)
    assert report.unusable.num_rows == len(log) - len(usable)
    assert sorted(
        report.unusable.column("line").to_pylist() + report.calls.column("line").to_pylist()
    ) == list(range(1, len(log) + 1))
    for row, got in zip(usable, report.calls.to_pylist(), strict=True):
        assert got["call_id"] == row["call_id"]
        assert (got["reason"], got["evidence"], got["rule_set"]) == _expected(ev, row, policy)
        assert got["allowed"] is (
            got["reason"] in {"CONSENT", "EXISTING_CUSTOMER", "DIRECTORY_OPT_IN", "NO_OPT_OUT"}
        )
    _check_summary(report)

"""Issue #13 case 11: an objection stamped ahead of the clock counts from when it is recorded.

Its stated time still orders it against consents. Every way of deciding agrees: check,
check_many, filter (both ways) and the audit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from optin_gate import EvidenceStore, Gate, Reason
from tests.objections._helpers import NUMBER, consented_store

AHEAD = timedelta(minutes=5)  # the recording system's clock runs ahead


def _decisions(gate: Gate, at: datetime) -> dict[str, str]:
    check = gate.check(NUMBER, at=at).reason.value
    many = gate.check_many([NUMBER], at=at).column("reason")[0].as_py()
    listed = gate.filter(pa.table({"phone": [NUMBER]}), as_of=at)
    filtered = listed.denied.column("reason")[0].as_py() if len(listed.denied) else "allowed"
    calls = pa.table({"phone": [NUMBER], "called_at": [at.isoformat()]})
    audited = gate.audit(calls).calls.column("reason")[0].as_py()
    return {"check": check, "check_many": many, "filter": filtered, "audit": audited}


@pytest.mark.parametrize("file", [False, True], ids=["memory", "file"])
def test_case11_objection_stamped_ahead_blocks_from_when_it_is_recorded(
    tmp_path: Path, file: bool
) -> None:
    store = consented_store(tmp_path, "ev.duckdb" if file else None)
    gate = Gate(store, "acme", refresh_interval=None)
    store.record_objection(NUMBER, at=datetime.now(UTC) + AHEAD)
    now = datetime.now(UTC)
    assert set(_decisions(gate, now).values()) == {Reason.OBJECTION.value}
    fresh = Gate(EvidenceStore(store.path) if file else store, "acme", refresh_interval=None)
    assert fresh.check(NUMBER, at=now).reason == Reason.OBJECTION  # from the store, too


def test_case11_stated_time_still_orders_it_against_a_later_consent(tmp_path: Path) -> None:
    store = consented_store(tmp_path)
    recorded = datetime.now(UTC)
    store.record_objection(NUMBER, at=recorded + AHEAD)
    # A consent granted after the recording but before the objection's stated time.
    csv = tmp_path / "again.csv"
    csv.write_text(f"consent_id,phone,granted_at\nC-2,{NUMBER},{recorded + AHEAD / 2}\n")
    store.load("consents", csv, controller="acme")
    gate = Gate(store, "acme", refresh_interval=None)
    at = recorded + AHEAD * 3 / 4
    assert set(_decisions(gate, at).values()) == {Reason.OBJECTION.value}

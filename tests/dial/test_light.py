"""`import optin_gate; gate.check(...)` stays light: no pandas on the dial path."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, date, datetime

    import optin_gate as og
    from tests.oracle import Consent, Contract, Evidence, Objection, write_evidence

    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    ev = Evidence(
        consents=[Consent("C1", 420601234568, "acme", t)],
        contracts=[Contract("K1", 420601234569, "acme", date(2026, 1, 1))],
        objections=[Objection("O1", 420601234570, None, t)],
        snapshots={date(2026, 3, 1): {420601234567: "opt_in"}},
    )
    store = og.EvidenceStore()
    with store.connect(read_only=False) as con:
        write_evidence(con, ev)
    gate = og.Gate(store, "acme")
    decision = gate.check("+420 601 234 567", at="2026-03-02T10:00")
    assert decision.reason == og.Reason.DIRECTORY_OPT_IN, decision
    with store.connect(read_only=False) as con:  # another load arrives
        write_evidence(con, Evidence(objections=[Objection("O2", 420601234569, None, t)]))
    gate.refresh()
    store.record_objection("601234567", at=t)  # in the overlay until the next refresh
    numbers = ["601234567", "601234568", "601234569", "601234570", "nonsense"]
    table = gate.check_many(numbers, at="2026-03-02T10:00")
    assert table.column("reason").to_pylist() == [
        "OBJECTION", "CONSENT", "OBJECTION", "OBJECTION", "INVALID_NUMBER"
    ], table
    assert gate.check("601234567", at="2026-03-02T10:00").reason == og.Reason.OBJECTION
    gate.close()
    print(sorted(m for m in sys.modules if m.split(".")[0] == "pandas"))
    """
)


def test_the_dial_path_never_imports_pandas() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

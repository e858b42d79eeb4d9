"""check_many on a batch far larger than a list: every row answered, in order.

Whether its decisions are the law's is the parity matrix's job (tests/ways).
"""

from __future__ import annotations

from datetime import UTC, datetime

from optin_gate import Gate
from optin_gate.store import key_e164
from tests.dial._helpers import store_with
from tests.oracle import Evidence
from tests.strategies import PHONES


def test_check_many_keeps_order_and_length_on_many_rows() -> None:
    p1, p2, _ = PHONES
    t = datetime(2022, 7, 10, tzinfo=UTC)
    ev = Evidence(snapshots={t.date(): {p1: "opt_in", p2: "opt_out"}})
    gate = Gate(store_with(ev), "acme", refresh_interval=None)
    phones = [key_e164(p1), key_e164(p2), None, "garbage"] * 5000
    table = gate.check_many(phones, at=t)
    assert table.num_rows == len(phones)
    reasons = table.column("reason").to_pylist()
    assert reasons[:4] == ["DIRECTORY_OPT_IN", "NO_LEGAL_BASIS", "INVALID_NUMBER", "INVALID_NUMBER"]
    assert reasons == reasons[:4] * 5000

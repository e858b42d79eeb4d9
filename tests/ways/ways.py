"""Every way the library decides, behind one signature: a store, a policy, requests -> rows.

Adding a way (the HTTP service, say) is one entry in `WAYS`. Each way answers every request
with (e164, allowed, reason, evidence, rule_set), in the requests' order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

import optin_gate as og
from tests.oracle import Decided
from tests.ways.worlds import Ask, as_written

COLUMNS = ("e164", "allowed", "reason", "evidence", "rule_set")
NOTED = (*COLUMNS, "note")
Decide = Callable[[og.EvidenceStore, og.Policy, Sequence[Ask]], list[Decided]]


@dataclasses.dataclass(frozen=True)
class Way:
    """One way of deciding, named for test ids.

    `reads_blank`: whether a blank number is a request it answers (a log line without a
    number is no call to judge). `examples`: how many worlds the matrix tries on it.
    `notes`: whether its answers carry the note on a consent held but not counted.
    `moments`: how many moments of one world it is asked at where evidence changes (a
    batch way runs once per moment; a way that reads a whole log at once affords more).
    """

    name: str
    decide: Decide
    reads_blank: bool = True
    examples: int = 80
    notes: bool = True
    moments: int = 2

    def seen(self, decided: Decided) -> Decided:
        """`decided` as this way shows it."""
        return decided if self.notes else dataclasses.replace(decided, note=None)


def _rows(table: pa.Table) -> list[Decided]:
    columns = NOTED if "note" in table.column_names else COLUMNS
    return [Decided(**{c: row[c] for c in columns}) for row in table.select(columns).to_pylist()]


def _gate(store: og.EvidenceStore, controller: str, policy: og.Policy) -> og.Gate:
    return og.Gate(store, controller, policy, refresh_interval=None)


def _batched(run: Callable[[og.Gate, list[str | None], Ask], list[Decided]]) -> Decide:
    """A way that decides one list per (controller, time, call type), as a campaign runs."""

    def decide(store: og.EvidenceStore, policy: og.Policy, asks: Sequence[Ask]) -> list[Decided]:
        groups: dict[tuple[object, ...], list[int]] = {}
        for i, ask in enumerate(asks):
            key = (ask.controller, ask.t, ask.call_type, ask.sector, ask.caller_id, ask.purpose)
            groups.setdefault(key, []).append(i)
        out: list[Decided | None] = [None] * len(asks)
        for places in groups.values():
            first = asks[places[0]]
            texts = [asks[i].text for i in places]
            rows = run(_gate(store, first.controller, policy), texts, first)
            for i, row in zip(places, rows, strict=True):
                out[i] = row
        assert None not in out, "a request came back without a decision"
        return [row for row in out if row is not None]

    return decide


@_batched
def _filter(gate: og.Gate, texts: list[str | None], ask: Ask) -> list[Decided]:
    table = pa.table({"phone": pa.array(texts, pa.string())})
    result = gate.filter(
        table,
        as_of=ask.t,
        call_type=ask.call_type,
        sector=ask.sector,
        caller_id=ask.caller_id,
        purpose=ask.purpose,
    ).table
    assert result.column("phone").equals(table.column("phone")), "rows out of order"
    return _rows(result)


@contextlib.contextmanager
def _proved(way: str) -> Iterator[None]:
    """Prove that `filter_file` went `way` ("held" or "spilled"), not only that it was asked."""
    from optin_gate.engine import held, spilled

    ran: list[str] = []
    saved = held.filter_held, spilled.filter_spilled

    def recorded(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
        def recording(*args: Any, **kwargs: Any) -> Any:
            ran.append(name)
            return run(*args, **kwargs)

        return recording

    held.filter_held = recorded("held", saved[0])
    spilled.filter_spilled = recorded("spilled", saved[1])
    try:
        yield
    finally:
        held.filter_held, spilled.filter_spilled = saved
    assert ran == [way], f"filter_file went the {ran} way"


def _filter_file(way: Literal["held", "spilled"]) -> Decide:
    """`filter_file` of a Parquet list, the way chosen by its keyword (a tiny list fits)."""

    @_batched
    def run(gate: og.Gate, texts: list[str | None], ask: Ask) -> list[Decided]:
        from optin_gate.context import check_call_type
        from optin_gate.engine import filter_file

        context = dataclasses.replace(
            gate.context,
            call_type=check_call_type(ask.call_type),
            sector=ask.sector,
            caller_id=ask.caller_id,
            purpose=ask.purpose,
        )
        with tempfile.TemporaryDirectory() as tmp:
            listing, out = Path(tmp) / "list.parquet", Path(tmp) / "decisions.parquet"
            pq.write_table(pa.table({"phone": pa.array(texts, pa.string())}), listing)
            with _proved(way):
                filter_file(context, listing, as_of=ask.t, decisions=out, way=way)
            table = pq.read_table(out)
        assert table.column("phone").to_pylist() == texts, "rows out of order"
        return _rows(table)

    return run


def _check(store: og.EvidenceStore, policy: og.Policy, asks: Sequence[Ask]) -> list[Decided]:
    gates: dict[str, og.Gate] = {}
    out = []
    for ask in asks:
        gate = gates.get(ask.controller) or gates.setdefault(
            ask.controller, _gate(store, ask.controller, policy)
        )
        # A dialler may hand over None for a missing number: an answer, not an error.
        d = gate.check(
            ask.text,  # type: ignore[arg-type]
            at=ask.t,
            call_type=ask.call_type,
            sector=ask.sector,
            caller_id=ask.caller_id,
            purpose=ask.purpose,
        )
        out.append(Decided(d.e164, d.allowed, d.reason.value, d.evidence, d.rule_set, d.note))
    return out


@_batched
def _check_many(gate: og.Gate, texts: list[str | None], ask: Ask) -> list[Decided]:
    return _rows(
        gate.check_many(
            texts,
            at=ask.t,
            call_type=ask.call_type,
            sector=ask.sector,
            caller_id=ask.caller_id,
            purpose=ask.purpose,
        )
    )


def _audit(store: og.EvidenceStore, policy: og.Policy, asks: Sequence[Ask]) -> list[Decided]:
    """Every request as one call of one log: its own time, controller and call type."""
    log = pa.table(
        {
            "call_id": [f"H{i}" for i in range(len(asks))],
            "phone": [a.text for a in asks],
            "called_at": [as_written(a.t, i) for i, a in enumerate(asks)],
            "controller": [a.controller for a in asks],
            "call_type": [a.call_type for a in asks],
            "sector": pa.array([a.sector for a in asks], pa.string()),
            "caller_id": pa.array([a.caller_id for a in asks], pa.string()),
            "purpose": pa.array([a.purpose for a in asks], pa.string()),
        }
    )
    calls = _gate(store, "acme", policy).audit(log).calls
    assert calls.column("call_id").to_pylist() == log.column("call_id").to_pylist()
    return _rows(calls)


def _service(store: og.EvidenceStore, policy: og.Policy, asks: Sequence[Ask]) -> list[Decided]:
    """GET /v1/check on the real server (uvicorn on loopback), one JSON answer per request."""
    from optin_gate.service import App, Checkers
    from tests.service.server import running

    checkers = Checkers(store, policy, max_index_age=3600.0, refresh_interval=3600.0)
    out = []
    with running(App(checkers, tokens=None)) as client:
        for i, ask in enumerate(asks):
            reply = client.get(
                "/v1/check",
                number=ask.text,
                controller=ask.controller,
                at=as_written(ask.t, i),
                call_type=ask.call_type,
                sector=ask.sector,
                caller_id=ask.caller_id,
                purpose=ask.purpose,
                format="json",
            )
            assert reply.status == 200, reply.text
            out.append(Decided(**{c: reply.json()[c] for c in COLUMNS}))
    return out


WAYS = (
    Way("filter", _filter),
    Way("filter_held", _filter_file("held"), notes=False),
    Way("filter_spilled", _filter_file("spilled"), notes=False),
    Way("check", _check, examples=240, moments=8),
    Way("check_many", _check_many),
    Way("audit", _audit, reads_blank=False, moments=12),
    Way("service", _service, examples=40, notes=False, moments=4),
)

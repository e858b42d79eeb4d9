"""Reading the log: a CSV's texts are trimmed and coded on their dictionaries, a table's in SQL;
both read every text the same way. A CSV that turns out not to be UTF-8 is read again."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate import Gate, InputError
from optin_gate.audit import run_audit
from optin_gate.audit.stream import audit_file
from tests.audit._data import oracle_store
from tests.oracle import PRAGUE, Evidence
from tests.strategies import CONTROLLERS, PHONES, evidence, instants_where_evidence_changes

# Texts as people type them: stray spaces, letter case, empty, only spaces, missing, unreadable.
_MESSY = st.sampled_from([None, "", "   ", "jaro", " jaro", "jaro  ", "Jaro", "podzim"])
_CALL_TYPES = st.sampled_from(
    [None, "", " ", "live", " live ", "LIVE", "automated", "Automated ", "robot", " robot"]
)
_CONTROLLERS = st.sampled_from([None, "", "  ", *CONTROLLERS, f" {CONTROLLERS[1]} "])


@st.composite
def messy_logs(draw: st.DrawFn) -> list[dict[str, str | None]]:
    rows = []
    for i in range(draw(st.integers(1, 12))):
        phone = draw(st.sampled_from(PHONES))
        rows.append(
            {
                "call_id": f"H{i}",
                "phone": draw(
                    st.sampled_from([f"+{phone}", f" {phone % 10**9:09d} ", "  ", "", None])
                ),
                "called_at": draw(
                    st.sampled_from(
                        [
                            "2026-01-02 10:00",
                            " 2.1.2026 9:30 ",
                            "2026-01-05T08:00Z",
                            "",
                            "  ",
                            None,
                            "včera",
                        ]
                    )
                ),
                "controller": draw(_CONTROLLERS),
                "campaign": draw(_MESSY),
                "agent": draw(_MESSY),
                "call_type": draw(_CALL_TYPES),
            }
        )
    return rows


def _comparable(report: object, line_offset: int) -> dict[str, object]:
    doc = report.document()  # type: ignore[attr-defined]
    doc["summary"].pop("method")
    calls = report.calls.to_pylist()  # type: ignore[attr-defined]
    noted = doc["summary"]["consent_quality"]["noted"]
    for row in (*calls, *doc["violations"]["rows"], *doc["unusable"]["rows"], *noted):
        row["line"] -= line_offset
    for row in calls:  # DuckDB reads a quoted empty CSV field as NULL: the same text
        row.update({k: None for k, v in row.items() if v == ""})
    return {"doc": doc, "calls": calls}


@settings(max_examples=15, deadline=None)
@given(ev=evidence(), log=messy_logs())
def test_a_csv_and_a_table_of_the_same_log_are_read_alike(
    ev: Evidence, log: list[dict[str, str | None]]
) -> None:
    gate = Gate(oracle_store(ev), controller=CONTROLLERS[0])
    table = pa.Table.from_pylist(log, schema=pa.schema([(k, pa.string()) for k in log[0]]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calls.csv"
        pcsv.write_csv(table, path)
        from_file = run_audit(gate.context, path)
    from_table = run_audit(gate.context, table)
    # A file's first row is on line 2 (after the header), a table's is row 1.
    assert _comparable(from_file, 1) == _comparable(from_table, 0)
    assert from_file.calls.schema.field("campaign").type == pa.string()


def test_a_log_that_is_not_utf8_after_its_first_megabyte_is_read_as_windows_1250(
    tmp_path: Path,
) -> None:
    store = oracle_store(Evidence(consents=[], contracts=[], objections=[], snapshots={}))
    gate = Gate(store, controller="acme")
    head = "call_id,phone,called_at,campaign\n"
    rows = [f"H{i},601000001,2026-01-02 10:00,jaro\n" for i in range(40_000)]
    path = tmp_path / "calls.csv"
    last = "H-last,601000002,2026-01-02 10:00,Jarní\n"
    path.write_bytes((head + "".join(rows) + last).encode("cp1250"))
    assert path.stat().st_size > 1 << 20  # past the sample the encoding is guessed from
    report = audit_file(gate.context, path, violations=tmp_path / "v.csv")
    assert report.summary["calls"] == 40_001
    campaigns = {g["name"] for g in report.summary["by_campaign"]}
    assert campaigns == {"jaro", "Jarní"}
    written = pcsv.read_csv(tmp_path / "v.csv")
    assert written["campaign"][-1].as_py() == "Jarní"
    assert written["line"][-1].as_py() == 40_002


def test_a_malformed_row_is_reported_with_its_line(tmp_path: Path) -> None:
    store = oracle_store(Evidence(consents=[], contracts=[], objections=[], snapshots={}))
    path = tmp_path / "calls.csv"
    path.write_text(
        "phone,called_at\n601000001,2026-01-02 10:00\n601000002,2026-01-02,extra\n",
        encoding="utf-8",
    )
    try:
        audit_file(Gate(store, controller="acme").context, path, violations=tmp_path / "v.csv")
    except InputError as exc:
        message = str(exc)
    else:
        raise AssertionError("a row with a field too many was read")
    assert "calls.csv" in message
    assert "line 3" in message
    assert "601000002" not in message  # the row's text (a phone number) is not echoed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv"]


@settings(max_examples=15, deadline=None)
@given(ev=evidence(), data=st.data())
def test_times_written_in_a_file_are_read_as_the_same_times_typed(
    ev: Evidence, data: st.DataObject
) -> None:
    # A file's text goes through the compiled parser, a typed column through the query's SQL;
    # the instants are where the evidence changes, so an hour or a microsecond off shows.
    gate = Gate(oracle_store(ev), controller=CONTROLLERS[0])
    instants = data.draw(
        st.lists(instants_where_evidence_changes(ev, gate.context.policy), min_size=1, max_size=12)
    )
    local = [i.astimezone(PRAGUE).replace(tzinfo=None) for i in instants]
    texts = [
        data.draw(st.sampled_from([d.isoformat(sep=" "), i.astimezone(PRAGUE).isoformat()]))
        for d, i in zip(local, instants, strict=True)
    ]
    phones = [f"+{PHONES[i % len(PHONES)]}" for i in range(len(instants))]
    typed = pa.table({"phone": phones, "called_at": pa.array(local, pa.timestamp("us"))})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calls.csv"
        pcsv.write_csv(pa.table({"phone": phones, "called_at": texts}), path)
        read = [
            _comparable(run_audit(gate.context, path), 1),
            _comparable(run_audit(gate.context, typed), 0),
        ]
    calls = [r["calls"] for r in read]  # the decisions; the report quotes the time as written
    for rows in calls:
        for row in rows:  # type: ignore[attr-defined]
            row.pop("called_at")
    assert calls[0] == calls[1]

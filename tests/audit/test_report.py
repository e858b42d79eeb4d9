"""The report a compliance officer hands on: JSON valid against its schema, an HTML page that is
self-contained, escaped and masked, a violations file, unusable rows with their file lines,
the statutory exposure, and files that are never half written."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from optin_gate import EvidenceStore, Gate, InputError
from optin_gate._resources import data_dir
from optin_gate.audit import AuditReport, run_audit
from optin_gate.audit.labels import mask_e164
from tests.audit._data import campaign_history, oracle_store
from tests.oracle import Consent, Evidence

SCHEMA = json.loads((data_dir() / "schemas" / "audit_report.schema.json").read_text())


@pytest.fixture(scope="module")
def history() -> tuple[EvidenceStore, pa.Table]:
    ev, calls = campaign_history(numbers=200, calls=1200)
    return oracle_store(ev), calls


@pytest.fixture(scope="module")
def report(history: tuple[EvidenceStore, pa.Table]) -> AuditReport:
    store, calls = history
    return run_audit(Gate(store, controller="acme").context, calls)


def validate(doc: object) -> None:
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.Draft202012Validator(SCHEMA, format_checker=checker).validate(doc)


def test_json_report_is_valid_against_its_schema(report: AuditReport, tmp_path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    path = report.to_json(tmp_path / "audit.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate(doc)
    assert doc["summary"]["violations"] == report.violations.num_rows > 0
    assert doc["violations"]["listed"] == min(1000, report.violations.num_rows)
    times = [r["called_at"] for r in doc["violations"]["rows"]]
    assert times == sorted(times)  # earliest first
    assert doc["unusable"]["rows"] == [
        {"line": 6, "column": "called_at", "problem": doc["unusable"]["rows"][0]["problem"]},
        {"line": 10, "column": "phone", "problem": doc["unusable"]["rows"][1]["problem"]},
    ]


def test_schema_rejects_a_report_missing_a_figure(report: AuditReport) -> None:
    doc = json.loads(json.dumps(report.document()))
    del doc["summary"]["repeat_objection"]
    with pytest.raises(jsonschema.ValidationError, match="repeat_objection"):
        validate(doc)


def test_method_section_makes_the_audit_reproducible(
    report: AuditReport, history: tuple[EvidenceStore, pa.Table]
) -> None:
    m = report.summary["method"]
    _, calls = history
    assert m["call_log"]["sha256_of"] == "Arrow IPC stream"
    assert re.fullmatch("[0-9a-f]{64}", m["call_log"]["sha256"])
    assert m["call_log"]["rows_read"] == calls.num_rows
    assert m["policy"]["opt_in_from"] == "2022-07-01"
    assert m["policy"]["directory_max_age_days"] == 31
    assert [r["reason"] for r in m["decision_order"]][:4] == [
        "INVALID_NUMBER", "UNSUPPORTED_REGION", "BLOCKED_NUMBER_TYPE", "OBJECTION",
    ]  # fmt: skip
    loads = m["evidence"]["loads"]
    assert {ld["kind"] for ld in loads} == {"consents", "contracts", "objections", "directory"}
    assert all(ld["file_name"] and ld["sha256"] for ld in loads)
    assert m["evidence"]["directory_snapshots"]["first"] == "2021-06-01"
    assert m["optin_gate_version"]
    assert m["audit_ran_at"].endswith("+00:00")


def test_call_log_file_is_fingerprinted_by_its_bytes(
    history: tuple[EvidenceStore, pa.Table], tmp_path: Path
) -> None:
    store, calls = history
    path = tmp_path / "calls.csv"
    pcsv.write_csv(calls.slice(0, 50), path)
    report = run_audit(Gate(store, controller="acme").context, path)
    log = report.summary["method"]["call_log"]
    assert log["source"] == "calls.csv"
    assert log["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert log["sha256_of"] == "file bytes"


def test_unusable_rows_carry_their_file_line_even_after_a_multiline_field(
    history: tuple[EvidenceStore, pa.Table], tmp_path: Path
) -> None:
    store, _ = history
    path = tmp_path / "calls.csv"
    path.write_text(
        "telefon;cas_hovoru;kampan\n"
        '601000001;2023-01-05 10:00;"jaro\nsecond line of the campaign name"\n'
        "601000002;31.02.2023 10:00;jaro\n"  # no such day: line 4
        ";2023-01-05 10:00;jaro\n"  # no number: line 5
        "12345;2023-01-05 10:00;jaro\n",  # an invalid number is a decided call, line 6
        encoding="utf-8",
    )
    report = run_audit(Gate(store, controller="acme").context, path)
    assert report.unusable.to_pylist() == [
        {"line": 4, "column": "cas_hovoru", "problem": report.unusable["problem"][0].as_py()},
        {"line": 5, "column": "telefon", "problem": report.unusable["problem"][1].as_py()},
    ]
    assert "date and time" in report.unusable["problem"][0].as_py()
    assert report.calls.column("line").to_pylist() == [2, 6]
    assert report.calls.column("reason").to_pylist()[1] == "INVALID_NUMBER"
    assert report.summary["unusable_rows"] == 2
    assert report.summary["rows_read"] == 4


def test_html_is_self_contained_escaped_and_masked(
    history: tuple[EvidenceStore, pa.Table], tmp_path: Path
) -> None:
    store, calls = history
    hostile = "<script>alert('x')</script>"
    calls = calls.set_column(
        calls.column_names.index("campaign"),
        "campaign",
        pa.array([hostile if i % 2 else 'a&b "q"' for i in range(calls.num_rows)]),
    )
    report = run_audit(Gate(store, controller="acme <ctl>").context, calls)
    page = report.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "a&amp;b &quot;q&quot;" in page
    assert "acme &lt;ctl&gt;" in page
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page
    full = [e for e in report.violations.column("e164").to_pylist() if e]
    assert full
    assert not any(e in page for e in full)  # numbers only appear masked
    assert mask_e164(full[0]) in page
    assert page.count("<svg") >= 4  # per week, by reason, by campaign, agents


def test_masking_keeps_country_and_both_ends() -> None:
    assert mask_e164("+420601234567") == "+420 601 *** 567"
    assert mask_e164("+421901234567") == "+421 901 *** 567"
    assert mask_e164("+4915112345678") == "+49 151 ***** 678"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_violations_file_lists_every_violation_with_reason_and_evidence(
    report: AuditReport, tmp_path: Path, suffix: str
) -> None:
    path = report.write_violations(tmp_path / f"violations{suffix}")
    table = pq.read_table(path) if suffix == ".parquet" else pcsv.read_csv(path)
    assert table.num_rows == report.summary["violations"]
    assert set(table.column("allowed").to_pylist()) == {False}
    assert table.column("call_id").to_pylist() == report.violations.column("call_id").to_pylist()
    pairs = zip(table["reason"].to_pylist(), table["evidence"].to_pylist(), strict=True)
    objections = [e for r, e in pairs if r == "OBJECTION"]
    assert objections
    assert all(e.startswith("objection:") for e in objections)


def test_outputs_are_atomic(report: AuditReport, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        report.to_html(tmp_path / "missing" / "r.html")
    target = tmp_path / "r.json"
    target.write_text("old")
    report.to_json(target)
    assert json.loads(target.read_text())["report"] == "optin-gate audit"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp files left


def test_exposure_is_the_statutory_maximum(report: AuditReport) -> None:
    assert report.summary["exposure"]["statutory_maximum_czk"] == 50_000_000
    big = report.with_turnover(2_000_000_000).summary["exposure"]
    assert (big["turnover_cap_czk"], big["statutory_maximum_czk"]) == (200_000_000, 200_000_000)
    small = report.with_turnover(100_000_000).summary["exposure"]
    assert (small["turnover_cap_czk"], small["statutory_maximum_czk"]) == (10_000_000, 50_000_000)
    assert "not a prediction" in small["note"]
    with pytest.raises(InputError, match="turnover"):
        report.with_turnover(-1)


def test_no_violations_means_no_exposure() -> None:
    granted = datetime(2022, 1, 1, tzinfo=UTC)
    store = oracle_store(Evidence(consents=[Consent("C-9", 420601000009, "acme", granted)]))
    calls = pa.table({"phone": ["+420 601 000 009"], "called_at": ["2022-07-10 10:00"]})
    report = run_audit(Gate(store, controller="acme").context, calls, turnover=1e9)
    assert report.calls["reason"].to_pylist() == ["CONSENT"]
    exp = report.summary["exposure"]
    assert (exp["applies"], exp["statutory_maximum_czk"]) == (False, 0)


def test_empty_call_log_gives_an_empty_report(
    history: tuple[EvidenceStore, pa.Table], tmp_path: Path
) -> None:
    store, _ = history
    path = tmp_path / "calls.csv"
    path.write_text("phone,called_at\n", encoding="utf-8")
    report = run_audit(Gate(store, controller="acme").context, path)
    assert (report.summary["calls"], report.summary["rows_read"]) == (0, 0)
    validate(report.document())
    assert "No calls could be audited" in report.to_html(tmp_path / "r.html").read_text()


def test_log_columns_the_audit_adds_are_refused(history: tuple[EvidenceStore, pa.Table]) -> None:
    store, _ = history
    calls = pa.table({"phone": ["601000001"], "called_at": ["2023-01-01"], "reason": ["x"]})
    with pytest.raises(InputError, match="'reason'") as err:
        run_audit(Gate(store, controller="acme").context, calls)
    assert err.value.column == "reason"


def test_missing_time_column_names_the_fix(history: tuple[EvidenceStore, pa.Table]) -> None:
    store, _ = history
    calls = pa.table({"phone": ["601000001"], "kdy": ["2023-01-01"]})
    with pytest.raises(InputError, match="called_at") as err:
        run_audit(Gate(store, controller="acme").context, calls)
    assert "--map" in err.value.hint or "kdy" in str(err.value)
    report = run_audit(Gate(store, controller="acme").context, calls, time_column="kdy")
    assert report.summary["calls"] == 1


def test_several_calling_companies_get_their_own_chart(
    history: tuple[EvidenceStore, pa.Table], tmp_path: Path
) -> None:
    store, calls = history
    owners = pa.array(["acme" if i % 3 else "beta" for i in range(calls.num_rows)])
    report = run_audit(
        Gate(store, controller="acme").context, calls.append_column("controller", owners)
    )
    names = {g["name"] for g in report.summary["by_controller"]}
    assert names == {"acme", "beta"}
    page = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Marketing call audit: 2 companies" in page
    assert 'aria-label="Violations by calling company"' in page

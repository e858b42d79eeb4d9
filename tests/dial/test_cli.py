"""`optin-gate check NUMBER`: the decision in plain words; exit 0 allowed, 1 denied, 2 error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from optin_gate.cli import main
from tests.dial._helpers import store_with
from tests.oracle import Consent, Evidence, Objection

P1, P2, P3 = 420601000001, 420601000002, 420601000003


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "ev.duckdb"
    granted = datetime(2026, 2, 1, tzinfo=UTC)
    store_with(
        Evidence(
            consents=[Consent("C-1", P1, "acme", granted)],
            objections=[Objection("O-1", P2, None, granted)],
            snapshots={date(2026, 3, 1): {P3: "opt_in"}},
        ),
        path,
    )
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_allowed_number_exits_0_and_names_its_evidence(store_path: str) -> None:
    code, out, _ = run(
        "601 000 001", "--store", store_path, "--controller", "acme", "--at", "2026-03-02"
    )
    assert code == 0
    assert out.splitlines() == [
        "+420601000001: ALLOWED (CONSENT)",
        "  why:      The person gave this company direct consent to marketing calls, valid at "
        "the time of the call.",
        "  evidence: consent:C-1",
        "  rule set: CZ-2022-opt-in",
        "  at:       2026-03-02 00:00:00 Prague (live call, acme)",
    ]


def test_denied_number_exits_1_with_the_reason(store_path: str) -> None:
    code, out, _ = run("+420601000002", "--store", store_path, "--at", "2026-03-02T09:00")
    assert code == 1
    assert out.startswith("+420601000002: DENIED (OBJECTION)\n")
    assert "evidence: objection:O-1" in out


def test_call_type_and_controller_change_the_answer(store_path: str) -> None:
    args = ("601000003", "--store", store_path, "--at", "2026-03-02")
    assert run(*args)[0] == 0  # directory opt-in, live
    code, out, _ = run(*args, "--call-type", "automated")
    assert code == 1
    assert "AUTOMATED_NEEDS_CONSENT" in out
    assert (
        run("601000001", "--store", store_path, "--at", "2026-03-02", "--controller", "beta")[0]
        == 1
    )


def test_invalid_number_is_a_denial_not_an_error(store_path: str) -> None:
    code, out, _ = run("12345", "--store", store_path)
    assert code == 1
    assert out.startswith("not a valid number: DENIED (INVALID_NUMBER)")


def test_errors_exit_2_with_one_line(store_path: str, tmp_path: Path) -> None:
    code, _, err = run("601000001", "--store", str(tmp_path / "missing.duckdb"))
    assert code == 2
    assert "no evidence store" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run("601000001", "--store", store_path, "--at", "yesterday")
    assert code == 2
    assert "--at='yesterday' is not an ISO 8601 date or time" in err
    assert run("601000001", "--store", store_path, "--call-type", "robot")[0] == 2

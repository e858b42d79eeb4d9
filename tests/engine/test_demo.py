"""`optin-gate demo` shows every reason, and the same picture on any day it runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner

import optin_gate as og
from optin_gate.cli import main
from optin_gate.cli.demo import release_before, shift_cell, stage_sample


def test_demo_shows_every_reason_and_writes_outputs(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Reasons shown: {len(og.Reason)} of {len(og.Reason)}" in result.stdout
    # the sample's consent bought with a list, and the one for insurance offers only
    assert "consent:S-40000 held, not counted: obtained from a third party" in result.stdout
    assert "consent:S-40001 held, not counted: given for other purposes" in result.stdout
    assert "purpose 'pojištění': ALLOWED (CONSENT)" in result.stdout
    for reason in og.Reason:
        assert reason.value in result.stdout
    decisions = (tmp_path / "decisions.csv").read_text(encoding="utf-8").splitlines()
    assert len(decisions) == 3401  # header + every row of the mixed Czech and Slovak campaign
    assert sum(",+421" in line for line in decisions) >= 400  # the Slovak part, decided
    assert decisions[0].endswith("e164,allowed,reason,evidence,rule_set")
    permitted = (tmp_path / "permitted.csv").read_text(encoding="utf-8").splitlines()
    assert 100 < len(permitted) < 3401
    assert all(",true," in line for line in permitted[1:])
    # a second run in the same folder starts from a fresh store: the same loads, no doubles
    again = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path)])
    assert again.exit_code == 0, again.output
    loads = [line for line in result.stdout.splitlines() if "loaded" in line]
    assert [line for line in again.stdout.splitlines() if "loaded" in line] == loads


def _picture(folder: Path, today: date) -> dict[og.Reason, int]:
    manifest = stage_sample(folder, today)
    store = og.EvidenceStore(folder / "store.duckdb")
    for entry in manifest["evidence"]:
        store.load(
            entry["kind"],
            entry["path"],
            controller=manifest["controller"] if entry["kind"] != "objections" else None,
            snapshot_date=entry.get("snapshot_date"),
        )
    gate = og.Gate(store, controller=manifest["controller"])
    at = datetime.combine(today, time(10), tzinfo=UTC)
    slovak = manifest["sk_campaign"]
    return gate.filter(
        manifest["campaign"]["path"],
        as_of=at,
        sector=slovak["sector"],
        caller_id=slovak["caller_id"],
    ).summary


def test_the_picture_does_not_go_stale(tmp_path: Path) -> None:
    anchor = _picture(tmp_path / "a", date(2026, 1, 15))
    later = _picture(tmp_path / "b", date(2031, 7, 1))
    assert later == anchor
    assert og.Reason.DIRECTORY_OPT_IN in later
    assert og.Reason.STALE_DIRECTORY not in later
    assert og.Reason.REGISTER_OPT_OUT in later  # the list's releases follow the calendar


def test_releases_fall_on_the_1st_and_16th() -> None:
    assert release_before(date(2026, 3, 16), 0) == date(2026, 3, 16)
    assert release_before(date(2026, 3, 15), 0) == date(2026, 3, 1)
    assert release_before(date(2026, 3, 1), 1) == date(2026, 2, 16)
    assert release_before(date(2026, 1, 10), 2) == date(2025, 12, 1)


@pytest.mark.parametrize(
    ("text", "days", "moved"),
    [
        ("2026-01-15", 10, "2026-01-25"),
        ("2026-01-15T10:00", -15, "2025-12-31T10:00"),
        ("15.1.2026 10:00", 17, "1.2.2026 10:00"),
        ("15. 1. 2026 9:05", 366, "16. 1. 2027 9:05"),
        ("29.2.2024", 365, "28.2.2025"),
        ("", 100, ""),
        ("nevím", 100, "nevím"),
    ],
)
def test_shift_cell_keeps_the_format(text: str, days: int, moved: str) -> None:
    assert shift_cell(text, days) == moved

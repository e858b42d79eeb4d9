"""No run writes over what it reads, and a mistyped store path loads nothing (issue #13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from optin_gate.cli import main
from optin_gate.errors import InputError
from optin_gate.io.paths import check_outputs
from optin_gate.io.scratch import scratch_folder, sweep
from tests.store._helpers import write_csv

LIST = ["jmeno", "telefon"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> str:
    path = str(tmp_path / "ev.duckdb")
    code, out, err = run("init", "--store", path)
    assert code == 0, err
    assert "created an empty evidence store" in out
    return path


def test_case_09_filter_refuses_to_overwrite_its_list(tmp_path: Path, store: str) -> None:
    calls = write_csv(tmp_path / "list.csv", LIST, [["Eva", "601234567"]])
    before = calls.read_bytes()
    for option in ("--out", "--decisions"):
        code, _, err = run("filter", str(calls), "--store", store, option, str(calls))
        assert code == 2
        assert f"{option} {calls} names the same file as the call list" in err
        assert calls.read_bytes() == before
    # The same file by another name: a relative path and a hard link.
    os.link(calls, tmp_path / "alias.csv")
    code, _, err = run("filter", str(calls), "--store", store, "--out", str(tmp_path / "alias.csv"))
    assert code == 2
    assert calls.read_bytes() == before


def test_case_09_audit_outputs_name_neither_the_log_nor_each_other(
    tmp_path: Path, store: str
) -> None:
    log = write_csv(tmp_path / "calls.csv", ["phone", "called_at"], [["601234567", "2026-01-02"]])
    code, _, err = run("audit", str(log), "--store", store, "--violations", str(log))
    assert code == 2
    assert "--violations" in err
    assert "names the same file as the call log" in err
    same = str(tmp_path / "r.json")
    code, _, err = run("audit", str(log), "--store", store, "--json", same, "--html", same)
    assert code == 2
    assert "--html" in err
    assert not Path(same).exists()


def test_case_09_load_rejects_file_may_not_be_the_input(tmp_path: Path, store: str) -> None:
    consents = write_csv(
        tmp_path / "c.csv", ["consent_id", "phone", "granted_at"], [["S1", "1", "x"]]
    )
    before = consents.read_bytes()
    code, _, err = run(
        "load", "consents", str(consents), "--store", store, "--rejects", str(consents)
    )
    assert code == 2
    assert "--rejects" in err
    assert consents.read_bytes() == before


def test_check_outputs_allows_new_distinct_files(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("x\n")
    check_outputs(
        {"--out": tmp_path / "a.csv", "--decisions": None}, {"input": src, "df": object()}
    )
    with pytest.raises(InputError, match="names the same file as input"):
        check_outputs({"--out": tmp_path / "sub" / ".." / "in.csv"}, {"input": src})


def test_case_10_load_into_a_mistyped_store_is_refused(tmp_path: Path, store: str) -> None:
    objections = write_csv(
        tmp_path / "o.csv", ["phone", "objected_at"], [["601234567", "2026-01-02"]]
    )
    typo = tmp_path / "ev.duckbd"
    code, out, err = run("load", "objections", str(objections), "--store", str(typo))
    assert code == 2
    assert out == ""
    assert f"no evidence store at {typo}" in err
    assert "optin-gate init" in err
    assert not typo.exists()
    code, _, err = run("load", "objections", str(objections), "--store", store)
    assert code == 0, err
    code, _, err = run("load", "objections", str(objections), "--store", str(typo), "--create")
    assert code == 0, err
    assert typo.exists()


def test_init_refuses_an_existing_file(store: str) -> None:
    code, _, err = run("init", "--store", store)
    assert code == 2
    assert "exists already" in err


def test_a_killed_runs_transcoded_copy_is_removed_by_the_next_run(
    tmp_path: Path, store: str
) -> None:
    """A Windows-1250 list is copied as UTF-8; a SIGKILL must not leave that copy for long."""
    rows = [["Šárka", "601234567"]] * 200_000
    calls = write_csv(tmp_path / "l.csv", LIST, rows, encoding="cp1250")
    before = set(scratch_folder().iterdir())
    script = (
        "import sys, time, optin_gate.io.source as s\n"
        "src = s.open_source(sys.argv[1])\nprint('copied', flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(calls)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"copied"
    left = set(scratch_folder().iterdir()) - before
    assert len(left) == 1  # the copy exists while the run lives
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert all(p.exists() for p in left)
    small = write_csv(tmp_path / "s.csv", LIST, [["Eva", "601234567"]])
    status, _, err = run("filter", str(small), "--store", store)
    assert status == 0, err
    assert not any(p.exists() for p in left)


def test_a_temp_folder_that_cannot_be_written_does_not_stop_a_run(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A UTF-8 list needs no scratch copy, so a read-only temp folder must not fail it."""
    from optin_gate.io import scratch

    def read_only() -> Path:
        raise PermissionError(13, "Read-only file system", "/tmp/optin-gate-0")

    monkeypatch.setattr(scratch, "scratch_folder", read_only)
    calls = write_csv(tmp_path / "l.csv", LIST, [["Eva", "601234567"]])
    code, _, err = run("filter", str(calls), "--store", store)
    assert code == 0, err
    assert sweep() == 0

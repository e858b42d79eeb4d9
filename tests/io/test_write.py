"""Output files are written whole or not at all, in the format the extension names."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from optin_gate.errors import InputError
from optin_gate.io import read_table, staged_files, write_table, write_text
from optin_gate.io.write import COMMIT_PREFIX, TEMP_PREFIX, recover_commits

TABLE = pa.table({"phone": ["+420601234567", None], "reason": ["CONSENT", "OBJECTION"]})


def test_csv_and_parquet_by_extension(tmp_path: Path) -> None:
    write_table(TABLE, tmp_path / "out.csv")
    assert read_table(tmp_path / "out.csv").to_pylist() == TABLE.to_pylist()
    write_table(TABLE, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").equals(TABLE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.parquet"]


def test_unknown_extension_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot tell the output format from the extension"):
        write_table(TABLE, tmp_path / "out.xlsx")
    with pytest.raises(InputError, match="the folder does not exist"):
        write_table(TABLE, tmp_path / "no" / "out.csv")


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "permitted.csv"
    target.write_text("old\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("pyarrow.csv.write_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_table(TABLE, target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["permitted.csv"]


def test_a_runs_files_appear_together_once_all_are_written(tmp_path: Path) -> None:
    a, b = tmp_path / "permitted.csv", tmp_path / "sub" / "decisions.parquet"
    b.parent.mkdir()
    with staged_files() as files:
        files.temp(a).write_text("new a\n")
        files.temp(b).write_bytes(b"new b")
        assert not a.exists()
        assert not b.exists()
        temps = [p.name for p in tmp_path.rglob("*") if p.is_file()]
        assert len(temps) == 2
        assert all(name.startswith(TEMP_PREFIX) for name in temps)
    assert a.read_text() == "new a\n"
    assert b.read_bytes() == b"new b"
    names = sorted(p.name for p in tmp_path.rglob("*"))
    assert names == ["decisions.parquet", "permitted.csv", "sub"]


def test_one_failed_write_leaves_every_old_file_and_no_temp(tmp_path: Path) -> None:
    a, b = tmp_path / "permitted.csv", tmp_path / "decisions.csv"
    a.write_text("yesterday a\n")

    def run() -> None:
        with staged_files() as files:
            files.temp(a).write_text("new a\n")
            files.temp(b).write_text("half of b")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run()
    assert a.read_text() == "yesterday a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["permitted.csv"]


def test_temps_carry_the_prefix_and_outputs_the_usual_permissions(tmp_path: Path) -> None:
    made = tmp_path / "made.txt"
    made.touch()
    with staged_files() as files:
        tmp = files.temp(tmp_path / "out.csv")
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(TEMP_PREFIX + "out.csv.")
        assert tmp.suffix == ".tmp"
        assert not tmp.exists()  # the writer creates it
        tmp.write_text("x\n")
    write_table(TABLE, tmp_path / "t.parquet")
    mode = stat.S_IMODE((tmp_path / "t.parquet").stat().st_mode)
    assert mode == stat.S_IMODE(made.stat().st_mode)


def test_text_is_written_whole_and_a_folder_is_refused(tmp_path: Path) -> None:
    write_text(tmp_path / "r.json", "{}\n")
    assert (tmp_path / "r.json").read_text() == "{}\n"
    with pytest.raises(InputError, match="a folder, not a file"):
        write_text(tmp_path, "{}")


def test_a_crashed_runs_temp_files_go_with_the_next_write(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    dead = tmp_path / f"{TEMP_PREFIX}out.csv.{ended.pid}.00ff00ff.tmp"
    live = tmp_path / f"{TEMP_PREFIX}out.csv.{os.getppid()}.00ff00ff.tmp"  # a run still going
    other = tmp_path / ".out.csv.abc.tmp"  # not ours
    for path in (dead, live, other):
        path.write_text("601234567\n")
    write_text(tmp_path / "r.json", "{}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "r.json"])


KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
from optin_gate.io import write

folder = Path(sys.argv[1])
real = os.replace
renamed = []

def replace_then_die(src, dst):
    real(src, dst)
    renamed.append(dst)
    if len(renamed) == 1:  # the first file is visible, the second is not
        os.kill(os.getpid(), signal.SIGKILL)

write.os.replace = replace_then_die
with write.staged_files() as files:
    for name in ("permitted.csv", "decisions.csv"):
        files.temp(folder / name).write_text("new\\n", encoding="utf-8")
"""


def test_a_run_killed_between_its_renames_is_finished_by_the_next(tmp_path: Path) -> None:
    for name in ("permitted.csv", "decisions.csv"):
        (tmp_path / name).write_text("old\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(tmp_path)], check=False, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL
    contents = {p.name: p.read_text() for p in tmp_path.glob("*.csv")}
    assert contents == {"permitted.csv": "new\n", "decisions.csv": "old\n"}  # out of step
    assert len(list(tmp_path.glob(COMMIT_PREFIX + "*"))) == 1  # the record of the renames
    assert recover_commits(tmp_path) == 1  # what the next run in the folder does first
    contents = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert contents == {"permitted.csv": "new\n", "decisions.csv": "new\n"}

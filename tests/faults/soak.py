"""Concurrency soak: a loader, three diallers and two objection recorders on one store file.

One process reloads directory snapshots (holding the store file for each load), three
processes check numbers in a loop through their own `Gate`, two record objections one after
another. Each recorder notes when each objection was acknowledged; each dialler notes, per
number, the start of the last check that allowed it. Afterwards no number may have been
allowed by a check that started more than `BOUND` seconds after its objection was
acknowledged, and no process may have failed except by failing closed (`StoreError`).

    python tests/faults/soak.py             # the long form, about 60 s (make soak)
    python tests/faults/soak.py --short     # the short form, about 15 s (run by make test)

Counts are fixed by the form, so a slow machine runs longer rather than differently.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BOUND = 2.0
CONTROLLER = "acme"
DIALLERS = 3
RECORDERS = 2


@dataclasses.dataclass(frozen=True)
class Form:
    """The fixed counts of one soak."""

    objections: int  # per recorder
    gap: float  # seconds between two objections of one recorder
    loads: int  # directory snapshots loaded one after another
    numbers: int  # numbers with consent, the first 2 * objections of them objected to


LONG = Form(objections=150, gap=0.35, loads=20, numbers=10_000)
SHORT = Form(objections=20, gap=0.2, loads=4, numbers=2_000)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the soak saw."""

    checks: int
    seconds: float
    objections: int
    loads: int
    largest_delay: float  # how long after its acknowledgement a number was still allowed
    late: int  # numbers allowed more than BOUND after acknowledgement
    failed_closed: int  # checks that raised StoreError
    errors: list[str]

    @property
    def checks_per_second(self) -> float:
        """Checks of all diallers together per second of the diallers' run."""
        return self.checks / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        """One line of figures."""
        return (
            f"soak: {self.checks_per_second:,.0f} checks/s over {self.seconds:.1f} s "
            f"({DIALLERS} diallers), {self.objections} objections recorded, {self.loads} loads, "
            f"largest delay {self.largest_delay:.3f} s (bound {BOUND:g} s), "
            f"{self.failed_closed} checks failed closed, {len(self.errors)} process errors"
        )


def _number(i: int) -> str:
    return f"+420601{i:06d}"


def prepare(folder: Path, form: Form) -> Path:
    """A store where every soak number has a valid consent from acme."""
    from optin_gate import EvidenceStore

    granted = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    consents = folder / "consents.csv"
    lines = [f"C-{i},{_number(i)},{granted}" for i in range(form.numbers)]
    consents.write_text("consent_id,phone,granted_at\n" + "\n".join(lines) + "\n")
    path = folder / "soak.duckdb"
    EvidenceStore(path).load("consents", consents, controller=CONTROLLER)
    return path


def _loader(path: Path, form: Form, out: Path) -> dict[str, object]:
    from optin_gate import EvidenceStore
    from optin_gate.errors import StoreError

    store = EvidenceStore(path, timeout=120)
    rng = random.Random(1)
    loaded = 0
    for n in range(form.loads):
        day = date.today() - timedelta(days=form.loads - n)
        file = out.with_name(f"directory{n}.csv")
        marks = ("opt_in", "opt_out", "unmarked")
        rows = [f"{_number(i)},{rng.choice(marks)}" for i in range(form.numbers)]
        file.write_text("phone,marketing\n" + "\n".join(rows) + "\n")
        try:
            store.load("directory", file, snapshot_date=day)
            loaded += 1
        except StoreError:
            pass  # a store held too long by the others: fail closed, try the next one
        file.unlink()
    return {"loads": loaded}


def _recorder(path: Path, form: Form, first: int, out: Path) -> dict[str, object]:
    from optin_gate import EvidenceStore

    store = EvidenceStore(path, timeout=120)
    acked: dict[str, float] = {}
    for i in range(first, first + form.objections):
        store.record_objection(_number(i), source="soak")
        acked[_number(i)] = time.time()
        time.sleep(form.gap)
    return {"acked": acked}


def _dialler(path: Path, form: Form, stop: Path, seed: int) -> dict[str, object]:
    from optin_gate import EvidenceStore, Gate
    from optin_gate.errors import StoreError

    gate = Gate(EvidenceStore(path, timeout=120), CONTROLLER, refresh_interval=2.0)
    targets = [_number(i) for i in range(RECORDERS * form.objections)]
    random.Random(seed).shuffle(targets)
    allowed: dict[str, float] = {}
    checks = failed = 0
    started = time.time()
    while not stop.exists():
        for number in targets:
            at = time.time()
            try:
                decision = gate.check(number)
            except StoreError:
                failed += 1
                continue
            checks += 1
            if decision.allowed:
                allowed[number] = at
    seconds = time.time() - started
    gate.close()
    return {"allowed": allowed, "checks": checks, "failed": failed, "seconds": seconds}


def _child(args: argparse.Namespace) -> None:
    form = SHORT if args.short else LONG
    path, out = Path(args.store), Path(args.out)
    if args.role == "loader":
        result = _loader(path, form, out)
    elif args.role == "recorder":
        result = _recorder(path, form, args.index * form.objections, out)
    else:
        result = _dialler(path, form, Path(args.stop), args.index)
    out.write_text(json.dumps(result))


def _spawn(role: str, index: int, path: Path, folder: Path, short: bool) -> subprocess.Popen[str]:
    out = folder / f"{role}{index}.json"
    cmd = [sys.executable, __file__, "--role", role, "--index", str(index)]
    cmd += ["--store", str(path), "--out", str(out), "--stop", str(folder / "stop")]
    if short:
        cmd.append("--short")
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)


def run(folder: Path, *, short: bool, limit: float = 600.0) -> Outcome:
    """Run one soak in `folder` (a fresh directory); kills everything after `limit` seconds."""
    form = SHORT if short else LONG
    path = prepare(folder, form)
    diallers = [_spawn("dialler", i, path, folder, short) for i in range(DIALLERS)]
    deadline = time.monotonic() + limit
    # The diallers build their index first, so that objections meet running gates.
    time.sleep(2.0)
    others = [_spawn("loader", 0, path, folder, short)]
    others += [_spawn("recorder", i, path, folder, short) for i in range(RECORDERS)]
    errors: list[str] = []
    for proc in others:
        _finish(proc, deadline, errors)
    time.sleep(BOUND + 1.0)  # the last objections must reach the diallers too
    (folder / "stop").touch()
    for proc in diallers:
        _finish(proc, deadline, errors)
    return _outcome(folder, form, errors)


def _finish(proc: subprocess.Popen[str], deadline: float, errors: list[str]) -> None:
    args = [str(a) for a in proc.args]  # type: ignore[union-attr]
    name = f"{args[3]} {args[5]}"
    try:
        _, stderr = proc.communicate(timeout=max(deadline - time.monotonic(), 1.0))
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        errors.append(f"{name}: still running at the time limit")
        return
    if proc.returncode != 0:
        errors.append(f"{name}: exit {proc.returncode}: {stderr[-2000:]}")


def _read(file: Path) -> dict[str, Any]:
    return json.loads(file.read_text()) if file.exists() else {}


def _outcome(folder: Path, form: Form, errors: list[str]) -> Outcome:
    acked: dict[str, float] = {}
    for i in range(RECORDERS):
        acked.update(_read(folder / f"recorder{i}.json").get("acked", {}))
    checks = failed = 0
    seconds = 0.0
    delay = 0.0
    late = set()
    for i in range(DIALLERS):
        result = _read(folder / f"dialler{i}.json")
        checks += int(result.get("checks", 0))
        failed += int(result.get("failed", 0))
        seconds = max(seconds, float(result.get("seconds", 0.0)))
        allowed: dict[str, float] = result.get("allowed", {})
        for number, ack in acked.items():
            after = allowed.get(number, 0.0) - ack
            delay = max(delay, after)
            if after > BOUND:
                late.add(number)
    loads = int(_read(folder / "loader0.json").get("loads", 0))
    if len(acked) != RECORDERS * form.objections and not errors:
        errors.append(f"{len(acked)} objections acknowledged, {RECORDERS * form.objections} meant")
    return Outcome(checks, seconds, len(acked), loads, delay, len(late), failed, errors)


def main(argv: list[str] | None = None) -> int:
    """Run the soak (or, with --role, one of its processes); exit 1 when it found a fault."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--short", action="store_true", help="the short form (about 15 s)")
    ap.add_argument("--role", choices=("loader", "recorder", "dialler"), help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--stop", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.role:
        _child(args)
        return 0
    with tempfile.TemporaryDirectory(prefix="optin-gate-soak-") as folder:
        outcome = run(Path(folder), short=args.short)
    print(outcome.summary())
    for error in outcome.errors:
        print("error:", error, file=sys.stderr)
    return 1 if outcome.late or outcome.errors else 0


if __name__ == "__main__":
    sys.exit(main())

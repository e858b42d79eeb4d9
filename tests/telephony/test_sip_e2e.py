"""Real SIP calls through Kamailio, which asks the real gate service before each one.

On loopback and free ports: the gate service over a temporary store, Kamailio running the
configuration exactly as docs/diallers.md prints it, SIPp as the callee and SIPp as the
dialler. A call reaches the callee only when the gate answered `1`; every other call, and every
call while the gate is silent or down, is refused with 403.

Skipped where Kamailio, its http_client module or SIPp is missing, except in CI (the
environment variable CI is set), where `.ci/run` installs them and a missing one is a failure.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import optin_gate as og
from optin_gate.service import App, Checkers, load_tokens
from tests.dial._helpers import store_with
from tests.oracle import Consent, Evidence, Objection
from tests.service.server import Client, running

pytestmark = pytest.mark.sip

HERE = Path(__file__).parent
RECIPES = HERE.parents[1] / "docs" / "diallers.md"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
MODULE_DIRS = (
    "/usr/lib/*/kamailio/modules",
    "/usr/lib/kamailio/modules",
    "/usr/local/lib*/kamailio/modules",
)
LOOPBACK = "127.0.0.1"

# One number per outcome, each written the way some dialler sends it.
ALLOWED = "+420601100001"  # consent for acme
DENIED = "601100002"  # no evidence: no legal basis
OBJECTED_TO = "00420601100003"  # consent, then an objection
INVALID = "12345"
OBJECTS_DURING_RUN = "+420601100004"  # consent; the test records an objection
WHILE_GATE_FAILS = "+420601100005"  # consent; asked while the gate cannot answer
WITH_TOKEN, WITHOUT_TOKEN = "+420601100006", "+420601100007"  # consent; the gate wants a token
TOKEN = "dialler-secret"


def _evidence() -> Evidence:
    granted, objected = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    consented = (420601100001, 420601100003, 420601100004, 420601100005, 420601100006, 420601100007)
    return Evidence(
        consents=[Consent(f"C-{p % 10}", p, "acme", granted) for p in consented],
        objections=[Objection("O-3", 420601100003, None, objected)],
    )


def _tools() -> tuple[str, str]:
    kamailio = shutil.which("kamailio", path=SEARCH_PATH)
    sipp = shutil.which("sipp", path=SEARCH_PATH)
    http_client = any(glob.glob(f"{folder}/http_client.so") for folder in MODULE_DIRS)
    missing = [
        package
        for package, found in (
            ("kamailio", kamailio),
            ("kamailio-utils-modules (http_client)", http_client),
            ("sip-tester (sipp)", sipp),
        )
        if not found
    ]
    if missing or kamailio is None or sipp is None:
        if os.environ.get("CI"):
            pytest.fail(f"missing in CI: {', '.join(missing)}; .ci/run installs them")
        pytest.skip(f"not installed: {', '.join(missing)}")
    return kamailio, sipp


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _running(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`args` in a process group of its own, stopped with all it forked on the way out."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, start_new_session=True
        )
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


def _wait_until(ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited {proc.returncode}: {log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{proc.args!r} not ready in time: {log.read_text()[-3000:]}")
        time.sleep(0.05)


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return True
        return False


def _answers_options(port: int) -> bool:
    """Kamailio answers an OPTIONS addressed to itself once its workers run."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        probe.settimeout(0.5)
        tag = time.monotonic_ns()
        request = (
            f"OPTIONS sip:{LOOPBACK}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOOPBACK}:{probe.getsockname()[1]};branch=z9hG4bK{tag}\r\n"
            f"From: <sip:probe@{LOOPBACK}>;tag={tag}\r\nTo: <sip:{LOOPBACK}:{port}>\r\n"
            f"Call-ID: probe-{tag}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        probe.sendto(request.encode(), (LOOPBACK, port))
        try:
            return probe.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


@pytest.fixture(scope="module")
def tools() -> tuple[str, str]:
    return _tools()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sip")


@pytest.fixture(scope="module")
def store(tools: tuple[str, str], folder: Path) -> og.EvidenceStore:
    return store_with(_evidence(), folder / "evidence.duckdb")


@pytest.fixture(scope="module")
def gate(store: og.EvidenceStore) -> Iterator[Client]:
    """The gate service on loopback without tokens, ready."""
    with running(App(Checkers(store, og.Policy(), max_index_age=600.0), tokens=None)) as client:
        yield client


@pytest.fixture(scope="module")
def guarded_gate(store: og.EvidenceStore, folder: Path) -> Iterator[Client]:
    """The gate service with a tokens file: `TOKEN` may check numbers for acme."""
    tokens = folder / "tokens.toml"
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    tokens.write_text(f'[[token]]\nsha256 = "{digest}"\ncontrollers = ["acme"]\n')
    app = App(Checkers(store, og.Policy(), max_index_age=600.0), tokens=load_tokens(tokens))
    with running(app) as client:
        yield client


@pytest.fixture(scope="module")
def callee(tools: tuple[str, str], folder: Path) -> Iterator[tuple[int, Path]]:
    """SIPp answering every call that reaches it: its port and its log of reached numbers."""
    port, log = _free_port(socket.SOCK_DGRAM), folder / "reached.log"
    args = [tools[1], "-sf", str(HERE / "callee.xml"), "-i", LOOPBACK, "-p", str(port)]
    args += ["-nostdin", "-trace_logs", "-log_file", str(log)]
    with _running(args, folder / "callee.out") as proc:
        _wait_until(lambda: _bound(port), proc, folder / "callee.out")
        yield port, log


@contextlib.contextmanager
def _kamailio(
    tools: tuple[str, str], folder: Path, check_url: str, callee: int, *defines: str
) -> Iterator[int]:
    """Kamailio with the recipe's configuration, relaying to `callee`; its SIP port."""
    recipe = re.search(r"^```kamailio\n(.*?)^```", RECIPES.read_text(encoding="utf-8"), re.M | re.S)
    assert recipe, "docs/diallers.md lost its kamailio block"
    config = folder / "kamailio.cfg"
    config.write_text(recipe.group(1), encoding="utf-8")
    port = _free_port(socket.SOCK_DGRAM)
    args = [tools[0], "-f", str(config), "-DD", "-E", "-m", "32", "-M", "4", "-Y", str(folder)]
    args += ["-A", f"LISTEN=udp:{LOOPBACK}:{port}", "-A", f'GATE_URL="{check_url}"']
    args += ["-A", f'NEXT_HOP="sip:{LOOPBACK}:{callee}"']
    args += [arg for define in defines for arg in ("-A", define)]
    with _running(args, folder / "kamailio.log") as proc:
        _wait_until(lambda: _answers_options(port), proc, folder / "kamailio.log")
        yield port


@pytest.fixture(scope="module")
def proxy(
    tools: tuple[str, str], folder: Path, gate: Client, callee: tuple[int, Path]
) -> Iterator[int]:
    with _kamailio(tools, folder, f"http://{LOOPBACK}:{gate.port}/v1/check", callee[0]) as port:
        yield port


def _call(tools: tuple[str, str], proxy: int, numbers: list[str], folder: Path) -> dict[str, str]:
    """Dial each of `numbers` once through Kamailio: "answered" or "refused" for each."""
    folder.mkdir()
    dialled, log = folder / "numbers.csv", folder / "calls.log"
    dialled.write_text("SEQUENTIAL\n" + "".join(f"{number};\n" for number in numbers))
    args = [tools[1], "-sf", str(HERE / "caller.xml"), "-inf", str(dialled), "-i", LOOPBACK]
    args += ["-p", str(_free_port(socket.SOCK_DGRAM)), "-m", str(len(numbers)), "-r", "50"]
    args += ["-timeout", "20s", "-timeout_error", "-recv_timeout", "5000", "-nostdin"]
    args += ["-trace_logs", "-log_file", str(log), f"{LOOPBACK}:{proxy}"]
    done = subprocess.run(args, capture_output=True, text=True, cwd=folder, timeout=60, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ended = [line.split(" ", 1) for line in log.read_text().splitlines()]
    return {number: outcome for outcome, number in ended}


def _reached(log: Path) -> list[str]:
    """The numbers that reached the callee, one entry per call."""
    text = log.read_text() if log.exists() else ""
    return re.findall(r"^reached INVITE sip:(\S*)$", text, re.M)


def test_only_calls_the_gate_allows_reach_the_callee(
    tools: tuple[str, str], proxy: int, callee: tuple[int, Path], folder: Path
) -> None:
    numbers = [ALLOWED, DENIED, OBJECTED_TO, INVALID]
    assert _call(tools, proxy, numbers, folder / "mixed") == {
        ALLOWED: "answered",
        DENIED: "refused",
        OBJECTED_TO: "refused",
        INVALID: "refused",
    }
    assert [n for n in _reached(callee[1]) if n in numbers] == [ALLOWED]
    # Each refusal rests on the gate's own answer, and Kamailio's log names no number.
    log = (folder / "kamailio.log").read_text()
    assert "refused: 200 0 OBJECTION objection:O-3" in log
    assert "refused: 200 0 INVALID_NUMBER -" in log
    assert not re.search(r"60110000\d|12345", log)


def test_an_objection_posted_to_the_gate_refuses_the_next_call(
    tools: tuple[str, str], gate: Client, proxy: int, callee: tuple[int, Path], folder: Path
) -> None:
    assert _call(tools, proxy, [OBJECTS_DURING_RUN], folder / "before") == {
        OBJECTS_DURING_RUN: "answered"
    }
    body = {"number": OBJECTS_DURING_RUN, "controller": "acme", "source": "agent 7"}
    assert gate.post("/v1/objections", body).status == 201
    assert _call(tools, proxy, [OBJECTS_DURING_RUN], folder / "after") == {
        OBJECTS_DURING_RUN: "refused"
    }
    assert _reached(callee[1]).count(OBJECTS_DURING_RUN) == 1


@pytest.mark.parametrize("failure", ["silent", "down"])
def test_a_gate_that_does_not_answer_refuses_every_call(
    failure: str,
    tools: tuple[str, str],
    callee: tuple[int, Path],
    tmp_path: Path,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as gate:
        gate.bind((LOOPBACK, 0))
        if failure == "silent":
            gate.listen()  # connections are accepted by the kernel and never answered
        check_url = f"http://{LOOPBACK}:{gate.getsockname()[1]}/v1/check"
        with _kamailio(tools, tmp_path, check_url, callee[0]) as port:
            outcome = _call(tools, port, [WHILE_GATE_FAILS], tmp_path / "calls")
    assert outcome == {WHILE_GATE_FAILS: "refused"}
    assert WHILE_GATE_FAILS not in _reached(callee[1])
    assert "optin-gate: call" in (tmp_path / "kamailio.log").read_text()


@pytest.mark.parametrize("token", [TOKEN, None])
def test_a_gate_with_tokens_lets_calls_through_only_with_the_token(
    token: str | None,
    tools: tuple[str, str],
    guarded_gate: Client,
    callee: tuple[int, Path],
    tmp_path: Path,
) -> None:
    number = WITHOUT_TOKEN if token is None else WITH_TOKEN
    check_url = f"http://{LOOPBACK}:{guarded_gate.port}/v1/check"
    defines = () if token is None else (f'GATE_TOKEN="{token}"',)
    with _kamailio(tools, tmp_path, check_url, callee[0], *defines) as port:
        outcome = _call(tools, port, [number], tmp_path / "calls")
    assert outcome == {number: "refused" if token is None else "answered"}
    assert (number in _reached(callee[1])) == (token is not None)
    if token is None:
        assert "refused: 401 0 ERROR" in (tmp_path / "kamailio.log").read_text()

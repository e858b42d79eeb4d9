"""`optin-gate serve` as a process: SIGTERM during traffic, and what its log may say."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import optin_gate as og
from tests.dial._helpers import store_with
from tests.service.conftest import CONSENTED, world
from tests.service.server import Client, wait_ready

pytestmark = pytest.mark.slow

SERVE = "from optin_gate.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _traffic(port: int, numbers: list[int], acknowledged: list[int], stop: threading.Event) -> None:
    client = Client(port)
    try:
        for key in numbers:
            if stop.is_set():
                return
            client.get("/v1/check", number=f"+{key}", controller="acme")
            reply = client.post("/v1/objections", {"number": f"+{key}", "controller": "acme"})
            if reply.status == 201:
                acknowledged.append(key)
    except (OSError, ConnectionError, Exception):
        return  # the server went away mid-request: that one was not acknowledged
    finally:
        client.close()


def test_sigterm_during_traffic_keeps_every_acknowledged_objection(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store_with(world(), path)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--store", str(path), "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        probe = _wait_for(port, process)
        probe.get("/v1/check", number="+420 601 000 001", controller="acme")
        probe.get("/v1/check", number="garbage 601000001", controller="acme", format="json")
        probe.close()
        acknowledged: list[int] = []
        stop = threading.Event()
        batches = [[420602000000 + 1000 * t + i for i in range(400)] for t in range(3)]
        threads = [
            threading.Thread(target=_traffic, args=(port, batch, acknowledged, stop))
            for batch in batches
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err.decode()
    assert acknowledged, "no objection was acknowledged before the signal"
    gate = og.Gate(og.EvidenceStore(path), "acme", refresh_interval=None)
    lost = [k for k in acknowledged if gate.check(f"+{k}").reason != og.Reason.OBJECTION]
    assert not lost, f"{len(lost)} acknowledged objections are gone"
    log = err.decode()
    assert "Shutting down" in log
    # No phone number, in any form, in the server's log.
    assert not re.search(r"\d{3}\D?\d{3}\D?\d{3}", log), log
    assert str(CONSENTED)[3:] not in log


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> Client:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            client = Client(port)
            wait_ready(client)
            return client
        except (OSError, ConnectionError):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

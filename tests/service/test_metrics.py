"""/metrics: Prometheus's own checker accepts it, and it counts what a dashboard needs."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.service.conftest import CONSENTED, OBJECTED, e164
from tests.service.server import Client


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI; .ci/run installs Debian's prometheus")
        pytest.skip("promtool is not installed")
    return found


def test_promtool_accepts_the_exposition(client: Client) -> None:
    client.get("/v1/check", number=e164(CONSENTED), controller="acme")
    client.get("/v1/check", number="x", controller="acme")
    client.get("/v1/check", number=e164(CONSENTED), controller="acme", call_type="robot")
    client.post("/v1/objections", {"number": e164(CONSENTED), "controller": None})
    body = client.get("/metrics").body
    run = subprocess.run(
        [_promtool(), "check", "metrics"], input=body, capture_output=True, check=False
    )
    assert run.returncode == 0, (run.stdout + run.stderr).decode()


def _value(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_checks_count_by_controller_and_reason(client: Client) -> None:
    for _ in range(3):
        client.get("/v1/check", number=e164(OBJECTED), controller="acme")
    client.post("/v1/objections", {"number": e164(CONSENTED), "controller": "acme"})
    text = client.get("/metrics").text
    assert _value(text, 'optin_gate_checks_total{controller="acme",reason="OBJECTION"}') == 3
    assert _value(text, "optin_gate_check_seconds_count") >= 3
    assert _value(text, 'optin_gate_objections_recorded_total{controller="acme"}') == 1
    assert 0 <= _value(text, 'optin_gate_index_age_seconds{controller="acme"}') < 60
    assert _value(text, "optin_gate_ready") == 1

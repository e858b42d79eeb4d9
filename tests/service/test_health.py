"""/healthz: ok only from a fresh index; a rebuild never pauses health or answers."""

from __future__ import annotations

import threading
import time
from typing import Any

import pyarrow as pa
import pytest

import optin_gate as og
from optin_gate.dial import build_index
from optin_gate.service import App, Checkers
from tests.service.conftest import OPTED_OUT, e164
from tests.service.server import Client, running, wait_ready


def test_ok_with_the_index_age_and_its_controllers(client: Client) -> None:
    health = client.get("/healthz")
    assert health.status == 200
    assert health.json()["status"] == "ok"
    assert 0 <= health.json()["index_age_s"] < 60
    assert {"acme", "beta"} <= set(health.json()["controllers"])


def test_503_when_the_index_is_older_than_the_bound(store: og.EvidenceStore) -> None:
    checkers = Checkers(store, og.Policy(), max_index_age=0.5, refresh_interval=3600)
    with running(App(checkers, tokens=None)) as client:
        time.sleep(0.7)
        assert client.get("/healthz").status == 503
        assert client.get("/healthz").json()["status"] == "stale"
        # Checks fail closed too, and never with a leading 1.
        check = client.get("/v1/check", number=e164(OPTED_OUT), controller="acme")
        assert check.status == 503
        assert check.text.startswith("0 ERROR")


def test_503_until_the_first_index_is_built(
    store: og.EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return build_index(*args, **kwargs)

    monkeypatch.setattr("optin_gate.dial.checker.build_index", held)
    with running(
        App(Checkers(store, og.Policy(), max_index_age=600.0), tokens=None), ready=False
    ) as client:
        assert client.get("/healthz").json() == {"status": "starting"}
        assert client.get("/v1/check", number=e164(OPTED_OUT), controller="acme").status == 503
        gate.set()
        wait_ready(client)


def test_health_and_answers_go_on_during_a_rebuild(
    store: og.EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkers = Checkers(store, og.Policy(), max_index_age=600.0, refresh_interval=0.1)
    with running(App(checkers, tokens=None)) as client:
        building, release = threading.Event(), threading.Event()

        def slow(*args: Any, **kwargs: Any) -> Any:
            building.set()
            release.wait(30)
            return build_index(*args, **kwargs)

        monkeypatch.setattr("optin_gate.dial.checker.build_index", slow)
        store.load(
            "consents",
            pa.table(
                {
                    "consent_id": ["C-NEW"],
                    "phone": [e164(OPTED_OUT)],
                    "controller": ["acme"],
                    "granted_at": ["2026-01-01T09:00"],
                }
            ),
            strict=True,
        )
        assert building.wait(30), "no rebuild started"
        answers = []
        for _ in range(20):
            answers.append(client.get("/v1/check", number=e164(OPTED_OUT), controller="acme"))
            assert client.get("/healthz").status == 200
        release.set()
        assert {a.status for a in answers} == {200}
        assert {a.text.split()[1] for a in answers} == {"STALE_DIRECTORY"}
        deadline = time.monotonic() + 30
        while not client.get(
            "/v1/check", number=e164(OPTED_OUT), controller="acme"
        ).text.startswith("1 CONSENT consent:C-NEW"):
            assert time.monotonic() < deadline, "the rebuilt index never answered"
            time.sleep(0.05)


def test_a_store_that_cannot_be_read_at_start_is_retried(
    store: og.EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("optin_gate.service.app.RETRY_SECONDS", 0.05)
    checkers = Checkers(store, og.Policy(), max_index_age=600.0)
    real, failures = checkers.build, [og.StoreError("the store is locked", hint="wait")]

    def flaky(controllers: Any) -> None:
        if failures:
            raise failures.pop()
        real(controllers)

    monkeypatch.setattr(checkers, "build", flaky)
    with running(App(checkers, tokens=None)) as client:  # waits for /healthz to say ok
        assert client.get("/v1/check", number=e164(OPTED_OUT), controller="acme").status == 200
    assert not failures


def test_a_controller_asked_about_after_shutdown_gets_no_index(store: og.EvidenceStore) -> None:
    checkers = Checkers(store, og.Policy(), max_index_age=600.0)
    checkers.build(())
    checkers.close()
    with pytest.raises(og.OptinGateError, match="shutting down"):
        checkers.get("gamma")
    assert "gamma" not in checkers.controllers

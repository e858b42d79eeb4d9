"""POST /v1/objections: durable before 201, and the very next check answers OBJECTION."""

from __future__ import annotations

from pathlib import Path

import optin_gate as og
from optin_gate.service import App, Checkers
from tests.dial._helpers import store_with
from tests.service.conftest import CONSENTED, CUSTOMER, e164, world
from tests.service.server import Client, running


def test_the_next_check_answers_objection(client: Client) -> None:
    assert client.get("/v1/check", number=e164(CONSENTED), controller="acme").text[0] == "1"
    posted = client.post("/v1/objections", {"number": "601 000 001", "controller": "acme"})
    assert posted.status == 201
    assert posted.json()["e164"] == e164(CONSENTED)
    again = client.get("/v1/check", number=e164(CONSENTED), controller="acme")
    assert again.text == f"0 OBJECTION objection:{posted.json()['objection_id']}\n"


def test_an_objection_for_every_controller_blocks_each(client: Client) -> None:
    assert client.post("/v1/objections", {"number": e164(CUSTOMER), "controller": None}).ok
    for controller in ("acme", "beta"):
        answer = client.get("/v1/check", number=e164(CUSTOMER), controller=controller)
        assert answer.text.startswith("0 OBJECTION"), controller


def test_the_callers_own_id_is_kept(client: Client) -> None:
    posted = client.post(
        "/v1/objections", {"number": e164(CUSTOMER), "controller": "beta", "objection_id": "T-9"}
    )
    assert posted.json()["objection_id"] == "T-9"
    answer = client.get("/v1/check", number=e164(CUSTOMER), controller="beta")
    assert answer.text == "0 OBJECTION objection:T-9\n"


def test_an_acknowledged_objection_is_in_the_store_file(tmp_path: Path) -> None:
    path = tmp_path / "ev.duckdb"
    store = store_with(world(), path)
    with running(App(Checkers(store, og.Policy(), max_index_age=600.0), tokens=None)) as c:
        assert c.post("/v1/objections", {"number": e164(CONSENTED), "controller": "acme"}).ok
    # Another process opening the file finds it.
    later = og.Gate(og.EvidenceStore(path), "acme", refresh_interval=None)
    assert later.check(e164(CONSENTED)).reason == og.Reason.OBJECTION


def test_an_invalid_number_is_400_and_not_recorded(client: Client) -> None:
    reply = client.post("/v1/objections", {"number": "12", "controller": "acme"})
    assert reply.status == 400
    assert reply.json()["error"]["status"] == 400
    assert client.post("/v1/objections", {"controller": "acme"}).status == 400

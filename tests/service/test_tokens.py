"""Tokens: 401 without a known one, 403 outside its controllers, objections only if allowed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from optin_gate.cli import main
from optin_gate.errors import InputError
from optin_gate.service import load_tokens
from optin_gate.service.app import MAX_BODY
from tests.service.conftest import ACME_TOKEN, ALL_TOKEN, BOTH_TOKEN, CONSENTED, CUSTOMER, e164
from tests.service.server import Client


def _as(client: Client, token: str | None) -> Client:
    client.token = token
    return client


@pytest.mark.parametrize("token", [None, "guess", ""])
def test_no_or_an_unknown_token_is_401(guarded: Client, token: str | None) -> None:
    reply = _as(guarded, token).get("/v1/check", number=e164(CONSENTED), controller="acme")
    assert reply.status == 401
    assert reply.text.startswith("0 ERROR")


def test_no_token_is_401_before_the_request_is_read(guarded: Client) -> None:
    bad_query = guarded.request("GET", f"/v1/check?number=%2B{CONSENTED}&call_type=robot")
    bad_body = guarded.request("POST", "/v1/check", b"not json")
    too_large = guarded.request("POST", "/v1/check", b"[" + b" " * (MAX_BODY + 1) + b"]")
    assert bad_query.status == bad_body.status == too_large.status == 401
    assert bad_query.text.startswith("0 ERROR no known bearer token")


def test_a_token_asks_only_about_its_controllers_named_in_any_case(guarded: Client) -> None:
    acme = _as(guarded, ACME_TOKEN)
    assert acme.get("/v1/check", number=e164(CONSENTED), controller=" Acme").status == 200
    assert acme.get("/v1/check", number=e164(CUSTOMER), controller="beta").status == 403


def test_a_tokens_only_controller_is_the_default(guarded: Client) -> None:
    reply = _as(guarded, ACME_TOKEN).get("/v1/check", number=e164(CONSENTED), at="2026-03-02")
    assert reply.text == "1 CONSENT consent:C-1\n"


def test_a_token_with_several_controllers_must_name_one(guarded: Client) -> None:
    both = _as(guarded, BOTH_TOKEN)
    assert both.get("/v1/check", number=e164(CONSENTED)).status == 400
    assert both.get("/v1/check", number=e164(CUSTOMER), controller="beta").status == 200


def test_a_star_token_asks_about_any_controller(guarded: Client) -> None:
    reply = _as(guarded, ALL_TOKEN).get("/v1/check", number=e164(CUSTOMER), controller="gamma")
    assert reply.status == 200


def test_objections_need_a_token_that_allows_them(guarded: Client) -> None:
    body = {"number": e164(CUSTOMER), "controller": "acme"}
    assert _as(guarded, BOTH_TOKEN).post("/v1/objections", body).status == 403
    assert _as(guarded, ALL_TOKEN).post("/v1/objections", body).status == 403
    beta = {"number": e164(CUSTOMER), "controller": "beta"}
    assert _as(guarded, ACME_TOKEN).post("/v1/objections", beta).status == 403
    assert _as(guarded, ACME_TOKEN).post("/v1/objections", body).status == 201
    # An objection to every controller only ever blocks: any objections token may send it.
    everyone = {"number": e164(CUSTOMER), "controller": None}
    assert _as(guarded, ACME_TOKEN).post("/v1/objections", everyone).status == 201


def test_health_metrics_and_openapi_need_no_token(guarded: Client) -> None:
    for path in ("/healthz", "/metrics", "/openapi.json"):
        assert _as(guarded, None).get(path).status == 200, path


def test_the_file_holds_hashes_only(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[token]]\nsha256 = "acme-secret"\ncontrollers = ["acme"]\n')
    with pytest.raises(InputError, match="64 hex digits") as caught:
        load_tokens(path)
    assert "acme-secret" not in str(caught.value)


def test_a_token_listed_twice_is_refused_not_one_table_dropped(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    table = '[[token]]\nsha256 = "{}"\ncontrollers = ["{}"]\n'
    digest = hashlib.sha256(ACME_TOKEN.encode()).hexdigest()
    path.write_text(table.format(digest, "acme") + table.format(digest.upper(), "beta"))
    with pytest.raises(InputError, match="number 2: the same sha256") as caught:
        load_tokens(path)
    assert caught.value.file == str(path)


def test_bad_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[token]]\nsha256 = "ab"\ncontrollers = [acme]\n')
    with pytest.raises(InputError) as caught:
        load_tokens(path)
    assert caught.value.file == str(path)
    assert caught.value.line == 3


def test_serve_off_loopback_without_tokens_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--store", "x.duckdb"])
    assert result.exit_code == 2
    assert "--tokens" in result.stderr


def test_serve_with_a_bad_tokens_file_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text("[[token]]\n")
    result = CliRunner().invoke(main, ["serve", "--tokens", str(path), "--store", "x.duckdb"])
    assert result.exit_code == 2
    assert str(path) in result.stderr

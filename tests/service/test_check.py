"""GET and POST /v1/check: a dialplan's one line, JSON for programs, errors never a `1`."""

from __future__ import annotations

import pytest

from optin_gate.service.params import MAX_NUMBERS
from tests.service.conftest import AT, CONSENTED, CUSTOMER, OBJECTED, OPTED_OUT, e164
from tests.service.server import Client


def test_text_answer_is_one_line_whose_first_character_says_dial(client: Client) -> None:
    allowed = client.get("/v1/check", number=e164(CONSENTED), controller="acme", at=AT)
    denied = client.get("/v1/check", number=e164(OBJECTED), controller="acme", at=AT)
    assert (allowed.status, allowed.text) == (200, "1 CONSENT consent:C-1\n")
    assert (denied.status, denied.text) == (200, "0 OBJECTION objection:O-1\n")
    assert allowed.headers["content-type"].startswith("text/plain")


def test_evidence_is_a_dash_when_none_and_a_bad_number_is_an_answer(client: Client) -> None:
    for number in ("", "not a number", None):
        reply = client.get("/v1/check", number=number, controller="acme")
        assert (reply.status, reply.text) == (200, "0 INVALID_NUMBER -\n")


def test_a_dialplans_unescaped_plus_is_a_plus(client: Client) -> None:
    # Asterisk's CURL() sends the number as the dialplan has it, "+" unescaped.
    reply = client.request("GET", f"/v1/check?number=+{CONSENTED}&controller=acme&at=2026-03-02")
    assert reply.text == "1 CONSENT consent:C-1\n"


def test_a_form_encoded_space_in_a_controller_name_is_a_space(client: Client) -> None:
    # Python's requests and browsers send "controller= acme " as "controller=+acme+": the
    # name must stay the company asked about, not become one nobody named.
    reply = client.request(
        "GET", f"/v1/check?number=%2B{CONSENTED}&controller=+acme+&at=2026-03-02"
    )
    assert reply.text == "1 CONSENT consent:C-1\n"


def test_json_on_request_by_accept_header_or_format(client: Client) -> None:
    path = f"/v1/check?number=601000002&controller=beta&at={AT.replace('+', '%2B')}&ref=call-9"
    by_header = client.request("GET", path, headers={"Accept": "application/json"})
    by_format = client.request("GET", path + "&format=json")
    assert by_header.json() == by_format.json()
    assert by_header.json() == {
        "number": "601000002",
        "e164": e164(CUSTOMER),
        "allowed": True,
        "reason": "EXISTING_CUSTOMER",
        "evidence": "contract:K-1",
        "rule_set": "CZ-2022-opt-in",
        "controller": "beta",
        "call_type": "live",
        "at": "2026-03-02T10:00:00+01:00",
        "ref": "call-9",
    }
    assert by_header.headers["content-type"] == "application/json"


def test_json_at_defaults_to_now_in_prague_and_ref_to_null(client: Client) -> None:
    answer = client.get("/v1/check", number=e164(OPTED_OUT), controller="acme", format="json")
    assert answer.json()["ref"] is None
    assert answer.json()["at"][-6:] in {"+01:00", "+02:00"}


def test_automated_calls_need_consent(client: Client) -> None:
    answer = client.get(
        "/v1/check", number=e164(CUSTOMER), controller="beta", at=AT, call_type="automated"
    )
    assert answer.text.startswith("0 AUTOMATED_NEEDS_CONSENT")


def test_post_answers_every_number_in_order_with_its_ref(client: Client) -> None:
    numbers = [e164(CONSENTED), "", e164(OBJECTED), None]
    reply = client.post(
        "/v1/check",
        {"controller": "acme", "at": AT, "numbers": numbers, "refs": ["a", "b", "c", None]},
    )
    results = reply.json()["results"]
    assert [r["reason"] for r in results] == [
        "CONSENT",
        "INVALID_NUMBER",
        "OBJECTION",
        "INVALID_NUMBER",
    ]
    assert [r["ref"] for r in results] == ["a", "b", "c", None]
    assert [r["number"] for r in results] == numbers


def test_more_than_the_limit_is_413_and_the_limit_itself_is_answered(client: Client) -> None:
    numbers = [e164(CONSENTED)] * MAX_NUMBERS
    assert (
        len(client.post("/v1/check", {"controller": "acme", "numbers": numbers}).json()["results"])
        == MAX_NUMBERS
    )
    reply = client.post("/v1/check", {"controller": "acme", "numbers": [*numbers, "1"]})
    assert reply.status == 413
    assert "10000" in reply.json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "number=%2B420601000001&controller=acme&call_type=robot",
        "number=%2B420601000001&controller=acme&at=yesterday",
        "number=%2B420601000001&controller=%20%20",
    ],
)
def test_bad_parameters_are_400_and_the_text_starts_with_0_error(
    client: Client, query: str
) -> None:
    reply = client.request("GET", f"/v1/check?{query}")
    assert reply.status == 400
    assert reply.text.startswith("0 ERROR ")
    assert reply.text.count("\n") == 1


@pytest.mark.parametrize("json_by", ["&format=json", "Accept"])
def test_a_json_request_with_bad_parameters_gets_its_error_in_json(
    client: Client, json_by: str
) -> None:
    path = f"/v1/check?number=%2B{CONSENTED}&controller=acme&call_type=robot"
    if json_by == "Accept":
        reply = client.request("GET", path, headers={"Accept": "application/json"})
    else:
        reply = client.request("GET", path + json_by)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["message"].startswith("call_type is not live or automated")


@pytest.mark.parametrize(
    ("query", "twice"),
    [
        (f"number=%2B{OBJECTED}&number=%2B{CONSENTED}&controller=acme&at=2026-03-02", "number"),
        (f"number=%2B{CONSENTED}&controller=beta&controller=acme&at=2026-03-02", "controller"),
    ],
)
def test_a_parameter_given_twice_is_400_not_an_answer_about_either(
    client: Client, query: str, twice: str
) -> None:
    reply = client.request("GET", f"/v1/check?{query}")
    assert reply.status == 400
    assert reply.text.startswith(f"0 ERROR {twice} is given twice")


@pytest.mark.parametrize(
    "at", ["0001-01-01", "0001-01-01T00:30:00", "9999-12-31T23:30:00", "9999-12-31T23:59-12:00"]
)
def test_a_time_at_the_calendars_ends_is_400_everywhere(client: Client, at: str) -> None:
    asked = {"number": e164(CONSENTED), "controller": "acme", "at": at}
    text = client.get("/v1/check", **asked)
    batch = client.post("/v1/check", {**asked, "numbers": [asked.pop("number")]})
    objection = client.post("/v1/objections", {"number": e164(CONSENTED), "at": at})
    assert text.status == batch.status == objection.status == 400
    assert text.text.startswith("0 ERROR at is too far in the past or the future")
    assert "too far" in batch.json()["error"]["message"]
    assert "too far" in objection.json()["error"]["message"]


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"numbers": "601000001"}', b'{"numbers": [1]}']
)
def test_bad_batches_are_400_in_json(client: Client, body: bytes) -> None:
    reply = client.request("POST", "/v1/check", body, {"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json()["error"]["status"] == 400


@pytest.mark.parametrize("path", ["/v1/check", "/v1/objections"])
def test_json_nested_too_deep_is_400_not_a_failure(client: Client, path: str) -> None:
    deep = b'{"numbers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    reply = client.request("POST", path, deep, {"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json()["error"]["message"].startswith("the body is not JSON")


def test_unknown_paths_never_answer_dial(client: Client) -> None:
    reply = client.get("/v2/check", number=e164(CONSENTED))
    assert reply.status == 404
    assert reply.text.startswith("0 ERROR")


def test_an_error_says_what_to_do(client: Client) -> None:
    reply = client.get("/v1/check", number=e164(CONSENTED), controller="acme", at="soon")
    assert reply.text.startswith("0 ERROR at='soon' is not an ISO 8601 date or time")
    assert "Hint: write 2026-11-28" in reply.text

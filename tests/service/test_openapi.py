"""/openapi.json: a valid OpenAPI 3.1 document describing every route the server answers."""

from __future__ import annotations

import re
from pathlib import Path

from openapi_spec_validator import validate

from optin_gate.service import app as app_module
from tests.service.server import Client


def test_the_document_is_valid_openapi_3_1(client: Client) -> None:
    document = client.get("/openapi.json").json()
    validate(document)  # raises on any error
    assert document["openapi"].startswith("3.1")


def test_every_route_of_the_app_is_described(client: Client) -> None:
    source = Path(app_module.__file__).read_text(encoding="utf-8")
    routes = set(re.findall(r'path == "([^"]+)" and method == "([A-Z]+)"', source))
    assert routes, "no routes found in the app"
    paths = client.get("/openapi.json").json()["paths"]
    described = {(p, m.upper()) for p, ops in paths.items() for m in ops}
    assert routes == described

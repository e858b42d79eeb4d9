"""A small world served by the real server: acme's consent, beta's contract, an objection."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import optin_gate as og
from optin_gate.service import App, Checkers, load_tokens
from tests.dial._helpers import store_with
from tests.oracle import Consent, Contract, Evidence, Objection
from tests.service.server import Client, running

# Numbers of the world: consent (acme), contract (beta), objected to (all), opted out.
CONSENTED, CUSTOMER, OBJECTED, OPTED_OUT = 420601000001, 420601000002, 420601000003, 420601000004
GRANTED = datetime(2026, 2, 1, tzinfo=UTC)
AT = "2026-03-02T10:00:00+01:00"
ACME_TOKEN, BOTH_TOKEN, ALL_TOKEN = "acme-secret", "both-secret", "all-secret"


def e164(key: int) -> str:
    return f"+{key}"


def world() -> Evidence:
    return Evidence(
        consents=[Consent("C-1", CONSENTED, "acme", GRANTED)],
        contracts=[Contract("K-1", CUSTOMER, "beta", date(2026, 1, 1))],
        objections=[Objection("O-1", OBJECTED, None, GRANTED)],
        snapshots={date(2026, 3, 1): {OPTED_OUT: "opt_out", CONSENTED: "opt_out"}},
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKENS_TOML = f"""
[[token]]
sha256 = "{_hash(ACME_TOKEN)}"
controllers = ["ACME "]
objections = true

[[token]]
sha256 = "{_hash(BOTH_TOKEN)}"
controllers = ["acme", "beta"]

[[token]]
sha256 = "{_hash(ALL_TOKEN)}"
controllers = ["*"]
"""


@pytest.fixture
def store() -> og.EvidenceStore:
    return store_with(world())


@pytest.fixture
def client(store: og.EvidenceStore) -> Iterator[Client]:
    with running(App(Checkers(store, og.Policy(), max_index_age=600.0), tokens=None)) as c:
        yield c


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.toml"
    path.write_text(TOKENS_TOML, encoding="utf-8")
    return path


@pytest.fixture
def guarded(store: og.EvidenceStore, tokens_file: Path) -> Iterator[Client]:
    """The server with the tokens file; the client sends no token unless told."""
    app = App(Checkers(store, og.Policy(), max_index_age=600.0), tokens=load_tokens(tokens_file))
    with running(app) as c:
        yield c

"""`optin-gate serve`: the gate service on HTTP, for diallers that are not Python.

Binds 127.0.0.1:8787 by default. Any other address needs `--tokens`: without it every
request could ask about every controller, which only this machine may do.
"""

from __future__ import annotations

import logging

import click

from optin_gate.cli._app import main, open_store, store_option
from optin_gate.errors import InputError

__all__ = ["serve"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@main.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--tokens",
    "tokens_path",
    default=None,
    help="TOML file of token hashes and their controllers (needed off loopback).",
)
@click.option(
    "--max-index-age",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds the index may go without a refresh before checks answer 503.",
)
def serve(
    store_path: str, host: str, port: int, tokens_path: str | None, max_index_age: float
) -> None:
    """Answer dial checks over HTTP: GET /v1/check?number=N&controller=C."""
    from optin_gate.policy import Policy
    from optin_gate.service import App, Checkers, is_loopback, load_tokens, server

    if tokens_path is None and not is_loopback(host):
        raise InputError(
            f"--host {host} is not loopback and no --tokens file was given",
            hint="pass --tokens FILE (docs/operations.md), or bind 127.0.0.1",
        )
    tokens = None if tokens_path is None else load_tokens(tokens_path)
    store = open_store(store_path)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    checkers = Checkers(store, Policy(), max_index_age=max_index_age)
    controllers = () if tokens is None else tokens.controllers()
    server(App(checkers, tokens=tokens, controllers=controllers), host=host, port=port).run()

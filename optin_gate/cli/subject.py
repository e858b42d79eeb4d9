"""`optin-gate subject NUMBER`: everything the store holds about one number, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from optin_gate.cli._app import main, store_option
from optin_gate.errors import InputError

__all__ = ["subject"]


@main.command()
@click.argument("number")
@store_option
def subject(number: str, store_path: str) -> None:
    """Print everything held about NUMBER (a GDPR Art. 15 access request) as JSON."""
    from optin_gate.store import EvidenceStore

    if not Path(store_path).exists():
        raise InputError(
            "no evidence store here",
            file=store_path,
            hint="pass --store PATH, or load evidence first with optin-gate load",
        )
    export = EvidenceStore(store_path).subject(number)
    click.echo(json.dumps(export, indent=2, ensure_ascii=False))

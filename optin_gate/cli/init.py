"""`optin-gate init`: create an empty evidence store.

Loads write only into a store that exists, so that a mistyped `--store` fails instead of
sending objections into a new empty file that no dialler reads.
"""

from __future__ import annotations

from pathlib import Path

import click

from optin_gate.cli._app import main, store_option
from optin_gate.errors import InputError

__all__ = ["init"]


@main.command()
@store_option
def init(*, store_path: str) -> None:
    """Create an empty evidence store (a file that does not exist yet)."""
    from optin_gate.store import EvidenceStore

    if Path(store_path).exists():
        raise InputError(
            f"{store_path} exists already",
            file=store_path,
            hint="load into it with optin-gate load KIND FILE --store PATH, or name a new file",
        )
    EvidenceStore(store_path)
    click.echo(f"created an empty evidence store at {store_path}")

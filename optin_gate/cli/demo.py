"""`optin-gate demo`: the main job on bundled sample data."""

from __future__ import annotations

import click

from optin_gate.cli._app import main


@main.command()
def demo() -> None:
    """Filter the bundled sample campaign against the bundled sample evidence."""
    click.echo("optin-gate demo: the batch filter is not built yet (issue 4).")

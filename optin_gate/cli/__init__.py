"""The `optin-gate` command line: one module per subcommand, all on `main`."""

from __future__ import annotations

from optin_gate.cli import (
    audit,  # noqa: F401  (registers the subcommand)
    check,  # noqa: F401  (registers the subcommand)
    demo,  # noqa: F401  (registers the subcommand)
    filter,  # noqa: F401  (registers the subcommand)
    init,  # noqa: F401  (registers the subcommand)
    load,  # noqa: F401  (registers the subcommand)
    serve,  # noqa: F401  (registers the subcommand)
    subject,  # noqa: F401  (registers the subcommand)
)
from optin_gate.cli._app import main

__all__ = ["main"]

"""The click group every subcommand hangs on, and what subcommands share.

Errors the library raises on purpose become one line on stderr and exit code 2; click's own
usage errors exit 2 as well. Exit code 1 is reserved for `check` saying "denied".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from optin_gate.errors import InputError, OptinGateError

__all__ = [
    "EXIT_DENIED",
    "EXIT_INPUT",
    "call_type_option",
    "campaign_options",
    "controller_option",
    "excel_safe_option",
    "main",
    "open_store",
    "purpose_option",
    "quiet_option",
    "sheet_option",
    "store_option",
]

EXIT_DENIED = 1
EXIT_INPUT = 2
DEFAULT_STORE = "optin-gate.duckdb"

F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OptinGateError as exc:
            click.echo(f"optin-gate: error: {exc}", err=True)
            sys.exit(EXIT_INPUT)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optin-gate")
def main() -> None:
    """Call only the numbers a Czech company may legally call for marketing."""


def store_option(func: F) -> F:
    """--store PATH, defaulting to $OPTIN_GATE_STORE or ./optin-gate.duckdb."""
    return click.option(
        "--store",
        "store_path",
        default=lambda: os.environ.get("OPTIN_GATE_STORE", DEFAULT_STORE),
        show_default="$OPTIN_GATE_STORE or optin-gate.duckdb",
        help="The evidence store file.",
    )(func)


def controller_option(func: F) -> F:
    """--controller NAME, the calling company."""
    return click.option(
        "--controller", default="default", show_default=True, help="The calling company."
    )(func)


def campaign_options(func: F) -> F:
    """--sector and --caller-id: the Slovak rules read them (docs/rules.md § 4.3)."""
    func = click.option(
        "--caller-id",
        metavar="NUMBER",
        default=None,
        help="The line the calls come from; Slovak numbers need a +421 888 line.",
    )(func)
    return click.option(
        "--sector",
        metavar="CODE",
        default=None,
        help="The campaign's marketing sector, as the Slovak list names it (default: unknown, "
        "so any registration blocks).",
    )(func)


def purpose_option(func: F) -> F:
    """--purpose P: consents given for other purposes do not count (docs/rules.md)."""
    return click.option(
        "--purpose",
        metavar="P",
        default=None,
        help="The campaign's marketing purpose: a consent counts only if it names it or "
        "names no purpose.",
    )(func)


def call_type_option(func: F) -> F:
    """--call-type live|automated: automated calls need prior consent (docs/rules.md § 1.3)."""
    return click.option(
        "--call-type",
        type=click.Choice(["live", "automated"]),
        default="live",
        show_default=True,
        help="live: a person speaks; automated: a machine plays the message.",
    )(func)


def excel_safe_option(func: F) -> F:
    """--excel-safe: CSV cells a spreadsheet would run as formulas are written as text."""
    return click.option(
        "--excel-safe",
        is_flag=True,
        help="In CSV outputs, cells starting with = + - @ get a leading ' so that a "
        "spreadsheet shows them as text, not formulas (phone and decision columns stay).",
    )(func)


def sheet_option(func: F) -> F:
    """--sheet NAME|NUMBER: which sheet of a workbook input to read."""
    return click.option(
        "--sheet",
        default=None,
        metavar="NAME|NUMBER",
        help="For a workbook (.xlsx .xlsm .xlsb .xls .ods): the sheet, by name or number "
        "from 1 (default: the first visible sheet that has data).",
    )(func)


def quiet_option(func: F) -> F:
    """--quiet: no progress bars."""
    return click.option("--quiet", "-q", is_flag=True, help="No progress output on stderr.")(func)


def stderr_is_terminal() -> bool:
    """Progress bars only where a person watches."""
    return sys.stderr.isatty()


def open_store(path: str) -> Any:
    """The store at `path`; a missing file is an error (an empty store would deny everything)."""
    from optin_gate.store import EvidenceStore

    if not Path(path).is_file():
        raise InputError(
            f"no evidence store at {path}",
            file=path,
            hint="check the --store path; a new store is made with optin-gate init --store PATH",
        )
    return EvidenceStore(path)

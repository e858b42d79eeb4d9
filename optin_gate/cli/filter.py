"""`optin-gate filter LIST`: decide every row of a call list, write the permitted rows.

The list goes file to file (`optin_gate.engine.stream`), in Arrow and DuckDB, so lists of
millions of rows never become Python objects. Prints a summary table; shows progress on stderr
while it works (only where a person watches, and not with --quiet).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from optin_gate.cli._app import (
    call_type_option,
    campaign_options,
    controller_option,
    excel_safe_option,
    main,
    open_store,
    purpose_option,
    quiet_option,
    sheet_option,
    stderr_is_terminal,
    store_option,
)

if TYPE_CHECKING:
    from optin_gate.engine.stream import FileSummary, ProgressHook

__all__ = ["filter_list", "open_store", "print_summary"]


@contextlib.contextmanager
def progress_bar(show: bool) -> Iterator[ProgressHook | None]:
    """A rich progress bar on stderr, fed by the engine's progress hook; None when hidden."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def hook(label: str, fraction: float | None) -> None:
        if label not in tasks:
            for task in tasks.values():
                bar.update(task, completed=100)
            tasks[label] = bar.add_task(label, total=100)
        if fraction is not None:
            bar.update(tasks[label], completed=100 * fraction)

    with bar:
        yield hook


def print_summary(summary: FileSummary) -> None:
    """The counts an operator reads: rows, permitted, denied, and rows per reason."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    def share(n: int) -> str:
        return f"{100 * n / summary.rows:.1f} %" if summary.rows else ""

    import sys

    from optin_gate._time import PRAGUE

    # In a terminal rich wraps to its width; into a file or pipe one line per reason.
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    when = summary.as_of.astimezone(PRAGUE)
    click.echo(f"Call list {summary.source} (phone column {summary.phone_column!r})")
    click.echo(
        f"{summary.call_type} calls for {summary.controller!r} "
        f"as of {when:%Y-%m-%d %H:%M} Prague time"
    )
    head = Table(box=box.SIMPLE, show_header=False)
    head.add_column("what")
    head.add_column("rows", justify="right")
    head.add_column("share", justify="right")
    head.add_row("Rows", f"{summary.rows:,}", "")
    head.add_row("Permitted", f"{summary.permitted:,}", share(summary.permitted))
    head.add_row("Denied", f"{summary.denied:,}", share(summary.denied))
    out.print(head)
    reasons = Table(box=box.SIMPLE)
    reasons.add_column("reason")
    reasons.add_column("allowed")
    reasons.add_column("rows", justify="right")
    reasons.add_column("what it means", style="dim", overflow="fold")
    for reason, count in summary.summary.items():
        reasons.add_row(
            reason.value, "yes" if reason.allowed else "no", f"{count:,}", reason.explanation
        )
    out.print(reasons)
    for key, path in summary.outputs.items():
        what = "permitted rows" if key == "permitted" else "all rows with decisions"
        click.echo(f"wrote {what} to {path}")


@main.command("filter")
@click.argument("list_path", metavar="LIST", type=click.Path(dir_okay=False))
@store_option
@controller_option
@click.option("--as-of", metavar="T", help="Decide as of this time (default now; Prague time).")
@click.option("--phone-column", metavar="COL", help="The phone column, if not found by name.")
@click.option(
    "--out", metavar="PERMITTED", help="Write the permitted rows here (.csv or .parquet)."
)
@click.option(
    "--decisions", metavar="ALL_ROWS", help="Write every row with its decision (.csv/.parquet)."
)
@call_type_option
@campaign_options
@purpose_option
@excel_safe_option
@sheet_option
@quiet_option
def filter_list(
    *,
    list_path: str,
    store_path: str,
    controller: str,
    as_of: str | None,
    phone_column: str | None,
    out: str | None,
    decisions: str | None,
    call_type: str,
    sector: str | None,
    caller_id: str | None,
    purpose: str | None,
    excel_safe: bool,
    sheet: str | None,
    quiet: bool,
) -> None:
    """Decide every row of the call list LIST (CSV, Parquet or a workbook's sheet).

    Every row keeps its columns and gains e164, allowed, reason, evidence and rule_set, in
    the list's order. Without --out or --decisions only the summary is printed.
    """
    from optin_gate.io import prefetch

    prefetch(list_path, sheet=sheet)  # a workbook is parsed while the rest loads

    from optin_gate._time import to_utc
    from optin_gate.context import Context, check_call_type
    from optin_gate.engine import filter_file

    at = to_utc(as_of, name="--as-of")
    context = Context(
        open_store(store_path),
        controller,
        call_type=check_call_type(call_type),
        sector=sector,
        caller_id=caller_id,
        purpose=purpose,
    )
    with progress_bar(stderr_is_terminal() and not quiet) as hook:
        summary = filter_file(
            context,
            list_path,
            as_of=at,
            phone_column=phone_column,
            out=out,
            decisions=decisions,
            progress=hook,
            excel_safe=excel_safe,
            sheet=sheet,
        )
    print_summary(summary)

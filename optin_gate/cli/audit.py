"""`optin-gate audit CALLS`: judge a past call log and write the reports.

Prints a short summary; writes the HTML, JSON and violations files that were asked for, each
atomically. Output paths are checked before the work starts, so a typo in a folder name fails
at once and leaves nothing half written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from optin_gate.cli._app import (
    campaign_options,
    controller_option,
    excel_safe_option,
    main,
    open_store,
    purpose_option,
    quiet_option,
    sheet_option,
    store_option,
)
from optin_gate.errors import sheet_place

__all__ = ["audit"]


@contextlib.contextmanager
def _progress(show: bool, first: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step (only where a person watches)."""
    if not show:
        yield lambda label: None
        return
    from rich.console import Console

    with Console(stderr=True).status(first) as status:
        yield lambda label: status.update(f"{label} ...")


def _print_summary(report: Any, written: list[Path]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from optin_gate.audit.labels import czk, percent, reason_label

    s = report.summary
    rep, exp = s["repeat_objection"], s["exposure"]
    out = Console(highlight=False)
    table = Table(
        box=box.SIMPLE, show_header=False, title=f"Audit of {s['method']['call_log']['source']}"
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("note", style="dim")
    table.add_row("Rows read", f"{s['rows_read']:,}", "")
    table.add_row("Calls judged", f"{s['calls']:,}", f"{s['distinct_numbers']:,} numbers")
    table.add_row("Permitted", f"{s['permitted']:,}", percent(s["permitted"], s["calls"]))
    table.add_row("Violations", f"{s['violations']:,}", percent(s["violations"], s["calls"]))
    table.add_row(
        "Calls after an objection",
        f"{rep['calls']:,}",
        f"to {rep['numbers']:,} numbers, "
        f"{rep['numbers_called_more_than_once']:,} of them more than once",
    )
    table.add_row("Rows not audited", f"{s['unusable_rows']:,}", "listed in the reports")
    table.add_row(
        "Statutory maximum fine",
        czk(exp["statutory_maximum_czk"]) if exp["applies"] else "none",
        "legal ceiling, not a forecast" if exp["applies"] else "",
    )
    out.print(table)
    if s["violations_by_reason"]:
        reasons = Table(box=box.SIMPLE, title="Violations by reason")
        reasons.add_column("reason")
        reasons.add_column("calls", justify="right")
        reasons.add_column("meaning", style="dim")
        for r in s["violations_by_reason"]:
            reasons.add_row(r["reason"], f"{r['violations']:,}", reason_label(r["reason"]))
        out.print(reasons)
    sheet = s["method"]["call_log"].get("sheet")
    for u in report.unusable.slice(0, 5).to_pylist():
        where = sheet_place(sheet, u["line"]) if sheet is not None else f"line {u['line']}"
        click.echo(f"not audited: {where}, column {u['column']!r}: {u['problem']}")
    if s["unusable_rows"] > 5:
        click.echo(f"... and {s['unusable_rows'] - 5:,} more rows not audited (see the reports)")
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("calls", type=click.Path(dir_okay=False))
@store_option
@controller_option
@click.option("--html", "html_path", metavar="FILE", help="Write the HTML report here.")
@click.option("--json", "json_path", metavar="FILE", help="Write the JSON report here.")
@click.option(
    "--violations",
    "violations_path",
    metavar="FILE",
    help="Write every violating call with its reason and evidence (.csv or .parquet).",
)
@click.option(
    "--turnover",
    type=float,
    metavar="CZK",
    help="Net turnover of the last completed accounting period, for the 10 % fine cap.",
)
@click.option("--phone-column", metavar="COL", help="The phone column, if not found by name.")
@click.option(
    "--time-column",
    default="called_at",
    show_default=True,
    metavar="COL",
    help="The column with the time of each call.",
)
@campaign_options
@purpose_option
@excel_safe_option
@sheet_option
@quiet_option
def audit(
    *,
    calls: str,
    store_path: str,
    controller: str,
    html_path: str | None,
    json_path: str | None,
    violations_path: str | None,
    turnover: float | None,
    phone_column: str | None,
    time_column: str,
    sector: str | None,
    caller_id: str | None,
    purpose: str | None,
    excel_safe: bool,
    sheet: str | None,
    quiet: bool,
) -> None:
    """Judge every call of the call log CALLS (CSV, Parquet or a workbook's sheet).

    A call without a legal basis at that moment is a violation. Calls whose log names no
    controller are judged for --controller; no sector or calling line (columns sector,
    caller_id), for --sector and --caller-id; no purpose, for --purpose.
    """
    from optin_gate.io import prefetch

    prefetch(calls, sheet=sheet)  # a workbook is parsed while the rest loads

    from optin_gate.audit.stream import audit_file
    from optin_gate.context import Context

    store = open_store(store_path)
    context = Context(store, controller, sector=sector, caller_id=caller_id, purpose=purpose)
    show = not quiet and os.isatty(2)
    with _progress(show, f"Auditing {Path(calls).name} ...") as step:
        report = audit_file(
            context,
            calls,
            phone_column=phone_column,
            time_column=time_column,
            turnover=turnover,
            violations=violations_path,
            json_path=json_path,
            html_path=html_path,
            on_step=step,
            excel_safe=excel_safe,
            sheet=sheet,
        )
    written = [Path(p) for p in (violations_path, json_path, html_path) if p is not None]
    _print_summary(report, written)

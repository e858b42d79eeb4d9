"""`optin-gate load KIND FILE`: load evidence into the store and say what happened."""

from __future__ import annotations

import click

from optin_gate.cli._app import (
    main,
    open_store,
    quiet_option,
    sheet_option,
    stderr_is_terminal,
    store_option,
)
from optin_gate.errors import sheet_place

__all__ = ["load"]

SHOWN_REJECTS = 5


def _mapping(values: tuple[str, ...]) -> dict[str, str] | None:
    mapping: dict[str, str] = {}
    for value in values:
        src, sep, dst = value.partition("=")
        if not sep or not src or not dst:
            raise click.BadParameter(
                f"{value!r} is not SRC=DST (e.g. --map Telefon=phone)", param_hint="--map"
            )
        mapping[src] = dst
    return mapping or None


@main.command()
@click.argument("kind")
@click.argument("file", type=click.Path(dir_okay=False))
@store_option
@click.option(
    "--controller",
    default=None,
    help="Company the rows belong to where they name none (default: consents and contracts "
    "'default', objections every controller).",
)
@click.option(
    "--snapshot-date",
    help="Date of a directory snapshot or of a Slovak list release (2026-11-01 or 1.11.2026).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="SRC=DST",
    help="Read the file's column SRC as DST (repeatable), e.g. --map Telefon=phone.",
)
@click.option("--strict", is_flag=True, help="Any rejected row aborts the load.")
@click.option(
    "--create", is_flag=True, help="Create the store if it does not exist (see optin-gate init)."
)
@click.option("--rejects", "rejects_path", help="Write every rejected row here (.csv/.parquet).")
@sheet_option
@quiet_option
def load(
    *,
    kind: str,
    file: str,
    store_path: str,
    controller: str | None,
    snapshot_date: str | None,
    maps: tuple[str, ...],
    strict: bool,
    rejects_path: str | None,
    create: bool,
    sheet: str | None,
    quiet: bool,
) -> None:
    """Load KIND (consents, contracts, directory, objections, sk_register) from FILE.

    FILE is CSV, Parquet or a workbook (.xlsx, .xlsm, .xlsb, .xls, .ods).
    """
    from optin_gate.io import output_format, write_table
    from optin_gate.io.paths import check_outputs
    from optin_gate.store import EvidenceStore, StrictLoadError

    columns = _mapping(maps)
    if rejects_path is not None:
        output_format(rejects_path)  # a bad extension fails before the load, not after
    store = EvidenceStore(store_path) if create else open_store(store_path)
    check_outputs({"--rejects": rejects_path}, {"FILE": file, **store.files()})
    try:
        with _Progress(quiet, f"loading {kind} from {file}"):
            report = store.load(
                kind,
                file,
                controller=controller,
                snapshot_date=snapshot_date,
                columns=columns,
                strict=strict,
                sheet=sheet,
            )
    except StrictLoadError as exc:
        if rejects_path is not None:
            write_table(exc.rejects, rejects_path)
            click.echo(f"optin-gate: rejects written to {rejects_path}", err=True)
        raise
    if rejects_path is not None and (report.rows_rejected or not report.unchanged):
        write_table(report.rejects, rejects_path)
    _print(report, store_path, rejects_path)


class _Progress:
    """A spinner on stderr while a load runs (only on a terminal, never with --quiet)."""

    def __init__(self, quiet: bool, text: str) -> None:
        self._status = None
        if not quiet and stderr_is_terminal():
            from rich.console import Console

            self._status = Console(stderr=True).status(text)

    def __enter__(self) -> None:
        if self._status is not None:
            self._status.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)


def _print(report: object, store_path: str, rejects_path: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from optin_gate.store import LoadReport

    assert isinstance(report, LoadReport)
    console = Console(highlight=False, soft_wrap=True)
    if report.unchanged:
        console.print(
            f"Unchanged: {report.file} was already loaded as {report.kind} "
            f"(load {report.load_id}); nothing was written."
        )
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_row("kind", report.kind)
    summary.add_row("file", report.file)
    summary.add_row("store", store_path)
    summary.add_row("load id", str(report.load_id))
    if report.snapshot_date is not None:
        summary.add_row("snapshot date", report.snapshot_date.isoformat())
    summary.add_row("rows read", f"{report.rows_read:,}")
    summary.add_row("rows loaded", f"{report.rows_loaded:,}")
    summary.add_row("rows rejected", f"{report.rows_rejected:,}")
    if not report.unchanged:
        summary.add_row("records added or changed", f"{report.rows_changed:,}")
    console.print(summary)
    if report.rows_rejected:
        shown = report.rejects.slice(0, SHOWN_REJECTS).to_pylist()
        table = Table(title=f"First rejects ({len(shown)} of {report.rows_rejected:,})")
        table.add_column("row" if "sheet" in report.rejects.column_names else "line")
        for name in ("column", "reason"):
            table.add_column(name)
        for row in shown:
            place = sheet_place(row["sheet"], row["line"]) if "sheet" in row else str(row["line"])
            table.add_row(place, str(row["column"]), str(row["reason"]))
        console.print(table)
        if rejects_path is not None:
            console.print(f"All rejects: {rejects_path}")
        else:
            console.print("Write all rejects with --rejects FILE.csv")

"""`optin-gate demo`: the main job on the bundled sample data, as of today.

The sample files (data/sample/, see manifest.json) are dated around a fixed anchor day. So that
the demo shows the same picture on whatever day it runs, it copies them to the demo folder
with every date moved by (today - anchor) days, keeping each file's own layout (delimiter,
encoding, Czech or ISO dates). Only the 2022 directory snapshot keeps its date: it shows the
old opt-out regime, and the Slovak list's releases take the 1st or 16th their place says
(`release_back`: the release due today, the one before). Then it builds a store from the
copies with the ordinary loaders, filters the mixed Czech and Slovak campaign as of now (the
Slovak rows for a sector, from a +421 888 line), and shows the other reasons with four more
runs: automated calls, the campaign from a line outside the 0888 range, six weeks on without
a new directory or list, and 20 June 2022. Last, it checks the two sample consents that do
not count for an energy campaign (one bought with a list, one given for insurance offers)
and shows the note that says why.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from optin_gate.cli._app import main, quiet_option, stderr_is_terminal

__all__ = ["demo", "release_before", "shift_cell", "stage_sample"]

STORE = "optin-gate-demo.duckdb"
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(.*)$", re.DOTALL)
_CZECH = re.compile(r"^(\d{1,2})\.(\s?)(\d{1,2})\.\s?(\d{4})(.*)$", re.DOTALL)


def shift_cell(text: str, days: int) -> str:
    """Move the date at the start of `text` by `days`, keeping its format and the rest.

    ISO (`2026-01-15`, `2026-01-15T10:00`) and Czech (`15.1.2026 10:00`, `15. 1. 2026`) dates
    are recognised; anything else (an empty cell) comes back unchanged.
    """
    if match := _ISO.match(text):
        y, m, d, rest = match.groups()
        day = date(int(y), int(m), int(d)) + timedelta(days=days)
        return day.isoformat() + rest
    if match := _CZECH.match(text):
        d, space, m, y, rest = match.groups()
        day = date(int(y), int(m), int(d)) + timedelta(days=days)
        dot = "." + space
        return f"{day.day}{dot}{day.month}{dot}{day.year}{rest}"
    return text


def _copy_shifted(src: Path, dst: Path, columns: list[str], days: int) -> None:
    """Copy a sample CSV, moving the dates in `columns`; same encoding and delimiter."""
    from optin_gate.io import csv_format

    fmt = csv_format(src)
    encoding = "utf-8-sig" if src.read_bytes()[:3] == b"\xef\xbb\xbf" else fmt.encoding
    with src.open(encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh, delimiter=fmt.delimiter))
    header, body = rows[0], rows[1:]
    at = [header.index(c) for c in columns]
    for row in body:
        for i in at:
            row[i] = shift_cell(row[i], days)
    with dst.open("w", encoding=encoding, newline="") as fh:
        out = csv.writer(fh, delimiter=fmt.delimiter, lineterminator="\r\n")
        out.writerows([header, *body])


def stage_sample(folder: Path, today: date) -> dict[str, Any]:
    """Copy the sample files into `folder`, dates moved to `today`; return the plan to load.

    Returns:
        The manifest with `path` (the copy) on the campaign, calls and every evidence entry,
        and `snapshot_date` on every directory entry.
    """
    from optin_gate._resources import data_dir

    sample = data_dir() / "sample"
    manifest: dict[str, Any] = json.loads((sample / "manifest.json").read_text("utf-8"))
    days = (today - date.fromisoformat(manifest["anchor"])).days
    folder.mkdir(parents=True, exist_ok=True)
    for entry in [manifest["campaign"], manifest["calls"], *manifest["evidence"]]:
        src, dst = sample / entry["file"], folder / entry["file"]
        shift = entry.get("shift", True)
        _copy_shifted(src, dst, entry.get("dates", []) if shift else [], days)
        entry["path"] = dst
        if "snapshot_days" in entry:
            entry["snapshot_date"] = (today + timedelta(days=entry["snapshot_days"])).isoformat()
        if "release_back" in entry:
            entry["snapshot_date"] = release_before(today, entry["release_back"]).isoformat()
    return manifest


def release_before(today: date, back: int) -> date:
    """The Slovak list release due on `today` (`back` 0), or `back` releases before it."""
    day = today.replace(day=16 if today.day >= 16 else 1)
    for _ in range(back):
        earlier = day - timedelta(days=1)
        day = earlier.replace(day=16 if earlier.day >= 16 else 1)
    return day


def _load(store: Any, manifest: dict[str, Any], echo: Callable[[str], None]) -> None:
    for entry in manifest["evidence"]:
        report = store.load(
            entry["kind"],
            entry["path"],
            controller=manifest["controller"] if entry["kind"] != "objections" else None,
            snapshot_date=entry.get("snapshot_date"),
        )
        what = "release" if entry["kind"] == "sk_register" else "snapshot"
        when = f" ({what} {entry['snapshot_date']})" if "snapshot_date" in entry else ""
        echo(
            f"  loaded {report.rows_loaded:>5,} of {report.rows_read:>5,} {entry['kind']:<11} "
            f"from {entry['file']}{when}"
        )


def _not_counted(store: Any, controller: str, now: Any) -> list[Any]:
    """Check the sample's consents that do not count for an energy campaign, and show why.

    One was bought with a list (obtained from a third party), one was given for insurance
    offers only: each is held, yet the number may not be called on it. Returns the
    decisions shown.
    """
    from optin_gate.gate import Gate

    with store.connect(read_only=True) as con:
        found = con.execute(
            "SELECT consent_id, phone, purposes, obtained FROM consents_current "
            "WHERE obtained = 'third_party' OR purposes IS NOT NULL ORDER BY consent_id"
        ).fetchall()
    gate = Gate(store, controller, refresh_interval=None)
    shown = []
    click.echo(
        "\nConsents held but not counted, checked for an energy campaign (--purpose energie):"
    )
    for consent_id, phone, purposes, obtained in found:
        asks = [("energie", "energie")]
        if purposes:
            asks.append((purposes.split(";")[0], purposes))
        what = "bought with a list" if obtained == "third_party" else f"given for {purposes!r}"
        click.echo(f"  consent {consent_id} ({what}):")
        for purpose, label in asks:
            decision = gate.check(f"+{phone}", at=now, purpose=purpose)
            verdict = "ALLOWED" if decision.allowed else "DENIED"
            click.echo(f"    purpose {label!r}: {verdict} ({decision.reason.value})")
            if decision.note:
                click.echo(f"      {decision.note}")
            shown.append(decision)
    return shown


def _compact(title: str, summary: Any) -> None:
    click.echo(f"\n{title}: {summary.permitted:,} of {summary.rows:,} rows may be called")
    for reason, count in summary.summary.items():
        mark = "yes" if reason.allowed else "no "
        click.echo(f"  {mark} {reason.value:<24} {count:>6,}")


@main.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    help="Folder for the store, the dated sample copies and the outputs (default: a new "
    "temporary folder, kept).",
)
@quiet_option
def demo(folder: str | None, quiet: bool) -> None:
    """Filter the bundled sample campaign against the bundled sample evidence, as of now.

    Shows every reason the gate gives. The sample files' dates are moved to today, so the
    picture is the same on any day.
    """
    from optin_gate._time import now_utc, prague_day
    from optin_gate.cli.filter import print_summary, progress_bar
    from optin_gate.context import Context
    from optin_gate.engine import filter_file
    from optin_gate.rules import Reason
    from optin_gate.store import EvidenceStore

    work = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="optin-gate-demo-"))
    now = now_utc()
    manifest = stage_sample(work / "sample", prague_day(now))
    store_path = work / STORE
    for stale in (store_path, *work.glob(f"{STORE}.*")):
        stale.unlink(missing_ok=True)  # the demo's own files from an earlier run
    store = EvidenceStore(store_path)
    click.echo(f"optin-gate demo in {work}\n\nEvidence (sample files dated to today):")
    _load(store, manifest, click.echo)
    slovak = manifest["sk_campaign"]
    context = Context(
        store, manifest["controller"], sector=slovak["sector"], caller_id=slovak["caller_id"]
    )
    campaign = manifest["campaign"]["path"]
    click.echo()
    with progress_bar(stderr_is_terminal() and not quiet) as hook:
        main_run = filter_file(
            context,
            campaign,
            as_of=now,
            out=work / "permitted.csv",
            decisions=work / "decisions.csv",
            progress=hook,
        )
    print_summary(main_run)
    seen = set(main_run.summary)
    automated = dataclasses.replace(context, call_type="automated")
    other_line = dataclasses.replace(context, caller_id=None)
    for title, variant, as_of in (
        ("The same list as automated (machine-played) calls", automated, now),
        ("The same list from a line outside the +421 888 range", other_line, now),
        (
            "The same list six weeks from now, without loading a newer directory or list",
            context,
            now + timedelta(days=42),
        ),
        ("The same list on 20 June 2022, under the old opt-out rules", context, "2022-06-20"),
    ):
        run = filter_file(variant, campaign, as_of=as_of)
        _compact(title, run)
        seen |= set(run.summary)
    _not_counted(store, manifest["controller"], now)
    missing = [r.value for r in Reason if r not in seen]
    click.echo(
        f"\nReasons shown: {len(seen)} of {len(Reason)}"
        + (f" (not shown: {', '.join(missing)})" if missing else "")
    )
    click.echo(
        "\nTry it yourself:\n"
        f"  optin-gate filter {campaign} --store {store_path} "
        f"--controller {manifest['controller']} --sector {slovak['sector']} "
        f"--caller-id '{slovak['caller_id']}' --out {work / 'permitted.csv'}\n"
        f"  optin-gate audit {manifest['calls']['path']} --store {store_path} "
        f"--controller {manifest['controller']} --html {work / 'audit.html'}"
    )

"""Excel benchmark: `optin-gate filter` on a 1M-row .xlsx call list against its reader alone.

The list is the filter benchmark's campaign list (Czech headers, phone numbers in a mix of
written forms) as a workbook a person would keep: a title row and an empty row above the
header, and every phone written as digits only stored as a number, as Excel stores a typed
number. The store is the filter benchmark's evidence for a list of that size. Timed in the
same run, taking turns, each in a fresh process:

* the floor: fastexcel (the reader optin_gate uses) reading the same sheet into Arrow alone,
  with the header row given, as a user of that library would;
* the gate: `optin-gate filter LIST.xlsx --out PERMITTED.csv --quiet`, the command line's own
  entry run in the process (so its start, which parses the sheet while the rest loads, is
  timed): read the sheet, find the header, decide every row, write the permitted rows.

    python benchmarks/bench_excel.py                  # 1M rows (target: gate <= 1.5x floor)
    python benchmarks/bench_excel.py --rows 100000

The workbook, the list and the store are cached in bench-out/excel/ (keyed by size and seed).
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path
from typing import Any

from benchmarks._harness import header, rate, run_measured, scratch
from benchmarks.bench_filter import AS_OF, build_store, evidence_sizes

SHEET = "Kampaň"
TITLE_ROWS = 2  # a title and an empty row above the header


def make_workbook(campaign: Path, out: Path) -> Path:
    """The campaign CSV as a workbook (cached): digit-only phones stored as numbers."""
    if out.exists():
        return out
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append(["Seznam pro kampaň"])
    sheet.append([])
    with campaign.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        head = next(rows)
        phone = head.index("telefon")
        sheet.append(head)
        for row in rows:
            cells: list[Any] = [v or None for v in row]
            if row[phone].isdigit() and len(row[phone]) < 16:
                cells[phone] = int(row[phone])
            sheet.append(cells)
    temp = out.with_suffix(".building.xlsx")
    book.save(temp)
    temp.rename(out)
    return out


def reader_alone(path: str) -> int:
    """fastexcel reading the sheet into Arrow, the header row given; returns the rows."""
    import fastexcel

    batch = fastexcel.read_excel(path).load_sheet(SHEET, header_row=TITLE_ROWS).to_arrow()
    return int(batch.num_rows)


def gate_cli(store: str, book: str, out: str) -> int:
    """`optin-gate filter BOOK --out OUT` as the command line runs it; returns the rows."""
    import contextlib
    import io
    import re

    from optin_gate.cli import main

    args = ["filter", book, "--store", store, "--as-of", AS_OF, "--out", out, "--quiet"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main(args, standalone_mode=False)
    found = re.search(r"Rows\s+([\d,]+)", printed.getvalue())
    return int(found.group(1).replace(",", "")) if found else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the call list")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each, medians")
    args = ap.parse_args()
    work = scratch("excel")
    sizes = evidence_sizes(args.rows)
    header(
        f"excel: {args.rows:,}-row .xlsx call list vs a store of "
        + ", ".join(f"{n:,} {k}" for k, n in sizes.items())
    )
    campaign = work / f"campaign-{args.rows}-{args.seed}.csv"
    if not campaign.exists():
        import subprocess
        import sys

        cmd = [sys.executable, "benchmarks/generate.py", "campaign", "--rows", str(args.rows)]
        subprocess.run([*cmd, "--out", str(campaign), "--seed", str(args.seed)], check=True)
    book = make_workbook(campaign, work / f"campaign-{args.rows}-{args.seed}.xlsx")
    store = run_measured(build_store, str(work), args.rows, args.seed).value
    mb = book.stat().st_size / 2**20
    print(f"list: {book} ({mb:,.0f} MB); store: {store}")

    out = str(work / "permitted.csv")
    floors, runs = [], []
    for _ in range(max(1, args.repeat)):
        floors.append(run_measured(reader_alone, str(book)))
        runs.append(run_measured(gate_cli, store, str(book), out))
    assert all(m.value == args.rows for m in floors), "the reader read another row count"
    floor_s = statistics.median(m.seconds for m in floors)
    gate_s = statistics.median(m.seconds for m in runs)
    assert all(m.value == args.rows for m in runs), "the gate decided another row count"
    print(f"floor  (fastexcel sheet -> Arrow): {floor_s:7.2f} s  {rate(args.rows, floor_s)}")
    print(
        f"gate   (filter .xlsx -> permitted): {gate_s:7.2f} s  {rate(args.rows, gate_s)}, "
        f"peak {max(m.peak_mb for m in runs):,.0f} MB, {runs[-1].value:,} rows decided"
    )
    print("runs (s): floor " + " ".join(f"{m.seconds:.2f}" for m in floors) + "; gate "
          + " ".join(f"{m.seconds:.2f}" for m in runs))  # fmt: skip
    print(f"RATIO gate / reader alone:       {gate_s / floor_s:5.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()

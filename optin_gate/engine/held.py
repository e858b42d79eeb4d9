"""The list held in Arrow: read once, decided beside it, its outputs cut from it.

For a list that fits in memory with room to spare (`fits`). DuckDB parses the file into an
Arrow table on every core; the phone column is normalized straight from that table and the
numbers are decided (`query.decide_rows`); the decisions are put in the rows' order by a
scatter on their numbers (no sort); and each output is one `COPY` of one Arrow table: the
list's own columns (every row, or the permitted ones picked by a mask) beside the decision's
three compact columns, spelled out by `Outcomes.columns_sql` as they are written. No join
with the list's rows, and the list is read once, so it cannot change between two reads.

A larger list goes to `engine.spilled`, held by DuckDB, which spills to disk.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate._runtime import memory_bytes
from optin_gate._sql import sql_name
from optin_gate.engine.beside import Fetched, evidence_relations
from optin_gate.engine.inputs import phone_text, read_list
from optin_gate.engine.lookup import Evidence, RowDecisions, decide_by_lookup, fetch_evidence
from optin_gate.engine.outputs import Run, write_outputs
from optin_gate.engine.query import Plan, fetch_in_memory
from optin_gate.engine.rows import normalize_column
from optin_gate.numbers._arrow import bool_array, int_values, whole

if TYPE_CHECKING:
    from optin_gate.io import Source

__all__ = ["estimated_bytes", "filter_held", "fits", "memory_limit"]

# A list is held in Arrow when its estimated size is at most this share of DuckDB's
# memory_limit (`_runtime.duckdb_memory_limit`): the decision's own tables and DuckDB's hash
# tables need the rest.
_HOLD_SHARE = 0.25
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}
_DECIDED = ("phone", "outcome", "evidence")  # the decision's columns beside the list's
_PER_ROW = 64  # bytes a row: its key, number code, outcome, evidence index, masks, picks


def memory_limit(con: duckdb.DuckDBPyConnection) -> int:
    """DuckDB's memory_limit on `con` in bytes, at most the memory this process may use."""
    ((text,),) = con.execute("SELECT current_setting('memory_limit')").fetchall()
    match = re.fullmatch(r"([0-9.]+)\s*(\w+)", str(text).strip())
    limit = float(match.group(1)) * _UNITS.get(match.group(2), 1) if match else 0.0
    return int(min(limit, memory_bytes()))


def estimated_bytes(src: Source) -> int:
    """About how much memory the held way takes for the list, beyond DuckDB's own.

    The list as Arrow, plus `_PER_ROW` bytes a row for the numbers and decisions kept beside
    it; 0 for a table already in memory (only the per-row part is new, and it is small next
    to the table). The evidence's own hash table does not grow with the list.
    """
    if src.held or src.path is None:  # a frame, a table or a workbook's sheet
        return 0
    if src.kind == "parquet":
        return _parquet_bytes(Path(src.path))
    # CSV: the text itself plus a 4-byte offset per field (fields average well over 8 bytes);
    # the rows counted in the first megabyte.
    size = Path(src.path).stat().st_size
    with open(src.path, "rb") as fh:
        head = fh.read(1 << 20)
    rows = size * max(head.count(b"\n"), 1) // max(len(head), 1)
    return size * 3 // 2 + rows * _PER_ROW


def _parquet_bytes(path: Path) -> int:
    """Per column chunk, its uncompressed size, but at least its rows at Arrow's width.

    Dictionary encoding can make the data far smaller on disk than as Arrow (a string
    column of few values): a text value counts at least 16 bytes, its offset and a share of
    the text.
    """
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except Exception:  # unreadable: DuckDB's own read tells why, on its line
        return 1 << 62
    meta = file.metadata
    widths = [
        field.type.byte_width if pa.types.is_primitive(field.type) and field.type.bit_width >= 8
        else 16
        for field in file.schema_arrow
    ]  # fmt: skip
    total = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(min(group.num_columns, len(widths))):
            total += max(group.column(j).total_uncompressed_size, group.num_rows * widths[j])
    return total + int(meta.num_rows) * _PER_ROW


def fits(con: duckdb.DuckDBPyConnection, src: Source) -> bool:
    """The list is small enough to hold in Arrow beside the decision (see `_HOLD_SHARE`)."""
    return estimated_bytes(src) <= _HOLD_SHARE * memory_limit(con)


def filter_held(con: duckdb.DuckDBPyConnection, run: Run) -> tuple[dict[str, int], dict[str, Path]]:
    """Decide the list held in Arrow and write `targets` from it.

    Returns:
        (rows per reason value, the files written per output).
    """
    src, context, phone, targets, report = run.src, run.context, run.phone, run.targets, run.report
    report.step("reading the list")
    if src.held:
        table = src.to_arrow()
    else:
        with report.watching():
            query = f"SELECT * FROM {src.relation_sql()}"
            table = read_list(src, functools.partial(fetch_in_memory, con, query))
    phones = phone_text(table.column(phone), file=src.name, name=phone)
    fetched = None
    if run.beside is not None:  # made while a slow list was read
        plan, fetched = run.beside.take()
    else:
        plan = Plan.of(con, context, run.at, report.step)
    decisions = decide_rows(plan, phones, fetched=fetched)
    allowed = decisions.allowed()
    prefix = _free_prefix(table.column_names)
    queries: dict[str, str] = {}
    views: list[str] = []
    try:
        for key in targets:
            rows, picked = table, None
            if key == "permitted":
                rows, picked = table.filter(bool_array(allowed)), np.flatnonzero(allowed)
            for name, column in zip(_DECIDED, decisions.columns(picked), strict=True):
                rows = rows.append_column(prefix + name, column)
            view = f"og_out_{key}"
            con.register(view, rows)
            views.append(view)
            own = ", ".join(sql_name(prefix + name) for name in _DECIDED)
            spelled = decisions.outcomes.columns_sql("v", prefix)
            queries[key] = f"SELECT v.* EXCLUDE ({own}), {spelled} FROM {view} v"
        expected = {"permitted": int(allowed.sum()), "decisions": table.num_rows}
        written = write_outputs(
            con,
            src,
            queries,
            targets=targets,
            report=report,
            expected=expected,
            excel_safe=run.kept_as_written(),
        )
        return decisions.counts(), written
    finally:
        for view in views:
            con.unregister(view)


def decide_rows(
    plan: Plan, phones: pa.ChunkedArray, *, fetched: Fetched | None = None
) -> RowDecisions:
    """Decide each phone of a column held in memory; the decisions come back in its order.

    The numbers are normalized while the evidence in force is fetched beside them (every
    candidate record: `engine.lookup` picks the newest per number itself); each row then
    looks its evidence up by number in compiled code. The list's rows never enter DuckDB.

    Args:
        plan: The run's time, controller, call type and policy, on the store's connection.
        phones: The phone column as text (`inputs.phone_text`).
        fetched: The evidence in force and its hash table, when made ahead (`beside.Beside`).
    """
    con = plan.con
    relations = evidence_relations(plan)
    found: list[Evidence] = [] if fetched is None else [fetched.evidence]
    try:
        plan.step("normalizing the phone numbers")
        norm = normalize_column(
            phones,
            plan.policy.default_region,
            plan.numbers,
            beside=None if found else lambda: found.append(fetch_evidence(con, relations)),
        )
        plan.step("looking up the evidence")
        outcomes = plan.shapes()
        return decide_by_lookup(
            whole(norm.column("phone")),
            int_values(whole(norm.column("num"))),
            evidence=found[0],
            outcomes=outcomes,
            shapes=outcomes.table,
            mark_count=len(plan.marks),
            slots=None if fetched is None else fetched.slots,
        )
    finally:
        plan.release()
        plan.drop()


def _free_prefix(columns: list[str]) -> str:
    """A prefix for the decision's columns that no column of the list starts with."""
    prefix = "__og_"
    while any(c.lower().startswith(prefix) for c in columns):  # DuckDB ignores case
        prefix = "_" + prefix
    return prefix

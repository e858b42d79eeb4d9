"""A call log audited in parts that fit in memory, and the report added up over the parts.

When the memory this process may use (`optin_gate._runtime.memory_bytes`, a container's limit
included) cannot hold the whole log with its decisions, the log is decided part by part: each
part is read, decided, folded into figures (`summary.fold`) and its violations written before
the next is read, so memory holds one part. A log that fits is one part, decided as a whole.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from optin_gate._runtime import duckdb_memory_limit, memory_bytes
from optin_gate.audit.exposure import exposure
from optin_gate.audit.method import evidence_loads, method_section
from optin_gate.audit.quality import Quality, merge_quality
from optin_gate.audit.read import BATCH
from optin_gate.audit.report import JSON_VIOLATIONS
from optin_gate.audit.source import CallLog
from optin_gate.audit.summary import Folded, summarize

if TYPE_CHECKING:
    import duckdb

    from optin_gate.context import Context

__all__ = [
    "Counted",
    "duckdb_share",
    "first_violations",
    "part_rows",
    "report_summary",
    "roomy",
    "unusable_rows",
]

# What a part holds per call (its own columns as read, the requests, the looked-up facts and
# the decisions, in Arrow, with what the allocators keep of them), and what the audit holds
# beside the parts (the interpreter and its libraries, the compiled kernels, the evidence
# indexes, DuckDB's buffers).
ROW_BYTES = 512
BESIDE_BYTES = 832 << 20
DUCKDB_SHARE = 3 / 8
MIN_PART_ROWS = BATCH // 4
# Below this, DuckDB's share of memory cannot hold the read's buffers and the evidence scans.
ROOMY_BYTES = 2 << 30


def part_rows(memory: int | None = None) -> int:
    """Rows per part: as many as `memory` holds (at least `MIN_PART_ROWS`).

    Args:
        memory: Bytes this process may use; by default `memory_bytes()`.
    """
    room = (memory_bytes() if memory is None else memory) - BESIDE_BYTES
    return max(MIN_PART_ROWS, room // ROW_BYTES)


def duckdb_share() -> int:
    """Bytes DuckDB may hold while the parts are decided: what a part leaves of the memory.

    At least `DUCKDB_SHARE` of it: the hash tables on the evidence that every part's calls
    are looked up in, and the paused read's buffers, live there.
    """
    least = int(memory_bytes() * DUCKDB_SHARE)
    return max(least, duckdb_memory_limit(part_rows() * ROW_BYTES))


def roomy(memory: int | None = None) -> bool:
    """Whether DuckDB has room to read the log and scan the evidence at once.

    Args:
        memory: Bytes this process may use; by default `memory_bytes()`.
    """
    return (memory_bytes() if memory is None else memory) >= ROOMY_BYTES


@dataclasses.dataclass(frozen=True)
class Counted:
    """What one part of the log adds to the report.

    Attributes:
        folded: Its figures, folded (`summary.fold`).
        rule_sets: The rule sets that decided its calls.
        rows: How many rows it has.
        unusable: Its rows that cannot be judged (line, column, problem).
        listed: Its first violations, earliest first (`Audit.violation_rows`).
        quality: Its consent-quality figures (`quality.consent_quality`).
    """

    folded: Folded
    rule_sets: frozenset[str]
    rows: int
    unusable: pa.Table
    listed: list[dict[str, Any]]
    quality: Quality


def report_summary(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    log: CallLog,
    parts: list[Counted],
    *,
    turnover: float | None,
    ran_at: Any,
) -> dict[str, Any]:
    """The report's figures, exposure and method section, over every part."""
    rows = sum(part.rows for part in parts)
    summary = summarize(con, [part.folded for part in parts])
    summary["unusable_rows"] = sum(part.unusable.num_rows for part in parts)
    summary["rows_read"] = rows
    summary["exposure"] = exposure(summary["violations"], turnover)
    summary["consent_quality"] = merge_quality([part.quality for part in parts])
    summary["method"] = method_section(
        policy=context.policy,
        controller=context.controller,
        rule_sets=sorted(set().union(*(part.rule_sets for part in parts))),
        evidence=evidence_loads(con),
        store=_store_name(context),
        call_log=log.describe(rows),
        ran_at=ran_at,
    )
    return summary


def first_violations(parts: list[Counted]) -> list[dict[str, Any]]:
    """The first violations of the whole log, earliest first (then in the log's order)."""
    listed = [row for part in parts for row in part.listed]
    if len(parts) > 1:  # each part's are in order already; the line follows the log's order
        listed.sort(key=lambda row: (datetime.fromisoformat(row["called_at"]), row["line"]))
    return listed[:JSON_VIOLATIONS]


def unusable_rows(parts: list[Counted]) -> pa.Table:
    """The rows that cannot be judged, in the log's order."""
    return pa.concat_tables([part.unusable for part in parts])


def _store_name(context: Context) -> str:
    path = getattr(context.store, "path", None)
    return str(path) if path else ":memory:"

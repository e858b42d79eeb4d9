"""The batch engine: DuckDB, Arrow and compiled loops decide a whole call list at once.

* `run_filter` (behind `Gate.filter`): a list in memory, returned as a `FilterResult`.
* `filter_file` (behind `optin-gate filter`): a file to files (`engine.stream`), the list
  held in Arrow (`engine.held`, its evidence looked up in compiled code: `engine.lookup`) or,
  when large, by DuckDB, which spills (`engine.spilled`).
* `optin_gate.engine.query.prepare_decisions`: the decision query of `Gate.filter` and the
  spilled way.
* `decisive_marks` and `tune`: the pieces the audit shares with the batch engine;
  later stages use these names, not the modules behind them.

Only `FilterResult` loads with the package; the pipeline loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optin_gate.engine.result import FilterResult

if TYPE_CHECKING:
    import duckdb

    from optin_gate.context import Context
    from optin_gate.engine.stream import FileSummary
    from optin_gate.policy import Policy

__all__ = ["FilterResult", "decisive_marks", "filter_file", "run_filter", "tune"]


def run_filter(context: Context, source: Any, **kwargs: Any) -> FilterResult:
    """Decide every row of a call list in memory (see `optin_gate.engine.filter.run_filter`)."""
    from optin_gate.engine.filter import run_filter as run

    return run(context, source, **kwargs)


def filter_file(context: Context, source: Any, **kwargs: Any) -> FileSummary:
    """Filter a list file to output files (see `optin_gate.engine.stream.filter_file`)."""
    from optin_gate.engine.stream import filter_file as run

    return run(context, source, **kwargs)


def decisive_marks(policy: Policy) -> tuple[str, ...] | None:
    """The directory marks that can change a decision (see `optin_gate.engine.facts`)."""
    from optin_gate.engine.facts import decisive_marks as marks

    return marks(policy)


def tune(con: duckdb.DuckDBPyConnection) -> None:
    """Set a store connection up for a batch run (see `optin_gate.engine.filter.tune`)."""
    from optin_gate.engine.filter import tune as run

    run(con)

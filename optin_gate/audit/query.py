"""The audit's decision query: every call decided as of its own time, one row per call.

A call log is the case the filter's decision query is not shaped for: nearly every call has its
own (number, time, controller), so deciding "once per distinct key" and joining the decisions
back on four keys costs more than deciding each call where it stands. Here every call keeps its
row, keyed by its position `rid`:

1. the calls arrive as one compact Arrow table (`audit.requests`: numbers normalized, texts
   as small codes);
2. the evidence is cut into per-(phone, controller) segments of constant facts and the call
   hours are settled once each (`optin_gate.store.asof`: `timeline_sql`, `hours_sql`, the
   snapshot found with an ASOF join), both small temp tables;
3. one CREATE TABLE ... AS runs the as-of facts (`with_facts_sql`: three hash joins, nothing
   aggregated per call) and the rule set's own SQL (`compile_rules(policy).decision_sql`, the
   same rules `filter` applies) over every call, and stores the decisions in the log's order.

The decided table keeps unusable rows too (their decision NULL), so that it lines up row for
row with the log: the violations file is a POSITIONAL JOIN of the log and the decisions, and
the log's own columns never pass through a hash table.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator

import duckdb

from optin_gate.errors import StoreError
from optin_gate.policy import Policy
from optin_gate.rules import NO_RULE_SET, RULE_SETS, Reason, compile_rules
from optin_gate.rules.base import EVIDENCE_FIELDS
from optin_gate.rules.expr import sql_literal
from optin_gate.store.asof import hours_sql, timeline_sql, with_facts_sql

__all__ = ["DECIDED_COLUMNS", "decide_calls", "e164_sql", "evidence_sql"]

Step = Callable[[str], None]
_names = itertools.count()
_DIRECTORY = EVIDENCE_FIELDS["directory_date"]
assert list(EVIDENCE_FIELDS.values()).count(_DIRECTORY) == 1


def _enum(values: list[str]) -> str:
    return "ENUM(" + ", ".join(sql_literal(v) for v in dict.fromkeys(values)) + ")"


# Millions of rows: the reason and the rule set as one-byte enums, the number as its key.
REASON_TYPE = _enum([r.value for r in Reason])
RULE_SET_TYPE = _enum(
    [NO_RULE_SET]
    + [rs.label() for rs in RULE_SETS]
    + [label for rs in RULE_SETS for _, label in rs.labels]
)

# The decided table, one row per row of the log, sorted by `rid` (its position in the log).
DECIDED_COLUMNS: dict[str, str] = {
    "rid": "BIGINT",
    "t": "TIMESTAMPTZ",  # when the call was made (NULL for an unusable row)
    "controller": "INTEGER",  # code into `Requests.dictionaries["controller"]`
    "campaign": "INTEGER",  # code, likewise (NULL when the log names none)
    "agent": "INTEGER",  # code, likewise
    "phone": "BIGINT",  # the number's key: E.164 without "+"; NULL unless valid
    "allowed": "BOOLEAN",  # NULL for an unusable row, as are the four below
    "reason": REASON_TYPE,
    "evidence": "VARCHAR",  # NULL where it is "directory:" and `evidence_date`
    "evidence_date": "DATE",
    "rule_set": RULE_SET_TYPE,
}


def e164_sql(key: str) -> str:
    """SQL: the E.164 text of a phone key column (NULL stays NULL)."""
    return f"('+' || CAST({key} AS VARCHAR))"


def evidence_sql(alias: str) -> str:
    """SQL: the decision's evidence text from a row of the decided table `alias`."""
    return f"coalesce({alias}.evidence, 'directory:' || CAST({alias}.evidence_date AS VARCHAR))"


@contextlib.contextmanager
def _probing_with_calls(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep the calls on the probe side of every join of the block.

    DuckDB's estimates may have it build its hash tables on the millions of calls instead of
    the evidence; with the join order as written, the evidence (timeline, directory, hours)
    is built and the calls stream through.
    """
    ((before,),) = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()
    off = ",".join(filter(None, [str(before), "build_side_probe_side"]))
    con.execute(f"SET disabled_optimizers = {sql_literal(off)}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {sql_literal(str(before))}")


def _temp(con: duckdb.DuckDBPyConnection, name: str, sql: str, temps: list[str]) -> str:
    con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
    temps.append(name)
    return name


def decide_calls(
    con: duckdb.DuckDBPyConnection,
    requests: str,
    controllers: str,
    *,
    rows: int,
    policy: Policy,
    step: Step | None = None,
) -> str:
    """Decide every call; returns the name of a temp table with `DECIDED_COLUMNS`.

    Args:
        con: A store connection (the evidence tables visible), writable temp schema.
        requests: The registered `Requests.table`.
        controllers: The registered `Requests.dictionaries["controller"]`.
        rows: How many rows `requests` has.
        policy: The policy the facts and the rules are bound to.
        step: Called with a short label as each phase starts.

    Raises:
        StoreError: The store answered twice for one call (a number listed twice in one
            directory snapshot): the decisions would not be one per call.
    """
    say = step or (lambda label: None)
    n = next(_names)
    temps: list[str] = []
    decided = f"og_audit_decided_{n}"
    try:
        say("looking up the evidence")
        usable = f"(SELECT t FROM {requests} WHERE ok)"
        hours = _temp(con, f"og_audit_hours_{n}", hours_sql(usable), temps)
        # The timeline by controller name, then keyed by the calls' controller codes.
        by_name = timeline_sql(f"(SELECT text AS controller FROM {controllers})", policy)
        timeline = _temp(
            con,
            f"og_audit_tl_{n}",
            f"SELECT tl.* REPLACE (c.code AS controller) FROM ({by_name}) tl "
            f"JOIN {controllers} c ON c.text = tl.controller",
            temps,
        )
        say("deciding every call")
        facts = f"({with_facts_sql(requests, hours=hours, timeline=timeline)})"
        rules = compile_rules(policy).decision_sql(facts)
        # The rules write the directory's evidence as "directory:" and the snapshot date (the
        # only field with that prefix): kept as the date alone, the rest as written.
        on_directory = f"starts_with(evidence, '{_DIRECTORY}:')"
        with _probing_with_calls(con):
            _temp(
                con,
                decided,
                f"SELECT rid, t, controller, campaign, agent, phone, "
                f"CASE WHEN ok THEN allowed END AS allowed, "
                f"CAST(CASE WHEN ok THEN reason END AS {REASON_TYPE}) AS reason, "
                f"CASE WHEN ok AND NOT coalesce({on_directory}, FALSE) THEN evidence END "
                f"AS evidence, "
                f"CASE WHEN ok AND {on_directory} THEN directory_date END AS evidence_date, "
                f"CAST(CASE WHEN ok THEN rule_set END AS {RULE_SET_TYPE}) AS rule_set "
                f"FROM ({rules}) ORDER BY rid",
                temps,
            )
        ((got,),) = con.execute(f"SELECT count(*) FROM {decided}").fetchall()
        if got != rows:
            raise StoreError(
                "the evidence store answers twice for one call (a directory snapshot lists a "
                "number twice?)",
                hint="reload the directory snapshot; if it persists, report it as a bug",
            )
    except BaseException:
        for name in temps:
            with contextlib.suppress(Exception):
                con.execute(f"DROP TABLE IF EXISTS {name}")
        raise
    for name in temps[:-1]:
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return decided

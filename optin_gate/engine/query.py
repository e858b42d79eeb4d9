"""The decision query: every row of a relation gets `e164, allowed, reason, evidence, rule_set`.

The batch filter's: one time, one controller and one call type for the whole list (the audit,
with a time and controller per call, has its own query in `optin_gate.audit.query`). The caller
hands in a relation on a DuckDB connection that holds the store's tables
(`optin_gate.store.schema`); `prepare_decisions` returns the SQL of the decided rows:

1. the phone strings are normalized (`optin_gate.numbers`), distinct ones once;
2. the evidence in force at the time is narrowed first, then joined to the numbers
   (`optin_gate.engine.facts.facts_at_sql`); row by row, the narrowing that needs no number
   runs into temp tables while the last batches are normalized (`rows.read_numbers(beside=)`);
3. the rules decide once per possible shape of facts (`optin_gate.engine.outcomes`), and each
   key (a distinct phone string, or a row) looks its shape's outcome up;
4. the decisions are joined back to the rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa

from optin_gate._sql import sql_literal, sql_name
from optin_gate.context import Context
from optin_gate.engine.facts import (
    NARROWED,
    decisive_marks,
    facts_at_sql,
    narrowed_sql,
)
from optin_gate.engine.outcomes import NumberCodes, Outcomes, decide_shapes, decided_sql
from optin_gate.engine.rows import (
    fetch_in_memory,
    in_row_order,
    read_numbers,
    run_in_memory,
    twice_answered,
    with_numbers,
)
from optin_gate.errors import InputError
from optin_gate.policy import Policy
from optin_gate.rules import DECISION_COLUMNS
from optin_gate.rules.shapes import ShapeCodec
from optin_gate.store.asof import prague_day_sql

__all__ = [
    "DECISION_COLUMNS",
    "Decided",
    "Plan",
    "fetch_in_memory",
    "prepare_decisions",
    "run_in_memory",
]


_names = itertools.count()


@dataclasses.dataclass(frozen=True)
class Decided:
    """The result of `prepare_decisions`: SQL texts over temp tables on the connection.

    Attributes:
        decided: A temp table with one row per distinct key: the key column (`raw`, the
            phone text, or `row` with `number_rows`), `n` (how many rows of the relation
            have that key: sum it per outcome for a summary) and the decision, stored
            compactly (`phone`, `outcome`, `evidence`): read it with `columns_sql()`.
        outcomes: The run's distinct decisions (`optin_gate.engine.outcomes.Outcomes`).
        keys: The key columns of `decided`: `raw` or `row`.
        rows_sql: A query giving every row of the relation, its own columns first (`r.*`),
            then `DECISION_COLUMNS`. No set order: add `ORDER BY` on a row-number column of
            your relation if you need one.
        key_sql: Per key column, the SQL expression over the relation (alias `r`) that
            yields it, to join your own way.
        temp_tables: The temp tables `drop` removes.
        in_row_order: With `number_rows`: `decided` is an Arrow view holding rows 1, 2, 3,
            ... in that order, to be joined to the relation by position.
        views: The Arrow views `drop` removes.
    """

    decided: str
    outcomes: Outcomes
    keys: tuple[str, ...]
    rows_sql: str
    key_sql: dict[str, str]
    temp_tables: tuple[str, ...] = ()
    in_row_order: bool = False
    views: tuple[str, ...] = ()

    def columns_sql(self, alias: str = "d") -> str:
        """SQL for `DECISION_COLUMNS` (text and boolean, as documented) from a decided row."""
        return self.outcomes.columns_sql(alias)

    def allowed_sql(self, alias: str = "d") -> str:
        """SQL: the decided row `alias` allows the call."""
        return self.outcomes.allowed_sql(alias)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the temp tables and views this decision created (after reading `rows_sql`)."""
        for name in self.views:
            with contextlib.suppress(Exception):
                con.unregister(name)
        for name in self.temp_tables:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _value_sql(value: object, sql_type: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(
                "the decision time must carry a time zone", hint="pass optin_gate._time.to_utc(t)"
            )
        stamp = value.astimezone(UTC).isoformat()
        return f"CAST({sql_literal(stamp)} AS TIMESTAMPTZ)"
    if isinstance(value, str):
        return sql_literal(value)
    raise TypeError(f"expected a datetime or a str, got {type(value).__name__}")


def prepare_decisions(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    phone: str,
    at: datetime,
    context: Context,
    on_step: Callable[[str], None] | None = None,
    number_rows: bool = False,
    allowed_only: bool = False,
    phone_text: Callable[[pa.ChunkedArray], pa.ChunkedArray] | None = None,
) -> Decided:
    """Decide every row of `relation`: normalize, as-of facts, rules; one pass per distinct key.

    Creates temp tables on `con` (names unique per call) and returns the SQL that reads the
    decisions. Runs the phone normalization in Python, on the distinct strings only.

    Args:
        con: A connection on which the store tables (or views of them) are visible, e.g. the
            one `EvidenceStore.connect()` yields. Needs write access to the temp schema only.
        relation: A table, view or parenthesised subquery; read twice (distinct keys, rows).
        phone: Name of the column holding the phone numbers as written (any type; cast to
            text). NULL and empty cells are invalid numbers.
        at: The decision instant, an aware datetime.
        context: The controller, policy and campaign parameters the rows are decided for.
        on_step: Called with a short label as each phase starts (for progress displays).
        number_rows: Decide row by row (key `row`) instead of per distinct string, numbering
            the rows 1, 2, 3, ... in the order `relation` yields them: no string aggregation
            and no string join back, for lists where nearly every string is distinct anyway
            (DuckDB keeps a file's order): no numbering
            column, whose window would read the file on one thread. The decisions then come
            in row order (`Decided.in_row_order`) unless `allowed_only`.
        allowed_only: The caller reads only the allowing decisions, joined on `row`: they
            stay in a temp table, not put back in row order.
        phone_text: With `number_rows`: turns each batch of the phone column, read as it
            is, into text (`inputs.phone_text`) instead of DuckDB's cast to VARCHAR.

    Returns:
        `Decided`; `rows_sql` yields `r.*` plus `DECISION_COLUMNS` for every row.
    """
    plan = Plan.of(con, context, at, on_step)
    text = f"CAST(r.{sql_name(phone)} AS VARCHAR)"
    plan.key_sql = {"row": f"r.{_POSITION}"} if number_rows else {"raw": text}
    try:
        read_as = f"r.{sql_name(phone)}" if number_rows and phone_text else text
        keyed, expected = plan.normalized(relation, read_as, by_row=number_rows, convert=phone_text)
        base = plan.facts(keyed)
        outcomes = plan.shapes()
        decided = plan.decide(base, outcomes, expected, in_order=number_rows and not allowed_only)
    except BaseException:
        plan.drop()
        raise
    finally:
        plan.release()
    on = " AND ".join(f"d.{c} IS NOT DISTINCT FROM {sql}" for c, sql in plan.key_sql.items())
    columns = outcomes.columns_sql("d")
    rows_sql = f"SELECT r.*, {columns} FROM {relation} r LEFT JOIN {decided} d ON {on}"
    if number_rows:
        numbered = f"(SELECT row_number() OVER () AS {_POSITION}, * FROM {relation})"
        rows_sql = (
            f"SELECT r.* EXCLUDE ({_POSITION}), {columns} "
            f"FROM {numbered} r LEFT JOIN {decided} d ON {on}"
        )
    return Decided(
        decided,
        outcomes,
        tuple(plan.key_sql),
        rows_sql,
        plan.key_sql,
        tuple(plan.temps),
        in_row_order=decided in plan.views,
        views=tuple(plan.views),
    )


@contextlib.contextmanager
def _unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """No order to keep in the block (sets, or rows carrying their number): less memory."""
    ((keep,),) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {bool(keep)}")


_POSITION = "__og_position"  # a row's number in `rows_sql` under `number_rows`


class Plan:
    """The steps of deciding a list at one time for one controller.

    Shared by `prepare_decisions` and `engine.held`: the connection, the constants and the
    names of the temp tables and views the steps make.

    Attributes:
        consts: SQL constants: `t` (TIMESTAMPTZ), `controller` and `call_type`.
        call_type: "live" or "automated" (anything else decides as automated).
        sector: The campaign's marketing sector (None: unknown).
        caller: The calling line is a +421 888 number.
        purpose: The campaign's purpose key (None: none named).
        numbers: The run's number codes, filled as the numbers are normalized.
        step: Told a short label as each phase starts.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        policy: Policy,
        step: Callable[[str], None] | None = None,
        *,
        at: datetime,
        controller: str,
        call_type: str,
        sector: str | None = None,
        caller: bool = False,
        purpose: str | None = None,
    ) -> None:
        self.con, self.policy, self.call_type, self.n = con, policy, call_type, next(_names)
        self.sector, self.caller = sector, caller
        self.purpose = purpose
        self.step: Callable[[str], None] = step or (lambda label: None)
        self.key_sql: dict[str, str] = {}
        self.consts = {
            "t": _value_sql(at, "TIMESTAMPTZ"),
            "controller": _value_sql(controller, "VARCHAR"),
            "call_type": _value_sql(call_type, "VARCHAR"),
        }
        self.temps: list[str] = []
        self.views: list[str] = []
        self.norm = f"og_norm_{self.n}"
        self.numbers = NumberCodes()
        self.narrowed: dict[str, str] = {}  # evidence tables made beside the read

    @classmethod
    def of(
        cls,
        con: duckdb.DuckDBPyConnection,
        context: Context,
        at: datetime,
        step: Callable[[str], None] | None = None,
    ) -> Plan:
        """The plan of deciding a list at `at` with a context's controller and parameters."""
        return cls(
            con,
            context.policy,
            step,
            at=at,
            controller=context.controller,
            call_type=context.call_type,
            sector=context.sector,
            caller=context.caller_id_0888,
            purpose=context.purpose,
        )

    def temp(self, name: str, sql: str) -> str:
        """Create temp table `name` from `sql`; `drop` removes it."""
        run_in_memory(self.con, f"CREATE TEMP TABLE {name} AS {sql}")
        self.temps.append(name)
        return name

    def in_row_order(self, decision: str, expected: int) -> str:
        """Rows decided one by one, in row order in Arrow (`rows.in_row_order`), as a view."""
        return self.view(in_row_order(fetch_in_memory(self.con, decision), expected))

    def view(self, table: pa.Table) -> str:
        """Register `table` as this run's decided view; `drop` removes it."""
        name = f"og_dec_{self.n}"
        self.con.register(name, table)
        self.views.append(name)
        return name

    def release(self) -> None:
        """Free what only the decision reads: the numbers and the evidence tables."""
        with contextlib.suppress(Exception):
            self.con.unregister(self.norm)
        for name in self.narrowed.values():
            with contextlib.suppress(Exception):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def drop(self) -> None:
        """Remove the temp tables and views the steps made."""
        for name in self.views:
            with contextlib.suppress(Exception):
                self.con.unregister(name)
        for name in self.temps:
            with contextlib.suppress(Exception):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def normalized(
        self,
        relation: str,
        text: str,
        *,
        by_row: bool,
        convert: Callable[[pa.ChunkedArray], pa.ChunkedArray] | None = None,
    ) -> tuple[str, int]:
        """1. Normalize the numbers (distinct strings once); the keyed numbers and their count.

        `text` is the SQL that reads the phone column; with `convert` it reads the column as
        it is, and `convert` turns each batch into text.
        """
        self.step("reading the phone numbers")
        region = self.policy.default_region
        if by_row:  # the rows are the keys, numbered in the order they are read
            self.step("reading and normalizing the phone numbers")
            query = f"SELECT {text} AS raw FROM {relation} r"
            norm = read_numbers(
                self.con,
                query,
                region,
                self.numbers,
                numbered=True,
                beside=self.narrow,
                text=convert,
            )
            keyed = f"SELECT *, 1 AS n FROM {self.norm}"
        else:
            grouped = f"SELECT {text} AS raw, count(*) AS n FROM {relation} r GROUP BY ALL"
            norm = self.con.sql(grouped).to_arrow_table()
            self.step(f"normalizing {norm.num_rows:,} numbers")
            norm = with_numbers(norm, region, self.numbers, keep_raw=True)
            keyed = f"SELECT * FROM {self.norm}"
        pa.default_memory_pool().release_unused()
        self.con.register(self.norm, norm)
        return keyed, norm.num_rows

    @functools.cached_property
    def marks(self) -> tuple[str, ...]:
        """The directory marks told apart; the rest decide as no entry at all."""
        marks = decisive_marks(self.policy)
        if marks is None:  # the rules read the mark otherwise: tell every stored mark apart
            found = self.con.execute("SELECT DISTINCT marketing FROM directory ORDER BY 1")
            marks = tuple(str(m) for (m,) in found.fetchall())
        return marks

    @functools.cached_property
    def releases(self) -> tuple[date, ...]:
        """The Slovak list releases on or before the run's day: those a shape may name."""
        day = prague_day_sql(self.consts["t"])
        found = self.con.execute(
            f"SELECT DISTINCT release_date FROM sk_register_releases "
            f"WHERE release_date <= {day} ORDER BY 1"
        ).fetchall()
        return tuple(d for (d,) in found)

    def narrow(self) -> None:
        """The evidence in force that needs no number (`facts.NARROWED`), into temp tables."""
        queries = narrowed_sql(
            t=self.consts["t"],
            controller=self.consts["controller"],
            policy=self.policy,
            marks=self.marks,
            sector=self.sector,
            releases=self.releases,
            purpose=self.purpose,
        )
        with _unordered(self.con):
            for name in NARROWED:
                table = self.narrowed[name] = f"og_{name}_{self.n}"
                run_in_memory(self.con, f"CREATE TEMP TABLE {table} AS {queries[name]}")

    def facts(self, keyed: str) -> str:
        """2. The evidence at the one time, narrowed first; the keyed rows with their facts."""
        self.step("looking up the evidence")
        return facts_at_sql(
            f"({keyed})",
            t=self.consts["t"],
            controller=self.consts["controller"],
            policy=self.policy,
            marks=self.marks,
            narrowed=self.narrowed,
            sector=self.sector,
            releases=self.releases,
            purpose=self.purpose,
        )

    def shapes(self) -> Outcomes:
        """3a. Every shape the list's numbers can form, decided by the rules (a small table)."""
        day = prague_day_sql(self.consts["t"])
        ((t_day, directory_date),) = self.con.execute(
            f"SELECT {day}, (SELECT max(snapshot_date) FROM directory_snapshots "
            f"WHERE snapshot_date <= {day})"
        ).fetchall()
        codec = ShapeCodec(self.marks, t_day, (directory_date,), self.releases)
        automated = self.call_type != "live"
        outcomes = decide_shapes(
            self.con,
            self.numbers,
            codec,
            automated=automated,
            policy=self.policy,
            caller=self.caller,
        )
        self.temps.append(outcomes.shapes)
        return outcomes

    def decide(self, base: str, outcomes: Outcomes, expected: int, *, in_order: bool) -> str:
        """3b. Each key's outcome (its shape's) and the id its evidence names, into a table."""
        decision = decided_sql(f"({base})", tuple(self.key_sql), outcomes)
        # No order is needed here (every key is joined back): let DuckDB use less memory.
        with _unordered(self.con):
            if in_order:
                return self.in_row_order(decision, expected)
            decided = self.temp(f"og_dec_{self.n}", decision)
        ((got,),) = self.con.execute(f"SELECT count(*) FROM {decided}").fetchall()
        if got > expected:  # the join back would repeat rows
            raise twice_answered()
        if got < expected:  # pragma: no cover - every shape a code can form is decided
            raise AssertionError("a number came back without a decision")
        return decided

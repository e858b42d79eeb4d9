"""The decision query: every row of a relation gets `e164, allowed, reason, evidence, rule_set`.

Shared by the batch filter (one time, one controller, one call type for the whole list) and
the audit (a time, controller and call type per call). Both hand in a relation on a DuckDB
connection that holds the store's tables (`optin_gate.store.schema`); `prepare_decisions`
returns the SQL of the decided rows. Work is done once per distinct key, never per row:

1. the distinct phone strings are normalized once (`optin_gate.numbers.normalize`);
2. the as-of facts are computed once per distinct (number, time, controller)
   (`optin_gate.store.asof.facts_sql`);
3. the rules decide once per distinct (string, time, controller, call type)
   (`optin_gate.rules.compile_rules(policy).decision_sql`);
4. the decisions are joined back to the rows.

When the time, controller and call type are constants (the filter), step 3 is one decision per
distinct phone string; with per-row columns (the audit) it is one per distinct combination.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.engine.facts import facts_at_sql
from optin_gate.errors import InputError, StoreError
from optin_gate.numbers import normalize
from optin_gate.policy import Policy
from optin_gate.rules import compile_rules
from optin_gate.store.asof import facts_sql, prague_day_sql

__all__ = ["DECISION_COLUMNS", "Column", "Decided", "prepare_decisions", "quote"]

# The columns the decision adds after the input's own, in this order (DESIGN.md).
DECISION_COLUMNS: tuple[str, ...] = ("e164", "allowed", "reason", "evidence", "rule_set")

_names = itertools.count()


@dataclasses.dataclass(frozen=True)
class Column:
    """A per-row value: the name of a column of the relation (instead of a constant).

    Attributes:
        name: The column's name in the relation, unquoted.
    """

    name: str


@dataclasses.dataclass(frozen=True)
class Decided:
    """The result of `prepare_decisions`: SQL texts over temp tables on the connection.

    Attributes:
        decided: A temp table with one row per distinct key: the key columns (`raw`, and `t`,
            `controller`, `call_type` where those vary per row), `n` (how many rows of the
            relation have that key: sum it per reason for a summary) and `DECISION_COLUMNS`.
        keys: The key columns of `decided`, in order (always starting with `raw`).
        rows_sql: A query giving every row of the relation, its own columns first (`r.*`),
            then `DECISION_COLUMNS`. No set order: add `ORDER BY` on a row-number column of
            your relation if you need one.
        key_sql: Per key column, the SQL expression over the relation (alias `r`) that
            yields it, to join your own way.
    """

    decided: str
    keys: tuple[str, ...]
    rows_sql: str
    key_sql: dict[str, str]
    temp_tables: tuple[str, ...] = ()

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the temp tables this decision created (after reading `rows_sql`)."""
        for name in self.temp_tables:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def quote(name: str) -> str:
    """A SQL identifier, quoted (column names come from users' files)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value_sql(value: object, sql_type: str) -> str:
    if isinstance(value, Column):
        return f"CAST(r.{quote(value.name)} AS {sql_type})"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(
                "the decision time must carry a time zone", hint="pass optin_gate._time.to_utc(t)"
            )
        stamp = value.astimezone(UTC).isoformat()
        return f"CAST({_literal(stamp)} AS TIMESTAMPTZ)"
    if isinstance(value, str):
        return _literal(value)
    raise TypeError(f"expected a Column or a constant, got {type(value).__name__}")


def prepare_decisions(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    phone: str,
    at: datetime | Column,
    controller: str | Column,
    call_type: str | Column,
    policy: Policy,
    on_step: Callable[[str], None] | None = None,
) -> Decided:
    """Decide every row of `relation`: normalize, as-of facts, rules; one pass per distinct key.

    Creates temp tables on `con` (names unique per call) and returns the SQL that reads the
    decisions. Runs the phone normalization in Python on the distinct strings only.

    Args:
        con: A connection on which the store tables (or views of them) are visible, e.g. the
            one `EvidenceStore.connect()` yields. Needs write access to the temp schema only.
        relation: A table, view or parenthesised subquery; read twice (distinct keys, rows).
        phone: Name of the column holding the phone numbers as written (any type; cast to
            text). NULL and empty cells are invalid numbers.
        at: The decision instant: an aware datetime for all rows, or a `Column` of
            TIMESTAMPTZ (or text DuckDB casts to it) giving each row's instant.
        controller: The calling company for all rows, or a `Column` per row.
        call_type: "live" or "automated" for all rows, or a `Column` per row holding those
            values (anything else is treated as automated: the stricter rule, fail closed).
        policy: The policy the rules and the facts are bound to.
        on_step: Called with a short label as each phase starts (for progress displays).

    Returns:
        `Decided`; `rows_sql` yields `r.*` plus `DECISION_COLUMNS` for every row.
    """
    n = next(_names)
    keys_t, norm_v, decided_t = (f"og_{w}_{n}" for w in ("keys", "norm", "dec"))
    key_sql = {"raw": f"CAST(r.{quote(phone)} AS VARCHAR)"}
    consts = {
        "t": _value_sql(at, "TIMESTAMPTZ"),
        "controller": _value_sql(controller, "VARCHAR"),
        "call_type": _value_sql(call_type, "VARCHAR"),
    }
    for name, value in (("t", at), ("controller", controller), ("call_type", call_type)):
        if isinstance(value, Column):
            key_sql[name] = consts[name]
    k = {name: f"k.{name}" if name in key_sql else sql for name, sql in consts.items()}
    step = on_step or (lambda label: None)
    step("reading the phone numbers")
    varying = ", ".join(f"{sql} AS {name}" for name, sql in key_sql.items())
    con.execute(
        f"CREATE TEMP TABLE {keys_t} AS "
        f"SELECT {varying}, count(*) AS n FROM {relation} r GROUP BY ALL"
    )
    temps = [keys_t]
    try:
        # 1. Normalize each distinct string once, in Python (phonenumbers' semantics).
        only_raw = len(key_sql) == 1  # then the keys are the distinct strings: no join
        query = f"SELECT * FROM {keys_t}" if only_raw else f"SELECT DISTINCT raw FROM {keys_t}"
        norm = con.sql(query).to_arrow_table()
        step(f"normalizing {norm.num_rows:,} distinct numbers")
        numbers = normalize(norm.column("raw"), region=policy.default_region)
        for field, column in zip(numbers.schema, numbers.columns, strict=True):
            norm = norm.append_column(field, column)
        key = pc.cast(pc.utf8_slice_codeunits(norm.column("e164"), 1), pa.int64())
        con.register(norm_v, norm.append_column("phone", key))
        number_cols = "nn.e164, nn.valid, nn.country, nn.number_type, nn.phone"
        keyed = (
            f"SELECT {', '.join(f'k.{c}' for c in key_sql)}, k.n, {number_cols} "
            f"FROM {keys_t} k JOIN {norm_v} nn ON nn.raw IS NOT DISTINCT FROM k.raw"
        )
        if only_raw:
            keyed = f"SELECT raw, n, {number_cols.replace('nn.', '')} FROM {norm_v}"

        # 2. Facts once per distinct (number, time, controller).
        step("looking up the evidence")
        per_row = "t" in key_sql or "controller" in key_sql
        if per_row:
            extra = "".join(f", {k[c]} AS {c}" for c in ("t", "controller") if c not in key_sql)
            keyed = f"SELECT *{extra} FROM ({keyed}) k"
            facts = _facts_table(con, f"og_facts_{n}", keyed=keyed, policy=policy)
            temps += [f"{facts}_req", facts]
            on = "f.phone = b.phone AND f.t = b.t AND f.controller = b.controller"
            base = f"SELECT b.*, {_FACTS} FROM ({keyed}) b LEFT JOIN {facts} f ON {on}"
        else:  # one time and controller: narrow the evidence first (engine.facts)
            base = facts_at_sql(f"({keyed})", t=k["t"], controller=k["controller"], policy=policy)

        # 3. Rules once per key.
        b = {
            name: f"b.{name}" if name in key_sql or (per_row and name != "call_type") else sql
            for name, sql in consts.items()
        }
        facts_rel = (
            f"(SELECT {', '.join(f'b.{c}' for c in (*key_sql, 'n'))}, b.e164, "
            f"coalesce(b.valid, FALSE) AS valid, b.country, b.number_type, "
            f"({b['call_type']} IS DISTINCT FROM 'live') AS automated, "
            f"{prague_day_sql(b['t'])} AS t_day, {_FACTS.replace('f.', 'b.')} FROM ({base}) b)"
        )
        decision = compile_rules(policy).decision_sql(facts_rel)
        out_cols = ", ".join((*key_sql, "n", *DECISION_COLUMNS))
        con.execute(f"CREATE TEMP TABLE {decided_t} AS SELECT {out_cols} FROM ({decision})")
        temps.append(decided_t)
        _check_one_per_key(con, keys_t, decided_t)
    finally:
        with contextlib.suppress(Exception):
            con.unregister(norm_v)

    # 4. Join back.
    on = " AND ".join(f"d.{c} IS NOT DISTINCT FROM {sql}" for c, sql in key_sql.items())
    rows_sql = (
        f"SELECT r.*, d.e164, coalesce(d.allowed, FALSE) AS allowed, "
        f"d.reason, d.evidence, d.rule_set "
        f"FROM {relation} r LEFT JOIN {decided_t} d ON {on}"
    )
    return Decided(decided_t, tuple(key_sql), rows_sql, key_sql, tuple(temps))


_FACTS = "f.objection_id, f.consent_id, f.contract_id, f.directory_date, f.directory_marketing"


def _check_one_per_key(con: duckdb.DuckDBPyConnection, keys: str, decided: str) -> None:
    """Exactly one decision per key, or the join back would lose or repeat rows."""
    sql = f"SELECT (SELECT count(*) FROM {keys}), (SELECT count(*) FROM {decided})"
    ((keys_n, decided_n),) = con.execute(sql).fetchall()
    if keys_n != decided_n:
        raise StoreError(
            "the evidence store answers twice for one number (a directory snapshot lists a "
            "number twice?)",
            hint="reload the directory snapshot; if it persists, report it as a bug",
        )


def _facts_table(con: duckdb.DuckDBPyConnection, name: str, *, keyed: str, policy: Policy) -> str:
    """Materialize the facts per distinct (number, time, controller) as temp table `name`."""
    con.execute(
        f"CREATE TEMP TABLE {name}_req AS "
        f"SELECT row_number() OVER () AS rid, phone, t, controller FROM ("
        f"SELECT DISTINCT phone, t, controller FROM ({keyed}) WHERE phone IS NOT NULL)"
    )
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT q.phone, q.t, q.controller, f.* EXCLUDE (rid) "
        f"FROM ({facts_sql(f'{name}_req', policy)}) f JOIN {name}_req q USING (rid)"
    )
    return name

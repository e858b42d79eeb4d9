"""`run_filter`: a whole call list decided in memory, for `Gate.filter`.

DuckDB decides each distinct phone string once (`prepare_decisions`) and spells its note
(`facts.consent_notes_sql`); Arrow then hands every row its decision with a hash lookup
(`pyarrow.compute.index_in`) and appends the five columns and the note to the input table.
The input's own columns are never converted, so they come back bit-for-bit, and the order
is the input's by construction: no sort.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._runtime import threads
from optin_gate._sql import sql_literal
from optin_gate._time import TimeLike, to_utc
from optin_gate.engine.facts import consent_notes_sql
from optin_gate.engine.inputs import check_output_names, find_phone_column, phone_text
from optin_gate.engine.query import DECISION_COLUMNS, prepare_decisions
from optin_gate.engine.result import FilterResult
from optin_gate.io import open_source
from optin_gate.rules import DECISION_SCHEMA, NOTE_FIELD

if TYPE_CHECKING:
    from optin_gate.context import Context

__all__ = ["DECISION_SCHEMA", "decide_phones", "run_filter", "tune"]


def tune(con: duckdb.DuckDBPyConnection) -> None:
    """Use every usable core (`optin_gate._runtime.threads`) for this connection's database."""
    con.execute(f"SET threads = {threads()}")


def decide_phones(context: Context, phones: pa.ChunkedArray, *, at: Any) -> pa.Table:
    """The decision columns for each phone string, aligned with `phones` (same length, order).

    Args:
        context: Supplies the store, controller, policy and call type.
        phones: Phone numbers as written (strings; nulls allowed).
        at: The decision instant, aware.
    """
    with context.store.connect(read_only=True) as con:
        tune(con)
        con.register("og_phones", pa.table({"phone": phones}))
        decided = prepare_decisions(
            con,
            "og_phones",
            phone="phone",
            at=at,
            context=context,
        )
        notes = consent_notes_sql(
            t=_instant_sql(at),
            controller=sql_literal(context.controller),
            policy=context.policy,
            purpose=context.purpose,
        )
        lookup = con.sql(
            f"SELECT d.raw, {decided.columns_sql('d')}, n.note FROM {decided.decided} d "
            f"LEFT JOIN ({notes}) n ON n.phone = d.phone"
        ).to_arrow_table()
        decided.drop(con)
        con.unregister("og_phones")
    index = pc.index_in(phones, value_set=lookup.column("raw").combine_chunks(), skip_nulls=False)
    if index.null_count:  # every string was decided: a miss is a bug, never a silent allow
        raise AssertionError("a phone number came back without a decision")
    columns = [*DECISION_COLUMNS, NOTE_FIELD.name]
    return lookup.select(columns).take(index).cast(DECISION_SCHEMA.append(NOTE_FIELD))


_ADDED = (*DECISION_COLUMNS, NOTE_FIELD.name)


def _instant_sql(at: datetime) -> str:
    return f"CAST({sql_literal(at.astimezone(UTC).isoformat())} AS TIMESTAMPTZ)"


def run_filter(
    context: Context,
    source: Any,
    *,
    as_of: TimeLike = None,
    phone_column: str | None = None,
    sheet: str | int | None = None,
) -> FilterResult:
    """Decide every row of a call list (CSV/Parquet/workbook path, DataFrame, Arrow table).

    Raises:
        InputError: Unreadable source, no phone column, an output column name already taken,
            or a bad `as_of`; nothing is decided then.
    """
    at = to_utc(as_of, name="as_of")
    with open_source(source, sheet=sheet) as src:
        phone = find_phone_column(src.columns, phone_column, file=src.name)
        check_output_names(src.columns, file=src.name, added=_ADDED)
        table = src.to_arrow()
        name = src.name
    phones = phone_text(table.column(phone), file=name, name=phone)
    decisions = decide_phones(context, phones, at=at)
    for field, column in zip(decisions.schema, decisions.columns, strict=True):
        table = table.append_column(field, column)
    return FilterResult(table, name, phone, at, context.controller, context.call_type)

"""The many-numbers path: `check_many` over the same index, then the rules' SQL form.

The compiled lookup that answers a single check (`optin_gate.dial.compiled`) runs over all
the keys in one loop in machine code, the objections already weighed against the consents;
objections recorded since the build are folded into the rows they touch by the same rules
(`optin_gate.store.semantics`). The facts then go through
`compile_rules(policy).decision_sql`, the same rule objects the batch engine runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.dial.arrow import const_bool, const_date, int_array, string_array
from optin_gate.dial.compiled import Lookup, rows_many
from optin_gate.dial.index import EPOCH_DAY, Array, DialIndex
from optin_gate.dial.probe import Extra, weigh_recorded
from optin_gate.numbers._arrow import bool_array, fixed_array
from optin_gate.rules import DECISION_SCHEMA, CompiledRules
from optin_gate.store.semantics import NO_CONSENT, Semantics

__all__ = ["DECISION_SCHEMA", "decide_many", "evidence_many"]


def _take(ids: pa.Array, rows: Array) -> pa.Array:
    return ids.take(int_array(rows, rows < 0))


def evidence_many(
    ix: DialIndex,
    keys: Array,
    *,
    t_us: int,
    day: int,
    snap: int,
    overlay: dict[int, Extra],
    table: Any = None,
) -> dict[str, Any]:
    """The evidence facts of many keys (-1 for an invalid number) at one instant.

    `table` is the lookup's address table (`Lookup.table`, or one for a purpose,
    `Probe.for_purpose`); None: the index's own.

    Returns:
        Arrow arrays objection_id, consent_id, contract_id, directory_marketing, one row per
        key, and `consent_rows`: per key, the lookup's consent answer (-1: none; below -1:
        consents held, none holding, `Probe.note`).
    """
    objection, consent, contract, mark = rows_many(
        Lookup(ix).table if table is None else table,
        np.ascontiguousarray(keys, dtype=np.int64),
        t_us,
        day,
        snap,
    )
    objection_ids = _with_overlay(ix, keys, objection, consent, t_us=t_us, overlay=overlay)
    return {
        "objection_id": _take(objection_ids, objection),
        "consent_id": _take(ix.consents.id_column.array, consent),
        "contract_id": _take(ix.contracts.id_column.array, contract),
        "directory_marketing": _take(string_array(list(ix.marks)), mark),
        "consent_rows": consent,
    }


def register_many(
    ix: DialIndex,
    keys: Array,
    consent: Array,
    *,
    day: int,
    sector: str | None,
    meaning: Semantics,
) -> dict[str, Any]:
    """The Slovak list facts of many keys on day number `day` (`dial.register.Register`).

    Returns:
        Arrow arrays register_date, register_blocks, consent_before_register, one per key.
    """
    n = len(keys)
    days = np.zeros(n, np.int32)  # day numbers of the release in force
    listed = np.zeros(n, np.bool_)
    blocks = np.zeros(n, np.bool_)
    before = np.zeros(n, np.bool_)
    register = ix.register
    if register.numbers:
        granted_at = ix.consents.cols["granted"]
        held = np.flatnonzero(np.isin(keys, np.fromiter(register.numbers, dtype=np.int64)))
        for row in held.tolist():
            given = int(consent[row])
            granted = None if given < 0 else int(granted_at[given])
            part = register.part(int(keys[row]), day, sector, granted, meaning)
            if part:
                rest, before[row] = divmod(part - 1, 2)
                index, blocks[row] = divmod(rest, 2)
                days[row] = _day_number(register.releases[index])
                listed[row] = True
    # Built through buffers: pyarrow would import pandas to convert these.
    return {
        "register_date": fixed_array(days, pa.date32(), ~listed),
        "register_blocks": bool_array(blocks),
        "consent_before_register": bool_array(before),
    }


def _with_overlay(
    ix: DialIndex,
    keys: Array,
    objection: Array,
    consent: Array,
    *,
    t_us: int,
    overlay: dict[int, Extra],
) -> pa.Array:
    """Fold objections recorded since the build into `objection` (updated in place).

    As `probe.Probe.objection` does, per row it touches. Rows whose objection comes from the
    overlay point past the index's rows, into the returned ids, which append the overlay's.
    Overlays are small: a loop.
    """
    ids = ix.objections.id_column
    if not overlay:
        return ids.array
    stated, granted_at = ix.objections.cols["stated"], ix.consents.cols["granted"]
    extra_ids: list[str] = []
    touched = np.flatnonzero(np.isin(keys, np.fromiter(overlay, dtype=np.int64)))
    for row in touched.tolist():
        best_row, given = int(objection[row]), int(consent[row])
        granted = NO_CONSENT if given < 0 else int(granted_at[given])
        best = (int(stated[best_row]), ids[best_row]) if best_row >= 0 else None
        newest = weigh_recorded(best, overlay[int(keys[row])], granted, t_us)
        if newest is not best and newest is not None:
            objection[row] = len(stated) + len(extra_ids)
            extra_ids.append(newest[1])
    return pa.concat_arrays([ids.array, string_array(extra_ids)])


def _day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def decide_many(
    rules: CompiledRules,
    numbers: pa.Table,
    evidence: dict[str, pa.Array],
    *,
    automated: bool,
    t_day: date,
    directory_date: date | None,
    caller: bool = False,
) -> pa.Table:
    """Decide every row with the rules' SQL form; one row per input row, in order.

    Args:
        rules: The compiled rules of the gate's policy.
        numbers: `optin_gate.numbers.normalize` output (e164, valid, number_type, country).
        evidence: `evidence_many` output for the same rows.
        automated: The call type is automated.
        t_day: The check's Prague day.
        directory_date: The newest snapshot on or before it, or None.
        caller: The calling line is a +421 888 number.
    """
    n = numbers.num_rows
    facts = pa.table(
        {
            "valid": numbers.column("valid"),
            "country": numbers.column("country"),
            "number_type": numbers.column("number_type"),
            "automated": const_bool(automated, n),
            "t_day": const_date(_day_number(t_day), n),
            "objection_id": evidence["objection_id"],
            "consent_id": evidence["consent_id"],
            "contract_id": evidence["contract_id"],
            "directory_date": const_date(
                None if directory_date is None else _day_number(directory_date), n
            ),
            "directory_marketing": evidence["directory_marketing"],
            "caller_id_0888": const_bool(caller, n),
            "register_date": evidence["register_date"],
            "register_blocks": evidence["register_blocks"],
            "consent_before_register": evidence["consent_before_register"],
        }
    )
    con = duckdb.connect()
    try:
        # Results come back in the facts' order: no ORDER BY needed while this holds.
        con.execute("SET preserve_insertion_order = true")
        con.register("og_dial_facts", facts)
        query = rules.decision_sql("og_dial_facts")
        decided = con.sql(f"SELECT allowed, reason, evidence, rule_set FROM ({query})")
        decided = decided.to_arrow_table()
    finally:
        con.close()
    columns: list[Any] = [numbers.column("e164"), *decided.columns]
    return pa.Table.from_arrays(columns, schema=DECISION_SCHEMA)

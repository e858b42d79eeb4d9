"""The audit's evidence: the dial index, every call looked up at its own time.

The store's evidence is scanned once into dial indexes (`optin_gate.dial.build`) while the
log is read: the directory once, shared, and per controller the store names its consents,
contracts and objections (the objections for all controllers in each); a controller the
store does not name reads an index of the objections for all controllers alone. Each call
then finds the records in force in compiled code (`optin_gate.dial.each.rows_each`) at its
own instant, Prague day and directory snapshot, by the same rules a dial check applies
(`optin_gate.store.semantics`). A call made for a purpose reads a copy of its controller's
consent block in which the consents that do not cover the purpose never hold.

The lookup answers row numbers; the ids are read off the indexes' id columns once, as
plain text (DuckDB scans a dictionary column over a million ids several times slower).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._runtime import threads
from optin_gate.audit.requests import Requests
from optin_gate.dial.arrow import numpy_of
from optin_gate.dial.build import build_index, key_order, scan
from optin_gate.dial.compiled import NONE, Lookup, with_consents
from optin_gate.dial.each import Calls, rows_each
from optin_gate.dial.index import DialIndex
from optin_gate.dial.shared import OWN_KINDS, attach
from optin_gate.numbers._arrow import bool_values, whole
from optin_gate.policy import Policy
from optin_gate.rules.shapes import ID_FIELDS
from optin_gate.store.semantics import consent_covers

__all__ = ["Evidence", "Found", "look_up", "prepare_evidence"]

_KINDS = ("objections", "consents", "contracts")  # the kinds of `ID_FIELDS`, in order

_DIRECTORY = "*"  # the shared directory's controller (it has none)


@dataclasses.dataclass
class Evidence:
    """The store's evidence as dial indexes, one per controller it names, one directory.

    Attributes:
        policy: The policy the indexes were built under.
        directory: The directory index every controller's index reads.
        lookups: Controller name -> the compiled lookup over its index; a controller the
            store does not name is added on first use (`lookup`).
    """

    policy: Policy
    directory: DialIndex
    lookups: dict[str, Lookup]
    _others: Lookup | None = None
    # (controller, purpose) -> the lookup table for the purpose, and the consents it reads
    _purposes: dict[tuple[str, str], tuple[Any, Any]] = dataclasses.field(default_factory=dict)

    def lookup(self, con: duckdb.DuckDBPyConnection, controller: str) -> Lookup:
        """The lookup for `controller`'s calls (built on `con` if the store does not name it)."""
        found = self.lookups.get(controller)
        if found is not None:
            return found
        if self._others is None:  # every such controller has the same evidence
            self._others = _lookup(con, controller, self.policy, self.directory)
        return self._others

    def table(self, con: duckdb.DuckDBPyConnection, controller: str, purpose: str | None) -> Any:
        """The address table for `controller`'s calls made for `purpose` (None: any)."""
        lookup = self.lookup(con, controller)
        if purpose is None or controller not in self.lookups:
            return lookup.table
        found = self._purposes.get((controller, purpose))
        if found is None:
            found = self._purposes[controller, purpose] = _for_purpose(lookup, purpose)
        return found[0]


def _lookup(
    con: duckdb.DuckDBPyConnection, controller: str, policy: Policy, directory: DialIndex
) -> Lookup:
    raw = scan(con, controller, policy=policy, kinds=OWN_KINDS)
    return Lookup(attach(build_index(raw, controller, policy), directory))


def _for_purpose(lookup: Lookup, purpose: str) -> tuple[Any, Any]:
    """The lookup table for calls made for `purpose`, and the consent block it points to."""
    index = lookup.index
    consents = index.consents.cols
    covers = np.ones(index.consents.rows, dtype=bool)
    if index.purposes is not None:
        stored = pc.dictionary_encode(index.purposes)
        known = [consent_covers(value, purpose) for value in stored.dictionary.to_pylist()]
        codes = pc.fill_null(stored.indices, len(known)).to_numpy()
        covers = np.array([*known, consent_covers(None, purpose)], dtype=bool)[codes]
    pairs = np.empty((len(covers), 2), dtype=np.int64)
    pairs[:, 0] = consents["granted"]
    pairs[:, 1] = np.where(covers, consents["until"], consents["granted"])
    return with_consents(lookup.table, pairs), pairs


def prepare_evidence(con: duckdb.DuckDBPyConnection, policy: Policy) -> Evidence:
    """Scan the store's evidence into dial indexes (see `Evidence`); `con` may be a cursor."""
    names = con.execute(
        "SELECT DISTINCT controller FROM (SELECT controller FROM consents_current "
        "UNION ALL SELECT controller FROM contracts_current "
        "UNION ALL SELECT controller FROM objections) WHERE controller IS NOT NULL ORDER BY 1"
    ).fetchall()
    raw = scan(con, _DIRECTORY, policy=policy, kinds=("directory",))
    directory = build_index(raw, _DIRECTORY, policy)
    lookups = {str(name): _lookup(con, str(name), policy, directory) for (name,) in names}
    return Evidence(policy, directory, lookups)


@dataclasses.dataclass(frozen=True)
class Found:
    """What the evidence says of each call, in the log's order.

    Attributes:
        facts: `t_day` (the Prague day), `mark` (the directory mark's code in `marks`
            order, 0 for none) and the `ID_FIELDS` ids in force (NULL: none).
        held: Per call, whether its number has consents of the controller of which none
            holds at its time (only such a call can have a note).
    """

    facts: pa.Table
    held: np.ndarray[Any, np.dtype[np.bool_]]


def look_up(
    con: duckdb.DuckDBPyConnection,
    requests: Requests,
    evidence: Evidence,
    *,
    hours: pa.Table,
    marks: Sequence[str],
) -> Found:
    """The records in force for every call at its own time (see `Found`).

    Args:
        con: A store connection (for a controller the store does not name).
        requests: The calls.
        evidence: The indexes.
        hours: `store.asof.hours_sql`'s table for (at least) every usable call's hour.
        marks: The directory marks told apart (`rules.shapes.ShapeCodec.marks`).
    """
    calls = requests.table
    ok = bool_values(whole(calls["ok"]))
    keys = numpy_of(calls["phone"], np.int64, fill=-1)
    t_us = numpy_of(calls["t"].cast(pa.timestamp("us", "UTC")).cast(pa.int64()), np.int64)
    which, tables = _groups(con, requests, evidence, ok)
    lookups = list(dict.fromkeys(lookup for lookup, _ in tables))
    columns = {kind: [getattr(lk.index, kind).id_column.array for lk in lookups] for kind in _KINDS}
    bases = np.zeros((len(tables), len(_KINDS)), np.int32)
    for i, kind in enumerate(_KINDS):  # each index's ids after those of the ones before
        starts = np.cumsum([0, *(len(c) for c in columns[kind])])
        bases[:, i] = [starts[lookups.index(lookup)] for lookup, _ in tables]
    codes = [_code(mark, marks) for mark in evidence.directory.marks]
    # In the order of their numbers, the calls read the indexes from front to back.
    order, keys = key_order(keys)
    hours_table = _hours(hours, evidence.directory.snap_days)
    found = rows_each(
        np.stack([table for _, table in tables]) if tables else np.zeros((0, 1), np.int64),
        bases,
        np.array(codes, np.int32),
        Calls(which[order], keys, t_us[order], hours_table, order),
        workers=threads(),
    )
    del which, keys, t_us, order
    objection, consent, contract, mark, day = found
    facts = {"t_day": pa.array(day, pa.date32(), mask=~ok), "mark": pa.array(mark, pa.int32())}
    for field, kind, rows in zip(ID_FIELDS, _KINDS, (objection, consent, contract), strict=True):
        values = pa.concat_arrays(columns[kind]) if lookups else pa.array([], pa.string())
        indices = pa.array(rows, pa.int32(), mask=rows < 0)
        facts[field] = values.take(indices)  # plain text: DuckDB scans it fastest
    return Found(pa.table(facts), consent < NONE)


def _code(mark: str, marks: Sequence[str]) -> int:
    """A mark's code as the shape codec has it: 1 + its place in `marks`, 0 for another."""
    return marks.index(mark) + 1 if mark in marks else 0


def _hours(hours: pa.Table, snap_days: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The per-hour table `dial.each.Calls.hours` from `store.asof.hours_sql`'s table.

    An hour the table lacks holds no usable call.
    """
    hour = np.asarray(hours["hour"].to_numpy(), dtype=np.int64)
    if not len(hour):
        return np.zeros((3, 1), np.int64)
    first = int(hour.min())
    out = np.zeros((3, int(hour.max()) - first + 1), np.int64)
    out[0, 0] = first
    out[1, hour - first] = np.asarray(hours["t_day"].cast(pa.int32()).to_numpy(), np.int64)
    out[2] = np.searchsorted(snap_days, out[1], side="right") - 1
    return out


def _groups(
    con: duckdb.DuckDBPyConnection, requests: Requests, evidence: Evidence, ok: Any
) -> tuple[Any, list[tuple[Lookup, Any]]]:
    """The calls by (controller, purpose): each call's group (-1: not `ok`), and its tables.

    Group g is controller code g // r and purpose code g % r - 1 (r: the purposes and
    none). Its tables: its controller's lookup, and the address table its calls read (the
    lookup's own, or the one for their purpose); a group no call is in has another's.
    """
    calls = requests.table
    names = requests.dictionaries["controller"].column("text").to_pylist()
    purposes = requests.dictionaries["purpose"].column("text").to_pylist()
    radix = len(purposes) + 1
    group = numpy_of(calls["controller"], np.int32)
    if calls["purpose"].null_count < len(calls):  # most logs name no purpose: no pass
        group = group * radix + (numpy_of(calls["purpose"], np.int32, fill=-1) + 1)
    which = np.where(ok, group, np.int32(-1))
    used = np.flatnonzero(np.bincount(which + 1, minlength=1)[1:]).tolist()
    tables: list[tuple[Lookup, Any]] = []
    for g in used:
        name, code = names[g // radix], g % radix
        lookup = evidence.lookup(con, name)
        table = evidence.table(con, name, purposes[code - 1] if code else None)
        tables += [tables[-1] if tables else (lookup, table)] * (g - len(tables)) + [
            (lookup, table)
        ]
    return which, tables

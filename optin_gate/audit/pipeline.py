"""`Audit`: one part of a call log on a store connection, from its rows to the rows to write.

`Audit.take` takes the rows as read (`read.read_parts`: DuckDB parses the file and the call
times in one pass; the numbers are normalized and the texts coded on worker threads) and sets
the unusable rows aside with their file lines; `Audit.decide` decides every call as of its own
time (`query.decide_calls`: the store's as-of facts and the same rule set as `filter`). The
decisions come back as Arrow columns in the part's order, so they sit beside the log's own
columns by position: one Arrow table (`Audit.out`) that DuckDB scans on every core for the
listed violations and the violations file; the figures (`fold`) are GROUP BYs over the decided
rows. A log that fits in memory is one part.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._sql import sql_name
from optin_gate.audit.lookup import Evidence
from optin_gate.audit.method import json_rows
from optin_gate.audit.query import decide_calls, evidence_sql
from optin_gate.audit.read import ADDED_COLUMNS, Cols, Part
from optin_gate.audit.report import JSON_VIOLATIONS
from optin_gate.audit.requests import CODED, Requests
from optin_gate.audit.source import CallLog
from optin_gate.audit.summary import Folded, fold

if TYPE_CHECKING:
    import duckdb

    from optin_gate.context import Context

__all__ = ["Audit", "P"]

_names = itertools.count()
Step = Callable[[str], None]
P = "__og_"  # prefix of the decision columns beside the log's own in `Audit.out`

# The decided table's columns `Audit.out` carries (prefixed), then the line.
_OUT = (
    *("rid", "t", "phone", "allowed", "reason", "rule_set"),
    *("ev_field", "ev_before", "ev_after", "objection_id", "consent_id", "contract_id"),
    "note",
)


@dataclasses.dataclass
class Audit:
    """One part of a call log audited on a store connection (registrations live on `con`).

    Attributes:
        con: The store connection.
        context: Supplies the policy and the controller for calls whose log names none.
        log: The call log.
        evidence: The store's evidence as dial indexes (`lookup.prepare_evidence`).
        rows: How many rows the part has (set by `take`).
        table: The registered decided rows (`query.DECIDED_COLUMNS`), set by `decide`.
        out: The registered table of the log's own columns with the decision columns
            (prefixed `__og_`) and the line beside them, in the log's order, set by `decide`.
    """

    con: duckdb.DuckDBPyConnection
    context: Context
    log: CallLog
    evidence: Evidence | None = None
    rows: int = 0
    table: str = ""
    out: str = ""
    _n: int = dataclasses.field(default_factory=lambda: next(_names))
    _registered: list[str] = dataclasses.field(default_factory=list)
    _requests: Requests | None = None
    _own: pa.Table | None = None
    _given: pa.Table | None = None
    _out: pa.Table | None = None
    _lines: pa.Array | None = None
    _cols: Cols | None = None

    def _register(self, name: str, table: pa.Table) -> str:
        self.con.register(name, table)
        self._registered.append(name)
        return name

    @property
    def cols(self) -> Cols:
        """The log's columns as SQL over `out` (alias `a`)."""
        assert self._cols is not None, "take first"
        return self._cols.on("a")

    def take(self, part: Part, own: pa.Table | None, *, one_line_each: bool | None) -> pa.Table:
        """Take a part of the log as read; returns its unusable rows (line, column, problem).

        Args:
            part: The rows (`read.read_parts`).
            own: The log's own columns when they were in memory already (a frame).
            one_line_each: Whether each row of the log is one file line, if known
                (`CallLog.lines`).
        """
        requests = part.requests
        self._cols, self._requests = part.cols, requests
        self._own, self._given = (own if own is not None else part.kept), own
        self.rows = requests.table.num_rows
        for name in CODED:
            self._register(self.texts[name], requests.dictionaries[name])
        self._lines = lines = self.log.lines(self.rows, part.start, one_line_each=one_line_each)
        problems = requests.problems.sort_by("rid")
        parts = pc.split_pattern(problems.column("problem"), ": ", max_splits=1)
        column = pc.dictionary_encode(pc.list_element(parts, 0)).combine_chunks()
        names = [self.log.columns.get(c, c) for c in column.dictionary.to_pylist()]
        return pa.table(
            {
                "line": pc.take(lines, problems.column("rid")),
                "column": pc.take(pa.array(names, pa.string()), column.indices),
                "problem": pc.list_element(parts, 1),
            }
        )

    @property
    def shapes(self) -> str:
        """The registered decided shapes (`decide_calls`) the rows of `table` refer to."""
        return f"{self.table}_shapes"

    @property
    def texts(self) -> dict[str, str]:
        """The registered code -> text tables of the coded log columns."""
        return {name: f"og_audit_{name}_{self._n}" for name in CODED}

    def decide(self, step: Step | None = None) -> None:
        """Decide every call (`query.decide_calls`); register `table` and `out`."""
        assert self._requests is not None, "take first"
        assert self._own is not None, "take first"
        assert self.evidence is not None, "evidence first"
        requests, self._requests = self._requests, None
        decided, shapes = decide_calls(
            self.con, requests, self.evidence, policy=self.context.policy, step=step
        )
        self.table = self._register(f"og_audit_decided_{self._n}", decided)
        self._register(self.shapes, shapes)
        columns = dict(zip(self._own.column_names, self._own.columns, strict=True))
        columns |= {f"{P}{name}": decided.column(name) for name in _OUT}
        columns[f"{P}line"] = self._lines
        self._out = pa.table(columns)
        self.out = self._register(f"og_audit_out_{self._n}", self._out)

    def fold(self) -> Folded:
        """The decided calls folded into what the report's figures add up from."""
        assert self._out is not None, "decide first"
        decided = pc.and_(pc.is_valid(self._out[f"{P}reason"]), pc.is_valid(self._out[f"{P}phone"]))
        numbers = pc.filter(self._out[f"{P}phone"], decided)
        return fold(self.con, self.table, self.shapes, self.texts, numbers=numbers)

    def rule_sets(self) -> set[str]:
        """The rule sets that decided calls."""
        rows = self.con.execute(
            f"SELECT DISTINCT CAST(rule_set AS VARCHAR) FROM {self.shapes} "
            f"WHERE rule_set IS NOT NULL"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def added_sql(self) -> str:
        """SQL: `ADDED_COLUMNS` of a row `a` of `out`, as documented."""
        return (
            f"('+' || CAST(a.{P}phone AS VARCHAR)) AS e164, a.{P}allowed AS allowed, "
            f"CAST(a.{P}reason AS VARCHAR) AS reason, {evidence_sql('a', P)} AS evidence, "
            f"CAST(a.{P}rule_set AS VARCHAR) AS rule_set, a.{P}line AS line, "
            f"a.{P}note AS note"
        )

    def own_sql(self) -> str:
        """SQL: the log's own columns of a row `a` of `out`, in order."""
        assert self._own is not None, "take first"
        return ", ".join(f"a.{sql_name(name)}" for name in self._own.column_names)

    def calls(self) -> pa.Table:
        """Every decided call: the log's own columns, then `ADDED_COLUMNS`, in the log's order."""
        assert self._own is not None, "take first"
        added = self.con.sql(
            f"SELECT a.{P}rid AS rid, {self.added_sql()} FROM {self.out} a "
            f"WHERE a.{P}reason IS NOT NULL"
        ).to_arrow_table()
        calls = self._own.take(added.column("rid"))
        for i, field in enumerate(calls.schema):
            if pa.types.is_dictionary(field.type) and self._own is not self._given:
                # a text the read coded on its dictionary: given back as the text it was
                calls = calls.set_column(i, field.name, calls.column(i).cast(pa.string()))
        for name in ADDED_COLUMNS:
            calls = calls.append_column(name, added.column(name))
        return calls

    def violation_rows(self) -> list[dict[str, Any]]:
        """The first violations, earliest first, for the JSON and HTML reports.

        Picked on the decided rows (times and positions only), then read off `out`.
        """
        assert self._out is not None, "decide first"
        first = self.con.sql(
            f"SELECT rid FROM {self.table} WHERE NOT allowed ORDER BY t, rid "
            f"LIMIT {JSON_VIOLATIONS}"
        ).to_arrow_table()
        listed = self._register(f"og_audit_listed_{self._n}", self._out.take(first["rid"]))
        c = self.cols
        call_id = c.text("call_id") if "call_id" in c else "CAST(NULL AS VARCHAR)"
        return json_rows(
            self.con,
            f"SELECT a.{P}line AS line, {call_id} AS call_id, a.{P}t AS called_at, "
            f"{c.text('phone')} AS phone, ('+' || CAST(a.{P}phone AS VARCHAR)) AS e164, "
            f"{c.controller()} AS controller, {c.maybe('campaign')} AS campaign, "
            f"{c.maybe('agent')} AS agent, {c.call_type()} AS call_type, "
            f"CAST(a.{P}reason AS VARCHAR) AS reason, {evidence_sql('a', P)} AS evidence, "
            f"CAST(a.{P}rule_set AS VARCHAR) AS rule_set "
            f"FROM {listed} a ORDER BY a.{P}t, a.{P}rid",
        )

    def counted(self) -> None:
        """Let go of what only the figures needed (the decided rows' codes and shapes).

        What is left is `out`: the violations are written from it.
        """
        keep = {self.out}
        for name in self._registered:
            if name not in keep:
                with contextlib.suppress(Exception):
                    self.con.unregister(name)
        self._registered = [self.out]
        pa.default_memory_pool().release_unused()

    def drop(self) -> None:
        """Unregister the tables (the connection outlives the audit)."""
        for name in self._registered:
            with contextlib.suppress(Exception):
                self.con.unregister(name)

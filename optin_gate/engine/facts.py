"""As-of facts for many numbers at ONE time for ONE controller: the filter's case, set-based.

`optin_gate.store.asof.facts_sql` gives the time-dependent facts for a time and controller per
request (the audit); both render what the evidence means from `optin_gate.store.semantics`.
Its shape, every evidence table joined to every request, costs a hash join per table per
request. With one time and one controller the evidence can be narrowed first instead: the
consents valid at T, the objections made by T, the contracts active on T's day and the one
directory snapshot in force, each cut to one record per number (millions of rows), then
joined to the numbers once. The newest record per number is the first by (time, id)
descending in a window: exact, and cheaper than arg_max over a (time, id) struct.
`narrowed_sql` gives those relations on their own, so a caller may make them while it does
other work (`NARROWED`). The parity matrix (tests/ways/) holds both to one oracle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from optin_gate._sql import sql_literal
from optin_gate.policy import Policy
from optin_gate.rules import RULE_SETS, compile_rules
from optin_gate.rules.expr import Eq, Expr, Field, In
from optin_gate.rules.shapes import mark_sql, register_sql
from optin_gate.store.asof import prague_day_sql
from optin_gate.store.semantics import (
    NEWEST,
    Semantics,
    objection_for_sql,
    objection_in_force_sql,
    objection_made_sql,
    same_controller_sql,
)

__all__ = [
    "NARROWED",
    "consent_notes_sql",
    "decisive_marks",
    "facts_at_sql",
    "narrowed_sql",
    "objections_in_force_sql",
]

_MARK = "directory_marketing"


def _compared(node: object) -> set[object] | None:
    """The values `node` compares the directory mark with; None if it uses the mark otherwise."""
    if isinstance(node, Eq | In) and node.field.name == _MARK:
        return {node.value} if isinstance(node, Eq) else set(node.values)
    if isinstance(node, Field):
        return None if node.name == _MARK else set()
    if isinstance(node, tuple):
        children: list[object] = list(node)
    elif isinstance(node, Expr) and dataclasses.is_dataclass(node):
        children = [getattr(node, f.name) for f in dataclasses.fields(node)]
    else:
        return set()  # a literal
    found: set[object] = set()
    for child in children:
        if isinstance(child, Expr | Field | tuple):
            values = _compared(child)
            if values is None:
                return None
            found |= values
    return found


def decisive_marks(policy: Policy) -> tuple[str, ...] | None:
    """The directory marks that can change a decision; None when every mark may matter.

    `Eq` and `In` are two-valued and a missing fact equals nothing, so when the rules (and
    the rule sets' labels) look at the mark only through them, a mark they never name decides
    exactly like no entry at all: such directory rows need not be joined. The Czech rules
    name "opt_in" and "opt_out" (6.5M of the benchmark's 10M directory rows are "unmarked").
    """
    nodes: list[object] = [row.condition for row in compile_rules(policy).rows]
    nodes += [cond for rs in RULE_SETS for cond, _ in rs.bound_labels(policy)]
    found: set[object] = set()
    for node in nodes:
        values = _compared(node)
        if values is None or any(not isinstance(v, str) for v in values):
            return None
        found |= values
    return tuple(sorted(str(v) for v in found))


# The narrowed relations a caller may compute ahead into tables (`facts_at_sql(narrowed=...)`):
# each at most one row per phone, none reading the list.
NARROWED = ("valid_consent", "active_contract", "listed", "register")


def narrowed_sql(
    *,
    t: str,
    controller: str,
    policy: Policy,
    marks: tuple[str, ...] | None = None,
    newest: bool = True,
    sector: str | None = None,
    releases: Sequence[date] = (),
    purpose: str | None = None,
) -> dict[str, str]:
    """The evidence in force at one instant, a query per relation (see `facts_at_sql`).

    Args:
        t: SQL for the decision instant, a TIMESTAMPTZ constant.
        controller: SQL for the controller, a VARCHAR constant.
        policy: Sets what the evidence means (`store.semantics.Semantics.of`).
        marks: Keep only directory rows with these marks (`decisive_marks`); None: all.
        newest: Keep only the newest consent, objection and contract per phone, by time and
            then id (`semantics.NEWEST`). False leaves every candidate, for a
            caller that picks the newest itself (`engine.lookup`).
        sector: The campaign's marketing sector (None: unknown), for the Slovak list.
        releases: The Slovak list releases the run's shapes name (`ShapeCodec.releases`).
        purpose: The call's purpose key (None: none named).

    Returns:
        Name -> query: `valid_consent` (phone, consent_id, granted_at), `last_objection`
        (phone, objection_id, objected_at), `active_contract` (phone, contract_id,
        start_date), `snapshot` (snapshot_date), `listed` (phone, marketing, mark) and
        `register` (phone, register: `rules.shapes.register_part` of the release in force).
        Each stands alone.
    """
    day = prague_day_sql(t)
    meaning = Semantics.of(policy, purpose)
    marked = ""
    if marks is not None:
        marked = (
            "AND d.marketing IN (" + ", ".join(map(sql_literal, marks)) + ")"
            if marks
            else ("AND FALSE")
        )

    def newest_of(field: str) -> str:
        order = f"PARTITION BY phone ORDER BY {NEWEST[field].first_sql()}"
        return f"QUALIFY row_number() OVER ({order}) = 1" if newest else ""

    snapshot = f"""
    SELECT max(snapshot_date) AS snapshot_date FROM directory_snapshots
    WHERE snapshot_date <= {day}
"""
    in_force = meaning.register_in_force_sql(day, sector)
    before = meaning.consent_before_sql("g.register_blocks", "vc.granted", "g.effective")
    part = register_sql("g.register_date", "g.register_blocks", before, releases)
    register = f"""
    WITH g AS ({in_force}),
    vc AS (
        SELECT phone, max(granted_at) AS granted FROM consents_current
        WHERE {same_controller_sql("controller", controller)} AND {meaning.consent_valid_sql(t)}
          AND phone IN (SELECT phone FROM g)
        GROUP BY phone
    )
    SELECT g.phone, {part} AS register FROM g LEFT JOIN vc ON vc.phone = g.phone
"""
    return {
        "register": register,
        "valid_consent": f"""
    SELECT phone, consent_id, granted_at
    FROM consents_current
    WHERE {same_controller_sql("controller", controller)}
      AND {meaning.consent_valid_sql(t)}
    {newest_of("consent_id")}
""",
        "last_objection": f"""
    SELECT phone, objection_id, objected_at
    FROM objections
    WHERE {objection_for_sql("controller", controller)} AND {objection_made_sql(t)}
    {newest_of("objection_id")}
""",
        "active_contract": f"""
    SELECT phone, contract_id, start_date
    FROM contracts_current
    WHERE {same_controller_sql("controller", controller)}
      AND {meaning.contract_active_sql(day)}
    {newest_of("contract_id")}
""",
        "snapshot": snapshot,
        "listed": f"""
    SELECT d.phone, d.marketing, {mark_sql("d.marketing", marks or ())} AS mark
    FROM directory d, ({snapshot}) s
    WHERE d.valid_from <= s.snapshot_date
      AND (d.valid_to IS NULL OR d.valid_to > s.snapshot_date)
      {marked}
""",
    }


def consent_notes_sql(*, t: str, controller: str, policy: Policy, purpose: str | None) -> str:
    """The decisions' notes at one instant: (phone, note) where none of a phone's consents counts.

    Phones with consents held by `t` but none counting at `t` get the newest such consent's
    note (`Semantics.consent_note_sql`).

    Args:
        t: SQL for the decision instant, a TIMESTAMPTZ constant.
        controller: SQL for the controller, a VARCHAR constant.
        policy: Sets what the evidence means.
        purpose: The call's purpose key (None: none named).
    """
    meaning = Semantics.of(policy, purpose)
    newest = NEWEST["consent_id"].key_sql()
    return f"""
    SELECT phone, arg_max(note, {newest}) FILTER (WHERE note IS NOT NULL) AS note
    FROM (
        SELECT phone, granted_at, consent_id, {meaning.consent_note_sql(t)} AS note
        FROM consents_current
        WHERE {same_controller_sql("controller", controller)} AND granted_at <= {t}
    )
    GROUP BY phone
    HAVING count(*) FILTER (WHERE note IS NULL) = 0
"""


def objections_in_force_sql(last_objection: str, valid_consent: str) -> str:
    """The objections in force: (phone, objection_id), at most one per phone.

    The newest objection per phone (`last_objection`), unless the consent valid at the time
    (`valid_consent`, one per phone) outweighs it (`semantics.objection_in_force`).
    """
    return f"""
    SELECT lo.phone, lo.objection_id
    FROM {last_objection} lo LEFT JOIN {valid_consent} vc ON vc.phone = lo.phone
    WHERE {objection_in_force_sql("lo.objected_at", "vc.granted_at")}
"""


def facts_at_sql(
    relation: str,
    *,
    t: str,
    controller: str,
    policy: Policy,
    marks: tuple[str, ...] | None = None,
    narrowed: dict[str, str] | None = None,
    sector: str | None = None,
    releases: Sequence[date] = (),
    purpose: str | None = None,
) -> str:
    """A query adding the facts at one instant to every row of `relation`.

    Args:
        relation: A table, view or parenthesised subquery with a `phone` BIGINT key column
            (NULL for invalid numbers, which get NULL facts but the directory date).
        t: SQL for the decision instant, a TIMESTAMPTZ constant.
        controller: SQL for the controller, a VARCHAR constant.
        policy: Sets what the evidence means (`store.semantics.Semantics.of`).
        marks: Join only directory rows with these marks (`decisive_marks`); None: all.
        narrowed: Tables already holding some of the `NARROWED` relations (made from
            `narrowed_sql`'s queries for the same arguments), by name.
        sector: The campaign's marketing sector (None: unknown).
        releases: The Slovak list releases the shapes name (`narrowed_sql`).
        purpose: The call's purpose key (None: none named).

    Returns:
        SQL giving `r.*` and `t_day, objection_id, consent_id, contract_id, directory_date,
        directory_marketing, directory_mark, register` for every row of `relation`, in no
        set order; `directory_mark` numbers the mark in `marks` (`shapes.mark_sql`; NULL
        without marks); `register` is the Slovak list part (`shapes.register_part`).
    """
    ctes = narrowed_sql(
        t=t,
        controller=controller,
        policy=policy,
        marks=marks,
        sector=sector,
        releases=releases,
        purpose=purpose,
    )
    for name, table in (narrowed or {}).items():
        ctes[name] = f"SELECT * FROM {table}"
    # valid_consent is read twice: per objection and per row.
    return f"""
WITH valid_consent AS MATERIALIZED ({ctes["valid_consent"]}),
last_objection AS ({ctes["last_objection"]}),
objection_in_force AS ({objections_in_force_sql("last_objection", "valid_consent")}),
active_contract AS ({ctes["active_contract"]}),
snapshot AS ({ctes["snapshot"]}),
listed AS ({ctes["listed"]}),
register AS ({ctes["register"]})
SELECT r.*,
       {prague_day_sql(t)} AS t_day,
       oi.objection_id,
       vc.consent_id,
       ac.contract_id,
       (SELECT snapshot_date FROM snapshot) AS directory_date,
       listed.marketing AS directory_marketing,
       listed.mark AS directory_mark,
       coalesce(rg.register, 0) AS register
FROM {relation} r
LEFT JOIN valid_consent vc ON vc.phone = r.phone
LEFT JOIN objection_in_force oi ON oi.phone = r.phone
LEFT JOIN active_contract ac ON ac.phone = r.phone
LEFT JOIN listed ON listed.phone = r.phone
LEFT JOIN register rg ON rg.phone = r.phone
"""

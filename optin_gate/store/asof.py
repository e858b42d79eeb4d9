"""As-of facts: what the evidence said about each (number, controller, time), in one query.

The time-dependent `Facts` (optin_gate.rules.facts) the audit embeds in its queries, per
request. What counts and which record wins is `optin_gate.store.semantics`; this module
renders it for a time and controller per request. For a request (phone, controller C,
instant T; day D = T's calendar day in Prague):

* consent_id: the newest of C's current consents for the phone that count and hold at T.
* objection_id: the newest objection for the phone made by T for C or for all
  controllers, unless outweighed by the consent above.
* contract_id: the newest of C's current contracts for the phone that count on D.
* directory_date: the newest snapshot date <= D, whether or not the phone is in it.
* directory_marketing: the phone's mark in that snapshot, NULL when absent from it.

How it is computed, so that a long call log costs a few hash joins per call and no
aggregation per call: the answers for one (phone, controller) change only at a few instants
(a grant, a withdrawal or expiry, an objection, a contract's first day or the day after its
last). `timeline_sql` cuts each (phone, controller) history at those instants into segments
[valid_from, valid_to) and settles the three ids once per segment, with the rules above
applied at the segment's start (nothing changes inside a segment). A request then finds its
segment with one equality-plus-range join. The day D and the snapshot in force depend only on
the hour of T (Prague's offset is a whole number of hours), so `hours_sql` settles them once
per distinct hour. The directory mark is the directory interval holding that snapshot date.
"""

from __future__ import annotations

from optin_gate.io import prague_sql
from optin_gate.policy import Policy
from optin_gate.store.semantics import (
    NEWEST,
    Semantics,
    for_every_controller_sql,
    objection_in_force_sql,
    objection_since_sql,
    same_controller_sql,
)

__all__ = [
    "FACTS_COLUMNS",
    "REQUEST_COLUMNS",
    "TIMELINE_COLUMNS",
    "facts_sql",
    "hour_sql",
    "hours_sql",
    "prague_day_sql",
    "timeline_sql",
    "with_facts_sql",
]

# The relation handed to `facts_sql` must have these columns (extra columns are ignored).
REQUEST_COLUMNS = {"rid": "BIGINT", "phone": "BIGINT", "t": "TIMESTAMPTZ", "controller": "VARCHAR"}

# What the query returns: one row per request row.
FACTS_COLUMNS = (
    "rid",
    "t_day",
    "objection_id",
    "consent_id",
    "contract_id",
    "directory_date",
    "directory_marketing",
)

# What `timeline_sql` returns: at most one row per (phone, controller) holds at any instant.
TIMELINE_COLUMNS = (
    "phone",
    "controller",
    "valid_from",
    "valid_to",
    "objection_id",
    "consent_id",
    "contract_id",
)

_HOUR_US = 3_600_000_000
_FOREVER = "CAST('infinity' AS TIMESTAMPTZ)"


def prague_day_sql(instant: str) -> str:
    """SQL for the Prague calendar day of a TIMESTAMPTZ expression."""
    return f"CAST(timezone('Europe/Prague', {instant}) AS DATE)"


def hour_sql(instant: str) -> str:
    """SQL: the whole hours since 1970-01-01 00:00 UTC of a TIMESTAMPTZ, rounded down.

    The key `hours_sql` settles the day and snapshot for. `instant` is repeated: pass a
    column, not a computation.
    """
    us = f"epoch_us({instant})"
    return f"({us} // {_HOUR_US} - CASE WHEN {us} % {_HOUR_US} < 0 THEN 1 ELSE 0 END)"


def hours_sql(instants: str) -> str:
    """A query giving, per distinct hour of `instants.t`, its Prague day and snapshot.

    The snapshot is the directory snapshot in force on that day. Every instant of one UTC hour
    lies on one Prague day (the offset is whole hours), so the day of the hour's first instant
    is the day of all of them.

    Returns:
        SQL with columns `hour` (`hour_sql`), `t_day` and `directory_date` (NULL before the
        first snapshot).
    """
    return f"""
SELECT h.hour, h.t_day, s.snapshot_date AS directory_date
FROM (
    SELECT hour, {prague_day_sql("first_t")} AS t_day
    FROM (SELECT {hour_sql("t")} AS hour, min(t) AS first_t FROM {instants}
          WHERE t IS NOT NULL GROUP BY 1)
) h
ASOF LEFT JOIN directory_snapshots s ON h.t_day >= s.snapshot_date
"""


def _midnight(day_column: str) -> str:
    """SQL: the instant a Prague day starts (DST never changes at midnight in Prague)."""
    return prague_sql(day_column)


def timeline_sql(
    controllers: str,
    policy: Policy,
    *,
    key: str = "controller",
    others: str | None = None,
    purpose: str | None = None,
) -> str:
    """A query giving each (phone, controller)'s evidence as segments of constant facts.

    Args:
        controllers: A relation with a `controller` column: the controllers to build the
            timelines for (objections for all controllers are repeated for each).
        policy: Sets what the evidence means (`store.semantics.Semantics.of`).
        key: The column of `controllers` whose value keys the result's `controller` (e.g. a
            small integer code standing for the name, for cheaper joins).
        others: SQL for one more key, standing for every controller not in `controllers`:
            its timeline holds only the objections made for all controllers.
        purpose: The column of `controllers` holding the calls' purpose key per key (NULL:
            none named); None: no purpose is named.

    Returns:
        SQL with `TIMELINE_COLUMNS`: for a request (phone, C, T) the row with phone, C and
        valid_from <= T < valid_to, if any, holds its objection_id, consent_id and
        contract_id as the module docstring defines them; no row means all three are NULL.
    """
    meaning = Semantics.of(policy)
    until = meaning.consent_until_sql("c.")
    stop_day = f"{meaning.contract_last_day_sql('k.')} + 1"
    in_force = objection_in_force_sql("objected_at", "granted_at")
    since = objection_since_sql("o.")
    all_keys = "SELECT ckey FROM ctl" + (f" UNION ALL SELECT {others}" if others else "")
    wanted = "CAST(NULL AS VARCHAR)" if purpose is None else purpose
    return f"""
WITH ctl AS (
    SELECT DISTINCT controller, {wanted} AS purpose, {key} AS ckey FROM {controllers}
    WHERE controller IS NOT NULL
),
civ AS (  -- each consent holds on [valid_from, valid_to)
    SELECT * FROM (
        SELECT c.phone, ctl.ckey AS controller, c.consent_id, c.granted_at AS valid_from,
               coalesce({until}, {_FOREVER}) AS valid_to
        FROM consents_current c JOIN ctl ON {same_controller_sql("ctl.controller", "c.controller")}
        WHERE {meaning.consent_counts_sql("c.", "ctl.purpose")}
    ) WHERE valid_to > valid_from
),
kiv AS (  -- each contract holds from its first day's midnight to the midnight after its last
    SELECT phone, controller, contract_id, start_date, {_midnight("first_day")} AS valid_from,
           CASE WHEN stop_day IS NULL THEN {_FOREVER} ELSE {_midnight("stop_day")} END
               AS valid_to
    FROM (
        SELECT k.phone, ctl.ckey AS controller, k.contract_id, k.start_date,
               CAST(k.start_date AS TIMESTAMP) AS first_day,
               CAST({stop_day} AS TIMESTAMP) AS stop_day
        FROM contracts_current k JOIN ctl ON {same_controller_sql("ctl.controller", "k.controller")}
        WHERE k.end_date IS NULL OR {stop_day} > k.start_date
    )
),
oev AS (  -- objections, those for all controllers once per controller; in force from
          -- `objection_since_sql`, ordered by their stated time
    SELECT o.phone, c.ckey AS controller, o.objection_id, o.objected_at,
           {since} AS blocks_from
    FROM objections o JOIN ctl c ON {same_controller_sql("o.controller", "c.controller")}
    UNION ALL
    SELECT o.phone, c.ckey, o.objection_id, o.objected_at, {since}
    FROM objections o CROSS JOIN ({all_keys}) c
    WHERE {for_every_controller_sql("o.controller")}
),
records AS (  -- every record as an interval of its (phone, controller); objections never end
    SELECT phone, controller, valid_from, valid_to, consent_id, valid_from AS granted_at,
           NULL::VARCHAR AS contract_id, NULL::DATE AS start_date,
           NULL::VARCHAR AS objection_id, NULL::TIMESTAMPTZ AS objected_at
    FROM civ
    UNION ALL
    SELECT phone, controller, valid_from, valid_to, NULL, NULL, contract_id, start_date,
           NULL, NULL
    FROM kiv
    UNION ALL
    SELECT phone, controller, blocks_from, {_FOREVER}, NULL, NULL, NULL, NULL,
           objection_id, objected_at
    FROM oev
),
recs AS (  -- with how many records their key has
    SELECT r.*, k.n FROM records r
    JOIN (SELECT phone, controller, count(*) AS n FROM records GROUP BY phone, controller) k
      ON k.phone = r.phone AND k.controller = r.controller
),
multi AS (  -- most keys have one record, their whole timeline; the others are cut up
    SELECT * FROM recs WHERE n > 1
),
cuts AS (
    SELECT phone, controller, valid_from AS cut FROM multi
    UNION ALL
    SELECT phone, controller, valid_to FROM multi WHERE valid_to < {_FOREVER}
),
seg AS (  -- duplicate cuts give empty segments, dropped
    SELECT * FROM (
        SELECT phone, controller, cut AS valid_from,
               coalesce(lead(cut) OVER (PARTITION BY phone, controller ORDER BY cut),
                        {_FOREVER}) AS valid_to
        FROM cuts
    ) WHERE valid_to > valid_from
),
settled AS (  -- the records holding at each segment's start hold throughout it
    SELECT s.phone, s.controller, s.valid_from, s.valid_to,
           arg_max(r.consent_id, {NEWEST["consent_id"].key_sql("r.")})
               FILTER (WHERE r.consent_id IS NOT NULL) AS consent_id,
           max(r.granted_at) AS granted_at,
           arg_max(r.contract_id, {NEWEST["contract_id"].key_sql("r.")})
               FILTER (WHERE r.contract_id IS NOT NULL) AS contract_id,
           arg_max(r.objection_id, {NEWEST["objection_id"].key_sql("r.")})
               FILTER (WHERE r.objection_id IS NOT NULL) AS objection_id,
           max(r.objected_at) AS objected_at
    FROM seg s JOIN multi r
      ON r.phone = s.phone AND r.controller = s.controller
     AND r.valid_from <= s.valid_from AND s.valid_from < r.valid_to
    GROUP BY s.phone, s.controller, s.valid_from, s.valid_to
)
SELECT phone, controller, valid_from, valid_to, objection_id, consent_id, contract_id
FROM recs WHERE n = 1
UNION ALL
SELECT phone, controller, valid_from, valid_to,
       CASE WHEN objection_id IS NOT NULL AND {in_force} THEN objection_id END,
       consent_id, contract_id
FROM settled
"""


def with_facts_sql(
    relation: str, *, hours: str, timeline: str, directory: str = "directory"
) -> str:
    """A query adding the as-of facts to every row of `relation`.

    Args:
        relation: A table, view or parenthesised subquery with `phone` (BIGINT key, NULL for
            an invalid number), `t` (TIMESTAMPTZ) and `controller` columns, and none named
            like the facts.
        hours: A relation `hours_sql` gave for (at least) every `t` of `relation`.
        timeline: A relation `timeline_sql` gave for (at least) every controller of
            `relation`.
        directory: The directory intervals to join (`phone, valid_from, valid_to, marketing`),
            e.g. only the rows whose mark can change a decision.

    Returns:
        SQL giving `r.*` and `t_day, objection_id, consent_id, contract_id, directory_date,
        directory_marketing` for every row of `relation`, in no set order. A row whose `t`
        is NULL gets NULL facts.
    """
    return f"""
SELECT r.*, h.t_day, tl.objection_id, tl.consent_id, tl.contract_id, h.directory_date,
       d.marketing AS directory_marketing
FROM {relation} r
LEFT JOIN {hours} h ON h.hour = {hour_sql("r.t")}
LEFT JOIN {timeline} tl
  ON tl.phone = r.phone AND tl.controller = r.controller
 AND tl.valid_from <= r.t AND r.t < tl.valid_to
LEFT JOIN {directory} d
  ON d.phone = r.phone AND d.valid_from <= h.directory_date
 AND h.directory_date < coalesce(d.valid_to, CAST('infinity' AS DATE))
"""


def facts_sql(requests: str, policy: Policy) -> str:
    """A query giving the as-of facts for every row of `requests`.

    Args:
        requests: A table, view or parenthesised subquery with `REQUEST_COLUMNS`; `rid`
            must be unique; `phone` NULL (an invalid number) yields NULL facts.
        policy: Sets what the evidence means (`store.semantics.Semantics.of`).

    Returns:
        SQL returning `FACTS_COLUMNS`, exactly one row per request row, in no set order.
    """
    facts = with_facts_sql("req", hours="hours", timeline="timeline")
    return f"""
WITH req AS (SELECT rid, phone, t, controller FROM {requests}),
hours AS ({hours_sql("req")}),
timeline AS ({timeline_sql("req", policy)})
SELECT {", ".join(FACTS_COLUMNS)} FROM ({facts})
"""

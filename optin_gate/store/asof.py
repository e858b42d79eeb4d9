"""As-of facts: what the evidence said about each (number, controller, time), in one query.

This is the single definition of the time-dependent `Facts` (optin_gate.rules.facts) that the
batch engine and the audit embed in their queries. The dial checker answers the same questions
from its in-memory index and must follow the semantics written here exactly; a property test
compares the two.

Semantics, for a request (phone, controller C, instant T; day D = T's calendar day in Prague):

* consent_id: among C's current consents for the phone with channel "phone" or "any",
  granted_at <= T, withdrawn_at NULL or > T, expires_at NULL or > T, and (with
  `consent_max_age_days` = N) granted_at + N days > T: the one granted last (ties: the
  greatest consent_id).
* objection_id: the last objection for the phone with objected_at <= T whose controller is
  NULL (all controllers) or C (ties: greatest objection_id), unless the consent above was
  granted strictly after it: a newer, explicit statement of will (RULES.md § 1.3).
* contract_id: among C's current contracts for the phone, start_date <= D and (end_date NULL
  or D <= end_date + `customer_grace_days`): the one started last (ties: greatest id).
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
    controllers: str, policy: Policy, *, key: str = "controller", others: str | None = None
) -> str:
    """A query giving each (phone, controller)'s evidence as segments of constant facts.

    Args:
        controllers: A relation with a `controller` column: the controllers to build the
            timelines for (objections for all controllers are repeated for each).
        policy: Supplies `consent_max_age_days` and `customer_grace_days`.
        key: The column of `controllers` whose value keys the result's `controller` (e.g. a
            small integer code standing for the name, for cheaper joins).
        others: SQL for one more key, standing for every controller not in `controllers`:
            its timeline holds only the objections made for all controllers.

    Returns:
        SQL with `TIMELINE_COLUMNS`: for a request (phone, C, T) the row with phone, C and
        valid_from <= T < valid_to, if any, holds its objection_id, consent_id and
        contract_id as the module docstring defines them; no row means all three are NULL.
    """
    age = ""
    if policy.consent_max_age_days is not None:
        age = f", c.granted_at + INTERVAL {int(policy.consent_max_age_days)} DAY"
    after_last = int(policy.customer_grace_days) + 1
    all_keys = "SELECT ckey FROM ctl" + (f" UNION ALL SELECT {others}" if others else "")
    return f"""
WITH ctl AS (
    SELECT DISTINCT controller, {key} AS ckey FROM {controllers} WHERE controller IS NOT NULL
),
civ AS (  -- each consent holds on [valid_from, valid_to)
    SELECT * FROM (
        SELECT c.phone, ctl.ckey AS controller, c.consent_id, c.granted_at AS valid_from,
               coalesce(least(c.withdrawn_at, c.expires_at{age}), {_FOREVER}) AS valid_to
        FROM consents_current c JOIN ctl ON ctl.controller = c.controller
        WHERE c.channel IN ('phone', 'any')
    ) WHERE valid_to > valid_from
),
kiv AS (  -- each contract holds from its first day's midnight to the midnight after its last
    SELECT phone, controller, contract_id, start_date, {_midnight("first_day")} AS valid_from,
           CASE WHEN stop_day IS NULL THEN {_FOREVER} ELSE {_midnight("stop_day")} END
               AS valid_to
    FROM (
        SELECT k.phone, ctl.ckey AS controller, k.contract_id, k.start_date,
               CAST(k.start_date AS TIMESTAMP) AS first_day,
               CAST(k.end_date + {after_last} AS TIMESTAMP) AS stop_day
        FROM contracts_current k JOIN ctl ON ctl.controller = k.controller
        WHERE k.end_date IS NULL OR k.end_date + {after_last} > k.start_date
    )
),
oev AS (  -- objections, those for all controllers once per controller; in force from the
          -- earlier of their stated and recorded times, ordered by the stated one
    SELECT o.phone, c.ckey AS controller, o.objection_id, o.objected_at,
           least(o.objected_at, coalesce(o.recorded_at, o.objected_at)) AS blocks_from
    FROM objections o JOIN ctl c ON o.controller = c.controller
    UNION ALL
    SELECT o.phone, c.ckey, o.objection_id, o.objected_at,
           least(o.objected_at, coalesce(o.recorded_at, o.objected_at))
    FROM objections o CROSS JOIN ({all_keys}) c WHERE o.controller IS NULL
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
           arg_max(r.consent_id, (r.granted_at, r.consent_id))
               FILTER (WHERE r.consent_id IS NOT NULL) AS consent_id,
           max(r.granted_at) AS granted_at,
           arg_max(r.contract_id, (r.start_date, r.contract_id))
               FILTER (WHERE r.contract_id IS NOT NULL) AS contract_id,
           arg_max(r.objection_id, (r.objected_at, r.objection_id))
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
       CASE WHEN objection_id IS NOT NULL AND (granted_at IS NULL OR granted_at <= objected_at)
            THEN objection_id END,
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
        policy: Supplies `consent_max_age_days` and `customer_grace_days`.

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

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
"""

from __future__ import annotations

from optin_gate.policy import Policy

__all__ = ["FACTS_COLUMNS", "REQUEST_COLUMNS", "facts_sql", "prague_day_sql"]

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


def prague_day_sql(instant: str) -> str:
    """SQL for the Prague calendar day of a TIMESTAMPTZ expression."""
    return f"CAST(timezone('Europe/Prague', {instant}) AS DATE)"


def facts_sql(requests: str, policy: Policy) -> str:
    """A query giving the as-of facts for every row of `requests`.

    Args:
        requests: A table, view or parenthesised subquery with `REQUEST_COLUMNS`; `rid`
            must be unique; `phone` NULL (an invalid number) yields NULL facts.
        policy: Supplies `consent_max_age_days` and `customer_grace_days`.

    Returns:
        SQL returning `FACTS_COLUMNS`, exactly one row per request row, in no set order.
    """
    age = ""
    if policy.consent_max_age_days is not None:
        age = f"AND c.granted_at + INTERVAL {int(policy.consent_max_age_days)} DAY > r.t"
    grace = int(policy.customer_grace_days)
    return f"""
WITH req AS (
    SELECT rid, phone, t, controller, {prague_day_sql("t")} AS t_day
    FROM {requests}
),
valid_consent AS (
    SELECT r.rid,
           arg_max(c.consent_id, (c.granted_at, c.consent_id)) AS consent_id,
           max(c.granted_at) AS granted_at
    FROM req r
    JOIN consents_current c ON c.phone = r.phone AND c.controller = r.controller
    WHERE c.granted_at <= r.t
      AND (c.withdrawn_at IS NULL OR c.withdrawn_at > r.t)
      AND (c.expires_at IS NULL OR c.expires_at > r.t)
      AND c.channel IN ('phone', 'any')
      {age}
    GROUP BY r.rid
),
last_objection AS (
    SELECT r.rid,
           arg_max(o.objection_id, (o.objected_at, o.objection_id)) AS objection_id,
           max(o.objected_at) AS objected_at
    FROM req r
    JOIN objections o
      ON o.phone = r.phone AND (o.controller IS NULL OR o.controller = r.controller)
    WHERE o.objected_at <= r.t
    GROUP BY r.rid
),
active_contract AS (
    SELECT r.rid, arg_max(k.contract_id, (k.start_date, k.contract_id)) AS contract_id
    FROM req r
    JOIN contracts_current k ON k.phone = r.phone AND k.controller = r.controller
    WHERE k.start_date <= r.t_day AND (k.end_date IS NULL OR r.t_day <= k.end_date + {grace})
    GROUP BY r.rid
),
snapshot AS (
    SELECT r.rid, r.phone, s.snapshot_date
    FROM req r ASOF LEFT JOIN directory_snapshots s ON r.t_day >= s.snapshot_date
),
listed AS (
    SELECT sn.rid, d.marketing
    FROM snapshot sn
    JOIN directory d
      ON d.phone = sn.phone
     AND d.valid_from <= sn.snapshot_date
     AND (d.valid_to IS NULL OR d.valid_to > sn.snapshot_date)
)
SELECT req.rid,
       req.t_day,
       CASE WHEN lo.objection_id IS NOT NULL
             AND (vc.granted_at IS NULL OR vc.granted_at <= lo.objected_at)
            THEN lo.objection_id END AS objection_id,
       vc.consent_id,
       ac.contract_id,
       sn.snapshot_date AS directory_date,
       listed.marketing AS directory_marketing
FROM req
LEFT JOIN valid_consent vc ON vc.rid = req.rid
LEFT JOIN last_objection lo ON lo.rid = req.rid
LEFT JOIN active_contract ac ON ac.rid = req.rid
LEFT JOIN snapshot sn ON sn.rid = req.rid
LEFT JOIN listed ON listed.rid = req.rid
"""

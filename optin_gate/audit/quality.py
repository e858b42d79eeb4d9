"""The report's consent-quality figures: can each consent the calls rest on be proven?

ÚOOÚ and ČTÚ ask a caller to produce each consent: the text the person agreed to and the
record that proves it (docs/rules.md). For every CONSENT decision this counts whether its
consent names its `wording` and its `proof`, lists the consents that lack either, and lists
the calls whose number had consents of which none counted, with the note saying why. Per
part of the log (`consent_quality`), then added up over the parts (`merge_quality`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from optin_gate.audit.method import json_rows
from optin_gate.store.controllers import controller_key_sql

if TYPE_CHECKING:
    from optin_gate.audit.pipeline import Audit

__all__ = ["LISTED", "Quality", "consent_quality", "merge_quality"]

LISTED = 100  # consents without wording or proof, and noted calls, listed in the report
_WHY = "not counted: "


@dataclasses.dataclass(frozen=True)
class Quality:
    """One part's consent-quality figures (`merge_quality` adds the parts up).

    Attributes:
        consent_calls: Calls decided CONSENT.
        proven_calls: Of them, those whose consent names both its wording and its proof.
        unproven: Per consent lacking either: controller, consent_id, calls, wording and
            proof (whether each is named).
        not_counted: Calls with a note, per reason.
        noted: The first noted calls, earliest first: line, called_at, e164, reason, note.
    """

    consent_calls: int
    proven_calls: int
    unproven: list[dict[str, Any]]
    not_counted: dict[str, int]
    noted: list[dict[str, Any]]


def consent_quality(audit: Audit) -> Quality:
    """The figures of one decided part (`Audit.decide` has run, `counted` not yet)."""
    from optin_gate.audit.pipeline import P

    texts = audit.texts["controller"]
    consents = json_rows(
        audit.con,
        f"""
WITH g AS (  -- counted on the codes, spelled per group
    SELECT consent_id, controller, count(*) AS calls FROM {audit.table}
    WHERE shape IN (SELECT shape FROM {audit.shapes} WHERE reason = 'CONSENT') GROUP BY ALL
),
d AS (
    SELECT g.consent_id, {controller_key_sql("ct.text")} AS controller,
           CAST(sum(g.calls) AS BIGINT) AS calls
    FROM g JOIN {texts} ct ON ct.code = g.controller GROUP BY ALL
)
SELECT d.controller, d.consent_id, d.calls,
       coalesce(bool_or(c.wording IS NOT NULL), FALSE) AS wording,
       coalesce(bool_or(c.proof IS NOT NULL), FALSE) AS proof
FROM d LEFT JOIN consents_current c
  ON c.consent_id = d.consent_id AND c.controller = d.controller
GROUP BY ALL ORDER BY d.calls DESC, d.controller, d.consent_id
""",
    )
    whys = json_rows(
        audit.con,
        f"SELECT split_part(note, '{_WHY}', 2) AS why, count(*) AS calls FROM {audit.table} "
        "WHERE note IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    noted = json_rows(
        audit.con,
        f"SELECT a.{P}line AS line, a.{P}t AS called_at, "
        f"('+' || CAST(a.{P}phone AS VARCHAR)) AS e164, CAST(a.{P}reason AS VARCHAR) AS reason, "
        f"a.{P}note AS note FROM {audit.out} a WHERE a.{P}note IS NOT NULL "
        f"ORDER BY a.{P}t, a.{P}rid LIMIT {LISTED}",
    )
    proven = [c for c in consents if c["wording"] and c["proof"]]
    return Quality(
        consent_calls=sum(c["calls"] for c in consents),
        proven_calls=sum(c["calls"] for c in proven),
        unproven=[c for c in consents if not (c["wording"] and c["proof"])],
        not_counted={w["why"]: w["calls"] for w in whys},
        noted=noted,
    )


def merge_quality(parts: list[Quality]) -> dict[str, Any]:
    """The report's `consent_quality` section over every part of the log."""
    unproven: dict[tuple[str, str], dict[str, Any]] = {}
    for part in parts:
        for row in part.unproven:
            key = (row["controller"], row["consent_id"])
            if key in unproven:
                unproven[key]["calls"] += row["calls"]
            else:
                unproven[key] = dict(row)
    listed = sorted(
        unproven.values(), key=lambda r: (-r["calls"], r["controller"], r["consent_id"])
    )
    whys: Counter[str] = Counter()
    for part in parts:
        whys.update(part.not_counted)
    noted = [row for part in parts for row in part.noted]
    if len(parts) > 1:
        noted.sort(key=lambda r: (datetime.fromisoformat(r["called_at"]), r["line"] or 0))
    consent_calls = sum(p.consent_calls for p in parts)
    proven = sum(p.proven_calls for p in parts)
    return {
        "consent_calls": consent_calls,
        "proven_calls": proven,
        "unproven_calls": consent_calls - proven,
        "unproven_consents": len(listed),
        "unproven": listed[:LISTED],
        "not_counted_calls": sum(whys.values()),
        "not_counted": dict(whys.most_common()),
        "noted": noted[:LISTED],
    }

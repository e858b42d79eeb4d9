"""Everything the store holds about one number: the GDPR Art. 15 access export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from optin_gate._time import now_utc
from optin_gate.policy import Policy
from optin_gate.store.purposes import split_purposes
from optin_gate.store.schema import SCHEMA_VERSION, key_e164
from optin_gate.store.semantics import Semantics

__all__ = ["subject_export"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def subject_export(con: duckdb.DuckDBPyConnection, key: int) -> dict[str, Any]:
    """All records about phone `key`, JSON-serializable (strings, numbers, booleans, None).

    Consent and contract versions come oldest first with `current` telling the one decisions
    use; a consent shows its provenance (purposes, wording, proof, how it was obtained and
    captured) and, for a current one granted by now that does not count now under the
    default policy for a call naming no purpose, `not_counted`: why (docs/rules.md).
    Objections include ones recorded but not yet merged (`load_id` null); the directory
    history is its validity intervals; `loads` describes every load the records came from.
    """
    meaning, now = Semantics.of(Policy()), "current_timestamp"
    why = (
        f"CASE WHEN superseded_by IS NULL AND granted_at <= {now} "
        f"AND NOT ({meaning.consent_valid_sql(now)}) THEN {meaning.consent_why_sql(now)} END"
    )
    consents = _rows(
        con,
        "SELECT consent_id, controller, granted_at, withdrawn_at, expires_at, channel, source, "
        "purposes, wording, proof, coalesce(obtained, 'direct') AS obtained, captured_via, "
        f"load_id, superseded_by, superseded_by IS NULL AS current, {why} AS not_counted "
        "FROM consents WHERE phone = ? ORDER BY controller, consent_id, load_id",
        [key],
    )
    for consent in consents:
        consent["purposes"] = list(split_purposes(consent["purposes"]))
    contracts = _rows(
        con,
        "SELECT contract_id, controller, start_date, end_date, customer_id, load_id, "
        "superseded_by, superseded_by IS NULL AS current FROM contracts "
        "WHERE phone = ? ORDER BY controller, contract_id, load_id",
        [key],
    )
    objections = _rows(
        con,
        "SELECT objection_id, controller, objected_at, source, load_id FROM objections "
        "WHERE phone = ? ORDER BY objected_at, objection_id",
        [key],
    )
    directory = _rows(
        con,
        "SELECT d.marketing, d.valid_from AS listed_from, d.valid_to AS listed_until, "
        "list(s.snapshot_date ORDER BY s.snapshot_date) AS snapshots, "
        "list(s.load_id ORDER BY s.snapshot_date) AS load_ids "
        "FROM directory d JOIN directory_snapshots s ON s.snapshot_date >= d.valid_from "
        "AND (d.valid_to IS NULL OR s.snapshot_date < d.valid_to) WHERE d.phone = ? "
        "GROUP BY ALL ORDER BY d.valid_from",
        [key],
    )
    for interval in directory:
        interval["snapshots"] = [_plain(d) for d in interval["snapshots"]]
    load_ids = {
        r["load_id"] for r in consents + contracts + objections if r.get("load_id") is not None
    }
    load_ids |= {r["superseded_by"] for r in consents + contracts if r["superseded_by"]}
    load_ids |= {i for r in directory for i in r["load_ids"]}
    loads = []
    if load_ids:
        marks = ", ".join("?" for _ in load_ids)
        loads = _rows(
            con,
            "SELECT load_id, kind, file_name, sha256, loaded_at, controller, snapshot_date, source "
            f"FROM loads WHERE load_id IN ({marks}) ORDER BY load_id",
            sorted(load_ids),
        )
    return {
        "phone": key_e164(key),
        "generated_at": now_utc().isoformat(),
        "schema_version": SCHEMA_VERSION,
        "consents": consents,
        "contracts": contracts,
        "objections": objections,
        "directory": directory,
        "loads": loads,
    }

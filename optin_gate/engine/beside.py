"""Work done while a slow list is read: the evidence fetched and the compiled code loaded.

A workbook's sheet is parsed by one thread outside the GIL (calamine), and nothing about the
list is known until the parse ends. What the held way needs besides the list does not depend
on it: the evidence in force at the run's time for its controller, and the compiled
normalizer (loaded from numba's cache on first use). `Beside` fetches the evidence and builds
its hash table on a worker thread before the read, so that the other core works while the
sheet is parsed.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.engine.facts import narrowed_sql
from optin_gate.engine.lookup import Evidence, evidence_slots, fetch_evidence
from optin_gate.engine.outcomes import NumberCodes
from optin_gate.engine.progress import Reporter
from optin_gate.engine.query import Plan
from optin_gate.engine.rows import normalize_column

if TYPE_CHECKING:
    from optin_gate.context import Context

__all__ = ["Beside", "Fetched", "evidence_relations"]


@dataclasses.dataclass(frozen=True)
class Fetched:
    """The evidence in force and its hash table (`lookup.evidence_slots`)."""

    evidence: Evidence
    slots: np.ndarray[Any, Any]


def evidence_relations(plan: Plan) -> dict[str, str]:
    """SQL per evidence kind: every candidate record in force at the plan's time."""
    queries = narrowed_sql(
        t=plan.consts["t"],
        controller=plan.consts["controller"],
        policy=plan.policy,
        marks=plan.marks,
        newest=False,
        sector=plan.sector,
        releases=plan.releases,
        purpose=plan.purpose,
    )
    return {
        "objection_id": queries["last_objection"],
        "consent_id": queries["valid_consent"],
        "contract_id": queries["active_contract"],
        "listed": queries["listed"],
        "register": queries["register"],
    }


class Beside:
    """The held way's plan and evidence, made on a worker thread while the list is read.

    The connection is the worker's until `wait` returns: the caller reads the list meanwhile
    and touches the connection only after.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, context: Context, at: datetime, report: Reporter
    ) -> None:
        self.plan = Plan.of(con, context, at, report.step)
        self._taken = False
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optin-gate-beside")
        self._evidence = pool.submit(self._fetch)
        pool.shutdown(wait=False)

    def _fetch(self) -> Fetched:
        # One number through the compiled normalizer loads it, so the list's first batch
        # does not wait for it; its codes are thrown away.
        sample = pa.chunked_array([pa.array(["+420601234567"])])
        normalize_column(sample, self.plan.policy.default_region, NumberCodes())
        evidence = fetch_evidence(self.plan.con, evidence_relations(self.plan))
        return Fetched(evidence, evidence_slots(evidence))

    def wait(self) -> None:
        """Until the worker is done with the connection (its error comes from `take`)."""
        concurrent.futures.wait([self._evidence])

    def take(self) -> tuple[Plan, Fetched]:
        """The plan, now the caller's to release, and the evidence in force."""
        self._taken = True
        return self.plan, self._evidence.result()

    def close(self) -> None:
        """Drop the plan's tables when no run took it (an input error, the other way)."""
        self.wait()
        if not self._taken:
            self.plan.release()
            self.plan.drop()

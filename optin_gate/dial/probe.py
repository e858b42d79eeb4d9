"""The scalar path: the evidence of one phone key at one instant, as record ids.

The compiled lookup (`optin_gate.dial.compiled`) finds the key and the row of each kind that
holds at T, the objection already weighed against the consent. This adds what needs Python
objects: the record ids, and the objections recorded through the store since the index was
built (the checker's overlay), weighed by the same rules (`optin_gate.store.semantics`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate.dial.compiled import NONE, Lookup, held_key, rows, with_consents
from optin_gate.dial.index import DialIndex
from optin_gate.numbers.spec import CountrySpec
from optin_gate.store.purposes import SEPARATOR, check_purpose
from optin_gate.store.semantics import (
    NO_CONSENT,
    consent_covers,
    consent_note,
    is_newer,
    objection_in_force,
    objection_made,
)

__all__ = ["NOTHING", "Evidence", "Extra", "Probe", "make_probe", "weigh_recorded"]

# Objections recorded since the index was built: (in force from, in us; objection_id;
# sequence; objected_at in us). In force from the earlier of the stated and recorded times.
Extra = tuple[tuple[int, str, int, int], ...]
# (objection_id, consent_id, contract_id, directory_marketing) at the instant asked about.
Evidence = tuple[str | None, str | None, str | None, str | None]

NOTHING: Evidence = (None, None, None, None)


class Probe(Lookup):
    """The lookup over one index, with its ids: `probe(key, t_us, day, snap, extra)`.

    `day` is T's Prague calendar day as a day number; the snapshot position is that of the
    newest snapshot on or before it (-1 for none). `extra` are objections for the key not in
    the index yet (recorded through the store since the build), or None.
    """

    __slots__ = ("_purposes", "consent_ids", "contract_ids", "marks", "objection_ids")

    def __init__(self, index: DialIndex, home: CountrySpec | None = None) -> None:
        super().__init__(index, home)
        self.objection_ids = index.objections.id_column
        self.consent_ids = index.consents.id_column
        self.contract_ids = index.contracts.id_column
        self.marks = index.marks
        # purpose as passed -> (its key, its address table, the consent block it points to)
        self._purposes: dict[str, tuple[str, Any, Any]] = {}

    def for_purpose(self, purpose: str) -> tuple[str, Any]:
        """(the purpose's key, the address table of lookups for calls made for it).

        Built on the first call for a purpose and kept with this index: its consents that
        do not cover the purpose (`semantics.consent_covers`) never hold in it.

        Raises:
            InputError: `purpose` is not a purpose name (`store.purposes.check_purpose`).
        """
        found = self._purposes.get(purpose)
        if found is None:
            key = check_purpose(purpose)
            assert key is not None
            consents = self.index.consents.cols
            covers = _covering(self.index.purposes, key, self.index.consents.rows)
            pairs = np.empty((len(covers), 2), dtype=np.int64)
            pairs[:, 0] = consents["granted"]
            pairs[:, 1] = np.where(covers, consents["until"], consents["granted"])
            found = (key, with_consents(self.table, pairs), pairs)
            if len(self._purposes) < _PURPOSES_KEPT:
                self._purposes[purpose] = found
        return found[0], found[1]

    def note(self, consent: int, t_us: int, purpose: str | None) -> str | None:
        """The decision's note on a key whose consents none holds at T (`consent` < -1).

        The newest of its consents granted by T (rows are oldest first), if any, with why
        it does not count (`semantics.consent_note`); None for any other `consent` answer.
        """
        if consent >= NONE:
            return None
        cols = self.index.consents.cols
        key = held_key(consent)
        off = self.index.consents.off
        first, stop = int(off[key]), int(off[key + 1])
        granted = cols["granted"]
        for row in range(stop - 1, first - 1, -1):
            if granted[row] <= t_us:
                purposes = self.index.purposes
                stored = None if purposes is None else purposes[row].as_py()
                return consent_note(
                    self.consent_ids[row],
                    int(cols["standing"][row]),
                    consent_covers(stored, purpose),
                    bool(cols["withdrawn"][row] <= t_us),
                )
        return None

    def __call__(self, key: int, t_us: int, day: int, snap: int, extra: Extra | None) -> Evidence:
        """The ids of the records in force for `key` at T, and its directory mark."""
        o, c, k, m = rows(self.table, key, t_us, day, snap)
        return (
            self.objection(o, c, extra, t_us) if o != NONE or extra else None,
            None if c < 0 else self.consent_ids[c],
            None if k == NONE else self.contract_ids[k],
            None if m == NONE else self.marks[m],
        )

    def objection(self, row: int, consent: int, extra: Extra | None, t_us: int) -> str | None:
        """The objection in force at T, given the lookup's objection and consent rows.

        The newest (`NEWEST`) of the index's objection in force (`row`) and those recorded
        since that count at T and are not outweighed by the consent; the rule compares the
        stated times, which also order objections, so weighing each before picking the
        newest gives the same answer.
        """
        if not extra:
            return None if row == NONE else self.objection_ids[row]
        index = self.index
        granted = NO_CONSENT if consent < 0 else int(index.consents.cols["granted"][consent])
        best = None
        if row != NONE:
            best = (int(index.objections.cols["stated"][row]), self.objection_ids[row])
        best = weigh_recorded(best, extra, granted, t_us)
        return None if best is None else best[1]


_PURPOSES_KEPT = 64  # purposes whose lookup tables an index keeps


def _covering(purposes: pa.Array | None, key: str, rows: int) -> Any:
    """Per consent row: whether its purposes (as stored) cover the purpose `key`."""
    if purposes is None or not rows:
        return np.ones(rows, dtype=bool)
    lists = pc.split_pattern(purposes, SEPARATOR)
    listed = pc.list_parent_indices(lists).to_numpy()
    hit = pc.equal(pc.list_flatten(lists), key).to_numpy(zero_copy_only=False)
    covers = purposes.is_null().to_numpy(zero_copy_only=False).copy()
    covers[listed[hit]] = True
    return covers


def weigh_recorded(
    best: tuple[int, str] | None, extra: Extra, granted: int, t_us: int
) -> tuple[int, str] | None:
    """The newest of `best` and the objections of `extra` in force at T, as (stated, id).

    `best` is the index's objection in force (None: none) and `granted` the grant time of
    the consent holding at T (`NO_CONSENT`: none). Returns `best` itself if none is newer.
    """
    for since, oid, _, stated in extra:
        if (
            objection_made(since, t_us)
            and objection_in_force(stated, granted)
            and (best is None or is_newer(stated, oid, *best))
        ):
            best = (stated, oid)
    return best


def make_probe(index: DialIndex, home: CountrySpec | None = None) -> Probe:
    """The scalar lookup over `index` (compiled on first use in a process, then cached).

    `home`: the default region's plan (`optin_gate.numbers.home_plan`), for `compiled.lane_check`.
    """
    return Probe(index, home)

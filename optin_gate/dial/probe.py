"""The scalar path: the evidence of one phone key at one instant, as record ids.

The compiled lookup (`optin_gate.dial.compiled`) finds the key and the row of each kind that
holds at T. This adds what needs Python objects: the record ids, the objections recorded
through the store since the index was built (the checker's overlay), and the one rule that
weighs two records against each other: a consent granted after the last objection overrides
it (RULES.md § 3; the store's `optin_gate.store.asof` does the same in SQL).
"""

from __future__ import annotations

from optin_gate.dial.compiled import NONE, Lookup, rows
from optin_gate.dial.index import DialIndex
from optin_gate.numbers.spec import CountrySpec

__all__ = ["NOTHING", "Evidence", "Extra", "Probe", "make_probe"]

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

    __slots__ = ("consent_ids", "contract_ids", "marks", "objection_ids")

    def __init__(self, index: DialIndex, home: CountrySpec | None = None) -> None:
        super().__init__(index, home)
        self.objection_ids = index.objections.id_column
        self.consent_ids = index.consents.id_column
        self.contract_ids = index.contracts.id_column
        self.marks = index.marks

    def __call__(self, key: int, t_us: int, day: int, snap: int, extra: Extra | None) -> Evidence:
        """The ids of the records in force for `key` at T, and its directory mark."""
        o, c, k, m = rows(self.table, key, t_us, day, snap)
        return (
            self.objection(o, c, extra, t_us) if o != NONE or extra else None,
            None if c == NONE else self.consent_ids[c],
            None if k == NONE else self.contract_ids[k],
            None if m == NONE else self.marks[m],
        )

    def objection(self, row: int, consent: int, extra: Extra | None, t_us: int) -> str | None:
        """The objection in force at T, given the lookup's objection and consent rows.

        The last objection in force at T, in the index or recorded since, by (time, id) as
        the store orders them; none if the valid consent was granted after its stated time.
        """
        cols = self.index.objections.cols
        best = None
        if row != NONE:
            best = (int(cols["at"][row]), self.objection_ids[row], int(cols["stated"][row]))
        for when, oid, _, stated in extra or ():
            if when <= t_us and (best is None or (when, oid) > best[:2]):
                best = (when, oid, stated)
        if best is None:
            return None
        if consent != NONE and int(self.index.consents.cols["granted"][consent]) > best[2]:
            return None
        return best[1]


def make_probe(index: DialIndex, home: CountrySpec | None = None) -> Probe:
    """The scalar lookup over `index` (compiled on first use in a process, then cached).

    `home`: the default region's plan (`optin_gate.numbers.home_plan`), for `home_rows`.
    """
    return Probe(index, home)

"""The scalar path: the time-dependent evidence facts of one phone key at one instant.

`make_probe(index)` returns a closure over the index's arrays seen as memoryviews: indexing a
memoryview yields a plain Python int, several times faster than a numpy scalar, and free
variables are the cheapest lookups Python has. The key table finds the key (`dial.keys`), its
flags say which kinds it has, and each of those scans its (usually one or two) rows from the
newest back, so the first row that holds at T is
the store's `arg_max` (see `optin_gate.store.asof` for the semantics reproduced here).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from optin_gate.dial.index import FLAGS, DialIndex

__all__ = ["NOTHING", "Extra", "Probe", "make_probe"]

# Objections recorded since the index was built: (objected_at in us, objection_id, sequence).
Extra = tuple[tuple[int, str, int], ...]
# (objection_id, consent_id, contract_id, directory_marketing) at the instant asked about.
Evidence = tuple[str | None, str | None, str | None, str | None]
Probe = Callable[[int, int, int, int, "Extra | None"], Evidence]

NOTHING: Evidence = (None, None, None, None)


def make_probe(ix: DialIndex) -> Probe:  # noqa: PLR0915
    """A function (key, t_us, day, snapshot position, extra objections) -> `Evidence`.

    `day` is T's Prague calendar day as a day number; the snapshot position is that of the
    newest snapshot on or before it (-1 for none). `extra` are objections for the key not in
    the index yet (recorded through the store since the build).
    """
    table = ix.keys
    keys, starts, base, shift, buckets, n = (
        table.array,
        table.starts,
        table.base,
        table.shift,
        table.buckets,
        len(table),
    )
    # ndarray.data is a memoryview of the array: plain ints on indexing, no numpy scalars.
    flags = ix.flags.data
    c, k, o, d = (kind.cols for kind in (ix.consents, ix.contracts, ix.objections, ix.directory))
    c_off, c_granted, c_until = ix.consents.off.data, c["granted"].data, c["until"].data
    k_off, k_start, k_last = ix.contracts.off.data, k["start"].data, k["last"].data
    o_off, o_at = ix.objections.off.data, o["at"].data
    d_off, d_interval = ix.directory.off.data, d["interval"].data
    bits = ix.packing.bits
    mask = (1 << bits) - 1
    mark_shift = 2 * bits
    c_ids, k_ids, o_ids = ix.consents.id_column, ix.contracts.id_column, ix.objections.id_column
    marks = ix.marks
    has_consent, has_contract, has_objection, listed = (
        FLAGS[kind] for kind in ("consents", "contracts", "objections", "directory")
    )

    def from_extra(extra: Extra, t_us: int) -> Evidence:
        best: tuple[int, str] | None = None
        for at, oid, _ in extra:
            if at <= t_us and (best is None or (at, oid) > best):
                best = (at, oid)
        return NOTHING if best is None else (best[1], None, None, None)

    # One flat function on purpose: a call costs as much as a kind's whole lookup.
    def probe(  # noqa: PLR0912, PLR0915
        key: int, t_us: int, day: int, snap: int, extra: Extra | None
    ) -> Evidence:
        # KeyTable.find, inlined: the bucket's bounds, then a short binary search.
        b = (key - base) >> shift
        if b < 0:
            lo, hi = 0, starts[0]
        elif b >= buckets:
            lo, hi = starts[buckets], n
        else:
            lo, hi = starts[b], starts[b + 1]
        i = bisect_left(keys, key, lo, hi)
        if i == hi or keys[i] != key:
            return NOTHING if extra is None else from_extra(extra, t_us)
        has = flags[i]
        # Consent valid at T: granted <= T < until; the newest (rows sorted by grant, id).
        consent = None
        granted = 0
        if has & has_consent:
            lo = c_off[i]
            r = c_off[i + 1] - 1
            while r >= lo:
                granted = c_granted[r]
                if granted <= t_us < c_until[r]:
                    consent = c_ids[r]
                    break
                r -= 1
        # The last objection made at or before T, in the index or recorded since.
        objection = None
        objected = 0
        if has & has_objection:
            lo = o_off[i]
            r = o_off[i + 1] - 1
            while r >= lo:
                objected = o_at[r]
                if objected <= t_us:
                    objection = o_ids[r]
                    break
                r -= 1
        if extra is not None:
            for at, oid, _ in extra:
                if at <= t_us and (objection is None or (at, oid) > (objected, objection)):
                    objected, objection = at, oid
        # ...unless the valid consent was granted after it (a newer statement of will).
        if objection is not None and consent is not None and granted > objected:
            objection = None
        # Contract active on T's day (end + grace folded into `last`); the latest started.
        contract = None
        if has & has_contract:
            lo = k_off[i]
            r = k_off[i + 1] - 1
            while r >= lo:
                if k_start[r] <= day <= k_last[r]:
                    contract = k_ids[r]
                    break
                r -= 1
        # The key's mark in the newest snapshot on or before T's day.
        mark = None
        if has & listed and snap >= 0:
            for r in range(d_off[i], d_off[i + 1]):
                packed = d_interval[r]  # first | stop << bits | mark << 2 * bits
                if packed & mask <= snap < (packed >> bits) & mask:
                    mark = marks[packed >> mark_shift]
                    break
        return (objection, consent, contract, mark)

    return probe

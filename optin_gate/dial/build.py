"""Building a `DialIndex`: a few DuckDB scans of the store, then numpy only.

`scan` is the only step that needs the store open: one read transaction, one filtering scan
per evidence kind into Arrow, no sorting. `build_index` then sorts every kind by (phone, time,
id) and lays the rows out as CSR blocks over the union of the kinds' phone keys. For 10M
directory rows, 5M consents, 2.5M contracts and 100k objections the scans take about a second
and the build a few more; the benchmark prints the figures.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from optin_gate.dial.arrow import int_array, numpy_of, string_array, whole
from optin_gate.dial.index import (
    INT32_MAX,
    INT64_MAX,
    KINDS,
    Array,
    DialIndex,
    Ids,
    Kind,
    Packing,
)
from optin_gate.dial.keys import KeyTable
from optin_gate.dial.register import Register, scan_register
from optin_gate.errors import StoreError
from optin_gate.policy import Policy
from optin_gate.store.semantics import (
    COUNTS,
    Semantics,
    newest_last,
    objection_for_sql,
    objection_since_sql,
    same_controller_sql,
)

__all__ = ["build_index", "key_order", "scan"]

_MAX = str(INT64_MAX)


def _queries(meaning: Semantics, phones: Sequence[int] | None) -> dict[str, str]:
    """The scans, one per kind; `$c` is the controller. Filtering only, no sorting here.

    A consent's `until` is the first instant it no longer holds (`_MAX`: never), its
    `standing` whether it may count at all, and a contract's `last_day` the last day it
    counts (NULL: open), as `meaning` has them.
    """
    only = "" if phones is None else " AND list_contains($phones, phone)"
    ours = same_controller_sql("controller", "$c")
    return {
        # Every consent of the controller, also those that never count (a third party's,
        # another channel's): the decision's note tells of them (`Semantics.consent_note_sql`).
        "consents": (
            f"SELECT phone, epoch_us(granted_at) AS granted, "
            f"coalesce(epoch_us({meaning.consent_until_sql()}), {_MAX}) AS until, "
            f"consent_id AS id, {meaning.consent_standing_sql()} AS standing, "
            f"coalesce(epoch_us(withdrawn_at), {_MAX}) AS withdrawn, purposes "
            f"FROM consents_current WHERE {ours}{only}"
        ),
        "contracts": (
            f"SELECT phone, start_date AS start_day, "
            f"{meaning.contract_last_day_sql()} AS last_day, contract_id AS id "
            f"FROM contracts_current WHERE {ours}{only}"
        ),
        "objections": (
            "SELECT phone, epoch_us(objected_at) AS objected, objection_id AS id, "
            f"epoch_us({objection_since_sql()}) AS since FROM objections "
            f"WHERE {objection_for_sql('controller', '$c')}{only}"
        ),
        "directory": (
            "SELECT phone, valid_from, valid_to, marketing FROM directory"
            + ("" if phones is None else " WHERE list_contains($phones, phone)")
        ),
    }


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read transaction, so all scans see the same evidence.

    On the store's own connection: it shows journaled objections not merged yet through a
    temporary `objections` table that a cursor of it would not see.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    finally:
        con.execute("ROLLBACK")


def scan(
    con: duckdb.DuckDBPyConnection,
    controller: str,
    phones: Sequence[int] | None = None,
    *,
    policy: Policy,
    kinds: Collection[str] = KINDS,
) -> dict[str, Any]:
    """Read the raw rows the index needs from the store's tables (unsorted, as Arrow).

    This is the only part of a build that needs the store open; everything after it runs on
    the Arrow tables, so a refresh holds the store file for the scans alone. `policy` says
    which records count and how long (pass `build_index` the same one). Kinds not in `kinds`
    come back empty: a server's controllers share one scan of the directory
    (`optin_gate.dial.shared`), and that scan needs no consents.
    """
    params: dict[str, object] = {"c": controller}
    if phones is not None:
        params["phones"] = [int(p) for p in phones]
    out: dict[str, Any] = {}
    with _transaction(con) as cur:
        for kind, sql in _queries(Semantics.of(policy), phones).items():
            if kind not in kinds:
                sql = f"SELECT * FROM ({sql}) LIMIT 0"  # noqa: PLW2901  (the same columns)
            used = {k: v for k, v in params.items() if f"${k}" in sql}
            out[kind] = cur.sql(sql, params=used).to_arrow_table()
        days = cur.sql("SELECT snapshot_date FROM directory_snapshots ORDER BY 1")
        out["snapshots"] = days.to_arrow_table()
        only = "" if phones is None else " AND list_contains($phones, phone)"
        out["register"] = scan_register(cur, only, {"phones": params["phones"]} if only else {})
    return out


def _days_or(column: pa.ChunkedArray, default: int) -> Array:
    """A nullable DATE column as int64 day numbers, `default` where it is NULL."""
    return numpy_of(column, np.int64, fill=default)


def _keys_and_offsets(phones: dict[str, Array]) -> tuple[Array, Array]:
    """The sorted unique keys of all kinds, and the kinds' CSR offsets over them, interleaved.

    All kinds' phones sorted together with their kind number; each row's key number is then a
    running count of new keys, and a kind's offsets are the prefix sums of its rows per key.
    Offsets are int32 [keys + 1, kinds]: one key's ranges in every kind share a cache line.
    """
    merged = np.concatenate([phones[k] for k in KINDS])
    label = np.repeat(np.arange(len(KINDS), dtype=np.int64), [len(phones[k]) for k in KINDS])
    if len(merged) and (int(merged.max()) - int(merged.min())).bit_length() <= 60:
        lo = int(merged.min())
        packed = ((merged - lo) << 2) | label  # one int64 sort: numpy's fastest
        packed.sort()
        merged, label = (packed >> 2) + lo, packed & 3
    else:
        order = np.lexsort((label, merged))
        merged, label = merged[order], label[order]
    new = np.r_[True, merged[1:] != merged[:-1]] if len(merged) else np.ones(0, dtype=bool)
    keys = merged[new]
    if max(len(keys), *(len(p) for p in phones.values())) >= INT32_MAX:
        raise StoreError(
            "the dial index holds at most 2**31 - 1 numbers and records of each kind per gate",
            hint="check numbers in batches with gate.filter, or split the evidence by controller",
        )
    # int64 sums: numpy sums a bool array (or into a strided int32 column) holding the GIL,
    # for a tenth of a second per 10M rows, pausing every other thread (the checks).
    key_of_row = np.cumsum(new.astype(np.int64)) - 1
    offsets = np.zeros((len(keys) + 1, len(KINDS)), dtype=np.int32)
    for i in range(len(KINDS)):
        counts = np.bincount(key_of_row[label == i], minlength=len(keys))
        offsets[1:, i] = np.cumsum(counts)
    return keys, offsets


def key_order(phone: Array) -> tuple[Array, Array]:
    """The order of `phone` and the phones in that order, fast.

    numpy sorts plain int64 values with SIMD, an order of magnitude faster than its argsort.
    Phone keys of one country span ~31 bits, so (phone - min, row number) usually packs into
    one int64: sort that, and both the row numbers and the sorted phones come out of it.
    Otherwise numpy's argsort.
    """
    n = len(phone)
    if n == 0:
        return np.zeros(0, dtype=np.int64), phone
    lo = int(phone.min())
    row_bits = max(1, (n - 1).bit_length())
    if (int(phone.max()) - lo).bit_length() + row_bits > 62:
        order = np.argsort(phone)
        return order, phone[order]
    packed = ((phone - lo) << row_bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    return packed & ((1 << row_bits) - 1), (packed >> row_bits) + lo


def _order(phone: Array, then: Array, ids: pa.Array | None = None) -> tuple[Array, Array]:
    """The row order by phone, then oldest first (`semantics.newest_last`), and the sorted phones.

    numpy's fast unstable sort on the phone alone, then only the rows that share a phone with
    another row (a few percent) are sorted again by all three keys (phone first, so the
    sorted phones stay as they are).
    """
    order, ordered = key_order(phone)
    same = ordered[1:] == ordered[:-1]
    shared = np.r_[same, False] | np.r_[False, same]
    if shared.any():
        sub = order[shared]
        tied = None if ids is None else ids.take(int_array(sub))
        order[shared] = sub[np.lexsort([*newest_last(then[sub], tied), phone[sub]])]
    return order, ordered


def _column(table: pa.Table, name: str, dtype: Any) -> Array:
    return numpy_of(table.column(name), dtype)


def _ids(table: pa.Table, order: Array) -> Ids:
    arr = whole(table.column("id"))
    if not len(arr):
        return Ids(string_array([]))
    return Ids(arr.take(int_array(order)))


def _pairs(a: str, first: Array, b: str, second: Array) -> dict[str, Array]:
    """Two columns interleaved in memory (a row's two values share a cache line)."""
    both = np.empty((len(first), 2), dtype=first.dtype)
    both[:, 0], both[:, 1] = first, second
    return {a: both[:, 0], b: both[:, 1]}


def build_index(
    raw: dict[str, Any],
    controller: str,
    policy: Policy,
    *,
    token: object = None,
) -> DialIndex:
    """Turn the scanned rows (`scan`) into a `DialIndex` for one controller and policy.

    Consumes `raw`: each table is dropped once used, so the build's peak memory stays low.
    """
    phones: dict[str, Array] = {}

    t = raw.pop("consents")
    granted = _column(t, "granted", np.int64)
    until = _column(t, "until", np.int64)
    order, phones["consents"] = _order(_column(t, "phone", np.int64), granted, whole(t["id"]))
    standing = _column(t, "standing", np.int8)[order]
    # A consent that may never count never holds: granted <= T < granted is empty.
    counting = np.where(standing == COUNTS, until[order], granted[order])
    consent_cols = _pairs("granted", granted[order], "until", counting)
    consent_cols |= {"standing": standing, "withdrawn": _column(t, "withdrawn", np.int64)[order]}
    consent_ids = _ids(t, order)
    purposes = whole(t["purposes"]).cast(pa.string())
    # Most stores name no purposes: then every consent covers every purpose (None).
    purposes = None if purposes.null_count == len(purposes) else purposes.take(int_array(order))

    t = raw.pop("contracts")
    start = _column(t, "start_day", np.int32)
    last = _days_or(t.column("last_day"), INT32_MAX).astype(np.int32)
    order, phones["contracts"] = _order(_column(t, "phone", np.int64), start, whole(t["id"]))
    contract_cols = _pairs("start", start[order], "last", last[order])
    contract_ids = _ids(t, order)

    t = raw.pop("objections")
    # Counts from `since`; the stated time orders it (`NEWEST`) and weighs it against consents.
    objected, since = _column(t, "objected", np.int64), _column(t, "since", np.int64)
    order, phones["objections"] = _order(_column(t, "phone", np.int64), objected, whole(t["id"]))
    objection_cols = {"at": since[order], "stated": objected[order]}
    objection_ids = _ids(t, order)

    snap_days = _column(raw.pop("snapshots"), "snapshot_date", np.int32)
    t = raw.pop("directory")
    first, packed, marks, packing = _directory(t, snap_days)
    order, phones["directory"] = _order(_column(t, "phone", np.int64), first)
    directory_cols = {"interval": packed[order]}
    del t, first, packed, order

    keys, offsets = _keys_and_offsets(phones)
    off = {kind: offsets[:, i] for i, kind in enumerate(KINDS)}
    return DialIndex(
        controller=controller,
        policy=policy,
        keys=KeyTable(keys),
        offsets=offsets,
        consents=Kind(off["consents"], consent_cols, consent_ids),
        purposes=purposes,
        contracts=Kind(off["contracts"], contract_cols, contract_ids),
        objections=Kind(off["objections"], objection_cols, objection_ids),
        directory=Kind(off["directory"], directory_cols),
        snap_days=snap_days,
        marks=marks,
        packing=packing,
        token=token,
        register=raw.pop("register", None) or Register(),
    )


def _directory(t: pa.Table, snap_days: Array) -> tuple[Array, Array, tuple[str, ...], Packing]:
    """Directory intervals as snapshot positions: listed in snapshot s iff first <= s < stop.

    A row with valid_from <= S < valid_to (dates) holds for snapshot S = snap_days[s] exactly
    when first = #snapshots before valid_from <= s and s < stop = #snapshots before valid_to.

    Returns:
        `first` per row, the packed intervals in row order, the mark texts, the packing.
    """
    first = np.searchsorted(snap_days, _column(t, "valid_from", np.int32), side="left")
    # An open interval (valid_to NULL) stops after the last snapshot.
    stop = np.searchsorted(snap_days, _days_or(t.column("valid_to"), INT32_MAX), side="left")
    encoded = whole(t.column("marketing")).cast(pa.string()).dictionary_encode()
    marks = tuple(encoded.dictionary.to_pylist())
    packing = Packing.fitting(len(snap_days), len(marks))
    packed = packing.pack(first, stop, numpy_of(encoded.indices, np.int64))
    return first, packed, marks, packing

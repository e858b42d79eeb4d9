"""`Checker`: answers `Gate.check` from an in-memory index that is always current.

* **Fast.** A compact number is read, validated, looked up at the check's own instant and
  packed into the shape of its facts in one compiled call (`compiled.lane_check`); other
  forms are normalized first (`optin_gate.dial.probe`). Each shape is decided once a day by
  the compiled rules. No SQL, no pandas.
* **Current.** Objections recorded through the same store object arrive by `subscribe` into a
  small overlay read by every check, so the very next check is blocked; those recorded by
  other processes are read from the store's journal into the same overlay within a fraction of
  a second (`optin_gate.dial.watch`). Evidence loaded by other processes arrives by
  `refresh()`, which rebuilds the index when the store's change token moved, or by a
  background thread doing the same every `refresh_interval` seconds. An index that could not
  be refreshed for `max_index_age` seconds fails closed.
* **Atomic.** The index and the overlay live in one immutable `_State`; a check reads the
  attribute once, a refresh or an objection replaces it whole. A check never sees half a load.
* **Polite.** The store file is open only while a rebuild scans it; between refreshes the
  dialler holds nothing, so a nightly load in another process is never kept waiting for long.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from optin_gate._time import TimeLike
from optin_gate.context import (
    DEFAULT_REFRESH_INTERVAL,
    caller_line_0888,
    check_call_type,
    check_sector,
)
from optin_gate.dial.arrow import numpy_of, string_array
from optin_gate.dial.build import build_index, scan
from optin_gate.dial.clock import day_window, instant_us, us_of
from optin_gate.dial.compiled import (
    NONE,
    NOT_VALID,
    OUTSIDE,
    Lookup,
    consents_of,
    lane_entry,
    lane_table,
    register_part,
    rows,
)
from optin_gate.dial.index import DialIndex
from optin_gate.dial.probe import Extra, Probe, make_probe
from optin_gate.dial.register import NO_SECTOR, meaning_bits
from optin_gate.dial.shared import OWN_KINDS, SharedDirectory, attach
from optin_gate.dial.vector import decide_many, evidence_many, register_many
from optin_gate.dial.watch import POLL_US, Watch, now_us
from optin_gate.dial.worker import start_worker, stop
from optin_gate.errors import OptinGateError, StoreError
from optin_gate.numbers import home_plan, normalize, normalize_one, scalar_normalizer
from optin_gate.numbers.spec import TYPE_CODES
from optin_gate.rules import NOTE_FIELD, Decision, Reason, compile_rules
from optin_gate.rules.shapes import FLAGS, NUMBERS, SK_NUMBERS, Decided, ShapeCodec, number_of
from optin_gate.store.semantics import NO_CONSENT, Semantics, objection_applies

if TYPE_CHECKING:
    from optin_gate.context import Context
    from optin_gate.store.objections import Objection

__all__ = ["Checker"]

log = logging.getLogger("optin_gate.dial")

RETRY_SECONDS = 5.0  # after a failed automatic refresh (store locked by a load), try again
_CACHE_LIMIT = 4096
_NEVER = 2**63
# The id a shape's evidence names (`Decided.ev_field`), in `rules.shapes.ID_FIELDS` order.
_NAMES_NONE, _NAMES_OBJECTION, _NAMES_CONSENT, _NAMES_CONTRACT = range(4)


def _due_in(seconds: float) -> int:
    """The wall-clock instant (us) `seconds` from now."""
    return time.time_ns() // 1000 + int(seconds * 1_000_000)


class _State:
    """One index with the objections recorded since it was built; replaced whole, never edited."""

    __slots__ = ("index", "overlay", "probe", "sector_ids", "slovak", "snaps")

    def __init__(
        self,
        index: DialIndex,
        probe: Probe,
        overlay: dict[int, Extra],
        slovak: Lookup | None = None,
    ) -> None:
        self.index = index
        self.probe = probe
        self.overlay = overlay
        # The compiled lane for compact Slovak numbers, when the home country is another.
        self.slovak = slovak
        # A campaign's sector as given -> its id in this index's list (`Register.sector_id`).
        self.sector_ids: dict[str, int] = {}
        # day number -> (snapshot position, snapshot date): a pure function of the index.
        self.snaps: dict[int, tuple[int, date | None]] = {}

    def snapshot_of(self, day: int) -> tuple[int, date | None]:
        """The newest snapshot on or before `day`: (position or -1, its date or None)."""
        found = self.snaps.get(day)
        if found is None:
            pos = int(np.searchsorted(self.index.snap_days, day, side="right")) - 1
            found = (pos, self.index.snap_dates[pos] if pos >= 0 else None)
            if len(self.snaps) > _CACHE_LIMIT:
                self.snaps.clear()
            self.snaps[day] = found
        return found


class _Moment(NamedTuple):
    """The Prague day of the last check and the state's lane for it: reused all day."""

    start: int  # the day's first microsecond (UTC)
    stop: int  # the next day's first microsecond
    state: _State  # the state the lane reads (its index and recorded objections)
    probe: Probe  # the state's
    lane: int  # the lane table's address (`compiled.lane_table`)
    consents: int  # the address of the index's consent pairs (`compiled.consents_of`)
    automated: int  # what an automated call adds to a live call's shape
    # The day's shapes decided so far, by code (day, snapshot and index never change under
    # one moment); a code's mark part is the index's mark code + 1.
    decided: dict[int, Decided]
    day: int  # day number
    snap: int  # newest snapshot on or before the day: position in the index, or -1
    mark_radix: int
    sk_radix: int
    codec: ShapeCodec
    kept: tuple[Any, ...]  # the arrays whose addresses the lane table holds


def _moment(t_us: int, state: _State, numbers: tuple[int, bool, int], meaning: int) -> _Moment:
    """The moment of `t_us` over `state`; `numbers` and `meaning` as `lane_table` takes them."""
    window = day_window(t_us)
    snap, snap_date = state.snapshot_of(window.day)
    releases = state.index.register.releases
    codec = ShapeCodec(state.index.marks, window.date, (snap_date,), releases)
    recorded = np.array(sorted(state.overlay), dtype=np.int64)
    radixes = (codec.mark_radix, codec.sk_radix)
    lane = lane_table(
        state.probe,
        state.slovak,
        day=window.day,
        snap=snap,
        radixes=radixes,
        numbers=numbers,
        meaning=meaning,
        recorded=recorded,
    )
    return _Moment(
        window.start,
        window.stop,
        state,
        state.probe,
        int(lane.ctypes.data),
        consents_of(state.probe.table),
        NUMBERS * FLAGS * codec.mark_radix * codec.sk_radix,
        {},
        window.day,
        snap,
        codec.mark_radix,
        codec.sk_radix,
        codec,
        (lane, recorded),
    )


class Checker:
    """The dial-time checker of one `Gate`: thread-safe, always current.

    Args:
        context: Supplies the store, the controller, the policy, the seconds between
            background refreshes (`refresh_interval`; None for none) and the seconds the
            index may go without a successful refresh before checks fail closed
            (`max_index_age`; None for no bound). Each check names its own call type.
        keys: Index only these phone keys (a one-off check such as `optin-gate check`:
            filtered scans instead of the whole store). Other numbers then look unknown.
        directory: The directory index shared by the checkers of several controllers of one
            process (the gate service); None builds this checker's own.

    Raises:
        StoreError: The store cannot be read to build the first index.
    """

    def __init__(
        self,
        context: Context,
        *,
        keys: Sequence[int] | None = None,
        directory: SharedDirectory | None = None,
    ) -> None:
        self._store = context.store
        self._directory = directory
        self._controller = context.controller
        self._policy = context.policy
        self._region = context.policy.default_region
        self._rules = compile_rules(context.policy)
        self._decide = self._rules.decide_values
        interval, max_index_age = context.refresh_interval, context.max_index_age
        self._interval = None if interval is None else float(interval)
        max_age = None if max_index_age is None else float(max_index_age)
        self._keys = None if keys is None else [int(k) for k in keys]
        self._lock = threading.Lock()  # guards _state replacement and _seq
        self._build_lock = threading.Lock()  # one rebuild at a time
        self._seq = 0
        self._meaning = Semantics.of(context.policy)
        self._meaning_bits = meaning_bits(self._meaning)
        self._callers: dict[str, bool] = {}
        self._sectors: dict[str, str | None] = {}
        self._normalize = scalar_normalizer(self._region)
        self._home = home_plan(self._region)
        home_region = None if self._home is None else self._home.region
        # Compact Slovak numbers get a compiled lane of their own, as the home country's do.
        self._sk_plan = home_plan("SK") if home_region != "SK" else None
        # The lanes' number codes of type code 0 (type code i is this + i), as `lane_table`
        # takes them: the home lane's, whether it has a Slovak list part, the Slovak lane's.
        home = number_of(True, home_region, TYPE_CODES[0])
        self._numbers = (home, home in SK_NUMBERS, number_of(True, "SK", TYPE_CODES[0]))
        self._lane_check = lane_entry()
        self._closed = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # When the background refresh is overdue, in wall-clock microseconds: a check "now"
        # compares its own instant with it instead of reading a second clock.
        self._due = _NEVER
        # When the journal is next polled (wall-clock us); `now` when the index is too old.
        self._watch_due = 0
        self._watcher = Watch(self._store.objection_feed(), max_age)
        self._stale_logged = False
        # Objections heard before the first index exists (recorded while it is built).
        self._early: dict[int, Extra] = {}
        me = weakref.ref(self)

        def on_objection(objection: Objection) -> None:
            checker = me()
            if checker is not None:
                checker._objection_recorded(objection)

        # Subscribe before the first build: an objection recorded during it is kept.
        self._unsubscribe: Callable[[], None] = self._store.subscribe(on_objection)
        self._finalizer = weakref.finalize(self, stop, self._unsubscribe, self._wake)
        token = self._token()
        index = self._build(token, None)
        with self._lock:
            self._state = _State(
                index, make_probe(index, self._home), self._early, self._slovak_lane(index)
            )
        self._moment = _moment(now_us(), self._state, self._numbers, self._meaning_bits)
        self._watcher.refreshed(now_us())
        self._watch(now_us())
        if self._interval is not None:
            self._due = _due_in(self._interval)
            self._start_worker()

    # ---- the check ------------------------------------------------------------------------

    # One flat function on purpose: on the dial path a call costs as much as a lookup.
    def check(  # noqa: PLR0912
        self,
        phone: str | None,
        *,
        at: TimeLike = None,
        call_type: str = "live",
        sector: str | None = None,
        caller_id: str | None = None,
        purpose: str | None = None,
    ) -> Decision:
        """May `phone` be called at `at` (default now)? See `Gate.check`."""
        now = time.time_ns() // 1000
        t_us = now if at is None else instant_us(at)
        if now >= self._watch_due:
            self._watch(now)
        if now >= self._due:
            self._kick()
        moment = self._moment
        if not (moment[0] <= t_us < moment[1] and moment[2] is self._state):
            moment = self._moment = _moment(t_us, self._state, self._numbers, self._meaning_bits)
        _, _, state, probe, lane, consents, step, decided, _, _, _, _, _, _ = moment
        if call_type == "live" or (call_type != "automated" and not _call_type(call_type)):
            step = 0
        shape = 0 if caller_id is None else self._caller(caller_id)
        sid = NO_SECTOR
        if sector is not None:
            known = state.sector_ids.get(sector)
            sid = self._sector_id(state, sector) if known is None else known
        wanted = None
        if purpose is not None:  # the same lookup over the consents that cover the purpose
            wanted, table = probe.for_purpose(purpose)
            consents = consents_of(table)
        # Compact numbers ("+420601234567", a dialler's usual form) are read, checked, looked
        # up and packed into their shape in one compiled call; anything else goes the long way.
        code = OUTSIDE
        if type(phone) is str:
            code, lane_shape, o, c, k = self._lane_check(lane, phone, t_us, sid, consents)
        if code >= NOT_VALID:
            e164 = phone if code >= 0 else None
            objection = None
            note = None if c >= NONE else probe.note(c, t_us, wanted)
        else:
            lane_shape, e164, objection, c, k, note = self._long_way(
                phone, t_us, sid, wanted, moment
            )
            o = NONE
        shape += lane_shape + step
        # The rules read whether there are record ids, and name at most one as the evidence:
        # each shape of facts is decided once, and the named id put into its evidence text.
        hit = decided.get(shape)
        if hit is None:
            hit = self._decide_shape(shape, moment)
        allowed, reason, rule_set, named, before, after = hit
        if named == _NAMES_NONE:
            evidence = before
        elif named == _NAMES_OBJECTION:
            named_id = probe.objection_ids[o] if objection is None else objection
            evidence = f"{before}{named_id}{after}"
        elif named == _NAMES_CONSENT:
            evidence = f"{before}{probe.consent_ids[c]}{after}"
        else:
            evidence = f"{before}{probe.contract_ids[k]}{after}"
        return _new_decision(allowed, reason, e164, evidence, rule_set, note)

    def _long_way(
        self, phone: Any, t_us: int, sid: int, wanted: str | None, moment: _Moment
    ) -> tuple[int, str | None, str | None, int, int, str | None]:
        """A number the lane did not decide: normalized in Python, then looked up.

        Returns:
            The shape as `lane_check` packs it, the E.164 form (None: not valid), the
            objection in force (the index's or one recorded since), the consent and contract
            rows, and the note.
        """
        _, _, state, probe, _, _, _, _, day, snap, mark_radix, sk_radix, _, _ = moment
        table = probe.table if wanted is None else probe.for_purpose(wanted)[1]
        normalized = (
            self._normalize(phone) if type(phone) is str else normalize_one(phone, self._region)
        )
        e164 = normalized[0]
        if e164 is None:
            return 0, None, None, NONE, NONE, None
        number = number_of(True, normalized[3], normalized[2])
        key = int(e164)  # "+420..." parses as the digits: no slice needed
        o, c, k, m = rows(table, key, t_us, day, snap)  # -1: none
        # Consents held but none counting (c < -1): the note says why, off the usual path.
        note = probe.note(c, t_us, wanted) if c < NONE else None
        extra = state.overlay.get(key)
        objection = probe.objection(o, c, extra, t_us) if o >= 0 or extra else None
        flags = (objection is not None) | (c >= 0) << 1 | (k >= 0) << 2
        sk = 0
        if number in SK_NUMBERS:  # the Slovak list part (`compiled.register_part`)
            granted = NO_CONSENT if c < 0 else int(state.index.consents.cols["granted"][c])
            sk = 2 * register_part(table, key, day, granted, sid, self._meaning_bits)
        shape = ((number * FLAGS + flags) * mark_radix + m + 1) * sk_radix + sk
        return shape, e164, objection, c, k, note

    def _slovak_lane(self, index: DialIndex) -> Lookup | None:
        return None if self._sk_plan is None else Lookup(index, self._sk_plan)

    def _sector(self, sector: str) -> str | None:
        """A campaign's sector, checked and folded (`context.check_sector`), remembered."""
        return _remembered(self._sectors, sector, check_sector)

    def _sector_id(self, state: _State, sector: str) -> int:
        """A campaign's sector, checked and folded, as `state`'s list numbers it, remembered."""
        listed = state.index.register
        return _remembered(state.sector_ids, sector, lambda s: listed.sector_id(self._sector(s)))

    def _caller(self, caller_id: str) -> bool:
        """Whether a calling line is a +421 888 number, remembered per text."""
        return _remembered(self._callers, caller_id, caller_line_0888)

    def _decide_shape(self, shape: int, moment: _Moment) -> Decided:
        """Decide a shape with the shape codec and keep it for the rest of the moment."""
        decided, _ = moment.codec.decide((shape,), self._policy)
        hit = decided[0]
        if len(moment.decided) > _CACHE_LIMIT:
            moment.decided.clear()
        moment.decided[shape] = hit
        return hit

    def check_many(
        self,
        phones: Any,
        *,
        at: TimeLike = None,
        call_type: str = "live",
        sector: str | None = None,
        caller_id: str | None = None,
        purpose: str | None = None,
    ) -> pa.Table:
        """`check` for many numbers at one instant, a row each (`Gate.check_many`)."""
        automated = _call_type(call_type)
        sector = check_sector(sector)
        caller = caller_line_0888(caller_id)
        t_us = instant_us(at)
        window = day_window(t_us)
        now = now_us()
        if now >= self._watch_due:
            self._watch(now)
        state = self._state
        pos, snap_date = state.snapshot_of(window.day)
        numbers = normalize(phones, region=self._region)
        digits = pc.utf8_slice_codeunits(numbers.column("e164"), 1)
        keys = numpy_of(pc.cast(digits, pa.int64()), np.int64, fill=-1)
        probe = state.probe
        wanted, table = (None, probe.table) if purpose is None else probe.for_purpose(purpose)
        evidence = evidence_many(
            state.index,
            keys,
            t_us=t_us,
            day=window.day,
            snap=pos,
            overlay=state.overlay,
            table=table,
        )
        evidence.update(
            register_many(
                state.index,
                keys,
                evidence["consent_rows"],
                day=window.day,
                sector=sector,
                meaning=self._meaning,
            )
        )
        held = evidence["consent_rows"]
        noted = np.flatnonzero(held < NONE).tolist()  # few: only then is a note spelled
        note = pa.nulls(len(held), pa.string())
        if noted:
            notes: list[str | None] = [None] * len(held)
            for j in noted:
                notes[j] = probe.note(int(held[j]), t_us, wanted)
            note = string_array(notes)
        decided = decide_many(
            self._rules,
            numbers,
            evidence,
            automated=automated,
            t_day=window.date,
            directory_date=snap_date,
            caller=caller,
        )
        return decided.append_column(NOTE_FIELD, note)

    # ---- staying current ------------------------------------------------------------------

    @property
    def index(self) -> DialIndex:
        """The index checks read now."""
        return self._state.index

    @property
    def fresh_since(self) -> float:
        """When the index last matched the store (seconds since the epoch): its age's start."""
        return self._watcher.fresh_us / 1_000_000

    def refresh(self, *, timeout: float | None = None) -> bool:
        """Rebuild the index if the store changed since it was built, and swap it in.

        Args:
            timeout: Seconds to wait for a store file held by another process (default: the
                store's own timeout).

        Returns:
            True when a new index was swapped in, False when the store had not changed.

        Raises:
            StoreError: The store could not be read (e.g. another process is loading into
                it); the current index stays in use.
        """
        with self._build_lock:
            token = self._token()
            if token is not None and token == self._state.index.token:
                self._watcher.refreshed(now_us())
                return False
            with self._lock:
                seq = self._seq
            index = self._build(token, timeout)
            probe = make_probe(index, self._home)
            with self._lock:
                # Objections recorded since the scan began may be missing from it: keep them.
                kept = {}
                for key, entries in self._state.overlay.items():
                    recent = tuple(e for e in entries if e[2] >= seq)
                    if recent:
                        kept[key] = recent
                self._state = _State(index, probe, kept, self._slovak_lane(index))
            self._watcher.refreshed(now_us())
            return True

    def close(self) -> None:
        """Stop the background refresh; objections recorded through the store still block."""
        self._closed = True
        self._due = _NEVER
        self._wake.set()

    def _token(self) -> object:
        try:
            return self._store.change_token()
        except (OptinGateError, duckdb.Error, OSError) as exc:
            raise _unreadable(exc) from exc

    def _build(self, token: object, timeout: float | None) -> DialIndex:
        if self._directory is None:
            return self._build_now(token, timeout)
        with self._directory.building:
            # Read again now that it is this controller's turn: a token read before another
            # controller's build may be older than the directory that build left, and would
            # scan a second copy of it, held until this controller rebuilds again.
            return self._build_now(self._token(), timeout)

    def _build_now(self, token: object, timeout: float | None) -> DialIndex:
        start = time.perf_counter()
        try:
            with self._store.connect(read_only=True, timeout=timeout) as con:
                if self._directory is None:
                    raw = scan(con, self._controller, self._keys, policy=self._policy)
                    shared = None
                else:
                    raw = scan(con, self._controller, policy=self._policy, kinds=OWN_KINDS)
                    shared = self._directory.current(con, token, self._policy)
        except (OptinGateError, duckdb.Error, OSError) as exc:
            raise _unreadable(exc) from exc
        scanned = time.perf_counter()
        index = build_index(raw, self._controller, self._policy, token=token)
        if shared is not None:
            index = attach(index, shared)
        built = time.perf_counter()
        log.debug(
            "dial index built: %d numbers in %.2f s (store open %.2f s)",
            index.numbers,
            built - start,
            scanned - start,
        )
        return dataclasses.replace(index, build_seconds=built - start, scan_seconds=scanned - start)

    def _objection_recorded(self, objection: Objection) -> None:
        if not objection_applies(objection.controller, self._controller):
            return
        key = int(objection.phone)
        oid = str(objection.objection_id)
        with self._lock:
            state: _State | None = getattr(self, "_state", None)
            overlay = self._early if state is None else state.overlay
            if any(e[1] == oid for e in overlay.get(key, ())):
                return  # heard twice: from this process's store and from the journal
            self._seq += 1
            since, stated = us_of(objection.blocks_from), us_of(objection.objected_at)
            entry = (since, oid, self._seq, stated)
            overlay = dict(overlay)
            overlay[key] = (*overlay.get(key, ()), entry)
            if state is None:
                self._early = overlay
                return
            new = _State(state.index, state.probe, overlay, state.slovak)
            new.snaps = state.snaps
            self._state = new

    def _watch(self, now: int) -> None:
        """Read objections other processes journaled; fail closed if the index is too old."""
        self._watch_due = now + POLL_US
        objections, lapsed = self._watcher.poll(now)
        for objection in objections:
            self._objection_recorded(objection)
        if lapsed:
            # Objections merged and dropped from the journal meanwhile are only in the store.
            self._refresh_or_fail(now)
        if self._watcher.stale(now):
            if self._interval is None:  # no background refresh to wait for: try it here
                self._refresh_or_fail(now)
            if self._watcher.stale(now):
                self._watch_due = now  # every check comes back here until a refresh works
                raise self._too_old(now)
        self._stale_logged = False

    def _refresh_or_fail(self, now: int) -> None:
        try:
            self.refresh(timeout=0)
        except StoreError:
            self._watch_due = now
            raise

    def _too_old(self, now: int) -> StoreError:
        age = (now - self._watcher.fresh_us) / 1e6
        if not self._stale_logged:
            self._stale_logged = True
            log.warning(
                "dial index could not be refreshed for %.0f s (max_index_age): checks fail "
                "closed until the store can be read",
                age,
            )
        return StoreError(
            f"the dial index could not be refreshed for {age:.0f} s, longer than max_index_age",
            hint="another process may hold the store (a load): checks answer again once it "
            "can be read; raise max_index_age to wait longer",
        )

    # ---- the background refresh -----------------------------------------------------------

    def _start_worker(self) -> None:
        self._thread = start_worker(self, self._wake)

    def _kick(self) -> None:
        """A check found the refresh overdue: wake the worker (restart it after a fork)."""
        self._due = _due_in(self._interval or DEFAULT_REFRESH_INTERVAL)
        with self._lock:
            if not self._closed and (self._thread is None or not self._thread.is_alive()):
                self._start_worker()
        self._wake.set()

    def _auto_refresh(self) -> float:
        """One automatic refresh; the seconds to wait before the next."""
        interval = self._interval or DEFAULT_REFRESH_INTERVAL
        try:
            for objection in self._watcher.poll(now_us())[0]:
                self._objection_recorded(objection)
            # Try the lock once: a load in another process goes first, we come back later.
            self.refresh(timeout=0)
        except StoreError as exc:
            self._watcher.failed(now_us(), exc)
            interval = min(interval, RETRY_SECONDS)
        except Exception as exc:  # never let the worker die; a check must keep working
            self._watcher.failed(now_us(), StoreError(type(exc).__name__, hint="see the log"))
            log.debug("dial index refresh failed", exc_info=True)
            interval = min(interval, RETRY_SECONDS)
        self._due = _due_in(interval + 1.0)
        return interval


_V = TypeVar("_V")


def _remembered(cache: dict[str, _V], text: str, work_out: Callable[[str], _V]) -> _V:
    """`work_out(text)`, kept in `cache` (bounded): a dialler repeats its few parameters."""
    if text in cache:
        return cache[text]
    found = work_out(text)
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    cache[text] = found
    return found


def _decision_maker() -> Callable[..., Decision]:
    """`Decision(allowed, reason, e164, evidence, rule_set, note)`, about twice as fast.

    A frozen dataclass's __init__ sets each field through object.__setattr__; on the dial
    path that is a fifth of a check. The slots' own descriptors set the same fields on a bare
    instance: the same object (equal, hashable, frozen afterwards). Falls back to the class
    if Decision's fields ever change.
    """
    names = tuple(f.name for f in dataclasses.fields(Decision))
    if names != ("allowed", "reason", "e164", "evidence", "rule_set", "note"):
        return Decision
    new = object.__new__
    set_allowed, set_reason, set_e164, set_evidence, set_rule_set, set_note = (
        vars(Decision)[name].__set__ for name in names
    )

    def make(  # noqa: PLR0917
        allowed: bool,
        reason: Reason,
        e164: str | None,
        evidence: str | None,
        rule_set: str,
        note: str | None = None,
    ) -> Decision:
        decision: Decision = new(Decision)
        set_allowed(decision, allowed)
        set_reason(decision, reason)
        set_e164(decision, e164)
        set_evidence(decision, evidence)
        set_rule_set(decision, rule_set)
        set_note(decision, note)
        return decision

    return make


_new_decision = _decision_maker()


def _call_type(call_type: str) -> bool:
    return check_call_type(call_type) == "automated"


def _unreadable(exc: BaseException) -> StoreError:
    # Our own messages and DuckDB's lock errors name files, never phone numbers; other
    # database errors might quote a value, so only their type is passed on.
    own = isinstance(exc, (OptinGateError, duckdb.IOException, OSError))
    detail = str(exc) if own else type(exc).__name__
    return StoreError(
        f"the dial index could not read the evidence store ({detail})",
        hint="if another process is loading evidence, retry when it is done; "
        "the checker keeps answering from the index it has",
    )

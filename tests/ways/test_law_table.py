"""docs/rules.md § 1.4, row by row, in both regimes: each case names the row it proves.

The answers are written by hand. They hold the oracle (tests/oracle.py) and every way of
deciding, on evidence loaded through `EvidenceStore.load`. See tests/ways/law_world.py for
the scenarios behind each number.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import date

import pytest

import optin_gate as og
from optin_gate._time import to_utc
from tests.oracle import Decided, decide
from tests.ways.law_world import (
    SNAP_AUTUMN,
    SNAP_BOUNDARY,
    SNAP_IN,
    SNAP_OUT,
    T_IN,
    T_OUT,
    day_plus,
    oracle_evidence,
    phone,
    world,
)
from tests.ways.ways import Way
from tests.ways.worlds import Ask

IN, OUT = "CZ-2022-opt-in", "CZ-opt-out"
JAN_1 = date(2022, 1, 1)
DIR_IN, DIR_OUT = f"directory:{SNAP_IN}", f"directory:{SNAP_OUT}"
DIR_AUTUMN = f"directory:{SNAP_AUTUMN}"
WITHDRAWN_100 = "consent:C-DST-WITHDRAWN held, not counted: withdrawn"


@dataclasses.dataclass(frozen=True)
class Case:
    row: str  # the row of docs/rules.md § 1.4 this case proves
    what: str
    number: int | str | None  # scenario number (see law_world.py) or the text as written
    at: str
    reason: og.Reason
    evidence: str | None
    rule_set: str
    controller: str = "acme"
    call_type: str = "live"
    policy: og.Policy | None = None
    directory: bool = True
    purpose: str | None = None
    note: str | None = ""  # the decision's note; "" leaves it unchecked

    @property
    def text(self) -> str | None:
        return phone(self.number) if isinstance(self.number, int) else self.number


R = og.Reason
CASES = [
    # ---- row 1: not a valid number -------------------------------------------------------
    Case("1", "too short", "12345", T_IN, R.INVALID_NUMBER, None, IN),
    Case("1", "words", "n/a", T_IN, R.INVALID_NUMBER, None, IN),
    Case("1", "empty cell", "", T_IN, R.INVALID_NUMBER, None, IN),
    Case("1", "missing cell", None, T_IN, R.INVALID_NUMBER, None, IN),
    Case("1", "not a Czech range", "+420 123", T_IN, R.INVALID_NUMBER, None, IN),
    Case("1", "opt-out regime too", "12345", T_OUT, R.INVALID_NUMBER, None, OUT),
    # ---- row 2: no rule set for the country ----------------------------------------------
    Case("2", "Austrian mobile", "+43 664 1234567", T_IN, R.UNSUPPORTED_REGION, None, IN),
    Case("2", "German mobile", "+49 151 12345678", T_IN, R.UNSUPPORTED_REGION, None, IN),
    Case("2", "opt-out regime too", "+49 151 12345678", T_OUT, R.UNSUPPORTED_REGION, None, OUT),
    # ---- row 3: blocked number types -----------------------------------------------------
    Case("3", "toll-free 800", "800 123 456", T_IN, R.BLOCKED_NUMBER_TYPE, None, IN),
    Case("3", "premium 900", "900 123 456", T_IN, R.BLOCKED_NUMBER_TYPE, None, IN),
    Case("3", "premium, opt-out regime", "900 123 456", T_OUT, R.BLOCKED_NUMBER_TYPE, None, OUT),
    Case("3", "blocked beats consent", 90, T_IN, R.BLOCKED_NUMBER_TYPE, None, IN),
    Case(
        "3", "toll-free, nothing blocked by policy: the consent decides", 90, T_IN,
        R.CONSENT, "consent:C-TOLLFREE", IN, policy=og.Policy(blocked_number_types=()),
    ),
    Case(
        "3", "automated call to a blocked type", "900 123 456", T_IN,
        R.BLOCKED_NUMBER_TYPE, None, IN, call_type="automated",
    ),
    # ---- row 4: objection ----------------------------------------------------------------
    Case("4", "objection beats an older consent", 20, T_IN, R.OBJECTION, "objection:O-ALL", IN),
    Case("4", "a consent after the objection wins", 21, T_IN, R.CONSENT, "consent:C-AFTER-OBJ", IN),
    Case(
        "4", "the newer consent was withdrawn: the objection stands", 22, T_IN,
        R.OBJECTION, "objection:O-BEFORE-WITHDRAWN", IN,
    ),
    Case(
        "4", "consent at the same instant is not after the objection", 23, T_IN,
        R.OBJECTION, "objection:O-SAME-INSTANT", IN,
    ),
    Case("4", "objection to beta does not bind acme", 24, T_IN, R.CONSENT, "consent:C-ACME-24", IN),
    Case(
        "4", "objection to beta binds beta", 24, T_IN, R.OBJECTION, "objection:O-BETA-ONLY", IN,
        controller="beta",
    ),
    Case("4", "objection to all binds acme", 25, T_IN, R.OBJECTION, "objection:O-ALL-25", IN),
    Case(
        "4", "objection to all binds beta", 25, T_IN, R.OBJECTION, "objection:O-ALL-25", IN,
        controller="beta",
    ),
    Case(
        "4", "an objection after T does not count yet", 26, T_IN,
        R.CONSENT, "consent:C-BEFORE-LATE-OBJ", IN,
    ),
    Case("4", "objection at T counts", 29, T_IN, R.OBJECTION, "objection:O-AT-T", IN),
    Case("4", "objection beats a contract", 27, T_IN, R.OBJECTION, "objection:O-CONTRACT", IN),
    Case("4", "objection beats directory opt-in", 28, T_IN, R.OBJECTION, "objection:O-OPTIN", IN),
    Case(
        "4", "objection, opt-out regime: beats the missing opt-out mark", 62, T_OUT,
        R.OBJECTION, "objection:O-2021", OUT,
    ),
    Case(
        "4", "objection beats the automated-call rule", 42, T_IN,
        R.OBJECTION, "objection:O-AUTO", IN, call_type="automated",
    ),
    # ---- row 5: consent ------------------------------------------------------------------
    Case("5", "valid consent", 1, T_IN, R.CONSENT, "consent:C-VALID", IN),
    Case("5", "withdrawn before T", 2, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("5", "withdrawn after T", 3, T_IN, R.CONSENT, "consent:C-WITHDRAWN-LATER", IN),
    Case("5", "expired at T", 4, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("5", "expires after T", 5, T_IN, R.CONSENT, "consent:C-NOT-YET-EXPIRED", IN),
    Case("5", "granted after T (future)", 6, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("5", "granted at T", 7, T_IN, R.CONSENT, "consent:C-AT-T", IN),
    Case("5", "another controller's consent", 8, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("5", "its own controller's consent", 8, T_IN, R.CONSENT, "consent:C-BETA", IN,
         controller="beta"),
    Case("5", "consent for e-mail only", 9, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("5", "consent for any channel", 10, T_IN, R.CONSENT, "consent:C-ANY", IN),
    Case("5", "a pre-2022 consent stays valid", 60, T_IN, R.CONSENT, "consent:C-2021", IN),
    Case("5", "consent in the opt-out regime", 60, T_OUT, R.CONSENT, "consent:C-2021", OUT),
    Case(
        "5", "consent older than consent_max_age_days", 11, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
        policy=og.Policy(consent_max_age_days=365),
    ),
    Case(
        "5", "consent within consent_max_age_days", 11, T_IN, R.CONSENT, "consent:C-OLD", IN,
        policy=og.Policy(consent_max_age_days=1200),
    ),
    # ---- row 6: automated calls need consent ---------------------------------------------
    Case("6", "automated, consent", 40, T_IN, R.CONSENT, "consent:C-AUTO", IN,
         call_type="automated"),
    Case("6", "automated, customer only", 41, T_IN, R.AUTOMATED_NEEDS_CONSENT, None, IN,
         call_type="automated"),
    Case("6", "automated, directory opt-in only", 43, T_IN, R.AUTOMATED_NEEDS_CONSENT, None, IN,
         call_type="automated"),
    Case("6", "automated, nothing, opt-out regime", 64, T_OUT, R.AUTOMATED_NEEDS_CONSENT, None,
         OUT, call_type="automated"),
    Case("6", "automated, customer, opt-out regime", 61, T_OUT, R.AUTOMATED_NEEDS_CONSENT, None,
         OUT, call_type="automated"),
    # ---- row 7: existing customer --------------------------------------------------------
    Case("7", "open contract", 30, T_IN, R.EXISTING_CUSTOMER, "contract:K-OPEN", IN),
    Case("7", "contract ended the day before T", 31, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("7", "contract ends on T's day", 32, T_IN, R.EXISTING_CUSTOMER,
         "contract:K-ENDS-ON-T", IN),
    Case("7", "contract ends the day after T", 33, T_IN, R.EXISTING_CUSTOMER,
         "contract:K-ENDS-DAY-AFTER", IN),
    Case("7", "contract starts the day after T", 34, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("7", "contract starts on T's day", 35, T_IN, R.EXISTING_CUSTOMER,
         "contract:K-STARTS-ON-T", IN),
    Case("7", "ended the day before, grace 1 day", 31, T_IN, R.EXISTING_CUSTOMER,
         "contract:K-ENDED-DAY-BEFORE", IN, policy=og.Policy(customer_grace_days=1)),
    Case("7", "ended two days before, grace 1 day", 36, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         policy=og.Policy(customer_grace_days=1)),
    Case("7", "another controller's customer", 37, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("7", "its own controller's customer", 37, T_IN, R.EXISTING_CUSTOMER, "contract:K-BETA",
         IN, controller="beta"),
    Case("7", "customer in the opt-out regime", 61, T_OUT, R.EXISTING_CUSTOMER, "contract:K-2021",
         OUT),
    # ---- row 8: stale or missing directory -----------------------------------------------
    Case("8", "no snapshot loaded at all", 50, T_IN, R.STALE_DIRECTORY, None, IN,
         directory=False),
    Case("8", "no snapshot loaded, opt-out regime", 64, T_OUT, R.STALE_DIRECTORY, None, OUT,
         directory=False),
    Case("8", "no snapshot on or before T", 50, "2019-05-01T12:00", R.STALE_DIRECTORY, None, OUT),
    Case("8", "snapshot 31 days old is fresh", 50, day_plus(SNAP_IN, 31), R.DIRECTORY_OPT_IN,
         DIR_IN, IN),
    Case("8", "snapshot 32 days old is stale", 50, day_plus(SNAP_IN, 32), R.STALE_DIRECTORY,
         DIR_IN, IN),
    Case("8", "stale even for an unlisted number", 99, day_plus(SNAP_IN, 32), R.STALE_DIRECTORY,
         DIR_IN, IN),
    Case("8", "directory_max_age_days=7: 9 days is stale", 50, T_IN, R.STALE_DIRECTORY, DIR_IN,
         IN, policy=og.Policy(directory_max_age_days=7)),
    Case("8", "stale in the opt-out regime", 64, day_plus(SNAP_OUT, 32), R.STALE_DIRECTORY,
         DIR_OUT, OUT),
    Case("8", "a customer needs no directory", 30, day_plus(SNAP_IN, 60), R.EXISTING_CUSTOMER,
         "contract:K-OPEN", IN),
    Case("8", "a consent needs no directory", 1, T_IN, R.CONSENT, "consent:C-VALID", IN,
         directory=False),
    # ---- row 9a: directory opt-in (opt-in regime) ----------------------------------------
    Case("9a", "marked opt-in", 50, T_IN, R.DIRECTORY_OPT_IN, DIR_IN, IN),
    Case("9a", "the newest snapshot decides: opt-in dropped", 53, T_IN, R.NO_LEGAL_BASIS,
         DIR_IN, IN),
    Case("9a", "the older snapshot said opt-in", 53, "2026-02-20T12:00", R.DIRECTORY_OPT_IN,
         "directory:2026-02-01", IN),
    # ---- rows 9b / 9c: opt-out regime ----------------------------------------------------
    Case("9b", "marked opt-out", 63, T_OUT, R.DIRECTORY_OPT_OUT, DIR_OUT, OUT),
    Case("9b", "opt-out beats nothing but the grounds above it", 60, T_OUT, R.CONSENT,
         "consent:C-2021", OUT),
    Case("9c", "unmarked entry", 64, T_OUT, R.NO_OPT_OUT, DIR_OUT, OUT),
    Case("9c", "not in the directory", 65, T_OUT, R.NO_OPT_OUT, DIR_OUT, OUT),
    Case("9c", "opt-in mark in the opt-out regime", 66, T_OUT, R.NO_OPT_OUT, DIR_OUT, OUT),
    # ---- row 10: nothing else ------------------------------------------------------------
    Case("10", "marked opt-out", 51, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("10", "unmarked entry", 52, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("10", "not in the directory (generated numbers too)", 65, T_IN, R.NO_LEGAL_BASIS,
         DIR_IN, IN),
    # ---- the regime boundary: the day in Prague decides which of 9a-9c / 10 applies ---------
    Case("9c", "30 June 2022, 23:59: opt-out regime", 70, "2022-06-30T23:59", R.NO_OPT_OUT,
         f"directory:{SNAP_BOUNDARY}", OUT),
    Case("10", "1 July 2022, 00:00: opt-in regime", 70, "2022-07-01T00:00", R.NO_LEGAL_BASIS,
         f"directory:{SNAP_BOUNDARY}", IN),
    Case("9b", "30 June 2022: opt-out mark blocks", 71, "2022-06-30T12:00",
         R.DIRECTORY_OPT_OUT, f"directory:{SNAP_BOUNDARY}", OUT),
    Case("10", "1 July 2022: opt-out mark, no basis", 71, "2022-07-01T12:00",
         R.NO_LEGAL_BASIS, f"directory:{SNAP_BOUNDARY}", IN),
    Case("9c", "30 June 2022: opt-in mark, no opt-out", 72, "2022-06-30T12:00", R.NO_OPT_OUT,
         f"directory:{SNAP_BOUNDARY}", OUT),
    Case("9a", "1 July 2022: opt-in mark permits", 72, "2022-07-01T12:00",
         R.DIRECTORY_OPT_IN, f"directory:{SNAP_BOUNDARY}", IN),
    Case("10", "22:30 UTC on 30 June is 1 July in Prague", 70, "2022-06-30T22:30+00:00",
         R.NO_LEGAL_BASIS, f"directory:{SNAP_BOUNDARY}", IN),
    Case("9c", "21:59 UTC on 30 June is still 30 June in Prague", 70, "2022-06-30T21:59Z",
         R.NO_OPT_OUT, f"directory:{SNAP_BOUNDARY}", OUT),
    Case("9c", "custom opt_in_from 2022-01-01: 31 Dec 2021 is opt-out", 73, "2021-12-31T23:59",
         R.NO_OPT_OUT, "directory:2021-12-20", OUT, policy=og.Policy(opt_in_from=JAN_1)),
    Case("10", "custom opt_in_from 2022-01-01: 1 Jan 2022 is opt-in", 73, "2022-01-01T00:00",
         R.NO_LEGAL_BASIS, "directory:2021-12-20", IN, policy=og.Policy(opt_in_from=JAN_1)),
    Case("9a", "custom opt_in_from 2022-01-01: opt-in mark permits", 74, "2022-01-01T00:00",
         R.DIRECTORY_OPT_IN, "directory:2021-12-20", IN, policy=og.Policy(opt_in_from=JAN_1)),
    Case("9c", "default opt_in_from: 1 Jan 2022 is still opt-out", 73, "2022-01-01T00:00",
         R.NO_OPT_OUT, "directory:2021-12-20", OUT),
    Case("9c", "a microsecond before 1 July 2022 in Prague", 70, "2022-06-30T23:59:59.999999",
         R.NO_OPT_OUT, f"directory:{SNAP_BOUNDARY}", OUT),
    Case("10", "1 July 2022 begins at 22:00 UTC", 70, "2022-06-30T22:00Z", R.NO_LEGAL_BASIS,
         f"directory:{SNAP_BOUNDARY}", IN),
    Case("9c", "a microsecond before 22:00 UTC", 70, "2022-06-30T21:59:59.999999Z",
         R.NO_OPT_OUT, f"directory:{SNAP_BOUNDARY}", OUT),
    # ---- Prague's clock changes: instants, not wall-clock times, order the evidence ------
    Case("5", "a microsecond before a withdrawal in the repeated hour", 100,
         "2025-10-26T02:29:59.999999+02:00", R.CONSENT, "consent:C-DST-WITHDRAWN", IN),
    Case("10", "withdrawn at 02:30 of the repeated hour's first pass", 100,
         "2025-10-26T02:30+02:00", R.NO_LEGAL_BASIS, DIR_AUTUMN, IN, note=WITHDRAWN_100),
    Case("10", "02:30 without a zone is the first pass", 100, "2025-10-26T02:30",
         R.NO_LEGAL_BASIS, DIR_AUTUMN, IN, note=WITHDRAWN_100),
    Case("10", "02:15 of the second pass comes after 02:30 of the first", 100,
         "2025-10-26T02:15+01:00", R.NO_LEGAL_BASIS, DIR_AUTUMN, IN, note=WITHDRAWN_100),
    Case("5", "expiring in the skipped hour: holds until 03:30 summer time", 101,
         "2026-03-29T03:29:59.999999", R.CONSENT, "consent:C-DST-EXPIRES", IN),
    Case("10", "expiring in the skipped hour: expired at 03:30 summer time", 101,
         "2026-03-29T03:30", R.NO_LEGAL_BASIS, DIR_IN, IN,
         note="consent:C-DST-EXPIRES held, not counted: expired"),
    Case("7", "the 23-hour day's last microsecond", 102, "2026-03-29T21:59:59.999999Z",
         R.EXISTING_CUSTOMER, "contract:K-DST-SPRING", IN),
    Case("7", "the day after the 23-hour day starts at 22:00 UTC", 102, "2026-03-29T22:00Z",
         R.NO_LEGAL_BASIS, DIR_IN, IN),
    Case("7", "the 25-hour day starts at 22:00 UTC", 103, "2025-10-25T22:00Z",
         R.EXISTING_CUSTOMER, "contract:K-DST-AUTUMN", IN),
    Case("7", "a microsecond before the 25-hour day", 103, "2025-10-25T21:59:59.999999Z",
         R.NO_LEGAL_BASIS, DIR_AUTUMN, IN),
    Case("7", "the 25-hour day's last microsecond", 103, "2025-10-26T22:59:59.999999Z",
         R.EXISTING_CUSTOMER, "contract:K-DST-AUTUMN", IN),
    Case("7", "the day after the 25-hour day starts at 23:00 UTC", 103, "2025-10-26T23:00Z",
         R.NO_LEGAL_BASIS, DIR_AUTUMN, IN),
    Case("5", "an objection in the second pass does not bind the first pass's 02:45", 104,
         "2025-10-26T02:45+02:00", R.CONSENT, "consent:C-DST-OBJECTED", IN),
    Case("4", "an objection in the second pass binds from its 02:30", 104,
         "2025-10-26T02:30+01:00", R.OBJECTION, "objection:O-DST-SECOND-PASS", IN),
    # ---- row 5: whose consent, for which purpose (§ 3.1), in both regimes and call types ----
    Case("5", "a consent bought with a list does not count", 12, T_IN, R.NO_LEGAL_BASIS, DIR_IN,
         IN, note="consent:C-3RD-PARTY held, not counted: obtained from a third party"),
    Case("9c", "third party, opt-out regime: the directory decides", 12, T_OUT, R.NO_OPT_OUT,
         DIR_OUT, OUT, note="consent:C-3RD-PARTY held, not counted: obtained from a third party"),
    Case("6", "third party, automated: no consent", 12, T_IN, R.AUTOMATED_NEEDS_CONSENT, None,
         IN, call_type="automated",
         note="consent:C-3RD-PARTY held, not counted: obtained from a third party"),
    Case("6", "third party, automated, opt-out regime", 12, T_OUT, R.AUTOMATED_NEEDS_CONSENT,
         None, OUT, call_type="automated",
         note="consent:C-3RD-PARTY held, not counted: obtained from a third party"),
    Case("5", "third_party_consents=True: it counts", 12, T_IN, R.CONSENT, "consent:C-3RD-PARTY",
         IN, policy=og.Policy(third_party_consents=True), note=None),
    Case("5", "third_party_consents=True, automated, opt-out regime", 12, T_OUT, R.CONSENT,
         "consent:C-3RD-PARTY", OUT, call_type="automated",
         policy=og.Policy(third_party_consents=True), note=None),
    Case("5", "consent for the campaign's purpose", 13, T_IN, R.CONSENT, "consent:C-ENERGY", IN,
         purpose="energie", note=None),
    Case("5", "purposes ignore case and spaces", 13, T_IN, R.CONSENT, "consent:C-ENERGY", IN,
         purpose=" Energie ", note=None),
    Case("5", "no purpose named: every consent covers it", 13, T_IN, R.CONSENT,
         "consent:C-ENERGY", IN, note=None),
    Case("5", "consent for another purpose does not count", 13, T_IN, R.NO_LEGAL_BASIS, DIR_IN,
         IN, purpose="pojištění",
         note="consent:C-ENERGY held, not counted: given for other purposes"),
    Case("9c", "another purpose, opt-out regime", 13, T_OUT, R.NO_OPT_OUT, DIR_OUT, OUT,
         purpose="pojištění",
         note="consent:C-ENERGY held, not counted: given for other purposes"),
    Case("6", "another purpose, automated", 13, T_IN, R.AUTOMATED_NEEDS_CONSENT, None, IN,
         call_type="automated", purpose="pojištění",
         note="consent:C-ENERGY held, not counted: given for other purposes"),
    Case("5", "the campaign's purpose, automated, opt-out regime", 13, T_OUT, R.CONSENT,
         "consent:C-ENERGY", OUT, call_type="automated", purpose="energie", note=None),
    Case("5", "a consent without purposes covers any marketing", 14, T_IN, R.CONSENT,
         "consent:C-ANY-PURPOSE", IN, purpose="pojištění", note=None),
    Case("5", "one of several purposes", 15, T_OUT, R.CONSENT, "consent:C-TWO-PURPOSES", OUT,
         purpose="Pojištění", note=None),
    Case("5", "none of several purposes", 15, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         purpose="cestování",
         note="consent:C-TWO-PURPOSES held, not counted: given for other purposes"),
    Case("5", "a withdrawn consent is noted", 2, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         note="consent:C-WITHDRAWN held, not counted: withdrawn"),
    Case("5", "an expired consent is noted", 4, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         note="consent:C-EXPIRED held, not counted: expired"),
    Case("5", "an e-mail consent is noted", 9, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         note="consent:C-EMAIL held, not counted: given for another channel"),
    Case("5", "a consent not yet granted is not held", 6, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         note=None),
    # ---- several controllers sharing one store -------------------------------------------
    Case("5", "shared store: acme has the consent", 80, T_IN, R.CONSENT,
         "consent:C-SHARED-ACME", IN),
    Case("7", "shared store: beta has the contract", 80, T_IN, R.EXISTING_CUSTOMER,
         "contract:K-SHARED-BETA", IN, controller="beta"),
    Case("10", "shared store: gamma has neither", 80, T_IN, R.NO_LEGAL_BASIS, DIR_IN, IN,
         controller="gamma"),
    Case("9a", "shared store: the directory is everyone's", 81, T_IN, R.DIRECTORY_OPT_IN,
         DIR_IN, IN, controller="gamma"),
    Case("4", "shared store: an objection to all binds gamma", 25, T_IN, R.OBJECTION,
         "objection:O-ALL-25", IN, controller="gamma"),
    Case("10", "shared store: an objection to beta leaves gamma", 24, T_IN, R.NO_LEGAL_BASIS,
         DIR_IN, IN, controller="gamma"),
]  # fmt: skip


def _id(case: Case) -> str:
    return f"row{case.row}-{case.what}".replace(" ", "_")


def test_every_row_of_the_table_has_cases() -> None:
    rows = {c.row for c in CASES}
    assert rows == {"1", "2", "3", "4", "5", "6", "7", "8", "9a", "9b", "9c", "10"}


def _ask(case: Case) -> Ask:
    return Ask(case.text, case.controller, to_utc(case.at), case.call_type, purpose=case.purpose)


@functools.cache
def decisions(way: Way, policy: og.Policy | None, directory: bool) -> dict[Case, Decided]:
    """Every case of one policy and store, decided by `way` in one call."""
    cases = [c for c in CASES if (c.policy, c.directory) == (policy, directory)]
    if not way.reads_blank:
        cases = [c for c in cases if c.text]
    rows = way.decide(world(directory), policy or og.Policy(), [_ask(c) for c in cases])
    return dict(zip(cases, rows, strict=True))


def _expect(case: Case, got: Decided, *, notes: bool = True) -> None:
    assert (got.reason, got.evidence, got.rule_set) == (
        case.reason.value,
        case.evidence,
        case.rule_set,
    ), case.what
    if notes and case.note != "":
        assert got.note == case.note, case.what
    assert got.allowed is case.reason.allowed
    if case.reason is og.Reason.INVALID_NUMBER:
        assert got.e164 is None
    else:
        assert got.e164 is not None
        assert got.e164.startswith("+420") == (got.reason != "UNSUPPORTED_REGION")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_oracle_gives_the_written_answer(case: Case) -> None:
    ask = _ask(case)
    got = decide(
        oracle_evidence(case.directory),
        ask.text,
        controller=ask.controller,
        t=ask.t,
        call_type=ask.call_type,
        policy=case.policy or og.Policy(),
        purpose=ask.purpose,
    )
    _expect(case, got)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_way_gives_the_written_answer(way: Way, case: Case) -> None:
    if not (way.reads_blank or case.text):
        pytest.skip(f"{way.name} reads no blank number: a blank log line is unusable")
    _expect(case, decisions(way, case.policy, case.directory)[case], notes=way.notes)

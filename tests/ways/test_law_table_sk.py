"""docs/rules.md § 4.3, row by row, at every Slovak regime boundary: each case names its row.

The answers are written by hand. They hold the oracle (tests/oracle.py) and every way of
deciding, on evidence loaded through `EvidenceStore.load` (tests/ways/law_world_sk.py has the
scenarios behind each number). Cases sit on release days and the day before, on the first
day of each regime and the day before it, on the edges of the customer window and of a
registration taking effect.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest

import optin_gate as og
from optin_gate._time import to_utc
from tests.oracle import Decided, decide
from tests.ways.law_world_sk import PREMIUM, T_EVE, T_RELEASE, oracle_evidence, phone, world
from tests.ways.ways import Way
from tests.ways.worlds import Ask

LINE = "+421 888 000 001"  # a 0888 calling line
NOW = "SK-2025-list"
REG16, REG1 = "register:2026-03-16", "register:2026-03-01"
ALWAYS = og.Policy(sk_consent_beats_register="always")
GRACE = og.Policy(sk_register_grace_days=1)
OPEN_SECTOR = og.Policy(sk_unknown_sector_blocks=False)
NO_WINDOW = og.Policy(sk_customer_window_days=0)


@dataclasses.dataclass(frozen=True)
class Case:
    row: str  # the row of docs/rules.md § 4.3 this case proves
    what: str
    number: int | str  # scenario number (see law_world_sk.py) or the text as written
    at: str
    reason: og.Reason
    evidence: str | None
    rule_set: str
    call_type: str = "live"
    sector: str | None = None
    caller_id: str | None = LINE
    policy: og.Policy | None = None

    @property
    def text(self) -> str:
        return phone(self.number) if isinstance(self.number, int) else self.number


R = og.Reason
CASES = [
    # ---- rows 1-3: as for Czech numbers ---------------------------------------------------
    Case("1-3", "not a valid Slovak number", "+421 12", T_RELEASE, R.INVALID_NUMBER, None,
         "CZ-2022-opt-in"),
    Case("1-3", "premium rate, even with consent", PREMIUM, T_RELEASE, R.BLOCKED_NUMBER_TYPE,
         None, NOW),
    # ---- row 4: objection -----------------------------------------------------------------
    Case("4", "objection to all", 14, T_RELEASE, R.OBJECTION, "objection:O-14", NOW),
    Case("4", "lifted by a later consent, which the registration then outweighs", 15,
         T_RELEASE, R.REGISTER_OPT_OUT, REG16, NOW),
    # ---- row 5: existing customer within the window ---------------------------------------
    Case("5", "contract ended 365 days before", 12, T_RELEASE, R.EXISTING_CUSTOMER,
         "contract:K-LAST-DAY", NOW),
    Case("5", "no 0888 line needed for a customer", 12, T_RELEASE, R.EXISTING_CUSTOMER,
         "contract:K-LAST-DAY", NOW, caller_id=None),
    Case("5", "first day of the act", 19, "2022-02-01T00:30", R.EXISTING_CUSTOMER,
         "contract:K-2021", "SK-2022"),
    Case("5", "window 0 (policy): no longer a customer", 12, T_RELEASE, R.STALE_REGISTER,
         None, NOW, policy=NO_WINDOW),
    Case("13", "contract ended 366 days before", 13, T_RELEASE, R.NO_OPT_OUT, REG16, NOW),
    # ---- row 6: caller ID -----------------------------------------------------------------
    Case("6", "no calling line given", 2, T_RELEASE, R.CALLER_ID_NOT_0888, None, NOW,
         caller_id=None),
    Case("6", "a +421 905 line", 2, T_RELEASE, R.CALLER_ID_NOT_0888, None, NOW,
         caller_id="+421 905 999 999"),
    Case("6", "also for a consent", 6, T_RELEASE, R.CALLER_ID_NOT_0888, None, NOW,
         caller_id=None),
    Case("6", "the range opened 19 Aug 2022", 2, "2022-08-19T00:30", R.CALLER_ID_NOT_0888,
         None, "SK-2022-0888", caller_id=None),
    Case("10", "18 Aug 2022: no caller-ID rule yet", 2, "2022-08-18T23:30", R.NO_OPT_OUT,
         None, "SK-2022", caller_id=None),
    Case("10", "a national 0888 line counts", 2, "2022-08-19T00:30", R.NO_OPT_OUT, None,
         "SK-2022-0888", caller_id="0888 000 001"),
    # ---- row 7: consent, against a registration -------------------------------------------
    Case("7", "granted after the registration took effect", 6, T_RELEASE, R.CONSENT,
         "consent:C-AFTER-REG", NOW),
    Case("12", "granted before it took effect", 7, T_RELEASE, R.REGISTER_OPT_OUT, REG16, NOW),
    Case("7", "before it, but consent always counts (policy)", 7, T_RELEASE, R.CONSENT,
         "consent:C-BEFORE-REG", NOW, policy=ALWAYS),
    Case("12", "a broken run: the registration took effect on 16 Mar", 8, T_RELEASE,
         R.REGISTER_OPT_OUT, REG16, NOW),
    Case("7", "the day before: the release in force lists no registration", 8, T_EVE,
         R.CONSENT, "consent:C-BROKEN-RUN", NOW),
    Case("7", "registered_since of the release in force", 9, T_EVE, R.CONSENT,
         "consent:C-SINCE", NOW),
    Case("12", "the next release names no date: the run's first release", 9, T_RELEASE,
         R.REGISTER_OPT_OUT, REG16, NOW),
    Case("7", "granted later on the day it took effect", 10, T_RELEASE, R.CONSENT,
         "consent:C-SAME-DAY", NOW),
    Case("12", "granted the evening before", 11, T_RELEASE, R.REGISTER_OPT_OUT, REG16, NOW),
    Case("7", "before the act", 18, "2022-01-31T12:00", R.CONSENT, "consent:C-2021",
         "SK-2011-consent"),
    # ---- row 8: automated calls -----------------------------------------------------------
    Case("7", "automated with consent", 16, T_RELEASE, R.CONSENT, "consent:C-AUTO", NOW,
         call_type="automated"),
    Case("8", "automated without consent", 17, T_RELEASE, R.AUTOMATED_NEEDS_CONSENT, None,
         NOW, call_type="automated"),
    Case("8", "automated to a customer", 12, T_RELEASE, R.AUTOMATED_NEEDS_CONSENT, None, NOW,
         call_type="automated"),
    # ---- row 9: before the act ------------------------------------------------------------
    Case("9", "31 Jan 2022: consent needed", 2, "2022-01-31T23:30", R.NO_LEGAL_BASIS, None,
         "SK-2011-consent"),
    Case("9", "31 Jan 2022: a customer too", 19, "2022-01-31T12:00", R.NO_LEGAL_BASIS, None,
         "SK-2011-consent"),
    # ---- row 10: before the list ----------------------------------------------------------
    Case("10", "1 Feb 2022: opt-out", 2, "2022-02-01T00:30", R.NO_OPT_OUT, None, "SK-2022"),
    Case("10", "31 Oct 2022: the list not open", 20, "2022-10-31T23:30", R.NO_OPT_OUT, None,
         "SK-2022-0888"),
    # ---- row 11: stale list ---------------------------------------------------------------
    Case("11", "never checked", 1, T_RELEASE, R.STALE_REGISTER, None, NOW),
    Case("11", "1 Nov 2022: never checked", 1, "2022-11-01T00:30", R.STALE_REGISTER, None,
         "SK-2022-list"),
    Case("11", "only in a later release", 2, T_EVE, R.STALE_REGISTER, None, NOW),
    Case("11", "release day: the previous release is stale", 3, T_RELEASE, R.STALE_REGISTER,
         REG1, NOW),
    Case("13", "the day before: the previous release is due", 3, T_EVE, R.NO_OPT_OUT, REG1,
         NOW),
    Case("13", "release day with a day's grace (policy)", 3, T_RELEASE, R.NO_OPT_OUT, REG1,
         NOW, policy=GRACE),
    Case("11", "11 Nov 2025: years old", 20, "2025-11-11T12:00", R.STALE_REGISTER,
         "register:2022-11-01", "SK-2022-list"),
    Case("11", "12 Nov 2025: the amendment", 20, "2025-11-12T00:30", R.STALE_REGISTER,
         "register:2022-11-01", NOW),
    # ---- row 12: registered ---------------------------------------------------------------
    Case("12", "first release of the list", 20, "2022-11-01T00:30", R.REGISTER_OPT_OUT,
         "register:2022-11-01", "SK-2022-list"),
    Case("12", "registered from this release on", 4, T_RELEASE, R.REGISTER_OPT_OUT, REG16,
         NOW),
    Case("13", "the day before it binds", 4, T_EVE, R.NO_OPT_OUT, REG1, NOW),
    Case("12", "the campaign's sector", 5, T_RELEASE, R.REGISTER_OPT_OUT, REG16, NOW,
         sector="telekom"),
    Case("12", "the sector as written differently", 5, T_RELEASE, R.REGISTER_OPT_OUT, REG16,
         NOW, sector=" Telekom"),
    Case("12", "unknown sector blocks", 5, T_RELEASE, R.REGISTER_OPT_OUT, REG16, NOW),
    Case("13", "unknown sector, policy off", 5, T_RELEASE, R.NO_OPT_OUT, REG16, NOW,
         policy=OPEN_SECTOR),
    Case("13", "another sector", 5, T_RELEASE, R.NO_OPT_OUT, REG16, NOW, sector="energie"),
    # ---- row 13: not registered -----------------------------------------------------------
    Case("13", "listed, not registered", 2, T_RELEASE, R.NO_OPT_OUT, REG16, NOW),
]  # fmt: skip


def _id(case: Case) -> str:
    return f"row{case.row}-{case.what}".replace(" ", "_")


def test_every_row_of_the_table_has_cases() -> None:
    rows = {c.row for c in CASES}
    assert rows == {"1-3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13"}


def _ask(case: Case) -> Ask:
    return Ask(case.text, "acme", to_utc(case.at), case.call_type, case.sector, case.caller_id)


@functools.cache
def decisions(way: Way, policy: og.Policy | None) -> dict[Case, Decided]:
    """Every case of one policy, decided by `way` in one call."""
    cases = [c for c in CASES if c.policy == policy]
    rows = way.decide(world(), policy or og.Policy(), [_ask(c) for c in cases])
    return dict(zip(cases, rows, strict=True))


def _expect(case: Case, got: Decided) -> None:
    assert (got.reason, got.evidence, got.rule_set) == (
        case.reason.value,
        case.evidence,
        case.rule_set,
    ), case.what
    assert got.allowed is case.reason.allowed
    assert (got.e164 is None) == (case.reason is og.Reason.INVALID_NUMBER)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_oracle_gives_the_written_answer(case: Case) -> None:
    ask = _ask(case)
    got = decide(
        oracle_evidence(),
        ask.text,
        controller=ask.controller,
        t=ask.t,
        call_type=ask.call_type,
        policy=case.policy or og.Policy(),
        sector=ask.sector,
        caller_id=ask.caller_id,
    )
    _expect(case, got)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_way_gives_the_written_answer(way: Way, case: Case) -> None:
    _expect(case, decisions(way, case.policy)[case])

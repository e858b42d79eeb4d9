"""Shared hypothesis strategies: every test that needs random facts, numbers or evidence draws
them from here, so one improvement reaches every property."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from optin_gate.policy import KNOWN_NUMBER_TYPES, Policy
from optin_gate.rules import Facts

REGIME_DAY = date(2022, 7, 1)

# Days clustered around the interesting boundaries: the regime change and a 31-day window.
days = st.one_of(
    st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(-40, 40).map(lambda d: REGIME_DAY + timedelta(days=d)),
)

ids = st.none() | st.text(alphabet="ABC-0123456789", min_size=1, max_size=6)

marketing = st.sampled_from([None, "opt_in", "opt_out", "unmarked"])

number_types = st.sampled_from(sorted(KNOWN_NUMBER_TYPES))


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    """Any combination of facts the store and numbers stages can produce."""
    valid = draw(st.booleans())
    t_day = draw(days)
    directory_date = draw(st.none() | st.integers(0, 60).map(lambda d: t_day - timedelta(days=d)))
    return Facts(
        valid=valid,
        country=draw(st.sampled_from(["CZ", "SK", "DE", "001"])) if valid else None,
        number_type=draw(number_types) if valid else None,
        automated=draw(st.booleans()),
        t_day=t_day,
        objection_id=draw(ids),
        consent_id=draw(ids),
        contract_id=draw(ids),
        directory_date=directory_date,
        directory_marketing=draw(marketing) if directory_date is not None else None,
    )


policies = st.builds(
    Policy,
    opt_in_from=st.sampled_from([REGIME_DAY, date(2022, 1, 1)]),
    directory_max_age_days=st.sampled_from([0, 7, 31]),
    blocked_number_types=st.sampled_from([Policy().blocked_number_types, (), ("mobile", "voip")]),
)


# --- evidence (see tests/oracle.py) -----------------------------------------------------------
# A small universe so that draws collide: the interesting cases are overlaps.
from datetime import UTC, datetime  # noqa: E402

from tests.oracle import Consent, Contract, Evidence, Objection  # noqa: E402

PHONES = (420601000001, 420601000002, 420601000003)
CONTROLLERS = ("acme", "beta")
EPOCH = datetime(2022, 6, 20, tzinfo=UTC)

instants = st.integers(0, 30 * 24).map(lambda h: EPOCH + timedelta(hours=h))
opt_instants = st.none() | instants
short_ids = st.text(alphabet="XYZ0123", min_size=1, max_size=3)


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    """Random evidence over PHONES and CONTROLLERS within ~30 days of the regime change."""
    phones = st.sampled_from(PHONES)
    consents = draw(
        st.lists(
            st.builds(
                Consent,
                consent_id=short_ids.map(lambda s: "C" + s),
                phone=phones,
                controller=st.sampled_from(CONTROLLERS),
                granted_at=instants,
                withdrawn_at=opt_instants,
                expires_at=opt_instants,
                channel=st.sampled_from(["phone", "any", "email"]),
            ),
            max_size=6,
            unique_by=lambda c: (c.controller, c.consent_id),
        )
    )
    objections = draw(
        st.lists(
            st.builds(
                Objection,
                objection_id=short_ids.map(lambda s: "O" + s),
                phone=phones,
                controller=st.none() | st.sampled_from(CONTROLLERS),
                objected_at=instants,
            ),
            max_size=4,
            unique_by=lambda o: o.objection_id,
        )
    )
    contracts = draw(
        st.lists(
            st.builds(
                Contract,
                contract_id=short_ids.map(lambda s: "K" + s),
                phone=phones,
                controller=st.sampled_from(CONTROLLERS),
                start_date=instants.map(lambda i: i.date()),
                end_date=st.none() | instants.map(lambda i: i.date()),
            ),
            max_size=4,
            unique_by=lambda k: (k.controller, k.contract_id),
        )
    )
    snap_days = draw(st.lists(instants.map(lambda i: i.date()), max_size=3, unique=True))
    snapshots = {
        d: draw(st.dictionaries(phones, st.sampled_from(["opt_in", "opt_out", "unmarked"])))
        for d in snap_days
    }
    return Evidence(consents, objections, contracts, snapshots)

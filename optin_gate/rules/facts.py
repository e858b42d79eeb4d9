"""`Facts`: what the evidence says about one number at one time; the rules' only input.

The batch engine computes these as columns of one SQL relation, the dial checker as one
`Facts` value from its in-memory index. Both then apply the same rules (`optin_gate.rules`).
The field names below are also the SQL column names; `FACT_COLUMNS` gives their SQL types.
"""

from __future__ import annotations

import dataclasses
from datetime import date

__all__ = ["FACT_COLUMNS", "Facts"]


@dataclasses.dataclass(frozen=True, slots=True)
class Facts:
    """The facts about one (number, controller, time, call type).

    Attributes:
        valid: The number parsed and is a valid number (phonenumbers' is_valid_number).
        country: ISO region of the number, e.g. "CZ"; None when not valid.
        number_type: phonenumbers' type in lower case, e.g. "mobile"; None when not valid.
        automated: The call is automated (machine-played), not live.
        t_day: The calendar day of the decision time in Prague.
        objection_id: An objection in force at T: made at or before T for this controller or
            all controllers, and not followed by a consent valid at T granted after it.
        consent_id: A consent valid at T for this controller (granted at or before T, not
            withdrawn or expired at T, within `consent_max_age_days`, channel phone or any).
        contract_id: A contract of this controller active on T's day, `customer_grace_days`
            after its end included.
        directory_date: Date of the newest directory snapshot on or before T's day.
        directory_marketing: What that snapshot says of the number: "opt_in", "opt_out",
            "unmarked", or None when the number is absent from it (or there is no snapshot).
    """

    valid: bool
    country: str | None
    number_type: str | None
    automated: bool
    t_day: date
    objection_id: str | None = None
    consent_id: str | None = None
    contract_id: str | None = None
    directory_date: date | None = None
    directory_marketing: str | None = None


FACT_COLUMNS: dict[str, str] = {
    "valid": "BOOLEAN",
    "country": "VARCHAR",
    "number_type": "VARCHAR",
    "automated": "BOOLEAN",
    "t_day": "DATE",
    "objection_id": "VARCHAR",
    "consent_id": "VARCHAR",
    "contract_id": "VARCHAR",
    "directory_date": "DATE",
    "directory_marketing": "VARCHAR",
}
assert tuple(FACT_COLUMNS) == tuple(f.name for f in dataclasses.fields(Facts))

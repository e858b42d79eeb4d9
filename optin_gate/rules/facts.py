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
        objection_id: The objection in force at T for this controller (which counts and
            which wins: `optin_gate.store.semantics`, as for the two ids below).
        consent_id: The consent of this controller that counts and holds at T.
        contract_id: The contract of this controller that counts on T's day.
        directory_date: Date of the newest directory snapshot on or before T's day.
        directory_marketing: What that snapshot says of the number: "opt_in", "opt_out",
            "unmarked", or None when the number is absent from it (or there is no snapshot).
        caller_id_0888: The calling line is a +421 888 number (a Slovak rule); False when
            the campaign names none.
        register_date: For a Slovak number, the Slovak list release in force: the newest on
            or before T's day that holds the number (`optin_gate.store.semantics`).
        register_blocks: That release lists the number as registered for the campaign's
            sector (or all sectors, or any when the sector is unknown, per the policy).
        consent_before_register: The counting consent does not outweigh that registration
            (granted before it took effect, under `sk_consent_beats_register="newer"`).
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
    caller_id_0888: bool = False
    register_date: date | None = None
    register_blocks: bool = False
    consent_before_register: bool = False


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
    "caller_id_0888": "BOOLEAN",
    "register_date": "DATE",
    "register_blocks": "BOOLEAN",
    "consent_before_register": "BOOLEAN",
}
assert tuple(FACT_COLUMNS) == tuple(f.name for f in dataclasses.fields(Facts))

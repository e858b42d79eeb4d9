"""`Context`: what one gate decides with, handed down to the engine, the dial and the audit.

`Gate` is the facade users hold; the stages below it take this frozen value instead, so none
of them depends on the facade (docs/design.md: no module imports one later in the chain), and
a new call parameter is one more field here that every stage can read.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

from optin_gate.errors import InputError
from optin_gate.numbers import normalize_one
from optin_gate.policy import Policy
from optin_gate.store.controllers import controller_key
from optin_gate.store.purposes import check_purpose

if TYPE_CHECKING:
    from optin_gate.store import EvidenceStore

__all__ = [
    "CALL_TYPES",
    "DEFAULT_MAX_INDEX_AGE",
    "DEFAULT_REFRESH_INTERVAL",
    "CallType",
    "Context",
    "caller_line_0888",
    "check_call_type",
    "check_sector",
]

CallType = Literal["live", "automated"]
CALL_TYPES: tuple[str, ...] = ("live", "automated")
DEFAULT_REFRESH_INTERVAL = 60.0
DEFAULT_MAX_INDEX_AGE = 600.0


def check_call_type(call_type: str) -> CallType:
    """Validate a call type argument.

    Raises:
        InputError: Not one of `CALL_TYPES`.
    """
    if call_type not in CALL_TYPES:
        raise InputError(
            f"call_type={call_type!r} is not a call type",
            hint='use "live" (a person speaks) or "automated" (a machine plays the message)',
        )
    return call_type  # type: ignore[return-value]


def check_sector(sector: object) -> str | None:
    """Validate a campaign's marketing sector (docs/rules.md § 4.4: registrations are per sector).

    Raises:
        InputError: Not None and not a non-empty text.
    """
    from optin_gate.store.semantics import sector_key  # its compiled helpers load numba

    if sector is None:
        return None
    if not isinstance(sector, str) or not sector.strip() or ";" in sector:
        raise InputError(
            f"sector={sector!r} is not a marketing sector code",
            hint="pass the campaign's sector code as the Slovak list names it, e.g. "
            'sector="telekom", or leave it out (then any registration blocks)',
        )
    return sector_key(sector)


def caller_line_0888(caller_id: object) -> bool:
    """The calling line is a +421 888 number (read as a Slovak number when it has no code).

    Raises:
        InputError: Not None and not text.
    """
    from optin_gate.store.semantics import caller_id_0888

    if caller_id is None:
        return False
    if not isinstance(caller_id, str):
        raise InputError(
            f"caller_id={caller_id!r} is not a phone number",
            hint='pass the calling line as text, e.g. caller_id="+421888123456"',
        )
    return caller_id_0888(normalize_one(caller_id, "SK").e164)


@dataclasses.dataclass(frozen=True, slots=True)
class Context:
    """The evidence, the caller and the call parameters one decision is made with.

    Change a call parameter with `dataclasses.replace`; the new value is checked again.

    Attributes:
        store: The evidence the decisions rest on.
        controller: The company (GDPR controller) calling, as its key (`controller_key`:
            "ACME " and "acme" are one company).
        policy: How to read the law where it leaves room.
        call_type: "live" or "automated" (the audit reads it per call from the log instead).
        purpose: The campaign's marketing purpose, as its key (`store.purposes.purpose_key`);
            a consent whose purposes do not include it does not count. None: no purpose
            named, every consent's purposes cover the call (the audit reads it per call).
        refresh_interval: Seconds between the dial index's background refreshes; None for
            none.
        max_index_age: Seconds the dial index may go without a successful refresh before
            checks fail closed; None for no bound.
        sector: The campaign's marketing sector, folded (`semantics.sector_key`); None when
            unknown (the audit reads it per call from the log instead).
        caller_id: The calling line as given; None when not given (the audit reads it per
            call from the log instead).
    """

    store: EvidenceStore
    controller: str
    policy: Policy = dataclasses.field(default_factory=Policy)
    call_type: CallType = "live"
    purpose: str | None = None
    refresh_interval: float | None = DEFAULT_REFRESH_INTERVAL
    max_index_age: float | None = DEFAULT_MAX_INDEX_AGE
    sector: str | None = None
    caller_id: str | None = None

    @property
    def caller_id_0888(self) -> bool:
        """The calling line is a +421 888 number (docs/rules.md § 4.3 row 6)."""
        return caller_line_0888(self.caller_id)

    def __post_init__(self) -> None:
        if not isinstance(self.controller, str) or not self.controller.strip():
            raise InputError(
                f"controller={self.controller!r} is not a controller name",
                hint='pass the calling company\'s name, e.g. controller="acme"',
            )
        # Frozen: the folded name is set once, here, so every stage compares keys.
        object.__setattr__(self, "controller", controller_key(self.controller))
        check_call_type(self.call_type)
        object.__setattr__(self, "sector", check_sector(self.sector))
        caller_line_0888(self.caller_id)
        object.__setattr__(self, "purpose", check_purpose(self.purpose))
        interval = self.refresh_interval
        if interval is not None and not interval > 0:
            raise InputError(
                f"refresh_interval={interval!r} is not a number of seconds > 0",
                hint="pass e.g. refresh_interval=60, or None to refresh only by calling refresh()",
            )
        age = self.max_index_age
        if age is not None and not age > 0:
            raise InputError(
                f"max_index_age={age!r} is not a number of seconds > 0",
                hint="pass e.g. max_index_age=600, or None to answer from any index age",
            )

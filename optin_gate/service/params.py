"""Reading a request: the query string and JSON bodies, into checked frozen values.

A dialplan writes `number=+420601234567` without escaping the plus; in a query string a
plain `+` would mean a space, so values are read with percent-decoding only (`%2B` and `+`
are both a plus, `%20` a space). Names are the exception: an HTTP client that form-encodes
`controller=ACME s.r.o.` sends `ACME+s.r.o.`, and reading that as a plus would ask about a
company nobody named, so in `controller`, `purpose` and `sector` a `+` is a space.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote, unquote_plus

from optin_gate._time import now_utc, to_utc
from optin_gate.context import CALL_TYPES
from optin_gate.dial import Checker
from optin_gate.errors import InputError, RequestError

__all__ = [
    "CAMPAIGN",
    "MAX_NUMBERS",
    "Ask",
    "Batch",
    "ObjectionAsk",
    "bad",
    "parse_batch",
    "parse_objection",
    "parse_query",
]

MAX_NUMBERS = 10_000
# The campaign parameters (docs/design.md) this version's checker takes.
CAMPAIGN = tuple(
    p
    for p in ("purpose", "sector", "caller_id")
    if p in inspect.signature(Checker.check).parameters
)
_CAMPAIGN_ALL = ("purpose", "sector", "caller_id")


def bad(message: str, hint: str) -> RequestError:
    """A 400."""
    return RequestError(400, message, hint=hint)


@dataclasses.dataclass(frozen=True)
class Ask:
    """What one check asks: the parameters every decision of a request shares.

    Attributes:
        controller: The controller as named in the request (None: the token's only one).
        call_type: "live" or "automated".
        at: The decision time; None for now.
        campaign: The campaign parameters given (purpose, sector, caller_id).
    """

    controller: str | None
    call_type: str = "live"
    at: datetime | None = None
    campaign: tuple[tuple[str, str], ...] = ()

    def when(self) -> datetime:
        """The decision time, now if none was asked for."""
        return now_utc() if self.at is None else self.at


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad(f"{name} must be a string", f"send {name} as text")


def _ask(get: Any) -> Ask:
    call_type = _text(get("call_type"), "call_type") or "live"
    if call_type not in CALL_TYPES:
        raise bad("call_type is not live or automated", "send call_type=live or automated")
    at = _text(get("at"), "at")
    try:
        when = None if at is None or not at.strip() else to_utc(at, name="at")
    except InputError as exc:
        raise bad(exc.message, exc.hint) from None
    campaign = []
    for name in _CAMPAIGN_ALL:
        value = _text(get(name), name)
        if value is not None and value != "":
            if name not in CAMPAIGN:
                raise bad(f"{name} is not supported by this version", f"leave {name} out")
            campaign.append((name, value))
    return Ask(_text(get("controller"), "controller"), call_type, when, tuple(campaign))


def _decoded(value: str) -> str:
    """`value` percent-decoded; "%2B420..." (an escaped E.164 number) without the general path."""
    if "%" not in value:
        return value
    if value[:3] in {"%2B", "%2b"} and "%" not in value[3:]:
        return "+" + value[3:]
    return unquote(value)


# Names, where a form-encoded space is meant; a number or a time keeps its plus.
_NAMES = frozenset({"controller", "purpose", "sector"})

# Query parameters that leave the check's parameters at their defaults (a dialer's usual ask).
_PLAIN = frozenset({"number", "controller", "ref", "format"})
_PLAIN_ASKS: dict[str | None, Ask] = {}


def parse_query(query: bytes) -> tuple[dict[str, str], Ask]:
    """The query string's values (percent-decoded, `+` kept) and the check it asks."""
    values: dict[str, str] = {}
    for part in query.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            name = unquote(name) if "%" in name else name
            if name in values:
                # Answering about either value could dial the one the dialler did not mean.
                raise bad(f"{name} is given twice", f"send {name} once")
            values[name] = unquote_plus(value) if name in _NAMES else _decoded(value)
    if values.keys() <= _PLAIN:
        # Only the number and the controller: one Ask per controller, made once.
        controller = values.get("controller")
        ask = _PLAIN_ASKS.get(controller)
        if ask is None:
            ask = _ask(values.get)
            if len(_PLAIN_ASKS) < 1024:
                _PLAIN_ASKS[controller] = ask
        return values, ask
    return values, _ask(values.get)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Nesting deeper than the parser's recursion is malformed input too, not a fault.
        raise bad("the body is not JSON", "send a JSON object") from None
    if not isinstance(data, dict):
        raise bad("the body is not a JSON object", 'send {"numbers": [...], ...}')
    return data


@dataclasses.dataclass(frozen=True)
class Batch:
    """A POST /v1/check: many numbers, one set of parameters."""

    ask: Ask
    numbers: tuple[str | None, ...]
    refs: tuple[str | None, ...]


def parse_batch(body: bytes) -> Batch:
    """The body of POST /v1/check.

    Raises:
        RequestError: 400 for a malformed body, 413 for more than `MAX_NUMBERS` numbers.
    """
    data = _json_object(body)
    numbers = data.get("numbers")
    if not isinstance(numbers, list):
        raise bad("numbers is not a list", 'send "numbers": ["+420601234567", ...]')
    if len(numbers) > MAX_NUMBERS:
        raise RequestError(
            413,
            f"more than {MAX_NUMBERS} numbers in one request",
            hint=f"send at most {MAX_NUMBERS} numbers per request",
        )
    refs = data.get("refs")
    if refs is None:
        refs = [None] * len(numbers)
    if not isinstance(refs, list) or len(refs) != len(numbers):
        raise bad("refs is not a list as long as numbers", "send one ref per number or none")
    return Batch(
        _ask(data.get),
        tuple(_text(n, "every number") for n in numbers),
        tuple(_text(r, "every ref") for r in refs),
    )


@dataclasses.dataclass(frozen=True)
class ObjectionAsk:
    """A POST /v1/objections: the number, its controller (None: every one) and time."""

    number: str
    controller: str | None
    at: datetime
    source: str | None
    objection_id: str | None


def parse_objection(body: bytes) -> ObjectionAsk:
    """The body of POST /v1/objections.

    Raises:
        RequestError: 400 for a malformed body or a missing number.
    """
    data = _json_object(body)
    number = _text(data.get("number"), "number")
    if number is None or not number.strip():
        raise bad("number is missing", 'send "number": "+420601234567"')
    at = _text(data.get("at"), "at")
    try:
        when = to_utc(at if at and at.strip() else None, name="at")
    except InputError as exc:
        raise bad(exc.message, exc.hint) from None
    return ObjectionAsk(
        number,
        _text(data.get("controller"), "controller"),
        when,
        _text(data.get("source"), "source"),
        _text(data.get("objection_id"), "objection_id"),
    )

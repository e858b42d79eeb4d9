"""The bodies the service answers with: one text line for a dialplan, or JSON.

The text line's first character is the whole answer for a dialplan: `1` dial, anything else
do not. Every error body in text starts with `0 ERROR`, so reading the first character never
dials on an error either.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from optin_gate._time import PRAGUE
from optin_gate.rules import Decision

__all__ = ["error_json", "error_text", "result", "text_line"]


def text_line(decision: Decision) -> bytes:
    """`1 CONSENT consent:C-1` / `0 OBJECTION objection:O-77`; evidence `-` when none."""
    # `reason` is a StrEnum: it formats as its value.
    dial = "1" if decision.allowed else "0"
    return f"{dial} {decision.reason} {decision.evidence or '-'}\n".encode()


def result(
    decision: Decision,
    *,
    number: str | None,
    controller: str,
    call_type: str,
    at: datetime,
    ref: str | None,
) -> dict[str, Any]:
    """One decision as the JSON object of docs/design.md (`at` in Prague time, with offset)."""
    return {
        "number": number,
        "e164": decision.e164,
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "evidence": decision.evidence,
        "rule_set": decision.rule_set,
        "controller": controller,
        "call_type": call_type,
        "at": at.astimezone(PRAGUE).isoformat(),
        "ref": ref,
    }


def error_text(message: str) -> bytes:
    """An error as a dialplan reads it: never a leading `1`."""
    return f"0 ERROR {' '.join(message.split())}\n".encode()


def error_json(status: int, message: str) -> bytes:
    """An error as JSON clients read it."""
    return json.dumps({"error": {"status": status, "message": message}}).encode()

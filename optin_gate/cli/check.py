"""`optin-gate check NUMBER`: may this number be called now? Exit 0 allowed, 1 denied.

Prints the decision, its reason in plain words, the evidence it rests on and the rule set.
The dial checker answers it from an index of this one number (filtered scans of the store),
so a single check does not read the whole store.
"""

from __future__ import annotations

import sys

import click

from optin_gate.cli._app import (
    EXIT_DENIED,
    call_type_option,
    campaign_options,
    controller_option,
    main,
    open_store,
    purpose_option,
    store_option,
)

__all__ = ["check"]


@main.command()
@click.argument("number")
@store_option
@controller_option
@click.option("--at", "at", default=None, help="Decide as of this time (ISO; default now).")
@call_type_option
@campaign_options
@purpose_option
def check(
    *,
    number: str,
    store_path: str,
    controller: str,
    at: str | None,
    call_type: str,
    sector: str | None,
    caller_id: str | None,
    purpose: str | None,
) -> None:
    """May NUMBER be called for marketing now? Exit 0 allowed, 1 denied, 2 error."""
    from optin_gate._time import PRAGUE, to_utc
    from optin_gate.context import Context, check_call_type
    from optin_gate.dial import Checker
    from optin_gate.numbers import normalize_one

    when = to_utc(at, name="--at")
    context = Context(open_store(store_path), controller, refresh_interval=None)
    number_ = normalize_one(number, context.policy.default_region)
    keys = [] if number_.e164 is None else [int(number_.e164[1:])]
    checker = Checker(context, keys=keys)
    try:
        decision = checker.check(
            number,
            at=when,
            call_type=check_call_type(call_type),
            sector=sector,
            caller_id=caller_id,
            purpose=purpose,
        )
    finally:
        checker.close()
    verdict = "ALLOWED" if decision.allowed else "DENIED"
    click.echo(f"{decision.e164 or 'not a valid number'}: {verdict} ({decision.reason.value})")
    click.echo(f"  why:      {decision.reason.explanation}")
    click.echo(f"  evidence: {decision.evidence or '-'}")
    click.echo(f"  rule set: {decision.rule_set}")
    if decision.note is not None:
        click.echo(f"  note:     {decision.note}")
    local = when.astimezone(PRAGUE)
    what = f"{call_type} call, {controller}" + (f", purpose {purpose}" if purpose else "")
    click.echo(f"  at:       {local:%Y-%m-%d %H:%M:%S} Prague ({what})")
    if not decision.allowed:
        sys.exit(EXIT_DENIED)

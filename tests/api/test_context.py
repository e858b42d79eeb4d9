"""`Context`: the settings a gate hands down are the gate's own, frozen, and checked."""

from __future__ import annotations

import dataclasses
from datetime import date

import pyarrow as pa
import pytest

import optin_gate as og
from optin_gate.context import Context


def test_the_gate_hands_down_its_own_settings() -> None:
    store = og.EvidenceStore()
    policy = og.Policy(opt_in_from=date(2022, 1, 1))
    gate = og.Gate(store, "acme", policy, refresh_interval=None)
    context = gate.context
    assert (context.store, context.controller, context.policy) == (store, "acme", policy)
    assert (context.call_type, context.refresh_interval) == ("live", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.controller = "beta"  # type: ignore[misc]
    assert gate.controller == "acme"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"call_type": "robot"}, "call_type"),
        ({"controller": "  "}, "controller"),
        ({"refresh_interval": 0}, "refresh_interval"),
    ],
)
def test_a_bad_setting_is_refused_however_the_context_is_made(
    change: dict[str, object], named: str
) -> None:
    context = Context(og.EvidenceStore(), "acme")
    with pytest.raises(og.InputError, match=named) as err:
        dataclasses.replace(context, **change)  # type: ignore[arg-type]
    assert err.value.hint


def test_filter_decides_with_the_call_type_it_is_given() -> None:
    gate = og.Gate(og.EvidenceStore(), "acme")
    listing = pa.table({"phone": ["+420601123456"]})
    automated = gate.filter(listing, as_of="2024-01-01", call_type="automated")
    assert automated.table.column("reason").to_pylist() == ["AUTOMATED_NEEDS_CONSENT"]
    assert gate.context.call_type == "live"  # the gate's own context is left as it was


def test_the_controller_is_one_company_however_it_is_typed() -> None:
    # The command line builds a Context without a Gate: it must fold the name the same way.
    assert Context(og.EvidenceStore(), " ACME ").controller == "acme"
    assert og.Gate(og.EvidenceStore(), "Acme").context.controller == "acme"

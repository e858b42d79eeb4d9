"""Marketing purposes: one purpose, however it is typed, as controller names are.

A consent's `purposes` column lists the purposes it was given for, separated by ";"; a
campaign names its one `purpose`. Both are folded to keys the same way (surrounding white
space dropped, lower case: "Energy " and "energy" are one purpose), so a purpose matches
exactly when the keys are equal. The store keeps a consent's purposes as their keys, sorted,
de-duplicated and joined by ";" (NULL when there are none: any marketing). `purpose_key`
and `purposes_sql` are the two forms of the one rule.
"""

from __future__ import annotations

from optin_gate.errors import InputError
from optin_gate.store.controllers import controller_key, controller_key_sql

__all__ = [
    "SEPARATOR",
    "check_purpose",
    "purpose_key",
    "purpose_key_sql",
    "purposes_sql",
    "split_purposes",
]

SEPARATOR = ";"


def purpose_key(name: str) -> str:
    """The key of a purpose name (`controller_key`'s folding)."""
    return controller_key(name)


def check_purpose(purpose: object) -> str | None:
    """A `purpose=` argument as its key; None (no purpose given) stays None.

    Raises:
        InputError: Not a non-empty text, or it holds the separator.
    """
    if purpose is None:
        return None
    if not isinstance(purpose, str) or not purpose.strip() or SEPARATOR in purpose:
        raise InputError(
            f"purpose={purpose!r} is not a purpose name",
            hint='pass the campaign\'s one purpose, e.g. purpose="energy", or leave it out',
        )
    return purpose_key(purpose)


def split_purposes(stored: str | None) -> tuple[str, ...]:
    """The purpose keys of a stored `purposes` value (empty: any marketing)."""
    return tuple(stored.split(SEPARATOR)) if stored else ()


def purpose_key_sql(expr: str) -> str:
    """SQL: `purpose_key` of a VARCHAR expression (NULL stays NULL)."""
    return controller_key_sql(expr)


def purposes_sql(expr: str) -> str:
    """SQL: a `;`-separated purposes text as the store keeps it (NULL when none is named)."""
    folded = (
        f"list_transform(string_split({expr}, '{SEPARATOR}'), lambda p: {purpose_key_sql('p')})"
    )
    kept = f"list_sort(list_distinct(list_filter({folded}, lambda p: p <> '')))"
    return f"nullif(array_to_string({kept}, '{SEPARATOR}'), '')"

"""Controller names: one company, however its name is typed.

An objection recorded for "ACME " must block calls for "acme", so every name is folded to
one key on its way in (loads, recorded objections, a gate's controller, an audit log's
column) and the store holds only keys. `controller_key` and `controller_key_sql` are the
two forms of the one rule.
"""

from __future__ import annotations

from optin_gate._sql import sql_literal

__all__ = ["FOLDED_FLAG", "controller_key", "controller_key_sql", "fold_stored_sql"]

# Set in the store's meta table once every stored controller name is a key.
FOLDED_FLAG = "controllers_folded"

_SPACE = " \t\r\n\f\v"


def controller_key(name: str) -> str:
    """The key of a controller name: surrounding white space dropped, lower case."""
    return name.strip(_SPACE).lower()


def controller_key_sql(expr: str) -> str:
    """SQL: `controller_key` of a VARCHAR expression (NULL stays NULL)."""
    return f"lower(trim({expr}, {sql_literal(_SPACE)}))"


def fold_stored_sql() -> str:
    """SQL folding the names already in a store made before keys (idempotent)."""
    return "".join(
        f"UPDATE {table} SET controller = {controller_key_sql('controller')} "
        f"WHERE controller IS DISTINCT FROM {controller_key_sql('controller')};\n"
        for table in ("consents", "contracts", "objections", "loads")
    )

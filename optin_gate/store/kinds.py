"""The evidence kinds: what identifies a record, defaults, and how duplicates are settled.

Column names, types and required flags come from `data/schemas/<kind>.json`; this module only
adds what a schema cannot say: a record's identity, the defaults docs/design.md gives (controller
from the load, channel "phone", a generated objection id) and which of two rows for the same
record a file means.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from datetime import UTC, datetime

from optin_gate._sql import sql_literal
from optin_gate.errors import InputError
from optin_gate.io import TableSchema, load_schema
from optin_gate.store.controllers import controller_key_sql
from optin_gate.store.purposes import SEPARATOR, purposes_sql

__all__ = ["KINDS", "Kind", "generated_objection_id", "get_kind", "objection_id_sql"]

# `registered` values that mean yes (the schema's enum lists the rest).
_YES = "'true', 'yes', 'ano', '1'"

# Channel words that mean "phone" or "any"; other channels are kept but permit no call.
_PHONE_WORDS = ("phone", "telefon", "tel", "telephone", "hovor", "call", "voice")
_ANY_WORDS = ("any", "all", "vse", "vsechny", "vsechno", "jakykoli")


@dataclasses.dataclass(frozen=True)
class Kind:
    """One evidence kind.

    Attributes:
        name: "consents", "contracts", "directory", "objections" or "sk_register".
        key: The columns identifying a record (within a file and across loads).
        store_columns: The staged columns handed to the merge, in table order.
        few_values: Time columns with a handful of distinct values (parsed once each).
        sticky: Columns whose earliest value among all rows and versions of a record is
            kept: a consent withdrawn once stays withdrawn, whatever a later row or load says
            (a renewed consent is a new record with its own id).
        checks: (column, SQL condition on `{}` the column's text, reason) rejecting a row
            for what its schema cannot say.
    """

    name: str
    key: tuple[str, ...]
    store_columns: tuple[str, ...]
    few_values: tuple[str, ...] = ()
    sticky: tuple[str, ...] = ()
    checks: tuple[tuple[str, str, str], ...] = ()

    @property
    def schema(self) -> TableSchema:
        """The kind's Frictionless schema."""
        return load_schema(self.name)

    def finish(self, values: dict[str, str], controller: str | None) -> dict[str, str]:
        """SQL of each store column from the typed values, with docs/design.md's defaults applied.

        Args:
            values: canonical column -> SQL of its typed value (NULL when not in the file).
            controller: The load's `controller=` argument.
        """
        ctrl = "NULL" if controller is None else sql_literal(controller)
        cols = {c: values[c] for c in self.store_columns}
        if "controller" in cols:
            default = "NULL" if self.name == "objections" else "'default'"
            given = controller_key_sql(values["controller"])
            cols["controller"] = f"coalesce({given}, {ctrl}, {default})"
        if self.name == "consents":
            channel = values["channel"]
            folded = f"strip_accents(lower({channel}))"
            phone = ", ".join(sql_literal(w) for w in _PHONE_WORDS)
            anyw = ", ".join(sql_literal(w) for w in _ANY_WORDS)
            cols["channel"] = (
                f"CASE WHEN {channel} IS NULL THEN 'phone' WHEN {folded} IN ({phone}) "
                f"THEN 'phone' WHEN {folded} IN ({anyw}) THEN 'any' ELSE lower({channel}) END"
            )
            cols["purposes"] = purposes_sql(values["purposes"])
        if self.name == "sk_register":
            from optin_gate.store.semantics import ALL_SECTORS  # loads numba: not at import

            cols["registered"] = f"{values['registered']} IN ({_YES})"
            # Sector codes compare without case or spaces; a registered row naming none
            # covers every sector (fail closed).
            codes = (
                f"array_to_string(list_sort(list_distinct(list_filter(list_transform("
                f"string_split(coalesce({values['sectors']}, ''), ';'), lambda x: lower(trim(x))), "
                f"lambda x: x <> ''))), ';')"
            )
            cols["sectors"] = (
                f"CASE WHEN NOT ({cols['registered']}) THEN '' "
                f"WHEN {codes} = '' OR list_contains(string_split({codes}, ';'), "
                f"'{ALL_SECTORS}') THEN '{ALL_SECTORS}' ELSE {codes} END"
            )
        if self.name == "objections":
            generated = objection_id_sql(values["phone"], cols["controller"], values["objected_at"])
            cols["objection_id"] = f"coalesce({values['objection_id']}, {generated})"
        return cols

    def priority_sql(self) -> str:
        """SQL ORDER BY within a record's rows in one file: the first row is the one kept."""
        if self.name == "sk_register":
            # Fail closed: of conflicting rows keep the registration.
            return "CASE WHEN registered THEN 0 ELSE 1 END, __row DESC"
        if self.name == "directory":
            # Fail closed: of conflicting marks keep the one that permits least.
            return (
                "CASE marketing WHEN 'opt_out' THEN 0 WHEN 'unmarked' THEN 1 ELSE 2 END, __row DESC"
            )
        return "__row DESC"  # the file's last word on a record wins


KINDS: dict[str, Kind] = {
    "consents": Kind(
        "consents",
        key=("controller", "consent_id"),
        store_columns=(
            "consent_id",
            "phone",
            "controller",
            "granted_at",
            "withdrawn_at",
            "expires_at",
            "channel",
            "source",
            "purposes",
            "wording",
            "proof",
            "obtained",
            "captured_via",
        ),
        sticky=("withdrawn_at",),
        # A comma would silently make "energy, insurance" one purpose nobody campaigns for.
        checks=(
            (
                "purposes",
                "contains({}, ',')",
                f"separate purposes with {SEPARATOR!r}, not ','",
            ),
        ),
    ),
    "contracts": Kind(
        "contracts",
        key=("controller", "contract_id"),
        store_columns=(
            "contract_id",
            "phone",
            "controller",
            "start_date",
            "end_date",
            "customer_id",
        ),
    ),
    "directory": Kind(
        "directory",
        key=("phone",),
        store_columns=("phone", "marketing", "snapshot_date", "source"),
        few_values=("snapshot_date",),
    ),
    # An objection is never lost: two systems that both number from 1 keep both objections,
    # since a record is its id together with its number, controller and time.
    "objections": Kind(
        "objections",
        key=("objection_id", "phone", "controller", "objected_at"),
        store_columns=("objection_id", "phone", "controller", "objected_at", "source"),
    ),
    # One release of the Slovak list: a per-number result, dated by `release_date`.
    "sk_register": Kind(
        "sk_register",
        key=("phone",),
        store_columns=("phone", "registered", "sectors", "registered_since", "release_date"),
        few_values=("release_date",),
    ),
}


def get_kind(name: object) -> Kind:
    """The kind called `name`.

    Raises:
        InputError: Not one of the four kinds (with the closest name as a hint).
    """
    if isinstance(name, str) and name in KINDS:
        return KINDS[name]
    close = difflib.get_close_matches(str(name).lower(), list(KINDS), n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    raise InputError(
        f"unknown evidence kind {name!r}",
        hint=f"{guess}use one of {', '.join(KINDS)}",
    )


def objection_id_sql(phone: str, controller: str, objected_at: str) -> str:
    """SQL for the generated id of an objection; `generated_objection_id` in Python."""
    text = (
        f"CAST({phone} AS VARCHAR) || '|' || coalesce({controller}, '') || '|' || "
        f"CAST(epoch_us({objected_at}) AS VARCHAR)"
    )
    return f"('gen-' || left(sha256({text}), 20))"


def generated_objection_id(phone: int, controller: str | None, objected_at: datetime) -> str:
    """A stable id for an objection that has none: the same objection always gets the same id."""
    delta = objected_at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    text = f"{phone}|{controller or ''}|{micros}"
    return "gen-" + hashlib.sha256(text.encode()).hexdigest()[:20]

"""A tiny condition language that compiles to DuckDB SQL and to Python source alike.

Rules are written once in it (`optin_gate.rules.cz`); the batch engine embeds the SQL, the dial
checker runs the generated Python. Both sides are null-safe by construction: every node yields
a plain true/false in SQL (never NULL), exactly as its Python form does, so a missing fact can
never make the two disagree.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from optin_gate._sql import sql_literal
from optin_gate.rules.facts import FACT_COLUMNS

__all__ = [
    "And",
    "Const",
    "Eq",
    "Expr",
    "Field",
    "In",
    "IsNull",
    "IsTrue",
    "Not",
    "NotNull",
    "OlderThan",
    "OnOrAfter",
    "Or",
    "ReleaseFresh",
    "py_ref",
]

Literal = str | int | date


def py_ref(var: str, name: str) -> str:
    """Python source for fact `name`: `var.name`, or the bare local `name` when `var` is ''."""
    return f"{var}.{name}" if var else name


def _py_literal(value: Literal) -> str:
    if isinstance(value, date):
        return f"_date({value.year}, {value.month}, {value.day})"
    return repr(value)


class Expr:
    """A boolean condition over `Facts` fields."""

    def sql(self) -> str:
        """This condition as a DuckDB expression that is TRUE or FALSE, never NULL."""
        raise NotImplementedError

    def py(self, var: str) -> str:
        """This condition as Python source over the `Facts` named `var` (see `py_ref`)."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Field:
    """A reference to a `Facts` field (not a condition by itself)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in FACT_COLUMNS:
            raise ValueError(f"unknown fact {self.name!r}; facts are {sorted(FACT_COLUMNS)}")


@dataclasses.dataclass(frozen=True)
class Const(Expr):
    """Always true or always false."""

    value: bool

    def sql(self) -> str:  # noqa: D102
        return "TRUE" if self.value else "FALSE"

    def py(self, var: str) -> str:  # noqa: D102
        return repr(self.value)


@dataclasses.dataclass(frozen=True)
class IsTrue(Expr):
    """A boolean fact is true (NULL counts as false)."""

    field: Field

    def sql(self) -> str:  # noqa: D102
        return f"coalesce({self.field.name}, FALSE)"

    def py(self, var: str) -> str:  # noqa: D102
        return f"({py_ref(var, self.field.name)} is True)"


@dataclasses.dataclass(frozen=True)
class IsNull(Expr):
    """A fact is missing."""

    field: Field

    def sql(self) -> str:  # noqa: D102
        return f"({self.field.name} IS NULL)"

    def py(self, var: str) -> str:  # noqa: D102
        return f"({py_ref(var, self.field.name)} is None)"


@dataclasses.dataclass(frozen=True)
class NotNull(Expr):
    """A fact is present."""

    field: Field

    def sql(self) -> str:  # noqa: D102
        return f"({self.field.name} IS NOT NULL)"

    def py(self, var: str) -> str:  # noqa: D102
        return f"({py_ref(var, self.field.name)} is not None)"


@dataclasses.dataclass(frozen=True)
class Eq(Expr):
    """A fact equals a value (a missing fact equals nothing)."""

    field: Field
    value: Literal

    def sql(self) -> str:  # noqa: D102
        return f"coalesce({self.field.name} = {sql_literal(self.value)}, FALSE)"

    def py(self, var: str) -> str:  # noqa: D102
        return f"({py_ref(var, self.field.name)} == {_py_literal(self.value)})"


@dataclasses.dataclass(frozen=True)
class In(Expr):
    """A fact is one of the values (a missing fact is in no set)."""

    field: Field
    values: tuple[Literal, ...]

    def sql(self) -> str:  # noqa: D102
        if not self.values:
            return "FALSE"
        items = ", ".join(sql_literal(v) for v in self.values)
        return f"coalesce({self.field.name} IN ({items}), FALSE)"

    def py(self, var: str) -> str:  # noqa: D102
        if not self.values:
            return "False"
        items = ", ".join(_py_literal(v) for v in self.values)
        return f"({py_ref(var, self.field.name)} in ({items},))"


@dataclasses.dataclass(frozen=True)
class OnOrAfter(Expr):
    """A date fact is on or after a fixed day (a missing date is not)."""

    field: Field
    day: date

    def sql(self) -> str:  # noqa: D102
        return f"coalesce({self.field.name} >= {sql_literal(self.day)}, FALSE)"

    def py(self, var: str) -> str:  # noqa: D102
        name = py_ref(var, self.field.name)
        return f"({name} is not None and {name} >= {_py_literal(self.day)})"


@dataclasses.dataclass(frozen=True)
class OlderThan(Expr):
    """`field` lies more than `days` days before `ref` (false when either is missing)."""

    field: Field
    ref: Field
    days: int

    def sql(self) -> str:  # noqa: D102
        a, b = self.field.name, self.ref.name
        return f"coalesce(date_diff('day', {a}, {b}) > {self.days}, FALSE)"

    def py(self, var: str) -> str:  # noqa: D102
        a, b = py_ref(var, self.field.name), py_ref(var, self.ref.name)
        return f"({a} is not None and {b} is not None and ({b} - {a}).days > {self.days})"


@dataclasses.dataclass(frozen=True)
class ReleaseFresh(Expr):
    """A release date `field` is on or after the Slovak list release due on day `ref`.

    `store.semantics.release_due` says which release is due; false when either is missing.
    The Python form calls it as `_due`, which the rules' generated code is given.
    """

    field: Field
    ref: Field
    grace: int

    def sql(self) -> str:  # noqa: D102
        from optin_gate.store.semantics import release_due_sql  # loads numba: not at import

        due = release_due_sql(self.ref.name, self.grace)
        return f"coalesce({self.field.name} >= {due}, FALSE)"

    def py(self, var: str) -> str:  # noqa: D102
        a, b = py_ref(var, self.field.name), py_ref(var, self.ref.name)
        return f"({a} is not None and {b} is not None and {a} >= _due({b}, {self.grace}))"


@dataclasses.dataclass(frozen=True)
class Not(Expr):
    """The condition does not hold."""

    inner: Expr

    def sql(self) -> str:  # noqa: D102
        return f"(NOT {self.inner.sql()})"

    def py(self, var: str) -> str:  # noqa: D102
        return f"(not {self.inner.py(var)})"


@dataclasses.dataclass(frozen=True)
class And(Expr):
    """All conditions hold."""

    parts: tuple[Expr, ...]

    def __init__(self, *parts: Expr) -> None:
        object.__setattr__(self, "parts", parts)

    def sql(self) -> str:  # noqa: D102
        return "(" + " AND ".join(p.sql() for p in self.parts) + ")" if self.parts else "TRUE"

    def py(self, var: str) -> str:  # noqa: D102
        return "(" + " and ".join(p.py(var) for p in self.parts) + ")" if self.parts else "True"


@dataclasses.dataclass(frozen=True)
class Or(Expr):
    """At least one condition holds."""

    parts: tuple[Expr, ...]

    def __init__(self, *parts: Expr) -> None:
        object.__setattr__(self, "parts", parts)

    def sql(self) -> str:  # noqa: D102
        return "(" + " OR ".join(p.sql() for p in self.parts) + ")" if self.parts else "FALSE"

    def py(self, var: str) -> str:  # noqa: D102
        return "(" + " or ".join(p.py(var) for p in self.parts) + ")" if self.parts else "False"

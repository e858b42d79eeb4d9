"""The Frictionless Table Schemas in `data/schemas/`: the one place column names live.

Loaders, the filter and the audit read the canonical column names, their types and which are
required from these JSON files, so a column is added or renamed in one place for every stage.
"""

from __future__ import annotations

import dataclasses
import functools
import json

from optin_gate._resources import data_dir

__all__ = ["SCHEMA_NAMES", "FieldSpec", "TableSchema", "load_schema"]

# Every schema shipped in data/schemas/ (file name without .json).
SCHEMA_NAMES: tuple[str, ...] = (
    "consents",
    "contracts",
    "directory",
    "objections",
    "sk_register",
    "calls",
    "campaign_list",
    "decisions",
)

# Frictionless field types the readers know how to parse.
FIELD_TYPES = frozenset({"string", "datetime", "date", "boolean"})


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column of a schema.

    Attributes:
        name: The canonical column name.
        type: The Frictionless type: string, datetime, date or boolean.
        required: Every row must have a value (Frictionless `constraints.required`).
        enum: The allowed values (`constraints.enum`), or None for any value.
        description: What the column holds, for help texts.
    """

    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    description: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class TableSchema:
    """A table's columns, in the order the schema lists them.

    Attributes:
        name: The schema's name, e.g. "consents".
        fields: The columns.
        title: A human title for messages.
    """

    name: str
    fields: tuple[FieldSpec, ...]
    title: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical column names, in schema order."""
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> FieldSpec:
        """The field called `name` (KeyError if the schema has none)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.fields)


@functools.cache
def load_schema(name: str) -> TableSchema:
    """Read `data/schemas/<name>.json`.

    Args:
        name: One of `SCHEMA_NAMES`.

    Raises:
        KeyError: No such schema.
        ValueError: The file uses a field type the readers do not know (a packaging bug).
    """
    if name not in SCHEMA_NAMES:
        raise KeyError(f"no schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    path = data_dir() / "schemas" / f"{name}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    fields = []
    for raw in doc["fields"]:
        ftype = raw.get("type", "string")
        if ftype not in FIELD_TYPES:
            raise ValueError(f"{path}: field {raw['name']!r} has unsupported type {ftype!r}")
        constraints = raw.get("constraints", {})
        enum = constraints.get("enum")
        fields.append(
            FieldSpec(
                name=raw["name"],
                type=ftype,
                required=bool(constraints.get("required", False)),
                enum=tuple(enum) if enum is not None else None,
                description=raw.get("description", ""),
            )
        )
    return TableSchema(name=doc.get("name", name), fields=tuple(fields), title=doc.get("title", ""))

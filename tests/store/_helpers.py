"""Small helpers shared by the store tests: writing CSV files and reading a store whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optin_gate.store import EvidenceStore

TABLES = (
    "meta",
    "loads",
    "load_rejects",
    "consents",
    "contracts",
    "objections",
    "directory",
    "directory_snapshots",
)


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[Any]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """A CSV file; None is an empty field; fields with the delimiter, quotes or newlines quoted."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        if any(c in text for c in (delimiter, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [delimiter.join(header)] + [delimiter.join(cell(v) for v in row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def contents(store: EvidenceStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two equal results mean an unchanged store."""
    with store.connect() as con:
        return {t: sorted(map(tuple, con.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
                for t in TABLES}  # fmt: skip


def rows(store: EvidenceStore, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a query on the store."""
    with store.connect() as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]

"""Reading users' files and frames: the first stage, shared by the loaders, filter and audit.

* `open_source(x)`: a CSV/Parquet path, pandas DataFrame or pyarrow Table as a `Source` with
  the original column names; CSV encoding (UTF-8 with or without BOM, Windows-1250, UTF-16),
  delimiter (`;` `,` tab) and header are detected. `Source.relation_sql()` gives the DuckDB
  `read_csv(...)` / `read_parquet(...)` call, `to_arrow()` the table, `line_numbers(rows)` the
  file lines of rows (for rejects).
* `resolve_columns(found, schema, columns=...)`: which header is which canonical column,
  by `--map`, canonical name or English/Czech alias.
* `load_schema(name)`: the Frictionless Table Schemas in `data/schemas/`.
* `parse_query(relation, [Parse(...)])`: user dates and times parsed in DuckDB (ISO 8601 or
  Czech; no zone = Europe/Prague).
* `write_table(table, path)`: CSV or Parquet by extension, atomically; `write_text` for text;
  `staged_files()` for the several files of one run, renamed into place together.
"""

from __future__ import annotations

from optin_gate.io.columns import ALIASES, fold, resolve_columns
from optin_gate.io.dates import (
    EXCEL_EPOCH,
    Parse,
    blank_sql,
    parse_date,
    parse_dates,
    parse_query,
    parse_timestamps,
    prague_sql,
    text_sql,
)
from optin_gate.io.schemas import SCHEMA_NAMES, FieldSpec, TableSchema, load_schema
from optin_gate.io.sniff import CsvFormat, csv_format, file_kind
from optin_gate.io.source import Source, open_source, prefetch, read_table, relation_sql
from optin_gate.io.write import (
    Staged,
    check_target,
    output_format,
    staged_files,
    sweep_temps,
    sync_folder,
    write_table,
    write_text,
)

__all__ = [
    "ALIASES",
    "EXCEL_EPOCH",
    "SCHEMA_NAMES",
    "CsvFormat",
    "FieldSpec",
    "Parse",
    "Source",
    "Staged",
    "TableSchema",
    "blank_sql",
    "check_target",
    "csv_format",
    "file_kind",
    "fold",
    "load_schema",
    "open_source",
    "output_format",
    "parse_date",
    "parse_dates",
    "parse_query",
    "parse_timestamps",
    "prague_sql",
    "prefetch",
    "read_table",
    "relation_sql",
    "resolve_columns",
    "staged_files",
    "sweep_temps",
    "sync_folder",
    "text_sql",
    "write_table",
    "write_text",
]

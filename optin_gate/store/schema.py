"""The evidence store's tables: the contract between the store and every later stage.

The engine, the dial index and the audit read these tables (through the views named below);
only the store writes them. Column names and meanings here are a contract: add columns freely,
rename none. Phone numbers are keys of type BIGINT: the E.164 digits without the plus
(`+420601234567` -> 420601234567), see `phone_key` / `key_e164`.

Times are TIMESTAMPTZ (instants); contract dates and snapshot dates are DATE (whole days).

* `meta(key, value)`: `schema_version` among others.
* `loads`: one row per load, the history a compliance officer shows years later (also one
  row per batch of objections recorded with `record_objection`, kind `objection`).
  `rows_changed` counts the records the load added or changed; `options` is the load's
  arguments as JSON (controller, snapshot date, column mapping), part of what makes two
  loads of the same bytes the same load. `load_rejects` keeps each load's rejected rows
  (line, column, reason; never the values).
* `consents` / `contracts`: every version ever loaded; a record is identified by
  (controller, consent_id) or (controller, contract_id). The views `consents_current` and
  `contracts_current` hold the newest version of each, which is what decisions use.
  A consent also keeps its provenance (version 4): `purposes` (NULL: any marketing),
  `wording`, `proof`, `obtained` (NULL: direct) and `captured_via`.
* `objections`: append-only. controller NULL means every controller. `objected_at` is the
  time the person objected (it orders the objection against consents); `recorded_at` is when
  the store heard of it. An objection blocks from the earlier of the two, so one stamped ahead
  of the clock counts from the moment it is recorded (NULL: from `objected_at`).
* `directory`: full snapshots stored as validity intervals. A row says: on every snapshot date
  in [valid_from, valid_to) the directory listed `phone` with `marketing`. valid_to NULL means
  still listed in the newest snapshot. `directory_snapshots` lists the snapshot dates.
  "The directory as of day D" is: S = max(snapshot_date <= D), rows with
  valid_from <= S AND (valid_to IS NULL OR valid_to > S).
* `sk_register`: the Slovak list, one row per (phone, release_date): what that release said
  of the number (`registered`, `sectors` as sorted lower-case codes joined by ";", "*" for
  all, "" when not registered; `registered_since` when the regulator gave it). A release
  holds only the numbers a caller checked, so a number absent from a release is unknown
  there, not unregistered. `sk_register_releases` lists the release dates loaded (version 3).
"""

from __future__ import annotations

__all__ = ["DDL", "SCHEMA_VERSION", "UPGRADE", "key_e164", "phone_key"]

SCHEMA_VERSION = 4

DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS load_ids START 1;
CREATE TABLE IF NOT EXISTS loads (
    load_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,           -- consents | contracts | directory | objections | objection
    file_name VARCHAR,               -- base name of the file, or '<DataFrame>' / '<Table>'
    sha256 VARCHAR,                  -- of the file's bytes (or of the Arrow IPC of a frame)
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_rejected BIGINT,
    loaded_at TIMESTAMPTZ NOT NULL,
    controller VARCHAR,
    snapshot_date DATE,
    rows_changed BIGINT,
    options VARCHAR,
    source VARCHAR,                  -- directory loads: the publisher(s) the file names
    file_size BIGINT                 -- bytes of the file (NULL for frames and tables)
);
CREATE TABLE IF NOT EXISTS load_rejects (
    load_id INTEGER NOT NULL,
    line BIGINT,                     -- 1-based line in the file (row number for tables)
    column_name VARCHAR,
    reason VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    consent_id VARCHAR NOT NULL,
    phone BIGINT NOT NULL,
    controller VARCHAR NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    channel VARCHAR NOT NULL,        -- phone | any
    source VARCHAR,
    load_id INTEGER NOT NULL,
    superseded_by INTEGER,           -- load that replaced this version; NULL = current
    purposes VARCHAR,                -- purpose keys joined by ';', sorted; NULL = any (version 4)
    wording VARCHAR,                 -- the text the person agreed to (version 4)
    proof VARCHAR,                   -- the record that proves the consent (version 4)
    obtained VARCHAR,                -- direct | third_party; NULL = direct (version 4)
    captured_via VARCHAR             -- web_form | paper | inbound_call | ... (version 4)
);
CREATE TABLE IF NOT EXISTS contracts (
    contract_id VARCHAR NOT NULL,
    phone BIGINT NOT NULL,
    controller VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,                   -- NULL = active
    customer_id VARCHAR,
    load_id INTEGER NOT NULL,
    superseded_by INTEGER
);
CREATE TABLE IF NOT EXISTS objections (
    objection_id VARCHAR NOT NULL,   -- generated when the file has none
    phone BIGINT NOT NULL,
    controller VARCHAR,              -- NULL = all controllers
    objected_at TIMESTAMPTZ NOT NULL,
    source VARCHAR,
    load_id INTEGER,
    recorded_at TIMESTAMPTZ          -- when the store heard of it (version 2)
);
CREATE TABLE IF NOT EXISTS directory (
    phone BIGINT NOT NULL,
    marketing VARCHAR NOT NULL,      -- opt_in | opt_out | unmarked
    valid_from DATE NOT NULL,
    valid_to DATE
);
CREATE TABLE IF NOT EXISTS directory_snapshots (
    snapshot_date DATE PRIMARY KEY,
    load_id INTEGER NOT NULL,
    rows BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS sk_register (
    phone BIGINT NOT NULL,
    release_date DATE NOT NULL,      -- a 1st or 16th
    registered BOOLEAN NOT NULL,
    sectors VARCHAR NOT NULL,        -- '*' | 'a;b' | '' (not registered)
    registered_since DATE,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sk_register_releases (
    release_date DATE NOT NULL,
    load_id INTEGER NOT NULL,
    rows BIGINT NOT NULL
);
CREATE OR REPLACE VIEW consents_current AS SELECT * FROM consents WHERE superseded_by IS NULL;
CREATE OR REPLACE VIEW contracts_current AS SELECT * FROM contracts WHERE superseded_by IS NULL;
"""


# Columns and tables added since version 1 (version 3: the Slovak list; version 4: a
# consent's provenance): stores made before them get them when first opened by this version
# (idempotent), which then records the version it brought them to.
UPGRADE = """
ALTER TABLE objections ADD COLUMN IF NOT EXISTS recorded_at TIMESTAMPTZ;
ALTER TABLE loads ADD COLUMN IF NOT EXISTS rows_changed BIGINT;
ALTER TABLE loads ADD COLUMN IF NOT EXISTS options VARCHAR;
ALTER TABLE loads ADD COLUMN IF NOT EXISTS source VARCHAR;
ALTER TABLE loads ADD COLUMN IF NOT EXISTS file_size BIGINT;
CREATE TABLE IF NOT EXISTS load_rejects (
    load_id INTEGER NOT NULL, line BIGINT, column_name VARCHAR, reason VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS sk_register (
    phone BIGINT NOT NULL, release_date DATE NOT NULL, registered BOOLEAN NOT NULL,
    sectors VARCHAR NOT NULL, registered_since DATE, load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sk_register_releases (
    release_date DATE NOT NULL, load_id INTEGER NOT NULL, rows BIGINT NOT NULL
);
ALTER TABLE consents ADD COLUMN IF NOT EXISTS purposes VARCHAR;
ALTER TABLE consents ADD COLUMN IF NOT EXISTS wording VARCHAR;
ALTER TABLE consents ADD COLUMN IF NOT EXISTS proof VARCHAR;
ALTER TABLE consents ADD COLUMN IF NOT EXISTS obtained VARCHAR;
ALTER TABLE consents ADD COLUMN IF NOT EXISTS captured_via VARCHAR;
CREATE OR REPLACE VIEW consents_current AS SELECT * FROM consents WHERE superseded_by IS NULL;
UPDATE meta SET value = '4' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 4;
"""


def phone_key(e164: str) -> int:
    """The BIGINT key of an E.164 number: its digits without the plus."""
    return int(e164[1:])


def key_e164(key: int) -> str:
    """The E.164 text of a phone key."""
    return f"+{key}"

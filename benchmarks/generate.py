"""Seeded synthetic data for optin_gate's benchmarks and tests, at any size.

Every kind comes from one universe of valid Czech numbers: person ``i`` of a seed always has
the same number (`universe_numbers`), and each kind draws people from ``[0, population)``, by
default ``rows / DENSITY[kind]``. So kinds generated separately with the same seed overlap the
way real files do: about half of a campaign list has some evidence.

Random draws, the number universe and timestamps are numpy; text is built by one DuckDB query
per kind (multi-threaded), which also writes CSV/Parquet directly. Output is deterministic for
a seed (same bytes for the same numpy/DuckDB versions).

Measured on the 2-core dev machine: 10,000,000 campaign rows to CSV (454 MB) in 10.4 s when
idle, 13-18 s while other jobs shared both cores; peak memory 1.3 GB.

CLI: ``python benchmarks/generate.py KIND --rows N --out FILE [--seed S] [--format csv|parquet]
[--delimiter ';'] [--snapshot-date D] [--base FILE --change-rate 0.01] [--population P]
[--phone-column tel] [--czech-dates 0.3] [--encoding cp1250]``; ``--help`` lists the rest.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DENSITY",
    "KINDS",
    "calls",
    "campaign",
    "consents",
    "contracts",
    "directory",
    "directory_next",
    "messy_phone_numbers",
    "objections",
    "universe_numbers",
    "write",
]

KINDS = ("campaign", "consents", "contracts", "directory", "directory_next", "objections", "calls")
# Rows per person of the population [0, rows / density) a kind draws from by default: a 1M-row
# campaign and 200k consents of one seed cover the same 1M people (calls: two per person).
DENSITY = {
    "campaign": 1.0,
    "consents": 0.2,
    "contracts": 0.15,
    "directory": 0.4,
    "objections": 0.02,
    "calls": 2.0,
}
CONTROLLERS = (("default", 0.7), ("energie-plus", 0.2), ("telco-cz", 0.1))

# ---- the number universe -------------------------------------------------------------------
# 3-digit blocks of the Czech plan (checked against phonenumbers in tests) and their share of
# people, in percent. Person i falls in a category by i % 100 and gets the j-th number of it
# through a seeded affine permutation, so i -> number is a bijection.
_MOBILE = [*range(601, 609), *range(702, 706), *range(720, 740), *range(770, 780), *range(790, 800)]
_FIXED_TENS = (20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31, 32, 35, 37, 38, 39, 41, 46, 47, 48, 49)
_FIXED = [
    p for t in (*_FIXED_TENS, 51, 53, 54, 55, 56, 57, 58, 59) for p in range(t * 10, t * 10 + 10)
]
_CATEGORIES = ((_MOBILE, 80), (_FIXED, 18), ([800], 1), ([900, 906, 909], 1))
_BLOCK = 1_000_000
_PRIMES = (1_000_003, 1_299_709, 2_750_159, 15_485_863, 32_452_843, 49_979_687)
MAX_POPULATION = min(len(b) * _BLOCK * 100 // s for b, s in _CATEGORIES)


def universe_numbers(index: Any, seed: int = 0) -> np.ndarray[Any, np.dtype[np.int64]]:
    """National 9-digit numbers of people ``index`` (distinct indices give distinct numbers)."""
    i = np.asarray(index, dtype=np.int64)
    if i.size and (i.min() < 0 or i.max() >= MAX_POPULATION):
        raise ValueError(f"person index outside [0, {MAX_POPULATION})")
    r, q = i % 100, i // 100
    out = np.empty_like(i)
    start = 0
    for c, (blocks, share) in enumerate(_CATEGORIES):
        m = (r >= start) & (r < start + share)
        size = len(blocks) * _BLOCK
        rng = np.random.default_rng([seed, 1000 + c])
        a, b = _PRIMES[int(rng.integers(len(_PRIMES)))], int(rng.integers(size))
        k = (q[m] * share + (r[m] - start)) * a % size + b
        k %= size
        out[m] = np.asarray(blocks, dtype=np.int64)[k // _BLOCK] * _BLOCK + k % _BLOCK
        start += share
    return out


def _people(rng: np.random.Generator, rows: int, population: int, distinct: bool) -> Any:
    if population > MAX_POPULATION:
        raise ValueError(f"population {population} > {MAX_POPULATION}")
    if distinct and population >= rows:
        return rng.choice(population, rows, replace=False)
    return rng.integers(0, population, rows)


def _population(kind: str, rows: int, population: int | None) -> int:
    return population or max(1, math.ceil(rows / DENSITY[kind]))


def _rng(seed: int, kind: str) -> np.random.Generator:
    return np.random.default_rng([seed, KINDS.index(kind) if kind in KINDS else 99])


def _codes(rng: np.random.Generator, weights: list[float], n: int) -> Any:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), n, p=p / p.sum()).astype(np.int8)


def _pick(rng: np.random.Generator, choices: Any, n: int) -> pa.Array:
    """Strings drawn from (value, weight) pairs; a None value gives an empty cell."""
    values, weights = zip(*choices, strict=True)
    return pa.array(values, pa.string()).take(pa.array(_codes(rng, list(weights), n)))


# ---- phone text ------------------------------------------------------------------------------
# (SQL over s = 9 national digits, a/b/c = its 3-digit groups, fx = random digits for the
#  foreign and invalid rows; weight in a campaign list; weight in an evidence file)
_SK = (  # +421 901-908 or 951-958 xxx xxx
    "'+421 ' || (901 + fx % 8 + (fx // 8 % 2) * 50)::VARCHAR || ' ' || "
    "lpad((fx % 1000000 // 1000)::VARCHAR, 3, '0') || ' ' || lpad((fx % 1000)::VARCHAR, 3, '0')"
)
_DE = (  # +49 15x/16x/17x xxxxxxxx
    "'+49 ' || ['151', '152', '160', '162', '170', '171', '172', '176'][fx % 8 + 1] || ' ' || "
    "lpad((fx % 100000000)::VARCHAR, 8, '0')"
)
_INVALID = (  # each must be invalid per phonenumbers (tests check)
    "CASE fx % 8 WHEN 0 THEN 'n/a' WHEN 1 THEN 'neuvedeno' WHEN 2 THEN (fx % 100000)::VARCHAR"
    " WHEN 3 THEN {a} || ' ' || {b} || ' ' || substr(s, 7, 2) WHEN 4 THEN s || (fx % 10)::VARCHAR"
    " WHEN 5 THEN '+420 1' || substr(s, 2, 8) WHEN 6 THEN '000 000 000' ELSE '-' END"
)
# Excel's General format of 420601234567: 6 significant digits, rounded, trailing zeros cut.
_EXCEL = "{m}[1] || '.' || rtrim({m}[2:], '0') || 'E+11'"
_PHONE_FORMATS: tuple[tuple[str, float, float], ...] = (
    ("'+420 ' || {a} || ' ' || {b} || ' ' || {c}", 15, 10),
    ("'+420' || s", 15, 60),
    ("'00420' || s", 5, 2),
    ("'420' || s", 5, 3),
    ("s", 24, 20),
    ("{a} || ' ' || {b} || ' ' || {c}", 15, 5),
    ("{a} || '-' || {b} || '-' || {c}", 4, 0),
    ("{a} || '.' || {b} || '.' || {c}", 2, 0),
    ("'(+420) ' || {a} || ' ' || {b} || ' ' || {c}", 2, 0),
    ("{a} || chr(160) || {b} || chr(160) || {c}", 2, 0),
    ("'+420' || chr(160) || {a} || chr(160) || {b} || chr(160) || {c}", 1, 0),
    ("' ' || s || '  '", 2, 0),
    ("' +420 ' || {a} || {b} || {c}", 1, 0),
    (_EXCEL, 0.5, 0),
    (_SK, 1.0, 0),
    (_DE, 0.5, 0),
    (_INVALID, 1.0, 0),
    ("NULL", 1.0, 0),
)
EXCEL_FORMAT = 13  # formats from here on carry no usable Czech number (Excel, foreign, invalid)
INVALID_FORMAT = 16


def _phone_sql(col: str = "phone") -> str:
    groups = {"a": "substr(s, 1, 3)", "b": "substr(s, 4, 3)", "c": "substr(s, 7, 3)"}
    groups["m"] = "(round((420000000000 + nat) / 1e6)::BIGINT::VARCHAR)"
    cases = " ".join(
        f"WHEN {k} THEN {sql.format(**groups)}" for k, (sql, _, _) in enumerate(_PHONE_FORMATS)
    )
    return f"CASE pf {cases} END AS {_q(col)}"


def _phone_raw(
    rng: np.random.Generator, people: Any, seed: int, evidence: bool, invalid_share: float = 0.0
) -> dict[str, Any]:
    """Raw columns ``nat``, ``pf``, ``fx`` from which `_phone_sql` builds the phone text."""
    n = len(people)
    pf = _codes(rng, [e if evidence else c for _, c, e in _PHONE_FORMATS], n)
    if invalid_share:
        pf[rng.random(n) < invalid_share] = INVALID_FORMAT
    fx = np.zeros(n, dtype=np.int64)
    special = pf > EXCEL_FORMAT
    fx[special] = rng.integers(0, 10**9, int(special.sum()))
    return {"nat": universe_numbers(people, seed), "pf": pf, "fx": fx}


_PHONE_CTE = "WITH r AS (SELECT *, nat::VARCHAR AS s FROM raw) "


# ---- times -------------------------------------------------------------------------------
def _last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


_EPOCH = datetime(1970, 1, 1)
# Europe/Prague switches at 01:00 UTC on the last Sundays of March and October.
_DST = np.array(
    [
        int((datetime.combine(_last_sunday(y, m), datetime.min.time()) - _EPOCH).total_seconds())
        + 3600
        for y in range(1970, 2101)
        for m in (3, 10)
    ],
    dtype=np.int64,
)


def _offset_hours(utc_seconds: Any) -> Any:
    """Prague's UTC offset (1 or 2) at each instant."""
    return (1 + np.searchsorted(_DST, utc_seconds, side="right") % 2).astype(np.int8)


def _seconds(d: date) -> int:
    return int((datetime.combine(d, datetime.min.time()) - _EPOCH).total_seconds())


def _instants(
    rng: np.random.Generator, n: int, start: date, end: date, hours: tuple[int, int] = (0, 24)
) -> Any:
    """UTC seconds of n instants in [start, end), at Prague local hours in ``hours``."""
    days = rng.integers(0, max(1, (end - start).days), n)
    local = _seconds(start) + days * 86400 + rng.integers(hours[0] * 3600, hours[1] * 3600, n)
    return local - _offset_hours(local - 3600).astype(np.int64) * 3600


def _time_raw(name: str, utc: Any, mask: Any = None) -> dict[str, Any]:
    """Raw columns ``name`` (Prague wall clock) and ``name__off`` for `_time_sql`."""
    off = _offset_hours(utc)
    local = (utc + off.astype(np.int64) * 3600).astype("datetime64[s]")
    return {name: pa.array(local, pa.timestamp("s"), mask=mask), f"{name}__off": off}


def _date_raw(name: str, days: Any, mask: Any = None) -> dict[str, Any]:
    return {name: pa.array(np.asarray(days, dtype="datetime64[D]"), pa.date32(), mask=mask)}


_TIME_FORMATS = (  # (DuckDB strftime of the Prague wall clock, suffix)
    ("%Y-%m-%dT%H:%M:%S", "'+0' || {o} || ':00'"),
    ("%Y-%m-%d %H:%M:%S", ""),
    ("UTC", ""),
    ("%Y-%m-%dT%H:%M", ""),
    ("%d.%m.%Y %H:%M", ""),
    ("%-d. %-m. %Y %H:%M", ""),
    ("%-d.%-m.%Y %H:%M:%S", ""),
)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%-d. %-m. %Y", "%-d.%-m.%Y")


def _time_sql(col: str) -> str:
    cases = []
    for k, (fmt, suffix) in enumerate(_TIME_FORMATS):
        if fmt == "UTC":
            sql = f"strftime({col} - to_hours({col}__off), '%Y-%m-%dT%H:%M:%SZ')"
        else:
            sql = f"strftime({col}, '{fmt}')" + (
                " || " + suffix.format(o=f"{col}__off") if suffix else ""
            )
        cases.append(f"WHEN {k} THEN {sql}")
    return f"CASE tf {' '.join(cases)} END AS {col}"


def _date_sql(col: str) -> str:
    cases = " ".join(f"WHEN {k} THEN strftime({col}, '{f}')" for k, f in enumerate(_DATE_FORMATS))
    return f"CASE df {cases} END AS {col}"


def _format_codes(rng: np.random.Generator, n: int, czech: float) -> dict[str, Any]:
    """Per-row time format ``tf`` and date format ``df``; ``czech`` is the Czech share."""
    iso = [0.55, 0.25, 0.15, 0.05]
    return {
        "tf": _codes(rng, [w * (1 - czech) for w in iso] + [czech / 3] * 3, n),
        "df": _codes(rng, [1 - czech] + [czech / 3] * 3, n),
    }


# ---- one DuckDB query per kind ------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _id(prefix: str, name: str) -> str:
    return f"'{prefix}' || lpad(i::VARCHAR, 9, '0') AS {name}"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # benchmarks print their own lines
    return con


class _Plan:
    """Raw numpy/Arrow columns plus the SELECT that turns them into the file's text."""

    def __init__(self, raw: dict[str, Any], select: str) -> None:
        self.raw = pa.table(
            {k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in raw.items()}
        )
        self.sql = f"{_PHONE_CTE}SELECT {select} FROM r"

    def _con(self) -> duckdb.DuckDBPyConnection:
        con = _connect()
        con.register("raw", self.raw)
        return con

    def table(self) -> pa.Table:
        return self._con().sql(self.sql).to_arrow_table()

    def write(self, path: Path, fmt: str, delimiter: str, encoding: str) -> None:
        _copy(self._con(), self.sql, path, fmt=fmt, delimiter=delimiter, encoding=encoding)


def _copy(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, *, fmt: str, delimiter: str,
    encoding: str,
) -> None:  # fmt: skip
    """COPY a query to a temp file beside ``path``, then move it in place (never half-written)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    opts = (
        "FORMAT parquet" if fmt == "parquet" else f"FORMAT csv, HEADER, DELIMITER {_lit(delimiter)}"
    )
    try:
        con.execute(f"COPY ({query}) TO {_lit(str(tmp))} ({opts})")
        if fmt == "csv" and encoding.replace("-", "").lower() != "utf8":
            _transcode(tmp, encoding)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _transcode(path: Path, encoding: str) -> None:
    out = path.with_name(path.name + ".enc")
    with (
        path.open(encoding="utf-8", newline="") as src,
        out.open("w", encoding=encoding, newline="") as dst,
    ):
        while chunk := src.read(1 << 24):
            dst.write(chunk)
    os.replace(out, path)


def write(
    table: pa.Table,
    path: str | Path,
    *,
    fmt: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> None:
    """Write a generated table as CSV or Parquet (by ``fmt`` or the extension), atomically."""
    path = Path(path)
    con = _connect()
    con.register("t", table)
    opts = {"fmt": fmt or _format_of(path), "delimiter": delimiter, "encoding": encoding}
    _copy(con, "SELECT * FROM t", path, **opts)


def _format_of(path: Path) -> str:
    return "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"


# ---- kinds ----------------------------------------------------------------------------------
_MALE = "Jan Petr Josef Pavel Martin Tomáš Jaroslav Miroslav Zdeněk Václav Michal František Jiří Jakub Lukáš David Ondřej Karel Milan Vojtěch"  # noqa: E501
_FEMALE = "Jana Marie Eva Hana Anna Lenka Kateřina Lucie Věra Alena Petra Veronika Martina Jaroslava Tereza Michaela Zdeňka Ludmila Helena Jitka"  # noqa: E501
_SURNAMES = "Novák Svoboda Novotný Dvořák Černý Procházka Kučera Veselý Horák Němec Marek Pospíšil Pokorný Hájek Král Jelínek Růžička Beneš Fiala Sedláček"  # noqa: E501
_SURNAMES_F = "Nováková Svobodová Novotná Dvořáková Černá Procházková Kučerová Veselá Horáková Němcová Marková Pospíšilová Pokorná Hájková Králová Jelínková Růžičková Benešová Fialová Sedláčková"  # noqa: E501


def _weighted(spec: str) -> list[tuple[str | None, float]]:
    """Parse "a:2,b:1" into (value, weight) pairs; an empty value means an empty cell."""
    return [(v or None, float(w)) for v, w in (x.rsplit(":", 1) for x in spec.split(","))]


_CITIES = _weighted(
    "Praha:25,Brno:8,Ostrava:6,Plzeň:4,Liberec:2,Olomouc:2,České Budějovice:2,Hradec Králové:2,"
    "Ústí nad Labem:2,Pardubice:2,Zlín:1.5,Kladno:1.5,Havířov:1,Most:1,Opava:1,Jihlava:1,"
    "Frýdek-Místek:1,Karviná:1,Teplice:1,Děčín:1,Kolín:1,Třebíč:1,Písek:0.8,Tábor:0.8,"
    "Znojmo:0.8,Příbram:0.8,:2"
)
_SEGMENTS = (("standard", 60), ("premium", 15), ("vip", 5), ("novy", 15), ("neaktivni", 5))


def campaign(
    rows: int,
    seed: int = 0,
    *,
    population: int | None = None,
    phone_column: str = "telefon",
    headers: str = "cs",
    duplicate_share: float = 0.02,
) -> pa.Table:
    """A call list: name, messy phone, city, segment; ``headers`` "cs" or "en"."""
    return _campaign_plan(
        rows, seed, population=population, phone_column=phone_column, headers=headers,
        dup=duplicate_share,
    ).table()  # fmt: skip


def _campaign_plan(
    rows: int, seed: int, *, population: int | None, phone_column: str, headers: str, dup: float
) -> _Plan:
    rng = _rng(seed, "campaign")
    people = _people(rng, rows, _population("campaign", rows, population), distinct=True)
    female = rng.random(rows) < 0.5
    first = rng.integers(0, 20, rows) + 20 * female
    last = rng.integers(0, 20, rows) + 20 * female
    city = _codes(rng, [w for _, w in _CITIES], rows)
    dups = np.flatnonzero(rng.random(rows) < dup)
    src = rng.integers(0, rows, dups.size)
    for col in (people, first, last, city):
        col[dups] = col[src]
    name, town, seg = (
        ("jmeno", "mesto", "segment") if headers == "cs" else ("name", "city", "segment")
    )
    raw = _phone_raw(rng, people, seed, evidence=False)
    raw |= {
        "first": pa.array((_MALE + " " + _FEMALE).split()).take(pa.array(first)),
        "last": pa.array((_SURNAMES + " " + _SURNAMES_F).split()).take(pa.array(last)),
        "city": pa.array([c for c, _ in _CITIES], pa.string()).take(pa.array(city)),
        "seg": _pick(rng, _SEGMENTS, rows),
    }
    select = (
        f"first || ' ' || last AS {_q(name)}, {_phone_sql(phone_column)}, city AS {_q(town)}, "
        f"seg AS {_q(seg)}"
    )
    return _Plan(raw, select)


def messy_phone_numbers(n: int, seed: int = 0, distinct: bool = True) -> pa.Array:
    """``n`` phone cells in a campaign's mix of formats; distinct: n distinct non-null strings."""
    rng = _rng(seed, "messy")
    if not distinct:
        people = _people(rng, n, n, distinct=True)
        dups = np.flatnonzero(rng.random(n) < 0.02)
        people[dups] = people[rng.integers(0, n, dups.size)]
        plan = _Plan(_phone_raw(rng, people, seed, evidence=False), _phone_sql())
        return plan.table().column("phone").combine_chunks()
    m = n + n // 10 + 64
    while True:
        people = _people(rng, m, m, distinct=True)
        plan = _Plan(_phone_raw(rng, people, seed, evidence=False), _phone_sql())
        values = pc.unique(plan.table().column("phone").drop_null())
        if len(values) >= n:
            return values[:n]
        m *= 2


_SOURCES = (("web_form", 40), ("call_center", 25), ("eshop", 20), ("paper", 10), ("app", 5))


def _controllers(rng: np.random.Generator, n: int, empty_share: float = 0.0) -> pa.Array:
    choices = [(c, w * (1 - empty_share)) for c, w in CONTROLLERS] + [(None, empty_share)]
    return _pick(rng, choices, n)


def _evidence(
    kind: str, rows: int, seed: int, *, population: int | None, czech: float, invalid: float
) -> tuple[np.random.Generator, dict[str, Any]]:
    """The columns every evidence kind shares: row number, person, phone, time formats."""
    rng = _rng(seed, kind)
    people = _people(rng, rows, _population(kind, rows, population), distinct=False)
    raw = {"i": np.arange(1, rows + 1), "person": people}
    raw |= _phone_raw(rng, people, seed, evidence=True, invalid_share=invalid)
    return rng, raw | _format_codes(rng, rows, czech)


def consents(
    rows: int,
    seed: int = 0,
    *,
    population: int | None = None,
    start: date = date(2019, 1, 1),
    end: date = date(2026, 1, 1),
    czech_dates: float = 0.0,
    invalid_share: float = 0.0,
    withdrawn_share: float = 0.1,
    expiring_share: float = 0.3,
) -> pa.Table:
    """Direct consents; about ``withdrawn_share`` withdrawn, ``expiring_share`` with an expiry."""
    rng, raw = _evidence(
        "consents", rows, seed, population=population, czech=czech_dates, invalid=invalid_share
    )
    granted = _instants(rng, rows, start, end)
    left = np.maximum(_seconds(end) - granted, 1)
    withdrawn = granted + (rng.random(rows) * left).astype(np.int64)
    expires = granted + rng.choice([365, 730, 1095, 1826], rows) * 86400
    raw |= _time_raw("granted_at", granted)
    raw |= _time_raw("withdrawn_at", withdrawn, rng.random(rows) >= withdrawn_share)
    raw |= _time_raw("expires_at", expires, rng.random(rows) >= expiring_share)
    raw |= {
        "channel": _pick(rng, (("phone", 80), ("any", 20)), rows),
        "controller": _controllers(rng, rows),
        "source": _pick(rng, _SOURCES, rows),
    }
    select = (
        f"{_id('C', 'consent_id')}, {_phone_sql()}, {_time_sql('granted_at')}, "
        f"{_time_sql('withdrawn_at')}, {_time_sql('expires_at')}, channel, controller, source"
    )
    return _Plan(raw, select).table()


def contracts(
    rows: int,
    seed: int = 0,
    *,
    population: int | None = None,
    start: date = date(2015, 1, 1),
    end: date = date(2026, 1, 1),
    czech_dates: float = 0.0,
    invalid_share: float = 0.0,
    ended_share: float = 0.4,
) -> pa.Table:
    """Customer contracts; about ``ended_share`` have an end date (some in the future)."""
    rng, raw = _evidence(
        "contracts", rows, seed, population=population, czech=czech_dates, invalid=invalid_share
    )
    first = np.datetime64(start, "D")
    begin = first + rng.integers(0, (end - start).days, rows)
    raw |= _date_raw("start_date", begin)
    finish = begin + rng.integers(30, 2500, rows)
    raw |= _date_raw("end_date", finish, rng.random(rows) >= ended_share)
    raw |= {"controller": _controllers(rng, rows)}
    select = (
        f"{_id('K', 'contract_id')}, {_phone_sql()}, {_date_sql('start_date')}, "
        f"{_date_sql('end_date')}, 'Z' || lpad(person::VARCHAR, 9, '0') AS customer_id, controller"
    )
    return _Plan(raw, select).table()


_MARKS = ("opt_in", "opt_out", "unmarked")


def directory(
    rows: int,
    seed: int = 0,
    *,
    population: int | None = None,
    snapshot_date: date = date(2025, 12, 1),
    opt_in_share: float = 0.10,
    opt_out_share: float = 0.25,
) -> pa.Table:
    """A full directory snapshot: distinct numbers, each opt_in / opt_out / unmarked."""
    rng = _rng(seed, "directory")
    people = _people(rng, rows, _population("directory", rows, population), distinct=True)
    return _directory_rows(
        rng, people, seed, day=snapshot_date, opt_in=opt_in_share, opt_out=opt_out_share
    )


def _directory_rows(
    rng: np.random.Generator, people: Any, seed: int, *, day: date, opt_in: float, opt_out: float
) -> pa.Table:
    raw = _phone_raw(rng, people, seed, evidence=True)
    shares = (opt_in, opt_out, 1 - opt_in - opt_out)
    raw["marketing"] = _pick(rng, zip(_MARKS, shares, strict=True), len(people))
    select = f"{_phone_sql()}, marketing, {_lit(day.isoformat())} AS snapshot_date"
    return _Plan(raw, select).table()


def directory_next(
    base: pa.Table,
    change_rate: float = 0.01,
    seed: int = 0,
    *,
    snapshot_date: date | None = None,
    opt_in_share: float = 0.10,
    opt_out_share: float = 0.25,
) -> pa.Table:
    """The next snapshot after ``base``: about ``change_rate`` of its rows differ.

    Half of the changes are new marks, a quarter removed numbers, a quarter added numbers
    (never in ``base``). Kept rows stay in order; added rows come last. The date defaults to
    14 days after the base's.
    """
    n = len(base)
    rng = _rng(seed, "directory_next")
    k = round(change_rate * n)
    changed, removed = k // 2, k // 4
    picked = rng.choice(n, changed + removed, replace=False)
    marks = pc.cast(base.column("marketing"), pa.string()).to_numpy(zero_copy_only=False)
    codes = np.select([marks == "opt_in", marks == "opt_out"], [0, 1], 2)
    codes[picked[:changed]] = (codes[picked[:changed]] + rng.integers(1, 3, changed)) % 3
    keep = np.ones(n, dtype=bool)
    keep[picked[changed:]] = False
    if snapshot_date is None:
        old = str(pc.max(pc.cast(base.column("snapshot_date"), pa.string())).as_py())
        snapshot_date = date.fromisoformat(old) + timedelta(days=14)
    kept = pa.table(
        {
            "phone": pc.cast(base.column("phone"), pa.string()).filter(pa.array(keep)),
            "marketing": pa.array(np.asarray(_MARKS)[codes[keep]], pa.string()),
            "snapshot_date": pa.array([snapshot_date.isoformat()] * int(keep.sum()), pa.string()),
        }
    )
    fresh = _fresh_people(rng, base.column("phone"), k - changed - removed, seed)
    added = _directory_rows(
        rng, fresh, seed, day=snapshot_date, opt_in=opt_in_share, opt_out=opt_out_share
    )
    return pa.concat_tables([kept, added.cast(kept.schema)])


def _fresh_people(rng: np.random.Generator, phones: Any, count: int, seed: int) -> Any:
    """``count`` people whose numbers are not among ``phones`` (matched on the last 9 digits)."""
    digits = pc.replace_substring_regex(pc.cast(phones, pa.string()), r"[^0-9]", "")
    tail = pc.utf8_slice_codeunits(digits, -9)
    known = pc.cast(pc.if_else(pc.equal(tail, ""), None, tail), pa.int64()).drop_null()
    known_np = known.to_numpy()
    span = 4 * (len(phones) + count) + 100
    while True:
        people = _people(rng, min(2 * count + 100, span), min(span, MAX_POPULATION), True)
        people = people[~np.isin(universe_numbers(people, seed), known_np)]
        if people.size >= count:
            return people[:count]
        span *= 2


def objections(
    rows: int,
    seed: int = 0,
    *,
    population: int | None = None,
    start: date = date(2019, 1, 1),
    end: date = date(2026, 1, 1),
    czech_dates: float = 0.0,
    invalid_share: float = 0.0,
    all_controllers_share: float = 0.8,
) -> pa.Table:
    """GDPR objections; ``all_controllers_share`` of them name no controller (= all)."""
    rng, raw = _evidence(
        "objections", rows, seed, population=population, czech=czech_dates, invalid=invalid_share
    )
    raw |= _time_raw("objected_at", _instants(rng, rows, start, end, (7, 21)))
    raw |= {
        "controller": _controllers(rng, rows, all_controllers_share),
        "source": _pick(rng, (("call", 50), ("email", 25), ("letter", 10), ("web", 15)), rows),
    }
    select = (
        f"{_id('O', 'objection_id')}, {_phone_sql()}, "
        f"{_time_sql('objected_at')}, controller, source"
    )
    return _Plan(raw, select).table()


_CAMPAIGNS = _weighted(
    "energie-jaro:30,energie-podzim:25,telco-retence:20,telco-upsell:15,pojisteni-nabor:10"
)


def calls(
    rows: int,
    seed: int = 0,
    *,
    population: int | None = None,
    start: date = date(2021, 7, 1),
    end: date = date(2023, 7, 1),
    czech_dates: float = 0.0,
    invalid_share: float = 0.0,
    automated_share: float = 0.1,
) -> pa.Table:
    """A dialler's call log in time order, 8:00-20:00 Prague time, between start and end."""
    rng, raw = _evidence(
        "calls", rows, seed, population=population, czech=czech_dates, invalid=invalid_share
    )
    raw |= _time_raw("called_at", np.sort(_instants(rng, rows, start, end, (8, 20))))
    auto = automated_share
    raw |= {
        "controller": _controllers(rng, rows),
        "campaign": _pick(rng, _CAMPAIGNS, rows),
        "agent": rng.integers(1, 51, rows),
        "call_type": _pick(rng, (("live", 1 - auto), ("automated", auto)), rows),
    }
    select = (
        f"{_id('H', 'call_id')}, {_phone_sql()}, {_time_sql('called_at')}, "
        "controller, campaign, 'agent' || lpad(agent::VARCHAR, 2, '0') AS agent, call_type"
    )
    return _Plan(raw, select).table()


# ---- command line ---------------------------------------------------------------------------
def _generate(args: argparse.Namespace) -> int:
    kind = args.kind.replace("-", "_")
    out = Path(args.out)
    fmt = args.format or _format_of(out)
    io = {"fmt": fmt, "delimiter": args.delimiter, "encoding": args.encoding}
    if kind == "campaign":  # the big path: COPY straight from the query, no Arrow round trip
        plan = _campaign_plan(
            args.rows, args.seed, population=args.population, headers=args.headers,
            phone_column=args.phone_column or "telefon", dup=args.duplicate_share,
        )  # fmt: skip
        plan.write(out, **io)
        return int(args.rows)
    if kind == "directory_next":
        if not args.base:
            raise SystemExit("directory_next needs --base FILE (the previous snapshot)")
        base = _read(Path(args.base))
        table = directory_next(base, args.change_rate, args.seed, snapshot_date=args.snapshot_date)
    elif kind == "directory":
        day = {"snapshot_date": args.snapshot_date} if args.snapshot_date else {}
        table = directory(args.rows, args.seed, population=args.population, **day)
    else:
        times = {k: getattr(args, k) for k in ("start", "end") if getattr(args, k)}
        makers: dict[str, Callable[..., pa.Table]] = {
            "consents": consents, "contracts": contracts, "objections": objections, "calls": calls
        }  # fmt: skip
        make = makers[kind]
        table = make(
            args.rows, args.seed, population=args.population, czech_dates=args.czech_dates,
            invalid_share=args.invalid_share, **times,
        )  # fmt: skip
    if args.phone_column:
        names = [args.phone_column if c == "phone" else c for c in table.column_names]
        table = table.rename_columns(names)
    write(table, out, **io)
    return len(table)


def _read(path: Path) -> pa.Table:
    """Read a previous snapshot (delimiter sniffed), every column as text."""
    if _format_of(path) == "parquet":
        query = f"SELECT * FROM read_parquet({_lit(str(path))})"
    else:
        query = f"SELECT * FROM read_csv({_lit(str(path))}, all_varchar=true)"
    return _connect().sql(query).to_arrow_table()


def main(argv: list[str] | None = None) -> None:
    """Generate one kind of file and print its rows and seconds."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("kind", choices=[*KINDS, "directory-next"])
    ap.add_argument("--rows", type=int, default=1000, help="rows (ignored for directory_next)")
    ap.add_argument("--out", required=True, help="output file; .parquet means Parquet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=["csv", "parquet"])
    ap.add_argument("--delimiter", default=",")
    ap.add_argument("--encoding", default="utf-8", help="CSV encoding, e.g. cp1250, utf-8-sig")
    ap.add_argument("--population", type=int, help="people to draw from (default rows/density)")
    ap.add_argument("--phone-column", help="header of the phone column (telefon, tel, mobil...)")
    ap.add_argument("--headers", choices=["cs", "en"], default="cs", help="campaign headers")
    ap.add_argument("--duplicate-share", type=float, default=0.02, help="campaign duplicates")
    ap.add_argument("--invalid-share", type=float, default=0.0, help="evidence: bad phones")
    ap.add_argument("--czech-dates", type=float, default=0.0, help="share of Czech-format times")
    ap.add_argument("--start", type=date.fromisoformat, help="first day of times")
    ap.add_argument("--end", type=date.fromisoformat, help="day after the last")
    ap.add_argument("--snapshot-date", type=date.fromisoformat)
    ap.add_argument("--base", help="directory_next: the previous snapshot file")
    ap.add_argument("--change-rate", type=float, default=0.01)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = _generate(args)
    seconds = time.perf_counter() - t0
    size = Path(args.out).stat().st_size / 1e6
    print(f"{args.kind}: {rows:,} rows in {seconds:.2f} s -> {args.out} ({size:,.1f} MB)")


if __name__ == "__main__":
    main()

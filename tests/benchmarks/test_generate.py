"""The benchmark data generator: deterministic, the columns of docs/design.md, realistic shares,
valid numbers, and evidence that overlaps call lists the way real files do."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import phonenumbers as pn
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from benchmarks import generate as g

PRAGUE = ZoneInfo("Europe/Prague")
EVIDENCE = {  # kind: (required, optional) columns, docs/design.md "Evidence columns"
    "consents": (
        {"consent_id", "phone", "granted_at"},
        {"controller", "withdrawn_at", "expires_at", "channel", "source"},
    ),
    "contracts": (
        {"contract_id", "phone", "start_date"},
        {"controller", "end_date", "customer_id"},
    ),
    "directory": ({"phone", "marketing"}, {"snapshot_date", "source"}),
    "objections": ({"phone", "objected_at"}, {"objection_id", "controller", "source"}),
    "calls": (
        {"phone", "called_at"},
        {"call_id", "controller", "campaign", "agent", "call_type"},
    ),
}


def e164(value: str | None) -> str | None:
    """What phonenumbers makes of a cell (CZ default region): E.164 if valid, else None."""
    if value is None:
        return None
    try:
        p = pn.parse(value, "CZ")
    except pn.NumberParseException:
        return None
    return pn.format_number(p, pn.PhoneNumberFormat.E164) if pn.is_valid_number(p) else None


def keys(table: pa.Table) -> set[str]:
    return {k for v in table.column("phone").to_pylist() if (k := e164(v))}


def share(values: list[object], wanted: object) -> float:
    return sum(v == wanted for v in values) / len(values)


# ---- determinism, shape -----------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    outs: list[bytes] = []
    for i, seed in enumerate((7, 7, 8)):
        out = tmp_path / f"c{i}.csv"
        g.main(["campaign", "--rows", "3000", "--seed", str(seed), "--out", str(out)])
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


@pytest.mark.parametrize("kind", sorted(EVIDENCE))
def test_every_kind_is_deterministic_with_the_design_columns(kind: str) -> None:
    make = getattr(g, kind)
    table = make(1500, seed=3)
    assert len(table) == 1500
    assert table.equals(make(1500, seed=3))
    assert not table.equals(make(1500, seed=4))
    required, optional = EVIDENCE[kind]
    assert required <= set(table.column_names) <= required | optional
    assert all(pa.types.is_string(t) for t in table.schema.types)  # files hold text


def test_campaign_columns_and_header_options() -> None:
    cs = g.campaign(100, phone_column="mobil")
    assert cs.column_names == ["jmeno", "mobil", "mesto", "segment"]
    en = g.campaign(100, phone_column="phone", headers="en")
    assert en.column_names == ["name", "phone", "city", "segment"]
    assert cs.column("mobil").equals(en.column("phone"))  # headers change nothing else


# ---- numbers ----------------------------------------------------------------------------


def test_every_number_block_is_valid_with_the_expected_type() -> None:
    expected = ("mobile", "fixed_line", "toll_free", "premium_rate")
    for (blocks, _), kind in zip(g._CATEGORIES, expected, strict=True):
        for block in blocks:
            for tail in (0, 123456, 999999):
                p = pn.parse(f"+420{block * 1_000_000 + tail}")
                assert pn.is_valid_number(p), (block, tail)
                assert pn.number_type(p) == getattr(pn.PhoneNumberType, kind.upper())


def test_universe_is_a_seeded_bijection_with_realistic_types() -> None:
    people = np.arange(1_000_000)
    numbers = g.universe_numbers(people, seed=5)
    assert len(np.unique(numbers)) == len(numbers)  # distinct people, distinct numbers
    assert np.array_equal(numbers, g.universe_numbers(people, seed=5))
    assert np.mean(numbers == g.universe_numbers(people, seed=6)) < 0.01
    sample = [pn.parse(f"+420{n}") for n in numbers[:10_000]]
    assert all(pn.is_valid_number(p) for p in sample)
    types = Counter(pn.number_type(p) for p in sample)
    t = pn.PhoneNumberType
    assert types[t.MOBILE] / 10_000 == pytest.approx(0.80, abs=0.02)
    assert types[t.FIXED_LINE] / 10_000 == pytest.approx(0.18, abs=0.02)
    assert types[t.TOLL_FREE] > 0
    assert types[t.PREMIUM_RATE] > 0
    with pytest.raises(ValueError, match="person index"):
        g.universe_numbers([g.MAX_POPULATION])


def test_campaign_phone_cells_mix_formats_like_real_lists() -> None:
    cells = g.campaign(20_000, seed=1).column("telefon").to_pylist()
    n = len(cells)
    parsed = [e164(c) for c in cells]
    cz = sum(bool(p and p.startswith("+420")) for p in parsed) / n
    foreign = sum(bool(p and p[:4] in ("+421", "+49")) for p in parsed) / n
    assert cz == pytest.approx(0.955, abs=0.015)
    assert foreign == pytest.approx(0.015, abs=0.005)
    assert share(cells, None) == pytest.approx(0.01, abs=0.004)
    excel = sum(bool(c and re.fullmatch(r"4\.2\d*E\+11", c)) for c in cells) / n
    assert excel == pytest.approx(0.005, abs=0.003)
    text = [c for c in cells if c]
    for marker in ("\u00a0", "-", ".", "(+420) ", "00420", "+420 "):
        assert any(marker in c for c in text), marker
    assert any(c != c.strip() for c in text)  # leading/trailing spaces
    valid = [p for p in parsed if p]
    dup = 1 - len(set(valid)) / len(valid)
    assert dup == pytest.approx(0.02, abs=0.006)


def test_invalid_phone_cells_are_invalid_per_phonenumbers() -> None:
    cells = g.consents(600, seed=2, invalid_share=1.0).column("phone").to_pylist()
    assert len(set(cells)) > 8  # several kinds of garbage
    assert all(e164(c) is None for c in cells)


def test_messy_phone_numbers_distinct_and_not() -> None:
    values = g.messy_phone_numbers(5000, seed=4)
    assert len(values) == 5000
    assert values.null_count == 0
    assert len(pc.unique(values)) == 5000
    assert values.equals(g.messy_phone_numbers(5000, seed=4))
    valid = sum(e164(v) is not None for v in values.to_pylist()) / 5000
    assert 0.95 < valid < 1  # repeated garbage collapses when values are distinct
    cells = g.messy_phone_numbers(5000, seed=4, distinct=False)
    assert len(cells) == 5000
    assert cells.null_count > 0
    assert len(pc.unique(cells.drop_null())) < 5000 - cells.null_count


# ---- overlap ------------------------------------------------------------------------------


def test_evidence_generated_separately_overlaps_the_campaign() -> None:
    people = 6000
    listed = keys(g.campaign(people, seed=9).rename_columns(["n", "phone", "c", "s"]))
    evidence: set[str] = set()
    for kind in ("consents", "contracts", "directory", "objections"):
        rows = int(people * g.DENSITY[kind])
        evidence |= keys(getattr(g, kind)(rows, seed=9))
    covered = len(listed & evidence) / len(listed)
    assert 0.4 < covered < 0.75  # about half of a call list has some evidence
    called = keys(g.calls(people, seed=9, population=people))
    assert len(listed & called) / len(listed) == pytest.approx(0.63, abs=0.05)  # 1 - 1/e
    other_seed = keys(g.consents(2000, seed=10))
    assert len(listed & other_seed) / len(listed) < 0.02  # the seed chooses the universe


# ---- shares and times ------------------------------------------------------------------


def test_directory_marks_and_distinct_numbers() -> None:
    table = g.directory(20_000, seed=1, opt_in_share=0.1, opt_out_share=0.3)
    marks = table.column("marketing").to_pylist()
    assert share(marks, "opt_in") == pytest.approx(0.10, abs=0.01)
    assert share(marks, "opt_out") == pytest.approx(0.30, abs=0.015)
    assert share(marks, "unmarked") == pytest.approx(0.60, abs=0.015)
    assert len(keys(table)) == 20_000
    assert set(table.column("snapshot_date").to_pylist()) == {"2025-12-01"}


def digits9(table: pa.Table) -> dict[str, str]:
    phones = table.column("phone").to_pylist()
    return {
        re.sub(r"\D", "", p)[-9:]: m
        for p, m in zip(phones, table.column("marketing").to_pylist(), strict=True)
    }


@pytest.mark.parametrize("rate", [0.01, 0.1])
def test_next_snapshot_differs_in_the_asked_fraction(rate: float) -> None:
    base = g.directory(20_000, seed=2)
    nxt = g.directory_next(base, rate, seed=2)
    old, new = digits9(base), digits9(nxt)
    removed, added = old.keys() - new.keys(), new.keys() - old.keys()
    changed = [k for k in old.keys() & new.keys() if old[k] != new[k]]
    assert len(removed) + len(added) + len(changed) == round(rate * 20_000)
    assert min(len(removed), len(added), len(changed)) > 0
    assert set(nxt.column("snapshot_date").to_pylist()) == {"2025-12-15"}
    assert all(e164(p) for p in nxt.column("phone").to_pylist()[-len(added) :])
    assert nxt.equals(g.directory_next(base, rate, seed=2))


def test_evidence_shares_as_configured() -> None:
    c = g.consents(10_000, seed=1, withdrawn_share=0.2, expiring_share=0.5)
    assert share(c.column("withdrawn_at").to_pylist(), None) == pytest.approx(0.8, abs=0.02)
    assert share(c.column("expires_at").to_pylist(), None) == pytest.approx(0.5, abs=0.02)
    assert set(c.column("channel").to_pylist()) == {"phone", "any"}
    k = g.contracts(10_000, seed=1, ended_share=0.3)
    assert share(k.column("end_date").to_pylist(), None) == pytest.approx(0.7, abs=0.02)
    o = g.objections(10_000, seed=1, all_controllers_share=0.6)
    assert share(o.column("controller").to_pylist(), None) == pytest.approx(0.6, abs=0.02)
    calls = g.calls(10_000, seed=1, automated_share=0.25)
    types = calls.column("call_type").to_pylist()
    assert share(types, "automated") == pytest.approx(0.25, abs=0.02)
    assert set(types) == {"live", "automated"}


def instant(text: str) -> datetime:
    """An ISO cell as an aware datetime (no zone = Prague)."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=PRAGUE)


def test_iso_times_carry_pragues_true_offset_and_stay_in_order() -> None:
    c = g.consents(5000, seed=3)
    for col in ("granted_at", "withdrawn_at", "expires_at"):
        for text in c.column(col).drop_null().to_pylist():
            t = datetime.fromisoformat(text)
            if t.tzinfo and not text.endswith("Z"):  # +01:00 in winter, +02:00 in summer
                assert t.utcoffset() == t.astimezone(PRAGUE).utcoffset(), text
    rows = c.to_pylist()
    for r in rows:
        if r["withdrawn_at"]:
            assert instant(r["withdrawn_at"]) >= instant(r["granted_at"])
    k = g.contracts(3000, seed=3)
    for r in k.to_pylist():
        assert date.fromisoformat(r["start_date"]) < date(2026, 1, 1)
        if r["end_date"]:
            assert date.fromisoformat(r["end_date"]) > date.fromisoformat(r["start_date"])


def test_calls_span_the_range_in_order_during_working_hours() -> None:
    start, end = date(2021, 7, 1), date(2023, 7, 1)
    times = [
        instant(t)
        for t in g.calls(5000, seed=1, start=start, end=end).column("called_at").to_pylist()
    ]
    minute = timedelta(minutes=1)  # one of the formats has no seconds
    assert all(b >= a - minute for a, b in itertools.pairwise(times))
    local = [t.astimezone(PRAGUE) for t in times]
    assert all(8 <= t.hour < 20 for t in local)
    assert min(local).date() < start + timedelta(days=30)
    assert max(local).date() > end - timedelta(days=30)
    assert max(local).date() < end
    assert sum(t.date() < date(2022, 7, 1) for t in local) / 5000 == pytest.approx(0.5, abs=0.05)


CZECH = re.compile(r"\d{1,2}\. ?\d{1,2}\. ?\d{4}( \d\d:\d\d(:\d\d)?)?")


def test_czech_date_formats_only_when_asked() -> None:
    iso = g.objections(2000, seed=1).column("objected_at").to_pylist()
    assert all(instant(t) for t in iso)
    mixed = g.objections(2000, seed=1, czech_dates=0.3).column("objected_at").to_pylist()
    czech = [t for t in mixed if CZECH.fullmatch(t)]
    assert len(czech) / 2000 == pytest.approx(0.3, abs=0.04)
    assert any(". " in t for t in czech)
    assert any(re.match(r"\d\.", t) for t in czech)  # unpadded day, as people write it
    dates = g.contracts(2000, seed=1, czech_dates=0.5).column("start_date").to_pylist()
    assert sum(bool(CZECH.fullmatch(d)) for d in dates) / 2000 == pytest.approx(0.5, abs=0.05)


# ---- command line ---------------------------------------------------------------------------


def test_cli_writes_what_the_options_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "list.csv"
    g.main(["campaign", "--rows", "500", "--out", str(out), "--delimiter", ";",
            "--phone-column", "tel", "--encoding", "cp1250"])  # fmt: skip
    assert "campaign: 500 rows in" in capsys.readouterr().out
    text = out.read_bytes().decode("cp1250")
    lines = text.splitlines()
    assert lines[0] == "jmeno;tel;mesto;segment"
    assert len(lines) == 501
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind

    base = tmp_path / "dir.parquet"
    g.main(["directory", "--rows", "4000", "--out", str(base), "--snapshot-date", "2026-01-01"])
    nxt = tmp_path / "dir2.csv"
    g.main(["directory-next", "--base", str(base), "--change-rate", "0.05", "--out", str(nxt)])
    first = pq.read_table(base)
    text_columns = pacsv.ConvertOptions(column_types={"snapshot_date": pa.string()})
    second = pacsv.read_csv(nxt, convert_options=text_columns)
    assert first.num_rows == 4000
    assert set(second.column("snapshot_date").to_pylist()) == {"2026-01-15"}
    assert abs(second.num_rows - 4000) <= 0.05 * 4000


def test_cli_evidence_kinds_and_phone_header(tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    g.main(["calls", "--rows", "300", "--out", str(out), "--phone-column", "cislo",
            "--start", "2022-01-01", "--end", "2022-02-01"])  # fmt: skip
    header, *rows = out.read_text().splitlines()
    assert header.split(",") == [
        "call_id",
        "cislo",
        "called_at",
        "controller",
        "campaign",
        "agent",
        "call_type",
    ]
    assert len(rows) == 300
    assert all(",2022-01-" in r or ",2021-12-31T" in r for r in rows)
